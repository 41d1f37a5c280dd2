//! Hark's background work, run from the durable job queue in the database: mailing
//! invitations and reminders. Several `hark serve` processes may run a [`Runner`] each
//! against one database; every job still runs once (see `hark_store`'s claim).

mod mail;
mod runner;
#[cfg(feature = "testing")]
pub mod testing;

pub use mail::{MailError, Mailer, SurveyMail, compose_survey_mail};
pub use runner::{Runner, RunnerConfig};

//! Hark's background work, run from the durable job queue in the database: mailing
//! invitations and reminders, running playbooks (cases, thank-yous), mails about cases,
//! webhook deliveries and the escalation of overdue cases. Several `hark serve` processes may run a [`Runner`] each
//! against one database; every job still runs once (see `hark_store`'s claim).

mod digest;
mod follow_up;
mod mail;
mod monitoring;
mod outbound;
mod runner;
#[cfg(feature = "testing")]
pub mod testing;

pub use digest::{Digest, DigestSchedule, DigestWriter, digest_job};
pub use follow_up::{NO_MAIL_SERVER, fill_json_template, playbook_decision, queue_reply};
pub use mail::{MailError, Mailer, SurveyMail, compose_survey_mail};
pub use outbound::OutboundPolicy;
pub use runner::{Runner, RunnerConfig};

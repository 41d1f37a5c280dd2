//! Hark's domain: survey scales and segments, the statistics behind every figure Hark shows,
//! survey definitions and answer validation, and the credential hashing rules. No I/O.

pub mod auth;
pub mod contact;
pub mod drivers;
pub mod fatigue;
pub mod i18n;
pub mod insight;
pub mod playbook;
pub mod report;
pub mod scale;
pub mod spreadsheet;
pub mod stats;
pub mod survey;
pub mod token;
pub mod validation;

pub use scale::{Segment, SurveyKind};
pub use stats::{Interval, MeanSummary, NpsChange, NpsCounts, NpsSummary, ProportionSummary};
pub use validation::{FieldError, ValidationErrors, Why};

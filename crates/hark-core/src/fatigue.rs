//! Whether a contact may be surveyed now: consent, a way to reach them, and the quiet
//! windows that keep customers from being asked too often.

use crate::report::{MS_PER_DAY, format_ms};

/// Why an invitation was not sent; recorded on the invitation and shown on the contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    Unsubscribed,
    NoEmail,
    /// Surveyed at `last_ms`, inside a window of `window_days` (this survey's or the global one).
    TooSoon {
        last_ms: i64,
        window_days: u32,
        global: bool,
    },
}

impl Skip {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsubscribed => "unsubscribed",
            Self::NoEmail => "no_email",
            Self::TooSoon { .. } => "fatigue",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Unsubscribed => "the contact unsubscribed".into(),
            Self::NoEmail => "the contact has no email address".into(),
            Self::TooSoon { last_ms, window_days, global } => {
                let which = if *global { "the global" } else { "this survey's" };
                format!("last surveyed {}; {which} window is {window_days} days", format_ms(*last_ms))
            }
        }
    }
}

/// What is known about a contact when an invitation is about to be made.
pub struct Reach {
    pub unsubscribed: bool,
    pub needs_email: bool,
    pub has_email: bool,
    /// When this survey last reached the contact (sent, or answered), if ever.
    pub last_this_survey_ms: Option<i64>,
    /// When any survey last reached the contact, if ever.
    pub last_any_survey_ms: Option<i64>,
}

pub fn check(now_ms: i64, reach: &Reach, survey_window_days: u32, global_window_days: u32) -> Result<(), Skip> {
    if reach.unsubscribed {
        return Err(Skip::Unsubscribed);
    }
    if reach.needs_email && !reach.has_email {
        return Err(Skip::NoEmail);
    }
    let within = |last: Option<i64>, days: u32| last.filter(|&l| days > 0 && now_ms - l < i64::from(days) * MS_PER_DAY);
    if let Some(last_ms) = within(reach.last_this_survey_ms, survey_window_days) {
        return Err(Skip::TooSoon { last_ms, window_days: survey_window_days, global: false });
    }
    if let Some(last_ms) = within(reach.last_any_survey_ms, global_window_days) {
        return Err(Skip::TooSoon { last_ms, window_days: global_window_days, global: true });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reach() -> Reach {
        Reach {
            unsubscribed: false,
            needs_email: true,
            has_email: true,
            last_this_survey_ms: None,
            last_any_survey_ms: None,
        }
    }

    #[test]
    fn windows_and_consent() {
        let now = 100 * MS_PER_DAY;
        assert_eq!(check(now, &reach(), 90, 7), Ok(()));
        let r = Reach { last_this_survey_ms: Some(now - 89 * MS_PER_DAY), ..reach() };
        assert_eq!(check(now, &r, 90, 7).unwrap_err().code(), "fatigue");
        let r = Reach { last_this_survey_ms: Some(now - 90 * MS_PER_DAY), ..reach() };
        assert_eq!(check(now, &r, 90, 7), Ok(()));
        let r = Reach { last_any_survey_ms: Some(now - MS_PER_DAY), ..reach() };
        let skip = check(now, &r, 90, 7).unwrap_err();
        assert!(skip.describe().contains("the global window is 7 days"), "{}", skip.describe());
        assert_eq!(check(now, &r, 90, 0), Ok(()), "a zero window never blocks");
        assert_eq!(check(now, &Reach { unsubscribed: true, ..reach() }, 90, 7), Err(Skip::Unsubscribed));
        assert_eq!(check(now, &Reach { has_email: false, ..reach() }, 90, 7), Err(Skip::NoEmail));
    }
}

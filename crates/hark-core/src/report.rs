//! Time series for reports: per-day counts folded into day, week (ISO, Monday) or month
//! buckets in UTC.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Day,
    Week,
    #[default]
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The civil UTC date of a day number (days since 1970-01-01).
pub fn date_of_day(day: i64) -> Date {
    Date::constant(1970, 1, 1)
        .checked_add(jiff::Span::new().days(day))
        .expect("day numbers come from stored epoch times within jiff's range")
}

/// The UTC date of an epoch-milliseconds time, e.g. `2026-11-24`.
pub fn format_ms(ms: i64) -> String {
    date_of_day(ms.div_euclid(MS_PER_DAY)).to_string()
}

/// Day number of a civil UTC date.
pub fn day_of_date(date: Date) -> i64 {
    i64::from(Date::constant(1970, 1, 1).until(date).expect("dates within jiff's range").get_days())
}

/// When a day starts in `zone`, as ms since 1970 (the first moment that exists, across a gap).
pub fn day_start(date: Date, zone: &jiff::tz::TimeZone) -> i64 {
    date.to_zoned(zone.clone()).map_or(0, |z| z.timestamp().as_millisecond())
}

/// The day a moment falls on in `zone`.
pub fn local_date(ms: i64, zone: &jiff::tz::TimeZone) -> Date {
    jiff::Timestamp::from_millisecond(ms).unwrap_or_default().to_zoned(zone.clone()).date()
}

/// First day of the bucket holding `date`.
pub fn bucket_start(date: Date, granularity: Granularity) -> Date {
    match granularity {
        Granularity::Day => date,
        Granularity::Week => date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .expect("within range"),
        Granularity::Month => date.first_of_month(),
    }
}

/// First day after the bucket starting at `start`.
pub fn bucket_end(start: Date, granularity: Granularity) -> Date {
    let span = match granularity {
        Granularity::Day => jiff::Span::new().days(1),
        Granularity::Week => jiff::Span::new().weeks(1),
        Granularity::Month => jiff::Span::new().months(1),
    };
    start.checked_add(span).expect("within range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        let d = Date::constant(2026, 11, 24);
        assert_eq!(date_of_day(day_of_date(d)), d);
        assert_eq!(day_of_date(Date::constant(1970, 1, 2)), 1);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2026-11-24 is a Tuesday.
        let d = Date::constant(2026, 11, 24);
        assert_eq!(bucket_start(d, Granularity::Week), Date::constant(2026, 11, 23));
        assert_eq!(bucket_start(d, Granularity::Month), Date::constant(2026, 11, 1));
    }
}

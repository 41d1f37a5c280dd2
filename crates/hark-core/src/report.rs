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

/// The UTC calendar month a day number falls in, as months since January 1970 (negative
/// before). Plain arithmetic (H. Hinnant's `civil_from_days`), total over every `i64` day a
/// rollup can hold: the answer writer maps each day it counts, and a window's ends may lie
/// past jiff's years.
pub fn month_of_day(day: i64) -> i64 {
    let z = day + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let from_march = (5 * day_of_year + 2) / 153;
    let month = if from_march < 10 { from_march + 3 } else { from_march - 9 };
    let year = era * 400 + year_of_era + i64::from(month <= 2);
    (year - 1970) * 12 + month - 1
}

/// The day number of the first day of a month counted as by [`month_of_day`] (Hinnant's
/// `days_from_civil`).
pub fn first_day_of_month(month: i64) -> i64 {
    let (year, month) = (1970 + month.div_euclid(12), month.rem_euclid(12) + 1);
    // Years are counted from March, so that February's leap day ends them.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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

    #[test]
    fn months_of_days_agree_with_the_calendar() {
        // Every day from 1900 to 2100 and a stretch around jiff's first and last years.
        let days = (day_of_date(Date::constant(1900, 1, 1))..day_of_date(Date::constant(2100, 1, 1)))
            .chain(day_of_date(Date::constant(-9999, 1, 1))..day_of_date(Date::constant(-9998, 3, 1)))
            .chain(day_of_date(Date::constant(9998, 11, 1))..=day_of_date(Date::constant(9999, 12, 31)));
        for day in days {
            let date = date_of_day(day);
            let month = (i64::from(date.year()) - 1970) * 12 + i64::from(date.month()) - 1;
            assert_eq!(month_of_day(day), month, "{date}");
            assert_eq!(first_day_of_month(month), day_of_date(date.first_of_month()), "{date}");
        }
        assert_eq!((month_of_day(0), month_of_day(-1), first_day_of_month(-1)), (0, -1, -31));
        // Past jiff's range the months go on.
        let last = day_of_date(Date::constant(9999, 12, 31));
        assert_eq!(month_of_day(last + 1), month_of_day(last) + 1);
        assert_eq!(first_day_of_month(month_of_day(last) + 1), last + 1);
    }
}

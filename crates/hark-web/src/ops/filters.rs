//! Query-string filters shared by the response list and the reports.

use hark_core::report::Granularity;
use hark_core::{Segment, SurveyKind, ValidationErrors, Why};
use hark_store::ResponseFilter;
use jiff::tz::TimeZone;

pub(crate) const DEFAULT_LIMIT: i64 = 50;
pub(crate) const MAX_LIMIT: i64 = 500;

/// Parameters common to lists and reports, documented for OpenAPI; contact attributes are
/// filtered with any number of `attr.{key}={value}` parameters.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // parsed by `parse`, declared here for the OpenAPI document
pub(crate) struct FilterParams {
    survey_id: Option<String>,
    team_id: Option<String>,
    agent_id: Option<String>,
    /// `api`, `link`, `email`, `widget`, `import` …
    channel: Option<String>,
    /// Start, inclusive: `2026-01-31` (a day in `tz`) or RFC 3339.
    from: Option<String>,
    /// End: a date is inclusive (`2026-03-31` covers that day), an RFC 3339 instant exclusive.
    to: Option<String>,
    /// Language of the answer (`en`, `ko`, …).
    language: Option<String>,
    /// Words the comment contains, any language and case (reports and the response list).
    q: Option<String>,
    /// One contact attribute as `key=value`; or use any number of `attr.{key}={value}`.
    attr: Option<String>,
    /// Answers whose comment mentions a theme (its key: `delivery`, `price` …; see
    /// `/api/v1/reports/themes`).
    theme: Option<String>,
    /// The time zone (IANA name, e.g. `Asia/Seoul`) of the dates given and of the days,
    /// weeks and months reports count in; default: the organisation's (`HARK_TIME_ZONE`).
    tz: Option<String>,
}

/// What a query string asked for beyond the filter itself.
#[derive(Debug)]
pub(crate) struct Extras {
    pub granularity: Granularity,
    pub cursor: Option<String>,
    pub limit: i64,
    /// The zone dates are read in and periods counted in (`tz`).
    pub zone: TimeZone,
    /// Everything else the route allowed, by name, for it to read.
    pub other: Vec<(String, String)>,
}

impl Default for Extras {
    fn default() -> Self {
        Extras {
            granularity: Granularity::default(),
            cursor: None,
            limit: DEFAULT_LIMIT,
            zone: TimeZone::UTC,
            other: Vec::new(),
        }
    }
}

impl Extras {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.other.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Longer searches and more attribute filters than these are refused: they only cost the
/// database (SQLite also caps a LIKE pattern at 50,000 bytes).
const MAX_SEARCH_CHARS: usize = 500;
const MAX_ATTRIBUTE_FILTERS: usize = 20;

/// Parses filters plus the extra parameters a route allows; anything else is refused by name.
/// `themes` are those answers are tagged with now.
pub(crate) fn parse(
    pairs: &[(String, String)],
    allowed: &[&str],
    themes: &hark_text::Themes,
) -> Result<(ResponseFilter, Extras), ValidationErrors> {
    let mut filter = ResponseFilter::default();
    let mut extras = Extras { limit: DEFAULT_LIMIT, ..Default::default() };
    let mut errors = ValidationErrors::default();
    // The zone first: the dates are read in it, wherever they stand in the query.
    if let Some((_, name)) = pairs.iter().find(|(k, _)| k == "tz") {
        match TimeZone::get(name) {
            Ok(zone) => extras.zone = zone,
            Err(_) => errors.say("tz", Why::new("invalid.time_zone")),
        }
    }
    for (key, value) in pairs {
        let text = || Some(value.clone());
        match key.as_str() {
            "survey_id" => filter.survey_id = text(),
            "team_id" => filter.team_id = text(),
            "agent_id" => filter.agent_id = text(),
            "channel" => filter.channel = text(),
            "language" => filter.language = text(),
            "q" if value.chars().count() > MAX_SEARCH_CHARS => {
                errors.say("q", Why::new("invalid.at_most_chars").with("max", MAX_SEARCH_CHARS))
            }
            "q" => filter.search = Some(value.trim().to_string()).filter(|q| !q.is_empty()),
            "contact_id" => filter.contact_id = text(),
            "theme" => match themes.get(value) {
                Some(theme) => filter.theme = Some(theme.key.clone()),
                None => {
                    let keys: Vec<&str> = themes.list().iter().map(|t| t.key.as_str()).collect();
                    errors.say("theme", Why::new("invalid.one_of").with("values", keys.join(", ")))
                }
            },
            "tz" => {}
            "from" => match parse_time(value, false, &extras.zone) {
                Ok(ms) => filter.from_ms = Some(ms),
                Err(why) => errors.say("from", why),
            },
            "to" => match parse_time(value, true, &extras.zone) {
                Ok(ms) => filter.to_ms = Some(ms),
                Err(why) => errors.say("to", why),
            },
            // `attr=plan=pro` (one attribute, as a form field) or `attr.plan=pro`.
            k if k.starts_with("attr.") || k == "attr" => {
                let (name, value) = match k.strip_prefix("attr.") {
                    Some(name) => (name, value.as_str()),
                    None => value.split_once('=').map_or(("", ""), |(n, v)| (n.trim(), v.trim())),
                };
                if hark_core::contact::is_attribute_key(name) {
                    filter.attributes.push((name.to_string(), value.to_string()));
                } else {
                    errors.say(k, Why::new("invalid.attribute_name"));
                }
            }
            "" => errors.say("query", Why::new("invalid.unnamed_parameter")),
            k if !allowed.contains(&k) => errors.say(k, Why::new("invalid.unknown_parameter")),
            "segment" => match Segment::parse(value) {
                Some(s) => filter.segment = Some(s),
                None => {
                    errors.say("segment", Why::new("invalid.one_of").with("values", "detractor, passive, promoter"))
                }
            },
            "kind" => match SurveyKind::parse(value) {
                Some(k) => filter.survey_kind = Some(k),
                None => errors.say("kind", Why::new("invalid.one_of").with("values", "nps, csat, ces")),
            },
            "score" => match value.parse::<i64>() {
                Ok(n) if (0..=10).contains(&n) => filter.score = Some(n),
                _ => errors.say("score", Why::new("invalid.whole_number_between").with("min", 0).with("max", 10)),
            },
            "granularity" => match Granularity::parse(value) {
                Some(g) => extras.granularity = g,
                None => errors.say("granularity", Why::new("invalid.one_of").with("values", "day, week, month")),
            },
            "cursor" => extras.cursor = text(),
            "limit" => match value.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => extras.limit = n,
                _ => {
                    errors.say("limit", Why::new("invalid.whole_number_between").with("min", 1).with("max", MAX_LIMIT))
                }
            },
            other => extras.other.push((other.to_string(), value.clone())),
        }
    }
    if filter.attributes.len() > MAX_ATTRIBUTE_FILTERS {
        errors.say("attr", Why::new("invalid.too_many_attribute_filters").with("max", MAX_ATTRIBUTE_FILTERS));
    }
    if let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms)
        && from >= to
    {
        errors.say("to", Why::new("invalid.to_before_from"));
    }
    errors.into_result().map(|()| (filter, extras))
}

/// Only `cursor` and `limit`, for lists that take no filters; anything else is refused by name.
pub(crate) fn page(pairs: &[(String, String)]) -> Result<(Option<String>, i64), ValidationErrors> {
    if let Some((key, _)) = pairs.iter().find(|(k, _)| k != "cursor" && k != "limit") {
        return Err(ValidationErrors::single(key, "unknown parameter: this list takes `cursor` and `limit`"));
    }
    let (_, extras) = parse(pairs, &["cursor", "limit"], &hark_text::Themes::new(Vec::new()))?;
    Ok((extras.cursor, extras.limit))
}

/// `pairs` with the zone `tz` names, unless they name one: the reader's or the organisation's.
pub(crate) fn with_zone(pairs: &[(String, String)], zone: &str) -> Vec<(String, String)> {
    let mut pairs = pairs.to_vec();
    if !pairs.iter().any(|(k, _)| k == "tz") {
        pairs.push(("tz".into(), zone.into()));
    }
    pairs
}

pub(crate) use hark_core::report::{day_start, local_date};

/// `YYYY-MM-DD` (a day in `zone`; as an end bound, the whole day is included) or an RFC 3339
/// instant.
pub(crate) fn parse_time(value: &str, end_of_day: bool, zone: &TimeZone) -> Result<i64, Why> {
    if let Ok(date) = value.parse::<jiff::civil::Date>() {
        let day = if end_of_day { date.tomorrow().unwrap_or(date) } else { date };
        return Ok(day_start(day, zone));
    }
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|_| Why::new("invalid.date_or_time").with("value", value))
}

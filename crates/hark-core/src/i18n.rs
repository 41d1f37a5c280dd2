//! Text in every language Hark ships, for customers and staff alike (one JSON file per
//! language in `locales/`), how each writes numbers and dates, and the choice of language.

use std::collections::HashMap;
use std::sync::OnceLock;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other falls back to, key by key.
pub const BASE_LOCALE: &str = "en";

pub struct Locale {
    pub tag: &'static str,
    /// The language's name in itself, e.g. `한국어`.
    pub name: String,
    pub rtl: bool,
    /// How the language writes numbers and times: `_decimal`, `_group` and `_datetime` /
    /// `_date` (strftime patterns) in its file.
    decimal: String,
    group: String,
    datetime: String,
    date: String,
    texts: HashMap<String, String>,
}

impl Locale {
    /// The text for `key`, in this language or else in English; the key itself if no language has it.
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.texts.get(key).or_else(|| base().texts.get(key)).map(String::as_str).unwrap_or(key)
    }

    /// `text(key)` with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, vars: &[(&str, &str)]) -> String {
        fill(self.text(key), vars)
    }

    pub fn has(&self, key: &str) -> bool {
        self.texts.contains_key(key)
    }

    pub fn dir(&self) -> &'static str {
        if self.rtl { "rtl" } else { "ltr" }
    }

    /// `x` with `decimals` places, in the language's way: `4.25` → `4,25` in Italian.
    pub fn number(&self, x: f64, decimals: usize) -> String {
        format!("{x:.decimals$}").replace('.', &self.decimal)
    }

    /// `number` with its sign always written: `+12`, `-3`.
    pub fn signed(&self, x: f64, decimals: usize) -> String {
        format!("{:+.decimals$}", zero_if_rounded_away(x, decimals)).replace('.', &self.decimal)
    }

    /// A 95% interval as the language writes it: "95% CI -4 to +12".
    pub fn ci(&self, i: crate::Interval, decimals: usize) -> String {
        self.fill("fmt.ci", &[("low", &self.signed(i.low, decimals)), ("high", &self.signed(i.high, decimals))])
    }

    /// A count with the language's thousands separator: `12,345`, `12.345`.
    pub fn count(&self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        let digits = n.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(&self.group);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// A moment, to the minute, as the language writes it, with its zone.
    pub fn datetime(&self, at: &jiff::Zoned) -> String {
        format!("{} {}", at.strftime(&self.datetime), zone_name(at))
    }

    /// A calendar day as the language writes it.
    pub fn date(&self, day: jiff::civil::Date) -> String {
        day.strftime(&self.date).to_string()
    }
}

/// A zone as a reader knows it: its IANA name (`Asia/Seoul`), or `UTC`.
fn zone_name(at: &jiff::Zoned) -> String {
    at.time_zone().iana_name().unwrap_or("UTC").to_owned()
}

/// `x`, or zero where it rounds to zero at `decimals` places: a figure shown as "-0.0" or "-0"
/// reads as a loss that is not there.
pub fn zero_if_rounded_away(x: f64, decimals: usize) -> f64 {
    if (x * 10f64.powi(decimals as i32)).round() == 0.0 { 0.0 } else { x }
}

/// Replaces each `{name}` in `text` with its value.
pub fn fill(text: &str, vars: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

pub fn locales() -> &'static [Locale] {
    static LOCALES: OnceLock<Vec<Locale>> = OnceLock::new();
    LOCALES.get_or_init(|| {
        LOCALE_FILES
            .iter()
            .map(|(tag, json)| {
                let mut texts: HashMap<String, String> =
                    serde_json::from_str(json).unwrap_or_else(|e| panic!("locales/{tag}.json: {e}"));
                let name = texts.remove("_name").unwrap_or_else(|| tag.to_string());
                let rtl = texts.remove("_dir").as_deref() == Some("rtl");
                let mut format = |key: &str, default: &str| texts.remove(key).unwrap_or_else(|| default.to_owned());
                let decimal = format("_decimal", ".");
                let group = format("_group", ",");
                let datetime = format("_datetime", "%Y-%m-%d %H:%M");
                let date = format("_date", "%Y-%m-%d");
                Locale { tag, name, rtl, decimal, group, datetime, date, texts }
            })
            .collect()
    })
}

/// The shipped language for a tag such as `ko`, `ko-KR` or `pt_BR` (matched on its language).
pub fn locale(tag: &str) -> Option<&'static Locale> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    locales().iter().find(|l| l.tag == primary)
}

/// A language as people read it: by its own name, with its tag ("한국어 (ko)"); a tag Hark
/// does not ship as it is.
pub fn language_shown(tag: &str) -> String {
    match locale(tag) {
        Some(shipped) => format!("{} ({tag})", shipped.name),
        None => tag.to_owned(),
    }
}

pub fn base() -> &'static Locale {
    locale(BASE_LOCALE).expect("locales/en.json is shipped")
}

/// The languages of an `Accept-Language` header, most preferred first (`q=0` dropped).
pub fn accept_language(header: &str) -> Vec<String> {
    let mut tags: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            (!tag.is_empty() && tag != "*" && q > 0.0).then(|| (q, i, tag.to_owned()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t).collect()
}

/// The first candidate (contact locale, then browser languages) that `offered` contains,
/// compared on the primary language; `None` when nothing matches.
pub fn negotiate<'a>(candidates: impl IntoIterator<Item = &'a str>, offered: &[String]) -> Option<String> {
    let primary = |t: &str| t.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    candidates.into_iter().find_map(|c| offered.iter().find(|o| primary(o) == primary(c)).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_languages_are_shipped_and_complete() {
        let tags: Vec<_> = locales().iter().map(|l| l.tag).collect();
        for tag in ["en", "it", "ko", "th"] {
            assert!(tags.contains(&tag), "{tag} missing");
        }
        for l in locales() {
            for key in base().texts.keys() {
                assert!(l.has(key), "locales/{}.json lacks `{key}`", l.tag);
            }
            for key in l.texts.keys() {
                assert!(base().has(key), "locales/{}.json has `{key}`, unknown to en.json", l.tag);
            }
        }
        assert_eq!(locale("ko-KR").unwrap().text("nps.low"), "전혀 추천하지 않음");
        assert_eq!(locale("th").unwrap().text("nps.high"), "แนะนำอย่างยิ่ง");
    }

    #[test]
    fn a_figure_that_rounds_to_zero_has_no_minus() {
        let en = locale("en").unwrap();
        assert_eq!(
            [en.signed(-0.3, 0), en.signed(-0.6, 0), en.signed(-0.04, 1), en.signed(0.3, 0)],
            ["+0", "-1", "+0.0", "+0"]
        );
    }

    /// Texts are escaped where they are shown, so a tag in one is shown as written: English
    /// headings read "Jobs</th>" and "Survey</legend>", their pages' own tags missing.
    #[test]
    fn no_text_holds_a_tag() {
        for l in locales() {
            for (key, text) in &l.texts {
                let tag = text.split('<').skip(1).any(|rest| {
                    let name = rest.trim_start_matches('/');
                    name.split_once('>')
                        .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphabetic()))
                });
                assert!(!tag, "locales/{}.json: `{key}` holds a tag: {text}", l.tag);
            }
        }
    }

    /// WCAG 2.5.3 (label in name): a score button shows its number, so its spoken name must
    /// start with that number, as a word, in every language (Korean used to say "10점 중 7점").
    #[test]
    fn score_names_start_with_the_visible_number() {
        for l in locales() {
            let score = l.fill("score_of", &[("n", "7"), ("max", "10")]);
            let stars = l.fill("stars", &[("n", "4")]);
            // The number as a word of its own ("7점" is one word to a screen reader's matcher).
            let first_word = |s: &str| s.split(|c: char| !c.is_alphanumeric()).next().unwrap_or_default().to_owned();
            assert_eq!((first_word(&score).as_str(), first_word(&stars).as_str()), ("7", "4"), "{}", l.tag);
        }
    }

    #[test]
    fn numbers_and_dates_are_written_the_language_s_way() {
        let it = locale("it").unwrap();
        assert_eq!(
            (it.number(4.256, 2), it.signed(12.0, 0), it.count(1_234_567)),
            ("4,26".into(), "+12".into(), "1.234.567".into())
        );
        assert_eq!(
            (base().number(-0.5, 1), base().count(-1234), base().count(999)),
            ("-0.5".into(), "-1,234".into(), "999".into())
        );
        let at = jiff::Timestamp::from_second(1_764_558_000)
            .unwrap()
            .to_zoned(jiff::tz::TimeZone::get("Asia/Seoul").unwrap());
        assert_eq!(locale("ko").unwrap().datetime(&at), "2025. 12. 1. 12:00 Asia/Seoul");
        assert_eq!(it.datetime(&at), "01/12/2025 12:00 Asia/Seoul");
        assert_eq!(base().datetime(&at.with_time_zone(jiff::tz::TimeZone::UTC)), "2025-12-01 03:00 UTC");
        assert_eq!(locale("th").unwrap().date(at.date()), "1/12/2025");
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            locale("it").unwrap().fill("nps.question", &[("brand", "Acme")]),
            "Quanto è probabile che tu consigli Acme a un amico o a un collega?"
        );
        assert_eq!(base().text("no.such.key"), "no.such.key");
    }

    #[test]
    fn accept_language_is_ordered_by_quality() {
        assert_eq!(accept_language("it;q=0.5, ko-KR, en;q=0.8, fr;q=0"), ["ko-KR", "en", "it"]);
        assert!(accept_language("").is_empty());
        let offered = vec!["en".to_string(), "th".to_string()];
        assert_eq!(negotiate(["ko", "th-TH", "en"], &offered).as_deref(), Some("th"));
        assert_eq!(negotiate(["fr"], &offered), None);
    }
}

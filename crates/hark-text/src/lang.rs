//! Which of the four languages a comment is in.
//!
//! Hangul and Thai script decide on their own; text in Latin script is English or Italian, as
//! lingua (with only those two models loaded) judges it.

use std::sync::OnceLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    En,
    Ko,
    It,
    Th,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Ko, Lang::It, Lang::Th];

    /// The BCP 47 tag, as the locale files and surveys name the language.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ko => "ko",
            Lang::It => "it",
            Lang::Th => "th",
        }
    }

    /// From a tag such as "ko" or "it-CH"; `None` for a language Hark does not read.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.tag() == primary)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The language of `text`. `hint` (the survey's language) decides text without letters, and
/// Latin text that lingua cannot tell apart.
pub fn detect(text: &str, hint: Option<Lang>) -> Lang {
    // ASCII letters by the byte (most of a Latin text, and quick); the rest decoded.
    let (mut hangul, mut thai) = (0usize, 0usize);
    let mut latin = text.bytes().filter(u8::is_ascii_alphabetic).count();
    if !text.is_ascii() {
        for c in text.chars().filter(|c| !c.is_ascii()) {
            match c {
                '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' => hangul += 1,
                '\u{0E00}'..='\u{0E7F}' => thai += 1,
                c if c.is_alphabetic() => latin += 1,
                _ => {}
            }
        }
    }
    if hangul == 0 && thai == 0 && latin == 0 {
        return hint.unwrap_or(Lang::En);
    }
    if hangul >= thai && hangul * 2 >= latin && hangul > 0 {
        return Lang::Ko;
    }
    if thai * 2 >= latin && thai > 0 {
        return Lang::Th;
    }
    // Latin script: a hint of English or Italian stands unless lingua is sure of the other.
    latin_language(text, hint)
}

fn latin_language(text: &str, hint: Option<Lang>) -> Lang {
    // Function words decide most comments at once: lingua weighs only the unclear ones.
    let (mut english, mut italian) = (0i32, 0i32);
    let mut lower = String::new();
    for word in text.split(|c: char| !c.is_alphabetic() && c != '\'').take(40) {
        lower.clear();
        if word.is_ascii() {
            lower.push_str(word);
            lower.make_ascii_lowercase();
        } else {
            lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        english += i32::from(english_only(&lower));
        italian += i32::from(italian_only(&lower));
    }
    // Two words more of one language decide; one word more decides for the hint.
    match (english - italian, hint) {
        (2.., _) | (1, Some(Lang::En)) => return Lang::En,
        (..=-2, _) | (-1, Some(Lang::It)) => return Lang::It,
        _ => {}
    }
    static DETECTOR: OnceLock<LanguageDetector> = OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        LanguageDetectorBuilder::from_languages(&[lingua::Language::English, lingua::Language::Italian]).build()
    });
    let confidences = detector.compute_language_confidence_values(text);
    let Some((best, confidence)) = confidences.first() else {
        return hint.unwrap_or(Lang::En);
    };
    let best = match best {
        lingua::Language::Italian => Lang::It,
        _ => Lang::En,
    };
    match hint {
        Some(h @ (Lang::En | Lang::It)) if h != best && *confidence < 0.9 => h,
        _ => best,
    }
}

/// Frequent words of one language that the other does not use. A `match` compiles to a test
/// of the length and a few comparisons: faster than a search of a list, on every Latin word.
#[rustfmt::skip]
fn english_only(word: &str) -> bool {
    matches!(word, "and" | "are" | "at" | "be" | "but" | "for" | "had" | "have" | "i" | "is" | "it" | "just"
        | "my" | "not" | "of" | "on" | "so" | "that" | "the" | "they" | "this" | "to" | "too" | "very" | "was"
        | "were" | "what" | "with" | "would" | "you")
}

#[rustfmt::skip]
fn italian_only(word: &str) -> bool {
    matches!(word, "alla" | "anche" | "ancora" | "che" | "come" | "con" | "da" | "dal" | "dei" | "del" | "della"
        | "delle" | "di" | "e" | "gli" | "ha" | "ho" | "il" | "le" | "lo" | "ma" | "mi" | "mia" | "mio" | "molto"
        | "nel" | "nella" | "non" | "per" | "perché" | "più" | "questo" | "sempre" | "si" | "sono" | "stato" | "sul"
        | "tutto" | "un" | "una" | "è")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_decide_korean_and_thai() {
        assert_eq!(detect("배송이 너무 늦어요", None), Lang::Ko);
        assert_eq!(detect("ส่งของช้ามาก", Some(Lang::En)), Lang::Th);
        assert_eq!(detect("앱 UI가 불편해요", None), Lang::Ko);
    }

    #[test]
    fn latin_text_is_english_or_italian() {
        assert_eq!(detect("The delivery was late and nobody called me back", None), Lang::En);
        assert_eq!(detect("La consegna è arrivata in ritardo e nessuno mi ha richiamato", None), Lang::It);
        assert_eq!(detect("ok", Some(Lang::It)), Lang::It);
        assert_eq!(detect("10/10 !!!", Some(Lang::Ko)), Lang::Ko);
    }

    #[test]
    fn tags_round_trip() {
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
        assert_eq!(Lang::from_tag("it-CH"), Some(Lang::It));
        assert_eq!(Lang::from_tag("fr"), None);
    }
}

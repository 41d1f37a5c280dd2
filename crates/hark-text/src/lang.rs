//! Which of the four languages a comment is in.
//!
//! Hangul and Thai script decide on their own (beside Latin words, when the survey is in that
//! language); text in Latin script is English or Italian, as the words only one of them uses
//! decide (its first words, once one language leads by three) or, when they do not, lingua
//! (with only those two models loaded) judges it.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use lingua::{LanguageDetector, LanguageDetectorBuilder};
use rustc_hash::FxHashMap;

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

/// The language of `text`. `hint` (the survey's language) decides text without letters, Latin
/// text that lingua cannot tell apart, and Korean or Thai text mixed with Latin words when its
/// own script is there.
pub fn detect(text: &str, hint: Option<Lang>) -> Lang {
    // The survey's own script decides: Korean and Thai customers write brands, products and
    // places in Latin letters ("มีSulwhasoo Essential Firming Creamมั้ยคะ"). Its first letter
    // is enough: nothing else needs counting.
    match hint {
        Some(Lang::Ko) if text.chars().any(is_hangul) => return Lang::Ko,
        Some(Lang::Th) if text.chars().any(in_thai_block) => return Lang::Th,
        _ => {}
    }
    let (mut hangul, mut thai) = (0usize, 0usize);
    let mut latin;
    if text.is_ascii() {
        // No Hangul or Thai to weigh the letters against: whether there is one is enough.
        latin = usize::from(text.bytes().any(|b| b.is_ascii_alphabetic()));
    } else {
        // ASCII letters by the byte (most of a Latin text, and quick); the rest decoded.
        latin = text.bytes().filter(u8::is_ascii_alphabetic).count();
        for c in text.chars().filter(|c| !c.is_ascii()) {
            match c {
                c if is_hangul(c) => hangul += 1,
                c if in_thai_block(c) => thai += 1,
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

/// Hangul: syllables, jamo and compatibility jamo (ㅋㅋ).
fn is_hangul(c: char) -> bool {
    matches!(c, '\u{AC00}'..='\u{D7A3}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}')
}

/// The Thai block.
fn in_thai_block(c: char) -> bool {
    ('\u{0E00}'..='\u{0E7F}').contains(&c)
}

fn latin_language(text: &str, hint: Option<Lang>) -> Lang {
    // Words of one language only decide most comments at once: lingua weighs only the unclear
    // ones. It costs 30–80 µs a comment: it was three quarters of the answer handler's CPU.
    let english_lead = english_lead(text);
    // Two words more of one language decide; one word more decides for the hint.
    match (english_lead, hint) {
        (2.., _) | (1, Some(Lang::En)) => return Lang::En,
        (..=-2, _) | (-1, Some(Lang::It)) => return Lang::It,
        // In a Korean or Thai survey, Latin letters alone are a brand, an address or a few
        // words of English ("Thank you ^^", "NISSAN TERRA SUV"): Italian only if its words say
        // so. Lingua would only guess at them, at 30–80 µs a comment.
        (lead, Some(Lang::Ko | Lang::Th)) => return if lead < 0 { Lang::It } else { Lang::En },
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

/// How many more of the words of `text` are English only than Italian only (see
/// [`one_language_words`]). The text is cut where a character is neither a letter nor an
/// apostrophe, into at most 40 pieces (some empty), each lower-cased as it is read.
fn english_lead(text: &str) -> i32 {
    /// A lead that decides, whatever the rest says: the words after it are not read.
    const DECIDED: i32 = 3;
    let words = one_language_words();
    let (mut lead, mut word, mut pieces) = (0i32, String::with_capacity(32), 0);
    for c in text.chars() {
        if c.is_ascii_alphabetic() || c == '\'' {
            word.push(c.to_ascii_lowercase());
        } else if c.is_alphabetic() {
            word.extend(c.to_lowercase());
        } else {
            lead += i32::from(words.get(word.as_str()).copied().unwrap_or(0));
            word.clear();
            pieces += 1;
            if pieces == 40 || lead.abs() >= DECIDED {
                return lead;
            }
        }
    }
    lead + i32::from(words.get(word.as_str()).copied().unwrap_or(0))
}

/// Words that one of English and Italian uses and the other does not, +1 for English and −1
/// for Italian: the frequent function words below, and the single words of the built-in
/// sentiment lexicons and themes ("delivery", "friendly"; "consegna", "gentile"), which short
/// comments are made of. A word both list, or that Italians write in English (made in Italy,
/// taglia small, la chat), counts for neither.
fn one_language_words() -> &'static FxHashMap<Box<str>, i8> {
    static WORDS: OnceLock<FxHashMap<Box<str>, i8>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let themes = crate::Analyzer::builtin().themes();
        let listed = |lang: Lang, function_words: &[&str]| -> BTreeSet<String> {
            let lexicon = crate::sentiment::listed(lang);
            let terms = themes.list().iter().flat_map(|t| t.terms.get(lang.tag())).flatten();
            lexicon
                .into_keys()
                .chain(terms.cloned())
                .filter(|w| w.chars().all(|c| c.is_alphabetic() || c == '\''))
                .map(|w| w.to_lowercase())
                .chain(function_words.iter().map(|w| w.to_string()))
                .collect()
        };
        let (english, italian) = (listed(Lang::En, &ENGLISH_WORDS), listed(Lang::It, &ITALIAN_WORDS));
        let only = |one: &BTreeSet<String>, other: &BTreeSet<String>, side: i8| {
            one.iter()
                .filter(|w| !other.contains(*w) && !WRITTEN_BY_BOTH.contains(&w.as_str()))
                .map(|w| (w.as_str().into(), side))
                .collect::<Vec<_>>()
        };
        only(&english, &italian, 1).into_iter().chain(only(&italian, &english, -1)).collect()
    })
}

/// Frequent words of one language that the other does not use.
#[rustfmt::skip]
const ENGLISH_WORDS: [&str; 30] = [
    "and", "are", "at", "be", "but", "for", "had", "have", "i", "is", "it", "just", "my", "not", "of", "on",
    "so", "that", "the", "they", "this", "to", "too", "very", "was", "were", "what", "with", "would", "you",
];

#[rustfmt::skip]
const ITALIAN_WORDS: [&str; 41] = [
    "alla", "anche", "ancora", "che", "come", "con", "da", "dal", "dei", "del", "della", "delle", "di", "e",
    "gli", "ha", "ho", "il", "le", "lo", "ma", "mi", "mia", "mio", "molto", "nel", "nella", "non", "per",
    "perché", "più", "questo", "sempre", "si", "sono", "stato", "sul", "tutto", "un", "una", "è",
];

/// Words of the lexicons and themes that both languages write (fine: end; sale: salt, rooms;
/// male: badly), or that Italian comments borrow.
#[rustfmt::skip]
const WRITTEN_BY_BOTH: [&str; 15] = [
    "card", "chat", "fine", "fit", "large", "line", "link", "made", "male", "manager", "sale", "site", "small",
    "stock", "top",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_decide_korean_and_thai() {
        assert_eq!(detect("배송이 너무 늦어요", None), Lang::Ko);
        assert_eq!(detect("ส่งของช้ามาก", Some(Lang::En)), Lang::Th);
        assert_eq!(detect("앱 UI가 불편해요", None), Lang::Ko);
        // Latin brand names in a Thai or Korean survey's comment.
        let thai = "มีSulwhasoo Essential Firming Creamมั้ยคะ";
        assert_eq!(detect(thai, Some(Lang::Th)), Lang::Th);
        assert_eq!(detect(thai, None), Lang::En);
        assert_eq!(detect("Samsung Galaxy S24 Ultra 배송 빨라요", Some(Lang::Ko)), Lang::Ko);
        // Latin letters alone there: English, unless its words are Italian.
        assert_eq!(detect("NISSAN TERRA SUV", Some(Lang::Th)), Lang::En);
        assert_eq!(detect("Thank you ^^", Some(Lang::Th)), Lang::En);
        assert_eq!(detect("Grazie, servizio ottimo", Some(Lang::Ko)), Lang::It);
    }

    #[test]
    fn latin_text_is_english_or_italian() {
        assert_eq!(detect("The delivery was late and nobody called me back", None), Lang::En);
        assert_eq!(detect("La consegna è arrivata in ritardo e nessuno mi ha richiamato", None), Lang::It);
        assert_eq!(detect("ok", Some(Lang::It)), Lang::It);
        assert_eq!(detect("10/10 !!!", Some(Lang::Ko)), Lang::Ko);
    }

    #[test]
    fn words_of_one_language_are_found_in_any_case() {
        for word in ENGLISH_WORDS {
            assert_eq!(english_lead(&format!("x {} {word}", word.to_uppercase())), 2, "{word}");
        }
        for word in ITALIAN_WORDS {
            assert_eq!(english_lead(&format!("x {} {word}", word.to_uppercase())), -2, "{word}");
        }
        assert_eq!(english_lead("thee theater andante don't perchéx"), 0);
        // At most 40 pieces; two separators make an empty one.
        assert_eq!(english_lead(&format!("{}the", "x ".repeat(39))), 1);
        assert_eq!(english_lead(&format!("{}the", "x ".repeat(40))), 0);
        assert_eq!(english_lead(&format!("{}the", ", ".repeat(20))), 0);
    }

    /// Short comments have no function words: the words of the lexicons and themes decide
    /// them, and English that Italians write counts for neither language.
    #[test]
    fn short_comments_are_told_by_their_words() {
        // A lead of three decides: the rest is not read.
        assert_eq!(english_lead("Fast delivery, friendly support"), 3);
        assert_eq!(english_lead("Consegna veloce, assistenza gentile"), -3);
        assert_eq!(english_lead("Fast friendly support, ma il servizio non era gentile"), 3);
        assert_eq!(english_lead("Qualità ottima, made in Italy, taglia small"), -3);
        assert_eq!(english_lead("Staff top, app ok"), 0);
        assert_eq!(detect("Fast delivery, friendly support", Some(Lang::It)), Lang::En);
        assert_eq!(detect("Consegna veloce, assistenza gentile", Some(Lang::En)), Lang::It);
    }

    /// Real English comments cut to their first five words, as short comments are: the words
    /// decide most of them, and never for Italian.
    #[test]
    fn short_real_english_comments_are_never_voted_italian() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/real-comments/en_dev.csv");
        let text = std::fs::read_to_string(path).unwrap();
        let (mut decided, mut wrong) = (0, Vec::new());
        for line in text.lines().skip(1) {
            let comment = line.split_once(',').map_or("", |(_, c)| c);
            let short: String = comment.split_whitespace().take(5).collect::<Vec<_>>().join(" ");
            let lead = english_lead(&short);
            if lead.abs() >= 2 {
                decided += 1;
                if lead < 0 {
                    wrong.push(short);
                }
            }
        }
        assert!(decided >= 1200, "{decided} decided");
        assert!(wrong.is_empty(), "read as Italian: {wrong:?}");
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

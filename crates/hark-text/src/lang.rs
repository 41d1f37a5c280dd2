//! Which of the four languages a comment is in.
//!
//! Hangul and Thai script decide on their own (beside Latin words, when the survey is in that
//! language); text in Latin script is English or Italian, as lingua (with only those two models
//! loaded) judges it.

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
    // Function words decide most comments at once: lingua weighs only the unclear ones.
    let (english, italian) = function_words(text);
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

/// How many words of `text` are English function words, and how many Italian ones. The text
/// is cut where a character is neither a letter nor an apostrophe, into at most 40 pieces
/// (some empty), each lower-cased and packed into a number as it is read.
fn function_words(text: &str) -> (i32, i32) {
    let (mut english, mut italian) = (0i32, 0i32);
    let mut tally = |word: &Packed| {
        english += i32::from(word.is_in(&ENGLISH_ONLY));
        italian += i32::from(word.is_in(&ITALIAN_ONLY));
    };
    let (mut word, mut pieces) = (Packed::default(), 0);
    for c in text.chars() {
        if c.is_ascii_alphabetic() || c == '\'' {
            word.push(c.to_ascii_lowercase() as u8);
        } else if c.is_alphabetic() {
            for lower in c.to_lowercase() {
                lower.encode_utf8(&mut [0; 4]).bytes().for_each(|b| word.push(b));
            }
        } else {
            tally(&word);
            word = Packed::default();
            pieces += 1;
            if pieces == 40 {
                break;
            }
        }
    }
    if pieces < 40 {
        tally(&word);
    }
    (english, italian)
}

/// A word of up to eight bytes as one number, its first byte lowest: a function word is
/// looked for among numbers, with no string made and none compared.
#[derive(Default)]
struct Packed {
    value: u64,
    len: usize,
}

impl Packed {
    fn push(&mut self, byte: u8) {
        if self.len < 8 {
            self.value |= u64::from(byte) << (8 * self.len);
        }
        self.len += 1;
    }

    fn is_in(&self, words: &[u64]) -> bool {
        (1..=8).contains(&self.len) && words.binary_search(&self.value).is_ok()
    }
}

/// `words`, packed as [`Packed`] does, in order.
const fn packed<const N: usize>(words: [&str; N]) -> [u64; N] {
    let mut out = [0u64; N];
    let mut i = 0;
    while i < N {
        let bytes = words[i].as_bytes();
        assert!(bytes.len() <= 8, "a function word is at most eight bytes");
        let mut k = 0;
        while k < bytes.len() {
            out[i] |= (bytes[k] as u64) << (8 * k);
            k += 1;
        }
        // Insertion sort, for the binary search.
        let mut j = i;
        while j > 0 && out[j - 1] > out[j] {
            (out[j - 1], out[j]) = (out[j], out[j - 1]);
            j -= 1;
        }
        i += 1;
    }
    out
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

static ENGLISH_ONLY: [u64; 30] = packed(ENGLISH_WORDS);
static ITALIAN_ONLY: [u64; 41] = packed(ITALIAN_WORDS);

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
    }

    #[test]
    fn latin_text_is_english_or_italian() {
        assert_eq!(detect("The delivery was late and nobody called me back", None), Lang::En);
        assert_eq!(detect("La consegna è arrivata in ritardo e nessuno mi ha richiamato", None), Lang::It);
        assert_eq!(detect("ok", Some(Lang::It)), Lang::It);
        assert_eq!(detect("10/10 !!!", Some(Lang::Ko)), Lang::Ko);
    }

    #[test]
    fn function_words_are_found_in_any_case() {
        for word in ENGLISH_WORDS {
            assert_eq!(function_words(&format!("x {} {word}", word.to_uppercase())), (2, 0), "{word}");
        }
        for word in ITALIAN_WORDS {
            assert_eq!(function_words(&format!("x {} {word}", word.to_uppercase())), (0, 2), "{word}");
        }
        assert_eq!(function_words("thee theater andante don't perchéx"), (0, 0));
        // At most 40 pieces; two separators make an empty one.
        assert_eq!(function_words(&format!("{}the", "x ".repeat(39))), (1, 0));
        assert_eq!(function_words(&format!("{}the", "x ".repeat(40))), (0, 0));
        assert_eq!(function_words(&format!("{}the", ", ".repeat(20))), (0, 0));
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

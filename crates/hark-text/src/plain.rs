//! Word boundaries in plain text (ASCII, Latin-1 letters, typographic apostrophes, Hangul), as
//! Unicode's rules (UAX #29) and ICU4X's segmenter find them, without the segmenter's tables:
//! most English, Italian and Korean comments are plain, and there the rules come down to a few
//! classes of character. A property test holds this to ICU4X on random text.
//!
//! One departure from Unicode, made in both: a full stop between letters ends a word (see
//! [`full_stops_apart`]).

/// The word-break class of a plain character (UAX #29, table 3).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Cr,
    Lf,
    Newline,
    Letter,
    Numeric,
    /// `’`: inside a word between letters (l’ordine) or digits.
    MidNumLet,
    /// `'`: inside a word between letters (don't) or digits.
    SingleQuote,
    /// `:`: between letters.
    MidLetter,
    /// `,` `;` and (see [`full_stops_apart`]) `.`: between digits (1,000; 3.5).
    MidNum,
    /// `_`: joins what it touches.
    ExtendNumLet,
    Space,
    Other,
    /// Before the text's start or after its end.
    Edge,
}

/// Each ASCII byte's class, looked up rather than worked out: every byte of a comment is.
static CLASSES: [Class; 128] = {
    let mut table = [Class::Other; 128];
    let mut b = 0;
    while b < 128 {
        table[b] = class(b as u8);
        b += 1;
    }
    table
};

const fn class(b: u8) -> Class {
    match b {
        b'\r' => Class::Cr,
        b'\n' => Class::Lf,
        0x0B | 0x0C => Class::Newline,
        b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
        b'0'..=b'9' => Class::Numeric,
        b'\'' => Class::SingleQuote,
        b':' => Class::MidLetter,
        b',' | b';' | b'.' => Class::MidNum,
        b'_' => Class::ExtendNumLet,
        b' ' => Class::Space,
        _ => Class::Other,
    }
}

/// Whether there is no word boundary between `prev` and `cur`, with the characters around them.
const fn joined(before: Class, prev: Class, cur: Class, after: Class) -> bool {
    use Class::*;
    const fn mid_letter(c: Class) -> bool {
        matches!(c, MidLetter | MidNumLet | SingleQuote)
    }
    const fn mid_num(c: Class) -> bool {
        matches!(c, MidNum | MidNumLet | SingleQuote)
    }
    match (prev, cur) {
        (Letter | Numeric, Letter | Numeric) => true,             // WB5, WB8–10
        (Cr, Lf) => true,                                         // WB3
        (Cr | Lf | Newline, _) | (_, Cr | Lf | Newline) => false, // WB3a, WB3b
        (Space, Space) => true,                                   // WB3d
        (Letter, c) if mid_letter(c) && matches!(after, Letter) => true, // WB6
        (c, Letter) if mid_letter(c) && matches!(before, Letter) => true, // WB7
        (c, Numeric) if mid_num(c) && matches!(before, Numeric) => true, // WB11
        (Numeric, c) if mid_num(c) && matches!(after, Numeric) => true, // WB12
        (Letter | Numeric | ExtendNumLet, ExtendNumLet) => true,  // WB13a
        (ExtendNumLet, Letter | Numeric) => true,                 // WB13b
        _ => false,                                               // WB999
    }
}

/// What [`joined`] says of two neighbours whatever the characters around them.
#[derive(Clone, Copy)]
enum Pair {
    Joined,
    Split,
    /// It depends on the character before or after them (e.g. `'` between letters).
    Ask,
}

const CLASSES_ALL: [Class; 13] = {
    use Class::*;
    [Cr, Lf, Newline, Letter, Numeric, MidNumLet, SingleQuote, MidLetter, MidNum, ExtendNumLet, Space, Other, Edge]
};

/// [`joined`] worked out for every pair and every context at compile time: between most
/// neighbours (a letter and a space) the context does not matter, and a look-up answers.
static PAIRS: [[Pair; 13]; 13] = {
    let mut table = [[Pair::Ask; 13]; 13];
    let mut p = 0;
    while p < 13 {
        let mut c = 0;
        while c < 13 {
            let (prev, cur) = (CLASSES_ALL[p], CLASSES_ALL[c]);
            let first = joined(Class::Edge, prev, cur, Class::Edge);
            let mut same = true;
            let mut b = 0;
            while b < 13 {
                let mut a = 0;
                while a < 13 {
                    same &= joined(CLASSES_ALL[b], prev, cur, CLASSES_ALL[a]) == first;
                    a += 1;
                }
                b += 1;
            }
            table[prev as usize][cur as usize] = match (same, first) {
                (false, _) => Pair::Ask,
                (true, true) => Pair::Joined,
                (true, false) => Pair::Split,
            };
            c += 1;
        }
        p += 1;
    }
    table
};

/// A character's class, if it is plain: ASCII, the accented letters of Latin-1 (è, à, ù), the
/// typographic apostrophes (l’ordine), or Hangul (syllables and compatibility letters, all
/// letters to the rules).
fn plain_class(c: char) -> Option<Class> {
    match c {
        '\0'..='\x7f' => Some(CLASSES[c as usize]),
        '\u{C0}'..='\u{FF}' if c != '×' && c != '÷' => Some(Class::Letter),
        '\u{2018}' | '\u{2019}' => Some(Class::MidNumLet),
        '\u{AC00}'..='\u{D7A3}' | '\u{3131}'..='\u{318E}' => Some(Class::Letter),
        _ => None,
    }
}

/// The pieces of `text` (words and what lies between them) as (start, end, is a word), offset
/// by `at`, onto `out`; false, with `out` as it was, if `text` is not all plain.
pub(crate) fn pieces(text: &str, at: usize, out: &mut Vec<(usize, usize, bool)>) -> bool {
    if text.is_ascii() {
        // Most of an English comment: classed by the byte, without decoding.
        let bytes = text.as_bytes();
        cut(text.len(), |i| Some((CLASSES[usize::from(bytes[i])], 1)), at, out)
    } else {
        let class = |i: usize| {
            let c = text[i..].chars().next()?;
            Some((plain_class(c)?, c.len_utf8()))
        };
        cut(text.len(), class, at, out)
    }
}

/// [`pieces`] over a text of `len` bytes whose character at byte `i` is of class `class(i)`
/// and so many bytes long (none if it is not plain).
#[inline]
fn cut(
    len: usize,
    class: impl Fn(usize) -> Option<(Class, usize)>,
    at: usize,
    out: &mut Vec<(usize, usize, bool)>,
) -> bool {
    let kept = out.len();
    let (mut before, mut prev) = (Class::Edge, Class::Edge);
    let (mut start, mut word) = (0, false);
    let mut i = 0;
    while i < len {
        let Some((cur, width)) = class(i) else {
            out.truncate(kept);
            return false;
        };
        let joins = match PAIRS[prev as usize][cur as usize] {
            Pair::Joined => true,
            Pair::Split => false,
            Pair::Ask => {
                let after = if i + width < len { class(i + width).map(|(c, _)| c) } else { Some(Class::Edge) };
                // What is not plain after it is found on the next turn.
                after.is_some_and(|after| joined(before, prev, cur, after))
            }
        };
        if i > 0 && !joins {
            out.push((at + start, at + i, word));
            (start, word) = (i, false);
        }
        // A piece with a letter, a digit or `_` is a word.
        word |= matches!(cur, Class::Letter | Class::Numeric | Class::ExtendNumLet);
        (before, prev) = (prev, cur);
        i += width;
    }
    if start < len {
        out.push((at + start, at + len, word));
    }
    true
}

/// `pieces` from `from` on, with each word cut at a full stop inside it that is not between
/// two digits. Unicode keeps "e.g" one word, but in a comment a stop between letters ends a
/// sentence typed without its space (없음.재미없다, "the belt.doesn't come with it"), and a
/// negation's reach with it. Plain text is cut so to begin with; text cut by ICU4X is cut
/// again here.
pub(crate) fn full_stops_apart(text: &str, pieces: &mut Vec<(usize, usize, bool)>, from: usize) {
    let bytes = text.as_bytes();
    let cut: Vec<_> = pieces.drain(from..).collect();
    for (start, end, is_word) in cut {
        let mut at = start;
        if is_word {
            for stop in (start + 1..end.saturating_sub(1)).filter(|&i| bytes[i] == b'.') {
                if !(bytes[stop - 1].is_ascii_digit() && bytes[stop + 1].is_ascii_digit()) {
                    pieces.extend([(at, stop, true), (stop, stop + 1, false)]);
                    at = stop + 1;
                }
            }
        }
        pieces.push((at, end, is_word));
    }
}

#[cfg(test)]
mod tests {
    use icu_segmenter::WordSegmenter;
    use icu_segmenter::options::WordBreakInvariantOptions;
    use proptest::prelude::*;

    /// ICU4X's cut, with full stops between letters apart.
    fn icu(text: &str) -> Vec<(usize, usize, bool)> {
        let segmenter = WordSegmenter::new_for_non_complex_scripts(WordBreakInvariantOptions::default());
        let mut out = Vec::new();
        let mut last = 0;
        for (end, kind) in segmenter.segment_str(text).iter_with_word_type() {
            if end > last {
                out.push((last, end, kind.is_word_like()));
            }
            last = end;
        }
        super::full_stops_apart(text, &mut out, 0);
        out
    }

    fn ours(text: &str) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::new();
        assert!(super::pieces(text, 0, &mut out), "{text:?} is plain");
        out
    }

    #[test]
    fn cuts_as_icu_does_in_the_usual_cases() {
        for text in [
            "I don't like it, really.",
            "e.g. 3.5 or 1,000,000; ok:yes a_b __ _ _1 1_ x.y.z a.5 5.a",
            "two  spaces\r\nand\ta tab\u{b}",
            "",
            "'quoted' \"double\" end.",
            "배송이 너무 늦어요ㅠㅠ 10점 중 2점... 다시는 안 시켜요!! ㅋㅋ",
            "앱UI가 불편해요,그래도 OK:) 1,000원",
            "L’ordine è arrivato in ritardo, però l'app funziona. Perché? Così così... 3’5",
        ] {
            assert_eq!(ours(text), icu(text), "{text:?}");
        }
    }

    #[test]
    fn cuts_the_real_english_and_korean_comments_as_icu_does() {
        for (lang, least) in [("en", 1000), ("ko", 1000)] {
            let path = format!("{}/tests/real-comments/{lang}_dev.csv", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).expect("the real comments");
            let mut plain = 0;
            for line in text.lines() {
                let mut out = Vec::new();
                if super::pieces(line, 0, &mut out) {
                    assert_eq!(out, icu(line), "{line:?}");
                    plain += 1;
                } else {
                    assert!(out.is_empty());
                }
            }
            assert!(plain > least, "{lang}: {plain} plain lines");
        }
        let mut out = vec![(0, 1, true)];
        assert!(!super::pieces("ab 🙂 cd", 5, &mut out), "an emoji is not plain");
        assert_eq!(out, [(0, 1, true)], "left as it was");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        /// ASCII of every class, Latin-1 letters, typographic apostrophes and Hangul, mixed.
        #[test]
        fn cuts_as_icu_does(text in "[ab1_.',;:\" \r\n\t!x9èÀùÿ\u{2018}\u{2019}가힣배송ㅋㅠ-]{0,24}") {
            prop_assert_eq!(ours(&text), icu(&text), "{:?}", text);
        }

        #[test]
        fn leaves_what_is_not_plain_to_icu(text in "[a ×÷…\u{A0}]{0,8}") {
            let mut out = Vec::new();
            let plain = super::pieces(&text, 0, &mut out);
            prop_assert_eq!(plain, !text.contains(['×', '÷', '…', '\u{A0}']), "{:?}", text);
        }

        #[test]
        fn cuts_any_ascii_as_icu_does(text in "[\\x00-\\x7f]{0,40}") {
            prop_assert_eq!(ours(&text), icu(&text), "{:?}", text);
        }
    }
}

//! Thai word segmentation: Thai writes no spaces between words. Maximal matching against a
//! word list (`data/th_words.txt`, PyThaiNLP's, CC0): of all ways to cut a run of Thai into
//! dictionary words and unknown character clusters, the one with the fewest unknown bytes,
//! then the fewest words. ICU4X's own Thai data cut common words in customer text wrongly
//! (ดีมาก → ดีม · า · ก), so it is used for the other scripts only.

use std::sync::OnceLock;

const NOT: &str = "ไม่";
const INTENSIFIERS: [&str; 3] = ["มาก", "ที่สุด", "สุดๆ"];

/// Whether `bytes` begins with a Thai letter (U+0E01–U+0E4E) in UTF-8: E0, then B8 81–BF
/// (U+0E01–U+0E3F) or B9 80–8E (U+0E40–U+0E4E). Comments are searched for Thai by the byte:
/// decoding each character cost more than cutting the Thai into words.
fn thai_at(bytes: &[u8]) -> bool {
    matches!(bytes, [0xE0, 0xB8, 0x81..=0xBF, ..] | [0xE0, 0xB9, 0x80..=0x8E, ..])
}

/// Where the first Thai letter of `text` begins, if it has one.
pub(crate) fn find_thai(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    // E0 only ever leads a character, so where it is found a character begins.
    while let Some(i) = bytes[at..].iter().position(|&b| b == 0xE0) {
        if thai_at(&bytes[at + i..]) {
            return Some(at + i);
        }
        at += i + 1;
    }
    None
}

/// The word list as a trie of characters in one array of node records, laid down depth
/// first. A record is a node's number of children `k`; for a node with more than [`LISTED`]
/// children, the set of their letters (128 bits); the `k` letters (each its place in the Thai
/// block, sorted, with [`ENDS_WORD`] if a word ends at the child); then the places of the
/// records of all children but the first, three bytes each (0: the child has no children, so
/// no record). The first child's record, if it has one, comes right after its parent's:
/// [`FIRST_HAS_RECORD`] in the count says whether it has.
///
/// A step of the walk reads one record, most often a few bytes in one cache line, with no
/// search through the dozens of letters near the root. Before, a node's letters were in one
/// array and its children's places in another, in twice the memory, and each step missed the
/// cache twice: that was half the time of reading a Thai comment.
pub(crate) struct ThaiWords {
    records: Vec<u8>,
    /// The root's targets by letter (0: no word begins with it), looked up without a search:
    /// the walk from every place in a run starts there.
    root: [u32; 128],
    /// The targets of the first two letters, by [`pair`]: the walk's second step, the widest
    /// records of the trie, is one look-up in a table that stays in the cache.
    pairs: Box<[u32]>,
}

/// A target: the place of its node's record (0 if it has none, so that a walk that reaches
/// it ends there), with [`WORD`] if a word ends at the node.
const WORD: u32 = 1 << 31;
/// In a letter's byte: a word ends at the child it leads to (letters are below 0x80).
const ENDS_WORD: u8 = 0x80;
/// Up to this many children, a record's letters are searched; above, the record also holds
/// the set of its letters, and a letter's place among them is the count of those below it.
const LISTED: usize = 8;
/// In a record's count: its first child has a record, right after this one.
const FIRST_HAS_RECORD: u8 = 0x80;
const THAI_BLOCK: u32 = 0x0E00;
/// Letters that a word may hold: the Thai block up to its last mark, U+0E4E.
const SPAN: usize = 0x4F;

/// The place of the first two letters of a walk in [`ThaiWords::pairs`].
fn pair(first: u8, second: u8) -> usize {
    usize::from(first) * SPAN + usize::from(second)
}

/// A letter's place in the Thai block, if it is in it.
fn letter(c: char) -> Option<u8> {
    u8::try_from(u32::from(c).wrapping_sub(THAI_BLOCK)).ok().filter(|b| *b < 0x80)
}

/// PyThaiNLP's word list, and the loanwords of customer service it lacks (แอป, app).
pub(crate) const SOURCES: [&str; 2] =
    [include_str!("../data/th_words.txt"), include_str!("../data/th_extra_words.txt")];

impl ThaiWords {
    pub fn shared() -> &'static ThaiWords {
        static WORDS: OnceLock<ThaiWords> = OnceLock::new();
        WORDS.get_or_init(|| {
            let mut list: Vec<&str> = SOURCES.iter().flat_map(|s| s.lines()).filter(|l| !l.is_empty()).collect();
            list.sort_unstable();
            list.dedup();
            // Place 0 means no record: the root's is the first, at 1.
            let mut records = vec![0];
            lay_down(&list, 0, &mut records);
            let mut words = ThaiWords { records, root: [0; 128], pairs: vec![0; SPAN * SPAN].into() };
            for l in 0..128 {
                words.root[usize::from(l)] = words.step(ROOT, l).unwrap_or(0);
            }
            for (first, second) in (0..SPAN as u8).flat_map(|a| (0..SPAN as u8).map(move |b| (a, b))) {
                let target = words.step(words.root[usize::from(first)], second);
                words.pairs[pair(first, second)] = target.unwrap_or(0);
            }
            words
        })
    }

    /// The target reached from `from` by the letter `l` (its place in the Thai block), if any.
    #[inline]
    fn step(&self, from: u32, l: u8) -> Option<u32> {
        let at = (from & !WORD) as usize;
        if at == 0 {
            return None;
        }
        let count = self.records[at];
        let k = usize::from(count & !FIRST_HAS_RECORD);
        let (i, letters) = if k > LISTED {
            let set = u128::from_le_bytes(self.records[at + 1..at + 17].try_into().expect("16 bytes"));
            if set >> l & 1 == 0 {
                return None;
            }
            ((set & ((1 << l) - 1)).count_ones() as usize, at + 17)
        } else {
            (self.records[at + 1..at + 1 + k].iter().position(|&e| e & !ENDS_WORD == l)?, at + 1)
        };
        let word = if self.records[letters + i] & ENDS_WORD != 0 { WORD } else { 0 };
        let places = letters + k;
        let place = match i {
            0 if count & FIRST_HAS_RECORD != 0 => places + 3 * (k - 1),
            0 => 0,
            _ => place_at(&self.records, places + 3 * (i - 1)),
        };
        Some(place as u32 | word)
    }

    pub fn contains(&self, word: &str) -> bool {
        let mut letters = word.chars().map(letter);
        let Some(Some(first)) = letters.next() else { return false };
        let first = self.root[usize::from(first)];
        first != 0 && letters.try_fold(first, |t, l| self.step(t, l?)).is_some_and(|t| t & WORD != 0)
    }

    /// Byte ranges of the words of the run of Thai letters that `text` begins with, in order:
    /// they cover the run, so the last ends where it does.
    #[cfg(test)]
    pub fn segment(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        self.segment_into(text, 0, &mut Vec::new(), &mut out);
        out.into_iter().map(|(start, end, _)| (start, end)).collect()
    }

    /// [`Self::segment`] onto `out`, as words at `offset` on, with `places` for the search
    /// (kept by the caller: a comment has a run of Thai between every two spaces, and two
    /// allocations for each run were 2% of the instructions of reading Thai). Returns the
    /// run's length in bytes.
    pub(crate) fn segment_into(
        &self,
        text: &str,
        offset: usize,
        places: &mut Vec<Place>,
        out: &mut Vec<(usize, usize, bool)>,
    ) -> usize {
        // Every Thai letter is three bytes long: the search runs over letters, one byte each.
        const BYTES: usize = 3;
        fill_places(text, places);
        let n = places.len() - 1;
        let relax = |places: &mut [Place], from: usize, to: usize, known: bool| {
            let unknown = if known { 0 } else { (to - from) as u64 };
            let cost = places[from].cost + (unknown << 32) + 1;
            if cost < places[to].cost {
                places[to].cost = cost;
                places[to].back = from as u32 | if known { KNOWN } else { 0 };
            }
        };
        for from in 0..n {
            if places[from].letter & CUT == 0 || places[from].cost == UNREACHED {
                continue;
            }
            // Every dictionary word that starts here.
            let first = places[from].letter & !CUT;
            let (mut reached, mut to) = (self.root[usize::from(first)], from + 1);
            while reached != 0 {
                if reached & WORD != 0 && places[to].letter & CUT != 0 {
                    relax(places, from, to, true);
                }
                if to == n {
                    break;
                }
                let l = places[to].letter & !CUT;
                reached = match to - from {
                    1 => self.pairs[pair(first, l)],
                    _ => self.step(reached, l).unwrap_or(0),
                };
                to += 1;
            }
            // Or one unknown cluster.
            let next = (from + 1..=n).find(|&i| places[i].letter & CUT != 0).unwrap_or(n);
            relax(places, from, next, false);
        }
        // The best cut read back from the end. Neighbouring unknown clusters are one unknown
        // word.
        let first = out.len();
        let (mut at, mut after_known) = (n, true);
        while at > 0 {
            let (from, known) = ((places[at].back & !KNOWN) as usize, places[at].back & KNOWN != 0);
            let (start, end) = (from * BYTES, at * BYTES);
            let in_run = out.len() > first;
            match out.last_mut() {
                Some(after) if in_run && !known && !after_known => after.0 = offset + start,
                _ => out.push((offset + start, offset + end, true)),
            }
            (at, after_known) = (from, known);
        }
        out[first..].reverse();
        n * BYTES
    }
}

impl ThaiWords {
    /// Where a listed word that is ไม่ and a word (ไม่ดี, ไม่พอใจ), or a word and an intensifier
    /// (ดีมาก), is cut in two: negation scope and intensifiers want them apart. Asked once for
    /// each word a thread reads (see `Words::read_piece`), not at every place it is found.
    pub(crate) fn affix_apart(&self, word: &str) -> Option<usize> {
        if !self.contains(word) {
            return None;
        }
        if word.strip_prefix(NOT).is_some_and(|rest| self.contains(rest)) {
            return Some(NOT.len());
        }
        INTENSIFIERS
            .iter()
            .find_map(|suffix| word.strip_suffix(suffix).filter(|stem| self.contains(stem)).map(str::len))
    }
}

/// The root's place.
const ROOT: u32 = 1;

/// Lays down the record of the node whose words (sorted, sharing their first `depth` bytes)
/// are `words`, if it has children, and then theirs, depth first.
fn lay_down(words: &[&str], depth: usize, records: &mut Vec<u8>) {
    // The list is sorted, so a word that ends here comes first.
    let longer = if words.first().is_some_and(|w| w.len() == depth) { &words[1..] } else { words };
    let mut children = Vec::new();
    let mut lo = 0;
    while lo < longer.len() {
        let c = longer[lo][depth..].chars().next().expect("longer than its prefix");
        let end = lo + longer[lo..].partition_point(|w| w[depth..].starts_with(c));
        let l = letter(c).unwrap_or_else(|| panic!("{}: {c:?} is not a Thai letter", longer[lo]));
        children.push((l, depth + c.len_utf8(), &longer[lo..end]));
        lo = end;
    }
    if children.is_empty() {
        return;
    }
    let (at, k) = (records.len(), children.len());
    records.push(u8::try_from(k).expect("fewer children than Thai letters"));
    if k > LISTED {
        records.extend(children.iter().fold(0u128, |set, (l, ..)| set | 1 << l).to_le_bytes());
    }
    for (l, depth, words) in &children {
        // A word that ends at the child comes first among its words.
        records.push(if words[0].len() == *depth { l | ENDS_WORD } else { *l });
    }
    let places = records.len();
    records.resize(places + 3 * (k - 1), 0);
    for (i, (_, depth, words)) in children.into_iter().enumerate() {
        let child = records.len();
        lay_down(words, depth, records);
        let has_record = records.len() > child;
        match i {
            0 if has_record => records[at] |= FIRST_HAS_RECORD,
            0 => {}
            _ => write_place(records, places + 3 * (i - 1), if has_record { child } else { 0 }),
        }
    }
}

fn write_place(records: &mut [u8], at: usize, place: usize) {
    assert!(place < 1 << 24, "records within three bytes' reach");
    records[at..at + 3].copy_from_slice(&place.to_le_bytes()[..3]);
}

/// The place written at `at` in `records`.
fn place_at(records: &[u8], at: usize) -> usize {
    let p = &records[at..at + 3];
    usize::from(p[0]) | usize::from(p[1]) << 8 | usize::from(p[2]) << 16
}

/// One place of a run in the search for its best cut: the letter that begins there, and the
/// best cut of the letters before it.
#[derive(Clone, Copy)]
pub(crate) struct Place {
    /// The letter's place in the Thai block, with [`CUT`] where a word may begin (and the one
    /// before end); the place after the last letter has only [`CUT`].
    letter: u8,
    /// Where the last piece of the best cut begins, with [`KNOWN`] if it is a listed word.
    back: u32,
    /// (unknown letters, pieces) of the best cut, as one number compared at once.
    cost: u64,
}

const CUT: u8 = 0x80;
const KNOWN: u32 = 1 << 31;
const UNREACHED: u64 = u64::MAX;

/// Fills `places` with the places of the run of Thai letters that `text` begins with, read from its bytes (a Thai
/// letter is E0, then B8 or B9, then its low six bits), and the place after it. A word may
/// begin at a letter but not at a mark or a following vowel, nor after a leading vowel: they
/// belong to their consonant.
fn fill_places(text: &str, places: &mut Vec<Place>) {
    places.clear();
    let mut after_leading_vowel = false;
    for c in text.as_bytes().chunks_exact(3).take_while(|c| thai_at(c)) {
        let l = (c[1] & 1) << 6 | (c[2] & 0x3F);
        let cut = places.is_empty() || (!binds_back(l) && !after_leading_vowel);
        after_leading_vowel = binds_forward(l);
        places.push(Place { letter: if cut { l | CUT } else { l }, back: 0, cost: UNREACHED });
    }
    places.push(Place { letter: CUT, back: 0, cost: UNREACHED });
    places[0].cost = 0;
}

/// A mark or a following vowel (by its place in the Thai block): part of the letter before it.
fn binds_back(l: u8) -> bool {
    matches!(l, 0x30..=0x3A | 0x45 | 0x47..=0x4E)
}

/// A leading vowel (เ แ โ ใ ไ): part of the letter after it.
fn binds_forward(l: u8) -> bool {
    matches!(l, 0x40..=0x44)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_thai(c: char) -> bool {
        ('\u{0E01}'..='\u{0E4E}').contains(&c)
    }

    /// The words a comment is read as: cut here, then ไม่ and intensifiers apart (see
    /// [`ThaiWords::affix_apart`]).
    fn words(text: &str) -> Vec<String> {
        crate::Words::shared().tokens(text, crate::Lang::Th).into_iter().map(|t| t.word.to_string()).collect()
    }

    #[test]
    fn common_customer_phrases_split_into_their_words() {
        assert_eq!(ThaiWords::shared().segment("ดีมาก").len(), 1, "a listed word, cut apart when read");
        assert_eq!(words("ดีมาก"), ["ดี", "มาก"]);
        assert_eq!(words("พนักงานสุภาพดีมาก"), ["พนักงาน", "สุภาพ", "ดี", "มาก"]);
        assert_eq!(words("ส่งของช้ามาก"), ["ส่ง", "ของ", "ช้า", "มาก"]);
        assert_eq!(words("ไม่ดี"), ["ไม่", "ดี"]);
        assert_eq!(words("แอปใช้งานยาก"), ["แอป", "ใช้งาน", "ยาก"]);
    }

    #[test]
    fn the_trie_holds_every_listed_word_and_no_other() {
        let words = ThaiWords::shared();
        let list: std::collections::BTreeSet<&str> = SOURCES.iter().flat_map(|s| s.lines()).collect();
        for word in list.iter().filter(|w| !w.is_empty()) {
            assert!(words.contains(word), "{word}");
            // Each shorter start of a word is a word only if listed.
            for (end, _) in word.char_indices().skip(1) {
                assert_eq!(words.contains(&word[..end]), list.contains(&word[..end]), "{}", &word[..end]);
            }
        }
        assert!(!words.contains("") && !words.contains("abc") && !words.contains("ดีดีดีดี"));
    }

    #[test]
    fn thai_is_found_by_the_byte_as_by_the_character() {
        let edges = ['\u{0E00}', '\u{0E01}', '\u{0E3F}', '\u{0E40}', '\u{0E4E}', '\u{0E4F}', '\u{0E7F}', '\u{0F01}'];
        let others = ['a', 'é', '한', '€', '😀', ' '];
        let all: Vec<char> = edges.iter().chain(&others).copied().collect();
        for a in &all {
            for b in &edges {
                for c in &all {
                    let text = format!("{a}{b}{c}ดี{c}");
                    assert_eq!(find_thai(&text), text.find(is_thai), "{text:?}");
                    for (i, _) in text.char_indices() {
                        let by_char = text[i..].find(|c| !is_thai(c)).unwrap_or(text.len() - i);
                        let run = ThaiWords::shared().segment(&text[i..]).last().map_or(0, |w| w.1);
                        assert_eq!(run, by_char, "{:?}", &text[i..]);
                    }
                }
            }
        }
    }

    #[test]
    fn unknown_letters_stay_together_and_nothing_is_lost() {
        let text = "ร้านคุณปุ๊กกี้ขายดี";
        let spans = ThaiWords::shared().segment(text);
        assert_eq!(spans.first().unwrap().0, 0);
        assert_eq!(spans.last().unwrap().1, text.len());
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0));
        // A mark never starts a word, nor does a word end after a leading vowel.
        for (s, _) in spans {
            let (prev, next) = (text[..s].chars().next_back(), text[s..].chars().next().unwrap());
            let (prev, next) = (prev.and_then(letter), letter(next).unwrap());
            assert!(!binds_back(next) && !prev.is_some_and(binds_forward), "{text} cut at {s}");
        }
    }
}

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

/// The word list as a double-array trie (Aoe 1989), a cell of four bytes each: the child of
/// the node in cell `s` by the letter `l` is in cell `base(s) + l + 1`, if that cell is
/// labelled `l + 1`. No two nodes share a base, so the label alone says whose child a cell
/// holds (as in darts-clone). A step of the walk is one read of one cell, with no search among
/// a node's letters: with records of each node's letters, searched or counted in a set, Thai
/// took 12% more instructions to read, and 5–8% more time.
pub(crate) struct ThaiWords {
    /// Each cell: its base (the bits from [`BASE_SHIFT`] up; 0 for a node without children),
    /// [`ENDS_WORD`], and its label (0: the cell holds no child).
    cells: Vec<u32>,
}

const LABEL: u32 = 0x7F;
/// In a cell: a word ends at its node.
const ENDS_WORD: u32 = 0x80;
const BASE_SHIFT: u32 = 8;
/// A target of the walk: its cell, with [`WORD`] if a word ends there; 0, the cell no node
/// holds, where the walk ends.
const WORD: u32 = 1 << 31;
/// The root's cell: cell 0 stands for "no node".
const ROOT: u32 = 1;
const THAI_BLOCK: u32 = 0x0E00;
/// Letters that a word may hold: the Thai block up to its last mark, U+0E4E.
const SPAN: u8 = 0x4F;

/// A letter's place in the Thai block, if it is in it.
fn letter(c: char) -> Option<u8> {
    u8::try_from(u32::from(c).wrapping_sub(THAI_BLOCK)).ok().filter(|b| *b < SPAN)
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
            let mut building = Building::new();
            building.place_children(&list, 0, ROOT);
            ThaiWords { cells: building.cells }
        })
    }

    /// The target reached from `from` by the letter `l` (its place in the Thai block); 0 if
    /// none.
    #[inline]
    fn step(&self, from: u32, l: u8) -> u32 {
        let label = u32::from(l) + 1;
        let to = (self.cells[(from & !WORD) as usize] >> BASE_SHIFT) + label;
        match self.cells.get(to as usize) {
            Some(cell) if cell & LABEL == label => to | if cell & ENDS_WORD != 0 { WORD } else { 0 },
            _ => 0,
        }
    }

    pub fn contains(&self, word: &str) -> bool {
        !word.is_empty()
            && word
                .chars()
                .try_fold(ROOT, |t, c| Some(self.step(t, letter(c)?)).filter(|t| *t != 0))
                .is_some_and(|t| t & WORD != 0)
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
            let (mut reached, mut to) = (self.step(ROOT, places[from].letter & !CUT), from + 1);
            while reached != 0 {
                if reached & WORD != 0 && places[to].letter & CUT != 0 {
                    relax(places, from, to, true);
                }
                if to == n {
                    break;
                }
                reached = self.step(reached, places[to].letter & !CUT);
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

/// The double array as it is built, with what the search for a base skips, one bit a cell.
struct Building {
    cells: Vec<u32>,
    /// The cells that hold a node, or were given up (see `tried`).
    taken: Vec<u64>,
    /// The bases of the nodes placed: no two share one.
    bases: Vec<u64>,
    /// How many times each cell was tried in vain for a node's first child.
    tried: Vec<u8>,
    /// No cell below it is free: the search for a base starts there.
    lowest_free: usize,
}

/// See [`Building::tried`].
const GIVE_UP_AFTER: u8 = 8;

fn is_set(bits: &[u64], at: usize) -> bool {
    bits.get(at / 64).is_some_and(|word| word >> (at % 64) & 1 != 0)
}

fn set(bits: &mut Vec<u64>, at: usize) {
    if bits.len() <= at / 64 {
        bits.resize(at / 64 + 1, 0);
    }
    bits[at / 64] |= 1 << (at % 64);
}

impl Building {
    /// Cell 0 is no node's, so that 0 can stand for "none"; the root is in cell 1. No cell up
    /// to [`SPAN`] is used: a base is at least 1, so few nodes fit there, and searching from
    /// them made every node scan the whole array.
    fn new() -> Building {
        let start = usize::from(SPAN) + 1;
        Building {
            cells: vec![0; start],
            taken: Vec::new(),
            bases: Vec::new(),
            tried: vec![0; start],
            lowest_free: start,
        }
    }

    /// The first free cell at `at` or after it.
    fn free_from(&self, at: usize) -> usize {
        // The cells before `at` count as taken.
        let before = (1 << (at % 64)) - 1;
        let (mut word, mut bits) = (at / 64, self.taken.get(at / 64).map_or(before, |b| b | before));
        while bits == u64::MAX {
            word += 1;
            bits = self.taken.get(word).copied().unwrap_or(0);
        }
        word * 64 + bits.trailing_ones() as usize
    }

    /// Places the children of the node in cell `node`, whose words (sorted, sharing their
    /// first `depth` bytes) are `words`, at the lowest base free where each child's cell is
    /// free; then theirs, depth first.
    fn place_children(&mut self, words: &[&str], depth: usize, node: u32) {
        // The list is sorted, so a word that ends here comes first.
        let longer = if words.first().is_some_and(|w| w.len() == depth) { &words[1..] } else { words };
        let mut children = Vec::new();
        let mut lo = 0;
        while lo < longer.len() {
            let c = longer[lo][depth..].chars().next().expect("longer than its prefix");
            let end = lo + longer[lo..].partition_point(|w| w[depth..].starts_with(c));
            let l = letter(c).unwrap_or_else(|| panic!("{}: {c:?} is not a Thai letter", longer[lo]));
            children.push((usize::from(l) + 1, depth + c.len_utf8(), &longer[lo..end]));
            lo = end;
        }
        let Some(&(first, ..)) = children.first() else { return };
        // Where the first child's cell is free, searched by the word of bits; then the others.
        let mut at = self.free_from(self.lowest_free);
        while is_set(&self.bases, at - first)
            || children.iter().any(|(label, ..)| is_set(&self.taken, at - first + label))
        {
            // A free cell tried in vain many times is given up (left empty), as darts-clone
            // does: every node tried every such cell in turn, and building took four times as
            // long.
            if at < self.tried.len() {
                self.tried[at] += 1;
                if self.tried[at] == GIVE_UP_AFTER {
                    set(&mut self.taken, at);
                }
            }
            at = self.free_from(at + 1);
        }
        let base = at - first;
        let end = base + children.last().map_or(0, |c| c.0);
        assert!(end < 1 << (32 - BASE_SHIFT), "a base within its bits");
        if self.cells.len() <= end {
            self.cells.resize(end + 1, 0);
            self.tried.resize(end + 1, 0);
        }
        set(&mut self.bases, base);
        self.cells[node as usize] |= (base as u32) << BASE_SHIFT;
        for (label, depth, words) in &children {
            // A word that ends at the child comes first among its words.
            let word = if words[0].len() == *depth { ENDS_WORD } else { 0 };
            self.cells[base + label] = word | *label as u32;
            set(&mut self.taken, base + label);
        }
        self.lowest_free = self.free_from(self.lowest_free);
        for (label, depth, words) in children {
            self.place_children(words, depth, (base + label) as u32);
        }
    }
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

//! Thai word segmentation: Thai writes no spaces between words. Maximal matching against a
//! word list (`data/th_words.txt`, PyThaiNLP's, CC0): of all ways to cut a run of Thai into
//! dictionary words and unknown character clusters, the one with the fewest unknown bytes,
//! then the fewest words. ICU4X's own Thai data cut common words in customer text wrongly
//! (ดีมาก → ดีม · า · ก), so it is used for the other scripts only.

use std::collections::VecDeque;
use std::sync::OnceLock;

const NOT: &str = "ไม่";
const INTENSIFIERS: [&str; 3] = ["มาก", "ที่สุด", "สุดๆ"];

pub(crate) fn is_thai(c: char) -> bool {
    ('\u{0E01}'..='\u{0E4E}').contains(&c)
}

/// The word list as a trie of characters, flat: node `i`'s children are the edges
/// `firsts[i]..firsts[i + 1]`, sorted by letter. Walking it from each place in a run finds
/// every word that starts there in one pass over the letters. Nodes are numbered breadth
/// first, so edge `e` leads to node `e + 1`, and an edge is one byte: its letter's place in
/// the Thai block, and [`ENDS_WORD`] if a word ends at its node. The walk touches two short
/// arrays, a node's letters within one cache line.
pub(crate) struct ThaiWords {
    firsts: Vec<u32>,
    letters: Vec<u8>,
    /// The root's targets by letter (0: no word begins with it), looked up without a search:
    /// the walk from every place in a run starts there.
    root: [u32; 128],
}

/// The bit of a target that says a word ends at its node.
const WORD: u32 = 1 << 31;
/// The bit of an edge's byte that says a word ends at its node (letters are below 0x80).
const ENDS_WORD: u8 = 0x80;
const THAI_BLOCK: u32 = 0x0E00;

/// The target of edge `at`, whose byte is `edge`: its node, with [`WORD`] if a word ends there.
fn target(at: usize, edge: u8) -> u32 {
    (at as u32 + 1) | if edge & ENDS_WORD != 0 { WORD } else { 0 }
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
            // Breadth first over the sorted list: a node is the run of words that share its
            // prefix, so its children are numbered, and their edges laid down, in order.
            let (mut firsts, mut letters) = (Vec::new(), Vec::new());
            let mut queue = VecDeque::from([(0, list.len(), 0)]);
            while let Some((mut lo, hi, depth)) = queue.pop_front() {
                lo += usize::from(list[lo].len() == depth);
                firsts.push(letters.len() as u32);
                while lo < hi {
                    let c = list[lo][depth..].chars().next().expect("longer than its prefix");
                    let end = lo + list[lo..hi].partition_point(|w| w[depth..].starts_with(c));
                    let depth = depth + c.len_utf8();
                    debug_assert_eq!(firsts.len() + queue.len(), letters.len() + 1, "edge e leads to node e + 1");
                    let l = letter(c).unwrap_or_else(|| panic!("{}: {c:?} is not a Thai letter", list[lo]));
                    // The list is sorted, so a word that ends here comes first.
                    letters.push(if list[lo].len() == depth { l | ENDS_WORD } else { l });
                    queue.push_back((lo, end, depth));
                    lo = end;
                }
            }
            firsts.push(letters.len() as u32);
            let mut root = [0u32; 128];
            for at in firsts[0] as usize..firsts[1] as usize {
                root[usize::from(letters[at] & !ENDS_WORD)] = target(at, letters[at]);
            }
            ThaiWords { firsts, letters, root }
        })
    }

    /// The target reached from `node` by the letter `l` (its place in the Thai block): the
    /// child's number, with [`WORD`] set if a word ends there.
    fn step(&self, node: u32, l: u8) -> Option<u32> {
        let node = (node & !WORD) as usize;
        if node == 0 {
            return Some(self.root[usize::from(l)]).filter(|t| *t != 0);
        }
        let (from, to) = (self.firsts[node] as usize, self.firsts[node + 1] as usize);
        let at = from + self.letters[from..to].binary_search_by_key(&l, |e| e & !ENDS_WORD).ok()?;
        Some(target(at, self.letters[at]))
    }

    pub fn contains(&self, word: &str) -> bool {
        !word.is_empty()
            && word.chars().try_fold(0u32, |node, c| self.step(node, letter(c)?)).is_some_and(|t| t & WORD != 0)
    }

    /// Byte ranges of the words of `run` (Thai letters only), in order.
    pub fn segment(&self, run: &str) -> Vec<(usize, usize)> {
        // Every Thai letter is three bytes long: the search runs over letters, one byte each.
        const BYTES: usize = 3;
        let letters: Vec<u8> = run.chars().map(|c| letter(c).expect("a run of Thai letters")).collect();
        debug_assert_eq!(letters.len() * BYTES, run.len());
        let n = letters.len();
        // best[i]: (unknown letters, words, previous cut, whether the piece ending at i is known).
        let mut best: Vec<Option<(usize, usize, usize, bool)>> = vec![None; n + 1];
        best[0] = Some((0, 0, 0, true));
        let relax = |best: &mut Vec<Option<(usize, usize, usize, bool)>>, from: usize, to: usize, known: bool| {
            let (unknown, words, _, _) = best[from].expect("reached");
            let cost = (unknown + if known { 0 } else { to - from }, words + 1, from, known);
            if best[to].is_none_or(|b| (cost.0, cost.1) < (b.0, b.1)) {
                best[to] = Some(cost);
            }
        };
        let allowed = cuts_allowed(run);
        for from in 0..n {
            if best[from].is_none() || !allowed[from] {
                continue;
            }
            // Every dictionary word that starts here.
            let mut node = 0u32;
            for (to, l) in (from + 1..).zip(&letters[from..]) {
                let Some(next) = self.step(node, *l) else { break };
                node = next;
                if node & WORD != 0 && allowed[to] {
                    relax(&mut best, from, to, true);
                }
            }
            // Or one unknown cluster.
            let next = (from + 1..=n).find(|&i| allowed[i]).unwrap_or(n);
            relax(&mut best, from, next, false);
        }
        let mut cuts: Vec<(usize, usize, bool)> = Vec::new();
        let mut at = n;
        while at > 0 {
            let (_, _, from, known) = best[at].expect("the end is reached");
            cuts.push((from * BYTES, at * BYTES, known));
            at = from;
        }
        cuts.reverse();
        // Neighbouring unknown clusters are one unknown word.
        let mut out: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
        let mut last_known = true;
        for (from, to, known) in cuts {
            match out.last_mut() {
                Some(last) if !known && !last_known => last.1 = to,
                _ if known => self.affixes_apart(run, from, to, &mut out),
                _ => out.push((from, to)),
            }
            last_known = known;
        }
        out
    }
}

impl ThaiWords {
    /// A listed word that is ไม่ and a word (ไม่ดี, ไม่พอใจ), or a word and an intensifier
    /// (ดีมาก), as two: negation scope and intensifiers want them apart.
    fn affixes_apart(&self, run: &str, from: usize, to: usize, out: &mut Vec<(usize, usize)>) {
        let word = &run[from..to];
        if let Some(rest) = word.strip_prefix(NOT).filter(|r| self.contains(r)) {
            out.extend([(from, to - rest.len()), (to - rest.len(), to)]);
            return;
        }
        for suffix in INTENSIFIERS {
            if let Some(stem) = word.strip_suffix(suffix).filter(|s| self.contains(s)) {
                out.extend([(from, from + stem.len()), (from + stem.len(), to)]);
                return;
            }
        }
        out.push((from, to));
    }
}

/// For each letter of `run` (Thai letters only) and its end, whether a word may end (and the
/// next begin) there: not before a mark or a following vowel, and not after a leading vowel,
/// which belong to their consonant. Worked out once per run: the search asks of every place
/// many times.
fn cuts_allowed(run: &str) -> Vec<bool> {
    let mut allowed = Vec::with_capacity(run.len() / 3 + 1);
    let mut prev_binds_forward = false;
    for c in run.chars() {
        allowed.push(allowed.is_empty() || (!binds_back(c) && !prev_binds_forward));
        prev_binds_forward = binds_forward(c);
    }
    allowed.push(true);
    allowed
}

/// A mark or a following vowel: part of the letter before it.
fn binds_back(c: char) -> bool {
    matches!(c, '\u{0E30}'..='\u{0E3A}' | '\u{0E45}' | '\u{0E47}'..='\u{0E4E}')
}

/// A leading vowel (เ แ โ ใ ไ): part of the letter after it.
fn binds_forward(c: char) -> bool {
    matches!(c, '\u{0E40}'..='\u{0E44}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        ThaiWords::shared().segment(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn common_customer_phrases_split_into_their_words() {
        assert_eq!(words("ดีมาก"), ["ดี", "มาก"]);
        assert_eq!(words("พนักงานสุภาพดีมาก"), ["พนักงาน", "สุภาพ", "ดี", "มาก"]);
        assert_eq!(words("ส่งของช้ามาก"), ["ส่ง", "ของ", "ช้า", "มาก"]);
        assert_eq!(words("ไม่ดี"), ["ไม่", "ดี"]);
        assert_eq!(words("แอปใช้งานยาก"), ["แอป", "ใช้งาน", "ยาก"]);
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
            assert!(!binds_back(next) && !prev.is_some_and(binds_forward), "{text} cut at {s}");
        }
    }
}

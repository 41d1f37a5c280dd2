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

/// The word list as a trie of characters, flat: node `i`'s children are
/// `edges[nodes[i].first..nodes[i + 1].first]`, sorted by letter. Walking it from each place in
/// a run finds every word that starts there in one pass over the letters.
pub(crate) struct ThaiWords {
    nodes: Vec<Node>,
    edges: Vec<(char, u32)>,
}

#[derive(Clone, Copy)]
struct Node {
    first: u32,
    /// A word ends here.
    word: bool,
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
            let (mut nodes, mut edges) = (Vec::new(), Vec::new());
            let mut queue = VecDeque::from([(0, list.len(), 0)]);
            while let Some((mut lo, hi, depth)) = queue.pop_front() {
                let word = list[lo].len() == depth;
                lo += usize::from(word);
                nodes.push(Node { first: edges.len() as u32, word });
                while lo < hi {
                    let c = list[lo][depth..].chars().next().expect("longer than its prefix");
                    let end = lo + list[lo..hi].partition_point(|w| w[depth..].starts_with(c));
                    edges.push((c, (nodes.len() + queue.len()) as u32));
                    queue.push_back((lo, end, depth + c.len_utf8()));
                    lo = end;
                }
            }
            nodes.push(Node { first: edges.len() as u32, word: false });
            ThaiWords { nodes, edges }
        })
    }

    /// The node reached from `node` by `c`.
    fn step(&self, node: u32, c: char) -> Option<u32> {
        let (from, to) = (self.nodes[node as usize].first as usize, self.nodes[node as usize + 1].first as usize);
        let edges = &self.edges[from..to];
        edges.binary_search_by_key(&c, |e| e.0).ok().map(|i| edges[i].1)
    }

    pub fn contains(&self, word: &str) -> bool {
        word.chars().try_fold(0u32, |node, c| self.step(node, c)).is_some_and(|n| self.nodes[n as usize].word)
    }

    /// Byte ranges of the words of `run` (Thai letters only), in order.
    pub fn segment(&self, run: &str) -> Vec<(usize, usize)> {
        let n = run.len();
        // best[i]: (unknown bytes, words, previous cut, whether the piece ending at i is known).
        let mut best: Vec<Option<(usize, usize, usize, bool)>> = vec![None; n + 1];
        best[0] = Some((0, 0, 0, true));
        let relax = |best: &mut Vec<Option<(usize, usize, usize, bool)>>, from: usize, to: usize, known: bool| {
            let (unknown, words, _, _) = best[from].expect("reached");
            let cost = (unknown + if known { 0 } else { to - from }, words + 1, from, known);
            if best[to].is_none_or(|b| (cost.0, cost.1) < (b.0, b.1)) {
                best[to] = Some(cost);
            }
        };
        for from in 0..n {
            if best[from].is_none() || !cut_allowed(run, from) {
                continue;
            }
            // Every dictionary word that starts here.
            let mut node = 0u32;
            for (k, c) in run[from..].char_indices() {
                let Some(next) = self.step(node, c) else { break };
                node = next;
                let to = from + k + c.len_utf8();
                if self.nodes[node as usize].word && cut_allowed(run, to) {
                    relax(&mut best, from, to, true);
                }
            }
            // Or one unknown cluster.
            let next = (from + 1..=n).find(|&i| cut_allowed(run, i)).unwrap_or(n);
            relax(&mut best, from, next, false);
        }
        let mut cuts: Vec<(usize, usize, bool)> = Vec::new();
        let mut at = n;
        while at > 0 {
            let (_, _, from, known) = best[at].expect("the end is reached");
            cuts.push((from, at, known));
            at = from;
        }
        cuts.reverse();
        // Neighbouring unknown clusters are one unknown word.
        let mut out: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
        let mut last_known = true;
        for (from, to, known) in cuts {
            match out.last_mut() {
                Some(last) if !known && !last_known => last.1 = to,
                _ if known => out.extend(self.affixes_apart(run, from, to)),
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
    fn affixes_apart(&self, run: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
        let word = &run[from..to];
        if let Some(rest) = word.strip_prefix(NOT).filter(|r| self.contains(r)) {
            return vec![(from, to - rest.len()), (to - rest.len(), to)];
        }
        for suffix in INTENSIFIERS {
            if let Some(stem) = word.strip_suffix(suffix).filter(|s| self.contains(s)) {
                return vec![(from, from + stem.len()), (from + stem.len(), to)];
            }
        }
        vec![(from, to)]
    }
}

/// Whether a word may end (and the next begin) at byte `i`: not before a mark or a following
/// vowel, and not after a leading vowel, which belong to their consonant.
fn cut_allowed(run: &str, i: usize) -> bool {
    if i == 0 || i == run.len() {
        return true;
    }
    if !run.is_char_boundary(i) {
        return false;
    }
    let next = run[i..].chars().next().expect("inside");
    let prev = run[..i].chars().next_back().expect("inside");
    let binds_back = matches!(next, '\u{0E30}' | '\u{0E31}' | '\u{0E32}' | '\u{0E33}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E45}' | '\u{0E47}'..='\u{0E4E}');
    let binds_forward = matches!(prev, '\u{0E40}'..='\u{0E44}');
    !binds_back && !binds_forward
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
        // A mark never starts a word.
        for (s, _) in spans {
            assert!(cut_allowed(text, s), "{text} cut at {s}");
        }
    }
}

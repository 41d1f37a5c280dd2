//! Discovered phrases: runs of one to three words that set detractors (or promoters) apart
//! from everyone else, scored by weighted log-odds (hark-core's `log_odds_z`).

use hark_core::Segment;
use hark_core::drivers::log_odds_z;
use rustc_hash::FxHashMap;

use crate::{Lang, Token};

/// The longest phrase counted, in words.
pub const MAX_WORDS: usize = 3;

/// Phrase counts per segment over a set of comments; each comment counts a phrase once.
/// Each language keeps its own: "problema" and "problem" share a stem, not a phrase.
#[derive(Default)]
pub struct PhraseTally {
    phrases: [FxHashMap<String, Counted>; 4],
    /// Phrase occurrences per segment (detractor, passive, promoter).
    totals: [u64; 3],
    /// Comments added so far, the last one's number.
    comments: u32,
    /// Each phrase as first written, one after the other: one text grows, not one per phrase.
    shown: String,
}

#[derive(Default)]
struct Counted {
    by_segment: [u64; 3],
    /// Where the phrase as first written is in [`PhraseTally::shown`].
    shown: (u32, u32),
    /// The number of the last comment that used it (0: none yet): each counts it once.
    last_comment: u32,
}

/// A phrase that one segment uses far more than the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Standout {
    /// Normalised terms: what a theme term made from it would match.
    pub key: String,
    /// The language of the comments it was counted in.
    pub lang: Lang,
    /// As a customer wrote it.
    pub shown: String,
    /// Words a text search finds every comment it was counted in by (see [`search_words`]).
    pub search: String,
    /// Comments of the segment that use it, and of all segments.
    pub in_segment: u64,
    pub everywhere: u64,
    /// Weighted log-odds z-score: above 1.96 the segment's own beyond chance.
    pub z: f64,
}

fn slot(segment: Segment) -> usize {
    match segment {
        Segment::Detractor => 0,
        Segment::Passive => 1,
        Segment::Promoter => 2,
    }
}

impl PhraseTally {
    /// Counts the phrases of one comment (`tokens` of `text`, in `lang`) under `segment`.
    pub fn add(&mut self, text: &str, tokens: &[Token], segment: Segment, lang: Lang) {
        self.comments += 1;
        let (comment, slot) = (self.comments, slot(segment));
        let phrases = &mut self.phrases[lang.index()];
        // The page tallies thousands of comments on each request: a phrase seen before costs
        // one look-up, and nothing is allocated for it.
        for_each_phrase(tokens, |key, (start, end)| {
            let counted = match phrases.get_mut(key) {
                Some(counted) if counted.last_comment == comment => return,
                Some(counted) => counted,
                None => {
                    let at = self.shown.len() as u32;
                    self.shown.push_str(&text[start..end]);
                    let shown = (at, self.shown.len() as u32);
                    phrases.entry(key.to_owned()).or_insert(Counted { shown, ..Counted::default() })
                }
            };
            counted.last_comment = comment;
            counted.by_segment[slot] += 1;
            self.totals[slot] += 1;
        });
    }

    /// The phrases `segment` uses most beyond the others, at least `min_count` times in it,
    /// strongest first.
    pub fn standouts(&self, segment: Segment, min_count: u64, limit: usize) -> Vec<Standout> {
        let group_total = self.totals[slot(segment)] as f64;
        let all_total: u64 = self.totals.iter().sum();
        let rest_total = all_total as f64 - group_total;
        let mut out: Vec<Standout> = Lang::ALL
            .into_iter()
            .flat_map(|lang| self.phrases[lang.index()].iter().map(move |(key, c)| (lang, key, c)))
            .filter(|(_, _, c)| c.by_segment[slot(segment)] >= min_count)
            .map(|(lang, key, c)| {
                let in_group = c.by_segment[slot(segment)];
                let everywhere: u64 = c.by_segment.iter().sum();
                // The prior: the phrase's pooled rate, over a tenth of the corpus's weight.
                let prior_total = all_total as f64 / 10.0;
                let prior = prior_total * everywhere as f64 / all_total as f64;
                let z = log_odds_z(
                    in_group as f64,
                    group_total,
                    (everywhere - in_group) as f64,
                    rest_total,
                    prior,
                    prior_total,
                );
                let shown = self.shown[c.shown.0 as usize..c.shown.1 as usize].to_owned();
                // Made below, for the few phrases kept.
                let search = String::new();
                Standout { key: key.clone(), lang, shown, search, in_segment: in_group, everywhere, z }
            })
            // A phrase in every comment has no odds against the rest (NaN): nothing to say.
            .filter(|s| s.z.is_finite() && s.z > 0.0)
            .collect();
        let words = |s: &Standout| s.key.split(' ').count();
        out.sort_by(|a, b| {
            b.z.total_cmp(&a.z)
                .then_with(|| words(b).cmp(&words(a)))
                .then_with(|| a.key.cmp(&b.key))
                .then_with(|| a.lang.cmp(&b.lang))
        });
        // Parts of one sentence come out together ("took", "30 minutes", "took 30 minutes"):
        // a phrase inside or around one already offered, used about as often, adds nothing.
        let mut kept: Vec<Standout> = Vec::with_capacity(limit);
        for s in out {
            if kept.len() == limit {
                break;
            }
            if !kept.iter().any(|k| {
                k.lang == s.lang
                    && overlaps(&k.key, &s.key)
                    && k.in_segment.min(s.in_segment) * 5 >= k.in_segment.max(s.in_segment) * 4
            }) {
                kept.push(s);
            }
        }
        for s in &mut kept {
            s.search = search_words(&s.key, &s.shown, s.lang);
        }
        kept
    }
}

/// The words that find every comment a phrase was counted in, with a search for each word
/// anywhere in the text. Korean writes a particle on the noun, and counts the phrase without
/// it: 배송이 늦어요, then 배송은 늦어요, are one phrase, found by 배송 늦어요; as first written it
/// found only the first kind. Elsewhere the words as first written: a stem ("servic") would
/// read as a typo, and the forms of a word that a stem joins are fewer.
fn search_words(key: &str, shown: &str, lang: Lang) -> String {
    // Lower case, as the search compares: a term folded otherwise (ㅋㅋㅋ is ᄏᄏ) is not found.
    let written = shown.to_lowercase();
    if lang == Lang::Ko && key.split(' ').all(|term| written.contains(term)) {
        key.to_owned()
    } else {
        shown.to_owned()
    }
}

/// Whether one phrase's words run inside the other's.
fn overlaps(a: &str, b: &str) -> bool {
    let (a, b) = (format!(" {a} "), format!(" {b} "));
    a.contains(&b) || b.contains(&a)
}

/// The phrases of a comment: keys and byte spans. A phrase is one to three consecutive words
/// that are not stop words; a negated word keys as "not <term>" and its span takes in the
/// negator, so "never arrived" and "arrived" stay apart.
pub fn phrases(tokens: &[Token]) -> Vec<(String, (usize, usize))> {
    let mut out = Vec::new();
    for_each_phrase(tokens, |key, span| out.push((key.to_owned(), span)));
    out
}

/// Calls `found` with the key and span of each of [`phrases`], without allocating them.
fn for_each_phrase(tokens: &[Token], mut found: impl FnMut(&str, (usize, usize))) {
    let mut key = String::new();
    for start in 0..tokens.len() {
        if tokens[start].negator {
            continue;
        }
        key.clear();
        // A negator inside a phrase is kept as the "not" of the word it negates.
        let words = tokens[start..].iter().filter(|t| !t.negator);
        for (len, token) in words.take(MAX_WORDS).enumerate() {
            // A stray letter (a Thai fragment the word list does not know) is no phrase.
            if token.stop
                || token.clause != tokens[start].clause
                || (token.word.chars().count() == 1 && !token.word.chars().all(is_hangul))
            {
                break;
            }
            if len > 0 {
                key.push(' ');
            }
            if token.negated {
                key.push_str("not ");
            }
            key.push_str(&token.term);
            let first = &tokens[start];
            let from = if first.negated { negator_start(tokens, start) } else { first.start };
            found(&key, (from, token.end));
        }
    }
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// Where the negator of the negated word at `at` begins.
fn negator_start(tokens: &[Token], at: usize) -> usize {
    tokens[..at]
        .iter()
        .rev()
        .take(crate::words::NEGATION_REACH)
        .find(|t| t.negator)
        .map_or(tokens[at].start, |t| t.start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lang, Words};

    fn tally(rows: &[(&str, Segment)], lang: Lang) -> PhraseTally {
        let mut t = PhraseTally::default();
        for (text, segment) in rows {
            t.add(text, &Words::shared().tokens(text, lang), *segment, lang);
        }
        t
    }

    #[test]
    fn phrases_skip_stop_words_and_keep_negation() {
        let text = "The parcel never arrived";
        let keys: Vec<(String, &str)> =
            phrases(&Words::shared().tokens(text, Lang::En)).into_iter().map(|(k, (s, e))| (k, &text[s..e])).collect();
        assert!(keys.contains(&("parcel".into(), "parcel")), "{keys:?}");
        assert!(keys.contains(&("not arriv".into(), "never arrived")), "{keys:?}");
        assert!(keys.contains(&("parcel not arriv".into(), "parcel never arrived")), "{keys:?}");
        assert!(!keys.iter().any(|(k, _)| k.starts_with("the")), "{keys:?}");
        // Punctuation ends a phrase.
        let text = "Thanks, great service";
        let keys: Vec<&str> =
            phrases(&Words::shared().tokens(text, Lang::En)).into_iter().map(|(_, (s, e))| &text[s..e]).collect();
        assert_eq!(keys, ["Thanks", "great", "great service", "service"]);
    }

    #[test]
    fn a_detractors_phrase_stands_out_and_a_shared_one_does_not() {
        use Segment::*;
        let mut rows = Vec::new();
        for _ in 0..20 {
            rows.push(("late delivery again, the shop is fine", Detractor));
            rows.push(("the shop is fine and friendly", Promoter));
            rows.push(("the shop is fine", Passive));
        }
        let t = tally(&rows, Lang::En);
        let top = t.standouts(Detractor, 5, 10);
        assert_eq!(top[0].in_segment, 20);
        assert!(top.iter().any(|s| s.shown == "late delivery"), "{top:?}");
        assert!(!top.iter().any(|s| s.key == "shop"), "{top:?}");
        assert!(t.standouts(Promoter, 5, 10).iter().any(|s| s.shown == "friendly"));
    }

    /// "problema" and "problem" share a stem: counted together, the Italian promoters' phrase
    /// took in the English detractors' comments, and its link listed half of what it counted.
    #[test]
    fn each_language_counts_its_own_phrases() {
        use Segment::*;
        let mut t = PhraseTally::default();
        for _ in 0..10 {
            // One word each, so that no longer phrase holds it.
            for (text, segment, lang) in
                [("Problema?", Promoter, Lang::It), ("Problem.", Detractor, Lang::En), ("Bene", Passive, Lang::It)]
            {
                t.add(text, &Words::shared().tokens(text, lang), segment, lang);
            }
        }
        let promoters = t.standouts(Promoter, 5, 10);
        let problema = promoters.iter().find(|s| s.shown == "Problema").expect("Problema stands out");
        assert_eq!((problema.lang, problema.in_segment, problema.everywhere), (Lang::It, 10, 10));
        let detractors = t.standouts(Detractor, 5, 10);
        let problem = detractors.iter().find(|s| s.shown == "Problem").expect("Problem stands out");
        assert_eq!((problem.lang, problem.in_segment, problem.everywhere), (Lang::En, 10, 10));
    }

    /// The search a Korean phrase links to finds every comment it was counted in, whatever
    /// particle each wrote on the noun; elsewhere it is the phrase as first written.
    #[test]
    fn a_korean_phrase_is_searched_without_its_particles() {
        use Segment::*;
        let t = tally(&[("배송이 늦어요", Detractor), ("배송은 늦어요", Detractor), ("좋아요", Promoter)], Lang::Ko);
        let late = t.standouts(Detractor, 2, 10).into_iter().find(|s| s.in_segment == 2).expect("a phrase of both");
        assert_eq!((late.shown.as_str(), late.search.as_str()), ("배송이 늦어요", "배송 늦어요"));
        let t = tally(&[("Slow service", Detractor), ("slow services", Detractor), ("fine", Promoter)], Lang::En);
        let slow = t.standouts(Detractor, 2, 10).into_iter().find(|s| s.key == "slow servic").expect("slow service");
        assert_eq!(slow.search, "Slow service");
    }

    #[test]
    fn a_comment_counts_each_phrase_once_and_shows_it_as_first_written() {
        use Segment::*;
        let t = tally(
            &[("Slow, slow and SLOW again", Detractor), ("slow", Detractor), ("fine", Promoter), ("fine", Passive)],
            Lang::En,
        );
        let slow = t.standouts(Detractor, 1, 10).into_iter().find(|s| s.key == "slow").expect("slow stands out");
        assert_eq!((slow.in_segment, slow.everywhere, slow.shown.as_str()), (2, 2, "Slow"));
    }

    #[test]
    fn the_parts_of_one_sentence_come_out_once() {
        use Segment::*;
        let mut rows = Vec::new();
        for _ in 0..10 {
            rows.push(("on hold for forty minutes", Detractor));
            rows.push(("the shop is fine", Promoter));
        }
        let t = tally(&rows, Lang::En);
        let top: Vec<String> = t.standouts(Detractor, 5, 10).into_iter().map(|s| s.shown).collect();
        // "forty" and "minutes" are inside "forty minutes", as often; "hold" ("for" cuts it off)
        // is a phrase of its own.
        assert_eq!(top, ["forty minutes", "hold"], "{top:?}");
    }
}

//! Sentiment from per-language lexicons (`data/sentiment/<lang>.json`, word → −3 … +3), with
//! negation, intensifiers and contrast, after the rules of VADER (Hutto & Gilbert 2014).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::terms::TermIndex;
use crate::words::{Rules, read_as_one};
use crate::{Lang, Token, Words};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

impl SentimentLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }
}

/// A comment's sentiment: its label and a score from −1 (all negative) to +1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sentiment {
    pub label: SentimentLabel,
    pub score: f64,
}

/// A negated word counts against itself, a little less strongly ("not bad" is not "good").
const NEGATED: f64 = -0.74;
/// After "but", what follows weighs more than what came before.
const BEFORE_CONTRAST: f64 = 0.5;
const AFTER_CONTRAST: f64 = 1.5;
/// Normalises a sum of word scores into −1 … +1: s / √(s² + α).
const ALPHA: f64 = 15.0;
/// Scores within this of zero are neutral.
const NEUTRAL_BAND: f64 = 0.05;
/// A comment leans only when its words sum to at least this × √(its content words): one
/// word of ±2 decides up to 44 words, one of ±1 up to 11.
const LEAN_PER_WORD: f64 = 0.3;
/// How many words back a question particle reaches: ดี|ไหม, ใช้|ดี|ไหม, ดี|มาก|ไหม.
const QUESTION_REACH: usize = 2;

/// What one word does to its comment's sentiment, worked out once per word by
/// [`Lexicons::sway`] and kept with the word's reading (see `Words::read_piece`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Sway {
    /// A question particle (ไหม): takes back what was just said.
    Question,
    /// "but", "ma", "하지만": what follows weighs more.
    Contrast,
    /// "very": multiplies the next word (in Thai, the word before).
    Intensifier(f64),
    /// "too", "troppo", เกินไป: an intensifier that also makes a complaint of the plain word it
    /// reaches (see `Rules::excess`).
    TooMuch(f64),
    /// Any other word, with its value in the lexicon (0: not there).
    Word(f64),
    /// A word of what a customer expects (see `Rules::expected`), with its value: negated,
    /// it counts as [`MISSED`] instead of its value turned around.
    Expected(f64),
    /// A word that says a problem was dealt with (see `Rules::resolving`): expected too.
    Resolving(f64),
    /// A problem named (see `Rules::problems`), with its value: nothing where it was resolved.
    Problem(f64),
    /// A word that may end a listed pair (들어요 of 마음에 들어요), with its own value: where
    /// the pair's first word stands before it, [`Lexicons::read_pairs`] gives it the pair's.
    EndsPair(f64),
}

impl Sway {
    /// The value of a plain word, whether or not it may end a listed pair: the rules that look
    /// for a plain word ("too big", 아깝다) must not miss one that a pair also ends ("too short",
    /// once "fell short" is listed).
    pub(crate) fn plain(self) -> Option<f64> {
        match self {
            Sway::Word(value) | Sway::EndsPair(value) => Some(value),
            _ => None,
        }
    }
}

/// The forms of a Korean stem that do not begin with it, as matching is by prefix:
/// - A stem ending in ㅂ conjugates with 우 in its place (ㅂ-irregular): 아름답다 is 아름다워요,
///   아름다웠다, 아름다운, and the noun 아름다움; 부드럽다 is 부드러워요. A regular stem
///   (답답하다) gets forms that no one writes, and so match nothing.
/// - A stem ending in a vowel makes its noun with a final ㅁ, the way reviews are written:
///   빠르다 is 빠름 (배송 빠름, fast delivery), 편하다 is 편함, 나쁘다 is 나쁨.
fn korean_forms(stem: &str) -> Vec<String> {
    const HANGUL: std::ops::RangeInclusive<u32> = 0xAC00..=0xD7A3;
    /// The places of the finals ㅁ and ㅂ among a syllable's 28.
    const FINAL_M: u32 = 16;
    const FINAL_B: u32 = 17;
    let Some(last) = stem.chars().next_back().filter(|c| HANGUL.contains(&u32::from(*c))) else { return Vec::new() };
    let head = &stem[..stem.len() - last.len_utf8()];
    let syllable = |code: u32| char::from_u32(code).expect("a Hangul syllable");
    match (u32::from(last) - HANGUL.start()) % 28 {
        0 => vec![format!("{head}{}", syllable(u32::from(last) + FINAL_M))],
        FINAL_B => {
            let base = format!("{head}{}", syllable(u32::from(last) - FINAL_B));
            ["워", "웠", "운", "울", "우", "움"].iter().map(|ending| format!("{base}{ending}")).collect()
        }
        _ => Vec::new(),
    }
}

/// The value of an Italian superlative's base (velocissim → veloc), made stronger, as
/// the listed ones are (bellissimo 3, bello 2). A participle's base is stemmed as its plain
/// form: consigliatissimo is consigliato (consigl), more so.
fn superlative(lexicon: &TermIndex<f64>, term: &str) -> Option<f64> {
    let base = &term[..term.find("issim")?];
    let value = lexicon.exact(base).or_else(|| lexicon.exact(&Words::shared().term(&format!("{base}o"), Lang::It)));
    value.map(|v| (v * 1.5).clamp(-3.0, 3.0))
}

/// The word lists of `Rules` that change how a word counts (see [`Sway`]).
#[derive(Clone, Copy)]
enum Kind {
    Expected,
    Resolving,
    Problem,
}

/// What an expected thing that did not happen counts: as much as a plain complaint.
const MISSED: f64 = -2.0;

pub(crate) struct Lexicons {
    words: [TermIndex<f64>; 4],
    /// Each language's expected, resolving and problem words by term, looked up once for
    /// every word read.
    kinds: [FxHashMap<String, Kind>; 4],
    /// Expected verbs listed with their particle ("show up": see [`Lexicons::read_phrasal`]),
    /// by the verb's term.
    phrasal: [FxHashMap<String, String>; 4],
    /// Emoticons and emoji, listed with the words: what a smile says differs by language (in
    /// Thai posts ^^ is politeness, from a shop or an advert, not praise).
    signs: [Vec<(String, f64)>; 4],
    /// Each language's words matched as written (see `Rules::unstemmed`), and the words of
    /// its borrowed lexicons (see [`sources`]), with their values.
    unstemmed: [FxHashMap<String, f64>; 4],
    /// Two words that say more together than apart, listed with a space: 마음에 들어요 (I
    /// like it), "on hold". By their terms, the first's leading to the second's; the value
    /// goes to the second word.
    pairs: [FxHashMap<String, Vec<(String, f64)>>; 4],
    /// The second words of the pairs: every word read is asked whether it is one.
    pair_ends: [TermIndex<()>; 4],
}

impl Lexicons {
    /// Built with `Words::term`, never `Words::tokens`: reading a token asks these lexicons
    /// for its [`Sway`], which would wait on this very initialisation.
    pub fn shared() -> &'static Lexicons {
        static LEXICONS: OnceLock<Lexicons> = OnceLock::new();
        LEXICONS.get_or_init(|| {
            let words = Words::shared();
            let mut signs: [Vec<(String, f64)>; 4] = Default::default();
            let mut pairs: [FxHashMap<String, Vec<(String, f64)>>; 4] = Default::default();
            let mut unstemmed: [FxHashMap<String, f64>; 4] = Default::default();
            let lexicons = Lang::ALL.map(|lang| {
                let path = format!("data/sentiment/{}.json", lang.tag());
                let [written, borrowed @ ..] = sources(lang) else { unreachable!("every language has its file") };
                let file = parse(lang, written);
                let (listed_signs, listed_words): (BTreeMap<_, _>, BTreeMap<_, _>) =
                    file.into_iter().partition(|(w, _)| !w.chars().any(char::is_alphanumeric));
                let (listed_pairs, listed_words): (BTreeMap<_, _>, BTreeMap<_, _>) =
                    listed_words.into_iter().partition(|(w, _)| w.contains(' '));
                let rules = words.rules(lang);
                let (as_written, listed_words): (BTreeMap<_, _>, BTreeMap<_, _>) =
                    listed_words.into_iter().partition(|(w, _)| rules.unstemmed.contains(&crate::words::fold(w, lang)));
                // A borrowed lexicon lists each form of a word (amazed, amazes): matched as
                // written, its words leave alone the plain words they stem to (openness, open).
                let borrowed = borrowed.iter().flat_map(|source| parse(lang, source));
                unstemmed[lang.index()] = as_written.into_iter().chain(borrowed).collect();
                signs[lang.index()] = checked_signs(&path, listed_signs);
                let term = |word: &str| words.term(&crate::words::fold(word, lang), lang);
                for (pair, value) in listed_pairs {
                    let [first, second] = pair.split(' ').collect::<Vec<_>>()[..] else {
                        panic!("{path}: {pair:?} is not two words")
                    };
                    pairs[lang.index()].entry(term(first)).or_default().push((term(second), value));
                }
                let mut index = TermIndex::new(lang);
                let listed: Vec<(String, f64)> = read_as_one(&path, listed_words, term).collect();
                for (term, score) in &listed {
                    index.entry(term.clone()).or_insert(*score);
                }
                // Listed forms first: a conjugated form never overrides one.
                for (term, score) in listed.iter().filter(|_| lang == Lang::Ko) {
                    for form in korean_forms(term) {
                        index.entry(form).or_insert(*score);
                    }
                }
                index
            });
            let mut phrasal: [FxHashMap<String, String>; 4] = Default::default();
            let kinds = Lang::ALL.map(|lang| {
                let rules = words.rules(lang);
                for (verb, particle) in rules.expected.iter().filter_map(|w| w.split_once(' ')) {
                    phrasal[lang.index()].insert(words.term(verb, lang), particle.to_owned());
                }
                // A resolving word that is also listed as expected stays resolving: added last.
                [
                    (&rules.problems, Kind::Problem),
                    (&rules.expected, Kind::Expected),
                    (&rules.resolving, Kind::Resolving),
                ]
                .into_iter()
                .flat_map(|(list, kind)| {
                    list.iter().map(move |w| (words.term(w.split(' ').next().unwrap_or(w), lang), kind))
                })
                .collect()
            });
            let pair_ends = Lang::ALL.map(|lang| {
                let mut ends = TermIndex::new(lang);
                for (second, _) in pairs[lang.index()].values().flatten() {
                    ends.entry(second.clone()).or_insert(());
                }
                ends
            });
            Lexicons { words: lexicons, kinds, phrasal, signs, pairs, pair_ends, unstemmed }
        })
    }

    /// What a folded `word`, read as `term`, does to a comment's sentiment in `lang`. A stop
    /// word counts only as listed (Korean ㅋㅋ, laughter) or expected ("again"); other words by
    /// their stem or, in Korean, every stem inside them.
    pub(crate) fn sway(&self, rules: &Rules, word: &str, term: &str, negator: bool, stop: bool, lang: Lang) -> Sway {
        let lexicon = &self.words[lang.index()];
        if rules.questions.contains(word) {
            Sway::Question
        } else if rules.contrast.contains(word) {
            Sway::Contrast
        } else if let Some(k) = rules.intensifiers.get(word) {
            if rules.excess.contains(word) { Sway::TooMuch(*k) } else { Sway::Intensifier(*k) }
        } else if negator {
            Sway::Word(0.0)
        } else if stop {
            // "again" is a stop word, but "never again" is no passing word.
            self.kind(term, lexicon.exact(term).copied().unwrap_or(0.0), lang)
        } else {
            let value = match lang {
                _ if let Some(value) = self.unstemmed[lang.index()].get(word) => *value,
                Lang::Ko => lexicon
                    .within(word, &rules.start_only)
                    .into_iter()
                    // A stem with 없 (none) glued on is said not to be there, as with a space
                    // between: 불만없어요 (no complaints), 파손없이 (without damage).
                    .map(|(end, value)| if word[end..].starts_with('없') { value * NEGATED } else { *value })
                    .sum(),
                // Italian says "very" inside the word: velocissima is veloce, more so.
                Lang::It => lexicon.longest(term).copied().or_else(|| superlative(lexicon, term)).unwrap_or(0.0),
                _ => lexicon.longest(term).copied().unwrap_or(0.0),
            };
            self.kind(term, value, lang)
        }
    }

    /// Gives the second word of each listed pair in `tokens` the pair's value. Between the
    /// two may stand what acts on the second: a negator or an intensifier (마음에 안 들어요,
    /// 맘에 정말 들어요), or an article, possessive, pronoun or copula ("over the moon", "let me down",
    /// "superato le mie aspettative").
    pub(crate) fn read_pairs(&self, tokens: &mut [Token], lang: Lang) {
        let (pairs, lexicon) = (&self.pairs[lang.index()], &self.words[lang.index()]);
        let rules = Words::shared().rules(lang);
        for at in 1..tokens.len() {
            let (before, [second, ..]) = tokens.split_at_mut(at) else { continue };
            if !matches!(second.sway, Sway::EndsPair(_)) {
                continue;
            }
            let first = before.iter_mut().rev().take(3).take_while(|t| t.clause == second.clause).find(|t| {
                !t.negator
                    && !matches!(t.sway, Sway::Intensifier(_) | Sway::TooMuch(_))
                    && !rules.passes_over(&t.word, false)
            });
            let Some(first) = first else { continue };
            if let Some((_, value)) =
                pairs.get(&*first.term).and_then(|ends| ends.iter().find(|(b, _)| lexicon.matches(&second.term, b)))
            {
                // The pair says it for both: the first word's own value (만족 inside 만족도,
                // satisfaction, in 만족도가 낮아요) does not count beside it.
                first.sway = Sway::Word(0.0);
                second.sway = Sway::Word(*value);
            }
        }
    }

    /// An expected verb listed with its particle ("show up", "pick up") is expected only with it
    /// or said last: "the courier never showed up", "the technician didn't show.", "nobody
    /// picked up". Followed by anything else in its clause it is a plain word, with its own
    /// value: "it doesn't show much cleavage" is no complaint, "the noise bothered me" one.
    pub(crate) fn read_phrasal(&self, tokens: &mut [Token], lang: Lang) {
        let phrasal = &self.phrasal[lang.index()];
        if phrasal.is_empty() {
            return;
        }
        for at in 0..tokens.len() {
            let verb = &tokens[at];
            let Sway::Expected(value) = verb.sway else { continue };
            let Some(particle) = phrasal.get(&*verb.term) else { continue };
            if tokens.get(at + 1).is_some_and(|next| next.clause == verb.clause && *next.word != **particle) {
                tokens[at].sway = Sway::Word(value);
            }
        }
    }

    /// Whether `word` (folded) begins with a word of the lexicon of `lang`, or the second
    /// word of a pair.
    pub(crate) fn begins_with_word(&self, word: &str, lang: Lang) -> bool {
        self.words[lang.index()].longest(word).is_some() || self.ends_a_pair(word, lang)
    }

    /// The length of the lexicon word of `lang` that `word` (folded) begins with, if any.
    pub(crate) fn leading_word_len(&self, word: &str, lang: Lang) -> Option<usize> {
        self.words[lang.index()].longest_with_len(word).map(|(len, _)| len)
    }

    /// Which of the rules' word lists `term` is in. A Korean verb is listed by its stem and
    /// written with an ending: 받 (answer the phone) is 받아요, 받았어요. Its starts are tried,
    /// longest first.
    fn kind_of(&self, term: &str, lang: Lang) -> Option<Kind> {
        let kinds = &self.kinds[lang.index()];
        match lang {
            Lang::Ko => term.char_indices().rev().find_map(|(end, c)| kinds.get(&term[..end + c.len_utf8()])).copied(),
            _ => kinds.get(term).copied(),
        }
    }

    /// Whether Korean `word` (folded) begins with a verb of what is expected: 받았어요 (받,
    /// received), 도착했어요.
    pub(crate) fn begins_expected_in_korean(&self, word: &str) -> bool {
        matches!(self.kind_of(word, Lang::Ko), Some(Kind::Expected))
    }

    /// Whether `term` may be the second word of a listed pair.
    fn ends_a_pair(&self, term: &str, lang: Lang) -> bool {
        self.pair_ends[lang.index()].longest(term).is_some()
    }

    /// A word's value, as the kind of word `term` is.
    fn kind(&self, term: &str, value: f64, lang: Lang) -> Sway {
        match self.kind_of(term, lang) {
            Some(Kind::Resolving) => Sway::Resolving(value),
            Some(Kind::Expected) => Sway::Expected(value),
            Some(Kind::Problem) => Sway::Problem(value),
            None if self.ends_a_pair(term, lang) => Sway::EndsPair(value),
            None => Sway::Word(value),
        }
    }

    /// The sum of the emoticons and emoji in `text`. They are not words, so they are found in
    /// the text itself, in one pass: only where a byte can begin one are the signs tried.
    fn signs_in(&self, text: &str, lang: Lang) -> f64 {
        let signs = &self.signs[lang.index()];
        let (mut sum, mut at) = (0.0, 0);
        while let Some(found) = text.as_bytes()[at..].iter().position(|b| BEGINS_SIGN[usize::from(*b)]) {
            // A byte that may begin a sign is ASCII or a lead byte: a character boundary.
            let rest = &text[at + found..];
            match signs.iter().find(|(sign, _)| rest.starts_with(sign.as_str())) {
                Some((sign, value)) => (sum, at) = (sum + value, at + found + sign.len()),
                None => at += found + 1,
            }
        }
        sum
    }

    pub fn score(&self, text: &str, tokens: &[Token], lang: Lang) -> Sentiment {
        // Thai puts its intensifier after the word (ดีมาก); the others before (very good).
        let follows = lang == Lang::Th;
        // Each word's value, with where it stands (to be taken back by a question particle).
        let mut values: Vec<f64> = Vec::new();
        let mut places: Vec<(usize, u32)> = Vec::new();
        let mut contrast_at = None;
        let mut boost = 1.0;
        let mut boost_left = 0usize;
        // The clauses that say a problem was dealt with, and those that say it was not.
        let (resolved, unresolved): (Vec<&Token>, Vec<&Token>) =
            tokens.iter().filter(|t| matches!(t.sway, Sway::Resolving(_))).partition(|t| !t.negated);
        let in_any = |of: &[&Token], clause: u32| of.iter().any(|t| t.clause == clause);
        for (at, token) in tokens.iter().enumerate() {
            let (value, turns) = match token.sway {
                Sway::Question => {
                    for (v, (placed, clause)) in values.iter_mut().zip(&places) {
                        if *clause == token.clause && at - placed <= QUESTION_REACH {
                            *v = 0.0;
                        }
                    }
                    continue;
                }
                Sway::Contrast => {
                    contrast_at = Some(values.len());
                    continue;
                }
                Sway::Intensifier(k) | Sway::TooMuch(k) => {
                    if follows {
                        if let Some(last) = values.last_mut() {
                            *last *= k;
                        }
                    } else {
                        (boost, boost_left) = (k, 2);
                    }
                    continue;
                }
                // What was expected and did not happen is a complaint, not its word turned around.
                Sway::Expected(_) | Sway::Resolving(_) if token.negated => (MISSED, false),
                // "Fixed the issue": the issue is no complaint. "Did not fix the issue": the
                // issue stands, though "not" reaches it.
                Sway::Problem(_) if !token.negated && in_any(&resolved, token.clause) => (0.0, true),
                Sway::Problem(value) if in_any(&unresolved, token.clause) => (value, false),
                Sway::Word(value)
                | Sway::EndsPair(value)
                | Sway::Expected(value)
                | Sway::Resolving(value)
                | Sway::Problem(value) => (value, true),
            };
            if value == 0.0 {
                if !token.stop {
                    boost_left = boost_left.saturating_sub(1);
                }
                continue;
            }
            let mut value = if boost_left > 0 { value * boost } else { value };
            boost_left = 0;
            if token.negated && turns {
                value *= NEGATED;
            }
            values.push(value);
            places.push((at, token.clause));
        }
        // A "but" with nothing after it that counts (조금 뻔하지만, said last) weighs nothing.
        if let Some(at) = contrast_at.filter(|&at| at < values.len()) {
            for (i, v) in values.iter_mut().enumerate() {
                *v *= if i < at { BEFORE_CONTRAST } else { AFTER_CONTRAST };
            }
        }
        let sum: f64 = values.iter().sum::<f64>() + self.signs_in(text, lang);
        let score = sum / (sum * sum + ALPHA).sqrt();
        // The evidence must also grow with the text: one mild word in a long post about
        // something else (an offer, a piece of news, a question) does not make it lean.
        let lean = LEAN_PER_WORD * (tokens.iter().filter(|t| !t.stop).count() as f64).sqrt();
        let label = if score >= NEUTRAL_BAND && sum >= lean {
            SentimentLabel::Positive
        } else if score <= -NEUTRAL_BAND && sum <= -lean {
            SentimentLabel::Negative
        } else {
            SentimentLabel::Neutral
        };
        Sentiment { label, score }
    }
}

/// Whether a sign can begin with this byte: ^ : ; = or the first byte of ♥, ❤ and ♡ (E2)
/// or of an emoji (F0).
const fn may_begin_sign(byte: u8) -> bool {
    matches!(byte, b'^' | b':' | b';' | b'=' | 0xE2 | 0xF0)
}

/// [`may_begin_sign`] by byte: every byte of every comment is asked, and a table answers in
/// one load.
const BEGINS_SIGN: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = may_begin_sign(byte as u8);
        byte += 1;
    }
    table
};

/// The signs of a lexicon (entries without a letter or digit): none inside another, so that
/// none is counted twice, and each begins with a byte [`Lexicons::signs_in`] looks for.
fn checked_signs(path: &str, signs: BTreeMap<String, f64>) -> Vec<(String, f64)> {
    for a in signs.keys() {
        if let Some(b) = signs.keys().find(|b| *b != a && b.contains(a.as_str())) {
            panic!("{path}: {a} is inside {b}, and would be counted twice");
        }
        assert!(may_begin_sign(a.as_bytes()[0]), "{path}: {a} begins with a byte not looked for");
    }
    signs.into_iter().collect()
}

/// A language's lexicon files: the hand-written one, then any borrowed, whose words are
/// matched only as written. English borrows the rest of VADER's lexicon (see
/// `data/from_vader.py`, which leaves out what the hand-written file has).
pub(crate) fn sources(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::En => &[include_str!("../data/sentiment/en.json"), include_str!("../data/sentiment/en_vader.json")],
        Lang::Ko => &[include_str!("../data/sentiment/ko.json")],
        Lang::It => &[include_str!("../data/sentiment/it.json")],
        Lang::Th => &[include_str!("../data/sentiment/th.json")],
    }
}

fn parse(lang: Lang, source: &str) -> BTreeMap<String, f64> {
    serde_json::from_str(source).unwrap_or_else(|e| panic!("data/sentiment/{}*.json: {e}", lang.tag()))
}

/// A language's lexicon: every entry of its files (see [`sources`]; a borrowed file lists no
/// word of the written one, which a test holds).
pub(crate) fn listed(lang: Lang) -> BTreeMap<String, f64> {
    sources(lang).iter().flat_map(|source| parse(lang, source)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    fn label(text: &str) -> SentimentLabel {
        Analyzer::builtin().analyze(text, None).sentiment.label
    }

    /// Each text is read as its label.
    fn reads(cases: &[(&str, SentimentLabel)]) {
        for (text, want) in cases {
            assert_eq!(label(text), *want, "{text}");
        }
    }

    #[test]
    fn each_language_reads_plain_praise_and_complaint() {
        use SentimentLabel::*;
        reads(&[
            ("Great service, very helpful staff", Positive),
            ("Terrible. The parcel arrived broken and nobody answered", Negative),
            ("Servizio ottimo, personale gentilissimo", Positive),
            ("Pessima esperienza, ordine mai arrivato", Negative),
            ("정말 최고예요 친절하고 빨라요", Positive),
            ("최악이에요 너무 지루하고 돈 아까워요", Negative),
            ("พนักงานบริการดีมาก ประทับใจ", Positive),
            ("แย่มาก ส่งช้า ผิดหวัง", Negative),
            ("I ordered on Tuesday", Neutral),
        ]);
    }

    /// What customers say of a service, beside the reviews the real sets hold: an app that
    /// hangs, a form that is a chore, a rip-off, staff who were considerate.
    #[test]
    fn service_words_lean_in_each_language() {
        use SentimentLabel::*;
        reads(&[
            ("The app keeps crashing", Negative),
            ("Nessuno mi ha richiamato", Negative),
            ("Mi sono trovato benissimo", Positive),
            ("Lo ricomprerei", Positive),
            ("Arrivato in anticipo", Positive),
            ("Qualità scadente", Negative),
            ("Soldi buttati", Negative),
            // A clitic pronoun (mi, ci) does not use up the reach of "non".
            ("Non mi sono trovato benissimo", Negative),
            ("Esperienza da dimenticare", Negative),
            ("Il solito disservizio", Negative),
            ("Tempi biblici", Negative),
            // Food delivered (배달): cold, too little, a hair, leaked, soggy; crispy, plenty.
            ("음식이 식어서 왔어요", Negative),
            ("양이 너무 적어요", Negative),
            ("양이 많아요", Positive),
            ("양이 적당해요", Positive),
            ("머리카락이 나왔어요", Negative),
            ("국물이 다 샜어요", Negative),
            ("눅눅해요", Negative),
            ("바삭바삭해요", Positive),
            ("สดใหม่", Positive),
            ("기다린 보람이 있어요", Positive),
            ("고객을 우롱하네요", Negative),
            ("Impossibile parlare con un operatore", Negative),
            ("Ho ricevuto un prodotto diverso", Negative),
            ("앱이 자꾸 꺼져요", Negative),
            // ไว (fast) is matched as written: ไว้ (to keep) begins with its letters.
            ("ส่งไวมาก", Positive),
            ("เก็บไว้ใช้", Neutral),
            ("รอสายนานมาก", Negative),
            ("Costi nascosti", Negative),
            ("Hidden fees", Negative),
            // aspettare (to wait) is matched as written: its stem begins aspettative.
            ("Sto ancora aspettando il rimborso", Negative),
            ("Meglio di quanto mi aspettavo", Positive),
            ("Avevo grandi aspettative", Neutral),
            // polite is matched as written: its stem begins politics.
            ("Politics aside", Neutral),
            ("They answered politely", Positive),
            // reso (a return) and caro (dear) in everyday phrases: I realised, kind regards.
            ("Mi sono reso conto tardi", Neutral),
            ("Cari saluti", Neutral),
            ("Prezzi cari", Negative),
            ("Il reso è stato lento", Negative),
            // Expectations met or not: a pair ("met my expectations"), which "not" turns.
            ("It did not meet my expectations", Negative),
            ("It was below expectations", Negative),
            ("It met my expectations", Positive),
            ("Sotto le aspettative", Negative),
            ("We'll meet you there", Neutral),
            // What was expected, or as expected, is a pair too (기대에 미치다, to meet
            // expectations; เหมือนรูป, like the picture); a subject pronoun stands inside it as
            // an object pronoun may, and does not use up the reach of "not".
            ("Not what I expected", Negative),
            ("Not as expected", Negative),
            ("Exactly what I expected", Positive),
            ("Works as expected", Positive),
            ("Didn't live up to expectations", Negative),
            ("Lived up to the hype", Positive),
            ("I don't think you will like it", Negative),
            ("Not sure we would recommend it", Negative),
            ("기대에 못 미쳐요", Negative),
            ("기대에 미치지 못했어요", Negative),
            ("기대에 못 미친 서비스", Negative),
            ("ไม่เหมือนในรูป", Negative),
            ("สินค้าเหมือนรูป", Positive),
            ("ต่ำกว่าที่คาดไว้", Negative),
            // all'altezza (up to it) as written: altezza alone is a height.
            ("Servizio non all'altezza", Negative),
            ("Personale all'altezza", Positive),
            ("Altezza 170 cm", Neutral),
            // What was not expected is what happened: the negation ends at "expect".
            ("I didn't expect to like it as much as I do", Positive),
            ("Didn't expect to love it", Positive),
            // "like" after anything or one compares and says nothing alone (it read
            // as "like" negated); "one" uses up the reach of "never" as any word does.
            ("I have never seen one like it", Neutral),
            ("Never seen anything like it", Neutral),
            ("Never had one as good as this", Positive),
            // Italian poco before a word is "not very" (it read as "a little" of it); un poco,
            // un po' (a little) is not, and poco reaches no further than the next word.
            ("Personale poco disponibile", Negative),
            ("Poco cortesi", Negative),
            ("Il personale è poco gentile e poco preparato", Negative),
            ("Un poco lento", Negative),
            ("Dopo poco si è rotto", Negative),
            // Price and billing: a Thai dictionary word that holds แพง (dear) or จืด (bland),
            // charged twice, a high price.
            ("ราคาแพงไปหน่อย", Negative),
            ("อาหารรสจืด", Negative),
            ("โดนเก็บเงินซ้ำ", Negative),
            ("중복결제 되었어요", Negative),
            ("Prezzo un po' alto", Negative),
            ("Prezzi alti", Negative),
            ("High prices", Negative),
            ("Il Po è un fiume", Neutral),
            // Nothing to fault is praise: the fault leans negative, and "not" turns it.
            ("Can't fault them", Positive),
            ("Couldn't fault the service", Positive),
            ("There is a fault with the boiler", Negative),
            ("My only fault with it is the price", Neutral),
            ("Nulla da eccepire", Positive),
            ("Non ho nulla da ridire", Positive),
            // เพราะ is "because" alone and "sweet-sounding" of speech: a pair with พูด.
            ("พนักงานพูดไม่เพราะ", Negative),
            ("พนักงานพูดเพราะมาก", Positive),
            ("ไม่ได้ไปเพราะฝนตก", Neutral),
            // Not bothering to do what was expected is a complaint; a plain "bothered" keeps
            // its own value, and "no bother" is praise.
            ("Nobody bothered to call me back", Negative),
            ("Nobody even bothered.", Negative),
            ("The noise bothered me", Negative),
            ("I wasn't bothered by the noise", Positive),
            ("No bother at all", Positive),
            // Made ill by the food.
            ("กินแล้วท้องเสีย", Negative),
            ("อาหารเป็นพิษ", Negative),
            ("먹고 배탈 났어요", Negative),
            ("식중독 걸렸어요", Negative),
            ("Intossicazione alimentare dopo la cena", Negative),
            // 평범 (ordinary) is no praise; 돈값 (worth the money), or not.
            ("평범해요", Neutral),
            ("돈값을 못해요", Negative),
            ("돈값 해요", Positive),
            ("상품 설명과 다름", Negative),
            ("사진이랑 똑같아요", Positive),
            ("쓸만해요", Positive),
            ("ของแตกมา", Negative),
            ("แตกต่างจากรูป", Neutral),
            ("เกินความคาดหมาย", Positive),
            ("โทรไม่ติด", Negative),
            ("I was promised a call back that never came", Negative),
            ("Fobbed off with excuses", Negative),
            ("The item is not as described", Negative),
            ("Poor value for money", Negative),
            ("Average at best", Negative),
            ("Over the moon with it", Positive),
            ("พนักงานหน้าบึ้ง", Negative),
            // ช่วย (to help) is expected, as "help" is.
            ("คอลเซ็นเตอร์ไม่ช่วยอะไรเลย", Negative),
            // Call centres.
            ("상담원분이 끝까지 책임지고 처리해 주셨어요", Positive),
            ("상담 대기가 너무 길어요", Negative),
            ("화가 나요", Negative),
            // Waiting long, or all of a length of time (이나); a length alone is no complaint,
            // nor is all of a count of anything else.
            ("오래 기다렸어요", Negative),
            ("대기 시간이 길어요", Negative),
            ("30분이나 기다렸어요", Negative),
            ("배송이 일주일이나 걸렸어요", Negative),
            ("한 시간이나 기다렸는데 사과도 없어요", Negative),
            ("답변이 며칠이나 걸려요", Negative),
            ("배송은 이틀 걸렸어요", Neutral),
            ("세 번이나 봤어요", Neutral),
            ("30분이나 기다렸지만 맛있어서 괜찮아요", Positive),
            // An apology is expected of whoever let the customer down; ignoring them is a
            // complaint, and so is a bill that came out higher.
            ("Nobody apologised", Negative),
            ("No apology whatsoever", Negative),
            ("They apologised and fixed it straight away", Positive),
            ("사과 한마디 없었어요", Negative),
            ("사과가 맛있어요", Positive),
            ("ไม่มีคำขอโทษเลย", Negative),
            ("Nessuna scusa", Negative),
            ("พนักงานไม่สนใจลูกค้า", Negative),
            ("สนใจสินค้าค่ะ", Neutral),
            ("Il personale ci ha ignorato", Negative),
            ("โดนเก็บเงินเกิน", Negative),
            // The visit or call back that was booked is expected too: the technician who
            // did not come (안 오셨어요, the polite form), ไม่มาตามนัด, ไม่มีใครโทรกลับ.
            ("기사님이 안 오셨어요", Negative),
            ("기사님이 오셨어요", Neutral),
            ("ช่างไม่มาตามนัด", Negative),
            ("นัดช่างวันเสาร์", Neutral),
            ("ไม่มีใครโทรกลับ", Negative),
            ("โทรไปสอบถามค่ะ", Neutral),
            ("Kept me updated the whole way", Positive),
            ("Mi hanno tenuto aggiornato", Positive),
            // A return named is a lesser complaint than the lexicons had it in Korean and
            // Italian (as in English): an easy return is praise.
            ("반품 절차가 간편했어요", Positive),
            ("반품했어요", Negative),
            ("Reso semplicissimo", Positive),
            ("Painless returns process", Positive),
            ("Toilets were filthy", Negative),
            // Praise and complaints said with a turn of phrase.
            ("Made my day", Positive),
            ("Sarah was an absolute star", Positive),
            ("You guys rock", Positive),
            ("Could do better", Negative),
            ("Left a lot to be desired", Negative),
            ("Below par", Negative),
            // A copula stands inside a pair and a negation's reach as an article does: "the
            // food was cold", "il cibo era freddo"; "not sure it was worth it".
            ("The food was cold", Negative),
            ("The beer was cold and the food great", Positive),
            ("Prices are high", Negative),
            ("Il cibo era freddo", Negative),
            ("Il prezzo è alto", Negative),
            ("Not sure it was worth it", Negative),
            ("None of that is an issue", Positive),
            ("흠잡을 데가 없어요", Positive),
            ("나무랄 데 없어요", Positive),
            ("좋은 데가 없어요", Negative),
            ("갈 데가 없어요", Neutral),
            ("역시 믿고 이용합니다", Positive),
            ("믿고 사는 브랜드", Positive),
            ("후기 믿고 사진 보고 주문했어요", Neutral),
            ("Lasciate perdere", Negative),
            // What the demo data says (crates/hark/src/demo.rs): charged twice, good but dear,
            // kind but slow to resolve.
            ("요금이 두 번 청구되었어요.", Negative),
            ("ถูกเรียกเก็บเงินซ้ำสองครั้ง", Negative),
            ("สินค้าดีแต่ราคาค่อนข้างสูง", Negative),
            ("ราคาสูงแต่คุ้มค่า", Positive),
            ("상담은 친절했지만 해결이 늦었어요.", Negative),
            ("พนักงานสุภาพแต่แก้ปัญหาช้า", Negative),
            ("해결이 빨랐어요", Positive),
            ("Kept giving me the runaround", Negative),
            ("The colours don't match", Negative),
            ("It matches my shoes", Neutral),
            ("La taglia non corrisponde", Negative),
            ("Corrisponde alla descrizione", Positive),
            // Apps and hotels.
            ("Very intuitive interface", Positive),
            ("App intuitiva", Positive),
            ("앱이 직관적이에요", Positive),
            ("Room was spotless", Positive),
            ("Colazione abbondante", Positive),
            ("방음이 안 돼요", Negative),
            ("체크인이 오래 걸렸어요", Negative),
            ("ห้องเสียงดัง", Negative),
            // "Warning" says nothing alone: "without" had turned it into praise.
            ("My bill doubled without warning", Neutral),
            ("Top-notch service", Positive),
            ("Went the extra mile", Positive),
            ("Spot on", Positive),
            ("A breeze to set up", Positive),
            ("No fuss", Positive),
            ("Felt let down", Negative),
            // An article, a possessive or a pronoun may stand inside a pair.
            ("They let me down", Negative),
            ("I was over the moon", Positive),
            ("The moon was bright", Neutral),
            ("Hanno superato le mie aspettative", Positive),
            ("Zero communication", Negative),
            ("Hassle-free returns", Positive),
            ("Exceeded my expectations", Positive),
            ("Fell short of expectations", Negative),
            ("Took ages to get through", Negative),
            ("Customer service is non-existent", Negative),
            // "short" ends a pair ("fell short"); "too short" is still more than wanted.
            ("They are too short", Negative),
            // 어울리다 (to suit), or not, glued to 안; 고작 (a mere …).
            ("얼굴에 어울려요", Positive),
            ("색이 안어울려요", Negative),
            ("고작 이 정도라니", Negative),
            ("Checkout is a hassle", Negative),
            ("The courier never showed up", Negative),
            ("The agent hung up on me", Negative),
            ("The product stopped working after a week", Negative),
            ("Impossible to reach anyone", Negative),
            ("Had to chase them for weeks", Negative),
            ("Delivery took forever", Negative),
            ("The app takes forever to load", Negative),
            ("Zero stars if I could", Negative),
            ("5 stars!", Positive),
            ("L'app si blocca continuamente", Negative),
            ("Mi hanno fregato", Negative),
            ("Assistenza inesistente", Negative),
            ("Prezzi onesti", Positive),
            ("Il pacco è arrivato aperto e mancava un pezzo", Negative),
            ("Ordine cancellato senza preavviso", Negative),
            ("Assistenza da incubo", Negative),
            ("La merce era scaduta", Negative),
            ("Mi hanno trattato con sufficienza", Negative),
            ("Il corriere non si è mai presentato", Negative),
            ("Sconsigliato", Negative),
            ("Ci torneremo sicuramente", Positive),
            ("Non torneremo più", Negative),
            ("Prodotto non conforme alla descrizione", Negative),
            ("Non male", Positive),
            ("สินค้าไม่ตรงตามที่สั่ง", Negative),
            ("รอนานมาก", Negative),
            ("ทาแล้วระคายเคือง", Negative),
            ("ได้ของหมดอายุ", Negative),
            ("สินค้าปลอม", Negative),
            ("กล่องบุบมาเลย", Negative),
            ("เจอแมลงสาบในร้าน", Negative),
            ("แอปกระตุกตลอด", Negative),
            ("ขนมปังขึ้นรา", Negative),
            ("ห้องพักแอร์ไม่เย็นเลย", Negative),
            ("แอดมินเงียบหาย", Negative),
            ("ได้ของปลอมมา", Negative),
            ("ให้ห้าดาว", Positive),
            // Listed whole, as สด alone is as often "live".
            ("ผักไม่สด", Negative),
            ("ไลฟ์สดวันนี้", Neutral),
            ("Ristorante da evitare assolutamente", Negative),
            ("Camera rumorosa", Negative),
            ("Corriere inaffidabile", Negative),
            ("Commessa antipatica e arrogante", Negative),
            ("Hotel accogliente", Positive),
            ("The bread was stale and the fries soggy", Negative),
            ("The agent was dismissive and condescending", Negative),
            ("Very patronizing staff", Negative),
            ("Our patrons love it", Positive),
            ("Seamless checkout", Positive),
            ("อาหารเย็นชืด", Negative),
            ("ของดีราคาถูก", Positive),
            ("ยังไม่ได้เงินคืน", Negative),
            ("Non manca nulla, tutto perfetto", Positive),
            ("앱이 자꾸 먹통이에요", Negative),
            ("가입 절차가 너무 번거롭고 귀찮아요", Negative),
            ("포장을 대충 했어요", Negative),
            ("음식에서 쉰내가 나요", Negative),
            ("디자인이 돋보였어요", Positive),
            ("완성도 높은 제품", Positive),
            ("의미 없는 통화만 반복", Negative),
            ("매일 먹어도 안 질려요", Positive),
            ("믿음이 가는 브랜드", Positive),
            ("재구매 안해요", Negative),
            ("맛없어요", Negative),
            ("국물이 맛 없어요", Negative),
            // A one-syllable noun with its particle (맛이, 맛도) is the noun of the pair.
            ("맛이 없어요", Negative),
            ("음식이 맛도 없고 양도 적어요", Negative),
            ("맛이 있어요", Positive),
            ("줄이 너무 길어요", Negative),
            ("말이 안 통해요", Negative),
            ("상담원이 말을 끊어요", Negative),
            ("말을 끊지 않고 들어주셨어요", Positive),
            ("รอคิวนานมาก", Negative),
            ("แอปเด้งตลอด", Negative),
            ("เนื้อเด้งอร่อย", Positive),
            ("จะกลับมาใช้บริการอีกแน่นอน", Positive),
            ("La coda era lunghissima", Negative),
            ("The queue was really long", Negative),
            ("A long queue but worth the wait", Positive),
            ("Not worth the wait", Negative),
            ("사장님 번창하세요", Positive),
            ("판매자 연락 두절", Negative),
            ("기다리다 지쳤어요", Negative),
            ("벌써 세 번째 재주문 했어요", Positive),
            ("추천안함", Negative),
            ("서비스에 만족 못해요", Negative),
            ("의자가 편안해요", Positive),
            ("직원분이 호감 가는 스타일", Positive),
            ("상담원 말투가 비호감", Negative),
            // Goods that came damaged or dirty, rooms, food, an app; and their praise.
            ("택배 상자가 찢어졌어요", Negative),
            ("전화 연결이 너무 오래 걸려요", Negative),
            ("상담원이 같은 말만 반복해요", Negative),
            ("색상이 화면과 달라요", Negative),
            ("의자가 망가졌어요", Negative),
            ("옷에 얼룩이 있고 보풀이 많아요", Negative),
            ("방이 좁고 곰팡이가 있어요", Negative),
            ("벌레가 나왔어요", Negative),
            ("국이 미지근해요", Negative),
            ("생선이 비려요", Negative),
            ("직원이 퉁명스러워요", Negative),
            ("포장이 부실해요", Negative),
            ("오배송이에요", Negative),
            ("앱에서 에러가 나요", Negative),
            ("야채가 싱싱해요", Positive),
            ("방이 넓고 조용해요", Positive),
            ("가격도 싸요", Positive),
            ("득템했어요", Positive),
            ("포장이 고급스러워요", Positive),
            // Not 느끼하다 (greasy): its noun form would be 느낌 (a feeling).
            ("느낌이 좋아요", Positive),
            ("하기스 기저귀 샀어요", Neutral),
            ("설명을 들어도 신뢰가 안 가요", Negative),
            ("벌써 질렸어요", Negative),
            ("말이 필요없는 맛집", Positive),
            ("배송이 느렸고 가격도 비쌌어요", Negative),
            ("바가지 씌우는 느낌", Negative),
            ("전화 연결이 계속 끊겨요", Negative),
            ("상담원 연결이 너무 안 돼요", Negative),
            ("전화를 해도 아무도 안 받아요", Negative),
            ("결제가 안 돼요", Negative),
            ("재구매 의사 없어요", Negative),
            ("재구매 의사 있어요", Positive),
            ("앱이 자꾸 튕겨요", Negative),
            ("기대 이하였어요", Negative),
            ("기대 이상이에요", Positive),
            ("걱정 안 돼요", Neutral),
            ("직원분이 상냥하고 세심해요", Positive),
            ("매장이 쾌적하고 아늑해요", Positive),
            ("상담원이 배려해 주셔서 안심했어요", Positive),
            // 대단히 ("greatly") strengthens what follows; a brand's luxury bag and frozen
            // pizza are products, not praise or complaint.
            ("대단히 실망했습니다", Negative),
            ("명품 가방 배송 문의", Neutral),
            ("The frozen pizza arrived on Monday", Neutral),
        ]);
    }

    #[test]
    fn negation_turns_a_word_around() {
        use SentimentLabel::*;
        reads(&[
            ("The delivery was not fast", Negative),
            ("not bad at all", Positive),
            // "Really", "too", "that" do not use up how far "not" reaches.
            ("It didn't really look that flattering", Negative),
            ("It isn't really good for work", Negative),
            ("Nothing was too much trouble", Positive),
            ("Il prodotto non è buono", Negative),
            ("안 좋아요", Negative),
            ("좋지 않아요", Negative),
            ("추천 안 합니다", Negative),
            ("만족 못 했어요", Negative),
            ("추천할 수 없어요", Negative),
            ("만족할 수 없습니다", Negative),
            ("실망 시키지 않는 서비스", Positive),
            ("ไม่ดี", Negative),
            ("แนะนำไม่ได้", Negative),
            ("แอปใช้ไม่ได้", Negative),
        ]);
    }

    /// "Too" with a word that says nothing alone is a complaint; "too" as "also" is not.
    #[test]
    fn more_than_wanted_is_a_complaint() {
        use SentimentLabel::*;
        reads(&[
            ("Delivery took too long", Negative),
            ("The music was too loud", Negative),
            ("Too much paperwork", Negative),
            ("way too many steps", Negative),
            ("troppi passaggi per disdire", Negative),
            ("La taglia è troppo piccola", Negative),
            ("ราคาสูงเกินไป", Negative),
            // Thai ไป alone after a quality is "too"; after a verb or a time it is "go".
            ("อาหารเค็มไปหน่อย", Negative),
            ("เสื้อเล็กไป", Negative),
            ("ตอนเย็นไปกินข้าว", Neutral),
            ("ส่งไปแล้ว", Neutral),
            ("มันไปไหน", Neutral),
            ("ไม่เค็มไป กำลังดี", Positive),
            // Not too much is just right; a word with a value of its own keeps it.
            ("Not too loud, not too quiet", Positive),
            ("The puppies are too cute", Positive),
            // "Too" as "also", at the end of its clause, reaches nothing.
            ("I bought it in red too", Neutral),
            ("My sister ordered one too, and it came on time", Neutral),
        ]);
    }

    /// Korean glues 안 (not) and "so", "really" to the word they act on, as often as not.
    #[test]
    fn korean_negators_and_intensifiers_glued_to_their_word_act_on_it() {
        use SentimentLabel::*;
        reads(&[
            ("안좋아요", Negative),
            ("배송이 안빨라요", Negative),
            ("직원이 안친절해요", Negative),
            ("소재도 너무좋고", Positive),
            ("완전좋음", Positive),
            // A word that begins as 안 or 개 does without them: relief, guidance, improvement.
            ("안심이 돼요", Positive),
            // 않다 and 못하다 (not) glued after the word they negate.
            ("좋지않아요", Negative),
            ("친절하지않았어요", Negative),
            ("만족스럽지못해요", Negative),
            ("나쁘지않아요", Positive),
            ("재미있지도않고 지루함", Negative),
            ("좋지는 않아요", Negative),
            // 안 glued after a particle, inside a longer word; without one it may be "inside".
            ("포스터가안이쁨", Negative),
            ("배송이안빨라요", Negative),
            ("매장안깨끗해요", Positive),
            ("별로좋지않음", Negative),
            // Neither … nor.
            ("재미도 감동도 없는 영화", Negative),
            ("좋지도 싸지도 않아요", Negative),
            ("친절도 성의도 없어요", Negative),
            ("친절도, 성의도, 책임감도 없어요", Negative),
            // 없다 past a "so" or an "at all" between, and 느껴지지 않다 (not felt).
            ("재미 정말 없다", Negative),
            ("재미 더럽게 없다", Negative),
            ("친절함이 1도 없어요", Negative),
            ("성의가 느껴지지 않았어요", Negative),
            ("안내가 친절해요", Positive),
            ("개선됐으면", Neutral),
            // 없다 (none) glued to a problem says it was not there, as with a space between.
            ("불만없어요", Positive),
            ("파손없이 잘 도착했어요", Positive),
            ("고장없이 잘 쓰고 있어요", Positive),
            ("문제없이 잘 받았어요", Positive),
            ("재미없어요", Negative),
            // A star rating named is no complaint: 별점 (stars) was negative in the lexicon.
            ("별점 만점 드립니다", Positive),
        ]);
        let glued = Analyzer::builtin().analyze("불만없어요", Some(Lang::Ko)).sentiment;
        assert_eq!(glued, Analyzer::builtin().analyze("불만 없어요", Some(Lang::Ko)).sentiment);
        let a = Analyzer::builtin();
        let glued = a.analyze("너무좋아요", Some(Lang::Ko)).sentiment.score;
        let plain = a.analyze("좋아요", Some(Lang::Ko)).sentiment.score;
        assert!(glued > plain, "{glued} > {plain}");
        // "Except for …, it was good": what is set aside weighs less.
        reads(&[("배송이 느린 것만 빼면 좋아요", Positive), ("친절한 것 빼고 다 별로", Negative)]);
    }

    /// Korean says "but" as an ending glued to its word (맛있지만, tasty but): what follows
    /// weighs more, as after 하지만. A "but" said last, with nothing after it that counts,
    /// takes nothing from what came before.
    #[test]
    fn a_but_glued_to_its_word_weighs_what_follows() {
        use SentimentLabel::*;
        reads(&[
            ("맛있지만 너무 비싸요", Negative),
            ("비싸지만 맛있어요", Positive),
            ("괜찮았지만 배송이 늦었음.다시는 안 시켜요", Negative),
            ("생각보단 괜찮았네. 조금 뻔하지만", Positive),
            // 는데, 은데: "but", or the scene set for what follows, which is the point.
            ("맛있는데 비싸요", Negative),
            ("비싼데 맛있어요", Positive),
            ("괜찮은데 배송이 너무 느려요", Negative),
            ("배송이 빨랐는데 포장도 꼼꼼했어요", Positive),
        ]);
    }

    /// "I'd like to come again" is praise; "I don't want to see it again" is not.
    #[test]
    fn korean_wanting_to_come_back_is_praise() {
        use SentimentLabel::*;
        reads(&[
            ("다음에도 이용할게요", Positive),
            ("다음에 연락할게요", Neutral),
            ("다시 오고 싶어요", Positive),
            ("또 보고싶다", Positive),
            ("또 먹고파요", Positive),
            ("배고파요", Neutral),
            ("다시 보고 싶지 않아요", Negative),
            ("집에 가고 싶어요", Neutral),
            ("또 올게요", Positive),
            ("다음에 또 이용할게요", Positive),
            ("다시 연락할게요", Neutral),
            ("다신 안시켜요", Negative),
        ]);
    }

    /// "Will come again" is praise; never again a complaint; having had to come again, or
    /// being back again, neither.
    #[test]
    fn coming_back_is_praise() {
        use SentimentLabel::*;
        reads(&[
            ("We'll definitely be back", Positive),
            ("Will definitely order again", Positive),
            ("I will be shopping again", Positive),
            ("Will never order again", Negative),
            ("I had to order again", Neutral),
            ("Lo riacquisterò sicuramente", Positive),
            ("Non lo riacquisterei", Negative),
            ("I will be coming back", Positive),
            ("Won't be back", Negative),
            ("The dress is going back", Neutral),
            ("I got my money back", Neutral),
            ("จะกลับมาอีกแน่นอนค่ะ", Positive),
            ("ไว้มาอีกนะคะ", Positive),
            ("จะอุดหนุนอีกครับ", Positive),
            ("จะไม่มาอีกแล้ว", Negative),
            ("ไม่ซื้ออีกแล้ว", Negative),
            ("ต้องมาอีกรอบ", Neutral),
            ("กลับมาอีกครั้งกับโปรโมชั่น", Neutral),
        ]);
    }

    /// 아깝다 (a waste) after "to keep to myself" or a deed in 기엔 is "too good to …".
    #[test]
    fn korean_too_good_to_waste_is_praise() {
        use SentimentLabel::*;
        reads(&[
            ("나만 알기 아까운 맛집", Positive),
            ("혼자 알기엔 너무 아까운 곳이에요", Positive),
            ("나만알기아까운 카페", Positive),
            ("그냥 묻히기에는 아까운 영화", Positive),
            ("돈이 아까워요", Negative),
            ("시간이 아까웠다", Negative),
            ("1점 주기도 아깝다", Negative),
            ("별 하나 주기에도 아까운 서비스", Negative),
        ]);
    }

    /// English borrows VADER's words beyond its own, matched as written: a derived word does
    /// not make its plain stem lean (openness, open; supports, support).
    #[test]
    fn borrowed_english_words_count_as_written() {
        use SentimentLabel::*;
        reads(&[
            ("Horrible, unpleasant experience", Negative),
            ("Remarkable service", Positive),
            ("It's a fraud", Negative),
            ("Support ticket still open after a week", Neutral),
            ("The app supports Apple Pay", Neutral),
            // An adverb that frames what is said is no praise of its own.
            ("Sincerely, Anna", Neutral),
            ("I wanted to love this suit, but it honestly looked matronly", Negative),
        ]);
    }

    /// A borrowed word is matched before the written lexicon's stems, so it must be none of
    /// theirs: `data/from_vader.py`, run again, leaves such words out.
    #[test]
    fn borrowed_words_leave_the_written_lexicons_stems_alone() {
        let words = Words::shared();
        let term = |w: &str| words.term(&crate::words::fold(w, Lang::En), Lang::En);
        let [written, borrowed @ ..] = sources(Lang::En) else { panic!("English has its file") };
        let stems: std::collections::BTreeSet<String> =
            parse(Lang::En, written).into_keys().filter(|w| !w.contains(' ')).map(|w| term(&w)).collect();
        let clashes: Vec<String> = borrowed
            .iter()
            .flat_map(|source| parse(Lang::En, source).into_keys())
            .filter(|w| stems.contains(&term(w)))
            .collect();
        assert!(clashes.is_empty(), "{clashes:?}");
    }

    /// "Friend" is no praise though "friendly" is, and "response" none though "responsive" is:
    /// a word whose stem is an everyday word of another sense is matched as written.
    #[test]
    fn a_word_that_shares_its_stem_with_another_sense_counts_as_written() {
        use SentimentLabel::*;
        reads(&[
            ("Bought it for my friend", Neutral),
            ("I wonder why", Neutral),
            ("Please fix this", Neutral),
            ("The exception is the sleeves", Neutral),
            ("Slow response", Negative),
            ("Still waiting for a response", Negative),
            ("Staff were friendly and helpful", Positive),
            ("Very responsive support, issue fixed", Positive),
            ("Wonderful service", Positive),
        ]);
    }

    /// 아름답다 (beautiful) is written 아름다워요, 아름다웠다: the listed stem is found in its
    /// conjugated forms.
    #[test]
    fn korean_stems_are_found_in_forms_that_do_not_begin_with_them() {
        use SentimentLabel::*;
        reads(&[
            ("매장이 아름다워요", Positive),
            ("직원분들이 정말 고마웠어요", Positive),
            ("절차가 번거로웠어요", Negative),
            ("매장이 너무 시끄러워요", Negative),
            ("아름다움 그 자체", Positive),
            ("배송 빠름", Positive),
            ("너무 예쁨", Positive),
            ("사용하기 편함", Positive),
            ("배송 느림", Negative),
        ]);
        assert_eq!(korean_forms("아름답"), ["아름다워", "아름다웠", "아름다운", "아름다울", "아름다우", "아름다움"]);
        assert_eq!(korean_forms("빠르"), ["빠름"]);
        assert_eq!(korean_forms("편하"), ["편함"]);
        assert!(korean_forms("좋").is_empty() && korean_forms("").is_empty() && korean_forms("ok").is_empty());
    }

    /// "Don't waste your money" had read as praise: "not" turned "waste" around. A warning
    /// not to buy, order or waste is a complaint in every language; what was not bought is not.
    #[test]
    fn a_warning_not_to_buy_is_a_complaint() {
        use SentimentLabel::*;
        reads(&[
            ("Don't waste your money", Negative),
            ("Don’t bother with this app", Negative),
            ("DO NOT BUY", Negative),
            ("Non sprecate i vostri soldi", Negative),
            ("Non comprate questo prodotto", Negative),
            ("อย่าซื้อ", Negative),
            ("อย่าเสียเงิน", Negative),
            ("절대 구매하지 마세요", Negative),
            ("사지 마세요", Negative),
            // The warning negates its verb, not what follows it; a later "not" negates as any.
            ("Don't buy it, the quality is not good", Negative),
            ("กูแนะนำอย่าซื้อ ไม่ดี", Negative),
            // Not a warning: what was not bought, and advice to do what is good.
            ("I didn't buy it at first but I love it", Positive),
            ("Non ho comprato la garanzia", Neutral),
            ("Don't hesitate to call them, they are great", Positive),
            ("อย่าพลาด", Positive),
            ("걱정하지 마세요", Neutral),
        ]);
    }

    /// Korean written without spaces is read for every stem inside a word, but 기만 (deceit)
    /// only where a word begins: further in it is the ending -기만, "only doing".
    #[test]
    fn korean_words_glued_together_are_each_read() {
        use SentimentLabel::*;
        reads(&[
            ("진짜재밌음", Positive),
            ("재미없고지루함", Negative),
            ("재밋기만하구만", Positive),
            ("눈빛연기만으로도 만점", Positive),
            ("소비자를 기만하는 행위", Negative),
            ("고객 기만입니다", Negative),
            ("그래도 잘보았습니다", Positive),
            ("ㅠㅠ 굳", Positive),
            ("굳이 볼 필요 없다", Neutral),
            ("잘 샀어요", Positive),
            // Laughter glued before a negated word, or tears after a "but".
            ("ㅋㅋ안좋아요", Negative),
            ("ㅋㅋ추천안해요", Negative),
            ("맛있지만ㅠㅠ 비싸요", Negative),
            ("좋지않아요ㅠㅠ", Negative),
        ]);
    }

    /// What could not be better is the best there is, in every language, and what cannot be
    /// praised enough is praise: strong praise that "not" had turned into a complaint.
    #[test]
    fn what_could_not_be_better_is_the_best() {
        use SentimentLabel::*;
        reads(&[
            ("Couldn't ask for better", Positive),
            ("Couldn't have asked for better service", Positive),
            ("Couldn't be happier with the service", Positive),
            ("Could not have been better", Positive),
            ("They couldn't be more helpful", Positive),
            ("Non poteva andare meglio", Positive),
            ("Non si può chiedere di meglio", Positive),
            ("더 좋을 수 없어요", Positive),
            ("더할 나위 없이 좋아요", Positive),
            ("บริการไม่มีที่ติ", Positive),
            // The worst is the worst; a plain "not" still turns the word around; and "cannot"
            // with no comparative is a complaint.
            ("Couldn't be worse", Negative),
            ("The new app is not better", Negative),
            ("Non è meglio di prima", Negative),
            ("더 좋지 않아요", Negative),
            ("They can't answer the phone", Negative),
            // Nor can it be praised enough; what is not good enough is a complaint.
            ("Can't recommend them enough", Positive),
            ("I can't thank you enough!", Positive),
            ("not good enough", Negative),
            ("The staff were not friendly enough", Negative),
            ("I didn't get enough help", Negative),
        ]);
        let a = Analyzer::builtin();
        let best = a.analyze("Couldn't be better", None).sentiment.score;
        let better = a.analyze("better", None).sentiment.score;
        assert!(best > better, "{best} > {better}");
    }

    /// "I like it" in Korean is "it enters my heart": neither word says it alone.
    #[test]
    fn a_listed_pair_of_words_says_what_neither_does_alone() {
        use SentimentLabel::*;
        reads(&[
            ("디자인이 정말 마음에 듭니다", Positive),
            ("맘에 드는 옷이에요", Positive),
            ("마음에 쏙 들어요", Positive),
            ("색상이 마음에 안 들어요", Negative),
            ("맘에 안들어요", Negative),
            ("마음에 들지 않아요", Negative),
            ("I was on hold for an hour", Negative),
            // 잘 (well) and a verb: fits well, and does not.
            ("사이즈가 잘 맞아요", Positive),
            ("사이즈가 잘 안 맞아요", Negative),
            ("잘 모르겠어요", Neutral),
            // The size, or the taste, fits: or not (the negator stands between the two).
            ("사이즈가 안 맞아요", Negative),
            ("치수가 안 맞네요", Negative),
            ("입맛에 안 맞아요", Negative),
            ("사이즈가 딱 맞아요", Positive),
            ("입맛에 딱 맞아요", Positive),
            // "above and beyond": the idiom's last two words.
            ("The agent went above and beyond", Positive),
            // A noun that there is none of: an idiom, not the noun turned around.
            ("어처구니가 없다", Negative),
            ("어이가 없네요", Negative),
            ("양심 없는 가격", Negative),
            ("수준이 낮아요", Negative),
            ("수준 높은 서비스", Positive),
            // The pair's own first word (만족 inside 만족도) does not count beside it.
            ("만족도가 낮아요", Negative),
            ("완성도가 낮아요", Negative),
            // Apart, or in another order, they are nothing.
            ("마음이 아파서 들어요", Neutral),
            ("Hold on, I am on the phone", Neutral),
        ]);
    }

    /// A call, an explanation or a charge that should have been one, made again and again:
    /// a repeat contact is a complaint in every language, though no word of it says so; a
    /// count of anything else is not.
    #[test]
    fn a_call_or_a_charge_made_again_and_again_is_a_complaint() {
        use SentimentLabel::*;
        reads(&[
            ("I had to call five times.", Negative),
            ("Called 3 times and still no answer", Negative),
            ("I emailed them twice.", Negative),
            ("This is the third time I've called about this.", Negative),
            ("I was transferred four times.", Negative),
            ("I had to explain myself several times.", Negative),
            ("Called them 4x before anyone picked up.", Negative),
            ("I paid twice.", Negative),
            ("Ho dovuto chiamare cinque volte.", Negative),
            ("Ho scritto più volte senza risposta.", Negative),
            ("Mi hanno addebitato due volte.", Negative),
            ("L'ho contattato per l'ennesima volta.", Negative),
            ("다섯 번이나 전화했어요.", Negative),
            ("여러번 연락했어요.", Negative),
            ("두 번 결제됐어요.", Negative),
            ("세 번째 문의드립니다.", Negative),
            ("수차례 요청했는데요.", Negative),
            ("โทรไปห้าครั้งแล้ว", Negative),
            ("โทรไปหลายครั้ง", Negative),
            ("จ่ายเงินสองรอบ", Negative),
            ("แจ้งไปหลายรอบแล้ว", Negative),
            // Kept at it: "keep", "constantly", continuamente say the count.
            ("Kept getting transferred.", Negative),
            ("I keep calling and getting nowhere.", Negative),
            ("Chiamo continuamente.", Negative),
            ("I keep my receipts.", Neutral),
            ("Continuo a usarlo.", Neutral),
            // "Kept me updated" is a pair, which says what its words say.
            ("They kept me updated and called me back.", Positive),
            // The call negated, its count is what did not happen.
            ("I didn't have to call twice.", Positive),
            // Once, or a count of something else, says nothing.
            ("I called once and that was it.", Neutral),
            ("Never had to call more than once.", Neutral),
            ("I've ordered here many times.", Neutral),
            ("I have worn it three times.", Neutral),
            // "Complaint" is no complaining: the only one, it says all else was good.
            ("My only complaint is that I've worn it twice.", Neutral),
            ("I've bought this dress three times, love it.", Positive),
            ("L'ho indossato tre volte.", Neutral),
            ("Ho chiamato una volta.", Neutral),
            ("세 번이나 봤어요.", Neutral),
            ("한 번 전화했어요.", Neutral),
            // 번에 is "in … goes": paid in two instalments.
            ("두 번에 나눠서 결제했어요.", Neutral),
            ("여러 번 주문했는데 항상 좋아요.", Positive),
            ("ไปกินมาหลายครั้ง", Neutral),
            ("โทรไปครั้งเดียว", Neutral),
        ]);
    }

    /// What call-centre customers say of being hung up on, passed around or put off, and of a
    /// problem sorted; and of goods that look other than their photo.
    #[test]
    fn call_centre_complaints_and_praise_read_right() {
        use SentimentLabel::*;
        reads(&[
            ("Customer service is a joke.", Negative),
            ("What a joke.", Negative),
            ("The agent cracked a few jokes and was lovely.", Positive),
            ("Got it sorted quickly.", Positive),
            ("Sorted it out in one call.", Positive),
            ("Still not sorted.", Negative),
            ("I got passed around from department to department.", Negative),
            ("They just bounced me around.", Negative),
            ("The colour is different from the picture.", Negative),
            // Expectations met, or not: "all" stands between.
            ("Met all my expectations.", Positive),
            ("Didn't meet all my expectations.", Negative),
            ("Fell short of all my expectations.", Negative),
            ("È esattamente quello che mi aspettavo.", Positive),
            ("Non è quello che mi aspettavo.", Negative),
            ("Non è quello che mi aspettassi.", Negative),
            ("Mi hanno chiuso il telefono in faccia.", Negative),
            ("L'operatore mi ha riattaccato.", Negative),
            ("Mi hanno passato da un operatore all'altro.", Negative),
            ("Continuo a essere rimpallato tra uffici.", Negative),
            ("Il colore è diverso.", Negative),
            ("Colori diversi dalla foto.", Negative),
            ("전화를 그냥 끊어버렸어요.", Negative),
            ("상담원이 전화를 끊었어요.", Negative),
            ("상담원이 먼저 끊었어요.", Negative),
            ("상담원 뺑뺑이 돌리지 마세요.", Negative),
            ("책임을 떠넘기네요.", Negative),
            ("사진이랑 색이 달라요.", Negative),
            ("사진과 다릅니다.", Negative),
            ("다른 사진도 보여주세요.", Neutral),
            // A wait told by its length: as "on hold" is in English.
            ("40분 동안 대기했어요.", Negative),
            ("한 시간 동안 기다렸어요.", Negative),
            ("รอสาย 40 นาที", Negative),
            ("ไม่ต้องรอสายเลย", Positive),
            ("วางสายใส่", Negative),
            ("พนักงานตัดสายทิ้ง", Negative),
            ("ของยังไม่มาเลย", Negative),
            ("ช่างยังไม่มา", Negative),
        ]);
    }

    /// "Never got my refund" is not praise because "refund" leans negative: what a customer
    /// expected and did not get is a complaint in every language.
    #[test]
    fn what_was_expected_and_did_not_happen_is_a_complaint() {
        use SentimentLabel::*;
        reads(&[
            // Cancelling: "cancel" leans negative, and "can't cancel" had read as praise.
            ("I can't cancel my subscription", Negative),
            ("Non posso cancellare l'ordine", Negative),
            ("주문 취소가 안 돼요", Negative),
            ("ยกเลิกไม่ได้", Negative),
            ("They cancelled my order without telling me", Negative),
            ("I never got my refund", Negative),
            // An article or a possessive does not use up the reach of "not".
            ("I didn't get my money back", Negative),
            ("Non mi hanno restituito i soldi", Negative),
            ("No refund yet", Negative),
            ("Never received my order", Negative),
            ("I got a full refund quickly", Positive),
            // A refund leans negative as much in every language: a quick one is praise.
            ("환불 처리가 빨랐어요", Positive),
            ("Rimborso rapido", Positive),
            ("คืนเงินเร็ว", Positive),
            ("환불해주세요", Negative),
            ("ขอคืนเงิน", Negative),
            ("Nessun rimborso", Negative),
            ("Non mi hanno mai risposto", Negative),
            ("Funziona benissimo", Positive),
            ("환불을 안 해줘요", Negative),
            ("연락이 안 돼요", Negative),
            ("빠른 환불 감사합니다", Positive),
            // "Well" said of it: it happened, and well; "not well" is still the complaint.
            ("잘 받았어요", Positive),
            ("잘 도착했어요", Positive),
            ("잘받았습니다", Positive),
            ("잘못받았어요", Negative),
            ("잘 받지 못했어요", Negative),
            ("택배가 아직도 안 왔어요", Negative),
            ("쿠폰 적용이 안 돼요", Negative),
            ("로그인이 잘 안돼요", Negative),
            ("ยังไม่ได้คืนเงิน", Negative),
            ("ติดต่อไม่ได้", Negative),
            ("ได้รับของแล้ว ขอบคุณค่ะ", Positive),
            // Signing in, connecting, loading, installing: what an app is expected to do.
            ("I can't log in to my account", Negative),
            ("The page doesn't load", Negative),
            ("No sign of my parcel", Negative),
            // "Show" is expected as "show up", or said last.
            ("The technician didn't show.", Negative),
            ("It doesn't show much cleavage", Neutral),
            ("Nobody picked up the phone", Negative),
            ("I didn't pick the red one", Neutral),
            // Getting through to someone is expected of a phone line; "ever" stands between
            // a negator and its word as an article does.
            ("I couldn't get through to anyone", Negative),
            ("I got through to them on the first try", Neutral),
            ("No one ever called me back", Negative),
            ("Never ever had a problem", Positive),
            ("Non riesco ad accedere al mio account", Negative),
            ("가입이 안 돼요", Negative),
            ("앱 설치가 안 돼요", Negative),
            ("สมัครสมาชิกไม่ได้", Negative),
            ("ล็อกอินไม่ได้", Negative),
            // A customer who will not come back.
            ("Never again", Negative),
            ("Would not buy again", Negative),
            ("Nobody called me back", Negative),
            ("Great service, will come back again", Positive),
            ("Non ci tornerò mai", Negative),
            ("Mai più con voi", Negative),
            ("Mai più problemi dopo la riparazione", Positive),
            ("다시는 안 살 거예요", Negative),
            ("두 번 다시 안 시킵니다", Negative),
            ("다시 봐도 안 질리는 영화", Positive),
            ("จะไม่กลับมาใช้บริการอีก", Negative),
            ("โทรไปไม่มีใครรับสาย", Negative),
        ]);
    }

    /// A problem that was dealt with is no complaint; one that was not stands.
    #[test]
    fn a_problem_resolved_is_no_complaint() {
        use SentimentLabel::*;
        reads(&[
            ("Fixed the issue right away", Positive),
            ("The agent sorted out my problem", Positive),
            ("They did not fix the problem", Negative),
            ("Fixed one issue, but the app still has problems", Negative),
            ("No problem at all", Positive),
            ("Problema risolto", Positive),
            ("Il problema non è stato risolto", Negative),
            ("문제를 빨리 해결해 주셨어요", Positive),
            ("문제가 해결이 안 됐어요", Negative),
            ("แก้ปัญหาไม่ได้", Negative),
        ]);
    }

    /// What could or should have been is what was not.
    #[test]
    fn what_should_have_been_is_what_was_not() {
        use SentimentLabel::*;
        reads(&[
            ("Could have been better", Negative),
            ("Should have been faster", Negative),
            ("It could have been worse", Positive),
            ("I would recommend it", Positive),
            // The liking hoped for, not had; other wants are as they were.
            ("I really wanted to love this app", Negative),
            ("We wanted so badly to like it", Negative),
            ("I would like to thank Anna", Positive),
            ("Love it, so I wanted to buy another", Positive),
            ("Poteva andare meglio", Negative),
            ("Dovrebbe essere più veloce", Negative),
            ("더 친절했으면 좋겠어요", Negative),
            ("진짜 이런거 계속했으면 좋겠어요", Neutral),
            // A well-wish to the shop is what it says.
            ("사장님 번창했으면 좋겠어요", Positive),
            ("대박났으면 좋겠어요", Positive),
            ("흥미로웠으면 좋겠어요", Negative),
            ("정말 좋았어요", Positive),
            ("น่าจะดีกว่านี้", Negative),
            ("ควรเร็วกว่านี้", Negative),
            ("ดีกว่าที่คิด", Positive),
        ]);
    }

    /// An Italian superlative is its base word, more so: velocissima is veloce.
    #[test]
    fn italian_superlatives_read_as_their_base_word() {
        use SentimentLabel::*;
        reads(&[
            ("Consegna velocissima", Positive),
            ("Lentissimi nelle risposte", Negative),
            ("Consigliatissimo!", Positive),
        ]);
        let score = |text| Analyzer::builtin().analyze(text, Some(Lang::It)).sentiment.score;
        assert!(score("velocissima") > score("veloce"));
    }

    /// A Thai dictionary word made of มี, เป็น, น่า or ได้ and a word of the lexicon is cut as
    /// one word, so it needs a value of its own: มีปัญหา (has a problem) read as nothing.
    #[test]
    fn thai_compounds_of_lexicon_words_carry_a_value() {
        let lexicon = listed(Lang::Th);
        let compound = |w: &&str| {
            ["มี", "เป็น", "น่า", "ได้"].iter().any(|p| w.strip_prefix(p).is_some_and(|rest| lexicon.contains_key(rest)))
        };
        let missing: Vec<&str> = crate::thai::SOURCES
            .iter()
            .flat_map(|s| s.lines())
            .filter(|w| !lexicon.contains_key(*w))
            .filter(compound)
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
        assert_eq!(label("บริการไม่ได้เรื่อง"), SentimentLabel::Negative);
        assert_eq!(label("ได้ของไม่ตรงปก"), SentimentLabel::Negative);
        assert_eq!(label("ไม่มีปัญหาอะไรเลย"), SentimentLabel::Positive);
        assert_eq!(label("สินค้ามีปัญหา"), SentimentLabel::Negative);
    }

    /// A word listed as matched only as written that no lexicon or theme file lists (as a term
    /// or a term's first word: "sales rep") is a typo.
    #[test]
    fn every_unstemmed_word_is_a_listed_word_or_a_theme_term() {
        let themes = crate::Themes::builtin();
        for lang in Lang::ALL {
            let written: Vec<String> =
                parse(lang, sources(lang)[0]).into_keys().map(|w| crate::words::fold(&w, lang)).collect();
            let terms: Vec<&String> = themes.list().iter().filter_map(|t| t.terms.get(lang.tag())).flatten().collect();
            for word in &Words::shared().rules(lang).unstemmed {
                assert!(
                    written.contains(word) || terms.iter().any(|t| t.split(' ').next() == Some(word.as_str())),
                    "data/rules/{}.json: unstemmed {word} is in neither its sentiment nor its themes file",
                    lang.tag()
                );
            }
        }
    }

    /// A listed word that reading never finds is dead data: cut apart by the segmenter
    /// (ไม่ได้เรื่อง, useless, was ไม่ + ได้เรื่อง; แม่ง was แม่ + ง), split at a hyphen
    /// (see-through), or taken as a rule word first (purtroppo, a contrast word). A pair listed
    /// at 0 says that its words together say nothing (cari saluti, kind regards: not "dear").
    #[test]
    fn every_listed_word_counts_on_its_own() {
        let analyzer = Analyzer::builtin();
        let mut dead = Vec::new();
        for lang in Lang::ALL {
            let lexicon = listed(lang);
            let counted = |(w, v): &(&String, &f64)| w.chars().any(char::is_alphanumeric) && **v != 0.0;
            for (word, value) in lexicon.iter().filter(counted) {
                let score = analyzer.analyze(word, Some(lang)).sentiment.score;
                if score * value <= 0.0 {
                    dead.push(format!("{}:{word}={value} read {score:.2}", lang.tag()));
                }
            }
        }
        assert!(dead.is_empty(), "{} {dead:#?}", dead.len());
    }

    #[test]
    fn a_question_or_a_passing_word_in_a_long_text_does_not_lean() {
        use SentimentLabel::*;
        reads(&[
            // Asked, not said: "is it good?", "is it tasty?"
            ("ดีไหม", Neutral),
            ("ใช้ดีไหมคะ", Neutral),
            ("อร่อยมั้ย", Neutral),
            ("ใช้ดีมาก", Positive),
            // One mild word among many others, and the same word said on its own.
            (
                "We moved our order history to the new account page last month and the export now runs on \
                 Mondays, together with the invoices, the delivery notes and the yearly summary, which is fine",
                Neutral,
            ),
            ("The export is fine", Positive),
        ]);
    }

    #[test]
    fn emoticons_count_as_their_language_uses_them() {
        use SentimentLabel::*;
        reads(&[
            ("Arrived on Tuesday :)", Positive),
            ("Arrived on Tuesday 😡", Negative),
            ("도착했어요 ^^", Positive),
            // Laughter, listed though a stop word.
            ("알겠어요 ㅎㅎ", Positive),
            // In Thai posts a smile is politeness (a shop's reply), a frown is still a frown.
            ("ส่งของแล้วค่ะ ^^", Neutral),
            ("รอของอยู่ 😡", Negative),
        ]);
    }

    #[test]
    fn intensifiers_and_contrast_weigh_words() {
        let a = Analyzer::builtin();
        let plain = a.analyze("good", None).sentiment.score;
        let very = a.analyze("very good", None).sentiment.score;
        assert!(very > plain, "{very} > {plain}");
        let thai = a.analyze("ดี", Some(Lang::Th)).sentiment.score;
        let thai_very = a.analyze("ดีมาก", Some(Lang::Th)).sentiment.score;
        assert!(thai_very > thai, "{thai_very} > {thai}");
        // What follows "but" decides.
        assert_eq!(label("The staff were nice but the product is awful"), SentimentLabel::Negative);
        assert_eq!(label("Delivery was slow but the product is excellent"), SentimentLabel::Positive);
        // "My only complaint" names what follows and is no complaint of its own.
        assert_eq!(label("Love it. My only complaint is the wait"), SentimentLabel::Positive);
        assert_eq!(label("The only problem is it broke after a week"), SentimentLabel::Negative);
        assert_eq!(label("Servizio ottimo, l'unico problema è l'attesa"), SentimentLabel::Positive);
        assert_eq!(label("맛있어요. 유일한 불만은 대기 시간"), SentimentLabel::Positive);
        assert_eq!(label("불만이 많아요"), SentimentLabel::Negative);
    }
}

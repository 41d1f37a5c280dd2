//! From text to normalised words: segmentation, Unicode normalisation, case folding,
//! stemming (English, Italian), particle stripping (Korean), stop words and negation scope.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet as HashSet};

use std::sync::OnceLock;

use icu_segmenter::WordSegmenter;
use icu_segmenter::options::WordBreakInvariantOptions;
use rust_stemmers::{Algorithm, Stemmer};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::sentiment::{Lexicons, Sway};
use crate::{Lang, thai};

/// One word of a comment. Its strings are shared with the thread's readings (see
/// [`Words::read_piece`]): a word read again costs two reference counts, not two copies. The
/// counts are `Rc`'s, not `Arc`'s: tokens stay in the thread that read them, and atomic counts
/// cost 7–16% of the time of reading a comment (the tagging bench, by language).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// The form themes and lexicons match: folded, then stemmed (English, Italian) or stripped
    /// of its particle (Korean).
    pub term: Rc<str>,
    /// The folded word as written, before stemming.
    pub word: Rc<str>,
    /// Byte range in the original text, for highlighting.
    pub start: usize,
    pub end: usize,
    /// Inside the scope of a negation ("not *fast*", "non è *arrivato*", "안 *좋아요*", "ไม่*ดี*").
    pub negated: bool,
    /// A function word (the, il, 그리고, และ) or a negator: no theme or phrase on its own.
    pub stop: bool,
    /// not, non, 안, ไม่ …: what begins a negation's scope.
    pub negator: bool,
    /// Which clause of the comment the word is in (punctuation starts a new one): a phrase
    /// never spans two.
    pub clause: u32,
    /// What the word does to the comment's sentiment, as its lexicon and rules say.
    pub(crate) sway: Sway,
    /// Which of the rules file's short lists the word is in.
    pub(crate) marks: Marks,
}

/// Which of the rules file's short lists a word is in ("only", the faults, "back" …), found
/// once with the word's reading: the rules that use them test a bit, not the word, and most
/// comments, which have none of them, skip those rules.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Marks(u16);

impl Marks {
    const ONLY: u16 = 1;
    const FAULT: u16 = 1 << 1;
    const AGAIN: u16 = 1 << 2;
    const AGAIN_VERB: u16 = 1 << 3;
    const AGAIN_MEANT: u16 = 1 << 4;
    const AGAIN_SURELY: u16 = 1 << 5;
    const AT_ALL: u16 = 1 << 6;
    const INTENTION: u16 = 1 << 7;
    /// "Times" (volte, 번, ครั้ง), said after a count.
    const TIMES: u16 = 1 << 8;
    /// A word that says the count alone: twice, kept, 여러번, 5번.
    const REPEATED: u16 = 1 << 9;
    /// A count of two or more, or an ordinal past the first: "three", "third", "5".
    const COUNT: u16 = 1 << 10;
    /// What a customer should need to do, or be charged, once (call, 전화, โทร).
    const ONCE: u16 = 1 << 11;

    fn has(self, mark: u16) -> bool {
        self.0 & mark != 0
    }
}

/// The word rules of one language, as `data/rules/<lang>.json` gives them.
#[derive(Deserialize)]
struct RulesFile {
    stopwords: Vec<String>,
    negators: Vec<String>,
    /// Words that end a negation's scope and weigh what follows more ("but", "ma", "하지만").
    contrast: Vec<String>,
    #[serde(default)]
    intensifiers: BTreeMap<String, f64>,
    /// Intensifiers that say "more than wanted" (too, troppo, เกินไป): the plain word they
    /// reach becomes a complaint (see `more_than_wanted`).
    #[serde(default)]
    excess: Vec<String>,
    /// Stop words that such a word makes a complaint of too: "too much", "too many".
    #[serde(default)]
    amounts: Vec<String>,
    /// Plain qualities after which Thai ไป alone says "too" (see `too_in_thai`).
    #[serde(default)]
    too_after: Vec<String>,
    /// "Only" said of a fault: "my only complaint", "l'unica pecca" (see `only_fault`).
    #[serde(default)]
    only: Vec<String>,
    /// The names of a fault that "only" makes the one fault: complaint, issue, pecca.
    #[serde(default)]
    faults: Vec<String>,
    /// "Will come again" (see `coming_back`): the word of coming back (back, อีก), the verbs
    /// it follows (be, come; มา, ซื้อ; Korean, the stems promised with 게요: 올, 이용), the
    /// words that say it is meant before the verb (will, จะ) and after it (แน่นอน, for sure).
    #[serde(default)]
    again: Vec<String>,
    #[serde(default)]
    again_verbs: Vec<String>,
    #[serde(default)]
    again_meant: Vec<String>,
    #[serde(default)]
    again_surely: Vec<String>,
    /// Korean "at all" (1도, 하나도, 전혀), said between a word and the 없다 that negates it:
    /// 재미가 1도 없다 (no fun at all); and the words that stand there as it does: a place or
    /// point (데, 곳: 흠잡을 데가 없어요, nothing to fault), a single word (사과 한마디 없었어요).
    #[serde(default)]
    at_all: Vec<String>,
    /// Korean nouns of intention (의사, 생각): none of them, and the deed before is not to be
    /// done (재구매 의사 없어요, no intention of buying again).
    #[serde(default)]
    intentions: Vec<String>,
    /// Korean well-wishes (번창, 잘되): wished for the business, not missed by the customer,
    /// so no complaint (see `wish_in_korean_or_thai`).
    #[serde(default)]
    well_wishes: Vec<String>,
    /// A warning not to buy (see `warned_off`): the verbs (`warned`: buy, waste; 사지) and the
    /// words that make a warning of them (`warning`: dont, "do not", อย่า, non; 마세요 after).
    #[serde(default)]
    warned: Vec<String>,
    #[serde(default)]
    warning: Vec<String>,
    /// Repeat contacts (see `done_again_and_again`): the verbs of what a customer should need
    /// to do, or be charged, once, by how they begin (`once`: call, phon, 전화, โทร, addebit);
    /// the words of "times" (`times`: times, volte, 번, ครั้ง); the counts of two or more and the
    /// ordinals past the first said before them (`counts`: three, third, tre, 세, สาม); the
    /// words that say the count alone (`repeated`: twice, ripetutamente, 수차례).
    #[serde(default)]
    once: Vec<String>,
    #[serde(default)]
    times: Vec<String>,
    #[serde(default)]
    counts: Vec<String>,
    #[serde(default)]
    repeated: Vec<String>,
    /// Korean words of the lexicon counted only where a word begins: further in, their letters
    /// are an ending (기만, deceit, is -기만, "only doing", in 재밌기만 하다 and 웃기만 했네).
    #[serde(default)]
    start_only: Vec<String>,
    /// Korean particles (이, 가, 은, 는 …) and common predicate endings (하다, 했어요, 스럽다 …)
    /// stripped from the end of a word, the longest that fits.
    #[serde(default)]
    particles: Vec<String>,
    /// Korean nouns whose last syllable is also a particle (만족도, satisfaction; 전문가,
    /// expert): never stripped, so that 만족도, 만족도가 and 만족도는 are one term, not 만족 and
    /// 만족도. Only nouns rarely meant as the shorter noun and the particle: 친절도 is more
    /// often 친절 and 도 (kindness too) than a level of kindness, so it is not listed.
    #[serde(default)]
    whole: Vec<String>,
    /// Korean nouns of one syllable that customers write with a one-syllable particle (맛이,
    /// the taste; 값도, the price too): it is stripped from them, which a one-syllable word is
    /// otherwise too short to carry (사과 keeps its 과), so that 맛이 없어요 reads as 맛 없 (not
    /// tasty) does. Only nouns that do not make another word with a particle: 차이 is a
    /// difference, not 차 (a car, tea) and 이.
    #[serde(default)]
    short_nouns: Vec<String>,
    /// Particles that make a yes/no question of what comes just before (Thai ไหม, มั้ย): "ดีไหม"
    /// asks whether it is good, and says neither.
    #[serde(default)]
    questions: Vec<String>,
    /// What a customer expects to happen (a refund, a reply, delivery, that it works): said
    /// not to have happened, it is a complaint, whatever the word's own value ("never got my
    /// refund" is not praise because "refund" leans negative).
    #[serde(default)]
    expected: Vec<String>,
    /// Words that say a problem was dealt with (fixed, risolto, 해결): in their clause, unless
    /// negated, the `problems` named are no complaint ("fixed the issue right away").
    #[serde(default)]
    resolving: Vec<String>,
    #[serde(default)]
    problems: Vec<String>,
    /// Articles, possessives, pronouns and Italian clitic pronouns: they do not use up a
    /// negation's reach ("didn't get my money back", "non ho ricevuto il rimborso", "non mi
    /// sono trovato bene"), nor part a listed pair ("let me down").
    #[serde(default)]
    articles: Vec<String>,
    /// Forms of "to be" that link a word to what is said of it: they stand inside a pair and
    /// a negation's reach as articles do ("the food was cold", "il cibo era freddo", "not sure
    /// it was worth it"), but do not make "a little" of Italian poco ("è poco gentile") as an
    /// article does, nor carry it past them ("dopo poco si è rotto", soon after it broke).
    #[serde(default)]
    copulas: Vec<String>,
    /// Negators (not listed again under `negators`) that reach only the word after them, and
    /// only where no article stands before them: Italian poco (poco cortese, not very polite),
    /// not un poco (a little).
    #[serde(default)]
    negates_next: Vec<String>,
    /// Words after which a negation reaches no further: what was not expected is what then
    /// happened ("I didn't expect to like it this much" is praise).
    #[serde(default)]
    ends_negation: Vec<String>,
    /// Words of the sentiment lexicon or the themes matched only as written, not by their
    /// stem: their stem is an everyday word of another sense (please → pleased, wonder →
    /// wonderful, friend → friendly, except → exceptional, aspettare → aspettative, line →
    /// lined), or in Thai they begin a longer word (แตก, broken, begins แตกต่าง, different).
    #[serde(default)]
    unstemmed: Vec<String>,
}

pub(crate) struct Rules {
    pub stopwords: HashSet<String>,
    pub negators: HashSet<String>,
    pub contrast: HashSet<String>,
    pub intensifiers: rustc_hash::FxHashMap<String, f64>,
    pub excess: HashSet<String>,
    amounts: HashSet<String>,
    too_after: Vec<String>,
    // Short lists, looked up for most words: a few compares cost less than hashing the word.
    only: Vec<String>,
    faults: Vec<String>,
    at_all: Vec<String>,
    intentions: Vec<String>,
    well_wishes: Vec<String>,
    again: Vec<String>,
    again_verbs: Vec<String>,
    again_meant: Vec<String>,
    again_surely: Vec<String>,
    pub start_only: Vec<String>,
    warned: Vec<String>,
    warning: Vec<String>,
    once: Vec<String>,
    times: Vec<String>,
    counts: Vec<String>,
    repeated: Vec<String>,
    pub questions: HashSet<String>,
    /// Folded, not yet read as terms (see `Lexicons`, which reads them).
    pub expected: Vec<String>,
    pub resolving: Vec<String>,
    pub problems: Vec<String>,
    pub unstemmed: HashSet<String>,
    /// Articles and copulas in one set: most words are neither, and one look tells.
    passing: HashSet<String>,
    copulas: HashSet<String>,
    ends_negation: Vec<String>,
    negates_next: Vec<String>,
    /// With their length in syllables, longest first, by their last letter.
    particles: FxHashMap<char, Vec<(String, usize)>>,
    whole: HashSet<String>,
    short_nouns: HashSet<String>,
}

/// What a word does in a comment, as [`Words::read`] finds it.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Content,
    Stop,
    Negator,
}

/// Thai says "cannot" after the verb, at the end of what is said: แนะนำไม่ได้ (cannot
/// recommend), ใช้ไม่ได้เลยค่ะ. Followed by more, ไม่ได้ is "did not" for the verb after it
/// (เสียดายไม่ได้ไป, sorry not to have gone), which the negator's own reach covers.
fn cannot_after_the_verb(tokens: &mut [Token]) {
    /// What may still follow: the particles that end a Thai sentence.
    const ENDINGS: [&str; 12] = ["เลย", "นะ", "ค่ะ", "คะ", "ครับ", "คับ", "จ้า", "จ้ะ", "หรอก", "อ่ะ", "ล่ะ", "แล้ว"];
    for at in 2..tokens.len() {
        let (before, after) = tokens.split_at_mut(at);
        let ([first @ .., verb, not], [can, rest @ ..]) = (before, after) else { continue };
        let first = first.last_mut();
        if *can.word == *"ได้"
            && *not.word == *"ไม่"
            && !verb.stop
            && verb.clause == can.clause
            && not.clause == can.clause
            && rest.iter().take_while(|t| t.clause == can.clause).all(|t| ENDINGS.contains(&&*t.word))
        {
            verb.negated = true;
            // Or the word is the object, after a verb of what is expected: สมัคร|สมาชิก|ไม่ได้
            // (cannot sign up).
            if let Some(expected) = first.filter(|t| matches!(t.sway, Sway::Expected(_)) && t.clause == can.clause) {
                expected.negated = true;
            }
        }
    }
}

/// "Couldn't be happier", "Non poteva andare meglio", 더 좋을 수 없어요 (it couldn't be
/// better): what could not be more is the most there is, not its opposite. A comparative
/// negated by "cannot" is not turned around but made a superlative ("Couldn't be worse" is
/// a strong complaint); one negated by a plain "not" is turned around ("It is not better").
fn nothing_better(tokens: &mut [Token], lang: Lang) {
    for at in 1..tokens.len() {
        let (before, [word, after @ ..]) = tokens.split_at_mut(at) else { continue };
        if !word.negated {
            continue;
        }
        let in_clause = |t: &&Token| t.clause == word.clause;
        let cannot = match lang {
            // couldn't / can't / cannot / could not (have) be(en) / get / go / ask(ed) for … better,
            // happier, more X
            Lang::En => {
                let comparative = matches!(&*word.word, "better" | "worse")
                    || (word.word.len() > 4 && word.word.ends_with("er"))
                    || before.last().is_some_and(|t| matches!(&*t.word, "more" | "less"));
                let linking = |t: &Token| matches!(&*t.word, "be" | "been" | "get" | "go" | "gone" | "ask" | "asked");
                let between =
                    |t: &&Token| linking(t) || matches!(&*t.word, "more" | "less" | "any" | "ever" | "have" | "for");
                let mut back = before.iter().rev().take_while(in_clause).peekable();
                let mut linked = false;
                while let Some(t) = back.next_if(between) {
                    linked |= linking(t);
                }
                let negator = back.next();
                comparative && linked && negator.is_some_and(|not| says_cannot(not, back.next()))
            }
            // non poteva / potrebbe / si può … meglio, migliore, più X
            Lang::It => {
                let comparative = matches!(&*word.word, "meglio" | "migliore" | "migliori")
                    || before.last().is_some_and(|t| *t.word == *"più");
                let clause: Vec<&Token> = before.iter().filter(|t| t.clause == word.clause).collect();
                comparative
                    && (clause.windows(2).any(|w| *w[0].word == *"non" && w[1].word.starts_with("pot"))
                        || clause.windows(3).any(|w| *w[0].word == *"non" && w[2].word.starts_with("pu")))
            }
            // 더 좋을 수 없어요: more, then the word, then 수 없다 (cannot); 더할 나위 없이
            // 좋아요: with no room to add.
            Lang::Ko => {
                (before.last().is_some_and(|t| *t.word == *"더")
                    && matches!(after, [can, not, ..] if can.term.starts_with('수') && not.word.starts_with('없')))
                    || matches!(before, [.., room, none] if *room.word == *"나위" && none.word.starts_with('없'))
            }
            Lang::Th => false,
        };
        if cannot {
            word.negated = false;
            // The comparative is a superlative: "better" is "best" (also where it ends a pair,
            // as in "could do better": said after "cannot", it is no pair).
            if let Some(value) = word.sway.plain() {
                word.sway = Sway::Word((value * 2.0).clamp(-3.0, 3.0));
            }
        }
    }
}

/// Whether the English negator `not`, with the word `before` it, says "cannot": can't,
/// cannot, couldn't, could not.
fn says_cannot(not: &Token, before: Option<&Token>) -> bool {
    match &*not.word {
        "can't" | "cant" | "cannot" | "couldn't" | "couldnt" => true,
        "not" => before.is_some_and(|t| matches!(&*t.word, "could" | "can")),
        _ => false,
    }
}

/// "Can't recommend them enough", "can't thank you enough": praise past measure, not its
/// opposite. Where "enough" ends a clause after "cannot", the words between are not negated;
/// after a plain "not" ("not good enough") or before a noun ("didn't get enough help") it is
/// a complaint.
fn not_enough_praise(tokens: &mut [Token]) {
    for at in 1..tokens.len() {
        let (before, [enough, after @ ..]) = tokens.split_at_mut(at) else { continue };
        let ends_clause = after.iter().take_while(|t| t.clause == enough.clause).all(|t| t.stop);
        if *enough.word != *"enough" || !ends_clause {
            continue;
        }
        let in_clause = before.iter().rev().take_while(|t| t.clause == enough.clause).count();
        let clause = &mut before[at - in_clause..];
        let Some(negator) = clause.iter().rposition(|t| t.negator) else { continue };
        let before = negator.checked_sub(1).map(|i| &clause[i]);
        if says_cannot(&clause[negator], before) {
            clause[negator + 1..].iter_mut().for_each(|t| t.negated = false);
        }
    }
}

/// "Too big", "troppo piccolo", ใหญ่เกินไป: more than the customer wanted of a plain quality
/// is a complaint, though the word alone says nothing either way. A word with a value of its
/// own is only made stronger, as by any intensifier ("too expensive", "too cute"). "Too" that
/// means "also" ends its clause ("I love it too") and so reaches nothing.
fn more_than_wanted(tokens: &mut [Token], lang: Lang, amounts: &HashSet<String>) {
    for at in 0..tokens.len() {
        if !matches!(tokens[at].sway, Sway::TooMuch(_)) {
            continue;
        }
        // Thai says it after the word (ใหญ่เกินไป); the others before (too big).
        let reached = if lang == Lang::Th { at.checked_sub(1) } else { Some(at + 1) };
        let clause = tokens[at].clause;
        let Some(word) = reached.and_then(|i| tokens.get_mut(i)) else { continue };
        let plain = word.sway.plain() == Some(0.0) && !word.negator;
        if plain && word.clause == clause && (!word.stop || amounts.contains(&*word.word)) {
            word.sway = Sway::Word(TOO_MUCH);
        }
    }
}

/// Thai says "too" with ไป alone after a quality: เค็มไป (too salty), เล็กไปหน่อย (a bit too
/// small); after other words ไป is "go" (ส่งไป, sent off; ตอนเย็นไป, went in the evening). After
/// a listed quality it is the language's "too" (เกินไป, `too`), and `more_than_wanted` reads it
/// as that. Whether it found one.
fn too_in_thai(tokens: &mut [Token], qualities: &[String], too: f64) -> bool {
    let mut found = false;
    for at in 1..tokens.len() {
        let (before, [go, ..]) = tokens.split_at_mut(at) else { continue };
        let quality = &before[at - 1];
        if *go.word == *"ไป" && quality.clause == go.clause && listed(qualities, &quality.word) {
            go.sway = Sway::TooMuch(too);
            found = true;
        }
    }
    found
}

/// What more than wanted of a plain quality counts, before "too" makes it stronger: a mild
/// complaint ("too big" weighs −1.3, "disappointing" −2). At −1.5, 4- and 5-star clothing
/// reviews that find a dress too long read less often as praise (see README).
const TOO_MUCH: f64 = -1.0;

/// "My only complaint is …", "L'unica pecca è …", 유일한 단점은 …: the fault named after
/// "only" says that all else was good; it is no complaint of its own ("Love it. My only
/// complaint is the wait" had read negative). The rules file lists both words (`only`,
/// `faults`).
fn only_fault(tokens: &mut [Token]) {
    for at in 1..tokens.len() {
        let (before, [named, ..]) = tokens.split_at_mut(at) else { continue };
        if before.last().is_some_and(|t| t.marks.has(Marks::ONLY) && t.clause == named.clause)
            && named.marks.has(Marks::FAULT)
        {
            named.sway = Sway::Word(0.0);
        }
    }
}

/// "Mai più" (con voi) is never again, expected and not to be; but "mai più problemi" is no
/// more problems, where più only leads to the noun.
fn never_again_in_italian(tokens: &mut [Token]) {
    for at in 1..tokens.len() {
        let (before, after) = tokens.split_at_mut(at);
        let ([.., never], [more, rest @ ..]) = (before, after) else { continue };
        if *more.word == *"più"
            && *never.word == *"mai"
            && rest.first().is_none_or(|next| next.stop || next.clause != more.clause)
        {
            more.sway = Sway::Expected(0.0);
        }
    }
}

/// Korean "want to … again" and "will … again" are praise: 다시 오고 싶어요 (I'd like to come
/// again), 또 보고싶다, 또 올게요 (I will come again), 다음에도 이용할게요 (I will use it next time
/// too). A word of wanting (싶), or a promise (게요) to come back or buy, after 또, 다시 or 다음에
/// in its clause, or glued to them, counts as coming back does; 싶지 않아요 (do not want)
/// negates it as any word. The verbs of coming back or buying are the rules file's
/// `again_verbs`, as the stems of 올게요 (I will come) and 이용할게요.
fn wanted_again_in_korean(tokens: &mut [Token], verbs: &[String]) {
    let again_at = |word: &str| word.starts_with('또') || word.starts_with("다시") || word.starts_with("다음에");
    // Most comments say none: one pass of byte compares finds that.
    let Some(first) = tokens.iter().position(|t| again_at(&t.word)) else { return };
    let again = |word: &str| matches!(word, "또" | "또다시" | "다시" | "다시한번" | "다음에" | "다음에도");
    for at in first..tokens.len() {
        let (before, [want, ..]) = tokens.split_at_mut(at) else { continue };
        let said = (again_at(&want.word) && !again(&want.word))
            || before.iter().rev().take(NEGATION_REACH).take_while(|t| t.clause == want.clause).any(|t| again(&t.word));
        let valued = want.sway.plain() != Some(0.0);
        // 싶 (want), or its contraction 고프/고파: 또 보고프다; or a promise to come back or buy
        // again: 또 올게요, 다음에 또 이용할게요.
        let wanting = want.word.contains('싶')
            || want.word.contains("고프")
            || want.word.contains("고파")
            || (["게요", "께요"].iter().any(|end| want.word.ends_with(end))
                && verbs.iter().any(|verb| want.word.starts_with(verb.as_str())));
        if said && !valued && wanting {
            want.sway = Sway::Word(WANTED_AGAIN);
        }
    }
}

/// "Will come again" is praise: "we'll definitely be back", จะกลับมาอีกแน่นอน, ไว้มาอีกนะคะ.
/// The word of coming back (`again`: back, อีก) after a verb of coming or buying counts as
/// coming back does where it is meant: with a word of intention (will, จะ, ไว้) before the verb,
/// of certainty (แน่นอน) after it, or negated, as in "won't be back" and ไม่มาอีกแล้ว, which the
/// negation makes a complaint. Said of what happened, it is no praise: "it came back broken",
/// กลับมาอีกครั้ง (is back again), ต้องมาอีกรอบ (had to come again). Korean says it with an
/// ending (`wanted_again_in_korean`).
fn coming_back(tokens: &mut [Token]) {
    for at in 1..tokens.len() {
        let (before, [again, after @ ..]) = tokens.split_at_mut(at) else { continue };
        if !again.marks.has(Marks::AGAIN) {
            continue;
        }
        let mut back = before.iter().rev().take_while(|t| t.clause == again.clause).filter(|t| !t.negator);
        if !back.next().is_some_and(|verb| verb.marks.has(Marks::AGAIN_VERB)) {
            continue;
        }
        let meant = back.take(2).any(|t| t.marks.has(Marks::AGAIN_MEANT))
            || after.first().is_some_and(|t| t.marks.has(Marks::AGAIN_SURELY) && t.clause == again.clause)
            || again.negated;
        if meant {
            again.sway = Sway::Word(WANTED_AGAIN);
        }
    }
}

/// "Don't buy", "do not waste your money", อย่าซื้อ, "non comprate", 사지 마세요: a warning not
/// to buy, order or waste is a complaint, as what was expected and did not happen is, whatever
/// the verb's own value ("not" had turned "Don't waste your money" into praise). Said of what
/// was done, it is none: "I didn't buy it at first". The rules file lists the verbs (`warned`)
/// and the words that make a warning of them (`warning`), which stand before the verb ("dont",
/// "do not", อย่า, non) or, in Korean, after it (마세요). The warning negates its verb alone:
/// "don't buy this junk" says the junk is junk (up to the next negator, which negates as any).
fn warned_off(tokens: &mut [Token], rules: &Rules, lang: Lang) {
    if rules.warned.is_empty() {
        return;
    }
    for at in 0..tokens.len() {
        // Most words are neither a negator nor begin with 마: a flag or a byte tells.
        let verb_at = if lang == Lang::Ko {
            if at == 0 || !tokens[at].word.starts_with('마') || !listed(&rules.warning, &tokens[at].word) {
                continue;
            }
            at - 1
        } else {
            let warns = |w: &String| match w.split_once(' ') {
                Some((first, last)) => *tokens[at].word == *last && at > 0 && *tokens[at - 1].word == *first,
                None => *tokens[at].word == **w,
            };
            if !tokens[at].negator || !rules.warning.iter().any(warns) {
                continue;
            }
            at + 1
        };
        let clause = tokens[at].clause;
        let warned = |verb: &&mut Token| verb.clause == clause && listed(&rules.warned, &verb.word);
        let Some(verb) = tokens.get_mut(verb_at).filter(warned) else { continue };
        verb.sway = Sway::Expected(0.0);
        verb.negated = true;
        for after in tokens[verb_at + 1..].iter_mut().take_while(|t| t.clause == clause && !t.negator) {
            after.negated = false;
        }
    }
}

/// Korean "well" said of what was expected says it happened, and well: 잘 받았어요 (it came
/// fine), 잘 도착했어요, 잘 작동해요. Said not to have happened (잘 안 돼요, 잘 받지 못했어요) it
/// is still the complaint: 안 stands between, or the word is negated.
fn done_well_in_korean(tokens: &mut [Token]) {
    for at in 1..tokens.len() {
        let (before, [done, ..]) = tokens.split_at_mut(at) else { continue };
        let well = &before[at - 1];
        if *well.word == *"잘" && well.clause == done.clause && !done.negated && done.sway == Sway::Expected(0.0) {
            done.sway = Sway::Word(DONE_WELL);
        }
    }
}

/// Korean 이나 after a length of time says "all of": 30분이나 기다렸어요 (I waited all of 30
/// minutes), 배송이 일주일이나 걸렸어요 (delivery took a whole week). Before a verb of waiting or
/// of taking time, in its clause, it makes the complaint that 오래 기다렸어요 (waited long) is in
/// the lexicon. Said of a count of anything else it is no complaint (세 번이나 봤어요, I watched
/// it all of three times), nor is a length of time without it (이틀 걸렸어요, it took two days).
fn waited_all_of_in_korean(tokens: &mut [Token]) {
    const TIMES: [&str; 11] = ["분", "시간", "일", "주", "달", "개월", "년", "하루", "이틀", "며칠", "한참"];
    const VERBS: [&str; 7] = ["기다리", "기다렸", "기다린", "걸리", "걸려", "걸렸", "걸린"];
    for at in 1..tokens.len() {
        let (before, [verb, ..]) = tokens.split_at_mut(at) else { continue };
        let time = &before[at - 1];
        // Read from the word: 나 after a vowel (하루나) is no particle the reader strips.
        let Some(length) = time.word.strip_suffix("이나").or_else(|| time.word.strip_suffix('나')) else { continue };
        if time.clause == verb.clause
            && TIMES.iter().any(|unit| length.ends_with(unit))
            && VERBS.iter().any(|v| verb.word.starts_with(v))
        {
            verb.sway = Sway::Word(WAITED_ALL_OF);
        }
    }
}

/// "I had to call five times", "ho dovuto chiamare tre volte", 다섯 번이나 전화했어요,
/// โทรไปห้าครั้ง, "charged twice", "kept getting transferred": what a customer should need to
/// do or be charged once, done again and again, is a complaint (first-contact resolution,
/// the figure call centres keep, counts exactly this), though no word of it says so. A count of times, or a
/// word that says it was kept at (kept, continuamente), in the clause of a verb the rules file
/// lists as `once`, before or after it, weighs as "on hold" does; with its verb negated it is
/// praise ("I didn't have to call twice"). Of anything else a count says nothing ("I've
/// ordered here many times", 세 번이나 봤어요), nor does 번에, "in … goes" (두 번에 나눠 결제,
/// paid in two instalments).
fn done_again_and_again(tokens: &mut [Token]) {
    for at in 0..tokens.len() {
        let said = &tokens[at];
        let counted = at > 0 && tokens[at - 1].marks.has(Marks::COUNT) && tokens[at - 1].clause == said.clause;
        let repeated = said.marks.has(Marks::REPEATED) || (said.marks.has(Marks::TIMES) && counted);
        if !repeated || said.word.ends_with('에') {
            continue;
        }
        let clause = said.clause;
        let mut verbs = tokens.iter().enumerate().filter(|(i, t)| *i != at && t.clause == clause);
        if let Some((_, verb)) = verbs.find(|(_, t)| t.marks.has(Marks::ONCE)) {
            // "Didn't have to call twice": the negation reaches the verb, not always its count.
            let negated = verb.negated;
            tokens[at].sway = Sway::Word(REPEATED);
            tokens[at].negated |= negated;
        }
    }
}

/// What a call or a charge made again and again is worth: as much as "on hold" in the lexicon.
const REPEATED: f64 = -2.0;

/// What waiting all of a length of time is worth: as much as 오래 걸렸 (took long) in the lexicon.
const WAITED_ALL_OF: f64 = -2.0;

/// 잘 (well) typed glued to what was expected, as often as not: 잘받았어요, 잘도착했어요. Where
/// the verb begins: the piece is read as the two words (see `done_well_in_korean`).
fn well_glued_before(piece: &str) -> Option<usize> {
    let rest = piece.strip_prefix('잘')?;
    Lexicons::shared().begins_expected_in_korean(rest).then_some('잘'.len_utf8())
}

/// What "well" said of an expected thing counts: as much as 잘 돼요 (it works) in the lexicon.
const DONE_WELL: f64 = 1.0;

/// What wanting to come back, buy again or see again is worth: as much as 재방문 (a return
/// visit) and 재구매 (buying again) in the lexicon.
const WANTED_AGAIN: f64 = 2.0;

/// Korean "too good to …": 아깝다 (a waste, a pity) after a deed in 기엔 or 기에는 is praise:
/// 묻히기엔 아까운 영화 (too good to be forgotten); so after 나만 or 혼자 (to myself) and a
/// deed: 나만 알기 아까운 곳 (too good to keep to myself). After a noun, or a deed in 기도
/// (even to …), it is the complaint it was: 시간이 아까웠다, 1점 주기도 아깝다.
fn too_good_to_in_korean(tokens: &mut [Token]) {
    for at in 0..tokens.len() {
        let (before, [pity, ..]) = tokens.split_at_mut(at) else { continue };
        // Most words are no complaint: one compare of the value finds that.
        if !pity.sway.plain().is_some_and(|v| v < 0.0) {
            continue;
        }
        let Some(glued) = pity.word.find("아까").or_else(|| pity.word.find("아깝")) else { continue };
        // The words before in the clause, past a "so" (너무 아까운).
        let mut words = before
            .iter()
            .rev()
            .take_while(|t| t.clause == pity.clause)
            .filter(|t| !matches!(t.sway, Sway::Intensifier(_)))
            .map(|t| &*t.word);
        // The deed, glued to 아깝다 or the word before it; then the word before the deed.
        let (deed, first) = match glued {
            0 => (words.next().unwrap_or_default(), words.next()),
            _ => (&pity.word[..glued], None),
        };
        let to_myself = |w: &str| w.starts_with("나만") || w.starts_with("혼자");
        let too_good = ["기엔", "기에는", "기에"].iter().any(|ending| deed.ends_with(ending))
            || (deed.ends_with('기') && (to_myself(deed) || first.is_some_and(to_myself)));
        if too_good {
            pity.sway = Sway::Word(TOO_GOOD_TO);
        }
    }
}

/// What "too good to …" is worth: as much as 아깝다 is against.
const TOO_GOOD_TO: f64 = 2.0;

/// Korean and Thai say what should have been with an ending or after the word: 더
/// 친절했으면 좋겠어요 (I wish you were kinder), ดีกว่านี้ (better than this). Marks the words
/// wished for before `word` as negated; whether `word` is the wish itself (좋겠어요, "it would
/// be good"), which is no praise: 계속했으면 좋겠어요 (I hope it goes on) says nothing either way.
/// A well-wish (`well_wishes`: 번창했으면 좋겠어요, may the shop do well) is what it says.
fn wish_in_korean_or_thai(tokens: &mut [Token], word: &str, lang: Lang, well_wishes: &[String]) -> bool {
    match (lang, tokens) {
        // "If it had been …": the past (a syllable ending in ㅆ) before 으면.
        (Lang::Ko, [.., wished]) if word.starts_with("좋겠") || word.starts_with("좋았을") => {
            if well_wishes.iter().any(|w| wished.word.starts_with(w.as_str())) {
                return false;
            }
            let mut syllables = wished.word.strip_suffix("으면").map(|w| w.chars().rev());
            let past = syllables
                .as_mut()
                .and_then(Iterator::next)
                .is_some_and(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c) && (u32::from(c) - 0xAC00) % 28 == 20);
            wished.negated |= past;
            past
        }
        // "Than this": the better, faster that is wished for, not had.
        (Lang::Th, [.., before, than]) if word == "นี้" && than.word.ends_with("กว่า") => {
            let better = if *than.word == *"กว่า" && before.clause == than.clause { before } else { than };
            better.negated = true;
            false
        }
        _ => false,
    }
}

/// The Korean negators said before the word they negate, and so glued to it at times.
const GLUED_NEGATORS: [&str; 2] = ["안", "못"];

/// Korean says "but" as an ending glued to the word it follows: 지만 (맛있지만 비싸요, tasty but
/// dear; 괜찮았지만 재미없다), and 는데, 은데 or ㄴ데 (맛있는데 비싸요, 좋은데 작아요, 비싼데
/// 맛있어요), which also only sets the scene (배송이 빨랐는데 포장도 꼼꼼했어요): what follows
/// is the point either way. Where such an ending begins in `piece`: the piece is read as the
/// word and the ending, a contrast word; ㄴ데 as the word's ㄴ form (비싼) and 데. A noun ending
/// in 지 with the particle 만 (only) is no "but".
fn but_glued_after(piece: &str) -> Option<usize> {
    const NOUNS_IN_JI: [&str; 8] = ["이미", "메시", "메세", "페이", "패키", "마사", "소시", "마일리"];
    if let Some(word) = piece.strip_suffix("지만").filter(|w| !w.is_empty()) {
        return (!NOUNS_IN_JI.iter().any(|noun| word.ends_with(noun))).then_some(word.len());
    }
    if let Some(word) = piece.strip_suffix("는데").or_else(|| piece.strip_suffix("은데")) {
        return (!word.is_empty()).then_some(word.len());
    }
    // A syllable that ends in ㄴ (final consonant 4 of 28), then 데.
    let word = piece.strip_suffix('데')?;
    let last = word.chars().next_back()?;
    (('가'..='힣').contains(&last) && (last as u32 - '가' as u32) % 28 == 4).then_some(word.len())
}

/// Korean chat glues laughter and tears to words: ㅋㅋ재밌어요, 최고ㅠㅠ, 재밌어용ㅎㅎ근데. Where a
/// run of bare letters (compatibility jamo) meets the rest of `piece`: the piece is read as the
/// two, so that a word is read from its start and the run as the sign it is. Letters typed one
/// by one that fold into a syllable (ㅈㅐ밌어요, a consonant then a vowel) stay whole.
fn jamo_apart(piece: &str) -> Option<usize> {
    let is_jamo = |c: char| ('\u{3131}'..='\u{318E}').contains(&c);
    let is_vowel = |c: char| ('\u{314F}'..='\u{3163}').contains(&c);
    let mut chars = piece.char_indices().peekable();
    let mut before = None;
    while let Some((at, c)) = chars.next() {
        if let Some(b) = before
            && is_jamo(b) != is_jamo(c)
        {
            return Some(at);
        }
        if is_jamo(c) && !is_vowel(c) && chars.peek().is_some_and(|&(_, next)| is_vowel(next)) {
            return None;
        }
        before = Some(c);
    }
    None
}

/// Whether a Korean word is 않다 or 못하다 (not), which negate the predicate before them.
fn negates_before(word: &str) -> bool {
    word.starts_with('않') || word.starts_with("못하") || word.starts_with("못해")
}

/// Whether `word` is one of a short list of the rules file.
fn listed(list: &[String], word: &str) -> bool {
    list.iter().any(|w| w == word)
}

impl Rules {
    /// Whether `word` stands between a negator or a pair's first word and the word they act
    /// on without counting: an article or a pronoun, and a copula unless what acts reaches the
    /// next word only.
    pub(crate) fn passes_over(&self, word: &str, next_word_only: bool) -> bool {
        self.passing.contains(word) && !(next_word_only && self.copulas.contains(word))
    }

    /// Whether `word` is an article, possessive or pronoun (un, il, mi …).
    fn is_article(&self, word: &str) -> bool {
        self.passing.contains(word) && !self.copulas.contains(word)
    }

    /// The short lists `word` (read as `term`) is in. Faults are found by their term too:
    /// Korean names one with a particle (단점은, 불만이); intentions by their term only.
    fn marks(&self, word: &str, term: &str) -> Marks {
        // Korean lists verbs of coming back for its own rule (`wanted_again_in_korean`), not
        // this one's: without a word of coming back, they mark nothing.
        let verbs: &[String] = if self.again.is_empty() { &[] } else { &self.again_verbs };
        let by_word: [(&[String], u16); 7] = [
            (&self.only, Marks::ONLY),
            (&self.faults, Marks::FAULT),
            (&self.again, Marks::AGAIN),
            (verbs, Marks::AGAIN_VERB),
            (&self.again_meant, Marks::AGAIN_MEANT),
            (&self.again_surely, Marks::AGAIN_SURELY),
            (&self.at_all, Marks::AT_ALL),
        ];
        let mut marks = by_word.iter().filter(|(list, _)| listed(list, word)).fold(0, |m, (_, mark)| m | mark);
        if listed(&self.faults, term) {
            marks |= Marks::FAULT;
        }
        if listed(&self.intentions, term) {
            marks |= Marks::INTENTION;
        }
        if self.once.iter().any(|verb| word.starts_with(verb.as_str())) {
            marks |= Marks::ONCE;
        }
        // Past an elided article: l'ennesima (volta), the umpteenth time.
        if self.is_count(word.rsplit_once('\'').map_or(word, |(_, bare)| bare)) {
            marks |= Marks::COUNT;
        }
        if listed(&self.times, word) || listed(&self.times, term) {
            marks |= Marks::TIMES;
        }
        // A count glued to its "times" (여러번, 5번, หลายครั้ง) or "3x" say it in one word.
        let glued = self.times.iter().any(|unit| term.strip_suffix(unit.as_str()).is_some_and(|n| self.is_count(n)));
        if glued || listed(&self.repeated, word) || word.strip_suffix('x').is_some_and(|n| self.is_count(n)) {
            marks |= Marks::REPEATED;
        }
        Marks(marks)
    }

    /// Whether `word` counts two or more, or an ordinal past the first: "three", "3", "third".
    fn is_count(&self, word: &str) -> bool {
        listed(&self.counts, word)
            || (word.bytes().all(|b| b.is_ascii_digit()) && word.parse::<u32>().is_ok_and(|n| n >= 2))
    }
}

/// Whether a Korean word is a light verb, which makes a verb of the noun before it: 하다 (추천
/// 해요), 되다 (공감 되는), and 가다 as in 공감이 가요 (I can relate), 신뢰가 가요.
fn light_verb(word: &str) -> bool {
    word.starts_with([
        '하', '해', '했', '함', '한', '할', '합', '되', '돼', '됐', '됨', '된', '될', '됩', '가', '갔', '간', '갈',
        '갑',
    ])
}

/// Whether a Korean word ends as a predicate does before 않다 or 못하다 (not): 좋지 않아요,
/// and with a particle, 좋지도 (not … either), 좋지는 and 좋진 (not really).
fn ends_in_ji(word: &str) -> bool {
    ["지", "지도", "지는", "지가", "진"].iter().any(|ending| word.ends_with(ending))
}

/// How many words after a negator it reaches, unless punctuation or a contrast word ends it.
pub(crate) const NEGATION_REACH: usize = 3;

/// Segmenter, stemmers and the rules of every language. One per process ([`Words::shared`]).
pub struct Words {
    segmenter: icu_segmenter::WordSegmenterBorrowed<'static>,
    english: Stemmer,
    italian: Stemmer,
    rules: [Rules; 4],
}

impl Words {
    pub fn shared() -> &'static Words {
        static WORDS: OnceLock<Words> = OnceLock::new();
        WORDS.get_or_init(Words::load)
    }

    fn load() -> Words {
        let rules = Lang::ALL.map(|lang| {
            let file: RulesFile = serde_json::from_str(rules_source(lang))
                .unwrap_or_else(|e| panic!("data/rules/{}.json: {e}", lang.tag()));
            let fold_all = |list: Vec<String>| list.iter().map(|w| fold(w, lang)).collect::<HashSet<_>>();
            // Longest first; by their last letter, so that a word is tried against only the
            // particles it could end with.
            let mut particles: Vec<(String, usize)> = file
                .particles
                .into_iter()
                .map(|particle| {
                    let syllables = particle.chars().count();
                    (particle, syllables)
                })
                .collect();
            particles.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
            let mut by_last: FxHashMap<char, Vec<(String, usize)>> = FxHashMap::default();
            for (particle, syllables) in particles {
                let last = particle.chars().next_back().expect("a particle is not empty");
                by_last.entry(last).or_default().push((particle, syllables));
            }
            let path = format!("data/rules/{}.json", lang.tag());
            let intensifiers: rustc_hash::FxHashMap<String, f64> =
                read_as_one(&path, file.intensifiers, |w| fold(w, lang)).collect();
            let excess = fold_all(file.excess);
            if let Some(word) = excess.iter().find(|w| !intensifiers.contains_key(*w)) {
                panic!("{path}: excess {word} is not among the intensifiers");
            }
            Rules {
                stopwords: fold_all(file.stopwords),
                // A negator of the next word only is a negator: listed once, with the others here.
                negators: fold_all(file.negators.into_iter().chain(file.negates_next.iter().cloned()).collect()),
                contrast: fold_all(file.contrast),
                intensifiers,
                excess,
                amounts: fold_all(file.amounts),
                too_after: file.too_after.iter().map(|w| fold(w, lang)).collect(),
                only: file.only.iter().map(|w| fold(w, lang)).collect(),
                faults: file.faults.iter().map(|w| fold(w, lang)).collect(),
                at_all: file.at_all.iter().map(|w| fold(w, lang)).collect(),
                intentions: file.intentions.iter().map(|w| fold(w, lang)).collect(),
                well_wishes: file.well_wishes.iter().map(|w| fold(w, lang)).collect(),
                again: file.again.iter().map(|w| fold(w, lang)).collect(),
                again_verbs: file.again_verbs.iter().map(|w| fold(w, lang)).collect(),
                again_meant: file.again_meant.iter().map(|w| fold(w, lang)).collect(),
                again_surely: file.again_surely.iter().map(|w| fold(w, lang)).collect(),
                start_only: file.start_only.iter().map(|w| fold(w, lang)).collect(),
                warned: file.warned.iter().map(|w| fold(w, lang)).collect(),
                warning: file.warning.iter().map(|w| fold(w, lang)).collect(),
                once: file.once.iter().map(|w| fold(w, lang)).collect(),
                times: file.times.iter().map(|w| fold(w, lang)).collect(),
                counts: file.counts.iter().map(|w| fold(w, lang)).collect(),
                repeated: file.repeated.iter().map(|w| fold(w, lang)).collect(),
                questions: fold_all(file.questions),
                expected: file.expected.iter().map(|w| fold(w, lang)).collect(),
                resolving: file.resolving.iter().map(|w| fold(w, lang)).collect(),
                problems: file.problems.iter().map(|w| fold(w, lang)).collect(),
                unstemmed: fold_all(file.unstemmed),
                passing: fold_all(file.articles.into_iter().chain(file.copulas.iter().cloned()).collect()),
                copulas: fold_all(file.copulas),
                ends_negation: file.ends_negation.iter().map(|w| fold(w, lang)).collect(),
                negates_next: file.negates_next.iter().map(|w| fold(w, lang)).collect(),
                particles: by_last,
                whole: fold_all(file.whole),
                short_nouns: fold_all(file.short_nouns),
            }
        });
        Words {
            // Thai is cut by `thai`; this segmenter sees the other scripts only.
            segmenter: WordSegmenter::new_for_non_complex_scripts(WordBreakInvariantOptions::default()),
            english: Stemmer::create(Algorithm::English),
            italian: Stemmer::create(Algorithm::Italian),
            rules,
        }
    }

    pub(crate) fn rules(&self, lang: Lang) -> &Rules {
        &self.rules[lang.index()]
    }

    /// The words of `text` read as `lang`, in order, with negation scopes marked.
    pub fn tokens(&self, text: &str, lang: Lang) -> Vec<Token> {
        thread_local! {
            static READ: RefCell<[Readings; 4]> = RefCell::default();
        }
        // The thread's readings are taken once for the whole text. Reading a word reads no
        // text; if it ever did, that text would be read without them.
        READ.with(|read| match read.try_borrow_mut() {
            Ok(mut read) => self.tokens_with(text, lang, Some(&mut read[lang.index()])),
            Err(_) => self.tokens_with(text, lang, None),
        })
    }

    /// [`Self::tokens`] with the thread's readings of `lang`, if it has them at hand.
    fn tokens_with(&self, text: &str, lang: Lang, mut kept: Option<&mut Readings>) -> Vec<Token> {
        let mut tokens: Vec<Token> = Vec::with_capacity(text.len() / 5);
        let rules = self.rules(lang);
        // Words left in the current negation's scope, and whether it reaches the next word
        // only (Italian poco): then a copula ends it ("dopo poco si è rotto").
        let mut reach = 0usize;
        let mut next_word_only = false;
        let mut clause = 0u32;
        let mut pieces = self.pieces(text).into_iter();
        // What is left of pieces read as two words (see `Reading::glued`), the nearest last.
        let mut rest = Vec::new();
        // Whether a word may end a listed pair, says "too", or negates: most comments have none
        // of them to look for.
        let (mut ends_pair, mut too_much, mut negates) = (false, false, false);
        // The marks of all its words: a rule none of them calls for is skipped.
        let mut marked = 0u16;
        while let Some((start, end, is_word)) = rest.pop().or_else(|| pieces.next()) {
            let piece = &text[start..end];
            if !is_word {
                if piece.chars().any(ends_clause) {
                    reach = 0;
                    clause += 1;
                }
                continue;
            }
            let mut reading = self.read_piece(piece, lang, kept.as_deref_mut());
            let mut end = end;
            // The word first, then what was glued after it, which may itself be glued to more:
            // 좋지않아요ㅠㅠ is 좋지, 않아요 and ㅠㅠ.
            while let Some(at) = reading.glued.map(usize::from) {
                rest.push((start + at, end, true));
                end = start + at;
                reading = self.read_piece(&text[start..end], lang, kept.as_deref_mut());
            }
            let Reading { word, term, role, stop, sway, marks, .. } = reading;
            if sway == Sway::Contrast {
                reach = 0;
            }
            let next_only = role == Role::Negator && rules.negates_next.iter().any(|w| *w == *word);
            let negator = role == Role::Negator
                && !(next_only && tokens.last().is_some_and(|t| t.clause == clause && rules.is_article(&t.word)));
            // Korean negates after the word: 좋지 않아요, 맛있지 못했다, 재미도 없다.
            if lang == Lang::Ko {
                let after_ji = negates_before(&word);
                let prev = if word.starts_with('없') {
                    // Past a "so" or an "at all" between: 재미 정말 없다, 재미가 1도 없다.
                    let degree = |t: &Token| {
                        matches!(t.sway, Sway::Intensifier(_) | Sway::TooMuch(_)) || t.marks.has(Marks::AT_ALL)
                    };
                    let mut back = tokens.iter_mut().rev().take(3).take_while(|t| t.clause == clause);
                    back.find(|t| !t.stop && !degree(t))
                } else {
                    tokens.last_mut().filter(|t| !t.stop && after_ji && ends_in_ji(&t.word))
                };
                if let Some(prev) = prev {
                    prev.negated = true;
                    // "Neither … nor": each of a row of words in 도 before it, 재미도 감동도
                    // 없는 (neither fun nor moving), 좋지도 싸지도 않아요, and across the commas
                    // of a list: 무섭지도, 재미도 없는.
                    let mut next: Option<&Token> = None;
                    let clause = prev.clause;
                    for t in tokens.iter_mut().rev() {
                        let joined = match next {
                            None => t.clause == clause,
                            Some(n) => t.clause == n.clause || text[t.end..n.start].trim() == ",",
                        };
                        if !joined || !t.word.ends_with('도') {
                            break;
                        }
                        t.negated = true;
                        next = Some(t);
                    }
                }
                // An intention that there is none of is the deed not to be done: 재구매 의사
                // 없어요 (no intention of buying again), 추천할 생각 없어요.
                if let [.., deed, intention] = tokens.as_mut_slice()
                    && word.starts_with('없')
                    && intention.marks.has(Marks::INTENTION)
                    && !deed.stop
                    && deed.clause == intention.clause
                {
                    deed.negated = true;
                }
                // What cannot be done, or a noun whose light verb is negated, is negated too:
                // 추천할 수 없어요 (cannot recommend), 실망 시키지 않는 (does not disappoint).
                let split_off = match tokens.as_slice() {
                    [.., _, by] if word.starts_with('없') => *by.word == *"수",
                    [.., _, by] if after_ji => ["하지", "되지", "시키지", "느껴지지"].contains(&&*by.word),
                    _ => false,
                };
                if let [.., negated, by] = tokens.as_mut_slice()
                    && split_off
                    && !negated.stop
                    && negated.clause == by.clause
                {
                    negated.negated = true;
                }
                // 다시는 … 안 (never again) negates the "again" said first: 다시는 안 살 거예요,
                // 두 번 다시 안 시킵니다. A plain 다시 is only "again": 다시 봐도 안 질리는.
                // With 안 typed glued to its verb too: 다신 안시켜요.
                if negator || word.starts_with('않') || GLUED_NEGATORS.iter().any(|n| word.starts_with(n)) {
                    let in_clause = tokens.iter().rev().take_while(|t| t.clause == clause).count();
                    let from = tokens.len() - in_clause;
                    for at in from..tokens.len() {
                        let never = match &*tokens[at].word {
                            "다시는" | "다신" => true,
                            "다시" => at > from && *tokens[at - 1].word == *"번",
                            _ => false,
                        };
                        tokens[at].negated |= never;
                    }
                }
                // Before 안 or 못 and a light verb, the noun is what is negated: 추천 안 해요,
                // 공감 안 되는, 이해 못 했어요, and past a "so" between: 연결이 너무 안 돼요. Typed
                // as one word too: 추천 안해요, 재구매 안함, 만족 못해요.
                let negator_before = match tokens.as_slice() {
                    [.., before] if GLUED_NEGATORS.contains(&&*before.word) && light_verb(&word) => Some(1),
                    _ if GLUED_NEGATORS.iter().any(|n| word.strip_prefix(n).is_some_and(light_verb)) => Some(0),
                    _ => None,
                };
                if let Some(skip) = negator_before {
                    let noun =
                        tokens.iter_mut().rev().skip(skip).take(3).take_while(|t| t.clause == clause).find(|t| !t.stop);
                    if let Some(noun) = noun {
                        noun.negated = true;
                    }
                }
            }
            // What could or should have been is what was not: "could have been better".
            let wish = lang == Lang::En
                && matches!(&*word, "have" | "be")
                && tokens.last().is_some_and(|t| {
                    t.clause == clause
                        && (matches!(&*t.word, "could" | "should") || (*t.word == *"would" && *word == *"have"))
                });
            // "Wanted to love it", "hoped to like it": the liking hoped for, not had.
            let unmet = lang == Lang::En
                && matches!(&*word, "love" | "like")
                && matches!(tokens.as_slice(), [.., to] if *to.word == *"to" && to.clause == clause)
                && tokens
                    .iter()
                    .rev()
                    .skip(1)
                    .take(3)
                    .take_while(|t| t.clause == clause)
                    .any(|t| matches!(&*t.word, "wanted" | "want" | "hoped"));
            let sway = if wish_in_korean_or_thai(&mut tokens, &word, lang, &rules.well_wishes) {
                Sway::Word(0.0)
            } else {
                sway
            };
            ends_pair |= matches!(sway, Sway::EndsPair(_));
            too_much |= matches!(sway, Sway::TooMuch(_));
            negates |= negator;
            let negated = (reach > 0 && !negator) || unmet;
            marked |= marks.0;
            tokens.push(Token { term, word, start, end, negated, stop, negator, clause, sway, marks });
            if wish {
                reach = NEGATION_REACH;
            } else if negator {
                // A Korean negator (안 좋아요, 못 먹을) reaches only the predicate after it.
                reach = if lang == Lang::Ko || next_only { 1 } else { NEGATION_REACH };
                next_word_only = next_only;
            } else if reach > 0 && rules.ends_negation.iter().any(|w| *w == *tokens[tokens.len() - 1].word) {
                reach = 0;
            } else if reach > 0
                && !rules.passes_over(&tokens[tokens.len() - 1].word, next_word_only)
                && !matches!(sway, Sway::Intensifier(_) | Sway::TooMuch(_))
            {
                reach -= 1;
            }
        }
        match lang {
            Lang::Th => {
                cannot_after_the_verb(&mut tokens);
                let too = rules.excess.iter().find_map(|w| rules.intensifiers.get(w)).copied().unwrap_or(1.0);
                too_much |= too_in_thai(&mut tokens, &rules.too_after, too);
            }
            Lang::It => never_again_in_italian(&mut tokens),
            Lang::En => not_enough_praise(&mut tokens),
            Lang::Ko => {
                wanted_again_in_korean(&mut tokens, &rules.again_verbs);
                too_good_to_in_korean(&mut tokens);
                done_well_in_korean(&mut tokens);
                waited_all_of_in_korean(&mut tokens);
            }
        }
        if marked & (Marks::TIMES | Marks::REPEATED) != 0 && marked & Marks::ONCE != 0 {
            done_again_and_again(&mut tokens);
        }
        if marked & Marks::ONLY != 0 {
            only_fault(&mut tokens);
        }
        if marked & Marks::AGAIN != 0 {
            coming_back(&mut tokens);
        }
        // A warning is a negator before its verb, or in Korean a word after it.
        if negates || lang == Lang::Ko {
            warned_off(&mut tokens, rules, lang);
        }
        nothing_better(&mut tokens, lang);
        let lexicons = Lexicons::shared();
        lexicons.read_phrasal(&mut tokens, lang);
        if ends_pair {
            lexicons.read_pairs(&mut tokens, lang);
        }
        if too_much {
            more_than_wanted(&mut tokens, lang, &rules.amounts);
        }
        tokens
    }

    /// Korean often glues 안 or 못 (not) or an intensifier to the word it acts on: 안좋아요
    /// (not good), 너무좋고 (so good), 완전별로 (really poor). If `piece` begins with one and
    /// the rest (not the whole) begins with a sentiment word: where the rest begins. The piece
    /// is then read as two words, each doing its part.
    fn glued_before(&self, piece: &str) -> Option<usize> {
        let rules = self.rules(Lang::Ko);
        let before = GLUED_NEGATORS
            .into_iter()
            .chain(rules.intensifiers.keys().map(String::as_str))
            .filter(|w| piece.len() > w.len() && piece.starts_with(*w))
            .max_by_key(|w| w.len())?;
        let lexicon = Lexicons::shared();
        let rest = &piece[before.len()..];
        (lexicon.begins_with_word(rest, Lang::Ko) && !lexicon.begins_with_word(piece, Lang::Ko)).then_some(before.len())
    }

    /// Inside a longer word, 안 or 못 (not) glued after a particle negates the word after it:
    /// 배송이안빨라요 (delivery is not fast), 포스터가안이쁨. Where the negator begins, if what
    /// follows it reads as a negator and a word ([`Self::glued_before`]): the piece is read as
    /// the noun with its particle, then the rest. Without a particle, 안 is as often "inside"
    /// (매장안깨끗해요, clean inside the shop), and the piece is left whole, unless a lexicon
    /// word is before it and a light verb after it (추천안해요).
    fn negator_after_particle(&self, piece: &str) -> Option<usize> {
        let mut before = None;
        for (at, c) in piece.char_indices() {
            let after_particle = matches!(before, Some('이' | '가' | '은' | '는' | '도' | '을' | '를'));
            // After a particle, the negator and a word; or after a lexicon word, the negator and
            // a light verb: 추천안해요 (I do not recommend it), 만족못함. 편안해요 (comfortable) is
            // a word of its own, and stays whole.
            if matches!(c, '안' | '못')
                && ((after_particle && self.glued_before(&piece[at..]).is_some())
                    || (light_verb(&piece[at + c.len_utf8()..])
                        && Lexicons::shared().leading_word_len(piece, Lang::Ko) == Some(at)))
            {
                return Some(at);
            }
            before = Some(c);
        }
        None
    }

    /// Korean often writes 않다 or 못하다 (not) glued to the predicate it negates: 좋지않아요 (not
    /// good), 만족스럽지못해요. Where the negator begins in `piece`: the piece is read as the
    /// predicate and the negator, as if spaced. A lexicon word glued before the predicate
    /// (별로좋지않음, not very good) is cut off first, so that the negation reaches only the
    /// predicate.
    fn not_glued_after(&self, piece: &str) -> Option<usize> {
        let at = piece.find(['않', '못']).filter(|&at| at > 0)?;
        let (head, rest) = piece.split_at(at);
        if !negates_before(rest) || !ends_in_ji(head) {
            return None;
        }
        let lexicon = Lexicons::shared();
        match lexicon.leading_word_len(head, Lang::Ko) {
            Some(len) if len < head.len() && lexicon.begins_with_word(&head[len..], Lang::Ko) => Some(len),
            _ => Some(at),
        }
    }

    fn is_negator(&self, word: &str, lang: Lang) -> bool {
        self.rules(lang).negators.contains(word) || (lang == Lang::En && word.ends_with("n't"))
    }

    /// The text cut into words and what lies between them, as (start, end, is a word): runs
    /// of Thai by the Thai word list, everything else by Unicode word boundaries (UAX #29),
    /// plain text (ASCII, Hangul) by `plain`'s rules for it.
    fn pieces(&self, text: &str) -> Vec<(usize, usize, bool)> {
        let mut out = Vec::with_capacity(text.len() / 3);
        // The Thai search's places, one allocation for every run of the text.
        let mut places = Vec::new();
        let mut rest = 0usize;
        while rest < text.len() {
            let tail = &text[rest..];
            // ASCII (most of an English comment) is checked at a word a time, and has no Thai.
            let thai_at = if tail.is_ascii() { tail.len() } else { thai::find_thai(tail).unwrap_or(tail.len()) };
            let other = &tail[..thai_at];
            if !crate::plain::pieces(other, rest, &mut out) {
                let (mut last, cut) = (0usize, out.len());
                for (end, kind) in self.segmenter.segment_str(other).iter_with_word_type() {
                    if end > last {
                        out.push((rest + last, rest + end, kind.is_word_like()));
                    }
                    last = end;
                }
                if other.contains('.') {
                    crate::plain::full_stops_apart(text, &mut out, cut);
                }
            }
            let run_start = rest + thai_at;
            rest = run_start
                + thai::ThaiWords::shared().segment_into(&text[run_start..], run_start, &mut places, &mut out);
        }
        out
    }

    /// Where a line may break in `text` (byte offsets, in order): before each word but the
    /// first. Thai writes no spaces between words: its words come from the word list.
    pub fn line_breaks(&self, text: &str) -> Vec<usize> {
        self.pieces(text).into_iter().filter(|&(start, _, word)| word && start > 0).map(|(start, _, _)| start).collect()
    }

    /// Whether `word` is in the Thai word list (how much of a Thai text was cut into known
    /// words is the measure of its segmentation).
    pub fn is_thai_word(&self, word: &str) -> bool {
        thai::ThaiWords::shared().contains(word)
    }

    /// Whether `rest`, what follows a Korean noun in its word, is a particle (이, 은, 으로 …).
    pub(crate) fn is_korean_particle(&self, rest: &str) -> bool {
        let particles = rest.chars().next_back().and_then(|last| self.rules(Lang::Ko).particles.get(&last));
        particles.is_some_and(|candidates| candidates.iter().any(|(particle, _)| particle == rest))
    }

    /// The matching form of one folded word, as the lexicons, themes and phrases key it.
    pub fn term(&self, word: &str, lang: Lang) -> String {
        self.read(word, lang).0
    }

    /// One folded word's term and role. A function word (a negator, a stop word) is kept as
    /// written: it matches nothing on its own, so stemming it is wasted.
    fn read(&self, word: &str, lang: Lang) -> (String, Role) {
        if self.is_negator(word, lang) {
            return (word.to_owned(), Role::Negator);
        }
        if self.rules(lang).stopwords.contains(word) {
            return (word.to_owned(), Role::Stop);
        }
        // A word listed as matched only as written keys as itself, for themes and phrases as
        // for sentiment: friends are no friendly staff, a lined coat no queue (line).
        let unstemmed = &self.rules(lang).unstemmed;
        let term = match lang {
            Lang::En if unstemmed.contains(word) => word.to_owned(),
            Lang::En => self.english.stem(word).into_owned(),
            Lang::It => {
                // Elision: l'ordine, dell'app, un'esperienza → the word after the apostrophe.
                let word = word.rsplit('\'').next().unwrap_or(word);
                if unstemmed.contains(word) { word.to_owned() } else { self.italian.stem(word).into_owned() }
            }
            Lang::Ko => strip_particle(word, self.rules(lang)).to_owned(),
            Lang::Th => word.to_owned(),
        };
        (term, Role::Content)
    }

    /// The terms of a phrase as written in a theme or lexicon file ("customer service").
    pub fn phrase_terms(&self, phrase: &str, lang: Lang) -> Vec<String> {
        self.tokens(phrase, lang).into_iter().map(|t| t.term.to_string()).collect()
    }
}

pub(crate) fn rules_source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../data/rules/en.json"),
        Lang::Ko => include_str!("../data/rules/ko.json"),
        Lang::It => include_str!("../data/rules/it.json"),
        Lang::Th => include_str!("../data/rules/th.json"),
    }
}

/// `list` keyed by how each word is read (`key`). Two words read as one must have the same
/// value: otherwise which one counted would change from run to run.
pub(crate) fn read_as_one(
    file: &str,
    list: BTreeMap<String, f64>,
    key: impl Fn(&str) -> String,
) -> impl Iterator<Item = (String, f64)> {
    let mut read: BTreeMap<String, (String, f64)> = BTreeMap::new();
    for (written, value) in list {
        let key = key(&written);
        match read.get(&key) {
            Some((other, v)) => {
                assert!(*v == value, "{file}: {other} and {written} are both read as {key}, with different values")
            }
            None => {
                read.insert(key, (written, value));
            }
        }
    }
    read.into_iter().map(|(key, (_, value))| (key, value))
}

/// Pieces kept per thread and language in [`Words::read_piece`], before it starts afresh.
const PIECES_KEPT: usize = 8192;

/// A thread's readings of the pieces of one language it has seen.
type Readings = FxHashMap<PieceKey, Reading>;

/// A piece as the key of its reading. Most words are short enough to be kept in the key
/// itself, so that a look-up compares them where it finds them; with the piece on the heap
/// instead, following the pointer missed the cache for one word in three.
enum PieceKey {
    Short { len: u8, bytes: [u8; SHORT] },
    Long(Box<[u8]>),
}

/// The longest piece a [`PieceKey`] keeps in itself: seven Thai letters, 22 ASCII ones.
const SHORT: usize = 22;

impl PieceKey {
    fn new(piece: &str) -> Self {
        match u8::try_from(piece.len()) {
            Ok(len) if piece.len() <= SHORT => {
                let mut bytes = [0; SHORT];
                bytes[..piece.len()].copy_from_slice(piece.as_bytes());
                PieceKey::Short { len, bytes }
            }
            _ => PieceKey::Long(piece.as_bytes().into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            PieceKey::Short { len, bytes } => &bytes[..usize::from(*len)],
            PieceKey::Long(bytes) => bytes,
        }
    }
}

/// Looked up by the piece's bytes, with nothing copied: equal and hashed as they are.
impl std::borrow::Borrow<[u8]> for PieceKey {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for PieceKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for PieceKey {}

impl std::hash::Hash for PieceKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

/// How a piece of text reads: the folded word, its term, its role, whether it is a function
/// word (a stop word or a negator), and what it does to the comment's sentiment (a contrast
/// word also ends a negation's scope).
#[derive(Clone)]
struct Reading {
    word: Rc<str>,
    term: Rc<str>,
    role: Role,
    stop: bool,
    sway: Sway,
    marks: Marks,
    /// Where a Korean word glued to the 안 or the intensifier before it begins (see
    /// [`Words::glued_before`], [`Words::negator_after_particle`]), or the 않 (not) or the "but" glued after it
    /// ([`Words::not_glued_after`], [`but_glued_after`]), or where a
    /// listed Thai word is ไม่ and a word or a word and an intensifier (ไม่ดี, ดีมาก): the piece
    /// is read as two words.
    glued: Option<u8>,
}

impl Words {
    /// How `piece` reads in `lang`. Customers use few distinct words, so each thread keeps the
    /// readings it made, per language: a word seen before costs a look-up and two reference
    /// counts instead of folding, stemming or stripping, and the rule and lexicon look-ups.
    /// Even a first pass over a real set, begun with nothing kept, takes fewer instructions
    /// than reading every word afresh.
    fn read_piece(&self, piece: &str, lang: Lang, kept: Option<&mut Readings>) -> Reading {
        let Some(read) = kept else { return self.reading(piece, lang) };
        if let Some(reading) = read.get(piece.as_bytes()) {
            return reading.clone();
        }
        if read.len() >= PIECES_KEPT {
            read.clear();
        }
        let reading = self.reading(piece, lang);
        read.insert(PieceKey::new(piece), reading.clone());
        reading
    }

    fn reading(&self, piece: &str, lang: Lang) -> Reading {
        let rules = self.rules(lang);
        let word = fold(piece, lang);
        let (term, role) = self.read(&word, lang);
        let stop = role != Role::Content || rules.stopwords.contains(&term);
        let sway = Lexicons::shared().sway(rules, &word, &term, role == Role::Negator, stop, lang);
        let word: Rc<str> = word.into();
        // A word that is its own term (a stop word, Thai) is kept once.
        let term = if *term == *word { word.clone() } else { term.into() };
        let glued = match lang {
            Lang::Ko => {
                // 하지만 (but) is one word already.
                let but = || but_glued_after(piece).filter(|_| sway != Sway::Contrast);
                let glued = jamo_apart(piece).or_else(|| self.glued_before(piece)).or_else(|| well_glued_before(piece));
                let glued = glued.or_else(|| self.negator_after_particle(piece));
                glued.or_else(|| self.not_glued_after(piece)).or_else(but)
            }
            // A word the lexicon lists whole is read whole: ไม่สด (not fresh), where สด alone is
            // as often "live" (ไลฟ์สด). Asked only of the few words that would be cut.
            Lang::Th => thai::ThaiWords::shared()
                .affix_apart(piece)
                .filter(|_| Lexicons::shared().leading_word_len(&word, lang) != Some(word.len())),
            _ => None,
        };
        // Inside the piece, so that each split leaves a shorter word.
        let glued = glued.filter(|&at| at > 0 && at < piece.len()).and_then(|at| u8::try_from(at).ok());
        let marks = rules.marks(&word, &term);
        Reading { word, term, role, stop, sway, marks, glued }
    }
}

fn ends_clause(c: char) -> bool {
    matches!(c, '.' | ',' | ';' | ':' | '!' | '?' | '…' | '。' | '\n' | '(' | ')')
}

/// NFKC and lower case, with typographic apostrophes made plain (don’t = don't).
pub(crate) fn fold(word: &str, lang: Lang) -> String {
    let folded: String = if word.is_ascii() {
        word.to_ascii_lowercase()
    } else if is_nfkc(word) {
        lowered(word.chars(), word.len())
    } else {
        lowered(word.nfkc(), word.len())
    };
    let folded = if folded.contains(['’', 'ʼ', '`']) { folded.replace(['’', 'ʼ', '`'], "'") } else { folded };
    match lang {
        // Thai marks repeated with ๆ keep their word: ดีๆ is ดี.
        Lang::Th => folded.trim_end_matches('ๆ').to_owned(),
        // Laughter is laughter however long: no letter more than twice in a row, ㅋㅋㅋㅋ is ㅋㅋ.
        Lang::Ko if folded.chars().all(|c| ('\u{1100}'..='\u{11FF}').contains(&c)) => {
            let mut short = String::with_capacity(folded.len());
            for c in folded.chars() {
                if !short.ends_with(c) || short.chars().rev().nth(1) != Some(c) {
                    short.push(c);
                }
            }
            short
        }
        _ => folded,
    }
}

/// Whether `word` is in NFKC already, as Unicode's quick check finds it. Thai and Hangul
/// syllables, most of Korean and Thai comments, are checked here: the library's tables cost more
/// than the rest of reading a Thai word.
fn is_nfkc(word: &str) -> bool {
    let mut last_class = 0u8;
    for c in word.chars() {
        // Canonical combining classes (UCD): Thai marks below, the phinthu, the tone marks.
        let class = match c {
            '\u{0E33}' => return false, // sara am: ํ + า in NFKC
            '\u{0E38}' | '\u{0E39}' => 103,
            '\u{0E3A}' => 9,
            '\u{0E48}'..='\u{0E4B}' => 107,
            '\u{0E00}'..='\u{0E7F}' | '\u{AC00}'..='\u{D7A3}' => 0,
            _ => return unicode_normalization::is_nfkc_quick(word.chars()) == unicode_normalization::IsNormalized::Yes,
        };
        // Marks out of canonical order are reordered by NFKC.
        if class != 0 && last_class > class {
            return false;
        }
        last_class = class;
    }
    true
}

/// `chars` in lower case. The scripts without case (Thai, Hangul, CJK), most letters of Korean
/// and Thai comments, skip the case tables.
fn lowered(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    for c in chars {
        if caseless(c) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Thai, Hangul Jamo, CJK (with kana and Hangul compatibility letters) and Hangul syllables:
/// no letter there has a lower case of its own.
fn caseless(c: char) -> bool {
    matches!(u32::from(c), 0x0E00..=0x0E7F | 0x1100..=0x11FF | 0x3000..=0x9FFF | 0xAC00..=0xD7FF)
}

/// A Korean word without its trailing particle: 배송이, 배송은, 배송을 → 배송. A one-syllable
/// particle leaves at least two syllables, so that 사과 (apple) keeps its 과, or a listed
/// one-syllable noun (`short_nouns`: 맛이 → 맛); a listed noun (`whole`) keeps its last syllable.
fn strip_particle<'a>(word: &'a str, rules: &Rules) -> &'a str {
    let Some(candidates) = word.chars().next_back().and_then(|last| rules.particles.get(&last)) else {
        return word;
    };
    if rules.whole.contains(word) {
        return word;
    }
    let syllables = word.chars().count();
    for (particle, len) in candidates {
        if syllables <= *len || !word.ends_with(particle.as_str()) {
            continue;
        }
        let stem = &word[..word.len() - particle.len()];
        if *len > 1 || syllables > 2 || rules.short_nouns.contains(stem) {
            return stem;
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str, lang: Lang) -> Vec<String> {
        Words::shared().tokens(text, lang).into_iter().map(|t| t.term.to_string()).collect()
    }

    fn negated(text: &str, lang: Lang) -> Vec<String> {
        Words::shared().tokens(text, lang).into_iter().filter(|t| t.negated).map(|t| t.word.to_string()).collect()
    }

    #[test]
    fn korean_particles_leave_one_noun() {
        let t = terms("배송이 늦고 배송은 엉망이고 배송을 다시는 안 시켜요", Lang::Ko);
        assert_eq!(t.iter().filter(|t| *t == "배송").count(), 3, "{t:?}");
        assert_eq!(terms("서비스가 좋아요", Lang::Ko)[0], "서비스");
        assert_eq!(terms("매장에서", Lang::Ko)[0], "매장");
        // Not particles: the word is too short to carry one.
        assert_eq!(terms("사과", Lang::Ko)[0], "사과");
        assert_eq!(terms("하나", Lang::Ko)[0], "하나");
        // A noun whose last syllable is also a particle is one term with its particles.
        assert_eq!(terms("만족도 만족도가 만족도는", Lang::Ko), ["만족도"; 3]);
        // A listed one-syllable noun loses its particle; another word of two syllables keeps it.
        assert_eq!(terms("맛이 맛도 맛은 값이 차이", Lang::Ko), ["맛", "맛", "맛", "값", "차이"]);
    }

    /// Laughter and tears glued to a word are read apart from it, and however long they are
    /// as the same sign; letters typed one by one into a syllable stay one word.
    #[test]
    fn korean_laughter_is_read_apart_from_the_word() {
        let words = |text: &str| -> Vec<String> {
            Words::shared().tokens(text, Lang::Ko).into_iter().map(|t| t.word.to_string()).collect()
        };
        let (laugh, tears) = (fold("ㅋㅋ", Lang::Ko), fold("ㅠㅠ", Lang::Ko));
        assert_eq!(words("ㅋㅋㅋ재밌어요ㅠㅠㅠ"), [laugh.as_str(), "재밌어요", tears.as_str()]);
        assert_eq!(words("ㅋㅋㅋㅋㅋ ㅋㅋ"), [laugh.as_str(), laugh.as_str()]);
        // Each split leaves the word to be split again: 좋지, 않아요, ㅠㅠ.
        assert_eq!(words("좋지않아요ㅠㅠ"), ["좋지", "않아요", tears.as_str()]);
        assert_eq!(words("ㅈㅐ밌어요"), ["재밌어요"]);
    }

    #[test]
    fn thai_is_split_into_words() {
        let words: Vec<String> = Words::shared()
            .tokens("ส่งของช้ามากแต่พนักงานสุภาพดี", Lang::Th)
            .into_iter()
            .map(|t| t.word.to_string())
            .collect();
        assert!(words.len() >= 5, "{words:?}");
        for w in ["ส่ง", "ช้า", "มาก", "แต่", "พนักงาน", "สุภาพ", "ดี"]
        {
            assert!(words.iter().any(|x| x == w), "{w} missing from {words:?}");
        }
    }

    #[test]
    fn lines_break_before_words_thai_ones_too() {
        fn at(text: &str) -> Vec<&str> {
            let breaks = Words::shared().line_breaks(text);
            let mut starts = vec![0];
            starts.extend(&breaks);
            starts.iter().zip(breaks.iter().chain([&text.len()])).map(|(&a, &b)| &text[a..b]).collect()
        }
        assert_eq!(at("การรอและความเร็ว"), ["การ", "รอ", "และ", "ความเร็ว"]);
        assert_eq!(at("Refund, return and cancel"), ["Refund, ", "return ", "and ", "cancel"]);
        assert_eq!(at("환불·반품 문의"), ["환불·반품 ", "문의"]);
        assert!(Words::shared().line_breaks("배송").is_empty());
    }

    #[test]
    fn english_and_italian_are_stemmed_and_folded() {
        assert_eq!(terms("Deliveries", Lang::En), terms("delivery", Lang::En));
        assert_eq!(terms("DISAPPOINTED", Lang::En), terms("disappointing", Lang::En));
        assert_eq!(terms("consegne", Lang::It), terms("consegna", Lang::It));
        assert_eq!(terms("l'ordine", Lang::It), terms("ordine", Lang::It));
        // Full-width letters fold to the same word (NFKC).
        assert_eq!(terms("ＡＰＰ", Lang::En), terms("app", Lang::En));
    }

    #[test]
    fn negation_reaches_the_next_words_until_a_clause_ends() {
        assert_eq!(negated("It was not fast, but the staff were kind", Lang::En), ["fast"]);
        assert_eq!(negated("not fast but kind", Lang::En), ["fast"], "a contrast word ends the scope");
        assert_eq!(negated("I don’t like it", Lang::En), ["like", "it"]);
        assert_eq!(negated("Il pacco non è arrivato. Il negozio è bello", Lang::It), ["è", "arrivato"]);
        assert_eq!(negated("안 좋아요", Lang::Ko), ["좋아요"]);
        assert_eq!(negated("안 좋아요 정말 최악", Lang::Ko), ["좋아요"], "the predicate after 안 only");
        assert_eq!(negated("맛있지 않아요", Lang::Ko), ["맛있지"]);
        assert_eq!(negated("추천 안 해요", Lang::Ko), ["추천", "해요"]);
        assert_eq!(negated("공감이 안 되는 영화", Lang::Ko)[0], "공감이");
        assert_eq!(negated("공감이 안 가요", Lang::Ko), ["공감이", "가요"], "가다 as a light verb");
        assert_eq!(negated("추천 안해요", Lang::Ko), ["추천"], "안 typed with its light verb");
        assert_eq!(negated("추천안해요", Lang::Ko), ["추천"], "and with the noun too");
        assert_eq!(negated("충분하지 못했다", Lang::Ko), ["충분하지"]);
        assert_eq!(negated("편안해요", Lang::Ko), Vec::<String>::new(), "편안 is a word");
        assert_eq!(negated("이해 못 했어요", Lang::Ko), ["이해", "했어요"]);
        // What cannot be done; a noun whose light verb is negated after it.
        assert_eq!(negated("추천할 수 없어요", Lang::Ko), ["추천할"]);
        assert_eq!(negated("실망 시키지 않는 서비스", Lang::Ko), ["실망", "시키지"]);
        assert_eq!(negated("만족 하지 않았어요", Lang::Ko), ["만족", "하지"]);
        assert_eq!(negated("환불. 수 없어요", Lang::Ko), Vec::<String>::new(), "not across a clause");
        // Only in one clause, and only before a light verb.
        assert_eq!(negated("추천. 안 해요", Lang::Ko), ["해요"]);
        assert_eq!(negated("배송 안 좋아요", Lang::Ko), ["좋아요"]);
        assert!(negated("ไม่ดี", Lang::Th).contains(&"ดี".to_owned()), "{:?}", negated("ไม่ดี", Lang::Th));
        assert_eq!(negated("แนะนำไม่ได้", Lang::Th)[0], "แนะนํา", "cannot, after the verb");
        assert_eq!(negated("ใช้งานไม่ได้เลยค่ะ", Lang::Th)[0], "ใช้งาน");
        assert!(!negated("ดี ไม่ได้รับของ", Lang::Th).contains(&"ดี".to_owned()), "did not, before the verb");
        assert!(
            !negated("เสียดายไม่ได้ไป", Lang::Th).contains(&"เสียดาย".to_owned()),
            "{:?}",
            negated("เสียดายไม่ได้ไป", Lang::Th)
        );
    }

    #[test]
    fn a_full_stop_between_letters_ends_a_sentence() {
        let words = |text, lang| -> Vec<String> {
            Words::shared().tokens(text, lang).into_iter().map(|t| t.word.to_string()).collect()
        };
        assert_eq!(words("없음.재미없다", Lang::Ko), ["없음", "재미없다"]);
        assert_eq!(negated("It was not good.Fast delivery", Lang::En), ["good"]);
        assert_eq!(words("3.5 stars", Lang::En), ["3.5", "stars"], "a decimal point stays");
        // 지만 (but) glued to its word is read apart; the particle 만 on a noun in 지 is not.
        assert_eq!(words("맛있지만 이미지만", Lang::Ko), ["맛있", "지만", "이미지만"]);
        assert_eq!(words("하지만 좋아요", Lang::Ko), ["하지만", "좋아요"]);
        assert_eq!(
            words("맛있는데 좋은데 비싼데 포인트", Lang::Ko),
            ["맛있", "는데", "좋", "은데", "비싼", "데", "포인트"]
        );
    }

    #[test]
    #[should_panic(expected = "Good and good are both read as good, with different values")]
    fn two_words_read_as_one_must_agree() {
        let list = BTreeMap::from([("Good".to_owned(), 1.0), ("good".to_owned(), 2.0), ("fine".to_owned(), 1.0)]);
        read_as_one("test", list, |w| fold(w, Lang::En)).for_each(drop);
    }

    #[test]
    fn caseless_scripts_are_their_own_lower_case() {
        let caseless: Vec<char> = (0..=0x10FFFF).filter_map(char::from_u32).filter(|c| caseless(*c)).collect();
        assert!(caseless.len() > 30_000);
        for c in caseless {
            assert!(c.to_lowercase().eq([c]), "{c:?} has a lower case");
        }
        assert_eq!(fold("ÉCOLE ส่งของ 배송", Lang::It), "école ส่งของ 배송");
    }

    #[test]
    fn thai_and_hangul_are_checked_for_nfkc_as_unicode_does() {
        let library =
            |w: &str| unicode_normalization::is_nfkc_quick(w.chars()) == unicode_normalization::IsNormalized::Yes;
        let thai: Vec<char> = ('\u{0E00}'..='\u{0E7F}').chain(['가', '힣', 'a', '\u{0301}']).collect();
        for a in &thai {
            for b in &thai {
                for word in [format!("{a}"), format!("{a}{b}"), format!("ก{a}{b}"), format!("{a}{b}\u{0E48}")] {
                    assert_eq!(is_nfkc(&word), library(&word), "{word:?}");
                }
            }
        }
        // ำ is decomposed; marks out of order are reordered.
        assert_eq!(fold("น้ำ", Lang::Th), "น้ํา");
        assert_eq!(fold("กู่", Lang::Th), fold("กู่", Lang::Th));
    }

    #[test]
    fn stop_words_are_marked() {
        let tokens = Words::shared().tokens("the app is slow", Lang::En);
        let stops: Vec<bool> = tokens.iter().map(|t| t.stop).collect();
        assert_eq!(stops, [true, false, true, false]);
    }
}

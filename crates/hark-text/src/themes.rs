//! Themes: what a comment is about (delivery, price, staff …), found by the terms each theme
//! lists per language. The built-in customer-experience taxonomy is `data/themes/<lang>.json`;
//! an organisation's own themes are built with [`Themes::new`].

use std::collections::BTreeMap;

use hark_core::{ValidationErrors, Why};
use serde::{Deserialize, Serialize};

use crate::terms::TermIndex;
use crate::{Lang, Token, Words};

/// An organisation's taxonomy is held to these: room for any real one, and tagging stays fast.
pub const MAX_THEMES: usize = 100;
/// Terms per theme and language.
pub const MAX_TERMS: usize = 500;
pub const MAX_TERM_CHARS: usize = 80;
const MAX_NAME_CHARS: usize = 60;
const MAX_KEY_CHARS: usize = 40;

/// One theme: a stable key, its name in each language and its terms in each language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    pub key: String,
    /// Language tag → name ("en" → "Delivery", "ko" → "배송").
    pub names: BTreeMap<String, String>,
    /// Language tag → words and phrases that mention the theme, as people write them.
    pub terms: BTreeMap<String, Vec<String>>,
}

impl Theme {
    /// The name in `lang`, else in English, else the key.
    pub fn name(&self, lang: &str) -> &str {
        self.names.get(lang).or_else(|| self.names.get("en")).map_or(self.key.as_str(), String::as_str)
    }
}

impl Theme {
    /// Trims names and terms, drops empty and repeated ones (in the order written).
    pub fn tidy(mut self) -> Theme {
        self.key = self.key.trim().to_owned();
        self.names.retain(|_, name| {
            *name = name.trim().to_owned();
            !name.is_empty()
        });
        for terms in self.terms.values_mut() {
            let mut seen = std::collections::HashSet::new();
            terms.retain_mut(|term| {
                *term = term.trim().to_owned();
                !term.is_empty() && seen.insert(term.to_lowercase())
            });
        }
        self.terms.retain(|_, terms| !terms.is_empty());
        self
    }

    /// Everything wrong with this theme, by field (`key`, `names.ko`, `terms.th`).
    pub fn check(&self, errors: &mut ValidationErrors) {
        let key_ok = (1..=MAX_KEY_CHARS).contains(&self.key.len())
            && self.key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !key_ok {
            errors.say("key", Why::new("invalid.theme_key").with("max", MAX_KEY_CHARS));
        }
        let shipped = || Lang::ALL.map(Lang::tag).join(", ");
        if self.names.is_empty() {
            errors.say("names", Why::new("invalid.theme_needs_name"));
        }
        for (tag, name) in &self.names {
            if Lang::from_tag(tag).is_none() {
                errors
                    .say(format!("names.{tag}"), Why::new("invalid.language_not_shipped").with("languages", shipped()));
            } else if name.chars().count() > MAX_NAME_CHARS {
                errors.say(format!("names.{tag}"), Why::new("invalid.at_most_chars").with("max", MAX_NAME_CHARS));
            }
        }
        if self.terms.values().all(Vec::is_empty) {
            errors.say("terms", Why::new("invalid.theme_needs_terms"));
        }
        for (tag, terms) in &self.terms {
            let field = format!("terms.{tag}");
            let Some(lang) = Lang::from_tag(tag) else {
                errors.say(field, Why::new("invalid.language_not_shipped").with("languages", shipped()));
                continue;
            };
            if terms.len() > MAX_TERMS {
                errors.say(field.clone(), Why::new("invalid.too_many_terms").with("max", MAX_TERMS));
            }
            for term in terms {
                if term.chars().count() > MAX_TERM_CHARS {
                    errors.say(field.clone(), Why::new("invalid.term_too_long").with("max", MAX_TERM_CHARS));
                } else if Words::shared().phrase_terms(term, lang).is_empty() {
                    errors.say(field.clone(), Why::new("invalid.term_has_no_words").with("term", term));
                }
            }
        }
    }

    /// Takes `other`'s terms in each language after its own, leaving out those it has.
    pub fn absorb(&mut self, other: Theme) {
        for (tag, terms) in other.terms {
            self.terms.entry(tag).or_default().extend(terms);
        }
        *self = std::mem::take(self).tidy();
    }
}

/// Everything wrong with a whole taxonomy: each theme (fields prefixed `themes[i].`), keys
/// used twice, too many themes.
pub fn check_list(list: &[Theme]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if list.len() > MAX_THEMES {
        errors.say("themes", Why::new("invalid.too_many_themes").with("max", MAX_THEMES));
    }
    let mut keys = std::collections::HashSet::new();
    for (i, theme) in list.iter().enumerate() {
        let mut own = ValidationErrors::default();
        theme.check(&mut own);
        if !keys.insert(theme.key.as_str()) {
            own.say("key", Why::new("invalid.theme_key_taken").with("key", &theme.key));
        }
        for mut e in own.0 {
            e.field = format!("themes[{i}].{}", e.field);
            errors.0.push(e);
        }
    }
    errors.into_result()
}

/// A key for a new theme named `name`: its ASCII letters and digits, else `theme`, with a
/// number added while `taken` says it is in use.
pub fn key_for(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut base = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with('-') {
            base.push('-');
        }
    }
    let mut base: String = base.trim_end_matches('-').chars().take(MAX_KEY_CHARS - 4).collect();
    if base.is_empty() {
        base = "theme".into();
    }
    let mut key = base.clone();
    for n in 2.. {
        if !taken(&key) {
            break;
        }
        key = format!("{base}-{n}");
    }
    key
}

/// Where a comment mentions a theme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeMatch {
    pub theme: String,
    /// Byte ranges of the matched words in the comment.
    pub spans: Vec<(usize, usize)>,
}

/// Per language: a phrase's first term → the phrases it begins.
type PhraseIndex = TermIndex<Vec<Phrase>>;

/// A theme's term, under its first word's term.
struct Phrase {
    theme: usize,
    /// The terms after the first.
    rest: Vec<String>,
    /// The first term's length in bytes where it is a word the rules list as matched only as
    /// written: it matches that word alone, not a word it begins (Korean and Thai match by
    /// prefix: แตก, broken, begins แตกต่าง, different) nor one whose stem it is (lined, line).
    as_written: Option<usize>,
}

/// A set of themes, indexed for matching.
pub struct Themes {
    list: Vec<Theme>,
    index: [PhraseIndex; 4],
}

#[derive(Deserialize)]
struct ThemeEntry {
    name: String,
    terms: Vec<String>,
}

impl Themes {
    /// The built-in taxonomy, in all four languages.
    pub fn builtin() -> Themes {
        let mut by_key: BTreeMap<String, Theme> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for lang in Lang::ALL {
            let file: indexmap_free::Ordered<ThemeEntry> =
                serde_json::from_str(source(lang)).unwrap_or_else(|e| panic!("data/themes/{}.json: {e}", lang.tag()));
            for (key, entry) in file.0 {
                let theme = by_key.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    Theme { key, names: BTreeMap::new(), terms: BTreeMap::new() }
                });
                theme.names.insert(lang.tag().to_owned(), entry.name);
                theme.terms.insert(lang.tag().to_owned(), entry.terms);
            }
        }
        Themes::new(order.into_iter().filter_map(|k| by_key.remove(&k)).collect())
    }

    /// Themes from a list (an organisation's own). Terms in a language Hark does not read are
    /// kept but match nothing.
    pub fn new(list: Vec<Theme>) -> Themes {
        let words = Words::shared();
        let mut index: [PhraseIndex; 4] = Lang::ALL.map(TermIndex::new);
        for (i, theme) in list.iter().enumerate() {
            for (tag, terms) in &theme.terms {
                let Some(lang) = Lang::from_tag(tag) else { continue };
                for phrase in terms {
                    let mut terms = words.phrase_terms(phrase, lang);
                    if terms.is_empty() {
                        continue;
                    }
                    let first = terms.remove(0);
                    let as_written = words.rules(lang).unstemmed.contains(&first).then_some(first.len());
                    index[lang.index()].entry(first).or_default().push(Phrase { theme: i, rest: terms, as_written });
                }
            }
        }
        Themes { list, index }
    }

    pub fn list(&self) -> &[Theme] {
        &self.list
    }

    pub fn get(&self, key: &str) -> Option<&Theme> {
        self.list.iter().find(|t| t.key == key)
    }

    /// A theme's name in `lang`; the key itself for a theme no longer in the list.
    pub fn name_of<'a>(&'a self, key: &'a str, lang: &str) -> &'a str {
        self.get(key).map_or(key, |t| t.name(lang))
    }

    /// The themes `tokens` mention, in the order of the list, each with where.
    pub fn find(&self, tokens: &[Token], lang: Lang) -> Vec<ThemeMatch> {
        let index = &self.index[lang.index()];
        let mut spans: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (at, token) in tokens.iter().enumerate() {
            for phrases in index.all(&token.term) {
                for Phrase { theme, rest, as_written } in phrases {
                    if as_written.is_some_and(|len| !written_as(token, len, lang)) {
                        continue;
                    }
                    let Some(tail) = tokens.get(at + 1..at + 1 + rest.len()) else { continue };
                    if tail.iter().zip(rest).all(|(t, want)| index.matches(&t.term, want)) {
                        let end = tail.last().map_or(token.end, |t| t.end);
                        let theme_spans = spans.entry(*theme).or_default();
                        if !theme_spans.contains(&(token.start, end)) {
                            theme_spans.push((token.start, end));
                        }
                    }
                }
            }
        }
        spans.into_iter().map(|(i, spans)| ThemeMatch { theme: self.list[i].key.clone(), spans }).collect()
    }
}

/// Whether `token` is the word of a term listed as written, `len` bytes long: the term, but
/// for an elided article before it (dell'operatore) or a particle after it (a one-syllable
/// Korean noun keeps its particle in its term: 돈이, 돈은 are 돈, money; 돈가스 is not).
fn written_as(token: &Token, len: usize, lang: Lang) -> bool {
    match lang {
        Lang::Ko => {
            token.term.get(len..).is_some_and(|rest| rest.is_empty() || Words::shared().is_korean_particle(rest))
        }
        _ => len == token.term.len() && token.word.ends_with(&*token.term),
    }
}

pub(crate) fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::En => include_str!("../data/themes/en.json"),
        Lang::Ko => include_str!("../data/themes/ko.json"),
        Lang::It => include_str!("../data/themes/it.json"),
        Lang::Th => include_str!("../data/themes/th.json"),
    }
}

/// A JSON object read in its written order (the taxonomy's order is the order pages list it).
mod indexmap_free {
    use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

    pub struct Ordered<V>(pub Vec<(String, V)>);

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Pairs<V>(std::marker::PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for Pairs<V> {
                type Value = Ordered<V>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    let mut pairs = Vec::new();
                    while let Some(pair) = map.next_entry()? {
                        pairs.push(pair);
                    }
                    Ok(Ordered(pairs))
                }
            }
            d.deserialize_map(Pairs(std::marker::PhantomData))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Analyzer;

    fn themes(text: &str) -> Vec<String> {
        Analyzer::builtin().analyze(text, None).themes.into_iter().map(|m| m.theme).collect()
    }

    #[test]
    fn every_language_names_every_builtin_theme() {
        let builtin = Themes::builtin();
        assert!(builtin.list().len() >= 10);
        for theme in builtin.list() {
            for lang in Lang::ALL {
                assert!(theme.names.contains_key(lang.tag()), "{} has no {} name", theme.key, lang.tag());
                assert!(
                    theme.terms.get(lang.tag()).is_some_and(|t| t.len() >= 3),
                    "{} has few {} terms",
                    theme.key,
                    lang.tag()
                );
            }
        }
    }

    #[test]
    fn comments_are_tagged_in_each_language() {
        assert_eq!(themes("The courier left my package at the wrong door"), ["delivery"]);
        assert!(themes("Too expensive for what you get").contains(&"price".to_owned()));
        assert!(themes("La consegna è arrivata in ritardo").contains(&"delivery".to_owned()));
        assert!(themes("배송이 너무 늦어요").contains(&"delivery".to_owned()));
        assert!(themes("직원이 불친절했어요").contains(&"staff".to_owned()));
        assert!(themes("ส่งของช้ามาก").contains(&"delivery".to_owned()));
        assert!(themes("พนักงานพูดจาไม่ดี").contains(&"staff".to_owned()));
        assert!(themes("โดนตัดเงินสองครั้ง").contains(&"billing".to_owned()), "charged twice");
        assert!(themes("I ordered on Tuesday").is_empty());
    }

    /// A term the rules list as matched only as written is no stem or start of another word.
    #[test]
    fn a_term_listed_as_written_tags_only_that_word() {
        let of = |text: &str, theme: &str| themes(text).contains(&theme.to_owned());
        assert!(!of("A gift for my friends", "staff"), "friend is not friendly");
        assert!(of("The cashier was friendly", "staff"));
        assert!(!of("The coat is lined and holds its shape", "speed"), "not a queue, not on hold");
        assert!(of("A long line at the till", "speed"));
        assert!(of("I was on hold for an hour", "speed"));
        assert!(!of("Sotto le aspettative", "speed"), "aspettative (expectations) is not aspettare (to wait)");
        assert!(of("Sto ancora aspettando il pacco", "speed"));
        assert!(of("Ho aspettato un'ora", "speed"));
        assert!(!of("สีแตกต่างจากรูป", "quality"), "แตกต่าง (different) is not แตก (broken)");
        assert!(of("จอแตกตั้งแต่วันแรก", "quality"), "the screen cracked on day one");
        assert!(!of("I managed to fix it myself", "staff"), "managed is no manager");
        assert!(!of("Who is responsible for this?", "communication"), "responsible is no response");
        assert!(!of("Largely positive", "size_fit"));
        assert!(!of("The sales assistant was lovely", "price"), "sales staff are no sale");
        assert!(of("The sales assistant was lovely", "staff"));
        assert!(of("The sales lady said they would order it", "staff"));
        assert!(of("Bought it on sale", "price"));
        assert!(!of("La camera era pulita", "staff"), "camera (the room) is no cameriere (waiter)");
        assert!(!of("Ho ricevuto il pacco", "billing"), "ricevuto (received) is no ricevuta (receipt)");
        assert!(!of("Hanno cambiato il menu", "returns"), "cambiato (changed) is no cambio (exchange)");
        assert!(!of("Personalmente non mi piace", "staff"), "personalmente is no personale (staff)");
        assert!(!of("Il filo del caricatore", "speed"), "filo (a wire) is no fila (a queue)");
        assert!(!of("Cari saluti", "price"), "kind regards");
        assert!(of("Il cameriere era scortese", "staff"));
        assert!(of("Dell'operatore non so nulla", "support"), "an elided article before the word");
        // A one-syllable Korean noun keeps its particle in its term: 돈이 is 돈 (money).
        assert!(!of("돈가스가 맛있어요", "price"), "돈가스 (pork cutlet) is no 돈 (money)");
        assert!(of("돈이 아까워요", "price"));
        assert!(of("돈 아까워요", "price"));
        assert!(of("돈으로 해결하려고 해요", "price"));
        assert!(of("돈아까워요", "price"), "glued to its verb");
    }

    /// "wear" and "made" alone are mostly verbs (I wear a size 8, it made me smile): a
    /// fifth of a clothing shop's reviews were about quality through them alone.
    #[test]
    fn quality_is_the_make_not_the_verbs_wear_and_made() {
        let of = |text: &str| themes(text).contains(&"quality".to_owned());
        assert!(!of("I usually wear a size 8"));
        assert!(!of("It made me smile"));
        assert!(of("Well made and sturdy"));
        assert!(of("It fell apart after one wash"));
        assert!(of("Shows wear and tear already"));
    }

    #[test]
    fn phrases_match_as_a_whole_and_spans_point_at_the_words() {
        let text = "I called customer service twice";
        let analysis = Analyzer::builtin().analyze(text, None);
        let m = analysis.themes.iter().find(|m| m.theme == "support").expect("support");
        let (s, e) = m.spans[0];
        assert_eq!(&text[s..e], "customer service");
    }

    #[test]
    fn an_organisations_own_theme_matches_its_terms() {
        let own = Themes::new(vec![Theme {
            key: "loyalty".into(),
            names: [("en".into(), "Loyalty card".into())].into(),
            terms: [("en".into(), vec!["loyalty card".into(), "points".into()]), ("ko".into(), vec!["포인트".into()])]
                .into(),
        }]);
        let a = Analyzer::new(own);
        assert_eq!(a.analyze("My points never showed up", None).themes[0].theme, "loyalty");
        assert_eq!(a.analyze("포인트가 안 들어왔어요", None).themes[0].theme, "loyalty");
        assert!(a.analyze("the loyalty program", None).themes.is_empty());
    }

    #[test]
    fn an_organisations_theme_is_tidied_and_checked_by_field() {
        let theme = Theme {
            key: " loyalty ".into(),
            names: [("en".into(), " Loyalty card ".into()), ("ko".into(), "  ".into())].into(),
            terms: [("en".into(), vec!["points".into(), " Points".into(), "".into()]), ("it".into(), vec![])].into(),
        }
        .tidy();
        assert_eq!(theme.key, "loyalty");
        assert_eq!(theme.names, [("en".to_owned(), "Loyalty card".to_owned())].into());
        assert_eq!(theme.terms, [("en".to_owned(), vec!["points".to_owned()])].into());
        assert!(check_list(std::slice::from_ref(&theme)).is_ok());

        let bad = Theme {
            key: "Loyalty Card".into(),
            names: [("fr".into(), "Fidélité".into())].into(),
            terms: [("th".into(), vec!["!!!".into(), "x".repeat(MAX_TERM_CHARS + 1)])].into(),
        };
        let errors = check_list(&[theme.clone(), bad, theme]).expect_err("three problems and a repeat");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["themes[1].key", "themes[1].names.fr", "themes[1].terms.th", "themes[1].terms.th", "themes[2].key"]
        );
        assert!(errors.0[2].message.contains("!!!"), "{}", errors.0[2].message);
        assert!(errors.0[4].message.contains("loyalty"), "{}", errors.0[4].message);
    }

    #[test]
    fn keys_are_made_from_the_name_and_kept_unique() {
        assert_eq!(key_for("Loyalty card!", |_| false), "loyalty-card");
        assert_eq!(key_for("배송 지연", |_| false), "theme");
        assert_eq!(key_for("배송 지연", |k| k == "theme" || k == "theme-2"), "theme-3");
    }

    #[test]
    fn a_merged_theme_takes_the_others_terms_once() {
        let mut into =
            Theme { key: "delivery".into(), terms: [("en".into(), vec!["courier".into()])].into(), ..Theme::default() };
        into.absorb(Theme {
            key: "parcels".into(),
            terms: [("en".into(), vec!["Courier".into(), "parcel".into()]), ("ko".into(), vec!["택배".into()])].into(),
            ..Theme::default()
        });
        assert_eq!(into.key, "delivery");
        assert_eq!(into.terms["en"], ["courier", "parcel"]);
        assert_eq!(into.terms["ko"], ["택배"]);
    }
}

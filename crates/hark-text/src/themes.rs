//! Themes: what a comment is about (delivery, price, staff …), found by the terms each theme
//! lists per language. The built-in customer-experience taxonomy is `data/themes/<lang>.json`;
//! an organisation's own themes are built with [`Themes::new`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::terms::TermIndex;
use crate::{Lang, Token, Words};

/// One theme: a stable key, its name in each language and its terms in each language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Where a comment mentions a theme.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeMatch {
    pub theme: String,
    /// Byte ranges of the matched words in the comment.
    pub spans: Vec<(usize, usize)>,
}

/// Per language: a phrase's first term → (theme, the phrase's other terms).
type PhraseIndex = TermIndex<Vec<(usize, Vec<String>)>>;

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
                    index[lang.index()].entry(first).or_default().push((i, terms));
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
                for (theme, rest) in phrases {
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

fn source(lang: Lang) -> &'static str {
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
        assert!(themes("I ordered on Tuesday").is_empty());
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
}

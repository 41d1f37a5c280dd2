//! What a comment says: its language, its words, its themes and its sentiment, in English,
//! Korean, Italian and Thai, offline.
//!
//! Pure: text in, tokens and tags out. Every dictionary, lexicon and model ships in this crate
//! or its dependencies; nothing is downloaded. The statistics of themes against scores
//! (drivers) are hark-core's.

mod lang;
pub mod phrases;
mod plain;
mod sentiment;
mod terms;
mod thai;
mod themes;
mod words;

pub use lang::{Lang, detect};
pub use sentiment::{Sentiment, SentimentLabel};
pub use themes::{MAX_TERM_CHARS, MAX_TERMS, MAX_THEMES, Theme, ThemeMatch, Themes, check_list, key_for};
pub use words::{Token, Words};

use std::sync::OnceLock;

/// Everything a comment is read with: the word rules of each language, the sentiment lexicons
/// and a set of themes. Build it once and share it; reading takes `&self`.
pub struct Analyzer {
    words: &'static Words,
    sentiment: &'static sentiment::Lexicons,
    themes: Themes,
}

/// What one comment says.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub lang: Lang,
    pub themes: Vec<ThemeMatch>,
    pub sentiment: Sentiment,
}

impl Analyzer {
    /// An analyzer for `themes` (the built-in taxonomy, or an organisation's own).
    pub fn new(themes: Themes) -> Self {
        Self { words: Words::shared(), sentiment: sentiment::Lexicons::shared(), themes }
    }

    /// An analyzer with the built-in customer-experience themes.
    pub fn builtin() -> &'static Analyzer {
        static BUILTIN: OnceLock<Analyzer> = OnceLock::new();
        BUILTIN.get_or_init(|| Analyzer::new(Themes::builtin()))
    }

    pub fn themes(&self) -> &Themes {
        &self.themes
    }

    pub fn words(&self) -> &Words {
        self.words
    }

    /// Reads `text`; `hint` (the survey's language) decides when the text itself cannot.
    pub fn analyze(&self, text: &str, hint: Option<Lang>) -> Analysis {
        let lang = detect(text, hint);
        let tokens = self.words.tokens(text, lang);
        Analysis { lang, themes: self.themes.find(&tokens, lang), sentiment: self.sentiment.score(text, &tokens, lang) }
    }
}

/// A digest of everything a comment is read with besides an organisation's themes: the word
/// rules, lexicons, built-in themes and dictionaries shipped, and [`RULES_VERSION`]. Tags stored under another digest are stale:
/// an upgrade that changes any of them has every comment read again.
pub fn rules_digest() -> String {
    /// Bump when the code that reads words or sentiment changes what it finds.
    const RULES_VERSION: &str = "16";
    // The built-in themes' words help tell English from Italian (see `lang`).
    let data = Lang::ALL.into_iter().flat_map(|l| {
        [words::rules_source(l), themes::source(l)].into_iter().chain(sentiment::sources(l).iter().copied())
    });
    let parts = std::iter::once(RULES_VERSION).chain(data).chain(thai::SOURCES);
    // FNV-1a: stable across builds and Rust versions, unlike the standard hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

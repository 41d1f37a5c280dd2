//! Changing the themes comments are read for (add, rename, change terms, merge, delete, adopt a
//! discovered phrase) and previewing a theme's terms on the stored comments, for the API and
//! the admin pages alike.

use std::collections::BTreeMap;

use hark_core::{Segment, Why};
use hark_store::{ResponseFilter, Store};
use hark_text::{Analyzer, Lang, Theme, Themes};
use serde::{Deserialize, Serialize};

use crate::ops::themes::read_recent_comments;
use crate::problem::ApiError;

/// Comments a preview reads: the newest, enough to show what a term set catches.
pub(crate) const PREVIEW_COMMENTS: i64 = 2_000;
/// Comments a preview shows.
const PREVIEW_SHOWN: usize = 20;

/// A theme as the API takes and gives it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ThemeBody {
    /// Stable; made from the English (else the first) name when left out. 1–40 of a–z, 0–9, _ or -.
    #[serde(default)]
    pub key: String,
    /// Language (en, ko, it, th) → name.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Language → words and phrases that mention the theme, as customers write them.
    #[serde(default)]
    pub terms: BTreeMap<String, Vec<String>>,
}

impl From<Theme> for ThemeBody {
    fn from(t: Theme) -> Self {
        ThemeBody { key: t.key, names: t.names, terms: t.terms }
    }
}

impl From<ThemeBody> for Theme {
    fn from(b: ThemeBody) -> Self {
        Theme { key: b.key, names: b.names, terms: b.terms }
    }
}

/// Changes the themes in use by `change` and saves them; comments are then read again in the
/// background. The organisation's own themes start as a copy of the built-in ones.
pub(crate) async fn change<T>(
    store: &Store,
    change: impl FnOnce(&mut Vec<Theme>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let generation = store.tagging_status().await?.generation;
    let (mut list, _) = store.list_themes().await?;
    let out = change(&mut list)?;
    store.save_themes(Some(list), generation).await?;
    Ok(out)
}

fn position(list: &[Theme], key: &str) -> Result<usize, ApiError> {
    list.iter().position(|t| t.key == key).ok_or_else(|| ApiError::not_found("theme"))
}

/// Adds a theme; its key is made from its name when not given. Returns the theme as stored.
pub(crate) async fn add(store: &Store, body: ThemeBody) -> Result<Theme, ApiError> {
    change(store, |list| {
        let mut theme = Theme::from(body).tidy();
        if theme.key.is_empty() {
            let name = theme.names.get("en").or_else(|| theme.names.values().next()).cloned().unwrap_or_default();
            theme.key = hark_text::key_for(&name, |k| list.iter().any(|t| t.key == k));
        } else if list.iter().any(|t| t.key == theme.key) {
            return Err(ApiError::invalid("key", Why::new("invalid.theme_key_taken").with("key", &theme.key)));
        }
        check_one(&theme)?;
        list.push(theme.clone());
        Ok(theme)
    })
    .await
}

/// Replaces a theme's names and terms (its key stays).
pub(crate) async fn replace(store: &Store, key: &str, body: ThemeBody) -> Result<Theme, ApiError> {
    change(store, |list| {
        let at = position(list, key)?;
        let theme = Theme { key: key.to_owned(), ..Theme::from(body) }.tidy();
        check_one(&theme)?;
        list[at] = theme.clone();
        Ok(theme)
    })
    .await
}

pub(crate) async fn delete(store: &Store, key: &str) -> Result<(), ApiError> {
    change(store, |list| {
        list.remove(position(list, key)?);
        Ok(())
    })
    .await
}

/// Merges theme `from` into `into`: `into` takes its terms, `from` goes.
pub(crate) async fn merge(store: &Store, from: &str, into: &str) -> Result<Theme, ApiError> {
    if from == into {
        return Err(ApiError::invalid("into", Why::new("invalid.merge_into_itself")));
    }
    change(store, |list| {
        let taken = list.remove(position(list, from)?);
        let at = position(list, into).map_err(|_| ApiError::invalid("into", Why::new("invalid.no_such_theme")))?;
        list[at].absorb(taken);
        Ok(list[at].clone())
    })
    .await
}

/// A discovered phrase as a theme of its own, named by it, in the language it is written in.
pub(crate) async fn adopt(store: &Store, phrase: &str, hint: Option<Lang>) -> Result<Theme, ApiError> {
    let phrase = phrase.trim();
    let lang = hark_text::detect(phrase, hint);
    let body = ThemeBody {
        key: String::new(),
        names: [(lang.tag().to_owned(), phrase.to_owned())].into(),
        terms: [(lang.tag().to_owned(), vec![phrase.to_owned()])].into(),
    };
    add(store, body).await
}

/// Problems of one theme with their own field names (`names.ko`, not `themes[3].names.ko`).
fn check_one(theme: &Theme) -> Result<(), ApiError> {
    let mut errors = hark_core::ValidationErrors::default();
    theme.check(&mut errors);
    Ok(errors.into_result()?)
}

/// What a set of terms finds among the newest comments.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Preview {
    /// Comments read (those of the newest answers).
    pub read: u64,
    /// Of those, how many the terms find.
    pub matched: u64,
    /// The first of them, newest first.
    pub comments: Vec<PreviewComment>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct PreviewComment {
    pub text: String,
    #[schema(value_type = String)]
    pub segment: Segment,
    /// Byte ranges of the words found, for highlighting.
    pub spans: Vec<(usize, usize)>,
}

/// Reads the newest comments for `terms` (language → words and phrases).
pub(crate) async fn preview(store: &Store, terms: BTreeMap<String, Vec<String>>) -> Result<Preview, ApiError> {
    let draft = Theme { key: "preview".into(), names: BTreeMap::new(), terms }.tidy();
    let mut errors = hark_core::ValidationErrors::default();
    draft.check(&mut errors);
    errors.0.retain(|e| e.field.starts_with("terms."));
    errors.into_result()?;
    read_recent_comments(store, &ResponseFilter::default(), PREVIEW_COMMENTS, move |comments| {
        let analyzer = Analyzer::new(Themes::new(vec![draft]));
        let mut preview = Preview { read: 0, matched: 0, comments: Vec::new() };
        for (text, language, segment) in comments {
            preview.read += 1;
            let analysis = analyzer.analyze(&text, language.as_deref().and_then(Lang::from_tag));
            let Some(found) = analysis.themes.into_iter().next() else { continue };
            preview.matched += 1;
            if preview.comments.len() < PREVIEW_SHOWN {
                preview.comments.push(PreviewComment { text, segment, spans: found.spans });
            }
        }
        preview
    })
    .await
}

//! Validation errors that name the offending field, so every layer can report them as-is.

use serde::Serialize;

use crate::i18n::{self, Locale};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Path of the offending field, e.g. `score` or `answers.q2`.
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
    /// The same as a sentence of the locale files, for pages read in other languages; `None`
    /// for the API's own words, which only developers read.
    #[serde(skip)]
    pub why: Option<Why>,
}

impl FieldError {
    /// A problem that staff may meet on a page, said in each reader's language.
    pub fn new(field: impl Into<String>, why: Why) -> Self {
        FieldError { field: field.into(), message: why.in_language(i18n::base()), why: Some(why) }
    }

    /// What is wrong, in `locale`'s words when Hark has them.
    pub fn message_in(&self, locale: &Locale) -> String {
        self.why.as_ref().map_or_else(|| self.message.clone(), |why| why.in_language(locale))
    }
}

/// What is wrong with a field as a sentence of the locale files (`invalid.*`) and the values it
/// names, so that the API says it in English and a page in its reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    pub key: &'static str,
    pub values: Vec<(&'static str, String)>,
}

impl Why {
    pub fn new(key: &'static str) -> Self {
        debug_assert!(i18n::base().has(key), "locales/en.json has no `{key}`");
        Why { key, values: Vec::new() }
    }

    /// Fills `{name}` in the sentence with `value`.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.values.push((name, value.to_string()));
        self
    }

    pub fn in_language(&self, locale: &Locale) -> String {
        let values: Vec<(&str, &str)> = self.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        locale.fill(self.key, &values)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// A problem in English only: for input that only the API takes.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), message: message.into(), why: None });
    }

    /// A problem that staff may meet on a page, said in each reader's language.
    pub fn say(&mut self, field: impl Into<String>, why: Why) {
        self.0.push(FieldError::new(field, why));
    }

    pub fn single(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut errors = Self::default();
        errors.push(field, message);
        errors
    }

    pub fn one(field: impl Into<String>, why: Why) -> Self {
        let mut errors = Self::default();
        errors.say(field, why);
        errors
    }

    /// `Ok(())` when nothing was pushed, so validators can collect every problem at once.
    pub fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

//! Filters shared by the response list and the reports, compiled to portable SQL.

use std::fmt::Write;

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AssertSqlSafe};

use crate::Dialect;

/// Which responses a list or report covers. Every field narrows; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponseFilter {
    pub survey_id: Option<String>,
    pub survey_kind: Option<hark_core::SurveyKind>,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
    pub channel: Option<String>,
    pub language: Option<String>,
    pub segment: Option<hark_core::Segment>,
    /// One score of the main question (a bar of the distribution, clicked).
    pub score: Option<i64>,
    pub contact_id: Option<String>,
    /// Inclusive lower bound, epoch ms.
    pub from_ms: Option<i64>,
    /// Exclusive upper bound, epoch ms.
    pub to_ms: Option<i64>,
    /// Contact attribute equals value (compared as text), all must match.
    pub attributes: Vec<(String, String)>,
    /// Words the comment contains, in any language and case (a substring match on the
    /// case-folded comment, so it needs no word boundaries: Thai and Korean work as well).
    pub search: Option<String>,
    /// A theme the comment mentions (its key).
    pub theme: Option<String>,
}

pub(crate) enum Bind {
    Text(Option<String>),
    Int(Option<i64>),
}

/// SQL text with placeholders and the values they stand for, in the order pushed.
#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    binds: Vec<Bind>,
}

/// Marks a placeholder in [`Sql`] text until [`Sql::query`] writes it as its database wants.
const PLACEHOLDER: char = '\u{1}';

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql { text: text.to_string(), binds: Vec::new() }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        debug_assert!(!text.contains(PLACEHOLDER), "SQL text holds no control characters");
        self.text.push_str(text);
        self
    }

    /// Appends another statement's text and values.
    pub fn append(&mut self, other: Sql) -> &mut Self {
        self.text.push_str(&other.text);
        self.binds.extend(other.binds);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        self.text.push(PLACEHOLDER);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.bind(Bind::Text(Some(value.to_string())))
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.bind(Bind::Int(Some(value)))
    }

    /// Appends ` IN (…)` with a placeholder for each of `values` (at least one).
    pub fn in_texts<'a>(&mut self, values: impl IntoIterator<Item = &'a str>) -> &mut Self {
        self.push(" IN (");
        for (i, value) in values.into_iter().enumerate() {
            self.push(if i == 0 { "" } else { ", " }).text(value);
        }
        self.push(")")
    }

    /// Appends ` AND column = value` when there is a value.
    pub fn and_eq(&mut self, column: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.push(" AND ").push(column).push(" = ").text(v);
        }
        self
    }

    /// The statement for `dialect`: PostgreSQL numbers its placeholders (`$1`); SQLite gets
    /// bare `?`, taken in order, because it finds a numbered one by walking the list of every
    /// name, which made binding cost the square of a statement's placeholders.
    pub fn query(&self, dialect: Dialect) -> Query<'_, Any, AnyArguments> {
        let text = match dialect {
            Dialect::Sqlite => self.text.replace(PLACEHOLDER, "?"),
            Dialect::Postgres => {
                let mut parts = self.text.split(PLACEHOLDER);
                let mut text = parts.next().unwrap_or_default().to_owned();
                for (n, part) in parts.enumerate() {
                    let _ = write!(text, "${}{part}", n + 1);
                }
                text
            }
        };
        let mut q = sqlx::query(AssertSqlSafe(text));
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_deref()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

impl ResponseFilter {
    /// `SELECT {columns}` of the answers this filter matches, for the caller to go on with
    /// (an order, a limit).
    pub(crate) fn select(&self, columns: &str, dialect: Dialect) -> Sql {
        let mut sql = Sql::new(&format!("SELECT {columns}"));
        sql.push(Self::FROM).push(" WHERE 1 = 1");
        self.push_conditions(&mut sql, dialect);
        sql
    }

    /// Appends ` AND …` conditions over `r` (responses), `s` (surveys) and `c` (contacts).
    pub(crate) fn push_conditions(&self, sql: &mut Sql, dialect: Dialect) {
        sql.and_eq("r.survey_id", self.survey_id.as_deref())
            .and_eq("s.kind", self.survey_kind.map(|k| k.as_str()))
            .and_eq("r.team_id", self.team_id.as_deref())
            .and_eq("r.agent_id", self.agent_id.as_deref())
            .and_eq("r.channel", self.channel.as_deref())
            .and_eq("r.language", self.language.as_deref())
            .and_eq("r.segment", self.segment.map(|s| s.as_str()))
            .and_eq("r.contact_id", self.contact_id.as_deref());
        if let Some(score) = self.score {
            sql.push(" AND r.score = ").int(score);
        }
        if let Some(from) = self.from_ms {
            sql.push(" AND r.created_at >= ").int(from);
        }
        if let Some(to) = self.to_ms {
            sql.push(" AND r.created_at < ").int(to);
        }
        push_attribute_conditions(sql, dialect, &self.attributes);
        if let Some(theme) = &self.theme {
            sql.push(" AND r.themes LIKE ").text(&crate::tagging::theme_pattern(theme));
        }
        if let Some(words) = &self.search {
            for word in search_words(words) {
                let escaped = word.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                sql.push(" AND r.search_text LIKE ").text(&format!("%{escaped}%")).push(" ESCAPE '\\'");
            }
        }
    }

    /// The joins the conditions rely on.
    pub(crate) const FROM: &'static str =
        " FROM responses r JOIN surveys s ON s.id = r.survey_id LEFT JOIN contacts c ON c.id = r.contact_id";
}

/// Appends ` AND c.attributes[key] = value` (compared as text) for each pair.
pub(crate) fn push_attribute_conditions(sql: &mut Sql, dialect: Dialect, attributes: &[(String, String)]) {
    for (key, value) in attributes {
        sql.push(" AND ");
        json_text(sql, dialect, "c.attributes", key);
        sql.push(" = ").text(value);
    }
}

/// Appends the text of `column`'s top-level JSON member `key` (NULL when absent).
pub(crate) fn json_text(sql: &mut Sql, dialect: Dialect, column: &str, key: &str) {
    match dialect {
        Dialect::Sqlite => {
            let path = format!("$.\"{}\"", key.replace('"', "\"\""));
            sql.push("CAST(json_extract(").push(column).push(", ").text(&path).push(") AS TEXT)")
        }
        Dialect::Postgres => sql.push("(").push(column).push("::jsonb ->> ").text(key).push(")"),
    };
}

/// The case-folded form comments are searched in; the writer stores it beside each comment.
pub fn fold_for_search(text: &str) -> String {
    text.to_lowercase()
}

/// The search's words, case-folded: every one must occur.
fn search_words(search: &str) -> impl Iterator<Item = String> + '_ {
    search.split_whitespace().map(fold_for_search)
}

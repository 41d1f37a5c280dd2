//! The admin pages for the themes comments are read for: the list with how far re-reading has
//! come, adding a theme, editing one (names and terms per language, with a live preview of the
//! comments its terms find), merging, deleting, adopting a discovered phrase, and going back
//! to the built-in themes.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hark_text::{Lang, Theme};

use crate::AppState;
use crate::ops::taxonomy::{self, Preview, ThemeBody};
use crate::page::{Admin, Nav, Page, Reader, form, internal, render, value};
use crate::problem::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/themes", get(list_page).post(add))
        .route("/admin/themes/adopt", post(adopt))
        .route("/admin/themes/builtin", post(restore_builtin))
        .route("/admin/themes/{key}", get(edit_page).post(change))
        .route("/admin/themes/{key}/preview", post(preview))
}

struct Row {
    key: String,
    name: String,
    /// The terms in the reader's language (else English), a few, then how many more.
    terms: String,
}

#[derive(Template)]
#[template(path = "admin_themes.html")]
struct ListPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    error: Option<String>,
    own: bool,
    /// How far reading the comments again has come, in words; none when it is done.
    progress: Option<String>,
    rows: Vec<Row>,
    /// (tag, language name) of the languages Hark reads.
    languages: Vec<(&'static str, String)>,
}

/// The languages Hark reads, named in themselves.
fn languages() -> Vec<(&'static str, String)> {
    Lang::ALL
        .iter()
        .map(|l| (l.tag(), hark_core::i18n::locale(l.tag()).map_or_else(|| l.tag().to_owned(), |x| x.name.clone())))
        .collect()
}

/// A problem as one line in the reader's language.
fn said(t: Reader, e: &ApiError) -> String {
    if e.0.status == StatusCode::CONFLICT.as_u16() {
        return t.text("themes.changed_meanwhile").to_owned();
    }
    if e.0.errors.is_empty() {
        return e.0.detail.clone();
    }
    e.0.errors.iter().map(|f| t.field_error(f)).collect::<Vec<_>>().join(" ")
}

async fn list_view(state: &AppState, admin: &Admin, error: Option<String>) -> Page {
    let t = admin.1.t;
    let (list, own) = state.store.list_themes().await.map_err(internal)?;
    let status = state.store.tagging_status().await.map_err(internal)?;
    let progress = status.rereading.map(|p| {
        let done = p.done.min(p.total);
        let pct = if p.total > 0 { 100 * done / p.total } else { 100 };
        t.fill(
            "themes.rereading",
            &[("done", &t.count(done as u64)), ("total", &t.count(p.total as u64)), ("pct", &pct.to_string())],
        )
    });
    let rows = list
        .iter()
        .map(|theme| {
            let terms = theme.terms.get(t.tag).or_else(|| theme.terms.get("en")).cloned().unwrap_or_default();
            let mut shown = terms.iter().take(6).cloned().collect::<Vec<_>>().join(", ");
            if terms.len() > 6 {
                shown.push_str(&format!(" {}", t.fill1("themes.more_terms", "n", terms.len() - 6)));
            }
            Row { key: theme.key.clone(), name: theme.name(t.tag).to_owned(), terms: shown }
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ListPage {
        title: t.0.text("themes.title"),
        t,
        nav: Some(admin.1.clone()),
        error,
        own,
        progress,
        rows,
        languages: languages(),
    };
    Ok((status, render(&page)).into_response())
}

async fn list_page(State(state): State<AppState>, admin: Admin) -> Page {
    list_view(&state, &admin, None).await
}

/// One term per line (or comma-separated), as typed.
fn terms_of(text: &str) -> Vec<String> {
    text.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Adds a theme named in one language with its terms there; then its page, to name it in the
/// others.
async fn add(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let lang = value(&pairs, "lang").to_owned();
    let body = ThemeBody {
        key: String::new(),
        names: [(lang.clone(), value(&pairs, "name").to_owned())].into(),
        terms: [(lang, terms_of(value(&pairs, "terms")))].into(),
    };
    match taxonomy::add(&state.store, body).await {
        Ok(theme) => Ok(Redirect::to(&format!("/admin/themes/{}?saved=1", theme.key)).into_response()),
        Err(e) => list_view(&state, &admin, Some(said(admin.1.t, &e))).await,
    }
}

async fn adopt(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let hint = Lang::from_tag(admin.1.t.tag);
    match taxonomy::adopt(&state.store, value(&pairs, "phrase"), hint).await {
        Ok(theme) => Ok(Redirect::to(&format!("/admin/themes/{}?adopted=1", theme.key)).into_response()),
        Err(e) => list_view(&state, &admin, Some(said(admin.1.t, &e))).await,
    }
}

async fn restore_builtin(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    form(&admin, &body)?;
    let generation = state.store.tagging_status().await.map_err(internal)?.generation;
    match state.store.save_themes(None, generation).await {
        Ok(_) => Ok(Redirect::to("/admin/themes").into_response()),
        Err(e) => list_view(&state, &admin, Some(said(admin.1.t, &ApiError::from(e)))).await,
    }
}

/// A name and the terms of one language, as the edit form shows them.
struct LanguageFields {
    tag: &'static str,
    language: String,
    name: String,
    terms: String,
}

/// A comment of the preview in pieces, each marked when the terms found it.
type Marked = Vec<(String, bool)>;

#[derive(Template)]
#[template(path = "admin_theme_edit.html")]
struct EditPage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    notice: Option<&'static str>,
    error: Option<String>,
    key: String,
    fields: Vec<LanguageFields>,
    /// (key, name) of the themes this one may be merged into.
    others: Vec<(String, String)>,
    /// "Found in 12 of the newest 2,000 comments", and the comments with the words marked.
    preview: Option<(String, Vec<Marked>)>,
}

#[derive(serde::Deserialize)]
struct EditQuery {
    saved: Option<String>,
    adopted: Option<String>,
}

/// The theme as the form describes it (names and terms per language).
fn theme_of(key: &str, pairs: &[(String, String)]) -> Theme {
    let mut theme = Theme { key: key.to_owned(), ..Theme::default() };
    for lang in Lang::ALL {
        theme.names.insert(lang.tag().into(), value(pairs, &format!("name_{}", lang.tag())).to_owned());
        theme.terms.insert(lang.tag().into(), terms_of(value(pairs, &format!("terms_{}", lang.tag()))));
    }
    theme.tidy()
}

fn marked(text: &str, spans: &[(usize, usize)]) -> Marked {
    let mut pieces = Vec::new();
    let mut at = 0;
    let mut spans = spans.to_vec();
    spans.sort_unstable();
    for (start, end) in spans {
        if start < at || end > text.len() || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        pieces.push((text[at..start].to_owned(), false));
        pieces.push((text[start..end].to_owned(), true));
        at = end;
    }
    pieces.push((text[at..].to_owned(), false));
    pieces
}

async fn edit_view(
    state: &AppState,
    admin: &Admin,
    theme: Theme,
    notice: Option<&'static str>,
    error: Option<String>,
    preview: Option<Preview>,
) -> Page {
    let t = admin.1.t;
    let (list, _) = state.store.list_themes().await.map_err(internal)?;
    let fields = languages()
        .into_iter()
        .map(|(tag, language)| LanguageFields {
            tag,
            language,
            name: theme.names.get(tag).cloned().unwrap_or_default(),
            terms: theme.terms.get(tag).map(|terms| terms.join("\n")).unwrap_or_default(),
        })
        .collect();
    let preview = preview.map(|p| {
        let line = t.fill("themes.preview_found", &[("matched", &t.count(p.matched)), ("read", &t.count(p.read))]);
        (line, p.comments.iter().map(|c| marked(&c.text, &c.spans)).collect())
    });
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = EditPage {
        title: theme.name(t.tag).to_owned(),
        t,
        nav: Some(admin.1.clone()),
        notice,
        error,
        others: list.iter().filter(|o| o.key != theme.key).map(|o| (o.key.clone(), o.name(t.tag).to_owned())).collect(),
        key: theme.key,
        fields,
        preview,
    };
    Ok((status, render(&page)).into_response())
}

async fn stored_theme(state: &AppState, admin: &Admin, key: &str) -> Result<Theme, Response> {
    let (list, _) = state.store.list_themes().await.map_err(internal)?;
    list.into_iter().find(|t| t.key == key).ok_or_else(|| crate::page::not_found(&admin.1, "problem.no_theme"))
}

async fn edit_page(
    State(state): State<AppState>,
    admin: Admin,
    Path(key): Path<String>,
    Query(q): Query<EditQuery>,
) -> Page {
    let theme = stored_theme(&state, &admin, &key).await?;
    let notice = match (q.saved, q.adopted) {
        (_, Some(_)) => Some("themes.adopted"),
        (Some(_), _) => Some("themes.saved"),
        _ => None,
    };
    let preview = taxonomy::preview(&state.store, theme.terms.clone()).await.ok();
    edit_view(&state, &admin, theme, notice, None, preview).await
}

/// Saves, merges or deletes a theme, as the button pressed says.
async fn change(State(state): State<AppState>, admin: Admin, Path(key): Path<String>, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let store = &state.store;
    let done = match value(&pairs, "action") {
        "save" => {
            let theme = theme_of(&key, &pairs);
            match taxonomy::replace(store, &key, theme.clone().into()).await {
                Ok(_) => Ok(format!("/admin/themes/{key}?saved=1")),
                Err(e) => return edit_view(&state, &admin, theme, None, Some(said(admin.1.t, &e)), None).await,
            }
        }
        "merge" => taxonomy::merge(store, &key, value(&pairs, "into"))
            .await
            .map(|into| format!("/admin/themes/{}?saved=1", into.key)),
        "delete" => taxonomy::delete(store, &key).await.map(|()| "/admin/themes".to_owned()),
        other => return Err((StatusCode::BAD_REQUEST, format!("unknown action `{other}`")).into_response()),
    };
    match done {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(e) => {
            let theme = stored_theme(&state, &admin, &key).await?;
            edit_view(&state, &admin, theme, None, Some(said(admin.1.t, &e)), None).await
        }
    }
}

/// The edit page with what the form's terms find, unsaved: what the page's script fetches as
/// the terms are typed, and what the Preview button shows without a script.
async fn preview(State(state): State<AppState>, admin: Admin, Path(key): Path<String>, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let theme = theme_of(&key, &pairs);
    let terms: BTreeMap<String, Vec<String>> = theme.terms.clone();
    match taxonomy::preview(&state.store, terms).await {
        Ok(p) => edit_view(&state, &admin, theme, None, None, Some(p)).await,
        Err(e) => edit_view(&state, &admin, theme, None, Some(said(admin.1.t, &e)), None).await,
    }
}

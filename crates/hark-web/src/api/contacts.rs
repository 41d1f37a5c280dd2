use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hark_core::contact::ContactInput;
use hark_store::{Contact, Note};
use serde::Deserialize;

use super::Page;
use crate::AppState;
use crate::extract::{ApiJson, RawQuery};
use crate::ops::filters;
use crate::ops::privacy::{self, ContactExport};
use crate::problem::{ApiError, ApiResult, Problem};

/// Create or update a contact by its `external_id`; omitted fields keep their values and
/// attributes merge key by key.
#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 200, body = Contact), (status = 422, body = Problem)))]
pub(crate) async fn upsert_contact(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<ContactInput>,
) -> ApiResult<Json<Contact>> {
    input.validate("")?;
    Ok(Json(s.store.upsert_contact(&input).await?))
}

/// Contacts in creation order; pass `next_cursor` back as `cursor` for the next page.
#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts",
    params(("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Contact>)))]
pub(crate) async fn list_contacts(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Page<Contact>>> {
    let (cursor, limit) = filters::page(&q)?;
    let items = s.store.list_contacts(cursor.as_deref(), limit).await?;
    let next_cursor = (items.len() as i64 == limit).then(|| items.last().map(|c| c.id.clone())).flatten();
    Ok(Json(Page { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts",
    responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub(crate) async fn get_contact(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Contact>> {
    s.store.get_contact(&id).await?.map(Json).ok_or_else(|| ApiError::not_found("contact"))
}

/// Erase a contact from every table: the record, notes, interactions and feedback are deleted; their
/// answers stay as anonymous scores without comment, answers or context, so past figures do
/// not change; cases, events and invitations lose the link; texts of replies and notes on
/// their cases and webhook and job payloads naming them are emptied. The body says what was done.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts",
    responses((status = 200, body = hark_store::Erasure), (status = 404, body = Problem)))]
pub(crate) async fn delete_contact(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<hark_store::Erasure>> {
    Ok(Json(s.store.erase_contact(&id).await?))
}

/// Everything Hark holds about one contact: the record, answers, invitations, cases with their
/// history, notes, interactions and feedback from other sources.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/export", tag = "contacts",
    responses((status = 200, body = ContactExport), (status = 404, body = Problem)))]
pub(crate) async fn export_contact(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContactExport>> {
    privacy::contact_export(&s, &id).await?.map(Json).ok_or_else(|| ApiError::not_found("contact"))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteInput {
    body: String,
    /// Who wrote it.
    author: String,
    response_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/contacts/{id}/notes", tag = "contacts", request_body = NoteInput,
    responses((status = 201, body = Note), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_note(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteInput>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let mut errors = hark_core::ValidationErrors::default();
    if input.body.trim().is_empty() || input.body.chars().count() > 10_000 {
        errors.push("body", "1–10,000 characters");
    }
    if input.author.trim().is_empty() || input.author.chars().count() > 200 {
        errors.push("author", "1–200 characters");
    }
    errors.into_result()?;
    let note = s.store.add_note(&id, input.response_id.as_deref(), input.author.trim(), &input.body).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}/notes", tag = "contacts",
    responses((status = 200, body = Vec<Note>), (status = 404, body = Problem)))]
pub(crate) async fn list_notes(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Vec<Note>>> {
    s.store.get_contact(&id).await?.ok_or_else(|| ApiError::not_found("contact"))?;
    Ok(Json(s.store.list_notes(&id).await?))
}

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hark_store::{Response, ResponseCursor};

use super::Page;
use crate::AppState;
use crate::extract::{ApiJson, RawQuery, idempotency_header};
use crate::ingest::{ResponseInput, submit};
use crate::ops::filters;
use crate::problem::{ApiError, ApiResult, Problem};

/// Record an answer. Requires an idempotency key (header `Idempotency-Key` or field): a retry
/// with the same key returns the stored response with 200 instead of adding another; the same
/// key with different content is a 409. A 201 or 200 means the answer is durably stored.
#[utoipa::path(post, path = "/api/v1/responses", tag = "responses", request_body = ResponseInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Response), (status = 200, description = "a retry: the response stored earlier", body = Response),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_response(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ResponseInput>,
) -> ApiResult<(StatusCode, Json<Response>)> {
    let submitted = submit(&s.store, input, idempotency_header(&headers)?).await?;
    let status = if submitted.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(submitted.response)))
}

/// Newest first, filtered; pass `next_cursor` back as `cursor` for the next page.
#[utoipa::path(get, path = "/api/v1/responses", tag = "responses",
    params(filters::FilterParams, ("segment" = Option<String>, Query),
        ("kind" = Option<String>, Query, description = "Only answers to surveys of this kind: nps, csat or ces"),
        ("cursor" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Page<Response>), (status = 422, body = Problem)))]
pub(crate) async fn list_responses(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Page<Response>>> {
    let (filter, extras) =
        filters::parse(&q, &["segment", "kind", "cursor", "limit"], s.store.reading().analyzer.themes())?;
    let cursor = match &extras.cursor {
        None => None,
        Some(c) => {
            Some(ResponseCursor::decode(c).ok_or_else(|| ApiError::field("cursor", "not a cursor this API returned"))?)
        }
    };
    let items = s.store.list_responses(&filter, cursor.as_ref(), extras.limit).await?;
    let next_cursor = (items.len() as i64 == extras.limit)
        .then(|| items.last().map(|r| ResponseCursor { created_at: r.created_at, id: r.id.clone() }.encode()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/responses/{id}", tag = "responses",
    responses((status = 200, body = Response), (status = 404, body = Problem)))]
pub(crate) async fn get_response(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Response>> {
    s.store.get_response(&id).await?.map(Json).ok_or_else(|| ApiError::not_found("response"))
}

//! `/api/v1/themes`: the themes comments are read for. A change is taken at once by new
//! answers; stored comments are read again in the background (`tagging` says how far).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hark_store::TaggingStatus;

use crate::AppState;
use crate::extract::ApiJson;
use crate::ops::taxonomy::{self, Preview, ThemeBody};
use crate::problem::{ApiResult, Problem};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ThemeList {
    /// In the order pages list them.
    themes: Vec<ThemeBody>,
    /// Whether these are the organisation's own (else the built-in taxonomy).
    own: bool,
    tagging: TaggingStatus,
}

/// The themes in use, and how far reading the stored comments with them has come.
#[utoipa::path(get, path = "/api/v1/themes", tag = "themes", responses((status = 200, body = ThemeList)))]
pub(crate) async fn list_themes(State(s): State<AppState>) -> ApiResult<Json<ThemeList>> {
    let (list, own) = s.store.list_themes().await?;
    let tagging = s.store.tagging_status().await?;
    Ok(Json(ThemeList { themes: list.into_iter().map(ThemeBody::from).collect(), own, tagging }))
}

/// Add a theme (its key is made from its name when left out).
#[utoipa::path(post, path = "/api/v1/themes", tag = "themes", request_body = ThemeBody,
    responses((status = 201, body = ThemeBody), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_theme(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<ThemeBody>,
) -> ApiResult<(StatusCode, Json<ThemeBody>)> {
    Ok((StatusCode::CREATED, Json(taxonomy::add(&s.store, body).await?.into())))
}

/// Rename a theme or change its terms: the names and terms given replace the old ones.
#[utoipa::path(put, path = "/api/v1/themes/{key}", tag = "themes", request_body = ThemeBody,
    responses((status = 200, body = ThemeBody), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(crate) async fn replace_theme(
    State(s): State<AppState>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ThemeBody>,
) -> ApiResult<Json<ThemeBody>> {
    Ok(Json(taxonomy::replace(&s.store, &key, body).await?.into()))
}

/// Delete a theme; comments are read again without it.
#[utoipa::path(delete, path = "/api/v1/themes/{key}", tag = "themes",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub(crate) async fn delete_theme(State(s): State<AppState>, Path(key): Path<String>) -> ApiResult<StatusCode> {
    taxonomy::delete(&s.store, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MergeInto {
    /// The theme that takes the terms.
    into: String,
}

/// Merge a theme into another: that one takes its terms, this one goes.
#[utoipa::path(post, path = "/api/v1/themes/{key}/merge", tag = "themes", request_body = MergeInto,
    responses((status = 200, body = ThemeBody), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub(crate) async fn merge_theme(
    State(s): State<AppState>,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<MergeInto>,
) -> ApiResult<Json<ThemeBody>> {
    Ok(Json(taxonomy::merge(&s.store, &key, &body.into).await?.into()))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreviewTerms {
    /// Language → words and phrases, as for a theme.
    terms: BTreeMap<String, Vec<String>>,
}

/// What a set of terms would find among the newest comments, before saving it.
#[utoipa::path(post, path = "/api/v1/themes/preview", tag = "themes", request_body = PreviewTerms,
    responses((status = 200, body = Preview), (status = 422, body = Problem)))]
pub(crate) async fn preview_terms(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<PreviewTerms>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(taxonomy::preview(&s.store, body.terms).await?))
}

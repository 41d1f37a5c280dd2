use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hark_core::survey::SurveyDefinition;
use hark_store::{Survey, SurveyStatus};
use serde::Deserialize;

use crate::AppState;
use crate::extract::ApiJson;
use crate::ops::surveys::check_case_defaults;
use crate::problem::{ApiError, ApiResult, Problem};

/// Create a survey; it starts `active`.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyDefinition,
    responses((status = 201, body = Survey), (status = 422, body = Problem)))]
pub(crate) async fn create_survey(
    State(s): State<AppState>,
    ApiJson(def): ApiJson<SurveyDefinition>,
) -> ApiResult<(StatusCode, Json<Survey>)> {
    check_case_defaults(&s, &def).await?;
    let survey = s.store.create_survey(&def, SurveyStatus::Active).await?;
    Ok((StatusCode::CREATED, Json(survey)))
}

#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys", responses((status = 200, body = Vec<Survey>)))]
pub(crate) async fn list_surveys(State(s): State<AppState>) -> ApiResult<Json<Vec<Survey>>> {
    Ok(Json(s.store.list_surveys().await?))
}

#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "surveys",
    responses((status = 200, body = Survey), (status = 404, body = Problem)))]
pub(crate) async fn get_survey(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Survey>> {
    s.store.get_survey(&id).await?.map(Json).ok_or_else(|| ApiError::not_found("survey"))
}

/// Replace a survey's definition (its kind cannot change).
#[utoipa::path(put, path = "/api/v1/surveys/{id}", tag = "surveys", request_body = SurveyDefinition,
    responses((status = 200, body = Survey), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn update_survey(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(def): ApiJson<SurveyDefinition>,
) -> ApiResult<Json<Survey>> {
    let current = s.store.get_survey(&id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    check_case_defaults(&s, &def).await?;
    Ok(Json(s.store.update_survey(&id, &def, current.status).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatusInput {
    status: SurveyStatus,
}

/// Open (`active`), pause (`draft`) or close (`closed`: no more answers accepted) a survey.
#[utoipa::path(put, path = "/api/v1/surveys/{id}/status", tag = "surveys", request_body = StatusInput,
    responses((status = 200, body = Survey), (status = 404, body = Problem)))]
pub(crate) async fn set_survey_status(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatusInput>,
) -> ApiResult<Json<Survey>> {
    let current = s.store.get_survey(&id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    Ok(Json(s.store.update_survey(&id, &current.definition, input.status).await?))
}

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hark_core::ValidationErrors;
use hark_store::{Agent, NewAgent, Team};
use serde::Deserialize;

use crate::AppState;
use crate::extract::{ApiJson, RawQuery};
use crate::problem::{ApiError, ApiResult, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamInput {
    name: String,
}

fn check_name(field: &str, name: &str) -> Result<(), ValidationErrors> {
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(ValidationErrors::single(field, "1–200 characters"));
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", request_body = TeamInput,
    responses((status = 201, body = Team), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_team(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<TeamInput>,
) -> ApiResult<(StatusCode, Json<Team>)> {
    check_name("name", &input.name)?;
    Ok((StatusCode::CREATED, Json(s.store.create_team(input.name.trim()).await?)))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", responses((status = 200, body = Vec<Team>)))]
pub(crate) async fn list_teams(State(s): State<AppState>) -> ApiResult<Json<Vec<Team>>> {
    Ok(Json(s.store.list_teams().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentInput {
    name: String,
    email: Option<String>,
    /// The agent's id in your contact-centre or helpdesk system.
    external_id: Option<String>,
    team_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = AgentInput,
    responses((status = 201, body = Agent), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_agent(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<AgentInput>,
) -> ApiResult<(StatusCode, Json<Agent>)> {
    check_name("name", &input.name)?;
    if let Some(team) = &input.team_id
        && s.store.get_team(team).await?.is_none()
    {
        return Err(ApiError::field("team_id", "no such team"));
    }
    let agent = NewAgent {
        name: input.name.trim().into(),
        email: input.email,
        external_id: input.external_id,
        team_id: input.team_id,
    };
    Ok((StatusCode::CREATED, Json(s.store.create_agent(&agent).await?)))
}

/// Agents, optionally of one team (`?team_id=`).
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", params(("team_id" = Option<String>, Query)),
    responses((status = 200, body = Vec<Agent>)))]
pub(crate) async fn list_agents(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Vec<Agent>>> {
    let mut team = None;
    for (k, v) in q {
        match k.as_str() {
            "team_id" => team = Some(v),
            other => return Err(ApiError::field(other, "unknown parameter")),
        }
    }
    Ok(Json(s.store.list_agents(team.as_deref()).await?))
}

//! Closing the loop over the API: cases, the loop report, webhooks, reward codes, and
//! interactions and the timeline of a contact.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hark_core::contact::ContactInput;
use hark_core::{Segment, ValidationErrors, contact::is_attribute_key};
use hark_store::{Case, CaseEvent, Delivery, Interaction, NewInteraction, Response, Webhook};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::MAX_LIMIT;
use crate::AppState;
use crate::extract::{ApiJson, RawQuery, idempotency_header};
use crate::ops::cases::{CaseAction, LoopReport, act, case_filter, loop_report, period, refuse_unless};
use crate::ops::timeline::{TimelineItem, timeline};
use crate::ops::webhooks::{WebhookInput, check_webhook, send_test};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::viewer::{ApiViewer, CaseAccess, Viewer};

/// Cases, due first. Filters: `status`, `owner_id`, `team_id`, `contact_id`, `overdue=true`,
/// `open=true` (every status but closed), `limit`. With a session instead of a key, only the
/// cases the user may see (a team lead's team, an agent's own).
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(("status" = Option<String>, Query), ("owner_id" = Option<String>, Query), ("team_id" = Option<String>, Query),
        ("contact_id" = Option<String>, Query), ("overdue" = Option<bool>, Query), ("open" = Option<bool>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<Case>), (status = 422, body = Problem)))]
pub(crate) async fn list_cases(
    State(s): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Vec<Case>>> {
    let (mut filter, limit) = case_filter(&q)?;
    filter.reach = viewer.case_reach();
    Ok(Json(s.store.list_cases(&filter, limit).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CaseDetail {
    pub case: Case,
    pub response: Option<Response>,
    /// Every change, oldest first, with who and when.
    pub history: Vec<CaseEvent>,
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    responses((status = 200, body = CaseDetail), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub(crate) async fn get_case(
    State(s): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    let case = s.store.get_case(&id).await?.ok_or_else(|| ApiError::not_found("case"))?;
    refuse_unless(viewer.case_access(&s.store, &case).await?, CaseAccess::Read)?;
    let response = s.store.get_response(&case.response_id).await?;
    let history = s.store.case_events(&id).await?;
    Ok(Json(CaseDetail { case, response, history }))
}

/// Act on a case. Every action is recorded in the case's history and sent to the webhooks.
/// With a session, only its owner, their team lead or an admin may act.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases", request_body = CaseAction,
    responses((status = 200, body = Case), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn act_on_case(
    State(s): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    ApiJson(action): ApiJson<CaseAction>,
) -> ApiResult<Json<Case>> {
    Ok(Json(act(&s, &viewer, &id, action).await?))
}

/// Did closing the loop work: cases opened and closed, median time to first contact and to
/// close, share closed on time, by team, owner and root cause; and how customers scored the
/// next time after their case was closed, on a survey of the same kind. `from`/`to` select
/// cases by when they were opened. With a session: a team lead's report covers their team's
/// cases and their own, and agents are refused, as on the page.
#[utoipa::path(get, path = "/api/v1/reports/loop", tag = "reports",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = LoopReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn loop_report_api(
    State(s): State<AppState>,
    ApiViewer(viewer): ApiViewer,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<LoopReport>> {
    if !Viewer::reads_the_loop(viewer.role) {
        return Err(ApiError::forbidden("agents follow their own cases; the loop report is for leads and up"));
    }
    let (from, to) = period(&q, &s.config.time_zone)?;
    Ok(Json(loop_report(&s, from, to, viewer.case_reach()).await?))
}

/// Add an outgoing webhook; its `secret` signs every call (`X-Hark-Signature: sha256=` HMAC
/// of `{X-Hark-Timestamp}.{body}`).
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = WebhookInput,
    responses((status = 201, body = Webhook), (status = 422, body = Problem)))]
pub(crate) async fn create_webhook(
    State(s): State<AppState>,
    ApiJson(input): ApiJson<WebhookInput>,
) -> ApiResult<(StatusCode, Json<Webhook>)> {
    check_webhook(&input)?;
    let hook =
        s.store.create_webhook(&input.name, &input.kind, &input.url, &input.events, input.template.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = Vec<Webhook>)))]
pub(crate) async fn list_webhooks(State(s): State<AppState>) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(s.store.list_webhooks().await?))
}

#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn delete_webhook(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    s.store.delete_webhook(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a `test` event to this webhook now (it shows in the delivery log).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks",
    responses((status = 202), (status = 404, body = Problem)))]
pub(crate) async fn test_webhook(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    send_test(&s, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    responses((status = 200, body = Vec<Delivery>), (status = 404, body = Problem)))]
pub(crate) async fn list_deliveries(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Delivery>>> {
    s.store.get_webhook(&id).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    Ok(Json(s.store.list_deliveries(&id, MAX_LIMIT).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RewardCodesInput {
    /// `detractor`, `passive` or `promoter`: whose playbook mail hands them out.
    pub segment: Segment,
    pub codes: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RewardCodesAdded {
    pub added: u64,
}

/// Upload reward or apology codes (coupons) for a survey's playbook mails; one is given per answer.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/reward-codes", tag = "surveys", request_body = RewardCodesInput,
    responses((status = 200, body = RewardCodesAdded), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn add_reward_codes(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RewardCodesInput>,
) -> ApiResult<Json<RewardCodesAdded>> {
    s.store.get_survey(&id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    let codes: Vec<String> = input.codes.iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect();
    if let Some(i) = codes.iter().position(|c| c.len() > 100) {
        return Err(ApiError::field(format!("codes[{i}]"), "at most 100 characters"));
    }
    let added = s.store.add_reward_codes(&id, input.segment.as_str(), &codes).await?;
    Ok(Json(RewardCodesAdded { added }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionInput {
    pub contact: ContactInput,
    /// `call`, `chat`, `email`, `order`, `interview`, `social` …
    pub kind: String,
    /// RFC 3339; defaults to now.
    pub occurred_at: Option<String>,
    pub agent_id: Option<String>,
    pub summary: Option<String>,
    /// Numbers and short facts: handle_time_s, wait_time_s, transfers, amount …
    #[serde(default)]
    #[schema(value_type = Object)]
    pub figures: Map<String, Value>,
}

/// Record an interaction from another system (a call, chat, email, order, interview, social
/// mention) on the contact's timeline. With `Idempotency-Key`, a repeat adds nothing.
#[utoipa::path(post, path = "/api/v1/interactions", tag = "contacts", request_body = InteractionInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = Interaction), (status = 200, description = "a repeat", body = Interaction), (status = 422, body = Problem)))]
pub(crate) async fn add_interaction(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<InteractionInput>,
) -> ApiResult<(StatusCode, Json<Interaction>)> {
    let key = idempotency_header(&headers)?;
    let (interaction, created) = record_interaction(&s, input, key).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(interaction)))
}

/// Checks and stores one interaction (the API and the CSV import).
pub async fn record_interaction(
    s: &AppState,
    input: InteractionInput,
    key: Option<String>,
) -> Result<(Interaction, bool), ApiError> {
    let mut errors = ValidationErrors::default();
    if let Err(e) = input.contact.validate("contact.") {
        errors.0.extend(e.0);
    }
    if input.kind.is_empty() || input.kind.len() > 32 || !input.kind.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        errors.push("kind", "1–32 characters of a–z or `_`, e.g. call, chat, email, order");
    }
    if input.summary.as_ref().is_some_and(|t| t.chars().count() > 5000) {
        errors.push("summary", "at most 5000 characters");
    }
    if let Some(bad) = input.figures.keys().find(|k| !is_attribute_key(k)) {
        errors.push(format!("figures.{bad}"), "keys are 1–64 characters of a–z, 0–9, `_`, `-` or `.`");
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let occurred_at = match &input.occurred_at {
        None => now,
        Some(t) => match t.parse::<jiff::Timestamp>() {
            Ok(t) if t.as_millisecond() <= now + 300_000 => t.as_millisecond(),
            Ok(_) => {
                errors.push("occurred_at", "is in the future");
                now
            }
            Err(_) => {
                errors.push("occurred_at", "must be an RFC 3339 time such as 2026-01-31T09:30:00Z");
                now
            }
        },
    };
    if let Some(id) = &input.agent_id
        && s.store.get_agent(id).await?.is_none()
    {
        errors.push("agent_id", "no such agent");
    }
    errors.into_result()?;
    let contact = s.store.upsert_contact(&input.contact).await?;
    let new = NewInteraction {
        contact_id: contact.id,
        kind: input.kind,
        occurred_at,
        agent_id: input.agent_id,
        summary: input.summary,
        figures: input.figures,
        idempotency_key: key,
    };
    Ok(s.store.add_interaction(&new).await?)
}

/// A contact's timeline: invitations (and why any was skipped), answers, cases, notes and
/// interactions, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/timeline", tag = "contacts",
    responses((status = 200, body = Vec<TimelineItem>), (status = 404, body = Problem)))]
pub(crate) async fn contact_timeline(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineItem>>> {
    s.store.get_contact(&id).await?.ok_or_else(|| ApiError::not_found("contact"))?;
    Ok(Json(timeline(&s, &id).await?))
}

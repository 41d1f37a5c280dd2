//! Closing the loop over the API: cases, the loop report, webhooks, reward codes, and
//! interactions and the timeline of a contact.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hark_core::contact::ContactInput;
use hark_core::survey::is_web_url;
use hark_core::{Segment, ValidationErrors, contact::is_attribute_key};
use hark_store::{
    Case, CaseChange, CaseEvent, CaseFilter, Delivery, Interaction, Invitation, NewInteraction, Note, Response,
    ResponseFilter, Webhook,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{MAX_LIMIT, filters};
use crate::AppState;
use crate::cases::{LoopReport, act, loop_report, parse_outcome, parse_status, refuse_unless};
use crate::extract::{ApiJson, RawQuery, idempotency_header};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::viewer::{ApiViewer, CaseAccess};

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

pub(crate) fn case_filter(q: &[(String, String)]) -> Result<(CaseFilter, i64), ApiError> {
    let mut filter = CaseFilter::default();
    let mut rest = Vec::new();
    let flag = |k: &str, v: &str| match v {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(ApiError::field(k, "true or false")),
    };
    for (k, v) in q {
        let value = Some(v.clone()).filter(|v| !v.is_empty());
        match k.as_str() {
            "status" if !v.is_empty() => filter.status = Some(parse_status(v)?),
            "status" => {}
            "owner_id" => filter.owner_id = value,
            "team_id" => filter.team_id = value,
            "contact_id" => filter.contact_id = value,
            "overdue" => filter.overdue = flag(k, v)?,
            "open" => filter.open_only = flag(k, v)?,
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let (_, limit) = filters::page(&rest)?;
    Ok((filter, limit))
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

/// One action on a case.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum CaseAction {
    /// `open` (also releases a held case), `in_progress` or `waiting` (close with `close`).
    Status {
        status: String,
    },
    /// A user id, or null to unassign.
    Assign {
        owner_id: Option<String>,
    },
    /// `listen`, `apologise`, `fix`, `tell`, `token`.
    Step {
        step: String,
        done: bool,
    },
    /// Mail the customer from Hark; recorded on the case as queued, then sent (with the mail
    /// server's answer) or failed (with the reason).
    Reply {
        subject: String,
        body: String,
    },
    /// A call or meeting with the customer (`channel`: `call` or `meeting`); `reached`: whether
    /// it reached them (only then is it a contact).
    Contact {
        channel: String,
        reached: bool,
        note: String,
    },
    Note {
        body: String,
    },
    RootCause {
        root_cause: String,
    },
    /// `resolved`, `unresolved`, `no_reply` or `no_contact` (no way to reach the customer).
    Close {
        outcome: String,
        root_cause: Option<String>,
    },
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

/// Checks an action against the case and the stored people and turns it into a change.
pub(crate) async fn case_change(s: &AppState, case: &Case, action: CaseAction) -> ApiResult<CaseChange> {
    Ok(match action {
        CaseAction::Status { status } => CaseChange::Status(parse_status(&status)?),
        CaseAction::Assign { owner_id } => {
            if let Some(owner) = &owner_id
                && s.store.get_user(owner).await?.is_none()
            {
                return Err(ApiError::field("owner_id", "no such user"));
            }
            CaseChange::Assign(owner_id)
        }
        CaseAction::Step { step, done } => CaseChange::Step { step, done },
        CaseAction::Reply { subject, body } => CaseChange::Reply { subject, body },
        CaseAction::Contact { channel, reached, note } => CaseChange::Contacted { channel, reached, note },
        CaseAction::Note { body } if body.trim().is_empty() => {
            return Err(ApiError::field("body", "must not be empty"));
        }
        CaseAction::Note { body } => CaseChange::Note(body),
        CaseAction::RootCause { root_cause } => CaseChange::RootCause(root_cause_of(s, case, &root_cause).await?),
        CaseAction::Close { outcome, root_cause } => {
            let root_cause = match root_cause.filter(|r| !r.is_empty()) {
                Some(r) => Some(root_cause_of(s, case, &r).await?),
                None => None,
            };
            CaseChange::Close { outcome: parse_outcome(&outcome)?, root_cause }
        }
    })
}

async fn root_cause_of(s: &AppState, case: &Case, cause: &str) -> ApiResult<String> {
    let survey = s.store.get_survey(&case.survey_id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    if survey.definition.root_causes.iter().any(|c| c == cause) {
        Ok(cause.to_owned())
    } else {
        Err(ApiError::field("root_cause", format!("one of {:?}", survey.definition.root_causes)))
    }
}

/// Did closing the loop work: cases opened and closed, median time to first contact and to
/// close, share closed on time, by team and owner; and how customers scored the next time
/// after their case was closed. `from`/`to` select cases by when they were opened.
#[utoipa::path(get, path = "/api/v1/reports/loop", tag = "reports",
    params(("from" = Option<String>, Query), ("to" = Option<String>, Query)),
    responses((status = 200, body = LoopReport), (status = 422, body = Problem)))]
pub(crate) async fn loop_report_api(State(s): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<LoopReport>> {
    let (from, to) = period(&q)?;
    Ok(Json(loop_report(&s, from, to).await?))
}

pub(crate) fn period(q: &[(String, String)]) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let mut out = (None, None);
    for (k, v) in q {
        match k.as_str() {
            "from" if !v.is_empty() => {
                out.0 = Some(filters::parse_time(v, false).map_err(|e| ApiError::field("from", e))?)
            }
            "to" if !v.is_empty() => out.1 = Some(filters::parse_time(v, true).map_err(|e| ApiError::field("to", e))?),
            "from" | "to" => {}
            other => return Err(ApiError::field(other, "unknown parameter; use `from` and `to`")),
        }
    }
    Ok(out)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookInput {
    pub name: String,
    /// `generic` (signed JSON), `slack` (incoming-webhook URL) or `card` (your JSON `template`).
    pub kind: String,
    pub url: String,
    /// `response.created`, `response.updated`, `case.opened`, `case.changed`, `case.closed`,
    /// `alert`; empty for all.
    #[serde(default)]
    pub events: Vec<String>,
    /// For `card`: JSON with `{{event}}`, `{{response.score}}`, `{{response.comment}}`, `{{link}}` …
    pub template: Option<String>,
}

pub(crate) const WEBHOOK_EVENTS: &[&str] =
    &["response.created", "response.updated", "case.opened", "case.changed", "case.closed", "alert"];

pub(crate) fn check_webhook(input: &WebhookInput) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if input.name.trim().is_empty() || input.name.len() > 100 {
        errors.push("name", "1–100 characters");
    }
    if !["generic", "slack", "card"].contains(&input.kind.as_str()) {
        errors.push("kind", "one of generic, slack, card");
    }
    if !is_web_url(&input.url) {
        errors.push("url", "must be an http:// or https:// address");
    }
    for (i, e) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&e.as_str()) {
            errors.push(format!("events[{i}]"), format!("one of {WEBHOOK_EVENTS:?}"));
        }
    }
    match (&input.kind[..], &input.template) {
        ("card", None) => errors.push("template", "a card webhook needs a JSON template"),
        ("card", Some(t)) => {
            if let Err(e) = hark_jobs::fill_json_template(t, "test", &Value::Null) {
                errors.push("template", e);
            }
        }
        (_, Some(_)) => errors.push("template", "only card webhooks take a template"),
        _ => {}
    }
    errors.into_result()
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

pub(crate) async fn send_test(s: &AppState, id: &str) -> ApiResult<()> {
    let hook = s.store.get_webhook(id).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    let payload = serde_json::json!({ "message": "A test from Hark", "link": s.url("/admin/integrations") });
    s.store.queue_deliveries("test", &format!("test:{}", uuid::Uuid::now_v7()), &payload, Some(&hook.id)).await?;
    s.wake_jobs();
    Ok(())
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

/// One line of a contact's history.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum TimelineItem {
    Invitation(Invitation),
    Response(Response),
    Case(Case),
    Note(Note),
    Interaction(Interaction),
}

impl TimelineItem {
    pub fn at(&self) -> i64 {
        match self {
            Self::Invitation(i) => i.created_at,
            Self::Response(r) => r.created_at,
            Self::Case(c) => c.created_at,
            Self::Note(n) => n.created_at,
            Self::Interaction(i) => i.occurred_at,
        }
    }
}

/// Everything that happened with a contact, newest first.
pub(crate) async fn timeline(s: &AppState, contact_id: &str) -> Result<Vec<TimelineItem>, hark_store::StoreError> {
    let filter = ResponseFilter { contact_id: Some(contact_id.to_owned()), ..Default::default() };
    let case_filter = CaseFilter { contact_id: Some(contact_id.to_owned()), ..Default::default() };
    let mut items: Vec<TimelineItem> = Vec::new();
    items
        .extend(s.store.list_invitations(Some(contact_id), None, 500).await?.into_iter().map(TimelineItem::Invitation));
    items.extend(s.store.list_responses(&filter, None, 500).await?.into_iter().map(TimelineItem::Response));
    items.extend(s.store.list_cases(&case_filter, 500).await?.into_iter().map(TimelineItem::Case));
    items.extend(s.store.list_notes(contact_id).await?.into_iter().map(TimelineItem::Note));
    items.extend(s.store.list_interactions(contact_id, 500).await?.into_iter().map(TimelineItem::Interaction));
    items.sort_by_key(|i| std::cmp::Reverse(i.at()));
    Ok(items)
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

//! Events from other systems (`order.delivered`, `chat.closed`, `call.ended` …) that trigger
//! surveys, and invitations: sending a survey to contacts and reading what was sent or skipped.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hark_core::contact::ContactInput;
use hark_core::survey::InviteChannel;
use hark_core::{ValidationErrors, contact::is_attribute_key};
use hark_store::SurveyStatus;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::extract::{ApiJson, RawQuery, idempotency_header};
use crate::ops::filters;
use crate::ops::outreach::{About, InvitationView, SendSummary, invite, invite_all, invite_matching};
use crate::problem::{ApiError, ApiResult, Problem};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventInput {
    /// e.g. `order.delivered`; surveys whose triggers name it are sent.
    pub name: String,
    /// Who the event is about, created or updated by `external_id`.
    pub contact: ContactInput,
    /// Facts carried into the response's context. `agent_id` and `team_id` (Hark ids) say
    /// who served the customer; anything else (ticket_id, handle_time_s, wait_time_s,
    /// transfers, order_id …) is kept as given.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EventResult {
    pub event_id: String,
    /// False when this Idempotency-Key was seen before: nothing new was made.
    pub created: bool,
    /// One per survey this event triggers (skipped ones say why).
    pub invitations: Vec<InvitationView>,
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<String> {
    let key = idempotency_header(headers)?.ok_or_else(|| {
        ApiError::field("Idempotency-Key", "required: a key unique to this event, so a retry does not send twice")
    })?;
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::field("Idempotency-Key", "1–200 characters"));
    }
    Ok(key)
}

fn optional_id(properties: &Map<String, Value>, key: &str) -> ApiResult<Option<String>> {
    match properties.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field(format!("properties.{key}"), "must be a string id")),
    }
}

/// Record an event; each active survey with a trigger for its name invites the contact
/// after the trigger's delay (fatigue and unsubscribes apply). Within the global quiet
/// window one event reaches a contact once: the soonest trigger wins (ties: the older
/// survey) and the other surveys' invitations are recorded as skipped. Requires `Idempotency-Key`:
/// a repeat returns the first result and makes nothing new.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventInput,
    params(("Idempotency-Key" = String, Header)),
    responses((status = 202, body = EventResult), (status = 200, description = "a repeat", body = EventResult),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn create_event(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<EventInput>,
) -> ApiResult<(StatusCode, Json<EventResult>)> {
    let key = idempotency_key(&headers)?;
    let mut errors = ValidationErrors::default();
    let name_ok = !input.name.is_empty()
        && input.name.len() <= 100
        && input.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'));
    if !name_ok {
        errors.push("name", "1–100 characters of letters, digits, `.`, `_`, `-`, `:`");
    }
    if let Err(e) = input.contact.validate("contact.") {
        errors.0.extend(e.0);
    }
    if serde_json::to_string(&input.properties).map_or(0, |p| p.len()) > 16_384 {
        errors.push("properties", "at most 16 KiB");
    }
    if let Some(bad) = input.properties.keys().find(|k| !is_attribute_key(k)) {
        errors.push(format!("properties.{bad}"), "keys are 1–64 characters of a–z, 0–9, `_`, `-` or `.`");
    }
    errors.into_result()?;
    let agent_id = optional_id(&input.properties, "agent_id")?;
    let mut team_id = optional_id(&input.properties, "team_id")?;
    if let Some(id) = &agent_id {
        let agent =
            s.store.get_agent(id).await?.ok_or_else(|| ApiError::field("properties.agent_id", "no such agent"))?;
        team_id = team_id.or(agent.team_id);
    }
    if let Some(id) = &team_id
        && s.store.get_team(id).await?.is_none()
    {
        return Err(ApiError::field("properties.team_id", "no such team"));
    }
    let request = json!({ "name": input.name, "contact": input.contact.external_id, "properties": input.properties });
    let contact = s.store.upsert_contact(&input.contact).await?;
    let (event, created) =
        s.store.record_event(&key, &request, &input.name, Some(&contact.id), &input.properties).await?;
    let mut invitations = Vec::new();
    // One event reaches a contact at most once within the global window: the survey whose
    // trigger fires soonest asks (ties: the older survey); the others are recorded as skipped.
    let mut triggered: Vec<(hark_store::Survey, hark_core::survey::Trigger)> = Vec::new();
    for survey in s.store.list_surveys().await? {
        let trigger = survey.definition.triggers.iter().find(|t| t.event == event.name).cloned();
        if let Some(trigger) = trigger.filter(|_| survey.status == SurveyStatus::Active) {
            triggered.push((survey, trigger));
        }
    }
    triggered.sort_by_key(|(survey, trigger)| (trigger.delay_minutes, survey.created_at, survey.id.clone()));
    for (survey, trigger) in triggered {
        let about = About {
            agent_id: agent_id.clone(),
            team_id: team_id.clone(),
            event_id: Some(event.id.clone()),
            properties: event.properties.clone(),
        };
        let send_at = event.created_at + i64::from(trigger.delay_minutes) * 60_000;
        let invitation = invite(&s, &survey, &contact.id, trigger.channel, about, send_at).await?;
        invitations.push(InvitationView::new(&s, invitation));
    }
    let status = if created { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((status, Json(EventResult { event_id: event.id, created, invitations })))
}

/// Contacts one send may name by id: each is checked before any is invited.
const MAX_CONTACT_IDS: usize = 1000;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SendInput {
    /// `email` (Hark mails it) or `link` (Hark makes personal links for you to deliver).
    #[serde(default)]
    pub channel: InviteChannel,
    /// These contacts, by Hark id (at most 1,000: a larger group is a segment) …
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub contact_ids: Vec<String>,
    /// … or every contact whose attributes equal all of these (all contacts when empty).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SendResult {
    #[serde(flatten)]
    pub summary: SendSummary,
    /// The invitations made for `contact_ids` (empty for an attribute segment).
    pub invitations: Vec<InvitationView>,
}

/// Send a survey now to contacts or to a segment. Each contact is checked against the
/// survey's and the global quiet window and their consent; skips are counted by reason.
#[utoipa::path(post, path = "/api/v1/surveys/{id}/invitations", tag = "invitations", request_body = SendInput,
    responses((status = 202, body = SendResult), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn send_survey(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SendInput>,
) -> ApiResult<(StatusCode, Json<SendResult>)> {
    let survey = s.store.get_survey(&id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    if !input.contact_ids.is_empty() && !input.attributes.is_empty() {
        return Err(ApiError::field("contact_ids", "give either `contact_ids` or `attributes`, not both"));
    }
    if input.contact_ids.len() > MAX_CONTACT_IDS {
        return Err(ApiError::field(
            "contact_ids",
            format!("at most {MAX_CONTACT_IDS} contacts a request; send to more with `attributes`"),
        ));
    }
    let mut invitations = Vec::new();
    let summary = if input.contact_ids.is_empty() {
        let attributes = input
            .attributes
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((k.clone(), v.to_string())),
                _ => Err(ApiError::field(format!("attributes.{k}"), "must be a string, number or boolean")),
            })
            .collect::<ApiResult<Vec<_>>>()?;
        invite_matching(&s, &survey, &attributes, input.channel).await?
    } else {
        let mut summary = SendSummary::default();
        let now = jiff::Timestamp::now().as_millisecond();
        let known: HashSet<String> =
            s.store.get_contacts(&input.contact_ids).await?.into_iter().map(|c| c.id).collect();
        if let Some(i) = input.contact_ids.iter().position(|id| !known.contains(id)) {
            return Err(ApiError::field(format!("contact_ids[{i}]"), "no such contact"));
        }
        let contacts = input.contact_ids.iter().map(|id| (id.as_str(), About::default()));
        for invitation in invite_all(&s, &survey, contacts, input.channel, now).await? {
            summary.count(&invitation);
            invitations.push(InvitationView::new(&s, invitation));
        }
        summary
    };
    Ok((StatusCode::ACCEPTED, Json(SendResult { summary, invitations })))
}

/// Invitations, newest first: what was sent, when, and why any was skipped or bounced.
#[utoipa::path(get, path = "/api/v1/invitations", tag = "invitations",
    params(("contact_id" = Option<String>, Query), ("survey_id" = Option<String>, Query), ("limit" = Option<i64>, Query)),
    responses((status = 200, body = Vec<InvitationView>), (status = 422, body = Problem)))]
pub(crate) async fn list_invitations(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Vec<InvitationView>>> {
    let mut contact_id = None;
    let mut survey_id = None;
    let mut rest = Vec::new();
    for (k, v) in q {
        match k.as_str() {
            "contact_id" => contact_id = Some(v),
            "survey_id" => survey_id = Some(v),
            _ => rest.push((k, v)),
        }
    }
    let (_, limit) = filters::page(&rest)?;
    let list = s.store.list_invitations(contact_id.as_deref(), survey_id.as_deref(), limit).await?;
    Ok(Json(list.into_iter().map(|i| InvitationView::new(&s, i)).collect()))
}

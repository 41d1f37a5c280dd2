//! Taking in one answer: the API and the CSV import both pass through [`submit`], so an
//! answer is checked the same way whichever door it came in by.

use std::collections::BTreeMap;

use hark_core::contact::ContactInput;
use hark_core::survey::{AnswerInput, is_locale};
use hark_core::{ValidationErrors, auth::hash_secret};
use hark_store::{ContactRef, FollowUp, NewResponse, Store, Submitted, SurveyStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::problem::ApiError;

/// One answer to a survey.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    pub survey_id: String,
    /// The main score: 0–10 for NPS, 1–5 for CSAT, 1–7 for CES.
    pub score: i64,
    /// The open "why" answer.
    pub comment: Option<String>,
    /// Extra questions by id: a string, a list of strings, or a 1–5 rating.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, Value>,
    /// 0–10 score for the agent, on surveys that ask it.
    pub agent_score: Option<i64>,
    /// An existing contact by Hark id …
    pub contact_id: Option<String>,
    /// … or one described here, created or updated by `external_id`.
    pub contact: Option<ContactInput>,
    pub invitation_id: Option<String>,
    pub agent_id: Option<String>,
    /// Defaults to the agent's team.
    pub team_id: Option<String>,
    /// Where the answer came from: `api` (default), `link`, `email`, `widget`, `import` …
    pub channel: Option<String>,
    /// Language the customer answered in (BCP 47).
    pub language: Option<String>,
    /// Facts about the interaction: order id, ticket, handle time, wait time, transfers …
    #[serde(default)]
    #[schema(value_type = Object)]
    pub context: Map<String, Value>,
    /// When the customer answered (RFC 3339); defaults to now. For back-filling history.
    pub submitted_at: Option<String>,
    /// May be given here instead of the `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// History brought in by an import: stored, but no playbook runs for it. Not part of the API.
    #[serde(skip)]
    pub imported: bool,
}

/// Checks `input` against its survey and the stored records, then stores it once.
/// `header_key` is the `Idempotency-Key` header, if any; one of it or the field is required.
pub async fn submit(
    store: &Store,
    mut input: ResponseInput,
    header_key: Option<String>,
) -> Result<Submitted, ApiError> {
    let key = match (header_key, input.idempotency_key.take()) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::field("idempotency_key", "differs from the Idempotency-Key header"));
        }
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => {
            return Err(ApiError::field(
                "idempotency_key",
                "required: send an `Idempotency-Key` header (or field) unique to this answer, so that a retry is not counted twice",
            ));
        }
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::field("idempotency_key", "1–200 characters"));
    }
    // Fingerprint of the request as the client sent it, before defaults are filled in.
    let request = serde_json::to_string(&input).expect("inputs serialize");
    // PostgreSQL stores no NUL in text, and one would fail a whole group commit; the HTTP edge
    // refuses them already, this covers imports.
    if request.contains("\\u0000") {
        return Err(ApiError::field("body", crate::guard::NUL_REFUSED));
    }
    let request_hash = hash_secret(&request);

    let survey = store
        .survey_for_answers(&input.survey_id)
        .await?
        .ok_or_else(|| ApiError::field("survey_id", "no such survey"))?;
    if survey.status == SurveyStatus::Closed {
        return Err(ApiError::field("survey_id", "this survey is closed and takes no more answers"));
    }
    input.comment = input.comment.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let answer = AnswerInput {
        score: input.score,
        agent_score: input.agent_score,
        comment: input.comment.as_deref(),
        answers: &input.answers,
    };
    let segment = survey.definition.check_answer(&answer)?;

    let mut errors = ValidationErrors::default();
    let contact = match (input.contact_id, input.contact) {
        (Some(_), Some(_)) => {
            errors.push("contact", "give either `contact_id` or `contact`, not both");
            None
        }
        (Some(id), None) => {
            if store.get_contact(&id).await?.is_none() {
                errors.push("contact_id", "no such contact");
            }
            Some(ContactRef::Id(id))
        }
        (None, Some(c)) => {
            if let Err(e) = c.validate("contact.") {
                errors.0.extend(e.0);
            }
            Some(ContactRef::Upsert(c))
        }
        (None, None) => None,
    };
    if let Some(id) = &input.agent_id
        && store.get_agent(id).await?.is_none()
    {
        errors.push("agent_id", "no such agent");
    }
    if let Some(id) = &input.team_id
        && store.get_team(id).await?.is_none()
    {
        errors.push("team_id", "no such team");
    }
    let channel = input.channel.unwrap_or_else(|| "api".into());
    if channel.is_empty()
        || channel.len() > 32
        || !channel.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
    {
        errors.push("channel", "1–32 characters of a–z, `_` or `-`");
    }
    if input.language.as_ref().is_some_and(|l| !is_locale(l)) {
        errors.push("language", "must be a language tag such as `en` or `th`");
    }
    if serde_json::to_string(&input.context).map_or(0, |s| s.len()) > 16_384 {
        errors.push("context", "at most 16 KiB");
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let created_at = match &input.submitted_at {
        None => now,
        Some(t) => match t.parse::<jiff::Timestamp>() {
            Ok(t) if t.as_millisecond() > now + 300_000 => {
                errors.push("submitted_at", "is in the future");
                now
            }
            Ok(t) if t.as_millisecond() < 946_684_800_000 => {
                errors.push("submitted_at", "is before 2000");
                now
            }
            Ok(t) => t.as_millisecond(),
            Err(_) => {
                errors.push("submitted_at", "must be an RFC 3339 time such as 2026-01-31T09:30:00Z");
                now
            }
        },
    };
    errors.into_result()?;

    // Live answers get the playbook (or, when it has nothing to do, only the webhooks);
    // history (imported, or sent with its own time) gets nothing.
    let facts = hark_core::playbook::Facts {
        score: input.score,
        segment,
        comment: input.comment.as_deref(),
        agent_score: input.agent_score,
        attributes: &serde_json::Map::new(),
    };
    let follow_up = if input.imported || input.submitted_at.is_some() {
        FollowUp::None
    } else if survey.definition.playbooks.may_act(&facts, contact.is_some()) {
        FollowUp::Playbook
    } else {
        FollowUp::Webhooks
    };
    let response = NewResponse {
        follow_up,
        survey_id: survey.id,
        idempotency_key: key,
        request_hash,
        contact,
        invitation_id: input.invitation_id,
        score: input.score,
        segment,
        comment: input.comment,
        answers: input.answers.into_iter().collect(),
        agent_score: input.agent_score,
        language: input.language,
        channel,
        agent_id: input.agent_id,
        team_id: input.team_id,
        context: input.context,
        created_at,
    };
    let submitted = store.submit_response(response).await?;
    metrics::counter!("hark_answers_total", "new" => if submitted.created { "true" } else { "false" }).increment(1);
    Ok(submitted)
}

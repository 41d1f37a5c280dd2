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
    let key = idempotency_key(header_key, input.idempotency_key.take())?;
    let request_hash = fingerprint(&input)?;

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
    let contact = contact_ref(store, input.contact_id, input.contact, &mut errors).await?;
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
    let created_at = given_at(input.submitted_at.as_deref(), &mut errors);
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
        FollowUp::Playbook(std::sync::Arc::new(survey.definition.playbooks.clone()))
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

/// The idempotency key from the header or the body field (one is required; both must agree).
pub(crate) fn idempotency_key(header: Option<String>, field: Option<String>) -> Result<String, ApiError> {
    let key = match (header, field) {
        (Some(h), Some(b)) if h != b => {
            return Err(ApiError::field("idempotency_key", "differs from the Idempotency-Key header"));
        }
        (Some(k), _) | (None, Some(k)) => k,
        (None, None) => {
            return Err(ApiError::field(
                "idempotency_key",
                "required: send an `Idempotency-Key` header (or field) unique to this request, so that a retry is not counted twice",
            ));
        }
    };
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::field("idempotency_key", "1–200 characters"));
    }
    Ok(key)
}

/// Fingerprint of a request as the client sent it (before defaults are filled in), so that a
/// key reused for other content is caught.
pub(crate) fn fingerprint(input: &impl Serialize) -> Result<String, ApiError> {
    let request = serde_json::to_string(input).expect("inputs serialize");
    // PostgreSQL stores no NUL in text, and one would fail a whole group commit; the HTTP edge
    // refuses them already, this covers imports.
    if request.contains("\\u0000") {
        return Err(ApiError::field("body", crate::guard::NUL_REFUSED));
    }
    Ok(hash_secret(&request))
}

/// An existing contact by id, or one described (created or updated by `external_id`).
pub(crate) async fn contact_ref(
    store: &Store,
    id: Option<String>,
    described: Option<ContactInput>,
    errors: &mut ValidationErrors,
) -> Result<Option<ContactRef>, ApiError> {
    Ok(match (id, described) {
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
    })
}

/// When it happened (RFC 3339, not in the future, not before 2000); now when not given.
pub(crate) fn given_at(at: Option<&str>, errors: &mut ValidationErrors) -> i64 {
    let now = jiff::Timestamp::now().as_millisecond();
    match at {
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
    }
}

/// What a customer said outside a survey: a review, a social-media post, interview notes, a
/// support ticket. Read for themes and sentiment; never counted in NPS.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// `review`, `social`, `interview`, `ticket` or `other`.
    pub source: String,
    /// What they said (at most 10,000 characters).
    pub text: String,
    /// Their own rating, if the source has one …
    pub rating: Option<i64>,
    /// … on this scale, as `low-high`: `1-5` for stars, `0-10`.
    pub scale: Option<String>,
    /// An existing contact by Hark id …
    pub contact_id: Option<String>,
    /// … or one described here, created or updated by `external_id`.
    pub contact: Option<ContactInput>,
    /// Where it was said (http or https).
    pub url: Option<String>,
    /// Its language (BCP 47), when the text alone may not tell.
    pub language: Option<String>,
    /// When it was said (RFC 3339); defaults to now.
    pub submitted_at: Option<String>,
    /// May be given here instead of the `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
}

pub const FEEDBACK_SOURCES: [&str; 5] = ["review", "social", "interview", "ticket", "other"];

/// A `source=` filter: one of [`FEEDBACK_SOURCES`], or none.
pub(crate) fn source_filter(value: Option<&str>) -> Result<Option<String>, ApiError> {
    match value {
        Some(s) if !FEEDBACK_SOURCES.contains(&s) => Err(ApiError::invalid(
            "source",
            hark_core::Why::new("invalid.one_of").with("values", FEEDBACK_SOURCES.join(", ")),
        )),
        _ => Ok(value.map(str::to_owned)),
    }
}
const MAX_FEEDBACK_CHARS: usize = 10_000;

/// Checks feedback and stores it once; `true` when it is new.
pub async fn take_feedback(
    store: &Store,
    mut input: FeedbackInput,
    header_key: Option<String>,
) -> Result<(hark_store::Feedback, bool), ApiError> {
    let key = idempotency_key(header_key, input.idempotency_key.take())?;
    let request_hash = fingerprint(&input)?;
    let mut errors = ValidationErrors::default();
    if !FEEDBACK_SOURCES.contains(&input.source.as_str()) {
        errors.push("source", "one of review, social, interview, ticket, other");
    }
    let text = input.text.trim().to_owned();
    if text.is_empty() {
        errors.push("text", "required: what the customer said");
    } else if text.chars().count() > MAX_FEEDBACK_CHARS {
        errors.push("text", "at most 10,000 characters");
    }
    let scale = input.scale.as_deref().map(|s| {
        s.split_once('-')
            .and_then(|(l, h)| Some((l.trim().parse::<i64>().ok()?, h.trim().parse::<i64>().ok()?)))
            .filter(|(l, h)| 0 <= *l && l < h && *h <= 100)
    });
    let rating = match (input.rating, scale) {
        (None, None) => None,
        (Some(_), None) => {
            errors.push("scale", "required with a rating, as `low-high`, e.g. `1-5`");
            None
        }
        (_, Some(None)) => {
            errors.push("scale", "must be `low-high` with 0 ≤ low < high ≤ 100, e.g. `1-5`");
            None
        }
        (None, Some(Some(_))) => {
            errors.push("rating", "required with a scale");
            None
        }
        (Some(r), Some(Some((low, high)))) if r < low || r > high => {
            errors.push("rating", "outside its scale");
            None
        }
        (Some(r), Some(Some((low, high)))) => Some((r, low, high)),
    };
    if let Some(url) = &input.url
        && (url.len() > 2_000 || !(url.starts_with("https://") || url.starts_with("http://")))
    {
        errors.push("url", "an http or https address of at most 2,000 characters");
    }
    if input.language.as_ref().is_some_and(|l| !is_locale(l)) {
        errors.push("language", "must be a language tag such as `en` or `th`");
    }
    let contact = contact_ref(store, input.contact_id, input.contact, &mut errors).await?;
    let created_at = given_at(input.submitted_at.as_deref(), &mut errors);
    errors.into_result()?;
    let new = hark_store::NewFeedback {
        source: input.source,
        body: text,
        rating,
        contact,
        url: input.url,
        language: input.language,
        created_at,
        idempotency_key: key,
        request_hash,
    };
    Ok(store.add_feedback(&new).await?)
}

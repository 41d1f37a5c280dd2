//! A respondent's own answer on the public channels (link page, email click, widget): the
//! first score stores a response through [`crate::ingest::submit`]; later changes (a new
//! score, the comment, the extra questions) update that same response.

use std::collections::BTreeMap;

use hark_core::survey::AnswerInput;
use hark_store::{AnswerUpdate, Invitation, Response, StoreError, Survey};
use serde_json::Value;

use crate::AppState;
use crate::ingest::{ResponseInput, submit};
use crate::problem::ApiError;

/// Records the score given through an invitation: the first click stores the response,
/// a later one changes its score. Never two responses for one invitation.
pub(crate) async fn score_invitation(
    state: &AppState,
    survey: &Survey,
    invitation: &Invitation,
    score: i64,
    language: &str,
) -> Result<Response, ApiError> {
    if let Some(existing) = state.store.invitation_response(&invitation.id).await? {
        return change(state, survey, &existing, Changes { score: Some(score), ..Changes::default() }).await;
    }
    let input = ResponseInput {
        survey_id: survey.id.clone(),
        score,
        contact_id: invitation.contact_id.clone(),
        invitation_id: Some(invitation.id.clone()),
        agent_id: invitation.agent_id.clone(),
        team_id: invitation.team_id.clone(),
        channel: Some(invitation.channel.clone()),
        language: Some(language.to_owned()),
        context: invitation.properties.clone(),
        ..ResponseInput::default()
    };
    match submit(&state.store, input, Some(format!("invitation:{}", invitation.id))).await {
        Ok(stored) => Ok(stored.response),
        // Two clicks raced: the other stored first; apply this score to it.
        Err(e) if e.0.status == 409 => {
            let existing =
                state.store.invitation_response(&invitation.id).await?.ok_or(StoreError::NotFound("response"))?;
            change(state, survey, &existing, Changes { score: Some(score), ..Changes::default() }).await
        }
        Err(e) => Err(e),
    }
}

/// What a respondent changes; `None` keeps the stored value.
#[derive(Default)]
pub(crate) struct Changes {
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub agent_score: Option<Option<i64>>,
    /// Replaces all extra answers when given.
    pub answers: Option<BTreeMap<String, Value>>,
    /// A save while the respondent is still typing: stored, but the webhooks hear only of
    /// finished changes (not one call per pause in typing).
    pub in_progress: bool,
}

/// Applies `changes` to a stored response after checking them against the survey. Answers
/// to questions the new score no longer asks are dropped, not refused.
pub(crate) async fn change(
    state: &AppState,
    survey: &Survey,
    response: &Response,
    changes: Changes,
) -> Result<Response, ApiError> {
    let def = &survey.definition;
    let score = changes.score.unwrap_or(response.score);
    def.kind.check_score("score", score)?;
    let segment = def.kind.segment(score);
    let comment = match changes.comment {
        Some(c) => Some(c.trim().to_owned()).filter(|c| !c.is_empty()),
        None => response.comment.clone(),
    };
    let agent_score = changes.agent_score.unwrap_or(response.agent_score);
    let mut answers: BTreeMap<String, Value> =
        changes.answers.unwrap_or_else(|| response.answers.clone().into_iter().collect());
    answers.retain(|id, value| {
        let asked = def.questions.iter().any(|q| &q.id == id && (q.show_if.is_empty() || q.show_if.contains(&segment)));
        let empty =
            matches!(value, Value::Null) || value.as_str() == Some("") || value.as_array().is_some_and(Vec::is_empty);
        asked && !empty
    });
    def.check_answer(&AnswerInput { score, agent_score, comment: comment.as_deref(), answers: &answers })?;
    let update = AnswerUpdate { score, segment, comment, answers: answers.into_iter().collect(), agent_score };
    let updated = state.store.update_answer(&response.id, &update).await?;
    if changes.in_progress {
        return Ok(updated);
    }
    let link = format!("/admin/contacts/{}", updated.contact_id.as_deref().unwrap_or(""));
    let key = format!("response-updated:{}:{}", updated.id, uuid::Uuid::now_v7());
    let payload = hark_store::response_payload(&updated, &survey.definition.name, &link);
    state.store.queue_deliveries("response.updated", &key, &payload, None).await?;
    state.wake_jobs();
    Ok(updated)
}

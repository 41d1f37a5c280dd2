//! Reaching contacts: making invitations (one contact, or every contact matching a set of
//! attributes) with the survey's and the global quiet windows applied.

use std::collections::BTreeMap;

use hark_core::Why;
use hark_core::survey::InviteChannel;
use hark_core::token::TokenKind;
use hark_store::{Invitation, InvitationStatus, NewInvitation, Survey, SurveyStatus};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::AppState;
use crate::problem::ApiError;

/// Who and what an invitation is about, besides the survey and the contact.
#[derive(Default)]
pub(crate) struct About {
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub event_id: Option<String>,
    pub properties: Map<String, Value>,
}

pub(crate) async fn invite(
    state: &AppState,
    survey: &Survey,
    contact_id: &str,
    channel: InviteChannel,
    about: About,
    send_at: i64,
) -> Result<Invitation, ApiError> {
    let mut made = invite_all(state, survey, [(contact_id, about)], channel, send_at).await?;
    Ok(made.remove(0))
}

/// Invites each contact, all in one commit, and wakes the sender if mail is due now.
pub(crate) async fn invite_all<'a>(
    state: &AppState,
    survey: &Survey,
    contacts: impl IntoIterator<Item = (&'a str, About)>,
    channel: InviteChannel,
    send_at: i64,
) -> Result<Vec<Invitation>, ApiError> {
    if survey.status != SurveyStatus::Active {
        return Err(ApiError::invalid("survey_id", Why::new("invalid.survey_not_active")));
    }
    let news: Vec<NewInvitation> = contacts
        .into_iter()
        .map(|(contact_id, about)| NewInvitation {
            survey_id: survey.id.clone(),
            contact_id: contact_id.to_owned(),
            channel,
            agent_id: about.agent_id,
            team_id: about.team_id,
            event_id: about.event_id,
            properties: about.properties,
            send_at,
            survey_window_days: survey.definition.fatigue_window_days(),
            global_window_days: state.config.global_fatigue_days,
        })
        .collect();
    let made = state.store.invite_all(&news).await?;
    let due = send_at <= jiff::Timestamp::now().as_millisecond();
    if due && made.iter().any(|i| i.status == InvitationStatus::Scheduled) {
        state.wake_jobs();
    }
    Ok(made)
}

/// The personal survey link of an invitation.
pub(crate) fn personal_link(state: &AppState, invitation_id: &str) -> String {
    state.url(&format!("/s/{}", state.signer.sign(TokenKind::Invitation, invitation_id)))
}

/// An invitation as the API shows it, with its personal link.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct InvitationView {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub link: String,
}

impl InvitationView {
    pub fn new(state: &AppState, invitation: Invitation) -> Self {
        InvitationView { link: personal_link(state, &invitation.id), invitation }
    }
}

/// What a send to many contacts did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct SendSummary {
    /// Invitations queued for mailing.
    pub scheduled: u64,
    /// Links made for you to deliver.
    pub issued: u64,
    pub skipped: u64,
    /// Skips by reason (`unsubscribed`, `no_email`, `fatigue`).
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// The personal links made (invitation ids), for the send page to list.
    #[serde(skip)]
    pub issued_ids: Vec<String>,
}

impl SendSummary {
    pub fn count(&mut self, invitation: &Invitation) {
        match invitation.status {
            InvitationStatus::Scheduled => self.scheduled += 1,
            InvitationStatus::Issued => {
                self.issued += 1;
                self.issued_ids.push(invitation.id.clone());
            }
            _ => {
                self.skipped += 1;
                let reason = invitation.status_detail.as_deref().and_then(|d| d.split(':').next()).unwrap_or("other");
                *self.skipped_by_reason.entry(reason.to_owned()).or_default() += 1;
            }
        }
    }
}

/// Invites every contact whose attributes match (all contacts when empty).
pub(crate) async fn invite_matching(
    state: &AppState,
    survey: &Survey,
    attributes: &[(String, String)],
    channel: InviteChannel,
) -> Result<SendSummary, ApiError> {
    let mut summary = SendSummary::default();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut after: Option<String> = None;
    loop {
        let page = state.store.contacts_matching(attributes, after.as_deref(), 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        let contacts = page.iter().map(|contact| (contact.id.as_str(), About::default()));
        for invitation in invite_all(state, survey, contacts, channel, now).await? {
            summary.count(&invitation);
        }
    }
    Ok(summary)
}

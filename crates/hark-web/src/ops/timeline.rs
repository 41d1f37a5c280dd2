//! A contact's timeline: every invitation, answer, case and interaction, newest first.

use hark_store::{Case, CaseFilter, Interaction, Invitation, Note, Response, ResponseFilter};
use serde::Serialize;

use crate::AppState;

/// One line of a contact's history.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum TimelineItem {
    Invitation(Invitation),
    Response(Response),
    Case(Case),
    Note(Note),
    Interaction(Interaction),
    Feedback(hark_store::Feedback),
}

impl TimelineItem {
    pub fn at(&self) -> i64 {
        match self {
            Self::Invitation(i) => i.created_at,
            Self::Response(r) => r.created_at,
            Self::Case(c) => c.created_at,
            Self::Note(n) => n.created_at,
            Self::Interaction(i) => i.occurred_at,
            Self::Feedback(f) => f.created_at,
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
    let by_contact = hark_store::FeedbackFilter { contact_id: Some(contact_id.to_owned()), ..Default::default() };
    items.extend(s.store.list_feedback(&by_contact, 500).await?.into_iter().map(TimelineItem::Feedback));
    items.sort_by_key(|i| std::cmp::Reverse(i.at()));
    Ok(items)
}

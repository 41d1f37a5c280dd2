//! What Hark holds about one person, whole: the copy a customer may ask for. The API's export
//! and the contact page's download give the same document.

use hark_store::{
    Case, CaseEvent, CaseFilter, Contact, Feedback, FeedbackFilter, Interaction, Invitation, Note, Response,
    ResponseCursor, ResponseFilter, StoreError,
};
use serde::Serialize;

use crate::AppState;

/// Answers read per query while gathering them.
const PAGE: i64 = 1000;

/// Everything Hark holds about one contact.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ContactExport {
    contact: Contact,
    responses: Vec<Response>,
    /// When and how they were asked to answer, or why they were not.
    invitations: Vec<Invitation>,
    /// The cases opened about their answers, each with its history (the replies sent to them too).
    cases: Vec<ExportedCase>,
    notes: Vec<Note>,
    /// Calls, chats and tickets recorded from other systems.
    interactions: Vec<Interaction>,
    /// What they said elsewhere: reviews, social media, interviews, tickets.
    feedback: Vec<Feedback>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ExportedCase {
    case: Case,
    /// Every change, oldest first.
    history: Vec<CaseEvent>,
}

/// The whole export of a contact, or `None` if there is no such contact.
pub(crate) async fn contact_export(s: &AppState, id: &str) -> Result<Option<ContactExport>, StoreError> {
    let Some(contact) = s.store.get_contact(id).await? else { return Ok(None) };
    let filter = ResponseFilter { contact_id: Some(id.to_owned()), ..Default::default() };
    let mut responses: Vec<Response> = Vec::new();
    loop {
        let cursor = responses.last().map(|r| ResponseCursor { created_at: r.created_at, id: r.id.clone() });
        let page = s.store.list_responses(&filter, cursor.as_ref(), PAGE).await?;
        let done = (page.len() as i64) < PAGE;
        responses.extend(page);
        if done {
            break;
        }
    }
    let invitations = s.store.list_invitations(Some(id), None, i64::MAX).await?;
    let case_filter = CaseFilter { contact_id: Some(id.to_owned()), ..Default::default() };
    let mut cases = Vec::new();
    for case in s.store.list_cases(&case_filter, i64::MAX).await? {
        let history = s.store.case_events(&case.id).await?;
        cases.push(ExportedCase { case, history });
    }
    let notes = s.store.list_notes(id).await?;
    let interactions = s.store.list_interactions(id, i64::MAX).await?;
    let by_contact = FeedbackFilter { contact_id: Some(id.to_owned()), ..Default::default() };
    let feedback = s.store.list_feedback(&by_contact, i64::MAX).await?;
    Ok(Some(ContactExport { contact, responses, invitations, cases, notes, interactions, feedback }))
}

//! Sending a survey to a segment: invitations a second when each page of 500 contacts is
//! invited in one commit (`Store::invite_all`), beside one contact a commit (`Store::invite`
//! for each, as a send did before) and the floor of only reading the same pages of contacts,
//! in one run on a fresh SQLite file. Each pass sends its own survey by email, so every
//! contact is invited (a mail job each) and none is skipped.
//!
//!     cargo bench -p hark-store --bench invite                       # 5,000 contacts
//!     HARK_BENCH_CONTACTS=20000 cargo bench -p hark-store --bench invite

use std::time::Instant;

use hark_core::contact::ContactInput;
use hark_core::survey::{InviteChannel, SurveyDefinition};
use hark_store::testing::{Backend, TestDatabase};
use hark_store::{Contact, InvitationStatus, NewInvitation, Store, SurveyStatus};

#[path = "support/mod.rs"]
mod support;

use support::{ms, versus};

const PAGE: i64 = 500;

#[tokio::main]
async fn main() {
    let contacts: usize = std::env::var("HARK_BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let db = TestDatabase::new(Backend::Sqlite).await.expect("a SQLite file");
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    for n in 0..contacts {
        let input = ContactInput {
            external_id: format!("c{n}"),
            email: Some(format!("c{n}@example.com")),
            ..Default::default()
        };
        store.upsert_contact(&input).await.unwrap();
    }
    println!("{contacts} contacts, pages of {PAGE}, SQLite");
    let start = Instant::now();
    pages(&store, false, |_| async { 0 }).await;
    let floor = start.elapsed();
    println!("floor (only read the pages): {:.1} ms", ms(floor));
    // Twice each, alternating: a later pass reads a longer history.
    for round in 1..=2 {
        let survey = new_survey(&store).await;
        let start = Instant::now();
        pages(&store, true, |page| one_a_commit(&store, &survey, page)).await;
        let one = start.elapsed();
        let survey = new_survey(&store).await;
        let start = Instant::now();
        pages(&store, true, |page| a_page_a_commit(&store, &survey, page)).await;
        let batch = start.elapsed();
        versus(round, floor, ("one a commit", one), ("a page a commit", batch), contacts, "contact");
    }
}

async fn one_a_commit(store: &Store, survey: &str, page: Vec<Contact>) -> usize {
    let mut scheduled = 0;
    for contact in &page {
        let made = store.invite(&invitation(survey, contact)).await.unwrap();
        scheduled += usize::from(made.status == InvitationStatus::Scheduled);
    }
    scheduled
}

async fn a_page_a_commit(store: &Store, survey: &str, page: Vec<Contact>) -> usize {
    let news: Vec<NewInvitation> = page.iter().map(|c| invitation(survey, c)).collect();
    let made = store.invite_all(&news).await.unwrap();
    made.iter().filter(|i| i.status == InvitationStatus::Scheduled).count()
}

/// Runs `each` on every page of contacts, as a send to everyone does, and checks that it
/// scheduled a mail to every contact when it `invites` (a pass that skipped them would time
/// the wrong work), or to none (the floor).
async fn pages<F: Future<Output = usize>>(store: &Store, invites: bool, each: impl Fn(Vec<Contact>) -> F) {
    let (mut after, mut seen, mut scheduled) = (None::<String>, 0, 0);
    loop {
        let page = store.contacts_matching(&[], after.as_deref(), PAGE).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        seen += page.len();
        scheduled += each(page).await;
    }
    assert_eq!(scheduled, if invites { seen } else { 0 }, "mails scheduled, of {seen} contacts");
}

async fn new_survey(store: &Store) -> String {
    let definition: SurveyDefinition =
        serde_json::from_value(serde_json::json!({"name": "Bench", "kind": "nps", "brand": "Acme"})).unwrap();
    store.create_survey(&definition, SurveyStatus::Active).await.unwrap().id
}

fn invitation(survey: &str, contact: &Contact) -> NewInvitation {
    NewInvitation {
        survey_id: survey.to_owned(),
        contact_id: contact.id.clone(),
        channel: InviteChannel::Email,
        agent_id: None,
        team_id: None,
        event_id: None,
        properties: Default::default(),
        send_at: 0,
        survey_window_days: 90,
        // Each pass sends its own survey: the global window would skip every later pass.
        global_window_days: 0,
    }
}

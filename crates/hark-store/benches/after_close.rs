//! The loop report's "after the close": how customers answered the next time after their case
//! was closed. One query for every closed case (`Store::answers_after_close`), beside two
//! queries per closed case (the case's answer, then the customer's answers since the close, as
//! the report read them before) and the floor of only reading the period's cases, in one run on
//! a fresh SQLite file. Every closed case's customer answers again, half of them twice.
//!
//!     cargo bench -p hark-store --bench after_close                     # 5,000 closed cases
//!     HARK_BENCH_CASES=20000 cargo bench -p hark-store --bench after_close

use std::collections::BTreeMap;
use std::time::Instant;

use futures_util::future::join_all;
use hark_core::contact::ContactInput;
use hark_core::playbook::Priority;
use hark_core::survey::SurveyDefinition;
use hark_store::testing::{Backend, TestDatabase, answer};
use hark_store::{
    CaseChange, CaseFilter, CaseOutcome, CaseStatus, ContactRef, NewCase, ResponseFilter, Store, SurveyStatus,
};

#[path = "support/mod.rs"]
mod support;

use support::{ms, versus};

const HOUR: i64 = 3_600_000;
/// Answers submitted at once, so that the writer commits them together.
const AT_ONCE: usize = 256;

#[tokio::main]
async fn main() {
    let cases: usize = std::env::var("HARK_BENCH_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000);
    let db = TestDatabase::new(Backend::Sqlite).await.expect("a SQLite file");
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let definition: SurveyDefinition =
        serde_json::from_value(serde_json::json!({"name": "Bench", "kind": "nps", "brand": "Acme"})).unwrap();
    let survey = store.create_survey(&definition, SurveyStatus::Active).await.unwrap().id;
    let now = jiff::Timestamp::now().as_millisecond();
    let submit = |key: String, contact: usize, score: i64, created_at: i64| {
        let store = &store;
        let mut new = answer(&survey, &key, score);
        new.created_at = created_at;
        new.contact =
            Some(ContactRef::Upsert(ContactInput { external_id: format!("c{contact}"), ..Default::default() }));
        async move { store.submit_response(new).await.unwrap().response }
    };
    let started = Instant::now();
    for chunk in (0..cases).collect::<Vec<_>>().chunks(AT_ONCE) {
        let first = join_all(chunk.iter().map(|&n| submit(format!("b{n}"), n, (n % 7) as i64, now - 24 * HOUR))).await;
        for r in &first {
            let new = NewCase {
                response_id: r.id.clone(),
                survey_id: r.survey_id.clone(),
                contact_id: r.contact_id.clone(),
                team_id: None,
                owner_id: None,
                priority: Priority::Normal,
                due_at: now + 24 * HOUR,
                reason: "bench".into(),
                public_budget: None,
            };
            let (case, _) = store.open_case(&new).await.unwrap();
            let close = CaseChange::Close { outcome: CaseOutcome::Resolved, root_cause: None };
            store.change_case(&case.id, "bench", &close).await.unwrap();
        }
        // Answered again after the close, half of them twice: the first answer since counts.
        join_all(chunk.iter().map(|&n| submit(format!("a{n}"), n, (n % 11) as i64, now + HOUR))).await;
        join_all(chunk.iter().filter(|&&n| n % 2 == 0).map(|&n| submit(format!("z{n}"), n, 10, now + 2 * HOUR))).await;
    }
    println!(
        "{cases} closed cases, each customer answered again, SQLite; set up in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let period = CaseFilter { opened: (Some(now - 24 * HOUR), Some(now + 24 * HOUR)), ..Default::default() };
    for round in 1..=3 {
        let start = Instant::now();
        let read = store.list_cases(&period, 1_000_000).await.unwrap();
        let floor = start.elapsed();
        assert_eq!(read.len(), cases);

        let start = Instant::now();
        let mut per_case = BTreeMap::new();
        for case in read.iter().filter(|c| c.status == CaseStatus::Closed) {
            let (Some(contact), Some(closed_at)) = (&case.contact_id, case.closed_at) else { continue };
            let before = store.get_response(&case.response_id).await.unwrap().expect("the case's answer");
            let since =
                ResponseFilter { contact_id: Some(contact.clone()), from_ms: Some(closed_at), ..Default::default() };
            let later = store.list_responses(&since, None, 1000).await.unwrap();
            let after = later.last().expect("an answer since");
            *per_case
                .entry((before.segment.as_str(), after.segment.as_str(), after.score - before.score))
                .or_insert(0) += 1;
        }
        let two_queries = start.elapsed();

        let start = Instant::now();
        let mut one_query = BTreeMap::new();
        for a in store.answers_after_close(&period).await.unwrap() {
            *one_query.entry((a.before.1.as_str(), a.after.1.as_str(), a.after.0 - a.before.0)).or_insert(0) += 1;
        }
        let set = start.elapsed();
        assert_eq!(one_query, per_case, "both ways find the same answers");

        println!("round {round}: floor (read the period's cases) {:.1} ms", ms(floor));
        versus(round, floor, ("two queries a case", two_queries), ("one query", set), cases, "case");
    }
}

//! One suite, run against SQLite and PostgreSQL through the public `Store` interface.

use hark_core::survey::SurveyDefinition;
use hark_core::{NpsCounts, Segment, SurveyKind};
use hark_store::testing::{Backend, TestDatabase};
use hark_store::*;
use serde_json::{Map, json};

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::run(hark_store::testing::Backend::Sqlite, super::$name).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::run(hark_store::testing::Backend::Postgres, super::$name).await } )* }
    };
}

on_both!(
    migrations_are_idempotent,
    contacts_upsert_by_external_id_and_merge_attributes,
    responses_are_idempotent_per_key,
    reused_key_with_other_content_is_a_conflict,
    batch_with_a_bad_item_fails_only_that_item,
    agent_team_is_snapshotted_on_the_response,
    list_filters_and_pages_without_gaps,
    day_counts_match_the_rows,
    erasing_a_contact_reaches_every_table_and_keeps_anonymous_scores,
    jobs_are_claimed_once_retried_later_and_reclaimed_after_a_lost_lease,
    sessions_and_the_link_secret,
    rollup_agrees_with_the_raw_rows,
    matching_answers_are_counted_from_the_rollups,
    search_finds_words_in_any_language_and_case,
);

/// Tests that open their own database (to open it twice, or again after a restart), each
/// as `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_by_backend {
    ($($name:ident),* $(,)?) => {
        $( mod $name {
            #[tokio::test] async fn sqlite() { super::$name(hark_store::testing::Backend::Sqlite).await }
            #[tokio::test] async fn postgres() { super::$name(hark_store::testing::Backend::Postgres).await }
        } )*
    };
}

/// The answer writer holds a connection of its own, outside the pool: when the server ends it
/// (a restart, an administrator), the batch in flight is written again on a new connection.
#[tokio::test]
async fn the_writer_connects_again_when_postgresql_ends_its_connection() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else { return };
    // Named, so that only this store's connections are ended: every test's schema is in one database.
    let name = format!("hark_ended_{}", uuid::Uuid::now_v7().simple());
    let store = Store::open(&format!("{}&application_name={name}", db.url)).await.unwrap();
    store.migrate().await.unwrap();
    let survey = nps_survey(&store).await;
    store.submit_response(response(&survey, "before", 9)).await.unwrap();
    let admin = sqlx::PgPool::connect(&db.url).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert!(!ended.is_empty() && ended.iter().all(|&e| e), "{ended:?}");
    let after = store.submit_response(response(&survey, "after", 3)).await.unwrap();
    assert!(after.created);
    assert_eq!(store.count_responses(&ResponseFilter::default()).await.unwrap(), 2);
}

on_both_by_backend!(
    own_themes_are_read_into_every_comment_even_across_a_restart,
    two_nodes_count_into_rollup_rows_of_their_own,
    an_upgrade_counts_stored_answers_into_the_hourly_theme_rows,
    an_upgrade_sums_the_daily_rollups_into_months,
    an_upgrade_counts_the_hourly_rows_per_team,
);

async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(db) = TestDatabase::new(backend).await else {
        return;
    };
    let store = Store::open(&db.url).await.expect("open");
    store.migrate().await.expect("migrate");
    test(store.clone()).await;
    store.close().await;
}

async fn nps_survey(store: &Store) -> Survey {
    let def: SurveyDefinition = serde_json::from_value(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).unwrap();
    store.create_survey(&def, SurveyStatus::Active).await.unwrap()
}

fn response(survey: &Survey, key: &str, score: i64) -> NewResponse {
    hark_store::testing::answer(&survey.id, key, score)
}

async fn migrations_are_idempotent(store: Store) {
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

async fn contacts_upsert_by_external_id_and_merge_attributes(store: Store) {
    let first = ContactInput {
        external_id: "cust-1".into(),
        email: Some("a@example.com".into()),
        attributes: json!({"plan": "pro", "country": "IT"}).as_object().unwrap().clone(),
        ..Default::default()
    };
    let a = store.upsert_contact(&first).await.unwrap();
    let second = ContactInput {
        external_id: "cust-1".into(),
        name: Some("Ada".into()),
        attributes: json!({"plan": "team"}).as_object().unwrap().clone(),
        ..Default::default()
    };
    let b = store.upsert_contact(&second).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.email.as_deref(), Some("a@example.com"));
    assert_eq!(b.name.as_deref(), Some("Ada"));
    assert_eq!(serde_json::Value::Object(b.attributes), json!({"plan": "team", "country": "IT"}));
    assert_eq!(store.list_contacts(None, 10).await.unwrap().len(), 1);
}

async fn responses_are_idempotent_per_key(store: Store) {
    let survey = nps_survey(&store).await;
    let first = store.submit_response(response(&survey, "k1", 9)).await.unwrap();
    let again = store.submit_response(response(&survey, "k1", 9)).await.unwrap();
    assert!(first.created && !again.created);
    assert_eq!(first.response, again.response);
    let filter = ResponseFilter::default();
    assert_eq!(store.count_responses(&filter).await.unwrap(), 1);
}

async fn reused_key_with_other_content_is_a_conflict(store: Store) {
    let survey = nps_survey(&store).await;
    store.submit_response(response(&survey, "k1", 9)).await.unwrap();
    let err = store.submit_response(response(&survey, "k1", 3)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(ref m) if m.contains("k1")), "{err}");
    assert_eq!(store.list_responses(&ResponseFilter::default(), None, 10).await.unwrap()[0].score, 9);
}

async fn batch_with_a_bad_item_fails_only_that_item(store: Store) {
    let survey = nps_survey(&store).await;
    let mut bad = response(&survey, "bad", 5);
    bad.agent_id = Some("no-such-agent".into());
    // Submitted together so that the writer batches them into one transaction.
    let results = tokio::join!(
        store.submit_response(response(&survey, "g1", 10)),
        store.submit_response(bad),
        store.submit_response(response(&survey, "g2", 0)),
    );
    let results = [results.0, results.1, results.2];
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(matches!(results[1], Err(StoreError::Database(_))));
    assert_eq!(store.count_responses(&ResponseFilter::default()).await.unwrap(), 2);
}

/// The answer a submit acknowledges (built by the writer, not read back) is the one stored.
async fn agent_team_is_snapshotted_on_the_response(store: Store) {
    let survey = nps_survey(&store).await;
    let team = store.create_team("Billing").await.unwrap();
    let agent = store
        .create_agent(&NewAgent { name: "Mina".into(), team_id: Some(team.id.clone()), ..Default::default() })
        .await
        .unwrap();
    let mut r = response(&survey, "a1", 8);
    r.agent_id = Some(agent.id.clone());
    r.comment = Some("The delivery was late and the courier rude".into());
    r.agent_score = Some(4);
    r.answers = json!({"q2": "yes", "q3": [1, 2.5]}).as_object().unwrap().clone();
    r.context = json!({"order": 12, "wait_seconds": 93.25, "shop": {"city": "Seoul"}}).as_object().unwrap().clone();
    r.contact = Some(ContactRef::Upsert(ContactInput { external_id: "cust-9".into(), ..Default::default() }));
    let stored = store.submit_response(r).await.unwrap().response;
    assert_eq!(stored.team_id.as_deref(), Some(team.id.as_str()));
    assert!(stored.contact_id.is_some() && stored.themes.contains(&"delivery".to_owned()), "{stored:?}");
    assert_eq!(stored.sentiment.as_deref(), Some("negative"));
    assert_eq!(store.get_response(&stored.id).await.unwrap().as_ref(), Some(&stored));
    assert!(matches!(store.create_team("Billing").await, Err(StoreError::Conflict(_))));
    assert_eq!(store.team_named("Billing").await.unwrap().id, team.id);
    assert_eq!(store.agent_named("Mina", Some(&team.id)).await.unwrap().id, agent.id);
}

async fn list_filters_and_pages_without_gaps(store: Store) {
    let survey = nps_survey(&store).await;
    let contact = store
        .upsert_contact(&ContactInput {
            external_id: "c1".into(),
            attributes: json!({"plan": "pro", "seats": 5}).as_object().unwrap().clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    for i in 0..25 {
        let mut r = response(&survey, &format!("p{i}"), i % 11);
        r.created_at = 1_700_000_000_000 + (i / 2) * 1000; // pairs share a timestamp
        if i % 5 == 0 {
            r.contact = Some(ContactRef::Id(contact.id.clone()));
        }
        store.submit_response(r).await.unwrap();
    }
    let all = ResponseFilter::default();
    let (mut seen, mut cursor) = (Vec::new(), None);
    loop {
        let page = store.list_responses(&all, cursor.as_ref(), 7).await.unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        cursor = Some(ResponseCursor { created_at: last.created_at, id: last.id.clone() });
        seen.extend(page.into_iter().map(|r| r.idempotency_key));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);
    let pro = ResponseFilter { attributes: vec![("plan".into(), "pro".into())], ..Default::default() };
    assert_eq!(store.count_responses(&pro).await.unwrap(), 5);
    let seats = ResponseFilter { attributes: vec![("seats".into(), "5".into())], ..Default::default() };
    assert_eq!(store.count_responses(&seats).await.unwrap(), 5);
    let promoters = ResponseFilter { segment: Some(Segment::Promoter), ..Default::default() };
    assert_eq!(store.count_responses(&promoters).await.unwrap(), 4); // scores 9, 10 twice
}

async fn day_counts_match_the_rows(store: Store) {
    let survey = nps_survey(&store).await;
    let day = 86_400_000i64;
    let scores = [(0, 10), (0, 9), (0, 3), (1, 7), (3, 0), (3, 10)];
    for (i, (d, score)) in scores.iter().enumerate() {
        let mut r = response(&survey, &format!("d{i}"), *score);
        r.created_at = 20_000 * day + d * day + 5;
        store.submit_response(r).await.unwrap();
    }
    let by_day = |filter: ResponseFilter| {
        let store = store.clone();
        async move {
            let groups =
                store.score_counts(&filter, Some(&Dimension::Day), ScoreColumn::Score, Source::Raw).await.unwrap();
            groups
                .iter()
                .map(|g| (g.key.as_deref().unwrap().parse::<i64>().unwrap(), hark_core::insight::nps_counts(&g.counts)))
                .collect::<Vec<_>>()
        }
    };
    let counts = by_day(ResponseFilter::default()).await;
    assert_eq!(
        counts,
        vec![
            (20_000, NpsCounts { promoters: 2, passives: 0, detractors: 1 }),
            (20_001, NpsCounts { promoters: 0, passives: 1, detractors: 0 }),
            (20_003, NpsCounts { promoters: 1, passives: 0, detractors: 1 }),
        ]
    );
    let window = ResponseFilter { from_ms: Some(20_001 * day), to_ms: Some(20_003 * day), ..Default::default() };
    assert_eq!(by_day(window).await.len(), 1);
}

async fn erasing_a_contact_reaches_every_table_and_keeps_anonymous_scores(store: Store) {
    let survey = nps_survey(&store).await;
    let mut r = response(&survey, "x", 2);
    r.contact = Some(ContactRef::Upsert(ContactInput {
        external_id: "gone".into(),
        email: Some("gone@example.com".into()),
        ..Default::default()
    }));
    let stored = store.submit_response(r).await.unwrap().response;
    let contact_id = stored.contact_id.clone().unwrap();
    store.add_note(&contact_id, Some(&stored.id), "admin", "called back").await.unwrap();
    // A past detractor: a case with a reply, an event, an interaction and a webhook payload.
    let new_case = hark_store::testing::case_for(&stored.id, &survey.id, Some(&contact_id));
    let (case, _) = store.open_case(&new_case).await.unwrap();
    let reply = CaseChange::Reply { subject: "Sorry".into(), body: "Dear gone@example.com".into() };
    store.change_case(&case.id, "admin", &reply).await.unwrap();
    store.record_event("ev-1", &json!({"n": 1}), "order.delivered", Some(&contact_id), &Map::new()).await.unwrap();
    let call = NewInteraction {
        contact_id: contact_id.clone(),
        kind: "call".into(),
        occurred_at: 1,
        agent_id: None,
        summary: Some("angry about the refund".into()),
        figures: Map::new(),
        idempotency_key: None,
    };
    store.add_interaction(&call).await.unwrap();
    let hook = store.create_webhook("h", "json", "http://127.0.0.1:9/", &[], None).await.unwrap();
    store.queue_deliveries("response.created", "k", &json!({"response": {"id": stored.id}}), None).await.unwrap();
    let mail = NewJob::new(CASE_MAIL_JOB, json!({"case_id": case.id, "body": "Dear gone@example.com"}), i64::MAX);
    store.enqueue(&mail).await.unwrap();

    let done = store.erase_contact(&contact_id).await.unwrap();
    assert_eq!((done.answers_anonymised, done.cases_unlinked, done.events_unlinked), (1, 1, 1));
    assert_eq!((done.notes_deleted, done.interactions_deleted, done.case_texts_emptied), (1, 1, 1));
    assert_eq!(done.webhook_payloads_emptied, 1);
    assert_eq!(done.jobs_emptied, 1, "the waiting reply to the person");
    let jobs = serde_json::to_string(&store.list_jobs(None, 100).await.unwrap()).unwrap();
    assert!(!jobs.contains("gone@example.com"), "{jobs}");
    assert!(store.get_contact(&contact_id).await.unwrap().is_none());
    let kept = store.get_response(&stored.id).await.unwrap().unwrap();
    assert_eq!((kept.score, kept.contact_id, kept.comment), (2, None, None));
    assert!(store.list_notes(&contact_id).await.unwrap().is_empty());
    let case = store.get_case(&case.id).await.unwrap().unwrap();
    assert_eq!(case.contact_id, None);
    let history = serde_json::to_string(&store.case_events(&case.id).await.unwrap()).unwrap();
    assert!(!history.contains("gone@example.com"), "{history}");
    let deliveries = serde_json::to_string(&store.list_deliveries(&hook.id, 10).await.unwrap()).unwrap();
    assert!(!deliveries.contains(&stored.id), "{deliveries}");
    assert!(matches!(store.erase_contact(&contact_id).await, Err(StoreError::NotFound(_))));
}

async fn jobs_are_claimed_once_retried_later_and_reclaimed_after_a_lost_lease(store: Store) {
    let now = jiff::Timestamp::now().as_millisecond();
    for i in 0..50 {
        let job = NewJob::new("test", json!({ "n": i }), now).dedupe(format!("job-{i}"));
        store.enqueue(&job).await.unwrap();
        store.enqueue(&job).await.unwrap();
    }
    store.enqueue(&NewJob::new("later", json!({}), now + 60_000)).await.unwrap();
    // Two workers claim side by side, round after round: every due job goes to exactly one.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    loop {
        let (x, y) = tokio::join!(store.claim_jobs("a", 60_000, 7), store.claim_jobs("b", 60_000, 7));
        let (x, y) = (x.unwrap(), y.unwrap());
        if x.is_empty() && y.is_empty() {
            break;
        }
        assert!(x.len() <= 7 && y.len() <= 7, "a claim takes at most its limit");
        a.extend(x.into_iter().map(|j| j.id));
        b.extend(y.into_iter().map(|j| j.id));
    }
    let mut all: Vec<_> = a.iter().chain(&b).cloned().collect();
    all.sort();
    all.dedup();
    assert_eq!((a.len() + b.len(), all.len()), (50, 50), "a job not yet due is not claimed, none twice");
    for id in &a {
        assert!(store.finish_job(id, "a").await.unwrap());
    }
    assert!(!store.finish_job(&b[0], "a").await.unwrap(), "only the claiming worker may finish a job");

    // A failed attempt waits for its retry time; out of retries, it stays failed.
    store.fail_job(&b[0], "b", "SMTP 421 try later", Some(now + 60_000)).await.unwrap();
    store.fail_job(&b[1], "b", "refused", None).await.unwrap();
    assert!(store.claim_jobs("c", 60_000, 100).await.unwrap().is_empty());
    let listed = store.list_jobs(None, 100).await.unwrap();
    let retrying = listed.iter().find(|j| j.id == b[0]).unwrap();
    assert_eq!((retrying.status, retrying.last_error.as_deref()), (JobStatus::Queued, Some("SMTP 421 try later")));
    assert_eq!(listed.iter().find(|j| j.id == b[1]).unwrap().status, JobStatus::Failed);

    // Jobs handed back untried are due again later, and the claim did not count as an attempt;
    // only the claiming worker may hand a job back.
    store.enqueue(&NewJob::new("busy", json!({}), now)).await.unwrap();
    let busy: Vec<String> = store.claim_jobs("d", 60_000, 5).await.unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(busy.len(), 1);
    assert_eq!(store.postpone_jobs(&busy, "someone else", now + 60_000).await.unwrap(), 0);
    assert_eq!(store.postpone_jobs(&busy, "d", now + 60_000).await.unwrap(), 1);
    assert!(store.claim_jobs("d", 60_000, 5).await.unwrap().is_empty(), "not due until its new time");
    let handed_back = store.list_jobs(None, 100).await.unwrap().into_iter().find(|j| j.id == busy[0]).unwrap();
    assert_eq!((handed_back.status, handed_back.attempts, handed_back.run_at), (JobStatus::Queued, 0, now + 60_000));

    // A worker that died holding a job loses it when its lease runs out.
    store.enqueue(&NewJob::new("crash", json!({}), now)).await.unwrap();
    let held = store.claim_jobs("dead", -1, 1).await.unwrap();
    let taken = store.claim_jobs("alive", 60_000, 1).await.unwrap();
    assert_eq!((taken[0].id.as_str(), taken[0].attempts), (held[0].id.as_str(), 2));
    assert!(!store.finish_job(&held[0].id, "dead").await.unwrap());
    assert!(store.finish_job(&held[0].id, "alive").await.unwrap());
    let counts = store.count_jobs().await.unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 53);
}

async fn sessions_and_the_link_secret(store: Store) {
    let secret = store.link_secret().await.unwrap();
    assert_eq!(secret.len(), 64);
    assert_eq!(store.link_secret().await.unwrap(), secret, "made once, then shared");
    let user = store.create_user("lead@example.com", None, Role::TeamLead, "hash").await.unwrap();
    let (token, session) = store.create_session(&user, 60_000).await.unwrap();
    let found = store.session(&token).await.unwrap().unwrap();
    assert_eq!((found.user.id.as_str(), found.csrf_token.as_str()), (user.id.as_str(), session.csrf_token.as_str()));
    assert!(store.session("not-a-token").await.unwrap().is_none());
    let (expired, _) = store.create_session(&user, -1).await.unwrap();
    assert!(store.session(&expired).await.unwrap().is_none());
    store.delete_session(&token).await.unwrap();
    assert!(store.session(&token).await.unwrap().is_none());
}

/// The rollups must never disagree with the rows: many answers written in concurrent batches,
/// retries, changes to both scores (in both directions, and back), then every question the
/// rollups can answer is asked of them and of the rows; and a rebuild (what a migration runs)
/// gives the same counts again.
async fn rollup_agrees_with_the_raw_rows(store: Store) {
    let survey = nps_survey(&store).await;
    let other = nps_survey(&store).await;
    let teams = [store.create_team("North").await.unwrap().id, store.create_team("South").await.unwrap().id];
    let mut agents = Vec::new();
    for (name, team) in [("Ann", Some(&teams[0])), ("Bo", Some(&teams[1])), ("Cy", None)] {
        let new = NewAgent { name: name.into(), team_id: team.cloned(), ..Default::default() };
        agents.push(store.create_agent(&new).await.unwrap().id);
    }
    let (minute, hour, day) = (60_000i64, 3_600_000i64, 86_400_000i64);
    let mut handles = Vec::new();
    for i in 0..300i64 {
        let mut r = response(if i % 5 == 0 { &other } else { &survey }, &format!("k{i}"), (i * 7) % 11);
        // Over 70 days (14 September to 22 November 2024): three months of the block
        // rollups, October whole.
        // At any time of day, so that a time zone's midnights cut days.
        r.created_at = 19_980 * day + ((i * 13) % 70) * day + (i * 4_001_003) % day;
        r.team_id = (i % 3 != 0).then(|| teams[(i % 2) as usize].clone());
        r.channel = ["email", "link", "widget"][(i % 3) as usize].into();
        r.agent_id = (i % 4 != 0).then(|| agents[(i % 3) as usize].clone());
        r.agent_score = (i % 5 != 0).then_some((i * 3) % 11);
        // Comments of one theme, two, none, and none at all.
        r.comment = ["Delivery was late", "Lovely staff", "Too expensive and the delivery was late", "ok", ""]
            .get((i % 6) as usize)
            .map(|c| c.to_string());
        // Figures as numbers, as text, unreadable, missing, and below every bin.
        let handle = match i % 4 {
            0 => json!((i * 13) % 1400),
            1 => json!(format!(" {}", (i * 29) % 1400)),
            2 => json!("n/a"),
            _ => json!(null),
        };
        r.context = json!({"handle_time_s": handle, "wait_time_s": (i % 50) * 15 - 30, "transfers": i % 5})
            .as_object()
            .unwrap()
            .clone();
        let store = store.clone();
        handles.push(tokio::spawn(async move { store.submit_response(r).await.unwrap() }));
    }
    let mut stored = Vec::new();
    for h in handles {
        stored.push(h.await.unwrap().response);
    }
    // Retries count once.
    for r in stored.iter().take(20) {
        let mut again = response(if r.survey_id == other.id { &other } else { &survey }, &r.idempotency_key, 0);
        again.request_hash = r.idempotency_key.clone();
        let _ = store.submit_response(again).await;
    }
    for (i, r) in stored.iter().enumerate().take(90) {
        let score = if i % 2 == 0 { 10 - r.score } else { r.score };
        let update = AnswerUpdate {
            score,
            segment: SurveyKind::Nps.segment(score),
            comment: None,
            answers: Map::new(),
            agent_score: if i % 3 == 0 { Some(score) } else { r.agent_score },
        };
        store.update_answer(&r.id, &update).await.unwrap();
        if i % 6 == 0 {
            let back = AnswerUpdate { score: r.score, segment: r.segment, agent_score: r.agent_score, ..update };
            store.update_answer(&r.id, &back).await.unwrap();
        }
    }
    let filters = [
        ResponseFilter::default(),
        ResponseFilter { survey_id: Some(survey.id.clone()), ..Default::default() },
        ResponseFilter { team_id: Some(teams[0].clone()), channel: Some("link".into()), ..Default::default() },
        ResponseFilter { from_ms: Some(20_002 * day), to_ms: Some(20_006 * day), ..Default::default() },
        ResponseFilter { survey_kind: Some(SurveyKind::Nps), from_ms: Some(20_004 * day), ..Default::default() },
        ResponseFilter { agent_id: Some(agents[1].clone()), team_id: Some(teams[1].clone()), ..Default::default() },
        // Windows over whole months (September from day 19967, October 19997, November
        // 20028), with days left over at one end or both.
        ResponseFilter { from_ms: Some(19_967 * day), to_ms: Some(20_028 * day), ..Default::default() },
        ResponseFilter { from_ms: Some(19_990 * day), to_ms: Some(20_040 * day), ..Default::default() },
        ResponseFilter { from_ms: Some(20_001 * day), ..Default::default() },
        ResponseFilter { to_ms: Some(20_010 * day), agent_id: Some(agents[0].clone()), ..Default::default() },
        // Most of a month at either end: the month, less the days outside the window.
        ResponseFilter { from_ms: Some(19_999 * day), to_ms: Some(20_026 * day), ..Default::default() },
        // Seoul's days (UTC+9): whole days from the daily rollups, cut ones from the hours;
        // Kolkata's (UTC+5:30) cut inside hours: from the rows.
        ResponseFilter {
            from_ms: Some(20_002 * day - 9 * hour),
            to_ms: Some(20_030 * day - 9 * hour),
            ..Default::default()
        },
        ResponseFilter {
            from_ms: Some(20_020 * day - 9 * hour),
            to_ms: Some(20_021 * day - 9 * hour),
            ..Default::default()
        },
        // A team's, cut days from the hours too (they are kept per team).
        ResponseFilter {
            team_id: Some(teams[0].clone()),
            from_ms: Some(20_002 * day - 9 * hour),
            to_ms: Some(20_030 * day - 9 * hour),
            ..Default::default()
        },
        ResponseFilter {
            survey_id: Some(survey.id.clone()),
            from_ms: Some(20_002 * day - 330 * minute),
            to_ms: Some(20_030 * day - 330 * minute),
            ..Default::default()
        },
        // One theme's answers: its rows of the theme facet, and in Seoul its cut days from the hours.
        ResponseFilter { theme: Some("delivery".into()), ..Default::default() },
        ResponseFilter { theme: Some("delivery".into()), team_id: Some(teams[1].clone()), ..Default::default() },
        ResponseFilter {
            theme: Some("staff".into()),
            from_ms: Some(20_002 * day - 9 * hour),
            to_ms: Some(20_030 * day - 9 * hour),
            ..Default::default()
        },
    ];
    let dims = [
        None,
        Some(Dimension::Day),
        Some(Dimension::Team),
        Some(Dimension::Channel),
        Some(Dimension::Survey),
        Some(Dimension::Agent),
        Some(Dimension::FigureBin("handle_time_s".into())),
        Some(Dimension::FigureBin("wait_time_s".into())),
        Some(Dimension::FigureBin("transfers".into())),
        // Seoul's months, and its days.
        Some(Dimension::Since(vec![19_998 * day - 9 * hour, 20_013 * day - 9 * hour, 20_025 * day - 9 * hour])),
        Some(Dimension::Since((19_990..20_040).map(|d| d * day - 9 * hour).collect())),
        // Calendar months, UTC's and Seoul's: long enough that each is read from its block.
        Some(Dimension::Since([19_967, 19_997, 20_028, 20_058].map(|d| d * day).to_vec())),
        Some(Dimension::Since([19_967, 19_997, 20_028, 20_058].map(|d| d * day - 9 * hour).to_vec())),
        Some(Dimension::Theme),
    ];
    let ask_all = || async {
        let mut answers = Vec::new();
        let mut answered_by = std::collections::BTreeMap::<Option<Rollup>, usize>::new();
        for filter in &filters {
            for by in &dims {
                for column in [ScoreColumn::Score, ScoreColumn::AgentScore] {
                    *answered_by.entry(filter.rollup_for(by.as_ref(), column)).or_default() += 1;
                    let best = store.score_counts(filter, by.as_ref(), column, Source::Best).await.unwrap();
                    let raw = store.score_counts(filter, by.as_ref(), column, Source::Raw).await.unwrap();
                    assert_eq!(best, raw, "{filter:?} by {by:?}, {column:?}");
                    answers.push(best);
                }
            }
            let best = store.theme_counts(filter, Source::Best).await.unwrap();
            assert_eq!(best, store.theme_counts(filter, Source::Raw).await.unwrap(), "themes under {filter:?}");
            // Seoul's months and days asked at once (a day two periods share is read once),
            // each against its window's rows.
            for starts in [vec![19_998, 20_013, 20_025, 20_040], (20_010..20_016).collect()] {
                let starts: Vec<i64> = starts.iter().map(|d| d * day - 9 * hour).collect();
                let periods: Vec<(i64, i64)> = starts.windows(2).map(|w| (w[0], w[1])).collect();
                for by in [None, Some(Dimension::Theme), Some(Dimension::Team), Some(Dimension::Channel)] {
                    for column in [ScoreColumn::Score, ScoreColumn::AgentScore] {
                        let at_once = store.score_counts_per_period(filter, by.as_ref(), column, &periods).await;
                        for ((start, end), best) in periods.iter().zip(at_once.unwrap()) {
                            let window = ResponseFilter {
                                from_ms: Some(filter.from_ms.map_or(*start, |from| from.max(*start))),
                                to_ms: Some(filter.to_ms.map_or(*end, |to| to.min(*end))),
                                ..filter.clone()
                            };
                            let raw = store.score_counts(&window, by.as_ref(), column, Source::Raw).await.unwrap();
                            assert_eq!(best, raw, "{window:?} by {by:?}, {column:?}, asked with its neighbours");
                        }
                    }
                }
            }
        }
        (answers, answered_by)
    };
    let (answers, answered_by) = ask_all().await;
    // Most questions are answered by a rollup, so the comparison above tests them.
    assert_eq!(
        answered_by,
        [(None, 282), (Some(Rollup::Scores), 45), (Some(Rollup::Facets), 108), (Some(Rollup::Hours), 69)]
            .into_iter()
            .collect(),
        "which questions each rollup answers"
    );
    assert!(answers.iter().flatten().any(|g| g.key.as_deref() == Some("180")), "the 180–300 s bin has answers");
    let all = store.score_counts(&ResponseFilter::default(), None, ScoreColumn::Score, Source::Best).await.unwrap();
    assert_eq!(all[0].counts.iter().sum::<u64>(), 300);
    // A rebuild, as a migration runs it, counts the same.
    store.rebuild_rollups(None).await.unwrap();
    assert_eq!(ask_all().await.0, answers);
    store.rebuild_rollups(Some(&other.id)).await.unwrap();
    assert_eq!(ask_all().await.0, answers, "one survey's rebuild leaves the others alone");
    // A filter the rollups cannot answer is not claimed to be covered.
    let partial_day = ResponseFilter { from_ms: Some(20_002 * day + 1), ..Default::default() };
    assert!(!partial_day.rollup_covers(None, ScoreColumn::Score));
    let in_zone = |offset| ResponseFilter { from_ms: Some(20_002 * day - offset), ..Default::default() };
    assert_eq!(in_zone(9 * hour).rollup_for(None, ScoreColumn::Score), Some(Rollup::Hours), "Seoul");
    let seoul_themes = in_zone(9 * hour).rollup_for(Some(&Dimension::Theme), ScoreColumn::Score);
    assert_eq!(seoul_themes, Some(Rollup::Hours), "Seoul's theme counts");
    let one_theme = ResponseFilter { theme: Some("staff".into()), ..in_zone(9 * hour) };
    assert_eq!(
        one_theme.rollup_for(Some(&Dimension::Day), ScoreColumn::Score),
        Some(Rollup::Hours),
        "a theme in Seoul"
    );
    let team = ResponseFilter { team_id: Some(teams[0].clone()), ..in_zone(9 * hour) };
    assert_eq!(team.rollup_for(None, ScoreColumn::Score), Some(Rollup::Hours), "a team in Seoul");
    let team_theme = ResponseFilter { theme: Some("staff".into()), ..team };
    assert_eq!(team_theme.rollup_for(None, ScoreColumn::Score), None, "the themes' hours are not kept per team");
    assert_eq!(in_zone(330 * minute).rollup_for(None, ScoreColumn::Score), None, "Kolkata");
    let by_channel = ResponseFilter { channel: Some("link".into()), ..Default::default() };
    assert!(!by_channel.rollup_covers(Some(&Dimension::Agent), ScoreColumn::Score));
    let bins = Dimension::FigureBin("handle_time_s".into());
    assert!(!ResponseFilter::default().rollup_covers(Some(&bins), ScoreColumn::AgentScore));
}

async fn matching_answers_are_counted_from_the_rollups(store: Store) {
    let nps = nps_survey(&store).await;
    let def: SurveyDefinition =
        serde_json::from_value(json!({"name": "CSAT", "kind": "csat", "brand": "Acme"})).unwrap();
    let csat = store.create_survey(&def, SurveyStatus::Active).await.unwrap();
    let team = store.create_team("North").await.unwrap().id;
    let (hour, day) = (3_600_000i64, 86_400_000i64);
    for i in 0..120i64 {
        let (survey, kind, score) =
            if i % 3 == 0 { (&csat, SurveyKind::Csat, 1 + i % 5) } else { (&nps, SurveyKind::Nps, i % 11) };
        let mut r = response(survey, &format!("k{i}"), score);
        r.segment = kind.segment(score);
        r.created_at = 20_000 * day + i * 5 * hour + (i * 7_919_000) % hour;
        r.team_id = (i % 2 == 0).then(|| team.clone());
        r.comment = Some(["Delivery was late", "Lovely staff", "fine"][(i % 3) as usize].into());
        store.submit_response(r).await.unwrap();
    }
    let seoul = ResponseFilter {
        from_ms: Some(20_003 * day - 9 * hour),
        to_ms: Some(20_020 * day - 9 * hour),
        ..Default::default()
    };
    let exact = [
        ResponseFilter::default(),
        ResponseFilter { segment: Some(Segment::Detractor), ..Default::default() },
        ResponseFilter { segment: Some(Segment::Promoter), team_id: Some(team.clone()), ..Default::default() },
        ResponseFilter { score: Some(4), ..Default::default() },
        ResponseFilter { score: Some(4), survey_kind: Some(SurveyKind::Csat), ..Default::default() },
        ResponseFilter { segment: Some(Segment::Passive), survey_id: Some(csat.id.clone()), ..Default::default() },
        ResponseFilter { theme: Some("delivery".into()), segment: Some(Segment::Detractor), ..Default::default() },
        ResponseFilter { segment: Some(Segment::Detractor), ..seoul.clone() },
        ResponseFilter { team_id: Some(team.clone()), channel: Some("api".into()), ..seoul.clone() },
    ];
    for filter in &exact {
        let rows = store.count_responses(filter).await.unwrap();
        assert!(rows > 0, "{filter:?} matches answers");
        assert_eq!(store.count_matching(filter, 5).await.unwrap(), (rows, false), "{filter:?}");
    }
    // A search is counted from the rows, up to the cap.
    let search = ResponseFilter { search: Some("late".into()), ..Default::default() };
    assert_eq!(store.count_responses(&search).await.unwrap(), 40);
    assert_eq!(store.count_matching(&search, 25).await.unwrap(), (25, true));
    assert_eq!(store.count_matching(&search, 40).await.unwrap(), (40, false));
}

async fn search_finds_words_in_any_language_and_case(store: Store) {
    let survey = nps_survey(&store).await;
    let comments = [
        "La CONSEGNA è arrivata tardi",
        "배송이 너무 늦었어요",
        "ส่งของช้ามาก",
        "Über-fast delivery, 100% happy",
        "fine",
    ];
    for (i, c) in comments.iter().enumerate() {
        let mut r = response(&survey, &format!("s{i}"), 5);
        r.comment = Some(c.to_string());
        store.submit_response(r).await.unwrap();
    }
    let found = |q: &str| {
        let store = store.clone();
        let filter = ResponseFilter { search: Some(q.into()), ..Default::default() };
        async move {
            let mut hits: Vec<_> =
                store.list_responses(&filter, None, 50).await.unwrap().into_iter().filter_map(|r| r.comment).collect();
            hits.sort();
            hits
        }
    };
    assert_eq!(found("consegna").await, vec![comments[0]]);
    assert_eq!(found("배송이").await, vec![comments[1]]);
    assert_eq!(found("ช้า").await, vec![comments[2]]);
    assert_eq!(found("über").await, vec![comments[3]]);
    assert_eq!(found("100%").await, vec![comments[3]]);
    assert_eq!(found("%").await, vec![comments[3]]);
    assert_eq!(found("tardi consegna").await, vec![comments[0]]);
    assert!(found("tardi fine").await.is_empty());
    // A changed comment is found by its new words only.
    let first = store.list_responses(&ResponseFilter::default(), None, 50).await.unwrap();
    let r = first.iter().find(|r| r.comment.as_deref() == Some("fine")).unwrap();
    let update = AnswerUpdate {
        score: 5,
        segment: Segment::Detractor,
        comment: Some("Rimborso".into()),
        answers: Map::new(),
        agent_score: None,
    };
    store.update_answer(&r.id, &update).await.unwrap();
    assert_eq!(found("rimborso").await, vec!["Rimborso"]);
    assert!(found("fine").await.is_empty());
}

mod refolding {
    use super::*;
    #[tokio::test]
    async fn sqlite() {
        comments_folded_by_sql_are_folded_again(Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        comments_folded_by_sql_are_folded_again(Backend::Postgres).await
    }
}

/// Migration 0004 filled `search_text` with SQL `lower()`, which on SQLite folds only ASCII;
/// 0006 leaves a rebuild that folds them again in Rust. Here the search text is put back
/// unfolded by SQL, as an old database would have it, and `migrate` mends it.
async fn comments_folded_by_sql_are_folded_again(backend: Backend) {
    use sqlx::Connection;
    let Some(db) = TestDatabase::new(backend).await else { return };
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let mut sql = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let pending = || "SELECT COUNT(*) FROM pending_rebuilds";
    assert_eq!(
        sqlx::query_scalar::<_, i64>(pending()).fetch_one(&mut sql).await.unwrap(),
        0,
        "a fresh database has nothing left to rebuild"
    );

    let survey = nps_survey(&store).await;
    let comments = ["ÜBERALL zu LANGSAM", "È STATO LENTO", "plain ascii"];
    for (i, c) in comments.iter().enumerate() {
        let mut r = response(&survey, &format!("f{i}"), 3);
        r.comment = Some(c.to_string());
        store.submit_response(r).await.unwrap();
    }
    sqlx::query("UPDATE responses SET search_text = comment").execute(&mut sql).await.unwrap();
    sqlx::query("INSERT INTO pending_rebuilds (name) VALUES ('search_text')").execute(&mut sql).await.unwrap();
    let found = |q: &'static str| {
        let store = store.clone();
        async move {
            let filter = ResponseFilter { search: Some(q.into()), ..Default::default() };
            store
                .list_responses(&filter, None, 50)
                .await
                .unwrap()
                .into_iter()
                .filter_map(|r| r.comment)
                .collect::<Vec<_>>()
        }
    };
    assert!(found("überall").await.is_empty() && found("è stato").await.is_empty(), "unfolded before the rebuild");

    store.migrate().await.unwrap();
    assert_eq!(found("überall").await, vec![comments[0]]);
    assert_eq!(found("è stato").await, vec![comments[1]]);
    assert_eq!(found("PLAIN").await, vec![comments[2]]);
    assert_eq!(sqlx::query_scalar::<_, i64>(pending()).fetch_one(&mut sql).await.unwrap(), 0);
    let unfolded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM responses WHERE search_text <> comment")
        .fetch_one(&mut sql)
        .await
        .unwrap();
    assert_eq!(unfolded, 2, "the two upper-case comments were folded; the plain one needed nothing");
    sql.close().await.unwrap();
    store.close().await;
}

/// Reads a rollup's `rows` (hour, survey, a key, score, answers) as the writer wrote them, puts
/// the database back as an older migration left it (`older`), migrates, and checks that the
/// upgrade counts the same rows; returns them.
async fn upgrade_counts_as_the_writer(
    store: &Store,
    url: &str,
    rows: &str,
    older: &[&str],
) -> Vec<(i64, String, String, i64, i64)> {
    use sqlx::Connection;
    let mut sql = sqlx::AnyConnection::connect(url).await.unwrap();
    let written: Vec<(i64, String, String, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(rows)).fetch_all(&mut sql).await.unwrap();
    for statement in older {
        sqlx::query(sqlx::AssertSqlSafe(*statement)).execute(&mut sql).await.unwrap();
    }
    store.migrate().await.unwrap();
    let filled: Vec<(i64, String, String, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(rows)).fetch_all(&mut sql).await.unwrap();
    assert_eq!(filled, written, "the upgrade counts as the writer counted");
    sql.close().await.unwrap();
    written
}

/// Migration 0019 adds the hourly theme rollup to databases that already hold answers: the
/// rollup rebuild it leaves counts them in, so a time zone's theme counts are right at once.
async fn an_upgrade_counts_stored_answers_into_the_hourly_theme_rows(backend: Backend) {
    let Some(db) = TestDatabase::new(backend).await else { return };
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let survey = nps_survey(&store).await;
    let (hour, day) = (3_600_000i64, 86_400_000i64);
    for i in 0..24i64 {
        let mut r = response(&survey, &format!("u{i}"), i % 11);
        r.created_at = 20_000 * day + i * hour;
        r.comment = Some(["Delivery was late", "Lovely staff", "ok"][(i % 3) as usize].into());
        store.submit_response(r).await.unwrap();
    }
    let rows = "SELECT hour, survey_id, value, score, CAST(SUM(n) AS BIGINT) AS n FROM theme_hour_rollup \
                GROUP BY hour, survey_id, value, score ORDER BY hour, survey_id, value, score";
    // The database as migration 0018 left it.
    let older = ["DROP TABLE theme_hour_rollup", "DELETE FROM _sqlx_migrations WHERE version = 19"];
    upgrade_counts_as_the_writer(&store, &db.url, rows, &older).await;
    // Seoul's day of the 24 answers ends at 15:00 UTC: its hours are read from the new rollup.
    let seoul = ResponseFilter {
        from_ms: Some(20_000 * day - 9 * hour),
        to_ms: Some(20_001 * day - 9 * hour),
        ..Default::default()
    };
    assert_eq!(seoul.rollup_for(Some(&Dimension::Theme), ScoreColumn::Score), Some(Rollup::Hours));
    let counted = store.theme_counts(&seoul, Source::Best).await.unwrap();
    assert_eq!(counted, store.theme_counts(&seoul, Source::Raw).await.unwrap());
    let staff: u64 = counted.themes.get("staff").map(|c| c.iter().sum()).unwrap_or_default();
    assert_eq!((counted.commented, staff), (15, 5), "the 15 answers before 15:00 UTC, five about staff");
    store.close().await;
}

/// Migration 0022: the hourly score rollup, once kept per survey, is counted per team from
/// the stored answers, so that a team's days in another time zone are read from it.
async fn an_upgrade_counts_the_hourly_rows_per_team(backend: Backend) {
    let Some(db) = TestDatabase::new(backend).await else { return };
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let survey = nps_survey(&store).await;
    let teams = [store.create_team("North").await.unwrap().id, store.create_team("South").await.unwrap().id];
    let (hour, day) = (3_600_000i64, 86_400_000i64);
    // Every 40 minutes from 10:00 UTC on day 20,000, across Seoul's midnight (15:00 UTC).
    for i in 0..30i64 {
        let mut r = response(&survey, &format!("t{i}"), (i * 7) % 11);
        r.created_at = 20_000 * day + 10 * hour + i * 2_400_000;
        r.team_id = teams.get((i % 3) as usize).cloned();
        store.submit_response(r).await.unwrap();
    }
    let rows = "SELECT hour, survey_id, team_id, score, CAST(SUM(n) AS BIGINT) AS n FROM score_hour_rollup \
                GROUP BY hour, survey_id, team_id, score ORDER BY hour, survey_id, team_id, score";
    // The database as migration 0021 left it: the hourly rows per survey only.
    let older = [
        "DROP TABLE score_hour_rollup",
        "CREATE TABLE score_hour_rollup (hour BIGINT NOT NULL, survey_id TEXT NOT NULL REFERENCES surveys (id), \
         score BIGINT NOT NULL, stripe BIGINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (hour, survey_id, score, stripe))",
        "DELETE FROM _sqlx_migrations WHERE version = 22",
    ];
    let written = upgrade_counts_as_the_writer(&store, &db.url, rows, &older).await;
    assert_eq!(written.iter().map(|r| r.4).sum::<i64>(), 30);
    // The North team's first Seoul day (until 15:00 UTC): answers 0, 3, 6 (from 10:00, 12:00, 14:00).
    let north_in_seoul = ResponseFilter {
        team_id: Some(teams[0].clone()),
        from_ms: Some(20_000 * day - 9 * hour),
        to_ms: Some(20_001 * day - 9 * hour),
        ..Default::default()
    };
    assert_eq!(north_in_seoul.rollup_for(None, ScoreColumn::Score), Some(Rollup::Hours));
    let counted = store.score_counts(&north_in_seoul, None, ScoreColumn::Score, Source::Best).await.unwrap();
    assert_eq!(counted, store.score_counts(&north_in_seoul, None, ScoreColumn::Score, Source::Raw).await.unwrap());
    assert_eq!(counted[0].counts.iter().sum::<u64>(), 3);
    let seoul = ResponseFilter { team_id: None, ..north_in_seoul };
    let by_team = store.score_counts(&seoul, Some(&Dimension::Team), ScoreColumn::Score, Source::Best).await.unwrap();
    let sizes: Vec<u64> = by_team.iter().map(|g| g.counts.iter().sum()).collect();
    assert_eq!(sizes, [2, 3, 3], "no team, North, South: the 8 answers before 15:00 UTC, from the hours");
    store.close().await;
}

/// Migration 0021: the block rollups, once summed over 32-day blocks, are summed over months
/// afresh from the daily rows, as the writer sums new answers.
async fn an_upgrade_sums_the_daily_rollups_into_months(backend: Backend) {
    use sqlx::Connection;
    let Some(db) = TestDatabase::new(backend).await else { return };
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let survey = nps_survey(&store).await;
    let day = 86_400_000i64;
    // Every third day from 14 September to 22 November 2024.
    for i in 0..24i64 {
        let mut r = response(&survey, &format!("m{i}"), i % 11);
        r.created_at = 19_980 * day + 3 * i * day;
        r.agent_score = Some((i * 3) % 11);
        r.comment = Some(["Delivery was late", "Lovely staff", "ok"][(i % 3) as usize].into());
        store.submit_response(r).await.unwrap();
    }
    let mut sql = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    let tables = [
        ("score_block_rollup", "score_rollup", "survey_id, team_id, channel, score, stripe"),
        ("facet_block_rollup", "facet_rollup", "survey_id, team_id, facet, value, question, score, stripe"),
    ];
    let blocks = |table: &str, columns: &str| {
        format!("SELECT block, CAST(SUM(n) AS BIGINT) AS n FROM {table} GROUP BY block, {columns} ORDER BY 1, 2")
    };
    let mut written = Vec::new();
    for (table, days, columns) in tables {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(blocks(table, columns))).fetch_all(&mut sql).await.unwrap();
        assert_eq!(
            rows.iter().map(|(b, _)| *b).collect::<std::collections::BTreeSet<_>>(),
            [656, 657, 658].into(),
            "{table}: September, October and November 2024"
        );
        written.push(rows);
        // The blocks as migrations 0007 and 0018 summed them: 32 days each.
        let old = format!(
            "INSERT INTO {table} (block, {columns}, n) SELECT day / 32, {columns}, SUM(n) FROM {days} GROUP BY day / 32, {columns}"
        );
        for statement in [format!("DELETE FROM {table}"), old] {
            sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut sql).await.unwrap();
        }
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 21").execute(&mut sql).await.unwrap();
    store.migrate().await.unwrap();
    for ((table, _, columns), written) in tables.iter().zip(written) {
        let filled: Vec<(i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(blocks(table, columns))).fetch_all(&mut sql).await.unwrap();
        assert_eq!(filled, written, "{table}: the upgrade sums as the writer summed");
    }
    sql.close().await.unwrap();
    // October, read from its block, against the rows.
    let october = ResponseFilter { from_ms: Some(19_997 * day), to_ms: Some(20_028 * day), ..Default::default() };
    for by in [None, Some(Dimension::Theme), Some(Dimension::Agent)] {
        let best = store.score_counts(&october, by.as_ref(), ScoreColumn::Score, Source::Best).await.unwrap();
        let raw = store.score_counts(&october, by.as_ref(), ScoreColumn::Score, Source::Raw).await.unwrap();
        assert_eq!(best, raw, "October by {by:?}");
    }
    store.close().await;
}

/// An organisation's own themes: saved against the generation read, taken up at once by new
/// answers and by another process when it looks, and read into every stored comment and
/// feedback by a walk that resumes where it stopped after a restart, keeping the rollups right.
async fn own_themes_are_read_into_every_comment_even_across_a_restart(backend: Backend) {
    let Some(db) = TestDatabase::new(backend).await else { return };
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let survey = nps_survey(&store).await;
    let comments = ["my points never showed up", "the courier was late", "lovely staff", "points and courier"];
    for i in 0..40 {
        let mut r = response(&survey, &format!("t{i}"), i % 11);
        r.comment = Some(comments[i as usize % 4].into());
        store.submit_response(r).await.unwrap();
    }
    let feedback = NewFeedback {
        source: "review".into(),
        body: "Where are my points?".into(),
        rating: None,
        contact: None,
        url: None,
        language: None,
        created_at: 1_700_000_000_000,
        idempotency_key: "f1".into(),
        request_hash: "f1".into(),
    };
    let (feedback, _) = store.add_feedback(&feedback).await.unwrap();
    assert_eq!(feedback.themes, Vec::<String>::new());
    let tagged = |store: Store, theme: &'static str| async move {
        let filter = ResponseFilter { theme: Some(theme.into()), ..Default::default() };
        store.list_responses(&filter, None, 1000).await.unwrap().len()
    };
    assert_eq!(tagged(store.clone(), "delivery").await, 20);

    // A second process on the same database.
    let other = Store::open(&db.url).await.unwrap();
    other.migrate().await.unwrap();

    let (mut list, own) = store.list_themes().await.unwrap();
    assert!(!own, "the built-in themes until the organisation changes them");
    let status = store.tagging_status().await.unwrap();
    assert_eq!(status.rereading, None, "a new database has nothing to read again");
    list.retain(|t| t.key != "delivery");
    list.push(hark_text::Theme {
        key: "loyalty".into(),
        names: [("en".into(), "Loyalty".into())].into(),
        terms: [("en".into(), vec!["points".into()])].into(),
    });
    let generation = store.save_themes(Some(list.clone()), status.generation).await.unwrap();
    assert!(matches!(store.save_themes(Some(list), status.generation).await, Err(StoreError::Conflict(_))));
    let mut bad = store.list_themes().await.unwrap().0;
    bad[0].terms.clear();
    assert!(matches!(store.save_themes(Some(bad), generation).await, Err(StoreError::Invalid(_))));

    // New answers are read with the new themes at once; the other process after it looks.
    let mut fresh = response(&survey, "fresh", 3);
    fresh.comment = Some("no points again".into());
    assert_eq!(store.submit_response(fresh).await.unwrap().response.themes, ["loyalty"]);
    assert!(!other.reading().own);
    other.sync_themes().await.unwrap();
    assert!(other.reading().own && other.reading().generation == generation);

    // The walk: one step, a restart, the rest from where it stopped.
    let progress = |status: TaggingStatus| status.rereading.map(|p| (p.done, p.total));
    assert_eq!(progress(store.tagging_status().await.unwrap()), Some((0, 41)));
    assert!(store.reread_comments(15).await.unwrap());
    assert_eq!(progress(store.tagging_status().await.unwrap()), Some((15, 41)));
    store.close().await;
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.reading().own, "the organisation's themes are loaded on start");
    assert!(store.reread_comments(15).await.unwrap());
    assert_eq!(progress(store.tagging_status().await.unwrap()), Some((30, 41)), "resumed, not restarted");
    while store.reread_comments(15).await.unwrap() {}
    assert!(store.tagging_status().await.unwrap().rereading.is_some(), "waits for the other processes to reload");
    hark_store::testing::end_reload_grace(&store).await.unwrap();
    // Both processes take steps in turn.
    while other.reread_comments(7).await.unwrap() || store.reread_comments(7).await.unwrap() {}
    let status = store.tagging_status().await.unwrap();
    assert_eq!(status.rereading, None);
    assert!(status.finished_at.is_some());

    assert_eq!(tagged(store.clone(), "loyalty").await, 21);
    assert_eq!(tagged(store.clone(), "delivery").await, 0);
    let feedback = store.list_feedback(&FeedbackFilter::default(), 10).await.unwrap();
    assert_eq!(feedback[0].themes, ["loyalty"]);
    let everyone = ResponseFilter::default();
    let best = store.theme_counts(&everyone, Source::Best).await.unwrap();
    assert_eq!(best, store.theme_counts(&everyone, Source::Raw).await.unwrap(), "the rollups moved with the tags");
    assert_eq!(best.themes["loyalty"].iter().sum::<u64>(), 21);

    // A rename changes no tag: nothing is read again.
    let mut renamed = store.list_themes().await.unwrap().0;
    renamed.last_mut().unwrap().names.insert("ko".into(), "포인트".into());
    store.save_themes(Some(renamed), store.tagging_status().await.unwrap().generation).await.unwrap();
    assert_eq!(store.tagging_status().await.unwrap().rereading, None);

    // Back to the built-in themes.
    let generation = store.tagging_status().await.unwrap().generation;
    store.save_themes(None, generation).await.unwrap();
    assert!(!store.list_themes().await.unwrap().1);
    hark_store::testing::end_reload_grace(&store).await.unwrap();
    while store.reread_comments(100).await.unwrap() {}
    assert_eq!(tagged(store.clone(), "delivery").await, 20);
    other.close().await;
    store.close().await;
}

/// Two nodes on one database, each with its answer writer: on PostgreSQL each counts into
/// rollup rows of its own, so that neither waits for the other's commits on the rows they
/// share (a day, a survey, a score), and score edits count into the shared stripe. Every
/// rollup, summed, still agrees with the rows.
async fn two_nodes_count_into_rollup_rows_of_their_own(backend: Backend) {
    let Some(db) = TestDatabase::new(backend).await else {
        return;
    };
    let nodes = [Store::open(&db.url).await.unwrap(), Store::open(&db.url).await.unwrap()];
    nodes[0].migrate().await.unwrap();
    let survey = nps_survey(&nodes[0]).await;
    let agent = nodes[0].create_agent(&NewAgent { name: "Ann".into(), ..Default::default() }).await.unwrap().id;
    let day = 86_400_000i64;
    let mut handles = Vec::new();
    for i in 0..200i64 {
        let store = nodes[(i % 2) as usize].clone();
        let mut r = response(&survey, &format!("k{i}"), (i * 7) % 11);
        // Over 40 days, November 2024 (days 20028 to 20058) whole; at any time of day.
        r.created_at = 20_020 * day + (i % 40) * day + (i * 4_001_003) % day;
        r.agent_id = (i % 3 != 0).then(|| agent.clone());
        r.agent_score = Some((i * 3) % 11);
        handles.push(tokio::spawn(async move { store.submit_response(r).await.unwrap().response }));
    }
    let mut stored = Vec::new();
    for h in handles {
        stored.push(h.await.unwrap());
    }
    for r in stored.iter().take(30) {
        let score = 10 - r.score;
        let update = AnswerUpdate {
            score,
            segment: SurveyKind::Nps.segment(score),
            comment: None,
            answers: Map::new(),
            agent_score: r.agent_score,
        };
        nodes[1].update_answer(&r.id, &update).await.unwrap();
    }
    let stripes = hark_store::testing::rollup_stripes(&nodes[0]).await.unwrap();
    match backend {
        Backend::Sqlite => assert_eq!(stripes, [0], "SQLite's one writer at a time needs no stripes"),
        Backend::Postgres => assert!(stripes.len() == 3 && stripes[0] == 0, "shared, and one per writer: {stripes:?}"),
    }
    let hour = 3_600_000i64;
    let filters = [
        ResponseFilter::default(),
        ResponseFilter { from_ms: Some(20_028 * day), to_ms: Some(20_058 * day), ..Default::default() },
        ResponseFilter {
            from_ms: Some(20_033 * day - 9 * hour),
            to_ms: Some(20_050 * day - 9 * hour),
            ..Default::default()
        },
    ];
    let mut answered_by = std::collections::BTreeSet::new();
    for filter in &filters {
        for by in [None, Some(Dimension::Day), Some(Dimension::Agent)] {
            for column in [ScoreColumn::Score, ScoreColumn::AgentScore] {
                answered_by.insert(filter.rollup_for(by.as_ref(), column));
                let best = nodes[0].score_counts(filter, by.as_ref(), column, Source::Best).await.unwrap();
                let raw = nodes[1].score_counts(filter, by.as_ref(), column, Source::Raw).await.unwrap();
                assert_eq!(best, raw, "{filter:?} by {by:?}, {column:?}");
            }
        }
    }
    let rollups = [Rollup::Scores, Rollup::Facets, Rollup::Hours].map(Some);
    assert!(rollups.iter().all(|r| answered_by.contains(r)), "every rollup asked: {answered_by:?}");
    for node in nodes {
        node.close().await;
    }
}

//! The `hark` binary as a user runs it: a child process on a real SQLite file (or, for two
//! processes sharing one database, PostgreSQL).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

const HARK: &str = env!("CARGO_BIN_EXE_hark");

/// A running `hark serve`, killed (SIGKILL) and reaped when dropped, even if a test fails.
struct Server(Child);

impl Server {
    fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts `hark serve` on a free port; returns it, its base URL and everything it printed
/// before listening.
fn serve(db: impl AsRef<OsStr>, extra: &[&str]) -> (Server, String, String) {
    let mut child = Command::new(HARK)
        .arg("--database")
        .arg(db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("HARK_LOG", "warn")
        // No weekly digest unless a test asks for one (`--digest-schedule` wins over this): by
        // default one goes out on Mondays from 08:00 UTC, and counted mails gained one that day.
        .env("HARK_DIGEST_SCHEDULE", "off")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let server = Server(child);
    let mut printed = String::new();
    loop {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "hark exited before listening: {printed}");
        printed.push_str(&line);
        if let Some(rest) = line.strip_prefix("Hark is listening on ") {
            let url = rest.split_whitespace().next().unwrap().to_string();
            std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
            return (server, url, printed);
        }
    }
}

fn hark(db: impl AsRef<OsStr>, args: &[&str]) -> std::process::Output {
    Command::new(HARK).arg("--database").arg(db).args(args).env("HARK_LOG", "warn").output().unwrap()
}

fn import(db: &Path, csv: &Path, survey: &str) -> std::process::Output {
    hark(db, &["import", "responses", csv.to_str().unwrap(), "--survey", survey])
}

/// A new NPS survey made over the API of a running server.
async fn nps_survey(client: &reqwest::Client, base: &str, key: &str) -> Value {
    let r = client
        .post(format!("{base}/api/v1/surveys"))
        .bearer_auth(key)
        .json(&json!({"name": "NPS", "kind": "nps", "brand": "Acme"}))
        .send()
        .await
        .unwrap();
    r.json().await.unwrap()
}

fn api_key(db: impl AsRef<OsStr>) -> String {
    let out = hark(db, &["apikey", "create", "--name", "test"]);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_loses_no_acknowledged_response() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let key = api_key(&db);
    let (server, base, printed) = serve(&db, &[]);
    assert!(printed.contains("admin@localhost"), "first start prints how to log in: {printed}");
    let client = reqwest::Client::new();
    let survey = nps_survey(&client, &base, &key).await;
    let survey_id = survey["id"].as_str().unwrap().to_string();

    // Eight clients stream answers until the server dies; each records what was acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let mut streams = tokio::task::JoinSet::new();
    for c in 0..8 {
        let (client, base, key, survey_id, stop) =
            (client.clone(), base.clone(), key.clone(), survey_id.clone(), stop.clone());
        streams.spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = format!("c{c}-{i}");
                let sent = client
                    .post(format!("{base}/api/v1/responses"))
                    .bearer_auth(&key)
                    .header("Idempotency-Key", &k)
                    .json(&json!({"survey_id": survey_id, "score": i % 11}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => acknowledged.push(k),
                    _ => break, // the server is gone
                }
            }
            acknowledged
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server.kill(); // SIGKILL
    stop.store(true, Ordering::Relaxed);
    let acknowledged: Vec<String> = streams.join_all().await.into_iter().flatten().collect();
    assert!(acknowledged.len() > 50, "the stream ran: {} acknowledged", acknowledged.len());

    let (server, base, _) = serve(&db, &[]);
    let mut stored = std::collections::HashSet::new();
    let mut url = format!("{base}/api/v1/responses?limit=500");
    loop {
        let page: Value = client.get(&url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
        for r in page["items"].as_array().unwrap() {
            stored.insert(r["idempotency_key"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{base}/api/v1/responses?limit=500&cursor={c}"),
            None => break,
        }
    }
    server.kill();
    let lost: Vec<_> = acknowledged.iter().filter(|k| !stored.contains(*k)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged responses lost: {lost:?}", lost.len(), acknowledged.len());
}

#[test]
fn csv_import_refuses_a_nul_character_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let csv = dir.path().join("nul.csv");
    std::fs::write(&csv, "email,score,comment\nann@example.com,9,fine\nbo@example.com,3,bad\0text\n").unwrap();
    let out = import(&db, &csv, "Legacy NPS");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 3: body: contains a NUL character"), "{stderr}");
    assert!(stderr.contains("imported 1, already present 0, rejected 1"), "{stderr}");
}

#[test]
fn csv_import_reports_bad_rows_by_line_and_keeps_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let csv = dir.path().join("export.csv");
    // Columns as another tool exports them; line 4 has score 11, line 6 a bad date.
    std::fs::write(
        &csv,
        "Email,Score,Comment,Date,Agent,Team,Plan\n\
         ann@example.com,9,\"Great, fast\",2026-01-05,Mina,Billing,pro\n\
         bo@example.com,3,Slow refund,2026-01-06 14:30,Luca,Billing,free\n\
         cy@example.com,11,typo,2026-01-07,Mina,Billing,pro\n\
         di@example.com,7,,2026-02-01T09:00:00Z,Nok,Sales,pro\n\
         ed@example.com,8,ok,last tuesday,Nok,Sales,free\n\
         ,10,=1+1,2026-02-03,,,\n",
    )
    .unwrap();
    let out = import(&db, &csv, "Legacy NPS");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 4: score: 11 is outside"), "{stderr}");
    assert!(stderr.contains("line 6: date: `last tuesday`"), "{stderr}");
    assert!(stderr.contains("imported 4, already present 0, rejected 2"), "{stderr}");

    // Importing the same file again adds nothing.
    let again = import(&db, &csv, "Legacy NPS");
    assert!(String::from_utf8_lossy(&again.stderr).contains("imported 0, already present 4, rejected 2"));

    // Export, then import the export into a fresh database: the same answers arrive.
    let export = hark(&db, &["export", "responses"]);
    assert!(export.status.success());
    let text = String::from_utf8(export.stdout).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.contains("bo@example.com")
            && text.contains("Slow refund")
            && text.contains("Luca")
            && text.contains("Billing")
    );
    // A comment that a spreadsheet would run as a formula is written defused.
    assert!(text.contains(",'=1+1,") && !text.contains(",=1+1,"), "{text}");
    let exported = dir.path().join("hark-export.csv");
    std::fs::write(&exported, &text).unwrap();
    let db2 = dir.path().join("other.db");
    let out = hark(&db2, &["import", "responses", exported.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("imported 4, already present 0, rejected 0"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scores = |t: &str| {
        let mut s: Vec<String> = t.lines().skip(1).map(|l| l.split(',').nth(5).unwrap().to_string()).collect();
        s.sort();
        s
    };
    let text2 = String::from_utf8(hark(&db2, &["export", "responses"]).stdout).unwrap();
    assert_eq!(scores(&text), scores(&text2));
    // Imported back as the customer typed it, so exported again with one apostrophe.
    assert!(text2.contains(",'=1+1,") && !text2.contains("''"), "{text2}");
}

#[test]
fn demo_fills_an_empty_database_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let out = hark(&db, &["demo", "--responses", "300"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("300 responses"));
    let again = hark(&db, &["demo"]);
    assert!(!again.status.success(), "a second demo run must not double the data");
    let export = String::from_utf8(hark(&db, &["export", "responses"]).stdout).unwrap();
    assert_eq!(export.lines().count(), 301);
    for lang in [",en", ",ko", ",it", ",th"] {
        assert!(export.contains(lang), "demo answers in {lang}");
    }
}

/// A fresh PostgreSQL schema, migrated, and an SMTP server process; `None` without PostgreSQL.
async fn postgres_and_mail()
-> Option<(hark_store::testing::TestDatabase, hark_jobs::testing::SmtpServer, hark_store::Store)> {
    let db = hark_store::testing::TestDatabase::new(hark_store::testing::Backend::Postgres).await?;
    let store = hark_store::Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    Some((db, hark_jobs::testing::SmtpServer::start(), store))
}

/// Two `hark serve` processes started at once on a fresh database (nodes of one deployment)
/// both serve: the first administrator is made by one of them, and the other goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_starting_at_once_on_a_fresh_database_both_serve() {
    let Some(db) = hark_store::testing::TestDatabase::new(hark_store::testing::Backend::Postgres).await else {
        return;
    };
    let url = db.url.as_str();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| serve(url, &[]));
        let b = s.spawn(|| serve(url, &[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let made = [&a.2, &b.2].iter().filter(|printed| printed.contains("created the administrator")).count();
    assert_eq!(made, 1, "one administrator, made by one of them: {} / {}", a.2, b.2);
    for (_, base, _) in [&a, &b] {
        let status = reqwest::get(format!("{base}/login")).await.unwrap().status();
        assert!(status.is_success(), "{base}: {status}");
    }
}

/// Jobs live in the database: invitations queued before any server runs are mailed when one
/// starts, and two `hark serve` processes on one PostgreSQL mail each invitation exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_mail_each_invitation_once() {
    let Some((db, smtp, store)) = postgres_and_mail().await else { return };
    let definition = serde_json::from_value(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).unwrap();
    let survey = store.create_survey(&definition, hark_store::SurveyStatus::Active).await.unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    for i in 0..40 {
        let batch = if i < 20 { "1" } else { "2" };
        let input =
            serde_json::from_value(json!({"external_id": format!("c{i}"), "email": format!("c{i}@example.com"),
            "attributes": {"batch": batch}}))
            .unwrap();
        let contact = store.upsert_contact(&input).await.unwrap();
        if batch == "1" {
            let invitation = hark_store::NewInvitation {
                survey_id: survey.id.clone(),
                contact_id: contact.id,
                channel: hark_core::survey::InviteChannel::Email,
                agent_id: None,
                team_id: None,
                event_id: None,
                properties: Default::default(),
                send_at: now,
                survey_window_days: 90,
                global_window_days: 7,
            };
            store.invite(&invitation).await.unwrap();
        }
    }
    let key = api_key(&db.url);
    let smtp_url = smtp.url();
    let args = ["--smtp-url", smtp_url.as_str(), "--job-poll-ms", "20"];
    let (_a, _, _) = serve(&db.url, &args);
    let (_b, base_b, _) = serve(&db.url, &args);
    let sent: Value = reqwest::Client::new()
        .post(format!("{base_b}/api/v1/surveys/{}/invitations", survey.id))
        .bearer_auth(&key)
        .json(&json!({"attributes": {"batch": "2"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["scheduled"], 20, "{sent}");
    let mails = smtp.wait_for(40, std::time::Duration::from_secs(60)).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let mut recipients: Vec<String> = smtp.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(recipients.len(), 40, "{mails:?}");
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 40, "nobody was mailed twice");
    let jobs = store.list_jobs(None, 100).await.unwrap();
    assert_eq!(jobs.len(), 40);
    assert!(jobs.iter().all(|j| j.status == hark_store::JobStatus::Done && j.attempts == 1), "{jobs:?}");
    let invitations = store.list_invitations(None, Some(&survey.id), 100).await.unwrap();
    assert_eq!(invitations.len(), 40);
    assert!(invitations.iter().all(|i| i.status == hark_store::InvitationStatus::Sent && i.sent_at.is_some()));
}

/// Two `hark serve` processes on one PostgreSQL, both looking for due digests every second:
/// each person gets the period's digest once. The schedule fired two minutes ago (daily), so
/// no second period begins during the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_mail_each_digest_once() {
    let Some((db, smtp, store)) = postgres_and_mail().await else { return };
    for (email, role) in [
        ("admin@example.com", hark_store::Role::Admin),
        ("exec@example.com", hark_store::Role::Executive),
        ("boss@example.com", hark_store::Role::Admin),
    ] {
        store.create_user(email, None, role, "x").await.unwrap();
    }
    let fired = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(2)).to_zoned(jiff::tz::TimeZone::UTC);
    let schedule = format!("{} {} * * *", fired.minute(), fired.hour());
    let args = busy_server_args(&smtp, &["--digest-schedule", &schedule]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_a, _, _) = serve(&db.url, &args);
    let (_b, _, _) = serve(&db.url, &args);
    smtp.wait_for(3, std::time::Duration::from_secs(60)).await;
    // Both keep sweeping: give them a few more rounds.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let mut recipients: Vec<String> = smtp.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(recipients.len(), 3, "{recipients:?}");
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 3, "nobody got it twice");
    assert!(smtp.messages().iter().all(|m| m.subject.starts_with("Your Hark digest:")));
}

/// A Billing team with its lead, an agent, an NPS survey and a webhook receiver on loopback
/// that records the delivery id of every call it gets (for `case.opened`).
struct Billing {
    lead: hark_store::User,
    agent: hark_store::Agent,
    survey: hark_store::Survey,
    calls: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn billing(store: &hark_store::Store) -> Billing {
    let team = store.create_team("Billing").await.unwrap();
    let lead = store.create_user("lead@example.com", None, hark_store::Role::TeamLead, "x").await.unwrap();
    store.set_user_team(&lead.id, Some(&team.id)).await.unwrap();
    let agent = store
        .create_agent(&hark_store::NewAgent {
            name: "Sam".into(),
            team_id: Some(team.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let definition = serde_json::from_value(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).unwrap();
    let survey = store.create_survey(&definition, hark_store::SurveyStatus::Active).await.unwrap();
    let calls: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let seen = calls.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(headers["x-hark-delivery"].to_str().unwrap().to_owned());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    store.create_webhook("CRM", "generic", &hook_url, &["case.opened".to_string()], None).await.unwrap();
    Billing { lead, agent, survey, calls }
}

/// Server flags for these tests: a real SMTP server, fast polling, and the loopback receiver.
fn busy_server_args(smtp: &hark_jobs::testing::SmtpServer, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--smtp-url", &smtp.url(), "--job-poll-ms", "20", "--escalation-seconds", "1"]
        .into_iter()
        .map(String::from)
        .collect();
    args.extend(["--webhook-allow", "127.0.0.1"].map(String::from));
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// Posts a detractor answer about Billing's agent for customer `i`.
async fn detractor(client: &reqwest::Client, base: &str, key: &str, b: &Billing, i: usize) -> reqwest::StatusCode {
    client
        .post(format!("{base}/api/v1/responses"))
        .bearer_auth(key)
        .header("Idempotency-Key", format!("d-{i}"))
        .json(&json!({"survey_id": b.survey.id, "score": 4, "agent_id": b.agent.id,
            "contact": {"external_id": format!("c{i}"), "email": format!("c{i}@example.com")}}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Two `hark serve` processes on one PostgreSQL: every playbook action (the case, the
/// owner's mail, the webhook call) happens exactly once per answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_run_each_playbook_action_once() {
    let Some((db, smtp, store)) = postgres_and_mail().await else { return };
    let b = billing(&store).await;
    let key = api_key(&db.url);
    let args = busy_server_args(&smtp, &[]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_a, base_a, _) = serve(&db.url, &args);
    let (_b, _, _) = serve(&db.url, &args);
    let client = reqwest::Client::new();
    for i in 0..20 {
        assert_eq!(detractor(&client, &base_a, &key, &b, i).await, 201);
    }
    let mails = smtp.wait_for(20, std::time::Duration::from_secs(60)).await;
    let start = std::time::Instant::now();
    while b.calls.lock().unwrap().len() < 20 && start.elapsed() < std::time::Duration::from_secs(60) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(smtp.messages().len(), 20, "one mail to the owner per case: {mails:?}");
    assert!(smtp.messages().iter().all(|m| m.to == "lead@example.com"));
    let cases = store.list_cases(&Default::default(), 100).await.unwrap();
    assert_eq!(cases.len(), 20);
    assert!(cases.iter().all(|c| c.owner_id.as_deref() == Some(b.lead.id.as_str())));
    let mut deliveries = b.calls.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 20, "one webhook call per case");
    deliveries.sort();
    deliveries.dedup();
    assert_eq!(deliveries.len(), 20);
    let jobs = store.list_jobs(None, 500).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == hark_store::JobStatus::Done && j.attempts == 1), "{jobs:?}");
}

/// Two servers share a burst of detractors and one is SIGKILLed in the middle of it. The other
/// takes over the killed one's jobs once their lease ends: every answer gets its case, its
/// owner mail and its webhook call, and only what the killed process had in hand when it died
/// may happen twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_burst_loses_no_follow_up() {
    let Some((db, smtp, store)) = postgres_and_mail().await else { return };
    let b = billing(&store).await;
    let key = api_key(&db.url);
    let args = busy_server_args(&smtp, &["--job-lease-seconds", "2"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (a, base_a, _) = serve(&db.url, &args);
    let (_b, base_b, _) = serve(&db.url, &args);
    let client = reqwest::Client::new();
    const N: usize = 80;
    for i in 0..N / 2 {
        let base = if i % 2 == 0 { &base_a } else { &base_b };
        assert_eq!(detractor(&client, base, &key, &b, i).await, 201);
    }
    a.kill();
    for i in N / 2..N {
        assert_eq!(detractor(&client, &base_b, &key, &b, i).await, 201);
    }
    let start = std::time::Instant::now();
    while !store.job_backlog().await.unwrap().is_empty() {
        assert!(start.elapsed() < std::time::Duration::from_secs(90), "{:?}", store.job_backlog().await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(store.count_responses(&Default::default()).await.unwrap(), N as i64, "every acknowledged answer");
    let cases = store.list_cases(&Default::default(), 1000).await.unwrap();
    assert_eq!(cases.len(), N, "one case per answer, never two");
    let jobs = store.list_jobs(None, 1000).await.unwrap();
    assert!(jobs.iter().all(|j| j.status == hark_store::JobStatus::Done), "{jobs:?}");
    // Each case's owner was mailed; repeats only of what the killed process had in hand.
    let mails = smtp.messages();
    let mut subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
    let total = subjects.len();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), N, "a mail for every case");
    let in_hand = 32 + 32; // jobs one process runs at once, and those it finished but had not yet marked
    assert!(total - N <= in_hand, "{} repeated mails", total - N);
    let mut deliveries = b.calls.lock().unwrap().clone();
    let calls = deliveries.len();
    deliveries.sort();
    deliveries.dedup();
    assert_eq!(deliveries.len(), N, "a webhook call for every case");
    assert!(calls - N <= in_hand, "{} repeated calls", calls - N);
}

#[tokio::test]
async fn interactions_import_onto_the_timeline_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let csv = dir.path().join("calls.csv");
    std::fs::write(
        &csv,
        "customer_id,email,type,date,agent,notes,handle_time_s,transfers\n\
         c-1,ann@example.com,call,2026-03-02 10:00,Sam,Asked about a refund,420,1\n\
         c-1,ann@example.com,Phone Call,2026-03-03,Sam,bad kind,60,0\n\
         c-2,,order,2026-03-04T09:00:00Z,,Order A-7,,\n",
    )
    .unwrap();
    let run = || hark(&db, &["import", "interactions", csv.to_str().unwrap()]);
    let first = run();
    let said = String::from_utf8_lossy(&first.stderr).to_string();
    assert_eq!(first.status.code(), Some(2), "{said}");
    assert!(said.contains("line 3: kind:") && said.contains("imported 2, already present 0, rejected 1"), "{said}");
    let again = String::from_utf8_lossy(&run().stderr).to_string();
    assert!(again.contains("imported 0, already present 2, rejected 1"), "{again}");
    let store = hark_store::Store::open(db.to_str().unwrap()).await.unwrap();
    let ann = store.contact_by_external_id("c-1").await.unwrap().unwrap();
    let calls = store.list_interactions(&ann.id, 10).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!((calls[0].kind.as_str(), calls[0].summary.as_deref()), ("call", Some("Asked about a refund")));
    assert_eq!(
        (calls[0].figures["handle_time_s"].as_i64(), calls[0].figures["transfers"].as_i64()),
        (Some(420), Some(1))
    );
    assert!(calls[0].agent_id.is_some());
}

#[tokio::test]
async fn feedback_imports_with_its_themes_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let csv = dir.path().join("reviews.csv");
    std::fs::write(
        &csv,
        "review,stars,source,customer_id,date,url\n\
         \"The courier lost my parcel, terrible\",1,review,c-1,2026-03-02,https://reviews.example/1\n\
         배송이 빠르고 직원이 친절해요,5,social,,2026-03-03,\n\
         Great,9,review,,2026-03-04,\n",
    )
    .unwrap();
    let run = || hark(&db, &["import", "feedback", csv.to_str().unwrap()]);
    let first = run();
    let said = String::from_utf8_lossy(&first.stderr).to_string();
    assert_eq!(first.status.code(), Some(2), "{said}");
    // 9 stars on the default 1–5 scale: refused by line.
    assert!(
        said.contains("line 4: rating: outside its scale")
            && said.contains("imported 2, already present 0, rejected 1"),
        "{said}"
    );
    let again = String::from_utf8_lossy(&run().stderr).to_string();
    assert!(again.contains("imported 0, already present 2, rejected 1"), "{again}");
    let store = hark_store::Store::open(db.to_str().unwrap()).await.unwrap();
    let all = store.list_feedback(&hark_store::FeedbackFilter::default(), 10).await.unwrap();
    assert_eq!(all.len(), 2);
    let korean = all.iter().find(|f| f.source == "social").unwrap();
    assert_eq!(
        (korean.themes.clone(), korean.sentiment.as_deref()),
        (vec!["delivery".to_owned(), "staff".to_owned(), "speed".to_owned()], Some("positive"))
    );
    let lost = all.iter().find(|f| f.source == "review").unwrap();
    assert_eq!((lost.rating, lost.rating_max, lost.sentiment.as_deref()), (Some(1), Some(5), Some("negative")));
    assert!(lost.contact_id.is_some());
}

/// Users from the command line: add, change role, deactivate (refused sign-in), activate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_added_changed_and_deactivated_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let out = hark(&db, &["user", "add", "--email", "kim@example.com", "--role", "agent"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bad = hark(&db, &["user", "role", "--email", "kim@example.com", "--role", "boss"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("unknown role boss"));
    assert!(hark(&db, &["user", "role", "--email", "kim@example.com", "--role", "team_lead"]).status.success());
    assert!(hark(&db, &["user", "deactivate", "--email", "kim@example.com"]).status.success());
    let missing = hark(&db, &["user", "deactivate", "--email", "nobody@example.com"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user with the email nobody@example.com"));
    let store = hark_store::Store::open(db.to_str().unwrap()).await.unwrap();
    let kim = store.list_users().await.unwrap().pop().unwrap();
    assert_eq!(kim.role, hark_store::Role::TeamLead);
    assert!(kim.deactivated_at.is_some());
    assert!(store.user_credentials("kim@example.com").await.unwrap().is_none(), "no sign-in while deactivated");
    assert!(hark(&db, &["user", "activate", "--email", "kim@example.com"]).status.success());
    assert!(store.user_credentials("kim@example.com").await.unwrap().is_some());
}

/// `hark backup` copies the database while the server takes answers: the copy opens, holds
/// every answer acknowledged before it began, and refuses to overwrite a file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_copies_a_live_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hark.db");
    let key = api_key(&db);
    let (_server, base, _) = serve(&db, &[]);
    let client = reqwest::Client::new();
    let survey = nps_survey(&client, &base, &key).await;
    for i in 0..50 {
        let r = client
            .post(format!("{base}/api/v1/responses"))
            .bearer_auth(&key)
            .header("Idempotency-Key", format!("b{i}"))
            .json(&json!({"survey_id": survey["id"], "score": i % 11}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let copy = dir.path().join("copy.db");
    let out = hark(&db, &["backup", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("backed up"));
    let again = hark(&db, &["backup", copy.to_str().unwrap()]);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let restored = hark_store::Store::open(copy.to_str().unwrap()).await.unwrap();
    assert_eq!(restored.count_responses(&Default::default()).await.unwrap(), 50);
    assert_eq!(restored.list_surveys().await.unwrap().len(), 1);
}

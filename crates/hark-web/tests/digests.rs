//! Digests by mail, through a real SMTP server: on the organisation's schedule each person
//! gets one digest of the period just ended, written for their role, in their language and
//! the organisation's zone; once, however many processes schedule it and however often they
//! restart; none for those who opted out; one on demand from the account page.

mod common;

use std::time::Duration;

use common::{Receiver, TestApp, eventually};
use hark_jobs::{DigestSchedule, Runner, RunnerConfig};
use hark_store::Role;
use hark_store::testing::Backend;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const SEOUL: &str = "Asia/Seoul";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    each_person_gets_their_digest_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    each_person_gets_their_digest_once(Backend::Postgres).await;
}

/// Another process on the same database, as far as digests go: it schedules them (Mondays at
/// 08:00 in Seoul); the app's own runner sends them.
fn scheduler(app: &TestApp) -> Runner {
    let config = RunnerConfig {
        public_url: app.base.clone(),
        idle_poll: Duration::from_secs(60),
        retry_base: Duration::from_secs(60),
        sweep_interval: Duration::from_secs(3600),
        outbound: hark_jobs::OutboundPolicy::allowing(&[]).unwrap(),
        public_cases_per_hour: 3,
        lease: RunnerConfig::DEFAULT_LEASE,
        time_zone: jiff::tz::TimeZone::get(SEOUL).unwrap(),
        digest_schedule: Some(DigestSchedule::parse("0 8 * * MON").unwrap()),
    };
    let smtp = app.smtp.as_ref().expect("a mail server");
    let mailer = hark_jobs::Mailer::new(&smtp.url(), "Hark Test <hark@test.localhost>").unwrap();
    let runner = Runner::new(app.store.clone(), app.state.signer().clone(), Some(mailer), config);
    app.state.write_digests_for(&runner);
    runner
}

async fn answer(app: &TestApp, key: &str, body: serde_json::Value) {
    let r = app.post("/api/v1/responses").header("Idempotency-Key", key).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn csrf(http: &reqwest::Client, app: &TestApp, cookie: &str) -> String {
    let page = http.get(format!("{}/account", app.base)).header("cookie", cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

async fn each_person_gets_their_digest_once(backend: Backend) {
    let zone = jiff::tz::TimeZone::get(SEOUL).unwrap();
    let Some(app) = TestApp::start_configured(backend, true, move |c| c.time_zone = zone).await else { return };
    let smtp = app.smtp.as_ref().unwrap();
    // A Slack channel that wants the digest: a line per period.
    let (slack, url) = Receiver::start(0).await;
    app.post_json("/api/v1/webhooks", &json!({"name": "Floor", "kind": "slack", "url": url, "events": ["digest"]}))
        .await;
    let survey = app
        .survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme", "agent_question": "And the agent?",
            "playbooks": {"detractor": {"open_case": false}}}))
        .await;
    let mut teams = Vec::new();
    for (team, agent) in [("North", "Ann North"), ("South", "Bo South")] {
        let t = app.post_json("/api/v1/teams", &json!({"name": team})).await;
        let a = app.post_json("/api/v1/agents", &json!({"name": agent, "team_id": t["id"]})).await;
        teams.push((t["id"].as_str().unwrap().to_owned(), a["id"].as_str().unwrap().to_owned()));
    }
    // The week of Monday 23 November 08:00 Seoul (22 Nov 23:00 UTC) to Monday 30 November:
    // North's customers are promoters, South's detractors. The Sunday evening after the week's
    // end in Seoul (Monday 09:00 there) is outside it.
    for i in 0..8 {
        let (north, south) = (&teams[0], &teams[1]);
        answer(
            &app,
            &format!("n{i}"),
            json!({"survey_id": survey, "score": 10, "agent_score": 10, "agent_id": north.1,
            "comment": format!("Ann was wonderful {i}"), "submitted_at": "2026-11-25T03:00:00Z"}),
        )
        .await;
        answer(
            &app,
            &format!("s{i}"),
            json!({"survey_id": survey, "score": 2, "agent_score": 3, "agent_id": south.1,
            "comment": format!("Bo never called back {i}"), "submitted_at": "2026-11-26T03:00:00Z"}),
        )
        .await;
    }
    answer(
        &app,
        "late",
        json!({"survey_id": survey, "score": 0, "agent_id": teams[0].1,
        "comment": "After the week", "submitted_at": "2026-11-30T00:30:00Z"}),
    )
    .await;
    let people = [
        ("admin@example.com", Role::Admin, None, None, None),
        ("exec@example.com", Role::Executive, None, None, None),
        ("lead@example.com", Role::TeamLead, Some(teams[1].0.as_str()), None, Some("ko")),
        ("ann@example.com", Role::Agent, Some(teams[0].0.as_str()), Some(teams[0].1.as_str()), Some("th")),
        ("ops@example.com", Role::Admin, None, None, None),
    ];
    let mut sessions = Vec::new();
    for (email, role, team, agent, locale) in people {
        let session = app.user_session(email, role, team, agent).await;
        let user = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == email).unwrap();
        app.store.set_user_reading(&user.id, locale, None).await.unwrap();
        sessions.push(session);
    }
    // The executive chose no language, but signs in from an Italian browser.
    let form = [("email", "exec@example.com"), ("password", "correct horse battery")];
    let italian =
        reqwest::Client::new().post(format!("{}/login", app.base)).header("accept-language", "it-IT,it;q=0.9");
    italian.form(&form).send().await.unwrap();
    let exec = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "exec@example.com").unwrap();
    assert_eq!((exec.locale, exec.seen_locale.as_deref()), (None, Some("it")));
    // ops@ opts out on the account page.
    let (http, cookie) = &sessions[4];
    let token = csrf(http, &app, cookie).await;
    let r = http.post(format!("{}/account/digest", app.base)).header("cookie", cookie).form(&[("csrf", token)]);
    let page = r.send().await.unwrap().text().await.unwrap();
    assert!(page.contains("you will get no digest"), "{page}");

    // Monday 30 November, 10:00 in Seoul: the week that ended at 08:00 is due.
    let monday: jiff::Timestamp = "2026-11-30T01:00:00Z".parse().unwrap();
    assert_eq!(scheduler(&app).schedule_digests(monday).await.unwrap(), 4, "everyone but ops@");
    let mails = smtp.wait_for(4, WAIT).await;
    // Mail bodies travel with CRLF line ends.
    let mails: Vec<_> = mails
        .into_iter()
        .map(|mut m| {
            m.text = m.text.replace("\r\n", "\n");
            m
        })
        .collect();
    let to = |email: &str| mails.iter().find(|m| m.to == email).unwrap_or_else(|| panic!("no digest for {email}"));

    let admin = to("admin@example.com");
    assert_eq!(admin.subject, "Your Hark digest: 2026-11-23 – 2026-11-30 (Asia/Seoul)");
    assert!(admin.text.contains("2026-11-23 08:00 Asia/Seoul – 2026-11-30 08:00 Asia/Seoul"), "{}", admin.text);
    assert!(admin.text.contains("Company NPS\n- +0 (95% CI") && admin.text.contains("n = 16"), "{}", admin.text);
    assert!(admin.text.contains("Closing the loop") && admin.html.contains("<h2"), "text and HTML: {}", admin.text);
    assert!(!admin.text.contains("After the week"), "the week only");
    // 8 mentions of "called back" are fewer than the 30 a theme needs to be ranked: no claim.
    assert!(admin.text.contains("What holds NPS back\n- No theme holds NPS back beyond noise."), "{}", admin.text);

    let exec = to("exec@example.com");
    assert!(exec.subject.starts_with("Il tuo riepilogo Hark: 23/11/2026"), "{}", exec.subject);
    assert!(exec.text.contains("NPS dell'azienda"), "{}", exec.text);

    let lead = to("lead@example.com");
    assert_eq!(lead.subject, "하크 요약: 2026. 11. 23. – 2026. 11. 30. (Asia/Seoul)");
    assert!(
        lead.text.contains("우리 팀 NPS\n- -100 (95% 신뢰구간") && lead.text.contains("Bo South: -100"),
        "{}",
        lead.text
    );
    assert!(lead.text.contains("> Bo never called back") && !lead.text.contains("Ann was wonderful"), "{}", lead.text);
    // The team's loop in the period, as the company digest has the company's (no case this week).
    assert!(lead.text.contains("우리 팀 케이스\n- 이 기간에 케이스 0건 생성, 0건 종료.\n- "), "{}", lead.text);

    let ann = to("ann@example.com");
    assert!(ann.subject.starts_with("สรุปจาก Hark:"), "{}", ann.subject);
    assert!(ann.text.contains("NPS พนักงานของคุณ\n- +100 (ช่วงความเชื่อมั่น 95%"), "{}", ann.text);
    assert!(
        ann.text.contains("> Ann was wonderful") && !ann.text.contains("Bo never"),
        "her promoters only: {}",
        ann.text
    );

    let calls = eventually(WAIT, || async { Some(slack.calls()).filter(|c| !c.is_empty()) }).await;
    let line: serde_json::Value = serde_json::from_str(&calls[0].1).unwrap();
    let line = line["text"].as_str().unwrap();
    assert!(line.starts_with("Hark digest 2026-11-23 – 2026-11-30 (Asia/Seoul): company NPS +0 (95% CI"), "{line}");
    assert!(line.contains("n = 16"), "{line}");

    // A restart, another process, a later sweep in the same period: nothing more.
    assert_eq!(scheduler(&app).schedule_digests(monday).await.unwrap(), 0);
    let later: jiff::Timestamp = "2026-11-30T09:00:00Z".parse().unwrap();
    assert_eq!(scheduler(&app).schedule_digests(later).await.unwrap(), 0);
    // Two processes at once for the next week: each person's digest is queued by one of them.
    let next: jiff::Timestamp = "2026-12-07T01:00:00Z".parse().unwrap();
    let (one, two) = (scheduler(&app), scheduler(&app));
    let (a, b) = tokio::join!(one.schedule_digests(next), two.schedule_digests(next));
    assert_eq!(a.unwrap() + b.unwrap(), 4);
    smtp.wait_for(8, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let all = smtp.messages();
    assert_eq!(all.len(), 8, "one each per week");
    assert!(all.iter().all(|m| m.to != "ops@example.com"), "opted out");
    assert_eq!(slack.calls().len(), 2, "the channel's line once a week");

    // On demand from the account page, opted out or not; and the preview.
    let (http, cookie) = &sessions[4];
    let token = csrf(http, &app, cookie).await;
    let r = http.post(format!("{}/account/digest/send", app.base)).header("cookie", cookie).form(&[("csrf", token)]);
    assert!(r.send().await.unwrap().text().await.unwrap().contains("on its way"));
    let asked = smtp.wait_for(9, WAIT).await;
    assert!(asked.iter().any(|m| m.to == "ops@example.com"));
    let preview =
        http.get(format!("{}/account/digest/preview", app.base)).header("cookie", cookie).send().await.unwrap();
    let preview = preview.text().await.unwrap();
    assert!(preview.contains("<h1") && preview.contains("Company NPS"), "{preview}");
}

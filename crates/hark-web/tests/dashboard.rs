//! The dashboard's figures through `/api/v1/reports/…` and the pages, on SQLite and
//! PostgreSQL: numbers with their intervals, thin segments never ranked above solid ones,
//! agents and champions, before/after an annotation, search, CSV exports, role scoping, and
//! alert rules checked by the job runner and announced by mail and webhook.

mod common;

use std::time::Duration;

use common::{Receiver, TestApp, eventually};
use hark_core::SurveyKind;
use hark_store::{ContactInput, ContactRef, NewResponse, Role};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

const WAIT: Duration = Duration::from_secs(20);
const DAY: i64 = 86_400_000;

common::on_both!(
    reports_show_intervals_and_rank_thin_segments_last,
    roles_scope_every_report_and_page,
    changes_compare_before_and_after_an_annotation,
    figures_cannot_mislead,
    figures_lead_to_their_answers,
);

/// Ann and Cy clear all agents' pooled agent NPS beyond doubt; North also holds Bo.
const CHAMPIONS_SIT: &str = "1 of the 2 champions is in North, which has 2 of the 3 ranked agents";
mod alerting {
    use super::*;
    common::on_both!(mail: a_significant_drop_raises_one_alert_by_mail_and_webhook);

    /// Alert windows are days of the organisation's zone, and the mail is written in the
    /// language its reader chose. The zone is one whose date differs from UTC's right now
    /// (a day ahead from 10:00 UTC, a day behind before), so UTC days would fail the test.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_alert_counts_the_organisation_s_days_and_mails_in_its_reader_s_language() {
        let utc_hour = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).hour();
        let name = if utc_hour >= 10 { "Pacific/Kiritimati" } else { "Pacific/Pago_Pago" };
        let zone = jiff::tz::TimeZone::get(name).unwrap();
        let backend = hark_store::testing::Backend::Sqlite;
        let org_zone = zone.clone();
        let Some(app) = TestApp::start_configured(backend, true, move |c| c.time_zone = org_zone).await else {
            return;
        };
        let smtp = app.smtp.as_ref().unwrap();
        let ops = app.store.create_user("ops@example.com", Some("Ops"), Role::Admin, "x").await.unwrap();
        app.store.set_user_reading(&ops.id, Some("th"), None).await.unwrap();
        let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
        for i in 0..120i64 {
            let recent = i >= 60;
            let score = if recent {
                if i % 3 == 0 { 9 } else { 2 }
            } else if i % 3 == 0 {
                5
            } else {
                10
            };
            let days_ago = if recent { i % 6 } else { 7 + i % 6 };
            let (comment, language, key) = ("", "en", format!("z{i}"));
            let answer = Answer {
                survey: &survey,
                key,
                score,
                agent_score: None,
                agent: None,
                days_ago,
                comment,
                language,
                wait_s: 0,
                plan: None,
            };
            store(&app, answer).await;
        }
        let rule = json!({"name": "Shop NPS falling", "survey_id": survey, "window_days": 7, "min_n": 30, "notify_email": "OPS@example.com"});
        app.post_json("/api/v1/alert-rules", &rule).await;
        let mails = smtp.wait_for(1, WAIT).await;

        let day = |zone: &jiff::tz::TimeZone| {
            hark_core::report::day_of_date(jiff::Timestamp::now().to_zoned(zone.clone()).date())
        };
        let shown = app.get_json("/api/v1/reports/alerts").await;
        let end = shown["alerts"][0]["window_end_day"].as_i64().unwrap();
        assert_eq!(end, day(&zone) + 1, "the recent window ends after today in {name}");
        assert_ne!(end, day(&jiff::tz::TimeZone::UTC) + 1, "not after today in UTC");

        assert_eq!(mails[0].subject, "การแจ้งเตือนจาก Hark: Shop NPS falling");
        let text = &mails[0].text;
        assert!(
            text.starts_with("NPS ลดจาก ") && text.contains("ช่วงความเชื่อมั่น 95% "),
            "the fall with its interval, in Thai: {text}"
        );
        assert!(text.contains("7 วันล่าสุด: 60 คำตอบ 7 วันก่อนหน้า: 60 คำตอบ"), "{text}");
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// One answer written straight to the store, so that its time can be in the past.
struct Answer<'a> {
    survey: &'a str,
    key: String,
    score: i64,
    agent_score: Option<i64>,
    agent: Option<&'a str>,
    days_ago: i64,
    comment: &'a str,
    language: &'a str,
    wait_s: i64,
    plan: Option<&'a str>,
}

async fn store(app: &TestApp, a: Answer<'_>) {
    let mut context = Map::new();
    context.insert("wait_time_s".into(), json!(a.wait_s));
    let contact = a.plan.map(|plan| {
        let mut attributes = Map::new();
        attributes.insert("plan".into(), json!(plan));
        ContactRef::Upsert(ContactInput { external_id: format!("c-{}", a.key), attributes, ..Default::default() })
    });
    let response = NewResponse {
        survey_id: a.survey.into(),
        request_hash: a.key.clone(),
        idempotency_key: a.key,
        contact,
        invitation_id: None,
        score: a.score,
        segment: SurveyKind::Nps.segment(a.score),
        comment: Some(a.comment.into()),
        answers: Map::new(),
        agent_score: a.agent_score,
        language: Some(a.language.into()),
        channel: "api".into(),
        agent_id: a.agent.map(str::to_owned),
        team_id: None,
        context,
        created_at: now() - a.days_ago * DAY - 3_600_000,
        follow_up: hark_store::FollowUp::None,
    };
    app.store.submit_response(response).await.unwrap();
}

struct Seeded {
    survey: String,
    north: String,
    south: String,
    /// Ann and Bo (North), Cy (South), Di (Tiny).
    agents: [String; 4],
}

/// Ann (North): 40 × company 9 / agent 10, Korean, plan=pro, 10 s wait.
/// Bo (North): 40 × 7 / 8. Cy (South): 35 × 3 / 9, comment "Il rimborso è LENTO", 400 s.
/// Di (Tiny): 5 × 10 / 10: perfect, but too few answers to rank.
async fn seed(app: &TestApp) -> Seeded {
    let survey = app
        .survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme",
            "agent_question": "How likely are you to recommend the agent?"}))
        .await;
    let mut teams = Vec::new();
    for name in ["North", "South", "Tiny"] {
        teams.push(app.post_json("/api/v1/teams", &json!({"name": name})).await["id"].as_str().unwrap().to_owned());
    }
    let mut agents = Vec::new();
    for (name, team) in [("Ann", 0), ("Bo", 0), ("Cy", 1), ("Di", 2)] {
        let agent = app.post_json("/api/v1/agents", &json!({"name": name, "team_id": teams[team]})).await;
        agents.push(agent["id"].as_str().unwrap().to_owned());
    }
    let plan = [
        (0, 40, 9, 10, "fine", "ko", 10, Some("pro")),
        (1, 40, 7, 8, "fine", "en", 100, None),
        (2, 35, 3, 9, "Il rimborso è LENTO", "it", 400, None),
        (3, 5, 10, 10, "fine", "en", 10, None),
    ];
    for (agent, n, score, agent_score, comment, language, wait_s, plan) in plan {
        for i in 0..n {
            let answer = Answer {
                survey: &survey,
                key: format!("a{agent}-{i}"),
                score,
                agent_score: Some(agent_score),
                agent: Some(&agents[agent]),
                days_ago: (i % 50) as i64,
                comment,
                language,
                wait_s,
                plan,
            };
            store(app, answer).await;
        }
    }
    Seeded { survey, north: teams[0].clone(), south: teams[1].clone(), agents: agents.try_into().unwrap() }
}

fn labels(rows: &Value) -> Vec<(String, Value)> {
    rows.as_array().unwrap().iter().map(|r| (r["label"].as_str().unwrap().to_owned(), r["rank"].clone())).collect()
}

async fn reports_show_intervals_and_rank_thin_segments_last(app: TestApp) {
    let s = seed(&app).await;
    let o = app.get_json("/api/v1/reports/overview?granularity=week").await;
    assert_eq!(o["nps"]["n"], 120);
    assert_eq!(o["company"], o["nps"], "an admin's view is the company's");
    let dist: Vec<i64> = o["distribution"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    assert_eq!(dist, vec![0, 0, 0, 35, 0, 0, 0, 40, 0, 40, 5]);
    // (45 promoters − 35 detractors) / 120; adjusted-Wald interval around it.
    let nps = o["nps"]["nps"].as_f64().unwrap();
    assert!((nps - 100.0 * 10.0 / 120.0).abs() < 1e-9);
    let (low, high) = (o["nps"]["interval"]["low"].as_f64().unwrap(), o["nps"]["interval"]["high"].as_f64().unwrap());
    assert!(low < nps && nps < high && high - low > 20.0, "{low} {high}");
    let trend_n: i64 = o["trend"].as_array().unwrap().iter().map(|p| p["n"].as_i64().unwrap()).sum();
    assert_eq!(trend_n, 120);
    // The answers span 40 days back from the hour before now: six or seven Monday weeks,
    // depending on today's weekday.
    let weeks: std::collections::BTreeSet<_> = (0..40)
        .map(|d| {
            let day = jiff::Timestamp::from_millisecond(now() - d * DAY - 3_600_000).unwrap();
            hark_core::report::bucket_start(
                day.to_zoned(jiff::tz::TimeZone::UTC).date(),
                hark_core::report::Granularity::Week,
            )
        })
        .collect();
    assert_eq!(o["trend"].as_array().unwrap().len(), weeks.len(), "40 days by week: {}", o["trend"]);
    assert_eq!(o["csat"]["n"], 0);
    assert!(o["method"].as_str().unwrap().contains("Rocks 2016"));

    // Filters: contact attribute, language, agent, period.
    assert_eq!(app.get_json("/api/v1/reports/overview?attr.plan=pro").await["nps"]["n"], 40);
    assert_eq!(app.get_json("/api/v1/reports/overview?attr=plan%3Dpro").await["nps"]["n"], 40);
    assert_eq!(app.get_json("/api/v1/reports/overview?language=it").await["nps"]["nps"], -100.0);
    let a = &s.agents[1];
    assert_eq!(app.get_json(&format!("/api/v1/reports/overview?agent_id={a}")).await["nps"]["nps"], 0.0);
    let recent = app.get_json("/api/v1/reports/overview?from=2000-01-01").await;
    assert_eq!(recent["nps"]["n"], 120);

    // Thin segments follow, unranked, however good they look.
    let seg = app.get_json("/api/v1/reports/segments?by=team&min_n=30").await;
    assert_eq!(
        labels(&seg["rows"]),
        vec![("North".into(), json!(1)), ("South".into(), json!(2)), ("Tiny".into(), Value::Null)]
    );
    assert_eq!(seg["rows"][2]["enough_data"], false);
    assert_eq!(seg["rows"][2]["nps"], 100.0);
    let by_lang = app.get_json("/api/v1/reports/segments?by=language&min_n=30").await;
    assert_eq!(labels(&by_lang["rows"])[0], ("ko".into(), json!(1)));
    let by_plan = app.get_json("/api/v1/reports/segments?by=attr.plan&min_n=1").await;
    assert_eq!(labels(&by_plan["rows"]), vec![("pro".into(), json!(1)), ("No plan".into(), Value::Null)]);

    // Agents: agent NPS beside company NPS; Cy's customers dislike the company, not Cy.
    let ag = app.get_json("/api/v1/reports/agents").await;
    let rows: Vec<(&str, Value, f64, f64)> = ag["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let f = |k: &str| r[k]["nps"].as_f64().unwrap();
            (r["name"].as_str().unwrap(), r["rank"].clone(), f("agent_nps"), f("company_nps"))
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("Ann", json!(1), 100.0, 100.0),
            ("Cy", json!(2), 100.0, -100.0),
            ("Bo", json!(3), 0.0, 0.0),
            ("Di", Value::Null, 100.0, 100.0)
        ]
    );
    assert_eq!(ag["ranked_agents"], 3);
    assert_eq!(ag["champion_sentence"], CHAMPIONS_SIT);
    let wait = &ag["figures"][1];
    assert_eq!(wait["property"], "wait_time_s");
    let bins: Vec<i64> = wait["bins"].as_array().unwrap().iter().map(|b| b["n"].as_i64().unwrap()).collect();
    assert_eq!(bins, vec![45, 0, 40, 0, 35, 0], "10 s, 100 s and 400 s waits in their bins");

    // Search in any case, and paging.
    let found = app.get_json("/api/v1/reports/responses?q=lento&limit=20").await;
    assert_eq!((found["total"].as_i64(), found["items"].as_array().unwrap().len()), (Some(35), 20));
    assert_eq!(found["total_exact"], true, "a search counts up to 1,000 exactly");
    assert_eq!((&found["items"][0]["agent"], &found["items"][0]["survey"]), (&json!("Cy"), &json!("Support NPS")));
    let cursor = found["next_cursor"].as_str().unwrap();
    let rest = app.get_json(&format!("/api/v1/reports/responses?q=RIMBORSO&limit=20&cursor={cursor}")).await;
    assert_eq!((rest["items"].as_array().unwrap().len(), &rest["next_cursor"]), (15, &Value::Null));

    // Bad input names the parameter.
    for (query, field) in [
        ("segments?by=shoe_size", "by"),
        ("segments?min_n=0", "min_n"),
        ("overview?from=yesterday", "from"),
        ("overview?survey_id=nope", "survey_id"),
        ("overview?colour=red", "colour"),
        ("changes?before_from=2026-01-01", "before_from"),
    ] {
        let r = app.get(&format!("/api/v1/reports/{query}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    // Documented in the OpenAPI document.
    let doc = app.get_json("/api/v1/openapi.json").await;
    for path in ["overview", "segments", "themes", "agents", "changes", "alerts", "responses"] {
        assert!(doc["paths"][format!("/api/v1/reports/{path}")]["get"].is_object(), "{path}");
    }
    let _ = s.survey;
}

async fn get_as(app: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> reqwest::Response {
    http.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap()
}

async fn json_as(app: &TestApp, http: &reqwest::Client, cookie: &str, path: &str) -> Value {
    let r = get_as(app, http, cookie, path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn roles_scope_every_report_and_page(app: TestApp) {
    let s = seed(&app).await;
    let (http, lead) = app.user_session("lead@example.com", Role::TeamLead, Some(&s.north), None).await;
    let (_, bo) = app.user_session("bo@example.com", Role::Agent, Some(&s.north), Some(&s.agents[1])).await;
    let (_, admin) = app.user_session("admin@example.com", Role::Admin, None, None).await;

    // The team lead: the company figure, and their team in detail.
    let o = json_as(&app, &http, &lead, "/api/v1/reports/overview").await;
    assert_eq!(
        (o["subject"].as_str(), o["nps"]["n"].as_i64(), o["company"]["n"].as_i64()),
        (Some("Your team"), Some(80), Some(120))
    );
    let r = get_as(&app, &http, &lead, &format!("/api/v1/reports/overview?team_id={}", s.south)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let seg = json_as(&app, &http, &lead, "/api/v1/reports/segments?by=agent").await;
    assert_eq!(labels(&seg["rows"]).into_iter().map(|(l, _)| l).collect::<Vec<_>>(), vec!["Ann", "Bo"]);
    let ag = json_as(&app, &http, &lead, "/api/v1/reports/agents").await;
    let names: Vec<&str> = ag["agents"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Ann", "Bo"], "company ranks, own team's rows");
    assert_eq!(ag["agents"][1]["rank"], 3);
    assert_eq!(ag["champion_sentence"], CHAMPIONS_SIT);
    assert_eq!(json_as(&app, &http, &lead, "/api/v1/reports/responses").await["total"], 80);
    assert_eq!(get_as(&app, &http, &lead, "/api/v1/reports/alerts").await.status(), StatusCode::OK);

    // The agent: the company figure, their own answers and their rank; nobody else's.
    let o = json_as(&app, &http, &bo, "/api/v1/reports/overview").await;
    assert_eq!(
        (o["subject"].as_str(), o["nps"]["n"].as_i64(), o["company"]["n"].as_i64()),
        (Some("You"), Some(40), Some(120))
    );
    let ag = json_as(&app, &http, &bo, "/api/v1/reports/agents").await;
    assert_eq!(ag["agents"].as_array().unwrap().len(), 1);
    assert_eq!(
        (ag["agents"][0]["name"].as_str(), &ag["your_rank"], &ag["ranked_agents"]),
        (Some("Bo"), &json!(3), &json!(3))
    );
    assert_eq!((ag["champions"].as_array().unwrap().len(), ag["champion_teams"].as_array().unwrap().len()), (0, 0));
    assert_eq!(ag["champion_sentence"], Value::Null);
    let mine = json_as(&app, &http, &bo, "/api/v1/reports/responses").await;
    assert_eq!(mine["total"], 40);
    assert!(mine["items"].as_array().unwrap().iter().all(|r| r["agent"] == "Bo"));
    for forbidden in [
        format!("/api/v1/reports/overview?agent_id={}", s.agents[0]),
        format!("/api/v1/reports/responses?team_id={}", s.south),
        "/api/v1/reports/alerts".to_string(),
        "/dashboard/monitoring".to_string(),
    ] {
        assert_eq!(get_as(&app, &http, &bo, &forbidden).await.status(), StatusCode::FORBIDDEN, "{forbidden}");
    }
    for page in ["overview", "segments", "themes", "agents", "changes", "responses"] {
        let r = get_as(&app, &http, &bo, &format!("/dashboard/{page}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        let html = r.text().await.unwrap();
        for other in ["Ann", "Cy", "Di"] {
            assert!(
                !html.contains(&format!(">{other}<")) && !html.contains(&format!("{other},")),
                "{page} shows {other}"
            );
        }
        assert!(!html.contains("href=\"/dashboard/monitoring\""), "{page} links to monitoring");
        // Responses lists answers to every survey; the reports read NPS surveys only.
        let everything = if page == "responses" { "All surveys" } else { "All NPS surveys" };
        assert!(html.contains(&format!(r#"<option value="">{everything}</option>"#)), "{page}: {everything}");
    }
    // An agent's CSV holds their own rows only.
    let csv = get_as(&app, &http, &bo, "/dashboard/responses.csv?limit=500").await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 44, "the period (a header, its row, a blank line), a header and 40 answers");

    // Without credentials: refused, or sent to sign in.
    let anon = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = anon.get(format!("{}/api/v1/reports/overview", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = anon.get(format!("{}/dashboard/agents", app.base)).send().await.unwrap();
    assert_eq!(
        (r.status(), r.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login?next=%2Fdashboard%2Fagents")
    );
    // A shared link to the dashboard keeps its filters on the way to the Overview.
    let r = anon.get(format!("{}/dashboard?team_id=t1&tz=Asia%2FSeoul", app.base)).send().await.unwrap();
    assert_eq!(
        (r.status(), r.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/dashboard/overview?team_id=t1&tz=Asia%2FSeoul")
    );
    // A session is not an API key: writing routes still want a key.
    let r = http
        .post(format!("{}/api/v1/annotations", app.base))
        .header("cookie", &admin)
        .json(&json!({"date": "2026-01-01", "label": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // The CSV is the page's table: a header and the three teams, the thin one marked.
    let csv = get_as(&app, &http, &admin, "/dashboard/segments.csv?by=team&min_n=30").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let (period, table) = csv.split_once("\n\n").unwrap();
    let period: Vec<&str> = period.lines().collect();
    assert_eq!(period[0], "section,from,to,time_zone", "first, which days of which zone: {csv}");
    assert!(period[1].starts_with("period,") && period[1].ends_with(",UTC"), "{csv}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "section,rank,segment,enough_data,n,promoters,passives,detractors,nps,ci_low,ci_high");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].starts_with("segments,1,North,true,80,40,40,0,50.0,"), "{csv}");
    assert!(lines[3].starts_with("segments,too few answers,Tiny,false,5,"), "{csv}");
    let page = get_as(&app, &http, &admin, "/dashboard/segments?by=team&min_n=30").await.text().await.unwrap();
    assert_eq!(page.matches("class=\"point").count(), 6, "one dot per row, in the wide chart and the narrow");
    assert!(page.contains("too few answers"));
}

/// Each correction of the figures that misled: partial and thin periods flagged, CSAT and
/// CES following the survey filter in their own words, answers without a team not ranked as
/// a team, whole-number bins, champions that stand out, no "Company" shown twice, and
/// out-of-scope filters refused.
async fn figures_cannot_mislead(app: TestApp) {
    let s = seed(&app).await;
    // Three answers now, through the API, with no agent and so no team; and CSAT answers.
    let csat = app.survey(json!({"name": "Delivery CSAT", "kind": "csat", "brand": "Acme"})).await;
    for (i, (survey, score)) in
        [(&s.survey, 10), (&s.survey, 9), (&s.survey, 0), (&csat, 5), (&csat, 2)].into_iter().enumerate()
    {
        let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("now-{i}"));
        let r = r.json(&json!({"survey_id": survey, "score": score, "contact": {"external_id": format!("now-{i}")}}));
        let r = r.send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    let (http, admin) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let html = |path: String| {
        let (http, admin) = (http.clone(), admin.clone());
        let app = &app;
        async move { get_as(app, &http, &admin, &path).await.text().await.unwrap() }
    };
    // The running period is flagged "so far" whatever the granularity; thin ones below min_n.
    for granularity in ["day", "week", "month"] {
        let o = app.get_json(&format!("/api/v1/reports/overview?granularity={granularity}")).await;
        let trend = o["trend"].as_array().unwrap();
        let last = trend.last().unwrap();
        assert_eq!(last["partial"], true, "{granularity}: {last}");
        assert!(trend[..trend.len() - 1].iter().all(|p| p["partial"] == false), "{granularity}: only the last");
        assert_eq!(o["min_n"], 30);
    }
    let by_day = app.get_json("/api/v1/reports/overview?granularity=day").await;
    assert!(by_day["trend"].as_array().unwrap().iter().all(|p| p["enough_data"] == false), "a few answers a day");
    let by_day = app.get_json("/api/v1/reports/overview?granularity=day&min_n=1").await;
    assert!(by_day["trend"].as_array().unwrap().iter().all(|p| p["enough_data"] == true));
    // Dates that cut a period mark it partial at either end.
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut from = today.checked_sub(jiff::Span::new().days(10)).unwrap();
    if from.day() == 1 {
        from = from.yesterday().unwrap();
    }
    let cut = app.get_json(&format!("/api/v1/reports/nps?granularity=month&from={from}")).await;
    let series = cut["series"].as_array().unwrap();
    assert_eq!(series[0]["partial"], true, "the month {from} cuts: {cut}");
    let page = html("/dashboard/overview?granularity=day".to_string()).await;
    assert!(page.contains(r#"class="point hollow""#) && page.contains(">so far<"), "drawn as such");
    assert!(page.contains("Hollow points are not whole periods"));

    // CSAT follows the survey filter and speaks its own words.
    let o = app.get_json("/api/v1/reports/overview").await;
    assert_eq!((o["csat"]["n"].as_u64(), o["csat"]["hits"].as_u64()), (Some(2), Some(1)));
    // Its card gives the share and its interval (Wilson, 9.45% to 90.55%) to the same places.
    let page = html("/dashboard/overview".to_string()).await;
    assert!(page.contains("50% (95% CI 9%\u{a0}to\u{a0}91%)"), "{page}");
    assert_eq!(o["subject"], "Company");
    assert_eq!(o["narrower"], false);
    let one = app.get_json(&format!("/api/v1/reports/overview?survey_id={}", s.survey)).await;
    assert_eq!((one["csat"]["n"].as_u64(), one["ces"]["n"].as_u64()), (Some(0), Some(0)), "an NPS survey has no CSAT");
    let page = html(format!("/dashboard/overview?survey_id={}", s.survey)).await;
    assert!(!page.contains("CSAT") && !page.contains("CES ·"), "no card for answers that are not there");
    let answers = app.get_json(&format!("/api/v1/reports/responses?survey_id={csat}")).await;
    let words: Vec<&str> =
        answers["items"].as_array().unwrap().iter().map(|r| r["segment_label"].as_str().unwrap()).collect();
    assert_eq!(words, ["unsatisfied", "satisfied"]);
    let page = html(format!("/dashboard/responses?survey_id={csat}")).await;
    assert!(
        page.contains(r#"<td data-label="Segment">satisfied</td>"#) && !page.contains(">promoter"),
        "CSAT answers are not promoters"
    );
    // The segment field speaks the words of the surveys listed: of both kinds, or of the one.
    let page = html("/dashboard/responses?segment=promoter".to_string()).await;
    assert!(page.contains(r#"<option value="promoter" selected>Promoters / Satisfied</option>"#), "{page}");
    assert!(page.contains("· Promoters / Satisfied"), "the filter line names it too");
    let page = html(format!("/dashboard/responses?survey_id={csat}&segment=promoter")).await;
    assert!(page.contains(r#"<option value="promoter" selected>Satisfied</option>"#), "{page}");
    assert!(
        page.contains(r#"<td data-label="Segment">satisfied</td>"#)
            && !page.contains("Promoters")
            && !page.contains("unsatisfied</td>")
    );
    // The NPS pages count NPS answers, and their links list those alone: a bar of 5s leaves
    // out the CSAT answer of 5.
    let page = html("/dashboard/overview".to_string()).await;
    assert!(page.contains(r#"<a href="/dashboard/responses?score=5&amp;kind=nps">"#), "{page}");
    let every_kind = app.get_json("/api/v1/reports/responses?score=5").await["total"].as_u64().unwrap();
    let nps = app.get_json("/api/v1/reports/responses?score=5&kind=nps").await["total"].as_u64().unwrap();
    assert_eq!(every_kind, nps + 1);
    let page = html("/dashboard/responses?kind=csat&segment=promoter".to_string()).await;
    assert!(page.contains("· All CSAT surveys ·") && page.contains("· Satisfied"), "{page}");
    assert!(page.contains(r#"<option value="csat" selected>CSAT</option>"#));
    let r = app.get("/api/v1/responses?kind=pulse").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["field"], "kind");
    let contact = answers["items"][1]["contact_id"].as_str().unwrap();
    let page = html(format!("/admin/contacts/{contact}")).await;
    assert!(page.contains("Answered 5 (satisfied, API)"), "the contact's timeline too: {page}");

    // "Company" once for the company; a filtered view is a selection, beside the company.
    let page = html("/dashboard/overview".to_string()).await;
    assert_eq!(
        page.matches(r#"<td class="name" data-label="Scope">Company</td>"#).count(),
        1,
        "the summary lists the company once"
    );
    assert_eq!(page.matches("NPS · Company").count(), 1);
    let o = app.get_json(&format!("/api/v1/reports/overview?team_id={}", s.north)).await;
    assert_eq!(
        (o["subject"].as_str(), &o["narrower"], o["nps"]["n"].as_u64()),
        (Some("Selection"), &json!(true), Some(80))
    );
    let page = html(format!("/dashboard/overview?team_id={}", s.north)).await;
    assert!(page.contains("NPS · Selection") && page.contains("NPS · Company"));

    // Each headline figure beside the period of the same length before it, with its test.
    let days_ago = |d: i64| today.checked_sub(jiff::Span::new().days(d)).unwrap();
    let (from, to) = (days_ago(19), days_ago(0));
    let o = app.get_json(&format!("/api/v1/reports/overview?from={from}&to={to}&team_id={}", s.north)).await;
    assert_eq!(
        (o["previous"]["from"].as_str(), o["previous"]["to"].as_str()),
        (Some(&*days_ago(39).to_string()), Some(&*days_ago(20).to_string()))
    );
    let then = app
        .get_json(&format!("/api/v1/reports/overview?from={}&to={}&team_id={}", days_ago(39), days_ago(20), s.north))
        .await;
    let change = &o["nps_change"];
    assert_eq!(
        (change["before"].as_f64(), change["after"].as_f64()),
        (then["nps"]["nps"].as_f64(), o["nps"]["nps"].as_f64())
    );
    assert_eq!(change["significant"], false, "North's mix is the same every day");
    assert_eq!(o["company_change"]["after"], o["company"]["nps"], "the company beside the selection");
    let page = html(format!("/dashboard/overview?from={from}&to={to}&team_id={}", s.north)).await;
    assert!(page.contains("vs the 20 days before (95% CI") && page.contains("within noise"), "{page}");
    let page = html("/dashboard/overview".to_string()).await;
    assert!(page.contains("too few answers, now or in the 365 days before, to compare"));
    assert_eq!(app.get_json("/api/v1/reports/overview").await["nps_change"], Value::Null, "nothing before");
    // A handful before is no base for a change either: North has 80 answers in 20 days, 4 a day.
    let thin = format!("/api/v1/reports/overview?from={from}&to={to}&team_id={}&min_n=100", s.north);
    assert_eq!(app.get_json(&thin).await["nps_change"], Value::Null, "fewer than min_n on one side");
    for report in ["segments", "agents"] {
        let r = app.get_json(&format!("/api/v1/reports/{report}?from={from}&to={to}")).await;
        let change = &r["company_change"];
        assert_eq!(
            (&change["before"], &change["after"]),
            (&o["company_change"]["before"], &r["company"]["nps"]),
            "{report}"
        );
    }

    // Answers without a team are shown as such and never ranked, however many.
    let seg = app.get_json("/api/v1/reports/segments?by=team&min_n=1").await;
    assert_eq!(
        labels(&seg["rows"]),
        vec![
            ("Tiny".into(), json!(1)),
            ("North".into(), json!(2)),
            ("South".into(), json!(3)),
            ("No team".into(), Value::Null)
        ]
    );
    assert_eq!(seg["rows"][3]["enough_data"], true);
    let page = html("/dashboard/segments?by=team&min_n=1".to_string()).await;
    assert!(
        page.contains(
            r#"<td class="rank" data-label="Rank">not ranked</td><td class="name" data-label="Segment">No team</td>"#
        ),
        "{page}"
    );

    // Whole-number bins are whole numbers; thin bins are flagged.
    let ag = app.get_json("/api/v1/reports/agents").await;
    let transfers = &ag["figures"][2];
    let bins: Vec<&str> = transfers["bins"].as_array().unwrap().iter().map(|b| b["label"].as_str().unwrap()).collect();
    assert_eq!(bins, ["0", "1", "2", "3+"]);
    let wait: Vec<(u64, bool)> = ag["figures"][1]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["n"].as_u64().unwrap(), b["enough_data"].as_bool().unwrap()))
        .collect();
    assert_eq!(wait, [(45, true), (0, false), (40, true), (0, false), (35, true), (0, false)]);

    // Champions stand out from all agents pooled, beyond their interval; where they sit is
    // told beside each team's share of ranked agents.
    let names: Vec<&str> = ag["champions"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Ann", "Cy"], "Bo, at the agents' level, is no champion; Di has too few answers");
    let bar = ag["champion_bar"]["nps"].as_f64().unwrap();
    assert!((bar - 100.0 * 80.0 / 120.0).abs() < 1e-9, "{bar}");
    assert_eq!(ag["champion_teams"][0], json!({"team": "North", "champions": 1, "agents": 2}));
    assert_eq!(ag["champion_sentence"], CHAMPIONS_SIT);

    // Out of scope is refused, not answered with empty tables.
    let (http, lead) = app.user_session("lead@example.com", Role::TeamLead, Some(&s.north), None).await;
    let cy = &s.agents[2];
    for path in ["overview", "segments?by=agent", "agents", "responses", "changes"] {
        let path = format!("/api/v1/reports/{path}{}agent_id={cy}", if path.contains('?') { "&" } else { "?" });
        assert_eq!(get_as(&app, &http, &lead, &path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = get_as(&app, &http, &lead, &format!("/dashboard/agents?agent_id={cy}")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let ann = &s.agents[0];
    let own = json_as(&app, &http, &lead, &format!("/api/v1/reports/overview?agent_id={ann}")).await;
    assert_eq!(own["nps"]["n"], 40, "their own team's agent");
    // An agent's answers split by team would show her own score as her team's.
    let (_, bo) = app.user_session("bo@example.com", Role::Agent, Some(&s.north), Some(&s.agents[1])).await;
    for by in ["team", "agent"] {
        let r = get_as(&app, &http, &bo, &format!("/api/v1/reports/segments?by={by}")).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{by}");
    }
    let seg = json_as(&app, &http, &bo, "/api/v1/reports/segments").await;
    assert_eq!(seg["by"], "channel");
    let page = get_as(&app, &http, &bo, "/dashboard/segments").await.text().await.unwrap();
    assert!(!page.contains(r#"<option value="team""#) && !page.contains(r#"<option value="agent""#));
    let r = get_as(&app, &http, &lead, "/api/v1/reports/segments?by=team").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a team lead's one team is not a ranking");
}

/// The first link on `page` after `marker`, unescaped, as its API route.
fn link_after(page: &str, marker: &str) -> String {
    let rest = &page[page.find(marker).unwrap_or_else(|| panic!("{marker} in {page}"))..];
    let start = rest.find("href=\"").unwrap() + 6;
    let href = rest[start..start + rest[start..].find('"').unwrap()].replace("&amp;", "&").replace("&#38;", "&");
    href.replace("/dashboard/responses", "/api/v1/reports/responses")
}

/// A score bar, a trend point, a segment row and an agent lead to the answers behind them,
/// and each answer to its case and contact.
async fn figures_lead_to_their_answers(app: TestApp) {
    let s = seed(&app).await;
    let (http, admin) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let page = get_as(&app, &http, &admin, "/dashboard/overview?granularity=week").await.text().await.unwrap();
    // A score bar: Di's five 10s.
    assert!(page.contains(r#"<a href="/dashboard/responses?score=10&amp;kind=nps"><rect class="bar""#), "{page}");
    assert_eq!(app.get_json("/api/v1/reports/responses?score=10").await["total"], 5);
    // Its list says which score it holds, in a field that can change or clear it.
    let list = get_as(&app, &http, &admin, "/dashboard/responses?score=10&kind=nps").await.text().await.unwrap();
    assert!(list.contains(r#"<option value="10" selected>10</option>"#) && list.contains("· score 10"), "{list}");
    assert!(!list.contains(r#"type="hidden" name="score""#), "not kept a second time, out of sight");
    // The first week of the trend: its answers, as many as the point's n.
    let o = app.get_json("/api/v1/reports/overview?granularity=week").await;
    let first = link_after(&page, r#"data-table="trend""#);
    assert!(first.contains("from=") && first.contains("to="), "{first}");
    assert_eq!(app.get_json(&first).await["total"], o["trend"][0]["n"], "{first}");
    assert!(page.contains(r#"<a href="/dashboard/responses?from="#) && page.contains(r#"<circle class="point"#));
    // A segment row and an agent.
    let page = get_as(&app, &http, &admin, "/dashboard/segments?by=team").await.text().await.unwrap();
    let north = link_after(&page, r#"<td class="rank" data-label="Rank">1</td>"#);
    assert_eq!(north, format!("/api/v1/reports/responses?team_id={}&kind=nps", s.north));
    assert_eq!(app.get_json(&north).await["total"], 80);
    let page = get_as(&app, &http, &admin, "/dashboard/agents").await.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"<a href="/dashboard/responses?agent_id={}&#38;kind=nps">Ann</a>"#, s.agents[0])),
        "{page}"
    );
    // An answer with a case leads to it, and to its contact.
    let answer = &app.get_json("/api/v1/reports/responses?attr.plan=pro&limit=1").await["items"][0];
    let contact = answer["contact_id"].as_str().unwrap();
    let new_case = hark_store::testing::case_for(answer["id"].as_str().unwrap(), &s.survey, Some(contact));
    let (case, _) = app.store.open_case(&new_case).await.unwrap();
    let page = get_as(&app, &http, &admin, "/dashboard/responses?attr.plan=pro&limit=1").await.text().await.unwrap();
    assert!(page.contains(&format!(r#"<a href="/admin/cases/{}">open</a>"#, case.id)), "{page}");
    assert!(page.contains(&format!(r#"<a href="/admin/contacts/{contact}">"#)));
    let found = app.get_json("/api/v1/reports/responses?attr.plan=pro&limit=1").await;
    assert_eq!(
        (found["items"][0]["case_id"].as_str(), found["items"][0]["case_status"].as_str()),
        (Some(&*case.id), Some("open"))
    );
    // A team lead sees the case link but no contact page, which is for admins.
    let (_, lead) = app.user_session("lead@example.com", Role::TeamLead, Some(&s.north), None).await;
    let page = get_as(&app, &http, &lead, "/dashboard/responses?attr.plan=pro&limit=1").await.text().await.unwrap();
    assert!(page.contains(&format!("/admin/cases/{}", case.id)) && !page.contains("/admin/contacts/"));
    // A score that is not one is refused by name.
    let r = app.get("/api/v1/reports/responses?score=11").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["errors"][0]["field"], "score");
}

async fn changes_compare_before_and_after_an_annotation(app: TestApp) {
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    // 200 answers spread over 11–39 days ago at NPS 0, then 200 in the last 10 days at +40.
    for i in 0..400i64 {
        let before = i < 200;
        let score = match (before, i % 5) {
            (true, 0 | 1) => 10,
            (true, 2 | 3) => 3,
            (true, _) => 8,
            (false, 0..=2) => 9,
            (false, 3) => 2,
            (false, _) => 7,
        };
        let days_ago = if before { 11 + i % 29 } else { i % 10 };
        let answer = Answer {
            survey: &survey,
            key: format!("c{i}"),
            score,
            agent_score: None,
            agent: None,
            days_ago,
            comment: "",
            language: "en",
            wait_s: 0,
            plan: None,
        };
        store(&app, answer).await;
    }
    let launch = hark_core::report::format_ms(now() - 10 * DAY);
    let note = app
        .post_json("/api/v1/annotations", &json!({"date": launch, "label": "launched live chat", "survey_id": survey}))
        .await;
    let id = note["id"].as_str().unwrap();
    let c = app.get_json(&format!("/api/v1/reports/changes?survey_id={survey}&annotation_id={id}")).await;
    let cmp = &c["comparison"];
    assert_eq!((cmp["before"]["nps"].as_f64(), cmp["after"]["nps"].as_f64()), (Some(0.0), Some(40.0)));
    assert_eq!(cmp["change"]["significant"], true);
    let sentence = cmp["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("NPS rose from 0 to 40 (+40, 95% CI +") && sentence.ends_with("): a real change"),
        "{sentence}"
    );
    assert!(cmp["method"].as_str().unwrap().contains("z test"));
    // Asked for nothing, the report compares around the latest annotation.
    let latest = app.get_json(&format!("/api/v1/reports/changes?survey_id={survey}")).await["comparison"].clone();
    assert_eq!(latest, *cmp, "the latest annotation by default");
    assert_eq!(cmp["annotation_id"], id);
    // The annotation is drawn on the trend.
    assert_eq!(
        app.get_json(&format!("/api/v1/reports/overview?survey_id={survey}")).await["annotations"][0]["label"],
        "launched live chat"
    );

    // Two periods of the same kind: no change to speak of.
    let (a, b) = (hark_core::report::format_ms(now() - 40 * DAY), hark_core::report::format_ms(now() - 26 * DAY));
    let (c2, d) = (hark_core::report::format_ms(now() - 25 * DAY), hark_core::report::format_ms(now() - 11 * DAY));
    let q = format!("survey_id={survey}&before_from={a}&before_to={b}&after_from={c2}&after_to={d}");
    let same = app.get_json(&format!("/api/v1/reports/changes?{q}")).await;
    assert!(same["comparison"]["sentence"].as_str().unwrap().ends_with("not distinguishable from noise"), "{same}");
    // Windows thinner than min_n are not compared, and the sentence says why.
    let thin = app.get_json(&format!("/api/v1/reports/changes?{q}&min_n=1000")).await;
    assert_eq!(thin["comparison"]["change"], Value::Null);
    let said = thin["comparison"]["sentence"].as_str().unwrap();
    assert!(said.starts_with("Too few answers to compare: each period needs at least 1000 (before: "), "{said}");
    assert_eq!(thin["comparison"]["min_n"], 1000);

    // A bad annotation is refused by name and nothing is stored.
    let r = app.post("/api/v1/annotations").json(&json!({"date": "soon", "label": ""})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["date", "label"]);
    assert_eq!(app.store.list_annotations(None).await.unwrap().len(), 1);

    // The page says it in words, and an agent may read but not annotate.
    let (http, admin) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    for query in [format!("survey_id={survey}&annotation_id={id}"), String::new()] {
        let html = get_as(&app, &http, &admin, &format!("/dashboard/changes?{query}")).await.text().await.unwrap();
        assert!(html.contains("a real change") && html.contains("z test"), "the sentence and the test are on the page");
        assert!(html.contains(&format!(r#"<option value="{id}" selected"#)), "the annotation compared is chosen");
    }
    // Too few to compare: the page names the fewest answers it takes, not just "the minimum".
    let html = get_as(&app, &http, &admin, &format!("/dashboard/changes?{q}&min_n=1000")).await.text().await.unwrap();
    assert!(
        html.contains("each period needs at least 1,000 (before: ")
            || html.contains("each period needs at least 1000 (before: "),
        "{html}"
    );
    let (_, agent) = app.user_session("agent@example.com", Role::Agent, None, None).await;
    let r = http
        .post(format!("{}/dashboard/annotations", app.base))
        .header("cookie", &agent)
        .form(&[("date", "2026-01-01"), ("label", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

async fn a_significant_drop_raises_one_alert_by_mail_and_webhook(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (receiver, url) = Receiver::start(0).await;
    app.post_json("/api/v1/webhooks", &json!({"name": "Ops", "kind": "generic", "url": url, "events": ["alert"]}))
        .await;
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    // Happy 7–12 days ago, unhappy in the last 6 days.
    for i in 0..120i64 {
        let recent = i >= 60;
        let answer = Answer {
            survey: &survey,
            key: format!("d{i}"),
            score: if recent {
                if i % 3 == 0 { 9 } else { 2 }
            } else if i % 3 == 0 {
                5
            } else {
                10
            },
            agent_score: None,
            agent: None,
            days_ago: if recent { i % 6 } else { 7 + i % 6 },
            comment: "",
            language: "en",
            wait_s: 0,
            plan: None,
        };
        store(&app, answer).await;
    }
    let bad = app
        .post("/api/v1/alert-rules")
        .json(&json!({"name": "", "window_days": 0, "notify_email": "nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let rule = app
        .post_json(
            "/api/v1/alert-rules",
            &json!({"name": "Shop NPS falling", "survey_id": survey, "window_days": 7, "min_n": 30, "notify_email": "ops@example.com"}),
        )
        .await;
    // The runner's sweep (every 200 ms here) raises it once, however often it runs.
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!((mails[0].to.as_str(), mails[0].subject.as_str()), ("ops@example.com", "Hark alert: Shop NPS falling"));
    assert!(
        mails[0].text.contains("NPS fell from +33") || mails[0].text.contains("NPS fell from 33"),
        "{}",
        mails[0].text
    );
    assert!(mails[0].text.contains("a real change"), "{}", mails[0].text);
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| !c.is_empty()) }).await;
    assert_eq!(calls[0].0["x-hark-event"], "alert");
    let payload: Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(payload["data"]["rule"]["id"], rule["id"]);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let shown = app.get_json("/api/v1/reports/alerts").await;
    assert_eq!(shown["alerts"].as_array().unwrap().len(), 1);
    assert_eq!((smtp.messages().len(), receiver.calls().len()), (1, 1), "announced once");
    assert_eq!(shown["alerts"][0]["detail"]["change"]["significant"], true);
}

//! The API through real HTTP on loopback, on SQLite and (with HARK_TEST_POSTGRES_URL) on
//! PostgreSQL.

use std::sync::Arc;

use hark_core::NpsCounts;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;

use common::TestApp;

common::on_both!(
    concurrent_posts_and_retries_count_once,
    bad_input_is_refused_by_name_and_stores_nothing,
    requests_without_a_valid_key_are_refused,
    idempotency_key_reuse_with_other_content_is_a_conflict,
    responses_list_filters_and_pages,
    contacts_upsert_export_and_erase,
    openapi_document_lists_every_route,
);

async fn concurrent_posts_and_retries_count_once(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let mut rng = fastrand_like(7);
    let bodies: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"survey_id": survey, "score": rng() % 11, "comment": format!("answer {i}"),
                   "team_id": if i % 3 == 0 { team["id"].clone() } else { Value::Null },
                   "contact": {"external_id": format!("c{}", i % 300), "attributes": {"plan": if i % 2 == 0 { "pro" } else { "free" }}}})
        })
        .collect();
    let app = Arc::new(app);
    let post_all = |expect: StatusCode| {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, body) in bodies.iter().enumerate() {
            let (app, body) = (app.clone(), body.clone());
            tasks.spawn(async move {
                let r = app
                    .post("/api/v1/responses")
                    .header("Idempotency-Key", format!("k-{i}"))
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), expect, "{}", r.text().await.unwrap());
            });
        }
        tasks.join_all()
    };
    post_all(StatusCode::CREATED).await;
    post_all(StatusCode::OK).await;
    assert_eq!(app.count().await, 1000);

    let expected = NpsCounts::from_scores(bodies.iter().map(|b| b["score"].as_i64().unwrap())).summary();
    let report: Value = app.get_json("/api/v1/reports/nps").await;
    assert_eq!(report["overall"], serde_json::to_value(expected).unwrap());
    // Filters: the team's third and the `pro` half, computed from the inputs too.
    let team_scores = bodies.iter().filter(|b| b["team_id"] == team["id"]).map(|b| b["score"].as_i64().unwrap());
    let team_report: Value =
        app.get_json(&format!("/api/v1/reports/nps?team_id={}", team["id"].as_str().unwrap())).await;
    assert_eq!(team_report["overall"]["n"], json!(NpsCounts::from_scores(team_scores).n()));
    let pro: Value = app.get_json("/api/v1/reports/nps?attr.plan=pro&granularity=day").await;
    assert_eq!(pro["overall"]["n"], json!(500));
}

/// A small deterministic generator so the test needs no RNG crate.
fn fastrand_like(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

async fn bad_input_is_refused_by_name_and_stores_nothing(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let ok = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "first")
        .json(&json!({"survey_id": survey, "score": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let huge = "x".repeat(1_000_000);
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "score 11",
            app.post("/api/v1/responses").json(&json!({"survey_id": survey, "score": 11})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "score -1",
            app.post("/api/v1/responses").json(&json!({"survey_id": survey, "score": -1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "score",
        ),
        (
            "missing survey",
            app.post("/api/v1/responses").json(&json!({"survey_id": "nope", "score": 5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "survey_id",
        ),
        (
            "unknown field",
            app.post("/api/v1/responses").json(&json!({"survey_id": survey, "score": 5, "rating_x": 1})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "rating_x",
        ),
        (
            "unknown question type",
            app.post("/api/v1/surveys").json(&json!({"name": "S", "kind": "nps", "brand": "B",
            "questions": [{"id": "q", "type": "slider", "text": "?"}]})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "questions[0].type",
        ),
        (
            "1 MB comment",
            app.post("/api/v1/responses").json(&json!({"survey_id": survey, "score": 5, "comment": huge})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "comment",
        ),
        (
            "malformed JSON",
            app.post("/api/v1/responses").header("content-type", "application/json").body("{\"survey_id\": "),
            StatusCode::BAD_REQUEST,
            "JSON",
        ),
        (
            "invalid UTF-8",
            app.post("/api/v1/responses")
                .header("content-type", "application/json")
                .body(b"{\"survey_id\": \"\xff\xfe\", \"score\": 5}".to_vec()),
            StatusCode::BAD_REQUEST,
            "JSON",
        ),
        (
            "no idempotency key",
            app.post("/api/v1/responses").json(&json!({"survey_id": survey, "score": 5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key",
        ),
        ("not JSON", app.post("/api/v1/responses").body("score=5"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON"),
        (
            "too large",
            app.post("/api/v1/responses")
                .header("content-type", "application/json")
                .body(vec![b' '; hark_web::BODY_LIMIT + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
        ),
        ("bad filter", app.get("/api/v1/reports/nps?from=yesterday"), StatusCode::UNPROCESSABLE_ENTITY, "from"),
        ("unknown filter", app.get("/api/v1/reports/nps?colour=red"), StatusCode::UNPROCESSABLE_ENTITY, "colour"),
    ];
    for (name, request, status, names) in cases {
        let keyed = if name == "no idempotency key" {
            request
        } else {
            request.header("Idempotency-Key", format!("bad-{name}"))
        };
        let r = keyed.send().await.unwrap();
        assert_eq!(r.status(), status, "{name}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{name}");
        let problem: Value = r.json().await.unwrap();
        assert!(problem["type"].as_str().unwrap().starts_with("/problems/"), "{name}: {problem}");
        assert!(problem.to_string().contains(names), "{name}: {problem} should name {names}");
    }
    assert_eq!(app.count().await, 1, "nothing but the first good answer is stored");
    assert_eq!(app.store.list_surveys().await.unwrap().len(), 1);
}

async fn requests_without_a_valid_key_are_refused(app: TestApp) {
    let url = format!("{}/api/v1/surveys", app.base);
    for auth in [
        None,
        Some("Bearer nonsense"),
        Some("Bearer hark_000000000000_0000000000000000000000000000000000000000000000000000000000000000"),
    ] {
        let mut r = app.client.get(&url);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    // A key with the right id but a wrong secret is refused too.
    let id = &app.key[5..17];
    let forged = format!("Bearer hark_{id}_{}", "a".repeat(64));
    assert_eq!(
        app.client.get(&url).header("authorization", forged).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.client.get(format!("{}/healthz", app.base)).send().await.unwrap().status(), StatusCode::OK);
    // No route returns a secret hash or a password hash.
    app.store
        .create_user("a@example.com", None, hark_store::Role::Admin, &hark_core::auth::hash_password("long enough pw"))
        .await
        .unwrap();
    for path in [
        "/api/v1/surveys",
        "/api/v1/contacts",
        "/api/v1/teams",
        "/api/v1/agents",
        "/api/v1/responses",
        "/api/v1/openapi.json",
    ] {
        let body = app.get(path).send().await.unwrap().text().await.unwrap();
        assert!(!body.contains("argon2") && !body.contains("secret_hash") && !body.contains("password_hash"), "{path}");
    }
}

async fn idempotency_key_reuse_with_other_content_is_a_conflict(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let send = |score: i64| {
        app.post("/api/v1/responses")
            .json(&json!({"survey_id": survey, "score": score, "idempotency_key": "same"}))
            .send()
    };
    assert_eq!(send(9).await.unwrap().status(), StatusCode::CREATED);
    let r = send(2).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("same"));
    assert_eq!(app.count().await, 1);
}

async fn responses_list_filters_and_pages(app: TestApp) {
    let survey =
        app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "agent_question": "And the agent?"})).await;
    let team = app.post_json("/api/v1/teams", &json!({"name": "Support"})).await;
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Mina", "team_id": team["id"]})).await;
    for i in 0..12 {
        let body = json!({"survey_id": survey, "score": i % 11, "agent_id": if i < 4 { agent["id"].clone() } else { Value::Null },
            "agent_score": if i < 4 { json!(10) } else { Value::Null },
            "submitted_at": format!("2026-0{}-15T10:00:00Z", 1 + i % 3), "channel": "email"});
        let r =
            app.post("/api/v1/responses").header("Idempotency-Key", format!("l{i}")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    }
    let mut seen = 0;
    let mut url = "/api/v1/responses?limit=5".to_string();
    loop {
        let page: Value = app.get_json(&url).await;
        seen += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/responses?limit=5&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, 12);
    let by_team: Value = app.get_json(&format!("/api/v1/responses?team_id={}", team["id"].as_str().unwrap())).await;
    assert_eq!(by_team["items"].as_array().unwrap().len(), 4, "team comes from the agent");
    let feb: Value = app.get_json("/api/v1/reports/nps?from=2026-02-01&to=2026-02-28&granularity=month").await;
    assert_eq!(feb["overall"]["n"], json!(4));
    assert_eq!(feb["series"][0]["period_start"], json!("2026-02-01"));
    let detractors: Value = app.get_json("/api/v1/responses?segment=detractor").await;
    assert!(detractors["items"].as_array().unwrap().iter().all(|r| r["score"].as_i64().unwrap() <= 6));
}

async fn contacts_upsert_export_and_erase(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let c: Value = app
        .post("/api/v1/contacts")
        .json(&json!({"external_id": "u1", "email": "u1@example.com", "locale": "ko"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = c["id"].as_str().unwrap();
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "c1")
        .json(&json!({"survey_id": survey, "score": 3, "contact_id": id, "comment": "배송이 늦었어요"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let note = app
        .post(&format!("/api/v1/contacts/{id}/notes"))
        .json(&json!({"author": "Mina", "body": "Called, apologised"}))
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), StatusCode::CREATED);
    let export: Value = app.get_json(&format!("/api/v1/contacts/{id}/export")).await;
    assert_eq!(export["responses"][0]["comment"], json!("배송이 늦었어요"));
    assert_eq!(export["notes"].as_array().unwrap().len(), 1);
    let del =
        app.client.delete(format!("{}/api/v1/contacts/{id}", app.base)).bearer_auth(&app.key).send().await.unwrap();
    assert_eq!(del.status(), StatusCode::OK);
    let erased: Value = del.json().await.unwrap();
    assert_eq!(
        (erased["answers_anonymised"].as_i64(), erased["notes_deleted"].as_i64()),
        (Some(1), Some(1)),
        "{erased}"
    );
    assert_eq!(app.get(&format!("/api/v1/contacts/{id}")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let report: Value = app.get_json("/api/v1/reports/nps").await;
    assert_eq!(report["overall"]["detractors"], json!(1), "the anonymous score still counts");
}

async fn openapi_document_lists_every_route(app: TestApp) {
    let doc: Value =
        app.client.get(format!("{}/api/v1/openapi.json", app.base)).send().await.unwrap().json().await.unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/surveys",
        "/api/v1/responses",
        "/api/v1/contacts/{id}",
        "/api/v1/reports/nps",
        "/api/v1/teams",
        "/api/v1/agents",
    ] {
        assert!(paths.contains_key(p), "{p} missing from {:?}", paths.keys());
    }
    assert!(doc["components"]["schemas"]["ResponseInput"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    // A write may find the database busy; a read never waits for a turn.
    let responses = &doc["paths"]["/api/v1/responses"];
    assert!(responses["post"]["responses"]["503"]["headers"]["Retry-After"].is_object(), "{}", responses["post"]);
    assert!(responses["get"]["responses"].get("503").is_none());
}

/// "Personal links only (you deliver them)": the link is on the contact's page for the admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_personal_link_is_shown_on_the_contact_page() {
    let Some(app) = TestApp::start(hark_store::testing::Backend::Sqlite).await else { return };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let invitation = app.link_invitation(&survey, json!({"external_id": "p1", "email": "p1@example.com"})).await;
    let link = invitation["link"].as_str().unwrap().to_owned();
    let (admin, cookie) = app.user_session("admin@example.com", hark_store::Role::Admin, None, None).await;
    let page = admin
        .get(format!("{}/admin/contacts/{}", app.base, invitation["contact_id"].as_str().unwrap()))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains(&link), "the link to deliver is on the page");
}

/// The contact page reads as people write: attributes without JSON's quotes, keys as
/// headings, yes and no in words, the language by its name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_page_shows_attributes_as_written() {
    let Some(app) = TestApp::start(hark_store::testing::Backend::Sqlite).await else { return };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let contact = json!({"external_id": "kr1", "locale": "ko",
        "attributes": {"country": "KR", "seats": 12, "trial": false, "note": "said \"hi\""}});
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "kr1")
        .json(&json!({"survey_id": survey, "score": 9, "contact": contact}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let id = r.json::<Value>().await.unwrap()["contact_id"].as_str().unwrap().to_owned();
    let (admin, cookie) = app.user_session("admin@example.com", hark_store::Role::Admin, None, None).await;
    let page = admin.get(format!("{}/admin/contacts/{id}", app.base)).header("cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    let cells = [
        "<th>Country</th><td>KR</td>",
        "<th>Seats</th><td>12</td>",
        "<th>Trial</th><td>no</td>",
        "<th>Note</th><td>said &#34;hi&#34;</td>",
        "<td>한국어 (ko)</td>",
    ];
    for cell in cells {
        assert!(page.contains(cell), "{cell} in {page}");
    }
    assert!(!page.contains("&#34;KR&#34;"), "no JSON quotes: {page}");
}

/// Without a mail server a reply is refused, recorded as failed (never as sent), and the case
/// page says so before anyone writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_mail_server_a_reply_is_refused_and_recorded_as_failed() {
    let Some(app) = TestApp::start(hark_store::testing::Backend::Sqlite).await else { return };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "nm-1")
        .json(&json!({"survey_id": survey, "score": 2, "contact": {"external_id": "nm", "email": "nm@example.com"}}))
        .send()
        .await
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    let new_case =
        hark_store::testing::case_for(answer["id"].as_str().unwrap(), &survey, answer["contact_id"].as_str());
    let (case, _) = app.store.open_case(&new_case).await.unwrap();
    let (admin, cookie) = app.user_session("admin@example.com", hark_store::Role::Admin, None, None).await;
    let page = admin.get(format!("{}/admin/cases/{}", app.base, case.id)).header("cookie", &cookie).send();
    let html = page.await.unwrap().text().await.unwrap();
    assert!(html.contains("id=\"no-mail\"") && html.contains("id=\"send-reply\" disabled"), "{html}");
    let reply = json!({"action": "reply", "subject": "Sorry", "body": "We are on it"});
    let refused = app.post(&format!("/api/v1/cases/{}/actions", case.id)).json(&reply).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("no mail server"), "{problem}");
    let after = app.get_json(&format!("/api/v1/cases/{}", case.id)).await;
    assert_eq!((after["case"]["status"].as_str(), after["case"]["first_contact_at"].is_null()), (Some("open"), true));
    // The message is kept, marked as never sent.
    let reply = after["history"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap();
    assert_eq!(
        (reply["detail"]["state"].as_str(), reply["detail"]["body"].as_str()),
        (Some("failed"), Some("We are on it"))
    );

    // The send page: email is refused (it used to say "Queued for mail: 1"), links still work.
    app.post_json(
        "/api/v1/contacts",
        &json!({"external_id": "fresh", "email": "f@example.com", "attributes": {"plan": "x"}}),
    )
    .await;
    let send = format!("{}/admin/surveys/{survey}/send", app.base);
    let page = admin.get(&send).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"no-mail\""), "{page}");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    for (channel, status, says) in [
        ("email", StatusCode::UNPROCESSABLE_ENTITY, "No mail server is configured"),
        ("link", StatusCode::OK, "links made: <strong>1</strong>"),
    ] {
        let r = admin.post(&send).header("cookie", &cookie).form(&[
            ("csrf", csrf.as_str()),
            ("channel", channel),
            ("segment", ""),
        ]);
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), status, "{channel}");
        let html = r.text().await.unwrap();
        assert!(html.contains(says), "{channel}: {html}");
        if channel == "link" {
            // The link made is listed on the page, and in the survey's CSV of unanswered links.
            let link =
                html.split("<table id=\"links\" class=\"records\">").nth(1).unwrap().split("<code>").nth(1).unwrap();
            let link = link.split("</code>").next().unwrap().to_owned();
            assert!(link.starts_with(&format!("{}/s/i", app.base)) && html.contains("f@example.com"), "{html}");
            let csv_url = format!("{}/admin/surveys/{survey}/links.csv", app.base);
            let csv = admin.get(&csv_url).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
            let csv = csv.text().await.unwrap();
            assert!(
                csv.starts_with("contact,email,link,made\n") && csv.contains(&format!("fresh,f@example.com,{link},")),
                "{csv}"
            );
            // Once answered, a link leaves the list.
            let token = link.rsplit('/').next().unwrap();
            let answered =
                app.client.post(format!("{}/s/{token}", app.base)).form(&[("score", "9")]).send().await.unwrap();
            assert!(answered.status().is_success(), "{}", answered.status());
            let csv = admin.get(&csv_url).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
            assert!(!csv.contains(&link), "{csv}");
        }
    }
    assert!(app.store.list_jobs(None, 50).await.unwrap().iter().all(|j| j.kind != hark_store::SEND_INVITATION_JOB));
}

/// `/metrics` is Prometheus text behind an API key, and its counters move with the work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_and_move_with_the_work() {
    let Some(app) = TestApp::start_with(hark_store::testing::Backend::Sqlite, true).await else { return };
    assert_eq!(
        app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let scrape = || async {
        let r = app.get("/metrics").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        r.text().await.unwrap()
    };
    // The value of one series (0 if absent); the process's other tests may add to it too.
    let value = |text: &str, series: &str| -> f64 {
        text.lines().find(|l| l.starts_with(series)).map_or(0.0, |l| l.rsplit(' ').next().unwrap().parse().unwrap())
    };
    let before = scrape().await;
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    // Promoters with an address: each is thanked by a mail job.
    for i in 0..3 {
        let contact = json!({"external_id": format!("m{i}"), "email": format!("m{i}@example.com")});
        let r = app
            .post("/api/v1/responses")
            .header("Idempotency-Key", format!("m{i}"))
            .json(&json!({"survey_id": survey, "score": 10, "contact": contact}));
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    common::eventually(std::time::Duration::from_secs(20), || async {
        app.store.job_backlog().await.unwrap().is_empty().then_some(())
    })
    .await;
    let after = scrape().await;
    for line in after.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let (series, number) = line.rsplit_once(' ').unwrap();
        assert!(number.parse::<f64>().is_ok() && series.starts_with("hark_"), "not Prometheus text: {line}");
    }
    let answers = "hark_answers_total{new=\"true\"}";
    assert!(value(&after, answers) >= value(&before, answers) + 3.0, "{after}");
    let created = "hark_http_requests_total{method=\"POST\",route=\"/api/v1/responses\",status=\"201\"}";
    assert!(value(&after, created) >= value(&before, created) + 3.0, "{after}");
    let mails = "hark_jobs_total{kind=\"case_mail\",outcome=\"done\"}";
    assert!(value(&after, mails) >= value(&before, mails) + 3.0, "{after}");
    let waiting = "hark_jobs_waiting{kind=\"playbook\"} ";
    assert!(after.lines().any(|l| l.starts_with(waiting) && l.ends_with(" 0")), "the queue depth, drained: {after}");
    assert!(after.contains("hark_http_request_duration_seconds_bucket{"), "latency histograms: {after}");
    assert!(after.contains("hark_writer_batch_size_bucket{"));
}

/// The Jobs page says what each job is about as facts, not as JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_page_shows_what_a_job_is_about_in_words() {
    let Some(app) = TestApp::start(hark_store::testing::Backend::Sqlite).await else { return };
    let later = jiff::Timestamp::now().as_millisecond() + 3_600_000;
    let job = hark_store::NewJob::new(hark_store::SEND_INVITATION_JOB, json!({"invitation_id": "inv-7"}), later);
    app.store.enqueue(&job).await.unwrap();
    let (admin, cookie) = app.user_session("admin@example.com", hark_store::Role::Admin, None, None).await;
    let page = admin.get(format!("{}/admin/jobs", app.base)).header("cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Invitation id: inv-7") && !page.contains("&#34;invitation_id&#34;"), "{page}");
    // The waiting work's table has its three headings (one had lost its tag, one had a tag in its words).
    assert!(page.contains("<tr><th>Kind</th><th>Jobs</th><th>Oldest waiting for</th></tr>"), "{page}");
}

/// A personal link whose contact was erased says so in the reader's language.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_contact_s_link_says_so_in_the_reader_s_language() {
    let Some(app) = TestApp::start(hark_store::testing::Backend::Sqlite).await else { return };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let invitation = app.link_invitation(&survey, json!({"external_id": "p1", "email": "p1@example.com"})).await;
    let contact = invitation["contact_id"].as_str().unwrap();
    let erased = app.client.delete(format!("{}/api/v1/contacts/{contact}", app.base)).bearer_auth(&app.key);
    assert!(erased.send().await.unwrap().status().is_success());
    let admin = app.user_session("admin@example.com", hark_store::Role::Admin, None, None).await;
    let csv = app.page_text(&admin, &format!("/admin/surveys/{survey}/links.csv"), "ko").await;
    assert!(csv.contains("(삭제됨)") && !csv.contains("(erased)"), "{csv}");
}

//! The holes found by probing Hark as an attacker would, one test each: each failed before
//! its fix. Storage-bound ones run on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{Receiver, TestApp, eventually};
use hark_core::token::TokenKind;
use hark_store::Role;
use hark_store::testing::Backend;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(20);

common::on_both!(
    the_widget_cannot_take_over_a_known_contact,
    a_referral_link_cannot_edit_the_answer,
    erasing_a_past_detractor_reaches_every_table,
    an_admin_finds_exports_and_erases_a_customer_from_the_contact_page,
    nul_characters_are_refused_and_spoil_no_batch,
    lesser_holes_are_closed,
);

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A survey with an anonymous link, and that link's token.
async fn anonymous_link(app: &TestApp) -> (String, String) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "anonymous_link": true})).await;
    let link = app.state.signer().sign(TokenKind::Survey, &survey);
    (survey, link)
}

/// A score posted on the anonymous link page, as its form does.
async fn post_score(app: &TestApp, link: &str, score: &str, nonce: &str) -> reqwest::Response {
    no_redirects()
        .post(format!("{}/s/{link}", app.base))
        .form(&[("score", score), ("nonce", nonce)])
        .send()
        .await
        .unwrap()
}

async fn widget_survey(app: &TestApp) -> String {
    app.survey(json!({"name": "Shop", "kind": "nps", "brand": "Acme",
        "widget": {"origins": ["https://shop.example"]}}))
        .await
}

async fn the_widget_cannot_take_over_a_known_contact(app: TestApp) {
    let survey = widget_survey(&app).await;
    app.post_json("/api/v1/contacts", &json!({"external_id": "ann", "email": "ann@example.com", "name": "Ann"})).await;
    let post = |body: Value| {
        app.client
            .post(format!("{}/w/{survey}/responses", app.base))
            .header("origin", "https://shop.example")
            .json(&body)
            .send()
    };
    // Claiming Ann's id without the site's signature: stored, but anonymous, and Ann unchanged.
    let claim = json!({"external_id": "ann", "email": "evil@attacker.example", "name": "Evil",
        "attributes": {"account_owner": "evil"}});
    let r = post(json!({"score": 2, "nonce": "n-1", "visitor": claim})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let ann = app.store.contact_by_external_id("ann").await.unwrap().unwrap();
    assert_eq!((ann.email.as_deref(), ann.name.as_deref()), (Some("ann@example.com"), Some("Ann")));
    assert!(ann.attributes.is_empty(), "{:?}", ann.attributes);
    let forged = json!({"score": 2, "nonce": "n-2", "visitor": claim, "visitor_signature": "00".repeat(32)});
    assert_eq!(post(forged).await.unwrap().status(), StatusCode::CREATED);
    let ann = app.store.contact_by_external_id("ann").await.unwrap().unwrap();
    assert_eq!(ann.email.as_deref(), Some("ann@example.com"), "a wrong signature changes nothing");
    let stored = app.get_json(&format!("/api/v1/responses?survey_id={survey}")).await;
    assert!(stored["items"].as_array().unwrap().iter().all(|r| r["contact_id"].is_null()), "{stored}");

    // The fatigue check does not tell a stranger whether an id was surveyed.
    let seen = json!({"score": 9, "nonce": "n-3", "visitor": {"external_id": "bob"},
        "visitor_signature": signature(&app, "bob").await});
    assert_eq!(post(seen).await.unwrap().status(), StatusCode::CREATED);
    let config = |query: String| {
        app.client
            .get(format!("{}/w/{survey}/config?{query}", app.base))
            .header("origin", "https://shop.example")
            .send()
    };
    let unsigned: Value = config("visitor=bob".into()).await.unwrap().json().await.unwrap();
    assert_eq!(unsigned["show"], true, "an unsigned id reveals nothing");
    let signed: Value = config(format!("visitor=bob&visitor_signature={}", signature(&app, "bob").await))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(signed["show"], false, "the site's own signed visitor is not asked again");

    // With the site's signature the contact is the visitor's own and is updated.
    let sig = signature(&app, "ann").await;
    let vouched = json!({"score": 10, "nonce": "n-4", "visitor_signature": sig,
        "visitor": {"external_id": "ann", "name": "Ann Lee"}});
    assert_eq!(post(vouched).await.unwrap().status(), StatusCode::CREATED);
    let ann = app.store.contact_by_external_id("ann").await.unwrap().unwrap();
    assert_eq!((ann.email.as_deref(), ann.name.as_deref()), (Some("ann@example.com"), Some("Ann Lee")));
}

async fn signature(app: &TestApp, external_id: &str) -> String {
    let secret = app.store.widget_identity_secret().await.unwrap();
    hark_core::auth::visitor_signature(&secret, external_id)
}

async fn a_referral_link_cannot_edit_the_answer(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "p-1")
        .json(&json!({"survey_id": survey, "score": 10, "comment": "Great"}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let referral = app.state.signer().sign(TokenKind::Referral, &id);
    let edit = no_redirects()
        .post(format!("{}/r/{referral}", app.base))
        .form(&[("score", "0"), ("comment", "Terrible"), ("done", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::NOT_FOUND, "a shared referral link is not an edit link");
    let page = no_redirects().get(format!("{}/r/{referral}", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let answer = app.get_json(&format!("/api/v1/responses/{id}")).await;
    assert_eq!((answer["score"].as_i64(), answer["comment"].as_str()), (Some(10), Some("Great")));
    // And the edit token does not open the referral redirect either.
    let edit_token = app.state.signer().sign(TokenKind::Response, &id);
    let click = no_redirects().get(format!("{}/ref/{edit_token}", app.base)).send().await.unwrap();
    assert_eq!(click.status(), StatusCode::NOT_FOUND);
}

async fn erasing_a_past_detractor_reaches_every_table(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let contact = json!({"external_id": "c-9", "email": "dora@example.com", "name": "Dora"});
    let event = app
        .post("/api/v1/events")
        .header("Idempotency-Key", "ev-9")
        .json(&json!({"name": "order.delivered", "contact": contact}))
        .send()
        .await
        .unwrap();
    assert!(event.status().is_success(), "{}", event.status());
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "d-1")
        .json(&json!({"survey_id": survey, "score": 1, "comment": "Dora here, refund me", "contact": contact}))
        .send()
        .await
        .unwrap();
    let answer: Value = r.json().await.unwrap();
    let contact_id = answer["contact_id"].as_str().unwrap().to_owned();
    let new_case = hark_store::testing::case_for(answer["id"].as_str().unwrap(), &survey, Some(&contact_id));
    let (erased_case, _) = app.store.open_case(&new_case).await.unwrap();
    app.post_json(&format!("/api/v1/contacts/{contact_id}/notes"), &json!({"body": "Called Dora", "author": "me"}))
        .await;
    // And a detractor who never left a contact.
    let r = app.post("/api/v1/responses").header("Idempotency-Key", "anon-1");
    let anonymous: Value =
        r.json(&json!({"survey_id": survey, "score": 0})).send().await.unwrap().json().await.unwrap();
    let (anonymous_case, _) = app
        .store
        .open_case(&hark_store::testing::case_for(anonymous["id"].as_str().unwrap(), &survey, None))
        .await
        .unwrap();

    let erased = app.client.delete(format!("{}/api/v1/contacts/{contact_id}", app.base)).bearer_auth(&app.key);
    let erased = erased.send().await.unwrap();
    assert_eq!(erased.status(), StatusCode::OK, "a past detractor can be erased");
    let done: Value = erased.json().await.unwrap();
    assert_eq!((done["answers_anonymised"].as_i64(), done["cases_unlinked"].as_i64()), (Some(1), Some(1)), "{done}");
    assert_eq!((done["events_unlinked"].as_i64(), done["notes_deleted"].as_i64()), (Some(1), Some(1)), "{done}");
    let notes = app.get(&format!("/api/v1/contacts/{contact_id}/notes")).send().await.unwrap();
    assert_eq!(notes.status(), StatusCode::NOT_FOUND, "an erased contact has no notes to list");
    let kept = app.get_json(&format!("/api/v1/responses/{}", answer["id"].as_str().unwrap())).await;
    assert_eq!((kept["score"].as_i64(), kept["comment"].is_null()), (Some(1), true), "{kept}");
    // The case board tells an erased customer from one who never gave a contact.
    let (admin, cookie) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    for (case, name) in [(&erased_case, "Case: (erased)"), (&anonymous_case, "Case: anonymous")] {
        let page = admin.get(format!("{}/admin/cases/{}", app.base, case.id)).header("cookie", &cookie).send();
        let html = page.await.unwrap().text().await.unwrap();
        assert!(html.contains(name), "{name}: {html}");
    }
}

/// A customer writes or calls to see or erase their data: the admin finds them by email or
/// phone, downloads the whole export, and erases them only after ticking the box that says it
/// cannot be undone. No other role can do either.
async fn an_admin_finds_exports_and_erases_a_customer_from_the_contact_page(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    // Stored as her shop's system sent it; she writes her address as she likes.
    let contact = json!({"external_id": "c-7", "email": "Dora@Example.com", "name": "Dora"});
    let r = app.post("/api/v1/responses").header("Idempotency-Key", "d-7");
    let body = json!({"survey_id": survey, "score": 2, "comment": "Still no refund", "contact": contact});
    let answer: Value = r.json(&body).send().await.unwrap().json().await.unwrap();
    let (answer_id, id) = (answer["id"].as_str().unwrap(), answer["contact_id"].as_str().unwrap().to_owned());
    app.store.consent_to_contact(answer_id, None, Some("+82 10-1234-5678")).await.unwrap();
    let (case, _) = app.store.open_case(&hark_store::testing::case_for(answer_id, &survey, Some(&id))).await.unwrap();
    app.post_json(&format!("/api/v1/contacts/{id}/notes"), &json!({"body": "Called Dora", "author": "me"})).await;
    let call = json!({"contact": contact, "kind": "call", "summary": "Asked where the refund is"});
    let call = app.post("/api/v1/interactions").header("Idempotency-Key", "call-7").json(&call).send().await.unwrap();
    assert_eq!(call.status(), StatusCode::CREATED);

    let admin = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let lead = app.user_session("lead@example.com", Role::TeamLead, None, None).await;
    for typed in ["dora@example.com", "DORA@EXAMPLE.COM ", "+82 10-1234-5678", "c-7"] {
        let query = serde_urlencoded::to_string([("external_id", typed)]).unwrap();
        let found = app.page_text(&admin, &format!("/admin/contacts?{query}"), "en").await;
        assert!(found.contains(&format!("/admin/contacts/{id}")), "found by {typed}: {found}");
    }
    let page = app.page_text(&admin, &format!("/admin/contacts/{id}"), "en").await;
    assert!(page.contains("+82 10-1234-5678") && page.contains("Erase this person"), "{page}");
    assert!(page.contains(&format!(r#"<a href="/admin/cases/{}">"#, case.id)), "the case, one click away: {page}");

    // The export: everything, as a file to hand over.
    let (http, cookie) = &admin;
    let export = http.get(format!("{}/admin/contacts/{id}/export", app.base)).header("cookie", cookie);
    let export = export.send().await.unwrap();
    assert_eq!(export.status(), StatusCode::OK);
    let disposition = export.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"hark-contact-{id}.json\""));
    let export: Value = export.json().await.unwrap();
    assert_eq!(export["contact"]["phone"], json!("+82 10-1234-5678"));
    assert_eq!(export["responses"][0]["comment"], json!("Still no refund"));
    assert_eq!(export["cases"][0]["case"]["response_id"], json!(answer_id), "{export}");
    assert_eq!(export["interactions"][0]["summary"], json!("Asked where the refund is"), "{export}");
    assert_eq!(export["notes"].as_array().unwrap().len(), 1);
    let api: Value = app.get_json(&format!("/api/v1/contacts/{id}/export")).await;
    assert_eq!(api, export, "the API's export is the same document");

    // Another role may do neither.
    let (lead_http, lead_cookie) = &lead;
    let export = lead_http.get(format!("{}/admin/contacts/{id}/export", app.base)).header("cookie", lead_cookie);
    assert_eq!(export.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let token = csrf_of(lead_http, &app, lead_cookie, "/account").await;
    let erase = lead_http.post(format!("{}/admin/contacts/{id}/erase", app.base)).header("cookie", lead_cookie);
    let erase = erase.form(&[("csrf", token.as_str()), ("confirm", "yes")]).send().await.unwrap();
    assert_eq!(erase.status(), StatusCode::FORBIDDEN);
    // Nor the admin without ticking the box, or with another session's token.
    let token = csrf_of(http, &app, cookie, &format!("/admin/contacts/{id}")).await;
    let erase = |form: Vec<(&'static str, String)>| {
        http.post(format!("{}/admin/contacts/{id}/erase", app.base)).header("cookie", cookie).form(&form).send()
    };
    let unticked = erase(vec![("csrf", token.clone())]).await.unwrap();
    assert_eq!(unticked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unticked.text().await.unwrap().contains("nothing was erased"));
    let stale = erase(vec![("csrf", "from-an-old-sign-in".into()), ("confirm", "yes".into())]).await.unwrap();
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert!(app.store.get_contact(&id).await.unwrap().is_some(), "still there");

    let erased = erase(vec![("csrf", token), ("confirm", "yes".into())]).await.unwrap();
    assert_eq!(erased.status(), StatusCode::OK);
    let said = erased.text().await.unwrap();
    for line in ["Dora was erased", "Answers kept as anonymous scores, without comment: 1", "Notes deleted: 1"] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(app.store.get_contact(&id).await.unwrap().is_none());
    let gone = app.page_text(&admin, "/admin/contacts?external_id=dora%40example.com", "en").await;
    assert!(!gone.contains(&id), "{gone}");
    let report: Value = app.get_json("/api/v1/reports/nps").await;
    assert_eq!(report["overall"]["detractors"], json!(1), "the anonymous score still counts");
}

async fn nul_characters_are_refused_and_spoil_no_batch(app: TestApp) {
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let post = |key: &'static str, comment: &'static str| {
        app.post("/api/v1/responses")
            .header("Idempotency-Key", key)
            .json(&json!({"survey_id": survey, "score": 5, "comment": comment}))
            .send()
    };
    let (bad, good) = tokio::join!(post("nul-1", "bad\u{0}text"), post("ok-1", "fine"));
    let (bad, good) = (bad.unwrap(), good.unwrap());
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "body", "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("NUL"), "{problem}");
    assert_eq!(good.status(), StatusCode::CREATED);
    let filter = app.get("/api/v1/reports/responses?q=a%00b").send().await.unwrap();
    assert_eq!(filter.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let form = no_redirects()
        .post(format!("{}/login", app.base))
        .form(&[("email", "a\u{0}@x"), ("password", "p")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count().await, 1);
}

async fn lesser_holes_are_closed(app: TestApp) {
    // A 64 KB search or a thousand filters are refused as bad input, not a 500.
    let long = format!("/api/v1/reports/responses?q={}", "x".repeat(60_000));
    let status = app.get(&long).send().await.unwrap().status();
    assert!(status.is_client_error(), "{status}");
    let many: String = (0..1000).map(|i| format!("attr.k{i}=v&")).collect();
    let status = app.get(&format!("/api/v1/reports/nps?{many}")).send().await.unwrap().status();
    assert!(status.is_client_error(), "{status}");
    // A thousand years of days is refused before its periods are built (hundreds of MB);
    // ten years of days is a trend like any other.
    let millennium = "granularity=day&from=1000-01-01&to=2000-01-01";
    for (report, max) in [("nps", "3660"), ("overview", "3660"), ("themes", "400")] {
        let refused = app.get(&format!("/api/v1/reports/{report}?{millennium}")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{report}");
        let problem: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "granularity", "{report}: {problem}");
        assert!(problem["detail"].as_str().unwrap().contains(max), "{report}: {problem}");
    }
    let decade =
        app.get("/api/v1/reports/overview?granularity=day&from=2016-01-01&to=2025-12-31").send().await.unwrap();
    assert_eq!(decade.status(), StatusCode::OK);
    // Only its author or an admin removes an annotation.
    let annotation = app.post_json("/api/v1/annotations", &json!({"date": "2026-01-01", "label": "Launch"})).await;
    let (lead, cookie) = app.user_session("lead@example.com", Role::TeamLead, None, None).await;
    let page = lead.get(format!("{}/dashboard/changes", app.base)).header("cookie", &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let id = annotation["id"].as_str().unwrap();
    let removal = lead
        .post(format!("{}/dashboard/annotations/{id}/delete", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(removal.status(), StatusCode::FORBIDDEN);
    assert!(app.store.get_annotation(id).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_on_every_page() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else { return };
    let (_, link) = anonymous_link(&app).await;
    for path in
        ["/login".to_owned(), "/admin/surveys".into(), "/dashboard".into(), format!("/s/{link}"), "/healthz".into()]
    {
        let r = no_redirects().get(format!("{}{path}", app.base)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self';"), "{path}: {csp}");
        let scripts = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
        assert!(!scripts.contains("unsafe-inline"), "no inline script may run: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    let page = no_redirects().get(format!("{}/s/{link}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("<script>"), "no inline script on customer pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sends_nobody_off_site() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else { return };
    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("a@example.com", None, Role::Admin, &hash).await.unwrap();
    for next in ["/\t/evil.example", "/\n/evil.example", "//evil.example", "/\\evil.example", "https://evil.example"] {
        let r = no_redirects()
            .post(format!("{}/login", app.base))
            .form(&[("email", "a@example.com"), ("password", "correct horse battery"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], "/admin/surveys", "{next:?}");
    }
    let page = no_redirects().get(format!("{}/login?next=/%09/evil.example", app.base)).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("evil.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_working_however_busy_its_client() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else { return };
    assert!(app.get("/api/v1/surveys").send().await.unwrap().status().is_success());
    let id = app.key.trim_start_matches("hark_").split('_').next().unwrap().to_owned();
    app.store.revoke_api_key(&id).await.unwrap();
    // Used every half second, the key used to stay cached (and working) for ever.
    // `eventually` fails the test if the key still works after 25 s.
    eventually(Duration::from_secs(25), || async {
        let status = app.get("/api/v1/surveys").send().await.unwrap().status();
        tokio::time::sleep(Duration::from_millis(500)).await;
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed_and_healthz_answers() {
    let Some(app) = TestApp::start_configured(Backend::Sqlite, false, |c| {
        c.connections.header_timeout = Duration::from_secs(1);
        c.connections.body_timeout = Duration::from_secs(1);
        c.connections.max_connections = 20;
    })
    .await
    else {
        return;
    };
    let addr = app.base.trim_start_matches("http://").to_owned();
    let idle: Vec<_> = futures_util::future::join_all((0..20).map(|_| tokio::net::TcpStream::connect(&addr))).await;
    let mut trickle = tokio::net::TcpStream::connect(&addr).await.unwrap();
    trickle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut body = tokio::net::TcpStream::connect(&addr).await.unwrap();
    body.write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nemail=").await.unwrap();
    // Every one of them is closed by the server, however long the client waits.
    for mut stream in idle.into_iter().map(Result::unwrap).chain([trickle, body]) {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut buf)).await;
        assert!(read.is_ok(), "the server kept a slow connection open");
    }
    // And with the cap full of idle sockets, health still answers once they are closed.
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_through_public_doors_and_sign_in_are_limited() {
    let Some(app) = TestApp::start_configured(Backend::Sqlite, false, |c| {
        c.limits.answers_per_ip = hark_web::Rate::per_minute(5);
        c.limits.sign_ins_per_account = hark_web::Rate { count: 3, per: Duration::from_secs(900) };
    })
    .await
    else {
        return;
    };
    let (_, link) = anonymous_link(&app).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = post_score(&app, &link, "0", &format!("flood-{i}")).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
        }
        statuses.push(r.status());
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count(), 5, "{statuses:?}");
    assert_eq!(app.count().await, 5, "only the allowed answers were stored");
    let korean = no_redirects()
        .post(format!("{}/s/{link}", app.base))
        .header("accept-language", "ko-KR,ko;q=0.9")
        .form(&[("score", "0"), ("nonce", "flood-ko")])
        .send()
        .await
        .unwrap();
    assert_eq!(korean.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = korean.text().await.unwrap();
    assert!(page.contains("너무 많은 답변"), "the refusal is in the visitor's language: {page}");
    // The widget shares the per-address budget.
    let widget = widget_survey(&app).await;
    let r = app
        .client
        .post(format!("{}/w/{widget}/responses", app.base))
        .header("origin", "https://shop.example")
        .json(&json!({"score": 1, "nonce": "w-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://shop.example", "the widget can read why");

    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("boss@example.com", None, Role::Admin, &hash).await.unwrap();
    let sign_in = |password: &'static str| {
        no_redirects()
            .post(format!("{}/login", app.base))
            .form(&[("email", "boss@example.com"), ("password", password)])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(sign_in("guess").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    let locked = sign_in("correct horse battery").await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS, "guessing is stopped for the account");
    assert!(locked.headers().contains_key("retry-after"));
}

/// A personal link (as in a survey mail) for a new contact.
async fn personal_link(app: &TestApp, survey: &str) -> String {
    let invitation = app.link_invitation(survey, json!({"external_id": "x", "email": "x@example.com"})).await;
    invitation["link"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_email_link_records_no_score() {
    let Some(app) = TestApp::start_configured(Backend::Sqlite, false, |c| c.link_lifetime = Some(Duration::ZERO)).await
    else {
        return;
    };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let url = personal_link(&app, &survey).await;
    let page = no_redirects().get(format!("{url}?score=3")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    let send = no_redirects().post(&url).form(&[("score", "3")]).send().await.unwrap();
    assert_eq!(send.status(), StatusCode::GONE);
    assert_eq!(app.count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_scanner_fetching_every_score_link_leaves_no_score_and_a_person_still_scores_in_one_click() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else { return };
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let url = personal_link(&app, &survey).await;
    for n in 0..=10 {
        let r = no_redirects().get(format!("{url}?score={n}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert_eq!(app.count().await, 0, "fetching the links records nothing");
    // A person's browser runs the page's script: the clicked score is stored at once.
    let Some(browser) = common::Browser::start(true, "en").await else { return };
    browser.client.goto(&format!("{url}?score=7")).await.unwrap();
    let stored = eventually(WAIT, || async {
        let list = app.get_json(&format!("/api/v1/responses?survey_id={survey}")).await;
        list["items"][0]["score"].as_i64()
    })
    .await;
    assert_eq!(stored, 7);
    let at = eventually(WAIT, || async {
        let here = browser.client.current_url().await.unwrap();
        here.path().starts_with("/r/").then_some(here)
    })
    .await;
    assert!(at.path().starts_with("/r/r"), "{at}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_detractors_is_held_for_review_and_pages_nobody_on_sqlite() {
    a_flood_is_held(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_detractors_is_held_for_review_and_pages_nobody_on_postgres() {
    a_flood_is_held(Backend::Postgres).await;
}

async fn a_flood_is_held(backend: Backend) {
    // The test runner opens at most 3 cases an hour per survey for anonymous public answers.
    let Some(app) = TestApp::start_with(backend, true).await else { return };
    let (receiver, url) = Receiver::start(0).await;
    app.post_json(
        "/api/v1/webhooks",
        &json!({"name": "CRM", "kind": "generic", "url": url, "events": ["case.opened"]}),
    )
    .await;
    let (_, link) = anonymous_link(&app).await;
    for i in 0..6 {
        assert_eq!(post_score(&app, &link, "0", &format!("f-{i}")).await.status(), StatusCode::SEE_OTHER);
    }
    let cases = eventually(WAIT, || async {
        let cases: Value = app.get_json("/api/v1/cases").await;
        let cases = cases.as_array().cloned().unwrap_or_default();
        (cases.len() == 6).then_some(cases)
    })
    .await;
    let held: Vec<&Value> = cases.iter().filter(|c| c["status"] == "held").collect();
    assert_eq!(held.len(), 3, "{cases:?}");
    eventually(WAIT, || async { (receiver.calls().len() >= 3).then_some(()) }).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.calls().len(), 3, "held cases fire no webhook");
    assert!(app.smtp.as_ref().unwrap().messages().is_empty(), "and mail nobody");
    let report = app.get_json("/api/v1/reports/loop").await;
    assert_eq!(report["overall"]["opened"], 3, "held cases are not in the loop report: {report}");
    // An admin looks and releases one: it becomes an ordinary open case.
    let id = held[0]["id"].as_str().unwrap();
    app.post_json(&format!("/api/v1/cases/{id}/actions"), &json!({"action": "status", "status": "open"})).await;
    assert_eq!(app.get_json(&format!("/api/v1/cases/{id}")).await["case"]["status"], "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_slow_webhook_receiver_delays_only_itself() {
    let Some(app) = TestApp::start_with(Backend::Sqlite, true).await else { return };
    let slow = slow_receiver().await;
    let (fast, fast_url) = Receiver::start(0).await;
    for (name, url) in [("slow", slow.as_str()), ("fast", fast_url.as_str())] {
        let hook = json!({"name": name, "kind": "generic", "url": url, "events": ["response.created"]});
        app.post_json("/api/v1/webhooks", &hook).await;
    }
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    for i in 0..12 {
        let r = app
            .post("/api/v1/responses")
            .header("Idempotency-Key", format!("s-{i}"))
            .json(&json!({"survey_id": survey, "score": 8}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    // Served one by one, the fast receiver waited behind 10 s timeouts of the slow one.
    eventually(WAIT, || async { (fast.calls().len() >= 12).then_some(()) }).await;
}

/// A webhook receiver on loopback that never answers.
async fn slow_receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_no_internal_address_and_follow_no_redirect() {
    let Some(app) = TestApp::start_with(Backend::Sqlite, true).await else { return };
    let (target, target_url) = Receiver::start(0).await;
    let redirector = redirecting_receiver(&target_url).await;
    let mut hooks = Vec::new();
    for url in
        ["http://169.254.169.254/latest/meta-data/", "http://[::1]:9/hook", "http://0.0.0.0:9/", redirector.as_str()]
    {
        let hook = json!({"name": url, "kind": "generic", "url": url, "events": ["response.created"]});
        hooks.push(app.post_json("/api/v1/webhooks", &hook).await["id"].as_str().unwrap().to_owned());
    }
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "w-1")
        .json(&json!({"survey_id": survey, "score": 9}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    for hook in &hooks[..3] {
        let log = eventually(WAIT, || async {
            let log = app.get_json(&format!("/api/v1/webhooks/{hook}/deliveries")).await;
            log["items"][0]["last_error"]
                .as_str()
                .map(str::to_owned)
                .or(log[0]["last_error"].as_str().map(str::to_owned))
        })
        .await;
        assert!(log.starts_with("refused: the address is on this machine"), "{log}");
    }
    let redirected = eventually(WAIT, || async {
        let log = app.get_json(&format!("/api/v1/webhooks/{}/deliveries", hooks[3])).await;
        let entry = if log.is_array() { log[0].clone() } else { log["items"][0].clone() };
        entry["last_status_code"].as_i64()
    })
    .await;
    assert_eq!(redirected, 307);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(target.calls().is_empty(), "the redirect was not followed");
}

/// A receiver on loopback that answers every call with a 307 to `to`.
async fn redirecting_receiver(to: &str) -> String {
    let to = to.to_owned();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let to = to.clone();
            async move { (axum::http::StatusCode::TEMPORARY_REDIRECT, [("location", to)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The CSRF token on a page the session can see.
async fn csrf_of(http: &reqwest::Client, app: &TestApp, cookie: &str, path: &str) -> String {
    let page = http.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    html.split("name=\"csrf\" value=\"").nth(1).expect("a form with a CSRF token").split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_signs_out_and_changes_its_own_password() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else { return };
    for (email, role) in [("agent@example.com", Role::Agent), ("lead@example.com", Role::TeamLead)] {
        // Sign out: the session ends (it used to answer 403 for everyone but admins).
        let (http, cookie) = app.user_session(email, role, None, None).await;
        let csrf = csrf_of(&http, &app, &cookie, "/dashboard/overview").await;
        let out = http.post(format!("{}/logout", app.base)).header("cookie", &cookie).form(&[("csrf", &csrf)]);
        let out = out.send().await.unwrap();
        assert_eq!((out.status(), out.headers()["location"].to_str().unwrap()), (StatusCode::SEE_OTHER, "/login"));
        let after =
            http.get(format!("{}/dashboard/overview", app.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(after.status(), StatusCode::SEE_OTHER, "{email}: signed out");

        // Change the password: wrong current, too short and mismatched are refused.
        let sign_in = |password: &'static str| {
            no_redirects().post(format!("{}/login", app.base)).form(&[("email", email), ("password", password)]).send()
        };
        let first = sign_in("correct horse battery").await.unwrap();
        let cookie = first.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let other = sign_in("correct horse battery").await.unwrap();
        let other = other.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let csrf = csrf_of(&http, &app, &cookie, "/account/password").await;
        let change = |current: &'static str, new: &'static str, again: &'static str| {
            http.post(format!("{}/account/password", app.base))
                .header("cookie", &cookie)
                .form(&[("csrf", csrf.as_str()), ("current", current), ("new", new), ("again", again)])
                .send()
        };
        for (current, new, again) in [
            ("wrong", "a much longer secret", "a much longer secret"),
            ("correct horse battery", "short", "short"),
            ("correct horse battery", "a much longer secret", "another longer secret"),
        ] {
            assert_eq!(change(current, new, again).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let done = change("correct horse battery", "a much longer secret", "a much longer secret").await.unwrap();
        assert_eq!(done.status(), StatusCode::OK);
        assert!(done.text().await.unwrap().contains("Your password is changed."));
        let elsewhere =
            http.get(format!("{}/dashboard/overview", app.base)).header("cookie", &other).send().await.unwrap();
        assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER, "the other session ended");
        let here = http.get(format!("{}/dashboard/overview", app.base)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(here.status(), StatusCode::OK, "this session goes on");
        assert_eq!(sign_in("correct horse battery").await.unwrap().status(), StatusCode::UNAUTHORIZED);
        assert_eq!(sign_in("a much longer secret").await.unwrap().status(), StatusCode::SEE_OTHER);
    }
}

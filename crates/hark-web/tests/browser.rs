//! Customer and admin pages in headless Chromium (through ChromeDriver): the personal link
//! with JavaScript on and off, the Korean page, the widget on another site, the admin pages.

mod common;

use std::time::Duration;

use common::{Browser, TestApp, eventually};
use fantoccini::{Client, Locator};
use hark_store::testing::Backend;
use hark_store::{ResponseFilter, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
const THAI: &str = "พนักงานสุภาพมาก แต่ส่งของช้า";

async fn app() -> TestApp {
    TestApp::start(Backend::Sqlite).await.expect("SQLite is always available")
}

fn survey_body() -> Value {
    json!({"name": "Browser NPS", "kind": "nps", "brand": "Acme",
        "questions": [{"id": "reason", "type": "single_choice", "text": "What would make it a 9 or 10?",
                       "options": ["price", "speed"], "show_if": ["passive"]}],
        "translations": {"ko": {"reason": "9점이나 10점이 되려면 무엇이 필요할까요?", "reason.0": "가격", "reason.1": "속도"}}})
}

/// A personal link (an invitation on the `link` channel) for a new contact.
async fn personal_link(app: &TestApp, survey: &str, external_id: &str, locale: &str) -> String {
    let contact = app.post_json("/api/v1/contacts", &json!({"external_id": external_id, "locale": locale})).await;
    let sent = app
        .post_json(
            &format!("/api/v1/surveys/{survey}/invitations"),
            &json!({"channel": "link", "contact_ids": [contact["id"]]}),
        )
        .await;
    assert_eq!(sent["issued"], 1, "{sent}");
    sent["invitations"][0]["link"].as_str().unwrap().to_owned()
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Fills the sign-in page the browser was sent to, as admin@example.com.
async fn sign_in(c: &Client) {
    let email = c.wait().at_most(WAIT).for_element(Locator::Css("#email")).await.unwrap();
    email.send_keys("admin@example.com").await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
    click(c, "button[type=submit]").await;
}

async fn answer_through_link(javascript: bool) {
    let app = app().await;
    let Some(browser) = Browser::start(javascript, "en").await else { return };
    let c = &browser.client;
    let survey = app.survey(survey_body()).await;
    let link = personal_link(&app, &survey, "pat", "en").await;
    c.goto(&link).await.unwrap();
    assert!(c.source().await.unwrap().contains("Not at all likely"));
    click(c, "button[name=score][value='7']").await;
    // The score is stored the moment it is chosen.
    let filter = ResponseFilter { survey_id: Some(survey.clone()), ..Default::default() };
    let stored = eventually(WAIT, || async {
        Some(app.store.list_responses(&filter, None, 10).await.unwrap()).filter(|s| !s.is_empty())
    })
    .await;
    assert_eq!((stored.len(), stored[0].score, stored[0].channel.as_str()), (1, 7, "link"));
    let id = stored[0].id.clone();

    c.wait().at_most(WAIT).for_element(Locator::Css("textarea#comment")).await.unwrap().send_keys(THAI).await.unwrap();
    click(c, "input[name='q.reason'][value='speed']").await;
    if javascript {
        // Half-finished answers are saved as they are given, before "Send".
        eventually(WAIT, || async {
            let r = app.store.get_response(&id).await.unwrap().unwrap();
            (r.comment.as_deref() == Some(THAI) && r.answers.get("reason") == Some(&json!("speed"))).then_some(())
        })
        .await;
    } else {
        // The page's script did not run: nothing is saved until the form is sent.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(app.store.get_response(&id).await.unwrap().unwrap().comment, None);
    }
    click(c, "button[name=done]").await;
    eventually(WAIT, || async { c.current_url().await.ok().filter(|u| u.query() == Some("done=1")) }).await;
    assert!(c.source().await.unwrap().contains("Thank you for your feedback. It helps us improve."));
    let r = app.store.get_response(&id).await.unwrap().unwrap();
    assert_eq!((r.score, r.segment.as_str()), (7, "passive"));
    assert_eq!(r.comment.as_deref(), Some(THAI));
    assert_eq!(r.answers.get("reason"), Some(&json!("speed")));
    assert_eq!(app.count().await, 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_link_with_javascript() {
    answer_through_link(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_link_without_javascript() {
    answer_through_link(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn korean_contact_sees_korean_pages() {
    let app = app().await;
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    let survey = app.survey(survey_body()).await;
    let link = personal_link(&app, &survey, "jiwoo", "ko").await;
    c.goto(&link).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("lang=\"ko\""));
    assert!(page.contains("Acme을(를) 친구나 동료에게 추천할 가능성은 얼마나 됩니까?"), "{page}");
    assert!(page.contains("전혀 추천하지 않음") && page.contains("매우 추천함"));
    click(c, "button[name=score][value='8']").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("textarea#comment")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("9점이나 10점이 되려면 무엇이 필요할까요?") && page.contains("보내기"), "{page}");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_on_another_site_shows_once_and_submits() {
    let app = app().await;
    // The customer's website: another origin (another port) serving a page with the tag.
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", site.local_addr().unwrap());
    let survey = app
        .survey(json!({"name": "Web NPS", "kind": "nps", "brand": "Acme", "widget": {"origins": [origin], "delay_seconds": 0}}))
        .await;
    let html = format!(
        "<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>Shop</h1>\
         <script src=\"{}/widget.js\" data-survey=\"{survey}\" data-visitor-id=\"visitor-1\" data-visitor-email=\"v1@example.com\"></script>\
         </body></html>",
        app.base
    );
    let page = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    tokio::spawn(async move { axum::serve(site, page).await });

    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&origin).await.unwrap();
    let shadow = "(document.querySelector('[data-hark]') && document.querySelector('[data-hark]').shadowRoot)";
    let has = |js: String| {
        let c = c.clone();
        async move { c.execute(&format!("return !!({js});"), vec![]).await.unwrap().as_bool().unwrap().then_some(()) }
    };
    eventually(WAIT, || has(format!("{shadow} && {shadow}.querySelectorAll('.scale button').length === 11"))).await;
    let question: Value =
        c.execute(&format!("return {shadow}.querySelector('h2').textContent;"), vec![]).await.unwrap();
    assert_eq!(question, "How likely are you to recommend Acme to a friend or colleague?");
    c.execute(&format!("{shadow}.querySelectorAll('.scale button')[9].click();"), vec![]).await.unwrap();
    eventually(WAIT, || has(format!("{shadow}.querySelector('textarea')"))).await;
    c.execute(&format!("const root = {shadow}; root.querySelector('textarea').value = 'Fast checkout'; root.querySelector('.send').click();"), vec![])
        .await
        .unwrap();
    let stored = eventually(WAIT, || async {
        let list = app.store.list_responses(&Default::default(), None, 10).await.unwrap();
        list.into_iter().find(|r| r.comment.is_some())
    })
    .await;
    assert_eq!(
        (stored.score, stored.channel.as_str(), stored.comment.as_deref()),
        (9, "widget", Some("Fast checkout"))
    );
    let contact = app.store.contact_by_external_id("visitor-1").await.unwrap().expect("the visitor became a contact");
    assert_eq!(stored.contact_id, Some(contact.id));
    assert_eq!(stored.context["page"], format!("{origin}/"));

    // Inside the window it does not show again: not after a reload (remembered in the
    // browser) and not in a fresh browser either (the server knows this visitor answered).
    c.refresh().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        c.execute("return document.querySelector('[data-hark]') === null;", vec![]).await.unwrap().as_bool().unwrap()
    );
    browser.close().await;
    let fresh = Browser::start(true, "en").await.unwrap();
    fresh.client.goto(&origin).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let none = fresh.client.execute("return document.querySelector('[data-hark]') === null;", vec![]).await.unwrap();
    assert_eq!(none, true);
    fresh.close().await;
    assert_eq!(app.count().await, 1);

    // Other sites may not use it.
    let config = format!("{}/w/{survey}/config", app.base);
    let refused = app.client.get(&config).header("Origin", "http://evil.example").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let allowed = app.client.get(&config).header("Origin", &origin).send().await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], origin.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_signs_in_edits_previews_and_sees_jobs() {
    let app = app().await;
    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("admin@example.com", None, Role::Admin, &hash).await.unwrap();
    app.store.create_user("agent@example.com", None, Role::Agent, &hash).await.unwrap();

    // Sessions and CSRF, over plain HTTP.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let login = |email: &'static str, password: &'static str| {
        http.post(format!("{}/login", app.base)).form(&[("email", email), ("password", password)]).send()
    };
    assert_eq!(login("admin@example.com", "wrong").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let cookie =
        |r: &reqwest::Response| r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let admin_cookie = cookie(&login("admin@example.com", "correct horse battery").await.unwrap());
    let agent_cookie = cookie(&login("agent@example.com", "correct horse battery").await.unwrap());
    let get = |path: &str, cookie: &str| http.get(format!("{}{path}", app.base)).header("cookie", cookie).send();
    assert_eq!(get("/admin/surveys", "").await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(get("/admin/surveys", &agent_cookie).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(get("/admin/surveys", &admin_cookie).await.unwrap().status(), StatusCode::OK);
    let forged = http
        .post(format!("{}/admin/surveys/new", app.base))
        .header("cookie", &admin_cookie)
        .form(&[("name", "Forged"), ("brand", "X"), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(app.store.list_surveys().await.unwrap().is_empty());

    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&format!("{}/admin/surveys/new", app.base)).await.unwrap();
    sign_in(c).await;
    // Back at the page asked for: the editor. A mistake is named and nothing is saved.
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys("Relationship NPS")
        .await
        .unwrap();
    c.find(Locator::Css("#brand")).await.unwrap().send_keys(" ").await.unwrap();
    c.find(Locator::Css("#widget_origins")).await.unwrap().send_keys("not an origin").await.unwrap();
    click(c, "button.btn[type=submit]").await;
    let page = c.wait().at_most(WAIT).for_element(Locator::Css(".errors")).await.unwrap().text().await.unwrap();
    assert!(page.contains("brand") && page.contains("widget.origins[0]"), "{page}");
    assert!(app.store.list_surveys().await.unwrap().is_empty());
    let brand = c.find(Locator::Css("#brand")).await.unwrap();
    brand.clear().await.unwrap();
    brand.send_keys("Acme").await.unwrap();
    c.find(Locator::Css("#widget_origins")).await.unwrap().clear().await.unwrap();
    c.find(Locator::Css("#fu_d")).await.unwrap().send_keys("What went wrong?").await.unwrap();
    c.find(Locator::Css("#triggers")).await.unwrap().send_keys("order.delivered 60 email").await.unwrap();
    click(c, "button.btn[type=submit]").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("p.ok")).await.unwrap();
    let surveys = app.store.list_surveys().await.unwrap();
    assert_eq!(surveys.len(), 1);
    let def = &surveys[0].definition;
    assert_eq!((def.name.as_str(), def.brand.as_str()), ("Relationship NPS", "Acme"));
    assert_eq!(def.follow_up_by_segment.detractor.as_deref(), Some("What went wrong?"));
    assert_eq!(def.triggers[0].delay_minutes, 60);

    // The preview is the customer's page: the scale, then the detractor follow-up.
    c.goto(&format!("{}/admin/surveys/{}/preview", app.base, surveys[0].id)).await.unwrap();
    assert!(c.source().await.unwrap().contains("How likely are you to recommend Acme"));
    click(c, "button[name=score][value='2']").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("textarea#comment")).await.unwrap();
    assert!(c.source().await.unwrap().contains("What went wrong?"));
    assert_eq!(app.count().await, 0, "a preview stores nothing");

    c.goto(&format!("{}/admin/jobs", app.base)).await.unwrap();
    assert!(c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap().contains("Jobs"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_walks_from_open_to_closed_with_a_reply_to_the_customer() {
    let app = TestApp::start_with(Backend::Sqlite, true).await.unwrap();
    let smtp = app.smtp.as_ref().unwrap();
    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("admin@example.com", None, Role::Admin, &hash).await.unwrap();
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let r = app
        .post("/api/v1/responses")
        .header("Idempotency-Key", "case-walk")
        .json(&json!({"survey_id": survey, "score": 1, "comment": "The parcel never came",
            "contact": {"external_id": "zoe", "email": "zoe@example.com", "name": "Zoe"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let case = eventually(WAIT, || async { app.store.list_cases(&Default::default(), 1).await.unwrap().pop() }).await;

    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&format!("{}/admin/cases", app.base)).await.unwrap();
    sign_in(c).await;
    click(c, &format!("a[href='/admin/cases/{}']", case.id)).await;
    assert!(
        c.wait().at_most(WAIT).for_element(Locator::Css("h1")).await.unwrap().text().await.unwrap().contains("Zoe")
    );
    assert!(c.source().await.unwrap().contains("The parcel never came"));
    click(c, "#step-listen").await;
    let body = c.wait().at_most(WAIT).for_element(Locator::Css("textarea#body")).await.unwrap();
    body.send_keys("Sorry, Zoe. We sent a new parcel today; it arrives tomorrow.").await.unwrap();
    click(c, "#send-reply").await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!((mails[0].to.as_str(), mails[0].subject.as_str()), ("zoe@example.com", "About your feedback to Acme"));
    assert!(mails[0].text.contains("We sent a new parcel today"));
    let root_cause = c.wait().at_most(WAIT).for_element(Locator::Css("#root_cause")).await.unwrap();
    root_cause.select_by_value("delivery").await.unwrap();
    click(c, "#close-case").await;
    let status = c.wait().at_most(WAIT).for_element(Locator::Css("#case-status")).await.unwrap();
    assert_eq!(status.text().await.unwrap(), "closed");

    let closed = app.store.get_case(&case.id).await.unwrap().unwrap();
    assert_eq!(closed.outcome.map(|o| o.as_str()), Some("resolved"));
    assert_eq!(
        (closed.root_cause.as_deref(), closed.steps.as_slice()),
        (Some("delivery"), &["listen".to_string()][..])
    );
    assert!(closed.first_contact_at.is_some() && closed.closed_at.is_some());
    let history = app.store.case_events(&case.id).await.unwrap();
    let by_admin: Vec<&str> =
        history.iter().filter(|e| e.actor == "admin@example.com").map(|e| e.kind.as_str()).collect();
    assert_eq!(by_admin, ["step", "reply", "closed"]);
    browser.close().await;
}

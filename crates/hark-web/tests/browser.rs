//! Customer and admin pages in headless Chromium (through ChromeDriver): the personal link
//! with JavaScript on and off, the Korean page, the widget on another site, the admin pages,
//! and the dashboard as an agent sees it.

mod common;

use std::time::Duration;

use common::{Browser, TestApp, eventually};
use fantoccini::{Client, Locator};
use hark_jobs::testing::ReceivedMail;
use hark_store::testing::Backend;
use hark_store::{ResponseFilter, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);
/// For a mail to reach the test's SMTP server: one it did not take at first is tried again
/// 0.1, 0.4, 1.6, 6.4 and 25.6 s later (the test runner's backoff). Two CI runs waited past
/// 20 s and past 60 s for a case reply and printed nothing more; a cause that fits both (the
/// mail server's port taken by another process) is closed in `serve_on_free_port`, and
/// `send_reply` now says where a reply stopped.
const MAIL_WAIT: Duration = Duration::from_secs(60);
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
    let invitation = app.link_invitation(survey, json!({"external_id": external_id, "locale": locale})).await;
    invitation["link"].as_str().unwrap().to_owned()
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

/// Waits until the element's text passes `ok` (after a click the old page may still be there,
/// or go stale under the finger), and returns that text.
async fn text_when(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    eventually(WAIT, || async {
        let text = c.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
        ok(&text).then_some(text)
    })
    .await
}

/// Fills the sign-in page the browser was sent to, as admin@example.com.
async fn sign_in(c: &Client) {
    sign_in_as(c, "admin@example.com").await;
}

async fn sign_in_as(c: &Client, user: &str) {
    let email = c.wait().at_most(WAIT).for_element(Locator::Css("#email")).await.unwrap();
    email.send_keys(user).await.unwrap();
    c.find(Locator::Css("#password")).await.unwrap().send_keys("correct horse battery").await.unwrap();
    click(c, "button[type=submit]").await;
}

/// Choosing an extra answer with the arrow keys and pressing Enter sends the form; it used to
/// press the first submit button, the score "0", and turn a passive into a detractor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_in_a_follow_up_field_sends_and_never_changes_the_score() {
    let app = app().await;
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    let survey = app.survey(survey_body()).await;
    c.goto(&personal_link(&app, &survey, "kim", "en").await).await.unwrap();
    click(c, "button[name=score][value='7']").await;
    let first =
        c.wait().at_most(WAIT).for_element(Locator::Css("input[name='q.reason'][value='price']")).await.unwrap();
    first.click().await.unwrap();
    // ArrowDown moves to "speed"; Enter submits.
    first.send_keys("\u{E015}").await.unwrap();
    c.active_element().await.unwrap().send_keys("\u{E007}").await.unwrap();
    eventually(WAIT, || async { c.current_url().await.ok().filter(|u| u.query() == Some("done=1")) }).await;
    let filter = ResponseFilter { survey_id: Some(survey.clone()), ..Default::default() };
    let stored = app.store.list_responses(&filter, None, 10).await.unwrap();
    assert_eq!((stored[0].score, stored[0].answers.get("reason")), (7, Some(&json!("speed"))));
    browser.close().await;
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
    click(c, "button.send").await;
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
    // The shop's server vouches for its visitor with the widget secret.
    let secret = app.store.widget_identity_secret().await.unwrap();
    let signature = hark_core::auth::visitor_signature(&secret, "visitor-1");
    let html = format!(
        "<!DOCTYPE html><html><head><title>Shop</title></head><body><h1>Shop</h1>\
         <script src=\"{}/widget.js\" data-survey=\"{survey}\" data-visitor-id=\"visitor-1\" data-visitor-signature=\"{signature}\" data-visitor-email=\"v1@example.com\"></script>\
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
    // Each field by its name on the form, not its path in the API's JSON.
    assert!(page.contains("Brand: must not be empty") && page.contains("Widget site 1: must be scheme://"), "{page}");
    assert!(app.store.list_surveys().await.unwrap().is_empty());
    let brand = c.find(Locator::Css("#brand")).await.unwrap();
    brand.clear().await.unwrap();
    brand.send_keys("Acme").await.unwrap();
    c.find(Locator::Css("#widget_origins")).await.unwrap().clear().await.unwrap();
    c.find(Locator::Css("#fu_d")).await.unwrap().send_keys("What went wrong?").await.unwrap();
    c.find(Locator::Css("#trigger0-event")).await.unwrap().send_keys("order.delivered").await.unwrap();
    c.find(Locator::Css("#trigger0-delay")).await.unwrap().send_keys("60").await.unwrap();
    click(c, "button.btn[type=submit]").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("p.ok")).await.unwrap();
    let surveys = app.store.list_surveys().await.unwrap();
    assert_eq!(surveys.len(), 1);
    let def = &surveys[0].definition;
    assert_eq!((def.name.as_str(), def.brand.as_str()), ("Relationship NPS", "Acme"));
    assert_eq!(def.follow_up_by_segment.detractor.as_deref(), Some("What went wrong?"));
    assert_eq!(def.triggers[0].delay_minutes, 60);
    // The list names the kind and the languages in words, not codes.
    let list = get("/admin/surveys", &admin_cookie).await.unwrap().text().await.unwrap();
    assert!(list.contains(">NPS</td>") && list.contains(">English (en)</td>"), "{list}");
    // Own texts are translated box by box, each beside its text; the trigger shows as a row
    // with an empty one after it for the next.
    c.goto(&format!("{}/admin/surveys/{}", app.base, surveys[0].id)).await.unwrap();
    let korean =
        c.wait().at_most(WAIT).for_element(Locator::Css("input[name='tr.ko.follow_up.detractor']")).await.unwrap();
    korean.send_keys("무엇이 잘못되었나요?").await.unwrap();
    let event = c.find(Locator::Css("#trigger0-event")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(event.as_deref(), Some("order.delivered"));
    let next = c.find(Locator::Css("#trigger1-event")).await.unwrap().prop("value").await.unwrap();
    assert_eq!(next.as_deref(), Some(""));
    click(c, "button.btn[type=submit]").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("p.ok")).await.unwrap();
    let def = app.store.get_survey(&surveys[0].id).await.unwrap().unwrap().definition;
    assert_eq!(def.translations["ko"]["follow_up.detractor"], "무엇이 잘못되었나요?");
    assert_eq!(def.triggers.len(), 1, "the empty row adds nothing");

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
    text_when(c, "h1", |t| t.contains("Zoe")).await;
    assert!(c.source().await.unwrap().contains("The parcel never came"));
    click(c, "#step-listen").await;
    // The step is a form post: wait for the page that shows it done before typing the reply.
    text_when(c, "#step-listen", |t| t.starts_with('✓')).await;
    let body = c.wait().at_most(WAIT).for_element(Locator::Css("textarea#body")).await.unwrap();
    body.send_keys("Sorry, Zoe. We sent a new parcel today; it arrives tomorrow.").await.unwrap();
    let mail = send_reply(c, &app, &case.id, "zoe@example.com").await;
    assert_eq!(mail.subject, "About your feedback to Acme");
    assert!(mail.text.contains("We sent a new parcel today"));
    // The reply reloads the page: choose on the new one (an element of the old one goes stale).
    // The forms show the case as it is: its owner and status chosen, no outcome until one is.
    // The reply shows as queued, then sent once the mail server took it: reload until then.
    let value = |css: &'static str| async move { c.find(Locator::Css(css)).await.ok()?.prop("value").await.ok()? };
    eventually(MAIL_WAIT, || async {
        c.refresh().await.ok()?;
        c.find(Locator::Css("#history .reply-sent")).await.ok()?;
        (value("#new_status").await? == "waiting").then_some(())
    })
    .await;
    assert_eq!(value("#owner_id").await.as_deref(), case.owner_id.as_deref().or(Some("")));
    assert_eq!(value("#outcome").await.as_deref(), Some(""));
    eventually(WAIT, || async {
        for (css, chosen) in [("#root_cause", "delivery"), ("#outcome", "resolved")] {
            c.find(Locator::Css(css)).await.ok()?.select_by_value(chosen).await.ok()?;
            (c.find(Locator::Css(css)).await.ok()?.prop("value").await.ok()?? == chosen).then_some(())?;
        }
        Some(())
    })
    .await;
    click(c, "#close-case").await;
    text_when(c, "#case-status", |t| t == "closed").await;

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

/// An agent signs in and sees the company figure, their own trend and their own row and
/// rank: no other agent's name anywhere, and one chart point per month they were scored in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_only_their_own_scores_and_rank() {
    let app = app().await;
    let survey = app
        .survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme", "agent_question": "And the agent?"}))
        .await;
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let mut agents = Vec::new();
    for name in ["Bo Agent", "Ann Other", "Cy Other"] {
        let a = app.post_json("/api/v1/agents", &json!({"name": name, "team_id": team["id"]})).await;
        agents.push(a["id"].as_str().unwrap().to_owned());
    }
    let now = jiff::Timestamp::now().as_millisecond();
    // Bo was scored 5, 40 and 75 days ago (three calendar months); the others this week.
    let mut n = 0;
    let plan = [(0, 5, 9), (0, 40, 6), (0, 75, 10), (1, 0, 10), (1, 1, 9), (1, 2, 8), (2, 0, 3), (2, 1, 5), (2, 2, 7)];
    for (agent, days, score) in plan {
        for k in 0..12 {
            n += 1;
            let at = jiff::Timestamp::from_millisecond(now - days * 86_400_000 - 3_600_000).unwrap();
            let r = app
                .post("/api/v1/responses")
                .header("Idempotency-Key", format!("b{n}"))
                .json(&json!({"survey_id": survey, "score": score, "agent_score": (score + k) % 11, "agent_id": agents[agent],
                    "submitted_at": at.to_string()}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}: {}", r.status(), r.text().await.unwrap());
        }
    }
    let hash = hark_core::auth::hash_password("correct horse battery");
    let bo = app.store.create_user("bo@example.com", None, Role::Agent, &hash).await.unwrap();
    app.store.set_user_team(&bo.id, team["id"].as_str()).await.unwrap();
    app.store.set_user_agent(&bo.id, Some(&agents[0])).await.unwrap();

    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&format!("{}/dashboard/overview", app.base)).await.unwrap();
    sign_in_as(c, "bo@example.com").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("svg.trend")).await.unwrap();
    let points = c.find_all(Locator::Css(".wide svg.trend circle.point")).await.unwrap();
    assert_eq!(points.len(), 3, "one point per month with Bo's answers");
    let bars = c.find_all(Locator::Css(".wide svg.distribution rect.bar")).await.unwrap();
    assert_eq!(bars.len(), 11);
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("NPS · You") && text.contains("NPS · Company"), "{text}");
    assert!(!c.source().await.unwrap().contains("Monitoring"), "no alerts for agents");

    click(c, "nav.tabs a[href^='/dashboard/agents']").await;
    c.wait().at_most(WAIT).for_element(Locator::Css("table[data-table=agents]")).await.unwrap();
    let rows = c.find_all(Locator::Css("table[data-table=agents] tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].text().await.unwrap().contains("Bo Agent"));
    let dots = c.find_all(Locator::Css(".wide svg.dots circle.point")).await.unwrap();
    assert_eq!(dots.len(), 2, "Bo's agent NPS and company NPS");
    let main = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(main.contains("Your rank by agent NPS") && main.contains("of 3"), "{main}");
    let source = c.source().await.unwrap();
    assert!(!source.contains("Ann Other") && !source.contains("Cy Other"), "another agent's name is shown");
    // Asking for another agent in the address is refused, not quietly answered.
    c.goto(&format!("{}/dashboard/agents?agent_id={}", app.base, agents[1])).await.unwrap();
    c.goto(&format!("{}/dashboard/responses?agent_id={}", app.base, agents[1])).await.unwrap();
    assert!(c.source().await.unwrap().contains("may not see another agent"));
}

/// Sends the reply typed on the case page and returns the message to `to` that the mail
/// server received. When none comes, the failure says where the reply stopped: the page after
/// the click, the reply's state on the case and the jobs.
async fn send_reply(c: &Client, app: &TestApp, case_id: &str, to: &str) -> ReceivedMail {
    click(c, "#send-reply").await;
    let smtp = app.smtp.as_ref().expect("the test's mail server");
    if let Some(mail) = smtp.wait_for_mail_to(to, MAIL_WAIT).await {
        return mail;
    }
    let page = match c.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let events = app.store.case_events(case_id).await.unwrap();
    let replies: Vec<_> = events.iter().filter(|e| e.kind == "reply").map(|e| &e.detail).collect();
    let jobs = app.store.list_jobs(None, 20).await.unwrap();
    panic!("no mail to {to} within {MAIL_WAIT:?}\nreplies on the case: {replies:?}\njobs: {jobs:#?}\npage: {page}");
}

/// Works a case from the inbox in the browser: log a call that reached the customer, reply
/// through the mail server, close with an outcome and a root cause.
async fn work_case(c: &Client, app: &TestApp, case: &hark_store::Case, customer: &str) {
    c.goto(&format!("{}/admin/cases", app.base)).await.unwrap();
    click(c, &format!("#case-list a[href='/admin/cases/{}']", case.id)).await;
    text_when(c, "h1", |t| t.contains(customer)).await;
    let choose = |css: &'static str, value: &'static str| async move {
        eventually(WAIT, || async {
            let e = c.find(Locator::Css(css)).await.ok()?;
            e.select_by_value(value).await.ok()?;
            (c.find(Locator::Css(css)).await.ok()?.prop("value").await.ok()?? == value).then_some(())
        })
        .await
    };
    choose("#reached", "true").await;
    c.find(Locator::Css("#call-note")).await.unwrap().send_keys("Listened; charged twice by mistake.").await.unwrap();
    click(c, "#log-contact").await;
    text_when(c, "#history", |t| t.contains("called the customer: reached them")).await;
    let body = c.wait().at_most(WAIT).for_element(Locator::Css("textarea#body")).await.unwrap();
    body.send_keys("We refunded the second charge today. Sorry for the trouble.").await.unwrap();
    let contact = app.store.get_contact(case.contact_id.as_deref().unwrap()).await.unwrap().unwrap();
    send_reply(c, app, &case.id, &contact.email.unwrap()).await;
    eventually(MAIL_WAIT, || async {
        c.refresh().await.ok()?;
        c.find(Locator::Css("#history .reply-sent")).await.ok()
    })
    .await;
    choose("#root_cause", "billing").await;
    choose("#outcome", "resolved").await;
    click(c, "#close-case").await;
    text_when(c, "#case-status", |t| t == "closed").await;
}

/// A team lead and an agent each sign in, open their inbox and work a case end to end; each
/// is refused another team's case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_lead_and_an_agent_each_work_a_case_from_their_inbox() {
    let app = TestApp::start_with(Backend::Sqlite, true).await.unwrap();
    let smtp = app.smtp.as_ref().unwrap();
    let hash = hark_core::auth::hash_password("correct horse battery");
    let mut teams = Vec::new();
    for (name, lead) in [("Billing", "lead@example.com"), ("Sales", "sales-lead@example.com")] {
        let team = app.post_json("/api/v1/teams", &json!({"name": name})).await["id"].as_str().unwrap().to_owned();
        let user = app.store.create_user(lead, None, Role::TeamLead, &hash).await.unwrap();
        app.store.set_user_team(&user.id, Some(&team)).await.unwrap();
        teams.push(team);
    }
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Somchai", "team_id": teams[0]})).await;
    let somchai = app.store.create_user("somchai@example.com", None, Role::Agent, &hash).await.unwrap();
    app.store.set_user_team(&somchai.id, Some(&teams[0])).await.unwrap();
    app.store.set_user_agent(&somchai.id, agent["id"].as_str()).await.unwrap();
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "root_causes": ["billing"]})).await;
    let answers = [
        ("ann", json!({"agent_id": agent["id"]})),
        ("bea", json!({"agent_id": agent["id"]})),
        ("cy", json!({"team_id": teams[1]})),
    ];
    for (who, extra) in &answers {
        let mut body = json!({"survey_id": survey, "score": 2, "comment": "Charged twice",
            "contact": {"external_id": who, "email": format!("{who}@example.com"), "name": who.to_uppercase()}});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let r = app.post("/api/v1/responses").header("Idempotency-Key", *who).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let cases = eventually(WAIT, || async {
        let cases = app.store.list_cases(&Default::default(), 10).await.unwrap();
        (cases.len() == 3).then_some(cases)
    })
    .await;
    let mut named = Vec::new();
    for case in &cases {
        let contact = app.store.get_contact(case.contact_id.as_deref().unwrap()).await.unwrap().unwrap();
        named.push((contact.external_id, case.clone()));
    }
    let case_of = |who: &str| named.iter().find(|(n, _)| n == who).unwrap().1.clone();
    // The lead hands Bea's case to the agent.
    let assign = hark_store::CaseChange::Assign(Some(somchai.id.clone()));
    app.store.change_case(&case_of("bea").id, "lead@example.com", &assign).await.unwrap();

    for (email, customer) in [("lead@example.com", "ann"), ("somchai@example.com", "bea")] {
        let Some(browser) = Browser::start(true, "en").await else { return };
        let c = &browser.client;
        c.goto(&format!("{}/admin/cases", app.base)).await.unwrap();
        sign_in_as(c, email).await;
        text_when(c, "#nav-mine", |t| t == "1 mine").await;
        work_case(c, &app, &case_of(customer), &customer.to_uppercase()).await;
        // The reply shows as sent once the mail server accepted it: it is in the mailbox.
        let sent = smtp.messages();
        assert!(sent.iter().any(|m| m.to == format!("{customer}@example.com") && m.text.contains("refunded")));
        let closed = app.store.get_case(&case_of(customer).id).await.unwrap().unwrap();
        assert_eq!(
            (closed.outcome.map(|o| o.as_str()), closed.root_cause.as_deref()),
            (Some("resolved"), Some("billing"))
        );
        assert!(closed.first_contact_at.is_some());
        // Another team's case: the "Not allowed" page.
        c.goto(&format!("{}/admin/cases/{}", app.base, case_of("cy").id)).await.unwrap();
        text_when(c, "#forbidden", |t| t.contains("outside your scope")).await;
        browser.close().await;
    }
}

/// The monthly report, printed by Chromium as "Save as PDF" does, is a paginated report: each
/// section on a page of its own, the month's NPS with its n and interval, its change, the
/// twelve months and the teams. Read back with `pdftotext` (Debian `poppler-utils`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monthly_report_prints_to_a_pdf_with_its_figures() {
    let required = std::env::var_os("HARK_REQUIRE_BROWSER").is_some();
    if std::process::Command::new("pdftotext").arg("-v").output().is_err() {
        assert!(!required, "pdftotext (poppler-utils) is missing");
        return;
    }
    let app = app().await;
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    let mut agents = Vec::new();
    for (team, agent) in [("North", "Ann"), ("South", "Bo")] {
        let team = app.post_json("/api/v1/teams", &json!({"name": team})).await;
        let a = app.post_json("/api/v1/agents", &json!({"name": agent, "team_id": team["id"]})).await;
        agents.push(a["id"].as_str().unwrap().to_owned());
    }
    // October 2026: 24 promoters, 12 passives and 12 detractors (NPS +25, n = 48); August: 10 answers.
    let mut n = 0;
    let plan = [("2026-10-15T12:00:00Z", 10, 24), ("2026-10-16T12:00:00Z", 8, 12), ("2026-10-17T12:00:00Z", 3, 12)];
    // September, the 31 days before: 20 promoters and 20 detractors (NPS 0).
    let before = [("2026-09-10T12:00:00Z", 10, 20), ("2026-09-11T12:00:00Z", 2, 20)];
    for (at, score, count) in plan.into_iter().chain(before).chain([("2026-08-10T12:00:00Z", 9, 10)]) {
        for _ in 0..count {
            n += 1;
            let body = json!({"survey_id": survey, "score": score, "agent_id": agents[n % 2], "submitted_at": at});
            let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("r{n}")).json(&body);
            assert!(r.send().await.unwrap().status().is_success());
        }
    }
    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("admin@example.com", None, Role::Admin, &hash).await.unwrap();
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&format!("{}/dashboard/report?month=2026-10", app.base)).await.unwrap();
    sign_in(c).await;
    text_when(c, "h1", |h| h.contains("Monthly report 2026-10")).await;
    let pdf = c.print(fantoccini::wd::PrintConfiguration::default()).await.unwrap();
    let file = std::env::temp_dir().join(format!("hark-report-{}.pdf", std::process::id()));
    std::fs::write(&file, &pdf).unwrap();
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&file).arg("-").output().unwrap();
    let _ = std::fs::remove_file(&file);
    let text = String::from_utf8(out.stdout).unwrap();
    let pages: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // The controls stay on the screen; the figures are printed.
    assert!(!flat.contains("Log out") && !flat.contains("Save as PDF") && !flat.contains("Show"), "{flat}");
    assert!(
        flat.contains("Monthly report 2026-10 · Company") && flat.contains("2026-10-01 to 2026-10-31 (UTC)"),
        "{flat}"
    );
    assert!(flat.contains("+25 (95% CI") && flat.contains("n = 48"), "the month's NPS with its interval: {flat}");
    assert!(flat.contains("▲ +25 vs the 31 days before (95% CI"), "its change, with its interval: {flat}");
    // Each of the four sections starts a page of its own.
    let starts = |heading: &str| pages.iter().position(|p| p.contains(heading));
    let order: Vec<Option<usize>> =
        ["The month", "The twelve months to it", "NPS by team", "Agents and teams"].iter().map(|h| starts(h)).collect();
    assert!(order.iter().all(Option::is_some), "{order:?} in {} pages", pages.len());
    let order: Vec<usize> = order.into_iter().flatten().collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "each section on a later page: {order:?}");
    assert!(flat.contains("North") && flat.contains("South"), "the teams: {flat}");
}

/// A wallboard on the floor's screen takes in a new answer without reloading, and empties
/// itself once its link is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallboard_takes_in_a_new_answer_without_a_reload() {
    // "Answers today" starts again at midnight (UTC, the organisation's zone here): begun in
    // the last minutes of a day, the run waits for the next, or its count would fall to 0.
    let into_day = jiff::Timestamp::now().as_millisecond().rem_euclid(86_400_000);
    if 86_400_000 - into_day < 180_000 {
        tokio::time::sleep(Duration::from_millis((86_400_000 - into_day) as u64 + 1_000)).await;
    }
    let app = app().await;
    let survey = app.survey(json!({"name": "Floor NPS", "kind": "nps", "brand": "Acme"})).await;
    let answer = |key: &str, comment: &str| {
        let body = json!({"survey_id": survey, "score": 10, "comment": comment});
        app.post("/api/v1/responses").header("Idempotency-Key", key.to_owned()).json(&body).send()
    };
    assert!(answer("w-1", "Quick and kind").await.unwrap().status().is_success());
    let hash = hark_core::auth::hash_password("correct horse battery");
    let admin = app.store.create_user("admin@example.com", None, Role::Admin, &hash).await.unwrap();
    let link = hark_store::NewSharedLink {
        kind: "wallboard",
        page: "wallboard",
        query: "",
        created_by: &admin.id,
        personal_data: false,
        expires_at: jiff::Timestamp::now().as_millisecond() + 86_400_000,
    };
    let link = app.store.create_shared_link(&link).await.unwrap();
    let signer = hark_core::token::Signer::new(app.store.link_secret().await.unwrap().as_bytes());
    let token = signer.sign(hark_core::token::TokenKind::Shared, &link.id);

    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    c.goto(&format!("{}/wallboard/{token}", app.base)).await.unwrap();
    text_when(c, "#answers-today", |t| t == "1").await;
    // A mark that a reload would wipe.
    c.execute("window.loadedOnce = true; return true;", vec![]).await.unwrap();
    assert!(answer("w-2", "Solved it in one call").await.unwrap().status().is_success());
    // The board fetches its figures every 10 seconds.
    let long = Duration::from_secs(30);
    let deadline = std::time::Instant::now() + long;
    loop {
        let n = c.find(Locator::Css("#answers-today")).await.unwrap().text().await.unwrap();
        if n == "2" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {n} after {long:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let comments = c.find(Locator::Css("#comments")).await.unwrap().text().await.unwrap();
    assert!(comments.contains("Solved it in one call"), "{comments}");
    let kept = c.execute("return window.loadedOnce === true;", vec![]).await.unwrap();
    assert_eq!(kept, Value::Bool(true), "updated in place, not reloaded");

    app.store.revoke_shared_link(&link.id).await.unwrap();
    let deadline = std::time::Instant::now() + long;
    loop {
        let ended = c.execute("return document.body.hasAttribute('data-ended');", vec![]).await.unwrap();
        if ended == Value::Bool(true) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the revoked board still shows its figures");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let shown = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert!(!shown.contains("Solved it in one call") && shown.contains("This board's link has ended."), "{shown}");
    // Opened again, the revoked link says nothing of what it was.
    c.goto(&format!("{}/wallboard/{token}", app.base)).await.unwrap();
    let shown = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
    assert_eq!(shown.trim(), "not found");
}

/// A phrase promoters use and no theme finds is offered on the Themes page; one click makes it
/// a theme, whose page previews what its words find as they are typed; saved, every stored
/// comment is read for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adopts_a_discovered_phrase_and_previews_its_words_live() {
    let app = app().await;
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    let hash = hark_core::auth::hash_password("correct horse battery");
    app.store.create_user("admin@example.com", None, Role::Admin, &hash).await.unwrap();
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    for i in 0..20 {
        let (score, comment) = if i < 10 { (2, "My voucher code failed") } else { (10, "Lovely, thank you") };
        let body = json!({"survey_id": survey, "score": score, "comment": comment, "language": "en"});
        let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("v{i}")).json(&body);
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    c.goto(&format!("{}/dashboard/themes", app.base)).await.unwrap();
    sign_in(c).await;
    text_when(c, "h1", |t| t.contains("Themes")).await;
    // The phrase opens the promoters' answers with its words, to read what it stands for.
    click(c, "table[data-table='promoter_phrases'] a").await;
    text_when(c, ".filters summary", |t| t.contains("Promoters") && t.contains("Lovely")).await;
    let listed = c.find(Locator::Css("table[data-table='responses']")).await.unwrap().text().await.unwrap();
    assert_eq!(listed.matches("Lovely, thank you").count(), 10, "{listed}");
    assert!(!listed.contains("voucher"), "{listed}");
    // The segment the link set is in its field, where the reader can clear it.
    // (The filter panel is open on a wide screen, folded on a phone.)
    let segment = c.find(Locator::Css("#f-segment")).await.unwrap();
    if !segment.is_displayed().await.unwrap() {
        click(c, ".filters summary").await;
    }
    assert_eq!(segment.prop("value").await.unwrap().as_deref(), Some("promoter"));
    segment.select_by_value("").await.unwrap();
    c.find(Locator::Css("#f-q")).await.unwrap().clear().await.unwrap();
    click(c, ".filters button[type=submit]").await;
    text_when(c, "[data-table='responses']", |t| t.contains("voucher")).await;
    let listed = c.find(Locator::Css("table[data-table='responses']")).await.unwrap().text().await.unwrap();
    assert_eq!(listed.matches("Lovely, thank you").count() + listed.matches("voucher").count(), 20, "{listed}");
    c.back().await.unwrap();
    c.back().await.unwrap();
    text_when(c, "h1", |t| t.contains("Themes")).await;
    let Ok(button) = c.find(Locator::Css("button[data-adopt='Lovely']")).await else {
        panic!("no phrase to adopt: {}", c.source().await.unwrap())
    };
    let phrase = button.attr("data-adopt").await.unwrap().unwrap();
    button.click().await.unwrap();
    let notice = text_when(c, "#notice", |t| !t.is_empty()).await;
    assert!(notice.contains("now a theme"), "{notice}");
    let url = c.current_url().await.unwrap();
    let key = url.path().trim_start_matches("/admin/themes/").to_owned();
    let (list, own) = app.store.list_themes().await.unwrap();
    let adopted = list.iter().find(|t| t.key == key).expect("the new theme");
    assert!(own);
    assert_eq!(adopted.terms["en"], [phrase]);
    text_when(c, "#preview-found", |t| t.contains("Found in 10 of the newest 20")).await;
    assert!(c.source().await.unwrap().contains("<mark>"), "the words found are marked");

    // Typing another word: the preview follows without a click.
    let terms = c.find(Locator::Css("#terms-en")).await.unwrap();
    terms.send_keys("\nvoucher").await.unwrap();
    text_when(c, "#preview-found", |t| t.contains("Found in 20 of the newest 20")).await;
    assert_eq!(app.store.list_themes().await.unwrap().0.iter().find(|t| t.key == key).unwrap().terms["en"].len(), 1);
    click(c, "button[name=action][value=save]").await;
    text_when(c, "#notice", |t| t.contains("Saved")).await;

    hark_store::testing::end_reload_grace(&app.store).await.unwrap();
    while app.store.reread_comments(50).await.unwrap() {}
    let filter = ResponseFilter { theme: Some(key.clone()), ..Default::default() };
    assert_eq!(app.store.list_responses(&filter, None, 100).await.unwrap().len(), 20);
    browser.close().await;
}

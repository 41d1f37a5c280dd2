//! The customer pages audited with axe-core (WCAG 2.1 A and AA rules, plus "label in name")
//! in headless Chromium, in each shipped language, at 1280 px and 390 px: the scale, the
//! follow-up with and without extra questions, the thank-you and the unsubscribe page, and the
//! website widget inside its shadow root (which also must take focus, close on Escape and give
//! focus back).
//! `.ci/run` installs axe-core from the npm registry and names it in `HARK_AXE_JS`.

mod common;

use common::{Browser, TestApp};
use hark_core::token::TokenKind;
use hark_store::testing::Backend;
use serde_json::{Value, json};

/// axe-core's script, or `None` (printing why) where it is not installed.
fn axe_source() -> Option<String> {
    let path = std::env::var("HARK_AXE_JS").unwrap_or_else(|_| "node_modules/axe-core/axe.min.js".into());
    match std::fs::read_to_string(&path) {
        Ok(source) => Some(source),
        Err(_) => {
            assert!(
                std::env::var_os("HARK_REQUIRE_BROWSER").is_none(),
                "HARK_REQUIRE_BROWSER is set but axe-core is not at {path} (set HARK_AXE_JS)"
            );
            println!("SKIPPED accessibility audit: axe-core not found at {path} (npm install axe-core; HARK_AXE_JS)");
            None
        }
    }
}

fn survey_body() -> Value {
    let texts = |q: &str, a: &str, b: &str| json!({"reason": q, "reason.0": a, "reason.1": b});
    json!({"name": "Audit NPS", "kind": "nps", "brand": "Acme",
        "questions": [{"id": "reason", "type": "single_choice", "text": "What would make it a 9 or 10?",
                       "options": ["price", "speed"], "show_if": ["passive"]}],
        "translations": {
            "ko": texts("9점이나 10점이 되려면 무엇이 필요할까요?", "가격", "속도"),
            "it": texts("Cosa lo renderebbe un 9 o un 10?", "Prezzo", "Velocità"),
            "th": texts("อะไรจะทำให้เป็น 9 หรือ 10?", "ราคา", "ความเร็ว")}})
}

/// The violations axe finds on the page the browser shows, as `rule: n nodes (first target)`.
async fn audit(c: &fantoccini::Client, axe: &str) -> Vec<String> {
    c.execute(&format!("{axe}\n;return true;"), vec![]).await.unwrap();
    let script = "const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                           rules: {'label-content-name-mismatch': {enabled: true}}})
           .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.length + ' nodes (' + JSON.stringify(v.nodes[0].target) + ')')));";
    let found = c.execute_async(script, vec![]).await.unwrap();
    found.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_pages_pass_wcag_21_aa_in_every_language_and_width() {
    let Some(axe) = axe_source() else { return };
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    let survey = app.survey(survey_body()).await;
    let plain = app.survey(json!({"name": "Plain", "kind": "nps", "brand": "Acme", "anonymous_link": true})).await;
    let link = app.state.signer().sign(TokenKind::Survey, &plain);
    let mut problems = Vec::new();
    for lang in ["en", "ko", "it", "th"] {
        // A passive (extra question) and a detractor (none) answered in this language.
        let mut pages = vec![format!("/s/{link}?lang={lang}")];
        for (key, score) in [("passive", 7), ("detractor", 2)] {
            let r = app
                .post("/api/v1/responses")
                .header("Idempotency-Key", format!("{lang}-{key}"))
                .json(&json!({"survey_id": survey, "score": score, "language": lang}))
                .send()
                .await
                .unwrap();
            let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            let token = app.state.signer().sign(TokenKind::Response, &id);
            pages.push(format!("/r/{token}"));
            pages.push(format!("/r/{token}?done=1"));
        }
        let contact = json!({"external_id": format!("u-{lang}"), "email": "u@example.com", "locale": lang});
        let invitation = app.link_invitation(&survey, contact).await;
        let invitation = invitation["id"].as_str().unwrap();
        pages.push(format!("/u/{}", app.state.signer().sign(TokenKind::Invitation, invitation)));
        for width in [1280, 390] {
            browser.set_width(width).await;
            for page in &pages {
                c.goto(&format!("{}{page}", app.base)).await.unwrap();
                let html_lang = c.execute("return document.documentElement.lang;", vec![]).await.unwrap();
                assert_eq!(html_lang, json!(lang), "{page} is shown in {lang}");
                for violation in audit(c, &axe).await {
                    problems.push(format!("{lang} {width}px {}: {violation}", page.split('/').nth(1).unwrap()));
                }
                // The 0–10 scale keeps one row, its end labels under its ends, at every width.
                let row = c
                    .execute(
                        "const b = [...document.querySelectorAll('.scale button')].map(e => e.getBoundingClientRect()); \
                         const ends = [...document.querySelectorAll('.ends span')].map(e => e.getBoundingClientRect()); \
                         if (b.length < 11) return 'no scale'; \
                         return new Set(b.map(r => Math.round(r.top))).size === 1 \
                           && Math.abs(ends[0].left - b[0].left) < 2 && Math.abs(ends[1].right - b[10].right) < 2 \
                           && Math.min(...b.map(r => r.width)) >= 24;",
                        vec![],
                    )
                    .await
                    .unwrap();
                if row == json!(false) {
                    problems.push(format!("{lang} {width}px {page}: the 0–10 scale breaks its row or its ends"));
                }
            }
        }
    }
    browser.close().await;
    assert!(problems.is_empty(), "axe-core found:\n{}", problems.join("\n"));
}

/// A shop on another origin with the widget tag and a focused button; returns its address.
async fn shop(app: &TestApp, survey_with_widget: impl FnOnce(&str) -> Value) -> (String, String) {
    let site = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", site.local_addr().unwrap());
    let survey = app.survey(survey_with_widget(&origin)).await;
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><title>Shop</title></head><body><main><h1>Shop</h1>\
         <button id=\"buy\" autofocus>Buy</button></main>\
         <script src=\"{}/widget.js\" data-survey=\"{survey}\"></script></body></html>",
        app.base
    );
    let page = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    tokio::spawn(async move { axum::serve(site, page).await });
    (origin, survey)
}

const SHADOW: &str = "document.querySelector('[data-hark]') && document.querySelector('[data-hark]').shadowRoot";

async fn until(c: &fantoccini::Client, js: &str) {
    let js = format!("return !!({js});");
    common::eventually(std::time::Duration::from_secs(20), || async {
        c.execute(&js, vec![]).await.unwrap().as_bool().unwrap().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_passes_wcag_21_aa_takes_focus_and_closes_on_escape() {
    let Some(axe) = axe_source() else { return };
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let (origin, _) = shop(&app, |origin| {
        let mut body = survey_body();
        body["widget"] = json!({"origins": [origin], "delay_seconds": 0});
        body
    })
    .await;
    let mut problems = Vec::new();
    for lang in ["en", "ko", "it", "th"] {
        let Some(browser) = Browser::start(true, lang).await else { return };
        let c = &browser.client;
        c.goto(&origin).await.unwrap();
        until(c, &format!("{SHADOW} && {SHADOW}.querySelectorAll('.scale button').length === 11")).await;
        let box_lang = c.execute(&format!("return {SHADOW}.querySelector('.box').lang;"), vec![]).await.unwrap();
        assert_eq!(box_lang, json!(lang));
        // Focus moved from the shop's button into the widget.
        until(
            c,
            &format!("document.activeElement === document.querySelector('[data-hark]') && {SHADOW}.activeElement"),
        )
        .await;
        let mut steps = vec![("scale", audit(c, &axe).await)];
        if lang == "en" {
            // Escape closes it and gives focus back to where it was.
            c.active_element().await.unwrap().send_keys("\u{E00C}").await.unwrap();
            until(c, "!document.querySelector('[data-hark]') && document.activeElement.id === 'buy'").await;
        } else {
            c.execute(&format!("{SHADOW}.querySelectorAll('.scale button')[7].click();"), vec![]).await.unwrap();
            until(c, &format!("{SHADOW}.querySelector('textarea')")).await;
            steps.push(("follow-up", audit(c, &axe).await));
            c.execute(&format!("{SHADOW}.querySelector('.send').click();"), vec![]).await.unwrap();
            until(c, &format!("{SHADOW}.querySelector('[role=status]')")).await;
            steps.push(("thank-you", audit(c, &axe).await));
            if lang == "ko" {
                // The thanks stays until the visitor closes it (it used to vanish after 4 s).
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                until(c, &format!("{SHADOW}.querySelector('[role=status]')")).await;
            }
        }
        for (step, found) in steps {
            problems.extend(found.into_iter().map(|v| format!("{lang} widget {step}: {v}")));
        }
        browser.close().await;
    }
    assert!(problems.is_empty(), "axe-core found:\n{}", problems.join("\n"));
}

/// A survey answered with the keyboard alone: Tab to a score and Enter, skip the scale to the
/// comment, type, choose an extra answer with the arrow keys, Enter to send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_can_be_answered_with_the_keyboard_alone() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let Some(browser) = Browser::start(true, "en").await else { return };
    let c = &browser.client;
    let survey = app.survey(survey_body()).await;
    let invitation = app.link_invitation(&survey, json!({"external_id": "kb", "locale": "en"})).await;
    c.goto(invitation["link"].as_str().unwrap()).await.unwrap();
    let key = |k: &'static str| async move { c.active_element().await.unwrap().send_keys(k).await.unwrap() };
    let focused = || async { c.execute("return document.activeElement.outerHTML;", vec![]).await.unwrap() };
    // Tab through 0…7, Enter on 7.
    for _ in 0..8 {
        key("\u{E004}").await;
    }
    assert!(focused().await.as_str().unwrap().contains("value=\"7\""), "{}", focused().await);
    key("\u{E007}").await;
    until(c, "document.querySelector('textarea#comment')").await;
    // The first Tab offers to skip the scale; Enter lands in the comment.
    key("\u{E004}").await;
    assert!(focused().await.as_str().unwrap().contains("class=\"skip\""), "{}", focused().await);
    key("\u{E007}").await;
    until(c, "document.activeElement.id === 'comment'").await;
    key("Too pricey").await;
    key("\u{E004}").await; // into the extra question: "price"
    key("\u{E015}").await; // arrow down: "speed"
    key("\u{E007}").await; // Enter sends
    common::eventually(std::time::Duration::from_secs(20), || async {
        c.current_url().await.ok().filter(|u| u.query() == Some("done=1"))
    })
    .await;
    let stored = app.get_json(&format!("/api/v1/responses?survey_id={survey}")).await;
    let answer = &stored["items"][0];
    assert_eq!((answer["score"].as_i64(), answer["comment"].as_str()), (Some(7), Some("Too pricey")), "{answer}");
    assert_eq!(answer["answers"]["reason"], "speed");
    browser.close().await;
}

/// The staff pages audited as each role sees them, at 1280 and 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_pages_pass_wcag_21_aa_for_every_role() {
    let Some(axe) = axe_source() else { return };
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Mina", "team_id": team["id"]})).await;
    let survey = app.survey(survey_body()).await;
    for (i, score) in [2, 7, 9, 10, 4].into_iter().enumerate() {
        // A long unbroken value, as order ids and URLs are: it must wrap, not widen the page.
        let body = json!({"survey_id": survey, "score": score, "agent_id": agent["id"], "comment": "Fine",
            "context": {"page": format!("https://shop.example/checkout/{}", "x".repeat(80))},
            "contact": {"external_id": format!("c{i}"), "email": format!("c{i}@example.com")}});
        let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("s-{i}")).json(&body);
        assert!(r.send().await.unwrap().status().is_success());
    }
    let answer = &app.get_json("/api/v1/responses?limit=1").await["items"][0];
    let new_case =
        hark_store::testing::case_for(answer["id"].as_str().unwrap(), &survey, answer["contact_id"].as_str());
    let (case, _) = app.store.open_case(&new_case).await.unwrap();
    let contact = answer["contact_id"].as_str().unwrap();
    let dashboard = ["overview", "segments", "themes", "agents", "changes", "responses", "report"]
        .map(|p| format!("/dashboard/{p}"));
    let admin_pages: Vec<String> =
        common::admin_pages(&survey, contact).into_iter().chain(["/dashboard/monitoring".to_owned()]).collect();
    let team_id = team["id"].as_str().unwrap();
    let agent_id = agent["id"].as_str().unwrap();
    let roles = [
        ("admin@example.com", hark_store::Role::Admin, None, None),
        ("exec@example.com", hark_store::Role::Executive, None, None),
        ("lead@example.com", hark_store::Role::TeamLead, Some(team_id), None),
        ("mina@example.com", hark_store::Role::Agent, Some(team_id), Some(agent_id)),
    ];
    let mut problems = Vec::new();
    for (email, role, team, agent) in roles {
        app.user_session(email, role, team, agent).await;
    }
    // What anyone with a link sees: a wallboard and a shared Overview (audited with the admin's).
    let admin_id = app.store.list_users().await.unwrap().into_iter().find(|u| u.role == hark_store::Role::Admin);
    let shared = common::shared_pages(&app.store, &admin_id.unwrap().id).await;
    // Every role in English; the roles that work cases (whose pages are all translated) also
    // in Korean, Italian and Thai, where longer words and other scripts must fit as well.
    let readers = roles.iter().map(|r| (r, "en")).chain(
        roles
            .iter()
            .filter(|r| matches!(r.1, hark_store::Role::TeamLead | hark_store::Role::Agent))
            .flat_map(|r| ["ko", "it", "th"].map(|lang| (r, lang))),
    );
    for ((email, role, _, _), lang) in readers {
        let (email, role) = (*email, *role);
        let Some(browser) = Browser::start(true, lang).await else { return };
        let c = &browser.client;
        c.goto(&format!("{}/login", app.base)).await.unwrap();
        c.execute(
            "document.querySelector('#email').value = arguments[0]; document.querySelector('#password').value = 'correct horse battery'; document.querySelector('form').submit();",
            vec![json!(email)],
        )
        .await
        .unwrap();
        until(c, "location.pathname !== '/login'").await;
        let mut pages: Vec<String> = dashboard.to_vec();
        // Every role has an inbox; the case is outside a lead's and an agent's reach, so they
        // see the "Not allowed" page, which is audited as well.
        pages.extend(["/account".to_owned(), "/admin/cases".into(), format!("/admin/cases/{}", case.id)]);
        // The loop report, for everyone but agents (a lead's own team's cases).
        if matches!(role, hark_store::Role::Executive | hark_store::Role::TeamLead) {
            pages.push("/admin/loop".into());
        }
        if role == hark_store::Role::Admin {
            pages.extend(admin_pages.iter().cloned());
            pages.extend(shared.iter().cloned());
        }
        for width in [1280, 390] {
            browser.set_width(width).await;
            for page in &pages {
                c.goto(&format!("{}{page}", app.base)).await.unwrap();
                let shown_in = c.execute("return document.documentElement.lang;", vec![]).await.unwrap();
                if shown_in != lang {
                    problems.push(format!("{} {lang} {width}px {page}: shown in {shown_in}", role.as_str()));
                }
                for violation in audit(c, &axe).await {
                    problems.push(format!("{} {lang} {width}px {page}: {violation}", role.as_str()));
                }
                // Wide tables scroll in their own box; the page itself never scrolls sideways.
                let widths = c
                    .execute("const d = document.documentElement; return [d.scrollWidth, d.clientWidth];", vec![])
                    .await
                    .unwrap();
                if widths[0].as_i64() > widths[1].as_i64() {
                    problems.push(format!(
                        "{} {lang} {width}px {page}: the page is {} px wide",
                        role.as_str(),
                        widths[0]
                    ));
                }
                // No dashboard table is scrolled sideways: at 1280 px the dashboard is as wide as
                // the screen (the drivers' 13 columns were 1,110 px in 992); on a phone a table
                // of answers is a card per answer, a wider table a card of tiles per row.
                if width == 390 || page.starts_with("/dashboard") {
                    let boxes = c
                        .execute(
                            "return [...document.querySelectorAll('.scroll')] \
                               .filter(b => b.scrollWidth > b.clientWidth) \
                               .map(b => (b.querySelector('table') || b).outerHTML.slice(0, 80));",
                            vec![],
                        )
                        .await
                        .unwrap();
                    for wide in boxes.as_array().unwrap() {
                        problems.push(format!("{} {lang} {width}px {page}: scrolls sideways: {wide}", role.as_str()));
                    }
                    let records = c.execute("return document.querySelectorAll('table.records').length;", vec![]);
                    if page == "/dashboard/responses" && records.await.unwrap() == 0 {
                        problems.push(format!("{} {lang} {width}px {page}: no table of answers", role.as_str()));
                    }
                }
                // Chart text as shown: its size in the SVG's units times the SVG's scale.
                let smallest = c
                    .execute(
                        "let least = 99; for (const svg of document.querySelectorAll('svg.chart')) { \
                           if (!svg.getClientRects().length) continue; \
                           const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width; \
                           for (const t of svg.querySelectorAll('text')) \
                             least = Math.min(least, parseFloat(getComputedStyle(t).fontSize) * scale); } \
                         return least;",
                        vec![],
                    )
                    .await
                    .unwrap();
                if smallest.as_f64().unwrap() < 11.0 {
                    problems.push(format!("{} {lang} {width}px {page}: chart text of {smallest} px", role.as_str()));
                }
            }
        }
        browser.close().await;
    }
    assert!(problems.is_empty(), "axe-core found:\n{}", problems.join("\n"));
}

//! Closing the loop end to end: playbooks open cases and mail their owners through a real
//! SMTP server, webhooks reach a receiver on loopback signed and retried, promoters get
//! thanks with a counted referral link, overdue cases escalate once, and the report and the
//! contact timeline show what happened.

mod common;

use std::time::Duration;

use common::{Receiver, TestApp, eventually};
use hark_store::{CaseFilter, CaseStatus, Job, JobStatus, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

common::on_both!(
    mail: detractor_opens_one_case_mails_its_owner_and_calls_signed_webhooks,
    promoter_gets_thanks_with_a_code_and_a_counted_referral_link,
    a_promoter_is_thanked_in_their_own_language,
    overdue_case_escalates_once,
    staff_are_told_of_cases_in_their_own_language_and_zone,
    closed_cases_feed_the_report_and_the_timeline,
    a_playbook_runs_in_its_answers_commit_unless_it_needs_a_job
);

/// A team with a lead (a user) and an agent; returns (team id, agent id, lead user id).
async fn billing(app: &TestApp) -> (String, String, String) {
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let team = team["id"].as_str().unwrap().to_owned();
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Somchai", "team_id": team})).await;
    let lead = app.store.create_user("lead@example.com", Some("Lee"), Role::TeamLead, "x").await.unwrap();
    app.store.set_user_team(&lead.id, Some(&team)).await.unwrap();
    (team, agent["id"].as_str().unwrap().to_owned(), lead.id)
}

async fn answer(app: &TestApp, survey: &str, key: &str, score: i64, body: Value) -> Value {
    let mut input = json!({"survey_id": survey, "score": score});
    input.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
    let r = app.post("/api/v1/responses").header("Idempotency-Key", key).json(&input).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

async fn detractor_opens_one_case_mails_its_owner_and_calls_signed_webhooks(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (team, agent, lead) = billing(&app).await;
    let (receiver, url) = Receiver::start(1).await;
    let hook = app
        .post_json(
            "/api/v1/webhooks",
            &json!({"name": "CRM", "kind": "generic", "url": url, "events": ["case.opened"]}),
        )
        .await;
    let survey = app.survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme"})).await;
    let contact = json!({"external_id": "ann", "email": "ann@example.com", "name": "Ann"});
    let body = json!({"agent_id": agent, "contact": contact, "comment": "Billed twice, I want a refund"});
    let r = answer(&app, &survey, "t-1", 2, body.clone()).await;
    answer(&app, &survey, "t-1", 2, body).await; // a retry of the same answer

    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, "lead@example.com");
    assert_eq!(mails[0].subject, "New high priority case: Ann");
    assert!(mails[0].text.contains("Billed twice") && mails[0].text.contains("/admin/cases/"), "{}", mails[0].text);

    let cases = app.store.list_cases(&CaseFilter::default(), 10).await.unwrap();
    assert_eq!(cases.len(), 1, "exactly one case");
    let case = &cases[0];
    assert_eq!(case.response_id, r["id"].as_str().unwrap());
    assert_eq!((case.owner_id.as_deref(), case.team_id.as_deref()), (Some(lead.as_str()), Some(team.as_str())));
    assert_eq!(case.due_at, r["received_at"].as_i64().unwrap() + 7 * 86_400_000);
    assert_eq!((case.status, case.priority.as_str()), (CaseStatus::Open, "high"));

    // The receiver failed once; the call was retried and then delivered, once.
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| c.len() >= 2) }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.calls().len(), 2);
    let secret = hook["secret"].as_str().unwrap();
    for (headers, body) in &calls {
        let h = |n: &str| headers[n].to_str().unwrap().to_owned();
        assert_eq!(h("x-hark-event"), "case.opened");
        let expected =
            hark_core::auth::webhook_signature(secret, h("x-hark-timestamp").parse().unwrap(), body.as_bytes());
        assert_eq!(h("x-hark-signature"), expected, "signed with the webhook's secret");
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["data"]["case"]["id"], case.id.as_str());
        assert_eq!(payload["data"]["response"]["comment"], "Billed twice, I want a refund");
    }
    assert_eq!(calls[0].0["x-hark-delivery"], calls[1].0["x-hark-delivery"], "the same delivery, retried");
    let log = app.get_json(&format!("/api/v1/webhooks/{}/deliveries", hook["id"].as_str().unwrap())).await;
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64()), (Some("delivered"), Some(2)));
    assert_eq!(smtp.messages().len(), 1);
}

/// A survey that keeps Hark's standard thanks mails each promoter in the language they
/// answered in.
async fn a_promoter_is_thanked_in_their_own_language(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "하크"})).await;
    let contact = json!({"external_id": "mina", "email": "mina@example.com", "name": "민아"});
    answer(&app, &survey, "k-1", 10, json!({"language": "ko", "contact": contact})).await;
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].subject, "하크에서 감사 인사 드립니다");
    assert!(mails[0].text.starts_with("민아님"), "{}", mails[0].text);
}

async fn promoter_gets_thanks_with_a_code_and_a_counted_referral_link(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let survey = app
        .survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "playbooks": {"promoter": {"mail": {
            "subject": "Thank you, {name}", "body": "Your code: {code}\nTell a friend: {referral_link}\n",
            "reward_code": true, "referral_url": "https://acme.example/refer"}}}}))
        .await;
    let added = app
        .post_json(
            &format!("/api/v1/surveys/{survey}/reward-codes"),
            &json!({"segment": "promoter", "codes": ["THANKS-1", "THANKS-2", "THANKS-1"]}),
        )
        .await;
    assert_eq!(added["added"], 2);
    let r = answer(
        &app,
        &survey,
        "p-1",
        10,
        json!({"contact": {"external_id": "pia", "email": "pia@example.com", "name": "Pia"}}),
    )
    .await;
    answer(&app, &survey, "q-1", 8, json!({"contact": {"external_id": "pat", "email": "pat@example.com"}})).await;
    let mails = smtp.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "passives get nothing by default");
    let mail = &mails[0];
    assert_eq!((mail.to.as_str(), mail.subject.as_str()), ("pia@example.com", "Thank you, Pia"));
    assert!(mail.text.contains("Your code: THANKS-1"), "{}", mail.text);
    let link = mail.text.split_whitespace().find(|w| w.contains("/ref/")).unwrap().to_owned();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..2 {
        let click = no_redirect.get(&link).send().await.unwrap();
        assert_eq!(click.status(), StatusCode::SEE_OTHER);
        assert_eq!(click.headers()["location"], "https://acme.example/refer");
    }
    // The same client clicking again is counted once (a script cannot inflate the count).
    assert_eq!(app.store.referral_clicks(r["id"].as_str().unwrap()).await.unwrap(), 1);

    // Finishing the answer on the follow-up page sends `response.updated` to the webhooks.
    let (receiver, url) = Receiver::start(0).await;
    app.post_json(
        "/api/v1/webhooks",
        &json!({"name": "BI", "kind": "generic", "url": url, "events": ["response.updated"]}),
    )
    .await;
    let token = app.state.signer().sign(hark_core::token::TokenKind::Response, r["id"].as_str().unwrap());
    let page = format!("{}/r/{token}", app.base);
    // While typing, the page's script saves with `partial`: stored, not announced.
    let typing = no_redirect.post(&page).form(&[("comment", "Fast"), ("partial", "1")]).send().await.unwrap();
    assert_eq!(typing.status(), StatusCode::NO_CONTENT);
    let sent = no_redirect.post(&page).form(&[("comment", "Fast and friendly"), ("done", "1")]).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| !c.is_empty()) }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.calls().len(), 1, "one call, for the finished change");
    assert_eq!(calls[0].0["x-hark-event"], "response.updated");
    let payload: Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(payload["data"]["response"]["comment"], "Fast and friendly");
    let tampered = link.replacen("/ref/f0", "/ref/f1", 1);
    assert_ne!(tampered, link);
    assert_eq!(no_redirect.get(&tampered).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert!(app.store.list_cases(&CaseFilter::default(), 10).await.unwrap().is_empty());
}

async fn overdue_case_escalates_once(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (team, agent, _lead) = billing(&app).await;
    let owner = app.store.create_user("owner@example.com", None, Role::Agent, "x").await.unwrap();
    app.store.set_user_team(&owner.id, Some(&team)).await.unwrap();
    let survey = app
        .survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "playbooks": {"detractor": {
            "open_case": true, "due_days": 0, "assign": {"rule": "user", "email": "owner@example.com"}}}}))
        .await;
    answer(
        &app,
        &survey,
        "d-1",
        5,
        json!({"agent_id": agent, "contact": {"external_id": "dan", "email": "dan@example.com"}}),
    )
    .await;
    let mails = smtp.wait_for(2, WAIT).await;
    // The runner looks for overdue cases every 200 ms: give it many rounds.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mails_now = smtp.messages();
    assert_eq!(mails_now.len(), 2, "{mails:?}");
    let overdue: Vec<_> = mails_now.iter().filter(|m| m.subject.starts_with("Overdue case")).collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].to, "lead@example.com", "escalated to the owner's team lead");
    assert!(mails_now.iter().any(|m| m.to == "owner@example.com" && m.subject.starts_with("New normal priority case")));
    let case = app.store.list_cases(&CaseFilter::default(), 1).await.unwrap().remove(0);
    assert!(case.escalated_at.is_some());
    let escalations =
        app.store.case_events(&case.id).await.unwrap().into_iter().filter(|e| e.kind == "escalated").count();
    assert_eq!(escalations, 1);
}

/// Notices of new and overdue cases are written in each recipient's language and state the
/// due time in their zone: their own choice, else the survey's language and the
/// organisation's zone (UTC here).
async fn staff_are_told_of_cases_in_their_own_language_and_zone(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (team, agent, _lead) = billing(&app).await;
    let owner = app.store.create_user("owner@example.com", None, Role::Agent, "x").await.unwrap();
    app.store.set_user_team(&owner.id, Some(&team)).await.unwrap();
    app.store.set_user_reading(&owner.id, Some("it"), Some("Europe/Rome")).await.unwrap();
    let survey = app
        .survey(json!({"name": "NPS", "kind": "nps", "brand": "하크", "default_locale": "ko",
            "playbooks": {"detractor": {"open_case": true, "due_days": 0,
            "assign": {"rule": "user", "email": "owner@example.com"}}}}))
        .await;
    let contact = json!({"external_id": "dan", "email": "dan@example.com"});
    answer(&app, &survey, "z-1", 5, json!({"agent_id": agent, "contact": contact, "comment": "너무 느려요"})).await;
    let mails = smtp.wait_for(2, WAIT).await;
    let case = app.store.list_cases(&CaseFilter::default(), 1).await.unwrap().remove(0);
    let due = jiff::Timestamp::from_millisecond(case.due_at).unwrap();

    let new = mails.iter().find(|m| m.to == "owner@example.com").expect("the owner is told");
    assert_eq!(new.subject, "Nuovo caso a priorità normale: dan");
    let rome = due.to_zoned(jiff::tz::TimeZone::get("Europe/Rome").unwrap()).strftime("%d/%m/%Y %H:%M").to_string();
    assert!(new.text.contains(&format!("Scadenza: {rome} Europe/Rome")), "{}", new.text);
    assert!(new.text.contains("Punteggio 5 (detrattore). Commento: 너무 느려요"), "{}", new.text);

    // The lead chose nothing: the survey's Korean, in the organisation's UTC.
    let overdue = mails.iter().find(|m| m.to == "lead@example.com").expect("the lead is told");
    assert_eq!(overdue.subject, "기한이 지난 케이스: dan");
    let utc = due.to_zoned(jiff::tz::TimeZone::UTC).strftime("%Y. %-m. %-d. %H:%M").to_string();
    assert!(overdue.text.contains(&utc) && overdue.text.contains("UTC"), "{utc} in {}", overdue.text);
    assert!(overdue.text.contains("열림"), "its status in Korean: {}", overdue.text);
}

async fn closed_cases_feed_the_report_and_the_timeline(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let survey = app
        .survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "playbooks": {"promoter": {"mail": null}}}))
        .await;
    let contact = json!({"external_id": "cy", "email": "cy@example.com", "name": "Cy"});
    let call = json!({"contact": contact, "kind": "call", "summary": "Asked about a late parcel", "figures": {"handle_time_s": 420}});
    let first = app.post("/api/v1/interactions").header("Idempotency-Key", "call-9").json(&call).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = app.post("/api/v1/interactions").header("Idempotency-Key", "call-9").json(&call).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let bad =
        app.post("/api/v1/interactions").json(&json!({"contact": contact, "kind": "Phone Call"})).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    answer(&app, &survey, "c-1", 3, json!({"contact": contact, "comment": "Parcel lost"})).await;
    let case =
        eventually(WAIT, || async { app.store.list_cases(&CaseFilter::default(), 1).await.unwrap().pop() }).await;
    let act = |body: Value| app.post(&format!("/api/v1/cases/{}/actions", case.id)).json(&body).send();
    let body = "We found it and sent it today. Please take {code} with our apologies.";
    let reply = json!({"action": "reply", "subject": "Your parcel", "body": body});
    let no_codes = act(reply.clone()).await.unwrap();
    assert_eq!(no_codes.status(), StatusCode::UNPROCESSABLE_ENTITY, "no apology codes uploaded yet");
    let codes = json!({"segment": "detractor", "codes": ["SORRY-1"]});
    app.post_json(&format!("/api/v1/surveys/{survey}/reward-codes"), &codes).await;
    assert_eq!(act(reply).await.unwrap().status(), StatusCode::OK);
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!((mails[0].to.as_str(), mails[0].subject.as_str()), ("cy@example.com", "Your parcel"));
    assert!(mails[0].text.contains("Please take SORRY-1 with our apologies."), "{}", mails[0].text);
    // The reply counts as a contact once the mail server has taken it.
    eventually(WAIT, || async { app.store.get_case(&case.id).await.unwrap()?.first_contact_at }).await;
    let bad_cause = act(json!({"action": "close", "outcome": "resolved", "root_cause": "weather"})).await.unwrap();
    assert_eq!(bad_cause.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let closed: Value = act(json!({"action": "close", "outcome": "resolved", "root_cause": "delivery"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((closed["status"].as_str(), closed["outcome"].as_str()), (Some("closed"), Some("resolved")));
    assert!(closed["first_contact_at"].is_i64());

    // The customer rates a chat first: a CSAT 3 (neutral) says nothing of how they score the
    // company, and is no answer "again".
    let chat = app.survey(json!({"name": "Chat", "kind": "csat", "brand": "Acme"})).await;
    answer(&app, &chat, "chat-1", 3, json!({"contact": contact})).await;
    // Then they answer the NPS again, happier.
    answer(&app, &survey, "c-2", 9, json!({"contact": contact})).await;
    let report = app.get_json("/api/v1/reports/loop").await;
    assert_eq!((report["overall"]["opened"].as_u64(), report["overall"]["closed"].as_u64()), (Some(1), Some(1)));
    assert_eq!(report["overall"]["closed_on_time_percent"], 100.0);
    assert_eq!(report["overall"]["outcomes"]["resolved"], 1);
    assert_eq!(report["after_close"]["moves"]["detractor→promoter"], 1);
    assert_eq!(report["after_close"]["recovered_percent"], 100.0);
    assert_eq!(report["after_close"]["mean_score_change"], 6.0);
    assert_eq!(report["after_close"]["answered_again"], 1, "{report}");
    // Cases opened in another period are not in its report, after the close neither.
    let later = app.get_json("/api/v1/reports/loop?from=2100-01-01&to=2100-02-01").await;
    assert_eq!(
        (later["overall"]["opened"].as_u64(), later["after_close"]["answered_again"].as_u64()),
        (Some(0), Some(0))
    );
    // What the unhappy customers' problems came down to: the root cause recorded at the close.
    let delivery = &report["by_root_cause"]["delivery"];
    assert_eq!(
        (delivery["closed"].as_u64(), delivery["outcomes"]["resolved"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let admin = app.user_session("lead-cx@example.com", Role::Admin, None, None).await;
    let page = app.page_text(&admin, "/admin/loop", "ko").await;
    let row =
        r#"<td class="name">배송</td><td data-label="종료">1</td><td data-label="종료된 케이스 1건 중 비율">100%</td>"#;
    assert!(page.contains("종료된 케이스의 근본 원인") && page.contains(row), "{page}");
    // The share of detractors won back, with its n and interval.
    let recovered = "그중 비추천 고객 1명 가운데 1명이 중립 또는 추천 고객으로 돌아왔습니다: <strong>100% (95% 신뢰구간 21%~100%)</strong>";
    assert!(page.contains(recovered), "{page}");

    let contact_id = case.contact_id.clone().unwrap();
    let timeline = app.get_json(&format!("/api/v1/contacts/{contact_id}/timeline")).await;
    let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|i| i["type"].as_str().unwrap()).collect();
    for kind in ["interaction", "response", "case"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| **k == "interaction").count(), 1);
    let detail = app.get_json(&format!("/api/v1/cases/{}", case.id)).await;
    let history: Vec<&str> =
        detail["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(history, ["opened", "step", "reply", "closed"], "{detail}");
    assert_eq!(detail["history"][2]["actor"], "api");
    assert_eq!(detail["case"]["steps"], json!(["token"]));

    // An executive reads the company's loop; a team lead their team's cases and their own;
    // an agent, not this page.
    let all = r#"<td class="name">All</td><td data-label="Opened">1</td>"#;
    let executive = app.user_session("exec@example.com", Role::Executive, None, None).await;
    let page = app.page_text(&executive, "/admin/loop", "en").await;
    assert!(page.contains(all) && page.contains(r#"href="/admin/loop""#), "{page}");
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let lead = app.user_session("lead@example.com", Role::TeamLead, team["id"].as_str(), None).await;
    let page = app.page_text(&lead, "/admin/loop", "en").await;
    let none = r#"<td class="name">All</td><td data-label="Opened">0</td>"#;
    assert!(page.contains(none) && page.contains("Your cases and those of your team."), "{page}");
    assert!(page.contains("0 customers answered again.</p>"), "nothing of another team's cases: {page}");
    let lead_id = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "lead@example.com").unwrap().id;
    app.store.change_case(&case.id, "test", &hark_store::CaseChange::Assign(Some(lead_id))).await.unwrap();
    let page = app.page_text(&lead, "/admin/loop", "en").await;
    assert!(page.contains(all) && page.contains("1 customers answered again. Of the 1 detractors"), "{page}");
    // The API with a session answers as the page does.
    let (http, cookie) = &lead;
    let lead_api = http.get(format!("{}/api/v1/reports/loop", app.base)).header("cookie", cookie).send().await.unwrap();
    let lead_api: Value = lead_api.json().await.unwrap();
    assert_eq!(lead_api["overall"]["opened"], 1, "{lead_api}");
    let agent = app.user_session("agent@example.com", Role::Agent, None, None).await;
    let (http, cookie) = &agent;
    for path in ["/admin/loop", "/api/v1/reports/loop"] {
        let refused = http.get(format!("{}{path}", app.base)).header("cookie", cookie).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let board = app.page_text(&agent, "/admin/cases", "en").await;
    assert!(!board.contains(r#"href="/admin/loop""#), "no link to a page the agent may not open: {board}");
}

/// Signs in over HTTP; returns a client that keeps no redirects, the session cookie, and a
/// way to read the CSRF token of a page.
async fn admin_session(app: &TestApp) -> (reqwest::Client, String) {
    app.user_session("boss@example.com", Role::Admin, None, None).await
}

/// The fields a browser sends for the first form in `html`: inputs (ticked boxes only),
/// chosen options and text areas.
fn form_fields(html: &str) -> Vec<(String, String)> {
    let form = &html[..html.find("</form>").unwrap()];
    let unescape = |s: &str| {
        s.replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#38;", "&")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let mut fields = Vec::new();
    for (i, _) in form.match_indices('<') {
        let tag = &form[i..i + form[i..].find('>').unwrap()];
        let Some(name) = attr(tag, "name") else { continue };
        if tag.starts_with("<input") {
            let checkbox = attr(tag, "type").as_deref() == Some("checkbox");
            if !checkbox || tag.contains(" checked") {
                fields.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
            }
        } else if tag.starts_with("<textarea") {
            let start = i + tag.len() + 1;
            fields.push((name, unescape(&form[start..start + form[start..].find("</textarea>").unwrap()])));
        } else if tag.starts_with("<select") {
            let options = &form[i..i + form[i..].find("</select>").unwrap()];
            let chosen = options
                .match_indices("<option")
                .map(|(j, _)| &options[j..])
                .find(|o| o[..o.find('>').unwrap()].contains(" selected"));
            let chosen = chosen.or_else(|| options.find("<option").map(|j| &options[j..]));
            fields.push((name, chosen.and_then(|o| attr(&o[..o.find('>').unwrap()], "value")).unwrap_or_default()));
        }
    }
    fields
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..at + 64].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_edit_playbooks_and_webhooks() {
    let app = TestApp::start_with(hark_store::testing::Backend::Sqlite, true).await.unwrap();
    let (http, cookie) = admin_session(&app).await;
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    let page_url = format!("{}/admin/surveys/{survey}/playbooks", app.base);
    let page = http.get(&page_url).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("detractor.open_case") && page.contains("never again"), "the default playbooks are shown");
    assert!(!page.contains("(JSON)"), "form controls, not JSON");
    let csrf = csrf_of(&page);
    // The form as the browser would send it, with some fields changed.
    let fields = form_fields(&page[page.find("<form method=\"post\">").unwrap()..]);
    let post = |changes: &[(&str, &str)]| {
        let mut body = fields.clone();
        for (k, v) in changes {
            match body.iter_mut().find(|(key, _)| key == k) {
                Some(field) => field.1 = v.to_string(),
                None => body.push((k.to_string(), v.to_string())),
            }
        }
        http.post(&page_url).header("cookie", &cookie).form(&body).send()
    };
    let bad = post(&[("detractor.due_days", "400")]).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("detractor.due_days") && bad.contains(r#"value="400""#), "the error, and what was typed");
    let bad = post(&[("detractor.due_days", "a week")]).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("a whole number of days"));
    let saved = post(&[
        ("detractor.due_days", "3"),
        ("detractor.assign", "round_robin"),
        ("detractor.assign_to", "Billing"),
        ("root_causes", "price\nspeed"),
        ("rule0.name", "VIP"),
        ("rule0.attributes", "plan=pro"),
        ("rule0.open_case", "on"),
        ("rule0.due_days", "1"),
    ])
    .await
    .unwrap();
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let def = app.store.get_survey(&survey).await.unwrap().unwrap().definition;
    assert_eq!(def.playbooks.detractor.due_days, 3);
    assert_eq!(def.playbooks.detractor.assign, hark_core::playbook::Assign::RoundRobin { team: "Billing".into() });
    assert_eq!(def.root_causes, ["price", "speed"]);
    assert_eq!(
        def.playbooks.promoter.mail,
        hark_core::playbook::Playbooks::default().promoter.mail,
        "the rest is kept"
    );
    let rule = &def.playbooks.rules[0];
    assert_eq!((rule.name.as_str(), rule.then.due_days, &rule.when.attributes["plan"]), ("VIP", 1, &json!("pro")));

    // A Slack webhook from the integrations page, and its "send test" button.
    let (receiver, url) = Receiver::start(0).await;
    let integrations = format!("{}/admin/integrations", app.base);
    let form = [("csrf", csrf.as_str()), ("name", "Team channel"), ("kind", "slack"), ("url", url.as_str())];
    let added = http.post(&integrations).header("cookie", &cookie).form(&form).send().await.unwrap();
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let hook = app.store.list_webhooks().await.unwrap().remove(0);
    let test = http
        .post(format!("{integrations}/{}/test", hook.id))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), StatusCode::SEE_OTHER);
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| !c.is_empty()) }).await;
    let body: Value = serde_json::from_str(&calls[0].1).unwrap();
    assert!(body["text"].as_str().unwrap().starts_with("Test message from Hark"), "{body}");
    let page = http.get(&integrations).header("cookie", &cookie).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("delivered"), "the delivery log shows it");
    let no_csrf = http.post(&integrations).header("cookie", &cookie).form(&form[1..]).send().await.unwrap();
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
}

/// An answer whose playbook has nothing to do (an anonymous passive) makes no job, unless a
/// webhook wants new answers; then it is delivered. A detractor's unassigned case mails nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_with_nothing_to_do_make_no_work_unless_a_webhook_wants_them() {
    let app = TestApp::start_with(hark_store::testing::Backend::Sqlite, true).await.unwrap();
    let survey = app.survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme"})).await;
    answer(&app, &survey, "quiet-1", 7, json!({})).await;
    answer(&app, &survey, "quiet-2", 2, json!({})).await;
    // The detractor's case was opened with the answer, in its group commit; unassigned, it
    // mails nobody, and without webhooks nothing is left for a job.
    assert!(app.store.list_jobs(None, 10).await.unwrap().is_empty());
    let cases = app.store.list_cases(&Default::default(), 10).await.unwrap();
    assert_eq!(cases.len(), 1);
    let history = app.store.case_events(&cases[0].id).await.unwrap();
    assert_eq!(
        (history[0].kind.as_str(), history[0].detail["reason"].as_str()),
        ("opened", Some("detractor playbook"))
    );

    let (receiver, url) = Receiver::start(0).await;
    app.post_json(
        "/api/v1/webhooks",
        &json!({"name": "BI", "kind": "generic", "url": url, "events": ["response.created"]}),
    )
    .await;
    let passive = answer(&app, &survey, "quiet-3", 8, json!({})).await;
    // Its delivery was queued with it, with no playbook job between.
    assert!(jobs_about(&app, &passive).await.is_empty());
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| !c.is_empty()) }).await;
    let body: Value = serde_json::from_str(&calls[0].1).unwrap();
    assert_eq!(body["data"]["response"]["id"], passive["id"]);
    assert_eq!((body["data"]["survey"]["name"].as_str(), body["data"]["link"].as_str()), (Some("NPS"), Some("")));
}

/// The jobs made for one answer, by kind.
async fn jobs_about(app: &TestApp, response: &Value) -> Vec<String> {
    jobs_of(app, response).await.into_iter().map(|j| j.kind).collect()
}

async fn jobs_of(app: &TestApp, response: &Value) -> Vec<Job> {
    let id = response["id"].as_str().unwrap();
    let jobs = app.store.list_jobs(None, 100).await.unwrap();
    jobs.into_iter().filter(|j| j.payload["response_id"] == id).collect()
}

/// A detractor's case is opened and assigned in the commit that stores the answer, so it
/// exists when the answer is acknowledged, and only its owner's notice is left to a job; what
/// needs more than the database (a public door's case budget, webhooks) still runs as a job.
async fn a_playbook_runs_in_its_answers_commit_unless_it_needs_a_job(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (team, agent, lead) = billing(&app).await;
    let survey = app.survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme"})).await;
    let contact = json!({"external_id": "kim", "email": "kim@example.com", "name": "Kim"});
    let r = answer(&app, &survey, "w-1", 1, json!({"agent_id": agent, "contact": contact})).await;
    let cases = app.store.cases_of_responses(&[r["id"].as_str().unwrap().to_owned()]).await.unwrap();
    assert_eq!(cases.len(), 1, "the case exists as soon as the answer is acknowledged");
    assert_eq!((cases[0].owner_id.as_deref(), cases[0].team_id.as_deref()), (Some(lead.as_str()), Some(team.as_str())));
    assert!(jobs_about(&app, &r).await.is_empty(), "no playbook job");
    let notices: Vec<_> =
        app.store.list_jobs(None, 100).await.unwrap().into_iter().filter(|j| j.kind == "case_mail").collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].payload, json!({"case_id": cases[0].id, "kind": "case_opened"}));
    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails[0].to, "lead@example.com");

    // Anonymous through the public link: the survey's hourly case budget is the job's to keep.
    let public = answer(&app, &survey, "w-2", 2, json!({"channel": "link"})).await;
    assert_eq!(jobs_about(&app, &public).await, ["playbook"]);
    // Wait for the job to end, not for its case: it queues the case's deliveries after
    // opening it, and a webhook made between the two would be sent this case too.
    eventually(WAIT, || async {
        jobs_of(&app, &public).await.iter().all(|j| j.status == JobStatus::Done).then_some(())
    })
    .await;
    let cases = app.store.cases_of_responses(&[public["id"].as_str().unwrap().to_owned()]).await.unwrap();
    assert_eq!(cases.len(), 1, "the job opened the public answer's case");

    // With webhooks on, the playbook still runs in the commit, which queues the deliveries
    // too; their links, made by path there, reach the receiver whole.
    let (receiver, url) = Receiver::start(0).await;
    app.post_json(
        "/api/v1/webhooks",
        &json!({"name": "CRM", "kind": "generic", "url": url, "events": ["case.opened", "response.created"]}),
    )
    .await;
    let contact = json!({"external_id": "lee", "email": "lee@example.com"});
    let hooked = answer(&app, &survey, "w-3", 3, json!({"agent_id": agent, "contact": contact})).await;
    assert!(jobs_about(&app, &hooked).await.is_empty(), "no playbook job");
    let cases = app.store.cases_of_responses(&[hooked["id"].as_str().unwrap().to_owned()]).await.unwrap();
    assert_eq!(cases.len(), 1, "the case exists as soon as the answer is acknowledged");
    let queued = app.store.list_jobs(None, 100).await.unwrap().into_iter().filter(|j| j.kind == "webhook").count();
    assert_eq!(queued, 2, "both deliveries queued with the answer");
    let calls = eventually(WAIT, || async { Some(receiver.calls()).filter(|c| c.len() >= 2) }).await;
    let mut links: Vec<(String, String)> = calls
        .iter()
        .map(|(headers, body)| {
            let body: Value = serde_json::from_str(body).unwrap();
            (headers["x-hark-event"].to_str().unwrap().to_owned(), body["data"]["link"].as_str().unwrap().to_owned())
        })
        .collect();
    links.sort();
    let contact_id = hooked["contact_id"].as_str().unwrap();
    assert_eq!(
        links,
        [
            ("case.opened".to_owned(), format!("{}/admin/cases/{}", app.base, cases[0].id)),
            ("response.created".to_owned(), format!("{}/admin/contacts/{contact_id}", app.base)),
        ]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.calls().len(), 2, "each delivered once");
}

/// A test server is known by its own answer, not by "something accepts connections": when
/// another process holds the port it was given (here a listener that never speaks), the mail
/// server started there exits, and it is started again on another port, which greets.
#[test]
fn a_test_server_whose_port_another_process_took_starts_again_elsewhere() {
    use std::net::TcpListener;
    use std::process::{Command, Stdio};
    let taken = std::cell::RefCell::new(None::<TcpListener>);
    let spawn = |port: u16| {
        let mut taken = taken.borrow_mut();
        if taken.is_none() {
            *taken = Some(TcpListener::bind(("127.0.0.1", port)).unwrap());
        }
        Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let (mut server, port) =
        hark_jobs::testing::serve_on_free_port("aiosmtpd", spawn, hark_jobs::testing::greets_as_smtp);
    let taken = taken.borrow().as_ref().unwrap().local_addr().unwrap().port();
    let _ = server.kill();
    let _ = server.wait();
    assert_ne!(port, taken, "the port another process holds");
}

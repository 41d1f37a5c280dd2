//! Every role closes the loop: team leads and agents see the cases in their scope and are
//! refused the rest (pages and the session API alike); a reply is recorded as queued, then
//! sent with the mail server's answer or failed with the reason, and only contacts that
//! happened count in the loop report.

mod common;

use std::time::Duration;

use common::{TestApp, eventually};
use hark_core::token::TokenKind;
use hark_store::{Case, CaseFilter, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

common::on_both!(
    mail: each_role_sees_and_works_only_the_cases_in_its_scope,
    a_refused_recipient_shows_on_the_case,
    an_anonymous_detractor_leaves_a_way_to_reach_them_and_the_case_goes_to_the_surveys_team
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_without_a_mail_server_is_failed_and_not_counted_on_sqlite() {
    let app = TestApp::start_without_mail_server(hark_store::testing::Backend::Sqlite).await.unwrap();
    a_reply_without_a_mail_server_is_failed_and_not_counted(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_without_a_mail_server_is_failed_and_not_counted_on_postgres() {
    if let Some(app) = TestApp::start_without_mail_server(hark_store::testing::Backend::Postgres).await {
        a_reply_without_a_mail_server_is_failed_and_not_counted(app).await;
    }
}

/// Two teams, each with a lead; an agent of Billing with a user; a detractor case for each
/// team, opened by the playbook (assigned to the team's lead). Returns the cases (billing,
/// sales) and the agent's id.
async fn two_teams(app: &TestApp, email: &str) -> (Case, Case, String) {
    let mut teams = Vec::new();
    for name in ["Billing", "Sales"] {
        let team = app.post_json("/api/v1/teams", &json!({"name": name})).await;
        teams.push(team["id"].as_str().unwrap().to_owned());
    }
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Somchai", "team_id": teams[0]})).await;
    let agent = agent["id"].as_str().unwrap().to_owned();
    let hash = hark_core::auth::hash_password("correct horse battery");
    for (lead, team) in [("lead@example.com", &teams[0]), ("sales-lead@example.com", &teams[1])] {
        let user = app.store.create_user(lead, None, Role::TeamLead, &hash).await.unwrap();
        app.store.set_user_team(&user.id, Some(team)).await.unwrap();
    }
    let survey =
        app.survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme", "root_causes": ["billing"]})).await;
    for (key, extra) in [
        (
            "b",
            json!({"agent_id": agent, "comment": "Billed twice", "contact": {"external_id": "ann", "email": email, "name": "Ann"}}),
        ),
        (
            "s",
            json!({"team_id": teams[1], "comment": "Pushy sales call", "contact": {"external_id": "bob", "email": "bob@example.com", "name": "Bob"}}),
        ),
    ] {
        let mut body = json!({"survey_id": survey, "score": 2});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let r = app.post("/api/v1/responses").header("Idempotency-Key", key).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let cases = eventually(WAIT, || async {
        let cases = app.store.list_cases(&CaseFilter::default(), 10).await.unwrap();
        (cases.len() == 2).then_some(cases)
    })
    .await;
    let billing = cases.iter().find(|c| c.team_id.as_deref() == Some(&teams[0])).unwrap().clone();
    let sales = cases.iter().find(|c| c.team_id.as_deref() == Some(&teams[1])).unwrap().clone();
    (billing, sales, agent)
}

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..at + 64].to_owned()
}

/// A signed-in person: a client and their session cookie.
struct Person {
    http: reqwest::Client,
    cookie: String,
    base: String,
}

impl Person {
    async fn sign_in(app: &TestApp, email: &str) -> Person {
        let (http, cookie) = app.sign_in(email, "correct horse battery").await.expect("signed in");
        Person { http, cookie, base: app.base.clone() }
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let r = self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// Posts a case-page form (with the page's CSRF token).
    async fn act(&self, case: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let (_, page) = self.page("/dashboard/overview").await;
        let mut form = vec![("csrf", csrf_of(&page))];
        form.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        let r = self
            .http
            .post(format!("{}/admin/cases/{case}", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn api(&self, path: &str) -> (StatusCode, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).header("cookie", &self.cookie).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    }
}

async fn each_role_sees_and_works_only_the_cases_in_its_scope(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let (billing, sales, agent) = two_teams(&app, "ann@example.com").await;
    let hash = hark_core::auth::hash_password("correct horse battery");
    let agent_user =
        app.store.create_user("somchai@example.com", Some("Somchai Chaiyaporn"), Role::Agent, &hash).await.unwrap();
    app.store.set_user_team(&agent_user.id, billing.team_id.as_deref()).await.unwrap();
    app.store.set_user_agent(&agent_user.id, Some(&agent)).await.unwrap();
    app.store.create_user("exec@example.com", None, Role::Executive, &hash).await.unwrap();
    let lead = Person::sign_in(&app, "lead@example.com").await;
    let somchai = Person::sign_in(&app, "somchai@example.com").await;
    let exec = Person::sign_in(&app, "exec@example.com").await;

    // The lead's inbox: their team's case, with its count in the top bar; not the other team's.
    let (status, inbox) = lead.page("/admin/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.contains(&billing.id) && !inbox.contains(&sales.id), "{inbox}");
    assert!(inbox.contains("1 mine"), "the top bar counts the lead's open cases");
    // Each case is a card on a phone, its customer by name.
    let customer = format!(r#"<td data-label="Customer"><a href="/admin/cases/{}">Ann</a></td>"#, billing.id);
    assert!(inbox.contains(r#"<table id="case-list" class="records">"#) && inbox.contains(&customer), "{inbox}");
    for view in ["mine", "team", "overdue", "soon", "unassigned", "all"] {
        let (status, page) = lead.page(&format!("/admin/cases?view={view}&status=")).await;
        assert_eq!(status, StatusCode::OK, "{view}: {page}");
        assert!(!page.contains(&sales.id), "{view}");
        assert_eq!(page.contains(&billing.id), matches!(view, "mine" | "team" | "all"), "{view}");
    }
    let (status, page) = lead.page("/admin/cases?view=nonsense").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("<h1>Not found</h1>"), "a page, not text: {page}");
    // The dashboard refuses another team's figures with a page too.
    let other_team = format!("/dashboard/overview?team_id={}", sales.team_id.as_deref().unwrap());
    let (status, page) = lead.page(&other_team).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("<h1>Not allowed</h1>") && page.contains("another team"), "{page}");
    let (status, refused) = lead.page(&format!("/admin/cases/{}", sales.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(refused.contains("<h1>Not allowed</h1>") && refused.contains("outside your scope"), "a page, not text");
    assert_eq!(lead.act(&sales.id, &[("action", "note"), ("body", "mine now")]).await.0, StatusCode::FORBIDDEN);
    // The session API applies the same scope.
    let (status, list) = lead.api("/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [billing.id.as_str()]);
    let (status, problem) = lead.api(&format!("/api/v1/cases/{}", sales.id)).await;
    assert_eq!((status, problem["status"].as_u64()), (StatusCode::FORBIDDEN, Some(403)));

    // The agent reads the case about their own answer but may not change it yet.
    let (status, page) = somchai.page(&format!("/admin/cases/{}", billing.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"read-only\"") && !page.contains("id=\"send-reply\""));
    assert_eq!(somchai.act(&billing.id, &[("action", "note"), ("body", "x")]).await.0, StatusCode::FORBIDDEN);
    assert_eq!(somchai.page(&format!("/admin/cases/{}", sales.id)).await.0, StatusCode::FORBIDDEN);

    // The lead may hand the case to their agent, not to the other team's lead.
    let users = app.store.list_users().await.unwrap();
    let sales_lead = users.iter().find(|u| u.email == "sales-lead@example.com").unwrap();
    let (status, _) = lead.act(&billing.id, &[("action", "assign"), ("owner_id", &sales_lead.id)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        lead.act(&billing.id, &[("action", "assign"), ("owner_id", &agent_user.id)]).await.0,
        StatusCode::SEE_OTHER
    );

    // Now the agent works it: a call that reached the customer, a reply through the mail
    // server, and the close with outcome and root cause.
    let (_, inbox) = somchai.page("/admin/cases").await;
    assert!(inbox.contains(&billing.id) && inbox.contains("Assigned to me (1)"), "{inbox}");
    let call = [("action", "contact"), ("channel", "call"), ("reached", "true"), ("note", "She was charged twice")];
    assert_eq!(somchai.act(&billing.id, &call).await.0, StatusCode::SEE_OTHER);
    let after_call = app.store.get_case(&billing.id).await.unwrap().unwrap();
    assert!(after_call.first_contact_at.is_some(), "a call that reached the customer is a contact");
    let reply =
        [("action", "reply"), ("subject", "Your refund"), ("body", "Sorry, Ann: the second charge is refunded.")];
    assert_eq!(somchai.act(&billing.id, &reply).await.0, StatusCode::SEE_OTHER);
    let mails = smtp.wait_for(3, WAIT).await;
    assert!(mails.iter().any(|m| (m.to.as_str(), m.subject.as_str()) == ("ann@example.com", "Your refund")));
    let sent = eventually(WAIT, || async {
        let (_, page) = somchai.page(&format!("/admin/cases/{}", billing.id)).await;
        page.contains("class=\"reply-sent\"").then_some(page)
    })
    .await;
    assert!(sent.contains("the second charge is refunded"), "the whole message is kept");
    assert!(sent.contains("250"), "the mail server's answer is shown");
    let close = [("action", "close"), ("outcome", "resolved"), ("root_cause", "billing")];
    assert_eq!(somchai.act(&billing.id, &close).await.0, StatusCode::SEE_OTHER);
    let closed = app.store.get_case(&billing.id).await.unwrap().unwrap();
    assert_eq!((closed.outcome.map(|o| o.as_str()), closed.root_cause.as_deref()), (Some("resolved"), Some("billing")));
    let history = app.store.case_events(&billing.id).await.unwrap();
    let by_agent: Vec<&str> =
        history.iter().filter(|e| e.actor == "somchai@example.com").map(|e| e.kind.as_str()).collect();
    assert_eq!(by_agent, ["contact", "reply", "closed"]);
    // The history reads as sentences about people, by name: no ids, no emails of named people.
    let (_, page) = lead.page(&format!("/admin/cases/{}", billing.id)).await;
    let history = &page[page.find("id=\"history\"").unwrap()..];
    for said in [
        "<td>Hark (the playbook)</td><td>opened (detractor playbook)",
        "<td>lead@example.com</td><td>assigned to Somchai Chaiyaporn",
        "<td>Somchai Chaiyaporn</td><td>called the customer: reached them",
        "<td>Somchai Chaiyaporn</td><td>closed: resolved",
    ] {
        assert!(history.contains(said), "{said} in {history}");
    }
    assert!(!history.contains(&agent_user.id) && !history.contains("somchai@example.com"));

    // An executive reads every case and changes none.
    assert_eq!(exec.page(&format!("/admin/cases/{}", sales.id)).await.0, StatusCode::OK);
    assert_eq!(exec.act(&sales.id, &[("action", "note"), ("body", "x")]).await.0, StatusCode::FORBIDDEN);
    // Every role signs out.
    for person in [&lead, &somchai, &exec] {
        let (_, page) = person.page("/admin/cases").await;
        let out = person
            .http
            .post(format!("{}/logout", person.base))
            .header("cookie", &person.cookie)
            .form(&[("csrf", csrf_of(&page))])
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(person.page("/admin/cases").await.0, StatusCode::SEE_OTHER, "signed out: sent to sign in");
    }
}

async fn a_reply_without_a_mail_server_is_failed_and_not_counted(app: TestApp) {
    let (billing, _, _) = two_teams(&app, "ann@example.com").await;
    let lead = Person::sign_in(&app, "lead@example.com").await;
    let (_, page) = lead.page(&format!("/admin/cases/{}", billing.id)).await;
    assert!(page.contains("id=\"no-mail\""), "the form says so before anyone writes");
    let reply = [("action", "reply"), ("subject", "Sorry"), ("body", "We refunded you.")];
    let (status, page) = lead.act(&billing.id, &reply).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not sent: no mail server is configured"), "{page}");
    assert!(page.contains("class=\"reply-failed\"") && page.contains("We refunded you."), "kept, marked failed");
    let case = app.store.get_case(&billing.id).await.unwrap().unwrap();
    assert_eq!((case.first_contact_at, case.status.as_str()), (None, "open"));
    let close = [("action", "close"), ("outcome", "resolved"), ("root_cause", "billing")];
    assert_eq!(lead.act(&billing.id, &close).await.0, StatusCode::SEE_OTHER);
    let report = app.get_json("/api/v1/reports/loop").await;
    let all = &report["overall"];
    assert_eq!((all["contacted"].as_u64(), all["closed_without_contact"].as_u64()), (Some(0), Some(1)), "{report}");
    assert_eq!(all["closed_on_time_percent"], 0.0, "closing without reaching the customer is not on time");
    assert!(all["median_hours_to_first_contact"].is_null());
}

async fn a_refused_recipient_shows_on_the_case(app: TestApp) {
    let (billing, _, _) = two_teams(&app, "bounce-ann@example.com").await;
    let lead = Person::sign_in(&app, "lead@example.com").await;
    let reply = [("action", "reply"), ("subject", "Sorry"), ("body", "We refunded you.")];
    assert_eq!(lead.act(&billing.id, &reply).await.0, StatusCode::SEE_OTHER);
    let page = eventually(WAIT, || async {
        let (_, page) = lead.page(&format!("/admin/cases/{}", billing.id)).await;
        page.contains("class=\"reply-failed\"").then_some(page)
    })
    .await;
    assert!(page.contains("the mail server refused it") && page.contains("550"), "{page}");
    let case = app.store.get_case(&billing.id).await.unwrap().unwrap();
    assert_eq!(case.first_contact_at, None);
    let report = app.get_json("/api/v1/reports/loop").await;
    assert_eq!(report["overall"]["contacted"], 0);
}

/// A score and then the follow-up form on a survey's anonymous link; returns the follow-up
/// path (`/r/…`).
async fn anonymous_answer(app: &TestApp, link: &str, score: &str, nonce: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.post(format!("{}/s/{link}", app.base)).form(&[("score", score), ("nonce", nonce)]).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn an_anonymous_detractor_leaves_a_way_to_reach_them_and_the_case_goes_to_the_surveys_team(app: TestApp) {
    let team = app.post_json("/api/v1/teams", &json!({"name": "Billing"})).await;
    let hash = hark_core::auth::hash_password("correct horse battery");
    let lead = app.store.create_user("lead@example.com", None, Role::TeamLead, &hash).await.unwrap();
    app.store.set_user_team(&lead.id, team["id"].as_str()).await.unwrap();
    let mut def = json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme", "anonymous_link": true,
        "playbooks": {"case_team": "Nope"}});
    let unknown = app.post("/api/v1/surveys").json(&def).send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json::<Value>().await.unwrap()["errors"][0]["field"], "playbooks.case_team");
    def["playbooks"]["case_team"] = json!("Billing");
    let survey = app.survey(def).await;
    let link = app.state.signer().sign(TokenKind::Survey, &survey);

    // A promoter is not asked; a detractor is.
    let promoter = anonymous_answer(&app, &link, "10", "p-1").await;
    let page = app.client.get(format!("{}{promoter}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("contact-ask"));
    let detractor = anonymous_answer(&app, &link, "2", "d-1").await;
    let url = format!("{}{detractor}", app.base);
    let page = app.client.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"contact-ask\"") && page.contains("May we contact you about this?"), "{page}");
    let send = |fields: Vec<(&'static str, &'static str)>| {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        http.post(&url).form(&fields).send()
    };
    let bad = send(vec![
        ("score", "2"),
        ("comment", "Rude staff"),
        ("contact_ok", "1"),
        ("contact_email", "zoe at home"),
        ("done", "1"),
    ]);
    let bad = bad.await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("give a valid email address or phone number"));
    let good = vec![
        ("score", "2"),
        ("comment", "Rude staff"),
        ("contact_ok", "1"),
        ("contact_email", "zoe@example.com"),
        ("contact_phone", "+82 10-1234-5678"),
        ("done", "1"),
    ];
    assert_eq!(send(good).await.unwrap().status(), StatusCode::SEE_OTHER);

    let case = eventually(WAIT, || async {
        let cases = app.store.list_cases(&CaseFilter::default(), 10).await.unwrap();
        cases.into_iter().find(|c| c.contact_id.is_some())
    })
    .await;
    assert_eq!((case.team_id.as_deref(), case.owner_id.as_deref()), (team["id"].as_str(), Some(lead.id.as_str())));
    let contact = app.store.get_contact(case.contact_id.as_deref().unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (contact.email.as_deref(), contact.phone.as_deref()),
        (Some("zoe@example.com"), Some("+82 10-1234-5678"))
    );
    assert!(contact.contact_consent_at.is_some());
    let lead = Person::sign_in(&app, "lead@example.com").await;
    let (_, page) = lead.page(&format!("/admin/cases/{}", case.id)).await;
    assert!(
        page.contains("+82 10-1234-5678") && page.contains("Agreed to be contacted") && !page.contains("id=\"no-way\"")
    );

    // A detractor who leaves nothing: the case says there is no way to reach them, and closes so.
    anonymous_answer(&app, &link, "1", "d-2").await;
    let silent = eventually(WAIT, || async {
        let cases = app.store.list_cases(&CaseFilter::default(), 10).await.unwrap();
        cases.into_iter().find(|c| c.contact_id.is_none())
    })
    .await;
    let (_, page) = lead.page(&format!("/admin/cases/{}", silent.id)).await;
    assert!(page.contains("id=\"no-way\"") && page.contains("<h1>Case: anonymous</h1>"), "{page}");
    let close = [("action", "close"), ("outcome", "no_contact"), ("root_cause", "")];
    assert_eq!(lead.act(&silent.id, &close).await.0, StatusCode::SEE_OTHER);
    let closed = app.store.get_case(&silent.id).await.unwrap().unwrap();
    assert_eq!(closed.outcome.map(|o| o.as_str()), Some("no_contact"));
}

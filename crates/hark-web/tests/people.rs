//! Admin pages for people, API keys and mail: add a person (their generated password works),
//! change role and team, reset a password, deactivate (signed out, cannot sign in); create
//! and revoke a key; see the mail server, send a test mail, see a refusal.

mod common;

use common::TestApp;
use hark_store::Role;
use hark_store::testing::Backend;
use reqwest::StatusCode;

fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a form with a CSRF token") + 19;
    page[at..at + 64].to_owned()
}

/// The text between `start` and the next `end` in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page.find(start).unwrap_or_else(|| panic!("`{start}` in {page}")) + start.len();
    &page[from..from + page[from..].find(end).unwrap()]
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> Option<String> {
    app.sign_in(email, password).await.map(|(_, cookie)| cookie)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_people_and_keys_from_the_pages() {
    let app = TestApp::start(Backend::Sqlite).await.unwrap();
    let team = app.post_json("/api/v1/teams", &serde_json::json!({"name": "Billing"})).await;
    let team = team["id"].as_str().unwrap().to_owned();
    let (http, cookie) = app.user_session("boss@example.com", Role::Admin, None, None).await;
    let get = |path: &str| http.get(format!("{}{path}", app.base)).header("cookie", &cookie).send();
    let page = get("/admin/users").await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let mut form: Vec<(&str, &str)> = form;
        form.push(("csrf", &csrf));
        http.post(format!("{}{path}", app.base)).header("cookie", &cookie).form(&form).send()
    };

    let bad = post("/admin/users", vec![("email", "not-an-address"), ("role", "agent")]).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let added = post("/admin/users", vec![("email", "Mia@Example.com"), ("role", "team_lead"), ("team_id", &team)]);
    let added = added.await.unwrap().text().await.unwrap();
    let password = between(&added, "can sign in with the password ", " (shown once").to_owned();
    let mia_cookie = sign_in(&app, "mia@example.com", &password).await.expect("the shown password works");
    let mia = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "mia@example.com").unwrap();
    assert_eq!((mia.role, mia.team_id.as_deref()), (Role::TeamLead, Some(team.as_str())));
    let again = post("/admin/users", vec![("email", "mia@example.com"), ("role", "agent")]).await.unwrap();
    assert!(again.text().await.unwrap().contains("already has an account"));

    // A lead may not open the people page.
    let refused = http.get(format!("{}/admin/users", app.base)).header("cookie", &mia_cookie).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("Only admins may open this page."));

    // Change the role; reset the password (the old one stops working); deactivate and back.
    let path = format!("/admin/users/{}", mia.id);
    let wrong = post(&path, vec![("action", "save"), ("role", "team_lead"), ("agent_id", "nope")]).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    post(&path, vec![("action", "save"), ("role", "executive"), ("name", "Mia")]).await.unwrap();
    let mia = app.store.get_user(&mia.id).await.unwrap().unwrap();
    assert_eq!((mia.role, mia.name.as_deref(), mia.team_id), (Role::Executive, Some("Mia"), None));
    let reset = post(&path, vec![("action", "password")]).await.unwrap().text().await.unwrap();
    let new_password = between(&reset, "new password is ", " (shown once").to_owned();
    assert!(sign_in(&app, "mia@example.com", &password).await.is_none());
    let session = sign_in(&app, "mia@example.com", &new_password).await.unwrap();
    post(&path, vec![("action", "deactivate")]).await.unwrap();
    let gone = http.get(format!("{}/admin/cases", app.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::SEE_OTHER, "a deactivated person's session ends");
    assert!(sign_in(&app, "mia@example.com", &new_password).await.is_none(), "and they cannot sign in");
    post(&path, vec![("action", "activate")]).await.unwrap();
    assert!(sign_in(&app, "mia@example.com", &new_password).await.is_some());
    let me = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "boss@example.com").unwrap();
    let myself = post(&format!("/admin/users/{}", me.id), vec![("action", "deactivate")]).await.unwrap();
    assert_eq!(myself.status(), StatusCode::UNPROCESSABLE_ENTITY, "an admin cannot lock themselves out");

    // An API key: shown once, works, revoked.
    let made = post("/admin/keys", vec![("name", "CRM sync")]).await.unwrap().text().await.unwrap();
    let token = between(&made, "(shown once; store it now): ", "<").to_owned();
    let with_key = |token: String| app.client.get(format!("{}/api/v1/surveys", app.base)).bearer_auth(token).send();
    assert_eq!(with_key(token.clone()).await.unwrap().status(), StatusCode::OK);
    let key = app.store.list_api_keys().await.unwrap().into_iter().find(|k| k.name == "CRM sync").unwrap();
    post(&format!("/admin/keys/{}/revoke", key.id), vec![]).await.unwrap();
    let listed = get("/admin/users").await.unwrap().text().await.unwrap();
    assert!(listed.contains("CRM sync") && !listed.contains(&token), "the token is never shown again");
    assert!(app.store.list_api_keys().await.unwrap().iter().any(|k| k.id == key.id && k.revoked_at.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_page_shows_the_server_and_sends_a_test_mail() {
    let app = TestApp::start_with(Backend::Sqlite, true).await.unwrap();
    let smtp = app.smtp.as_ref().unwrap();
    let (http, cookie) = app.user_session("boss@example.com", Role::Admin, None, None).await;
    let page = http.get(format!("{}/admin/mail", app.base)).header("cookie", &cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains(&smtp.url()) && page.contains("hark@test.localhost"), "{page}");
    let test = |to: &'static str| {
        let form = [("csrf", csrf_of(&page)), ("to", to.to_owned())];
        http.post(format!("{}/admin/mail", app.base)).header("cookie", &cookie).form(&form).send()
    };
    let sent = test("ops@example.com").await.unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    assert!(sent.text().await.unwrap().contains("The mail server answered: 250"));
    let mails = smtp.wait_for(1, std::time::Duration::from_secs(10)).await;
    assert_eq!((mails[0].to.as_str(), mails[0].subject.as_str()), ("ops@example.com", "Hark test mail"));
    let refused = test("bounce@example.com").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.unwrap().contains("550"));

    let without = TestApp::start_without_mail_server(Backend::Sqlite).await.unwrap();
    let (http, cookie) = without.user_session("boss@example.com", Role::Admin, None, None).await;
    let page = http.get(format!("{}/admin/mail", without.base)).header("cookie", &cookie).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("id=\"no-mail\""));
}

//! Figures behind links, for people who do not sign in: a dashboard view shared by its maker
//! shows what the maker may see and reads only; a wallboard shows today's and this month's
//! NPS; a forged, revoked or expired link, or one whose maker has left, answers a bare 404.

mod common;

use common::TestApp;
use hark_core::token::{Signer, TokenKind};
use hark_store::{NewSharedLink, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};

common::on_both!(
    a_shared_view_shows_its_maker_s_scope_and_reads_only,
    a_link_ends_when_revoked_expired_or_its_maker_leaves,
    a_wallboard_shows_today_and_the_month_without_customers_names
);

/// Two teams with an agent each; North's lead; answers for both (North promoters, South
/// detractors), with comments and named customers. Returns (North's id, the survey).
async fn floor(app: &TestApp) -> (String, String) {
    let survey = app.survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme"})).await;
    let mut north = String::new();
    for (team, agent, score) in [("North", "Ann North", 10), ("South", "Bo South", 3)] {
        let t = app.post_json("/api/v1/teams", &json!({"name": team})).await;
        let a = app.post_json("/api/v1/agents", &json!({"name": agent, "team_id": t["id"]})).await;
        if team == "North" {
            north = t["id"].as_str().unwrap().to_owned();
        }
        for i in 0..6 {
            let body = json!({"survey_id": survey, "score": score, "agent_id": a["id"],
                "comment": format!("{team} comment {i}"),
                "contact": {"external_id": format!("{team}-{i}"), "name": format!("Customer {team} {i}")}});
            let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("{team}-{i}")).json(&body);
            assert!(r.send().await.unwrap().status().is_success());
        }
    }
    (north, survey)
}

async fn csrf(http: &reqwest::Client, app: &TestApp, cookie: &str) -> String {
    let page = http.get(format!("{}/account", app.base)).header("cookie", cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned()
}

/// Shares `page?query` as the person behind `cookie`: the response.
async fn share(
    app: &TestApp,
    (http, cookie): &(reqwest::Client, String),
    page: &str,
    query: &str,
    personal: bool,
) -> reqwest::Response {
    let token = csrf(http, app, cookie).await;
    let mut form = vec![("csrf", token.as_str()), ("page", page), ("query", query), ("days", "7")];
    if personal {
        form.push(("personal_data", "1"));
    }
    http.post(format!("{}/dashboard/share", app.base)).header("cookie", cookie).form(&form).send().await.unwrap()
}

/// The address on the page that made a link.
async fn address_of(made: reqwest::Response) -> String {
    assert_eq!(made.status(), StatusCode::OK);
    let html = made.text().await.unwrap();
    html.split("id=\"address\" readonly value=\"").nth(1).expect("the address").split('"').next().unwrap().to_owned()
}

/// Without cookies: what anyone with the link gets.
async fn open(address: &str) -> (StatusCode, String) {
    let r = reqwest::get(address).await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn a_shared_view_shows_its_maker_s_scope_and_reads_only(app: TestApp) {
    let (north, _) = floor(&app).await;
    let lead = app.user_session("lead@example.com", Role::TeamLead, Some(&north), None).await;
    let address = address_of(share(&app, &lead, "agents", "", false).await).await;
    assert!(address.starts_with(&format!("{}/shared/s", app.base)), "{address}");

    let (status, html) = open(&address).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"shared-notice\""), "says it is a shared view");
    assert!(html.contains("Ann North") && !html.contains("Bo South"), "the lead's scope: their own team's agents");
    assert!(
        !html.contains("<form") && !html.contains("csrf") && !html.contains("<header>"),
        "reads only, no staff bar"
    );
    assert!(!html.contains("href=\"/dashboard") && !html.contains("href=\"/admin"), "no way into Hark");
    assert!(!html.contains("Customer North"), "no customer's name");

    // Customers' data: only an admin may share it; agents share nothing.
    assert_eq!(share(&app, &lead, "responses", "", true).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(share(&app, &lead, "responses", "", false).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(share(&app, &lead, "monitoring", "", false).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let agent = app.user_session("agent@example.com", Role::Agent, Some(&north), None).await;
    assert_eq!(share(&app, &agent, "overview", "", false).await.status(), StatusCode::FORBIDDEN);
    let admin = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let answers = address_of(share(&app, &admin, "responses", "segment=promoter", true).await).await;
    let (status, html) = open(&answers).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Customer North") && !html.contains("Customer South"),
        "the admin allowed names; promoters only"
    );

    // A link that asks for more than its maker may see is refused when opened.
    let wider = address_of(share(&app, &lead, "segments", "by=team", false).await).await;
    assert_eq!(open(&wider).await.0, StatusCode::FORBIDDEN);
    let links = app.store.list_shared_links().await.unwrap();
    assert_eq!(links.len(), 3, "the refused requests made no link");
}

async fn a_link_ends_when_revoked_expired_or_its_maker_leaves(app: TestApp) {
    let (north, _) = floor(&app).await;
    let lead = app.user_session("lead@example.com", Role::TeamLead, Some(&north), None).await;
    let address = address_of(share(&app, &lead, "overview", "", false).await).await;
    assert_eq!(open(&address).await.0, StatusCode::OK);
    let ended = |(status, body): (StatusCode, String)| status == StatusCode::NOT_FOUND && body == "not found";

    // Forged: another id, or a token of another kind for the same id.
    let link = app.store.list_shared_links().await.unwrap().remove(0);
    let mut forged = address.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert!(ended(open(&forged).await));
    let signer = Signer::new(app.store.link_secret().await.unwrap().as_bytes());
    let as_referral = format!("{}/shared/{}", app.base, signer.sign(TokenKind::Referral, &link.id));
    assert!(ended(open(&as_referral).await));
    let as_wallboard = format!("{}/wallboard/{}", app.base, signer.sign(TokenKind::Shared, &link.id));
    assert!(ended(open(&as_wallboard).await), "a view's link opens no wallboard");

    // Revoked: by another team lead refused; by an admin done, and then it says nothing.
    let other = app.user_session("other@example.com", Role::TeamLead, None, None).await;
    let revoke = |who: &(reqwest::Client, String)| {
        let (http, cookie) = who.clone();
        let app = &app;
        let id = link.id.clone();
        async move {
            let token = csrf(&http, app, &cookie).await;
            let url = format!("{}/shared-links/{id}/revoke", app.base);
            http.post(url).header("cookie", cookie).form(&[("csrf", token)]).send().await.unwrap().status()
        }
    };
    assert_eq!(revoke(&other).await, StatusCode::FORBIDDEN);
    assert_eq!(open(&address).await.0, StatusCode::OK);
    let admin = app.user_session("admin@example.com", Role::Admin, None, None).await;
    assert_eq!(revoke(&admin).await, StatusCode::SEE_OTHER);
    assert!(ended(open(&address).await));
    let listed = admin.0.get(format!("{}/admin/shared", app.base)).header("cookie", &admin.1).send().await.unwrap();
    let listed = listed.text().await.unwrap();
    assert!(listed.contains("revoked") && listed.contains("lead@example.com"), "the admin's list says so");

    // Expired.
    let maker = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "lead@example.com").unwrap();
    let new = |expires_at| NewSharedLink {
        kind: "view",
        page: "overview",
        query: "",
        created_by: &maker.id,
        personal_data: false,
        expires_at,
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let old = app.store.create_shared_link(&new(now - 1)).await.unwrap();
    assert!(ended(open(&format!("{}/shared/{}", app.base, signer.sign(TokenKind::Shared, &old.id))).await));

    // Its maker leaves: the link ends with the account.
    let live = app.store.create_shared_link(&new(now + 86_400_000)).await.unwrap();
    let live = format!("{}/shared/{}", app.base, signer.sign(TokenKind::Shared, &live.id));
    assert_eq!(open(&live).await.0, StatusCode::OK);
    app.store.set_user_active(&maker.id, false).await.unwrap();
    assert!(ended(open(&live).await));
}

async fn a_wallboard_shows_today_and_the_month_without_customers_names(app: TestApp) {
    let (north, _) = floor(&app).await;
    let (http, cookie) = app.user_session("admin@example.com", Role::Admin, None, None).await;
    let token = csrf(&http, &app, &cookie).await;
    let made = http
        .post(format!("{}/admin/shared", app.base))
        .header("cookie", &cookie)
        .form(&[("csrf", token.as_str()), ("team_id", north.as_str()), ("days", "30")])
        .send()
        .await
        .unwrap();
    let address = address_of(made).await;
    assert!(address.starts_with(&format!("{}/wallboard/s", app.base)), "{address}");
    let (status, html) = open(&address).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("North comment") && !html.contains("South comment"), "the team's promoters");
    assert!(!html.contains("Customer North"), "no names unless allowed");
    let figures: Value = reqwest::get(format!("{address}/figures")).await.unwrap().json().await.unwrap();
    assert_eq!(figures["answers_today"], "6");
    assert_eq!(figures["today"]["nps"], "+100");
    assert!(figures["today"]["detail"].as_str().unwrap().starts_with("n = 6 · 95% CI"), "{figures}");
    assert_eq!(figures["comments"].as_array().unwrap().len(), 5);
    assert!(figures["comments"][0]["who"].is_null());
    // In the language of the screen's browser.
    let korean = reqwest::Client::new().get(&address).header("accept-language", "ko-KR,ko;q=0.9").send().await.unwrap();
    let korean = korean.text().await.unwrap();
    assert!(korean.contains("<html lang=\"ko\"") && korean.contains("오늘 NPS"), "{korean}");
    // A view's link opens no wallboard, and a wallboard's no view.
    let view = address.replace("/wallboard/", "/shared/");
    assert_eq!(open(&view).await.0, StatusCode::NOT_FOUND);
}

//! The collection channels end to end: survey mail through a real SMTP server process, the
//! score links inside it, events that trigger surveys, consent and fatigue, the link page in
//! headless Chromium with and without JavaScript, the website widget on another origin, and
//! the admin pages.

mod common;

use std::time::Duration;

use common::{TestApp, eventually};
use hark_store::{InvitationStatus, ResponseFilter};
use reqwest::StatusCode;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

common::on_both!(
    mail: email_score_links_record_once_and_refuse_tampering,
    events_invite_once_and_respect_consent_and_fatigue,
    bounces_are_recorded_and_one_reminder_goes_to_the_unanswered,
    a_send_to_a_segment_invites_each_contact_once_a_page_at_a_time
);

/// A team, an agent in it, and a contact with an address.
async fn people(app: &TestApp, external_id: &str, locale: &str) -> (String, String, String) {
    let team = app.post_json("/api/v1/teams", &json!({"name": format!("Billing {external_id}")})).await;
    let agent = app.post_json("/api/v1/agents", &json!({"name": "Somchai", "team_id": team["id"]})).await;
    let contact = app
        .post_json(
            "/api/v1/contacts",
            &json!({"external_id": external_id, "email": format!("{external_id}@example.com"), "name": "Mina", "locale": locale}),
        )
        .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    (id(&team), id(&agent), id(&contact))
}

fn score_links(text: &str) -> Vec<String> {
    text.split_whitespace().filter(|w| w.contains("/s/i") && w.contains("?score=")).map(str::to_owned).collect()
}

async fn email_score_links_record_once_and_refuse_tampering(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    let survey = app
        .survey(json!({"name": "Support NPS", "kind": "nps", "brand": "Acme",
            "triggers": [{"event": "call.ended", "delay_minutes": 0, "channel": "email"}],
            // Survey mail only: no case, no thank-you (the playbooks have tests of their own).
            "playbooks": {"detractor": {"open_case": false}, "promoter": {"mail": null}}}))
        .await;
    let (team, agent, contact) = people(&app, "mina", "en").await;
    let event = app
        .post("/api/v1/events")
        .header("Idempotency-Key", "call-1")
        .json(&json!({"name": "call.ended", "contact": {"external_id": "mina"},
            "properties": {"agent_id": agent, "ticket_id": "T-42", "order_id": "A-1001", "handle_time_s": 340}}))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), StatusCode::ACCEPTED);

    let mails = smtp.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, "mina@example.com");
    assert!(
        mail.text.contains("Hi Mina,") && mail.text.contains("Somchai") && mail.text.contains("A-1001"),
        "{}",
        mail.text
    );
    let links = score_links(&mail.text);
    assert_eq!(links.len(), 11, "{}", mail.text);
    for (n, link) in links.iter().enumerate() {
        assert!(link.ends_with(&format!("?score={n}")));
        assert!(mail.html.contains(&link.replace('&', "&amp;")), "HTML part lacks link {n}");
    }
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with('<') && unsubscribe.contains("/u/i"), "{unsubscribe}");
    assert_eq!(mail.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));

    // A click on "3" opens the page with 3 pressed, which sends it at once by script (as a
    // browser does here): a detractor, about the invitation's agent and team, with its context.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = no_redirect.get(&links[3]).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"value="3" aria-label="3 out of 10" aria-pressed="true""#), "{page}");
    assert!(page.contains("/assets/send-score.js"));
    let send = |n: &str| {
        let action = links[3].split('?').next().unwrap().to_owned();
        no_redirect.post(action).form(&[("score", n), ("lang", "en")]).send()
    };
    let click = send("3").await.unwrap();
    assert_eq!(click.status(), StatusCode::SEE_OTHER);
    let follow_up = click.headers()["location"].to_str().unwrap().to_owned();
    assert!(follow_up.starts_with("/r/r"));
    let filter = ResponseFilter { survey_id: Some(survey.clone()), ..Default::default() };
    let stored = app.store.list_responses(&filter, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    let r = &stored[0];
    assert_eq!((r.score, r.segment.as_str(), r.channel.as_str()), (3, "detractor", "email"));
    assert_eq!(r.agent_id.as_deref(), Some(agent.as_str()));
    assert_eq!(r.team_id.as_deref(), Some(team.as_str()));
    assert_eq!(r.contact_id.as_deref(), Some(contact.as_str()));
    assert_eq!(r.context["ticket_id"], "T-42");
    assert!(r.invitation_id.is_some());

    // A second click changes the score of the same response.
    let again = send("9").await.unwrap();
    assert_eq!(again.headers()["location"].to_str().unwrap(), follow_up);
    let stored = app.store.list_responses(&filter, None, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].id.as_str(), stored[0].score, stored[0].segment.as_str()), (r.id.as_str(), 9, "promoter"));

    // A tampered link is refused and changes nothing.
    let mut tampered = links[0].clone();
    let at = tampered.find("?score").unwrap() - 1;
    let flipped = if &tampered[at..=at] == "0" { "1" } else { "0" };
    tampered.replace_range(at..=at, flipped);
    let refused = no_redirect.get(&tampered).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let other_invitation = links[0].replacen("/s/i0", "/s/i1", 1);
    assert_eq!(no_redirect.get(&other_invitation).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let stored = app.store.list_responses(&filter, None, 10).await.unwrap();
    assert_eq!((stored.len(), stored[0].score), (1, 9));

    // The follow-up page finishes the same answer; the comment is kept.
    let page = no_redirect.get(format!("{}{follow_up}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("What did you like most?"), "promoter follow-up expected");
    let saved = no_redirect
        .post(format!("{}{follow_up}", app.base))
        .form(&[("comment", "ขอบคุณมากครับ บริการดีมาก"), ("done", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.headers()["location"].to_str().unwrap(), format!("{follow_up}?done=1"));
    let r = app.store.get_response(&r.id).await.unwrap().unwrap();
    assert_eq!((r.score, r.comment.as_deref()), (9, Some("ขอบคุณมากครับ บริการดีมาก")));
    // A forged score is refused with a page that names the problem; the answer is unchanged.
    let forged = no_redirect.post(format!("{}{follow_up}", app.base)).form(&[("score", "11")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(forged.text().await.unwrap().contains("Your answer could not be saved: score:"));
    assert_eq!(app.store.get_response(&r.id).await.unwrap().unwrap().score, 9);

    // Unsubscribing through the mail's link stops every later survey to this contact.
    let unsubscribe_url = unsubscribe.trim_matches(['<', '>']);
    let page = reqwest::get(unsubscribe_url).await.unwrap().text().await.unwrap();
    assert!(page.contains("Stop receiving surveys from Acme?"));
    assert_eq!(no_redirect.post(unsubscribe_url).send().await.unwrap().status(), StatusCode::OK);
    assert!(app.store.get_contact(&contact).await.unwrap().unwrap().unsubscribed_at.is_some());
    let sent =
        app.post_json(&format!("/api/v1/surveys/{survey}/invitations"), &json!({"contact_ids": [contact]})).await;
    assert_eq!((sent["scheduled"].as_u64(), sent["skipped_by_reason"]["unsubscribed"].as_u64()), (Some(0), Some(1)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1, "nothing more was mailed");
}

async fn events_invite_once_and_respect_consent_and_fatigue(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    app.survey(json!({"name": "Delivery CSAT", "kind": "csat", "brand": "Acme",
        "triggers": [{"event": "order.delivered", "delay_minutes": 0}]}))
        .await;
    people(&app, "ana", "it").await;
    let event =
        json!({"name": "order.delivered", "contact": {"external_id": "ana"}, "properties": {"order_id": "O-7"}});
    let post =
        |key: &'static str, body: Value| app.post("/api/v1/events").header("Idempotency-Key", key).json(&body).send();
    // The same event posted twice at once: one invitation, one mail.
    let (a, b) = tokio::join!(post("order-7", event.clone()), post("order-7", event.clone()));
    let mut statuses = [a.unwrap().status(), b.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::ACCEPTED]);
    let retry: Value = post("order-7", event.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(retry["created"], false);
    assert_eq!(retry["invitations"].as_array().unwrap().len(), 1);
    let mails = smtp.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1, "{mails:?}");
    assert_eq!(mails[0].subject, "Una domanda veloce da Acme", "the contact's language (it)");
    let contact = app.store.contact_by_external_id("ana").await.unwrap().unwrap();
    // The send is recorded just after the SMTP server takes the mail.
    let invitations = eventually(WAIT, || async {
        let list = app.store.list_invitations(Some(&contact.id), None, 10).await.unwrap();
        list.iter().all(|i| i.status != InvitationStatus::Scheduled).then_some(list)
    })
    .await;
    assert_eq!(invitations.len(), 1);
    assert_eq!(invitations[0].status, InvitationStatus::Sent);

    // The same key for another event is a conflict.
    let other =
        json!({"name": "order.delivered", "contact": {"external_id": "ana"}, "properties": {"order_id": "O-8"}});
    assert_eq!(post("order-7", other.clone()).await.unwrap().status(), StatusCode::CONFLICT);

    // A new order inside the survey's 7-day window: recorded as skipped, with the reason.
    let skipped: Value = post("order-8", other).await.unwrap().json().await.unwrap();
    let inv = &skipped["invitations"][0];
    assert_eq!(inv["status"], "skipped");
    assert!(inv["status_detail"].as_str().unwrap().starts_with("fatigue: last surveyed"), "{inv}");

    // An unsubscribed contact gets no invitation that could be sent, and no mail.
    people(&app, "ben", "en").await;
    let ben = app.store.contact_by_external_id("ben").await.unwrap().unwrap();
    app.store.unsubscribe(&ben.id).await.unwrap();
    let body = json!({"name": "order.delivered", "contact": {"external_id": "ben"}});
    let res: Value = post("order-9", body).await.unwrap().json().await.unwrap();
    assert_eq!(res["invitations"][0]["status"], "skipped");
    assert!(res["invitations"][0]["status_detail"].as_str().unwrap().starts_with("unsubscribed"));
    // Both skips are on the contacts' records.
    let listed = app.get_json(&format!("/api/v1/invitations?contact_id={}", ben.id)).await;
    assert_eq!(listed[0]["status"], "skipped");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 1);
    let jobs = app.store.list_jobs(None, 100).await.unwrap();
    assert_eq!(jobs.len(), 1, "one send job in all: {jobs:?}");

    // Bad events are refused by name and store nothing.
    for (body, field) in [
        (json!({"name": "bad name", "contact": {"external_id": "x"}}), "name"),
        (
            json!({"name": "a", "contact": {"external_id": "x"}, "properties": {"agent_id": "nope"}}),
            "properties.agent_id",
        ),
        (json!({"name": "a", "contact": {"external_id": ""}}), "contact.external_id"),
    ] {
        let r = post("bad", body).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let no_key = app.post("/api/v1/events").json(&event).send().await.unwrap();
    assert_eq!(no_key.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.contact_by_external_id("x").await.unwrap().is_none());

    // One call triggers two surveys (email after an hour, a link at once): the contact is
    // asked once, by the sooner one; the other is recorded as skipped by the global window.
    for (name, delay, channel) in [("After-call email", 60, "email"), ("After-call link", 0, "link")] {
        app.survey(json!({"name": name, "kind": "nps", "brand": "Acme",
            "triggers": [{"event": "call.ended", "delay_minutes": delay, "channel": channel}]}))
            .await;
    }
    people(&app, "cho", "ko").await;
    let call = json!({"name": "call.ended", "contact": {"external_id": "cho"}});
    let res: Value = post("call-1", call).await.unwrap().json().await.unwrap();
    let made: Vec<(&str, &str)> = res["invitations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["channel"].as_str().unwrap(), i["status"].as_str().unwrap()))
        .collect();
    assert_eq!(made, [("link", "issued"), ("email", "skipped")], "{res}");
    let detail = res["invitations"][1]["status_detail"].as_str().unwrap();
    assert!(detail.starts_with("fatigue") && detail.contains("the global window"), "{detail}");
}

async fn bounces_are_recorded_and_one_reminder_goes_to_the_unanswered(app: TestApp) {
    let smtp = app.smtp.as_ref().unwrap();
    // No thank-you mail for promoters here: this test counts survey mail only.
    let survey = app
        .survey(json!({"name": "NPS", "kind": "nps", "brand": "Acme", "reminder_days": 3, "playbooks": {"promoter": {"mail": null}}}))
        .await;
    let mut ids = Vec::new();
    for name in ["bounce-1", "rita", "sam"] {
        let c = app
            .post_json("/api/v1/contacts", &json!({"external_id": name, "email": format!("{name}@example.com")}))
            .await;
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    let sent = app.post_json(&format!("/api/v1/surveys/{survey}/invitations"), &json!({"contact_ids": ids})).await;
    assert_eq!(sent["scheduled"], 3);
    let mails = smtp.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    let invitation = |contact: usize| {
        let (store, id) = (app.store.clone(), ids[contact].clone());
        async move { store.list_invitations(Some(&id), None, 1).await.unwrap().remove(0) }
    };
    // The server's refusal is recorded on the invitation, and not retried.
    let bounced =
        eventually(WAIT, || async { Some(invitation(0).await).filter(|i| i.status == InvitationStatus::Bounced) })
            .await;
    assert!(bounced.status_detail.as_deref().unwrap().contains("550"), "{bounced:?}");

    // Reminders wait three days after sending, for the two delivered invitations only.
    // A mail reaches the SMTP server before its send is recorded, so wait for both records.
    let sent_at = eventually(WAIT, || async { invitation(1).await.sent_at }).await;
    eventually(WAIT, || async { invitation(2).await.sent_at }).await;
    let reminders: Vec<_> =
        app.store.list_jobs(None, 100).await.unwrap().into_iter().filter(|j| j.kind == "remind_invitation").collect();
    assert_eq!(reminders.len(), 2);
    for r in &reminders {
        assert!((r.run_at - sent_at - 3 * 86_400_000).abs() < 60_000, "{r:?}");
    }
    // Sam answers; then both reminders are made due ("run now" on the jobs page).
    let sam_mail = mails.iter().find(|m| m.to == "sam@example.com").unwrap();
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let link = score_links(&sam_mail.text)[10].split('?').next().unwrap().to_owned();
    let sent = no_redirect.post(link).form(&[("score", "10")]).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    for r in &reminders {
        assert!(app.store.run_job_now(&r.id).await.unwrap());
    }
    let mails = smtp.wait_for(3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails_now = smtp.messages();
    assert_eq!(mails_now.len(), 3, "one reminder, to Rita only: {mails:?}");
    let reminder = mails_now.iter().find(|m| m.subject.starts_with("Reminder")).unwrap();
    assert_eq!(
        (reminder.to.as_str(), reminder.subject.as_str()),
        ("rita@example.com", "Reminder: a quick question from Acme")
    );
    assert_eq!(
        score_links(&reminder.text),
        score_links(&mails.iter().find(|m| m.to == "rita@example.com").unwrap().text)
    );
    assert!(invitation(1).await.reminded_at.is_some());
    assert!(invitation(2).await.reminded_at.is_none());
}

/// A send to a segment larger than one page (500 contacts) invites each member once; the
/// quiet window sees invitations made earlier in the same commit; a list with an unknown id,
/// or too long to check, is refused whole.
async fn a_send_to_a_segment_invites_each_contact_once_a_page_at_a_time(app: TestApp) {
    let survey = app.survey(json!({"name": "Segment NPS", "kind": "nps", "brand": "Acme"})).await;
    let mut free = Vec::new();
    for n in 0..1_100 {
        let plan = if n < 1_050 { "pro" } else { "free" };
        let input = hark_core::contact::ContactInput {
            external_id: format!("seg-{n}"),
            attributes: serde_json::Map::from_iter([("plan".to_owned(), json!(plan))]),
            ..Default::default()
        };
        let contact = app.store.upsert_contact(&input).await.unwrap();
        if plan == "free" {
            free.push(contact.id);
        }
    }
    let send = format!("/api/v1/surveys/{survey}/invitations");
    let segment = json!({"channel": "link", "attributes": {"plan": "pro"}});
    let first = app.post_json(&send, &segment).await;
    assert_eq!((first["issued"].as_u64(), first["skipped"].as_u64()), (Some(1_050), Some(0)), "{first}");
    let again = app.post_json(&send, &segment).await;
    assert_eq!(
        (again["issued"].as_u64(), again["skipped_by_reason"]["fatigue"].as_u64()),
        (Some(0), Some(1_050)),
        "{again}"
    );
    let pro_contacts = app.store.list_invitations(None, Some(&survey), 5_000).await.unwrap();
    let issued = pro_contacts.iter().filter(|i| i.status == InvitationStatus::Issued);
    let distinct: std::collections::HashSet<_> = issued.map(|i| i.contact_id.clone()).collect();
    assert_eq!(distinct.len(), 1_050, "each member of the segment once");

    // Two sends to one segment at once: each member is invited by one of them.
    let free_segment = json!({"channel": "link", "attributes": {"plan": "free"}});
    let (a, b) = tokio::join!(app.post_json(&send, &free_segment), app.post_json(&send, &free_segment));
    assert_eq!((a["issued"].as_u64().unwrap() + b["issued"].as_u64().unwrap()), 50, "{a} {b}");

    // Named twice in one request: the second is inside the window the first just opened.
    let other = app.survey(json!({"name": "Other NPS", "kind": "nps", "brand": "Acme"})).await;
    let send_other = format!("/api/v1/surveys/{other}/invitations");
    let fresh = hark_core::contact::ContactInput { external_id: "seg-fresh".into(), ..Default::default() };
    let fresh = app.store.upsert_contact(&fresh).await.unwrap().id;
    let twice = app.post_json(&send_other, &json!({"channel": "link", "contact_ids": [fresh, fresh]})).await;
    let statuses: Vec<_> = twice["invitations"].as_array().unwrap().iter().map(|i| i["status"].clone()).collect();
    assert_eq!(statuses, [json!("issued"), json!("skipped")], "{twice}");

    let unknown = app.post(&send).json(&json!({"channel": "link", "contact_ids": [free[0], "nobody"]})).send();
    let unknown = unknown.await.unwrap();
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = unknown.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "contact_ids[1]", "{problem}");

    let too_many: Vec<&String> = free.iter().cycle().take(1_001).collect();
    let refused = app.post(&send).json(&json!({"channel": "link", "contact_ids": too_many})).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "contact_ids", "{problem}");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("at most 1000"), "{problem}");
    let after = app.store.list_invitations(None, Some(&survey), 5_000).await.unwrap();
    assert_eq!(after.len(), 1_050 * 2 + 50 * 2, "the refused request made nothing");
}

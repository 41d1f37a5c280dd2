//! What the comments say, through the API and the Themes page: each answer carries its themes
//! and sentiment; the themes report ranks drivers as computed by hand; `theme=` filters every
//! report; comments stored before tagging are read later, resumably.

mod common;

use common::TestApp;
use hark_store::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

common::on_both!(
    answers_carry_themes_and_sentiment_and_the_report_ranks_drivers,
    comments_stored_before_tagging_are_read_later_a_page_at_a_time,
    the_themes_page_shows_drivers_in_the_reader_s_language,
    a_case_shows_what_its_comment_is_about_and_suggests_the_root_cause,
    feedback_from_other_sources_is_read_but_never_counted_in_nps,
    the_digest_names_the_themes_that_hold_nps_back,
    an_organisation_changes_its_themes_through_the_api_and_every_comment_is_read_again,
    a_korean_phrase_lists_every_comment_it_was_counted_in,
    each_theme_s_trend_is_counted_per_month_of_the_reader_s_time_zone
);

/// 30 answers: 10 detractors about a late delivery, 10 promoters praising the staff, 5
/// passives and 5 promoters whose comments name no theme. NPS (15 − 10) / 30 = +16.7.
async fn answers(app: &TestApp) -> String {
    answers_times(app, 1).await
}

/// [`answers`] with every group `times` as large.
async fn answers_times(app: &TestApp, times: usize) -> String {
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    let mut i = 0;
    for (score, comment, n) in [
        (2, "The delivery was late again", 10),
        (10, "The staff were lovely and helpful", 10),
        (8, "It was fine", 5),
        (9, "Great", 5),
    ] {
        for _ in 0..n * times {
            i += 1;
            let body = json!({"survey_id": survey, "score": score, "comment": comment, "language": "en"});
            let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("k{i}")).json(&body);
            assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
        }
    }
    survey
}

fn driver<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["drivers"].as_array().unwrap().iter().find(|d| d["key"] == key).unwrap_or_else(|| panic!("{key}"))
}

fn close(v: &Value, want: f64) -> bool {
    (v.as_f64().unwrap() - want).abs() < 1e-6
}

async fn answers_carry_themes_and_sentiment_and_the_report_ranks_drivers(app: TestApp) {
    let survey = answers(&app).await;
    let list = app.get_json(&format!("/api/v1/responses?survey_id={survey}&limit=100")).await;
    let late = list["items"].as_array().unwrap().iter().find(|r| r["score"] == 2).unwrap();
    assert_eq!(late["themes"], json!(["delivery", "speed"]));
    assert_eq!(late["sentiment"], "negative");
    assert!(late["sentiment_score"].as_f64().unwrap() < 0.0);
    let staff = list["items"].as_array().unwrap().iter().find(|r| r["score"] == 10).unwrap();
    assert_eq!((staff["themes"].clone(), staff["sentiment"].clone()), (json!(["staff"]), json!("positive")));

    let report = app.get_json("/api/v1/reports/themes?min_n=5").await;
    assert_eq!(report["overall"]["n"], 30);
    assert_eq!(report["commented"], 30);
    assert_eq!(report["untagged"], 0);
    // delivery: 10 detractors (−100) against 15 promoters and 5 passives (+75); had they
    // scored like the rest, NPS would be +75: 75 − 16.67 = 58.33 points at stake.
    let delivery = driver(&report, "delivery");
    assert_eq!((delivery["rank"].clone(), delivery["mentions"].clone()), (json!(1), json!(10)));
    assert!(close(&delivery["with"]["nps"], -100.0) && close(&delivery["without"]["nps"], 75.0));
    assert!(close(&delivery["points_at_stake"], 75.0 - 50.0 / 3.0), "{delivery}");
    assert!(close(&delivery["share_pct"], 100.0 / 3.0));
    assert_eq!(delivery["difference"]["significant"], true);
    assert_eq!(delivery["name"], "Delivery");
    // staff: 10 promoters (+100) against 5, 5, 10 (−25): −41.67, the score's support.
    let staff = driver(&report, "staff");
    assert!(close(&staff["points_at_stake"], -25.0 - 50.0 / 3.0), "{staff}");
    assert_eq!(staff["rank"], 3, "delivery and speed (the same answers) first, staff last of the ranked");
    // Never mentioned: listed, never ranked.
    let billing = driver(&report, "billing");
    assert_eq!((billing["rank"].clone(), billing["mentions"].clone()), (Value::Null, json!(0)));
    assert!(report["method"].as_str().unwrap().contains("Points at stake"));
    // Phrases a theme already finds ("staff"; "delivery" and "late") are not offered as news.
    let shown = |side: &str| -> Vec<String> {
        report[side].as_array().unwrap().iter().map(|p| p["phrase"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(shown("promoter_phrases"), ["helpful", "lovely"]);
    assert!(shown("detractor_phrases").is_empty(), "{report}");

    // `theme=` narrows any report to the answers that mention it.
    let nps = app.get_json("/api/v1/reports/nps?theme=staff").await;
    assert_eq!((nps["overall"]["n"].clone(), nps["overall"]["nps"].clone()), (json!(10), json!(100.0)));
    let listed = app.get_json("/api/v1/responses?theme=delivery&limit=100").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 10);
    let wrong = app.get("/api/v1/reports/nps?theme=weather").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = wrong.json().await.unwrap();
    assert!(problem.to_string().contains("\"theme\"") && problem.to_string().contains("delivery"), "{problem}");
}

async fn comments_stored_before_tagging_are_read_later_a_page_at_a_time(app: TestApp) {
    answers(&app).await;
    hark_store::testing::forget_comment_tags(&app.store).await.unwrap();
    let before = app.get_json("/api/v1/reports/themes?min_n=5").await;
    assert_eq!((before["commented"].clone(), before["untagged"].clone()), (json!(0), json!(30)));
    assert_eq!(driver(&before, "delivery")["mentions"], 0);
    // Pages of 7: what one page tagged stays tagged (a restart would go on from there).
    assert_eq!(app.store.tag_untagged_comments(7).await.unwrap(), 7);
    assert_eq!(app.store.untagged_comments().await.unwrap(), 23);
    while app.store.tag_untagged_comments(7).await.unwrap() > 0 {}
    let after = app.get_json("/api/v1/reports/themes?min_n=5").await;
    assert_eq!((after["commented"].clone(), after["untagged"].clone()), (json!(30), json!(0)));
    // The theme facets of the rollups took each page in: they agree with the rows.
    let today = jiff::Timestamp::now().as_millisecond().div_euclid(86_400_000) * 86_400_000;
    let whole_days = hark_store::ResponseFilter {
        survey_kind: Some(hark_core::SurveyKind::Nps),
        from_ms: Some(today - 86_400_000),
        to_ms: Some(today + 86_400_000),
        ..Default::default()
    };
    let by_theme = Some(&hark_store::Dimension::Theme);
    let score = hark_store::ScoreColumn::Score;
    assert_eq!(
        whole_days.rollup_for(by_theme, score),
        Some(hark_store::Rollup::Facets),
        "whole days: the rollup answers"
    );
    let rolled = app.store.score_counts(&whole_days, by_theme, score, hark_store::Source::Best).await.unwrap();
    let rolled: std::collections::BTreeMap<_, _> = rolled.into_iter().map(|g| (g.key.unwrap(), g.counts)).collect();
    assert_eq!(rolled["delivery"][2], 10, "{rolled:?}");
    assert_eq!(rolled["*"].iter().sum::<u64>(), 30);
    let best = app.store.theme_counts(&whole_days, hark_store::Source::Best).await.unwrap();
    let raw = app.store.theme_counts(&whole_days, hark_store::Source::Raw).await.unwrap();
    assert_eq!(best, raw);
    // A respondent who rewrites the comment moves its themes in the rollup too.
    let late = app.get_json("/api/v1/responses?theme=delivery&limit=1").await["items"][0].clone();
    let update = hark_store::AnswerUpdate {
        score: 2,
        segment: hark_core::Segment::Detractor,
        comment: Some("The price is far too high".into()),
        answers: Default::default(),
        agent_score: None,
    };
    app.store.update_answer(late["id"].as_str().unwrap(), &update).await.unwrap();
    let best = app.store.theme_counts(&whole_days, hark_store::Source::Best).await.unwrap();
    assert_eq!(best, app.store.theme_counts(&whole_days, hark_store::Source::Raw).await.unwrap());
    assert_eq!((best.themes["delivery"][2], best.themes["price"][2]), (9, 1));
    assert_eq!(driver(&after, "delivery")["mentions"], 10);
    assert!(close(&driver(&after, "delivery")["points_at_stake"], 75.0 - 50.0 / 3.0));
}

async fn the_themes_page_shows_drivers_in_the_reader_s_language(app: TestApp) {
    answers(&app).await;
    let (http, cookie) = app.user_session("cx@example.com", Role::Admin, None, None).await;
    let korean =
        |path: &str| http.get(format!("{}{path}", app.base)).header("cookie", &cookie).header("accept-language", "ko");
    let page = korean("/dashboard/themes?min_n=5").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for want in ["주제", "배송", "직원 태도", "걸린 NPS 점수", "n = 30", "theme=delivery"] {
        assert!(html.contains(want), "{want} missing");
    }
    // A rank and "too few answers" in its place are kept on one line (class `rank`); on a
    // phone each theme is a card of labelled tiles under its name.
    assert!(html.contains(r#"<td class="rank" data-label="순위">1</td>"#), "{html}");
    let thin = korean("/dashboard/themes?min_n=20").send().await.unwrap().text().await.unwrap();
    assert!(thin.contains(r#"<td class="rank" data-label="순위">응답 수 부족</td>"#), "{thin}");
    assert!(html.contains(r#"<table data-table="drivers" class="tiles">"#));
    // Today is the only month, and it is not over: no trend is drawn, and the page says why.
    assert!(html.contains("배송, 대기·속도, 직원 태도: 언급한 응답이 5개 이상인 온전한 달이 두 번 미만이라"), "{html}");
    assert!(!html.contains("월별 NPS</h"));
    assert!(html.contains(r#"<td class="name" data-label="주제"><a href="/dashboard/responses?"#));
    // The page's CSV carries the same table.
    let csv = korean("/dashboard/themes.csv?min_n=5").send().await;
    let csv = csv.unwrap().text().await.unwrap();
    assert!(csv.lines().any(|l| l.starts_with("drivers,1,배송,+58.3,10,")), "{csv}");
    // Each column has a name of its own, so that a spreadsheet can take them by name; on the
    // page each figure carries its interval, from the same columns, in the reader's words.
    let header = csv.lines().find(|l| l.starts_with("section,rank,theme,")).expect("the drivers' header");
    let columns: Vec<&str> = header.split(',').collect();
    let unique: std::collections::BTreeSet<&str> = columns.iter().copied().collect();
    assert_eq!(unique.len(), columns.len(), "{header}");
    let first: Vec<&str> = csv.lines().find(|l| l.starts_with("drivers,1,")).unwrap().split(',').collect();
    let column = |name: &str| first[columns.iter().position(|c| *c == name).unwrap()];
    let shown = format!(
        "<td class=\"ranged\" data-label=\"차이\">{}<span class=\"ci\"> (95% 신뢰구간 {}~{})</span></td>",
        column("difference"),
        column("difference_ci_low"),
        column("difference_ci_high")
    );
    assert!(html.contains(&shown), "{shown} in {html}");
    assert!(!html.contains("구간 하한"), "an interval's end is no column of its own on the page");
    // A theme no comment mentions is named once, not given a row of blanks, on the page or in
    // its CSV.
    let silent = html.split("이 의견에서 언급되지 않아 표에 넣지 않은 주제: ").nth(1).and_then(|s| s.split('.').next());
    let silent: Vec<&str> = silent.expect("the themes no comment mentions").split(", ").collect();
    assert!(silent.contains(&"환불·반품·취소"), "{silent:?}");
    for name in &silent {
        assert!(!html.contains(&format!(">{name}</a></td>")), "{name} has a row");
    }
    let mentions = columns.iter().position(|c| *c == "mentions").unwrap();
    for row in csv.lines().filter(|l| l.starts_with("drivers,")) {
        assert_ne!(row.split(',').nth(mentions), Some("0"), "{row}");
    }
    // Each answer on Responses carries its themes and sentiment in the reader's words, and
    // its language by name; every cell says what it is, for the phone's cards.
    let html = korean("/dashboard/responses?limit=100").send().await.unwrap().text().await.unwrap();
    for want in [
        r#"<td data-label="주제">배송"#,
        r#"<td data-label="감정">부정</td>"#,
        r#"<td data-label="언어">English (en)</td>"#,
        r#"<table data-table="responses" class="records">"#,
        // The comment keeps its width on a wide screen, whichever column it is.
        r#"<td class="comment" data-label="의견">The delivery was late again</td>"#,
    ] {
        assert!(html.contains(want), "{want} missing");
    }
    // The filter line names a chosen language as the column does.
    let html = korean("/dashboard/responses?language=en").send().await.unwrap().text().await.unwrap();
    assert!(html.contains("· English (en)"), "the language filter in words");
    // An agent sees only their own answers' themes: none here.
    let (agent_http, agent_cookie) = app.user_session("agent@example.com", Role::Agent, None, None).await;
    let page = agent_http.get(format!("{}/dashboard/themes", app.base)).header("cookie", &agent_cookie).send().await;
    assert_eq!(page.unwrap().status(), StatusCode::OK);
}

async fn a_case_shows_what_its_comment_is_about_and_suggests_the_root_cause(app: TestApp) {
    let survey = answers(&app).await;
    let list = app.get_json(&format!("/api/v1/responses?survey_id={survey}&limit=100")).await;
    let late = list["items"].as_array().unwrap().iter().find(|r| r["score"] == 2).unwrap();
    let new_case = hark_store::testing::case_for(late["id"].as_str().unwrap(), &survey, None);
    let (case, _) = app.store.open_case(&new_case).await.unwrap();
    let (http, cookie) = app.user_session("cx@example.com", Role::Admin, None, None).await;
    let page =
        http.get(format!("{}/admin/cases/{}", app.base, case.id)).header("cookie", &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("What the comment is about: Delivery, Waiting and speed · sentiment: negative"), "{html}");
    // The survey's default causes: "delivery" is chosen in advance, and the page says why.
    assert!(html.contains(r#"<option value="delivery" selected>"#), "{html}");
    assert!(html.contains("Suggested from the comment"));
}

async fn feedback_from_other_sources_is_read_but_never_counted_in_nps(app: TestApp) {
    answers(&app).await;
    let post = |key: Option<&str>, body: Value| {
        let r = app.post("/api/v1/feedback").json(&body);
        match key {
            Some(k) => r.header("Idempotency-Key", k),
            None => r,
        }
    };
    let review = json!({"source": "review", "text": "The courier lost my parcel, terrible", "rating": 1, "scale": "1-5",
        "contact": {"external_id": "c-1", "email": "c1@example.com"}, "url": "https://reviews.example/1"});
    let unkeyed = post(None, review.clone()).send().await.unwrap();
    assert_eq!(unkeyed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unkeyed.text().await.unwrap().contains("idempotency_key"));
    let made = post(Some("r1"), review.clone()).send().await.unwrap();
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    assert_eq!((made["themes"].clone(), made["sentiment"].clone()), (json!(["delivery"]), json!("negative")));
    // A retry is the same feedback; the same key for something else is refused.
    let again: Value = post(Some("r1"), review.clone()).send().await.unwrap().json().await.unwrap();
    assert_eq!(again["id"], made["id"]);
    let other = post(Some("r1"), json!({"source": "review", "text": "Something else"})).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::CONFLICT);
    let social = json!({"source": "social", "text": "Mina was so helpful, lovely staff"});
    assert_eq!(post(Some("s1"), social).send().await.unwrap().status(), StatusCode::CREATED);
    // Mistakes name their field; nothing is stored.
    for (body, field) in [
        (json!({"source": "blog", "text": "x"}), "source"),
        (json!({"source": "review", "text": "  "}), "text"),
        (json!({"source": "review", "text": "ok", "rating": 7, "scale": "1-5"}), "rating"),
        (json!({"source": "review", "text": "ok", "rating": 3}), "scale"),
        (json!({"source": "review", "text": "ok", "rating": 3, "scale": "5-1"}), "scale"),
        (json!({"source": "review", "text": "ok", "url": "javascript:alert(1)"}), "url"),
        (json!({"source": "review", "text": "ok", "submitted_at": "yesterday"}), "submitted_at"),
    ] {
        let r = post(Some(&format!("bad-{field}-{body}")), body.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(app.get_json("/api/v1/feedback?limit=50").await["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.get_json("/api/v1/feedback?source=review").await["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get_json("/api/v1/feedback?theme=staff").await["items"].as_array().unwrap().len(), 1);
    for wrong in ["source=blog", "team_id=t", "theme=weather"] {
        let r = app.get(&format!("/api/v1/feedback?{wrong}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    }

    // Never in NPS: the figures are the 30 answers'.
    assert_eq!(app.get_json("/api/v1/reports/nps").await["overall"]["n"], 30);
    let report = app.get_json("/api/v1/reports/themes?min_n=5").await;
    assert_eq!(report["overall"]["n"], 30);
    let feedback = &report["feedback"];
    assert_eq!((feedback["all"]["negative"].clone(), feedback["all"]["positive"].clone()), (json!(1), json!(1)));
    let delivery = feedback["themes"].as_array().unwrap().iter().find(|t| t["key"] == "delivery").unwrap();
    assert_eq!(
        (delivery["mentions"]["negative"].clone(), delivery["negative"]["pct"].clone()),
        (json!(1), json!(100.0))
    );
    let reviews = app.get_json("/api/v1/reports/themes?source=review").await;
    assert_eq!(reviews["feedback"]["all"]["positive"], 0);

    // On the contact's timeline and in their export; erased with them.
    let contact = made["contact_id"].as_str().unwrap();
    let timeline = app.get_json(&format!("/api/v1/contacts/{contact}/timeline")).await;
    assert!(timeline.to_string().contains("\"type\":\"feedback\""), "{timeline}");
    let export = app.get_json(&format!("/api/v1/contacts/{contact}/export")).await;
    assert_eq!(export["feedback"][0]["text"], "The courier lost my parcel, terrible");
    let erased: Value = app
        .client
        .delete(format!("{}/api/v1/contacts/{contact}", app.base))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(erased["feedback_deleted"], 1);
    assert_eq!(app.get_json("/api/v1/feedback").await["items"].as_array().unwrap().len(), 1);
}

async fn the_digest_names_the_themes_that_hold_nps_back(app: TestApp) {
    // 120 answers: delivery (and speed: "late") 40 detractors, −100 against +75 for the rest.
    answers_times(&app, 4).await;
    let (http, cookie) = app.user_session("cx@example.com", Role::Admin, None, None).await;
    let preview = http.get(format!("{}/account/digest/preview", app.base)).header("cookie", &cookie).send().await;
    let html = preview.unwrap().text().await.unwrap();
    assert!(html.contains("What holds NPS back"), "{html}");
    // Had those 40 scored like the other 80, NPS would be +75 instead of +16.7: 58.3 at stake.
    for line in ["Delivery: -100", "Waiting and speed: -100", "against +75 for the other answers; 58.3 points at stake"]
    {
        assert!(html.contains(line), "{line}: {html}");
    }
    // Staff lifts the score: not named as holding it back.
    assert!(!html.contains("Staff attitude:"), "{html}");
}

/// Reads every stored comment again with the themes in use, as the background task does.
async fn read_again(app: &TestApp) {
    hark_store::testing::end_reload_grace(&app.store).await.unwrap();
    while app.store.reread_comments(7).await.unwrap() {}
}

async fn an_organisation_changes_its_themes_through_the_api_and_every_comment_is_read_again(app: TestApp) {
    answers(&app).await;
    let listed = app.get_json("/api/v1/themes").await;
    assert_eq!(listed["own"], false);
    assert_eq!(listed["themes"].as_array().unwrap().len(), 12);
    assert_eq!(listed["tagging"]["rereading"], Value::Null);

    // Bad input names each problem and changes nothing.
    let bad = json!({"key": "Bad Key", "names": {"fr": "Fidélité"}, "terms": {"en": ["!!!"]}});
    let r = app.post("/api/v1/themes").json(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    let fields: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["key", "names.fr", "terms.en"], "{problem}");
    assert_eq!(app.get_json("/api/v1/themes").await["own"], false);

    let loyalty = json!({"names": {"en": "Loyalty"}, "terms": {"en": ["points"]}});
    let r = app.post("/api/v1/themes").json(&loyalty).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.json::<Value>().await.unwrap()["key"], "loyalty");
    let again = json!({"key": "loyalty", "names": {"en": "Loyalty"}, "terms": {"en": ["points"]}});
    let r = app.post("/api/v1/themes").json(&again).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let renamed = json!({"names": {"en": "Loyalty card", "ko": "포인트"}, "terms": {"en": ["points", "loyalty card"], "ko": ["포인트"]}});
    let r = app.client.put(format!("{}/api/v1/themes/loyalty", app.base)).bearer_auth(&app.key).json(&renamed);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["names"]["ko"], "포인트");
    let r = app.client.put(format!("{}/api/v1/themes/nothing", app.base)).bearer_auth(&app.key).json(&renamed);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // A preview reads the stored comments without saving anything.
    let preview = app.post_json("/api/v1/themes/preview", &json!({"terms": {"en": ["late"]}})).await;
    assert_eq!((preview["read"].clone(), preview["matched"].clone()), (json!(30), json!(10)));
    let first = &preview["comments"][0];
    let (s, e) = (first["spans"][0][0].as_u64().unwrap() as usize, first["spans"][0][1].as_u64().unwrap() as usize);
    assert_eq!(&first["text"].as_str().unwrap()[s..e], "late");

    // Merge "speed" into "delivery", delete "staff".
    let merged = app.post_json("/api/v1/themes/speed/merge", &json!({"into": "delivery"})).await;
    assert!(merged["terms"]["en"].as_array().unwrap().contains(&json!("slow")), "{merged}");
    let delete = |key: &str| app.client.delete(format!("{}/api/v1/themes/{key}", app.base)).bearer_auth(&app.key);
    assert_eq!(delete("staff").send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(delete("staff").send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let r = app.get("/api/v1/reports/themes?theme=staff").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a deleted theme is no filter");

    // Stored comments are read again in the background, then carry the new themes.
    let listed = app.get_json("/api/v1/themes").await;
    assert_eq!(listed["own"], true);
    assert_eq!(listed["tagging"]["rereading"]["total"], 30, "{listed}");
    read_again(&app).await;
    assert_eq!(app.get_json("/api/v1/themes").await["tagging"]["rereading"], Value::Null);
    let late = app.get_json("/api/v1/responses?theme=delivery&limit=100").await;
    assert_eq!(late["items"].as_array().unwrap().len(), 10);
    assert_eq!(late["items"][0]["themes"], json!(["delivery"]), "speed went into delivery");
    let report = app.get_json("/api/v1/reports/themes?min_n=5").await;
    assert!(report["drivers"].as_array().unwrap().iter().all(|d| d["key"] != "staff" && d["key"] != "speed"));
    let staff = app.get_json("/api/v1/responses?limit=100").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["score"] == 10)
        .cloned()
        .unwrap();
    assert_eq!(staff["themes"], json!([]));
}

/// Korean writes its particle on the noun: 스티커가, 스티커는, 스티커도 떨어져요 (the sticker
/// falls off) are one phrase, and the search it links to finds all three kinds, not only the
/// first written.
async fn a_korean_phrase_lists_every_comment_it_was_counted_in(app: TestApp) {
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    let mut answers = vec![(10, "정말 좋아요".to_owned()); 20];
    answers.extend(std::iter::repeat_n((8, "그냥 그래요".to_owned()), 10));
    for particle in ["가", "는", "도"] {
        answers.extend(std::iter::repeat_n((2, format!("스티커{particle} 떨어져요")), 6));
    }
    for (i, (score, comment)) in answers.iter().enumerate() {
        let body = json!({"survey_id": survey, "score": score, "comment": comment, "language": "ko"});
        let r = app.post("/api/v1/responses").header("Idempotency-Key", format!("k{i}")).json(&body);
        assert_eq!(r.send().await.unwrap().status(), StatusCode::CREATED);
    }
    let report = app.get_json("/api/v1/reports/themes?min_n=5").await;
    let phrases = report["detractor_phrases"].as_array().unwrap();
    let sticker = phrases.iter().find(|p| p["comments"] == 18).unwrap_or_else(|| panic!("{report}"));
    // Shown as one customer wrote it; searched for without the particle.
    let written = sticker["phrase"].as_str().unwrap();
    assert!(written.starts_with("스티커") && written.len() > "스티커 떨어져요".len(), "{written}");
    assert_eq!(sticker["search"], "스티커 떨어져요");
    let app = &app;
    let listed = |q: &str| {
        let path = format!("/api/v1/responses?segment=detractor&q={q}&limit=100");
        async move { app.get_json(&path).await["items"].as_array().unwrap().len() }
    };
    assert_eq!(listed("스티커 떨어져요").await, 18);
    // As written, it found a third of them.
    assert_eq!(listed(written).await, 6);
}

/// Per month, a theme's answers and their share of the comments read, as counted by hand;
/// in Seoul a month starts at 15:00 UTC the day before, which the rollups' UTC days cut.
async fn each_theme_s_trend_is_counted_per_month_of_the_reader_s_time_zone(app: TestApp) {
    let survey = app.survey(json!({"name": "Shop NPS", "kind": "nps", "brand": "Acme"})).await;
    let late = "The delivery was late again";
    let answers = [
        ("2026-09-10T12:00:00Z", 2, late),
        // 1 October, 01:00 in Seoul: September in UTC, October there.
        ("2026-09-30T16:00:00Z", 3, late),
        ("2026-10-05T12:00:00Z", 10, "The delivery came a day early"),
        ("2026-10-06T12:00:00Z", 9, "The staff were lovely"),
    ];
    for (i, (at, score, comment)) in answers.into_iter().enumerate() {
        let mut answer = hark_store::testing::answer(&survey, &format!("t{i}"), score);
        answer.created_at = at.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        answer.comment = Some(comment.into());
        app.store.submit_response(answer).await.unwrap();
    }
    // (month, answers mentioning delivery, their NPS, share of the month's comments %)
    let trend = |report: &Value| -> Vec<(String, u64, f64, f64)> {
        let delivery = report["trends"].as_array().unwrap().iter().find(|t| t["key"] == "delivery").unwrap();
        assert_eq!(delivery["name"], "Delivery");
        let periods = delivery["periods"].as_array().unwrap();
        periods
            .iter()
            .map(|p| {
                let f = |k: &str| p[k].as_f64().unwrap();
                (p["period_start"].as_str().unwrap().to_owned(), p["n"].as_u64().unwrap(), f("nps"), f("share_pct"))
            })
            .collect()
    };
    let query = "/api/v1/reports/themes?from=2026-09-01&to=2026-10-31&min_n=1";
    let utc = app.get_json(&format!("{query}&tz=UTC")).await;
    assert_eq!(utc["granularity"], "month");
    assert_eq!(trend(&utc), [("2026-09-01".into(), 2, -100.0, 100.0), ("2026-10-01".into(), 1, 100.0, 50.0)], "{utc}");
    let seoul = app.get_json(&format!("{query}&tz=Asia/Seoul")).await;
    let t = trend(&seoul);
    assert_eq!(
        (t[0].clone(), t[1].0.as_str(), t[1].1, t[1].2),
        (("2026-09-01".into(), 1, -100.0, 100.0), "2026-10-01", 2, 0.0)
    );
    assert!((t[1].3 - 200.0 / 3.0).abs() < 1e-9, "{t:?}");
    // The trend of each theme adds up to its mentions, and a theme no one mentioned has none.
    let staff = seoul["trends"].as_array().unwrap().iter().find(|t| t["key"] == "staff").unwrap();
    let n: u64 = staff["periods"].as_array().unwrap().iter().map(|p| p["n"].as_u64().unwrap()).sum();
    assert_eq!(n, driver(&seoul, "staff")["mentions"].as_u64().unwrap());
    assert!(!seoul["trends"].as_array().unwrap().iter().any(|t| t["key"] == "billing"));
    // Weeks too; the page draws a chart per theme under its name.
    let weeks = app.get_json(&format!("{query}&granularity=week")).await;
    assert_eq!(weeks["granularity"], "week");
    // Years of days are refused, by name, before anything is read.
    let days = app.get("/api/v1/reports/themes?from=2020-01-01&to=2026-10-31&granularity=day").send().await.unwrap();
    assert_eq!(days.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem = days.text().await.unwrap();
    assert!(problem.contains("granularity") && problem.contains("more than 400 periods"), "{problem}");
    let admin = app.user_session("cx@example.com", Role::Admin, None, None).await;
    let html =
        app.page_text(&admin, "/dashboard/themes?from=2026-09-01&to=2026-10-31&min_n=1&tz=Asia/Seoul", "ko").await;
    assert!(html.contains("배송: 이 주제를 언급한 응답의 월별 NPS"), "{html}");
    assert!(html.contains("theme=delivery"));
}

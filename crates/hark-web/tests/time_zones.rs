//! Reports count the days, weeks and months of a time zone — the organisation's, a person's,
//! or the one a query names — exactly: answers placed at and around local midnights in Seoul,
//! Rome (across both clock changes of 2026) and Bangkok are counted by the API as a reader
//! there counts them from the rows, on SQLite and on PostgreSQL. Staff pages show times in
//! the reader's zone and name it.

mod common;

use std::collections::BTreeMap;

use common::TestApp;
use hark_core::SurveyKind;
use hark_core::report::{Granularity, bucket_start};
use hark_store::{NewResponse, Role};
use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

common::on_both!(periods_are_the_zone_s_own_and_exact);

const ZONES: [&str; 4] = ["Asia/Seoul", "Europe/Rome", "Asia/Bangkok", "UTC"];

/// Moments that fall on different days in different zones: each zone's midnights and a
/// minute either side, around Rome's clock changes (29 March and 25 October 2026), and a few
/// ordinary hours, over March to November 2026.
fn moments() -> Vec<i64> {
    let mut at = Vec::new();
    let days = [
        date(2026, 3, 1),
        date(2026, 3, 28),
        date(2026, 3, 29),
        date(2026, 3, 30),
        date(2026, 10, 24),
        date(2026, 10, 25),
        date(2026, 10, 26),
        date(2026, 11, 30),
    ];
    for day in days {
        for zone in ZONES {
            let midnight = day.to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp().as_millisecond();
            at.extend([midnight - 60_000, midnight, midnight + 60_000]);
        }
        let noon = day.at(12, 0, 0, 0).to_zoned(TimeZone::UTC).unwrap().timestamp().as_millisecond();
        at.extend([noon, noon + 5 * 3_600_000]);
    }
    at
}

/// Promoters, passives, detractors per period start, counted from the rows as a reader in
/// `zone` would.
fn expected(answers: &[(i64, i64)], zone: &str, g: Granularity, from: Date, to: Date) -> BTreeMap<String, [u64; 3]> {
    let zone = TimeZone::get(zone).unwrap();
    let mut periods = BTreeMap::new();
    for &(at, score) in answers {
        let day = jiff::Timestamp::from_millisecond(at).unwrap().to_zoned(zone.clone()).date();
        if day < from || day > to {
            continue;
        }
        let counts: &mut [u64; 3] = periods.entry(bucket_start(day, g).to_string()).or_default();
        counts[match score {
            9.. => 0,
            7 | 8 => 1,
            _ => 2,
        }] += 1;
    }
    periods
}

async fn periods_are_the_zone_s_own_and_exact(app: TestApp) {
    let survey = app.survey(json!({"name": "Zones", "brand": "Acme", "kind": "nps"})).await;
    let mut answers = Vec::new();
    for (i, at) in moments().into_iter().enumerate() {
        let score = [10, 3, 8, 9, 0, 7, 6][i % 7];
        let response = NewResponse {
            survey_id: survey.clone(),
            request_hash: format!("z{i}"),
            idempotency_key: format!("z{i}"),
            contact: None,
            invitation_id: None,
            score,
            segment: SurveyKind::Nps.segment(score),
            comment: None,
            answers: Map::new(),
            agent_score: None,
            language: None,
            channel: "api".into(),
            agent_id: None,
            team_id: None,
            context: Map::new(),
            created_at: at,
            follow_up: hark_store::FollowUp::None,
        };
        app.store.submit_response(response).await.unwrap();
        answers.push((at, score));
    }
    let (from, to) = (date(2026, 3, 1), date(2026, 11, 30));
    for zone in ZONES {
        for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
            let query = format!("tz={zone}&granularity={}&from={from}&to={to}", g.as_str());
            let report = app.get_json(&format!("/api/v1/reports/nps?{query}")).await;
            assert_eq!(report["time_zone"], zone, "{query}: the zone is named");
            let got: BTreeMap<String, [u64; 3]> = report["series"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let n = |k: &str| p[k].as_u64().unwrap();
                    (p["period_start"].as_str().unwrap().to_owned(), [n("promoters"), n("passives"), n("detractors")])
                })
                .collect();
            let want = expected(&answers, zone, g, from, to);
            assert_eq!(got, want, "{query}");
            let total: u64 = want.values().flatten().sum();
            assert_eq!(report["overall"]["n"].as_u64(), Some(total), "{query}");
        }
        // The pages' reports name their zone, and read their dates in it.
        let overview = app.get_json(&format!("/api/v1/reports/overview?tz={zone}&from=2026-10-25&to=2026-10-25")).await;
        assert_eq!(
            (overview["period"]["time_zone"].as_str(), overview["period"]["from"].as_str()),
            (Some(zone), Some("2026-10-25"))
        );
        let day = expected(&answers, zone, Granularity::Day, date(2026, 10, 25), date(2026, 10, 25));
        assert_eq!(overview["nps"]["n"].as_u64(), Some(day.values().flatten().sum()), "{zone}: one day of its own");
        // A segment split over a span whose ends a midnight of the zone cuts: the whole days
        // from the rollups, the cut ones from the rows, each answer once.
        let span = expected(&answers, zone, Granularity::Month, date(2026, 3, 28), date(2026, 10, 25));
        let segments =
            app.get_json(&format!("/api/v1/reports/segments?by=channel&tz={zone}&from=2026-03-28&to=2026-10-25")).await;
        let rows: u64 = segments["rows"].as_array().unwrap().iter().map(|r| r["n"].as_u64().unwrap()).sum();
        assert_eq!(rows, span.values().flatten().sum::<u64>(), "{zone}: by channel");
    }
    // Without `tz`, the organisation's zone (UTC here); a name that is no zone is refused.
    assert_eq!(app.get_json("/api/v1/reports/nps?from=2026-03-01").await["time_zone"], "UTC");
    let refused = app.get("/api/v1/reports/nps?tz=Mars/Olympus").send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "tz", "{problem}");

    // A person who chose Seoul reads times there, named; the trend's days are Seoul's.
    let (http, cookie) = app.user_session("lead@example.com", Role::Admin, None, None).await;
    let page = |path: &'static str| {
        let request = http.get(format!("{}{path}", app.base)).header("cookie", cookie.as_str());
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let account = page("/account").await;
    let at = account.find("name=\"csrf\" value=\"").unwrap() + 19;
    let token = &account[at..at + account[at..].find('"').unwrap()];
    let saved = http
        .post(format!("{}/account/language", app.base))
        .header("cookie", cookie.as_str())
        .form(&[("csrf", token), ("locale", "en"), ("time_zone", "Asia/Seoul")])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), reqwest::StatusCode::OK);
    let user = app.store.list_users().await.unwrap().into_iter().find(|u| u.email == "lead@example.com").unwrap();
    assert_eq!(user.time_zone.as_deref(), Some("Asia/Seoul"));
    let overview = page("/dashboard/overview?from=2026-10-25&to=2026-10-25").await;
    assert!(overview.contains("(Asia/Seoul)"), "the page names the zone of its days");
    let seoul = expected(&answers, "Asia/Seoul", Granularity::Day, date(2026, 10, 25), date(2026, 10, 25));
    let n: u64 = seoul.values().flatten().sum();
    assert!(overview.contains(&format!("n = {n} ")), "Seoul's 25 October: {n} answers");
    let answer = &app.get_json("/api/v1/responses?limit=1").await["items"][0];
    let (case, _) = app
        .store
        .open_case(&hark_store::testing::case_for(answer["id"].as_str().unwrap(), &survey, None))
        .await
        .unwrap();
    let case_page = http
        .get(format!("{}/admin/cases/{}", app.base, case.id))
        .header("cookie", cookie.as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(case_page.contains(" Asia/Seoul") && !case_page.contains(" UTC"), "times in Seoul, named: {case_page}");
}

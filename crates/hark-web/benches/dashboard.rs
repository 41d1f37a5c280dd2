//! Dashboard benchmark: the Overview, Segments, Themes and Agents data for a 12-month window
//! over many answers in SQLite or PostgreSQL (HTTP, JSON and all), beside the floor: the same
//! aggregation done by a plain single pass over in-memory columns in the same process. Four
//! answers in five carry a real customer comment, so the Themes page reads real text for its
//! discovered phrases. Also prints the raw-row queries the rollups replace.
//!
//!     cargo bench -p hark-web --bench dashboard                          # 10,000,000 answers
//!     HARK_BENCH_RESPONSES=1000000 cargo bench -p hark-web --bench dashboard
//!     HARK_BENCH_DB=/tmp/hark-bench.db cargo bench -p hark-web --bench dashboard   # keep and reuse the data
//!     HARK_BENCH_DB=postgres://postgres@127.0.0.1:5432/hark_bench cargo bench …    # the same, in PostgreSQL
//!     # the same on the PostgreSQL of HARK_TEST_POSTGRES_URL (a fresh schema):
//!     HARK_BENCH_BACKEND=postgres HARK_BENCH_RESPONSES=1000000 cargo bench -p hark-web --bench dashboard

use std::time::{Duration, Instant};

/// The allocator of the `hark` binary, so that the server measured here allocates as it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use hark_core::SurveyKind;
use hark_store::testing::{AnswerColumns, Backend, TestDatabase, answer_columns, bulk_load};
use hark_store::{Dimension, NewAgent, ResponseFilter, ScoreColumn, Source, Store, SurveyStatus};
use serde_json::Value;

const DAY: i64 = 86_400_000;
const RUNS: usize = 5;

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The floor: one pass over the columns, doing what the two pages need (the 0–10
/// distribution, NPS counts per day, per team and per channel) for rows in the window.
struct Floor {
    n: u64,
    by_team: Vec<[u64; 11]>,
}

fn floor(c: &AnswerColumns, from: i64, to: i64) -> Floor {
    let days = ((to - from) / DAY) as usize;
    let mut dist = [0u64; 11];
    let mut per_day = vec![[0u64; 11]; days];
    let mut by_team = vec![[0u64; 11]; c.teams.len()];
    let mut by_channel = vec![[0u64; 11]; c.channels.len()];
    for i in 0..c.score.len() {
        let t = c.created_at[i];
        if t < from || t >= to {
            continue;
        }
        let s = c.score[i] as usize;
        dist[s] += 1;
        per_day[((t - from) / DAY) as usize][s] += 1;
        by_team[c.team[i] as usize][s] += 1;
        by_channel[c.channel[i] as usize][s] += 1;
    }
    std::hint::black_box((&per_day, &by_channel));
    Floor { n: dist.iter().sum(), by_team }
}

/// The Agents page's floor: per agent both questions, and the company question per bin of
/// each call-centre figure, for rows in the window.
struct AgentFloor {
    /// Answers with an agent, and of those, answers to the agent question.
    with_agent: u64,
    agent_answers: u64,
    /// Answers per bin, per figure.
    per_bin: Vec<Vec<u64>>,
}

fn agent_floor(c: &AnswerColumns, from: i64, to: i64) -> AgentFloor {
    let mut company = vec![[0u64; 11]; c.agents.len()];
    let mut agent = vec![[0u64; 11]; c.agents.len()];
    let figures = hark_core::insight::INTERACTION_FIGURES;
    let mut bins: Vec<Vec<[u64; 11]>> = figures.iter().map(|f| vec![[0u64; 11]; f.2.len()]).collect();
    for i in 0..c.score.len() {
        let t = c.created_at[i];
        if t < from || t >= to {
            continue;
        }
        let (a, s) = (c.agent[i] as usize, c.score[i] as usize);
        company[a][s] += 1;
        if c.agent_score[i] != u8::MAX {
            agent[a][c.agent_score[i] as usize] += 1;
        }
        for (f, (_, _, edges, _)) in figures.iter().enumerate() {
            if let Some(b) = hark_core::insight::bin_of(c.figures[f][i], edges) {
                bins[f][b][s] += 1;
            }
        }
    }
    let named = |counts: &[[u64; 11]]| -> u64 {
        counts.iter().zip(&c.agents).filter(|(_, id)| !id.is_empty()).map(|(k, _)| k.iter().sum::<u64>()).sum()
    };
    AgentFloor {
        with_agent: named(&company),
        agent_answers: named(&agent),
        per_bin: bins.iter().map(|f| f.iter().map(|b| b.iter().sum()).collect()).collect(),
    }
}

/// The real customer comments of hark-text's quality tests (English, Korean, Thai), with their
/// languages: the answers' comments, so that the Themes page reads real text for its phrases.
fn real_comments() -> Vec<(String, String)> {
    ["en", "ko", "th"]
        .iter()
        .flat_map(|lang| {
            let path = format!("{}/../hark-text/tests/real-comments/{lang}_dev.csv", env!("CARGO_MANIFEST_DIR"));
            let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let rows: Vec<_> = reader.records().map(|r| (r.expect("a row")[1].to_owned(), lang.to_string())).collect();
            rows
        })
        .collect()
}

/// The median of `runs` timed calls after one warm-up call.
async fn timed<F: std::future::Future<Output = T>, T>(runs: usize, mut f: impl FnMut() -> F) -> (Duration, T) {
    let _ = f().await;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f().await);
        times.push(start.elapsed());
    }
    (median(times), last.expect("at least one run"))
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("HARK_BENCH_RESPONSES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    let kept = std::env::var("HARK_BENCH_DB").ok();
    let backend = match std::env::var("HARK_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let temp = match &kept {
        Some(_) => None,
        None => match TestDatabase::new(backend).await {
            Some(db) => Some(db),
            None => {
                println!("dashboard on PostgreSQL skipped: set HARK_TEST_POSTGRES_URL");
                return;
            }
        },
    };
    let url = match (&kept, &temp) {
        (Some(path), _) => hark_store::database_url(path),
        (None, Some(db)) => db.url.clone(),
        _ => unreachable!(),
    };
    let store = Store::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    let today = jiff::Timestamp::now().as_millisecond().div_euclid(DAY);
    if store.list_surveys().await.unwrap().is_empty() {
        let started = Instant::now();
        let def = serde_json::from_value(serde_json::json!({"name": "Bench NPS", "kind": "nps", "brand": "Bench",
            "agent_question": "And the agent?"}))
        .unwrap();
        let survey = store.create_survey(&def, SurveyStatus::Active).await.unwrap();
        let mut agents = Vec::new();
        for t in 0..10 {
            let team = store.create_team(&format!("Team {t}")).await.unwrap();
            for a in 0..10 {
                let new =
                    NewAgent { name: format!("Agent {t}-{a}"), team_id: Some(team.id.clone()), ..Default::default() };
                agents.push((store.create_agent(&new).await.unwrap().id, team.id.clone()));
            }
        }
        bulk_load(&store, &survey.id, &agents, &real_comments(), n, (today + 1) * DAY - 1).await.unwrap();
        println!("loaded {n} answers in {:.0} s", started.elapsed().as_secs_f64());
    }
    let total = store.count_responses(&ResponseFilter::default()).await.unwrap();
    let (_, key) = store.create_api_key("bench").await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = hark_web::AppState::new(store.clone(), hark_web::WebConfig::local(addr), None).await.unwrap();
    tokio::spawn(hark_web::serve(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let (http, key) = (http.clone(), key.clone());
        move || {
            let (http, key) = (http.clone(), key.clone());
            async move {
                let r = http.get(format!("http://{addr}{path}")).bearer_auth(&key).send().await.unwrap();
                assert!(r.status().is_success(), "{path}: {}", r.status());
                r.json::<Value>().await.unwrap()
            }
        }
    };

    // The pages' default window: the 365 days up to and including today.
    let (from, to) = ((today + 1 - 365) * DAY, (today + 1) * DAY);
    let read = Instant::now();
    let columns = answer_columns(&store).await.unwrap();
    println!("{total} answers; read into memory columns in {:.1} s (not timed below)", read.elapsed().as_secs_f64());
    let (floor_time, fl) = timed(RUNS, || async { floor(&columns, from, to) }).await;
    let (agent_floor_time, afl) = timed(RUNS, || async { agent_floor(&columns, from, to) }).await;

    let (overview_time, overview) = timed(RUNS, get("/api/v1/reports/overview")).await;
    let (teams_time, teams) = timed(RUNS, get("/api/v1/reports/segments?by=team")).await;
    let (channels_time, _) = timed(RUNS, get("/api/v1/reports/segments?by=channel")).await;
    let (agents_time, agents_page) = timed(RUNS, get("/api/v1/reports/agents")).await;
    let (by_agent_time, _) = timed(RUNS, get("/api/v1/reports/segments?by=agent")).await;
    let (themes_time, themes_page) = timed(RUNS, get("/api/v1/reports/themes")).await;
    // The theme that moves NPS most, as the Overview shows it: its rows of the theme facet.
    let top = themes_page["drivers"][0]["key"].as_str().unwrap().to_owned();
    let top_overview: &'static str = format!("/api/v1/reports/overview?theme={top}").leak();
    let (theme_overview_time, theme_overview) = timed(RUNS, get(top_overview)).await;
    let window = ResponseFilter {
        survey_kind: Some(SurveyKind::Nps),
        from_ms: Some(from),
        to_ms: Some(to),
        ..Default::default()
    };
    let raw = |by: Option<Dimension>| {
        let (store, window) = (store.clone(), window.clone());
        move || {
            let (store, window, by) = (store.clone(), window.clone(), by.clone());
            async move { store.score_counts(&window, by.as_ref(), ScoreColumn::Score, Source::Raw).await.unwrap() }
        }
    };
    let (raw_trend_time, _) = timed(1, raw(Some(Dimension::Day))).await;
    // Another zone's months begin mid-day UTC: whole days from the rollups, cut days from rows.
    let (seoul_time, seoul) = timed(RUNS, get("/api/v1/reports/overview?tz=Asia/Seoul")).await;
    let (seoul_themes_time, seoul_themes) = timed(RUNS, get("/api/v1/reports/themes?tz=Asia/Seoul")).await;
    // A team lead's view (and an agent's, in Seoul): the team's answers of a stretch of time.
    let team_index = columns.team[0] as usize;
    let team = &columns.teams[team_index];
    let agent = columns.agents.iter().find(|a| !a.is_empty()).unwrap();
    let team_query =
        |page: &str, zone: &str| -> &'static str { format!("/api/v1/reports/{page}?team_id={team}&tz={zone}").leak() };
    let (team_themes_time, team_themes) = timed(RUNS, get(team_query("themes", "UTC"))).await;
    let (team_seoul_time, _) = timed(RUNS, get(team_query("overview", "Asia/Seoul"))).await;
    let (team_seoul_themes_time, team_seoul_themes) = timed(RUNS, get(team_query("themes", "Asia/Seoul"))).await;
    let agent_seoul: &'static str = format!("/api/v1/reports/overview?agent_id={agent}&tz=Asia/Seoul").leak();
    let (agent_seoul_time, _) = timed(RUNS, get(agent_seoul)).await;
    let (raw_team_time, raw_teams) = timed(1, raw(Some(Dimension::Team))).await;
    let (raw_agent_time, _) = timed(1, raw(Some(Dimension::Agent))).await;
    let (raw_themes_time, raw_themes) = timed(1, || {
        let (store, window) = (store.clone(), window.clone());
        async move { store.theme_counts(&window, Source::Raw).await.unwrap() }
    })
    .await;

    // The figures agree, whichever way they were computed.
    assert_eq!(overview["nps"]["n"].as_u64(), Some(fl.n), "overview n against the floor");
    assert_eq!(seoul["period"]["time_zone"], "Asia/Seoul");
    let team_n: u64 = teams["rows"].as_array().unwrap().iter().map(|r| r["n"].as_u64().unwrap()).sum();
    assert_eq!(team_n, fl.n);
    let floor_team_n: Vec<u64> = {
        let mut v: Vec<u64> = fl.by_team.iter().map(|c| c.iter().sum()).filter(|&k| k > 0).collect();
        v.sort();
        v
    };
    let mut raw_team_n: Vec<u64> = raw_teams.iter().map(|g| g.counts.iter().sum()).collect();
    raw_team_n.sort();
    assert_eq!(floor_team_n, raw_team_n, "rollup, raw rows and floor agree per team");
    let sum = |rows: &Value, field: &str| -> u64 {
        rows.as_array().unwrap().iter().map(|r| r[field]["n"].as_u64().unwrap_or(0)).sum()
    };
    assert_eq!(sum(&agents_page["agents"], "company_nps"), afl.with_agent, "company answers per agent");
    assert_eq!(themes_page["commented"].as_u64(), Some(raw_themes.commented), "comments read: rollup and rows");
    for driver in themes_page["drivers"].as_array().unwrap() {
        let key = driver["key"].as_str().unwrap();
        let raw_n: u64 = raw_themes.themes.get(key).map_or(0, |c| c.iter().sum());
        assert_eq!(driver["mentions"].as_u64(), Some(raw_n), "{key}: rollup and rows");
    }
    let team_answers: u64 = fl.by_team[team_index].iter().sum();
    assert_eq!(team_themes["overall"]["n"].as_u64(), Some(team_answers), "the team's answers");
    // Each theme's trend adds up to its mentions, in UTC months and in Seoul's.
    for page in [&themes_page, &seoul_themes, &team_themes, &team_seoul_themes] {
        for trend in page["trends"].as_array().unwrap() {
            let n: u64 = trend["periods"].as_array().unwrap().iter().map(|p| p["n"].as_u64().unwrap()).sum();
            let driver = page["drivers"].as_array().unwrap().iter().find(|d| d["key"] == trend["key"]).unwrap();
            assert_eq!(driver["mentions"].as_u64(), Some(n), "{}: trend and mentions", trend["key"]);
        }
    }
    let top_n: u64 = raw_themes.themes[&top].iter().sum();
    assert_eq!(theme_overview["nps"]["n"].as_u64(), Some(top_n), "{top}: the Overview by theme and the rows");
    assert_eq!(sum(&agents_page["agents"], "agent_nps"), afl.agent_answers, "agent answers per agent");
    for (f, bins) in agents_page["figures"].as_array().unwrap().iter().enumerate() {
        let page: Vec<u64> = bins["bins"].as_array().unwrap().iter().map(|b| b["n"].as_u64().unwrap()).collect();
        assert_eq!(page, afl.per_bin[f], "{} bins", bins["property"]);
    }

    println!("{:?}: 12-month window: {} answers of {total}", store.dialect(), fl.n);
    println!("{:<44} {:>10} {:>12}", "", "median ms", "× floor");
    let line = |name: &str, d: Duration| println!("{name:<44} {:>10.1} {:>12.1}", ms(d), ms(d) / ms(floor_time));
    line("floor: one pass over in-memory columns", floor_time);
    line("Overview (GET /api/v1/reports/overview)", overview_time);
    line("Segments by team (GET …/segments?by=team)", teams_time);
    line("Segments by channel", channels_time);
    line("Themes (GET …/themes), trends by month", themes_time);
    line("Overview of the top theme (…?theme=)", theme_overview_time);
    // The raw-row lines are one timed run each (after a warm-up): they take seconds.
    line("raw rows, trend by day (what the rollup saves)", raw_trend_time);
    line("Overview in Asia/Seoul (its own months)", seoul_time);
    line("Themes in Asia/Seoul (its own months)", seoul_themes_time);
    line("Themes of one team (a team lead's)", team_themes_time);
    line("Overview of one team in Asia/Seoul", team_seoul_time);
    line("Themes of one team in Asia/Seoul", team_seoul_themes_time);
    line("Overview of one agent in Asia/Seoul", agent_seoul_time);
    line("raw rows, by team", raw_team_time);
    line("raw rows, by theme", raw_themes_time);
    println!();
    let line = |name: &str, d: Duration| {
        println!("{name:<44} {:>10.1} {:>12.1}", ms(d), ms(d) / ms(agent_floor_time));
    };
    line("agents floor: one pass over in-memory columns", agent_floor_time);
    line("Agents (GET /api/v1/reports/agents)", agents_time);
    line("Segments by agent (GET …/segments?by=agent)", by_agent_time);
    line("raw rows, by agent (what the rollup saves)", raw_agent_time);
}

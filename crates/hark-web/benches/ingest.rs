//! Ingest benchmark: acknowledged, durable responses per second over HTTP into SQLite, beside
//! the ceiling of this machine measured in the same run: an axum route that parses the same
//! JSON body and discards it. Then the follow-up: with the job runner on, answers whose
//! playbook has run (case opened, mails and webhooks queued) per second, measured until the
//! queue is empty, the queue left when the load stops, the CPU per job, and peak memory.
//!
//!     cargo bench -p hark-web --bench ingest                  # 64 clients, 5 s per phase
//!     HARK_BENCH_CLIENTS=16 HARK_BENCH_SECONDS=10 cargo bench -p hark-web --bench ingest
//!     # the follow-up phase on PostgreSQL (HARK_TEST_POSTGRES_URL), with two nodes sharing it:
//!     HARK_BENCH_BACKEND=postgres HARK_BENCH_NODES=2 cargo bench -p hark-web --bench ingest
//!     # the follow-up phase with a webhook on loopback receiving these events:
//!     HARK_BENCH_WEBHOOK=case.opened cargo bench -p hark-web --bench ingest
//!
//! The nodes here share one OS process with the load; `cargo bench -p hark --bench serve` runs
//! the same load through separate `hark serve` processes.

use std::time::{Duration, Instant};

/// The allocator of the `hark` binary, so that the server measured here allocates as it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::Json;
use axum::routing::post;
use hark_store::Store;
use hark_store::testing::{Backend, TestDatabase};
use hark_web::ingest::ResponseInput;
use serde_json::json;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[path = "support/load.rs"]
mod load;
use load::{load, print};

#[tokio::main]
async fn main() {
    let clients = env("HARK_BENCH_CLIENTS", 64);
    let seconds = env("HARK_BENCH_SECONDS", 5);
    let db = TestDatabase::new(Backend::Sqlite).await.unwrap();
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let (_, key) = store.create_api_key("bench").await.unwrap();
    let survey: hark_core::survey::SurveyDefinition =
        serde_json::from_value(json!({"name": "Bench", "kind": "nps", "brand": "Acme"})).unwrap();
    let survey = store.create_survey(&survey, hark_store::SurveyStatus::Active).await.unwrap().id;

    let hark = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hark_addr = hark.local_addr().unwrap();
    let hark_url = format!("http://{hark_addr}/api/v1/responses");
    let state = hark_web::AppState::new(store.clone(), hark_web::WebConfig::local(hark_addr), None).await.unwrap();
    tokio::spawn(hark_web::serve(hark, state, std::future::pending()));

    let floor = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let floor_url = format!("http://{}/discard", floor.local_addr().unwrap());
    let discard = axum::Router::new().route(
        "/discard",
        post(|Json(input): Json<ResponseInput>| async move { std::hint::black_box(input).score.to_string() }),
    );
    tokio::spawn(async move { axum::serve(floor, discard).await });

    println!(
        "ingest over HTTP on loopback, {clients} concurrent clients, {seconds} s per phase, SQLite WAL synchronous=FULL"
    );
    let ceiling = load(vec![floor_url], key.clone(), survey.clone(), clients, seconds).await;
    print("ceiling: parse JSON and discard", &ceiling);
    let stored_before = store.count_responses(&Default::default()).await.unwrap();
    let threads_before = cpu_by_thread();
    let hark = load(vec![hark_url], key, survey.clone(), clients, seconds).await;
    print("hark: validate, store, commit", &hark);
    let spent = cpu_by_thread();
    let per_answer = |name: &str| {
        let used = spent.get(name).unwrap_or(&0.0) - threads_before.get(name).unwrap_or(&0.0);
        format!("{:.1} µs", used * 1e6 / hark.ok.max(1) as f64)
    };
    println!(
        "CPU per acknowledged answer: writer {}, SQLite's threads {}, server and load generator {}",
        per_answer("hark-writer"),
        per_answer("sqlx-sqlite-wor"),
        per_answer("tokio-rt-worker")
    );
    let stored = store.count_responses(&Default::default()).await.unwrap() - stored_before;
    println!("ratio hark / ceiling: {:.2}   (stored {stored} = acknowledged {})", hark.rate / ceiling.rate, hark.ok);
    assert_eq!(stored as usize, hark.ok, "every acknowledged response is stored");
    // Before the follow-up phase starts a second node in this process.
    println!(
        "peak memory (VmHWM) so far, one Hark node with the load generator and the ceiling's server: {} MB",
        peak_rss_kb() / 1024
    );

    // The same load on a fresh database, with the job runner following up every answer: on
    // SQLite, or on PostgreSQL with one or more nodes (each its own pool, writer and runner)
    // sharing the database and the work.
    let backend = match std::env::var("HARK_BENCH_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let nodes = env("HARK_BENCH_NODES", 1).max(1);
    let Some(db) = TestDatabase::new(backend).await else {
        println!("follow-up on PostgreSQL skipped: set HARK_TEST_POSTGRES_URL");
        return;
    };
    println!("follow-up phase: {backend:?}, {nodes} node(s)");
    let store = Store::open(&db.url).await.unwrap();
    store.migrate().await.unwrap();
    let survey: hark_core::survey::SurveyDefinition =
        serde_json::from_value(json!({"name": "Bench", "kind": "nps", "brand": "Acme"})).unwrap();
    let survey = store.create_survey(&survey, hark_store::SurveyStatus::Active).await.unwrap().id;
    let calls = webhook(&store).await;
    let mut urls = Vec::new();
    for _ in 0..nodes {
        let node_store = Store::open(&db.url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let signer = hark_core::token::Signer::new(node_store.link_secret().await.unwrap().as_bytes());
        let config = hark_jobs::RunnerConfig {
            public_url: format!("http://{addr}"),
            idle_poll: Duration::from_millis(200),
            retry_base: Duration::from_secs(30),
            sweep_interval: Duration::from_secs(60),
            outbound: hark_jobs::OutboundPolicy::allowing(&["127.0.0.1".to_owned()]).unwrap(),
            public_cases_per_hour: 20,
            lease: hark_jobs::RunnerConfig::DEFAULT_LEASE,
            time_zone: jiff::tz::TimeZone::UTC,
            digest_schedule: None,
        };
        let runner = hark_jobs::Runner::new(node_store.clone(), signer, None, config);
        tokio::spawn(runner.clone().run(std::future::pending()));
        let state = hark_web::AppState::new(node_store, hark_web::WebConfig::local(addr), Some(runner)).await.unwrap();
        tokio::spawn(hark_web::serve(listener, state, std::future::pending()));
        urls.push(format!("http://{addr}/api/v1/responses"));
    }
    let done_before = done_jobs(&store).await;
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let key = store.create_api_key("bench 2").await.unwrap().1;
    let live = load(urls, key, survey, clients, seconds).await;
    let load_time = started.elapsed();
    let backlog = store.job_backlog().await.unwrap();
    let (queued, oldest) = backlog.iter().fold((0, i64::MAX), |(n, o), (_, k, at)| (n + k, o.min(*at)));
    let now = jiff::Timestamp::now().as_millisecond();
    let cpu_at_stop = cpu_seconds();
    while !store.job_backlog().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    let jobs = done_jobs(&store).await - done_before;
    let drain = total - load_time;
    print("hark + follow-up: acknowledged", &live);
    println!(
        "follow-up: processed {:>9.0} answers/s  ({} answers, {jobs} jobs, all done {:.1} s after the start)",
        live.ok as f64 / total.as_secs_f64(),
        live.ok,
        total.as_secs_f64()
    );
    println!(
        "  when the load stopped: {queued} jobs waiting, the oldest {:.1} s old; drained in {:.1} s",
        if queued > 0 { (now - oldest) as f64 / 1000.0 } else { 0.0 },
        drain.as_secs_f64()
    );
    println!(
        "  ratio processed / acknowledged: {:.2}   CPU per job while draining: {}   CPU over the whole run: {:.1} s",
        (live.ok as f64 / total.as_secs_f64()) / live.rate,
        if queued > 0 {
            format!("{:.0} µs", (cpu_seconds() - cpu_at_stop) * 1e6 / queued as f64)
        } else {
            "–".into()
        },
        cpu_seconds() - cpu_start
    );
    println!(
        "  peak memory (VmHWM) of this process, both phases' nodes and the load generator included: {} MB",
        peak_rss_kb() / 1024
    );
    println!("  jobs by status at the end: {:?}", store.count_jobs().await.unwrap());
    let cases = store.list_cases(&Default::default(), 10_000_000).await.unwrap().len();
    let detractors = store
        .count_responses(&hark_store::ResponseFilter {
            segment: Some(hark_core::Segment::Detractor),
            ..Default::default()
        })
        .await
        .unwrap();
    let again = store.list_jobs(None, 10_000_000).await.unwrap().iter().filter(|j| j.attempts > 1).count();
    println!("  cases opened {cases} for {detractors} detractors; jobs run more than once: {again}");
    if let Some(calls) = calls {
        println!("  webhook calls received: {}", calls.load(std::sync::atomic::Ordering::Relaxed));
    }
    for job in store.list_jobs(Some(hark_store::JobStatus::Failed), 3).await.unwrap() {
        println!("  failed: {} after {} attempts: {}", job.kind, job.attempts, job.last_error.unwrap_or_default());
    }
}

/// With `HARK_BENCH_WEBHOOK` (events, comma-separated), a webhook for them whose receiver on
/// loopback answers 200 at once; returns its count of calls.
async fn webhook(store: &Store) -> Option<std::sync::Arc<std::sync::atomic::AtomicU64>> {
    let events: Vec<String> = std::env::var("HARK_BENCH_WEBHOOK").ok()?.split(',').map(str::to_owned).collect();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = calls.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        post(move || async move {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    store.create_webhook("bench", "generic", &url, &events, None).await.unwrap();
    println!("  with a webhook on loopback for {events:?}");
    Some(calls)
}

async fn done_jobs(store: &Store) -> i64 {
    store.count_jobs().await.unwrap().iter().filter(|(s, _)| s == "done").map(|(_, n)| n).sum()
}

/// User and system CPU time of this process so far (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<f64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
    let ticks = fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0);
    ticks / 100.0
}

/// CPU seconds of this process's threads, summed by name: the answer writer (`hark-writer`),
/// the threads that run SQLite's calls (one per connection; the readers' are idle here), and
/// the runtime's workers (the server and the load generator).
fn cpu_by_thread() -> std::collections::HashMap<String, f64> {
    let mut by_name = std::collections::HashMap::new();
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let read = |file: &str| std::fs::read_to_string(task.path().join(file)).unwrap_or_default();
        // The first field of schedstat is the time on CPU, in nanoseconds.
        let ns: f64 = read("schedstat").split_whitespace().next().and_then(|f| f.parse().ok()).unwrap_or(0.0);
        *by_name.entry(read("comm").trim().to_owned()).or_default() += ns / 1e9;
    }
    by_name
}

fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

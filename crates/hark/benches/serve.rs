//! End-to-end follow-up through real `hark serve` processes, as a deployment runs them: the
//! ingest bench's load (64 clients, 5 s) through one server on SQLite, then through one and
//! through two servers sharing a PostgreSQL database (when `HARK_TEST_POSTGRES_URL` is set).
//! For each run: answers acknowledged per second, answers fully followed up per second
//! (playbook run, case opened, mails and webhooks queued; measured until the job queue is
//! empty), the queue when the load stopped, cases against detractors, jobs run more than once,
//! and each server's CPU time and peak memory (VmHWM), apart from the load generator's.
//!
//!     cargo bench -p hark --bench serve
//!     HARK_BENCH_CLIENTS=16 HARK_BENCH_SECONDS=10 cargo bench -p hark --bench serve

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hark_store::testing::{Backend, TestDatabase};
use hark_store::{JobStatus, ResponseFilter, Store};

#[path = "../../hark-web/benches/support/load.rs"]
mod load;

const HARK: &str = env!("CARGO_BIN_EXE_hark");

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A running `hark serve`, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(database: &str) -> Server {
        let mut child = Command::new(HARK)
            .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
            .env("HARK_LOG", "warn")
            .env("HARK_JOB_POLL_MS", "200")
            .stdout(Stdio::piped())
            .spawn()
            .expect("hark starts");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        // Killed on the way out, also when it never listens.
        let mut server = Server { child, url: String::new() };
        loop {
            let mut line = String::new();
            assert!(out.read_line(&mut line).unwrap() > 0, "hark exited before listening");
            if let Some(rest) = line.strip_prefix("Hark is listening on ") {
                server.url = rest.split_whitespace().next().unwrap().to_owned();
                std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
                return server;
            }
        }
    }

    /// (CPU seconds, peak resident MB) of the process so far, from /proc.
    fn usage(&self) -> (f64, u64) {
        let pid = self.child.id();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<f64> = rest.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect();
        let cpu = (fields.get(11).unwrap_or(&0.0) + fields.get(12).unwrap_or(&0.0)) / 100.0;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        (cpu, kb / 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API key made with `hark apikey create`, as an operator makes one.
fn api_key(database: &str) -> String {
    let out = Command::new(HARK)
        .args(["--database", database, "apikey", "create", "--name", "bench"])
        .env("HARK_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().last().unwrap().trim().to_owned()
}

async fn run(name: &str, database: &str, servers: usize, clients: u64, seconds: u64) {
    let store = Store::open(database).await.unwrap();
    store.migrate().await.unwrap();
    let key = api_key(database);
    // One after the other: each migrates the database on start.
    let servers: Vec<Server> = (0..servers).map(|_| Server::start(database)).collect();
    let client = reqwest::Client::new();
    let survey: serde_json::Value = client
        .post(format!("{}/api/v1/surveys", servers[0].url))
        .bearer_auth(&key)
        .json(&serde_json::json!({"name": "Bench", "kind": "nps", "brand": "Acme"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let survey = survey["id"].as_str().unwrap().to_owned();
    let urls = servers.iter().map(|s| format!("{}/api/v1/responses", s.url)).collect();
    let started = Instant::now();
    let acked = load::load(urls, key, survey, clients, seconds).await;
    let backlog = store.job_backlog().await.unwrap();
    let (queued, oldest) = backlog.iter().fold((0, i64::MAX), |(n, o), (_, k, at)| (n + k, o.min(*at)));
    let now = jiff::Timestamp::now().as_millisecond();
    while !store.job_backlog().await.unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let total = started.elapsed();
    let processed = acked.ok as f64 / total.as_secs_f64();
    println!("{name}");
    load::print("  acknowledged", &acked);
    println!(
        "  processed {processed:>9.0} answers/s, all followed up {:.1} s after the start; ratio processed / acknowledged {:.2}",
        total.as_secs_f64(),
        processed / acked.rate
    );
    let oldest = if queued > 0 { (now - oldest) as f64 / 1000.0 } else { 0.0 };
    println!("  when the load stopped: {queued} jobs waiting, the oldest {oldest:.1} s old");
    let cases = store.list_cases(&Default::default(), 10_000_000).await.unwrap().len();
    let detractors = store
        .count_responses(&ResponseFilter { segment: Some(hark_core::Segment::Detractor), ..Default::default() })
        .await
        .unwrap();
    let jobs = store.list_jobs(None, 10_000_000).await.unwrap();
    let again = jobs.iter().filter(|j| j.attempts > 1).count();
    let failed = jobs.iter().filter(|j| j.status == JobStatus::Failed).count();
    println!(
        "  cases opened {cases} for {detractors} detractors; jobs {}; run more than once {again}; failed {failed}",
        jobs.len()
    );
    for (i, server) in servers.iter().enumerate() {
        let (cpu, mb) = server.usage();
        println!("  server {}: CPU {cpu:.1} s, peak memory (VmHWM) {mb} MB", i + 1);
    }
    store.close().await;
}

#[tokio::main]
async fn main() {
    let clients = env("HARK_BENCH_CLIENTS", 64);
    let seconds = env("HARK_BENCH_SECONDS", 5);
    println!("`hark serve` processes, {clients} concurrent clients over HTTP on loopback for {seconds} s");
    let sqlite = TestDatabase::new(Backend::Sqlite).await.unwrap();
    run("SQLite, one server", &sqlite.url, 1, clients, seconds).await;
    for servers in [1, 2] {
        let Some(pg) = TestDatabase::new(Backend::Postgres).await else {
            println!("PostgreSQL skipped: set HARK_TEST_POSTGRES_URL");
            return;
        };
        run(&format!("PostgreSQL, {servers} server(s) sharing the database"), &pg.url, servers, clients, seconds).await;
    }
}

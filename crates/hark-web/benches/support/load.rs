//! The load both follow-up benches put on Hark: `clients` concurrent loops POSTing answers
//! (scores 0–10 in turn, each with a comment) for a number of seconds, with the latency of each.
//! Shared by `hark-web/benches/ingest.rs` and `hark/benches/serve.rs`.

use std::time::{Duration, Instant};

use serde_json::json;

pub struct Figures {
    pub ok: usize,
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// `clients` concurrent loops POSTing for `seconds`, spread over `urls`; each request carries
/// a fresh key.
pub async fn load(urls: Vec<String>, key: String, survey: String, clients: u64, seconds: u64) -> Figures {
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients as usize).build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let url = urls[c as usize % urls.len()].clone();
        let (client, key, survey) = (client.clone(), key.clone(), survey.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = json!({"survey_id": survey, "score": (i % 11) as i64, "comment": "Fast delivery, friendly support",
                                  "channel": "api", "language": "en", "context": {"order": i}});
                let t = Instant::now();
                let r = client.post(&url).bearer_auth(&key).header("Idempotency-Key", format!("{c}-{i}")).json(&body).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.bytes().await.unwrap();
                latencies.push(t.elapsed());
                i += 1;
            }
            latencies
        });
    }
    let mut all: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures { ok: all.len(), rate: all.len() as f64 / elapsed.as_secs_f64(), p50: at(0.50), p99: at(0.99) }
}

pub fn print(name: &str, f: &Figures) {
    println!(
        "{name:<34} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests)",
        f.rate,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.ok
    );
}

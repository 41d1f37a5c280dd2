//! The test harness: Hark served on a loopback port over a real database (a SQLite file,
//! or a fresh PostgreSQL schema), with its job runner and a real SMTP server when asked,
//! and a headless Chromium driven through ChromeDriver.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode as AxumStatus};
use hark_jobs::testing::{SmtpServer, serve_on_free_port};
use hark_jobs::{Mailer, Runner, RunnerConfig};
use hark_store::Store;
use hark_store::testing::{Backend, TestDatabase};
use reqwest::StatusCode;
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    pub key: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub smtp: Option<SmtpServer>,
    pub state: hark_web::AppState,
    _db: TestDatabase,
}

impl TestApp {
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, false).await
    }

    /// With `mail`, an SMTP server process receives what the job runner sends.
    pub async fn start_with(backend: Backend, mail: bool) -> Option<TestApp> {
        Self::start_configured(backend, mail, |_| {}).await
    }

    /// As `start_with`, with the web settings changed by `configure` (limits, timeouts).
    pub async fn start_configured(
        backend: Backend,
        mail: bool,
        configure: impl FnOnce(&mut hark_web::WebConfig),
    ) -> Option<TestApp> {
        Self::start_full(backend, mail, mail, configure).await
    }

    /// Jobs running as `hark serve` runs them without `HARK_SMTP_URL`: no mail server.
    pub async fn start_without_mail_server(backend: Backend) -> Option<TestApp> {
        Self::start_full(backend, true, false, |_| {}).await
    }

    /// `jobs`: run the job runner; `mail`: give it a real SMTP server.
    pub async fn start_full(
        backend: Backend,
        jobs: bool,
        mail: bool,
        configure: impl FnOnce(&mut hark_web::WebConfig),
    ) -> Option<TestApp> {
        // The runner's warnings and retries, printed with a failing test's output.
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,hark_jobs=info").try_init();
        let db = TestDatabase::new(backend).await?;
        let store = Store::open(&db.url).await.expect("open store");
        store.migrate().await.expect("migrate");
        let (_, key) = store.create_api_key("test").await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let smtp = mail.then(SmtpServer::start);
        let mut config = hark_web::WebConfig::local(addr);
        configure(&mut config);
        let runner = match jobs {
            true => {
                let mailer =
                    smtp.as_ref().map(|smtp| Mailer::new(&smtp.url(), "Hark Test <hark@test.localhost>").unwrap());
                let public_url = base.clone();
                let signer = hark_core::token::Signer::new(store.link_secret().await.unwrap().as_bytes());
                let config = RunnerConfig {
                    public_url,
                    idle_poll: Duration::from_millis(50),
                    retry_base: Duration::from_millis(100),
                    sweep_interval: Duration::from_millis(200),
                    // The tests' webhook receivers listen on loopback.
                    outbound: hark_jobs::OutboundPolicy::allowing(&["127.0.0.1".into()]).unwrap(),
                    public_cases_per_hour: 3,
                    lease: hark_jobs::RunnerConfig::DEFAULT_LEASE,
                    time_zone: config.time_zone.clone(),
                    digest_schedule: None,
                };
                let runner = Runner::new(store.clone(), signer, mailer, config);
                tokio::spawn(runner.clone().run(std::future::pending()));
                Some(runner)
            }
            false => None,
        };
        let state = hark_web::AppState::new(store.clone(), config, runner).await.unwrap();
        tokio::spawn(hark_web::serve(listener, state.clone(), std::future::pending()));
        // The server closes a kept-alive connection idle for its header timeout (10 s); a client
        // that reused one just then got "connection reset" (1,000 answers posted twice on
        // PostgreSQL under CI load). The client lets go of idle connections first.
        let client = reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(5)).build().unwrap();
        Some(TestApp { base, key, client, store, smtp, state, _db: db })
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).send().await.unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Value {
        let r = self.post(path).json(body).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn survey(&self, body: Value) -> String {
        let r = self.post("/api/v1/surveys").json(&body).send().await.unwrap();
        let status = r.status();
        let body = r.json::<Value>().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// A user of `role` (with a team and agent, if given) signed in through the sign-in form:
    /// a client that does not follow redirects, and the session cookie to send.
    pub async fn user_session(
        &self,
        email: &str,
        role: hark_store::Role,
        team: Option<&str>,
        agent: Option<&str>,
    ) -> (reqwest::Client, String) {
        let hash = hark_core::auth::hash_password("correct horse battery");
        let user = self.store.create_user(email, None, role, &hash).await.unwrap();
        self.store.set_user_team(&user.id, team).await.unwrap();
        self.store.set_user_agent(&user.id, agent).await.unwrap();
        self.sign_in(email, "correct horse battery").await.expect("the new user signs in")
    }

    /// The text of the page at `path` as a signed-in session (from [`Self::user_session`]) reads it in `lang`.
    pub async fn page_text(&self, (http, cookie): &(reqwest::Client, String), path: &str, lang: &str) -> String {
        let page = http.get(format!("{}{path}", self.base)).header("cookie", cookie).header("accept-language", lang);
        page.send().await.unwrap().text().await.unwrap()
    }

    /// Signs in through the sign-in form: a client that does not follow redirects and the
    /// session cookie, or `None` if the sign-in is refused.
    pub async fn sign_in(&self, email: &str, password: &str) -> Option<(reqwest::Client, String)> {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let login =
            http.post(format!("{}/login", self.base)).form(&[("email", email), ("password", password)]).send().await;
        let login = login.unwrap();
        let cookie = login.headers().get("set-cookie").filter(|_| login.status() == StatusCode::SEE_OTHER)?;
        let cookie = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        Some((http, cookie))
    }

    /// A personal-link invitation ("you deliver them") for a new contact made from `contact`
    /// (external_id, email, locale …): the invitation as the API shows it, with `id` and `link`.
    pub async fn link_invitation(&self, survey: &str, contact: Value) -> Value {
        let contact = self.post_json("/api/v1/contacts", &contact).await;
        let sent = self
            .post_json(
                &format!("/api/v1/surveys/{survey}/invitations"),
                &serde_json::json!({"channel": "link", "contact_ids": [contact["id"]]}),
            )
            .await;
        assert_eq!(sent["issued"], 1, "{sent}");
        sent["invitations"][0].clone()
    }

    pub async fn count(&self) -> i64 {
        self.store.count_responses(&Default::default()).await.unwrap()
    }
}

/// Every page only an admin opens, for a survey and a contact of it.
pub fn admin_pages(survey: &str, contact: &str) -> Vec<String> {
    vec![
        "/admin/surveys".to_owned(),
        "/admin/surveys/new".into(),
        format!("/admin/surveys/{survey}"),
        format!("/admin/surveys/{survey}/preview"),
        format!("/admin/surveys/{survey}/send"),
        format!("/admin/surveys/{survey}/playbooks"),
        "/admin/jobs".into(),
        "/admin/contacts".into(),
        format!("/admin/contacts/{contact}"),
        "/admin/loop".into(),
        "/admin/integrations".into(),
        "/admin/users".into(),
        "/admin/mail".into(),
        "/admin/shared".into(),
    ]
}

/// The paths of a live wallboard and a shared Overview made by `maker` (an admin).
#[allow(dead_code)]
pub async fn shared_pages(store: &hark_store::Store, maker: &str) -> Vec<String> {
    let signer = hark_core::token::Signer::new(store.link_secret().await.unwrap().as_bytes());
    let mut paths = Vec::new();
    for (kind, page, path) in [("wallboard", "wallboard", "wallboard"), ("view", "overview", "shared")] {
        let new = hark_store::NewSharedLink {
            kind,
            page,
            query: "",
            created_by: maker,
            personal_data: false,
            expires_at: jiff::Timestamp::now().as_millisecond() + 86_400_000,
        };
        let link = store.create_shared_link(&new).await.unwrap();
        paths.push(format!("/{path}/{}", signer.sign(hark_core::token::TokenKind::Shared, &link.id)));
    }
    paths
}

/// Runs each named `async fn(TestApp)` on SQLite and on PostgreSQL.
#[allow(unused_macros)]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => { common::on_both!(@with false; $($name),*); };
    (mail: $($name:ident),* $(,)?) => { common::on_both!(@with true; $($name),*); };
    (@with $mail:expr; $($name:ident),*) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
            if let Some(app) = super::TestApp::start_with(hark_store::testing::Backend::Sqlite, $mail).await { super::$name(app).await } } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() {
            if let Some(app) = super::TestApp::start_with(hark_store::testing::Backend::Postgres, $mail).await { super::$name(app).await } } )* }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both;

/// A webhook receiver on loopback that answers 500 to its first `failures` calls.
#[derive(Clone, Default)]
pub struct Receiver {
    calls: Arc<Mutex<Vec<(HeaderMap, String)>>>,
}

impl Receiver {
    pub async fn start(failures: usize) -> (Receiver, String) {
        let receiver = Receiver::default();
        let calls = receiver.calls.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let calls = calls.clone();
                async move {
                    let mut calls = calls.lock().unwrap();
                    calls.push((headers, body));
                    if calls.len() <= failures { AxumStatus::INTERNAL_SERVER_ERROR } else { AxumStatus::OK }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn calls(&self) -> Vec<(HeaderMap, String)> {
        self.calls.lock().unwrap().clone()
    }
}

/// Polls `check` until it returns `Some`, for up to `timeout`.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    timeout: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < timeout, "condition not met within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Headless Chromium through a ChromeDriver process of its own.
pub struct Browser {
    pub client: fantoccini::Client,
    driver: Child,
    port: u16,
}

impl Browser {
    /// `None` (printing why) where ChromeDriver is not installed; `.ci/run` installs it and sets
    /// `HARK_REQUIRE_BROWSER`, so there a missing driver fails instead of skipping.
    pub async fn start(javascript: bool, language: &str) -> Option<Browser> {
        let driver_path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(driver_path) = driver_path else {
            assert!(
                std::env::var_os("HARK_REQUIRE_BROWSER").is_none(),
                "HARK_REQUIRE_BROWSER is set but chromedriver is not installed"
            );
            println!("SKIPPED in a browser: chromedriver is not installed (apt-get install chromium chromium-driver)");
            return None;
        };
        let spawn = move |port: u16| {
            Command::new(driver_path)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts")
        };
        let ready = |stream: &mut std::net::TcpStream| {
            let mut status = Vec::new();
            stream.write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").is_ok() && {
                let _ = stream.read_to_end(&mut status);
                String::from_utf8_lossy(&status).contains("\"ready\":true")
            }
        };
        let (driver, port) = tokio::task::spawn_blocking(move || serve_on_free_port("chromedriver", spawn, ready))
            .await
            .expect("chromedriver starts");
        let js_setting = if javascript { 1 } else { 2 };
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", format!("--lang={language}")],
                "prefs": {
                    "profile.managed_default_content_settings.javascript": js_setting,
                    "intl.accept_languages": language
                }
            }),
        );
        let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        Some(Browser { client, driver, port })
    }

    /// Lays pages out `width` CSS pixels wide, as a phone of that width would: a headless
    /// window cannot be made narrower than about 500 px, so a window size of 390 would test
    /// 485 px.
    pub async fn set_width(&self, width: u32) {
        let id = self.client.session_id().await.unwrap().expect("a session");
        let metrics = serde_json::json!({"cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500}});
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/session/{id}/goog/cdp/execute", self.port))
            .json(&metrics)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "set the width: {}", r.text().await.unwrap());
    }

    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    /// Also when a test fails before `close`: take Chromium down with its driver, so no
    /// browser is left running.
    fn drop(&mut self) {
        let _ = Command::new("pkill").args(["-KILL", "-P", &self.driver.id().to_string()]).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

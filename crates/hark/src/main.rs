//! The `hark` command: run the server and administer a Hark database.

mod demo;
mod transfer;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use hark_store::{Role, Store};

/// mimalloc: under load glibc malloc took a sixth of the CPU, and its locks made threads wait.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "hark", version, about = "Hark: self-hosted NPS and closed-loop customer feedback")]
struct Cli {
    /// SQLite file path, `sqlite://…` or `postgres://…` URL.
    #[arg(long, global = true, env = "HARK_DATABASE_URL", default_value = "hark.db")]
    database: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        #[arg(long, env = "HARK_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Fill an empty database with demo data and print an API key to explore it.
        #[arg(long, env = "HARK_DEMO")]
        demo: bool,
        #[command(flatten)]
        outreach: OutreachArgs,
        #[command(flatten)]
        guard: GuardArgs,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Write a consistent copy of the SQLite database to FILE, while Hark runs.
    Backup { file: String },
    /// Fill an empty database with a year of multilingual demo data.
    Demo {
        #[arg(long, default_value_t = demo::DEFAULT_RESPONSES)]
        responses: usize,
    },
    /// Manage people who log in.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API keys.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Import data from CSV.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Export data as CSV.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; prints a generated password unless HARK_PASSWORD is set.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// admin, executive, team_lead or agent.
        #[arg(long, default_value = "admin")]
        role: String,
        /// The team a team lead leads or an agent works in (created if new); cases of that
        /// team go to its lead.
        #[arg(long)]
        team: Option<String>,
        /// For the agent role: which agent this user is (id, external id or name); the
        /// dashboards then show them their own answers and rank.
        #[arg(long)]
        agent: Option<String>,
    },
    /// Change a user's role (keeping their team and agent link where the role allows).
    Role {
        #[arg(long)]
        email: String,
        /// admin, executive, team_lead or agent.
        #[arg(long)]
        role: String,
    },
    /// Sign a user out everywhere and refuse their sign-in; they keep their history.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated user sign in again.
    Activate {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; it is printed once and stored only as a hash.
    Create {
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a key by its id (the part after `hark_`, before the second `_`).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Responses from a CSV file with a header row (columns such as email, score, comment,
    /// date, agent, team; other columns become contact attributes).
    Responses {
        file: PathBuf,
        /// Survey id or name; a name that matches none creates an NPS survey.
        #[arg(long, default_value = "Imported NPS")]
        survey: String,
    },
    /// Interactions from other systems (columns customer_id or email, kind, date, agent,
    /// summary; other columns become figures such as handle_time_s).
    Interactions { file: PathBuf },
    /// Feedback from other sources: reviews, social media, interviews, tickets (columns text,
    /// source, rating and scale, customer_id or email, date, url, language). Read for themes
    /// and sentiment; never counted in NPS.
    Feedback { file: PathBuf },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Responses as CSV on standard output.
    Responses {
        #[arg(long)]
        survey: Option<String>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HARK_LOG").unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run(cli))
}

async fn open(database: &str) -> anyhow::Result<Store> {
    let store = Store::open(database).await.with_context(|| format!("opening database {database}"))?;
    store.migrate().await.context("migrating database")?;
    Ok(store)
}

async fn user_by_email(store: &Store, email: &str) -> anyhow::Result<hark_store::User> {
    let users = store.list_users().await?;
    users
        .into_iter()
        .find(|u| u.email.eq_ignore_ascii_case(email))
        .with_context(|| format!("no user with the email {email}"))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = open(&cli.database).await?;
    match cli.command {
        Command::Serve { listen, demo, outreach, guard } => {
            serve(store.clone(), &cli.database, listen, demo, outreach, guard).await?
        }
        Command::Migrate => println!("database {} is up to date", cli.database),
        Command::Backup { file } => {
            store.backup_to(&file).await.with_context(|| format!("backing up to {file}"))?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!("backed up {} to {file} ({} KiB)", cli.database, size / 1024);
        }
        Command::Demo { responses } => demo::seed(&store, responses).await?,
        Command::User { command: UserCommand::Add { email, name, role, team, agent } } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role}: admin, executive, team_lead or agent"))?;
            let agent = match agent {
                None => None,
                Some(_) if role != Role::Agent => bail!("--agent is for users of the agent role"),
                Some(wanted) => Some(
                    store
                        .list_agents(None)
                        .await?
                        .into_iter()
                        .find(|a| a.id == wanted || a.external_id.as_deref() == Some(&wanted) || a.name == wanted)
                        .with_context(|| format!("no agent with the id, external id or name `{wanted}`"))?,
                ),
            };
            let (password, generated) = match std::env::var("HARK_PASSWORD") {
                Ok(p) if p.len() >= 12 => (p, false),
                Ok(_) => bail!("HARK_PASSWORD must be at least 12 characters"),
                Err(_) => (hark_core::auth::generate_password(), true),
            };
            let user =
                store.create_user(&email, name.as_deref(), role, &hark_core::auth::hash_password(&password)).await?;
            if let Some(team) = team {
                let team = store.team_named(&team).await?;
                store.set_user_team(&user.id, Some(&team.id)).await?;
            } else if let Some(team) = agent.as_ref().and_then(|a| a.team_id.as_deref()) {
                store.set_user_team(&user.id, Some(team)).await?;
            }
            if let Some(agent) = &agent {
                store.set_user_agent(&user.id, Some(&agent.id)).await?;
            }
            println!("user {} ({}) added", user.email, user.role.as_str());
            if generated {
                println!("password (shown once): {password}");
            }
        }
        Command::User { command: UserCommand::Role { email, role } } => {
            let role = Role::parse(&role)
                .with_context(|| format!("unknown role {role}: admin, executive, team_lead or agent"))?;
            let user = user_by_email(&store, &email).await?;
            let agent_id = user.agent_id.filter(|_| role == Role::Agent);
            let change = hark_store::UserChange { name: user.name, role, team_id: user.team_id, agent_id };
            store.update_user(&user.id, &change).await?;
            println!("user {email} is now {}", role.as_str());
        }
        Command::User { command: UserCommand::Deactivate { email } } => {
            store.set_user_active(&user_by_email(&store, &email).await?.id, false).await?;
            println!("user {email} deactivated and signed out");
        }
        Command::User { command: UserCommand::Activate { email } } => {
            store.set_user_active(&user_by_email(&store, &email).await?.id, true).await?;
            println!("user {email} may sign in again");
        }
        Command::Apikey { command: ApikeyCommand::Create { name } } => {
            let (record, token) = store.create_api_key(&name).await?;
            println!("API key {} ({}) created; it is shown once:\n{token}", record.id, record.name);
        }
        Command::Apikey { command: ApikeyCommand::Revoke { id } } => {
            store.revoke_api_key(&id).await?;
            println!("API key {id} revoked");
        }
        Command::Import { command: ImportCommand::Responses { file, survey } } => {
            let report = transfer::import_responses(&store, &file, &survey).await?;
            eprintln!("{report}");
            if report.rejected > 0 {
                std::process::exit(2);
            }
        }
        Command::Import { command: ImportCommand::Interactions { file } } => {
            let report = transfer::import_interactions(&store, &file).await?;
            eprintln!("{report}");
            if report.rejected > 0 {
                std::process::exit(2);
            }
        }
        Command::Import { command: ImportCommand::Feedback { file } } => {
            let report = transfer::import_feedback(&store, &file).await?;
            eprintln!("{report}");
            if report.rejected > 0 {
                std::process::exit(2);
            }
        }
        Command::Export { command: ExportCommand::Responses { survey } } => {
            transfer::export_responses(&store, survey.as_deref(), std::io::stdout().lock()).await?;
        }
    }
    store.close().await;
    Ok(())
}

/// How Hark reaches customers: its public address, mail, quiet windows, background jobs.
#[derive(clap::Args, Debug)]
struct OutreachArgs {
    /// Address customers reach Hark at, used in survey links and the widget
    /// [default: http://LISTEN].
    #[arg(long, env = "HARK_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP server for survey mail: smtp://host:25, smtp://user:pass@host:587?tls=required,
    /// smtps://user:pass@host:465. Without it, mail invitations fail with a clear reason.
    #[arg(long, env = "HARK_SMTP_URL")]
    smtp_url: Option<String>,
    /// Sender of survey mail.
    #[arg(long, env = "HARK_MAIL_FROM", default_value = "Hark <hark@localhost>")]
    mail_from: String,
    /// No contact is surveyed more often than this, across all surveys (0: no global window).
    #[arg(long, env = "HARK_GLOBAL_FATIGUE_DAYS", default_value_t = 7)]
    global_fatigue_days: u32,
    /// The organisation's time zone (IANA name, e.g. Asia/Seoul): times shown, dates typed and
    /// the days, weeks and months of reports are its own; each person may choose another.
    #[arg(long, env = "HARK_TIME_ZONE", default_value = "UTC")]
    time_zone: String,
    /// When each person's digest is mailed, as a cron expression in the organisation's zone
    /// (`0 8 * * MON`: Mondays at 08:00, covering the week before; `0 8 1 * *`: monthly);
    /// `off` for none.
    #[arg(long, env = "HARK_DIGEST_SCHEDULE", default_value = "0 8 * * MON")]
    digest_schedule: String,
    /// How often idle job runners look for due work, in milliseconds.
    #[arg(long, env = "HARK_JOB_POLL_MS", default_value_t = 1000)]
    job_poll_ms: u64,
    /// How long a job claimed by a process stays its own, in seconds: after a crash its
    /// unfinished jobs run elsewhere once this has passed (jobs time out at half of it).
    #[arg(long, env = "HARK_JOB_LEASE_SECONDS", default_value_t = 300)]
    job_lease_seconds: u64,
    /// First retry delay of a failed job, in seconds (each retry waits 4x longer, up to 1 h).
    #[arg(long, env = "HARK_JOB_RETRY_SECONDS", default_value_t = 30)]
    job_retry_seconds: u64,
    /// How often overdue cases are looked for (and escalated once), in seconds.
    #[arg(long, env = "HARK_ESCALATION_SECONDS", default_value_t = 60)]
    escalation_seconds: u64,
}

/// Limits on what clients and the outside world can make Hark do (see README, Security).
#[derive(clap::Args, Debug)]
struct GuardArgs {
    /// New answers per minute from one client address (0: no limit).
    #[arg(long, env = "HARK_RATE_ANSWERS_PER_IP", default_value_t = 20)]
    rate_answers_per_ip: u32,
    /// New answers per minute through one survey's anonymous link and widget (0: no limit).
    #[arg(long, env = "HARK_RATE_ANSWERS_PER_SURVEY", default_value_t = 600)]
    rate_answers_per_survey: u32,
    /// Follow-up saves, unsubscribes and widget comments per minute from one address.
    #[arg(long, env = "HARK_RATE_FOLLOW_UPS_PER_IP", default_value_t = 240)]
    rate_follow_ups_per_ip: u32,
    /// Sign-in attempts per 15 minutes for one account.
    #[arg(long, env = "HARK_RATE_SIGN_INS_PER_ACCOUNT", default_value_t = 10)]
    rate_sign_ins_per_account: u32,
    /// Sign-in attempts per minute from one address.
    #[arg(long, env = "HARK_RATE_SIGN_INS_PER_IP", default_value_t = 30)]
    rate_sign_ins_per_ip: u32,
    /// Behind a reverse proxy: the header that carries the client address (its last entry
    /// is used), e.g. x-forwarded-for. Unset, the connection's address is the client's.
    #[arg(long, env = "HARK_CLIENT_IP_HEADER")]
    client_ip_header: Option<String>,
    /// Seconds a client has to send a request's headers (also closes idle connections).
    #[arg(long, env = "HARK_HEADER_TIMEOUT_SECONDS", default_value_t = 10)]
    header_timeout_seconds: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "HARK_BODY_TIMEOUT_SECONDS", default_value_t = 30)]
    body_timeout_seconds: u64,
    /// Connections served at once.
    #[arg(long, env = "HARK_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Days a personal email link records scores after it was sent (0: for ever).
    #[arg(long, env = "HARK_LINK_VALID_DAYS", default_value_t = 90)]
    link_valid_days: u32,
    /// Cases one survey opens per hour for anonymous answers through its public link or
    /// widget; past it they are held for review (no mail, no webhook, no alert).
    #[arg(long, env = "HARK_PUBLIC_CASES_PER_HOUR", default_value_t = 20)]
    public_cases_per_hour: u32,
    /// Webhook targets allowed although they are on this machine or a private network
    /// (host names, addresses or CIDR ranges, comma-separated), for on-premise receivers.
    #[arg(long, env = "HARK_WEBHOOK_ALLOW", value_delimiter = ',')]
    webhook_allow: Vec<String>,
}

impl GuardArgs {
    fn web(&self, public_url: String, global_fatigue_days: u32) -> anyhow::Result<hark_web::WebConfig> {
        use std::time::Duration;
        let per_minute = hark_web::Rate::per_minute;
        Ok(hark_web::WebConfig {
            public_url,
            global_fatigue_days,
            time_zone: jiff::tz::TimeZone::UTC,
            limits: hark_web::RateLimits {
                answers_per_ip: per_minute(self.rate_answers_per_ip),
                answers_per_survey: per_minute(self.rate_answers_per_survey),
                follow_ups_per_ip: per_minute(self.rate_follow_ups_per_ip),
                sign_ins_per_account: hark_web::Rate {
                    count: self.rate_sign_ins_per_account,
                    per: Duration::from_secs(15 * 60),
                },
                sign_ins_per_ip: per_minute(self.rate_sign_ins_per_ip),
                client_ip_header: self.client_ip_header.clone(),
            },
            connections: hark_web::ConnectionLimits {
                header_timeout: Duration::from_secs(self.header_timeout_seconds.max(1)),
                body_timeout: Duration::from_secs(self.body_timeout_seconds.max(1)),
                max_connections: self.max_connections.max(1),
            },
            link_lifetime: (self.link_valid_days > 0)
                .then(|| Duration::from_secs(u64::from(self.link_valid_days) * 24 * 3600)),
        })
    }
}

async fn serve(
    store: Store,
    database: &str,
    listen: SocketAddr,
    demo: bool,
    outreach: OutreachArgs,
    guard: GuardArgs,
) -> anyhow::Result<()> {
    if store.count_users().await? == 0 {
        let password = hark_core::auth::generate_password();
        let hash = hark_core::auth::hash_password(&password);
        match store.create_user("admin@localhost", Some("Administrator"), Role::Admin, &hash).await {
            Ok(_) => println!(
                "First start: created the administrator admin@localhost with the password (shown once):\n  {password}"
            ),
            // Another node sharing the database, started at the same moment, made it first.
            Err(hark_store::StoreError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if demo {
        if store.list_surveys().await?.is_empty() {
            demo::seed(&store, demo::DEFAULT_RESPONSES).await?;
            let (_, token) = store.create_api_key("demo").await?;
            println!("Demo API key (shown once):\n  {token}");
            println!(
                "Try:\n  curl -H 'Authorization: Bearer {token}' 'http://{listen}/api/v1/reports/nps?granularity=month'"
            );
        } else {
            println!("--demo: the database already has surveys, so no demo data was added");
        }
    }
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    println!(
        "Hark is listening on http://{addr} (database: {database}); API reference: http://{addr}/api/v1/openapi.json"
    );
    tracing::info!(%addr, "listening");
    let public_url = outreach.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let mailer = match &outreach.smtp_url {
        Some(url) => Some(hark_jobs::Mailer::new(url, &outreach.mail_from).map_err(anyhow::Error::msg)?),
        None => {
            println!("No SMTP server configured (HARK_SMTP_URL): survey mail cannot be sent.");
            None
        }
    };
    let time_zone = jiff::tz::TimeZone::get(&outreach.time_zone).map_err(|_| {
        anyhow::anyhow!("--time-zone: `{}` is not an IANA time zone (e.g. Asia/Seoul)", outreach.time_zone)
    })?;
    let digest_schedule = match outreach.digest_schedule.trim() {
        "off" | "" => None,
        pattern => {
            Some(hark_jobs::DigestSchedule::parse(pattern).map_err(|e| anyhow::anyhow!("--digest-schedule: {e}"))?)
        }
    };
    let signer = hark_core::token::Signer::new(store.link_secret().await?.as_bytes());
    let runner = hark_jobs::Runner::new(
        store.clone(),
        signer,
        mailer,
        hark_jobs::RunnerConfig {
            public_url: public_url.clone(),
            idle_poll: std::time::Duration::from_millis(outreach.job_poll_ms),
            retry_base: std::time::Duration::from_secs(outreach.job_retry_seconds),
            sweep_interval: std::time::Duration::from_secs(outreach.escalation_seconds),
            outbound: hark_jobs::OutboundPolicy::allowing(&guard.webhook_allow)
                .map_err(|e| anyhow::anyhow!("--webhook-allow: {e}"))?,
            public_cases_per_hour: guard.public_cases_per_hour,
            lease: std::time::Duration::from_secs(outreach.job_lease_seconds.max(2)),
            time_zone: time_zone.clone(),
            digest_schedule,
        },
    );
    let mut config = guard.web(public_url, outreach.global_fatigue_days)?;
    config.time_zone = time_zone;
    let state = hark_web::AppState::new(store, config, Some(runner.clone())).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tagger = tokio::spawn(hark_web::tag_comments_in_background(state.store.clone()));
    let jobs = tokio::spawn(runner.run(async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
    }));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    println!("Dashboard: http://{addr}/dashboard · admin pages: http://{addr}/admin (sign in as admin@localhost)");
    hark_web::serve(listener, state, shutdown).await?;
    let _ = stop.send(true);
    tagger.abort();
    let _ = jobs.await;
    Ok(())
}

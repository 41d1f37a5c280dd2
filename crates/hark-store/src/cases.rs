//! Closing the loop in storage: cases and their history, users to assign them to, reward
//! codes, referral clicks, outgoing webhooks with their delivery log, and interactions from
//! other systems.

use hark_core::playbook::Priority;
use hark_core::{Segment, ValidationErrors, Why};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::entities::{USER_COLUMNS, user_from};
use crate::filter::{Bind, Sql};
use crate::jobs::{NewJob, enqueue_on};
use crate::responses::segment_in;
use crate::{Result, Store, StoreError, User, new_id, now_ms, parse_json};

/// The job that runs a survey's playbook for a new answer.
pub const PLAYBOOK_JOB: &str = "playbook";
/// The job that delivers one webhook call.
pub const WEBHOOK_JOB: &str = "webhook";
/// The job that mails a message about a case (to its owner, their lead, or the customer).
pub const CASE_MAIL_JOB: &str = "case_mail";

macro_rules! text_enum {
    ($name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),* }
        impl $name {
            pub fn as_str(self) -> &'static str { match self { $(Self::$variant => $text),* } }
            pub fn parse(s: &str) -> Option<Self> { [$(Self::$variant),*].into_iter().find(|x| x.as_str() == s) }
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
        }
    };
}

// `held`: opened during a flood of anonymous answers; nobody was told, and it waits for an
// admin to release it (set it open) or close it.
text_enum!(CaseStatus { Open => "open", InProgress => "in_progress", Waiting => "waiting", Closed => "closed", Held => "held" });
// `no_contact`: the customer left no way to reach them.
text_enum!(CaseOutcome { Resolved => "resolved", Unresolved => "unresolved", NoReply => "no_reply", NoContact => "no_contact" });

// Where a reply to the customer is: handed to the mail job, accepted by the mail server,
// or refused / never sent (with the reason).
text_enum!(ReplyState { Queued => "queued", Sent => "sent", Failed => "failed" });

/// The suggested steps of a detractor case, in order.
pub const CASE_STEPS: &[(&str, &str)] = &[
    ("listen", "Listen: call or write with an open question"),
    ("apologise", "Acknowledge and apologise"),
    ("fix", "Fix the problem"),
    ("tell", "Tell the customer what was done"),
    ("token", "Optional token of apology"),
];

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Case {
    pub id: String,
    pub response_id: String,
    pub survey_id: String,
    pub contact_id: Option<String>,
    pub team_id: Option<String>,
    pub owner_id: Option<String>,
    pub status: CaseStatus,
    pub priority: Priority,
    pub due_at: i64,
    pub first_contact_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub outcome: Option<CaseOutcome>,
    pub root_cause: Option<String>,
    /// Suggested steps done so far (`listen`, `apologise`, `fix`, `tell`, `token`).
    pub steps: Vec<String>,
    pub escalated_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const CASE_COLUMNS: &str = "id, response_id, survey_id, contact_id, team_id, owner_id, status, priority, due_at, \
     first_contact_at, closed_at, outcome, root_cause, steps, escalated_at, created_at, updated_at";

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value}"))
}

fn case_from(row: &AnyRow) -> Result<Case> {
    let status: String = row.try_get("status")?;
    let priority: String = row.try_get("priority")?;
    let outcome: Option<String> = row.try_get("outcome")?;
    let steps = match parse_json("cases.steps", &row.try_get::<String, _>("steps")?)? {
        Value::Array(items) => items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        other => return Err(corrupt("cases.steps", &other.to_string())),
    };
    Ok(Case {
        id: row.try_get("id")?,
        response_id: row.try_get("response_id")?,
        survey_id: row.try_get("survey_id")?,
        contact_id: row.try_get("contact_id")?,
        team_id: row.try_get("team_id")?,
        owner_id: row.try_get("owner_id")?,
        status: CaseStatus::parse(&status).ok_or_else(|| corrupt("cases.status", &status))?,
        priority: Priority::parse(&priority).ok_or_else(|| corrupt("cases.priority", &priority))?,
        due_at: row.try_get("due_at")?,
        first_contact_at: row.try_get("first_contact_at")?,
        closed_at: row.try_get("closed_at")?,
        outcome: outcome
            .as_deref()
            .map(|o| CaseOutcome::parse(o).ok_or_else(|| corrupt("cases.outcome", o)))
            .transpose()?,
        root_cause: row.try_get("root_cause")?,
        steps,
        escalated_at: row.try_get("escalated_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn case_event_from(r: &AnyRow) -> Result<CaseEvent> {
    Ok(CaseEvent {
        id: r.try_get("id")?,
        case_id: r.try_get("case_id")?,
        actor: r.try_get("actor")?,
        kind: r.try_get("kind")?,
        detail: parse_json("case_events.detail", &r.try_get::<String, _>("detail")?)?,
        created_at: r.try_get("created_at")?,
    })
}

/// A case to open for an answer.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub response_id: String,
    pub survey_id: String,
    pub contact_id: Option<String>,
    pub team_id: Option<String>,
    pub owner_id: Option<String>,
    pub priority: Priority,
    pub due_at: i64,
    /// Why it was opened (the playbook or rule), for the history.
    pub reason: String,
    /// For an anonymous answer through a public door: how many such cases the survey may open
    /// in an hour; past it the case is held for review (see [`CaseStatus::Held`]).
    pub public_budget: Option<u32>,
}

impl NewCase {
    /// The case a playbook's `decision` opens for `response`, of `team_id`, owned by `owner_id`.
    pub fn for_answer(
        response: &crate::Response,
        decision: &hark_core::playbook::Decision<'_>,
        team_id: Option<String>,
        owner_id: Option<String>,
        public_budget: Option<u32>,
    ) -> NewCase {
        NewCase {
            response_id: response.id.clone(),
            survey_id: response.survey_id.clone(),
            contact_id: response.contact_id.clone(),
            team_id,
            owner_id,
            priority: decision.priority,
            due_at: response.received_at + i64::from(decision.playbook.due_days) * hark_core::report::MS_PER_DAY,
            reason: decision.reason(response.segment),
            public_budget,
        }
    }
}

/// One entry in a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CaseEvent {
    pub id: String,
    pub case_id: String,
    /// A user's email, or `hark` for the playbook and the jobs.
    pub actor: String,
    /// `opened`, `status`, `assigned`, `step`, `reply` (with its `state`), `contact`, `note`,
    /// `root_cause`, `closed`, `escalated`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub detail: Value,
    pub created_at: i64,
}

/// A change to a case made by a person.
#[derive(Debug, Clone)]
pub enum CaseChange {
    Status(CaseStatus),
    Assign(Option<String>),
    Step {
        step: String,
        done: bool,
    },
    /// A reply to the customer, queued for mail; it counts as first contact once the mail
    /// server accepts it (see [`Store::reply_result`]).
    Reply {
        subject: String,
        body: String,
    },
    /// A call or meeting with the customer; one that reached them counts as first contact.
    Contacted {
        /// `call` or `meeting`.
        channel: String,
        reached: bool,
        note: String,
    },
    Note(String),
    RootCause(String),
    Close {
        outcome: CaseOutcome,
        root_cause: Option<String>,
    },
}

/// A closed case's answer and the customer's next answer after the close: (score, segment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnsweredAgain {
    pub before: (i64, Segment),
    pub after: (i64, Segment),
}

#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub status: Option<CaseStatus>,
    /// Every status but closed.
    pub open_only: bool,
    pub owner_id: Option<String>,
    pub team_id: Option<String>,
    pub contact_id: Option<String>,
    /// Due before now and not closed.
    pub overdue: bool,
    /// Not closed, not yet overdue, and due before this time (epoch ms).
    pub due_soon_before: Option<i64>,
    /// Nobody owns it.
    pub unassigned: bool,
    /// Only the cases this person may see (`None`: all).
    pub reach: Option<CaseReach>,
    /// Opened in `[from, to)` (epoch ms; `None`: unbounded).
    pub opened: (Option<i64>, Option<i64>),
}

/// Whose cases a team lead or an agent sees: those they own, those of their team (for a
/// lead: by the case's team or its owner's), and those about their own answers (agents).
#[derive(Debug, Clone, Default)]
pub struct CaseReach {
    pub user_id: String,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
}

impl CaseReach {
    fn push(&self, sql: &mut Sql) {
        sql.push(" AND (owner_id = ").text(&self.user_id);
        if let Some(team) = &self.team_id {
            sql.push(" OR team_id = ").text(team);
            sql.push(" OR owner_id IN (SELECT id FROM users WHERE team_id = ").text(team).push(")");
        }
        if let Some(agent) = &self.agent_id {
            sql.push(" OR response_id IN (SELECT id FROM responses WHERE agent_id = ").text(agent).push(")");
        }
        sql.push(")");
    }
}

impl CaseFilter {
    fn push(&self, sql: &mut Sql) {
        let mut eq = |column: &str, value: Option<&str>| {
            if let Some(v) = value {
                sql.push(" AND ").push(column).push(" = ").text(v);
            }
        };
        eq("status", self.status.map(CaseStatus::as_str));
        eq("owner_id", self.owner_id.as_deref());
        eq("team_id", self.team_id.as_deref());
        eq("contact_id", self.contact_id.as_deref());
        if self.open_only || self.overdue || self.due_soon_before.is_some() {
            sql.push(" AND status NOT IN ('closed', 'held')");
        }
        if self.overdue {
            sql.push(" AND due_at < ").int(now_ms());
        }
        if let Some(t) = self.due_soon_before {
            sql.push(" AND due_at >= ").int(now_ms()).push(" AND due_at < ").int(t);
        }
        if self.unassigned {
            sql.push(" AND owner_id IS NULL");
        }
        if let Some(from) = self.opened.0 {
            sql.push(" AND created_at >= ").int(from);
        }
        if let Some(to) = self.opened.1 {
            sql.push(" AND created_at < ").int(to);
        }
        if let Some(reach) = &self.reach {
            reach.push(sql);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    /// `generic` (signed JSON), `slack` (incoming webhook) or `card` (your JSON template).
    pub kind: String,
    pub url: String,
    /// The HMAC-SHA256 key of `X-Hark-Signature`; shown to admins to verify deliveries.
    pub secret: String,
    /// Events it receives: `response.created`, `response.updated`, `case.opened`, `case.changed`,
    /// `case.closed`, `alert`; empty means all.
    pub events: Vec<String>,
    pub template: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

impl Webhook {
    /// Whether it is on and receives `event` (an empty list means every event).
    pub fn wants(&self, event: &str) -> bool {
        self.active && (self.events.is_empty() || self.events.iter().any(|e| e == event))
    }
}

const WEBHOOK_COLUMNS: &str = "id, name, kind, url, secret, events, template, active, created_at";

/// The webhooks that are on.
pub(crate) async fn active_webhooks_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<Webhook>> {
    let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE active = 1 ORDER BY created_at, id");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *conn).await?;
    rows.iter().map(webhook_from).collect()
}

/// Queues, in the caller's transaction, one delivery of `event` to each of `hooks` that
/// wants it; each delivery is a job, so it is retried with back-off and survives restarts.
/// `key` makes a repeat (the same event for the same thing) add nothing.
pub(crate) async fn queue_deliveries_on(
    conn: &mut sqlx::AnyConnection,
    hooks: &[Webhook],
    event: &str,
    key: &str,
    payload: &Value,
) -> Result<()> {
    for hook in hooks.iter().filter(|h| h.wants(event)) {
        let id = new_id();
        let job = NewJob { max_attempts: 8, ..NewJob::new(WEBHOOK_JOB, json!({ "delivery_id": id }), now_ms()) }
            .dedupe(format!("webhook:{}:{key}", hook.id));
        if !enqueue_on(&mut *conn, &job).await? {
            continue;
        }
        let sql = format!(
            "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, 'pending', 0, NULL, NULL, $5, NULL)"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&id)
            .bind(&hook.id)
            .bind(event)
            .bind(payload.to_string())
            .bind(now_ms())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// The JSON that webhooks receive about an answer. `link`, a path in Hark's admin (empty for
/// an anonymous answer), is made whole with the public address when the delivery is sent, so
/// that the answer's own transaction, which knows no address, can queue it.
pub fn response_payload(response: &crate::Response, survey_name: &str, link: &str) -> Value {
    json!({ "response": response, "survey": { "id": response.survey_id, "name": survey_name }, "link": link })
}

/// The JSON that webhooks receive about a case; `link` as in [`response_payload`].
pub fn case_payload(case: &Case, response: Option<&crate::Response>, link: &str) -> Value {
    json!({ "case": case, "response": response, "link": link })
}

fn webhook_from(row: &AnyRow) -> Result<Webhook> {
    let events = match parse_json("webhooks.events", &row.try_get::<String, _>("events")?)? {
        Value::Array(items) => items.into_iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
        other => return Err(corrupt("webhooks.events", &other.to_string())),
    };
    Ok(Webhook {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        events,
        template: row.try_get("template")?,
        active: row.try_get::<i64, _>("active")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub webhook_id: String,
    pub event: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

const DELIVERY_COLUMNS: &str =
    "id, webhook_id, event, payload, status, attempts, last_status_code, last_error, created_at, delivered_at";

fn delivery_from(row: &AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: row.try_get("id")?,
        webhook_id: row.try_get("webhook_id")?,
        event: row.try_get("event")?,
        payload: parse_json("webhook_deliveries.payload", &row.try_get::<String, _>("payload")?)?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        delivered_at: row.try_get("delivered_at")?,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Interaction {
    pub id: String,
    pub contact_id: String,
    /// `call`, `chat`, `email`, `order`, `interview`, `social` …
    pub kind: String,
    pub occurred_at: i64,
    pub agent_id: Option<String>,
    pub summary: Option<String>,
    /// Figures such as handle_time_s, wait_time_s, transfers, amount.
    #[schema(value_type = Object)]
    pub figures: Map<String, Value>,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewInteraction {
    pub contact_id: String,
    pub kind: String,
    pub occurred_at: i64,
    pub agent_id: Option<String>,
    pub summary: Option<String>,
    pub figures: Map<String, Value>,
    /// A repeat with the same key adds nothing.
    pub idempotency_key: Option<String>,
}

const INTERACTION_COLUMNS: &str = "id, contact_id, kind, occurred_at, agent_id, summary, figures, created_at";

fn interaction_from(row: &AnyRow) -> Result<Interaction> {
    let figures = match parse_json("interactions.figures", &row.try_get::<String, _>("figures")?)? {
        Value::Object(map) => map,
        other => return Err(corrupt("interactions.figures", &other.to_string())),
    };
    Ok(Interaction {
        id: row.try_get("id")?,
        contact_id: row.try_get("contact_id")?,
        kind: row.try_get("kind")?,
        occurred_at: row.try_get("occurred_at")?,
        agent_id: row.try_get("agent_id")?,
        summary: row.try_get("summary")?,
        figures,
        created_at: row.try_get("created_at")?,
    })
}

/// Adds the jobs that run the playbook for new answers, in the answers' own transaction
/// and in one statement (the writer's batches stay one round trip each).
/// See [`Store::public_cases_since`]: the measure of a flood through the public doors.
async fn public_cases_since<'e, E>(exec: E, survey_id: Option<&str>, since_ms: i64) -> Result<(i64, i64)>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN c.status = 'held' THEN 1 ELSE 0 END), 0) AS held \
         FROM cases c JOIN responses r ON r.id = c.response_id \
         WHERE ($1 IS NULL OR c.survey_id = $1) AND c.created_at >= $2 AND r.contact_id IS NULL \
         AND r.channel IN ('link', 'widget')",
    )
    .bind(survey_id)
    .bind(since_ms)
    .fetch_one(exec)
    .await?;
    Ok((row.try_get("n")?, row.try_get("held")?))
}

pub(crate) async fn enqueue_playbooks_on<'e, E>(exec: E, dialect: crate::Dialect, response_ids: &[String]) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if response_ids.is_empty() {
        return Ok(());
    }
    let now = now_ms();
    let mut sql = Sql::new(
        "INSERT INTO jobs (id, kind, payload, dedupe_key, status, run_at, attempts, max_attempts, created_at, updated_at) VALUES ",
    );
    for (i, id) in response_ids.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.text(&new_id()).push(", ").text(PLAYBOOK_JOB).push(", ");
        sql.text(&json!({ "response_id": id }).to_string()).push(", ").text(&format!("playbook:{id}"));
        sql.push(", 'queued', ").int(now).push(", 0, 6, ").int(now).push(", ").int(now).push(")");
    }
    sql.push(" ON CONFLICT (dedupe_key) DO NOTHING");
    sql.query(dialect).execute(exec).await?;
    Ok(())
}

/// Everyone who may still be given work (deactivated accounts keep only their history).
pub(crate) async fn active_users_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE deactivated_at IS NULL ORDER BY email");
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(conn).await?;
    rows.iter().map(user_from).collect()
}

/// Opens the case for an answer in the caller's transaction (see [`Store::open_case`]).
pub(crate) async fn open_case_on(
    tx: &mut sqlx::AnyConnection,
    dialect: crate::Dialect,
    new: &NewCase,
) -> Result<(Case, bool)> {
    let now = now_ms();
    // The answer's contact as it is now, under a lock: a customer who just left their
    // details on the follow-up page (`consent_to_contact`) is not lost to a race.
    let lock = if dialect == crate::Dialect::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT contact_id FROM responses WHERE id = $1{lock}");
    let contact_id: Option<Option<String>> =
        sqlx::query_scalar(AssertSqlSafe(sql)).bind(&new.response_id).fetch_optional(&mut *tx).await?;
    let contact_id = match contact_id {
        Some(current) => current,
        None => new.contact_id.clone(),
    };
    let held = match new.public_budget {
        None => false,
        Some(budget) => {
            // One opener at a time per survey, so the count is exact under concurrent jobs
            // (SQLite's write transaction is exclusive already).
            if dialect == crate::Dialect::Postgres {
                sqlx::query("SELECT id FROM surveys WHERE id = $1 FOR UPDATE")
                    .bind(&new.survey_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            public_cases_since(&mut *tx, Some(&new.survey_id), now - 3_600_000).await?.0 >= i64::from(budget)
        }
    };
    let mut made = insert_cases(tx, dialect, &[(new, contact_id.as_deref(), held)]).await?;
    match made.pop() {
        Some(case) => Ok((case, true)),
        None => {
            let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE response_id = $1");
            let row = sqlx::query(AssertSqlSafe(sql)).bind(&new.response_id).fetch_one(&mut *tx).await?;
            Ok((case_from(&row)?, false))
        }
    }
}

/// Opens cases (each a new case, its contact as given, held or not) with the history entry that
/// says why, in one statement each for the cases and the entries; an answer that has a case
/// already is skipped. Returns the cases made.
pub(crate) async fn insert_cases(
    tx: &mut sqlx::AnyConnection,
    dialect: crate::Dialect,
    cases: &[(&NewCase, Option<&str>, bool)],
) -> Result<Vec<Case>> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let now = now_ms();
    let mut sql = Sql::new(&format!("INSERT INTO cases ({CASE_COLUMNS}) VALUES "));
    for (i, (new, contact_id, held)) in cases.iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        sql.text(&new_id()).push(", ").text(&new.response_id).push(", ").text(&new.survey_id).push(", ");
        sql.bind(Bind::Text(contact_id.map(str::to_owned))).push(", ");
        sql.bind(Bind::Text(new.team_id.clone())).push(", ");
        // A held case waits for an admin, so it is nobody's yet.
        sql.bind(Bind::Text(new.owner_id.clone().filter(|_| !held))).push(", ");
        sql.text(if *held { CaseStatus::Held } else { CaseStatus::Open }.as_str()).push(", ");
        sql.text(new.priority.as_str()).push(", ").int(new.due_at);
        sql.push(", NULL, NULL, NULL, NULL, '[]', NULL, ").int(now).push(", ").int(now).push(")");
    }
    sql.push(&format!(" ON CONFLICT (response_id) DO NOTHING RETURNING {CASE_COLUMNS}"));
    let made: Vec<Case> = sql.query(dialect).fetch_all(&mut *tx).await?.iter().map(case_from).collect::<Result<_>>()?;
    if made.is_empty() {
        return Ok(made);
    }
    let mut events = Sql::new("INSERT INTO case_events (id, case_id, actor, kind, detail, created_at) VALUES ");
    for (i, case) in made.iter().enumerate() {
        let Some((new, _, held)) = cases.iter().find(|(n, _, _)| n.response_id == case.response_id) else { continue };
        let kind = if *held { "held" } else { "opened" };
        let detail = json!({ "reason": new.reason, "owner_id": case.owner_id });
        events.push(if i == 0 { "(" } else { ", (" });
        events.text(&new_id()).push(", ").text(&case.id).push(", 'hark', ").text(kind).push(", ");
        events.text(&detail.to_string()).push(", ").int(now).push(")");
    }
    events.query(dialect).execute(&mut *tx).await?;
    Ok(made)
}

/// The owner `rule` picks among `users` (the active ones) for a case of `team_id` whose
/// contact has `attributes`: `Some(None)` when it picks nobody, `None` for a rule only the
/// database can decide (round robin counts each member's cases).
pub fn pick_owner(
    rule: &hark_core::playbook::Assign,
    team_id: Option<&str>,
    attributes: &serde_json::Map<String, Value>,
    users: &[User],
) -> Option<Option<User>> {
    use hark_core::playbook::Assign;
    let by_email = |email: &str| users.iter().find(|u| u.email.eq_ignore_ascii_case(email)).cloned();
    Some(match rule {
        Assign::TeamLead => team_id.and_then(|team| {
            users.iter().find(|u| u.role == crate::Role::TeamLead && u.team_id.as_deref() == Some(team)).cloned()
        }),
        Assign::Attribute { name } => by_email(attributes.get(name).and_then(Value::as_str).unwrap_or_default()),
        Assign::User { email } => by_email(email),
        Assign::RoundRobin { .. } => return None,
    })
}

impl Store {
    /// The cases opened on these answers (at most one each), for linking an answer to its case.
    pub async fn cases_of_responses(&self, response_ids: &[String]) -> Result<Vec<Case>> {
        if response_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE response_id"));
        sql.in_texts(response_ids.iter().map(String::as_str));
        sql.query(self.dialect).fetch_all(&self.pool).await?.iter().map(case_from).collect()
    }

    // ----- cases -----

    /// Opens the case for an answer; a second call for the same answer returns the first
    /// case with `false`.
    pub async fn open_case(&self, new: &NewCase) -> Result<(Case, bool)> {
        let mut tx = self.begin_write().await?;
        let opened = open_case_on(&mut tx, self.dialect, new).await?;
        tx.commit().await?;
        Ok(opened)
    }

    pub async fn get_case(&self, id: &str) -> Result<Option<Case>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(case_from).transpose()
    }

    /// Due first.
    pub async fn list_cases(&self, filter: &CaseFilter, limit: i64) -> Result<Vec<Case>> {
        let mut sql = Sql::new(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1"));
        filter.push(&mut sql);
        sql.push(" ORDER BY due_at, id LIMIT ").int(limit);
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter().map(case_from).collect()
    }

    /// For each closed case of `cases` whose customer answered again after the close, the
    /// answer the case is about and their first answer since, on a survey of the same kind (a
    /// score on another scale says nothing of this one). One query: the loop report asked two
    /// per closed case.
    pub async fn answers_after_close(&self, cases: &CaseFilter) -> Result<Vec<AnsweredAgain>> {
        let mut sql = Sql::new(
            "SELECT b.score AS before_score, b.segment AS before_segment, a.score AS after_score, \
               a.segment AS after_segment \
             FROM cases c \
             JOIN responses b ON b.id = c.response_id \
             JOIN surveys bs ON bs.id = b.survey_id \
             JOIN responses a ON a.id = (SELECT r.id FROM responses r JOIN surveys rs ON rs.id = r.survey_id \
               WHERE r.contact_id = c.contact_id AND r.created_at >= c.closed_at AND rs.kind = bs.kind \
               ORDER BY r.created_at, r.id LIMIT 1) \
             WHERE c.status = 'closed' AND c.contact_id IS NOT NULL \
               AND c.id IN (SELECT id FROM cases WHERE 1 = 1",
        );
        cases.push(&mut sql);
        sql.push(")");
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(AnsweredAgain {
                    before: (row.try_get("before_score")?, segment_in(row, "before_segment")?),
                    after: (row.try_get("after_score")?, segment_in(row, "after_segment")?),
                })
            })
            .collect()
    }

    pub async fn count_cases(&self, filter: &CaseFilter) -> Result<i64> {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM cases WHERE 1 = 1");
        filter.push(&mut sql);
        Ok(sql.query(self.dialect).fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Whether a case is within `reach`.
    pub async fn case_in_reach(&self, case_id: &str, reach: &CaseReach) -> Result<bool> {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM cases WHERE id = ");
        sql.text(case_id);
        reach.push(&mut sql);
        Ok(sql.query(self.dialect).fetch_one(&self.pool).await?.try_get::<i64, _>("n")? > 0)
    }

    /// Cases opened since `since_ms` for answers without a contact that came through a public
    /// door (the anonymous link or the widget), and how many of them are held.
    pub async fn public_cases_since(&self, survey_id: Option<&str>, since_ms: i64) -> Result<(i64, i64)> {
        public_cases_since(&self.pool, survey_id, since_ms).await
    }

    /// Whether the customer of a case without a contact was erased (rather than anonymous).
    pub async fn case_contact_erased(&self, case_id: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM case_events WHERE case_id = $1 AND kind = 'contact_erased'")
                .bind(case_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    /// Applies a person's change and records it in the case's history; returns the case and
    /// the id of the history entry.
    pub async fn change_case(&self, id: &str, actor: &str, change: &CaseChange) -> Result<(Case, String)> {
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await?;
        let mut case = row.as_ref().map(case_from).transpose()?.ok_or(StoreError::NotFound("case"))?;
        let now = now_ms();
        let (kind, detail) = match change {
            CaseChange::Status(status) => {
                if *status == CaseStatus::Closed {
                    return Err(ValidationErrors::one("status", Why::new("invalid.close_with_outcome")).into());
                }
                case.status = *status;
                ("status", json!({ "status": status.as_str() }))
            }
            CaseChange::Assign(owner) => {
                case.owner_id = owner.clone();
                ("assigned", json!({ "owner_id": owner }))
            }
            CaseChange::Step { step, done } => {
                if !CASE_STEPS.iter().any(|(s, _)| s == step) {
                    return Err(ValidationErrors::one("step", Why::new("invalid.no_such_step")).into());
                }
                case.steps.retain(|s| s != step);
                if *done {
                    case.steps.push(step.clone());
                }
                ("step", json!({ "step": step, "done": done }))
            }
            CaseChange::Reply { subject, body } => {
                ("reply", json!({ "subject": subject, "body": body, "state": ReplyState::Queued.as_str() }))
            }
            CaseChange::Contacted { channel, reached, note } => {
                if !matches!(channel.as_str(), "call" | "meeting") {
                    return Err(ValidationErrors::one(
                        "channel",
                        Why::new("invalid.one_of").with("values", "call, meeting"),
                    )
                    .into());
                }
                if *reached {
                    case.first_contact_at.get_or_insert(now);
                    if case.status == CaseStatus::Open {
                        case.status = CaseStatus::InProgress;
                    }
                }
                ("contact", json!({ "channel": channel, "reached": reached, "note": note }))
            }
            CaseChange::Note(body) => ("note", json!({ "body": body })),
            CaseChange::RootCause(cause) => {
                case.root_cause = Some(cause.clone());
                ("root_cause", json!({ "root_cause": cause }))
            }
            CaseChange::Close { outcome, root_cause } => {
                case.status = CaseStatus::Closed;
                case.outcome = Some(*outcome);
                case.closed_at = Some(now);
                if root_cause.is_some() {
                    case.root_cause = root_cause.clone();
                }
                ("closed", json!({ "outcome": outcome.as_str(), "root_cause": case.root_cause }))
            }
        };
        let sql = format!(
            "UPDATE cases SET owner_id = $2, status = $3, first_contact_at = $4, closed_at = $5, outcome = $6, \
             root_cause = $7, steps = $8, updated_at = $9 WHERE id = $1 RETURNING {CASE_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(case.owner_id.as_deref())
            .bind(case.status.as_str())
            .bind(case.first_contact_at)
            .bind(case.closed_at)
            .bind(case.outcome.map(CaseOutcome::as_str))
            .bind(case.root_cause.as_deref())
            .bind(serde_json::to_string(&case.steps).expect("steps serialize"))
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
        let event = record_event(&mut tx, id, actor, kind, detail).await?;
        tx.commit().await?;
        Ok((case_from(&row)?, event))
    }

    /// What became of a queued reply (history entry `event_id`): `answer` is the mail server's
    /// reply or the reason it failed. A sent reply is the first contact if none came before,
    /// and an open case then waits for the customer. Returns the case if the entry exists.
    pub async fn reply_result(&self, event_id: &str, state: ReplyState, answer: &str) -> Result<Option<Case>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT case_id, detail FROM case_events WHERE id = $1 AND kind = 'reply'")
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let case_id: String = row.try_get("case_id")?;
        let mut detail = parse_json("case_events.detail", &row.try_get::<String, _>("detail")?)?;
        let now = now_ms();
        detail["state"] = json!(state.as_str());
        detail["answer"] = json!(answer);
        detail["at"] = json!(now);
        sqlx::query("UPDATE case_events SET detail = $2 WHERE id = $1")
            .bind(event_id)
            .bind(detail.to_string())
            .execute(&mut *tx)
            .await?;
        if state == ReplyState::Sent {
            sqlx::query(
                "UPDATE cases SET first_contact_at = COALESCE(first_contact_at, $2),                  status = CASE WHEN status = 'open' THEN 'waiting' ELSE status END, updated_at = $2 WHERE id = $1",
            )
            .bind(&case_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(&case_id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(case_from(&row)?))
    }

    pub async fn case_events(&self, case_id: &str) -> Result<Vec<CaseEvent>> {
        let rows = sqlx::query(
            "SELECT id, case_id, actor, kind, detail, created_at FROM case_events WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_event_from).collect()
    }

    pub async fn case_event(&self, id: &str) -> Result<Option<CaseEvent>> {
        let row = sqlx::query("SELECT id, case_id, actor, kind, detail, created_at FROM case_events WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(case_event_from).transpose()
    }

    /// Marks every overdue, open, not yet escalated case as escalated and returns them: each
    /// case is returned once, whichever process asks and however often.
    pub async fn escalate_overdue(&self) -> Result<Vec<Case>> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE cases SET escalated_at = $1, updated_at = $1 \
             WHERE status NOT IN ('closed', 'held') AND due_at < $1 AND escalated_at IS NULL RETURNING {CASE_COLUMNS}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(now).fetch_all(&mut *tx).await?;
        let cases: Vec<Case> = rows.iter().map(case_from).collect::<Result<_>>()?;
        for case in &cases {
            record_event(&mut tx, &case.id, "hark", "escalated", json!({ "due_at": case.due_at })).await?;
        }
        tx.commit().await?;
        Ok(cases)
    }

    // ----- people to assign cases to -----

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(user_from).collect()
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn set_user_team(&self, user_id: &str, team_id: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET team_id = $2 WHERE id = $1")
            .bind(user_id)
            .bind(team_id)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    pub async fn set_user_agent(&self, user_id: &str, agent_id: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET agent_id = $2 WHERE id = $1")
            .bind(user_id)
            .bind(agent_id)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// Of the team's users, the one with the fewest cases so far (ties by id): cases go round.
    pub async fn next_in_team(&self, team_id: &str) -> Result<Option<User>> {
        let columns = crate::entities::user_columns("u");
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {columns} FROM users u \
             LEFT JOIN cases c ON c.owner_id = u.id WHERE u.team_id = $1 AND u.deactivated_at IS NULL \
             GROUP BY {columns} ORDER BY COUNT(c.id), u.id LIMIT 1"
        )))
        .bind(team_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from).transpose()
    }

    // ----- reward codes and referrals -----

    /// Adds codes (one per line in the admin page); codes already there are skipped.
    pub async fn add_reward_codes(&self, survey_id: &str, segment: &str, codes: &[String]) -> Result<u64> {
        let mut added = 0;
        let mut tx = self.begin_write().await?;
        for code in codes {
            let r = sqlx::query(
                "INSERT INTO reward_codes (id, survey_id, segment, code, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (survey_id, code) DO NOTHING",
            )
            .bind(new_id())
            .bind(survey_id)
            .bind(segment)
            .bind(code)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            added += r.rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The code given to this answer: the one given before, or the next unused one.
    pub async fn reward_code_for(&self, survey_id: &str, segment: &str, response_id: &str) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        let given: Option<String> = sqlx::query_scalar("SELECT code FROM reward_codes WHERE response_id = $1")
            .bind(response_id)
            .fetch_optional(&mut *tx)
            .await?;
        if given.is_some() {
            return Ok(given);
        }
        let lock = if self.dialect == crate::Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE reward_codes SET response_id = $3, assigned_at = $4 WHERE id = \
             (SELECT id FROM reward_codes WHERE survey_id = $1 AND segment = $2 AND response_id IS NULL \
              ORDER BY created_at, id LIMIT 1{lock}) AND response_id IS NULL RETURNING code"
        );
        let code: Option<String> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(survey_id)
            .bind(segment)
            .bind(response_id)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// (segment, codes, used) per segment of a survey.
    pub async fn reward_code_counts(&self, survey_id: &str) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT segment, COUNT(*) AS total, COUNT(response_id) AS used FROM reward_codes WHERE survey_id = $1 \
             GROUP BY segment ORDER BY segment",
        )
        .bind(survey_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("segment")?, r.try_get("total")?, r.try_get("used")?))).collect()
    }

    pub async fn record_referral_click(&self, response_id: &str) -> Result<()> {
        sqlx::query("INSERT INTO referral_clicks (id, response_id, created_at) VALUES ($1, $2, $3)")
            .bind(new_id())
            .bind(response_id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    pub async fn referral_clicks(&self, response_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM referral_clicks WHERE response_id = $1")
            .bind(response_id)
            .fetch_one(&self.pool)
            .await?)
    }

    // ----- webhooks -----

    pub async fn create_webhook(
        &self,
        name: &str,
        kind: &str,
        url: &str,
        events: &[String],
        template: Option<&str>,
    ) -> Result<Webhook> {
        let sql = format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8) RETURNING {WEBHOOK_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(new_id())
            .bind(name)
            .bind(kind)
            .bind(url)
            .bind(hark_core::auth::random_hex(32))
            .bind(serde_json::to_string(events).expect("events serialize"))
            .bind(template)
            .bind(now_ms())
            .fetch_one(&mut *self.write_one().await?)
            .await?;
        webhook_from(&row)
    }

    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(webhook_from).collect()
    }

    pub async fn get_webhook(&self, id: &str) -> Result<Option<Webhook>> {
        let sql = format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(webhook_from).transpose()
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<()> {
        let done =
            sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id).execute(&mut *self.write_one().await?).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        Ok(())
    }

    /// Queues one delivery of `event` to every active webhook that wants it (or only to
    /// webhook `only`); see [`queue_deliveries_on`]. Returns how many webhooks want it.
    pub async fn queue_deliveries(&self, event: &str, key: &str, payload: &Value, only: Option<&str>) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let hooks: Vec<Webhook> =
            active_webhooks_on(&mut tx).await?.into_iter().filter(|h| only.is_none_or(|id| h.id == id)).collect();
        let wanting = hooks.iter().filter(|h| h.wants(event)).count();
        queue_deliveries_on(&mut tx, &hooks, event, key, payload).await?;
        tx.commit().await?;
        Ok(wanting)
    }

    pub async fn get_delivery(&self, id: &str) -> Result<Option<Delivery>> {
        let sql = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(delivery_from).transpose()
    }

    /// Records an attempt that failed and what the receiver said (or why there was no
    /// answer); one that succeeded is recorded with its job's done mark (see `finish_jobs`).
    pub async fn record_failed_attempt(&self, id: &str, status_code: Option<i64>, error: &str) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $2, last_error = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(status_code)
        .bind(error)
        .execute(&mut *self.write_one().await?)
        .await?;
        Ok(())
    }

    /// Gives up on a delivery after its last retry.
    pub async fn fail_delivery(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE webhook_deliveries SET status = 'failed' WHERE id = $1")
            .bind(id)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// Newest first.
    pub async fn list_deliveries(&self, webhook_id: &str, limit: i64) -> Result<Vec<Delivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(webhook_id).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(delivery_from).collect()
    }

    // ----- interactions -----

    /// Stores an interaction; with an idempotency key, a repeat returns the first.
    pub async fn add_interaction(&self, new: &NewInteraction) -> Result<(Interaction, bool)> {
        let sql = format!(
            "INSERT INTO interactions ({INTERACTION_COLUMNS}, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING {INTERACTION_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(new_id())
            .bind(&new.contact_id)
            .bind(&new.kind)
            .bind(new.occurred_at)
            .bind(new.agent_id.as_deref())
            .bind(new.summary.as_deref())
            .bind(Value::Object(new.figures.clone()).to_string())
            .bind(now_ms())
            .bind(new.idempotency_key.as_deref())
            .fetch_optional(&mut *self.write_one().await?)
            .await?;
        if let Some(row) = row {
            return Ok((interaction_from(&row)?, true));
        }
        let sql = format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE idempotency_key = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(new.idempotency_key.as_deref()).fetch_one(&self.pool).await?;
        Ok((interaction_from(&row)?, false))
    }

    /// Newest first.
    pub async fn list_interactions(&self, contact_id: &str, limit: i64) -> Result<Vec<Interaction>> {
        let sql = format!(
            "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE contact_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(contact_id).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(interaction_from).collect()
    }
}

pub(crate) async fn record_event(
    tx: &mut sqlx::AnyConnection,
    case_id: &str,
    actor: &str,
    kind: &str,
    detail: Value,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO case_events (id, case_id, actor, kind, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(case_id)
    .bind(actor)
    .bind(kind)
    .bind(detail.to_string())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

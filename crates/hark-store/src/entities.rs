//! Teams, agents, contacts, users, API keys, surveys and notes.

use hark_core::SurveyKind;
pub use hark_core::contact::ContactInput;
use hark_core::survey::SurveyDefinition;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{Result, Store, StoreError, conflict_on_unique, new_id, now_ms, parse_json};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub team_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewAgent {
    pub name: String,
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub team_id: Option<String>,
}

/// What erasing a contact did, table by table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Answers kept as anonymous scores: comment, extra answers and context removed.
    pub answers_anonymised: u64,
    pub invitations_unlinked: u64,
    pub cases_unlinked: u64,
    /// Replies and notes on the person's cases whose text was removed (who and when stay).
    pub case_texts_emptied: u64,
    pub events_unlinked: u64,
    pub notes_deleted: u64,
    pub interactions_deleted: u64,
    /// Feedback they gave elsewhere (reviews, tickets …) that named them.
    pub feedback_deleted: u64,
    pub webhook_payloads_emptied: u64,
    pub jobs_emptied: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: String,
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub locale: Option<String>,
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    pub unsubscribed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A phone number the customer left with their answer, to be called back on.
    pub phone: Option<String>,
    /// When the customer agreed to be contacted about their answer (on its follow-up page).
    pub contact_consent_at: Option<i64>,
}

impl Contact {
    /// How staff pages name the contact: their name, else their email, else the business's
    /// own id for them (which says the least to an agent reading an inbox).
    pub fn shown_name(&self) -> &str {
        [&self.name, &self.email].into_iter().flatten().find(|s| !s.trim().is_empty()).unwrap_or(&self.external_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Executive,
    TeamLead,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Executive => "executive",
            Role::TeamLead => "team_lead",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Executive, Role::TeamLead, Role::Agent].into_iter().find(|r| r.as_str() == s)
    }
}

/// A person who logs in. The password hash never leaves the store through this type.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// A team lead's or agent's team.
    pub team_id: Option<String>,
    /// The agent an agent user is: the answers they may see are this agent's.
    pub agent_id: Option<String>,
    pub created_at: i64,
    /// Set when an admin deactivated the account: it keeps its history but cannot sign in,
    /// and gets no new cases.
    pub deactivated_at: Option<i64>,
    /// The language they chose to read Hark in; `None`: their browser's.
    pub locale: Option<String>,
    /// The time zone they chose (IANA name); `None`: the organisation's.
    pub time_zone: Option<String>,
    /// They asked for no digest by mail.
    pub digest_opt_out: bool,
    /// The language their browser asked for when they last signed in: their mail's when they
    /// chose none.
    pub seen_locale: Option<String>,
}

pub(crate) const USER_COLUMNS: &str = "id, email, name, role, team_id, agent_id, created_at, deactivated_at, locale, time_zone, digest_opt_out, seen_locale";

/// `USER_COLUMNS` of the table called `alias` in a join (`u.id, u.email, …`).
pub(crate) fn user_columns(alias: &str) -> String {
    USER_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SurveyStatus {
    Draft,
    Active,
    Closed,
}

impl SurveyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStatus::Draft => "draft",
            SurveyStatus::Active => "active",
            SurveyStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<SurveyStatus> {
        [SurveyStatus::Draft, SurveyStatus::Active, SurveyStatus::Closed].into_iter().find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: String,
    pub status: SurveyStatus,
    #[serde(flatten)]
    pub definition: SurveyDefinition,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: String,
    pub contact_id: String,
    pub response_id: Option<String>,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

pub const SURVEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct SurveyCache(std::sync::Mutex<std::collections::HashMap<String, (Survey, std::time::Instant)>>);

impl SurveyCache {
    fn get(&self, id: &str) -> Option<Survey> {
        let map = self.0.lock().expect("survey cache lock");
        map.get(id).filter(|(_, at)| at.elapsed() < SURVEY_CACHE_TTL).map(|(s, _)| s.clone())
    }

    fn put(&self, survey: Survey) {
        let mut map = self.0.lock().expect("survey cache lock");
        map.retain(|_, (_, at)| at.elapsed() < SURVEY_CACHE_TTL);
        map.insert(survey.id.clone(), (survey, std::time::Instant::now()));
    }

    fn forget(&self, id: &str) {
        self.0.lock().expect("survey cache lock").remove(id);
    }
}

fn team_from(row: &AnyRow) -> Result<Team> {
    Ok(Team { id: row.try_get("id")?, name: row.try_get("name")?, created_at: row.try_get("created_at")? })
}

fn agent_from(row: &AnyRow) -> Result<Agent> {
    Ok(Agent {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        external_id: row.try_get("external_id")?,
        team_id: row.try_get("team_id")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) fn contact_from(row: &AnyRow) -> Result<Contact> {
    let attributes = match parse_json("contacts.attributes", &row.try_get::<String, _>("attributes")?)? {
        Value::Object(map) => map,
        other => {
            return Err(StoreError::Corrupt(format!("contacts.attributes is not an object: {other}")));
        }
    };
    Ok(Contact {
        id: row.try_get("id")?,
        external_id: row.try_get("external_id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        locale: row.try_get("locale")?,
        attributes,
        unsubscribed_at: row.try_get("unsubscribed_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        phone: row.try_get("phone")?,
        contact_consent_at: row.try_get("contact_consent_at")?,
    })
}

/// What an admin may change about a user.
#[derive(Debug, Clone)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Role,
    pub team_id: Option<String>,
    pub agent_id: Option<String>,
}

pub(crate) fn user_from(row: &AnyRow) -> Result<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("users.role {role}")))?,
        team_id: row.try_get("team_id")?,
        agent_id: row.try_get("agent_id")?,
        created_at: row.try_get("created_at")?,
        deactivated_at: row.try_get("deactivated_at")?,
        locale: row.try_get("locale")?,
        time_zone: row.try_get("time_zone")?,
        digest_opt_out: row.try_get::<i64, _>("digest_opt_out")? != 0,
        seen_locale: row.try_get("seen_locale")?,
    })
}

fn survey_from(row: &AnyRow) -> Result<Survey> {
    let status: String = row.try_get("status")?;
    let definition: String = row.try_get("definition")?;
    Ok(Survey {
        id: row.try_get("id")?,
        status: SurveyStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("surveys.status {status}")))?,
        definition: serde_json::from_str(&definition)
            .map_err(|e| StoreError::Corrupt(format!("surveys.definition: {e}")))?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn note_from(row: &AnyRow) -> Result<Note> {
    Ok(Note {
        id: row.try_get("id")?,
        contact_id: row.try_get("contact_id")?,
        response_id: row.try_get("response_id")?,
        author: row.try_get("author")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) const CONTACT_COLUMNS: &str = "id, external_id, email, name, locale, attributes, unsubscribed_at, created_at, updated_at, phone, contact_consent_at";

/// Upserts a contact by external id inside any executor (a pool or the writer's transaction).
pub(crate) async fn upsert_contact_on<'e, E>(exec: E, input: &ContactInput) -> Result<Contact>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    // `input.attributes` arrive already merged with the stored ones (`merge_attributes`):
    // an empty object means "leave them as they are".
    let now = now_ms();
    let sql = format!(
        "INSERT INTO contacts ({CONTACT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $7, NULL, NULL) \
         ON CONFLICT (external_id) DO UPDATE SET \
           email = COALESCE(excluded.email, contacts.email), \
           name = COALESCE(excluded.name, contacts.name), \
           locale = COALESCE(excluded.locale, contacts.locale), \
           attributes = CASE WHEN excluded.attributes = '{{}}' THEN contacts.attributes ELSE excluded.attributes END, \
           updated_at = excluded.updated_at \
         RETURNING {CONTACT_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(new_id())
        .bind(&input.external_id)
        .bind(input.email.as_deref())
        .bind(input.name.as_deref())
        .bind(input.locale.as_deref())
        .bind(Value::Object(input.attributes.clone()).to_string())
        .bind(now)
        .fetch_one(exec)
        .await?;
    contact_from(&row)
}

impl Store {
    // ----- teams and agents -----

    pub async fn create_team(&self, name: &str) -> Result<Team> {
        let row =
            sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3) RETURNING id, name, created_at")
                .bind(new_id())
                .bind(name)
                .bind(now_ms())
                .fetch_one(&mut *self.write_one().await?)
                .await
                .map_err(conflict_on_unique("a team with this name"))?;
        team_from(&row)
    }

    /// The team with this name, created if there is none (for imports).
    pub async fn team_named(&self, name: &str) -> Result<Team> {
        sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
            .bind(new_id())
            .bind(name)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        team_from(&row)
    }

    pub async fn get_team(&self, id: &str) -> Result<Option<Team>> {
        let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(team_from).transpose()
    }

    pub async fn list_teams(&self) -> Result<Vec<Team>> {
        list_teams_on(&self.pool).await
    }

    pub async fn create_agent(&self, agent: &NewAgent) -> Result<Agent> {
        let row = sqlx::query(
            "INSERT INTO agents (id, name, email, external_id, team_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, name, email, external_id, team_id, created_at",
        )
        .bind(new_id())
        .bind(&agent.name)
        .bind(agent.email.as_deref())
        .bind(agent.external_id.as_deref())
        .bind(agent.team_id.as_deref())
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await
        .map_err(conflict_on_unique("an agent with this external_id"))?;
        agent_from(&row)
    }

    /// The agent with this name in this team, created if there is none (for imports).
    pub async fn agent_named(&self, name: &str, team_id: Option<&str>) -> Result<Agent> {
        let find = || {
            sqlx::query(
                "SELECT id, name, email, external_id, team_id, created_at FROM agents \
                 WHERE name = $1 AND (team_id = $2 OR ($2 IS NULL AND team_id IS NULL)) ORDER BY id LIMIT 1",
            )
            .bind(name)
            .bind(team_id)
        };
        if let Some(row) = find().fetch_optional(&self.pool).await? {
            return agent_from(&row);
        }
        let new = NewAgent { name: name.into(), team_id: team_id.map(Into::into), ..Default::default() };
        self.create_agent(&new).await
    }

    pub async fn get_agent(&self, id: &str) -> Result<Option<Agent>> {
        let row = sqlx::query("SELECT id, name, email, external_id, team_id, created_at FROM agents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(agent_from).transpose()
    }

    pub async fn list_agents(&self, team_id: Option<&str>) -> Result<Vec<Agent>> {
        let rows = sqlx::query(
            "SELECT id, name, email, external_id, team_id, created_at FROM agents \
             WHERE ($1 IS NULL OR team_id = $1) ORDER BY name, id",
        )
        .bind(team_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(agent_from).collect()
    }

    // ----- contacts -----

    pub async fn upsert_contact(&self, input: &ContactInput) -> Result<Contact> {
        let mut tx = self.begin_write().await?;
        let merged = merge_attributes(&mut tx, input).await?;
        let contact = upsert_contact_on(&mut *tx, &merged).await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// The customer agreed, on an answer's follow-up page, to be contacted about it at this
    /// email address and/or phone number: the details go on the answer's contact (made for
    /// an anonymous answer, and linked to it and to its case), with the time of consent.
    /// Details the contact has already are kept.
    pub async fn consent_to_contact(
        &self,
        response_id: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Result<Contact> {
        let mut tx = self.begin_write().await?;
        // Locked so that a case being opened for this answer meanwhile waits, then sees the
        // contact (see `open_case`).
        let lock = if self.dialect == crate::Dialect::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT contact_id FROM responses WHERE id = $1{lock}");
        let contact_id: Option<Option<String>> =
            sqlx::query_scalar(AssertSqlSafe(sql)).bind(response_id).fetch_optional(&mut *tx).await?;
        let now = now_ms();
        let id = match contact_id.ok_or(StoreError::NotFound("response"))? {
            Some(id) => id,
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO contacts (id, external_id, attributes, created_at, updated_at) VALUES ($1, $2, '{}', $3, $3)",
                )
                .bind(&id)
                .bind(format!("answer:{response_id}"))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE responses SET contact_id = $2 WHERE id = $1")
                    .bind(response_id)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE cases SET contact_id = $2 WHERE response_id = $1")
                    .bind(response_id)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        let sql = format!(
            "UPDATE contacts SET email = COALESCE(email, $2), phone = COALESCE(phone, $3), contact_consent_at = $4, \
             updated_at = $4 WHERE id = $1 RETURNING {CONTACT_COLUMNS}"
        );
        let row =
            sqlx::query(AssertSqlSafe(sql)).bind(&id).bind(email).bind(phone).bind(now).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        contact_from(&row)
    }

    pub async fn get_contact(&self, id: &str) -> Result<Option<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(contact_from).transpose()
    }

    /// The contacts with these ids (any order; unknown ids are left out).
    pub async fn get_contacts(&self, ids: &[String]) -> Result<Vec<Contact>> {
        get_contacts_on(&self.pool, self.dialect, ids).await
    }

    /// Contacts in id (creation) order, after the cursor id.
    pub async fn list_contacts(&self, after: Option<&str>, limit: i64) -> Result<Vec<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(contact_from).collect()
    }

    /// Erases a contact from every table: the record, notes, interactions and feedback go;
    /// answers keep only their score, date, the agent, team and channel they count for and the
    /// themes and sentiment read from the comment (so past figures do not change); cases, events and invitations lose the link to the person; the text of
    /// replies and notes on their cases, webhook payloads and job payloads that name them are
    /// emptied. Says what it did.
    pub async fn erase_contact(&self, id: &str) -> Result<Erasure> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM contacts WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("contact"));
        }
        let ids_of = |sql: &'static str| sqlx::query_scalar::<_, String>(sql).bind(id.to_owned());
        let responses = ids_of("SELECT id FROM responses WHERE contact_id = $1").fetch_all(&mut *tx).await?;
        let cases = ids_of("SELECT id FROM cases WHERE contact_id = $1").fetch_all(&mut *tx).await?;
        let invitations = ids_of("SELECT id FROM invitations WHERE contact_id = $1").fetch_all(&mut *tx).await?;
        let mut done = Erasure {
            answers_anonymised: responses.len() as u64,
            cases_unlinked: cases.len() as u64,
            invitations_unlinked: invitations.len() as u64,
            ..Erasure::default()
        };
        let run = |sql: &'static str| sqlx::query(sql).bind(id.to_owned());
        run("UPDATE responses SET contact_id = NULL, comment = NULL, search_text = NULL, answers = '{}', context = '{}' \
             WHERE contact_id = $1")
        .execute(&mut *tx)
        .await?;
        // A bounce's detail is the mail server's text, which may quote the address.
        run("UPDATE invitations SET contact_id = NULL, properties = '{}', \
             status_detail = CASE WHEN status = 'skipped' THEN status_detail ELSE NULL END WHERE contact_id = $1")
        .execute(&mut *tx)
        .await?;
        done.case_texts_emptied = run("UPDATE case_events SET detail = '{}' WHERE kind IN ('reply', 'note') \
             AND case_id IN (SELECT id FROM cases WHERE contact_id = $1)")
        .execute(&mut *tx)
        .await?
        .rows_affected();
        run("UPDATE cases SET contact_id = NULL WHERE contact_id = $1").execute(&mut *tx).await?;
        // So that its case says "erased" rather than "anonymous".
        for case_id in &cases {
            crate::cases::record_event(&mut tx, case_id, "hark", "contact_erased", serde_json::json!({})).await?;
        }
        done.events_unlinked = run("UPDATE events SET contact_id = NULL, properties = '{}' WHERE contact_id = $1")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        done.notes_deleted = run("DELETE FROM notes WHERE contact_id = $1").execute(&mut *tx).await?.rows_affected();
        done.interactions_deleted =
            run("DELETE FROM interactions WHERE contact_id = $1").execute(&mut *tx).await?.rows_affected();
        // What they wrote elsewhere is theirs: it goes with them.
        done.feedback_deleted =
            run("DELETE FROM feedback WHERE contact_id = $1").execute(&mut *tx).await?.rows_affected();
        // Payloads are JSON that name the contact, its answers, cases or invitations by id.
        let named = std::iter::once(id.to_owned()).chain(responses).chain(cases).chain(invitations);
        for named_id in named {
            let like = |sql: &'static str| sqlx::query(sql).bind(named_id.clone());
            done.webhook_payloads_emptied += like(
                "UPDATE webhook_deliveries SET payload = '{}', last_error = NULL WHERE payload LIKE '%' || $1 || '%'",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // A job still waiting for this person is ended; its record keeps no detail.
            done.jobs_emptied += like(
                "UPDATE jobs SET payload = '{}', last_error = NULL, \
                 status = CASE WHEN status IN ('done', 'failed') THEN status ELSE 'failed' END \
                 WHERE payload LIKE '%' || $1 || '%'",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        run("DELETE FROM contacts WHERE id = $1").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    // ----- users -----

    pub async fn create_user(&self, email: &str, name: Option<&str>, role: Role, password_hash: &str) -> Result<User> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO users (id, email, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING {USER_COLUMNS}"
        )))
        .bind(new_id())
        .bind(email)
        .bind(name)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await
        .map_err(conflict_on_unique("a user with this email"))?;
        user_from(&row)
    }

    /// Changes a user's name, role, team and agent link.
    pub async fn update_user(&self, id: &str, change: &UserChange) -> Result<User> {
        let sql = format!(
            "UPDATE users SET name = $2, role = $3, team_id = $4, agent_id = $5 WHERE id = $1 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .bind(change.name.as_deref())
            .bind(change.role.as_str())
            .bind(change.team_id.as_deref())
            .bind(change.agent_id.as_deref())
            .fetch_optional(&mut *self.write_one().await?)
            .await?;
        row.as_ref().map(user_from).transpose()?.ok_or(StoreError::NotFound("user"))
    }

    /// Deactivates (ending every session) or reactivates a user.
    pub async fn set_user_active(&self, id: &str, active: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET deactivated_at = $2 WHERE id = $1")
            .bind(id)
            .bind((!active).then(now_ms))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How a person reads Hark: their language (`None`: their browser's) and time zone
    /// (`None`: the organisation's).
    /// Notes the language a person's browser asked for as they signed in.
    pub async fn set_seen_locale(&self, id: &str, locale: &str) -> Result<()> {
        sqlx::query("UPDATE users SET seen_locale = $2 WHERE id = $1 AND (seen_locale IS NULL OR seen_locale <> $2)")
            .bind(id)
            .bind(locale)
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    pub async fn set_user_reading(&self, id: &str, locale: Option<&str>, time_zone: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE users SET locale = $2, time_zone = $3 WHERE id = $1")
            .bind(id)
            .bind(locale)
            .bind(time_zone)
            .execute(&mut *self.write_one().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        Ok(())
    }

    /// An admin sets someone's password: every session of theirs ends.
    pub async fn reset_password(&self, id: &str, password_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
            .bind(id)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?)
    }

    /// The user and their password hash, for a login check.
    pub async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1 AND deactivated_at IS NULL"
        )))
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?))).transpose()
    }

    // ----- API keys -----

    /// Stores a new key and returns its record and the token, which is shown once.
    pub async fn create_api_key(&self, name: &str) -> Result<(ApiKeyRecord, String)> {
        let key = hark_core::auth::generate_api_key();
        let row = sqlx::query(
            "INSERT INTO api_keys (id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id, name, created_at, revoked_at",
        )
        .bind(&key.id)
        .bind(name)
        .bind(&key.secret_hash)
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await?;
        let record = ApiKeyRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            created_at: row.try_get("created_at")?,
            revoked_at: row.try_get("revoked_at")?,
        };
        Ok((record, key.token))
    }

    /// Every key, newest first (revoked ones too, for the record).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at DESC, id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiKeyRecord {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    created_at: row.try_get("created_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// The stored secret hash of a live (not revoked) key.
    pub async fn api_key_hash(&self, id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT secret_hash FROM api_keys WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn revoke_api_key(&self, id: &str) -> Result<()> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound("api key")) } else { Ok(()) }
    }

    // ----- surveys -----

    pub async fn create_survey(&self, definition: &SurveyDefinition, status: SurveyStatus) -> Result<Survey> {
        definition.validate()?;
        let now = now_ms();
        let row = sqlx::query(
            "INSERT INTO surveys (id, name, kind, status, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             RETURNING id, status, definition, created_at, updated_at",
        )
        .bind(new_id())
        .bind(&definition.name)
        .bind(definition.kind.as_str())
        .bind(status.as_str())
        .bind(serde_json::to_string(definition).expect("definitions serialize"))
        .bind(now)
        .fetch_one(&mut *self.write_one().await?)
        .await?;
        survey_from(&row)
    }

    /// Replaces a survey's definition and status; its kind cannot change once created, since
    /// its responses were scored on that scale.
    pub async fn update_survey(&self, id: &str, definition: &SurveyDefinition, status: SurveyStatus) -> Result<Survey> {
        definition.validate()?;
        let current = self.get_survey(id).await?.ok_or(StoreError::NotFound("survey"))?;
        if current.definition.kind != definition.kind {
            return Err(hark_core::ValidationErrors::one("kind", hark_core::Why::new("invalid.kind_fixed")).into());
        }
        let row = sqlx::query(
            "UPDATE surveys SET name = $2, status = $3, definition = $4, updated_at = $5 WHERE id = $1 \
             RETURNING id, status, definition, created_at, updated_at",
        )
        .bind(id)
        .bind(&definition.name)
        .bind(status.as_str())
        .bind(serde_json::to_string(definition).expect("definitions serialize"))
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await?;
        self.surveys.forget(id);
        survey_from(&row)
    }

    /// A survey as answers are checked against it: served from memory for up to
    /// `SURVEY_CACHE_TTL`, so that taking in an answer costs no database read for it. An update
    /// through this store is seen at once; one made by another instance within the TTL.
    pub async fn survey_for_answers(&self, id: &str) -> Result<Option<Survey>> {
        if let Some(survey) = self.surveys.get(id) {
            return Ok(Some(survey));
        }
        let survey = self.get_survey(id).await?;
        if let Some(s) = &survey {
            self.surveys.put(s.clone());
        }
        Ok(survey)
    }

    pub async fn get_survey(&self, id: &str) -> Result<Option<Survey>> {
        let row = sqlx::query("SELECT id, status, definition, created_at, updated_at FROM surveys WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(survey_from).transpose()
    }

    pub async fn list_surveys(&self) -> Result<Vec<Survey>> {
        let rows = sqlx::query("SELECT id, status, definition, created_at, updated_at FROM surveys ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(survey_from).collect()
    }

    pub async fn survey_kind(&self, id: &str) -> Result<Option<SurveyKind>> {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM surveys WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(kind.and_then(|k| SurveyKind::parse(&k)))
    }

    // ----- notes -----

    pub async fn add_note(
        &self,
        contact_id: &str,
        response_id: Option<&str>,
        author: &str,
        body: &str,
    ) -> Result<Note> {
        let row = sqlx::query(
            "INSERT INTO notes (id, contact_id, response_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, contact_id, response_id, author, body, created_at",
        )
        .bind(new_id())
        .bind(contact_id)
        .bind(response_id)
        .bind(author)
        .bind(body)
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("contact or response"),
            _ => StoreError::Database(e),
        })?;
        note_from(&row)
    }

    pub async fn list_notes(&self, contact_id: &str) -> Result<Vec<Note>> {
        let rows = sqlx::query(
            "SELECT id, contact_id, response_id, author, body, created_at FROM notes WHERE contact_id = $1 ORDER BY id",
        )
        .bind(contact_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(note_from).collect()
    }
}

/// Merges the stored attributes under the new ones, so an upsert that names some attributes
/// keeps the others. Runs inside the caller's transaction.
pub(crate) async fn merge_attributes(conn: &mut sqlx::AnyConnection, input: &ContactInput) -> Result<ContactInput> {
    if input.attributes.is_empty() {
        return Ok(input.clone());
    }
    let stored: Option<String> = sqlx::query_scalar("SELECT attributes FROM contacts WHERE external_id = $1")
        .bind(&input.external_id)
        .fetch_optional(&mut *conn)
        .await?;
    let mut merged = match stored.map(|s| parse_json("contacts.attributes", &s)).transpose()? {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    merged.extend(input.attributes.clone());
    Ok(ContactInput { attributes: merged, ..input.clone() })
}

/// The contacts with these ids, on a pool or in a transaction.
pub(crate) async fn get_contacts_on<'e, E>(exec: E, dialect: crate::Dialect, ids: &[String]) -> Result<Vec<Contact>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = crate::filter::Sql::new(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id"));
    sql.in_texts(ids.iter().map(String::as_str));
    let rows = sql.query(dialect).fetch_all(exec).await?;
    rows.iter().map(contact_from).collect()
}

pub(crate) async fn list_teams_on<'e, E>(exec: E) -> Result<Vec<Team>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let rows = sqlx::query("SELECT id, name, created_at FROM teams ORDER BY name").fetch_all(exec).await?;
    rows.iter().map(team_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contact_is_shown_by_name_then_email_then_external_id() {
        let mut c = Contact {
            id: "c1".into(),
            external_id: "crm-77".into(),
            email: Some("ann@example.com".into()),
            name: Some("Ann".into()),
            locale: None,
            attributes: Map::new(),
            unsubscribed_at: None,
            created_at: 0,
            updated_at: 0,
            phone: None,
            contact_consent_at: None,
        };
        assert_eq!(c.shown_name(), "Ann");
        c.name = Some("  ".into());
        assert_eq!(c.shown_name(), "ann@example.com", "a blank name is no name");
        c.email = None;
        assert_eq!(c.shown_name(), "crm-77");
    }
}

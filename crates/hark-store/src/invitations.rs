//! Invitations (one survey sent to one contact), the fatigue and consent check made when
//! one is created, incoming events, unsubscribes, and the changes a respondent makes to an
//! answer after its first save.

use hark_core::fatigue::{self, Reach};
use hark_core::survey::InviteChannel;
use hark_core::{Segment, auth::hash_secret};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::entities::{CONTACT_COLUMNS, contact_from};
use std::collections::HashMap;
use std::sync::LazyLock;

use crate::filter::{Sql, fold_for_search, push_attribute_conditions};
use crate::jobs::{NewJob, enqueue_on};
use crate::reports::{Counted, Stripe, adjust_rollups};
use crate::responses::{RESPONSE_COLUMNS, response_from};
use crate::{Contact, Dialect, Response, Result, Store, StoreError, new_id, now_ms, parse_json};

/// The job that mails an invitation.
pub const SEND_INVITATION_JOB: &str = "send_invitation";
/// The job that mails one reminder for an unanswered invitation.
pub const REMIND_INVITATION_JOB: &str = "remind_invitation";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Waiting for its send job.
    Scheduled,
    /// A link made for the caller to deliver.
    Issued,
    Sent,
    /// Not sent: consent or fatigue (see the detail).
    Skipped,
    /// The mail server refused the address.
    Bounced,
    /// Sending failed after every retry.
    Failed,
}

impl InvitationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Issued => "issued",
            Self::Sent => "sent",
            Self::Skipped => "skipped",
            Self::Bounced => "bounced",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Scheduled, Self::Issued, Self::Sent, Self::Skipped, Self::Bounced, Self::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub id: String,
    pub survey_id: String,
    pub contact_id: Option<String>,
    pub channel: String,
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub event_id: Option<String>,
    /// The event's properties, carried into the response as its context.
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    pub status: InvitationStatus,
    /// Why it was skipped, or what the mail server said.
    pub status_detail: Option<String>,
    pub send_at: Option<i64>,
    pub sent_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub created_at: i64,
}

const INVITATION_COLUMNS: &str = "id, survey_id, contact_id, channel, agent_id, team_id, event_id, properties, status, \
     status_detail, send_at, sent_at, reminded_at, created_at";

fn invitation_from(row: &AnyRow) -> Result<Invitation> {
    let status: String = row.try_get("status")?;
    let properties = match parse_json("invitations.properties", &row.try_get::<String, _>("properties")?)? {
        Value::Object(map) => map,
        other => return Err(StoreError::Corrupt(format!("invitations.properties: {other}"))),
    };
    Ok(Invitation {
        id: row.try_get("id")?,
        survey_id: row.try_get("survey_id")?,
        contact_id: row.try_get("contact_id")?,
        channel: row.try_get("channel")?,
        agent_id: row.try_get("agent_id")?,
        team_id: row.try_get("team_id")?,
        event_id: row.try_get("event_id")?,
        properties,
        status: InvitationStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("invitations.status {status}")))?,
        status_detail: row.try_get("status_detail")?,
        send_at: row.try_get("send_at")?,
        sent_at: row.try_get("sent_at")?,
        reminded_at: row.try_get("reminded_at")?,
        created_at: row.try_get("created_at")?,
    })
}

/// A survey to send to one contact.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub survey_id: String,
    pub contact_id: String,
    pub channel: InviteChannel,
    pub agent_id: Option<String>,
    pub team_id: Option<String>,
    pub event_id: Option<String>,
    pub properties: Map<String, Value>,
    pub send_at: i64,
    /// This survey's quiet window and the global one, in days.
    pub survey_window_days: u32,
    pub global_window_days: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    pub name: String,
    pub contact_id: Option<String>,
    #[schema(value_type = Object)]
    pub properties: Map<String, Value>,
    pub created_at: i64,
}

/// Changes to a stored answer as the respondent goes on (a new score, the comment, more answers).
#[derive(Debug, Clone)]
pub struct AnswerUpdate {
    pub score: i64,
    pub segment: Segment,
    pub comment: Option<String>,
    pub answers: Map<String, Value>,
    pub agent_score: Option<i64>,
}

/// When surveys last reached some contacts: for each contact and survey, the latest
/// invitation that went out or was due to, or answer.
#[derive(Debug, Default)]
pub struct Surveyed(HashMap<String, Vec<(String, i64)>>);

impl Surveyed {
    /// When a survey (this one, or any when `None`) last reached the contact.
    pub fn last(&self, contact_id: &str, survey_id: Option<&str>) -> Option<i64> {
        let surveys = self.0.get(contact_id)?;
        surveys.iter().filter(|(s, _)| survey_id.is_none_or(|want| s == want)).map(|(_, at)| *at).max()
    }

    fn reached(&mut self, contact_id: &str, survey_id: &str, at: i64) {
        self.0.entry(contact_id.to_owned()).or_default().push((survey_id.to_owned(), at));
    }
}

/// Reads [`Surveyed`] for these contacts in one statement.
async fn surveyed_on<'e, E>(exec: E, dialect: Dialect, contact_ids: &[&str]) -> Result<Surveyed>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let mut surveyed = Surveyed::default();
    if contact_ids.is_empty() {
        return Ok(surveyed);
    }
    let mut sql = Sql::new("SELECT contact_id, survey_id, MAX(created_at) FROM (");
    sql.push("SELECT contact_id, survey_id, created_at FROM invitations WHERE contact_id");
    sql.in_texts(contact_ids.iter().copied()).push(" AND status IN ('scheduled', 'issued', 'sent')");
    sql.push(" UNION ALL SELECT contact_id, survey_id, created_at FROM responses WHERE contact_id");
    sql.in_texts(contact_ids.iter().copied()).push(") x GROUP BY contact_id, survey_id");
    for row in sql.query(dialect).fetch_all(exec).await? {
        surveyed.reached(&row.try_get::<String, _>(0)?, &row.try_get::<String, _>(1)?, row.try_get(2)?);
    }
    Ok(surveyed)
}

/// Makes each invitation inside a writing transaction (see [`Store::invite_all`]): the
/// contacts and their survey history are read once for all of them.
async fn invite_all_on(conn: &mut AnyConnection, dialect: Dialect, news: &[NewInvitation]) -> Result<Vec<Invitation>> {
    let mut ids: Vec<&str> = news.iter().map(|n| n.contact_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    // Lock the contacts (in id order, so that two sends cannot deadlock): two concurrent
    // invitations cannot both pass the window check.
    let mut sql = Sql::new(&format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE id"));
    sql.in_texts(ids.iter().copied()).push(" ORDER BY id");
    if dialect == Dialect::Postgres {
        sql.push(" FOR UPDATE");
    }
    let rows = sql.query(dialect).fetch_all(&mut *conn).await?;
    let contacts: HashMap<String, Contact> =
        rows.iter().map(|row| contact_from(row).map(|c| (c.id.clone(), c))).collect::<Result<_>>()?;
    let mut surveyed = surveyed_on(&mut *conn, dialect, &ids).await?;
    let for_event = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE event_id = $1 AND survey_id = $2");
    let insert = format!(
        "INSERT INTO invitations ({INVITATION_COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, NULL, $12) RETURNING {INVITATION_COLUMNS}"
    );
    let mut made = Vec::with_capacity(news.len());
    for new in news {
        let contact = contacts.get(&new.contact_id).ok_or(StoreError::NotFound("contact"))?;
        // Checked under the lock: a concurrent repeat of the event waits, then finds ours.
        if let Some(event_id) = &new.event_id {
            let row = sqlx::query(AssertSqlSafe(for_event.as_str()))
                .bind(event_id)
                .bind(&new.survey_id)
                .fetch_optional(&mut *conn)
                .await?;
            if let Some(row) = row {
                made.push(invitation_from(&row)?);
                continue;
            }
        }
        let now = now_ms();
        let reach = Reach {
            unsubscribed: contact.unsubscribed_at.is_some(),
            needs_email: new.channel == InviteChannel::Email,
            has_email: contact.email.is_some(),
            last_this_survey_ms: surveyed.last(&contact.id, Some(&new.survey_id)),
            last_any_survey_ms: surveyed.last(&contact.id, None),
        };
        let decision = fatigue::check(now, &reach, new.survey_window_days, new.global_window_days);
        let (status, detail) = match (&decision, new.channel) {
            (Err(skip), _) => (InvitationStatus::Skipped, Some(format!("{}: {}", skip.code(), skip.describe()))),
            (Ok(()), InviteChannel::Email) => (InvitationStatus::Scheduled, None),
            (Ok(()), InviteChannel::Link) => (InvitationStatus::Issued, None),
        };
        if status != InvitationStatus::Skipped {
            // The same contact further down the list is inside the window this one opens.
            surveyed.reached(&contact.id, &new.survey_id, now);
        }
        let id = new_id();
        let row = sqlx::query(AssertSqlSafe(insert.as_str()))
            .bind(&id)
            .bind(&new.survey_id)
            .bind(&contact.id)
            .bind(new.channel.as_str())
            .bind(new.agent_id.as_deref())
            .bind(new.team_id.as_deref())
            .bind(new.event_id.as_deref())
            .bind(Value::Object(new.properties.clone()).to_string())
            .bind(status.as_str())
            .bind(detail.as_deref())
            .bind(new.send_at)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
        if status == InvitationStatus::Scheduled {
            let job = NewJob::new(SEND_INVITATION_JOB, json!({ "invitation_id": id }), new.send_at)
                .dedupe(format!("send:{id}"));
            enqueue_on(&mut *conn, &job).await?;
        }
        made.push(invitation_from(&row)?);
    }
    Ok(made)
}

impl Store {
    pub async fn surveyed(&self, contact_ids: &[&str]) -> Result<Surveyed> {
        surveyed_on(&self.pool, self.dialect, contact_ids).await
    }

    pub async fn contact_by_external_id(&self, external_id: &str) -> Result<Option<Contact>> {
        let sql = format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE external_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(external_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(contact_from).transpose()
    }

    /// The contacts whose external id or phone number is `query` as written, or whose email
    /// address is, in any case: how staff find the person who writes or calls to ask for
    /// their data.
    pub async fn find_contacts(&self, query: &str, limit: i64) -> Result<Vec<Contact>> {
        let sql = format!(
            "SELECT {CONTACT_COLUMNS} FROM contacts WHERE external_id = $1 OR lower(email) = $2 OR phone = $1 \
             ORDER BY id LIMIT $3"
        );
        let query = query.trim();
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(query)
            .bind(query.to_lowercase())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(contact_from).collect()
    }

    /// Makes an invitation after the consent and fatigue check: `scheduled` (with its send
    /// job, in the same commit) or `issued` when it may go out, `skipped` with the reason
    /// when not. An event makes at most one invitation per survey: a repeat returns the first.
    pub async fn invite(&self, new: &NewInvitation) -> Result<Invitation> {
        let mut made = self.invite_all(std::slice::from_ref(new)).await?;
        Ok(made.remove(0))
    }

    /// Makes each invitation as [`Store::invite`] does, all in one commit: a send to a
    /// segment of thousands commits once a page, not once a contact.
    pub async fn invite_all(&self, news: &[NewInvitation]) -> Result<Vec<Invitation>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let made = invite_all_on(&mut tx, self.dialect, news).await?;
        tx.commit().await?;
        Ok(made)
    }

    pub async fn get_invitation(&self, id: &str) -> Result<Option<Invitation>> {
        let sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(invitation_from).transpose()
    }

    /// Newest first, for one contact and/or one survey.
    pub async fn list_invitations(
        &self,
        contact_id: Option<&str>,
        survey_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Invitation>> {
        let mut sql = Sql::new(&format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE 1 = 1"));
        if let Some(c) = contact_id {
            sql.push(" AND contact_id = ").text(c);
        }
        if let Some(s) = survey_id {
            sql.push(" AND survey_id = ").text(s);
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ").int(limit);
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter().map(invitation_from).collect()
    }

    /// A survey's personal links not answered yet, newest first: in one statement (asking for
    /// each link whether it was answered was a query per link, up to 100,000 in a row).
    pub async fn unanswered_links(&self, survey_id: &str, limit: i64) -> Result<Vec<Invitation>> {
        let mut sql = Sql::new(&format!("SELECT {INVITATION_COLUMNS} FROM invitations i WHERE i.survey_id = "));
        sql.text(survey_id).push(" AND i.status = ").text(InvitationStatus::Issued.as_str());
        sql.push(" AND NOT EXISTS (SELECT 1 FROM responses r WHERE r.invitation_id = i.id)");
        sql.push(" ORDER BY i.created_at DESC, i.id DESC LIMIT ").int(limit);
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter().map(invitation_from).collect()
    }

    /// Records the outcome of a send; when mailed, schedules the reminder if the survey asks.
    pub async fn mark_invitation(
        &self,
        id: &str,
        status: InvitationStatus,
        detail: Option<&str>,
        remind_at: Option<i64>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sent_at = (status == InvitationStatus::Sent).then(now_ms);
        sqlx::query(
            "UPDATE invitations SET status = $2, status_detail = $3, sent_at = COALESCE($4, sent_at) WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(detail)
        .bind(sent_at)
        .execute(&mut *tx)
        .await?;
        if let Some(at) = remind_at {
            let job =
                NewJob::new(REMIND_INVITATION_JOB, json!({ "invitation_id": id }), at).dedupe(format!("remind:{id}"));
            enqueue_on(&mut *tx, &job).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn mark_reminded(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE invitations SET reminded_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// The answer given through an invitation, if any.
    pub async fn invitation_response(&self, invitation_id: &str) -> Result<Option<Response>> {
        let sql =
            format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.invitation_id = $1 ORDER BY r.id LIMIT 1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(invitation_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(response_from).transpose()
    }

    /// Applies a respondent's later changes to their stored answer, moving its count in the
    /// rollup in the same transaction.
    pub async fn update_answer(&self, response_id: &str, update: &AnswerUpdate) -> Result<Response> {
        static UPDATE: LazyLock<String> = LazyLock::new(|| {
            format!(
                "UPDATE responses SET score = $2, segment = $3, comment = $4, answers = $5, agent_score = $6, \
                 updated_at = $7, search_text = $8, themes = $9, sentiment = $10, sentiment_milli = $11 \
                 WHERE id = $1 RETURNING {}",
                RESPONSE_COLUMNS.replace("r.", "")
            )
        });
        let mut tx = self.begin_write().await?;
        let sql = format!("SELECT {RESPONSE_COLUMNS} FROM responses r WHERE r.id = $1");
        let before = sqlx::query(AssertSqlSafe(sql)).bind(response_id).fetch_optional(&mut *tx).await?;
        let Some(before) = before.as_ref().map(response_from).transpose()? else {
            return Err(StoreError::NotFound("response"));
        };
        let tags = crate::tagging::tag(&self.reading().analyzer, update.comment.as_deref(), before.language.as_deref());
        let row = sqlx::query(AssertSqlSafe(UPDATE.as_str()))
            .bind(response_id)
            .bind(update.score)
            .bind(update.segment.as_str())
            .bind(update.comment.as_deref())
            .bind(Value::Object(update.answers.clone()).to_string())
            .bind(update.agent_score)
            .bind(now_ms())
            .bind(update.comment.as_deref().map(fold_for_search))
            .bind(tags.as_ref().map(|t| t.themes.clone()))
            .bind(tags.as_ref().map(|t| t.sentiment))
            .bind(tags.as_ref().map(|t| t.sentiment_milli))
            .fetch_one(&mut *tx)
            .await?;
        let after = response_from(&row)?;
        let (before, after_counted) = (Counted::of(&before), Counted::of(&after));
        if before != after_counted {
            adjust_rollups(&mut tx, self.dialect, Stripe::SHARED, [(before, -1), (after_counted, 1)]).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Stops all surveys to a contact. Idempotent: the first time is kept.
    pub async fn unsubscribe(&self, contact_id: &str) -> Result<()> {
        sqlx::query("UPDATE contacts SET unsubscribed_at = COALESCE(unsubscribed_at, $2) WHERE id = $1")
            .bind(contact_id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// Contacts whose attributes equal all of `attributes`, in id order after `after`.
    pub async fn contacts_matching(
        &self,
        attributes: &[(String, String)],
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Contact>> {
        let columns = CONTACT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let mut sql = Sql::new(&format!("SELECT {columns} FROM contacts c WHERE 1 = 1"));
        push_attribute_conditions(&mut sql, self.dialect, attributes);
        if let Some(a) = after {
            sql.push(" AND c.id > ").text(a);
        }
        sql.push(" ORDER BY c.id LIMIT ").int(limit);
        let rows = sql.query(self.dialect).fetch_all(&self.pool).await?;
        rows.iter().map(contact_from).collect()
    }

    /// Records an event once per idempotency key; `created` is false for a repeat. The same
    /// key with a different request is a conflict.
    pub async fn record_event(
        &self,
        idempotency_key: &str,
        request: &Value,
        name: &str,
        contact_id: Option<&str>,
        properties: &Map<String, Value>,
    ) -> Result<(Event, bool)> {
        let hash = hash_secret(&request.to_string());
        let inserted = sqlx::query(
            "INSERT INTO events (id, idempotency_key, request_hash, name, contact_id, properties, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(idempotency_key)
        .bind(&hash)
        .bind(name)
        .bind(contact_id)
        .bind(Value::Object(properties.clone()).to_string())
        .bind(now_ms())
        .execute(&mut *self.write_one().await?)
        .await?;
        let row = sqlx::query(
            "SELECT id, name, contact_id, properties, created_at, request_hash FROM events WHERE idempotency_key = $1",
        )
        .bind(idempotency_key)
        .fetch_one(&self.pool)
        .await?;
        let stored_hash: String = row.try_get("request_hash")?;
        if stored_hash != hash {
            return Err(StoreError::Conflict("this Idempotency-Key was already used for a different event".into()));
        }
        let properties = match parse_json("events.properties", &row.try_get::<String, _>("properties")?)? {
            Value::Object(map) => map,
            other => return Err(StoreError::Corrupt(format!("events.properties: {other}"))),
        };
        let event = Event {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            contact_id: row.try_get("contact_id")?,
            properties,
            created_at: row.try_get("created_at")?,
        };
        Ok((event, inserted.rows_affected() == 1))
    }
}

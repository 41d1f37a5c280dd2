//! Annotations drawn on trends ("launched live chat"), alert rules, and the alerts they raised.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, new_id, now_ms, parse_json};

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Annotation {
    pub id: String,
    /// UTC day number (days since 1970-01-01).
    pub day: i64,
    pub label: String,
    /// `null`: shown on every survey's trend.
    pub survey_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AlertRule {
    pub id: String,
    pub name: String,
    /// `null`: every NPS survey.
    pub survey_id: Option<String>,
    /// `null`: the whole company.
    pub team_id: Option<String>,
    /// The recent window, compared with the same number of days before it.
    pub window_days: i64,
    /// Both windows need this many answers before a drop can alert.
    pub min_n: i64,
    pub notify_email: Option<String>,
    pub last_checked_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct NewAlertRule {
    pub name: String,
    pub survey_id: Option<String>,
    pub team_id: Option<String>,
    pub window_days: i64,
    pub min_n: i64,
    pub notify_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub team_id: Option<String>,
    /// The recent window ends (exclusive) at this day of the organisation's zone (days since
    /// 1970-01-01 in its calendar).
    pub window_end_day: i64,
    pub before_nps: f64,
    pub after_nps: f64,
    pub sentence: String,
    /// The full comparison (counts, interval, z, p-value, method).
    #[schema(value_type = Object)]
    pub detail: Value,
    pub created_at: i64,
}

const RULE_COLUMNS: &str =
    "id, name, survey_id, team_id, window_days, min_n, notify_email, last_checked_at, created_at";

fn rule_from(row: &AnyRow) -> Result<AlertRule> {
    Ok(AlertRule {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        survey_id: row.try_get("survey_id")?,
        team_id: row.try_get("team_id")?,
        window_days: row.try_get("window_days")?,
        min_n: row.try_get("min_n")?,
        notify_email: row.try_get("notify_email")?,
        last_checked_at: row.try_get("last_checked_at")?,
        created_at: row.try_get("created_at")?,
    })
}

fn annotation_from(row: &AnyRow) -> Result<Annotation> {
    Ok(Annotation {
        id: row.try_get("id")?,
        day: row.try_get("day")?,
        label: row.try_get("label")?,
        survey_id: row.try_get("survey_id")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

const ALERT_SELECT: &str = "SELECT a.id, a.rule_id, r.name AS rule_name, r.team_id, a.window_end_day, a.before_nps, \
     a.after_nps, a.sentence, a.detail, a.created_at FROM alerts a JOIN alert_rules r ON r.id = a.rule_id";

fn alert_from(row: &AnyRow) -> Result<Alert> {
    Ok(Alert {
        id: row.try_get("id")?,
        rule_id: row.try_get("rule_id")?,
        rule_name: row.try_get("rule_name")?,
        team_id: row.try_get("team_id")?,
        window_end_day: row.try_get("window_end_day")?,
        before_nps: row.try_get("before_nps")?,
        after_nps: row.try_get("after_nps")?,
        sentence: row.try_get("sentence")?,
        detail: parse_json("alerts.detail", &row.try_get::<String, _>("detail")?)?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    pub async fn create_annotation(
        &self,
        day: i64,
        label: &str,
        survey_id: Option<&str>,
        created_by: Option<&str>,
    ) -> Result<Annotation> {
        let row = sqlx::query(
            "INSERT INTO annotations (id, day, label, survey_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, day, label, survey_id, created_by, created_at",
        )
        .bind(new_id())
        .bind(day)
        .bind(label)
        .bind(survey_id)
        .bind(created_by)
        .bind(now_ms())
        .fetch_one(&mut *self.write_one().await?)
        .await?;
        annotation_from(&row)
    }

    /// Oldest first: those of one survey plus the ones for every survey (all, without a survey).
    pub async fn list_annotations(&self, survey_id: Option<&str>) -> Result<Vec<Annotation>> {
        let rows = sqlx::query(
            "SELECT id, day, label, survey_id, created_by, created_at FROM annotations \
             WHERE $1 IS NULL OR survey_id IS NULL OR survey_id = $1 ORDER BY day, created_at",
        )
        .bind(survey_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(annotation_from).collect()
    }

    pub async fn get_annotation(&self, id: &str) -> Result<Option<Annotation>> {
        let row =
            sqlx::query("SELECT id, day, label, survey_id, created_by, created_at FROM annotations WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(annotation_from).transpose()
    }

    pub async fn delete_annotation(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM annotations WHERE id = $1")
            .bind(id)
            .execute(&mut *self.write_one().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("annotation"));
        }
        Ok(())
    }

    pub async fn create_alert_rule(&self, new: &NewAlertRule) -> Result<AlertRule> {
        let sql = format!(
            "INSERT INTO alert_rules (id, name, survey_id, team_id, window_days, min_n, notify_email, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {RULE_COLUMNS}"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(new_id())
            .bind(&new.name)
            .bind(new.survey_id.as_deref())
            .bind(new.team_id.as_deref())
            .bind(new.window_days)
            .bind(new.min_n)
            .bind(new.notify_email.as_deref())
            .bind(now_ms())
            .fetch_one(&mut *self.write_one().await?)
            .await?;
        rule_from(&row)
    }

    pub async fn list_alert_rules(&self) -> Result<Vec<AlertRule>> {
        let sql = format!("SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY created_at, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(rule_from).collect()
    }

    pub async fn delete_alert_rule(&self, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM alerts WHERE rule_id = $1").bind(id).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM alert_rules WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("alert rule"));
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn mark_rule_checked(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE alert_rules SET last_checked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now_ms())
            .execute(&mut *self.write_one().await?)
            .await?;
        Ok(())
    }

    /// Records the alert of a rule for one window; `None` if it was already raised (by this
    /// or another server), so that it is announced once.
    pub async fn raise_alert(
        &self,
        rule: &AlertRule,
        window_end_day: i64,
        change: &hark_core::NpsChange,
        detail: &Value,
    ) -> Result<Option<Alert>> {
        let id: Option<String> = sqlx::query_scalar(
            "INSERT INTO alerts (id, rule_id, window_end_day, before_nps, after_nps, sentence, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (rule_id, window_end_day) DO NOTHING RETURNING id",
        )
        .bind(new_id())
        .bind(&rule.id)
        .bind(window_end_day)
        .bind(change.before)
        .bind(change.after)
        .bind(change.sentence())
        .bind(detail.to_string())
        .bind(now_ms())
        .fetch_optional(&mut *self.write_one().await?)
        .await?;
        let Some(id) = id else { return Ok(None) };
        let sql = format!("{ALERT_SELECT} WHERE a.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&self.pool).await?;
        alert_from(&row).map(Some)
    }

    /// Newest first; with `team_id`, that team's alerts and the company-wide ones.
    pub async fn list_alerts(&self, team_id: Option<&str>, limit: i64) -> Result<Vec<Alert>> {
        let sql = format!(
            "{ALERT_SELECT} WHERE $1 IS NULL OR r.team_id IS NULL OR r.team_id = $1 \
             ORDER BY a.created_at DESC, a.id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(team_id).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(alert_from).collect()
    }
}

//! Alert rules, checked on every sweep: NPS of the last `window_days` (whole UTC days up to
//! today) against the same number of days before. A significance test decides; each rule
//! raises at most one alert per window, announced by mail and the `alert` webhook event.

use hark_core::insight::{nps_counts, significant_drop};
use hark_core::report::MS_PER_DAY;
use hark_core::{NpsCounts, SurveyKind};
use hark_store::{AlertRule, ResponseFilter, ScoreColumn, Source, StoreError};
use serde_json::json;

use crate::follow_up::queue_mail;
use crate::runner::Runner;

pub(crate) const ALERT_MAIL: &str = "alert";

impl Runner {
    /// Checks every rule; returns how many new alerts were raised.
    pub async fn check_alerts(&self) -> Result<usize, StoreError> {
        let today = jiff::Timestamp::now().as_millisecond().div_euclid(MS_PER_DAY);
        let mut raised = 0;
        for rule in self.store.list_alert_rules().await? {
            raised += usize::from(self.check_rule(&rule, today).await?);
            self.store.mark_rule_checked(&rule.id).await?;
        }
        Ok(raised)
    }

    async fn check_rule(&self, rule: &AlertRule, today: i64) -> Result<bool, StoreError> {
        let window = |from_day: i64, to_day: i64| ResponseFilter {
            survey_id: rule.survey_id.clone(),
            survey_kind: Some(SurveyKind::Nps),
            team_id: rule.team_id.clone(),
            from_ms: Some(from_day * MS_PER_DAY),
            to_ms: Some(to_day * MS_PER_DAY),
            ..Default::default()
        };
        let counts = |filter: ResponseFilter| async move {
            let groups = self.store.score_counts(&filter, None, ScoreColumn::Score, Source::Best).await?;
            Ok::<_, StoreError>(groups.first().map(|g| nps_counts(&g.counts)).unwrap_or_default())
        };
        // The recent window includes today, so a collapse shows while it happens.
        let end = today + 1;
        let recent = counts(window(end - rule.window_days, end)).await?;
        let before = counts(window(end - 2 * rule.window_days, end - rule.window_days)).await?;
        let Some(change) = significant_drop(&before, &recent, rule.min_n as u64) else { return Ok(false) };
        // A drop while anonymous answers are held for review may be the flood itself: no
        // alert until someone has looked at them.
        let since = (end - rule.window_days) * MS_PER_DAY;
        if self.store.public_cases_since(rule.survey_id.as_deref(), since).await?.1 > 0 {
            tracing::warn!(rule = %rule.name, "alert deferred: cases from a burst of anonymous answers await review");
            return Ok(false);
        }
        let detail = json!({ "before": before, "recent": recent, "change": change });
        let Some(alert) = self.store.raise_alert(rule, end, &change, &detail).await? else { return Ok(false) };
        let link = self.admin_url("/dashboard/monitoring");
        let payload = json!({ "alert": alert, "rule": rule, "link": link });
        self.store.queue_deliveries("alert", &format!("alert:{}", alert.id), &payload, None).await?;
        if let Some(to) = &rule.notify_email {
            let (subject, body) = alert_mail(rule, &alert.sentence, &before, &recent, &link);
            queue_mail(&self.store, ALERT_MAIL, &alert.id, json!({ "to": to, "subject": subject, "body": body }))
                .await?;
        }
        tracing::info!(rule = %rule.name, sentence = %alert.sentence, "alert raised");
        Ok(true)
    }
}

/// The subject and text of an alert mail.
fn alert_mail(
    rule: &AlertRule,
    sentence: &str,
    before: &NpsCounts,
    recent: &NpsCounts,
    link: &str,
) -> (String, String) {
    let subject = format!("Hark alert: {}", rule.name);
    let text = format!(
        "{sentence}.\n\nThe last {days} days: {} answers. The {days} days before: {} answers.\nSee {link}\n",
        recent.n(),
        before.n(),
        days = rule.window_days,
    );
    (subject, text)
}

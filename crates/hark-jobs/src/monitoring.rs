//! Alert rules, checked on every sweep: NPS of the last `window_days` (whole days of the
//! organisation's zone, up to today) against the same number of days before. A significance
//! test decides; each rule raises at most one alert per window, announced by mail and the
//! `alert` webhook event.

use hark_core::i18n::Locale;
use hark_core::insight::{nps_counts, significant_drop};
use hark_core::report::{date_of_day, day_of_date, day_start, local_date};
use hark_core::{NpsChange, NpsCounts, SurveyKind};
use hark_store::{AlertRule, ResponseFilter, ScoreColumn, Source, StoreError};
use serde_json::json;

use crate::follow_up::queue_mail;
use crate::runner::Runner;

pub(crate) const ALERT_MAIL: &str = "alert";

impl Runner {
    /// Checks every rule; returns how many new alerts were raised.
    pub async fn check_alerts(&self) -> Result<usize, StoreError> {
        let zone = &self.config.time_zone;
        let today = day_of_date(local_date(jiff::Timestamp::now().as_millisecond(), zone));
        let mut raised = 0;
        for rule in self.store.list_alert_rules().await? {
            raised += usize::from(self.check_rule(&rule, today).await?);
            self.store.mark_rule_checked(&rule.id).await?;
        }
        Ok(raised)
    }

    /// `today` and the windows' days are day numbers of the organisation's calendar.
    async fn check_rule(&self, rule: &AlertRule, today: i64) -> Result<bool, StoreError> {
        let start = |day: i64| day_start(date_of_day(day), &self.config.time_zone);
        let window = |from_day: i64, to_day: i64| ResponseFilter {
            survey_id: rule.survey_id.clone(),
            survey_kind: Some(SurveyKind::Nps),
            team_id: rule.team_id.clone(),
            from_ms: Some(start(from_day)),
            to_ms: Some(start(to_day)),
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
        let since = start(end - rule.window_days);
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
            let users = self.store.list_users().await?;
            let person = users.iter().find(|u| u.email.eq_ignore_ascii_case(to));
            let (t, _) = self.staff_reader(person, None);
            let (subject, body) = alert_mail(t, rule, &change, &before, &recent, &link);
            queue_mail(&self.store, ALERT_MAIL, &alert.id, json!({ "to": to, "subject": subject, "body": body }))
                .await?;
        }
        tracing::info!(rule = %rule.name, sentence = %alert.sentence, "alert raised");
        Ok(true)
    }
}

/// The subject and text of an alert mail, in its reader's language.
fn alert_mail(
    t: &Locale,
    rule: &AlertRule,
    change: &NpsChange,
    before: &NpsCounts,
    recent: &NpsCounts,
    link: &str,
) -> (String, String) {
    let subject = t.fill("mail.alert_subject", &[("rule", &rule.name)]);
    let sentence = change.sentence_in(t);
    let text = t.fill(
        "mail.alert_body",
        &[
            ("sentence", &sentence),
            ("days", &rule.window_days.to_string()),
            ("recent", &t.count(recent.n())),
            ("before", &t.count(before.n())),
            ("link", link),
        ],
    );
    (subject, text)
}

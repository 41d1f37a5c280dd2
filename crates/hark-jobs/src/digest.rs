//! Digests by mail. On the organisation's schedule (a cron expression read in its zone) each
//! active person who has not opted out gets one digest of the period just ended. The web
//! layer, which knows the figures, writes it for their role ([`DigestWriter`]); this module
//! decides when, and sends each digest once: the store records it with its job.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use chrono::{Datelike, Timelike};
use croner::Cron;
use hark_core::report::MS_PER_DAY;
use hark_store::{DIGEST_JOB, NewJob, StoreError, User};
use serde_json::{Value, json};

use crate::follow_up::NO_MAIL_SERVER;
use crate::mail::MailError;
use crate::runner::{Outcome, Runner};

/// When digests go out, e.g. `0 8 * * MON` (Mondays at 08:00) or `0 8 1 * *` (the first of
/// each month). Each digest covers the time since the firing before.
#[derive(Clone, Debug)]
pub struct DigestSchedule {
    cron: Cron,
    pub pattern: String,
}

impl DigestSchedule {
    pub fn parse(pattern: &str) -> Result<Self, String> {
        Cron::from_str(pattern)
            .map(|cron| DigestSchedule { cron, pattern: pattern.to_owned() })
            .map_err(|e| format!("`{pattern}` is not a cron expression (e.g. `0 8 * * MON`): {e}"))
    }

    /// The last period to have ended by `now`: from the firing before the latest to the
    /// latest, in ms. Firings are read on `zone`'s wall clock: croner is handed that clock as
    /// if it were UTC, and jiff turns the times found back into instants (a time that a clock
    /// change skips moves forward).
    pub fn last_period(&self, now: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> Option<(i64, i64)> {
        let wall = now.to_zoned(zone.clone()).datetime();
        let wall = chrono::NaiveDate::from_ymd_opt(wall.year().into(), wall.month() as u32, wall.day() as u32)?
            .and_hms_opt(wall.hour() as u32, wall.minute() as u32, wall.second() as u32)?
            .and_utc();
        let end = self.cron.find_previous_occurrence(&wall, true).ok()?;
        let start = self.cron.find_previous_occurrence(&end, false).ok()?;
        let instant = |t: chrono::DateTime<chrono::Utc>| {
            let civil = jiff::civil::DateTime::new(
                i16::try_from(t.year()).ok()?,
                t.month() as i8,
                t.day() as i8,
                t.hour() as i8,
                t.minute() as i8,
                0,
                0,
            )
            .ok()?;
            civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp().as_millisecond())
        };
        Some((instant(start)?, instant(end)?))
    }
}

/// One person's digest, in their language.
pub struct Digest {
    pub subject: String,
    pub text: String,
    pub html: String,
}

type Writing<'a, T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send + 'a>>;

/// Writes a person's digest of `[from, to)` (ms) for their role, and the company's in a line
/// (for webhooks, such as a Slack channel's).
pub trait DigestWriter: Send + Sync {
    fn write<'a>(&'a self, person: &'a User, from: i64, to: i64) -> Writing<'a, Digest>;
    fn summary(&self, from: i64, to: i64) -> Writing<'_, String>;
}

/// The payload of a digest job.
pub fn digest_job(user_id: &str, from: i64, to: i64, now: i64) -> NewJob {
    NewJob::new(DIGEST_JOB, json!({ "user_id": user_id, "from": from, "to": to }), now)
}

impl Runner {
    /// Queues the digest of the period that ended last by `now` for everyone who gets one;
    /// returns how many were queued. A period that ended over a day ago (the server was down)
    /// is not sent late. The sweep calls this with the present; tests with any moment.
    pub async fn schedule_digests(&self, now: jiff::Timestamp) -> Result<usize, StoreError> {
        // Without a mail server no digest can go out: none is queued to fail.
        let (Some(schedule), Some(_)) = (&self.config.digest_schedule, &self.mailer) else { return Ok(0) };
        let Some((from, to)) = schedule.last_period(now, &self.config.time_zone) else { return Ok(0) };
        let now = now.as_millisecond();
        if now - to > MS_PER_DAY {
            return Ok(0);
        }
        // Due at once (a moment in the future, as a test may pass, is not waited for).
        let run_at = now.min(jiff::Timestamp::now().as_millisecond());
        let done = self.store.digested(to).await?;
        let mut queued = 0;
        for person in self.store.list_users().await? {
            if person.deactivated_at.is_some() || person.digest_opt_out || done.contains(&person.id) {
                continue;
            }
            let job = digest_job(&person.id, from, to, run_at);
            queued += usize::from(self.store.queue_digest(&person.id, from, to, &job).await?);
        }
        // The process that queued the period's digests also tells the webhooks that want
        // `digest` (a Slack channel gets the line), once per period.
        if queued > 0 {
            if let Some(writer) = self.digest_writer() {
                match writer.summary(from, to).await {
                    Ok(text) => {
                        let payload = json!({ "text": text, "from": from, "to": to, "link": self.admin_url("/dashboard/overview") });
                        self.store.queue_deliveries("digest", &format!("digest:{to}"), &payload, None).await?;
                    }
                    Err(e) => tracing::warn!(error = %e, "the digest's summary could not be written"),
                }
            }
            self.wake();
        }
        Ok(queued)
    }

    /// Writes and mails one digest; a person who has since opted out or left gets none.
    pub(crate) async fn send_digest(&self, payload: &Value) -> Result<Outcome, StoreError> {
        let id = payload["user_id"].as_str().unwrap_or_default();
        let (from, to) = (payload["from"].as_i64().unwrap_or(0), payload["to"].as_i64().unwrap_or(0));
        let Some(person) = self.store.get_user(id).await? else { return Ok(Outcome::Done) };
        if person.deactivated_at.is_some() || (person.digest_opt_out && !payload["asked"].as_bool().unwrap_or(false)) {
            return Ok(Outcome::Done);
        }
        let Some(mailer) = &self.mailer else { return Ok(Outcome::Fail(NO_MAIL_SERVER.into())) };
        let Some(writer) = self.digest_writer() else { return Ok(Outcome::Retry("no digest writer yet".into())) };
        let digest = match writer.write(&person, from, to).await {
            Ok(d) => d,
            Err(e) => return Ok(Outcome::Retry(e)),
        };
        match mailer
            .send_alternative(person.name.as_deref(), &person.email, &digest.subject, &digest.text, &digest.html)
            .await
        {
            Ok(_) => Ok(Outcome::Done),
            Err(MailError::Permanent(e)) => Ok(Outcome::Fail(e)),
            Err(MailError::Transient(e)) => Ok(Outcome::Retry(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mondays at 08:00 in Seoul: on a Wednesday the last period is the Monday before's
    /// 08:00 to this Monday's, as instants (23:00 UTC the day before).
    #[test]
    fn a_period_runs_from_one_firing_to_the_next_on_the_zone_s_clock() {
        let weekly = DigestSchedule::parse("0 8 * * MON").unwrap();
        let seoul = jiff::tz::TimeZone::get("Asia/Seoul").unwrap();
        let wednesday: jiff::Timestamp = "2026-12-02T03:00:00Z".parse().unwrap();
        let (from, to) = weekly.last_period(wednesday, &seoul).unwrap();
        let ms = |s: &str| s.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        assert_eq!((from, to), (ms("2026-11-22T23:00:00Z"), ms("2026-11-29T23:00:00Z")));
        // At the firing itself, the period that ends then.
        assert_eq!(weekly.last_period("2026-11-29T23:00:00Z".parse().unwrap(), &seoul).unwrap().1, to);
        // Across Rome's clock change a week is 167 hours.
        let rome = jiff::tz::TimeZone::get("Europe/Rome").unwrap();
        let (from, to) = weekly.last_period("2026-03-31T12:00:00Z".parse().unwrap(), &rome).unwrap();
        assert_eq!((to - from) / 3_600_000, 167);
        let monthly = DigestSchedule::parse("0 8 1 * *").unwrap();
        let (from, to) = monthly.last_period(wednesday, &seoul).unwrap();
        assert_eq!((from, to), (ms("2026-10-31T23:00:00Z"), ms("2026-11-30T23:00:00Z")));
        assert!(DigestSchedule::parse("every monday").is_err());
    }
}

//! The job runner: claims due jobs from the database, runs them concurrently, and records
//! each outcome (done, retry with back-off, or failed for good). Each target (one webhook,
//! the mail server) has its own small limit, so one slow receiver delays only its own jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hark_core::token::Signer;
use hark_store::{
    CASE_MAIL_JOB, DIGEST_JOB, InvitationStatus, Job, PLAYBOOK_JOB, REMIND_INVITATION_JOB, SEND_INVITATION_JOB, Store,
    StoreError, SurveyStatus, WEBHOOK_JOB,
};
use tokio::sync::{Notify, Semaphore, mpsc};

use crate::digest::{DigestSchedule, DigestWriter};
use crate::mail::{MailError, Mailer, compose_survey_mail};
use crate::outbound::OutboundPolicy;

/// Jobs running at once in one process (most of them wait on a network call).
const MAX_IN_FLIGHT: usize = 128;
/// Calls at once to one webhook, and mails at once to the mail server. A call mostly waits on
/// its receiver; at 64 clients on SQLite, with a receiver on loopback, deliveries kept up with
/// the answers coming in at 32 places, not at 16 (`cargo bench -p hark-web --bench ingest`).
pub(crate) const PER_WEBHOOK: usize = 32;
const PER_MAIL_SERVER: usize = 8;
/// A job that takes longer is abandoned and retried. The lease (see `RunnerConfig::lease`)
/// lasts at least twice as long, so no second process can claim a job that is still running.
const JOB_TIMEOUT: Duration = Duration::from_secs(120);
/// A job whose target is busy waits in this process for a place there, at most this long and
/// at most this many jobs per place; the others are handed back to the queue for `POSTPONE_MS`.
/// A target thus holds at most half of the `MAX_IN_FLIGHT` places, running or waiting, and a
/// slow one leaves the rest to the others.
const HOLD_WAIT: Duration = Duration::from_secs(30);
const WAITING_PER_PLACE: usize = 1;
const _: () = assert!(PER_WEBHOOK * (1 + WAITING_PER_PLACE) <= MAX_IN_FLIGHT / 2);
const POSTPONE_MS: i64 = 500;
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct RunnerConfig {
    /// Base address of this server as customers reach it, e.g. `https://feedback.example.com`.
    pub public_url: String,
    /// How long to sleep when nothing is due (a job made in this process wakes it at once).
    pub idle_poll: Duration,
    /// First retry delay; each further attempt waits four times longer, up to an hour.
    pub retry_base: Duration,
    /// How often overdue cases are escalated and alert rules checked.
    pub sweep_interval: Duration,
    /// Where webhook calls may go (internal addresses only if allowed).
    pub outbound: OutboundPolicy,
    /// Cases a survey opens in an hour for anonymous answers through its public link or
    /// widget; more are held for review (a flood cannot page the team or fire webhooks).
    pub public_cases_per_hour: u32,
    /// How long a claimed job is this process's: after a crash, its jobs run elsewhere once
    /// this has passed. Jobs time out at half of it (at most 2 minutes).
    pub lease: Duration,
    /// The organisation's time zone: the days alert rules count, and the times in mails to
    /// staff who chose no zone of their own.
    pub time_zone: jiff::tz::TimeZone,
    /// When digests go out (`None`: never).
    pub digest_schedule: Option<DigestSchedule>,
}

impl RunnerConfig {
    /// The lease `hark serve` uses unless told otherwise.
    pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

    fn job_timeout(&self) -> Duration {
        JOB_TIMEOUT.min(self.lease / 2)
    }
}

#[derive(Clone)]
pub struct Runner {
    pub(crate) store: Store,
    pub(crate) signer: Signer,
    pub(crate) mailer: Option<Mailer>,
    pub(crate) config: RunnerConfig,
    pub(crate) http: reqwest::Client,
    worker: String,
    wake: Arc<Notify>,
    slots: Arc<Semaphore>,
    targets: Arc<Mutex<HashMap<String, Target>>>,
    /// Jobs done or postponed, marked so in the database together (see `finish_in_batches`).
    done: mpsc::UnboundedSender<Mark>,
    done_queue: Arc<Mutex<Option<mpsc::UnboundedReceiver<Mark>>>>,
    /// Set once the web layer, which writes digests, is up (it needs the runner first).
    digests: Arc<OnceLock<Arc<dyn DigestWriter>>>,
}

/// What a job's handler concluded.
pub(crate) enum Outcome {
    Done,
    /// Done, having delivered webhook delivery `.0` (the receiver answered `.1`): recorded
    /// with the job's own mark, in the same batched commit.
    Delivered(String, i64),
    Retry(String),
    Fail(String),
    /// Its target is busy with other jobs: hand it back untried.
    Postpone,
}

/// A job's mark, recorded with others in one commit (see `finish_in_batches`).
enum Mark {
    /// Done, with the webhook delivery it made, if any (see `Outcome::Delivered`).
    Done(String, Option<(String, i64)>),
    /// Handed back untried (see `Outcome::Postpone`).
    Postponed(String),
}

/// A target's places (a webhook, the mail server) and the jobs waiting for one.
struct Target {
    places: Arc<Semaphore>,
    waiting: usize,
}

/// A place held on a target while a job runs there; dropping it frees the place.
pub(crate) struct TargetHold {
    _place: tokio::sync::OwnedSemaphorePermit,
}

impl From<StoreError> for Outcome {
    fn from(e: StoreError) -> Self {
        Outcome::Retry(e.to_string())
    }
}

impl Runner {
    pub fn new(store: Store, signer: Signer, mailer: Option<Mailer>, config: RunnerConfig) -> Runner {
        let worker = format!("{}-{}", std::process::id(), hark_core::auth::random_hex(4));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(config.outbound.resolver())
            .user_agent(concat!("Hark/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client");
        let (done, done_queue) = mpsc::unbounded_channel();
        Runner {
            store,
            signer,
            mailer,
            config,
            http,
            worker,
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            targets: Arc::default(),
            done,
            done_queue: Arc::new(Mutex::new(Some(done_queue))),
            digests: Arc::default(),
        }
    }

    /// Holds one of `limit` places on `target`, waiting for one if few enough jobs wait
    /// already (see `HOLD_WAIT`); `None`: hand the job back.
    pub(crate) async fn hold(&self, target: &str, limit: usize) -> Option<TargetHold> {
        let places = {
            let mut targets = self.targets.lock().expect("target lock");
            let target = targets
                .entry(target.to_owned())
                .or_insert_with(|| Target { places: Arc::new(Semaphore::new(limit)), waiting: 0 });
            if let Ok(place) = target.places.clone().try_acquire_owned() {
                return Some(TargetHold { _place: place });
            }
            if target.waiting >= limit * WAITING_PER_PLACE {
                return None;
            }
            target.waiting += 1;
            target.places.clone()
        };
        let place = tokio::time::timeout(HOLD_WAIT, places.acquire_owned()).await;
        if let Some(t) = self.targets.lock().expect("target lock").get_mut(target) {
            t.waiting -= 1;
        }
        place.ok()?.ok().map(|place| TargetHold { _place: place })
    }

    /// The mail server in use, if any (for the mail setup page and its test mail).
    pub fn mailer(&self) -> Option<&Mailer> {
        self.mailer.as_ref()
    }

    /// Wakes the loop now: call after adding a job that may be due at once.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// When digests go out, if they do.
    pub fn digest_schedule(&self) -> Option<&DigestSchedule> {
        self.config.digest_schedule.as_ref()
    }

    /// Who writes digests; the first call counts.
    pub fn set_digest_writer(&self, writer: Arc<dyn DigestWriter>) {
        let _ = self.digests.set(writer);
    }

    pub(crate) fn digest_writer(&self) -> Option<&Arc<dyn DigestWriter>> {
        self.digests.get()
    }

    /// Runs until `shutdown` resolves; jobs in progress are finished first.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let finisher = self
            .done_queue
            .lock()
            .expect("done queue lock")
            .take()
            .map(|queue| tokio::spawn(finish_in_batches(self.store.clone(), self.worker.clone(), queue, stopped)));
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|at| at.elapsed() >= self.config.sweep_interval) {
                last_sweep = Some(std::time::Instant::now());
                if let Err(e) = self.escalate().await {
                    tracing::warn!(error = %e, "overdue cases could not be escalated");
                }
                if let Err(e) = self.check_alerts().await {
                    tracing::warn!(error = %e, "alert rules could not be checked");
                }
                if let Err(e) = self.schedule_digests(jiff::Timestamp::now()).await {
                    tracing::warn!(error = %e, "digests could not be queued");
                }
                let week_ago = jiff::Timestamp::now().as_millisecond() - 7 * hark_core::report::MS_PER_DAY;
                if let Err(e) = self.store.purge_done_jobs(week_ago).await {
                    tracing::warn!(error = %e, "finished jobs could not be purged");
                }
            }
            let started = match self.start_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "job queue unavailable");
                    0
                }
            };
            if started > 0 && self.slots.available_permits() > 0 {
                continue;
            }
            let sleep = match self.store.next_job_at().await {
                Ok(Some(at)) => {
                    let wait = (at - jiff::Timestamp::now().as_millisecond()).max(0) as u64;
                    self.config.idle_poll.min(Duration::from_millis(wait))
                }
                _ => self.config.idle_poll,
            }
            .min(self.config.sweep_interval);
            tokio::select! {
                _ = &mut shutdown => break,
                // A finished job wakes the loop too (see `start_due`).
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
            }
        }
        // Wait for the jobs in progress, then for their marks.
        let _ = self.slots.acquire_many(MAX_IN_FLIGHT as u32).await;
        let _ = stop.send(());
        if let Some(finisher) = finisher {
            let _ = finisher.await;
        }
    }

    /// Claims as many due jobs as there are free places and starts each; returns how many.
    async fn start_due(&self) -> Result<usize, StoreError> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        let jobs = self.store.claim_jobs(&self.worker, self.config.lease.as_millis() as i64, free as i64).await?;
        for job in &jobs {
            let slot = self.slots.clone().try_acquire_owned().expect("claimed no more jobs than free places");
            let runner = self.clone();
            let job = job.clone();
            tokio::spawn(async move {
                if let Err(e) = runner.run_one(&job).await {
                    tracing::warn!(job = %job.id, error = %e, "job outcome could not be recorded");
                }
                drop(slot);
                runner.wake();
            });
        }
        Ok(jobs.len())
    }

    /// Runs one claimed job and records its outcome.
    async fn run_one(&self, job: &Job) -> Result<(), StoreError> {
        let timeout = self.config.job_timeout();
        let outcome = tokio::time::timeout(timeout, self.handle(job))
            .await
            .unwrap_or_else(|_| Outcome::Retry(format!("took longer than {} s", timeout.as_secs())));
        let counted = match &outcome {
            Outcome::Done | Outcome::Delivered(..) => "done",
            Outcome::Postpone => "postponed",
            Outcome::Retry(_) if job.attempts < job.max_attempts => "retried",
            Outcome::Retry(_) | Outcome::Fail(_) => "failed",
        };
        metrics::counter!("hark_jobs_total", "kind" => job.kind.clone(), "outcome" => counted).increment(1);
        match outcome {
            // Marked done with others in one commit; until then the lease keeps it ours.
            Outcome::Done => {
                let _ = self.done.send(Mark::Done(job.id.clone(), None));
            }
            Outcome::Delivered(delivery, code) => {
                let _ = self.done.send(Mark::Done(job.id.clone(), Some((delivery, code))));
            }
            Outcome::Postpone => {
                let _ = self.done.send(Mark::Postponed(job.id.clone()));
            }
            Outcome::Retry(error) if job.attempts < job.max_attempts => {
                let delay = self.backoff(job.attempts);
                let at = jiff::Timestamp::now().as_millisecond() + delay.as_millis() as i64;
                tracing::info!(job = %job.id, kind = %job.kind, %error, retry_in = ?delay, "job will be retried");
                self.store.fail_job(&job.id, &self.worker, &error, Some(at)).await?;
            }
            Outcome::Retry(error) | Outcome::Fail(error) => {
                tracing::warn!(job = %job.id, kind = %job.kind, %error, "job failed");
                self.fail_for_good(job, &error).await?;
                self.store.fail_job(&job.id, &self.worker, &error, None).await?;
            }
        }
        Ok(())
    }

    fn backoff(&self, attempts: i64) -> Duration {
        let factor = 4u32.saturating_pow(attempts.saturating_sub(1).clamp(0, 10) as u32);
        self.config.retry_base.saturating_mul(factor).min(MAX_BACKOFF)
    }

    async fn handle(&self, job: &Job) -> Outcome {
        let field = |name: &str| job.payload.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        let _mail_server = match job.kind.as_str() {
            SEND_INVITATION_JOB | REMIND_INVITATION_JOB | CASE_MAIL_JOB | DIGEST_JOB => {
                match self.hold("mail", PER_MAIL_SERVER).await {
                    Some(hold) => Some(hold),
                    None => return Outcome::Postpone,
                }
            }
            _ => None,
        };
        let outcome = match job.kind.as_str() {
            SEND_INVITATION_JOB => self.send_invitation(field("invitation_id"), false).await,
            REMIND_INVITATION_JOB => self.send_invitation(field("invitation_id"), true).await,
            PLAYBOOK_JOB => self.run_playbook(field("response_id")).await,
            CASE_MAIL_JOB => self.send_case_mail(&job.payload).await,
            WEBHOOK_JOB => self.deliver_webhook(field("delivery_id")).await,
            DIGEST_JOB => self.send_digest(&job.payload).await,
            other => Ok(Outcome::Fail(format!("unknown job kind `{other}`"))),
        };
        outcome.unwrap_or_else(Outcome::from)
    }

    /// A send that will not be retried leaves its invitation (or delivery) marked failed.
    async fn fail_for_good(&self, job: &Job, error: &str) -> Result<(), StoreError> {
        let field = |name: &str| job.payload.get(name).and_then(|v| v.as_str());
        match (job.kind.as_str(), field("invitation_id"), field("delivery_id")) {
            (SEND_INVITATION_JOB, Some(id), _) => {
                self.store.mark_invitation(id, InvitationStatus::Failed, Some(error), None).await
            }
            (CASE_MAIL_JOB, _, _) if let Some(reply) = field("reply_event_id") => {
                self.store.reply_result(reply, hark_store::ReplyState::Failed, error).await.map(drop)
            }
            (WEBHOOK_JOB, _, Some(id)) => self.store.fail_delivery(id).await,
            _ => Ok(()),
        }
    }

    /// Mails an invitation (or its reminder). Safe to run again: a sent invitation is not
    /// sent twice, and a reminder goes only to an unanswered, still-subscribed contact.
    async fn send_invitation(&self, id: &str, reminder: bool) -> Result<Outcome, StoreError> {
        let Some(invitation) = self.store.get_invitation(id).await? else {
            return Ok(Outcome::Fail(format!("invitation {id} no longer exists")));
        };
        let expected = if reminder { InvitationStatus::Sent } else { InvitationStatus::Scheduled };
        if invitation.status != expected || (reminder && invitation.reminded_at.is_some()) {
            return Ok(Outcome::Done);
        }
        if reminder && self.store.invitation_response(id).await?.is_some() {
            return Ok(Outcome::Done);
        }
        let skip = |detail: &'static str| async move {
            if !reminder {
                self.store.mark_invitation(id, InvitationStatus::Skipped, Some(detail), None).await?;
            }
            Ok::<_, StoreError>(Outcome::Done)
        };
        let Some(survey) = self.store.get_survey(&invitation.survey_id).await? else {
            return skip("survey_deleted: the survey no longer exists").await;
        };
        if survey.status != SurveyStatus::Active {
            return skip("survey_inactive: the survey is not active").await;
        }
        let contact = match &invitation.contact_id {
            Some(c) => self.store.get_contact(c).await?,
            None => None,
        };
        let Some(contact) = contact else {
            return skip("contact_erased: the contact was erased").await;
        };
        if contact.unsubscribed_at.is_some() {
            return skip("unsubscribed: the contact unsubscribed").await;
        }
        let Some(address) = contact.email.as_deref() else {
            return skip("no_email: the contact has no email address").await;
        };
        let Some(mailer) = &self.mailer else {
            return Ok(Outcome::Fail(crate::follow_up::NO_MAIL_SERVER.into()));
        };
        let agent = match &invitation.agent_id {
            Some(a) => self.store.get_agent(a).await?.map(|a| a.name),
            None => None,
        };
        let mail = compose_survey_mail(
            &survey.definition,
            &invitation,
            &contact,
            agent.as_deref(),
            &self.signer,
            &self.config.public_url,
            reminder,
        );
        let sent = mailer.send_survey(contact.name.as_deref(), address, &mail).await;
        if sent.is_err() {
            metrics::counter!("hark_mail_failures_total", "mail" => "survey").increment(1);
        }
        match sent {
            Ok(()) if reminder => {
                self.store.mark_reminded(id).await?;
                Ok(Outcome::Done)
            }
            Ok(()) => {
                let remind_at = survey
                    .definition
                    .reminder_days
                    .map(|d| jiff::Timestamp::now().as_millisecond() + i64::from(d) * hark_core::report::MS_PER_DAY);
                self.store.mark_invitation(id, InvitationStatus::Sent, None, remind_at).await?;
                Ok(Outcome::Done)
            }
            Err(MailError::Permanent(e)) if !reminder => {
                self.store.mark_invitation(id, InvitationStatus::Bounced, Some(&e), None).await?;
                Ok(Outcome::Done)
            }
            Err(e) => Ok(Outcome::Retry(e.to_string())),
        }
    }
}

/// Marks finished jobs done, and busy targets' jobs postponed, in batches: one statement and
/// one commit for all that finished meanwhile, instead of one each. Until marked, a job stays
/// leased to this worker, so no one runs it again; a crash in between lets it run once more
/// after its lease (handlers are idempotent). On `stop`, marks what is left and returns.
async fn finish_in_batches(
    store: Store,
    worker: String,
    mut queue: mpsc::UnboundedReceiver<Mark>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut marks = Vec::new();
    loop {
        let mut stopping = tokio::select! {
            n = queue.recv_many(&mut marks, 512) => n == 0,
            _ = &mut stop => true,
        };
        // Let the jobs finishing alongside join this commit.
        if !stopping {
            tokio::time::sleep(Duration::from_millis(5)).await;
            stopping = stop.try_recv().is_ok();
        }
        while stopping || marks.len() < 512 {
            match queue.try_recv() {
                Ok(one) => marks.push(one),
                Err(_) => break,
            }
        }
        let (mut done, mut delivered, mut postponed) = (Vec::new(), Vec::new(), Vec::new());
        for mark in marks.drain(..) {
            match mark {
                Mark::Done(id, delivery) => {
                    done.push(id);
                    delivered.extend(delivery);
                }
                Mark::Postponed(id) => postponed.push(id),
            }
        }
        let until = jiff::Timestamp::now().as_millisecond() + POSTPONE_MS;
        let finished = with_retries(|| store.finish_jobs(&done, &worker, &delivered)).await;
        let handed_back = with_retries(|| store.postpone_jobs(&postponed, &worker, until)).await;
        let late = (done.len() + postponed.len()) as u64 - finished.unwrap_or(0) - handed_back.unwrap_or(0);
        if finished.is_some() && handed_back.is_some() && late > 0 {
            tracing::warn!(late, "jobs finished after their lease ran out");
        }
        if stopping {
            return;
        }
    }
}

/// Marks jobs, trying again a few times if the database fails; how many were marked, or
/// `None` if it kept failing (the jobs then run again after their lease).
async fn with_retries<F: Future<Output = Result<u64, StoreError>>>(mut mark: impl FnMut() -> F) -> Option<u64> {
    for attempt in 0..5 {
        match mark().await {
            Ok(marked) => return Some(marked),
            Err(e) => {
                tracing::warn!(error = %e, attempt, "finished jobs could not be marked; trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    None
}

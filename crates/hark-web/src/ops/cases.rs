//! Acting on a case, shared by the API and the case page: every change is recorded with
//! who made it, sent to the webhooks, and a reply is mailed to the customer. Also the
//! "did closing the loop work?" report.

use std::collections::BTreeMap;

use hark_core::{ProportionSummary, Segment, Why};
use hark_store::{
    AnsweredAgain, Case, CaseChange, CaseFilter, CaseOutcome, CaseReach, CaseStatus, ReplyState, StoreError,
};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::ops::filters;
use crate::problem::{ApiError, ApiResult};
use crate::viewer::{CaseAccess, Viewer};

/// A person's (or an API key's) action on a case, checked against what they may do: the
/// one door through which the API and the case page change a case.
pub(crate) async fn act(
    state: &AppState,
    viewer: &Viewer,
    case_id: &str,
    action: CaseAction,
) -> Result<Case, ApiError> {
    let case = state.store.get_case(case_id).await?.ok_or_else(|| ApiError::not_found("case"))?;
    refuse_unless(viewer.case_access(&state.store, &case).await?, CaseAccess::Act)?;
    let change = case_change(state, &case, action).await?;
    if let CaseChange::Assign(Some(owner)) = &change {
        let user = state
            .store
            .get_user(owner)
            .await?
            .ok_or_else(|| ApiError::invalid("owner_id", Why::new("invalid.no_such_user")))?;
        if !viewer.may_assign_to(&user) {
            return Err(ApiError::refused(Why::new("refused.assign_outside_team")));
        }
    }
    let actor = viewer.session.as_ref().map_or("api", |s| s.user.email.as_str());
    apply(state, &case, actor, change).await
}

/// Refuses a person whose access to a case is less than `needed`, saying why.
pub(crate) fn refuse_unless(access: CaseAccess, needed: CaseAccess) -> Result<(), ApiError> {
    match (access, needed) {
        (CaseAccess::Hidden, _) => Err(ApiError::refused(Why::new("refused.case_hidden"))),
        (CaseAccess::Read, CaseAccess::Act) => Err(ApiError::refused(Why::new("refused.case_read_only"))),
        _ => Ok(()),
    }
}

/// Applies a checked change as `actor` (a user's email, or `api`), mails a reply, and tells
/// the webhooks.
async fn apply(state: &AppState, case: &Case, actor: &str, change: CaseChange) -> Result<Case, ApiError> {
    let mut change = change;
    if let CaseChange::Reply { subject, body } = &mut change {
        if subject.trim().is_empty() || body.trim().is_empty() {
            return Err(ApiError::invalid("reply", Why::new("invalid.reply_needs_text")));
        }
        let has_email = match &case.contact_id {
            Some(c) => state.store.get_contact(c).await?.and_then(|c| c.email).is_some(),
            None => false,
        };
        if !has_email {
            return Err(ApiError::invalid("reply", Why::new("invalid.reply_no_email")));
        }
        if body.contains("{code}") {
            // A token of apology: the next unused code uploaded for detractors (the same one
            // if this answer got one before); the step is then done.
            let code = state.store.reward_code_for(&case.survey_id, "detractor", &case.response_id).await?;
            let code = code.ok_or_else(|| ApiError::invalid("reply", Why::new("invalid.no_codes_left")))?;
            *body = body.replace("{code}", &code);
            state.store.change_case(&case.id, actor, &CaseChange::Step { step: "token".into(), done: true }).await?;
        }
    }
    let (case, event_id) = state.store.change_case(&case.id, actor, &change).await?;
    if matches!(change, CaseChange::Reply { .. }) {
        // The message is kept on the case either way; without a mail server it is recorded
        // as not sent, so neither the history nor the loop report claims a contact.
        if !state.can_mail() {
            state.store.reply_result(&event_id, ReplyState::Failed, hark_jobs::NO_MAIL_SERVER).await?;
            return Err(ApiError::invalid("reply", Why::new("invalid.reply_no_mail_server")));
        }
        hark_jobs::queue_reply(&state.store, &case.id, &event_id).await?;
    }
    let event = if case.status == CaseStatus::Closed && matches!(change, CaseChange::Close { .. }) {
        "case.closed"
    } else {
        "case.changed"
    };
    let response = state.store.get_response(&case.response_id).await?;
    let link = format!("/admin/cases/{}", case.id);
    let payload = hark_store::case_payload(&case, response.as_ref(), &link);
    state.store.queue_deliveries(event, &format!("{}:{event_id}", case.id), &payload, None).await?;
    state.wake_jobs();
    Ok(case)
}

/// Figures for a group of cases (all, one team, one owner).
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct LoopFigures {
    pub opened: u64,
    pub closed: u64,
    pub open_now: u64,
    pub overdue_now: u64,
    /// Cases in which someone reached the customer: a reply the mail server accepted, or a
    /// call or meeting logged as reaching them. Queued or failed replies do not count.
    pub contacted: u64,
    /// Closed cases in which nobody ever reached the customer.
    pub closed_without_contact: u64,
    /// Median hours from opening to the first contact with the customer (cases contacted).
    pub median_hours_to_first_contact: Option<f64>,
    /// Median hours from opening to closing (closed cases).
    pub median_hours_to_close: Option<f64>,
    /// Closed cases closed by their due date after reaching the customer, as a percentage of
    /// closed cases.
    pub closed_on_time_percent: Option<f64>,
    pub outcomes: BTreeMap<String, u64>,
}

/// How customers answered the next time after their case was closed, on a survey of the same
/// kind as the answer the case is about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ScoreMovement {
    /// Closed cases whose customer answered again afterwards.
    pub answered_again: u64,
    /// (segment before → segment after) → count, e.g. `detractor→promoter`.
    pub moves: BTreeMap<String, u64>,
    /// Detractors who came back as passives or promoters, as a percentage of those who answered again.
    pub recovered_percent: Option<f64>,
    /// The same share with its counts and 95% interval: `n` detractors answered again, `hits`
    /// of them came back as passives or promoters.
    pub recovered: ProportionSummary,
    pub mean_score_change: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LoopReport {
    pub overall: LoopFigures,
    /// By team id (`none` for cases without a team).
    pub by_team: BTreeMap<String, LoopFigures>,
    /// By owner user id (`unassigned`).
    pub by_owner: BTreeMap<String, LoopFigures>,
    /// The closed cases by the root cause recorded when they were closed (`none` where none
    /// was): what the unhappy customers' problems came down to.
    pub by_root_cause: BTreeMap<String, LoopFigures>,
    pub after_close: ScoreMovement,
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (1000.0 * part as f64 / whole as f64).round() / 10.0)
}

fn figures(cases: &[&Case], now: i64) -> LoopFigures {
    const HOUR: f64 = 3_600_000.0;
    let closed: Vec<&&Case> = cases.iter().filter(|c| c.closed_at.is_some()).collect();
    let mut outcomes = BTreeMap::new();
    for c in &closed {
        if let Some(o) = c.outcome {
            *outcomes.entry(o.as_str().to_owned()).or_default() += 1;
        }
    }
    let on_time =
        closed.iter().filter(|c| c.first_contact_at.is_some() && c.closed_at.is_some_and(|t| t <= c.due_at)).count()
            as u64;
    let round = |h: Option<f64>| h.map(|h| (h * 10.0).round() / 10.0);
    LoopFigures {
        opened: cases.len() as u64,
        closed: closed.len() as u64,
        open_now: cases.iter().filter(|c| c.closed_at.is_none()).count() as u64,
        overdue_now: cases.iter().filter(|c| c.closed_at.is_none() && c.due_at < now).count() as u64,
        contacted: cases.iter().filter(|c| c.first_contact_at.is_some()).count() as u64,
        closed_without_contact: closed.iter().filter(|c| c.first_contact_at.is_none()).count() as u64,
        median_hours_to_first_contact: round(median(
            cases.iter().filter_map(|c| c.first_contact_at.map(|t| (t - c.created_at) as f64 / HOUR)).collect(),
        )),
        median_hours_to_close: round(median(
            closed.iter().filter_map(|c| c.closed_at.map(|t| (t - c.created_at) as f64 / HOUR)).collect(),
        )),
        closed_on_time_percent: percent(on_time, closed.len() as u64),
        outcomes,
    }
}

/// The report over cases opened in `[from, to)` (epoch ms; `None`: unbounded) within `reach`
/// (`None`: every case).
pub(crate) async fn loop_report(
    state: &AppState,
    from: Option<i64>,
    to: Option<i64>,
    reach: Option<CaseReach>,
) -> Result<LoopReport, StoreError> {
    let now = jiff::Timestamp::now().as_millisecond();
    let opened = CaseFilter { opened: (from, to), reach, ..Default::default() };
    let all = state.store.list_cases(&opened, 1_000_000).await?;
    // Held cases (a suspected flood) count only once someone releases them.
    let cases: Vec<&Case> = all.iter().filter(|c| c.status != CaseStatus::Held).collect();
    let group = |cases: &[&Case], key: fn(&Case) -> String| {
        let mut groups: BTreeMap<String, Vec<&Case>> = BTreeMap::new();
        for c in cases {
            groups.entry(key(c)).or_default().push(c);
        }
        groups.into_iter().map(|(k, v)| (k, figures(&v, now))).collect::<BTreeMap<_, _>>()
    };
    let by_team = group(&cases, |c| c.team_id.clone().unwrap_or_else(|| "none".into()));
    let by_owner = group(&cases, |c| c.owner_id.clone().unwrap_or_else(|| "unassigned".into()));
    let closed: Vec<&Case> = cases.iter().copied().filter(|c| c.closed_at.is_some()).collect();
    let by_root_cause = group(&closed, |c| c.root_cause.clone().unwrap_or_else(|| "none".into()));
    let (mut answered_again, mut moves, mut change_sum) = (0u64, BTreeMap::new(), 0i64);
    let (mut recovered, mut was_detractor) = (0u64, 0u64);
    for AnsweredAgain { before, after } in state.store.answers_after_close(&opened).await? {
        answered_again += 1;
        change_sum += after.0 - before.0;
        *moves.entry(format!("{}→{}", before.1.as_str(), after.1.as_str())).or_default() += 1;
        if before.1 == Segment::Detractor {
            was_detractor += 1;
            recovered += u64::from(after.1 != Segment::Detractor);
        }
    }
    let movement = ScoreMovement {
        answered_again,
        moves,
        recovered_percent: percent(recovered, was_detractor),
        recovered: ProportionSummary::wilson(recovered, was_detractor),
        mean_score_change: (answered_again > 0)
            .then(|| (100.0 * change_sum as f64 / answered_again as f64).round() / 100.0),
    };
    Ok(LoopReport { overall: figures(&cases, now), by_team, by_owner, by_root_cause, after_close: movement })
}

pub(crate) fn parse_outcome(s: &str) -> Result<CaseOutcome, ApiError> {
    CaseOutcome::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "outcome",
            Why::new("invalid.one_of").with("values", "resolved, unresolved, no_reply, no_contact"),
        )
    })
}

pub(crate) fn parse_status(s: &str) -> Result<CaseStatus, ApiError> {
    CaseStatus::parse(s).ok_or_else(|| {
        ApiError::invalid(
            "status",
            Why::new("invalid.one_of").with("values", "open, in_progress, waiting, closed, held"),
        )
    })
}

// ----- reading actions and filters from the API and the pages alike -----

pub(crate) fn case_filter(q: &[(String, String)]) -> Result<(CaseFilter, i64), ApiError> {
    let mut filter = CaseFilter::default();
    let mut rest = Vec::new();
    let flag = |k: &str, v: &str| match v {
        "true" | "1" => Ok(true),
        "false" | "0" | "" => Ok(false),
        _ => Err(ApiError::field(k, "true or false")),
    };
    for (k, v) in q {
        let value = Some(v.clone()).filter(|v| !v.is_empty());
        match k.as_str() {
            "status" if !v.is_empty() => filter.status = Some(parse_status(v)?),
            "status" => {}
            "owner_id" => filter.owner_id = value,
            "team_id" => filter.team_id = value,
            "contact_id" => filter.contact_id = value,
            "overdue" => filter.overdue = flag(k, v)?,
            "open" => filter.open_only = flag(k, v)?,
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let (_, limit) = filters::page(&rest)?;
    Ok((filter, limit))
}

/// One action on a case.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum CaseAction {
    /// `open` (also releases a held case), `in_progress` or `waiting` (close with `close`).
    Status {
        status: String,
    },
    /// A user id, or null to unassign.
    Assign {
        owner_id: Option<String>,
    },
    /// `listen`, `apologise`, `fix`, `tell`, `token`.
    Step {
        step: String,
        done: bool,
    },
    /// Mail the customer from Hark; recorded on the case as queued, then sent (with the mail
    /// server's answer) or failed (with the reason).
    Reply {
        subject: String,
        body: String,
    },
    /// A call or meeting with the customer (`channel`: `call` or `meeting`); `reached`: whether
    /// it reached them (only then is it a contact).
    Contact {
        channel: String,
        reached: bool,
        note: String,
    },
    Note {
        body: String,
    },
    RootCause {
        root_cause: String,
    },
    /// `resolved`, `unresolved`, `no_reply` or `no_contact` (no way to reach the customer).
    Close {
        outcome: String,
        root_cause: Option<String>,
    },
}

/// Checks an action against the case and the stored people and turns it into a change.
pub(crate) async fn case_change(s: &AppState, case: &Case, action: CaseAction) -> ApiResult<CaseChange> {
    Ok(match action {
        CaseAction::Status { status } => CaseChange::Status(parse_status(&status)?),
        CaseAction::Assign { owner_id } => {
            if let Some(owner) = &owner_id
                && s.store.get_user(owner).await?.is_none()
            {
                return Err(ApiError::invalid("owner_id", Why::new("invalid.no_such_user")));
            }
            CaseChange::Assign(owner_id)
        }
        CaseAction::Step { step, done } => CaseChange::Step { step, done },
        CaseAction::Reply { subject, body } => CaseChange::Reply { subject, body },
        CaseAction::Contact { channel, reached, note } => CaseChange::Contacted { channel, reached, note },
        CaseAction::Note { body } if body.trim().is_empty() => {
            return Err(ApiError::invalid("body", Why::new("invalid.empty")));
        }
        CaseAction::Note { body } => CaseChange::Note(body),
        CaseAction::RootCause { root_cause } => CaseChange::RootCause(root_cause_of(s, case, &root_cause).await?),
        CaseAction::Close { outcome, root_cause } => {
            let root_cause = match root_cause.filter(|r| !r.is_empty()) {
                Some(r) => Some(root_cause_of(s, case, &r).await?),
                None => None,
            };
            CaseChange::Close { outcome: parse_outcome(&outcome)?, root_cause }
        }
    })
}

async fn root_cause_of(s: &AppState, case: &Case, cause: &str) -> ApiResult<String> {
    let survey = s.store.get_survey(&case.survey_id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    if survey.definition.root_causes.iter().any(|c| c == cause) {
        Ok(cause.to_owned())
    } else {
        Err(ApiError::invalid(
            "root_cause",
            Why::new("invalid.one_of").with("values", survey.definition.root_causes.join(", ")),
        ))
    }
}

/// `from` and `to`, dates of `zone` or instants.
pub(crate) fn period(
    q: &[(String, String)],
    zone: &jiff::tz::TimeZone,
) -> Result<(Option<i64>, Option<i64>), ApiError> {
    let mut out = (None, None);
    for (k, v) in q {
        match k.as_str() {
            "from" if !v.is_empty() => {
                out.0 = Some(filters::parse_time(v, false, zone).map_err(|why| ApiError::invalid("from", why))?)
            }
            "to" if !v.is_empty() => {
                out.1 = Some(filters::parse_time(v, true, zone).map_err(|why| ApiError::invalid("to", why))?)
            }
            "from" | "to" => {}
            other => return Err(ApiError::field(other, "unknown parameter; use `from` and `to`")),
        }
    }
    Ok(out)
}

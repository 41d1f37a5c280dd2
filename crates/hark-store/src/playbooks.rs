//! A new answer's playbook, run in the answer's own group commit where it needs nothing but
//! the database: open and assign its case, queue the mails it asks for. One transaction and
//! one fsync then cover a whole batch of answers and their follow-up, where a job per answer
//! took a transaction of its own. The writer queues the webhook deliveries about them in the
//! same commit. What needs more is left to the playbook job: round robin, and the flood budget
//! of the public doors.

use std::collections::HashMap;
use std::sync::Arc;

use hark_core::playbook::{Facts, Playbooks};
use serde_json::{Map, Value, json};
use sqlx::AnyConnection;

use crate::cases::{insert_cases, pick_owner};
use crate::entities::get_contacts_on;
use crate::jobs::{NewJob, enqueue_on};
use crate::{CASE_MAIL_JOB, Response, Result, Team, User};

/// What a mail about a case or an answer is about (the `kind` of a [`CASE_MAIL_JOB`]).
pub const MAIL_CASE_OPENED: &str = "case_opened";
pub const MAIL_AUTO: &str = "auto";

/// The job that sends a mail of `kind` about `key` (a case, an answer) once, however often it
/// is queued.
pub fn case_mail_job(kind: &str, key: &str, mut payload: Value, now: i64) -> NewJob {
    payload["kind"] = Value::String(kind.to_owned());
    NewJob::new(CASE_MAIL_JOB, payload, now).dedupe(format!("mail:{kind}:{key}"))
}

/// What [`run_on`] did: the answers left to the playbook job, and the cases it opened.
pub(crate) struct Ran {
    pub left: Vec<String>,
    pub opened: Vec<crate::Case>,
}

/// Runs the playbooks of these newly stored answers in the caller's transaction.
pub(crate) async fn run_on(
    tx: &mut AnyConnection,
    dialect: crate::Dialect,
    answers: &[(Response, Arc<Playbooks>)],
) -> Result<Ran> {
    let contact_ids: Vec<String> = answers.iter().filter_map(|(r, _)| r.contact_id.clone()).collect();
    let contacts: HashMap<String, crate::Contact> =
        get_contacts_on(&mut *tx, dialect, &contact_ids).await?.into_iter().map(|c| (c.id.clone(), c)).collect();
    // Read once per batch, and only when a case needs them.
    let mut users: Option<Vec<User>> = None;
    let mut teams: Option<Vec<Team>> = None;
    let no_attributes = Map::new();
    let mut left = Vec::new();
    // (case, whether to tell its owner): opened together after the loop.
    let mut opening: Vec<(crate::NewCase, bool)> = Vec::new();
    let mut mails = Vec::new();
    'answers: for (response, playbooks) in answers {
        let contact = response.contact_id.as_ref().and_then(|id| contacts.get(id));
        let attributes = contact.map_or(&no_attributes, |c| &c.attributes);
        let decision = playbooks.decide(&Facts {
            score: response.score,
            segment: response.segment,
            comment: response.comment.as_deref(),
            agent_score: response.agent_score,
            attributes,
        });
        let now = crate::now_ms();
        if decision.playbook.open_case {
            let public = response.contact_id.is_none() && matches!(response.channel.as_str(), "link" | "widget");
            if public {
                left.push(response.id.clone());
                continue;
            }
            let team_id = match (&response.team_id, &playbooks.case_team) {
                (Some(team), _) => Some(team.clone()),
                (None, Some(name)) => {
                    if teams.is_none() {
                        teams = Some(crate::entities::list_teams_on(&mut *tx).await?);
                    }
                    teams.iter().flatten().find(|t| &t.name == name).map(|t| t.id.clone())
                }
                (None, None) => None,
            };
            if users.is_none() {
                users = Some(crate::cases::active_users_on(&mut *tx).await?);
            }
            let mut owner = None;
            for rule in decision.owner_rules(playbooks) {
                match pick_owner(&rule, team_id.as_deref(), attributes, users.as_deref().unwrap_or_default()) {
                    None => {
                        left.push(response.id.clone());
                        continue 'answers;
                    }
                    Some(None) => {}
                    Some(picked) => {
                        owner = picked;
                        break;
                    }
                }
            }
            let new = crate::NewCase::for_answer(response, &decision, team_id, owner.map(|u| u.id), None);
            opening.push((new, decision.playbook.notify_owner));
        }
        if decision.playbook.mail.is_some() && contact.is_some_and(|c| c.email.is_some() && c.unsubscribed_at.is_none())
        {
            mails.push(case_mail_job(MAIL_AUTO, &response.id, json!({ "response_id": response.id }), now));
        }
    }
    let rows: Vec<_> = opening.iter().map(|(new, _)| (new, new.contact_id.as_deref(), false)).collect();
    let opened = insert_cases(&mut *tx, dialect, &rows).await?;
    for case in &opened {
        let tell = opening.iter().any(|(new, notify)| *notify && new.response_id == case.response_id);
        if tell && case.owner_id.is_some() {
            let now = crate::now_ms();
            mails.push(case_mail_job(MAIL_CASE_OPENED, &case.id, json!({ "case_id": case.id }), now));
        }
    }
    for job in &mails {
        enqueue_on(&mut *tx, job).await?;
    }
    Ok(Ran { left, opened })
}

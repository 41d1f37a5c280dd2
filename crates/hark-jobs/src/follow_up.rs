//! Closing the loop, as jobs: the playbook for each new answer (open and assign a case,
//! notify its owner, thank or reward the customer), mails about cases, webhook deliveries
//! (signed, retried), and the escalation of overdue cases.

use hark_core::i18n::{self, Locale};
use hark_core::playbook::{Assign, Decision, Facts};
use hark_core::survey::SurveyDefinition;
use hark_core::token::TokenKind;
use hark_store::{
    Case, CaseStatus, NewCase, ReplyState, Response, Role, Store, StoreError, User, case_payload, response_payload,
};
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use crate::mail::MailError;
use crate::monitoring::ALERT_MAIL;
use crate::runner::{Outcome, Runner};

/// What a case mail is about.
pub(crate) const OPENED: &str = hark_store::MAIL_CASE_OPENED;
pub(crate) const ESCALATED: &str = "case_escalated";
pub(crate) const REPLY: &str = "reply";
pub(crate) const AUTO: &str = hark_store::MAIL_AUTO;

/// What the survey's playbooks decide for a stored answer by a contact with `attributes`.
pub fn playbook_decision<'a>(
    def: &'a SurveyDefinition,
    response: &Response,
    attributes: &Map<String, Value>,
) -> Decision<'a> {
    def.playbooks.decide(&Facts {
        score: response.score,
        segment: response.segment,
        comment: response.comment.as_deref(),
        agent_score: response.agent_score,
        attributes,
    })
}

/// Queues a person's reply to the customer of a case, recorded as history entry
/// `reply_event_id` (whose state the mail job then sets to sent or failed).
pub async fn queue_reply(store: &Store, case_id: &str, reply_event_id: &str) -> Result<bool, StoreError> {
    queue_mail(store, REPLY, reply_event_id, json!({ "case_id": case_id, "reply_event_id": reply_event_id })).await
}

/// Why nothing can be mailed.
pub const NO_MAIL_SERVER: &str = "no mail server is configured (HARK_SMTP_URL)";

/// Queues a mail about a case or an answer as a job of its own, so that a mail failure is
/// retried alone and a repeat (same `key`) sends nothing twice.
pub(crate) async fn queue_mail(store: &Store, kind: &str, key: &str, payload: Value) -> Result<bool, StoreError> {
    store.enqueue(&hark_store::case_mail_job(kind, key, payload, jiff::Timestamp::now().as_millisecond())).await
}

/// A moment as a staff mail states it: to the minute, in the reader's language and zone, named.
pub(crate) fn staff_time(t: &Locale, zone: &TimeZone, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|at| t.datetime(&at.to_zoned(zone.clone()))).unwrap_or_default()
}

fn text_field(payload: &Value, key: &str) -> String {
    payload.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

impl Runner {
    pub(crate) fn admin_url(&self, path: &str) -> String {
        format!("{}{path}", self.config.public_url.trim_end_matches('/'))
    }

    /// Runs the survey's playbook for a new answer. Safe to run again: the case is unique
    /// per answer, and mails and webhooks are keyed by what they are about.
    pub(crate) async fn run_playbook(&self, response_id: &str) -> Result<Outcome, StoreError> {
        let store = &self.store;
        let Some(response) = store.get_response(response_id).await? else {
            return Ok(Outcome::Fail(format!("response {response_id} no longer exists")));
        };
        let Some(survey) = store.get_survey(&response.survey_id).await? else { return Ok(Outcome::Done) };
        let contact = match &response.contact_id {
            Some(id) => store.get_contact(id).await?,
            None => None,
        };
        let attributes = contact.as_ref().map(|c| c.attributes.clone()).unwrap_or_default();
        let decision = playbook_decision(&survey.definition, &response, &attributes);
        // An anonymous answer has no contact page to open.
        let link = response.contact_id.as_deref().map_or_else(String::new, |c| format!("/admin/contacts/{c}"));
        store
            .queue_deliveries(
                "response.created",
                &format!("response:{}", response.id),
                &response_payload(&response, &survey.definition.name, &link),
                None,
            )
            .await?;
        if decision.playbook.open_case {
            // A burst of anonymous answers through the public link or widget may be a flood:
            // past the survey's hourly budget their cases are held, and nobody is told.
            let public = response.contact_id.is_none() && matches!(response.channel.as_str(), "link" | "widget");
            let playbooks = &survey.definition.playbooks;
            let team_id = match (&response.team_id, &playbooks.case_team) {
                (Some(team), _) => Some(team.clone()),
                (None, Some(name)) => store.list_teams().await?.into_iter().find(|t| &t.name == name).map(|t| t.id),
                (None, None) => None,
            };
            let rules = decision.owner_rules(playbooks);
            let owner = self.assign(&rules, team_id.as_deref(), &attributes).await?;
            let budget = public.then_some(self.config.public_cases_per_hour);
            let new = NewCase::for_answer(&response, &decision, team_id, owner.map(|u| u.id), budget);
            let (case, created) = store.open_case(&new).await?;
            if created && case.status == CaseStatus::Held {
                tracing::warn!(survey = %survey.id, case = %case.id, "case held for review: a burst of anonymous answers");
            }
            // Also when the case was there already: a run cut short after opening it (a crash)
            // must still tell its owner and the webhooks. Both are keyed by the case, so a
            // full second run adds nothing.
            if case.status != CaseStatus::Held {
                let link = format!("/admin/cases/{}", case.id);
                store
                    .queue_deliveries(
                        "case.opened",
                        &format!("case-opened:{}", case.id),
                        &case_payload(&case, Some(&response), &link),
                        None,
                    )
                    .await?;
                // An unassigned case has nobody to tell yet (the inbox shows it as unassigned).
                if decision.playbook.notify_owner && case.owner_id.is_some() {
                    queue_mail(store, OPENED, &case.id, json!({ "case_id": case.id })).await?;
                }
            }
        }
        if decision.playbook.mail.is_some()
            && contact.as_ref().is_some_and(|c| c.email.is_some() && c.unsubscribed_at.is_none())
        {
            queue_mail(store, AUTO, &response.id, json!({ "response_id": response.id })).await?;
        }
        self.wake();
        Ok(Outcome::Done)
    }

    /// Everyone who may still be given work (deactivated accounts keep only their history).
    async fn active_users(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.store.list_users().await?.into_iter().filter(|u| u.deactivated_at.is_none()).collect())
    }

    /// The owner the first of `rules` that picks someone picks; `None` leaves the case
    /// unassigned for a lead to take.
    async fn assign(
        &self,
        rules: &[Assign],
        team_id: Option<&str>,
        attributes: &Map<String, Value>,
    ) -> Result<Option<User>, StoreError> {
        let users = self.active_users().await?;
        for rule in rules {
            let owner = match (rule, hark_store::pick_owner(rule, team_id, attributes, &users)) {
                (_, Some(picked)) => picked,
                (Assign::RoundRobin { team }, None) => {
                    match self.store.list_teams().await?.into_iter().find(|t| &t.name == team) {
                        Some(team) => self.store.next_in_team(&team.id).await?,
                        None => None,
                    }
                }
                (_, None) => None,
            };
            if owner.is_some() {
                return Ok(owner);
            }
        }
        Ok(None)
    }

    /// The language and zone of a mail to staff: the person's own choice, else the language
    /// their browser asked for when they last signed in, else `language` (if Hark has it, else
    /// English) and the organisation's zone.
    pub(crate) fn staff_reader(&self, person: Option<&User>, language: Option<&str>) -> (&'static Locale, TimeZone) {
        let locale = person
            .into_iter()
            .flat_map(|p| [p.locale.as_deref(), p.seen_locale.as_deref()])
            .flatten()
            .chain(language)
            .find_map(i18n::locale)
            .unwrap_or_else(i18n::base);
        let zone = person
            .and_then(|p| p.time_zone.as_deref())
            .and_then(|z| TimeZone::get(z).ok())
            .unwrap_or_else(|| self.config.time_zone.clone());
        (locale, zone)
    }

    /// The person a case is escalated to: the owner's team lead, else every admin.
    async fn escalation_targets(&self, case: &Case) -> Result<Vec<User>, StoreError> {
        let users = self.active_users().await?;
        let owner = case.owner_id.as_ref().and_then(|o| users.iter().find(|u| &u.id == o));
        let team = owner.and_then(|o| o.team_id.clone()).or_else(|| case.team_id.clone());
        let leads: Vec<User> = users
            .iter()
            .filter(|u| {
                u.role == Role::TeamLead && team.is_some() && u.team_id == team && Some(&u.id) != case.owner_id.as_ref()
            })
            .cloned()
            .collect();
        Ok(if leads.is_empty() { users.into_iter().filter(|u| u.role == Role::Admin).collect() } else { leads })
    }

    /// Sends one mail about a case or an answer.
    pub(crate) async fn send_case_mail(&self, payload: &Value) -> Result<Outcome, StoreError> {
        let kind = text_field(payload, "kind");
        if kind == REPLY {
            return self.send_reply(payload).await;
        }
        let Some(mailer) = &self.mailer else { return Ok(Outcome::Fail(NO_MAIL_SERVER.into())) };
        let store = &self.store;
        // (recipients, subject, body)
        let mut mails: Vec<(Option<String>, String, String, String)> = Vec::new();
        if kind == AUTO {
            let id = text_field(payload, "response_id");
            let Some(response) = store.get_response(&id).await? else { return Ok(Outcome::Done) };
            let Some(survey) = store.get_survey(&response.survey_id).await? else { return Ok(Outcome::Done) };
            let Some(contact) = (match &response.contact_id {
                Some(c) => store.get_contact(c).await?,
                None => None,
            }) else {
                return Ok(Outcome::Done);
            };
            let (Some(email), None) = (contact.email.clone(), contact.unsubscribed_at) else {
                return Ok(Outcome::Done);
            };
            let def = &survey.definition;
            let Some(mail) = playbook_decision(def, &response, &contact.attributes).playbook.mail.clone() else {
                return Ok(Outcome::Done);
            };
            let code = if mail.reward_code {
                store.reward_code_for(&survey.id, response.segment.as_str(), &response.id).await?
            } else {
                None
            };
            let referral = mail
                .referral_url
                .as_ref()
                .map(|_| self.admin_url(&format!("/ref/{}", self.signer.sign(TokenKind::Referral, &response.id))));
            let vars = [
                ("name", contact.name.clone().unwrap_or_default()),
                ("brand", def.brand.clone()),
                ("code", code.unwrap_or_default()),
                ("referral_link", referral.unwrap_or_default()),
            ];
            let fill = |t: &str| vars.iter().fold(t.to_owned(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v));
            // In the language the customer answered in (else their own, else the survey's).
            let lang = def.choose_language(response.language.iter().chain(&contact.locale).map(String::as_str));
            let (subject, body) = mail.wording(def.texts(&lang).locale);
            mails.push((contact.name.clone(), email, fill(&subject), fill(&body)));
        } else if kind == ALERT_MAIL {
            let [to, subject, body] = ["to", "subject", "body"].map(|k| text_field(payload, k));
            mails.push((None, to, subject, body));
        } else {
            let case_id = text_field(payload, "case_id");
            let Some(case) = store.get_case(&case_id).await? else { return Ok(Outcome::Done) };
            let response = store.get_response(&case.response_id).await?;
            let contact = match &case.contact_id {
                Some(c) => store.get_contact(c).await?,
                None => None,
            };
            let customer = contact.as_ref().map(|c| c.name.clone().unwrap_or_else(|| c.external_id.clone()));
            let link = self.admin_url(&format!("/admin/cases/{}", case.id));
            // Staff who chose no language read the survey's, as its customers do.
            let survey_language = store.get_survey(&case.survey_id).await?.map(|s| s.definition.default_locale);
            let recipients = match kind.as_str() {
                OPENED => match &case.owner_id {
                    Some(o) => store.get_user(o).await?.into_iter().collect(),
                    None => Vec::new(),
                },
                ESCALATED => self.escalation_targets(&case).await?,
                other => return Ok(Outcome::Fail(format!("unknown mail kind `{other}`"))),
            };
            for person in recipients {
                let (t, zone) = self.staff_reader(Some(&person), survey_language.as_deref());
                let who = customer.clone().unwrap_or_else(|| t.text("mail.a_customer").to_owned());
                let summary = response.as_ref().map_or(String::new(), |r| {
                    let comment = r.comment.clone().unwrap_or_else(|| t.text("mail.no_comment").to_owned());
                    let segment = t.text(&format!("segment.{}", r.segment.as_str())).to_owned();
                    t.fill(
                        "mail.case_summary",
                        &[("score", &r.score.to_string()), ("segment", &segment), ("comment", &comment)],
                    )
                });
                let due = staff_time(t, &zone, case.due_at);
                let vars = [("who", who.as_str()), ("summary", &summary), ("due", &due), ("link", &link)];
                let (subject, body) = if kind == OPENED {
                    let priority = t.text(&format!("priority.{}", case.priority.as_str())).to_owned();
                    let subject = t.fill("mail.case_new_subject", &[("priority", &priority), ("who", &who)]);
                    (subject, t.fill("mail.case_new_body", &vars))
                } else {
                    let status = t.text(&format!("status.{}", case.status.as_str())).to_owned();
                    let mut vars = vars.to_vec();
                    vars.push(("status", &status));
                    (t.fill("mail.case_overdue_subject", &vars), t.fill("mail.case_overdue_body", &vars))
                };
                mails.push((person.name.clone(), person.email.clone(), subject, body));
            }
        }
        for (name, to, subject, body) in &mails {
            match mailer.send_text(name.as_deref(), to, subject, body).await {
                Ok(_) => {}
                Err(MailError::Permanent(e)) => {
                    metrics::counter!("hark_mail_failures_total", "mail" => "notice").increment(1);
                    tracing::warn!(error = %e, "mail refused")
                }
                Err(e) => {
                    metrics::counter!("hark_mail_failures_total", "mail" => "notice").increment(1);
                    return Ok(Outcome::Retry(e.to_string()));
                }
            }
        }
        Ok(Outcome::Done)
    }

    /// Mails a person's reply to the customer of a case and records on the reply whether the
    /// mail server took it (with its answer) or why not. A person's answer to a complaint is
    /// not a survey: it goes even to the unsubscribed.
    async fn send_reply(&self, payload: &Value) -> Result<Outcome, StoreError> {
        let store = &self.store;
        let event_id = &text_field(payload, "reply_event_id");
        let failed = |reason: String| async move {
            store.reply_result(event_id, ReplyState::Failed, &reason).await?;
            Ok::<_, StoreError>(Outcome::Fail(reason))
        };
        let Some(mailer) = &self.mailer else { return failed(NO_MAIL_SERVER.into()).await };
        let Some(reply) = store.case_event(event_id).await? else { return Ok(Outcome::Done) };
        if reply.detail["state"] != ReplyState::Queued.as_str() {
            return Ok(Outcome::Done);
        }
        let contact = match store.get_case(&reply.case_id).await?.and_then(|c| c.contact_id) {
            Some(c) => store.get_contact(&c).await?,
            None => None,
        };
        let Some((name, email)) = contact.and_then(|c| Some((c.name, c.email?))) else {
            return failed("the customer has no email address".into()).await;
        };
        let text = |k: &str| reply.detail[k].as_str().unwrap_or_default().to_owned();
        match mailer.send_text(name.as_deref(), &email, &text("subject"), &text("body")).await {
            Ok(answer) => {
                store.reply_result(event_id, ReplyState::Sent, &answer).await?;
                Ok(Outcome::Done)
            }
            Err(MailError::Permanent(e)) => {
                metrics::counter!("hark_mail_failures_total", "mail" => "reply").increment(1);
                failed(format!("the mail server refused it: {e}")).await
            }
            Err(e) => {
                metrics::counter!("hark_mail_failures_total", "mail" => "reply").increment(1);
                store.reply_result(event_id, ReplyState::Queued, &format!("not sent yet, retrying: {e}")).await?;
                Ok(Outcome::Retry(e.to_string()))
            }
        }
    }

    /// Delivers one webhook call, signed; a non-2xx answer or no answer is retried.
    pub(crate) async fn deliver_webhook(&self, delivery_id: &str) -> Result<Outcome, StoreError> {
        let store = &self.store;
        let Some(delivery) = store.get_delivery(delivery_id).await? else { return Ok(Outcome::Done) };
        let Some(hook) = store.get_webhook(&delivery.webhook_id).await? else { return Ok(Outcome::Done) };
        if delivery.status == "delivered" {
            return Ok(Outcome::Done);
        }
        let mut delivery = delivery;
        // A payload queued in an answer's own transaction links by path: made whole here.
        if let Some(Value::String(link)) = delivery.payload.get_mut("link")
            && link.starts_with('/')
        {
            *link = self.admin_url(link);
        }
        let body = match hook.kind.as_str() {
            "slack" => json!({ "text": slack_text(&delivery.event, &delivery.payload) }).to_string(),
            "card" => match fill_json_template(hook.template.as_deref().unwrap_or("{}"), &delivery.event, &delivery.payload) {
                Ok(body) => body,
                Err(e) => return Ok(Outcome::Fail(e)),
            },
            _ => json!({ "id": delivery.id, "event": delivery.event, "created_at": delivery.created_at, "data": delivery.payload })
                .to_string(),
        };
        if let Err(refused) = self.config.outbound.check_url(&hook.url) {
            store.record_failed_attempt(&delivery.id, None, &refused).await?;
            return Ok(Outcome::Fail(refused));
        }
        let Some(_hold) = self.hold(&format!("webhook:{}", hook.id), crate::runner::PER_WEBHOOK).await else {
            return Ok(Outcome::Postpone);
        };
        let timestamp = jiff::Timestamp::now().as_second();
        let signature = hark_core::auth::webhook_signature(&hook.secret, timestamp, body.as_bytes());
        let sent = self
            .http
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("x-hark-event", &delivery.event)
            .header("x-hark-delivery", &delivery.id)
            .header("x-hark-timestamp", timestamp.to_string())
            .header("x-hark-signature", signature)
            .body(body)
            .send()
            .await;
        let (code, error) = match sent {
            Ok(r) if r.status().is_success() => {
                return Ok(Outcome::Delivered(delivery.id, i64::from(r.status().as_u16())));
            }
            Ok(r) => (Some(i64::from(r.status().as_u16())), format!("the receiver answered {}", r.status())),
            Err(e) => (None, delivery_error(&e)),
        };
        store.record_failed_attempt(&delivery.id, code, &error).await?;
        metrics::counter!("hark_webhook_failures_total").increment(1);
        Ok(Outcome::Retry(error))
    }

    /// Escalates every overdue case once and queues the mails and webhooks about it.
    pub(crate) async fn escalate(&self) -> Result<usize, StoreError> {
        let cases = self.store.escalate_overdue().await?;
        for case in &cases {
            queue_mail(&self.store, ESCALATED, &case.id, json!({ "case_id": case.id })).await?;
            let link = format!("/admin/cases/{}", case.id);
            self.store
                .queue_deliveries(
                    "case.changed",
                    &format!("case-escalated:{}", case.id),
                    &case_payload(case, None, &link),
                    None,
                )
                .await?;
        }
        Ok(cases.len())
    }
}

/// Why a call got no answer, in words that say nothing about the network behind the
/// target (the log must not serve as a port scanner).
fn delivery_error(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(inner) = source {
        if inner.to_string() == crate::outbound::REFUSED {
            return crate::outbound::REFUSED.to_owned();
        }
        source = inner.source();
    }
    if e.is_timeout() { "no answer in time".into() } else { "no answer: the receiver could not be reached".into() }
}

/// A readable Slack line for an event.
fn slack_text(event: &str, payload: &Value) -> String {
    let link = payload.get("link").and_then(Value::as_str).unwrap_or_default();
    let r = payload.get("response").filter(|r| !r.is_null());
    let score = r.and_then(|r| r.get("score")).map(|s| s.to_string()).unwrap_or_default();
    let segment = r.and_then(|r| r.get("segment")).and_then(Value::as_str).unwrap_or_default();
    let comment = r.and_then(|r| r.get("comment")).and_then(Value::as_str).unwrap_or_default();
    let what = match event {
        "response.created" => format!("New answer: *{score}* ({segment})"),
        "case.opened" => format!("Case opened: *{score}* ({segment})"),
        "case.closed" => "Case closed".to_owned(),
        "case.changed" => "Case changed".to_owned(),
        "test" => "Test message from Hark".to_owned(),
        "digest" => slack_escape(payload.get("text").and_then(Value::as_str).unwrap_or_default()),
        other => other.to_owned(),
    };
    // Customer text is escaped, so `<!channel>` or `<https://evil|Open in Hark>` stays text.
    let comment = if comment.is_empty() { String::new() } else { format!(" “{}”", slack_escape(comment)) };
    if link.is_empty() {
        format!("{what}{comment}")
    } else {
        format!("{what}{comment} <{}|Open in Hark>", slack_escape(link))
    }
}

/// Slack's mrkdwn reads `&`, `<` and `>` as markup; these are its escapes.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Fills `{{event}}` and `{{path.to.field}}` in a JSON template with the payload's values
/// (as JSON string content), and checks that the result is JSON.
pub fn fill_json_template(template: &str, event: &str, payload: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else { break };
        out.push_str(&rest[..start]);
        let path = rest[start + 2..start + 2 + len].trim();
        let value = if path == "event" {
            Value::String(event.to_owned())
        } else {
            path.split('.').try_fold(payload, |v, key| v.get(key)).cloned().unwrap_or(Value::Null)
        };
        let text = match value {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let quoted = Value::String(text).to_string();
        out.push_str(&quoted[1..quoted.len() - 1]);
        rest = &rest[start + 2 + len + 2..];
    }
    out.push_str(rest);
    serde_json::from_str::<Value>(&out).map_err(|e| format!("the card template is not JSON once filled: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_templates_fill_escaped_values() {
        let payload = json!({"response": {"score": 3, "comment": "said \"no\"\nthen left"}, "link": "http://h/x"});
        let body = fill_json_template(
            r#"{"name": "NPS {{response.score}}: {{response.comment}}", "desc": "{{link}} {{missing}}", "e": "{{event}}"}"#,
            "case.opened",
            &payload,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["name"], "NPS 3: said \"no\"\nthen left");
        assert_eq!(v["desc"], "http://h/x ");
        assert_eq!(v["e"], "case.opened");
        assert!(fill_json_template("{\"a\": {{link}}}", "x", &payload).is_err(), "unquoted placeholders make bad JSON");
        assert!(slack_text("case.opened", &payload).contains("<http://h/x|Open in Hark>"));
        let hostile = json!({"response": {"score": 0, "comment": "<!channel> see <https://evil|Open in Hark> & more"}});
        let text = slack_text("response.created", &hostile);
        assert!(text.contains("&lt;!channel&gt; see &lt;https://evil|Open in Hark&gt; &amp; more"), "{text}");
        assert!(!text.contains('<'), "no markup from customer text and no link without a contact: {text}");
    }
}

//! The customer-facing survey pages. No framework and no third-party requests; every step
//! is a plain form, so the pages work with JavaScript off, and a few lines of script save
//! the follow-up answers as they are given when it is on.
//!
//! - `/s/{token}`: the scale. `token` is a survey's anonymous link or a personal invitation
//!   link; `?score=n` (the links inside the email) records the score on one click.
//! - `/r/{token}`: the follow-up for a stored response: score (changeable), comment, agent
//!   score, extra questions, then the thank-you.
//! - `/u/{token}`: unsubscribe, for the link in every survey mail.

mod preview;
pub(crate) mod widget;

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hark_core::survey::{QuestionType, SurveyDefinition, SurveyTexts};
use hark_core::token::TokenKind;
use hark_core::{Segment, i18n};
use hark_store::{Invitation, Response as Answer, Survey, SurveyStatus};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::guard::{ClientIp, Rate};
use crate::ingest::{ResponseInput, submit};
use crate::ops::answer::{Changes, change, score_invitation};
use crate::page::render;
use crate::problem::ApiError;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/s/{token}", get(open_link).post(choose_score))
        .route("/r/{token}", get(follow_up).post(save_follow_up))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/ref/{token}", get(referral))
        .route("/assets/follow-up.js", get(|| script(include_str!("../../assets/follow-up.js"))))
        .route("/assets/send-score.js", get(|| script(include_str!("../../assets/send-score.js"))))
        .route("/assets/staff.js", get(|| script(include_str!("../../assets/staff.js"))))
        .route("/assets/wallboard.js", get(|| script(include_str!("../../assets/wallboard.js"))))
        .merge(preview::router())
        .merge(widget::router())
}

/// The pages' scripts are files of their own, so that the Content-Security-Policy allows no
/// inline script.
async fn script(source: &'static str) -> Response {
    let headers =
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")];
    (headers, source).into_response()
}

/// A promoter's personal referral or review link: counts the click, then goes on to the
/// address the survey's playbook names.
async fn referral(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let id = state.signer.verify_kind(&token, TokenKind::Referral).ok_or_else(|| PageError::invalid(&headers))?;
    let (survey, answer) = response_and_survey(&state, &id, &headers).await?;
    let contact = match &answer.contact_id {
        Some(c) => state.store.get_contact(c).await?,
        None => None,
    };
    let attributes = contact.map(|c| c.attributes).unwrap_or_default();
    let decision = hark_jobs::playbook_decision(&survey.definition, &answer, &attributes);
    let url = decision
        .playbook
        .mail
        .as_ref()
        .and_then(|m| m.referral_url.clone())
        .ok_or_else(|| PageError::invalid(&headers))?;
    // A click counts once per client address an hour, so a script cannot inflate the count.
    let once_an_hour = Rate { count: 1, per: std::time::Duration::from_secs(3600) };
    if state.limit(&[("referral clicks", &format!("{ip}:{}", answer.id), once_an_hour)]).is_ok() {
        state.store.record_referral_click(&answer.id).await?;
    }
    Ok(Redirect::to(&url).into_response())
}

/// Layout facts every public page needs.
pub(crate) struct PageBase {
    pub lang: String,
    pub dir: &'static str,
    pub title: String,
    pub brand: String,
    /// A note above the page, in its reader's language (`lang`, text): the admin preview says
    /// what it is, in the admin's language, above the customer's page in the customer's.
    pub banner: Option<(&'static str, String)>,
}

impl PageBase {
    fn new(t: &SurveyTexts<'_>, brand: &str, title: String) -> Self {
        PageBase { lang: t.lang().into(), dir: t.locale.dir(), title, brand: brand.into(), banner: None }
    }
}

pub(crate) struct ScoreButton {
    pub n: i64,
    pub label: String,
    pub on: bool,
}

pub(crate) struct Choice {
    pub value: String,
    pub text: String,
    pub label: String,
    pub on: bool,
}

pub(crate) struct AgentBlock {
    pub question: String,
    pub choices: Vec<Choice>,
}

pub(crate) struct QuestionView {
    pub id: String,
    pub kind: &'static str,
    pub text: String,
    pub choices: Vec<Choice>,
    pub value: String,
}

#[derive(Template)]
#[template(path = "survey_score.html")]
pub(crate) struct ScorePage {
    pub page: PageBase,
    pub method: &'static str,
    pub action: String,
    pub question: String,
    pub scale: Vec<ScoreButton>,
    pub low: String,
    pub high: String,
    pub hidden: Vec<(String, String)>,
    /// Submit the pressed score as soon as the page loads (email score links).
    pub send_at_once: bool,
}

#[derive(Template)]
#[template(path = "survey_follow_up.html")]
pub(crate) struct FollowUpPage {
    pub page: PageBase,
    pub method: &'static str,
    pub action: String,
    pub hidden: Vec<(String, String)>,
    pub live_save: bool,
    pub question: String,
    pub scale: Vec<ScoreButton>,
    pub low: String,
    pub high: String,
    pub follow_up: String,
    pub comment: String,
    pub agent: Option<AgentBlock>,
    pub questions: Vec<QuestionView>,
    pub optional: String,
    pub choose_any: String,
    pub send: String,
    pub saved: String,
    pub skip_to_comment: String,
    /// "May we contact you about this?", asked where someone will follow up on the answer
    /// (its segment's playbook opens a case) and Hark has no way to reach the customer.
    pub contact: Option<ContactAsk>,
}

pub(crate) struct ContactAsk {
    pub ask: String,
    pub consent: String,
    pub email: String,
    pub phone: String,
    pub hint: String,
}

#[derive(Template)]
#[template(path = "survey_message.html")]
pub(crate) struct MessagePage {
    pub page: PageBase,
    pub heading: String,
    pub message: String,
    pub link: Option<(String, String)>,
    pub form: Option<(String, String)>,
}

fn scale(def: &SurveyDefinition, t: &SurveyTexts<'_>, current: Option<i64>) -> Vec<ScoreButton> {
    let (min, max) = def.kind.range();
    (min..=max)
        .map(|n| ScoreButton {
            n,
            label: t.ui("score_of", &[("n", &n.to_string()), ("max", &max.to_string())]),
            on: current == Some(n),
        })
        .collect()
}

pub(crate) fn score_page(
    def: &SurveyDefinition,
    t: &SurveyTexts<'_>,
    action: String,
    current: Option<i64>,
) -> ScorePage {
    let (low, high) = t.scale_ends();
    let question = t.question();
    ScorePage {
        page: PageBase::new(t, &def.brand, question.clone()),
        method: "post",
        action,
        question,
        scale: scale(def, t, current),
        low,
        high,
        hidden: Vec::new(),
        send_at_once: false,
    }
}

/// The follow-up page for an answer with `score` so far.
/// `reachable`: Hark has an email address or phone number for the answer's customer.
pub(crate) fn follow_up_page(
    def: &SurveyDefinition,
    t: &SurveyTexts<'_>,
    action: String,
    answer: &Answer,
    reachable: bool,
) -> FollowUpPage {
    let segment = def.kind.segment(answer.score);
    let contact = (def.playbooks.for_segment(segment).open_case && !reachable).then(|| ContactAsk {
        ask: t.ui("contact.ask", &[]),
        consent: t.ui("contact.consent", &[]),
        email: t.ui("contact.email", &[]),
        phone: t.ui("contact.phone", &[]),
        hint: t.ui("contact.hint", &[]),
    });
    let (low, high) = t.scale_ends();
    let choice = |value: String, text: String, label: String, on: bool| Choice { value, text, label, on };
    let agent = t.agent_question().map(|question| AgentBlock {
        question,
        choices: (0..=10)
            .map(|n| {
                let label = t.ui("score_of", &[("n", &n.to_string()), ("max", "10")]);
                choice(n.to_string(), n.to_string(), label, answer.agent_score == Some(n))
            })
            .collect(),
    });
    let questions = def
        .questions
        .iter()
        .filter(|q| q.show_if.is_empty() || q.show_if.contains(&segment))
        .map(|q| {
            let given = answer.answers.get(&q.id);
            let has = |v: &str| match given {
                Some(Value::String(s)) => s == v,
                Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(v)),
                Some(Value::Number(n)) => n.to_string() == v,
                _ => false,
            };
            let (kind, choices) = match q.kind {
                QuestionType::Rating => (
                    "rating",
                    (1..=5)
                        .map(|n| {
                            let label = t.ui("stars", &[("n", &n.to_string())]);
                            choice(n.to_string(), n.to_string(), label, has(&n.to_string()))
                        })
                        .collect(),
                ),
                QuestionType::ShortText => ("short_text", Vec::new()),
                QuestionType::SingleChoice | QuestionType::MultipleChoice => (
                    if q.kind == QuestionType::SingleChoice { "single_choice" } else { "multiple_choice" },
                    q.options
                        .iter()
                        .enumerate()
                        .map(|(i, o)| {
                            let text = t.option_text(q, i);
                            choice(o.clone(), text.clone(), text, has(o))
                        })
                        .collect(),
                ),
            };
            let value = given.and_then(Value::as_str).filter(|_| kind == "short_text").unwrap_or_default().to_owned();
            QuestionView { id: q.id.clone(), kind, text: t.question_text(q), choices, value }
        })
        .collect();
    let question = t.question();
    FollowUpPage {
        page: PageBase::new(t, &def.brand, question.clone()),
        method: "post",
        action,
        hidden: Vec::new(),
        live_save: true,
        question,
        scale: scale(def, t, Some(answer.score)),
        low,
        high,
        follow_up: t.follow_up(segment),
        comment: answer.comment.clone().unwrap_or_default(),
        agent,
        questions,
        optional: t.ui("optional", &[]),
        choose_any: t.ui("choose_any", &[]),
        send: t.ui("send", &[]),
        saved: t.ui("saved", &[]),
        skip_to_comment: t.ui("skip_to_comment", &[]),
        contact,
    }
}

/// Whether Hark can reach the customer of an answer (an email address or a phone number).
async fn reachable(state: &AppState, answer: &Answer) -> Result<bool, PageError> {
    Ok(match &answer.contact_id {
        Some(c) => state.store.get_contact(c).await?.is_some_and(|c| c.email.is_some() || c.phone.is_some()),
        None => false,
    })
}

pub(crate) fn thanks_page(def: &SurveyDefinition, t: &SurveyTexts<'_>, segment: Segment) -> MessagePage {
    let heading = t.ui("thanks_title", &[]);
    let link = match (segment, &def.promoter_link, t.promoter_link_label()) {
        (Segment::Promoter, Some(l), Some(label)) => Some((label, l.url.clone())),
        _ => None,
    };
    MessagePage {
        page: PageBase::new(t, &def.brand, heading.clone()),
        heading,
        message: t.thank_you(segment),
        link,
        form: None,
    }
}

/// A page that ends the visit with a message in the visitor's language.
pub(crate) struct PageError {
    status: StatusCode,
    key: &'static str,
    lang: String,
    /// What was wrong with the answer, for `answer_invalid`.
    problem: String,
    /// Seconds until a rate-limited visitor may try again.
    retry_after: Option<u64>,
}

impl PageError {
    fn invalid(headers: &HeaderMap) -> Self {
        let lang = browser_languages(headers).join(",");
        Self { status: StatusCode::NOT_FOUND, key: "link_invalid", lang, problem: String::new(), retry_after: None }
    }

    fn gone(key: &'static str, lang: &str) -> Self {
        Self { status: StatusCode::GONE, key, lang: lang.into(), problem: String::new(), retry_after: None }
    }

    fn closed(lang: &str) -> Self {
        Self::gone("survey_closed", lang)
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        tracing::warn!(problem = ?e.0, "survey page request refused");
        let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::BAD_REQUEST);
        let problem = e.0.errors.first().map_or_else(|| e.0.detail.clone(), |f| format!("{}: {}", f.field, f.message));
        let key = match status {
            StatusCode::NOT_FOUND => "link_invalid",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            _ => "answer_invalid",
        };
        Self { status, key, lang: String::new(), problem, retry_after: e.0.retry_after }
    }
}

impl From<hark_store::StoreError> for PageError {
    fn from(e: hark_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let first = self.lang.split(',').find_map(i18n::locale);
        let locale = first.unwrap_or_else(i18n::base);
        let message = locale.fill(self.key, &[("problem", &self.problem)]);
        let page = MessagePage {
            page: PageBase {
                lang: locale.tag.into(),
                dir: locale.dir(),
                title: message.clone(),
                brand: String::new(),
                banner: None,
            },
            heading: String::new(),
            message,
            link: None,
            form: None,
        };
        let mut response = (self.status, render(&page)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

fn browser_languages(headers: &HeaderMap) -> Vec<String> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(i18n::accept_language).unwrap_or_default()
}

/// The language to show: an explicit `?lang=`, then the contact's locale, then the browser's.
fn choose_language(
    def: &SurveyDefinition,
    explicit: Option<&str>,
    contact: Option<&str>,
    headers: &HeaderMap,
) -> String {
    let browser = browser_languages(headers);
    def.choose_language(explicit.into_iter().chain(contact).chain(browser.iter().map(String::as_str)))
}

/// What a `/s/` token opens.
enum Link {
    Survey(Survey),
    Invitation(Survey, Box<Invitation>),
}

impl Link {
    fn survey(&self) -> &Survey {
        match self {
            Link::Survey(s) | Link::Invitation(s, _) => s,
        }
    }
}

async fn open(state: &AppState, token: &str, headers: &HeaderMap) -> Result<Link, PageError> {
    let (kind, id) = state.signer.verify(token).ok_or_else(|| PageError::invalid(headers))?;
    let link = match kind {
        TokenKind::Survey => {
            let survey = state.store.get_survey(&id).await?.ok_or_else(|| PageError::invalid(headers))?;
            if !survey.definition.anonymous_link {
                return Err(PageError::invalid(headers));
            }
            Link::Survey(survey)
        }
        TokenKind::Invitation => {
            let invitation = state.store.get_invitation(&id).await?.ok_or_else(|| PageError::invalid(headers))?;
            let survey =
                state.store.get_survey(&invitation.survey_id).await?.ok_or_else(|| PageError::invalid(headers))?;
            let sent = invitation.sent_at.unwrap_or(invitation.created_at);
            let age_ms = jiff::Timestamp::now().as_millisecond() - sent;
            if state.config.link_lifetime.is_some_and(|valid| age_ms >= valid.as_millis() as i64) {
                return Err(PageError::gone("link_expired", &browser_languages(headers).join(",")));
            }
            Link::Invitation(survey, Box::new(invitation))
        }
        TokenKind::Response | TokenKind::Referral | TokenKind::Shared => return Err(PageError::invalid(headers)),
    };
    if link.survey().status == SurveyStatus::Closed {
        return Err(PageError::closed(&browser_languages(headers).join(",")));
    }
    Ok(link)
}

async fn contact_locale(state: &AppState, contact_id: Option<&str>) -> Result<Option<String>, PageError> {
    Ok(match contact_id {
        Some(id) => state.store.get_contact(id).await?.and_then(|c| c.locale),
        None => None,
    })
}

#[derive(Deserialize)]
struct LinkQuery {
    score: Option<i64>,
    lang: Option<String>,
}

/// The scale. `?score=n` (the links inside the email) shows that score pressed, and the page
/// sends it at once by script: mail scanners that fetch every link (and run no script) record
/// nothing, and with scripts off the clicked score is one more click away.
async fn open_link(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<LinkQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let link = open(&state, &token, &headers).await?;
    let (survey, contact_id) = match &link {
        Link::Survey(s) => (s, None),
        Link::Invitation(s, i) => (s, i.contact_id.as_deref()),
    };
    let locale = contact_locale(&state, contact_id).await?;
    let lang = choose_language(&survey.definition, query.lang.as_deref(), locale.as_deref(), &headers);
    let t = survey.definition.texts(&lang);
    let current = match &link {
        Link::Invitation(_, i) => state.store.invitation_response(&i.id).await?.map(|r| r.score),
        Link::Survey(_) => None,
    };
    let mut page = score_page(&survey.definition, &t, format!("/s/{token}"), query.score.or(current));
    page.hidden.push(("lang".into(), lang));
    page.send_at_once = matches!(link, Link::Invitation(..)) && query.score.is_some();
    if let Link::Survey(_) = link {
        // One key per page view: a resubmitted form does not count twice.
        page.hidden.push(("nonce".into(), uuid::Uuid::now_v7().to_string()));
    }
    Ok(render(&page))
}

fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, PageError> {
    serde_urlencoded::from_bytes(body).map_err(|e| ApiError::malformed(format!("form: {e}")).into())
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn parse_score(value: Option<&str>) -> Result<Option<i64>, PageError> {
    value
        .map(|v| v.trim().parse::<i64>().map_err(|_| ApiError::field("score", "must be a whole number").into()))
        .transpose()
}

async fn choose_score(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    let link = open(&state, &token, &headers).await?;
    let pairs = form_pairs(&body)?;
    let score = parse_score(field(&pairs, "score"))?
        .ok_or_else(|| PageError::from(ApiError::field("score", "choose a score")))?;
    record(&state, &link, score, field(&pairs, "lang"), field(&pairs, "nonce"), &ip, &headers).await
}

/// The rate limits of a public page; a refusal is told in the visitor's language.
fn limited(
    state: &AppState,
    checks: &[(&str, &str, Rate)],
    lang: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), PageError> {
    state.limit(checks).map_err(|e| {
        let mut refused = PageError::from(e);
        refused.lang =
            lang.into_iter().map(str::to_owned).chain(browser_languages(headers)).collect::<Vec<_>>().join(",");
        refused
    })
}

/// Stores the chosen score and sends the respondent on to the follow-up.
async fn record(
    state: &AppState,
    link: &Link,
    score: i64,
    lang: Option<&str>,
    nonce: Option<&str>,
    ip: &str,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let rates = state.rates();
    let limits = match link {
        Link::Invitation(..) => vec![("answers", ip, rates.answers_per_ip)],
        // Anyone may use an anonymous link: it is limited per survey as well.
        Link::Survey(survey) => vec![
            ("answers", ip, rates.answers_per_ip),
            ("answers to this survey", survey.id.as_str(), rates.answers_per_survey),
        ],
    };
    limited(state, &limits, lang, headers)?;
    let response = match link {
        Link::Invitation(survey, invitation) => {
            let locale = contact_locale(state, invitation.contact_id.as_deref()).await?;
            let lang = choose_language(&survey.definition, lang, locale.as_deref(), headers);
            score_invitation(state, survey, invitation, score, &lang).await?
        }
        Link::Survey(survey) => {
            let lang = choose_language(&survey.definition, lang, None, headers);
            let nonce = nonce
                .filter(|n| !n.is_empty() && n.len() <= 64)
                .ok_or_else(|| ApiError::field("nonce", "missing; reload the page"))?;
            let input = ResponseInput {
                survey_id: survey.id.clone(),
                score,
                channel: Some("link".into()),
                language: Some(lang),
                ..ResponseInput::default()
            };
            submit(&state.store, input, Some(format!("link:{nonce}"))).await?.response
        }
    };
    let to = format!("/r/{}", state.signer.sign(TokenKind::Response, &response.id));
    Ok(Redirect::to(&to).into_response())
}

/// The answer a follow-up token may change, and its survey.
async fn open_response(state: &AppState, token: &str, headers: &HeaderMap) -> Result<(Survey, Answer), PageError> {
    let id = state.signer.verify_kind(token, TokenKind::Response).ok_or_else(|| PageError::invalid(headers))?;
    response_and_survey(state, &id, headers).await
}

async fn response_and_survey(state: &AppState, id: &str, headers: &HeaderMap) -> Result<(Survey, Answer), PageError> {
    let answer = state.store.get_response(id).await?.ok_or_else(|| PageError::invalid(headers))?;
    let survey = state.store.get_survey(&answer.survey_id).await?.ok_or_else(|| PageError::invalid(headers))?;
    if survey.status == SurveyStatus::Closed {
        return Err(PageError::closed(answer.language.as_deref().unwrap_or_default()));
    }
    Ok((survey, answer))
}

#[derive(Deserialize)]
struct FollowUpQuery {
    done: Option<u8>,
}

async fn follow_up(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<FollowUpQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (survey, answer) = open_response(&state, &token, &headers).await?;
    let def = &survey.definition;
    let lang = choose_language(def, answer.language.as_deref(), None, &headers);
    let t = def.texts(&lang);
    if query.done.is_some() {
        return Ok(render(&thanks_page(def, &t, answer.segment)));
    }
    let reachable = reachable(&state, &answer).await?;
    Ok(render(&follow_up_page(def, &t, format!("/r/{token}"), &answer, reachable)))
}

/// Saves the follow-up form. `partial` (sent by the page's script as fields change) answers
/// 204; `done` shows the thank-you; a score button shows the questions for the new score.
async fn save_follow_up(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Result<Response, PageError> {
    limited(&state, &[("saves", &ip, state.rates().follow_ups_per_ip)], None, &headers)?;
    let (survey, answer) = open_response(&state, &token, &headers).await?;
    let pairs = form_pairs(&body)?;
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    for (key, value) in &pairs {
        let Some(id) = key.strip_prefix("q.") else { continue };
        let Some(q) = survey.definition.questions.iter().find(|q| q.id == id) else { continue };
        match q.kind {
            QuestionType::MultipleChoice => {
                let entry = answers.entry(id.to_owned()).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = entry {
                    items.push(Value::String(value.clone()));
                }
            }
            QuestionType::Rating => {
                let n = value.parse::<i64>().map_err(|_| ApiError::field(format!("answers.{id}"), "must be 1 to 5"))?;
                answers.insert(id.to_owned(), Value::from(n));
            }
            _ => {
                answers.insert(id.to_owned(), Value::String(value.clone()));
            }
        }
    }
    let agent_score = field(&pairs, "agent_score").filter(|v| !v.is_empty());
    let changes = Changes {
        score: parse_score(field(&pairs, "score"))?,
        comment: Some(field(&pairs, "comment").unwrap_or_default().to_owned()),
        agent_score: Some(parse_score(agent_score).map_err(|_| ApiError::field("agent_score", "must be 0 to 10"))?),
        answers: Some(answers),
        in_progress: field(&pairs, "partial").is_some(),
    };
    if field(&pairs, "partial").is_none() && field(&pairs, "contact_ok").is_some() {
        consent_to_contact(&state, &survey, &answer, &pairs).await?;
    }
    change(&state, &survey, &answer, changes).await?;
    if field(&pairs, "partial").is_some() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let done = if field(&pairs, "done").is_some() { "?done=1" } else { "" };
    Ok(Redirect::to(&format!("/r/{token}{done}")).into_response())
}

/// The customer ticked "you may contact me": keeps the email and/or phone they gave (at
/// least one, valid) on the answer's contact, with the time of their consent.
async fn consent_to_contact(
    state: &AppState,
    survey: &Survey,
    answer: &Answer,
    pairs: &[(String, String)],
) -> Result<(), PageError> {
    let given = |name: &str| field(pairs, name).map(str::trim).filter(|v| !v.is_empty());
    let (email, phone) = (given("contact_email"), given("contact_phone"));
    let valid = email.is_none_or(hark_core::contact::is_email)
        && phone.is_none_or(hark_core::contact::is_phone)
        && (email.is_some() || phone.is_some());
    if !valid {
        let lang = answer.language.as_deref().unwrap_or(&survey.definition.default_locale);
        let t = survey.definition.texts(lang);
        return Err(ApiError::field("contact", t.ui("contact.invalid", &[])).into());
    }
    state.store.consent_to_contact(&answer.id, email, phone).await?;
    Ok(())
}

async fn unsubscribe_target(
    state: &AppState,
    token: &str,
    headers: &HeaderMap,
) -> Result<(Survey, Invitation, String), PageError> {
    let id = state.signer.verify_kind(token, TokenKind::Invitation).ok_or_else(|| PageError::invalid(headers))?;
    let invitation = state.store.get_invitation(&id).await?.ok_or_else(|| PageError::invalid(headers))?;
    let survey = state.store.get_survey(&invitation.survey_id).await?.ok_or_else(|| PageError::invalid(headers))?;
    let locale = contact_locale(state, invitation.contact_id.as_deref()).await?;
    let lang = choose_language(&survey.definition, None, locale.as_deref(), headers);
    Ok((survey, invitation, lang))
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (survey, _, lang) = unsubscribe_target(&state, &token, &headers).await?;
    let t = survey.definition.texts(&lang);
    let heading = t.ui("unsubscribe.button", &[]);
    Ok(render(&MessagePage {
        page: PageBase::new(&t, &survey.definition.brand, heading.clone()),
        heading: String::new(),
        message: t.ui("unsubscribe.ask", &[]),
        link: None,
        form: Some((format!("/u/{token}"), heading)),
    }))
}

/// Unsubscribes (also the one-click `List-Unsubscribe-Post` of mail programs).
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    limited(&state, &[("saves", &ip, state.rates().follow_ups_per_ip)], None, &headers)?;
    let (survey, invitation, lang) = unsubscribe_target(&state, &token, &headers).await?;
    if let Some(contact) = &invitation.contact_id {
        state.store.unsubscribe(contact).await?;
    }
    let t = survey.definition.texts(&lang);
    let heading = t.ui("unsubscribe.button", &[]);
    Ok(render(&MessagePage {
        page: PageBase::new(&t, &survey.definition.brand, heading),
        heading: String::new(),
        message: t.ui("unsubscribe.done", &[]),
        link: None,
        form: None,
    }))
}

#[cfg(test)]
mod tests {
    /// Relative luminance of `#rrggbb` (WCAG 2.1).
    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// WCAG 1.4.11: the focus ring needs 3:1 against every background it is drawn on (the
    /// page, white fields, the dark pressed buttons); it was 2.89:1 on the page.
    #[test]
    fn the_focus_ring_stands_out_on_every_background() {
        let css = include_str!("../../templates/public.css");
        let rule = css.split(":focus-visible{outline:3px solid ").nth(1).expect("a focus rule");
        let ring = &rule[..7];
        for background in ["#f6f7f9", "#ffffff", "#1d3557"] {
            assert!(contrast(ring, background) >= 3.0, "{ring} on {background}: {:.2}", contrast(ring, background));
        }
    }
}

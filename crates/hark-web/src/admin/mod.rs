//! The staff's sign-in and the admin pages: the survey editor, sending, the job queue and
//! contacts, with closing the loop (`closing`) and people and keys (`people`) beside them.
//! Server-rendered forms; every POST carries the session's CSRF token, and every admin page
//! requires a signed-in admin. The survey preview is the customer's pages (`public`).

pub(crate) mod closing;
mod people;
pub(crate) mod playbook_form;
mod themes;

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hark_core::auth::verify_password;
use hark_core::survey::{
    InviteChannel, Placement, PromoterLink, Question, QuestionType, SurveyDefinition, Trigger, Widget,
};
use hark_core::token::TokenKind;
use hark_core::{FieldError, Segment, SurveyKind, ValidationErrors, Why, i18n};
use hark_store::{Contact, Job, Role, Survey, SurveyStatus};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{SESSION_COOKIE, cookie};
use crate::guard::ClientIp;
use crate::ops::outreach::{SendSummary, invite_matching};
use crate::page::{
    Admin, Nav, Page, Reader, SignedIn, form, internal, load_survey, not_found, render, session_form, value,
};

const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/account", get(password_page))
        .route("/account/password", get(password_page).post(change_password))
        .route("/account/language", axum::routing::post(change_language))
        .route("/account/digest", axum::routing::post(change_digest))
        .route("/account/digest/preview", get(preview_digest))
        .route("/account/digest/send", axum::routing::post(send_digest))
        .route("/admin", get(|| async { Redirect::to("/admin/surveys") }))
        .route("/admin/surveys", get(surveys))
        .route("/admin/surveys/new", get(new_survey).post(create_survey))
        .route("/admin/surveys/{id}", get(edit_survey).post(save_survey))
        .route("/admin/surveys/{id}/send", get(send_page).post(send))
        .route("/admin/surveys/{id}/links.csv", get(links_csv))
        .route("/admin/jobs", get(jobs))
        .route("/admin/jobs/{id}/run", axum::routing::post(run_job_now))
        .route("/admin/contacts", get(contacts))
        .route("/admin/contacts/{id}", get(contact))
        .route("/admin/contacts/{id}/export", get(export_contact))
        .route("/admin/contacts/{id}/erase", axum::routing::post(erase_contact))
        .merge(closing::router())
        .merge(people::router())
        .merge(themes::router())
}

// ----- sign-in -----

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only paths on this site, so a crafted link cannot send a user elsewhere after sign-in;
/// empty when none was asked for. Browsers drop tabs and line breaks inside a URL (so
/// `/<TAB>/evil.example` becomes `//evil.example`) and read `\` as `/`: only visible ASCII
/// after a single leading slash passes.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
            && n.len() <= 2000
    })
    .unwrap_or_default()
    .to_owned()
}

async fn login_page(State(state): State<AppState>, Query(q): Query<NextQuery>, headers: HeaderMap) -> Response {
    let t = Reader::of(None, None, &state.config.time_zone, &headers);
    render(&LoginPage {
        t,
        title: t.0.text("login.title"),
        nav: None,
        error: None,
        email: String::new(),
        next: safe_next(q.next.as_deref()),
    })
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let t = Reader::of(None, None, &state.config.time_zone, &headers);
    let title = t.0.text("login.title");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let email = value(&pairs, "email").to_owned();
    let next = safe_next(Some(value(&pairs, "next")));
    // Guessing is slowed per address and per account; a locked account's right password
    // waits too, so a guesser learns nothing from the answer.
    let rates = state.rates();
    let account = email.to_lowercase();
    if let Err(refused) = state.limit(&[
        ("sign-ins", &ip, rates.sign_ins_per_ip),
        ("sign-ins for this account", &account, rates.sign_ins_per_account),
    ]) {
        let wait = refused.0.retry_after.unwrap_or(60);
        let error = Some(t.fill1("login.too_many", "minutes", wait.div_ceil(60)));
        let page = LoginPage { t, title, nav: None, error, email, next };
        let mut response = (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return response;
    }
    let user = match state.store.user_credentials(&email).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    // Verify against a fixed hash when the user is unknown, so timing does not tell: the
    // hash is made once, so an unknown email costs one verification like a known one.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (user, hash) = match user {
        Some((u, h)) => (Some(u), h),
        None => (None, DECOY.get_or_init(|| hark_core::auth::hash_password("not a real password")).clone()),
    };
    let password = pairs.iter().find(|(k, _)| k == "password").map(|(_, v)| v.as_str()).unwrap_or_default();
    let ok = verify_password(password, &hash);
    let Some(user) = user.filter(|_| ok) else {
        let error = Some(t.text("login.wrong").to_owned());
        let page = LoginPage { t, title, nav: None, error, email, next };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    };
    // What their browser reads is what their mail is written in, until they choose.
    if headers.contains_key(header::ACCEPT_LANGUAGE)
        && user.seen_locale.as_deref() != Some(t.tag)
        && let Err(e) = state.store.set_seen_locale(&user.id, t.tag).await
    {
        return internal(e);
    }
    let (token, _) = match state.store.create_session(&user, SESSION_TTL_MS).await {
        Ok(s) => s,
        Err(e) => return internal(e),
    };
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie =
        format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SESSION_TTL_MS / 1000);
    let home = if user.role == Role::Admin { "/admin/surveys" } else { "/dashboard" };
    let mut response = Redirect::to(if next.is_empty() { home } else { &next }).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// Every role may sign out.
async fn logout(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    if let Err(refused) = session_form(&session, &nav, &body) {
        return refused;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.delete_session(&token).await
    {
        return internal(e);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("hark_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    response
}

// ----- one's own account -----

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    email: String,
    error: Option<String>,
    done: bool,
    /// (tag, name in itself) of every language Hark is written in.
    languages: Vec<(&'static str, String)>,
    /// The person's chosen language; empty: their browser's.
    chosen: String,
    /// Every time zone by its IANA name, and the person's choice (empty: the organisation's).
    zones: &'static [String],
    chosen_zone: String,
    org_zone: String,
    language_saved: bool,
    /// Whether they get digests, when those go out (a cron expression; empty: never), and
    /// what the last digest form did (a locale key).
    digest: bool,
    digest_schedule: String,
    digest_said: Option<&'static str>,
}

impl PasswordPage {
    fn of(state: &AppState, session: &hark_store::Session, nav: &Nav) -> PasswordPage {
        PasswordPage {
            t: nav.t,
            title: nav.t.0.text("account.title"),
            nav: Some(nav.clone()),
            email: session.user.email.clone(),
            error: None,
            done: false,
            languages: i18n::locales().iter().map(|l| (l.tag, l.name.clone())).collect(),
            chosen: session.user.locale.clone().unwrap_or_default(),
            zones: time_zones(),
            chosen_zone: session.user.time_zone.clone().unwrap_or_default(),
            org_zone: crate::page::zone_name(&state.config.time_zone).to_owned(),
            language_saved: false,
            digest: !session.user.digest_opt_out,
            digest_schedule: state
                .runner
                .as_ref()
                .and_then(hark_jobs::Runner::digest_schedule)
                .map(|s| s.pattern.clone())
                .unwrap_or_default(),
            digest_said: None,
        }
    }
}

/// Every role chooses whether they get the digest by mail.
async fn change_digest(
    State(state): State<AppState>,
    SignedIn(mut session, nav): SignedIn,
    RawForm(body): RawForm,
) -> Response {
    let pairs = match session_form(&session, &nav, &body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let wanted = value(&pairs, "digest") == "1";
    if let Err(e) = state.store.set_digest_opt_out(&session.user.id, !wanted).await {
        return internal(e);
    }
    session.user.digest_opt_out = !wanted;
    let mut page = PasswordPage::of(&state, &session, &nav);
    page.digest_said = Some(if wanted { "account.digest_on" } else { "account.digest_off" });
    render(&page)
}

/// The digest the person would get now, as the mail shows it.
async fn preview_digest(State(state): State<AppState>, SignedIn(session, _): SignedIn) -> Response {
    let (from, to) = state.digest_period();
    match crate::digest::write(&state, &session.user, from, to).await {
        Ok(digest) => axum::response::Html(digest.html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// "Send me this digest now": queued at once (one a minute at most), opted out or not.
async fn send_digest(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    RawForm(body): RawForm,
) -> Response {
    if let Err(refused) = session_form(&session, &nav, &body) {
        return refused;
    }
    let mut page = PasswordPage::of(&state, &session, &nav);
    if !state.can_mail() {
        page.digest_said = Some("account.digest_no_mail");
        return (StatusCode::SERVICE_UNAVAILABLE, render(&page)).into_response();
    }
    let (from, to) = state.digest_period();
    let now = jiff::Timestamp::now().as_millisecond();
    let mut job = hark_jobs::digest_job(&session.user.id, from, to, now);
    job.payload["asked"] = serde_json::Value::Bool(true);
    let job = job.dedupe(format!("digest-now:{}:{}", session.user.id, now / 60_000));
    if let Err(e) = state.store.enqueue(&job).await {
        return internal(e);
    }
    state.wake_jobs();
    page.digest_said = Some("account.digest_sent");
    render(&page)
}

/// Shortest password a person may choose.
const MIN_PASSWORD_CHARS: usize = 12;

/// The IANA zones people live in (`Area/City`, not the old aliases such as `Japan` or the
/// fixed `Etc/GMT+9`), and UTC, sorted: the choices of the account page.
fn time_zones() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.to_string())
            .filter(|n| n == "UTC" || (n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("SystemV/")))
            .collect();
        names.sort();
        names
    })
}

async fn password_page(State(state): State<AppState>, SignedIn(session, nav): SignedIn) -> Response {
    render(&PasswordPage::of(&state, &session, &nav))
}

/// Every role chooses the language they read Hark in (empty: their browser's) and their time
/// zone (empty: the organisation's).
async fn change_language(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let pairs = match session_form(&session, &nav, &body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let asked = value(&pairs, "locale");
    let locale = match asked {
        "" => None,
        tag => match i18n::locales().iter().find(|l| l.tag == tag) {
            Some(l) => Some(l.tag),
            None => {
                let mut page = PasswordPage::of(&state, &session, &nav);
                page.error = Some(nav.t.fill1("account.no_such_language", "tag", tag));
                return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
            }
        },
    };
    let time_zone = match value(&pairs, "time_zone") {
        "" => None,
        name => match crate::page::zone(name) {
            Some(zone) => Some(crate::page::zone_name(zone)),
            None => {
                let mut page = PasswordPage::of(&state, &session, &nav);
                page.error = Some(nav.t.fill1("account.no_such_zone", "zone", name));
                return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
            }
        },
    };
    if let Err(e) = state.store.set_user_reading(&session.user.id, locale, time_zone).await {
        return internal(e);
    }
    // The page that confirms it is already in the new language and zone.
    let mut session = session;
    session.user.locale = locale.map(str::to_owned);
    session.user.time_zone = time_zone.map(str::to_owned);
    let mut nav = nav;
    nav.t = Reader::of(locale, time_zone, &state.config.time_zone, &headers);
    let mut page = PasswordPage::of(&state, &session, &nav);
    page.language_saved = true;
    render(&page)
}

/// Every role changes their own password: the current one must be right, the new one at
/// least 12 characters and typed twice; the person's other sessions end.
async fn change_password(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    headers: HeaderMap,
    RawForm(body): RawForm,
) -> Response {
    let pairs = match session_form(&session, &nav, &body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let (current, new, again) = (field("current"), field("new"), field("again"));
    let stored = match state.store.user_credentials(&session.user.email).await {
        Ok(Some((_, hash))) => hash,
        Ok(None) => return not_found(&nav, "problem.no_user"),
        Err(e) => return internal(e),
    };
    let t = nav.t;
    let error = if !verify_password(current, &stored) {
        Some(t.text("account.wrong_current").to_owned())
    } else if new.chars().count() < MIN_PASSWORD_CHARS {
        Some(t.fill1("account.too_short", "n", MIN_PASSWORD_CHARS))
    } else if new != again {
        Some(t.text("account.differ").to_owned())
    } else {
        None
    };
    let page =
        |error: Option<String>, done: bool| PasswordPage { error, done, ..PasswordPage::of(&state, &session, &nav) };
    if let Some(error) = error {
        return (StatusCode::UNPROCESSABLE_ENTITY, render(&page(Some(error), false))).into_response();
    }
    let token = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    match state.store.change_password(&session.user.id, &hark_core::auth::hash_password(new), &token).await {
        Ok(()) => render(&page(None, true)),
        Err(e) => internal(e),
    }
}

// ----- surveys -----

struct SurveyRow {
    id: String,
    name: String,
    kind: String,
    status: String,
    languages: String,
    public_link: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_surveys.html")]
struct SurveysPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    surveys: Vec<SurveyRow>,
}

async fn surveys(State(state): State<AppState>, admin: Admin) -> Response {
    let list = match state.store.list_surveys().await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let surveys = list
        .into_iter()
        .map(|s| SurveyRow {
            public_link: s
                .definition
                .anonymous_link
                .then(|| state.url(&format!("/s/{}", state.signer.sign(TokenKind::Survey, &s.id)))),
            name: s.definition.name.clone(),
            // NPS, CSAT and CES are the same words in every language.
            kind: s.definition.kind.as_str().to_uppercase(),
            status: admin.1.t.word("survey_status", s.status.as_str()),
            languages: s.definition.languages().iter().map(|l| i18n::language_shown(l)).collect::<Vec<_>>().join(", "),
            id: s.id,
        })
        .collect();
    let t = admin.1.t;
    render(&SurveysPage { title: t.0.text("surveys.title"), t, nav: Some(admin.1.clone()), surveys })
}

struct QuestionForm {
    id: String,
    kind: &'static str,
    text: String,
    options: String,
    show_if: Vec<&'static str>,
}

/// The editor's fields as text, from a definition (possibly one that failed to validate).
struct SurveyForm {
    name: String,
    brand: String,
    kind: &'static str,
    status: &'static str,
    default_locale: String,
    question: String,
    default_question: String,
    follow_up: String,
    follow_up_detractor: String,
    follow_up_passive: String,
    follow_up_promoter: String,
    ask_agent: bool,
    agent_question: String,
    questions: Vec<QuestionForm>,
    thank_you_detractor: String,
    thank_you_passive: String,
    thank_you_promoter: String,
    promoter_link_label: String,
    promoter_link_url: String,
    anonymous_link: bool,
    fatigue_days: String,
    reminder_days: String,
    /// Event, delay in minutes and channel per trigger, then an empty row to add one.
    triggers: Vec<(String, String, &'static str)>,
    /// The allowed sites, then an empty box to add one.
    widget_origins: Vec<String>,
    widget_placement: &'static str,
    widget_delay_seconds: String,
    widget_url_contains: String,
    widget_on_event: String,
    keys: Vec<(String, String)>,
    /// Per language: its tag, its name and its rows.
    translations: Vec<(&'static str, String, Vec<TranslationRow>)>,
}

/// One own text in one language: its key, the text and its translation.
type TranslationRow = (String, String, String);

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn number(v: Option<u32>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl SurveyForm {
    fn from(def: &SurveyDefinition, status: SurveyStatus) -> Self {
        let widget = def.widget.as_ref();
        let mut questions: Vec<QuestionForm> = def
            .questions
            .iter()
            .map(|q| QuestionForm {
                id: q.id.clone(),
                kind: question_type_str(Some(q.kind)),
                text: q.text.clone(),
                options: q.options.join("\n"),
                show_if: q.show_if.iter().map(|s| s.as_str()).collect(),
            })
            .collect();
        while questions.len() < hark_core::survey::MAX_EXTRA_QUESTIONS {
            questions.push(QuestionForm {
                id: String::new(),
                kind: "",
                text: String::new(),
                options: String::new(),
                show_if: vec![],
            });
        }
        SurveyForm {
            name: def.name.clone(),
            brand: def.brand.clone(),
            kind: def.kind.as_str(),
            status: status.as_str(),
            default_locale: def.default_locale.clone(),
            question: text(&def.question),
            default_question: SurveyDefinition { question: None, ..def.clone() }.main_question(),
            follow_up: text(&def.follow_up),
            follow_up_detractor: text(&def.follow_up_by_segment.detractor),
            follow_up_passive: text(&def.follow_up_by_segment.passive),
            follow_up_promoter: text(&def.follow_up_by_segment.promoter),
            ask_agent: def.agent_question.is_some(),
            agent_question: text(&def.agent_question),
            questions,
            thank_you_detractor: text(&def.thank_you.detractor),
            thank_you_passive: text(&def.thank_you.passive),
            thank_you_promoter: text(&def.thank_you.promoter),
            promoter_link_label: def.promoter_link.as_ref().map(|l| l.label.clone()).unwrap_or_default(),
            promoter_link_url: def.promoter_link.as_ref().map(|l| l.url.clone()).unwrap_or_default(),
            anonymous_link: def.anonymous_link,
            fatigue_days: number(def.fatigue_days),
            reminder_days: number(def.reminder_days),
            triggers: def
                .triggers
                .iter()
                .map(|t| (t.event.clone(), t.delay_minutes.to_string(), t.channel.as_str()))
                .chain(std::iter::once((String::new(), String::new(), "email")))
                .collect(),
            widget_origins: widget
                .map(|w| w.origins.clone())
                .unwrap_or_default()
                .into_iter()
                .chain(std::iter::once(String::new()))
                .collect(),
            widget_placement: match widget.map(|w| w.placement) {
                Some(Placement::SlideIn) => "slide_in",
                _ => "popup",
            },
            widget_delay_seconds: widget.map(|w| w.delay_seconds.to_string()).unwrap_or_default(),
            widget_url_contains: widget.and_then(|w| w.url_contains.clone()).unwrap_or_default(),
            widget_on_event: widget.and_then(|w| w.on_event.clone()).unwrap_or_default(),
            keys: def.translatable_texts(),
            translations: i18n::locales()
                .iter()
                .filter(|l| l.tag != def.default_locale)
                .map(|l| {
                    let done = def.translations.get(l.tag);
                    let own = def.translatable_texts();
                    // Every own text, then translations kept for texts no longer there.
                    let stale = done
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| !own.iter().any(|(o, _)| o == *k))
                        .map(|(k, _)| (k.clone(), String::new()));
                    let rows = own
                        .iter()
                        .cloned()
                        .chain(stale)
                        .map(|(k, text)| {
                            let t = done.and_then(|d| d.get(&k)).cloned().unwrap_or_default();
                            (k, text, t)
                        })
                        .collect();
                    (l.tag, l.name.clone(), rows)
                })
                .collect(),
        }
    }
}

fn question_type_str(kind: Option<QuestionType>) -> &'static str {
    match kind {
        None => "",
        Some(QuestionType::SingleChoice) => "single_choice",
        Some(QuestionType::MultipleChoice) => "multiple_choice",
        Some(QuestionType::ShortText) => "short_text",
        Some(QuestionType::Rating) => "rating",
    }
}

/// Reads the editor's form into a definition; fields that cannot even be read (a number
/// that is not one) are reported by name beside the definition's own checks.
fn definition_from_form(
    pairs: &[(String, String)],
    existing: Option<&SurveyDefinition>,
) -> (SurveyDefinition, SurveyStatus, ValidationErrors) {
    let mut errors = ValidationErrors::default();
    let opt = |name: &str| Some(value(pairs, name).to_owned()).filter(|v| !v.is_empty());
    let mut num = |name: &str| -> Option<u32> {
        let v = value(pairs, name);
        if v.is_empty() {
            return None;
        }
        v.parse().map_err(|_| errors.say(name, Why::new("invalid.whole_number"))).ok()
    };
    let fatigue_days = num("fatigue_days");
    let reminder_days = num("reminder_days");
    let widget_delay = num("widget.delay_seconds");
    let kind = existing.map(|d| d.kind).or_else(|| SurveyKind::parse(value(pairs, "kind"))).unwrap_or(SurveyKind::Nps);
    let status = SurveyStatus::parse(value(pairs, "status")).unwrap_or(SurveyStatus::Active);
    let segment_texts = |prefix: &str| hark_core::survey::PerSegment {
        detractor: opt(&format!("{prefix}.detractor")),
        passive: opt(&format!("{prefix}.passive")),
        promoter: opt(&format!("{prefix}.promoter")),
    };
    let mut questions = Vec::new();
    for i in 0..hark_core::survey::MAX_EXTRA_QUESTIONS {
        let kind = match value(pairs, &format!("q{i}.type")) {
            "single_choice" => QuestionType::SingleChoice,
            "multiple_choice" => QuestionType::MultipleChoice,
            "short_text" => QuestionType::ShortText,
            "rating" => QuestionType::Rating,
            _ => continue,
        };
        questions.push(Question {
            id: value(pairs, &format!("q{i}.id")).to_owned(),
            kind,
            text: value(pairs, &format!("q{i}.text")).to_owned(),
            options: value(pairs, &format!("q{i}.options"))
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect(),
            show_if: pairs
                .iter()
                .filter(|(k, _)| *k == format!("q{i}.show_if"))
                .filter_map(|(_, v)| Segment::parse(v))
                .collect(),
        });
    }
    // Trigger rows by index; a row without an event is left out (the empty one to add one).
    let mut triggers = Vec::new();
    for n in (0..).take_while(|n| pairs.iter().any(|(k, _)| *k == format!("trigger{n}.event"))) {
        let event = value(pairs, &format!("trigger{n}.event")).trim().to_owned();
        if event.is_empty() {
            continue;
        }
        let delay = value(pairs, &format!("trigger{n}.delay")).trim();
        let delay_minutes = if delay.is_empty() { Some(0) } else { delay.parse::<u32>().ok() };
        let channel = if value(pairs, &format!("trigger{n}.channel")) == "link" {
            InviteChannel::Link
        } else {
            InviteChannel::Email
        };
        match delay_minutes {
            Some(delay_minutes) => triggers.push(Trigger { event, delay_minutes, channel }),
            None => errors.say(format!("triggers[{n}].delay_minutes"), Why::new("invalid.whole_minutes")),
        }
    }
    let origins: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "widget.origins" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect();
    let widget = (!origins.is_empty()).then(|| Widget {
        origins,
        placement: if value(pairs, "widget.placement") == "slide_in" { Placement::SlideIn } else { Placement::Popup },
        delay_seconds: widget_delay.unwrap_or(0),
        url_contains: opt("widget.url_contains"),
        on_event: opt("widget.on_event"),
    });
    let promoter_link = match (opt("promoter_link.label"), opt("promoter_link.url")) {
        (None, None) => None,
        (label, url) => Some(PromoterLink { label: label.unwrap_or_default(), url: url.unwrap_or_default() }),
    };
    // One box per language and text, named `tr.{language}.{key}`; an empty box is no translation.
    let mut translations: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (name, text) in pairs {
        let Some((tag, key)) = name.strip_prefix("tr.").and_then(|k| k.split_once('.')) else { continue };
        if !text.trim().is_empty() {
            translations.entry(tag.to_owned()).or_default().insert(key.to_owned(), text.trim().to_owned());
        }
    }
    let def = SurveyDefinition {
        name: value(pairs, "name").to_owned(),
        kind,
        brand: value(pairs, "brand").to_owned(),
        question: opt("question"),
        follow_up: opt("follow_up"),
        follow_up_by_segment: segment_texts("follow_up"),
        agent_question: (!value(pairs, "ask_agent").is_empty())
            .then(|| opt("agent_question").unwrap_or_else(|| i18n::base().text("agent_question").to_owned())),
        questions,
        thank_you: segment_texts("thank_you"),
        promoter_link,
        default_locale: Some(value(pairs, "default_locale").to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "en".into()),
        translations,
        anonymous_link: !value(pairs, "anonymous_link").is_empty(),
        fatigue_days,
        reminder_days,
        triggers,
        widget,
        // Edited on the playbook page.
        playbooks: existing.map(|d| d.playbooks.clone()).unwrap_or_default(),
        root_causes: existing.map(|d| d.root_causes.clone()).unwrap_or_else(hark_core::survey::default_root_causes),
    };
    if let Err(e) = def.validate() {
        errors.0.extend(e.0);
    }
    (def, status, errors)
}

#[derive(Template)]
#[template(path = "admin_survey_edit.html")]
struct EditPage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    id: Option<String>,
    saved: bool,
    errors: Vec<FieldError>,
    f: SurveyForm,
    kinds: Vec<(&'static str, &'static str)>,
    question_types: Vec<(&'static str, String)>,
    languages: Vec<(&'static str, String)>,
    /// For the widget's signed visitor ids.
    widget_secret: String,
}

impl EditPage {
    fn new(
        widget_secret: &str,
        t: Reader,
        nav: Option<Nav>,
        survey: Option<&Survey>,
        f: SurveyForm,
        errors: Vec<FieldError>,
        saved: bool,
    ) -> Self {
        let kinds = match survey {
            Some(s) => vec![(s.definition.kind.as_str(), s.definition.kind.as_str())],
            None => vec![("nps", "NPS (0–10)"), ("csat", "CSAT (1–5)"), ("ces", "CES (1–7)")],
        };
        EditPage {
            t,
            title: survey
                .map_or_else(|| t.text("edit.new").into(), |s| t.fill1("edit.title", "name", &s.definition.name)),
            widget_secret: widget_secret.to_owned(),
            nav,
            id: survey.map(|s| s.id.clone()),
            saved,
            errors,
            f,
            kinds,
            question_types: ["", "single_choice", "multiple_choice", "short_text", "rating"]
                .into_iter()
                .map(|q| (q, t.word("question_type", if q.is_empty() { "none" } else { q })))
                .collect(),
            languages: i18n::locales().iter().map(|l| (l.tag, l.name.clone())).collect(),
        }
    }
}

async fn new_survey(State(state): State<AppState>, admin: Admin) -> Response {
    // A new survey's own texts are in the language its author reads Hark in.
    let blank = serde_json::json!({"name": "", "kind": "nps", "brand": "", "default_locale": admin.1.t.tag});
    let def: SurveyDefinition = serde_json::from_value(blank).expect("a minimal definition parses");
    render(&EditPage::new(
        &state.widget_secret,
        admin.1.t,
        Some(admin.1.clone()),
        None,
        SurveyForm::from(&def, SurveyStatus::Active),
        vec![],
        false,
    ))
}

async fn create_survey(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let (def, status, errors) = definition_from_form(&pairs, None);
    if !errors.0.is_empty() {
        let page = EditPage::new(
            &state.widget_secret,
            admin.1.t,
            Some(admin.1.clone()),
            None,
            SurveyForm::from(&def, status),
            errors.0,
            false,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let survey = state.store.create_survey(&def, status).await.map_err(internal)?;
    Ok(Redirect::to(&format!("/admin/surveys/{}?saved=1", survey.id)).into_response())
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<u8>,
}

async fn edit_survey(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Page {
    let s = load_survey(&state, &admin.1, &id).await?;
    Ok(render(&EditPage::new(
        &state.widget_secret,
        admin.1.t,
        Some(admin.1.clone()),
        Some(&s),
        SurveyForm::from(&s.definition, s.status),
        vec![],
        q.saved.is_some(),
    )))
}

async fn save_survey(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let pairs = form(&admin, &body)?;
    let survey = load_survey(&state, &admin.1, &id).await?;
    let (def, status, errors) = definition_from_form(&pairs, Some(&survey.definition));
    if !errors.0.is_empty() {
        let page = EditPage::new(
            &state.widget_secret,
            admin.1.t,
            Some(admin.1.clone()),
            Some(&survey),
            SurveyForm::from(&def, status),
            errors.0,
            false,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    state.store.update_survey(&id, &def, status).await.map_err(internal)?;
    Ok(Redirect::to(&format!("/admin/surveys/{id}?saved=1")).into_response())
}

#[derive(Template)]
#[template(path = "admin_send.html")]
struct SendPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    name: String,
    segment: String,
    window: u32,
    global: u32,
    error: Option<String>,
    result: Option<SendSummary>,
    /// The personal links this send made: (contact, email, link), the first 500.
    links: Vec<(String, String, String)>,
    id: String,
    /// False without a mail server: email sends are refused and the page says so.
    can_mail: bool,
}

/// Personal links listed on the send page; the CSV has them all.
const LINKS_SHOWN: usize = 500;

/// (contact, email, link) of each invitation: the contact's name or external id, or "erased" in
/// the reader's words.
async fn link_rows(
    state: &AppState,
    t: Reader,
    invitations: &[hark_store::Invitation],
) -> Result<Vec<[String; 3]>, Response> {
    let ids: Vec<String> = invitations.iter().filter_map(|i| i.contact_id.clone()).collect();
    let contacts = state.store.get_contacts(&ids).await.map_err(internal)?;
    Ok(invitations
        .iter()
        .map(|i| {
            let c = contacts.iter().find(|c| Some(&c.id) == i.contact_id.as_ref());
            [
                c.map(|c| c.name.clone().unwrap_or_else(|| c.external_id.clone()))
                    .unwrap_or_else(|| t.text("case.erased").into()),
                c.and_then(|c| c.email.clone()).unwrap_or_default(),
                crate::ops::outreach::personal_link(state, &i.id),
            ]
        })
        .collect())
}

/// Every personal link of a survey not yet answered, as CSV: to mail-merge or hand out.
async fn links_csv(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Page {
    load_survey(&state, &admin.1, &id).await?;
    let open = state.store.unanswered_links(&id, 100_000).await.map_err(internal)?;
    let rows = link_rows(&state, admin.1.t, &open).await?;
    let mut body = Vec::new();
    let mut out = csv::Writer::from_writer(&mut body);
    let _ = out.write_record(["contact", "email", "link", "made"]);
    for (row, i) in rows.iter().zip(&open) {
        let cells = row.iter().map(|c| hark_core::spreadsheet::defuse(c).into_owned());
        let _ = out.write_record(cells.chain(std::iter::once(admin.1.t.time(i.created_at))));
    }
    let _ = out.flush();
    drop(out);
    Ok(crate::page::csv_download("links", body))
}

async fn send_page(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Page {
    let s = load_survey(&state, &admin.1, &id).await?;
    Ok(render(&SendPage {
        title: admin.1.t.0.text("send.title"),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        name: s.definition.name.clone(),
        segment: String::new(),
        window: s.definition.fatigue_window_days(),
        global: state.config.global_fatigue_days,
        error: None,
        result: None,
        links: vec![],
        id,
        can_mail: state.can_mail(),
    }))
}

async fn send(State(state): State<AppState>, admin: Admin, Path(id): Path<String>, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let survey = load_survey(&state, &admin.1, &id).await?;
    let segment = value(&pairs, "segment").to_owned();
    let mut attributes = Vec::new();
    let mut error = None;
    for line in segment.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => attributes.push((k.trim().to_owned(), v.trim().to_owned())),
            _ => error = Some(admin.1.t.fill1("send.bad_line", "line", line)),
        }
    }
    let channel = if value(&pairs, "channel") == "link" { InviteChannel::Link } else { InviteChannel::Email };
    if channel == InviteChannel::Email && !state.can_mail() {
        // Why nothing can be mailed, where a person would otherwise believe it was.
        error = Some(admin.1.t.text("send.no_mail_error").to_owned());
    }
    let mut result = None;
    if error.is_none() {
        match invite_matching(&state, &survey, &attributes, channel).await {
            Ok(summary) => result = Some(summary),
            Err(e) => {
                let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                error = Some(crate::page::Reason::Refused(e.0).text(admin.1.t, status));
            }
        }
    }
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut made = Vec::new();
    for invitation_id in result.iter().flat_map(|r| r.issued_ids.iter()).take(LINKS_SHOWN) {
        made.extend(state.store.get_invitation(invitation_id).await.map_err(internal)?);
    }
    let links = link_rows(&state, admin.1.t, &made).await?.into_iter().map(|[a, b, c]| (a, b, c)).collect();
    let page = SendPage {
        title: admin.1.t.0.text("send.title"),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        name: survey.definition.name.clone(),
        segment,
        window: survey.definition.fatigue_window_days(),
        global: state.config.global_fatigue_days,
        error,
        result,
        links,
        id,
        can_mail: state.can_mail(),
    };
    Ok((status, render(&page)).into_response())
}

// ----- jobs and contacts -----

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    counts: Vec<(String, i64)>,
    /// Work waiting, by kind: (kind, jobs, how long the oldest has waited).
    backlog: Vec<(String, i64, String)>,
    jobs: Vec<JobRow>,
}

struct JobRow {
    id: String,
    queued: bool,
    kind: String,
    payload: String,
    status: String,
    attempts: i64,
    max_attempts: i64,
    run_at: String,
    last_error: String,
}

async fn jobs(State(state): State<AppState>, admin: Admin) -> Response {
    let (counts, list) = match (state.store.count_jobs().await, state.store.list_jobs(None, 200).await) {
        (Ok(c), Ok(l)) => (c, l),
        (Err(e), _) | (_, Err(e)) => return internal(e),
    };
    let t = admin.1.t;
    let counts = counts.into_iter().map(|(status, n)| (t.word("job_status", &status), n)).collect();
    let jobs = list
        .into_iter()
        .map(|j: Job| JobRow {
            id: j.id,
            queued: j.status == hark_store::JobStatus::Queued,
            kind: t.word_or_value("job", &j.kind),
            // What the job is about, as its other pages write facts (`Invitation id: …`), not JSON.
            payload: j.payload.as_object().map_or_else(|| j.payload.to_string(), |m| facts(t, m)),
            status: t.word("job_status", j.status.as_str()),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: admin.1.t.time(j.run_at),
            last_error: j.last_error.unwrap_or_default(),
        })
        .collect();
    let now = jiff::Timestamp::now().as_millisecond();
    let backlog = match state.store.job_backlog().await {
        Ok(b) => {
            b.into_iter().map(|(kind, n, oldest)| (t.word_or_value("job", &kind), n, waited(t, now - oldest))).collect()
        }
        Err(e) => return internal(e),
    };
    render(&JobsPage { title: t.0.text("jobs.title"), t, nav: Some(admin.1.clone()), counts, backlog, jobs })
}

/// A wait as people say it: "12 s", "4 min", "3 h", "2 days".
fn waited(t: Reader, ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => t.fill1("time.seconds", "s", s),
        60..3600 => t.fill1("time.minutes", "m", s / 60),
        3600..172_800 => t.fill1("time.hours", "h", s / 3600),
        _ => t.fill1("time.days", "d", s / 86_400),
    }
}

/// Runs a waiting job (a retry or a reminder) now instead of at its time.
async fn run_job_now(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    form(&admin, &body)?;
    if !state.store.run_job_now(&id).await.map_err(internal)? {
        return Err(not_found(&admin.1, "problem.no_queued_job"));
    }
    state.wake_jobs();
    Ok(Redirect::to("/admin/jobs").into_response())
}

#[derive(Template)]
#[template(path = "admin_contacts.html")]
struct ContactsPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    query: String,
    contacts: Vec<Contact>,
}

#[derive(Deserialize)]
struct ContactQuery {
    external_id: Option<String>,
}

async fn contacts(State(state): State<AppState>, admin: Admin, Query(q): Query<ContactQuery>) -> Response {
    let query = q.external_id.unwrap_or_default();
    let found = if query.trim().is_empty() {
        state.store.list_contacts(None, 100).await
    } else {
        state.store.find_contacts(&query, 100).await
    };
    match found {
        Ok(contacts) => {
            let t = admin.1.t;
            render(&ContactsPage { title: t.0.text("contacts.title"), t, nav: Some(admin.1.clone()), query, contacts })
        }
        Err(e) => internal(e),
    }
}

pub(crate) struct TimelineEntry {
    pub when: String,
    pub what: String,
    pub detail: String,
    /// Smaller lines under the detail: the answers to a survey's other questions, and what a
    /// comment is about ("What the comment is about: Delivery · sentiment: negative").
    pub notes: Vec<String>,
    /// A case's id, for a link to it where the reader may open every case (the contact page).
    pub case: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_contact.html")]
struct ContactPage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    c: Contact,
    /// The contact's language by its own name: "한국어 (ko)".
    language: String,
    /// The contact's attributes as people read them: `Country` `TH`, not `country` `"TH"`
    /// (the key as the dashboard's headings write it).
    attributes: Vec<(String, String)>,
    unsubscribed: String,
    timeline: Vec<TimelineEntry>,
}

/// One line of a contact's timeline as the admin pages show it: what, and its detail.
/// Extra answers or an answer's context as people read them: `reason: speed · wait time s: 60`.
pub(crate) fn facts(t: Reader, map: &serde_json::Map<String, serde_json::Value>) -> String {
    map.iter()
        .map(|(k, v)| fact(t, k, v))
        .map(|(name, value)| format!("{name}: {value}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// An answer's extra answers as its survey asks them, in its order, each (question, answer)
/// in the reader's language where the survey has it: "What should we improve first?" "delivery",
/// not "Improve: delivery".
pub(crate) fn survey_answers(
    t: Reader,
    survey: &SurveyDefinition,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> Vec<(String, String)> {
    let texts = survey.texts(t.0.tag);
    let asked = survey
        .questions
        .iter()
        .filter_map(|q| Some((texts.question_text(q), texts.answer_text(q, answers.get(&q.id)?))));
    // Answers to questions since removed from the survey, after those it still asks.
    let removed = answers.iter().filter(|(k, _)| !survey.questions.iter().any(|q| &q.id == *k));
    asked.chain(removed.map(|(k, v)| fact(t, k, v))).collect()
}

/// `survey_answers` on one line, for a table cell: "What should we improve first? delivery ·
/// Rate the app: 2/5" (a colon only where the question has no mark of its own).
pub(crate) fn survey_answers_line(
    t: Reader,
    survey: &SurveyDefinition,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let asked = |(q, a): (String, String)| {
        let marked = q.ends_with(['?', '？', ':', '：', '.', '。']);
        if marked { format!("{q} {a}") } else { format!("{q}: {a}") }
    };
    survey_answers(t, survey, answers).into_iter().map(asked).collect::<Vec<_>>().join(" · ")
}

/// A fact's name and value as people read them.
fn fact(t: Reader, k: &str, v: &serde_json::Value) -> (String, String) {
    match hark_core::insight::INTERACTION_FIGURES.iter().find(|f| f.0 == k) {
        // The call-centre figures by their names; seconds as minutes and seconds.
        Some((key, _, _, " s")) => {
            (figure_name(t, key), v.as_f64().map_or_else(|| value_text(t, v), |s| duration(t, s)))
        }
        Some((key, ..)) => (figure_name(t, key), value_text(t, v)),
        None => (crate::page::heading(k), value_text(t, v)),
    }
}

/// A stored value as people read it: text without JSON's quotes, a list as "a, b", a
/// yes or no in the reader's words.
fn value_text(t: Reader, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(yes) => t.text(if *yes { "dash.yes" } else { "dash.no" }).to_owned(),
        serde_json::Value::Array(items) => {
            items.iter().map(|i| i.as_str().map_or(i.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// A call-centre figure's name (`handle_time_s` → "Handle time") in the reader's language.
pub(crate) fn figure_name(t: Reader, key: &str) -> String {
    t.word("figure", key)
}

/// Seconds as a person says them: "45 s", "20 min 21 s".
fn duration(t: Reader, seconds: f64) -> String {
    let s = seconds.round() as i64;
    match (s / 60, s % 60) {
        (0, s) => t.fill1("time.seconds", "s", s),
        (m, 0) => t.fill1("time.minutes", "m", m),
        (m, s) => t.fill("time.minutes_seconds", &[("m", &m.to_string()), ("s", &s.to_string())]),
    }
}

/// An answer's segment in its kind's own word ("satisfied", "low effort"), in the reader's language.
pub(crate) fn segment_name(t: Reader, kind: SurveyKind, segment: Segment) -> String {
    t.word("segment", &kind.segment_word(segment).replace(' ', "_"))
}

/// What a comment is about, as the reader names it: "What the comment is about: Delivery ·
/// sentiment: negative"; nothing for a comment not read yet.
pub(crate) fn comment_reading(
    t: Reader,
    state: &AppState,
    themes: &[String],
    sentiment: Option<&str>,
) -> Option<String> {
    let sentiment = sentiment?;
    let themes = crate::dashboard::theme_names(state.store.reading().analyzer.themes(), t, themes);
    let themes = if themes.is_empty() { t.text("case.no_theme").to_owned() } else { themes };
    Some(t.fill2("case.reading", "themes", themes, "sentiment", t.word("sentiment", sentiment)))
}

/// One entry of a contact's timeline, as the pages show it.
pub(crate) fn timeline_entry(
    t: Reader,
    state: &AppState,
    surveys: &HashMap<String, SurveyDefinition>,
    item: &crate::ops::timeline::TimelineItem,
) -> TimelineEntry {
    use crate::ops::timeline::TimelineItem;
    let word = |kind: &str, value: &str| t.word_or_value(kind, value);
    let (what, detail, notes) = match item {
        // A personal link Hark made for you to deliver is shown, so it can be delivered.
        TimelineItem::Invitation(i) => {
            let what = t.fill(
                "timeline.invitation",
                &[("channel", &word("channel", &i.channel)), ("status", &word("invitation", i.status.as_str()))],
            );
            let detail = if i.status == hark_store::InvitationStatus::Issued {
                crate::ops::outreach::personal_link(state, &i.id)
            } else {
                i.status_detail.clone().unwrap_or_default()
            };
            (what, detail, Vec::new())
        }
        TimelineItem::Response(r) => {
            let survey = surveys.get(&r.survey_id);
            let kind = survey.map_or(SurveyKind::Nps, |s| s.kind);
            let what = t.fill(
                "timeline.answered",
                &[
                    ("score", &r.score.to_string()),
                    ("segment", &segment_name(t, kind, r.segment)),
                    ("channel", &word("channel", &r.channel)),
                ],
            );
            let answers = survey.map(|s| survey_answers_line(t, s, &r.answers));
            let reading = comment_reading(t, state, &r.themes, r.sentiment.as_deref());
            let notes = answers.filter(|a| !a.is_empty()).into_iter().chain(reading).collect();
            (what, r.comment.clone().unwrap_or_default(), notes)
        }
        TimelineItem::Case(c) => (
            t.fill(
                "timeline.case",
                &[("status", &word("status", c.status.as_str())), ("priority", &word("priority", c.priority.as_str()))],
            ),
            c.outcome.map(|o| t.fill1("timeline.outcome", "outcome", word("outcome", o.as_str()))).unwrap_or_default(),
            Vec::new(),
        ),
        TimelineItem::Note(n) => (t.fill1("timeline.note", "author", &n.author), n.body.clone(), Vec::new()),
        TimelineItem::Interaction(i) => {
            let figures = if i.figures.is_empty() { String::new() } else { format!(" ({})", facts(t, &i.figures)) };
            (
                t.fill1("timeline.interaction", "kind", &i.kind),
                format!("{}{figures}", i.summary.clone().unwrap_or_default()),
                Vec::new(),
            )
        }
        TimelineItem::Feedback(f) => {
            let rating = match (f.rating, f.rating_max) {
                (Some(r), Some(max)) => t.fill2("timeline.rating", "rating", r, "max", max),
                _ => String::new(),
            };
            let what = t.fill2("timeline.feedback", "source", word("source", &f.source), "rating", rating);
            (what, f.text.clone(), comment_reading(t, state, &f.themes, f.sentiment.as_deref()).into_iter().collect())
        }
    };
    let case = match item {
        TimelineItem::Case(c) => Some(c.id.clone()),
        _ => None,
    };
    TimelineEntry { when: t.time(item.at()), what, detail, notes, case }
}

/// A contact and everything that happened with them: invitations (sent, or skipped and
/// why), answers, cases, notes and interactions, newest first.
async fn contact(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let c = match state.store.get_contact(&id).await {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(&admin.1, "problem.no_contact"),
        Err(e) => return internal(e),
    };
    let (items, surveys) = match tokio::try_join!(
        crate::ops::timeline::timeline(&state, &id),
        crate::ops::surveys::definitions(&state.store)
    ) {
        Ok(read) => read,
        Err(e) => return internal(e),
    };
    let timeline = items.iter().map(|item| timeline_entry(admin.1.t, &state, &surveys, item)).collect();
    let unsubscribed =
        c.unsubscribed_at.map(|at| admin.1.t.time(at)).unwrap_or_else(|| admin.1.t.text("dash.no").into());
    let language = c.locale.as_deref().map_or_else(String::new, hark_core::i18n::language_shown);
    let attributes = c.attributes.iter().map(|(k, v)| (crate::page::heading(k), value_text(admin.1.t, v))).collect();
    render(&ContactPage {
        title: c.shown_name().to_owned(),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        c,
        language,
        attributes,
        unsubscribed,
        timeline,
    })
}

/// The contact's whole export (as `GET /api/v1/contacts/{id}/export`), to download and hand to
/// the person who asked for it.
async fn export_contact(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Page {
    let export = crate::ops::privacy::contact_export(&state, &id).await.map_err(internal)?;
    let export = export.ok_or_else(|| not_found(&admin.1, "problem.no_contact"))?;
    let body = serde_json::to_vec_pretty(&export).map_err(internal)?;
    // A stored contact's id (a UUID): safe in the header.
    let file = format!("attachment; filename=\"hark-contact-{id}.json\"");
    let disposition = HeaderValue::from_str(&file).map_err(internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "admin_erased.html")]
struct ErasedPage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    /// What was done, as (what, how many), leaving out what there was none of.
    done: Vec<(&'static str, u64)>,
}

/// Erases the contact (as `DELETE /api/v1/contacts/{id}`) once the admin has ticked the box
/// that says it cannot be undone, and says what was done, table by table.
async fn erase_contact(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let fields = form(&admin, &body)?;
    let contact = state.store.get_contact(&id).await.map_err(internal)?;
    let contact = contact.ok_or_else(|| not_found(&admin.1, "problem.no_contact"))?;
    if value(&fields, "confirm") != "yes" {
        let reason = crate::page::Reason::Key("problem.confirm_erase");
        return Err(crate::page::problem_page(StatusCode::UNPROCESSABLE_ENTITY, Some(admin.1.clone()), reason));
    }
    let e = state.store.erase_contact(&id).await.map_err(internal)?;
    tracing::info!(contact = %id, by = %admin.0.user.id, "contact erased from the contact page");
    let done = [
        ("erased.answers_anonymised", e.answers_anonymised),
        ("erased.invitations_unlinked", e.invitations_unlinked),
        ("erased.cases_unlinked", e.cases_unlinked),
        ("erased.case_texts_emptied", e.case_texts_emptied),
        ("erased.events_unlinked", e.events_unlinked),
        ("erased.notes_deleted", e.notes_deleted),
        ("erased.interactions_deleted", e.interactions_deleted),
        ("erased.feedback_deleted", e.feedback_deleted),
        ("erased.webhook_payloads_emptied", e.webhook_payloads_emptied),
        ("erased.jobs_emptied", e.jobs_emptied),
    ];
    let t = admin.1.t;
    let title = t.0.fill("erased.title", &[("name", contact.shown_name())]);
    let done = done.into_iter().filter(|(_, n)| *n > 0).collect();
    Ok(render(&ErasedPage { t, title, nav: Some(admin.1.clone()), done }))
}

#[cfg(test)]
mod editor_round_trip {
    //! Rendering a survey into the editor and saving the form unchanged gives back the same
    //! definition: no field is lost, moved to another question, or changed on the way.

    use proptest::prelude::*;

    use super::*;

    /// HTML character references back to text (named ones and `&#NN;` / `&#xHH;`).
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').map(|e| at + e).expect("a terminated reference");
            let name = &rest[at + 1..end];
            let code = match name {
                "lt" => '<' as u32,
                "gt" => '>' as u32,
                "amp" => '&' as u32,
                "quot" => '"' as u32,
                "apos" => '\'' as u32,
                _ if name.starts_with("#x") => u32::from_str_radix(&name[2..], 16).unwrap(),
                _ => name[1..].parse().unwrap(),
            };
            out.push(char::from_u32(code).unwrap());
            rest = &rest[end + 1..];
        }
        out + rest
    }

    fn attr(tag: &str, name: &str) -> Option<String> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    }

    /// The name–value pairs a browser would send for the page's survey form, as submitted
    /// without a change: text inputs, ticked boxes, textareas, each select's chosen option.
    fn submitted(html: &str) -> Vec<(String, String)> {
        let form = &html[html.find("<form method=\"post\"").unwrap()..];
        let form = &form[..form.find("</form>").unwrap()];
        let mut pairs = Vec::new();
        let mut rest = form;
        while let Some(start) = rest.find('<') {
            rest = &rest[start..];
            let end = rest.find('>').unwrap();
            let tag = &rest[..=end];
            let body = &rest[end + 1..];
            if tag.starts_with("<input") {
                let kind = attr(tag, "type").unwrap_or_default();
                if let Some(name) = attr(tag, "name")
                    && (kind != "checkbox" || tag.contains(" checked"))
                {
                    pairs.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                }
            } else if tag.starts_with("<textarea") {
                pairs.push((attr(tag, "name").unwrap(), unescape(&body[..body.find("</textarea>").unwrap()])));
            } else if tag.starts_with("<select") {
                let options = &body[..body.find("</select>").unwrap()];
                let tags: Vec<&str> = options.split("<option").skip(1).collect();
                let chosen = tags.iter().find(|o| o.contains(" selected")).or(tags.first()).unwrap();
                pairs.push((attr(tag, "name").unwrap(), attr(&format!("<option{chosen}"), "value").unwrap()));
            }
            rest = &rest[end + 1..];
        }
        pairs
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9가-힣ก-ฮ&<>\"'.,?!]([a-zA-Z0-9가-힣ก-ฮ &<>\"'.,?!]{0,30}[a-zA-Z0-9가-힣ก-ฮ&<>\"'.,?!])?"
    }

    fn segments() -> impl Strategy<Value = Vec<Segment>> {
        // The editor lists segments in one order; a survey's condition is a set.
        prop::collection::vec(any::<bool>(), 3).prop_map(|on| {
            [Segment::Detractor, Segment::Passive, Segment::Promoter]
                .iter()
                .zip(on)
                .filter(|(_, on)| *on)
                .map(|(s, _)| *s)
                .collect::<Vec<Segment>>()
        })
    }

    fn question(n: usize) -> impl Strategy<Value = Question> {
        let kinds = prop_oneof![
            Just(QuestionType::SingleChoice),
            Just(QuestionType::MultipleChoice),
            Just(QuestionType::ShortText),
            Just(QuestionType::Rating),
        ];
        (kinds, text(), prop::collection::vec(text(), 2..5), segments()).prop_map(
            move |(kind, text, options, show_if)| {
                let choice = matches!(kind, QuestionType::SingleChoice | QuestionType::MultipleChoice);
                Question { id: format!("q_{n}"), kind, text, options: if choice { options } else { vec![] }, show_if }
            },
        )
    }

    fn per_segment() -> impl Strategy<Value = hark_core::survey::PerSegment> {
        (prop::option::of(text()), prop::option::of(text()), prop::option::of(text()))
            .prop_map(|(detractor, passive, promoter)| hark_core::survey::PerSegment { detractor, passive, promoter })
    }

    fn definition() -> impl Strategy<Value = SurveyDefinition> {
        let kind = prop_oneof![Just(SurveyKind::Nps), Just(SurveyKind::Csat), Just(SurveyKind::Ces)];
        let questions =
            (0..=hark_core::survey::MAX_EXTRA_QUESTIONS).prop_flat_map(|n| (0..n).map(question).collect::<Vec<_>>());
        let trigger = ("[a-z][a-z_.]{0,15}", 0u32..2000, any::<bool>()).prop_map(|(event, delay_minutes, link)| {
            Trigger { event, delay_minutes, channel: if link { InviteChannel::Link } else { InviteChannel::Email } }
        });
        let widget = (any::<bool>(), 0u32..120, prop::option::of("[a-z/]{1,12}"), prop::option::of("[a-z_]{1,12}"))
            .prop_map(|(slide, delay_seconds, url_contains, on_event)| Widget {
                origins: vec!["https://shop.example.com".into()],
                placement: if slide { Placement::SlideIn } else { Placement::Popup },
                delay_seconds,
                url_contains,
                on_event,
            });
        let locale = prop_oneof![Just("en"), Just("ko"), Just("it"), Just("th")];
        (
            (text(), text(), kind, prop::option::of(text()), prop::option::of(text()), per_segment()),
            (prop::option::of(text()), questions, per_segment(), prop::option::of(text())),
            (locale, prop::option::of(text()), any::<bool>(), prop::option::of(0u32..400), prop::option::of(1u32..30)),
            (prop::collection::vec(trigger, 0..3), prop::option::of(widget)),
        )
            .prop_map(
                |(
                    (name, brand, kind, question, follow_up, follow_up_by_segment),
                    (agent_question, questions, thank_you, link_label),
                    (locale, translated, anonymous_link, fatigue_days, reminder_days),
                    (triggers, widget),
                )| {
                    let mut translations = BTreeMap::new();
                    if let Some(t) = translated.filter(|_| locale != "ko") {
                        translations.insert("ko".to_owned(), BTreeMap::from([("question".to_owned(), t)]));
                    }
                    SurveyDefinition {
                        name,
                        kind,
                        brand,
                        question,
                        follow_up,
                        follow_up_by_segment,
                        agent_question,
                        questions,
                        thank_you,
                        promoter_link: link_label
                            .map(|label| PromoterLink { label, url: "https://example.com/review?a=1&b=2".into() }),
                        default_locale: locale.into(),
                        translations,
                        anonymous_link,
                        fatigue_days,
                        reminder_days,
                        triggers,
                        widget,
                        playbooks: Default::default(),
                        root_causes: hark_core::survey::default_root_causes(),
                    }
                },
            )
            .prop_filter("a valid survey", |d| d.validate().is_ok())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn saving_the_editor_unchanged_keeps_the_definition(def in definition(), active in any::<bool>()) {
            let status = if active { SurveyStatus::Active } else { SurveyStatus::Draft };
            let survey = Survey {
                id: "s1".into(),
                definition: def.clone(),
                status,
                created_at: 0,
                updated_at: 0,
            };
            let page = EditPage::new("secret", Reader::english(), None, Some(&survey), SurveyForm::from(&def, status), vec![], false);
            let pairs = submitted(&page.render().unwrap());
            let (saved, saved_status, errors) = definition_from_form(&pairs, Some(&def));
            prop_assert!(errors.0.is_empty(), "{:?}", errors);
            prop_assert_eq!(saved_status, status);
            prop_assert_eq!(saved, def);
        }
    }
}

//! What every server-rendered staff page shares: rendering, the signed-in extractors, the
//! top bar, forms with their CSRF check, and the pages that say why something cannot be shown.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use hark_core::auth::constant_time_eq;
use hark_core::i18n::{self, Locale};
use hark_store::{CaseFilter, Role, Session, Survey};

use crate::AppState;
use crate::auth::session_token;
use crate::viewer::Viewer;

pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
        }
    }
}

/// A signed-in admin. Anyone else is sent to the sign-in page (or refused, if signed in
/// with a role that may not manage surveys).
pub(crate) struct Admin(pub(crate) Session, pub(crate) Nav);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let SignedIn(session, nav) = SignedIn::from_request_parts(parts, state).await?;
        if session.user.role != Role::Admin {
            return Err(forbidden_page(Some(nav), Reason::Key("problem.admins_only")));
        }
        Ok(Admin(session, nav))
    }
}

/// Whoever is signed in, whatever their role; anyone else is sent to the sign-in page.
pub(crate) struct SignedIn(pub(crate) Session, pub(crate) Nav);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = signed_in(parts, state).await?;
        let nav = Nav::load(state, &session, &parts.headers).await?;
        Ok(SignedIn(session, nav))
    }
}

/// The session of whoever is signed in; anyone else is sent to the sign-in page.
pub(crate) async fn signed_in(parts: &Parts, state: &AppState) -> Result<Session, Response> {
    let to_login = || {
        let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/admin");
        let next: String = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
        Redirect::to(&format!("/login?{next}")).into_response()
    };
    let Some(token) = session_token(&parts.headers) else { return Err(to_login()) };
    match state.store.session(&token).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(to_login()),
        Err(e) => {
            tracing::error!(error = %e, "session lookup failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, "try again in a moment").into_response())
        }
    }
}

/// The form's fields, after checking its CSRF token against the session's.
pub(crate) fn form(admin: &Admin, body: &[u8]) -> Result<Vec<(String, String)>, Response> {
    session_form(&admin.0, &admin.1, body)
}

/// The form's fields, after checking its CSRF token against any signed-in user's session;
/// else the page that says why not (a form left open across a new sign-in has a stale one).
pub(crate) fn session_form(session: &Session, nav: &Nav, body: &[u8]) -> Result<Vec<(String, String)>, Response> {
    let refuse = |status, key| problem_page(status, Some(nav.clone()), Reason::Key(key));
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|_| refuse(StatusCode::BAD_REQUEST, "problem.invalid"))?;
    let given = pairs.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or_default();
    if !constant_time_eq(given, &session.csrf_token) {
        return Err(refuse(StatusCode::FORBIDDEN, "problem.stale_form"));
    }
    Ok(pairs)
}

pub(crate) fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or_default()
}

/// A page, or the page that says why it cannot be shown.
pub(crate) type Page = Result<Response, Response>;

/// A stored survey, or the page that says why there is none.
pub(crate) async fn load_survey(state: &AppState, nav: &Nav, id: &str) -> Result<Survey, Response> {
    state.store.get_survey(id).await.map_err(internal)?.ok_or_else(|| not_found(nav, "problem.no_survey"))
}

/// The page that says there is no such thing; `key` names the sentence, e.g. `problem.no_case`.
pub(crate) fn not_found(nav: &Nav, key: &'static str) -> Response {
    problem_page(StatusCode::NOT_FOUND, Some(nav.clone()), Reason::Key(key))
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "admin page failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "something went wrong; nothing was changed").into_response()
}

/// How a person reads Hark: in their language, with times in their time zone (which every
/// time names).
#[derive(Clone, Copy)]
pub(crate) struct Reader(pub &'static Locale, pub &'static jiff::tz::TimeZone);

impl std::ops::Deref for Reader {
    type Target = Locale;
    fn deref(&self) -> &Locale {
        self.0
    }
}

/// A time zone by its IANA name, kept for the life of the process so that a [`Reader`] stays
/// `Copy`. Kept under its own spelling of its name (a lookup ignores case), so there are
/// never more than the database's some 600 zones, however a name is written.
pub(crate) fn zone(name: &str) -> Option<&'static jiff::tz::TimeZone> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static ZONES: OnceLock<Mutex<HashMap<String, &'static jiff::tz::TimeZone>>> = OnceLock::new();
    let found = jiff::tz::TimeZone::get(name).ok()?;
    let mut zones = ZONES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let kept = zones.entry(zone_name(&found).to_owned()).or_insert_with(|| Box::leak(Box::new(found.clone())));
    Some(*kept)
}

/// The zone's name as people and the API write it: `Asia/Seoul`, `UTC`.
pub(crate) fn zone_name(zone: &jiff::tz::TimeZone) -> &str {
    zone.iana_name().unwrap_or("UTC")
}

impl Reader {
    /// English in UTC: for what no person reads in their own way (tests, the sign-in refusals).
    pub fn english() -> Reader {
        Reader(i18n::base(), zone("UTC").expect("UTC is a zone"))
    }

    /// The language a person chose, else the first of their browser's that Hark has, else
    /// English; the zone they chose, else the organisation's.
    pub fn of(
        chosen: Option<&str>,
        chosen_zone: Option<&str>,
        org_zone: &jiff::tz::TimeZone,
        headers: &HeaderMap,
    ) -> Reader {
        let browser = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(i18n::accept_language);
        let locale = chosen
            .into_iter()
            .map(str::to_owned)
            .chain(browser.unwrap_or_default())
            .find_map(|tag| i18n::locale(&tag))
            .unwrap_or_else(i18n::base);
        let zone = chosen_zone.or(org_zone.iana_name()).and_then(zone).unwrap_or_else(|| Reader::english().1);
        Reader(locale, zone)
    }

    /// The zone's name, for what says which zone its days are in.
    pub fn zone_name(&self) -> &'static str {
        zone_name(self.1)
    }

    /// `text(key)` with its one `{name}` placeholder filled in.
    pub fn fill1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.fill(key, &[(name, &value.to_string())])
    }

    /// A stored word (a status, an outcome, a channel …) in the reader's language: the text
    /// of `{kind}.{value}`, e.g. `status.in_progress` → "in progress".
    pub fn word(&self, kind: &str, value: &str) -> String {
        self.text(&format!("{kind}.{value}")).to_owned()
    }

    /// `word`, for open-ended values (a channel an API client named): the value itself when
    /// Hark has no word for it.
    pub fn word_or_value(&self, kind: &str, value: &str) -> String {
        let key = format!("{kind}.{value}");
        if i18n::base().has(&key) { self.text(&key).to_owned() } else { value.to_owned() }
    }

    /// `text(key)` with its two placeholders filled in.
    pub fn fill2(&self, key: &str, a: &str, va: impl std::fmt::Display, b: &str, vb: impl std::fmt::Display) -> String {
        self.fill(key, &[(a, &va.to_string()), (b, &vb.to_string())])
    }

    /// A stored time (ms since 1970) to the minute, in the reader's zone.
    pub fn time(&self, ms: i64) -> String {
        jiff::Timestamp::from_millisecond(ms).map(|t| self.datetime(&t.to_zoned(self.1.clone()))).unwrap_or_default()
    }

    /// A day number (days since 1970-01-01).
    pub fn day(&self, day: i64) -> String {
        self.date(hark_core::report::date_of_day(day))
    }

    /// What is wrong with a field, in the reader's language when Hark has the words (the
    /// API's own English otherwise).
    pub fn said(&self, e: &hark_core::FieldError) -> String {
        e.message_in(self.0)
    }

    /// A field's name on the form, e.g. `triggers[1].event` → "Trigger 2: event"; `None` for
    /// a field no form shows, which is then named by its path. Looked up as `field.` and the
    /// path without its indexes, else its last part; `{n}` counts from 1.
    pub fn field_label(&self, field: &str) -> Option<String> {
        let n = field
            .split('[')
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .and_then(|i| i.parse::<usize>().ok())
            .map_or(String::new(), |i| (i + 1).to_string());
        let mut path = String::new();
        let mut in_index = false;
        for c in field.chars() {
            match c {
                '[' => in_index = true,
                ']' => in_index = false,
                c if !in_index => path.push(c),
                _ => {}
            }
        }
        let last = path.rsplit('.').next().unwrap_or(&path);
        let fill = |key: &str| self.fill1(key, "n", &n).trim().to_owned();
        let full = format!("field.{path}");
        if i18n::base().has(&full) {
            return Some(fill(&full));
        }
        // A generic name ("Days to follow up") says whose field it is: a segment's playbook's
        // or a numbered rule's.
        let label = Some(format!("field.{last}")).filter(|key| i18n::base().has(key)).map(|key| fill(&key))?;
        let whose = path.split('.').find_map(|part| match part {
            "detractor" | "passive" | "promoter" => Some(self.text(&format!("edit.{part}s")).to_owned()),
            "rules" => Some(self.fill1("field.rule", "n", &n)),
            rule => rule
                .strip_prefix("rule")
                .and_then(|i| i.parse::<usize>().ok())
                .map(|i| self.fill1("field.rule", "n", i + 1)),
        });
        Some(match whose {
            Some(whose) => format!("{whose} · {label}"),
            None => label,
        })
    }

    /// An unsigned figure's interval after it, in `unit`: " (95% CI 74% to 88%)"; nothing
    /// without one.
    pub fn interval_after(&self, i: Option<hark_core::Interval>, decimals: usize, unit: &str) -> String {
        i.map_or_else(String::new, |i| {
            let (low, high) = (self.number(i.low, decimals) + unit, self.number(i.high, decimals) + unit);
            format!(" ({})", self.fill("fmt.ci", &[("low", &low), ("high", &high)]))
        })
    }

    /// An NPS with its interval: "+21 (95% CI +17 to +25)", or that there are no answers.
    pub fn nps(&self, s: &hark_core::NpsSummary) -> String {
        match (s.nps, s.interval) {
            (Some(nps), Some(i)) => format!("{} ({})", self.signed(nps, 0), self.ci(i, 0)),
            _ => self.text("dash.no_answers").into(),
        }
    }

    /// A field error as a sentence: "Quiet window: at most 3650 days".
    pub fn field_error(&self, e: &hark_core::FieldError) -> String {
        let field = self.field_label(&e.field).unwrap_or_else(|| e.field.clone());
        self.fill2("invalid.field", "field", field, "problem", self.said(e))
    }

    /// A cron schedule in words, for the common ones: every day, a day of the week or of the
    /// month at a time ("every Monday at 08:00"); `None` for any other, shown as written.
    pub fn schedule(&self, pattern: &str) -> Option<String> {
        let [minute, hour, day, month, weekday] = pattern.split_whitespace().collect::<Vec<_>>()[..] else {
            return None;
        };
        let (minute, hour) =
            (minute.parse::<u8>().ok().filter(|m| *m < 60)?, hour.parse::<u8>().ok().filter(|h| *h < 24)?);
        let time = format!("{hour:02}:{minute:02}");
        const DAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
        let weekday_number = |w: &str| {
            let w = w.to_ascii_uppercase();
            // cron counts Sunday as 0 or 7, Monday as 1.
            DAYS.iter()
                .position(|d| *d == w)
                .or_else(|| w.parse::<usize>().ok().filter(|n| *n <= 7).map(|n| (n + 6) % 7))
        };
        match (day, month, weekday) {
            ("*", "*", "*") => Some(self.fill1("schedule.daily", "time", time)),
            ("*", "*", w) => {
                let day = self.text(&format!("weekday.{}", weekday_number(w)? + 1)).to_owned();
                Some(self.fill2("schedule.weekly", "day", day, "time", time))
            }
            (d, "*", "*") => {
                let d = d.parse::<u8>().ok().filter(|d| (1..=31).contains(d))?;
                Some(self.fill2("schedule.monthly", "day", d, "time", time))
            }
            _ => None,
        }
    }

    /// A stored ISO date (`2026-03-01`) as the reader writes it; anything else as it is.
    pub fn iso_date(&self, text: &str) -> String {
        text.parse::<jiff::civil::Date>().map_or_else(|_| text.to_owned(), |d| self.date(d))
    }
}

/// The top bar of every staff page: the links a role may use, and its case counts.
#[derive(Clone)]
pub(crate) struct Nav {
    /// The language (and zone) the page is written in.
    pub t: Reader,
    pub csrf: String,
    pub admin: bool,
    /// May read the loop report (`Viewer::reads_the_loop`).
    pub loop_report: bool,
    /// Open cases the person owns.
    pub mine: i64,
    /// Overdue cases within their reach.
    pub overdue: i64,
}

impl Nav {
    pub async fn load(state: &AppState, session: &Session, headers: &HeaderMap) -> Result<Nav, Response> {
        let store = &state.store;
        let viewer = Viewer::of(session.clone());
        let mine = CaseFilter { owner_id: Some(session.user.id.clone()), open_only: true, ..Default::default() };
        let overdue = CaseFilter { overdue: true, reach: viewer.case_reach(), ..Default::default() };
        let count = async |f: &CaseFilter| store.count_cases(f).await.map_err(crate::page::internal);
        Ok(Nav {
            t: Reader::of(
                session.user.locale.as_deref(),
                session.user.time_zone.as_deref(),
                &state.config.time_zone,
                headers,
            ),
            csrf: session.csrf_token.clone(),
            admin: session.user.role == Role::Admin,
            loop_report: Viewer::reads_the_loop(session.user.role),
            mine: count(&mine).await?,
            overdue: count(&overdue).await?,
        })
    }
}

#[derive(Template)]
#[template(path = "staff_problem.html")]
struct ProblemPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    /// `forbidden`, `not-found` or `refused`, for the page's alert.
    id: &'static str,
    reason: String,
}

/// Why a page cannot be shown.
pub(crate) enum Reason {
    /// A sentence of the locale files, in the reader's language.
    Key(&'static str),
    /// An operation's refusal (shared with the API): its fields at fault and its reason in
    /// the reader's words where Hark has them; else its English detail to English readers and
    /// the sentence for its status to others.
    Refused(Box<crate::problem::Problem>),
}

impl Reason {
    pub fn text(self, t: Reader, status: StatusCode) -> String {
        let english = t.tag == i18n::BASE_LOCALE;
        match self {
            Reason::Key(key) => t.text(key).to_owned(),
            Reason::Refused(p) if !p.errors.is_empty() && (english || p.errors.iter().all(|e| e.why.is_some())) => {
                p.errors.iter().map(|e| t.field_error(e)).collect::<Vec<_>>().join(" ")
            }
            Reason::Refused(p) if p.why.is_some() => p.why.as_ref().map(|w| w.in_language(t.0)).unwrap_or_default(),
            Reason::Refused(p) if english => p.detail,
            Reason::Refused(_) => t
                .text(match status {
                    StatusCode::FORBIDDEN => "problem.forbidden",
                    StatusCode::NOT_FOUND => "problem.not_found",
                    s if s.is_client_error() => "problem.invalid",
                    _ => "problem.failed",
                })
                .to_owned(),
        }
    }
}

/// A staff page that says why it cannot show what was asked, and where to go instead; without
/// a signed-in person (`nav`), in English.
pub(crate) fn problem_page(status: StatusCode, nav: Option<Nav>, reason: Reason) -> Response {
    let t = nav.as_ref().map_or_else(Reader::english, |n| n.t);
    let (title, id) = match status {
        StatusCode::FORBIDDEN => ("problem.forbidden_title", "forbidden"),
        StatusCode::NOT_FOUND => ("problem.not_found_title", "not-found"),
        _ => ("problem.refused_title", "refused"),
    };
    let title = t.0.text(title);
    let reason = reason.text(t, status);
    (status, crate::page::render(&ProblemPage { t, title, nav, id, reason })).into_response()
}

/// The page that says a signed-in person may not see or do this, and where to go instead.
pub(crate) fn forbidden_page(nav: Option<Nav>, reason: Reason) -> Response {
    problem_page(StatusCode::FORBIDDEN, nav, reason)
}

/// A viewer on a page: signed in with any role, else sent to sign in.
pub(crate) struct PageViewer(pub Viewer, pub Nav);

impl FromRequestParts<AppState> for PageViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let session = crate::page::signed_in(parts, state).await?;
        let nav = Nav::load(state, &session, &parts.headers).await?;
        Ok(PageViewer(Viewer::of(session), nav))
    }
}
/// A CSV file to save as `hark-{name}.csv`.
pub(crate) fn csv_download(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"hark-{name}.csv\"")),
        ],
        body,
    )
        .into_response()
}

/// A key or a word as a heading: `wait_time` → "Wait time", `satisfied` → "Satisfied".
pub(crate) fn heading(key: &str) -> String {
    let text = key.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// However a name is written, one zone is kept for it: a signed-in person choosing
    /// `ASIA/seoul`, `asia/SEOUL` … cannot make the process keep more.
    #[test]
    fn a_zone_is_kept_once_under_its_own_name() {
        let seoul = zone("Asia/Seoul").unwrap();
        for spelling in ["asia/seoul", "ASIA/SEOUL", "Asia/Seoul"] {
            if let Some(z) = zone(spelling) {
                assert!(std::ptr::eq(z, seoul), "{spelling}");
                assert_eq!(zone_name(z), "Asia/Seoul");
            }
        }
        assert!(zone("Mars/Olympus").is_none());
        let t = Reader(i18n::locale("ko").unwrap(), seoul);
        assert_eq!(t.time(1_764_558_000_000), "2025. 12. 1. 12:00 Asia/Seoul");
    }

    /// A field at fault is named as its form names it, counted from 1, with whose playbook it
    /// is; a path no form shows is given as it is.
    #[test]
    fn a_field_is_named_as_its_form_names_it() {
        let en = Reader::english();
        let ko = Reader(i18n::locale("ko").unwrap(), en.1);
        assert_eq!(en.field_label("fatigue_days").as_deref(), Some("Quiet window"));
        assert_eq!(en.field_label("triggers[1].event").as_deref(), Some("Trigger 2: event"));
        assert_eq!(en.field_label("widget.origins").as_deref(), Some("Widget site"));
        assert_eq!(en.field_label("questions[0].options[3]").as_deref(), Some("Extra question 1: options"));
        assert_eq!(en.field_label("playbooks.detractor.due_days").as_deref(), Some("Detractors · Days to follow up"));
        assert_eq!(en.field_label("rule2.score_min").as_deref(), Some("Rule 3 · Lowest score"));
        assert_eq!(en.field_label("thank_you.promoter").as_deref(), Some("Thank-you for promoters"));
        assert_eq!(ko.field_label("triggers[0].delay_minutes").as_deref(), Some("트리거 1: 지연"));
        assert_eq!(en.field_label("context.wait_time_s"), None);
        let e =
            hark_core::FieldError::new("fatigue_days", hark_core::Why::new("invalid.at_most_days").with("max", 3650));
        assert_eq!(e.message, "at most 3650 days", "the API's English");
        assert_eq!(ko.field_error(&e), "설문 제외 기간: 최대 3650일");
    }

    /// The common digest schedules read as words; others are shown as written.
    #[test]
    fn a_schedule_reads_as_words() {
        let en = Reader::english();
        let ko = Reader(i18n::locale("ko").unwrap(), en.1);
        assert_eq!(en.schedule("0 8 * * MON").as_deref(), Some("every Monday at 08:00"));
        assert_eq!(en.schedule("30 17 * * 0").as_deref(), Some("every Sunday at 17:30"));
        assert_eq!(en.schedule("0 8 1 * *").as_deref(), Some("on day 1 of each month at 08:00"));
        assert_eq!(en.schedule("0 6 * * *").as_deref(), Some("every day at 06:00"));
        assert_eq!(ko.schedule("0 8 * * MON").as_deref(), Some("매주 월요일 08:00"));
        for other in ["*/5 * * * *", "0 8 * * MON-FRI", "0 8 1 1 *", "0 25 * * *", "every monday"] {
            assert_eq!(en.schedule(other), None, "{other}");
        }
    }
}

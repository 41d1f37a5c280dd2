//! The website widget: `/widget.js` (one script tag, no dependencies, its own shadow root)
//! and the JSON endpoints it calls. Only the origins configured on the survey may call them.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hark_core::Segment;
use hark_core::contact::ContactInput;
use hark_core::fatigue::{self, Reach};
use hark_core::token::TokenKind;
use hark_store::{Survey, SurveyStatus};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::AppState;
use crate::extract::parse_json;
use crate::guard::ClientIp;
use crate::ingest::{ResponseInput, submit};
use crate::ops::answer::{Changes, change};
use crate::problem::ApiError;

const WIDGET_JS: &str = include_str!("../../assets/widget.js");

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/widget.js", get(script))
        .route("/w/{survey_id}/config", get(config).options(preflight_survey))
        .route("/w/{survey_id}/responses", axum::routing::post(respond).options(preflight_survey))
        .route("/w/r/{token}", axum::routing::post(comment).options(preflight_response))
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")],
        WIDGET_JS,
    )
        .into_response()
}

/// The calling site's origin, if the survey's widget allows it.
fn allowed_origin(survey: &Survey, headers: &HeaderMap) -> Result<String, ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()).unwrap_or_default();
    let widget = survey.definition.widget.as_ref().ok_or_else(|| ApiError::not_found("widget for this survey"))?;
    if widget.origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        Ok(origin.to_owned())
    } else {
        Err(ApiError::forbidden(format!(
            "origin `{origin}` may not use this survey's widget; add it to the survey's widget origins"
        )))
    }
}

fn with_cors(origin: &str, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    response
}

fn preflight(origin: &str) -> Response {
    let mut response = with_cors(origin, StatusCode::NO_CONTENT);
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

async fn widget_survey(state: &AppState, id: &str) -> Result<Survey, ApiError> {
    let survey = state.store.survey_for_answers(id).await?.ok_or_else(|| ApiError::not_found("survey"))?;
    if survey.status != SurveyStatus::Active || survey.definition.widget.is_none() {
        return Err(ApiError::not_found("active survey with a widget"));
    }
    Ok(survey)
}

async fn preflight_survey(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let survey = widget_survey(&state, &id).await?;
    Ok(preflight(&allowed_origin(&survey, &headers)?))
}

async fn preflight_response(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (survey, _) = response_of(&state, &token).await?;
    Ok(preflight(&allowed_origin(&survey, &headers)?))
}

#[derive(Deserialize)]
struct ConfigQuery {
    visitor: Option<String>,
    visitor_signature: Option<String>,
    lang: Option<String>,
}

/// Whether the website vouched for this visitor id with the installation's widget secret;
/// without it an id is only a claim, and the widget treats the visitor as anonymous.
fn vouched_for(state: &AppState, external_id: &str, signature: Option<&str>) -> bool {
    let expected = hark_core::auth::visitor_signature(&state.widget_secret, external_id);
    signature.is_some_and(|given| hark_core::auth::constant_time_eq(given.trim(), &expected))
}

#[derive(Serialize)]
struct WidgetConfig {
    /// False when this visitor was surveyed inside the window or unsubscribed.
    show: bool,
    lang: String,
    dir: &'static str,
    placement: hark_core::survey::Placement,
    delay_seconds: u32,
    url_contains: Option<String>,
    on_event: Option<String>,
    fatigue_days: u32,
    min: i64,
    max: i64,
    question: String,
    low: String,
    high: String,
    /// Score → segment, so the script can ask the right follow-up.
    segments: Vec<Segment>,
    follow_up: Map<String, Value>,
    thank_you: Map<String, Value>,
    send: String,
    close: String,
    score_labels: Vec<String>,
}

async fn config(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ConfigQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let survey = widget_survey(&state, &id).await?;
    let origin = allowed_origin(&survey, &headers)?;
    let def = &survey.definition;
    let widget = def.widget.clone().expect("checked by widget_survey");
    let mut show = true;
    let mut contact_locale = None;
    // Only a vouched-for visitor is looked up: otherwise anyone could learn whether an id
    // was surveyed.
    if let Some(visitor) = query.visitor.as_deref().filter(|v| !v.is_empty())
        && vouched_for(&state, visitor, query.visitor_signature.as_deref())
        && let Some(contact) = state.store.contact_by_external_id(visitor).await?
    {
        let surveyed = state.store.surveyed(&[&contact.id]).await?;
        let reach = Reach {
            unsubscribed: contact.unsubscribed_at.is_some(),
            needs_email: false,
            has_email: contact.email.is_some(),
            last_this_survey_ms: surveyed.last(&contact.id, Some(&survey.id)),
            last_any_survey_ms: surveyed.last(&contact.id, None),
        };
        let now = jiff::Timestamp::now().as_millisecond();
        show = fatigue::check(now, &reach, def.fatigue_window_days(), state.config.global_fatigue_days).is_ok();
        contact_locale = contact.locale;
    }
    let lang = def.choose_language(contact_locale.as_deref().into_iter().chain(query.lang.as_deref()));
    let t = def.texts(&lang);
    let (min, max) = def.kind.range();
    let (low, high) = t.scale_ends();
    let per_segment = |f: &dyn Fn(Segment) -> String| {
        [Segment::Detractor, Segment::Passive, Segment::Promoter]
            .into_iter()
            .map(|s| (s.as_str().to_owned(), Value::String(f(s))))
            .collect::<Map<_, _>>()
    };
    let body = WidgetConfig {
        show,
        lang: t.lang().into(),
        dir: t.locale.dir(),
        placement: widget.placement,
        delay_seconds: widget.delay_seconds,
        url_contains: widget.url_contains,
        on_event: widget.on_event,
        fatigue_days: def.fatigue_window_days(),
        min,
        max,
        question: t.question(),
        low,
        high,
        segments: (min..=max).map(|n| def.kind.segment(n)).collect(),
        follow_up: per_segment(&|s| t.follow_up(s)),
        thank_you: per_segment(&|s| t.thank_you(s)),
        send: t.ui("send", &[]),
        close: t.ui("widget.close", &[]),
        score_labels: (min..=max)
            .map(|n| t.ui("score_of", &[("n", &n.to_string()), ("max", &max.to_string())]))
            .collect(),
    };
    Ok(with_cors(&origin, Json(body)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WidgetAnswer {
    score: i64,
    /// Unique per showing: a resent request is not counted twice.
    nonce: String,
    /// A visitor the site identified (`Hark.identify({...})`): created or updated as a
    /// contact only with a valid `visitor_signature`, else the answer is anonymous.
    visitor: Option<ContactInput>,
    visitor_signature: Option<String>,
    lang: Option<String>,
    /// The page the widget was shown on.
    page: Option<String>,
}

#[derive(Serialize)]
struct Stored {
    /// Pass to `/w/r/{token}` to add the comment.
    token: String,
    segment: Segment,
}

async fn respond(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let survey = widget_survey(&state, &id).await?;
    let origin = allowed_origin(&survey, &headers)?;
    let rates = state.rates();
    let limits = [
        ("answers", ip.as_str(), rates.answers_per_ip),
        ("answers to this survey", &survey.id, rates.answers_per_survey),
    ];
    if let Err(refused) = state.limit(&limits) {
        return Ok(with_cors(&origin, refused));
    }
    let answer: WidgetAnswer = parse_json(&body)?;
    if answer.nonce.is_empty() || answer.nonce.len() > 64 {
        return Err(ApiError::field("nonce", "1–64 characters"));
    }
    let mut context = Map::new();
    if let Some(page) = answer.page {
        context.insert("page".into(), Value::String(page.chars().take(500).collect()));
    }
    let visitor = answer.visitor.filter(|v| vouched_for(&state, &v.external_id, answer.visitor_signature.as_deref()));
    let input = ResponseInput {
        survey_id: survey.id.clone(),
        score: answer.score,
        contact: visitor,
        channel: Some("widget".into()),
        language: answer.lang.map(|l| survey.definition.choose_language([l.as_str()])),
        context,
        ..ResponseInput::default()
    };
    let stored = submit(&state.store, input, Some(format!("widget:{}", answer.nonce))).await?;
    let token = state.signer.sign(TokenKind::Response, &stored.response.id);
    let status = if stored.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok(with_cors(&origin, (status, Json(Stored { token, segment: stored.response.segment }))))
}

async fn response_of(state: &AppState, token: &str) -> Result<(Survey, hark_store::Response), ApiError> {
    let id = state
        .signer
        .verify_kind(token, TokenKind::Response)
        .ok_or_else(|| ApiError::not_found("response for this token"))?;
    let response = state.store.get_response(&id).await?.ok_or_else(|| ApiError::not_found("response"))?;
    let survey = widget_survey(state, &response.survey_id).await?;
    Ok((survey, response))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentInput {
    comment: String,
}

async fn comment(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let (survey, response) = response_of(&state, &token).await?;
    let origin = allowed_origin(&survey, &headers)?;
    if let Err(refused) = state.limit(&[("saves", &ip, state.rates().follow_ups_per_ip)]) {
        return Ok(with_cors(&origin, refused));
    }
    let input: CommentInput = parse_json(&body)?;
    change(&state, &survey, &response, Changes { comment: Some(input.comment), ..Changes::default() }).await?;
    Ok(with_cors(&origin, StatusCode::NO_CONTENT))
}

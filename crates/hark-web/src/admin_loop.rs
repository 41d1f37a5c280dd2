//! The admin pages for closing the loop: the case board and case page, playbooks and reward
//! codes, integrations (webhooks with their delivery log), and the closing-the-loop report.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use hark_core::FieldError;
use hark_core::playbook::{Playbooks, Priority};
use hark_store::{CASE_STEPS, CaseStatus};

use crate::AppState;
use crate::admin::{Admin, Page, form, internal, load_survey, not_found, time, value};
use crate::api::follow_up::{
    CaseAction, WEBHOOK_EVENTS, WebhookInput, case_change, case_filter, check_webhook, period, send_test, timeline,
};
use crate::cases::{LoopFigures, change, loop_report};
use crate::extract::RawQuery;
use crate::public::render;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/cases", get(cases))
        .route("/admin/cases/{id}", get(case_page).post(act))
        .route("/admin/surveys/{id}/playbooks", get(playbooks_page).post(save_playbooks))
        .route("/admin/surveys/{id}/codes", post(upload_codes))
        .route("/admin/integrations", get(integrations).post(add_integration))
        .route("/admin/integrations/{id}/test", post(test_integration))
        .route("/admin/integrations/{id}/delete", post(delete_integration))
        .route("/admin/loop", get(loop_page))
}

fn csrf(admin: &Admin) -> Option<String> {
    Some(admin.0.csrf_token.clone())
}

fn excerpt(text: Option<&str>, chars: usize) -> String {
    let text = text.unwrap_or_default();
    if text.chars().count() <= chars { text.to_owned() } else { text.chars().take(chars).collect::<String>() + "…" }
}

struct CaseRow {
    id: String,
    customer: String,
    score: String,
    comment: String,
    owner: String,
    status: &'static str,
    high: bool,
    due: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "admin_cases.html")]
struct CasesPage {
    title: &'static str,
    csrf: Option<String>,
    statuses: Vec<&'static str>,
    status: String,
    users: Vec<(String, String)>,
    owner: String,
    teams: Vec<(String, String)>,
    team: String,
    overdue: bool,
    cases: Vec<CaseRow>,
}

/// How a case names its customer: their name or id; "erased" after an erasure, and
/// "anonymous" for an answer that never had a contact.
async fn customer_name(
    store: &hark_store::Store,
    case: &hark_store::Case,
    contact: Option<hark_store::Contact>,
) -> Result<String, hark_store::StoreError> {
    Ok(match contact {
        Some(c) => c.name.unwrap_or(c.external_id),
        None if store.case_contact_erased(&case.id).await? => "(erased)".into(),
        None => "anonymous".into(),
    })
}

async fn cases(State(state): State<AppState>, admin: Admin, RawQuery(q): RawQuery) -> Page {
    let (mut filter, limit) = case_filter(&q).map_err(IntoResponse::into_response)?;
    if filter.status.is_none() {
        filter.open_only = true;
    }
    let store = &state.store;
    let list = store.list_cases(&filter, limit).await.map_err(internal)?;
    let users = store.list_users().await.map_err(internal)?;
    let now = jiff::Timestamp::now().as_millisecond();
    let mut rows = Vec::new();
    for c in list {
        let response = store.get_response(&c.response_id).await.map_err(internal)?;
        let contact = match &c.contact_id {
            Some(id) => store.get_contact(id).await.map_err(internal)?,
            None => None,
        };
        rows.push(CaseRow {
            customer: customer_name(store, &c, contact).await.map_err(internal)?,
            score: response.as_ref().map(|r| r.score.to_string()).unwrap_or_default(),
            comment: excerpt(response.as_ref().and_then(|r| r.comment.as_deref()), 90),
            owner: c
                .owner_id
                .as_ref()
                .and_then(|o| users.iter().find(|u| &u.id == o))
                .map(|u| u.email.clone())
                .unwrap_or_else(|| "unassigned".into()),
            status: c.status.as_str(),
            high: c.priority == Priority::High,
            due: time(c.due_at),
            overdue: c.closed_at.is_none() && c.due_at < now,
            id: c.id,
        });
    }
    let teams = store.list_teams().await.map_err(internal)?;
    Ok(render(&CasesPage {
        title: "Cases",
        csrf: csrf(&admin),
        statuses: CaseStatus::ALL.iter().map(|s| s.as_str()).collect(),
        status: filter.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        users: users.into_iter().map(|u| (u.id, u.email)).collect(),
        owner: filter.owner_id.unwrap_or_default(),
        teams: teams.into_iter().map(|t| (t.id, t.name)).collect(),
        team: filter.team_id.unwrap_or_default(),
        overdue: filter.overdue,
        cases: rows,
    }))
}

#[derive(Template)]
#[template(path = "admin_case.html")]
struct CasePage {
    title: String,
    csrf: Option<String>,
    error: Option<String>,
    id: String,
    customer: String,
    customer_email: String,
    contact_id: String,
    status: &'static str,
    priority: &'static str,
    high: bool,
    due: String,
    overdue: bool,
    owner: String,
    /// The current owner's id, preselected in the owner form.
    owner_id: String,
    /// The statuses a person sets (a held case shows "held" until released).
    statuses: Vec<(&'static str, &'static str)>,
    outcome: Option<&'static str>,
    root_cause: Option<String>,
    closed: bool,
    score: String,
    comment: String,
    answers: String,
    context: String,
    steps: Vec<(&'static str, &'static str, bool)>,
    reply_subject: String,
    /// False without a mail server: the reply form says so before anyone writes.
    can_mail: bool,
    users: Vec<(String, String)>,
    root_causes: Vec<String>,
    history: Vec<(String, String, String)>,
    earlier: Vec<(String, String, String)>,
}

async fn case_view(state: &AppState, admin: &Admin, id: &str, error: Option<String>) -> Page {
    let store = &state.store;
    let case = store.get_case(id).await.map_err(internal)?.ok_or_else(|| not_found("case"))?;
    let response = store.get_response(&case.response_id).await.map_err(internal)?;
    let survey = load_survey(state, &case.survey_id).await?;
    let contact = match &case.contact_id {
        Some(c) => store.get_contact(c).await.map_err(internal)?,
        None => None,
    };
    let users = store.list_users().await.map_err(internal)?;
    let name_of = |uid: &Option<String>| {
        uid.as_ref()
            .and_then(|o| users.iter().find(|u| &u.id == o))
            .map(|u| u.email.clone())
            .unwrap_or_else(|| "unassigned".into())
    };
    let history = store
        .case_events(id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|e| {
            let detail = match e.kind.as_str() {
                "assigned" => format!("assigned to {}", name_of(&e.detail["owner_id"].as_str().map(str::to_owned))),
                "reply" => format!("replied: {}", e.detail["subject"].as_str().unwrap_or_default()),
                "note" => format!("note: {}", e.detail["body"].as_str().unwrap_or_default()),
                "step" => format!(
                    "step {} {}",
                    e.detail["step"].as_str().unwrap_or_default(),
                    if e.detail["done"] == true { "done" } else { "undone" }
                ),
                _ => format!("{} {}", e.kind, e.detail),
            };
            (time(e.created_at), e.actor, detail)
        })
        .collect();
    let earlier = match &case.contact_id {
        Some(c) => timeline(state, c)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|i| i.at() < case.created_at)
            .take(20)
            .map(|i| {
                let (what, detail) = crate::admin::timeline_line(state, &i);
                (time(i.at()), what, detail)
            })
            .collect(),
        None => Vec::new(),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let customer = customer_name(store, &case, contact.clone()).await.map_err(internal)?;
    Ok(render(&CasePage {
        title: format!("Case: {customer}"),
        csrf: csrf(admin),
        error,
        id: case.id.clone(),
        customer_email: contact.as_ref().and_then(|c| c.email.clone()).unwrap_or_else(|| "(no email address)".into()),
        contact_id: case.contact_id.clone().unwrap_or_default(),
        customer,
        status: case.status.as_str(),
        priority: case.priority.as_str(),
        high: case.priority == Priority::High,
        due: time(case.due_at),
        overdue: case.closed_at.is_none() && case.due_at < now,
        owner: name_of(&case.owner_id),
        owner_id: case.owner_id.clone().unwrap_or_default(),
        statuses: {
            let mut statuses = vec![("open", "open"), ("in_progress", "in progress"), ("waiting", "waiting")];
            if case.status == CaseStatus::Held {
                statuses.insert(0, ("held", "held (choose open to release)"));
            }
            statuses
        },
        outcome: case.outcome.map(|o| o.as_str()),
        root_cause: case.root_cause.clone(),
        closed: case.status == CaseStatus::Closed,
        score: response.as_ref().map(|r| format!("{} ({})", r.score, r.segment.as_str())).unwrap_or_default(),
        comment: response.as_ref().and_then(|r| r.comment.clone()).unwrap_or_else(|| "(no comment)".into()),
        answers: response
            .as_ref()
            .filter(|r| !r.answers.is_empty())
            .map(|r| serde_json::Value::Object(r.answers.clone()).to_string())
            .unwrap_or_default(),
        context: response
            .as_ref()
            .filter(|r| !r.context.is_empty())
            .map(|r| serde_json::Value::Object(r.context.clone()).to_string())
            .unwrap_or_default(),
        steps: CASE_STEPS.iter().map(|(s, l)| (*s, *l, case.steps.iter().any(|d| d == s))).collect(),
        reply_subject: format!("About your feedback to {}", survey.definition.brand),
        can_mail: state.can_mail(),
        users: users.iter().map(|u| (u.id.clone(), u.email.clone())).collect(),
        root_causes: survey.definition.root_causes.clone(),
        history,
        earlier,
    }))
}

async fn case_page(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Page {
    case_view(&state, &admin, &id, None).await
}

/// One action from the case page; recorded with the signed-in user as the actor.
async fn act(State(state): State<AppState>, admin: Admin, Path(id): Path<String>, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body).map_err(IntoResponse::into_response)?;
    let case = state.store.get_case(&id).await.map_err(internal)?.ok_or_else(|| not_found("case"))?;
    let text = |name: &str| value(&pairs, name).to_owned();
    let action = match value(&pairs, "action") {
        "status" => CaseAction::Status { status: text("status") },
        "assign" => CaseAction::Assign { owner_id: Some(text("owner_id")).filter(|o| !o.is_empty()) },
        "step" => CaseAction::Step { step: text("step"), done: value(&pairs, "done") == "true" },
        "reply" => CaseAction::Reply { subject: text("subject"), body: text("body") },
        "note" => CaseAction::Note { body: text("body") },
        "close" => CaseAction::Close { outcome: text("outcome"), root_cause: Some(text("root_cause")) },
        other => return Err((StatusCode::BAD_REQUEST, format!("unknown action `{other}`")).into_response()),
    };
    let result = match case_change(&state, &case, action).await {
        Ok(c) => change(&state, &id, &admin.0.user.email, c).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/cases/{id}")).into_response()),
        Err(e) => {
            let message =
                e.0.errors.first().map_or_else(|| e.0.detail.clone(), |f| format!("{}: {}", f.field, f.message));
            let page = case_view(&state, &admin, &id, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin_playbooks.html")]
struct PlaybooksPage {
    title: &'static str,
    csrf: Option<String>,
    id: String,
    name: String,
    saved: bool,
    errors: Vec<FieldError>,
    playbooks: String,
    root_causes: String,
    codes: Vec<(String, i64, i64)>,
}

async fn playbooks_view(
    state: &AppState,
    admin: &Admin,
    id: &str,
    edited: Option<(String, String, Vec<FieldError>)>,
    saved: bool,
) -> Page {
    let survey = load_survey(state, id).await?;
    let codes = state.store.reward_code_counts(id).await.map_err(internal)?;
    let def = &survey.definition;
    let (playbooks, root_causes, errors) = edited.unwrap_or_else(|| {
        (serde_json::to_string_pretty(&def.playbooks).expect("playbooks serialize"), def.root_causes.join("\n"), vec![])
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = PlaybooksPage {
        title: "Playbooks",
        csrf: csrf(admin),
        id: id.to_owned(),
        name: def.name.clone(),
        saved,
        errors,
        playbooks,
        root_causes,
        codes,
    };
    Ok((status, render(&page)).into_response())
}

async fn playbooks_page(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Page {
    playbooks_view(&state, &admin, &id, None, q.iter().any(|(k, _)| k == "saved")).await
}

async fn save_playbooks(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let pairs = form(&admin, &body).map_err(IntoResponse::into_response)?;
    let survey = load_survey(&state, &id).await?;
    let text = value(&pairs, "playbooks").to_owned();
    let causes = value(&pairs, "root_causes").to_owned();
    let mut def = survey.definition.clone();
    def.root_causes = causes.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    let parsed = serde_json::from_str::<Playbooks>(&text);
    let errors = match parsed {
        Err(e) => vec![FieldError { field: "playbooks".into(), message: e.to_string() }],
        Ok(p) => {
            def.playbooks = p;
            def.validate().err().map(|e| e.0).unwrap_or_default()
        }
    };
    if !errors.is_empty() {
        return playbooks_view(&state, &admin, &id, Some((text, causes, errors)), false).await;
    }
    state.store.update_survey(&id, &def, survey.status).await.map_err(internal)?;
    Ok(Redirect::to(&format!("/admin/surveys/{id}/playbooks?saved=1")).into_response())
}

async fn upload_codes(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let pairs = form(&admin, &body).map_err(IntoResponse::into_response)?;
    load_survey(&state, &id).await?;
    let segment = hark_core::Segment::parse(value(&pairs, "segment"))
        .ok_or_else(|| (StatusCode::BAD_REQUEST, "unknown segment").into_response())?;
    let codes: Vec<String> =
        value(&pairs, "codes").lines().map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect();
    state.store.add_reward_codes(&id, segment.as_str(), &codes).await.map_err(internal)?;
    Ok(Redirect::to(&format!("/admin/surveys/{id}/playbooks")).into_response())
}

struct HookView {
    id: String,
    name: String,
    kind: String,
    url: String,
    events: String,
    secret: String,
    deliveries: Vec<(String, String, String, i64, String)>,
}

#[derive(Template)]
#[template(path = "admin_integrations.html")]
struct IntegrationsPage {
    title: &'static str,
    csrf: Option<String>,
    errors: Vec<FieldError>,
    hooks: Vec<HookView>,
    events: &'static [&'static str],
}

async fn integrations_view(state: &AppState, admin: &Admin, errors: Vec<FieldError>) -> Page {
    let mut hooks = Vec::new();
    for h in state.store.list_webhooks().await.map_err(internal)? {
        let deliveries = state
            .store
            .list_deliveries(&h.id, 20)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|d| {
                let answer = match (d.last_status_code, d.last_error) {
                    (Some(code), None) => code.to_string(),
                    (_, Some(e)) => e,
                    (None, None) => String::new(),
                };
                (time(d.created_at), d.event, d.status, d.attempts, answer)
            })
            .collect();
        hooks.push(HookView {
            events: if h.events.is_empty() { "all".into() } else { h.events.join(", ") },
            id: h.id,
            name: h.name,
            kind: h.kind,
            url: h.url,
            secret: h.secret,
            deliveries,
        });
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = IntegrationsPage { title: "Integrations", csrf: csrf(admin), errors, hooks, events: WEBHOOK_EVENTS };
    Ok((status, render(&page)).into_response())
}

async fn integrations(State(state): State<AppState>, admin: Admin) -> Page {
    integrations_view(&state, &admin, vec![]).await
}

async fn add_integration(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body).map_err(IntoResponse::into_response)?;
    let input = WebhookInput {
        name: value(&pairs, "name").to_owned(),
        kind: value(&pairs, "kind").to_owned(),
        url: value(&pairs, "url").to_owned(),
        events: pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect(),
        template: Some(value(&pairs, "template").to_owned()).filter(|t| !t.is_empty()),
    };
    if let Err(e) = check_webhook(&input) {
        return integrations_view(&state, &admin, e.0).await;
    }
    state
        .store
        .create_webhook(&input.name, &input.kind, &input.url, &input.events, input.template.as_deref())
        .await
        .map_err(internal)?;
    Ok(Redirect::to("/admin/integrations").into_response())
}

async fn test_integration(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    form(&admin, &body).map_err(IntoResponse::into_response)?;
    send_test(&state, &id).await.map_err(IntoResponse::into_response)?;
    Ok(Redirect::to("/admin/integrations").into_response())
}

async fn delete_integration(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    form(&admin, &body).map_err(IntoResponse::into_response)?;
    state.store.delete_webhook(&id).await.map_err(|e| crate::problem::ApiError::from(e).into_response())?;
    Ok(Redirect::to("/admin/integrations").into_response())
}

#[derive(Template)]
#[template(path = "admin_loop.html")]
struct LoopPage {
    title: &'static str,
    csrf: Option<String>,
    from: String,
    to: String,
    rows: Vec<Vec<String>>,
    answered_again: u64,
    recovered: String,
    score_change: String,
    moves: Vec<(String, u64)>,
}

fn figure_row(label: String, f: &LoopFigures) -> Vec<String> {
    let opt = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| v.to_string());
    vec![
        label,
        f.opened.to_string(),
        f.closed.to_string(),
        f.open_now.to_string(),
        f.overdue_now.to_string(),
        opt(f.median_hours_to_first_contact),
        opt(f.median_hours_to_close),
        f.closed_on_time_percent.map_or_else(|| "–".to_owned(), |v| format!("{v}%")),
    ]
}

async fn loop_page(State(state): State<AppState>, admin: Admin, RawQuery(q): RawQuery) -> Page {
    let (from, to) = period(&q).map_err(IntoResponse::into_response)?;
    let report = loop_report(&state, from, to).await.map_err(internal)?;
    let teams = state.store.list_teams().await.map_err(internal)?;
    let users = state.store.list_users().await.map_err(internal)?;
    let mut rows = vec![figure_row("All".into(), &report.overall)];
    for (team, f) in &report.by_team {
        let name = teams.iter().find(|t| &t.id == team).map_or(team.clone(), |t| t.name.clone());
        rows.push(figure_row(format!("Team {name}"), f));
    }
    for (owner, f) in &report.by_owner {
        let email = users.iter().find(|u| &u.id == owner).map_or(owner.clone(), |u| u.email.clone());
        rows.push(figure_row(email, f));
    }
    let m = &report.after_close;
    Ok(render(&LoopPage {
        title: "Closing the loop",
        csrf: csrf(&admin),
        from: crate::admin::value(&q, "from").to_owned(),
        to: crate::admin::value(&q, "to").to_owned(),
        rows,
        answered_again: m.answered_again,
        recovered: m.recovered_percent.map_or_else(|| "–".to_owned(), |v| format!("{v}%")),
        score_change: m.mean_score_change.map_or_else(|| "–".to_owned(), |v| format!("{v:+}")),
        moves: m.moves.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    }))
}

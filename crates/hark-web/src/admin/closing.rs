//! The admin pages for closing the loop: the case board and case page, playbooks and reward
//! codes, integrations (webhooks with their delivery log), and the closing-the-loop report.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use hark_core::FieldError;

use crate::admin::playbook_form::{PlaybookFields, PlaybooksForm};
use hark_core::playbook::Priority;
use hark_store::{CASE_STEPS, CaseFilter, CaseOutcome, CaseStatus};

use crate::AppState;
use crate::admin::{facts, survey_answers};
use crate::extract::RawQuery;
use crate::ops::cases::{CaseAction, case_filter, period};
use crate::ops::cases::{LoopFigures, act, loop_report, refuse_unless};
use crate::ops::timeline::{TimelineItem, timeline};
use crate::ops::webhooks::{WEBHOOK_EVENTS, WebhookInput, check_webhook, send_test};
use crate::page::Reader;
use crate::page::render;
use crate::page::{Admin, Page, SignedIn, form, internal, load_survey, not_found, session_form, value};
use crate::page::{Nav, Reason, forbidden_page};
use crate::viewer::{CaseAccess, Viewer};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/cases", get(cases))
        .route("/admin/cases/{id}", get(case_page).post(act_page))
        .route("/admin/surveys/{id}/playbooks", get(playbooks_page).post(save_playbooks))
        .route("/admin/surveys/{id}/codes", post(upload_codes))
        .route("/admin/integrations", get(integrations).post(add_integration))
        .route("/admin/integrations/{id}/test", post(test_integration))
        .route("/admin/integrations/{id}/delete", post(delete_integration))
        .route("/admin/loop", get(loop_page))
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
    status: String,
    high: bool,
    due: String,
    overdue: bool,
}

/// The inbox's views, each named by `cases.view.{slug}` and narrowed to the cases the person may see.
const VIEWS: &[&str] = &["mine", "team", "overdue", "soon", "unassigned", "all"];

#[derive(Template)]
#[template(path = "admin_cases.html")]
struct CasesPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    /// (slug, label, count) of each view this person has.
    views: Vec<(&'static str, String, i64)>,
    view: String,
    /// Admins and executives may filter by owner and team.
    sees_all: bool,
    /// (value, label) of every status.
    statuses: Vec<(&'static str, String)>,
    status: String,
    users: Vec<(String, String)>,
    owner: String,
    teams: Vec<(String, String)>,
    team: String,
    overdue: bool,
    cases: Vec<CaseRow>,
}

/// How a case names its customer (`Contact::shown_name`); "erased" after an erasure, and
/// "anonymous" for an answer that never had a contact.
async fn customer_name(
    t: Reader,
    store: &hark_store::Store,
    case: &hark_store::Case,
    contact: Option<hark_store::Contact>,
) -> Result<String, hark_store::StoreError> {
    Ok(match contact {
        Some(c) => c.shown_name().to_owned(),
        None if store.case_contact_erased(&case.id).await? => t.text("case.erased").into(),
        None => t.text("case.anonymous").into(),
    })
}

/// The filter of an inbox view for `viewer`, or `None` if the view is not theirs.
fn view_filter(viewer: &Viewer, view: &str) -> Option<CaseFilter> {
    let session = viewer.session.as_ref()?;
    let team = session.user.team_id.clone().filter(|_| session.user.role == hark_store::Role::TeamLead);
    let base = CaseFilter { reach: viewer.case_reach(), open_only: true, ..Default::default() };
    Some(match view {
        "mine" => CaseFilter { owner_id: Some(session.user.id.clone()), ..base },
        "team" => CaseFilter { team_id: Some(team?), ..base },
        "overdue" => CaseFilter { overdue: true, ..base },
        "soon" => {
            let in_two_days = jiff::Timestamp::now().as_millisecond() + 2 * hark_core::report::MS_PER_DAY;
            CaseFilter { due_soon_before: Some(in_two_days), ..base }
        }
        "unassigned" => CaseFilter { unassigned: true, ..base },
        "all" => base,
        _ => return None,
    })
}

/// Every signed-in person's inbox: the cases they may see, by view, with counts.
async fn cases(State(state): State<AppState>, SignedIn(session, nav): SignedIn, RawQuery(q): RawQuery) -> Page {
    let viewer = Viewer::of(session);
    let store = &state.store;
    let t = nav.t;
    let mut views = Vec::new();
    for slug in VIEWS {
        if let Some(f) = view_filter(&viewer, slug) {
            views.push((*slug, t.word("cases.view", slug), store.count_cases(&f).await.map_err(internal)?));
        }
    }
    let default_view = if viewer.is_admin() { "all" } else { "mine" };
    let view = match crate::page::value(&q, "view") {
        "" => default_view,
        v => v,
    };
    let mut filter = view_filter(&viewer, view).ok_or_else(|| not_found(&nav, "problem.no_case_view"))?;
    let rest: Vec<(String, String)> = q.iter().filter(|(k, _)| k != "view").cloned().collect();
    let (asked, limit) = case_filter(&rest).map_err(IntoResponse::into_response)?;
    // Admins and executives may narrow further; everyone may pick a status.
    if let Some(status) = asked.status {
        filter.status = Some(status);
        filter.open_only = false;
    }
    if viewer.sees_all() {
        filter.owner_id = asked.owner_id.or(filter.owner_id);
        filter.team_id = asked.team_id.or(filter.team_id);
        filter.overdue |= asked.overdue;
    }
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
            customer: customer_name(t, store, &c, contact).await.map_err(internal)?,
            score: response.as_ref().map(|r| r.score.to_string()).unwrap_or_default(),
            comment: excerpt(response.as_ref().and_then(|r| r.comment.as_deref()), 90),
            owner: c
                .owner_id
                .as_ref()
                .and_then(|o| users.iter().find(|u| &u.id == o))
                .map(person)
                .unwrap_or_else(|| t.text("case.unassigned").into()),
            status: t.word("status", c.status.as_str()),
            high: c.priority == Priority::High,
            due: t.time(c.due_at),
            overdue: c.closed_at.is_none() && c.due_at < now,
            id: c.id,
        });
    }
    let teams = store.list_teams().await.map_err(internal)?;
    Ok(render(&CasesPage {
        t,
        title: t.0.text("cases.title"),
        nav: Some(nav),
        views,
        view: view.to_owned(),
        sees_all: viewer.sees_all(),
        statuses: CaseStatus::ALL.iter().map(|s| (s.as_str(), t.word("status", s.as_str()))).collect(),
        status: filter.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        users: users.iter().map(|u| (u.id.clone(), person(u))).collect(),
        owner: filter.owner_id.filter(|_| viewer.sees_all()).unwrap_or_default(),
        teams: teams.into_iter().map(|t| (t.id, t.name)).collect(),
        team: filter.team_id.filter(|_| viewer.sees_all()).unwrap_or_default(),
        overdue: filter.overdue,
        cases: rows,
    }))
}

/// A person as others know them: by name, or by email where they have none; never by id.
fn person(u: &hark_store::User) -> String {
    u.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| u.email.clone())
}

/// One line of a case's history.
struct HistoryLine {
    when: String,
    who: String,
    what: String,
    /// A reply's or note's full text.
    text: String,
    /// A reply's state (`queued`, `sent`, `failed`) and the mail server's answer or reason.
    state: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "admin_case.html")]
struct CasePage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    error: Option<String>,
    /// False: the person may read the case but not change it.
    may_act: bool,
    id: String,
    /// How to reach the customer (email, phone), empty when there is no way.
    reach: Vec<(&'static str, String)>,
    contact_id: String,
    status: &'static str,
    status_label: String,
    priority: String,
    high: bool,
    due: String,
    overdue: bool,
    owner: String,
    /// The current owner's id, preselected in the owner form.
    owner_id: String,
    /// The statuses a person sets (a held case shows "held" until released).
    statuses: Vec<(&'static str, String)>,
    /// (value, label) of the outcomes a case closes with.
    outcomes: Vec<(&'static str, String)>,
    outcome: Option<String>,
    root_cause: Option<String>,
    closed: bool,
    score: String,
    comment: String,
    answers: Vec<(String, String)>,
    context: String,
    /// The contact page is for admins.
    contact_page: bool,
    steps: Vec<(&'static str, String, bool)>,
    reply_subject: String,
    /// False without a mail server: the reply form says so before anyone writes.
    can_mail: bool,
    has_email: bool,
    /// Whom this person may hand the case to.
    users: Vec<(String, String)>,
    /// (stored, shown) of each root cause: a shipped one in the reader's words.
    root_causes: Vec<(String, String)>,
    /// The root cause the comment's themes point to, chosen in advance.
    suggested_cause: Option<String>,
    /// The comment's themes and sentiment, in the reader's words.
    reading: Option<String>,
    history: Vec<HistoryLine>,
    earlier: Vec<crate::admin::TimelineEntry>,
}

async fn case_view(state: &AppState, viewer: &Viewer, nav: Nav, id: &str, error: Option<String>) -> Page {
    let store = &state.store;
    let t = nav.t;
    let case = store.get_case(id).await.map_err(internal)?.ok_or_else(|| not_found(&nav, "problem.no_case"))?;
    let access = viewer.case_access(store, &case).await.map_err(internal)?;
    if let Err(refused) = refuse_unless(access, CaseAccess::Read) {
        return Err(forbidden_page(Some(nav), Reason::Refused(refused.0)));
    }
    let response = store.get_response(&case.response_id).await.map_err(internal)?;
    let survey = load_survey(state, &nav, &case.survey_id).await?;
    let contact = match &case.contact_id {
        Some(c) => store.get_contact(c).await.map_err(internal)?,
        None => None,
    };
    let users = store.list_users().await.map_err(internal)?;
    let name_of = |uid: Option<&str>| {
        uid.and_then(|o| users.iter().find(|u| u.id == o)).map(person).unwrap_or_else(|| t.text("case.nobody").into())
    };
    let actor = |who: &str| match users.iter().find(|u| u.email == who) {
        Some(u) => person(u),
        None if who == "hark" => t.text("case.by_playbook").into(),
        None => who.to_owned(),
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let word = |kind: &str, v: &serde_json::Value| t.word(kind, v.as_str().unwrap_or_default());
    let history = store
        .case_events(id)
        .await
        .map_err(internal)?
        .into_iter()
        .map(|e| {
            let d = &e.detail;
            let none = String::new();
            let (what, body, state) = match e.kind.as_str() {
                "assigned" => (t.fill1("history.assigned", "owner", name_of(d["owner_id"].as_str())), none, None),
                "reply" => {
                    let state = d["state"].as_str().unwrap_or("sent").to_owned();
                    let label = t.word("reply", &state);
                    (
                        t.fill1("history.reply", "subject", text(&d["subject"])),
                        text(&d["body"]),
                        Some((state, label, text(&d["answer"]))),
                    )
                }
                "contact" => {
                    let key = match (d["channel"] == "meeting", d["reached"] == true) {
                        (true, true) => "history.met_reached",
                        (true, false) => "history.met_not_reached",
                        (false, true) => "history.called_reached",
                        (false, false) => "history.called_not_reached",
                    };
                    (t.text(key).to_owned(), text(&d["note"]), None)
                }
                "note" => (t.text("history.note").to_owned(), text(&d["body"]), None),
                "step" => {
                    let key = if d["done"] == true { "history.step_done" } else { "history.step_undone" };
                    (t.fill1(key, "step", word("step", &d["step"])), none, None)
                }
                "status" => (t.fill1("history.status", "status", word("status", &d["status"])), none, None),
                "closed" => (t.fill1("history.closed", "outcome", word("outcome", &d["outcome"])), none, None),
                // Why Hark opened or held it: the segment's playbook, or a rule by its own name.
                "opened" | "held" => {
                    let reason = text(&d["reason"]);
                    let reason = match (reason.strip_suffix(" playbook"), reason.strip_prefix("rule `")) {
                        (Some(segment), _) => t.fill1("history.by_playbook", "segment", t.word("segment", segment)),
                        (_, Some(rule)) => t.fill1("history.by_rule", "rule", rule.trim_end_matches('`')),
                        _ => reason,
                    };
                    (t.fill1(&format!("history.{}", e.kind), "reason", reason), none, None)
                }
                other => (t.word("history", other), none, None),
            };
            HistoryLine { when: t.time(e.created_at), who: actor(&e.actor), what, text: body, state }
        })
        .collect();
    let surveys = crate::ops::surveys::definitions(&state.store).await.map_err(internal)?;
    let earlier = match &case.contact_id {
        Some(c) => timeline(state, c)
            .await
            .map_err(internal)?
            .into_iter()
            // Before this case, less the answer it is about (shown above it).
            .filter(|i| i.at() < case.created_at && !matches!(i, TimelineItem::Response(r) if r.id == case.response_id))
            .take(20)
            .map(|i| crate::admin::timeline_entry(t, state, &surveys, &i))
            .collect(),
        None => Vec::new(),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let customer = customer_name(t, store, &case, contact.clone()).await.map_err(internal)?;
    let email = contact.as_ref().and_then(|c| c.email.clone());
    let mut reach = Vec::new();
    if let Some(e) = &email {
        reach.push((t.0.text("case.email"), e.clone()));
    }
    if let Some(c) = &contact {
        if let Some(phone) = &c.phone {
            reach.push((t.0.text("case.phone"), phone.clone()));
        }
        if let Some(at) = c.contact_consent_at {
            reach.push((t.0.text("case.consented"), t.time(at)));
        }
    }
    let kind = survey.definition.kind;
    Ok(render(&CasePage {
        t,
        title: t.fill1("case.title", "customer", &customer),
        nav: Some(nav),
        error,
        may_act: access == CaseAccess::Act,
        id: case.id.clone(),
        reach,
        contact_id: case.contact_id.clone().unwrap_or_default(),
        status: case.status.as_str(),
        status_label: t.word("status", case.status.as_str()),
        priority: t.word("priority", case.priority.as_str()),
        high: case.priority == Priority::High,
        due: t.time(case.due_at),
        overdue: case.closed_at.is_none() && case.due_at < now,
        owner: name_of(case.owner_id.as_deref()),
        owner_id: case.owner_id.clone().unwrap_or_default(),
        statuses: {
            let mut statuses: Vec<(&str, String)> =
                ["open", "in_progress", "waiting"].into_iter().map(|s| (s, t.word("status", s))).collect();
            if case.status == CaseStatus::Held {
                statuses.insert(0, ("held", t.text("case.held_release").to_owned()));
            }
            statuses
        },
        outcomes: CaseOutcome::ALL.iter().map(|o| (o.as_str(), t.word("outcome", o.as_str()))).collect(),
        outcome: case.outcome.map(|o| t.word("outcome", o.as_str())),
        root_cause: case.root_cause.as_deref().map(|c| t.word_or_value("cause", c)),
        closed: case.status == CaseStatus::Closed,
        score: response
            .as_ref()
            .map(|r| format!("{} ({})", r.score, crate::admin::segment_name(t, kind, r.segment)))
            .unwrap_or_default(),
        comment: response.as_ref().and_then(|r| r.comment.clone()).unwrap_or_else(|| t.text("case.no_comment").into()),
        answers: response.as_ref().map(|r| survey_answers(t, &survey.definition, &r.answers)).unwrap_or_default(),
        context: response.as_ref().map(|r| facts(t, &r.context)).unwrap_or_default(),
        contact_page: viewer.is_admin(),
        steps: CASE_STEPS.iter().map(|(s, _)| (*s, t.word("step", s), case.steps.iter().any(|d| d == s))).collect(),
        reply_subject: t.fill1("case.reply_subject", "brand", &survey.definition.brand),
        can_mail: state.can_mail(),
        has_email: email.is_some(),
        users: users
            .iter()
            .filter(|u| viewer.may_assign_to(u) || Some(&u.id) == case.owner_id.as_ref())
            .map(|u| (u.id.clone(), person(u)))
            .collect(),
        suggested_cause: response
            .as_ref()
            .and_then(|r| hark_core::survey::suggested_root_cause(&r.themes, &survey.definition.root_causes).cloned()),
        reading: response
            .as_ref()
            .and_then(|r| crate::admin::comment_reading(t, state, &r.themes, r.sentiment.as_deref())),
        root_causes: survey.definition.root_causes.iter().map(|c| (c.clone(), t.word_or_value("cause", c))).collect(),
        history,
        earlier,
    }))
}

async fn case_page(State(state): State<AppState>, SignedIn(session, nav): SignedIn, Path(id): Path<String>) -> Page {
    case_view(&state, &Viewer::of(session), nav, &id, None).await
}

/// One action from the case page; recorded with the signed-in user as the actor.
async fn act_page(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let pairs = session_form(&session, &nav, &body)?;
    let viewer = Viewer::of(session);
    let text = |name: &str| value(&pairs, name).to_owned();
    let action = match value(&pairs, "action") {
        "status" => CaseAction::Status { status: text("status") },
        "assign" => CaseAction::Assign { owner_id: Some(text("owner_id")).filter(|o| !o.is_empty()) },
        "step" => CaseAction::Step { step: text("step"), done: value(&pairs, "done") == "true" },
        "reply" => CaseAction::Reply { subject: text("subject"), body: text("body") },
        "contact" => CaseAction::Contact {
            channel: text("channel"),
            reached: value(&pairs, "reached") == "true",
            note: text("note"),
        },
        "note" => CaseAction::Note { body: text("body") },
        "close" => CaseAction::Close { outcome: text("outcome"), root_cause: Some(text("root_cause")) },
        other => return Err((StatusCode::BAD_REQUEST, format!("unknown action `{other}`")).into_response()),
    };
    match act(&state, &viewer, &id, action).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/cases/{id}")).into_response()),
        Err(e) if e.0.status == 403 => Err(forbidden_page(Some(nav), Reason::Refused(e.0))),
        Err(e) => {
            let message = Reason::Refused(e.0).text(nav.t, StatusCode::UNPROCESSABLE_ENTITY);
            let page = case_view(&state, &viewer, nav, &id, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "admin_playbooks.html")]
struct PlaybooksPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    id: String,
    name: String,
    saved: bool,
    errors: Vec<FieldError>,
    /// Per segment: its key, its title ("Detractors (0–6)") and its fields.
    segments: Vec<(&'static str, String, PlaybookFields)>,
    form: PlaybooksForm,
    root_causes: String,
    codes: Vec<(String, i64, i64)>,
}

async fn playbooks_view(
    state: &AppState,
    admin: &Admin,
    id: &str,
    edited: Option<(PlaybooksForm, String, Vec<FieldError>)>,
    saved: bool,
) -> Page {
    let survey = load_survey(state, &admin.1, id).await?;
    let codes = state.store.reward_code_counts(id).await.map_err(internal)?;
    let def = &survey.definition;
    let (form, root_causes, errors) =
        edited.unwrap_or_else(|| (PlaybooksForm::of(&def.playbooks), def.root_causes.join("\n"), vec![]));
    // Each segment by the kind's own word and its scores: "Detractors (0–6)", "Satisfied (4–5)".
    let kind = def.kind;
    let (low, high) = kind.range();
    let t = admin.1.t;
    let title = |segment: &str| {
        let scores: Vec<i64> = (low..=high).filter(|s| kind.segment(*s).as_str() == segment).collect();
        let word = hark_core::Segment::parse(segment).map_or(segment, |s| kind.segment_word(s));
        let word = t.word("segments", &word.replace(' ', "_"));
        match (scores.first(), scores.last()) {
            (Some(a), Some(b)) if a == b => format!("{word} ({a})"),
            (Some(a), Some(b)) => format!("{word} ({a}–{b})"),
            _ => word,
        }
    };
    let segments = form.segments.iter().map(|(s, f)| (*s, title(s), f.clone())).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = PlaybooksPage {
        title: t.0.text("surveys.playbooks"),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        id: id.to_owned(),
        name: def.name.clone(),
        saved,
        errors,
        segments,
        form,
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
    let pairs = form(&admin, &body)?;
    let survey = load_survey(&state, &admin.1, &id).await?;
    let form = PlaybooksForm::sent(&pairs);
    let causes = value(&pairs, "root_causes").to_owned();
    let mut def = survey.definition.clone();
    def.root_causes = causes.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect();
    let errors = match form.playbooks() {
        Err(errors) => errors,
        Ok(p) => {
            def.playbooks = p;
            match crate::ops::surveys::check_case_defaults(&state, &def).await {
                Err(e) => e.0.errors,
                Ok(()) => def.validate().err().map(|e| e.0).unwrap_or_default(),
            }
        }
    };
    if !errors.is_empty() {
        return playbooks_view(&state, &admin, &id, Some((form.with_blank_rule(), causes, errors)), false).await;
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
    let pairs = form(&admin, &body)?;
    load_survey(&state, &admin.1, &id).await?;
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
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    errors: Vec<FieldError>,
    hooks: Vec<HookView>,
    events: &'static [&'static str],
}

async fn integrations_view(state: &AppState, admin: &Admin, errors: Vec<FieldError>) -> Page {
    let mut hooks = Vec::new();
    let t = admin.1.t;
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
                (t.time(d.created_at), d.event, t.word_or_value("delivery", &d.status), d.attempts, answer)
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
    let page = IntegrationsPage {
        title: t.0.text("int.title"),
        t,
        nav: Some(admin.1.clone()),
        errors,
        hooks,
        events: WEBHOOK_EVENTS,
    };
    Ok((status, render(&page)).into_response())
}

async fn integrations(State(state): State<AppState>, admin: Admin) -> Page {
    integrations_view(&state, &admin, vec![]).await
}

async fn add_integration(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
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
    form(&admin, &body)?;
    send_test(&state, &id).await.map_err(IntoResponse::into_response)?;
    Ok(Redirect::to("/admin/integrations").into_response())
}

async fn delete_integration(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    form(&admin, &body)?;
    state.store.delete_webhook(&id).await.map_err(|e| crate::problem::ApiError::from(e).into_response())?;
    Ok(Redirect::to("/admin/integrations").into_response())
}

#[derive(Template)]
#[template(path = "admin_loop.html")]
struct LoopPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    from: String,
    to: String,
    rows: Vec<Vec<String>>,
    answered_again: u64,
    /// "Of the 4 detractors among them, 3 came back …" and "75% (95% CI 30% to 95%)", when
    /// any detractor answered again.
    recovered: Option<(String, String)>,
    score_change: Option<String>,
    /// Only the reader's team's cases and their own (a team lead).
    scoped: bool,
    moves: Vec<(String, u64)>,
    /// The closed cases' root causes, most first: (cause, closed, share of all closed, resolved).
    causes: Vec<(String, u64, String, u64)>,
    closed: u64,
}

fn figure_row(label: String, f: &LoopFigures) -> Vec<String> {
    let opt = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| v.to_string());
    vec![
        label,
        f.opened.to_string(),
        f.closed.to_string(),
        f.open_now.to_string(),
        f.overdue_now.to_string(),
        f.contacted.to_string(),
        f.closed_without_contact.to_string(),
        opt(f.median_hours_to_first_contact),
        opt(f.median_hours_to_close),
        f.closed_on_time_percent.map_or_else(|| "–".to_owned(), |v| format!("{v}%")),
    ]
}

/// Admins and executives read the whole company's loop; a team lead their team's cases and
/// their own; agents, who see their own cases on the board, not this page.
async fn loop_page(State(state): State<AppState>, SignedIn(session, nav): SignedIn, RawQuery(q): RawQuery) -> Page {
    if !nav.loop_report {
        return Err(forbidden_page(Some(nav), Reason::Key("problem.forbidden")));
    }
    let t = nav.t;
    let (from, to) = period(&q, t.1).map_err(IntoResponse::into_response)?;
    let reach = Viewer::of(session).case_reach();
    let scoped = reach.is_some();
    let report = loop_report(&state, from, to, reach).await.map_err(internal)?;
    let teams = state.store.list_teams().await.map_err(internal)?;
    let users = state.store.list_users().await.map_err(internal)?;
    let mut rows = vec![figure_row(t.text("loop.all").into(), &report.overall)];
    for (team, f) in &report.by_team {
        // Cases without a team are grouped under `none`.
        let name = match teams.iter().find(|x| &x.id == team) {
            Some(x) => t.fill1("loop.team", "name", &x.name),
            None => t.text("none.team").to_owned(),
        };
        rows.push(figure_row(name, f));
    }
    for (owner, f) in &report.by_owner {
        // Named as on the case page; cases without an owner are grouped under `unassigned`.
        let name = match users.iter().find(|u| &u.id == owner) {
            Some(u) => person(u),
            None => t.text("case.unassigned").to_owned(),
        };
        rows.push(figure_row(name, f));
    }
    let closed = report.overall.closed;
    let mut causes: Vec<(&String, &LoopFigures)> = report.by_root_cause.iter().collect();
    // Most first; a cause not recorded last, whatever its count.
    causes.sort_by_key(|(c, f)| (c.as_str() == "none", std::cmp::Reverse(f.closed)));
    let causes = causes
        .into_iter()
        .map(|(c, f)| {
            let name = if c == "none" { t.text("loop.no_cause").to_owned() } else { t.word_or_value("cause", c) };
            let share = format!("{}%", (100.0 * f.closed as f64 / closed.max(1) as f64).round());
            (name, f.closed, share, f.outcomes.get("resolved").copied().unwrap_or(0))
        })
        .collect();
    let m = &report.after_close;
    let recovered = &m.recovered;
    let recovered = recovered.pct.map(|p| {
        let of = t.fill2("loop.recovered", "n", recovered.n, "hits", recovered.hits);
        (of, format!("{}%{}", t.number(p, 0), t.interval_after(recovered.interval, 0, "%")))
    });
    Ok(render(&LoopPage {
        causes,
        closed,
        scoped,
        title: t.0.text("nav.loop"),
        t,
        nav: Some(nav),
        from: crate::page::value(&q, "from").to_owned(),
        to: crate::page::value(&q, "to").to_owned(),
        rows,
        answered_again: m.answered_again,
        recovered,
        score_change: m.mean_score_change.map(|v| format!("{v:+}")),
        // "detractor→passive" in the reader's words.
        moves: m
            .moves
            .iter()
            .map(|(k, v)| (k.split('→').map(|s| t.word("segment", s)).collect::<Vec<_>>().join(" → "), *v))
            .collect(),
    }))
}

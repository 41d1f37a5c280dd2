//! The admin pages for who may use Hark and how it mails: people (add, change role, team
//! and agent, reset a password, deactivate), API keys (create, revoke), and the mail server
//! in use with a test mail and the last delivery errors.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use hark_store::{JobStatus, Role, StoreError, UserChange};

use crate::AppState;
use crate::page::Nav;
use crate::page::Reader;
use crate::page::render;
use crate::page::{Admin, Page, form, internal, value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(people_page).post(add_user))
        .route("/admin/users/{id}", post(change_user))
        .route("/admin/keys", post(create_key))
        .route("/admin/keys/{id}/revoke", post(revoke_key))
        .route("/admin/mail", get(mail_page).post(test_mail))
}

struct UserRow {
    id: String,
    email: String,
    name: String,
    role: &'static str,
    team_id: String,
    agent_id: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_people.html")]
struct PeoplePage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    /// What just happened (a password or key shown once), or what was wrong.
    notice: Option<String>,
    error: Option<String>,
    users: Vec<UserRow>,
    /// (value, label) of each role.
    roles: Vec<(&'static str, String)>,
    teams: Vec<(String, String)>,
    agents: Vec<(String, String)>,
    keys: Vec<(String, String, String, String)>,
}

const ROLES: [&str; 4] = ["admin", "executive", "team_lead", "agent"];

async fn people_view(state: &AppState, admin: &Admin, notice: Option<String>, error: Option<String>) -> Page {
    let store = &state.store;
    let users = store.list_users().await.map_err(internal)?;
    let teams = store.list_teams().await.map_err(internal)?;
    let agents = store.list_agents(None).await.map_err(internal)?;
    let keys = store.list_api_keys().await.map_err(internal)?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let t = admin.1.t;
    let page = PeoplePage {
        title: t.0.text("people.title"),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        notice,
        error,
        users: users
            .into_iter()
            .map(|u| UserRow {
                name: u.name.unwrap_or_default(),
                role: u.role.as_str(),
                team_id: u.team_id.unwrap_or_default(),
                agent_id: u.agent_id.unwrap_or_default(),
                active: u.deactivated_at.is_none(),
                id: u.id,
                email: u.email,
            })
            .collect(),
        roles: ROLES.iter().map(|r| (*r, t.word("role", r))).collect(),
        teams: teams.into_iter().map(|t| (t.id, t.name)).collect(),
        agents: agents.into_iter().map(|a| (a.id, a.name)).collect(),
        keys: keys
            .into_iter()
            .map(|k| (k.id, k.name, t.time(k.created_at), k.revoked_at.map(|at| t.time(at)).unwrap_or_default()))
            .collect(),
    };
    Ok((status, render(&page)).into_response())
}

async fn people_page(State(state): State<AppState>, admin: Admin) -> Page {
    people_view(&state, &admin, None, None).await
}

/// The role, team and agent of the form, checked: an agent link only for agents, and both
/// must exist.
async fn user_change(state: &AppState, t: Reader, pairs: &[(String, String)]) -> Result<UserChange, String> {
    let role = Role::parse(value(pairs, "role")).ok_or_else(|| t.text("people.choose_role").to_owned())?;
    let some = |name: &str| Some(value(pairs, name).to_owned()).filter(|v| !v.is_empty());
    let (team_id, agent_id) = (some("team_id"), some("agent_id"));
    if agent_id.is_some() && role != Role::Agent {
        return Err(t.text("people.agent_only").into());
    }
    let store_error = |e: StoreError| e.to_string();
    if let Some(team) = &team_id
        && state.store.get_team(team).await.map_err(store_error)?.is_none()
    {
        return Err(t.text("people.no_team").into());
    }
    if let Some(a) = &agent_id
        && state.store.get_agent(a).await.map_err(store_error)?.is_none()
    {
        return Err(t.text("people.no_agent").into());
    }
    Ok(UserChange { name: some("name"), role, team_id, agent_id })
}

/// Adds a person with a generated password, shown once for the admin to hand over.
async fn add_user(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let email = value(&pairs, "email").to_lowercase();
    if !hark_core::contact::is_email(&email) {
        return people_view(&state, &admin, None, Some(format!("`{email}` is not an email address."))).await;
    }
    let change = match user_change(&state, admin.1.t, &pairs).await {
        Ok(c) => c,
        Err(e) => return people_view(&state, &admin, None, Some(e)).await,
    };
    let password = hark_core::auth::generate_password();
    let hash = hark_core::auth::hash_password(&password);
    let user = match state.store.create_user(&email, change.name.as_deref(), change.role, &hash).await {
        Ok(u) => u,
        Err(StoreError::Conflict(_)) => {
            return people_view(&state, &admin, None, Some(format!("{email} already has an account."))).await;
        }
        Err(e) => return Err(internal(e)),
    };
    state.store.update_user(&user.id, &change).await.map_err(internal)?;
    let notice = format!("{email} can sign in with the password {password} (shown once; they should change it).");
    people_view(&state, &admin, Some(notice), None).await
}

/// Changes a person: their role, team and agent; a new password; deactivation.
async fn change_user(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    let pairs = form(&admin, &body)?;
    let store = &state.store;
    let user = store
        .get_user(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| crate::page::not_found(&admin.1, "problem.no_user"))?;
    let t = admin.1.t;
    let myself = user.id == admin.0.user.id;
    let notice = match value(&pairs, "action") {
        "save" => {
            let change = match user_change(&state, t, &pairs).await {
                Ok(c) => c,
                Err(e) => return people_view(&state, &admin, None, Some(e)).await,
            };
            if myself && change.role != Role::Admin {
                let e = t.text("people.own_role");
                return people_view(&state, &admin, None, Some(e.into())).await;
            }
            store.update_user(&id, &change).await.map_err(internal)?;
            t.fill1("people.saved", "email", &user.email)
        }
        "password" => {
            let password = hark_core::auth::generate_password();
            store.reset_password(&id, &hark_core::auth::hash_password(&password)).await.map_err(internal)?;
            t.fill2("people.password_made", "email", &user.email, "password", password)
        }
        "deactivate" if myself => {
            return people_view(&state, &admin, None, Some(t.text("people.not_yourself").into())).await;
        }
        "deactivate" => {
            store.set_user_active(&id, false).await.map_err(internal)?;
            t.fill1("people.deactivated_notice", "email", &user.email)
        }
        "activate" => {
            store.set_user_active(&id, true).await.map_err(internal)?;
            t.fill1("people.reactivated_notice", "email", &user.email)
        }
        other => return Err((StatusCode::BAD_REQUEST, format!("unknown action `{other}`")).into_response()),
    };
    people_view(&state, &admin, Some(notice), None).await
}

async fn create_key(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let name = value(&pairs, "name");
    if name.is_empty() || name.chars().count() > 100 {
        return people_view(&state, &admin, None, Some(admin.1.t.text("people.name_key").into())).await;
    }
    let (_, token) = state.store.create_api_key(name).await.map_err(internal)?;
    let notice = admin.1.t.fill2("people.key_made", "name", name, "token", token);
    people_view(&state, &admin, Some(notice), None).await
}

async fn revoke_key(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Page {
    form(&admin, &body)?;
    match state.store.revoke_api_key(&id).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(StoreError::NotFound(_)) => {
            people_view(&state, &admin, None, Some(admin.1.t.text("people.no_key").into())).await
        }
        Err(e) => Err(internal(e)),
    }
}

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    t: Reader,
    title: &'static str,
    nav: Option<Nav>,
    /// (server URL without its password, sender), or none configured.
    server: Option<(String, String)>,
    /// The test mail's outcome: (worked, what the server said).
    tested: Option<(bool, String)>,
    /// The last mail jobs that failed for good: (when, what, why).
    failures: Vec<(String, String, String)>,
}

async fn mail_view(state: &AppState, admin: &Admin, tested: Option<(bool, String)>) -> Page {
    let failed = state.store.list_jobs(Some(JobStatus::Failed), 200).await.map_err(internal)?;
    let failures = failed
        .into_iter()
        .filter(|j| matches!(j.kind.as_str(), "send_invitation" | "remind_invitation" | "case_mail"))
        .take(20)
        .map(|j| {
            let what = match (j.kind.as_str(), j.payload["kind"].as_str()) {
                ("case_mail", Some("reply")) => "reply to a customer",
                ("case_mail", Some("case_opened")) => "new-case notice",
                ("case_mail", Some("case_escalated")) => "overdue-case notice",
                ("case_mail", _) => "mail about a case or answer",
                ("remind_invitation", _) => "survey reminder",
                _ => "survey invitation",
            };
            (admin.1.t.time(j.updated_at), what.to_owned(), j.last_error.unwrap_or_default())
        })
        .collect();
    let status = match &tested {
        Some((false, _)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let page = MailPage {
        title: admin.1.t.0.text("mail.title"),
        t: admin.1.t,
        nav: Some(admin.1.clone()),
        server: state.mailer().map(hark_jobs::Mailer::describe),
        tested,
        failures,
    };
    Ok((status, render(&page)).into_response())
}

async fn mail_page(State(state): State<AppState>, admin: Admin) -> Page {
    mail_view(&state, &admin, None).await
}

/// Sends a test mail now and shows what the mail server answered.
async fn test_mail(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Page {
    let pairs = form(&admin, &body)?;
    let to = value(&pairs, "to");
    let t = admin.1.t;
    let tested = match state.mailer() {
        None => (false, t.text("mail.no_server").to_owned()),
        Some(_) if !hark_core::contact::is_email(to) => (false, t.fill1("mail.not_an_address", "to", to)),
        Some(mailer) => match mailer.send_text(None, to, t.text("mail.test_subject"), t.text("mail.test_body")).await {
            Ok(answer) => (true, t.fill2("mail.sent", "to", to, "answer", answer)),
            Err(e) => (false, t.fill2("mail.not_sent", "to", to, "error", e)),
        },
    };
    mail_view(&state, &admin, Some(tested)).await
}

//! The figures behind a link, for people who do not sign in: a dashboard view as its maker
//! sees it, read-only, and a call-centre wallboard that refreshes itself; making such links
//! from the dashboard, and listing and revoking them (admins: all of them).

use askama::Template;
use axum::Json;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use hark_store::{Role, SharedLink};
use serde::Serialize;

use super::{DashboardPage, build, refused};
use crate::AppState;
use crate::ops::sharing::{self, Request, Shared, WALLBOARD};
use crate::ops::{filters, insights};
use crate::page::{Admin, Nav, Reader, Reason, SignedIn, forbidden_page, render, session_form, value};
use crate::problem::ApiError;

/// A link that is not (or no longer) live says nothing of what it was.
fn gone() -> Response {
    (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "not found").into_response()
}

/// A link's query as filter pairs, read in `t`'s zone unless it names one.
fn link_pairs(link: &SharedLink, t: Reader) -> Vec<(String, String)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&link.query).unwrap_or_default();
    let pairs: Vec<(String, String)> = pairs.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    filters::with_zone(&pairs, t.zone_name())
}

/// The reader of a page without a signed-in person: their browser's language, the
/// organisation's zone.
fn visitor(state: &AppState, headers: &HeaderMap) -> Reader {
    Reader::of(None, None, &state.config.time_zone, headers)
}

/// `GET /shared/{token}`: the dashboard page the link names, read-only.
pub(super) async fn shared_view(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Shared { link, viewer } = match sharing::open(&state, &token, "view").await {
        Ok(Some(shared)) => shared,
        Ok(None) => return gone(),
        Err(e) => return e.into_response(),
    };
    let t = visitor(&state, &headers);
    let Some(built) = build(&link.page, t, &state, &viewer, &link_pairs(&link, t)).await else { return gone() };
    let mut page: DashboardPage = match built {
        Ok(page) => page,
        Err(e) => {
            let status = StatusCode::from_u16(e.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return crate::page::problem_page(status, None, Reason::Refused(e.0));
        }
    };
    // The answers page, with customers' names and comments, is shared only where an admin
    // allowed it (see `sharing::create`); links into Hark would only ask to sign in.
    for table in &mut page.fig.tables {
        table.links.clear();
    }
    for (_, wide, narrow) in &mut page.fig.charts {
        (*wide, *narrow) = (super::charts::unlinked(wide), super::charts::unlinked(narrow));
    }
    page.next_page = None;
    page.shared = Some(t.fill1("share.notice", "until", t.time(link.expires_at)));
    ([(header::CACHE_CONTROL, "no-store"), (header::HeaderName::from_static("x-robots-tag"), "noindex")], render(&page))
        .into_response()
}

#[derive(Template)]
#[template(path = "shared_link.html")]
struct MadePage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    address: String,
    link: SharedLink,
    until: String,
    back: String,
}

/// `POST /dashboard/share`: a link to the page and filters the form names.
pub(super) async fn share(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    RawForm(body): RawForm,
) -> Response {
    let pairs = match session_form(&session, &nav, &body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let asked = Request {
        kind: "view",
        page: value(&pairs, "page"),
        query: value(&pairs, "query"),
        days: value(&pairs, "days"),
        personal_data: value(&pairs, "personal_data") == "1",
    };
    let t = nav.t;
    match sharing::create(&state, &session.user, &asked).await {
        Ok((link, address)) => {
            let back = format!("/dashboard/{}?{}", link.page, link.query);
            let until = t.time(link.expires_at);
            render(&MadePage { t, title: t.text("share.made").into(), nav: Some(nav), address, link, until, back })
        }
        Err(e) => refused(e, nav),
    }
}

/// `POST /shared-links/{id}/revoke`: its maker or an admin ends a link for good.
pub(super) async fn revoke(
    State(state): State<AppState>,
    SignedIn(session, nav): SignedIn,
    Path(id): Path<String>,
    RawForm(body): RawForm,
) -> Response {
    if let Err(refused) = session_form(&session, &nav, &body) {
        return refused;
    }
    let link = match state.store.get_shared_link(&id).await {
        Ok(Some(link)) => link,
        Ok(None) => return crate::page::not_found(&nav, "problem.no_shared_link"),
        Err(e) => return refused(e.into(), nav),
    };
    let admin = session.user.role == Role::Admin;
    if !admin && link.created_by != session.user.id {
        return forbidden_page(Some(nav), Reason::Key("problem.link_not_yours"));
    }
    if let Err(e) = state.store.revoke_shared_link(&id).await {
        return refused(e.into(), nav);
    }
    Redirect::to(if admin { "/admin/shared" } else { "/dashboard/overview" }).into_response()
}

/// One row of the admin's list.
struct LinkRow {
    id: String,
    what: String,
    filters: String,
    maker: String,
    made: String,
    until: String,
    personal_data: bool,
    /// "live", "expired" or "revoked", in the reader's words.
    state: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "admin_shared.html")]
struct LinksPage {
    t: Reader,
    title: String,
    nav: Option<Nav>,
    rows: Vec<LinkRow>,
    teams: Vec<(String, String)>,
    /// A wallboard just made: its address.
    made: Option<String>,
}

async fn links_page(state: &AppState, admin: &Admin, made: Option<String>) -> Response {
    let t = admin.1.t;
    let listed = async {
        let users = state.store.list_users().await?;
        let teams = state.store.list_teams().await?;
        let links = state.store.list_shared_links().await?;
        Ok::<_, hark_store::StoreError>((users, teams, links))
    };
    let (users, teams, links) = match listed.await {
        Ok(listed) => listed,
        Err(e) => return crate::page::internal(e),
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let team_name = |id: &str| teams.iter().find(|t| t.id == id).map(|t| t.name.clone());
    let rows = links
        .into_iter()
        .map(|l| {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&l.query).unwrap_or_default();
            let team = pairs.iter().find(|(k, _)| k == "team_id").and_then(|(_, v)| team_name(v));
            let what = if l.kind == WALLBOARD {
                t.fill1(
                    "share.wallboard_of",
                    "scope",
                    team.clone().unwrap_or_else(|| t.text("dash.whole_company").into()),
                )
            } else {
                t.word("dash", &l.page)
            };
            let state = match (l.revoked_at, l.live(now)) {
                (Some(_), _) => "share.revoked",
                (None, false) => "share.expired",
                (None, true) => "share.live",
            };
            LinkRow {
                what,
                filters: if l.kind == WALLBOARD { String::new() } else { l.query.clone() },
                maker: users.iter().find(|u| u.id == l.created_by).map_or_else(String::new, |u| u.email.clone()),
                made: t.time(l.created_at),
                until: t.time(l.expires_at),
                personal_data: l.personal_data,
                state: t.text(state).into(),
                live: l.live(now),
                id: l.id,
            }
        })
        .collect();
    let teams = teams.into_iter().map(|t| (t.id, t.name)).collect();
    render(&LinksPage { t, title: t.text("share.title").into(), nav: Some(admin.1.clone()), rows, teams, made })
}

/// `GET /admin/shared`: every link, live or not, and a form for a wallboard.
pub(super) async fn list(State(state): State<AppState>, admin: Admin) -> Response {
    links_page(&state, &admin, None).await
}

/// `POST /admin/shared`: a wallboard for the company or one team.
pub(super) async fn make_wallboard(State(state): State<AppState>, admin: Admin, RawForm(body): RawForm) -> Response {
    let pairs = match crate::page::form(&admin, &body) {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    let team = value(&pairs, "team_id");
    let query = if team.is_empty() {
        String::new()
    } else {
        serde_urlencoded::to_string([("team_id", team)]).unwrap_or_default()
    };
    let asked = Request {
        kind: WALLBOARD,
        page: WALLBOARD,
        query: &query,
        days: value(&pairs, "days"),
        personal_data: value(&pairs, "personal_data") == "1",
    };
    match sharing::create(&state, &admin.0.user, &asked).await {
        Ok((_, address)) => links_page(&state, &admin, Some(address)).await,
        Err(e) => refused(e, admin.1.clone()),
    }
}

#[derive(Template)]
#[template(path = "wallboard.html")]
struct WallboardPage {
    t: Reader,
    board: Board,
}

/// What a wallboard shows, in its reader's words; its script fetches it again every 15 s.
#[derive(Serialize)]
pub(super) struct Board {
    title: String,
    today: Figure,
    month: Figure,
    answers_today: String,
    comments: Vec<Comment>,
    champions: Vec<String>,
    updated: String,
}

#[derive(Serialize)]
struct Figure {
    label: String,
    nps: String,
    detail: String,
}

#[derive(Serialize)]
struct Comment {
    text: String,
    /// The customer's name, when the link allows customers' data.
    who: Option<String>,
}

async fn board(state: &AppState, shared: &Shared, t: Reader) -> Result<Board, ApiError> {
    let today = jiff::Timestamp::now().to_zoned(t.1.clone()).date();
    let scope = link_pairs(&shared.link, t);
    let with = |from: jiff::civil::Date, more: &[(&str, &str)]| {
        let mut pairs = scope.clone();
        pairs.extend([("from".to_string(), from.to_string()), ("to".to_string(), today.to_string())]);
        pairs.extend(more.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        pairs
    };
    let viewer = &shared.viewer;
    let store = &state.store;
    let day = insights::overview(store, viewer, &with(today, &[])).await?;
    let month = insights::overview(store, viewer, &with(today.first_of_month(), &[])).await?;
    let praise =
        insights::responses(store, viewer, &with(today.first_of_month(), &[("segment", "promoter"), ("limit", "40")]))
            .await?;
    let comments = praise
        .items
        .into_iter()
        .filter_map(|r| {
            let who = r.contact.filter(|_| shared.link.personal_data);
            r.comment.filter(|c| !c.trim().is_empty()).map(|text| Comment { text, who })
        })
        .take(5)
        .collect();
    let champions = if viewer.sees_own_only() {
        Vec::new()
    } else {
        let agents = insights::agents(store, viewer, &with(today.first_of_month(), &[])).await?;
        agents.champions.into_iter().map(|a| a.name).take(5).collect()
    };
    let figure = |label: &str, s: &hark_core::NpsSummary| Figure {
        label: label.to_owned(),
        nps: s.nps.map_or_else(|| "–".to_owned(), |nps| t.signed(nps, 0)),
        detail: match s.interval {
            Some(i) => format!("n = {} · {}", t.count(s.n), t.ci(i, 0)),
            None => t.text("dash.no_answers").to_owned(),
        },
    };
    let whose = month.subject;
    Ok(Board {
        title: format!("{} · {}", t.text("wallboard.title"), super::subject_name(t, whose)),
        today: figure(t.text("wallboard.today"), &day.nps),
        month: figure(t.text("wallboard.month"), &month.nps),
        answers_today: t.count(day.nps.n),
        comments,
        champions,
        updated: t.time(jiff::Timestamp::now().as_millisecond()),
    })
}

/// The board a wallboard token names, in its viewer's words; else the response that ends it.
async fn open_board(state: &AppState, token: &str, headers: &HeaderMap) -> Result<(Reader, Board), Response> {
    let shared = match sharing::open(state, token, WALLBOARD).await {
        Ok(Some(shared)) => shared,
        Ok(None) => return Err(gone()),
        Err(e) => return Err(e.into_response()),
    };
    let t = visitor(state, headers);
    board(state, &shared, t).await.map(|b| (t, b)).map_err(IntoResponse::into_response)
}

/// `GET /wallboard/{token}`: the board, for a screen on the floor.
pub(super) async fn wallboard(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match open_board(&state, &token, &headers).await {
        Ok((t, board)) => ([(header::CACHE_CONTROL, "no-store")], render(&WallboardPage { t, board })).into_response(),
        Err(ended) => ended,
    }
}

/// `GET /wallboard/{token}/figures`: the same, as JSON, for the board's script.
pub(super) async fn wallboard_figures(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    match open_board(&state, &token, &headers).await {
        Ok((_, board)) => ([(header::CACHE_CONTROL, "no-store")], Json(board)).into_response(),
        Err(ended) => ended,
    }
}

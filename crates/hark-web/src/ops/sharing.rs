//! Figures for people who do not sign in: a dashboard view or a call-centre wallboard behind a
//! signed link. The link shows what its maker may see, reads only, and ends when it expires,
//! when an admin revokes it, or when its maker's account is deactivated.

use hark_core::Why;
use hark_core::token::TokenKind;
use hark_store::{NewSharedLink, Role, SharedLink, User};

use crate::AppState;
use crate::problem::ApiError;
use crate::viewer::Viewer;

/// The dashboard pages a link may show; the answers page only with customers' data allowed.
pub(crate) const SHARED_PAGES: [&str; 5] = ["overview", "segments", "agents", "changes", "responses"];
pub(crate) const WALLBOARD: &str = "wallboard";
/// A link lasts at most a year.
pub(crate) const MAX_DAYS: i64 = 365;

/// A live link and what its maker may see.
pub(crate) struct Shared {
    pub link: SharedLink,
    pub viewer: Viewer,
}

/// The link a token names while it is live; `None` for anything else (forged, revoked,
/// expired, its maker gone), which the routes answer with a bare 404 that says no more.
pub(crate) async fn open(state: &AppState, token: &str, kind: &str) -> Result<Option<Shared>, ApiError> {
    let Some(id) = state.signer().verify_kind(token, TokenKind::Shared) else { return Ok(None) };
    let Some(link) = state.store.get_shared_link(&id).await? else { return Ok(None) };
    if link.kind != kind || !link.live(jiff::Timestamp::now().as_millisecond()) {
        return Ok(None);
    }
    let maker: Option<User> = state.store.get_user(&link.created_by).await?;
    Ok(maker.filter(|m| m.deactivated_at.is_none()).map(|maker| Shared { viewer: Viewer::of_user(&maker), link }))
}

/// What a person asks to share.
pub(crate) struct Request<'a> {
    pub kind: &'a str,
    pub page: &'a str,
    pub query: &'a str,
    pub days: &'a str,
    pub personal_data: bool,
}

/// Makes a link as `maker` and gives it with its address. Agents share nothing (their view
/// is their own answers); only admins may let a link show customers' names and comments.
pub(crate) async fn create(
    state: &AppState,
    maker: &User,
    asked: &Request<'_>,
) -> Result<(SharedLink, String), ApiError> {
    if maker.role == Role::Agent {
        return Err(ApiError::refused(Why::new("refused.agents_share")));
    }
    if asked.personal_data && maker.role != Role::Admin {
        return Err(ApiError::refused(Why::new("refused.personal_data")));
    }
    let mut errors = hark_core::ValidationErrors::default();
    let page_ok = match asked.kind {
        WALLBOARD => asked.page == WALLBOARD,
        "view" => SHARED_PAGES.contains(&asked.page) && (asked.page != "responses" || asked.personal_data),
        _ => false,
    };
    if !page_ok {
        errors.say("page", Why::new("invalid.not_shareable"));
    }
    let days = asked.days.trim().parse::<i64>().ok().filter(|d| (1..=MAX_DAYS).contains(d));
    if days.is_none() {
        errors.say("days", Why::new("invalid.whole_number_between").with("min", 1).with("max", MAX_DAYS));
    }
    if asked.query.len() > 2000 {
        errors.say("query", Why::new("invalid.at_most_chars").with("max", 2000));
    }
    errors.into_result()?;
    let expires_at = jiff::Timestamp::now().as_millisecond() + days.unwrap_or(1) * 86_400_000;
    let new = NewSharedLink {
        kind: asked.kind,
        page: asked.page,
        query: asked.query,
        created_by: &maker.id,
        personal_data: asked.personal_data,
        expires_at,
    };
    let link = state.store.create_shared_link(&new).await?;
    let address = address(state, &link);
    Ok((link, address))
}

/// Where a link opens: `/shared/{token}` for a view, `/wallboard/{token}` for a wallboard.
pub(crate) fn address(state: &AppState, link: &SharedLink) -> String {
    let token = state.signer().sign(TokenKind::Shared, &link.id);
    let path = if link.kind == WALLBOARD { "wallboard" } else { "shared" };
    state.url(&format!("/{path}/{token}"))
}

//! Who is looking at the figures and what they may see. Admins and executives (and API
//! keys) see everything; a team lead sees the company figure and their own team in detail;
//! an agent sees the company figure, their own answers and their rank. The scope is applied
//! to the filter of every dashboard page and report route, never left to the template.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use hark_store::{Case, CaseReach, ResponseFilter, Role, Session, Store, StoreError, User};

use crate::AppState;
use crate::problem::ApiError;

/// What a person may do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseAccess {
    /// Outside their scope.
    Hidden,
    Read,
    Act,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Team(String),
    Agent {
        agent_id: String,
        team_id: Option<String>,
    },
    /// A team lead without a team or an agent user not linked to an agent: company figures only.
    Unlinked,
}

#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub role: Role,
    pub scope: Scope,
    /// Present when signed in through the pages (for CSRF tokens on forms).
    pub session: Option<Session>,
    /// Whose view it is (`None`: an API key's, which sees and does everything).
    pub user: Option<User>,
}

impl Viewer {
    pub fn api_key() -> Self {
        Viewer { role: Role::Admin, scope: Scope::All, session: None, user: None }
    }

    pub fn of(session: Session) -> Self {
        Viewer { session: Some(session.clone()), ..Self::of_user(&session.user) }
    }

    /// What `user` may see, without a session: the figures of a link they shared.
    pub fn of_user(user: &User) -> Self {
        let scope = match (user.role, &user.team_id, &user.agent_id) {
            (Role::Admin | Role::Executive, _, _) => Scope::All,
            (Role::TeamLead, Some(team), _) => Scope::Team(team.clone()),
            (Role::Agent, team, Some(agent)) => Scope::Agent { agent_id: agent.clone(), team_id: team.clone() },
            _ => Scope::Unlinked,
        };
        Viewer { role: user.role, scope, session: None, user: Some(user.clone()) }
    }

    pub fn sees_all(&self) -> bool {
        self.scope == Scope::All
    }

    /// Agents (and unlinked accounts) see their own figures only: no other agent's row, no
    /// champions, no alerts.
    pub fn sees_own_only(&self) -> bool {
        matches!(self.scope, Scope::Agent { .. } | Scope::Unlinked)
    }

    /// Admins, executives and team leads may annotate trends; agents only read.
    pub fn may_annotate(&self) -> bool {
        self.role != Role::Agent
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The cases this viewer sees in lists (`None`: all). Admins and executives see every
    /// case; a team lead those of their team and their own; an agent those about their own
    /// answers and their own.
    pub fn case_reach(&self) -> Option<CaseReach> {
        let user = self.user.as_ref()?;
        let user_id = user.id.clone();
        match user.role {
            Role::Admin | Role::Executive => None,
            Role::TeamLead => Some(CaseReach { user_id, team_id: user.team_id.clone(), agent_id: None }),
            Role::Agent => Some(CaseReach { user_id, team_id: None, agent_id: user.agent_id.clone() }),
        }
    }

    /// Whether a role may read the loop report: everyone but agents, who follow their own cases
    /// on the board. A team lead's covers their `case_reach`.
    pub fn reads_the_loop(role: Role) -> bool {
        role != Role::Agent
    }

    /// Admins (and API keys) act on every case, anyone on a case they own, a team lead on
    /// the cases of their team; executives and agents read the rest of what they see.
    pub async fn case_access(&self, store: &Store, case: &Case) -> Result<CaseAccess, StoreError> {
        let Some(user) = &self.user else { return Ok(CaseAccess::Act) };
        if user.role == Role::Admin || case.owner_id.as_ref() == Some(&user.id) {
            return Ok(CaseAccess::Act);
        }
        let Some(reach) = self.case_reach() else { return Ok(CaseAccess::Read) };
        Ok(match (store.case_in_reach(&case.id, &reach).await?, user.role) {
            (false, _) => CaseAccess::Hidden,
            (true, Role::TeamLead) => CaseAccess::Act,
            (true, _) => CaseAccess::Read,
        })
    }

    /// Whom this viewer may hand a case to: admins and executives anyone active; others
    /// themselves and the active people of their own team.
    pub fn may_assign_to(&self, user: &User) -> bool {
        let Some(me) = &self.user else { return user.deactivated_at.is_none() };
        user.deactivated_at.is_none()
            && (matches!(me.role, Role::Admin | Role::Executive)
                || user.id == me.id
                || (me.team_id.is_some() && user.team_id == me.team_id))
    }

    /// Narrows a filter to what this viewer may see in detail; asking for someone else's
    /// team or agent is refused, not silently replaced.
    pub async fn restrict(&self, store: &Store, filter: &mut ResponseFilter) -> Result<(), ApiError> {
        let refuse = |what: &str| Err(ApiError::forbidden(format!("your role may not see another {what}'s answers")));
        match &self.scope {
            Scope::All => {}
            Scope::Team(team) => {
                if filter.team_id.as_ref().is_some_and(|t| t != team) {
                    return refuse("team");
                }
                // An agent of another team is refused too, not answered with empty figures.
                if let Some(agent) = &filter.agent_id {
                    let theirs = store.get_agent(agent).await?.and_then(|a| a.team_id);
                    if theirs.as_ref() != Some(team) {
                        return refuse("team");
                    }
                }
                filter.team_id = Some(team.clone());
            }
            Scope::Agent { agent_id, team_id } => {
                if filter.agent_id.as_ref().is_some_and(|a| a != agent_id) {
                    return refuse("agent");
                }
                if filter.team_id.is_some() && filter.team_id != *team_id {
                    return refuse("team");
                }
                filter.agent_id = Some(agent_id.clone());
            }
            // Matches no answer: such accounts see the company figure only.
            Scope::Unlinked => filter.agent_id = Some(String::new()),
        }
        Ok(())
    }

    /// Who the detail is about once `filter` (as asked, before the scope narrows it) is
    /// applied: "Selection" when it narrows the view, not "Company".
    pub fn subject_of(&self, filter: &ResponseFilter) -> &'static str {
        let narrowed = ResponseFilter { survey_kind: filter.survey_kind, ..company_filter(filter) } != *filter;
        match (narrowed, &self.scope) {
            (false, _) => self.subject(),
            (true, Scope::All) => "Selection",
            (true, Scope::Team(_)) => "Your team, filtered",
            (true, Scope::Agent { .. }) => "You, filtered",
            (true, Scope::Unlinked) => self.subject(),
        }
    }

    /// Who the detail is about, for headings: "Company", "Your team", "You".
    pub fn subject(&self) -> &'static str {
        match self.scope {
            Scope::All => "Company",
            Scope::Team(_) => "Your team",
            Scope::Agent { .. } => "You",
            Scope::Unlinked => "Your account is not linked to a team or agent",
        }
    }
}

/// The figures' company-wide frame: the same surveys and period, nothing narrower. Every
/// role may see it.
pub(crate) fn company_filter(filter: &ResponseFilter) -> ResponseFilter {
    ResponseFilter {
        survey_id: filter.survey_id.clone(),
        survey_kind: filter.survey_kind,
        from_ms: filter.from_ms,
        to_ms: filter.to_ms,
        ..Default::default()
    }
}

/// A viewer of a report route: an API key (everything) or a signed-in session (its scope).
pub(crate) struct ApiViewer(pub Viewer);

impl FromRequestParts<AppState> for ApiViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if crate::auth::has_bearer(&parts.headers) {
            crate::auth::check_api_key(state, &parts.headers).await.map_err(IntoResponse::into_response)?;
            return Ok(ApiViewer(Viewer::api_key()));
        }
        let unauthorized =
            || ApiError::unauthorized("send an API key as `Authorization: Bearer hark_…`, or sign in").into_response();
        let token = crate::auth::session_token(&parts.headers).ok_or_else(unauthorized)?;
        match state.store.session(&token).await {
            Ok(Some(session)) => Ok(ApiViewer(Viewer::of(session))),
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

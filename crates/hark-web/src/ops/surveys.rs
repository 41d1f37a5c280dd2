//! Checks on a survey that need the stored people and teams, for the API and the pages alike.

use hark_core::Why;
use hark_core::survey::SurveyDefinition;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

/// The team and owner a survey's cases default to must exist (by name and email).
pub(crate) async fn check_case_defaults(s: &AppState, def: &SurveyDefinition) -> ApiResult<()> {
    let playbooks = &def.playbooks;
    if let Some(team) = &playbooks.case_team
        && !s.store.list_teams().await?.iter().any(|t| &t.name == team)
    {
        return Err(ApiError::invalid("playbooks.case_team", Why::new("invalid.no_team_named").with("team", team)));
    }
    if let Some(email) = &playbooks.case_owner
        && !s
            .store
            .list_users()
            .await?
            .iter()
            .any(|u| u.email.eq_ignore_ascii_case(email) && u.deactivated_at.is_none())
    {
        return Err(ApiError::invalid("playbooks.case_owner", Why::new("invalid.no_user_email").with("email", email)));
    }
    Ok(())
}

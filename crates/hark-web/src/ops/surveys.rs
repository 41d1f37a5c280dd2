//! Checks on a survey that need the stored people and teams, and the stored surveys by id, for
//! the API and the pages alike.

use std::collections::HashMap;

use hark_core::Why;
use hark_core::survey::SurveyDefinition;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

/// Every survey's definition, by id: what a page needs to name an answer's segment in its
/// survey kind's words, and to word its extra questions.
pub(crate) async fn definitions(
    store: &hark_store::Store,
) -> Result<HashMap<String, SurveyDefinition>, hark_store::StoreError> {
    Ok(store.list_surveys().await?.into_iter().map(|s| (s.id, s.definition)).collect())
}

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

//! `/api/v1`: every route is declared with `#[utoipa::path]` and registered through
//! `routes!`, so the OpenAPI document cannot drift from the code.

mod contacts;
mod events;
pub(crate) mod filters;
pub(crate) mod follow_up;
mod insights;
mod people;
mod reports;
mod responses;
mod surveys;

use axum::Json;
use axum::extract::State;
use axum::middleware::from_fn_with_state;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::problem::{ApiError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Hark API", description = "Net Promoter Score and closed-loop feedback. Errors are RFC 9457 problem+json."),
    modifiers(&BearerAuth),
    security(("api_key" = [])),
    components(schemas(Problem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("api_key", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

pub(crate) fn router(state: AppState) -> OpenApiRouter<AppState> {
    // Reports check their own credentials: an API key, or a signed-in user's session scope.
    let reports = OpenApiRouter::new()
        .routes(routes!(insights::overview))
        .routes(routes!(insights::segments))
        .routes(routes!(insights::agents))
        .routes(routes!(insights::changes))
        .routes(routes!(insights::alerts))
        .routes(routes!(insights::responses));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(surveys::create_survey, surveys::list_surveys))
        .routes(routes!(surveys::get_survey, surveys::update_survey))
        .routes(routes!(surveys::set_survey_status))
        .routes(routes!(contacts::upsert_contact, contacts::list_contacts))
        .routes(routes!(contacts::get_contact, contacts::delete_contact))
        .routes(routes!(contacts::export_contact))
        .routes(routes!(contacts::add_note, contacts::list_notes))
        .routes(routes!(people::create_team, people::list_teams))
        .routes(routes!(people::create_agent, people::list_agents))
        .routes(routes!(responses::create_response, responses::list_responses))
        .routes(routes!(responses::get_response))
        .routes(routes!(reports::nps_report))
        .routes(routes!(events::create_event))
        .routes(routes!(events::send_survey))
        .routes(routes!(events::list_invitations))
        .routes(routes!(follow_up::list_cases))
        .routes(routes!(follow_up::get_case))
        .routes(routes!(follow_up::act_on_case))
        .routes(routes!(follow_up::loop_report_api))
        .routes(routes!(follow_up::create_webhook, follow_up::list_webhooks))
        .routes(routes!(follow_up::delete_webhook))
        .routes(routes!(follow_up::test_webhook))
        .routes(routes!(follow_up::list_deliveries))
        .routes(routes!(follow_up::add_reward_codes))
        .routes(routes!(follow_up::add_interaction))
        .routes(routes!(follow_up::contact_timeline))
        .routes(routes!(insights::create_annotation))
        .routes(routes!(insights::delete_annotation))
        .routes(routes!(insights::create_alert_rule))
        .routes(routes!(insights::delete_alert_rule))
        .layer(from_fn_with_state(state, crate::auth::require_api_key))
        .merge(reports)
}

#[derive(Serialize)]
pub(crate) struct Health {
    status: &'static str,
}

/// Liveness and database reachability; no key needed.
pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    state.store.ping().await.map_err(|e| ApiError::unavailable(format!("database unreachable: {e}")))?;
    Ok(Json(Health { status: "ok" }))
}

/// A page of a list and the cursor of the next page (`null` on the last).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub(crate) const DEFAULT_LIMIT: i64 = 50;
pub(crate) const MAX_LIMIT: i64 = 500;

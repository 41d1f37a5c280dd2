//! `/api/v1`: every route is declared with `#[utoipa::path]` and registered through
//! `routes!`, so the OpenAPI document cannot drift from the code.

mod contacts;
mod events;
mod feedback;
pub(crate) mod follow_up;
mod insights;
mod people;
mod reports;
mod responses;
pub(crate) mod surveys;
mod themes;

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
    // Reports and cases check their own credentials: an API key, or a signed-in user's
    // session scope.
    let reports = OpenApiRouter::new()
        .routes(routes!(insights::overview))
        .routes(routes!(insights::segments))
        .routes(routes!(insights::themes))
        .routes(routes!(insights::agents))
        .routes(routes!(insights::changes))
        .routes(routes!(insights::alerts))
        .routes(routes!(insights::responses))
        .routes(routes!(follow_up::list_cases))
        .routes(routes!(follow_up::get_case))
        .routes(routes!(follow_up::act_on_case))
        .routes(routes!(follow_up::loop_report_api));
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
        .routes(routes!(feedback::add_feedback, feedback::list_feedback))
        .routes(routes!(themes::list_themes, themes::add_theme))
        .routes(routes!(themes::replace_theme, themes::delete_theme))
        .routes(routes!(themes::merge_theme))
        .routes(routes!(themes::preview_terms))
        .routes(routes!(reports::nps_report))
        .routes(routes!(events::create_event))
        .routes(routes!(events::send_survey))
        .routes(routes!(events::list_invitations))
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

/// The OpenAPI document as served: what the annotations say, plus what every operation may
/// answer whatever its handler (errors of the shared extractors, key checks, limits), so that
/// clients and fuzzers see every status and content type Hark really sends.
pub(crate) fn document(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    let standard = |status: &str| match status {
        "400" => "malformed request: bad JSON, form or query syntax",
        "401" => "no valid API key (or session, for reports)",
        "403" => "outside the signed-in user's scope",
        "404" => "no such record",
        "413" => "body over the size limit",
        "415" => "body not sent as JSON",
        "503" => "the database was busy with other writes for 10 s: nothing stored; retry after `Retry-After` s",
        _ => "invalid input: each field at fault is named in `errors`",
    };
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(operations) = item.as_object_mut() else { continue };
            for (method, operation) in operations.iter_mut() {
                let has_body = operation.get("requestBody").is_some();
                let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else { continue };
                // Problems are problem+json, not plain JSON.
                for response in responses.values_mut() {
                    let is_problem = response["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|r| r.ends_with("/Problem"));
                    if is_problem {
                        response["content"] = problem.clone();
                    }
                }
                let mut statuses = vec!["400", "401", "403", "422"];
                if path.contains('{') {
                    statuses.push("404");
                }
                if has_body {
                    statuses.extend(["413", "415"]);
                }
                // Writes wait their turn at a SQLite file (`StoreError::Busy`).
                if method != "get" {
                    statuses.push("503");
                }
                for status in statuses {
                    let mut response = json!({"description": standard(status), "content": problem.clone()});
                    if status == "503" {
                        response["headers"] = json!({"Retry-After": {"description": "seconds to wait before retrying",
                            "schema": {"type": "integer"}}});
                    }
                    responses.entry(status).or_insert(response);
                }
            }
        }
    }
    // A stored survey is its definition plus its record fields, as one open object: the
    // definition alone refuses unknown fields, which `allOf` would apply to the record too.
    let schemas = &mut doc["components"]["schemas"];
    let definition = schemas["SurveyDefinition"].clone();
    if let (Some(record), Some(own)) =
        (schemas["Survey"]["allOf"].get(1).cloned(), definition["properties"].as_object())
    {
        let mut properties = own.clone();
        properties.extend(record["properties"].as_object().cloned().unwrap_or_default());
        let mut required = definition["required"].as_array().cloned().unwrap_or_default();
        required.extend(record["required"].as_array().cloned().unwrap_or_default());
        schemas["Survey"] = json!({"type": "object", "description": "A stored survey: its definition, id, status and times.",
            "required": required, "properties": properties});
    }
    doc
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

pub(crate) use crate::ops::filters::MAX_LIMIT;

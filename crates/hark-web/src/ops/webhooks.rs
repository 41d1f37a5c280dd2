//! Webhooks as people set them up, on the API and on the integrations page alike.

use hark_core::ValidationErrors;
use hark_core::survey::is_web_url;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::problem::{ApiError, ApiResult};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookInput {
    pub name: String,
    /// `generic` (signed JSON), `slack` (incoming-webhook URL) or `card` (your JSON `template`).
    pub kind: String,
    pub url: String,
    /// `response.created`, `response.updated`, `case.opened`, `case.changed`, `case.closed`,
    /// `alert`; empty for all.
    #[serde(default)]
    pub events: Vec<String>,
    /// For `card`: JSON with `{{event}}`, `{{response.score}}`, `{{response.comment}}`, `{{link}}` …
    pub template: Option<String>,
}

pub(crate) const WEBHOOK_EVENTS: &[&str] =
    &["response.created", "response.updated", "case.opened", "case.changed", "case.closed", "alert"];

pub(crate) fn check_webhook(input: &WebhookInput) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if input.name.trim().is_empty() || input.name.len() > 100 {
        errors.push("name", "1–100 characters");
    }
    if !["generic", "slack", "card"].contains(&input.kind.as_str()) {
        errors.push("kind", "one of generic, slack, card");
    }
    if !is_web_url(&input.url) {
        errors.push("url", "must be an http:// or https:// address");
    }
    for (i, e) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&e.as_str()) {
            errors.push(format!("events[{i}]"), format!("one of {WEBHOOK_EVENTS:?}"));
        }
    }
    match (&input.kind[..], &input.template) {
        ("card", None) => errors.push("template", "a card webhook needs a JSON template"),
        ("card", Some(t)) => {
            if let Err(e) = hark_jobs::fill_json_template(t, "test", &Value::Null) {
                errors.push("template", e);
            }
        }
        (_, Some(_)) => errors.push("template", "only card webhooks take a template"),
        _ => {}
    }
    errors.into_result()
}

pub(crate) async fn send_test(s: &AppState, id: &str) -> ApiResult<()> {
    let hook = s.store.get_webhook(id).await?.ok_or_else(|| ApiError::not_found("webhook"))?;
    let payload = serde_json::json!({ "message": "A test from Hark", "link": s.url("/admin/integrations") });
    s.store.queue_deliveries("test", &format!("test:{}", uuid::Uuid::now_v7()), &payload, Some(&hook.id)).await?;
    s.wake_jobs();
    Ok(())
}

//! Webhooks as people set them up, on the API and on the integrations page alike.

use hark_core::survey::is_web_url;
use hark_core::{ValidationErrors, Why};
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
    &["response.created", "response.updated", "case.opened", "case.changed", "case.closed", "alert", "digest"];

pub(crate) fn check_webhook(input: &WebhookInput) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    if input.name.trim().is_empty() || input.name.len() > 100 {
        errors.say("name", Why::new("invalid.chars_between").with("min", 1).with("max", 100));
    }
    if !["generic", "slack", "card"].contains(&input.kind.as_str()) {
        errors.say("kind", Why::new("invalid.one_of").with("values", "generic, slack, card"));
    }
    if !is_web_url(&input.url) {
        errors.say("url", Why::new("invalid.web_address"));
    }
    for (i, e) in input.events.iter().enumerate() {
        if !WEBHOOK_EVENTS.contains(&e.as_str()) {
            errors.say(format!("events[{i}]"), Why::new("invalid.one_of").with("values", WEBHOOK_EVENTS.join(", ")));
        }
    }
    match (&input.kind[..], &input.template) {
        ("card", None) => errors.say("template", Why::new("invalid.card_needs_template")),
        ("card", Some(t)) => {
            if let Err(e) = hark_jobs::fill_json_template(t, "test", &Value::Null) {
                errors.say("template", Why::new("invalid.template").with("problem", e));
            }
        }
        (_, Some(_)) => errors.say("template", Why::new("invalid.template_not_card")),
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

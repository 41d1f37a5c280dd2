//! Contacts as clients describe them, and the rules their fields follow.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::survey::is_locale;
use crate::{ValidationErrors, Why};

/// A contact as a client describes it; upserted by `external_id`. Fields left out keep their
/// stored value; attributes are merged key by key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// The contact's id in your systems (customer number, email …).
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// BCP 47 language tag, e.g. `ko` or `it-IT`.
    pub locale: Option<String>,
    /// Flat attributes (plan, country, product …): strings, numbers or booleans.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
}

impl ContactInput {
    /// Checks every field; `prefix` is prepended to field names (e.g. `contact.`).
    pub fn validate(&self, prefix: &str) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let field = |f: &str| format!("{prefix}{f}");
        if self.external_id.trim().is_empty() || self.external_id.chars().count() > 200 {
            errors.say(field("external_id"), Why::new("invalid.chars_between").with("min", 1).with("max", 200));
        }
        if let Some(email) = &self.email
            && !is_email(email)
        {
            errors.say(field("email"), Why::new("invalid.email"));
        }
        if self.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            errors.say(field("name"), Why::new("invalid.at_most_chars").with("max", 200));
        }
        if self.locale.as_ref().is_some_and(|l| !is_locale(l)) {
            errors.say(field("locale"), Why::new("invalid.language_tag").with("example", "ko"));
        }
        if self.attributes.len() > 100 {
            errors.say(field("attributes"), Why::new("invalid.too_many_attributes").with("max", 100));
        }
        for (key, value) in &self.attributes {
            if !is_attribute_key(key) {
                errors.say(field(&format!("attributes.{key}")), Why::new("invalid.attribute_name"));
            } else if !matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                errors.say(field(&format!("attributes.{key}")), Why::new("invalid.attribute_value"));
            } else if value.as_str().is_some_and(|s| s.chars().count() > 500) {
                errors.say(field(&format!("attributes.{key}")), Why::new("invalid.at_most_chars").with("max", 500));
            }
        }
        errors.into_result()
    }
}

/// A plausible address: something@domain.tld, at most 254 bytes.
pub fn is_email(email: &str) -> bool {
    email.len() <= 254 && email.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
}

/// A phone number as people write it: 6–20 digits, with `+`, spaces, `-`, `.` and brackets.
pub fn is_phone(phone: &str) -> bool {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    (6..=20).contains(&digits)
        && phone.len() <= 32
        && phone.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
}

pub fn is_attribute_key(key: &str) -> bool {
    (1..=64).contains(&key.len()) && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn contact_fields_are_checked() {
        let c: ContactInput = serde_json::from_value(json!({
            "external_id": "", "email": "nope", "locale": "klingon",
            "attributes": {"plan": "pro", "bad key": 1, "nested": {"a": 1}}
        }))
        .unwrap();
        let fields: Vec<_> = c.validate("contact.").unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "contact.external_id",
                "contact.email",
                "contact.locale",
                "contact.attributes.bad key",
                "contact.attributes.nested"
            ]
        );
    }
}

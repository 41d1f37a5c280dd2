//! Property tests over the parsers that read what anyone may send: filters from the
//! address, answer bodies of the API and the widget. Whatever comes in, each either parses
//! or names what is wrong, and never panics.

use proptest::prelude::*;

use crate::extract::parse_json;
use crate::ingest::ResponseInput;

/// JSON-ish text: real JSON of nested values, or its bytes cut and spliced.
fn json_like() -> impl Strategy<Value = Vec<u8>> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,40}".prop_map(serde_json::Value::from),
    ];
    let keys = prop_oneof![
        Just("survey_id".to_owned()),
        Just("score".to_owned()),
        Just("comment".to_owned()),
        Just("contact".to_owned()),
        Just("external_id".to_owned()),
        Just("attributes".to_owned()),
        Just("answers".to_owned()),
        Just("context".to_owned()),
        Just("nonce".to_owned()),
        Just("visitor".to_owned()),
        Just("agent_score".to_owned()),
        ".{0,12}",
    ];
    let value = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    (value, any::<usize>(), prop::collection::vec(any::<u8>(), 0..8)).prop_map(|(v, cut, junk)| {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        if cut % 3 == 0 {
            let at = cut % (bytes.len() + 1);
            bytes.splice(at..at, junk);
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn answer_bodies_parse_or_name_the_problem(bytes in json_like()) {
        if let Ok(ResponseInput { contact: Some(contact), .. }) = parse_json::<ResponseInput>(&bytes) {
            let _ = contact.validate("contact.");
        }
    }

    #[test]
    fn widget_bodies_parse_or_name_the_problem(bytes in json_like()) {
        let _ = parse_json::<crate::public::widget::WidgetAnswer>(&bytes);
    }

    #[test]
    fn filters_parse_or_name_the_problem(
        pairs in prop::collection::vec((prop_oneof![
            Just("survey_id".to_owned()), Just("from".to_owned()), Just("to".to_owned()), Just("q".to_owned()),
            Just("attr".to_owned()), Just("attr.plan".to_owned()), Just("segment".to_owned()), Just("kind".to_owned()),
            Just("limit".to_owned()), Just("granularity".to_owned()), ".{0,16}"], ".{0,40}"), 0..12)
    ) {
        let allowed = ["segment", "kind", "granularity", "cursor", "limit", "by", "min_n"];
        if let Err(errors) = crate::ops::filters::parse(&pairs, &allowed, hark_text::Analyzer::builtin().themes()) {
            prop_assert!(!errors.0.is_empty());
            prop_assert!(errors.0.iter().all(|e| !e.field.is_empty()), "{errors:?}");
        }
    }
}

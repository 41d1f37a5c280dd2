//! Survey definitions and the validation of an answer against its survey.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Segment, SurveyKind, ValidationErrors};

pub const MAX_EXTRA_QUESTIONS: usize = 5;
pub const MAX_COMMENT_CHARS: usize = 10_000;
pub const MAX_SHORT_TEXT_CHARS: usize = 1_000;
const MAX_TEXT_CHARS: usize = 500;
const MAX_OPTIONS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    SingleChoice,
    MultipleChoice,
    ShortText,
    /// 1–5 stars.
    Rating,
}

/// An extra question after the main score and the open comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable id answers refer to, e.g. `reason`.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: QuestionType,
    pub text: String,
    /// Choices, for single and multiple choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Ask only respondents in these segments (e.g. only detractors); empty asks everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub show_if: Vec<Segment>,
}

/// Everything a survey asks, as its author defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub name: String,
    pub kind: SurveyKind,
    /// Replaces `{brand}` in the questions.
    pub brand: String,
    /// Main question; defaults to the standard wording of the kind.
    #[serde(default)]
    pub question: Option<String>,
    /// The open "why" question; defaults to "What is the main reason for your score?".
    #[serde(default)]
    pub follow_up: Option<String>,
    /// A second 0–10 question about the agent who served the customer, if asked.
    #[serde(default)]
    pub agent_question: Option<String>,
    #[serde(default)]
    pub questions: Vec<Question>,
    /// BCP 47 language of the texts above, e.g. `en`.
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// Per language (`ko`, `it`, `th` …): text key (`question`, `follow_up`, a question id) → text.
    #[serde(default)]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
}

fn default_locale() -> String {
    "en".into()
}

impl SurveyDefinition {
    pub fn main_question(&self) -> String {
        let default = match self.kind {
            SurveyKind::Nps => "How likely are you to recommend {brand} to a friend or colleague?",
            SurveyKind::Csat => "How satisfied were you with {brand} today?",
            SurveyKind::Ces => "{brand} made it easy for me to handle my issue.",
        };
        self.question.as_deref().unwrap_or(default).replace("{brand}", &self.brand)
    }

    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        check_text(&mut errors, "name", &self.name, 200);
        check_text(&mut errors, "brand", &self.brand, 200);
        for (field, text) in
            [("question", &self.question), ("follow_up", &self.follow_up), ("agent_question", &self.agent_question)]
        {
            if let Some(text) = text {
                check_text(&mut errors, field, text, MAX_TEXT_CHARS);
            }
        }
        if !is_locale(&self.default_locale) {
            errors.push("default_locale", "must be a language tag such as `en` or `pt-BR`");
        }
        if self.questions.len() > MAX_EXTRA_QUESTIONS {
            errors.push("questions", format!("at most {MAX_EXTRA_QUESTIONS} extra questions"));
        }
        let mut ids = BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let at = |f: &str| format!("questions[{i}].{f}");
            if q.id.is_empty()
                || q.id.len() > 64
                || !q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                errors.push(at("id"), "1–64 characters of a–z, 0–9, `_` or `-`");
            } else if !ids.insert(q.id.as_str()) {
                errors.push(at("id"), format!("`{}` is used by an earlier question", q.id));
            }
            check_text(&mut errors, &at("text"), &q.text, MAX_TEXT_CHARS);
            let choice = matches!(q.kind, QuestionType::SingleChoice | QuestionType::MultipleChoice);
            if choice && !(2..=MAX_OPTIONS).contains(&q.options.len()) {
                errors.push(at("options"), format!("a choice question needs 2–{MAX_OPTIONS} options"));
            }
            if !choice && !q.options.is_empty() {
                errors.push(at("options"), "only choice questions have options");
            }
            for (j, o) in q.options.iter().enumerate() {
                check_text(&mut errors, &format!("{}[{j}]", at("options")), o, 200);
            }
        }
        for locale in self.translations.keys() {
            if !is_locale(locale) {
                errors.push(format!("translations.{locale}"), "must be a language tag such as `ko`");
            }
        }
        errors.into_result()
    }

    /// Checks one answer against this survey and returns its segment.
    pub fn check_answer(&self, answer: &AnswerInput<'_>) -> Result<Segment, ValidationErrors> {
        self.kind.check_score("score", answer.score)?;
        let segment = self.kind.segment(answer.score);
        let mut errors = ValidationErrors::default();
        if let Some(comment) = answer.comment {
            let chars = comment.chars().count();
            if chars > MAX_COMMENT_CHARS {
                errors.push("comment", format!("{chars} characters; at most {MAX_COMMENT_CHARS}"));
            }
        }
        if let Some(agent_score) = answer.agent_score {
            if self.agent_question.is_none() {
                errors.push("agent_score", "this survey does not ask about the agent");
            } else if let Err(e) = SurveyKind::Nps.check_score("agent_score", agent_score) {
                errors.0.extend(e.0);
            }
        }
        for (id, value) in answer.answers {
            let field = format!("answers.{id}");
            let Some(q) = self.questions.iter().find(|q| &q.id == id) else {
                errors.push(field, "no such question in this survey");
                continue;
            };
            if !q.show_if.is_empty() && !q.show_if.contains(&segment) {
                errors.push(field, format!("only asked of {}", segment_list(&q.show_if)));
                continue;
            }
            if let Err(message) = check_value(q, value) {
                errors.push(field, message);
            }
        }
        errors.into_result().map(|()| segment)
    }
}

/// The parts of a submitted answer that the survey constrains.
pub struct AnswerInput<'a> {
    pub score: i64,
    pub agent_score: Option<i64>,
    pub comment: Option<&'a str>,
    pub answers: &'a BTreeMap<String, Value>,
}

fn check_value(q: &Question, value: &Value) -> Result<(), String> {
    let is_option = |v: &Value| v.as_str().is_some_and(|s| q.options.iter().any(|o| o == s));
    match (q.kind, value) {
        (QuestionType::SingleChoice, v) if is_option(v) => Ok(()),
        (QuestionType::SingleChoice, _) => Err(format!("must be one of {:?}", q.options)),
        (QuestionType::MultipleChoice, Value::Array(items)) if items.iter().all(is_option) => Ok(()),
        (QuestionType::MultipleChoice, _) => Err(format!("must be a list drawn from {:?}", q.options)),
        (QuestionType::ShortText, Value::String(s)) if s.chars().count() <= MAX_SHORT_TEXT_CHARS => Ok(()),
        (QuestionType::ShortText, _) => Err(format!("must be text of at most {MAX_SHORT_TEXT_CHARS} characters")),
        (QuestionType::Rating, Value::Number(n)) if n.as_i64().is_some_and(|r| (1..=5).contains(&r)) => Ok(()),
        (QuestionType::Rating, _) => Err("must be a whole number from 1 to 5".into()),
    }
}

fn segment_list(segments: &[Segment]) -> String {
    segments.iter().map(|s| format!("{}s", s.as_str())).collect::<Vec<_>>().join(" and ")
}

fn check_text(errors: &mut ValidationErrors, field: &str, text: &str, max: usize) {
    if text.trim().is_empty() {
        errors.push(field, "must not be empty");
    } else if text.chars().count() > max {
        errors.push(field, format!("at most {max} characters"));
    }
}

/// A loose BCP 47 check: a 2–3 letter language, then optional alphanumeric subtags.
pub fn is_locale(tag: &str) -> bool {
    let mut parts = tag.split(['-', '_']);
    let lang_ok =
        parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic()));
    lang_ok && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn survey() -> SurveyDefinition {
        serde_json::from_value(json!({
            "name": "Relationship NPS", "kind": "nps", "brand": "Acme",
            "agent_question": "How likely are you to recommend the agent you spoke with?",
            "questions": [
                {"id": "fix", "type": "single_choice", "text": "What should we fix first?",
                 "options": ["price", "speed"], "show_if": ["detractor"]},
                {"id": "stars", "type": "rating", "text": "Rate the app"}
            ]
        }))
        .unwrap()
    }

    fn answer<'a>(score: i64, answers: &'a BTreeMap<String, Value>) -> AnswerInput<'a> {
        AnswerInput { score, agent_score: None, comment: None, answers }
    }

    #[test]
    fn default_question_carries_the_brand() {
        assert_eq!(survey().main_question(), "How likely are you to recommend Acme to a friend or colleague?");
        assert!(survey().validate().is_ok());
    }

    #[test]
    fn unknown_question_type_is_rejected_by_the_parser() {
        let err = serde_json::from_value::<Question>(json!({"id": "a", "type": "slider", "text": "?"}));
        assert!(err.unwrap_err().to_string().contains("slider"));
    }

    #[test]
    fn definition_errors_name_every_field() {
        let mut s = survey();
        s.name = " ".into();
        s.questions[1].id = "fix".into();
        s.questions[0].options = vec!["only".into()];
        let fields: Vec<_> = s.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "questions[0].options", "questions[1].id"]);
    }

    #[test]
    fn conditional_question_only_for_its_segment() {
        let answers = BTreeMap::from([("fix".to_string(), json!("price"))]);
        assert_eq!(survey().check_answer(&answer(3, &answers)), Ok(Segment::Detractor));
        let err = survey().check_answer(&answer(9, &answers)).unwrap_err();
        assert_eq!(err.0[0].field, "answers.fix");
        assert!(err.0[0].message.contains("detractors"));
    }

    #[test]
    fn answers_are_type_checked() {
        for (id, bad) in [("fix", json!("colour")), ("stars", json!(6)), ("nope", json!(1))] {
            let answers = BTreeMap::from([(id.to_string(), bad)]);
            let err = survey().check_answer(&answer(2, &answers)).unwrap_err();
            assert_eq!(err.0[0].field, format!("answers.{id}"));
        }
    }

    #[test]
    fn long_comment_and_stray_agent_score_are_refused() {
        let none = BTreeMap::new();
        let long = "ä".repeat(MAX_COMMENT_CHARS + 1);
        let mut a = answer(5, &none);
        a.comment = Some(&long);
        assert_eq!(survey().check_answer(&a).unwrap_err().0[0].field, "comment");
        let mut s = survey();
        s.agent_question = None;
        let mut a = answer(5, &none);
        a.agent_score = Some(8);
        assert_eq!(s.check_answer(&a).unwrap_err().0[0].field, "agent_score");
    }

    #[test]
    fn locales() {
        for ok in ["en", "ko", "pt-BR", "zh_Hant"] {
            assert!(is_locale(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en-", "12"] {
            assert!(!is_locale(bad), "{bad}");
        }
    }
}

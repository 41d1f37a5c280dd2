//! Survey definitions and the validation of an answer against its survey.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::i18n::{self, Locale};
use crate::playbook::Playbooks;
use crate::{Segment, SurveyKind, ValidationErrors, Why};

pub const MAX_EXTRA_QUESTIONS: usize = 5;
pub const MAX_COMMENT_CHARS: usize = 10_000;
pub const MAX_SHORT_TEXT_CHARS: usize = 1_000;
const MAX_TEXT_CHARS: usize = 500;
const MAX_OPTIONS: usize = 20;
/// Quiet window of a survey without event triggers (relationship NPS).
pub const RELATIONSHIP_FATIGUE_DAYS: u32 = 90;
/// Quiet window of a survey sent after events (transactional).
pub const TRANSACTIONAL_FATIGUE_DAYS: u32 = 7;
const MAX_DELAY_MINUTES: u32 = 30 * 24 * 60;

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

/// Text that may differ per segment; a part left out uses the shipped wording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerSegment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detractor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoter: Option<String>,
}

impl PerSegment {
    pub fn get(&self, segment: Segment) -> Option<&String> {
        match segment {
            Segment::Detractor => self.detractor.as_ref(),
            Segment::Passive => self.passive.as_ref(),
            Segment::Promoter => self.promoter.as_ref(),
        }
    }
}

/// A link offered to promoters after they answer: a review site or a referral page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoterLink {
    pub label: String,
    pub url: String,
}

/// How a triggered invitation reaches the customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteChannel {
    /// Hark mails the survey with the scale inside.
    #[default]
    Email,
    /// Hark makes the personal link and returns it; the caller delivers it (SMS, chat …).
    Link,
}

impl InviteChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Link => "link",
        }
    }
}

/// Send this survey when an event of this name arrives (`POST /api/v1/events`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Event name, e.g. `order.delivered`, `chat.closed`, `call.ended`.
    pub event: String,
    /// Wait this long after the event before sending.
    #[serde(default)]
    pub delay_minutes: u32,
    #[serde(default)]
    pub channel: InviteChannel,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    #[default]
    Popup,
    SlideIn,
}

/// The website widget: where it may run and when it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Widget {
    /// Sites allowed to show it, e.g. `https://shop.example.com` (scheme, host, optional port).
    pub origins: Vec<String>,
    #[serde(default)]
    pub placement: Placement,
    /// Show this many seconds after the page loads.
    #[serde(default)]
    pub delay_seconds: u32,
    /// Only on pages whose URL contains this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_contains: Option<String>,
    /// Only after the site calls `Hark.track(name)` with this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_event: Option<String>,
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
    /// The open question per segment, e.g. detractors: "What could we have done better?".
    #[serde(default)]
    pub follow_up_by_segment: PerSegment,
    /// A second 0–10 question about the agent who served the customer, if asked.
    #[serde(default)]
    pub agent_question: Option<String>,
    #[serde(default)]
    pub questions: Vec<Question>,
    /// The message after answering, per segment.
    #[serde(default)]
    pub thank_you: PerSegment,
    /// Offered to promoters on the thank-you page.
    #[serde(default)]
    pub promoter_link: Option<PromoterLink>,
    /// Language of the texts above: one of the shipped languages (`en`, `it`, `ko`, `th`).
    #[serde(default = "default_locale")]
    pub default_locale: String,
    /// Per language (`ko`, `it`, `th` …): text key (see `translatable_texts`) → text.
    #[serde(default)]
    pub translations: BTreeMap<String, BTreeMap<String, String>>,
    /// Anyone with the survey's public link may answer (one link for everyone).
    #[serde(default)]
    pub anonymous_link: bool,
    /// Days a contact is left alone after this survey reached them; default 90, or 7 for a
    /// survey with triggers (transactional).
    #[serde(default)]
    pub fatigue_days: Option<u32>,
    /// Mail one reminder this many days after an unanswered email; off when unset.
    #[serde(default)]
    pub reminder_days: Option<u32>,
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    #[serde(default)]
    pub widget: Option<Widget>,
    /// What Hark does with each answer (cases, thank-yous, offers); sensible by default.
    #[serde(default)]
    pub playbooks: Playbooks,
    /// Root causes a case can be closed with.
    #[serde(default = "default_root_causes")]
    pub root_causes: Vec<String>,
}

pub fn default_root_causes() -> Vec<String> {
    ["product", "price", "delivery", "support", "billing", "other"].map(String::from).to_vec()
}

/// The default root cause (of [`default_root_causes`]) a comment theme usually points to.
pub fn usual_root_cause(theme: &str) -> &'static str {
    match theme {
        "quality" | "size_fit" | "availability" | "digital" => "product",
        "price" => "price",
        "delivery" => "delivery",
        "billing" | "returns" => "billing",
        "staff" | "support" | "speed" | "communication" => "support",
        _ => "other",
    }
}

/// The root cause of `causes` (a survey's list) that the comment's `themes` suggest, first
/// theme first: a cause named like the theme, else the theme's usual default cause. Speed says
/// how something went, not what: "the app is slow" is the app's fault, so speed comes last.
pub fn suggested_root_cause<'a>(themes: &[String], causes: &'a [String]) -> Option<&'a String> {
    let (how, what): (Vec<&String>, Vec<&String>) = themes.iter().partition(|t| t.as_str() == "speed");
    what.into_iter().chain(how).find_map(|theme| {
        let wanted = [theme.as_str(), usual_root_cause(theme)];
        wanted.iter().find_map(|w| causes.iter().find(|c| c.eq_ignore_ascii_case(w)))
    })
}

fn default_locale() -> String {
    "en".into()
}

const SEGMENTS: [Segment; 3] = [Segment::Detractor, Segment::Passive, Segment::Promoter];

impl SurveyDefinition {
    pub fn main_question(&self) -> String {
        self.texts(&self.default_locale).question()
    }

    pub fn fatigue_window_days(&self) -> u32 {
        self.fatigue_days.unwrap_or(if self.triggers.is_empty() {
            RELATIONSHIP_FATIGUE_DAYS
        } else {
            TRANSACTIONAL_FATIGUE_DAYS
        })
    }

    /// The author's own text for `key`, unless it is just the shipped default wording.
    fn custom(&self, key: &str) -> Option<String> {
        let text = match key {
            "question" => self.question.clone(),
            "follow_up" => self.follow_up.clone(),
            "agent_question" => self.agent_question.clone(),
            "promoter_link" => self.promoter_link.as_ref().map(|l| l.label.clone()),
            _ => match key.split_once('.') {
                Some(("follow_up", seg)) => Segment::parse(seg).and_then(|s| self.follow_up_by_segment.get(s).cloned()),
                Some(("thank_you", seg)) => Segment::parse(seg).and_then(|s| self.thank_you.get(s).cloned()),
                Some((qid, n)) => {
                    let q = self.questions.iter().find(|q| q.id == qid)?;
                    q.options.get(n.parse::<usize>().ok()?).cloned()
                }
                None => self.questions.iter().find(|q| q.id == key).map(|q| q.text.clone()),
            },
        }?;
        let shipped = i18n::locale(&self.default_locale).map(|l| l.text(self.shipped_key(key)));
        (shipped != Some(text.as_str())).then_some(text)
    }

    fn shipped_key<'k>(&self, key: &'k str) -> &'k str {
        match key {
            "question" => match self.kind {
                SurveyKind::Nps => "nps.question",
                SurveyKind::Csat => "csat.question",
                SurveyKind::Ces => "ces.question",
            },
            other => other,
        }
    }

    /// Every text an author wrote (key and default-language text): what a translation must cover.
    pub fn translatable_texts(&self) -> Vec<(String, String)> {
        let mut keys: Vec<String> =
            ["question", "follow_up", "agent_question", "promoter_link"].map(String::from).into();
        for seg in SEGMENTS {
            keys.push(format!("follow_up.{}", seg.as_str()));
            keys.push(format!("thank_you.{}", seg.as_str()));
        }
        for q in &self.questions {
            keys.push(q.id.clone());
            keys.extend((0..q.options.len()).map(|i| format!("{}.{i}", q.id)));
        }
        keys.into_iter().filter_map(|k| self.custom(&k).map(|t| (k, t))).collect()
    }

    /// The languages this survey can be shown in: its own, then every shipped language its
    /// translations fully cover.
    pub fn languages(&self) -> Vec<String> {
        let custom = self.translatable_texts();
        let mut out = vec![self.default_locale.clone()];
        for l in i18n::locales() {
            let covered = custom.iter().all(|(k, _)| self.translations.get(l.tag).is_some_and(|t| t.contains_key(k)));
            if l.tag != self.default_locale && covered {
                out.push(l.tag.to_owned());
            }
        }
        out
    }

    /// The first of `candidates` (contact locale, then browser languages) this survey can be
    /// shown in, else its default language.
    pub fn choose_language<'a>(&self, candidates: impl IntoIterator<Item = &'a str>) -> String {
        i18n::negotiate(candidates, &self.languages()).unwrap_or_else(|| self.default_locale.clone())
    }

    /// The survey's texts in `lang` (one of `languages()`; anything else gets the default language).
    pub fn texts(&self, lang: &str) -> SurveyTexts<'_> {
        let lang = if self.languages().iter().any(|l| l == lang) { lang } else { &self.default_locale };
        let locale = i18n::locale(lang).unwrap_or_else(i18n::base);
        SurveyTexts { survey: self, locale }
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
            errors.say("default_locale", Why::new("invalid.language_tag").with("example", "pt-BR"));
        }
        if self.questions.len() > MAX_EXTRA_QUESTIONS {
            errors.say("questions", Why::new("invalid.too_many_questions").with("max", MAX_EXTRA_QUESTIONS));
        }
        let mut ids = BTreeSet::new();
        for (i, q) in self.questions.iter().enumerate() {
            let at = |f: &str| format!("questions[{i}].{f}");
            if q.id.is_empty()
                || q.id.len() > 64
                || !q.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                errors.say(at("id"), Why::new("invalid.question_id"));
            } else if ["question", "follow_up", "agent_question", "promoter_link"].contains(&q.id.as_str()) {
                errors.say(at("id"), Why::new("invalid.question_id_built_in").with("id", &q.id));
            } else if !ids.insert(q.id.as_str()) {
                errors.say(at("id"), Why::new("invalid.question_id_taken").with("id", &q.id));
            }
            check_text(&mut errors, &at("text"), &q.text, MAX_TEXT_CHARS);
            let choice = matches!(q.kind, QuestionType::SingleChoice | QuestionType::MultipleChoice);
            if choice && !(2..=MAX_OPTIONS).contains(&q.options.len()) {
                errors.say(at("options"), Why::new("invalid.choice_options").with("max", MAX_OPTIONS));
            }
            if !choice && !q.options.is_empty() {
                errors.say(at("options"), Why::new("invalid.options_not_choice"));
            }
            for (j, o) in q.options.iter().enumerate() {
                check_text(&mut errors, &format!("{}[{j}]", at("options")), o, 200);
            }
        }
        for locale in self.translations.keys() {
            if !is_locale(locale) {
                errors.say(format!("translations.{locale}"), Why::new("invalid.language_tag").with("example", "ko"));
            }
        }
        if is_locale(&self.default_locale) && i18n::locale(&self.default_locale).is_none() {
            errors.say("default_locale", Why::new("invalid.language_not_shipped").with("languages", shipped_list()));
        }
        for seg in SEGMENTS {
            for (field, text) in
                [("follow_up_by_segment", self.follow_up_by_segment.get(seg)), ("thank_you", self.thank_you.get(seg))]
            {
                if let Some(text) = text {
                    check_text(&mut errors, &format!("{field}.{}", seg.as_str()), text, MAX_TEXT_CHARS);
                }
            }
        }
        if let Some(link) = &self.promoter_link {
            check_text(&mut errors, "promoter_link.label", &link.label, 200);
            if !is_web_url(&link.url) {
                errors.say("promoter_link.url", Why::new("invalid.web_address"));
            }
        }
        if self.fatigue_days.is_some_and(|d| d > 3650) {
            errors.say("fatigue_days", Why::new("invalid.at_most_days").with("max", 3650));
        }
        if self.reminder_days.is_some_and(|d| !(1..=60).contains(&d)) {
            errors.say("reminder_days", Why::new("invalid.reminder_days"));
        }
        for (i, t) in self.triggers.iter().enumerate() {
            if t.event.is_empty()
                || t.event.len() > 100
                || !t.event.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
            {
                errors.say(format!("triggers[{i}].event"), Why::new("invalid.event_name"));
            }
            if t.delay_minutes > MAX_DELAY_MINUTES {
                errors.say(
                    format!("triggers[{i}].delay_minutes"),
                    Why::new("invalid.trigger_delay").with("max", MAX_DELAY_MINUTES),
                );
            }
        }
        if let Some(w) = &self.widget {
            if w.origins.is_empty() {
                errors.say("widget.origins", Why::new("invalid.no_site"));
            }
            for (i, o) in w.origins.iter().enumerate() {
                if !is_origin(o) {
                    errors.say(format!("widget.origins[{i}]"), Why::new("invalid.site"));
                }
            }
            if w.delay_seconds > 3600 {
                errors.say("widget.delay_seconds", Why::new("invalid.at_most_seconds").with("max", 3600));
            }
        }
        self.playbooks.validate(&mut errors);
        if self.root_causes.len() > 50 || self.root_causes.iter().any(|c| c.trim().is_empty() || c.len() > 100) {
            errors.say("root_causes", Why::new("invalid.root_causes"));
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

/// A survey's customer-facing texts in one language, author's wording first, shipped wording
/// for everything the author left alone.
pub struct SurveyTexts<'a> {
    survey: &'a SurveyDefinition,
    pub locale: &'static Locale,
}

impl SurveyTexts<'_> {
    pub fn lang(&self) -> &'static str {
        self.locale.tag
    }

    fn text(&self, key: &str) -> String {
        let s = self.survey;
        let own = if self.locale.tag == s.default_locale {
            s.custom(key)
        } else {
            s.custom(key)
                .map(|default| s.translations.get(self.locale.tag).and_then(|t| t.get(key)).cloned().unwrap_or(default))
        };
        own.unwrap_or_else(|| self.locale.text(s.shipped_key(key)).to_owned()).replace("{brand}", &s.brand)
    }

    /// A shipped interface text (`send`, `optional` …) with placeholders filled.
    pub fn ui(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let mut all = vec![("brand", self.survey.brand.as_str())];
        all.extend_from_slice(vars);
        self.locale.fill(key, &all)
    }

    pub fn question(&self) -> String {
        self.text("question")
    }

    /// Labels of the two ends of the scale, e.g. "Not at all likely" / "Extremely likely".
    pub fn scale_ends(&self) -> (String, String) {
        let kind = self.survey.kind.as_str();
        (self.ui(&format!("{kind}.low"), &[]), self.ui(&format!("{kind}.high"), &[]))
    }

    pub fn agent_question(&self) -> Option<String> {
        self.survey.agent_question.as_ref().map(|_| self.text("agent_question"))
    }

    /// The open question for this segment: the author's per-segment text, then their general
    /// one, then the shipped per-segment wording.
    pub fn follow_up(&self, segment: Segment) -> String {
        let key = format!("follow_up.{}", segment.as_str());
        if self.survey.custom(&key).is_none() && self.survey.custom("follow_up").is_some() {
            return self.text("follow_up");
        }
        self.text(&key)
    }

    pub fn thank_you(&self, segment: Segment) -> String {
        self.text(&format!("thank_you.{}", segment.as_str()))
    }

    pub fn promoter_link_label(&self) -> Option<String> {
        self.survey.promoter_link.as_ref().map(|_| self.text("promoter_link"))
    }

    pub fn question_text(&self, q: &Question) -> String {
        self.text(&q.id)
    }

    /// The shown text of option `i`; the stored answer is always the default-language option.
    pub fn option_text(&self, q: &Question, i: usize) -> String {
        self.text(&format!("{}.{i}", q.id))
    }

    /// A stored answer to `q` as this language shows it: each choice by its shown text (the
    /// stored one is the default-language option), stars out of five, text as written.
    pub fn answer_text(&self, q: &Question, value: &Value) -> String {
        let choice = |v: &Value| match v.as_str() {
            Some(stored) => match q.options.iter().position(|o| o == stored) {
                Some(i) => self.option_text(q, i),
                None => stored.to_owned(),
            },
            None => v.to_string(),
        };
        match (q.kind, value) {
            (QuestionType::MultipleChoice, Value::Array(items)) => {
                items.iter().map(choice).collect::<Vec<_>>().join(", ")
            }
            (QuestionType::Rating, Value::Number(n)) => format!("{n}/5"),
            _ => choice(value),
        }
    }
}

fn shipped_list() -> String {
    i18n::locales().iter().map(|l| format!("{} ({})", l.name, l.tag)).collect::<Vec<_>>().join(", ")
}

/// `http(s)://` followed by a host.
pub fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.chars().any(char::is_whitespace))
        && url.len() <= 2000
}

/// A web origin: scheme, host and optional port, nothing after.
pub fn is_origin(origin: &str) -> bool {
    is_web_url(origin) && origin.splitn(4, '/').nth(3).is_none() && !origin.ends_with('/')
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
        errors.say(field, Why::new("invalid.empty"));
    } else if text.chars().count() > max {
        errors.say(field, Why::new("invalid.at_most_chars").with("max", max));
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
mod root_cause_tests {
    use super::*;

    #[test]
    fn a_comment_s_themes_suggest_a_root_cause() {
        let causes = default_root_causes();
        let themes = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let suggested = |keys: &[&str], causes: &[String]| suggested_root_cause(&themes(keys), causes).cloned();
        assert_eq!(suggested(&["delivery", "speed"], &causes).as_deref(), Some("delivery"));
        // The themes come in the taxonomy's order, speed before what was slow.
        assert_eq!(suggested(&["speed", "digital"], &causes).as_deref(), Some("product"));
        assert_eq!(suggested(&["speed"], &causes).as_deref(), Some("support"));
        assert_eq!(suggested(&["staff"], &causes).as_deref(), Some("support"));
        assert_eq!(suggested(&[], &causes), None);
        // A survey's own list: a cause named like the theme wins; when none fits, none.
        let own = vec!["Courier".to_string(), "Delivery".to_string()];
        assert_eq!(suggested(&["delivery"], &own).as_deref(), Some("Delivery"));
        assert_eq!(suggested(&["staff"], &own), None);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Survey definitions come from admins' JSON: any shape either parses and validates
        /// (or names the fields at fault) or is refused, without a panic.
        #[test]
        fn any_definition_json_is_parsed_or_refused(
            name in ".{0,30}", kind in prop_oneof![Just("nps"), Just("csat"), Just("ces"), Just("x")],
            questions in prop::collection::vec((".{0,10}", prop_oneof![Just("single_choice"), Just("rating"), Just("short_text"), Just("?")],
                prop::collection::vec(".{0,8}", 0..4), prop::collection::vec(prop_oneof![Just("detractor"), Just("promoter"), Just("x")], 0..3)), 0..7),
            window in any::<i64>(), langs in prop::collection::vec(".{0,6}", 0..3),
        ) {
            let questions: Vec<_> = questions.into_iter().map(|(id, kind, options, show_if)| serde_json::json!(
                {"id": id, "type": kind, "text": "Why?", "options": options, "show_if": show_if})).collect();
            let json = serde_json::json!({"name": name, "kind": kind, "brand": "B", "questions": questions,
                "fatigue_days": window, "languages": langs});
            if let Ok(def) = serde_json::from_value::<SurveyDefinition>(json)
                && let Err(errors) = def.validate()
            {
                prop_assert!(errors.0.iter().all(|e| !e.field.is_empty()));
            }
        }
    }

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
    fn texts_follow_the_language_and_the_segment() {
        let mut s = survey();
        let ko = s.texts("ko");
        assert_eq!(ko.lang(), "en", "the English-only extra questions keep the survey in English");
        s.translations.insert(
            "ko".into(),
            BTreeMap::from([
                ("fix".into(), "무엇을 먼저 고칠까요?".into()),
                ("fix.0".into(), "가격".into()),
                ("fix.1".into(), "속도".into()),
                ("stars".into(), "앱 평가".into()),
            ]),
        );
        assert_eq!(s.languages(), ["en", "ko"]);
        let ko = s.texts("ko");
        assert_eq!(ko.question(), "Acme을(를) 친구나 동료에게 추천할 가능성은 얼마나 됩니까?");
        assert_eq!(ko.scale_ends().0, "전혀 추천하지 않음");
        assert_eq!(ko.option_text(&s.questions[0], 1), "속도");
        assert_eq!(ko.answer_text(&s.questions[0], &json!("speed")), "속도", "a choice in the reader's words");
        assert_eq!(ko.answer_text(&s.questions[0], &json!("gone")), "gone", "an option since removed, as stored");
        assert_eq!(ko.answer_text(&s.questions[1], &json!(4)), "4/5");
        assert_eq!(ko.agent_question().unwrap(), "상담한 직원을 다른 사람에게 추천할 가능성은 얼마나 됩니까?");
        let en = s.texts("en");
        assert_eq!(en.follow_up(Segment::Detractor), "What could we have done better?");
        assert_eq!(en.follow_up(Segment::Promoter), "What did you like most?");
        s.follow_up = Some("Why?".into());
        assert_eq!(s.texts("en").follow_up(Segment::Promoter), "Why?");
        assert_eq!(s.languages(), ["en"], "a new custom text needs its translation");
        s.follow_up_by_segment.promoter = Some("What did you love?".into());
        assert_eq!(s.texts("en").follow_up(Segment::Promoter), "What did you love?");
        assert_eq!(s.texts("en").thank_you(Segment::Promoter), "Thank you! We are glad you enjoy Acme.");
    }

    #[test]
    fn channel_settings_are_checked() {
        let mut s = survey();
        s.widget = Some(Widget {
            origins: vec!["https://shop.example.com".into(), "https://x.com/path".into()],
            placement: Placement::Popup,
            delay_seconds: 0,
            url_contains: None,
            on_event: None,
        });
        s.triggers = vec![Trigger { event: "order delivered".into(), delay_minutes: 0, channel: InviteChannel::Email }];
        s.promoter_link = Some(PromoterLink { label: "Review us".into(), url: "ftp://x".into() });
        s.default_locale = "fr".into();
        let fields: Vec<_> = s.validate().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["default_locale", "promoter_link.url", "triggers[0].event", "widget.origins[1]"]);
        assert_eq!(survey().fatigue_window_days(), 90);
        s.triggers[0].event = "order.delivered".into();
        assert_eq!(s.fatigue_window_days(), 7);
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

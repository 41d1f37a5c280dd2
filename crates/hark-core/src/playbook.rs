//! Closing the loop: what Hark does with each answer. One playbook per segment (detractors
//! get a case and a person, passives an optional offer, promoters thanks and a referral
//! ask), overridden by rules that match score ranges, comment words, contact attributes or
//! the agent score. Pure decisions; the jobs carry them out.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::i18n::Locale;
use crate::{Segment, ValidationErrors, Why};

/// Who a new case goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Assign {
    /// The team lead of the team the answer is about (the agent's team).
    TeamLead,
    /// The user whose email is in this contact attribute (e.g. `account_owner`).
    Attribute { name: String },
    /// Take turns among the users of this team (by team name).
    RoundRobin { team: String },
    /// Always this user.
    User { email: String },
}

/// The thank-you a promoter gets unless the survey words its own: sent in the customer's
/// language (`mail.thanks_subject` and `mail.thanks_body` in the locale files).
pub const STANDARD_THANKS: (&str, &str) = (
    "Thank you from {brand}",
    "Hi {name},\n\nthank you for your kind words. It means a lot to the whole team at {brand}.\n",
);

/// A mail Hark sends the customer by itself (a thank-you, an offer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoMail {
    pub subject: String,
    /// Plain text; `{name}`, `{brand}`, `{code}` (a reward code) and `{referral_link}` are filled in.
    pub body: String,
    /// Give the customer one unused code from the codes uploaded for this segment.
    #[serde(default)]
    pub reward_code: bool,
    /// Where the personal referral or review link leads (clicks are counted).
    #[serde(default)]
    pub referral_url: Option<String>,
}

impl AutoMail {
    /// Subject and body as sent to a customer who reads `locale`: Hark's standard thanks in
    /// their language, or the survey's own words as the survey wrote them.
    pub fn wording(&self, locale: &Locale) -> (String, String) {
        if (self.subject.as_str(), self.body.as_str()) == STANDARD_THANKS {
            (locale.text("mail.thanks_subject").to_owned(), locale.text("mail.thanks_body").to_owned())
        } else {
            (self.subject.clone(), self.body.clone())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// Open a case for a person to follow up.
    #[serde(default)]
    pub open_case: bool,
    #[serde(default = "default_assign")]
    pub assign: Assign,
    /// Days until the case is due (customers give a company about a week).
    #[serde(default = "default_due_days")]
    pub due_days: u32,
    /// High priority at or below this score …
    #[serde(default)]
    pub high_priority_max_score: Option<i64>,
    /// … or when the comment contains one of these words (case-insensitive).
    #[serde(default)]
    pub high_priority_words: Vec<String>,
    /// Mail the case owner (and send the `case.opened` webhooks).
    #[serde(default = "yes")]
    pub notify_owner: bool,
    #[serde(default)]
    pub mail: Option<AutoMail>,
}

fn default_assign() -> Assign {
    Assign::TeamLead
}

fn default_due_days() -> u32 {
    7
}

fn yes() -> bool {
    true
}

/// What makes a rule apply; every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Match {
    #[serde(default)]
    pub score_min: Option<i64>,
    #[serde(default)]
    pub score_max: Option<i64>,
    /// The comment contains one of these words (case-insensitive).
    #[serde(default)]
    pub words: Vec<String>,
    /// Contact attributes equal to these values.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// The agent was scored at or below this.
    #[serde(default)]
    pub agent_score_max: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    pub when: Match,
    pub then: Playbook,
}

/// A survey's playbooks: one per segment, then rules that take precedence, first match wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Playbooks {
    #[serde(default = "detractor_default")]
    pub detractor: Playbook,
    #[serde(default = "passive_default")]
    pub passive: Playbook,
    #[serde(default = "promoter_default")]
    pub promoter: Playbook,
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// The team (by name) whose cases these are when the answer names no team, as on the
    /// anonymous link or the widget; its lead takes a case no rule assigns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_team: Option<String>,
    /// Who (by email) owns a case that no rule assigns, before the team's lead: say, the
    /// CX manager who triages this survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_owner: Option<String>,
}

impl Default for Playbooks {
    fn default() -> Self {
        Playbooks {
            detractor: detractor_default(),
            passive: passive_default(),
            promoter: promoter_default(),
            rules: vec![],
            case_team: None,
            case_owner: None,
        }
    }
}

fn quiet() -> Playbook {
    Playbook {
        open_case: false,
        assign: Assign::TeamLead,
        due_days: 7,
        high_priority_max_score: None,
        high_priority_words: vec![],
        notify_owner: true,
        mail: None,
    }
}

fn detractor_default() -> Playbook {
    Playbook {
        open_case: true,
        high_priority_max_score: Some(3),
        // Leaving, money back, lawyers: in each language Hark ships.
        high_priority_words: [
            "cancel",
            "refund",
            "lawyer",
            "never again",
            "해지",
            "환불",
            "취소",
            "변호사",
            "disdett",
            "disdire",
            "rimborso",
            "annull",
            "avvocato",
            "mai più",
            "ยกเลิก",
            "คืนเงิน",
            "ทนาย",
        ]
        .map(String::from)
        .to_vec(),
        ..quiet()
    }
}

fn passive_default() -> Playbook {
    quiet()
}

fn promoter_default() -> Playbook {
    Playbook {
        mail: Some(AutoMail {
            subject: STANDARD_THANKS.0.into(),
            body: STANDARD_THANKS.1.into(),
            reward_code: false,
            referral_url: None,
        }),
        ..quiet()
    }
}

/// The facts about one answer that playbooks look at.
pub struct Facts<'a> {
    pub score: i64,
    pub segment: Segment,
    pub comment: Option<&'a str>,
    pub agent_score: Option<i64>,
    pub attributes: &'a Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Normal,
    High,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Normal, Self::High].into_iter().find(|p| p.as_str() == s)
    }
}

/// What to do with one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    /// The rule that applied, or `None` for the segment's playbook.
    pub rule: Option<&'a str>,
    pub playbook: &'a Playbook,
    pub priority: Priority,
}

impl Decision<'_> {
    /// Who owns the case, tried in turn: the playbook's rule, the survey's case owner, the
    /// team's lead; nobody when none picks someone.
    pub fn owner_rules(&self, playbooks: &Playbooks) -> Vec<Assign> {
        let mut rules = vec![self.playbook.assign.clone()];
        rules.extend(playbooks.case_owner.iter().map(|email| Assign::User { email: email.clone() }));
        rules.push(Assign::TeamLead);
        rules
    }

    /// Why the case was opened, as its history says.
    pub fn reason(&self, segment: Segment) -> String {
        self.rule.map_or_else(|| format!("{} playbook", segment.as_str()), |r| format!("rule `{r}`"))
    }
}

fn contains_word(comment: Option<&str>, words: &[String]) -> bool {
    let Some(comment) = comment else { return false };
    let comment = comment.to_lowercase();
    words.iter().any(|w| !w.trim().is_empty() && comment.contains(&w.trim().to_lowercase()))
}

impl Match {
    pub fn matches(&self, f: &Facts<'_>) -> bool {
        self.score_min.is_none_or(|m| f.score >= m)
            && self.score_max.is_none_or(|m| f.score <= m)
            && (self.words.is_empty() || contains_word(f.comment, &self.words))
            && self.attributes.iter().all(|(k, v)| f.attributes.get(k) == Some(v))
            && self.agent_score_max.is_none_or(|m| f.agent_score.is_some_and(|a| a <= m))
    }
}

impl Playbooks {
    /// Whether the playbooks may do anything for this answer: open a case, or mail a contact
    /// (`has_contact`). Facts carry no contact attributes here; where a rule reads them and
    /// there is a contact, the answer may match it, so the playbook must run.
    pub fn may_act(&self, f: &Facts<'_>, has_contact: bool) -> bool {
        if has_contact && self.rules.iter().any(|r| !r.when.attributes.is_empty()) {
            return true;
        }
        let playbook = self.decide(f).playbook;
        playbook.open_case || (has_contact && playbook.mail.is_some())
    }

    pub fn for_segment(&self, segment: Segment) -> &Playbook {
        match segment {
            Segment::Detractor => &self.detractor,
            Segment::Passive => &self.passive,
            Segment::Promoter => &self.promoter,
        }
    }

    pub fn decide<'a>(&'a self, f: &Facts<'_>) -> Decision<'a> {
        let (rule, playbook) = match self.rules.iter().find(|r| r.when.matches(f)) {
            Some(r) => (Some(r.name.as_str()), &r.then),
            None => (None, self.for_segment(f.segment)),
        };
        let high = playbook.high_priority_max_score.is_some_and(|m| f.score <= m)
            || contains_word(f.comment, &playbook.high_priority_words);
        Decision { rule, playbook, priority: if high { Priority::High } else { Priority::Normal } }
    }

    pub fn validate(&self, errors: &mut ValidationErrors) {
        let mut check = |at: String, p: &Playbook| {
            if p.due_days > 90 {
                errors.say(format!("{at}.due_days"), Why::new("invalid.at_most_days").with("max", 90));
            }
            match &p.assign {
                Assign::Attribute { name } if name.trim().is_empty() => {
                    errors.say(format!("{at}.assign.name"), Why::new("invalid.name_the_attribute"))
                }
                Assign::RoundRobin { team } if team.trim().is_empty() => {
                    errors.say(format!("{at}.assign.team"), Why::new("invalid.name_the_team"))
                }
                Assign::User { email } if !email.contains('@') => {
                    errors.say(format!("{at}.assign.email"), Why::new("invalid.user_email"))
                }
                _ => {}
            }
            if let Some(mail) = &p.mail {
                if mail.subject.trim().is_empty() || mail.body.trim().is_empty() {
                    errors.say(format!("{at}.mail"), Why::new("invalid.mail_needs_text"));
                }
                if mail.referral_url.as_deref().is_some_and(|u| !crate::survey::is_web_url(u)) {
                    errors.say(format!("{at}.mail.referral_url"), Why::new("invalid.web_address"));
                }
            }
        };
        check("playbooks.detractor".into(), &self.detractor);
        check("playbooks.passive".into(), &self.passive);
        check("playbooks.promoter".into(), &self.promoter);
        for (i, r) in self.rules.iter().enumerate() {
            check(format!("playbooks.rules[{i}].then"), &r.then);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Hark's standard thanks goes out in the customer's language; a survey's own words as
    /// written. The English locale text is the standard itself, so stored surveys keep working.
    #[test]
    fn the_standard_thanks_speaks_the_customer_s_language() {
        let standard = promoter_default().mail.unwrap();
        let english = crate::i18n::base();
        assert_eq!(standard.wording(english), (STANDARD_THANKS.0.to_owned(), STANDARD_THANKS.1.to_owned()));
        let (subject, body) = standard.wording(crate::i18n::locale("ko").unwrap());
        assert_eq!(subject, "{brand}에서 감사 인사 드립니다");
        assert!(body.starts_with("{name}님"), "{body}");
        let own = AutoMail { subject: "Grazie!".into(), ..standard };
        assert_eq!(own.wording(crate::i18n::locale("th").unwrap()).0, "Grazie!");
    }

    /// A detractor who threatens to leave is high priority in each language Hark ships.
    #[test]
    fn leaving_is_urgent_in_every_language() {
        let p = Playbooks::default();
        let none = Map::new();
        for comment in
            ["I want a refund", "환불해 주세요", "voglio il rimborso", "ขอคืนเงินด้วย", "해지할게요", "ยกเลิกบริการ"]
        {
            assert_eq!(p.decide(&facts(5, Some(comment), &none)).priority, Priority::High, "{comment}");
        }
        assert_eq!(p.decide(&facts(5, Some("배송이 늦었어요"), &none)).priority, Priority::Normal);
    }

    fn facts<'a>(score: i64, comment: Option<&'a str>, attributes: &'a Map<String, Value>) -> Facts<'a> {
        let segment = crate::SurveyKind::Nps.segment(score);
        Facts { score, segment, comment, agent_score: None, attributes }
    }

    #[test]
    fn defaults_follow_the_segments() {
        let p = Playbooks::default();
        let none = Map::new();
        let d = p.decide(&facts(2, None, &none));
        assert!(d.playbook.open_case && d.playbook.notify_owner);
        assert_eq!((d.priority, d.playbook.due_days, &d.playbook.assign), (Priority::High, 7, &Assign::TeamLead));
        assert_eq!(p.decide(&facts(5, None, &none)).priority, Priority::Normal);
        assert_eq!(p.decide(&facts(6, Some("I want a REFUND now"), &none)).priority, Priority::High);
        assert!(!p.decide(&facts(7, None, &none)).playbook.open_case);
        let promoter = p.decide(&facts(10, None, &none));
        assert!(!promoter.playbook.open_case && promoter.playbook.mail.is_some());
    }

    #[test]
    fn first_matching_rule_wins() {
        let p: Playbooks = serde_json::from_value(json!({"rules": [
            {"name": "enterprise", "when": {"score_max": 8, "attributes": {"plan": "enterprise"}},
             "then": {"open_case": true, "assign": {"rule": "attribute", "name": "account_owner"}, "due_days": 2}},
            {"name": "bad agent", "when": {"agent_score_max": 4}, "then": {"open_case": true, "assign": {"rule": "round_robin", "team": "Coaching"}}}
        ]}))
        .unwrap();
        let enterprise = json!({"plan": "enterprise"}).as_object().unwrap().clone();
        let d = p.decide(&facts(8, None, &enterprise));
        assert_eq!((d.rule, d.playbook.due_days), (Some("enterprise"), 2));
        let none = Map::new();
        let mut f = facts(9, None, &none);
        f.agent_score = Some(3);
        assert_eq!(p.decide(&f).rule, Some("bad agent"));
        f.agent_score = None;
        assert_eq!(p.decide(&f).rule, None, "no agent score: the rule does not apply");
    }

    #[test]
    fn bad_playbooks_are_named() {
        let mut p = Playbooks::default();
        p.detractor.due_days = 400;
        p.promoter.mail.as_mut().unwrap().referral_url = Some("nope".into());
        let mut errors = ValidationErrors::default();
        p.validate(&mut errors);
        let fields: Vec<_> = errors.0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["playbooks.detractor.due_days", "playbooks.promoter.mail.referral_url"]);
    }
}

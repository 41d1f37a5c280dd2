//! A survey's playbooks as form fields, so that a CX manager edits them with checkboxes,
//! choices and text boxes rather than JSON (which stays the API's). The fields are kept as
//! text, so a form sent back with a mistake shows what was typed beside the error.

use hark_core::playbook::{Assign, AutoMail, Match, Playbook, Playbooks, Rule};
use hark_core::{FieldError, Why};
use serde_json::{Map, Value};

/// One playbook's fields, named `{prefix}.{field}` in the form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlaybookFields {
    pub prefix: String,
    pub open_case: bool,
    /// `team_lead`, `attribute`, `round_robin` or `user`.
    pub assign: String,
    /// The attribute's name, the team's name or the user's email, as `assign` needs.
    pub assign_to: String,
    pub due_days: String,
    pub high_max: String,
    /// Comma-separated.
    pub high_words: String,
    pub notify_owner: bool,
    pub mail: bool,
    pub mail_subject: String,
    pub mail_body: String,
    pub mail_code: bool,
    pub mail_referral: String,
}

/// One rule's fields, named `rule{index}.{field}`; its playbook's fields share the prefix.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RuleFields {
    pub index: usize,
    pub name: String,
    pub score_min: String,
    pub score_max: String,
    pub words: String,
    /// `plan=pro, country=KR`.
    pub attributes: String,
    pub agent_score_max: String,
    pub then: PlaybookFields,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlaybooksForm {
    pub segments: Vec<(&'static str, PlaybookFields)>,
    /// The rules there are, then one blank for a new rule.
    pub rules: Vec<RuleFields>,
    pub case_team: String,
    pub case_owner: String,
}

pub(crate) const SEGMENTS: [&str; 3] = ["detractor", "passive", "promoter"];

fn number<T: ToString>(n: Option<T>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

impl PlaybookFields {
    fn of(prefix: String, p: &Playbook) -> Self {
        let (assign, assign_to) = match &p.assign {
            Assign::TeamLead => ("team_lead", String::new()),
            Assign::Attribute { name } => ("attribute", name.clone()),
            Assign::RoundRobin { team } => ("round_robin", team.clone()),
            Assign::User { email } => ("user", email.clone()),
        };
        let mail = p.mail.as_ref();
        PlaybookFields {
            prefix,
            open_case: p.open_case,
            assign: assign.into(),
            assign_to,
            due_days: p.due_days.to_string(),
            high_max: number(p.high_priority_max_score),
            high_words: p.high_priority_words.join(", "),
            notify_owner: p.notify_owner,
            mail: mail.is_some(),
            mail_subject: mail.map(|m| m.subject.clone()).unwrap_or_default(),
            mail_body: mail.map(|m| m.body.clone()).unwrap_or_default(),
            mail_code: mail.is_some_and(|m| m.reward_code),
            mail_referral: mail.and_then(|m| m.referral_url.clone()).unwrap_or_default(),
        }
    }

    fn sent(prefix: String, get: &impl Fn(&str) -> Option<String>) -> Self {
        let text = |f: &str| get(&format!("{prefix}.{f}")).unwrap_or_default();
        let on = |f: &str| get(&format!("{prefix}.{f}")).is_some();
        PlaybookFields {
            open_case: on("open_case"),
            assign: text("assign"),
            assign_to: text("assign_to"),
            due_days: text("due_days"),
            high_max: text("high_max"),
            high_words: text("high_words"),
            notify_owner: on("notify_owner"),
            mail: on("mail"),
            mail_subject: text("mail_subject"),
            mail_body: text("mail_body"),
            mail_code: on("mail_code"),
            mail_referral: text("mail_referral"),
            prefix,
        }
    }

    fn playbook(&self, errors: &mut Vec<FieldError>) -> Playbook {
        let p = &self.prefix;
        let mut error = |field: &str, why: Why| errors.push(FieldError::new(format!("{p}.{field}"), why));
        let to = self.assign_to.trim().to_string();
        let assign = match self.assign.as_str() {
            "attribute" => Assign::Attribute { name: to },
            "round_robin" => Assign::RoundRobin { team: to },
            "user" => Assign::User { email: to },
            "team_lead" | "" => Assign::TeamLead,
            _ => {
                error("assign", Why::new("invalid.one_of").with("values", "team_lead, attribute, round_robin, user"));
                Assign::TeamLead
            }
        };
        let due_days = self.due_days.trim().parse::<u32>().unwrap_or_else(|_| {
            error("due_days", Why::new("invalid.whole_days"));
            7
        });
        let high_max = optional(&self.high_max, "high_max", &mut error);
        let mail = self.mail.then(|| AutoMail {
            subject: self.mail_subject.trim().to_string(),
            body: self.mail_body.replace("\r\n", "\n"),
            reward_code: self.mail_code,
            referral_url: Some(self.mail_referral.trim().to_string()).filter(|u| !u.is_empty()),
        });
        Playbook {
            open_case: self.open_case,
            assign,
            due_days,
            high_priority_max_score: high_max,
            high_priority_words: list(&self.high_words),
            notify_owner: self.notify_owner,
            mail,
        }
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|w| !w.is_empty()).map(String::from).collect()
}

/// An optional whole number: empty is none.
fn optional(text: &str, field: &str, error: &mut impl FnMut(&str, Why)) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    text.parse().map_err(|_| error(field, Why::new("invalid.whole_number_or_nothing"))).ok()
}

impl RuleFields {
    fn of(index: usize, r: &Rule) -> Self {
        let attributes = r
            .when
            .attributes
            .iter()
            .map(|(k, v)| format!("{k}={}", v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect::<Vec<_>>()
            .join(", ");
        RuleFields {
            index,
            name: r.name.clone(),
            score_min: number(r.when.score_min),
            score_max: number(r.when.score_max),
            words: r.when.words.join(", "),
            attributes,
            agent_score_max: number(r.when.agent_score_max),
            then: PlaybookFields::of(format!("rule{index}"), &r.then),
        }
    }

    /// A new rule: it matches nothing until it is named.
    fn blank(index: usize) -> Self {
        let mut fields = Self::of(
            index,
            &Rule { name: String::new(), when: Match::default(), then: Playbooks::default().detractor },
        );
        fields.then.open_case = false;
        fields
    }

    fn rule(&self, errors: &mut Vec<FieldError>) -> Rule {
        let p = format!("rule{}", self.index);
        let mut error = |field: &str, why: Why| errors.push(FieldError::new(format!("{p}.{field}"), why));
        let mut attributes = Map::new();
        for pair in list(&self.attributes) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    attributes.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
                }
                _ => error("attributes", Why::new("invalid.attribute_pairs")),
            }
        }
        let when = Match {
            score_min: optional(&self.score_min, "score_min", &mut error),
            score_max: optional(&self.score_max, "score_max", &mut error),
            words: list(&self.words),
            attributes,
            agent_score_max: optional(&self.agent_score_max, "agent_score_max", &mut error),
        };
        Rule { name: self.name.trim().to_string(), when, then: self.then.playbook(errors) }
    }
}

impl PlaybooksForm {
    pub fn of(p: &Playbooks) -> Self {
        let segments = [&p.detractor, &p.passive, &p.promoter];
        let mut rules: Vec<RuleFields> = p.rules.iter().enumerate().map(|(i, r)| RuleFields::of(i, r)).collect();
        rules.push(RuleFields::blank(rules.len()));
        PlaybooksForm {
            segments: SEGMENTS.iter().zip(segments).map(|(s, p)| (*s, PlaybookFields::of(s.to_string(), p))).collect(),
            rules,
            case_team: p.case_team.clone().unwrap_or_default(),
            case_owner: p.case_owner.clone().unwrap_or_default(),
        }
    }

    /// The form as sent: rules by index, as many as it holds.
    pub fn sent(pairs: &[(String, String)]) -> Self {
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let text = |k: &str| get(k).unwrap_or_default();
        let rules = (0..)
            .map_while(|i| {
                let p = format!("rule{i}");
                get(&format!("{p}.name")).map(|name| RuleFields {
                    index: i,
                    name,
                    score_min: text(&format!("{p}.score_min")),
                    score_max: text(&format!("{p}.score_max")),
                    words: text(&format!("{p}.words")),
                    attributes: text(&format!("{p}.attributes")),
                    agent_score_max: text(&format!("{p}.agent_score_max")),
                    then: PlaybookFields::sent(p.clone(), &get),
                })
            })
            // A rule ticked for removal is gone; one left without a name is the blank.
            .filter(|r| get(&format!("rule{}.remove", r.index)).is_none())
            .collect();
        PlaybooksForm {
            segments: SEGMENTS.iter().map(|s| (*s, PlaybookFields::sent(s.to_string(), &get))).collect(),
            rules,
            case_team: text("case_team"),
            case_owner: text("case_owner"),
        }
    }

    /// The playbooks the form says, or what is wrong, field by field. Rules without a name
    /// are left out (the blank one for a new rule).
    pub fn playbooks(&self) -> Result<Playbooks, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut segments = self.segments.iter().map(|(_, f)| f.playbook(&mut errors));
        let (detractor, passive, promoter) =
            (segments.next().expect("three"), segments.next().expect("three"), segments.next().expect("three"));
        let rules = self.rules.iter().filter(|r| !r.name.trim().is_empty()).map(|r| r.rule(&mut errors)).collect();
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let playbooks = Playbooks {
            detractor,
            passive,
            promoter,
            rules,
            case_team: text(&self.case_team),
            case_owner: text(&self.case_owner),
        };
        if errors.is_empty() { Ok(playbooks) } else { Err(errors) }
    }

    /// After an error, the form as sent with a blank rule at the end again.
    pub fn with_blank_rule(mut self) -> Self {
        if self.rules.last().is_none_or(|r| !r.name.trim().is_empty()) {
            let index = self.rules.iter().map(|r| r.index + 1).max().unwrap_or(0);
            self.rules.push(RuleFields::blank(index));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playbook_pairs(pairs: &mut Vec<(String, String)>, f: &PlaybookFields) {
        let p = &f.prefix;
        for (name, value) in [
            ("assign", &f.assign),
            ("assign_to", &f.assign_to),
            ("due_days", &f.due_days),
            ("high_max", &f.high_max),
            ("high_words", &f.high_words),
            ("mail_subject", &f.mail_subject),
            ("mail_body", &f.mail_body),
            ("mail_referral", &f.mail_referral),
        ] {
            pairs.push((format!("{p}.{name}"), value.clone()));
        }
        for (name, on) in
            [("open_case", f.open_case), ("notify_owner", f.notify_owner), ("mail", f.mail), ("mail_code", f.mail_code)]
        {
            if on {
                pairs.push((format!("{p}.{name}"), "on".into()));
            }
        }
    }

    /// What the form shows, sent back unchanged, is what was stored.
    fn as_sent(form: &PlaybooksForm) -> Vec<(String, String)> {
        let mut pairs =
            vec![("case_team".into(), form.case_team.clone()), ("case_owner".into(), form.case_owner.clone())];
        form.segments.iter().for_each(|(_, f)| playbook_pairs(&mut pairs, f));
        for r in &form.rules {
            let p = format!("rule{}", r.index);
            for (name, value) in [
                ("name", &r.name),
                ("score_min", &r.score_min),
                ("score_max", &r.score_max),
                ("words", &r.words),
                ("attributes", &r.attributes),
                ("agent_score_max", &r.agent_score_max),
            ] {
                pairs.push((format!("{p}.{name}"), value.clone()));
            }
            playbook_pairs(&mut pairs, &r.then);
        }
        pairs
    }

    #[test]
    fn playbooks_survive_the_form_unchanged() {
        let mut p = Playbooks::default();
        p.detractor.assign = Assign::RoundRobin { team: "Billing".into() };
        p.detractor.high_priority_max_score = Some(3);
        p.passive.assign = Assign::Attribute { name: "account_owner".into() };
        p.promoter.mail.as_mut().unwrap().referral_url = Some("https://example.com/review".into());
        p.promoter.mail.as_mut().unwrap().reward_code = true;
        p.rules.push(Rule {
            name: "VIP".into(),
            when: Match {
                score_max: Some(6),
                words: vec!["cancel".into(), "refund".into()],
                attributes: [("plan".to_string(), Value::String("pro".into()))].into_iter().collect(),
                ..Match::default()
            },
            then: Playbook {
                assign: Assign::User { email: "vip@example.com".into() },
                due_days: 1,
                ..p.detractor.clone()
            },
        });
        p.case_team = Some("Support".into());
        p.case_owner = Some("triage@example.com".into());
        for playbooks in [Playbooks::default(), p] {
            let form = PlaybooksForm::of(&playbooks);
            assert_eq!(form.rules.last().unwrap().name, "", "a blank rule to add one");
            assert_eq!(PlaybooksForm::sent(&as_sent(&form)).playbooks().unwrap(), playbooks);
        }
    }

    #[test]
    fn mistakes_name_their_field_and_a_rule_can_be_removed() {
        let mut p = Playbooks::default();
        p.rules.push(Rule { name: "VIP".into(), when: Match::default(), then: p.detractor.clone() });
        let mut pairs = as_sent(&PlaybooksForm::of(&p));
        let set = |pairs: &mut Vec<(String, String)>, k: &str, v: &str| {
            pairs.iter_mut().find(|(key, _)| key == k).unwrap().1 = v.into();
        };
        set(&mut pairs, "detractor.due_days", "a week");
        set(&mut pairs, "rule0.attributes", "plan");
        let errors = PlaybooksForm::sent(&pairs).playbooks().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["detractor.due_days", "rule0.attributes"]);
        let mut pairs = as_sent(&PlaybooksForm::of(&p));
        pairs.push(("rule0.remove".into(), "on".into()));
        assert!(PlaybooksForm::sent(&pairs).playbooks().unwrap().rules.is_empty());
    }
}

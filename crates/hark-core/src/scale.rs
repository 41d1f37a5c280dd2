//! Survey kinds, their score scales and how a score maps to a segment.

use serde::{Deserialize, Serialize};

use crate::ValidationErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    /// Net Promoter Score: "How likely are you to recommend …", 0–10.
    Nps,
    /// Customer satisfaction with one interaction, 1–5.
    Csat,
    /// Customer effort: "… made it easy to handle my issue", 1 (strongly disagree) – 7.
    Ces,
}

impl SurveyKind {
    pub const ALL: [SurveyKind; 3] = [SurveyKind::Nps, SurveyKind::Csat, SurveyKind::Ces];

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat => "csat",
            SurveyKind::Ces => "ces",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Inclusive score range of the kind's main question.
    pub fn range(self) -> (i64, i64) {
        match self {
            SurveyKind::Nps => (0, 10),
            SurveyKind::Csat => (1, 5),
            SurveyKind::Ces => (1, 7),
        }
    }

    pub fn check_score(self, field: &str, score: i64) -> Result<(), ValidationErrors> {
        let (low, high) = self.range();
        if (low..=high).contains(&score) {
            Ok(())
        } else {
            Err(ValidationErrors::single(
                field,
                format!("{score} is outside the {} scale {low}–{high}", self.as_str().to_uppercase()),
            ))
        }
    }

    /// The segment a score falls in. NPS uses the standard cut-offs; CSAT and CES map their
    /// negative, neutral and positive answers onto the same three segments so that one
    /// playbook vocabulary serves every kind.
    pub fn segment(self, score: i64) -> Segment {
        match self {
            SurveyKind::Nps => match score {
                9.. => Segment::Promoter,
                7..=8 => Segment::Passive,
                _ => Segment::Detractor,
            },
            SurveyKind::Csat => match score {
                4.. => Segment::Promoter,
                3 => Segment::Passive,
                _ => Segment::Detractor,
            },
            SurveyKind::Ces => match score {
                5.. => Segment::Promoter,
                4 => Segment::Passive,
                _ => Segment::Detractor,
            },
        }
    }

    /// What a segment is called for this kind: a CSAT answer of 5 is "satisfied", not a
    /// promoter, and a CES answer of 7 (it was easy) is "low effort".
    pub fn segment_word(self, segment: Segment) -> &'static str {
        match (self, segment) {
            (SurveyKind::Nps, s) => s.as_str(),
            (SurveyKind::Csat, Segment::Promoter) => "satisfied",
            (SurveyKind::Csat, Segment::Passive) => "neutral",
            (SurveyKind::Csat, Segment::Detractor) => "unsatisfied",
            (SurveyKind::Ces, Segment::Promoter) => "low effort",
            (SurveyKind::Ces, Segment::Passive) => "neutral",
            (SurveyKind::Ces, Segment::Detractor) => "high effort",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    Detractor,
    Passive,
    Promoter,
}

impl Segment {
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Detractor => "detractor",
            Segment::Passive => "passive",
            Segment::Promoter => "promoter",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Segment::Detractor, Segment::Passive, Segment::Promoter].into_iter().find(|seg| seg.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nps_segments_follow_the_standard_cut_offs() {
        let segs: Vec<_> = (0..=10).map(|s| SurveyKind::Nps.segment(s)).collect();
        assert!(segs[..=6].iter().all(|s| *s == Segment::Detractor));
        assert_eq!(&segs[7..=8], &[Segment::Passive, Segment::Passive]);
        assert_eq!(&segs[9..], &[Segment::Promoter, Segment::Promoter]);
    }

    #[test]
    fn scores_outside_the_scale_name_the_field() {
        let err = SurveyKind::Nps.check_score("score", 11).unwrap_err();
        assert_eq!(err.0[0].field, "score");
        assert!(err.0[0].message.contains("0–10"));
        assert!(SurveyKind::Nps.check_score("score", -1).is_err());
        assert!(SurveyKind::Csat.check_score("score", 0).is_err());
        assert!(SurveyKind::Ces.check_score("score", 7).is_ok());
    }

    #[test]
    fn each_kind_names_its_segments_in_its_own_words() {
        let words = |k: SurveyKind| {
            let (low, high) = k.range();
            (low..=high).map(|s| k.segment_word(k.segment(s))).collect::<Vec<_>>()
        };
        assert_eq!(words(SurveyKind::Csat), ["unsatisfied", "unsatisfied", "neutral", "satisfied", "satisfied"]);
        assert_eq!(words(SurveyKind::Ces)[..4], ["high effort", "high effort", "high effort", "neutral"]);
        assert_eq!(words(SurveyKind::Ces)[6], "low effort");
        assert_eq!(words(SurveyKind::Nps)[10], "promoter");
    }
}

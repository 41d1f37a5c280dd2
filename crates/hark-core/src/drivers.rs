//! What moves the score: each theme's NPS against the rest, and the words that set one group
//! of comments apart from the others.

use serde::Serialize;

use crate::{NpsChange, NpsCounts, NpsSummary};

/// One theme's effect on NPS under a filter.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Driver {
    pub key: String,
    /// Answers whose comment mentions the theme.
    pub mentions: u64,
    /// Mentions as a percentage of the answers with a comment.
    pub share_pct: Option<f64>,
    /// NPS of the answers that mention the theme …
    pub with: NpsSummary,
    /// … and of all the others.
    pub without: NpsSummary,
    /// `with − without`, its 95% interval and two-sided test.
    pub difference: Option<NpsChange>,
    /// How many points the overall NPS would move if the answers mentioning the theme scored
    /// like the rest: positive when the theme drags the score down (fixing it would lift it).
    pub points_at_stake: Option<f64>,
    /// 1 = the most at stake; `null` with fewer than the minimum mentions: never ranked.
    pub rank: Option<u64>,
    pub enough_data: bool,
}

/// Drivers from the counts of all answers under the filter (`all`), of those with a comment
/// (`commented`) and of those mentioning each theme. Ranked by points at stake, largest first,
/// among themes with at least `min_n` mentions; the rest follow, unranked, most mentioned first.
pub fn drivers(all: NpsCounts, commented: u64, themes: Vec<(String, NpsCounts)>, min_n: u64) -> Vec<Driver> {
    let overall = all.nps();
    let mut rows: Vec<Driver> = themes
        .into_iter()
        .map(|(key, with)| {
            let without = NpsCounts {
                promoters: all.promoters.saturating_sub(with.promoters),
                passives: all.passives.saturating_sub(with.passives),
                detractors: all.detractors.saturating_sub(with.detractors),
            };
            let mentions = with.n();
            Driver {
                key,
                mentions,
                share_pct: (commented > 0).then(|| 100.0 * mentions as f64 / commented as f64),
                difference: NpsCounts::compare(&without, &with),
                points_at_stake: match (without.nps(), overall) {
                    (Some(rest), Some(overall)) if mentions > 0 => Some(rest - overall),
                    _ => None,
                },
                with: with.summary(),
                without: without.summary(),
                rank: None,
                enough_data: mentions >= min_n.max(1),
            }
        })
        .collect();
    let stake = |d: &Driver| d.points_at_stake.unwrap_or(f64::MIN);
    rows.sort_by(|a, b| {
        b.enough_data
            .cmp(&a.enough_data)
            .then_with(|| match a.enough_data {
                true => stake(b).total_cmp(&stake(a)),
                false => b.mentions.cmp(&a.mentions),
            })
            .then_with(|| a.key.cmp(&b.key))
    });
    for (i, row) in rows.iter_mut().take_while(|r| r.enough_data).enumerate() {
        row.rank = Some(i as u64 + 1);
    }
    rows
}

/// How strongly a word belongs to one group of comments rather than the other: the weighted
/// log-odds ratio with an informative Dirichlet prior, as a z-score (Monroe, Colaresi & Quinn,
/// "Fightin' Words", Political Analysis 16(4), 2008, eq. 22). `in_group` and `in_rest` count
/// the word in each group; `group_total` and `rest_total` count all words; `prior` is the
/// word's pseudo-count and `prior_total` the sum of all pseudo-counts. Positive: the group's.
pub fn log_odds_z(in_group: f64, group_total: f64, in_rest: f64, rest_total: f64, prior: f64, prior_total: f64) -> f64 {
    let odds = |y: f64, n: f64| ((y + prior) / (n + prior_total - y - prior)).ln();
    let delta = odds(in_group, group_total) - odds(in_rest, rest_total);
    let variance = 1.0 / (in_group + prior) + 1.0 / (in_rest + prior);
    delta / variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(promoters: u64, passives: u64, detractors: u64) -> NpsCounts {
        NpsCounts { promoters, passives, detractors }
    }

    /// 100 answers: 50 promoters, 20 passives, 30 detractors (NPS +20), 80 with a comment.
    /// "delivery" is in 20 of them: 2 promoters, 3 passives, 15 detractors (NPS −65).
    /// The other 80: 48, 17, 15 → NPS +41.25. Had the 20 scored like them, NPS would be
    /// +41.25, so 21.25 points are at stake. "staff": 10 promoters, 0, 0 (NPS +100); the
    /// other 90: 40, 20, 30 → +11.1, so −8.9 points (it lifts the score).
    #[test]
    fn drivers_match_a_hand_computed_example() {
        let rows = drivers(
            counts(50, 20, 30),
            80,
            vec![
                ("staff".into(), counts(10, 0, 0)),
                ("delivery".into(), counts(2, 3, 15)),
                ("app".into(), counts(1, 0, 1)),
            ],
            10,
        );
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["delivery", "staff", "app"]);
        let delivery = &rows[0];
        assert_eq!(delivery.rank, Some(1));
        assert_eq!(delivery.mentions, 20);
        assert_eq!(delivery.share_pct, Some(25.0));
        assert_eq!(delivery.with.nps, Some(-65.0));
        assert_eq!(delivery.without.nps, Some(41.25));
        assert!((delivery.points_at_stake.unwrap() - 21.25).abs() < 1e-9);
        let diff = delivery.difference.as_ref().unwrap();
        assert!((diff.difference + 106.25).abs() < 1e-9);
        assert!(diff.significant && diff.interval.high < 0.0);
        let staff = &rows[1];
        assert!((staff.points_at_stake.unwrap() - (100.0 * 10.0 / 90.0 - 20.0)).abs() < 1e-9);
        // Two mentions: shown, never ranked.
        assert_eq!((rows[2].rank, rows[2].enough_data), (None, false));
    }

    #[test]
    fn log_odds_favours_the_group_that_uses_a_word_more() {
        // "late": 30 of 1,000 detractor words, 10 of 4,000 others; prior from the pooled rate.
        let prior_total = 500.0;
        let prior = prior_total * 40.0 / 5000.0;
        let z = log_odds_z(30.0, 1000.0, 10.0, 4000.0, prior, prior_total);
        assert!(z > 3.0, "{z}");
        // Used at the same rate: no evidence either way.
        let same = log_odds_z(10.0, 1000.0, 40.0, 4000.0, prior, prior_total);
        assert!(same.abs() < 0.5, "{same}");
        assert!(log_odds_z(10.0, 4000.0, 30.0, 1000.0, prior, prior_total) < -3.0);
    }
}

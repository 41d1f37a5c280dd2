//! What the dashboards conclude from counts: rankings that never put a thin sample above a
//! solid one, champions, scores against call-centre figures, and when an alert is due.

use serde::Serialize;

use crate::{Interval, MeanSummary, NpsChange, NpsCounts, NpsSummary, ProportionSummary};

/// Answers per score, index = score (0–10); kinds with a shorter scale leave the rest zero.
pub type Distribution = [u64; 11];

pub fn nps_counts(d: &Distribution) -> NpsCounts {
    NpsCounts { detractors: d[..=6].iter().sum(), passives: d[7..=8].iter().sum(), promoters: d[9..].iter().sum() }
}

/// CSAT: the share of 4 and 5 among 1–5 answers.
pub fn csat(d: &Distribution) -> ProportionSummary {
    ProportionSummary::wilson(d[4..=5].iter().sum(), d[1..=5].iter().sum())
}

/// CES: the mean of 1–7 answers.
pub fn ces(d: &Distribution) -> MeanSummary {
    let (mut n, mut sum, mut sum_sq) = (0u64, 0.0, 0.0);
    for (score, &k) in d.iter().enumerate().take(8).skip(1) {
        n += k;
        sum += (score as u64 * k) as f64;
        sum_sq += (score as u64 * score as u64 * k) as f64;
    }
    MeanSummary::from_moments(n, sum, sum_sq)
}

pub const CSAT_DIFFERENCE_METHOD: &str = "difference of two shares: Newcombe's hybrid score interval from the two \
     Wilson intervals (method 10, 1998), 95%, and a pooled two-proportion z test";
pub const CES_DIFFERENCE_METHOD: &str =
    "difference of two means: Welch's t interval (Welch–Satterthwaite degrees of freedom), 95%, and its z test";

/// How CSAT (the share of 4–5, in percent) moved between two periods; `None` when either
/// has no answers.
pub fn csat_change(before: &Distribution, after: &Distribution) -> Option<NpsChange> {
    let (b, a) = (csat(before), csat(after));
    let (p1, p2, i1, i2) = (b.pct?, a.pct?, b.interval?, a.interval?);
    let difference = p2 - p1;
    let interval = Interval {
        low: difference - ((p2 - i2.low).powi(2) + (i1.high - p1).powi(2)).sqrt(),
        high: difference + ((i2.high - p2).powi(2) + (p1 - i1.low).powi(2)).sqrt(),
    };
    let (n1, n2) = (b.n as f64, a.n as f64);
    let pooled = (b.hits + a.hits) as f64 / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    let z = if se > 0.0 { (difference / 100.0) / se } else { 0.0 };
    Some(change(p1, p2, interval, z, CSAT_DIFFERENCE_METHOD))
}

/// How mean CES (1–7) moved between two periods; `None` unless each has two answers.
pub fn ces_change(before: &Distribution, after: &Distribution) -> Option<NpsChange> {
    let moments = |d: &Distribution| {
        let (mut n, mut sum, mut sum_sq) = (0.0, 0.0, 0.0);
        for (score, &k) in d.iter().enumerate().take(8).skip(1) {
            let (s, k) = (score as f64, k as f64);
            (n, sum, sum_sq) = (n + k, sum + s * k, sum_sq + s * s * k);
        }
        (n >= 2.0).then(|| {
            let mean = sum / n;
            (n, mean, ((sum_sq - n * mean * mean) / (n - 1.0)).max(0.0) / n)
        })
    };
    let ((n1, m1, v1), (n2, m2, v2)) = (moments(before)?, moments(after)?);
    let (difference, se) = (m2 - m1, (v1 + v2).sqrt());
    // Welch–Satterthwaite; with no spread on either side the difference is exact.
    let df = if se > 0.0 { (v1 + v2).powi(2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0)) } else { f64::MAX };
    let half = crate::stats::t95(df.floor().clamp(1.0, 1e9) as u64) * se;
    let interval = Interval { low: difference - half, high: difference + half };
    let z = if se > 0.0 { difference / se } else { 0.0 };
    let mut found = change(m1, m2, interval, z, CES_DIFFERENCE_METHOD);
    // The t interval decides: for few answers it is wider than the z test would say.
    found.significant = !interval.contains(0.0) && se > 0.0;
    Some(found)
}

fn change(before: f64, after: f64, interval: Interval, z: f64, method: &'static str) -> NpsChange {
    let p_value = 2.0 * (1.0 - crate::stats::normal_cdf(z.abs()));
    NpsChange { before, after, difference: after - before, interval, z, p_value, significant: p_value < 0.05, method }
}

/// One row of a ranking: a group's NPS, and its place if it has enough answers to be ranked.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RankedRow {
    /// The group's id (`null`: answers without a value).
    pub key: Option<String>,
    pub label: String,
    /// 1 = best; `null` when n is below the minimum: too few answers to say anything.
    pub rank: Option<u64>,
    pub enough_data: bool,
    #[serde(flatten)]
    pub summary: NpsSummary,
}

/// Sorts groups by NPS, best first, among those with at least `min_n` answers; the rest
/// follow unranked (largest first), so a thin sample is never placed above a solid one.
/// Answers without a value (`key` `None`: no team, no agent …) are not a group of their
/// own and are never ranked among the others.
pub fn rank(groups: Vec<(Option<String>, String, NpsCounts)>, min_n: u64) -> Vec<RankedRow> {
    let mut rows: Vec<RankedRow> = groups
        .into_iter()
        .map(|(key, label, counts)| RankedRow {
            key,
            label,
            rank: None,
            enough_data: counts.n() >= min_n.max(1),
            summary: counts.summary(),
        })
        .collect();
    let rankable = |r: &RankedRow| r.enough_data && r.key.is_some();
    rows.sort_by(|a, b| {
        rankable(b)
            .cmp(&rankable(a))
            .then_with(|| match rankable(a) {
                true => b.summary.nps.unwrap_or(f64::MIN).total_cmp(&a.summary.nps.unwrap_or(f64::MIN)),
                false => std::cmp::Ordering::Equal,
            })
            .then_with(|| b.summary.n.cmp(&a.summary.n))
            .then_with(|| a.label.cmp(&b.label))
    });
    for (i, row) in rows.iter_mut().take_while(|r| rankable(r)).enumerate() {
        row.rank = Some(i as u64 + 1);
    }
    rows
}

/// Champions: ranked agents who stand out beyond doubt, the low end of whose 95% interval
/// lies above the NPS of all agents' answers pooled (`benchmark`); highest low end first, at
/// most `top`. Ranking alone would crown someone however close the field is.
pub fn champions(ranked: &[RankedRow], benchmark: Option<f64>, top: usize) -> Vec<&RankedRow> {
    let Some(benchmark) = benchmark else { return Vec::new() };
    let low = |r: &RankedRow| r.summary.interval.map_or(f64::MIN, |i| i.low);
    let mut found: Vec<&RankedRow> = ranked.iter().filter(|r| r.rank.is_some() && low(r) > benchmark).collect();
    found.sort_by(|a, b| low(b).total_cmp(&low(a)).then_with(|| a.rank.cmp(&b.rank)));
    found.truncate(top);
    found
}

/// The agents' answers pooled: the bar a champion must clear.
pub fn pooled(rows: &[RankedRow]) -> NpsSummary {
    let mut all = NpsCounts::default();
    rows.iter().for_each(|r| all.merge(r.summary.counts));
    all.summary()
}

/// Where the champions sit beside where the ranked agents sit: a team holding most champions
/// means little if it holds most agents too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TeamShare {
    pub team: String,
    pub champions: u64,
    /// Ranked agents in the team.
    pub agents: u64,
}

/// Per team (`team_of` names a row's team), its champions and its ranked agents; teams with
/// champions first, most first.
pub fn champion_teams(
    ranked: &[RankedRow],
    champions: &[&RankedRow],
    team_of: impl Fn(&RankedRow) -> String,
) -> Vec<TeamShare> {
    let mut counts = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for row in ranked.iter().filter(|r| r.rank.is_some()) {
        counts.entry(team_of(row)).or_default().1 += 1;
    }
    for row in champions {
        counts.entry(team_of(row)).or_default().0 += 1;
    }
    let mut shares: Vec<TeamShare> =
        counts.into_iter().map(|(team, (champions, agents))| TeamShare { team, champions, agents }).collect();
    shares
        .sort_by(|a, b| b.champions.cmp(&a.champions).then(b.agents.cmp(&a.agents)).then_with(|| a.team.cmp(&b.team)));
    shares
}

/// "3 of the 4 champions are in Billing, which has 5 of the 15 ranked agents", or why there
/// are none.
pub fn champion_sentence(shares: &[TeamShare], benchmark: Option<f64>) -> Option<String> {
    let champions: u64 = shares.iter().map(|s| s.champions).sum();
    let agents: u64 = shares.iter().map(|s| s.agents).sum();
    if agents == 0 {
        return None;
    }
    Some(match (shares.first().filter(|s| s.champions > 0), benchmark) {
        (Some(s), _) => format!(
            "{} of the {champions} champions {} in {}, which has {} of the {agents} ranked agents",
            s.champions,
            if s.champions == 1 { "is" } else { "are" },
            s.team,
            s.agents
        ),
        (None, Some(b)) => {
            let bar = crate::i18n::base().signed(b, 0);
            format!("no agent stands out yet: none has an agent NPS whose 95% interval lies above all agents' {bar}")
        }
        (None, None) => return None,
    })
}

/// NPS of the answers whose property value falls in `[low, high)`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Bin {
    /// "0–180 s", "600 s+"; a bin one whole number wide is that number: "0", "1", "3+".
    pub label: String,
    pub low: f64,
    /// `null` for the open last bin.
    pub high: Option<f64>,
    /// Below the minimum: shown, but too few answers to read anything into.
    pub enough_data: bool,
    #[serde(flatten)]
    pub summary: NpsSummary,
}

/// Groups answers by a numeric property into bins bounded by `edges` (ascending; the last
/// bin is open-ended). Values below the first edge or not numbers are left out.
pub fn bins(values: impl IntoIterator<Item = (f64, NpsCounts)>, edges: &[f64], unit: &str, min_n: u64) -> Vec<Bin> {
    let mut counts = vec![NpsCounts::default(); edges.len()];
    for (v, c) in values {
        if let Some(i) = bin_of(v, edges) {
            counts[i].merge(c);
        }
    }
    edges
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(i, (&low, c))| {
            let high = edges.get(i + 1).copied();
            let label = match high {
                Some(h) if h - low == 1.0 && low.fract() == 0.0 => format!("{low}{unit}"),
                Some(h) => format!("{low}–{h}{unit}"),
                None => format!("{low}{unit}+"),
            };
            Bin { label, low, high, enough_data: c.n() >= min_n.max(1), summary: c.summary() }
        })
        .collect()
}

/// The bin `value` falls in: the last edge at or below it (none below the first edge).
pub fn bin_of(value: f64, edges: &[f64]) -> Option<usize> {
    edges.iter().rposition(|&e| value >= e)
}

/// The bin edges of one of the [`INTERACTION_FIGURES`].
pub fn figure_edges(property: &str) -> Option<&'static [f64]> {
    INTERACTION_FIGURES.iter().find(|f| f.0 == property).map(|f| f.2)
}

/// The call-centre figures carried on answers, with the bins they are shown in.
pub const INTERACTION_FIGURES: [(&str, &str, &[f64], &str); 3] = [
    ("handle_time_s", "Handle time", &[0.0, 180.0, 300.0, 600.0, 900.0, 1200.0], " s"),
    ("wait_time_s", "Wait time", &[0.0, 30.0, 60.0, 180.0, 300.0, 600.0], " s"),
    ("transfers", "Transfers", &[0.0, 1.0, 2.0, 3.0], ""),
];

/// An alert is due when NPS in the recent window is significantly lower than in the window
/// before it, both with at least `min_n` answers: the test decides, not a fixed threshold.
pub fn significant_drop(before: &NpsCounts, recent: &NpsCounts, min_n: u64) -> Option<NpsChange> {
    if before.n() < min_n.max(1) || recent.n() < min_n.max(1) {
        return None;
    }
    NpsCounts::compare(before, recent).filter(|c| c.significant && c.difference < 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn counts(p: u64, a: u64, d: u64) -> NpsCounts {
        NpsCounts { promoters: p, passives: a, detractors: d }
    }

    #[test]
    fn distribution_folds_into_segments_csat_and_ces() {
        let mut d = [0u64; 11];
        d[0] = 1;
        d[6] = 2;
        d[7] = 3;
        d[9] = 4;
        d[10] = 5;
        assert_eq!(nps_counts(&d), counts(9, 3, 3));
        let mut c = [0u64; 11];
        c[5] = 3;
        c[4] = 1;
        c[2] = 4;
        assert_eq!((csat(&c).hits, csat(&c).n), (4, 8));
        assert_eq!(ces(&c).mean, Some((15.0 + 4.0 + 8.0) / 8.0));
    }

    #[test]
    fn thin_groups_follow_unranked() {
        let rows = rank(
            vec![
                (Some("a".into()), "A".into(), counts(3, 0, 0)),
                (Some("b".into()), "B".into(), counts(40, 30, 30)),
                (Some("c".into()), "C".into(), counts(60, 30, 10)),
            ],
            30,
        );
        let order: Vec<_> = rows.iter().map(|r| (r.label.as_str(), r.rank)).collect();
        assert_eq!(order, vec![("C", Some(1)), ("B", Some(2)), ("A", None)]);
    }

    #[test]
    fn answers_without_a_value_are_never_ranked_among_groups() {
        let rows = rank(
            vec![(None, "No team".into(), counts(90, 5, 5)), (Some("b".into()), "B".into(), counts(40, 30, 30))],
            30,
        );
        let order: Vec<_> = rows.iter().map(|r| (r.label.as_str(), r.rank)).collect();
        assert_eq!(order, [("B", Some(1)), ("No team", None)]);
    }

    #[test]
    fn champions_clear_the_pooled_agents_beyond_doubt_and_sit_beside_the_teams_share() {
        // Eight ordinary agents, one a little better (within noise), two far above the rest.
        let mut groups: Vec<_> = (0..7).map(|i| (Some(format!("s{i}")), format!("S{i}"), counts(40, 30, 30))).collect();
        groups.push((Some("s7".into()), "S7".into(), counts(45, 30, 25)));
        groups.push((Some("b0".into()), "B0".into(), counts(95, 5, 0)));
        groups.push((Some("b1".into()), "B1".into(), counts(90, 10, 0)));
        let rows = rank(groups, 30);
        let bar = pooled(&rows).nps;
        let found = champions(&rows, bar, 20);
        assert_eq!(found.iter().map(|r| r.label.as_str()).collect::<Vec<_>>(), ["B0", "B1"]);
        let team_of = |r: &RankedRow| if r.label.starts_with('B') { "Billing" } else { "Sales" }.to_string();
        let shares = champion_teams(&rows, &found, team_of);
        assert_eq!(shares[0], TeamShare { team: "Billing".into(), champions: 2, agents: 2 });
        assert_eq!(shares[1], TeamShare { team: "Sales".into(), champions: 0, agents: 8 });
        assert_eq!(
            champion_sentence(&shares, bar).unwrap(),
            "2 of the 2 champions are in Billing, which has 2 of the 10 ranked agents"
        );
        // An even field crowns nobody, and says so.
        let even = rank((0..10).map(|i| (Some(format!("{i}")), format!("{i}"), counts(40, 30, 30))).collect(), 30);
        let bar = pooled(&even).nps;
        assert!(champions(&even, bar, 20).is_empty());
        let shares = champion_teams(&even, &[], |_| "Sales".into());
        assert!(champion_sentence(&shares, bar).unwrap().starts_with("no agent stands out yet"));
    }

    #[test]
    fn values_fall_into_half_open_bins() {
        let b = bins(
            [(0.0, counts(1, 0, 0)), (179.9, counts(0, 0, 1)), (180.0, counts(1, 0, 0)), (5000.0, counts(0, 1, 0))],
            &[0.0, 180.0, 600.0],
            " s",
            2,
        );
        assert_eq!(b.iter().map(|b| b.summary.n).collect::<Vec<_>>(), vec![2, 1, 1]);
        assert_eq!((b[0].label.as_str(), b[2].label.as_str()), ("0–180 s", "600 s+"));
        assert_eq!(b.iter().map(|b| b.enough_data).collect::<Vec<_>>(), [true, false, false], "n below 2 is flagged");
        let whole = bins([(1.0, counts(1, 0, 0))], &[0.0, 1.0, 2.0, 3.0], "", 1);
        assert_eq!(whole.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["0", "1", "2", "3+"]);
    }

    #[test]
    fn csat_and_ces_changes_come_with_their_interval_and_test() {
        let csat_of = |good: u64, bad: u64| {
            let mut d = [0u64; 11];
            (d[5], d[2]) = (good, bad);
            d
        };
        // 60% to 80% of 100 each: a real rise; its interval (Newcombe) holds about +7 to +32.
        let c = csat_change(&csat_of(60, 40), &csat_of(80, 20)).unwrap();
        assert!((c.difference - 20.0).abs() < 1e-9 && c.significant, "{c:?}");
        assert!((c.interval.low - 7.5).abs() < 1.0 && (c.interval.high - 31.7).abs() < 1.0, "{c:?}");
        let small = csat_change(&csat_of(6, 4), &csat_of(8, 2)).unwrap();
        assert!(!small.significant && small.interval.contains(0.0), "the same shares from 10 answers are noise");
        assert!(csat_change(&[0; 11], &csat_of(1, 0)).is_none());

        let ces_of = |scores: &[(usize, u64)]| {
            let mut d = [0u64; 11];
            scores.iter().for_each(|&(s, k)| d[s] = k);
            d
        };
        // Mean 4 (sd ≈ 1) to mean 5 with 50 answers each: a real change.
        let e = ces_change(&ces_of(&[(3, 25), (5, 25)]), &ces_of(&[(4, 25), (6, 25)])).unwrap();
        assert!((e.difference - 1.0).abs() < 1e-9 && e.significant, "{e:?}");
        let e = ces_change(&ces_of(&[(3, 2), (5, 2)]), &ces_of(&[(4, 2), (6, 2)])).unwrap();
        assert!(!e.significant, "four answers each: {e:?}");
        assert!(ces_change(&ces_of(&[(3, 1)]), &ces_of(&[(4, 5)])).is_none(), "one answer has no spread");
    }

    #[test]
    fn only_a_significant_fall_alerts() {
        assert!(significant_drop(&counts(60, 20, 20), &counts(30, 20, 50), 30).is_some());
        assert!(significant_drop(&counts(30, 20, 50), &counts(60, 20, 20), 30).is_none(), "a rise");
        assert!(significant_drop(&counts(6, 2, 2), &counts(3, 2, 5), 30).is_none(), "too few");
        assert!(significant_drop(&counts(50, 20, 30), &counts(48, 20, 32), 30).is_none(), "noise");
    }

    proptest! {
        /// Whatever the counts, no group below the minimum is placed above one that reaches it.
        #[test]
        fn a_thin_group_is_never_ranked_above_a_solid_one(
            groups in proptest::collection::vec((0u64..60, 0u64..60, 0u64..60), 1..30),
            min_n in 1u64..100,
        ) {
            let rows = rank(
                groups.iter().enumerate().map(|(i, &(p, a, d))| (Some(i.to_string()), format!("g{i}"), counts(p, a, d))).collect(),
                min_n,
            );
            let first_thin = rows.iter().position(|r| r.summary.n < min_n).unwrap_or(rows.len());
            prop_assert!(rows[first_thin..].iter().all(|r| r.summary.n < min_n && r.rank.is_none()));
            prop_assert!(rows[..first_thin].iter().all(|r| r.summary.n >= min_n && r.rank.is_some()));
            for w in rows[..first_thin].windows(2) {
                prop_assert!(w[0].summary.nps >= w[1].summary.nps);
            }
        }
    }
}

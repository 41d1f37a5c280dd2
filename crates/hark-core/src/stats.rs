//! The statistics behind every figure: counts, point estimates and 95% intervals.
//!
//! Empty input is an explicit "no data" (`None`), never NaN. Every summary carries its `n`
//! and names its interval method so that the API can state it.

use serde::Serialize;

use crate::{Segment, SurveyKind};

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A closed interval on the scale of its estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
}

impl Interval {
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Promoter / passive / detractor counts: everything NPS is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct NpsCounts {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
}

impl NpsCounts {
    pub fn from_scores(scores: impl IntoIterator<Item = i64>) -> Self {
        let mut counts = Self::default();
        for score in scores {
            counts.add(SurveyKind::Nps.segment(score));
        }
        counts
    }

    pub fn add(&mut self, segment: Segment) {
        match segment {
            Segment::Promoter => self.promoters += 1,
            Segment::Passive => self.passives += 1,
            Segment::Detractor => self.detractors += 1,
        }
    }

    pub fn merge(&mut self, other: NpsCounts) {
        self.promoters += other.promoters;
        self.passives += other.passives;
        self.detractors += other.detractors;
    }

    pub fn n(&self) -> u64 {
        self.promoters + self.passives + self.detractors
    }

    /// NPS in points (−100 … +100), `None` without answers.
    pub fn nps(&self) -> Option<f64> {
        let n = self.n();
        (n > 0).then(|| 100.0 * (self.promoters as f64 - self.detractors as f64) / n as f64)
    }

    /// 95% adjusted-Wald interval for NPS in points, after Rocks, "Interval Estimation for
    /// the Net Promoter Score", The American Statistician 70(4), 2016: add 3/4 to promoters
    /// and to detractors and 3 to n, then take the Wald interval of a difference of two
    /// proportions of one trinomial sample. Clipped to [−100, 100]. At n = 1 the adjusted
    /// interval can exclude the observed ±100; it is widened to include it so that the
    /// interval shown never contradicts the figure shown beside it.
    pub fn interval(&self) -> Option<Interval> {
        let nps = self.nps()?;
        let (centre, variance) = self.adjusted();
        let half = Z95 * variance.sqrt();
        Some(Interval {
            low: (100.0 * (centre - half)).max(-100.0).min(nps),
            high: (100.0 * (centre + half)).min(100.0).max(nps),
        })
    }

    /// The adjusted-Wald estimate of promoters − detractors (as a proportion) and its
    /// variance: (p + d − (p − d)²) / ñ, with 3/4 added to p and d and 3 to n.
    fn adjusted(&self) -> (f64, f64) {
        let n = self.n() as f64 + 3.0;
        let p = (self.promoters as f64 + 0.75) / n;
        let d = (self.detractors as f64 + 0.75) / n;
        let centre = p - d;
        (centre, (p + d - centre * centre) / n)
    }

    /// How NPS moved from `before` to `after` (two independent samples), with the 95%
    /// interval of the difference and a two-sided z test; `None` when either is empty.
    pub fn compare(before: &NpsCounts, after: &NpsCounts) -> Option<NpsChange> {
        let (from, to) = (before.nps()?, after.nps()?);
        let ((c1, v1), (c2, v2)) = (before.adjusted(), after.adjusted());
        let se = (v1 + v2).sqrt();
        let centre = c2 - c1;
        let z = centre / se;
        let p_value = 2.0 * (1.0 - normal_cdf(z.abs()));
        Some(NpsChange {
            before: from,
            after: to,
            difference: to - from,
            interval: Interval {
                low: (100.0 * (centre - Z95 * se)).max(-200.0),
                high: (100.0 * (centre + Z95 * se)).min(200.0),
            },
            z,
            p_value,
            significant: p_value < 0.05,
            method: NPS_DIFFERENCE_METHOD,
        })
    }

    pub fn summary(&self) -> NpsSummary {
        let n = self.n();
        let share = |k: u64| (n > 0).then(|| 100.0 * k as f64 / n as f64);
        NpsSummary {
            n,
            counts: *self,
            promoter_pct: share(self.promoters),
            passive_pct: share(self.passives),
            detractor_pct: share(self.detractors),
            nps: self.nps(),
            interval: self.interval(),
        }
    }
}

pub const NPS_DIFFERENCE_METHOD: &str = "difference of two independent NPS: adjusted-Wald variance of each trinomial \
     sample (Rocks 2016), summed; 95% interval and two-sided z test";

/// A before/after comparison of NPS.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NpsChange {
    pub before: f64,
    pub after: f64,
    /// `after − before` in points, as observed.
    pub difference: f64,
    /// 95% interval of the difference, in points.
    pub interval: Interval,
    pub z: f64,
    pub p_value: f64,
    /// p < 0.05: the change is unlikely to be noise.
    pub significant: bool,
    pub method: &'static str,
}

impl NpsChange {
    /// A plain sentence in `t`'s language, e.g. "NPS rose from 18 to 31 (+13, 95% CI +4 to
    /// +22): a real change."
    pub fn sentence_in(&self, t: &crate::i18n::Locale) -> String {
        let key = match (self.difference, self.significant) {
            (d, true) if d > 0.0 => "change.rose_real",
            (d, true) if d < 0.0 => "change.fell_real",
            _ => "change.moved_noise",
        };
        t.fill(
            key,
            &[
                ("before", &t.number(self.before, 0)),
                ("after", &t.number(self.after, 0)),
                ("change", &t.signed(self.difference, 0)),
                ("ci", &t.ci(self.interval, 0)),
            ],
        )
    }

    /// The sentence in the API's English, without its full stop.
    pub fn sentence(&self) -> String {
        self.sentence_in(crate::i18n::base()).trim_end_matches('.').to_owned()
    }
}

/// The standard normal distribution function, from erf by Abramowitz and Stegun 7.1.26
/// (absolute error below 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs() / std::f64::consts::SQRT_2);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-(x * x) / 2.0).exp();
    if x >= 0.0 { 0.5 * (1.0 + erf) } else { 0.5 * (1.0 - erf) }
}

pub const NPS_METHOD: &str = "adjusted Wald, 95% (Rocks 2016: +3/4 promoters, +3/4 detractors, +3 n)";
pub const WILSON_METHOD: &str = "Wilson score, 95%";
pub const MEAN_METHOD: &str = "Student t, 95%";

/// NPS with its counts, shares and interval; `nps`, shares and `interval` are null without data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct NpsSummary {
    pub n: u64,
    #[serde(flatten)]
    pub counts: NpsCounts,
    pub promoter_pct: Option<f64>,
    pub passive_pct: Option<f64>,
    pub detractor_pct: Option<f64>,
    pub nps: Option<f64>,
    pub interval: Option<Interval>,
}

/// A share of "yes" answers with its Wilson interval, both in percent (CSAT = % of 4–5).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProportionSummary {
    pub n: u64,
    pub hits: u64,
    pub pct: Option<f64>,
    pub interval: Option<Interval>,
}

impl ProportionSummary {
    /// Wilson score interval (Wilson 1927; recommended by Newcombe, Statistics in Medicine
    /// 17, 1998): stays inside [0, 100] and behaves at 0 and n hits, unlike Wald.
    pub fn wilson(hits: u64, n: u64) -> Self {
        assert!(hits <= n, "more hits than answers");
        if n == 0 {
            return Self { n, hits, pct: None, interval: None };
        }
        let (k, n_f) = (hits as f64, n as f64);
        let p = k / n_f;
        let z2 = Z95 * Z95;
        let denom = 1.0 + z2 / n_f;
        let centre = (p + z2 / (2.0 * n_f)) / denom;
        let half = Z95 * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
        Self {
            n,
            hits,
            pct: Some(100.0 * p),
            // The Wilson interval always holds p; at p = 0 or 1 rounding could leave it a hair outside.
            interval: Some(Interval {
                low: (100.0 * (centre - half)).clamp(0.0, 100.0 * p),
                high: (100.0 * (centre + half)).clamp(100.0 * p, 100.0),
            }),
        }
    }

    /// CSAT: share of 4 and 5 among 1–5 answers.
    pub fn csat(scores: impl IntoIterator<Item = i64>) -> Self {
        let (mut hits, mut n) = (0, 0);
        for s in scores {
            n += 1;
            hits += u64::from(s >= 4);
        }
        Self::wilson(hits, n)
    }
}

/// A mean score (CES) with a Student-t interval; the interval needs at least two answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MeanSummary {
    pub n: u64,
    pub mean: Option<f64>,
    pub interval: Option<Interval>,
}

impl MeanSummary {
    /// From the sufficient statistics: count, sum and sum of squares.
    pub fn from_moments(n: u64, sum: f64, sum_sq: f64) -> Self {
        if n == 0 {
            return Self { n, mean: None, interval: None };
        }
        let n_f = n as f64;
        let mean = sum / n_f;
        let interval = (n >= 2).then(|| {
            let var = ((sum_sq - n_f * mean * mean) / (n_f - 1.0)).max(0.0);
            let half = t95(n - 1) * (var / n_f).sqrt();
            Interval { low: mean - half, high: mean + half }
        });
        Self { n, mean: Some(mean), interval }
    }

    pub fn from_scores(scores: impl IntoIterator<Item = i64>) -> Self {
        let (mut n, mut sum, mut sum_sq) = (0u64, 0.0, 0.0);
        for s in scores {
            n += 1;
            sum += s as f64;
            sum_sq += (s * s) as f64;
        }
        Self::from_moments(n, sum, sum_sq)
    }
}

/// Two-sided 95% Student-t quantile for `df` degrees of freedom: exact table to 30, then the
/// Cornish-Fisher expansion, which is within 1e-4 of the true value beyond 30.
pub fn t95(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let (z, v) = (Z95, df as f64);
            z + (z.powi(3) + z) / (4.0 * v) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    /// Draws `n` answers from a population with these promoter and detractor shares.
    fn sample(rng: &mut fastrand::Rng, n: u64, promoters: f64, detractors: f64) -> NpsCounts {
        let mut c = NpsCounts::default();
        for _ in 0..n {
            let u = rng.f64();
            c.add(if u < promoters {
                Segment::Promoter
            } else if u < promoters + detractors {
                Segment::Detractor
            } else {
                Segment::Passive
            });
        }
        c
    }

    #[test]
    fn intervals_cover_the_true_nps_about_95_percent_of_the_time() {
        // 2,000 seeded samples at each size from a population with NPS = 45 − 20 = +25.
        let mut rng = fastrand::Rng::with_seed(42);
        for n in [30, 100, 1000] {
            let covered =
                (0..2000).filter(|_| sample(&mut rng, n, 0.45, 0.20).interval().unwrap().contains(25.0)).count();
            let coverage = covered as f64 / 2000.0;
            assert!((0.93..=0.97).contains(&coverage), "n = {n}: coverage {coverage}");
        }
    }

    /// A published example: a sample of 1,162 with 291 promoters, 476 passives and 395
    /// detractors (NPS −9), whose 95% margin of error was reported as ±4.4 points (talkstats.com,
    /// "Net Promoter Score – Calculating Confidence Intervals and Margin of Error", thread
    /// 58500). Rocks (2016, The American Statistician 70(4), §2) gives the adjusted-Wald
    /// recipe checked here step by step: p̃ = (291 + ¾)/1165, d̃ = (395 + ¾)/1165,
    /// var = (p̃ + d̃ − (p̃ − d̃)²)/1165, NPS ± 1.96·√var.
    #[test]
    fn interval_matches_the_published_example() {
        let c = NpsCounts { promoters: 291, passives: 476, detractors: 395 };
        assert_eq!(c.nps().unwrap().round(), -9.0);
        let i = c.interval().unwrap();
        let half = (i.high - i.low) / 2.0;
        assert_eq!((half * 10.0).round() / 10.0, 4.4, "{i:?}");
        let (p, d) = (291.75 / 1165.0, 395.75 / 1165.0);
        let by_hand = 1.96 * ((p + d - (p - d) * (p - d)) / 1165.0f64).sqrt();
        assert!((half / 100.0 - by_hand).abs() < 1e-4, "{half} vs {by_hand}");
        assert!((i.low - -13.3).abs() < 0.05 && (i.high - -4.55).abs() < 0.05, "{i:?}");
    }

    #[test]
    fn the_difference_test_errs_about_5_percent_of_the_time_and_finds_real_changes() {
        let mut rng = fastrand::Rng::with_seed(7);
        // No real change: "significant" in about 5% of 2,000 pairs.
        let false_alarms = (0..2000)
            .filter(|_| {
                let (a, b) = (sample(&mut rng, 200, 0.40, 0.25), sample(&mut rng, 200, 0.40, 0.25));
                NpsCounts::compare(&a, &b).unwrap().significant
            })
            .count();
        let rate = false_alarms as f64 / 2000.0;
        assert!((0.03..=0.07).contains(&rate), "false alarm rate {rate}");
        // A real change of +20 points with 400 answers a side is found nearly always.
        let found = (0..500)
            .filter(|_| {
                let (a, b) = (sample(&mut rng, 400, 0.35, 0.25), sample(&mut rng, 400, 0.45, 0.15));
                NpsCounts::compare(&a, &b).unwrap().significant
            })
            .count();
        assert!(found > 450, "found {found} of 500");
    }

    #[test]
    fn a_change_is_told_in_a_plain_sentence() {
        let before = NpsCounts { promoters: 40, passives: 38, detractors: 22 };
        let after = NpsCounts { promoters: 52, passives: 27, detractors: 21 };
        let change = NpsCounts::compare(&before, &after).unwrap();
        assert_eq!(change.difference, 13.0);
        assert!(change.interval.contains(13.0) && !change.significant);
        let expected = format!(
            "NPS went from 18 to 31 (+13, 95% CI {:+.0}\u{a0}to\u{a0}{:+.0}): not distinguishable from noise",
            change.interval.low, change.interval.high
        );
        assert_eq!(change.sentence(), expected);
        let big = NpsCounts { promoters: 520, passives: 270, detractors: 210 };
        let small = NpsCounts { promoters: 400, passives: 380, detractors: 220 };
        let real = NpsCounts::compare(&small, &big).unwrap();
        assert!(real.significant && real.sentence().ends_with(": a real change"), "{}", real.sentence());
        assert!(NpsCounts::compare(&NpsCounts::default(), &big).is_none());
        assert!((normal_cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
    }

    #[test]
    fn nps_of_hand_worked_sample() {
        // 60 promoters, 20 passives, 20 detractors: NPS 40. Adjusted: n' = 103,
        // p' = 60.75/103, d' = 20.75/103, centre 38.835, var = (p'+d'-(p'-d')²)/n',
        // half-width 1.96·√var = 15.455 → [23.380, 54.290].
        let c = NpsCounts { promoters: 60, passives: 20, detractors: 20 };
        assert_eq!(c.nps(), Some(40.0));
        let i = c.interval().unwrap();
        assert!(close(i.low, 23.379_880_423_750_095), "{i:?}");
        assert!(close(i.high, 54.290_022_488_871_244), "{i:?}");
    }

    #[test]
    fn nps_interval_can_straddle_zero() {
        // 30/50/20: NPS 10, interval [−3.818, 23.235] (same hand computation).
        let i = NpsCounts { promoters: 30, passives: 50, detractors: 20 }.interval().unwrap();
        assert!(close(i.low, -3.817_647_629_812_934_3) && close(i.high, 23.235_123_357_968_27));
    }

    #[test]
    fn single_promoter_interval_is_widened_to_the_observed_value() {
        // Adjusted Wald alone gives [−48.5, 98.5], which would exclude the 100 shown beside it.
        let i = NpsCounts { promoters: 1, passives: 0, detractors: 0 }.interval().unwrap();
        assert!(close(i.low, -48.498_649_420_252_03));
        assert_eq!(i.high, 100.0);
    }

    #[test]
    fn empty_input_is_no_data_not_nan() {
        let s = NpsCounts::default().summary();
        assert_eq!((s.n, s.nps, s.interval, s.promoter_pct), (0, None, None, None));
        assert_eq!(ProportionSummary::wilson(0, 0).pct, None);
        assert_eq!(MeanSummary::from_scores([]).mean, None);
        assert_eq!(MeanSummary::from_scores([5]).interval, None);
    }

    #[test]
    fn wilson_matches_newcombe_1998_examples() {
        // Newcombe, "Two-sided confidence intervals for the single proportion", Statistics in
        // Medicine 17 (1998) 857–872, Table II, method 3 (score): 81/263 → 0.2553–0.3662,
        // 0/20 → 0–0.1611, 1/29 → 0.0061–0.1718.
        let check = |k, n, lo: f64, hi: f64| {
            let i = ProportionSummary::wilson(k, n).interval.unwrap();
            assert!((i.low / 100.0 - lo).abs() < 5e-5 && (i.high / 100.0 - hi).abs() < 5e-5, "{k}/{n}: {i:?}");
        };
        check(81, 263, 0.2553, 0.3662);
        check(0, 20, 0.0, 0.1611);
        check(1, 29, 0.0061, 0.1718);
    }

    #[test]
    fn csat_counts_four_and_five_as_satisfied() {
        let s = ProportionSummary::csat([5, 4, 3, 2, 1, 5, 5, 4]);
        assert_eq!((s.n, s.hits), (8, 5));
        assert_eq!(s.pct, Some(62.5));
    }

    #[test]
    fn ces_mean_interval_uses_student_t() {
        // Scores 1..=7: mean 4, sample sd √(28/6), t(6) = 2.447 → 4 ± 2.447·√(28/6)/√7.
        let s = MeanSummary::from_scores(1..=7);
        let half = 2.447 * (28.0f64 / 6.0).sqrt() / 7f64.sqrt();
        let i = s.interval.unwrap();
        assert_eq!(s.mean, Some(4.0));
        assert!(close(i.low, 4.0 - half) && close(i.high, 4.0 + half));
    }

    #[test]
    fn t_quantile_joins_the_table_smoothly() {
        assert!((t95(31) - 2.0395).abs() < 2e-4);
        assert!((t95(120) - 1.9799).abs() < 2e-4);
        assert!(t95(30) > t95(31) && t95(31) > t95(1000) && t95(1000) > Z95);
    }

    proptest! {
        #[test]
        fn nps_is_bounded_and_inside_its_interval(p in 0u64..5000, a in 0u64..5000, d in 0u64..5000) {
            let c = NpsCounts { promoters: p, passives: a, detractors: d };
            match (c.nps(), c.interval()) {
                (None, None) => prop_assert_eq!(c.n(), 0),
                (Some(nps), Some(i)) => {
                    prop_assert!((-100.0..=100.0).contains(&nps));
                    prop_assert!(i.low.is_finite() && i.high.is_finite());
                    prop_assert!(-100.0 <= i.low && i.high <= 100.0);
                    prop_assert!(i.contains(nps), "{} not in {:?}", nps, i);
                }
                other => prop_assert!(false, "inconsistent {:?}", other),
            }
        }

        #[test]
        fn nps_from_scores_matches_the_definition(scores in proptest::collection::vec(0i64..=10, 0..300)) {
            let c = NpsCounts::from_scores(scores.iter().copied());
            prop_assert_eq!(c.n() as usize, scores.len());
            if !scores.is_empty() {
                let pro = scores.iter().filter(|s| **s >= 9).count() as f64;
                let det = scores.iter().filter(|s| **s <= 6).count() as f64;
                let expected = 100.0 * (pro - det) / scores.len() as f64;
                prop_assert!((c.nps().unwrap() - expected).abs() < 1e-9);
            }
        }

        #[test]
        fn wilson_holds_the_share_at_the_ends(n in 1u64..100_000) {
            // Found by CI at n = 987: rounding left the lower bound just above 0 %.
            for hits in [0, n] {
                let s = ProportionSummary::wilson(hits, n);
                prop_assert!(s.interval.unwrap().contains(s.pct.unwrap()), "{hits} of {n}");
            }
        }

        #[test]
        fn wilson_is_inside_0_100_and_contains_the_share(n in 1u64..10_000, frac in 0.0f64..=1.0) {
            let hits = ((n as f64) * frac).floor() as u64;
            let s = ProportionSummary::wilson(hits, n);
            let i = s.interval.unwrap();
            prop_assert!(0.0 <= i.low && i.high <= 100.0 && i.contains(s.pct.unwrap()));
        }

        #[test]
        fn mean_interval_contains_the_mean(scores in proptest::collection::vec(1i64..=7, 2..200)) {
            let s = MeanSummary::from_scores(scores);
            let i = s.interval.unwrap();
            prop_assert!(i.low.is_finite() && i.contains(s.mean.unwrap()));
        }
    }
}

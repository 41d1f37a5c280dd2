//! What the store's benches share: a round's line setting an old way against a new one, each
//! beside the floor of the same run.

use std::time::Duration;

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// "round 1: {old} 1444.8 ms (289 µs a case, 37.9× the floor); {new} 21.4 ms (4.3 µs a case,
/// 0.6× the floor): 67.4× faster", for `count` things of `unit`.
pub fn versus(round: usize, floor: Duration, old: (&str, Duration), new: (&str, Duration), count: usize, unit: &str) {
    let side = |(name, d): (&str, Duration)| {
        let per = d.as_secs_f64() * 1e6 / count as f64;
        format!("{name} {:.1} ms ({per:.1} µs a {unit}, {:.1}× the floor)", ms(d), ms(d) / ms(floor))
    };
    println!("round {round}: {}; {}: {:.1}× faster", side(old), side(new), ms(old.1) / ms(new.1));
}

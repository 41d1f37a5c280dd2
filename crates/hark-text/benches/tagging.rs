//! How fast comments are read (language, words, themes, sentiment), per language on one core,
//! beside a baseline pass over the same comments in the same process: lower-case and split on
//! whitespace. Medians of nine turns of each; the ratio is the median of the turns' ratios.
//!
//! cargo bench -p hark-text --bench tagging

#[path = "../tests/real/mod.rs"]
mod real;

use std::hint::black_box;
use std::time::{Duration, Instant};

use hark_text::{Analyzer, Lang};

/// The allocator of the `hark` binary, so that comments are read here as the server reads them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Italian has no real set here: customer comments written for the bench.
const ITALIAN: &[&str] = &[
    "La consegna è arrivata in ritardo di tre giorni e nessuno mi ha avvisato.",
    "Personale gentilissimo e molto disponibile, tornerò sicuramente!",
    "Prezzo troppo alto per la qualità del prodotto, non lo consiglio.",
    "L'app si blocca sempre al pagamento, ho dovuto riprovare cinque volte.",
    "Ottimo servizio clienti, hanno risolto il problema in pochi minuti.",
    "Il pacco è arrivato danneggiato e il rimborso non è ancora arrivato.",
    "Tutto perfetto, spedizione veloce e prodotto come descritto.",
    "Attesa lunghissima al telefono, l'operatore però è stato cortese.",
];

/// Runs `pass` over `comments` for a fifth of a second; comments per second.
fn rate(comments: &[String], pass: &impl Fn(&str) -> usize) -> f64 {
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < Duration::from_millis(200) {
        for c in comments {
            black_box(pass(c));
        }
        done += comments.len();
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// Turns of baseline and reading, one after the other, so that a change in the load of this
/// shared machine falls on both alike.
const TURNS: usize = 9;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let analyzer = Analyzer::builtin();
    println!("{:<4} {:>9} {:>14} {:>14} {:>7}", "lang", "comments", "read/s", "baseline/s", "ratio");
    for lang in Lang::ALL {
        let comments: Vec<String> = match lang {
            Lang::It => ITALIAN.iter().map(|s| s.to_string()).collect(),
            _ => real::load(lang).into_iter().map(|r| r.comment).collect(),
        };
        // Warm: lexicons, segmenter data, the language models.
        for c in &comments {
            black_box(analyzer.analyze(c, Some(lang)));
        }
        let baseline = |c: &str| c.to_lowercase().split_whitespace().map(str::to_owned).collect::<Vec<_>>().len();
        let read = |c: &str| {
            let a = analyzer.analyze(c, Some(lang));
            a.themes.len() + usize::from(a.sentiment.score > 0.0)
        };
        let turns: Vec<(f64, f64)> = (0..TURNS).map(|_| (rate(&comments, &baseline), rate(&comments, &read))).collect();
        let (base, read) = (median(turns.iter().map(|t| t.0).collect()), median(turns.iter().map(|t| t.1).collect()));
        let ratio = median(turns.iter().map(|(b, r)| b / r).collect());
        println!("{:<4} {:>9} {:>14.0} {:>14.0} {:>6.1}×", lang.tag(), comments.len(), read, base, ratio);
    }
    // What the Themes page does on each request: the phrases of the newest comments (4,500
    // here, 5,000 there) read, tallied by segment and the standouts picked. Medians of nine.
    let rated: Vec<(hark_text::Lang, real::Rated)> =
        real::RATED.iter().flat_map(|l| real::load(*l).into_iter().map(move |r| (*l, r))).collect();
    let (mut reading, mut tallying) = (Vec::new(), Vec::new());
    for _ in 0..TURNS {
        let started = Instant::now();
        let tokens: Vec<_> = rated.iter().map(|(lang, row)| analyzer.words().tokens(&row.comment, *lang)).collect();
        reading.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let mut tally = hark_text::phrases::PhraseTally::default();
        for ((lang, row), tokens) in rated.iter().zip(&tokens) {
            tally.add(&row.comment, tokens, row.class, *lang);
        }
        black_box(tally.standouts(hark_core::Segment::Detractor, 3, 48));
        tallying.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    println!(
        "phrases of {} comments: words read in {:.1} ms, tallied and standouts picked in {:.1} ms",
        rated.len(),
        median(reading),
        median(tallying)
    );
    let (chars, n): (usize, usize) = real::RATED
        .iter()
        .flat_map(|l| real::load(*l))
        .fold((0, 0), |(c, n), r| (c + r.comment.chars().count(), n + 1));
    println!("mean comment length over the real sets: {:.0} characters", chars as f64 / n as f64);
}

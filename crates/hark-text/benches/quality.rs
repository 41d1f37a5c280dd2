//! Comment analysis on real comments (tests/real-comments): sentiment accuracy and macro-F1
//! against the customers' ratings or annotators' labels, beside always guessing the most
//! common class; theme coverage; the top theme drivers and discovered phrases.
//!
//! cargo bench -p hark-text --bench quality

#[path = "../tests/real/mod.rs"]
mod real;

use hark_core::{NpsCounts, Segment};
use hark_text::phrases::PhraseTally;
use hark_text::{Analyzer, SentimentLabel};

fn main() {
    let analyzer = Analyzer::builtin();
    for lang in real::RATED {
        let rows = real::load(lang);
        let analyses: Vec<_> = rows.iter().map(|r| analyzer.analyze(&r.comment, Some(lang))).collect();
        let predicted: Vec<SentimentLabel> = analyses.iter().map(|a| a.sentiment.label).collect();
        let s = real::scores(&rows, &predicted);
        let detected = analyses.iter().filter(|a| a.lang == lang).count();
        let tagged = analyses.iter().filter(|a| !a.themes.is_empty()).count();
        println!("== {} ({} comments)", lang.tag(), rows.len());
        println!(
            "sentiment: accuracy {:.3} (majority class {:.3}), macro-F1 {:.3} (majority class {:.3})",
            s.accuracy, s.majority_accuracy, s.macro_f1, s.majority_macro_f1
        );
        let mut confusion = [[0u32; 3]; 3];
        for (row, p) in rows.iter().zip(&predicted) {
            confusion[real::label(row.class) as usize][*p as usize] += 1;
        }
        println!("confusion (rows: labelled negative, neutral, positive; columns: read as the same): {confusion:?}");
        println!(
            "language detected as {}: {:.1}%; with at least one theme: {:.1}%",
            lang.tag(),
            100.0 * detected as f64 / rows.len() as f64,
            100.0 * tagged as f64 / rows.len() as f64
        );
        if lang == hark_text::Lang::Th {
            let words: Vec<std::rc::Rc<str>> = rows
                .iter()
                .flat_map(|r| analyzer.words().tokens(&r.comment, lang))
                .map(|t| t.word)
                .filter(|w| w.chars().any(|c| ('\u{0E01}'..='\u{0E4E}').contains(&c)))
                .collect();
            let known = words.iter().filter(|w| analyzer.words().is_thai_word(w)).count();
            println!(
                "Thai words that are dictionary words: {:.1}% of {} (the rest: names, slang, misspellings)",
                100.0 * known as f64 / words.len() as f64,
                words.len()
            );
        }
        // Drivers, with low / middle / high standing in for detractor / passive / promoter.
        let mut all = NpsCounts::default();
        let mut per_theme: Vec<(String, NpsCounts)> =
            analyzer.themes().list().iter().map(|t| (t.key.clone(), NpsCounts::default())).collect();
        let mut tally = PhraseTally::default();
        for (row, analysis) in rows.iter().zip(&analyses) {
            all.add(row.class);
            for m in &analysis.themes {
                if let Some((_, c)) = per_theme.iter_mut().find(|(k, _)| *k == m.theme) {
                    c.add(row.class);
                }
            }
            tally.add(&row.comment, &analyzer.words().tokens(&row.comment, lang), row.class, lang);
        }
        println!("net score (high − low) of all: {:+.1}", all.nps().unwrap_or(0.0));
        for d in hark_core::drivers::drivers(all, rows.len() as u64, per_theme, 30).iter().take(6) {
            let diff = d.difference.as_ref();
            println!(
                "  driver {:<14} mentions {:>4}  with {:>+6.1}  without {:>+6.1}  difference {}  at stake {:>+5.1}{}",
                d.key,
                d.mentions,
                d.with.nps.unwrap_or(f64::NAN),
                d.without.nps.unwrap_or(f64::NAN),
                diff.map_or("-".into(), |c| format!(
                    "{:+.1} [{:+.1}, {:+.1}] p={:.3}",
                    c.difference, c.interval.low, c.interval.high, c.p_value
                )),
                d.points_at_stake.unwrap_or(f64::NAN),
                if d.enough_data { "" } else { "  (too few)" }
            );
        }
        for (segment, name) in [(Segment::Detractor, "low"), (Segment::Promoter, "high")] {
            let top: Vec<String> = tally
                .standouts(segment, 5, 12)
                .into_iter()
                .map(|s| format!("{} ({}, z {:.1})", s.shown, s.in_segment, s.z))
                .collect();
            println!("  phrases of the {name}: {}", top.join(", "));
        }
    }
}

//! The real customer comments in `tests/real-comments/` (see its README), read with their
//! ratings mapped to low / middle / high, shared by the quality test and bench.

#![allow(dead_code)]

use hark_core::Segment;
use hark_text::{Lang, SentimentLabel};

pub struct Rated {
    pub comment: String,
    /// The rating's third of the scale: low → detractor-like, high → promoter-like.
    pub class: Segment,
}

/// Low, middle, high as sentiment labels.
pub fn label(class: Segment) -> SentimentLabel {
    match class {
        Segment::Detractor => SentimentLabel::Negative,
        Segment::Passive => SentimentLabel::Neutral,
        Segment::Promoter => SentimentLabel::Positive,
    }
}

/// A rating's place on its scale, in thirds: 1–5 → 1–2 low, 3 middle, 4–5 high; 1–10 → 1–4
/// low, 5–6 middle, 7–10 high; neg/neu/pos as they are.
fn class(rating: &str, scale: &str) -> Segment {
    match rating {
        "neg" => return Segment::Detractor,
        "neu" => return Segment::Passive,
        "pos" => return Segment::Promoter,
        _ => {}
    }
    let (low, high) = scale.split_once('-').expect("scale low-high");
    let (low, high): (f64, f64) = (low.parse().unwrap(), high.parse().unwrap());
    let at = (rating.parse::<f64>().unwrap() - low) / (high - low);
    if at < 0.4 {
        Segment::Detractor
    } else if at <= 0.6 {
        Segment::Passive
    } else {
        Segment::Promoter
    }
}

pub fn load(lang: Lang) -> Vec<Rated> {
    let path = format!("{}/tests/real-comments/{}_dev.csv", env!("CARGO_MANIFEST_DIR"), lang.tag());
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("a row");
            Rated { comment: r[1].to_owned(), class: class(&r[0], &r[2]) }
        })
        .collect()
}

/// The rated languages: Italian has no real set here.
pub const RATED: [Lang; 3] = [Lang::En, Lang::Ko, Lang::Th];

pub struct Scores {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub majority_accuracy: f64,
    pub majority_macro_f1: f64,
}

/// Accuracy and macro-F1 of predicted labels against the rows' classes, beside always
/// answering the most common class.
pub fn scores(rows: &[Rated], predicted: &[SentimentLabel]) -> Scores {
    let labels = [SentimentLabel::Negative, SentimentLabel::Neutral, SentimentLabel::Positive];
    let truth: Vec<SentimentLabel> = rows.iter().map(|r| label(r.class)).collect();
    let majority = *labels.iter().max_by_key(|l| truth.iter().filter(|t| t == l).count()).unwrap();
    let judge = |pred: &dyn Fn(usize) -> SentimentLabel| {
        let n = truth.len() as f64;
        let accuracy = truth.iter().enumerate().filter(|(i, t)| pred(*i) == **t).count() as f64 / n;
        let f1s: Vec<f64> = labels
            .iter()
            .map(|l| {
                let tp = (0..truth.len()).filter(|&i| pred(i) == *l && truth[i] == *l).count() as f64;
                let fp = (0..truth.len()).filter(|&i| pred(i) == *l && truth[i] != *l).count() as f64;
                let fneg = (0..truth.len()).filter(|&i| pred(i) != *l && truth[i] == *l).count() as f64;
                if tp == 0.0 { 0.0 } else { 2.0 * tp / (2.0 * tp + fp + fneg) }
            })
            .collect();
        (accuracy, f1s.iter().sum::<f64>() / 3.0)
    };
    let (accuracy, macro_f1) = judge(&|i| predicted[i]);
    let (majority_accuracy, majority_macro_f1) = judge(&|_| majority);
    Scores { accuracy, macro_f1, majority_accuracy, majority_macro_f1 }
}

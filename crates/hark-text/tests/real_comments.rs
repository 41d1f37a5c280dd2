//! What must hold on real customer comments (tests/real-comments): sentiment beats always
//! guessing the common class, and obviously negative and positive words come out on the right
//! side. The figures themselves are printed by `cargo bench -p hark-text --bench quality`.

mod real;

use hark_core::Segment;
use hark_text::phrases::PhraseTally;
use hark_text::{Analyzer, Lang, SentimentLabel};

#[test]
fn sentiment_beats_the_majority_class_in_every_rated_language() {
    let analyzer = Analyzer::builtin();
    for lang in real::RATED {
        let rows = real::load(lang);
        let predicted: Vec<SentimentLabel> =
            rows.iter().map(|r| analyzer.analyze(&r.comment, Some(lang)).sentiment.label).collect();
        let s = real::scores(&rows, &predicted);
        assert!(
            s.macro_f1 > s.majority_macro_f1 + 0.1,
            "{}: macro-F1 {:.3} against the majority's {:.3}",
            lang.tag(),
            s.macro_f1,
            s.majority_macro_f1
        );
    }
}

fn standouts(lang: Lang, segment: Segment) -> Vec<String> {
    let analyzer = Analyzer::builtin();
    let mut tally = PhraseTally::default();
    for row in real::load(lang) {
        let tokens = analyzer.words().tokens(&row.comment, lang);
        tally.add(&row.comment, &tokens, row.class, lang);
    }
    tally.standouts(segment, 5, 40).into_iter().map(|s| s.key).collect()
}

#[test]
fn obvious_words_come_out_on_the_right_side() {
    let words = hark_text::Words::shared();
    for (lang, negative, positive) in
        [(Lang::En, ["return", "disappointed"], ["love", "perfect"]), (Lang::Ko, ["최악", "지루"], ["최고", "감동"])]
    {
        let low = standouts(lang, Segment::Detractor);
        let high = standouts(lang, Segment::Promoter);
        for word in negative {
            let term = words.term(word, lang);
            assert!(
                low.iter().any(|k| k.starts_with(&term)),
                "{word} ({term}) not among {}'s low: {low:?}",
                lang.tag()
            );
            assert!(!high.iter().any(|k| k.starts_with(&term)), "{word} among {}'s high", lang.tag());
        }
        for word in positive {
            let term = words.term(word, lang);
            assert!(
                high.iter().any(|k| k.starts_with(&term)),
                "{word} ({term}) not among {}'s high: {high:?}",
                lang.tag()
            );
            assert!(!low.iter().any(|k| k.starts_with(&term)), "{word} among {}'s low", lang.tag());
        }
    }
}

//! Prints what Hark reads in a comment: `cargo run -p hark-text --example read -- "text"`.
fn main() {
    let text = std::env::args().nth(1).unwrap_or_default();
    let hint = std::env::args().nth(2).and_then(|t| hark_text::Lang::from_tag(&t));
    let a = hark_text::Analyzer::builtin();
    let analysis = a.analyze(&text, hint);
    for t in a.words().tokens(&text, analysis.lang) {
        println!("{:>12} {:>12} neg={} stop={}", t.word, t.term, t.negated, t.stop);
    }
    println!("{analysis:?}");
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines().filter(|l| l.starts_with("VmHWM")) {
            println!("{line}");
        }
    }
}

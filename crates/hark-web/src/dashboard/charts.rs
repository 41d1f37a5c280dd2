//! Charts as inline SVG, drawn here: no script, no CDN, readable without colour (every mark
//! has a text `<title>`), and scaled by `viewBox` to any screen. Every data point is a
//! `circle.point` or `rect.bar`, so what a chart shows can be counted.

use std::fmt::Write;

use hark_core::Interval;

use crate::page::Reader;

const DETRACTOR: &str = "#c0392b";
// Each segment colour keeps 3:1 against the white chart (WCAG 1.4.11); see the test below.
const PASSIVE: &str = "#b9770e";
const PROMOTER: &str = "#1e8449";
const INK: &str = "#1d3557";
/// Secondary chart text (a row's n): grey, still 4.5:1 on white.
const MUTED: &str = "#5b6472";

/// Escapes text for SVG (user-named teams and annotations end up in labels).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Each chart is drawn twice, for wide screens and for phones, and the page shows the one
/// that fits: scaled by `viewBox` alone, a wide chart's 11-unit text would shrink to 6 px on
/// a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    Wide,
    /// Drawn 340 units wide: on a 390 px phone it is shown at about 1:1.
    Narrow,
}

impl Size {
    fn width(self) -> f64 {
        match self {
            Size::Wide => 640.0,
            Size::Narrow => 340.0,
        }
    }

    /// A row label in the lines it is drawn on: whole while it fits the narrow chart's label
    /// column (always on a wide chart), else broken before a word onto a second line, cut to
    /// fit if it still does not. Cut on one line, long Thai and Korean names lost the word
    /// that told them apart ("คืนเงิน คืนสินค้า…"); the full name stays in the marks' titles.
    fn lines(self, text: &str) -> Vec<String> {
        if self == Size::Wide || text_width(text) <= NARROW_LABEL {
            return vec![text.to_string()];
        }
        let first_end = hark_text::Words::shared()
            .line_breaks(text)
            .into_iter()
            .take_while(|&at| text_width(text[..at].trim_end()) <= NARROW_LABEL)
            .last();
        match first_end {
            Some(at) => vec![text[..at].trim_end().to_string(), cut_to_fit(&text[at..])],
            // One word longer than the column.
            None => vec![cut_to_fit(text)],
        }
    }
}

/// `text` as it fits the narrow chart's label column: whole, or cut by width with "…".
/// Counted in letters, Thai had lost words that fit (its vowel and tone marks take no
/// width), and a long Korean name ran off the chart's left edge (a Hangul letter is twice as
/// wide as a Latin one).
fn cut_to_fit(text: &str) -> String {
    if text_width(text) <= NARROW_LABEL {
        return text.to_string();
    }
    let room = NARROW_LABEL - char_width('…');
    let mut width = 0.0;
    // A mark adds no width, so it stays with the letter it sits on; a Thai vowel written
    // before its consonant (เ, แ, โ, ใ, ไ) goes with it.
    let end = text.char_indices().find(|&(_, c)| {
        width += char_width(c);
        width > room
    });
    let kept = text[..end.map_or(text.len(), |(at, _)| at)]
        .trim_end_matches(|c: char| c.is_whitespace() || ('\u{0E40}'..='\u{0E44}').contains(&c));
    format!("{kept}…")
}

/// Where the narrow chart's dots begin: its row labels stand left of it.
const NARROW_LEFT: f64 = 112.0;

/// A row label ends this far before the dots.
const LABEL_GAP: f64 = 8.0;

/// The widest row label of the narrow chart: its column, less the gap and a margin at the
/// chart's edge.
const NARROW_LABEL: f64 = NARROW_LEFT - LABEL_GAP - 4.0;

/// About how wide `text` is at 12 px.
fn text_width(text: &str) -> f64 {
    text.chars().map(char_width).sum()
}

/// Hangul and CJK take a full em, Thai and Latin about half.
fn char_width(c: char) -> f64 {
    match c {
        '\u{1100}'..='\u{11FF}' | '\u{3000}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}' => 12.0,
        // Thai marks above and below a consonant take no width of their own.
        '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}' => 0.0,
        _ => 6.8,
    }
}

/// A chart with links is a group whose links a screen reader can reach; one without is a
/// single image, named by its label.
fn role(has_links: bool) -> &'static str {
    if has_links { "group" } else { "img" }
}

/// A drawn chart without its links (`linked`'s `<a>` around marks), for a page whose reader
/// cannot follow them into Hark: a shared link's.
pub(crate) fn unlinked(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(at) = rest.find("<a href=\"") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        rest = after.find('>').map_or("", |end| &after[end + 1..]);
    }
    out.push_str(rest);
    out.replace("</a>", "")
}

/// `mark` inside a link to `href` (the answers behind it), or alone.
fn linked(href: Option<&str>, mark: String) -> String {
    match href {
        Some(h) => format!(r#"<a href="{}">{mark}</a>"#, esc(h)),
        None => mark,
    }
}

/// An NPS as people write it: "+21", "-4", or "–" when there is none.
pub(crate) fn signed(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| hark_core::i18n::base().signed(v, 0))
}

/// Answers per score 0–10 as bars coloured by segment, each a link to its answers when
/// `hrefs` (one per score) are given.
pub(crate) fn distribution(t: Reader, counts: &[u64], hrefs: &[String], size: Size) -> String {
    let (w, h, top, bottom) = (size.width(), 170.0, 18.0, 22.0);
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let slot = w / 11.0;
    let mut svg = format!(
        r#"<svg class="chart distribution" viewBox="0 0 {w} {h}" role="{}" aria-label="{}">"#,
        role(!hrefs.is_empty()),
        esc(t.text("chart.distribution"))
    );
    for (score, &n) in counts.iter().enumerate() {
        let colour = match score {
            0..=6 => DETRACTOR,
            7 | 8 => PASSIVE,
            _ => PROMOTER,
        };
        let bh = (h - top - bottom) * n as f64 / max;
        let x = slot * score as f64 + 4.0;
        let y = h - bottom - bh;
        let bar = format!(
            r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{bh:.1}" fill="{colour}"><title>{}</title></rect>"#,
            slot - 8.0,
            esc(&t.fill("chart.score_count", &[("score", &score.to_string()), ("n", &n.to_string())])),
        );
        svg.push_str(&linked(hrefs.get(score).map(String::as_str), bar));
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{n}</text><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{score}</text>"#,
            x + slot / 2.0 - 4.0,
            y - 4.0,
            x + slot / 2.0 - 4.0,
            h - 6.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One period of a trend.
pub(crate) struct TrendPoint {
    pub label: String,
    pub nps: Option<f64>,
    pub interval: Option<Interval>,
    pub n: u64,
    /// Why the point is not a whole, solid period ("so far", "too few answers"): drawn hollow,
    /// off the line, and its interval left out of the axis range.
    pub caveat: Option<String>,
    /// The answers behind the point.
    pub href: Option<String>,
}

/// NPS per period as a line with its 95% interval as a band, and annotations as marked
/// vertical lines at the period (index) they fall in. Partial and thin periods stand apart
/// as hollow points, so that a running month or a handful of answers cannot stretch the
/// axis or pass for a trend.
pub(crate) fn trend(t: Reader, points: &[TrendPoint], annotations: &[(f64, String)], size: Size) -> String {
    let (w, h, left, right, top, bottom) = (size.width(), 220.0, 44.0, 34.0, 14.0, 30.0);
    let mut svg = format!(
        r#"<svg class="chart trend" viewBox="0 0 {w} {h}" role="{}" aria-label="{}">"#,
        role(points.iter().any(|p| p.href.is_some())),
        esc(t.text("chart.trend"))
    );
    let shown: Vec<(usize, &TrendPoint)> = points.iter().enumerate().filter(|(_, p)| p.nps.is_some()).collect();
    if shown.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text></svg>"#,
            w / 2.0,
            h / 2.0,
            esc(t.text("chart.no_answers"))
        );
        return svg;
    }
    let solid: Vec<(usize, &TrendPoint)> = shown.iter().copied().filter(|(_, p)| p.caveat.is_none()).collect();
    // The axis spans the solid periods' intervals and every point's value.
    let ranged = if solid.is_empty() { &shown } else { &solid };
    let values = shown.iter().filter_map(|(_, p)| p.nps);
    let lows = ranged.iter().filter_map(|(_, p)| p.interval.map(|i| i.low)).chain(values.clone());
    let highs = ranged.iter().filter_map(|(_, p)| p.interval.map(|i| i.high)).chain(values);
    let lo = (lows.fold(f64::MAX, f64::min).min(0.0) / 20.0).floor() * 20.0;
    let hi = (highs.fold(f64::MIN, f64::max).max(0.0) / 20.0).ceil() * 20.0;
    let (lo, hi) = (lo.max(-100.0), hi.min(100.0).max(lo + 20.0));
    let span = (points.len().max(2) - 1) as f64;
    let x = |i: f64| left + (w - left - right) * if points.len() == 1 { 0.5 } else { i / span };
    let y = |v: f64| top + (h - top - bottom) * (hi - v.clamp(lo, hi)) / (hi - lo);
    // Text goes only where no other text is: crowded thin periods (an agent's months) wrote
    // their caveats over each other, the axis, the annotations and the dates.
    let mut texts = TextBoxes::default();
    let mut tick = lo;
    while tick <= hi {
        let label = format!("{tick:+.0}");
        texts.take(TextBoxes::of(left - 4.0, y(tick) + 4.0, &label, "end"));
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="{}" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" font-size="11">{label}</text>"##,
            w - right,
            if tick == 0.0 { "#8795a8" } else { "#e3e7ed" },
            left - 4.0,
            y(tick) + 4.0,
            y = y(tick)
        );
        tick += 20.0;
    }
    let band_top: Vec<String> = solid
        .iter()
        .filter_map(|(i, p)| p.interval.map(|iv| format!("{:.1},{:.1}", x(*i as f64), y(iv.high))))
        .collect();
    let band_bottom: Vec<String> = solid
        .iter()
        .rev()
        .filter_map(|(i, p)| p.interval.map(|iv| format!("{:.1},{:.1}", x(*i as f64), y(iv.low))))
        .collect();
    let _ = write!(
        svg,
        r#"<polygon class="band" points="{} {}" fill="{INK}" fill-opacity="0.13"/>"#,
        band_top.join(" "),
        band_bottom.join(" ")
    );
    let line: Vec<String> =
        solid.iter().map(|(i, p)| format!("{:.1},{:.1}", x(*i as f64), y(p.nps.unwrap_or(0.0)))).collect();
    let _ = write!(svg, r#"<polyline points="{}" fill="none" stroke="{INK}" stroke-width="2"/>"#, line.join(" "));
    for (at, label) in annotations {
        let ax = x(*at);
        texts.take(TextBoxes::of(ax + 3.0, top + 10.0, label, "start"));
        let _ = write!(
            svg,
            r##"<g class="annotation"><line x1="{ax:.1}" x2="{ax:.1}" y1="{top}" y2="{:.1}" stroke="#e76f51" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" font-size="11" fill="#b34a2f">{}</text><title>{}</title></g>"##,
            h - bottom,
            ax + 3.0,
            top + 10.0,
            esc(label),
            esc(label)
        );
    }
    // A date label is about 60 units wide: six fit a wide chart, three a narrow one.
    let step = points.len().div_ceil(if size == Size::Wide { 6 } else { 3 }).max(1);
    for (i, p) in points.iter().enumerate().step_by(step) {
        texts.take(TextBoxes::of(x(i as f64), h - 10.0, &p.label, "middle"));
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="11">{}</text>"#,
            x(i as f64),
            h - 10.0,
            esc(&p.label)
        );
    }
    for (i, p) in &shown {
        let (px, py) = (x(*i as f64), y(p.nps.unwrap_or(0.0)));
        texts.take([px - 5.0, px + 5.0, py - 5.0, py + 5.0]);
    }
    for (i, p) in &shown {
        let (px, py) = (x(*i as f64), y(p.nps.unwrap_or(0.0)));
        let (class, fill) = if p.caveat.is_none() { ("point", INK) } else { ("point hollow", "#fff") };
        let about = [Some(format!("n = {}", p.n)), p.interval.map(|iv| t.ci(iv, 0)), p.caveat.clone()];
        let point = format!(
            r#"<circle class="{class}" cx="{px:.1}" cy="{py:.1}" r="4" fill="{fill}" stroke="{INK}" stroke-width="2"><title>{}: NPS {} ({})</title></circle>"#,
            esc(&p.label),
            signed(p.nps),
            esc(&about.into_iter().flatten().collect::<Vec<_>>().join(", "))
        );
        svg.push_str(&linked(p.href.as_deref(), point));
        if let Some(c) = &p.caveat {
            // Said in words beside the point where there is room, above it or below; where
            // there is none, its title and the caption under the chart say it.
            let anchor = match *i {
                _ if points.len() == 1 => "middle",
                0 => "start",
                i if i + 1 == points.len() => "end",
                _ => "middle",
            };
            let above = (py - top > 16.0).then_some(py - 8.0);
            if let Some(ty) =
                above.into_iter().chain([py + 18.0]).find(|ty| texts.claim(TextBoxes::of(px, *ty, c, anchor)))
            {
                let _ = write!(
                    svg,
                    r#"<text class="caveat" x="{px:.1}" y="{ty:.1}" text-anchor="{anchor}" font-size="11">{}</text>"#,
                    esc(c)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The boxes taken by a chart's 11-unit text so far, so that no text is drawn over another.
#[derive(Default)]
struct TextBoxes(Vec<[f64; 4]>);

impl TextBoxes {
    /// The box of `text` drawn at (`x`, baseline `y`) with `anchor`.
    fn of(x: f64, y: f64, text: &str, anchor: &str) -> [f64; 4] {
        let width = text_width(text) * 11.0 / 12.0;
        let x0 = match anchor {
            "start" => x,
            "end" => x - width,
            _ => x - width / 2.0,
        };
        [x0, x0 + width, y - 10.0, y + 3.0]
    }

    fn take(&mut self, b: [f64; 4]) {
        self.0.push(b);
    }

    /// Takes `b` if no text is there yet; whether it was free.
    fn claim(&mut self, b: [f64; 4]) -> bool {
        let free = !self.0.iter().any(|t| b[0] < t[1] && t[0] < b[1] && b[2] < t[3] && t[2] < b[3]);
        if free {
            self.take(b);
        }
        free
    }
}

/// One mark on a row of a dot plot.
pub(crate) struct Dot {
    pub value: Option<f64>,
    pub interval: Option<Interval>,
    /// Its class, e.g. "agent" or "company"; named in the mark's title by `series.{series}`.
    pub series: &'static str,
    /// Hollow: too few answers to rank.
    pub thin: bool,
}

/// One row of a dot plot: its label, the answers behind its first mark, its marks, and where
/// its answers are listed.
pub(crate) struct DotRow {
    pub label: String,
    /// Drawn under the label, so a narrow chart that shortens the label still says it.
    pub n: u64,
    pub dots: Vec<Dot>,
    pub href: Option<String>,
}

/// Rows of NPS with their intervals on a shared −100…+100 axis (segments, leaderboards); a
/// row's label links to its answers.
pub(crate) fn dot_rows(t: Reader, rows: &[DotRow], size: Size) -> String {
    // A row is 34 units high, and a line more for a label drawn on two.
    let (w, right, row_h, line_h) = (size.width(), 16.0, 34.0, 13.0);
    let labels: Vec<Vec<String>> = rows.iter().map(|r| size.lines(&r.label)).collect();
    let height = |lines: &Vec<String>| row_h + line_h * (lines.len() - 1) as f64;
    // Wide: room for the longest label, up to two fifths of the width.
    let longest = labels.iter().flatten().map(|line| text_width(line)).fold(0.0, f64::max);
    let left = if size == Size::Wide { (longest + 16.0).clamp(170.0, w * 0.4) } else { NARROW_LEFT };
    let h = 26.0 + labels.iter().map(height).sum::<f64>();
    let x = |v: f64| left + (w - left - right) * (v + 100.0) / 200.0;
    let mut svg = format!(
        r#"<svg class="chart dots" viewBox="0 0 {w} {h}" role="{}" aria-label="{}">"#,
        role(rows.iter().any(|r| r.href.is_some())),
        esc(t.text("chart.dots"))
    );
    for tick in [-100.0, -50.0, 0.0, 50.0, 100.0] {
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="14" y2="{h}" stroke="{}"/><text x="{x:.1}" y="11" text-anchor="middle" font-size="11">{tick:+.0}</text>"##,
            if tick == 0.0 { "#8795a8" } else { "#e3e7ed" },
            x = x(tick)
        );
    }
    let mut top = 26.0;
    for (DotRow { label, n, dots, href }, lines) in rows.iter().zip(&labels) {
        // The first line's baseline, and the dots level with the middle of the label.
        let first = top + row_h / 2.0 - 4.0;
        let cy = first + line_h * (lines.len() - 1) as f64 / 2.0;
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            let _ = write!(
                text,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{}</text>"#,
                left - LABEL_GAP,
                first + line_h * i as f64,
                esc(line)
            );
        }
        let _ = write!(
            text,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="{MUTED}">n = {n}</text>"#,
            left - LABEL_GAP,
            first + line_h * (lines.len() - 1) as f64 + 12.0
        );
        top += height(lines);
        svg.push_str(&linked(href.as_deref(), text));
        for (k, dot) in dots.iter().enumerate() {
            let Some(v) = dot.value else { continue };
            let dy = cy + (k as f64 - (dots.len() as f64 - 1.0) / 2.0) * 7.0;
            let colour = if k == 0 { INK } else { "#e76f51" };
            if let Some(iv) = dot.interval {
                let _ = write!(
                    svg,
                    r#"<line x1="{:.1}" x2="{:.1}" y1="{dy:.1}" y2="{dy:.1}" stroke="{colour}" stroke-width="2" stroke-opacity="0.5"/>"#,
                    x(iv.low),
                    x(iv.high)
                );
            }
            let fill = if dot.thin { "#fff" } else { colour };
            let about =
                [dot.interval.map(|iv| t.ci(iv, 0)), dot.thin.then(|| t.text("chart.too_few_to_rank").to_owned())];
            let about = about.into_iter().flatten().collect::<Vec<_>>().join(", ");
            let _ = write!(
                svg,
                r#"<circle class="point {}" cx="{:.1}" cy="{dy:.1}" r="4.5" fill="{fill}" stroke="{colour}" stroke-width="2"><title>{}, {}: NPS {}{}</title></circle>"#,
                dot.series,
                x(v),
                esc(label),
                esc(&t.word("series", dot.series)),
                signed(Some(v)),
                if about.is_empty() { String::new() } else { format!(" ({})", esc(&about)) }
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> Reader {
        Reader::english()
    }

    #[test]
    fn an_nps_that_rounds_to_zero_has_no_minus() {
        assert_eq!(
            [signed(Some(-0.4)), signed(Some(-0.6)), signed(Some(21.0)), signed(None)],
            ["+0", "-1", "+21", "–"]
        );
    }

    #[test]
    fn every_period_with_answers_is_one_point_and_labels_are_escaped() {
        let p = |nps: Option<f64>| TrendPoint {
            label: "<w>".into(),
            nps,
            interval: nps.map(|v| Interval { low: v - 10.0, high: v + 10.0 }),
            n: 3,
            caveat: None,
            href: None,
        };
        let svg = trend(en(), &[p(Some(10.0)), p(None), p(Some(-20.0))], &[(1.0, "a & b".into())], Size::Wide);
        assert_eq!(svg.matches("class=\"point\"").count(), 2);
        assert!(svg.contains("a &amp; b") && !svg.contains("<w>"));
        let hrefs: Vec<String> = (0..11).map(|s| format!("/dashboard/responses?score={s}&a=<")).collect();
        let bars = distribution(en(), &[1; 11], &hrefs, Size::Narrow);
        assert_eq!(bars.matches("class=\"bar\"").count(), 11);
        assert!(bars.contains(r#"<a href="/dashboard/responses?score=10&amp;a=&lt;"><rect class="bar""#), "{bars}");
        let plain = unlinked(&bars);
        assert!(!plain.contains("<a ") && !plain.contains("</a>") && plain.contains(r#"<rect class="bar""#), "{plain}");
    }

    #[test]
    fn a_running_or_thin_period_stands_apart_and_does_not_stretch_the_axis() {
        let p = |nps: f64, half: f64, caveat| TrendPoint {
            label: "m".into(),
            nps: Some(nps),
            interval: Some(Interval { low: nps - half, high: nps + half }),
            n: 3,
            caveat,
            href: None,
        };
        // Whole months near +10; the running one at +17 with a wide interval (−51 to +85).
        let svg = trend(
            en(),
            &[p(10.0, 8.0, None), p(12.0, 8.0, None), p(17.0, 68.0, Some("so far".to_string()))],
            &[],
            Size::Wide,
        );
        assert!(svg.contains(">+20<") && !svg.contains(">+40<") && !svg.contains(">-20<"), "axis from 0 to +20: {svg}");
        assert_eq!((svg.matches(r#"class="point""#).count(), svg.matches(r#"class="point hollow""#).count()), (2, 1));
        assert!(svg.contains(">so far<") && svg.contains("n = 3, 95% CI -51\u{a0}to\u{a0}+85, so far"));
        let line = &svg[svg.find("<polyline points=\"").unwrap()..];
        assert_eq!(
            line[..line.find("\" fill").unwrap()].matches(',').count(),
            2,
            "the line joins the whole months only"
        );
    }

    /// A narrow chart's row label is kept whole while it fits its column, else broken before
    /// a word onto two lines (Thai by its words), each within the column; only what two lines
    /// cannot hold is cut. Thai names that fit stay whole.
    #[test]
    fn narrow_row_labels_fit_their_column() {
        for name in ["เว็บไซต์และแอป", "การติดต่อสื่อสาร", "ฝ่ายบริการลูกค้า", "Staff attitude", "소통·후속 조치"]
        {
            assert_eq!(Size::Narrow.lines(name), [name]);
        }
        let lines = |name| Size::Narrow.lines(name);
        assert_eq!(lines("Communication and follow-up"), ["Communication", "and follow-up"]);
        assert_eq!(lines("การรอและความเร็ว"), ["การรอและ", "ความเร็ว"]);
        assert_eq!(lines("คืนเงิน คืนสินค้า ยกเลิก"), ["คืนเงิน คืนสินค้า", "ยกเลิก"]);
        assert_eq!(lines("고객지원 1팀 야간 상담조"), ["고객지원 1팀", "야간 상담조"]);
        // Too long for two lines: the second is cut; one word too long for a line, the first.
        let long = lines("Refunds, returns and cancellations of orders placed online");
        assert_eq!(long[0], "Refunds,");
        assert!(
            long[1].ends_with('…')
                && "returns and cancellations of orders placed online".starts_with(long[1].trim_end_matches('…'))
        );
        assert_eq!(lines("Supercalifragilisticexpialidocious"), ["Supercalifrag…"]);
        for name in [
            "Communication and follow-up",
            "คืนเงิน คืนสินค้า ยกเลิก",
            "Refunds, returns and cancellations of orders placed online",
        ] {
            assert!(lines(name).iter().all(|line| text_width(line) <= NARROW_LABEL), "{name}");
        }
        assert_eq!(Size::Wide.lines("Communication and follow-up"), ["Communication and follow-up"]);
    }

    /// A year of thin months (an agent's own view) labels what it has room for: its caveats
    /// wrote over each other, the axis, the annotation and the dates. The rest say it in their
    /// titles.
    #[test]
    fn crowded_caveats_never_overlap_other_text() {
        let month = |i: u32| TrendPoint {
            label: format!("2026-{i:02}"),
            nps: Some(if i.is_multiple_of(2) { 75.0 } else { 80.0 }),
            interval: Some(Interval { low: 20.0, high: 95.0 }),
            n: 4,
            caveat: Some("too few answers".into()),
            href: None,
        };
        let months: Vec<TrendPoint> = (1..=12).map(month).collect();
        for size in [Size::Wide, Size::Narrow] {
            let svg = trend(en(), &months, &[(7.5, "Launched live chat".into())], size);
            let texts: Vec<(&str, [f64; 4])> = svg
                .split("<text")
                .skip(1)
                .map(|tag| {
                    let number = |name| attribute(tag, name).unwrap().parse::<f64>().unwrap();
                    let words = &tag[tag.find('>').unwrap() + 1..tag.find("</text>").unwrap()];
                    let anchor = attribute(tag, "text-anchor").unwrap_or("start");
                    (words, TextBoxes::of(number("x"), number("y"), words, anchor))
                })
                .collect();
            let caveats = texts.iter().filter(|(words, _)| *words == "too few answers").count();
            assert!((1..12).contains(&caveats), "{size:?}: some labelled, not all: {caveats}");
            for (i, (a, x)) in texts.iter().enumerate() {
                for (b, y) in &texts[i + 1..] {
                    let apart = x[1] <= y[0] || y[1] <= x[0] || x[3] <= y[2] || y[3] <= x[2];
                    assert!(apart, "{size:?}: {a:?} {x:?} over {b:?} {y:?}");
                }
            }
            assert_eq!(svg.matches("4, 95% CI +20\u{a0}to\u{a0}+95, too few answers)</title>").count(), 12, "{svg}");
        }
    }

    /// WCAG contrast ratio of two `#rrggbb` colours.
    fn contrast(a: &str, b: &str) -> f64 {
        let luminance = |hex: &str| {
            let channel = |i: usize| {
                let c = f64::from(u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap()) / 255.0;
                if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
            };
            0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// The value of `name="…"` in an SVG tag, if any.
    fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(&tag[at..at + tag[at..].find('"')?])
    }

    /// Every chart's text reads at 4.5:1 or more against the white chart (text without a
    /// fill is black), and every bar and point at 3:1 (WCAG 1.4.3 and 1.4.11).
    #[test]
    fn chart_text_and_marks_keep_their_contrast() {
        let point =
            |caveat| TrendPoint { label: "Jan".into(), nps: Some(12.0), interval: None, n: 40, caveat, href: None };
        let dot = |series, thin| Dot { value: Some(20.0), interval: None, series, thin };
        let svgs = [Size::Wide, Size::Narrow].map(|size| {
            [
                distribution(en(), &[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], &[], size),
                trend(en(), &[point(None), point(Some("so far".to_string()))], &[(0.0, "Launched chat".into())], size),
                dot_rows(
                    en(),
                    &[DotRow {
                        label: "Billing".into(),
                        n: 12,
                        dots: vec![dot("agent", false), dot("company", true)],
                        href: Some("/dashboard/responses".into()),
                    }],
                    size,
                ),
            ]
        });
        let svgs = svgs.iter().flatten();
        let mut checked = 0;
        for svg in svgs {
            for tag in svg.split('<').skip(1) {
                let (needed, colour) = if tag.starts_with("text") {
                    (4.5, attribute(tag, "fill").unwrap_or("#000000"))
                } else if tag.starts_with("rect class=\"bar\"") || tag.starts_with("circle class=\"point") {
                    (3.0, attribute(tag, "fill").filter(|f| *f != "#fff").or(attribute(tag, "stroke")).unwrap())
                } else {
                    continue;
                };
                let ratio = contrast(colour, "#ffffff");
                assert!(ratio >= needed, "{colour} is {ratio:.2}:1 on white in <{tag}");
                checked += 1;
            }
        }
        assert!(checked > 30, "{checked}");
    }
}

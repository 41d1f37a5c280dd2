//! Cells of CSV files that people open in spreadsheets. A customer's comment that starts like a
//! formula (`=HYPERLINK(…)`, `@SUM(…)`, `-1+cmd|…`) would run when the export is opened, so it
//! is written with a leading apostrophe (OWASP's advice for CSV injection). Importing undoes
//! exactly that, so an export still imports back unchanged.

use std::borrow::Cow;

/// The cell as it is safe to write: a number or plain text as it is, anything a spreadsheet
/// would read as a formula behind an apostrophe. A cell that already starts with an
/// apostrophe gets one more, so [`restore`] can tell the two apart.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    if needs_quote(cell) { format!("'{cell}").into() } else { cell.into() }
}

/// The cell as it was before [`defuse`]: `restore(&defuse(x)) == x` for every `x`.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_quote(rest) => rest,
        _ => cell,
    }
}

fn needs_quote(cell: &str) -> bool {
    match cell.chars().next() {
        Some('=' | '@' | '\t' | '\r' | '\'') => true,
        // "-19" and "+13" are figures; "-1+cmd|…" and "+A1" are formulas.
        Some('+' | '-') => !is_figure(cell),
        _ => false,
    }
}

/// Written in digits ("inf" and "NaN" parse as numbers too, but a spreadsheet reads names).
fn is_figure(cell: &str) -> bool {
    cell.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E')) && cell.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formulas_are_defused_and_figures_kept() {
        assert_eq!(defuse("=HYPERLINK(\"http://x\",\"x\")"), "'=HYPERLINK(\"http://x\",\"x\")");
        assert_eq!(defuse("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(defuse("-1+cmd|' /C calc'!A0"), "'-1+cmd|' /C calc'!A0");
        assert_eq!(defuse("+A1"), "'+A1");
        assert_eq!(defuse("\t=1"), "'\t=1");
        assert_eq!(defuse("-cmd"), "'-cmd");
        assert_eq!(defuse("'twas late"), "''twas late");
        assert_eq!(defuse("-inf"), "'-inf");
        for kept in ["-19.0", "+13", "42", "Slow delivery", "", "a=b", "e-mail"] {
            assert_eq!(defuse(kept), kept);
        }
    }

    #[test]
    fn restore_takes_off_only_what_defuse_added() {
        assert_eq!(restore("'=1+1"), "=1+1");
        assert_eq!(restore("''twas late"), "'twas late");
        // Another tool's apostrophe before plain text is the customer's own.
        assert_eq!(restore("'twas late"), "'twas late");
        assert_eq!(restore("'-19"), "'-19");
    }

    proptest! {
        #[test]
        fn restore_undoes_defuse(cell in "['=+@\\t\\r-]{0,2}[a-z0-9 .'=+-]{0,6}") {
            let written = defuse(&cell);
            prop_assert_eq!(restore(&written), cell.as_str());
        }

        #[test]
        fn defused_cells_never_start_a_formula(cell in "\\PC{0,8}") {
            let out = defuse(&cell);
            let first = out.chars().next();
            prop_assert!(!matches!(first, Some('=' | '@' | '\t' | '\r')));
            if matches!(first, Some('+' | '-')) {
                prop_assert!(is_figure(&out), "{}", out);
            }
        }
    }
}

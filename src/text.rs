//! Quoting user input in one-line messages: numbers in a readable width, long text cut.

/// Longest text of a file that a message quotes (a cell, a column name, the header).
pub const QUOTE_CHARS: usize = 80;

/// `text`, cut to [`QUOTE_CHARS`] characters with `...` and the full length when longer.
pub fn quote(text: &str) -> String {
    match text.char_indices().nth(QUOTE_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}... ({} characters)", &text[..end], text.chars().count()),
    }
}

/// `a, b or c`: the names of a list for a message.
pub fn one_of(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The error of an unknown `what` named `s`, listing the valid `names`:
/// `unknown model 'cubic' (expected power, saturating or broken)`.
pub fn unknown(what: &str, s: &str, names: &[&str]) -> anyhow::Error {
    anyhow::anyhow!("unknown {what} '{s}' (expected {})", one_of(names))
}

/// The lines of `lines`, trimmed, blank ones left out, joined by `sep`: a text of several lines
/// (a library's error, the tail of a log) on one line of a message.
pub fn join_lines<'a>(lines: impl Iterator<Item = &'a str>, sep: &str) -> String {
    lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(sep)
}

/// A number for a message: as Rust prints it when that is short (`0.1`, `250000`, `-3`), else
/// in scientific notation (`1e308`, `1.5e-9`), so that `1e308` is not echoed as 309 digits.
pub fn number(v: f64) -> String {
    let plain = v.to_string();
    if plain.len() <= 16 {
        plain
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(one_of(&[]), "");
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b"]), "a or b");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(250000.0), "250000");
        assert_eq!(number(1e308), "1e308");
        assert_eq!(number(-1.5e-300), "-1.5e-300");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "inf");
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(quote("abc"), "abc");
        let long = "é".repeat(100);
        assert_eq!(
            quote(&long),
            format!("{}... (100 characters)", "é".repeat(80))
        );
    }
}

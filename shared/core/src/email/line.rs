//! One-line text from data, safe for a header and for a line of the body.

/// Whether `c` must not survive into a header or a body line: control characters
/// (CR and LF would start a new header or a forged line; TAB folds), any other
/// whitespace but the no-break spaces of French typography (Unicode line and
/// paragraph separators break lines too), and the bidi overrides and isolates
/// that would make text display differently from what it says.
fn breaks_the_line(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && !matches!(c, '\u{A0}' | '\u{202F}'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `value` on one line: every control character and whitespace run becomes one
/// space, and the ends are trimmed.
pub(crate) fn single_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut gap = false;
    for c in value.chars() {
        if breaks_the_line(c) {
            gap = true;
            continue;
        }
        if gap && !out.is_empty() {
            out.push(' ');
        }
        gap = false;
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_whitespace_runs_become_one_space() {
        assert_eq!(
            single_line(" Camille\r\nBcc: evil@example.com\t\u{0}x "),
            "Camille Bcc: evil@example.com x"
        );
        assert_eq!(single_line("a\u{2028}b\u{85}c\u{3000} d"), "a b c d");
        assert_eq!(
            single_line("Réf.\u{A0}R7K2 :\u{202F}x"),
            "Réf.\u{A0}R7K2 :\u{202F}x"
        );
    }

    #[test]
    fn bidi_overrides_are_removed_and_letters_kept() {
        assert_eq!(single_line("abc\u{202E}fdp.exe"), "abc fdp.exe");
        assert_eq!(single_line("Nguyễn Thị Minh"), "Nguyễn Thị Minh");
        assert_eq!(single_line("\r\n\t"), "");
    }
}

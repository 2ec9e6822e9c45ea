//! Line breaking by measured width: at spaces, never before French high
//! punctuation or after an opening guillemet, and inside a word only when the word
//! alone is wider than the line (a long barcode, a URL).

use super::fonts::Face;

/// Breaks `text` into lines no wider than `width` points at `size`; an empty text
/// gives no line.
pub(super) fn wrap(face: &Face, text: &str, size: f32, width: f32) -> Vec<String> {
    let space = face.width(" ", size);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_width = 0.0;
    for word in words(text) {
        let word_width = face.width(&word, size);
        if line.is_empty() {
            // Nothing to carry over: the word starts the line, cut if it must be.
        } else if line_width + space + word_width <= width {
            line.push(' ');
            line.push_str(&word);
            line_width += space + word_width;
            continue;
        } else {
            lines.push(std::mem::take(&mut line));
        }
        if word_width <= width {
            line = word;
            line_width = word_width;
        } else {
            let mut pieces = cut(face, &word, size, width);
            let last = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
            line_width = face.width(&last, size);
            line = last;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Words separated by whitespace, with `:` `;` `!` `?` `»` glued to the word
/// before and `«` to the word after, as French typography wants.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut glue_next = false;
    for token in text.split_whitespace() {
        let glue_previous = matches!(token, ":" | ";" | "!" | "?" | "»");
        match words.last_mut() {
            Some(last) if glue_next || glue_previous => {
                last.push(' ');
                last.push_str(token);
            }
            _ => words.push(token.to_owned()),
        }
        glue_next = token == "«";
    }
    words
}

/// Cuts a word wider than the line between characters.
fn cut(face: &Face, word: &str, size: f32, width: f32) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut piece_width = 0.0;
    for c in word.chars() {
        let mut buf = [0u8; 4];
        let w = face.width(c.encode_utf8(&mut buf), size);
        // A piece always takes at least one character, so a very narrow column still ends.
        if !piece.is_empty() && piece_width + w > width {
            pieces.push(std::mem::take(&mut piece));
            piece_width = 0.0;
        }
        piece.push(c);
        piece_width += w;
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::super::fonts::Weight;
    use super::*;

    #[test]
    fn lines_fit_their_width_and_keep_every_word() {
        let face = Weight::Regular.face();
        let text =
            "Histoire de la bibliothèque universitaire de Bordeaux, des origines à nos jours";
        let lines = wrap(face, text, 10.0, 100.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| face.width(l, 10.0) <= 100.0));
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_between_characters() {
        let face = Weight::Regular.face();
        let lines = wrap(face, "33000012345678901234567890", 8.0, 40.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "33000012345678901234567890");
        assert!(lines.iter().all(|l| face.width(l, 8.0) <= 40.0));
    }

    #[test]
    fn french_high_punctuation_never_starts_a_line() {
        let face = Weight::Regular.face();
        let text = "Objet : « Dernier rappel » ; merci !";
        for width in [60.0, 80.0, 100.0, 120.0] {
            for line in wrap(face, text, 10.0, width) {
                assert!(!line.starts_with([':', ';', '!', '»']), "{line:?}");
                assert!(!line.ends_with('«'), "{line:?}");
            }
        }
        assert!(wrap(face, "   ", 10.0, 50.0).is_empty());
    }
}

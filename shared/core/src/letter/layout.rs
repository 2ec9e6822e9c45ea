//! Places the parts of a letter on A4 pages, once: the result is a list of
//! positioned marks per page that is then written to the letter's own PDF and to
//! its library's batch.

use super::compose::LetterText;
use super::fonts::Weight;
use super::page::{
    Block, Flow, LEFT, MM, Mark, RIGHT, SMALL, Style, TextMark, WINDOW_LEFT, WINDOW_TOP,
    WINDOW_WIDTH,
};
use super::table;
use super::wording::fill;
use super::wrap::wrap;

const LETTERHEAD_TOP: f32 = 15.0 * MM;
const LETTERHEAD_WIDTH: f32 = 80.0 * MM;
/// Between the left margin and the window column.
const LEFT_COLUMN_WIDTH: f32 = WINDOW_LEFT - LEFT - 5.0 * MM;

const BODY: Style = Style {
    size: 9.5,
    weight: Weight::Regular,
    leading: 13.0,
};
const BODY_BOLD: Style = Style {
    weight: Weight::Bold,
    ..BODY
};
const LIBRARY: Style = Style {
    size: 11.0,
    weight: Weight::Bold,
    leading: 14.0,
};
const ADDRESS: Style = Style {
    size: 10.0,
    weight: Weight::Regular,
    leading: 13.0,
};
const SUBJECT: Style = Style {
    size: 10.5,
    weight: Weight::Bold,
    leading: 14.0,
};

/// A letter laid out: its pages' marks, and where the address went (for the tests
/// and anyone checking the window).
pub(super) struct LetterLayout {
    pub pages: Vec<Vec<Mark>>,
    #[cfg(test)]
    pub address: Block,
}

/// Lays out a letter.
pub(super) fn lay_out(letter: &LetterText) -> LetterLayout {
    let mut flow = Flow::new(&letter.continued);
    let width = RIGHT - LEFT;

    flow.y = LETTERHEAD_TOP;
    flow.paragraph(
        LEFT,
        LETTERHEAD_WIDTH,
        SMALL,
        &letter.letterhead_institution,
    );
    flow.paragraph(LEFT, LETTERHEAD_WIDTH, LIBRARY, &letter.letterhead_library);
    for line in &letter.letterhead_lines {
        flow.paragraph(LEFT, LETTERHEAD_WIDTH, SMALL, line);
    }
    let letterhead_bottom = flow.y;

    flow.y = WINDOW_TOP;
    for line in &letter.address {
        flow.paragraph(WINDOW_LEFT, WINDOW_WIDTH, ADDRESS, line);
    }
    let address = Block {
        x: WINDOW_LEFT,
        top: WINDOW_TOP,
        width: WINDOW_WIDTH,
        bottom: flow.y,
    };

    // Date on the right under the window, references on the left on the same line.
    let dated = (address.bottom + 8.0 * MM).max(90.0 * MM);
    flow.y = dated;
    flow.paragraph(WINDOW_LEFT, RIGHT - WINDOW_LEFT, BODY, &letter.date_line);
    let after_date = flow.y;
    flow.y = dated.max(letterhead_bottom + 4.0 * MM);
    flow.paragraph(LEFT, LEFT_COLUMN_WIDTH, SMALL, &letter.reference);
    flow.paragraph(LEFT, LEFT_COLUMN_WIDTH, SMALL, &letter.patron_number);

    flow.y = flow.y.max(after_date) + 5.0 * MM;
    flow.paragraph(LEFT, width, SUBJECT, &letter.subject);
    flow.y += 5.0 * MM;
    flow.paragraph(LEFT, width, BODY, &letter.salutation);
    for paragraph in &letter.body {
        flow.y += 2.5 * MM;
        flow.paragraph(LEFT, width, BODY, paragraph);
    }

    flow.y += 4.0 * MM;
    table::items(&mut flow, &letter.columns, &letter.rows);

    flow.y += 5.0 * MM;
    flow.paragraph(LEFT, width, BODY, letter.already_returned);
    closing(&mut flow, letter);

    number_pages(&mut flow.pages, letter.page_template);
    LetterLayout {
        pages: flow.pages,
        #[cfg(test)]
        address,
    }
}

/// How to return or get in touch, the closing and the signature: kept on one page.
fn closing(flow: &mut Flow<'_>, letter: &LetterText) {
    let width = RIGHT - LEFT;
    let lines = |text: &str| wrap(BODY.weight.face(), text, BODY.size, width).len() as f32;
    let contact: f32 = letter.contact_lines.iter().map(|l| lines(l)).sum();
    let text_lines = 1.0 + contact + lines(&letter.quote_reference) + lines(letter.closing);
    let signature_lines = letter.signature.len() as f32;
    let height = BODY.leading * (text_lines + signature_lines) + (5.0 + 6.0) * MM;

    flow.y += 4.0 * MM;
    flow.ensure(height);
    flow.paragraph(LEFT, width, BODY_BOLD, letter.contact_heading);
    for line in &letter.contact_lines {
        flow.paragraph(LEFT, width, BODY, line);
    }
    flow.paragraph(LEFT, width, BODY, &letter.quote_reference);
    flow.y += 5.0 * MM;
    flow.paragraph(LEFT, width, BODY, letter.closing);
    flow.y += 6.0 * MM;
    for (i, line) in letter.signature.iter().enumerate() {
        let style = if i == 0 { BODY_BOLD } else { BODY };
        flow.paragraph(WINDOW_LEFT, RIGHT - WINDOW_LEFT, style, line);
    }
}

/// "Page 1/3" at the foot of each page of a letter longer than one page.
fn number_pages(pages: &mut [Vec<Mark>], template: &str) {
    let total = pages.len();
    if total < 2 {
        return;
    }
    let face = Weight::Regular.face();
    for (i, page) in pages.iter_mut().enumerate() {
        let text = fill(
            template,
            &[
                ("page", &(i + 1).to_string()),
                ("pages", &total.to_string()),
            ],
        );
        let x = RIGHT - face.width(&text, SMALL.size);
        page.push(Mark::Text(TextMark {
            x,
            baseline: 285.0 * MM,
            size: SMALL.size,
            weight: Weight::Regular,
            text,
        }));
    }
}

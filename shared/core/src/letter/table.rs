//! The table of the items: cells wrap within their column, a row is never cut
//! across pages (unless it is taller than a whole page), and the heading row is
//! repeated on each page the table continues on.

use super::compose::ItemRow;
use super::fonts::Weight;
use super::page::{BOTTOM, CONTINUED_TOP, Flow, LEFT, MM, Mark};
use super::wrap::wrap;

/// Column widths in millimetres: title, author, barcode, call number, due date,
/// days overdue; 170 mm in all, the width between the margins. The barcode column
/// holds 14 digits on one line.
const WIDTHS_MM: [f32; 6] = [54.0, 28.0, 29.0, 22.0, 21.0, 16.0];
const PAD_X: f32 = 1.5 * MM;
const PAD_Y: f32 = 1.2 * MM;
const SIZE: f32 = 8.0;
const LEADING: f32 = 10.0;
const HEADING_SIZE: f32 = 7.5;
const HEADING_LEADING: f32 = 9.5;
/// The days-overdue column: numbers read best aligned right.
const NUMERIC: usize = 5;

/// Wrapped cells of one row and the height of each of its lines.
struct Row {
    cells: Vec<Vec<String>>,
    lines: usize,
}

impl Row {
    fn wrap(texts: &[impl AsRef<str>], weight: Weight, size: f32) -> Self {
        let cells: Vec<Vec<String>> = texts
            .iter()
            .zip(columns())
            .map(|(text, (_, width))| wrap(weight.face(), text.as_ref(), size, width - 2.0 * PAD_X))
            .collect();
        let lines = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        Self { cells, lines }
    }
}

/// Left edge and width of each column, in points.
fn columns() -> impl Iterator<Item = (f32, f32)> {
    WIDTHS_MM.iter().scan(LEFT, |x, mm| {
        let left = *x;
        *x += mm * MM;
        Some((left, mm * MM))
    })
}

fn table_width() -> f32 {
    WIDTHS_MM.iter().sum::<f32>() * MM
}

/// Lays out the table at the flow's position, continuing on new pages as needed.
pub(super) fn items(flow: &mut Flow<'_>, headings: &[&str; 6], rows: &[ItemRow]) {
    let heading = Row::wrap(headings, Weight::Bold, HEADING_SIZE);
    let heading_height = heading.lines as f32 * HEADING_LEADING + 2.0 * PAD_Y;
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| Row::wrap(r, Weight::Regular, SIZE))
        .collect();

    // The heading never stands alone at the foot of a page.
    let first = rows.first().map_or(0, |r| r.lines) as f32 * LEADING + 2.0 * PAD_Y;
    flow.ensure(heading_height + first.min(BOTTOM - CONTINUED_TOP - heading_height));
    draw_heading(flow, &heading, heading_height);

    for row in &rows {
        let mut done = 0;
        while done < row.lines {
            let fit = ((BOTTOM - flow.y - 2.0 * PAD_Y) / LEADING).floor().max(0.0) as usize;
            let left = row.lines - done;
            // A row that fits on a fresh page moves there whole; only a row taller
            // than a page is split, line by line.
            let fresh_page_fits =
                left as f32 * LEADING + 2.0 * PAD_Y <= BOTTOM - CONTINUED_TOP - heading_height;
            if fit < left && (fresh_page_fits || fit == 0) {
                flow.break_page();
                draw_heading(flow, &heading, heading_height);
                continue;
            }
            let take = fit.min(left);
            draw_lines(flow, row, done, take, Weight::Regular, SIZE, LEADING);
            done += take;
        }
    }
}

fn draw_heading(flow: &mut Flow<'_>, heading: &Row, height: f32) {
    flow.push(Mark::Shade {
        x: LEFT,
        y: flow.y,
        width: table_width(),
        height,
    });
    draw_lines(
        flow,
        heading,
        0,
        heading.lines,
        Weight::Bold,
        HEADING_SIZE,
        HEADING_LEADING,
    );
}

/// Draws lines `from..from + count` of each cell, then the rule under them.
fn draw_lines(
    flow: &mut Flow<'_>,
    row: &Row,
    from: usize,
    count: usize,
    weight: Weight,
    size: f32,
    leading: f32,
) {
    let top = flow.y + PAD_Y;
    for (column, (cell, (x, width))) in row.cells.iter().zip(columns()).enumerate() {
        for (i, line) in cell.iter().skip(from).take(count).enumerate() {
            let x = if column == NUMERIC {
                x + width - PAD_X - weight.face().width(line, size)
            } else {
                x + PAD_X
            };
            flow.text(x, top + i as f32 * leading, size, weight, line.clone());
        }
    }
    flow.y += count as f32 * leading + 2.0 * PAD_Y;
    flow.push(Mark::Rule {
        x1: LEFT,
        y1: flow.y,
        x2: LEFT + table_width(),
        y2: flow.y,
    });
}

//! The A4 page and what is drawn on it: its geometry, the marks, and content
//! flowing down pages with a running head. The letter's layout and its table of
//! items both draw through it. Points throughout, origin top left, y down (as
//! krilla).

use super::fonts::Weight;
use super::wrap::wrap;

/// Points per millimetre.
pub(super) const MM: f32 = 72.0 / 25.4;
/// A4.
pub(super) const PAGE_WIDTH: f32 = 210.0 * MM;
/// A4.
pub(super) const PAGE_HEIGHT: f32 = 297.0 * MM;
pub(super) const LEFT: f32 = 20.0 * MM;
pub(super) const RIGHT: f32 = 190.0 * MM;
/// Lower limit of the flowing content; the page number sits below it.
pub(super) const BOTTOM: f32 = 275.0 * MM;
/// Where the content of continuation pages starts, under their running head.
pub(super) const CONTINUED_TOP: f32 = 22.0 * MM;
/// The window of a French DL envelope, window on the right (rules §8): the first
/// address line's top sits 46 mm down, 110 mm from the left, at most 90 mm wide.
pub(super) const WINDOW_LEFT: f32 = 110.0 * MM;
pub(super) const WINDOW_TOP: f32 = 46.0 * MM;
pub(super) const WINDOW_WIDTH: f32 = 90.0 * MM;

/// Size, weight and line height of a kind of text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub size: f32,
    pub weight: Weight,
    pub leading: f32,
}

pub(super) const SMALL: Style = Style {
    size: 8.5,
    weight: Weight::Regular,
    leading: 11.0,
};
/// A line of text: `baseline` is where krilla puts the glyphs' origin.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TextMark {
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub weight: Weight,
    pub text: String,
}

/// Something drawn on a page.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Mark {
    Text(TextMark),
    /// A thin grey line.
    Rule {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
    },
    /// A light grey background (the table's heading row).
    Shade {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
    },
}

/// A rectangle, in points from the top-left corner of the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Block {
    pub x: f32,
    pub top: f32,
    pub width: f32,
    pub bottom: f32,
}

/// Content flowing down pages: a new page, with a running head, whenever the next
/// line does not fit.
pub(super) struct Flow<'t> {
    pub pages: Vec<Vec<Mark>>,
    /// Top of the next line.
    pub y: f32,
    running_head: &'t str,
}

impl<'t> Flow<'t> {
    pub fn new(running_head: &'t str) -> Self {
        Self {
            pages: vec![Vec::new()],
            y: 0.0,
            running_head,
        }
    }

    pub fn push(&mut self, mark: Mark) {
        self.pages
            .last_mut()
            .expect("a flow always has a page")
            .push(mark);
    }

    pub fn text(&mut self, x: f32, top: f32, size: f32, weight: Weight, text: String) {
        let baseline = top + weight.face().ascent * size;
        self.push(Mark::Text(TextMark {
            x,
            baseline,
            size,
            weight,
            text,
        }));
    }

    /// Starts a page headed by the patron's name and the reference, so that a
    /// loose page of the batch finds its letter.
    pub fn break_page(&mut self) {
        self.pages.push(Vec::new());
        let head = self.running_head.to_owned();
        self.text(LEFT, 12.0 * MM, SMALL.size, SMALL.weight, head);
        self.y = CONTINUED_TOP;
    }

    /// Starts a new page unless `height` more points fit on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.break_page();
        }
    }

    pub fn paragraph(&mut self, x: f32, width: f32, style: Style, text: &str) {
        for line in wrap(style.weight.face(), text, style.size, width) {
            self.ensure(style.leading);
            self.text(x, self.y, style.size, style.weight, line);
            self.y += style.leading;
        }
    }
}

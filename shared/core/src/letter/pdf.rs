//! Writes laid-out pages into a krilla document.

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;

use super::LetterError;
use super::fonts::PlacedGlyph;
use super::page::{Mark, PAGE_HEIGHT, PAGE_WIDTH};

/// A document being written, with the glyph buffer its text runs reuse.
pub(super) struct PdfWriter {
    document: Document,
    glyphs: Vec<PlacedGlyph>,
}

impl PdfWriter {
    /// An empty document titled `title`, in `language` (a BCP 47 code).
    pub fn new(title: String, language: &str) -> Self {
        let mut document = Document::new();
        document.set_metadata(Metadata::new().title(title).language(language.to_owned()));
        Self {
            document,
            glyphs: Vec::new(),
        }
    }

    /// Appends pages.
    pub fn add_pages(&mut self, pages: &[Vec<Mark>]) {
        let settings =
            PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
        for marks in pages {
            let mut page = self.document.start_page_with(settings.clone());
            let mut surface = page.surface();
            for mark in marks {
                draw(&mut surface, mark, &mut self.glyphs);
            }
            surface.finish();
            page.finish();
        }
    }

    /// The PDF bytes (fonts subset here).
    pub fn finish(self) -> Result<Vec<u8>, LetterError> {
        self.document.finish().map_err(|source| LetterError::Pdf {
            message: format!("{source:?}"),
            source,
        })
    }
}

fn draw(surface: &mut Surface<'_>, mark: &Mark, glyphs: &mut Vec<PlacedGlyph>) {
    match mark {
        Mark::Text(text) => {
            let face = text.weight.face();
            face.glyphs_into(&text.text, glyphs);
            surface.draw_glyphs(
                Point::from_xy(text.x, text.baseline),
                glyphs,
                text.weight.font(),
                &text.text,
                text.size,
                false,
            );
        }
        Mark::Rule { x1, y1, x2, y2 } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y1);
            path.line_to(*x2, *y2);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: luma::Color::new(150).into(),
                    width: 0.4,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                // Text is drawn with the default fill only when neither is set.
                surface.set_stroke(None);
            }
        }
        Mark::Shade {
            x,
            y,
            width,
            height,
        } => {
            let path = Rect::from_xywh(*x, *y, *width, *height).and_then(|rect| {
                let mut path = PathBuilder::new();
                path.push_rect(rect);
                path.finish()
            });
            if let Some(path) = path {
                surface.set_fill(Some(Fill {
                    paint: luma::Color::new(232).into(),
                    ..Fill::default()
                }));
                surface.draw_path(&path);
                surface.set_fill(None);
            }
        }
    }
}

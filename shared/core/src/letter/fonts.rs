//! The embedded DejaVu Sans faces: loaded once, measured from their glyph advances,
//! and turned into glyph runs for krilla. No shaping engine: Latin text needs none,
//! and measuring with the same advances that are written keeps wrapping exact.

use std::ops::Range;
use std::sync::LazyLock;

use krilla::surface::Location;
use krilla::text::{Font, Glyph, GlyphId};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Code points below this are looked up once, when the face is loaded.
const TABLE_SIZE: usize = 0x3000;

static REGULAR: LazyLock<Face> = LazyLock::new(|| Face::load(REGULAR_TTF));
static BOLD: LazyLock<Face> = LazyLock::new(|| Face::load(BOLD_TTF));

thread_local! {
    /// krilla clones a font's reference count for every glyph it writes: one instance
    /// per thread keeps the threads of a batch from contending on a shared count.
    static FONTS: [Font; 2] = [REGULAR_TTF, BOLD_TTF]
        .map(|data| Font::new(data.into(), 0).expect("krilla reads the embedded font"));
}

/// Which of the two embedded faces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    pub(super) fn face(self) -> &'static Face {
        match self {
            Self::Regular => &REGULAR,
            Self::Bold => &BOLD,
        }
    }

    /// The krilla font, for drawing.
    pub(super) fn font(self) -> Font {
        FONTS.with(|fonts| fonts[self as usize].clone())
    }
}

/// A face ready for measuring and turning text into glyphs.
pub(super) struct Face {
    charmap: skrifa::charmap::Charmap<'static>,
    metrics: skrifa::metrics::GlyphMetrics<'static>,
    /// Glyph id and advance (in em) of the common code points.
    table: Vec<(u16, f32)>,
    upem: f32,
    /// Ascender, in em.
    pub(super) ascent: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Self {
        let font_ref = FontRef::new(data).expect("the embedded font is a valid TrueType font");
        let metrics = font_ref.metrics(Size::unscaled(), LocationRef::default());
        let upem = f32::from(metrics.units_per_em);
        let mut face = Self {
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(Size::unscaled(), LocationRef::default()),
            table: Vec::new(),
            upem,
            ascent: metrics.ascent / upem,
        };
        face.table = (0..TABLE_SIZE as u32)
            .map(|cp| char::from_u32(cp).map_or((0, 0.0), |c| face.lookup(c)))
            .collect();
        face
    }

    fn lookup(&self, c: char) -> (u16, f32) {
        let gid = self.charmap.map(c).unwrap_or_default();
        let advance = self.metrics.advance_width(gid).unwrap_or_default() / self.upem;
        // DejaVu has fewer than 65,536 glyphs: the id always fits.
        (u16::try_from(gid.to_u32()).unwrap_or(0), advance)
    }

    fn glyph(&self, c: char) -> (u16, f32) {
        match self.table.get(c as usize) {
            Some(&entry) => entry,
            None => self.lookup(c),
        }
    }

    /// Whether the face has a glyph for `c` (else it is drawn as a box, but still extractable).
    #[cfg(test)]
    pub(super) fn covers(&self, c: char) -> bool {
        self.glyph(c).0 != 0
    }

    /// The width of `text` set at `size` points.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// Fills `out` with one glyph per character of `text`, each pointing back to its
    /// bytes so that the PDF's ToUnicode map gives the text back.
    pub(super) fn glyphs_into(&self, text: &str, out: &mut Vec<PlacedGlyph>) {
        out.clear();
        out.extend(text.char_indices().map(|(start, c)| {
            let (id, advance) = self.glyph(c);
            PlacedGlyph {
                id,
                advance,
                start: start as u32,
                len: c.len_utf8() as u8,
            }
        }));
    }
}

/// A glyph of a run: id, advance in em, and the character it stands for.
#[derive(Debug, Clone, Copy)]
pub(super) struct PlacedGlyph {
    id: u16,
    advance: f32,
    start: u32,
    len: u8,
}

impl Glyph for PlacedGlyph {
    fn glyph_id(&self) -> GlyphId {
        GlyphId::new(u32::from(self.id))
    }

    fn text_range(&self) -> Range<usize> {
        let start = self.start as usize;
        start..start + usize::from(self.len)
    }

    fn x_advance(&self, size: f32) -> f32 {
        self.advance * size
    }

    fn x_offset(&self, _size: f32) -> f32 {
        0.0
    }

    fn y_offset(&self, _size: f32) -> f32 {
        0.0
    }

    fn y_advance(&self, _size: f32) -> f32 {
        0.0
    }

    fn location(&self) -> Option<Location> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faces_cover_french_and_other_latin_scripts() {
        for c in "éèàçœ«»’€ŁłễỄëÆ–—…".chars() {
            assert!(Weight::Regular.face().covers(c), "regular lacks {c}");
            assert!(Weight::Bold.face().covers(c), "bold lacks {c}");
        }
    }

    #[test]
    fn width_grows_with_size_and_bold_is_wider() {
        let face = Weight::Regular.face();
        let w10 = face.width("Bibliothèque", 10.0);
        assert!((face.width("Bibliothèque", 20.0) - 2.0 * w10).abs() < 0.01);
        assert!(Weight::Bold.face().width("Bibliothèque", 10.0) > w10);
        assert_eq!(face.width("", 10.0), 0.0);
    }
}

//! Letters: the print-ready PDF of a letter notice and the daily print batch of a library.
//!
//! A letter is A4 for a French DL window envelope (window on the right, rules §8):
//! the patron's name and address in the window, the library's letterhead, place and
//! date, reference, subject, body, a table of the items that wraps long titles and
//! continues on further pages, how to return or get in touch, and the generic
//! service's signature. A letter at a reminder stage is the print fallback of that
//! reminder and carries its wording; a letter at the letter stage is the final one.
//!
//! Each letter is laid out once and written both to its own PDF and to the batch.
//! Text is set in DejaVu Sans, embedded as a subset with a ToUnicode map, so that
//! `pdftotext` gives it back with every accent.

mod batch;
mod compose;
mod fonts;
mod layout;
mod page;
mod pdf;
mod table;
mod wording;
mod wrap;

#[cfg(test)]
mod tests;

use chrono::NaiveDate;

use crate::config::Config;
use crate::ladder::Stage;
use crate::model::{Loan, Patron};
use crate::notice::Notice;

pub use batch::{BatchPart, PrintBatch, batch_order, render_batch, render_batch_in_parts};

/// Everything a letter is rendered from.
#[derive(Debug, Clone, Copy)]
pub struct LetterView<'a> {
    /// Institution, sender and the libraries (the letterhead is the notice's library).
    pub config: &'a Config,
    /// The letter notice: `channel` letter, `library` set, its reference.
    pub notice: &'a Notice,
    /// The notice's stage: a reminder for a print fallback, else the letter stage.
    pub stage: &'a Stage,
    pub patron: &'a Patron,
    /// The loans listed, still open, in listing order.
    pub loans: &'a [Loan],
    /// The day it is printed: the date line, and days overdue are counted to it.
    pub send_day: NaiveDate,
}

/// One letter as a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLetter {
    /// The PDF file.
    pub pdf: Vec<u8>,
    /// Its number of pages.
    pub pages: usize,
}

/// Why a letter or a batch could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// The notice is an email, or has no library to print it.
    #[error("notice {reference} is not a letter to a library")]
    NotALetter {
        /// The notice's reference.
        reference: String,
    },
    /// Courtesy notices are emails only and never printed (rules §5).
    #[error("stage {stage} is a courtesy stage, which is never printed")]
    CourtesyStage {
        /// The stage's name.
        stage: String,
    },
    /// The notice's library is not in the config.
    #[error("library {code} is not in the configuration")]
    UnknownLibrary {
        /// The library code.
        code: String,
    },
    /// A notice left with no loan is cancelled, never printed (rules §5).
    #[error("notice {reference} lists no open loan")]
    NoLoans {
        /// The notice's reference.
        reference: String,
    },
    /// A letter without a postal address cannot be posted.
    #[error("patron {patron} has no postal address")]
    NoPostalAddress {
        /// The patron's id.
        patron: String,
    },
    /// A batch with no letter, or with letters of more than one library.
    #[error("a print batch needs letters of exactly one library: {0}")]
    Batch(String),
    /// The PDF writer failed (unexpected: the fonts are embedded and checked).
    #[error("writing the PDF: {message}")]
    Pdf {
        /// The writer's error as it debug-prints, which says more than its text.
        message: String,
        /// The writer's error.
        #[source]
        source: krilla::error::KrillaError,
    },
    /// Writing the manifest failed (unexpected: it is written in memory).
    #[error("writing the manifest: {source}")]
    Manifest {
        /// The CSV writer's error.
        #[source]
        source: csv::Error,
    },
}

/// Whether the view can be rendered, without rendering it: a batch fails on its
/// first bad letter, so a caller may set such notices aside first.
pub fn check_letter(view: &LetterView<'_>) -> Result<(), LetterError> {
    compose::check(view).map(|_| ())
}

/// Renders one letter as its own PDF.
pub fn render_letter(view: &LetterView<'_>) -> Result<RenderedLetter, LetterError> {
    Prepared::new(view)?.write_alone()
}

/// A letter worded and laid out, ready to be written to any number of PDFs.
struct Prepared {
    layout: layout::LetterLayout,
    title: String,
    language: &'static str,
}

impl Prepared {
    fn new(view: &LetterView<'_>) -> Result<Self, LetterError> {
        let letter = compose::compose(view)?;
        Ok(Self {
            layout: layout::lay_out(&letter),
            title: letter.title,
            language: letter.language,
        })
    }

    fn pages(&self) -> usize {
        self.layout.pages.len()
    }

    fn write_alone(&self) -> Result<RenderedLetter, LetterError> {
        let mut writer = pdf::PdfWriter::new(self.title.clone(), self.language);
        writer.add_pages(&self.layout.pages);
        Ok(RenderedLetter {
            pdf: writer.finish()?,
            pages: self.pages(),
        })
    }
}

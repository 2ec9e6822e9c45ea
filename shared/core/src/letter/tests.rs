//! Tests of the letter module: the PDFs are read back with pdf-extract, character
//! by character with their positions, as a reader's `pdftotext` would see them.

mod batch;
mod letter;
mod position;

use chrono::{NaiveDate, TimeZone, Utc};

use crate::config::Config;
use crate::ids::{LibraryCode, LoanId, PatronId, StageName};
use crate::ladder::{Channel, Stage};
use crate::model::{EmailStatus, Item, Language, Loan, Patron, PostalAddress};
use crate::notice::{Notice, NoticeLoan};

use super::LetterView;

pub(super) const CONFIG: &str = crate::testing::INSTITUTION;

pub(super) fn send_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

pub(super) fn patron(id: &str, name: &str, language: Option<Language>) -> Patron {
    Patron {
        id: PatronId::parse(id).unwrap(),
        full_name: name.to_owned(),
        email: None,
        email_status: EmailStatus::Deliverable,
        address: PostalAddress {
            line1: "12 rue Sainte-Catherine".into(),
            line2: "Appartement 3".into(),
            postcode: "33000".into(),
            city: "Bordeaux".into(),
            country: String::new(),
        },
        language,
        courtesy_opt_out: false,
    }
}

/// Loan `n` of the patron, due 35 days before the send day.
pub(super) fn loan(patron: &Patron, n: usize, title: &str) -> Loan {
    let due_date = send_day() - chrono::Days::new(35);
    Loan {
        id: LoanId::parse(&format!("L{n:04}")).unwrap(),
        patron_id: patron.id.clone(),
        library: LibraryCode::parse("STS").unwrap(),
        item: Item {
            barcode: format!("3300001234{n:04}"),
            title: title.to_owned(),
            author: "Dupont, Marie".to_owned(),
            call_number: format!("530.1 DUP {n}"),
        },
        loaned_at: None,
        due_at: Utc.from_utc_datetime(&due_date.and_hms_opt(22, 59, 59).unwrap()),
        due_date,
        returned_at: None,
    }
}

/// Everything a letter view borrows.
pub(super) struct Fixture {
    pub config: Config,
    pub notice: Notice,
    pub stage: Stage,
    pub patron: Patron,
    pub loans: Vec<Loan>,
}

impl Fixture {
    /// A letter of library `STS` at stage `stage` for `patron`.
    pub fn new(stage: &str, patron: Patron, loans: Vec<Loan>) -> Self {
        let config = Config::parse(CONFIG).unwrap();
        let stage = config
            .ladder
            .get(&StageName::parse(stage).unwrap())
            .unwrap()
            .clone();
        let library = LibraryCode::parse("STS").unwrap();
        let id = Notice::letter_id(&patron.id, &library, send_day());
        let notice_loans = loans
            .iter()
            .map(|l| NoticeLoan {
                loan_id: l.id.clone(),
                due_date: l.due_date,
                stage: stage.name.clone(),
            })
            .collect();
        let notice = Notice::pending(
            id,
            send_day(),
            patron.id.clone(),
            Channel::Letter,
            stage.name.clone(),
            Some(library),
            notice_loans,
        );
        Self {
            config,
            notice,
            stage,
            patron,
            loans,
        }
    }

    /// A final letter to Camille Martin for two items.
    pub fn camille() -> Self {
        let camille = patron("P000123", "Camille Martin", None);
        let loans = vec![
            loan(&camille, 1, "Introduction à la physique quantique"),
            loan(&camille, 2, "Thermodynamique : cours et exercices corrigés"),
        ];
        Self::new("letter", camille, loans)
    }

    /// A letter with `count` items titled `Titre n° 1`…
    pub fn many(count: usize) -> Self {
        let camille = patron("P000123", "Camille Martin", None);
        let loans = (1..=count)
            .map(|n| loan(&camille, n, &format!("Titre n° {n}")))
            .collect();
        Self::new("letter", camille, loans)
    }

    pub fn view(&self) -> LetterView<'_> {
        LetterView {
            config: &self.config,
            notice: &self.notice,
            stage: &self.stage,
            patron: &self.patron,
            loans: &self.loans,
            send_day: send_day(),
        }
    }
}

/// A character as drawn: page (from 0), left edge and baseline in points from the
/// top-left corner, size in points, and the end of its advance.
#[derive(Debug, Clone)]
pub(super) struct Drawn {
    pub page: usize,
    pub x: f64,
    pub baseline: f64,
    pub size: f64,
    pub end: f64,
    pub text: String,
}

#[derive(Default)]
struct Collector {
    page: Option<usize>,
    height: f64,
    chars: Vec<Drawn>,
}

impl pdf_extract::OutputDev for Collector {
    fn begin_page(
        &mut self,
        _: u32,
        media_box: &pdf_extract::MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), pdf_extract::OutputError> {
        self.page = Some(self.page.map_or(0, |p| p + 1));
        self.height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &pdf_extract::Transform,
        width: f64,
        _: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), pdf_extract::OutputError> {
        let size = font_size * (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        self.chars.push(Drawn {
            page: self.page.unwrap_or(0),
            x: trm.m31,
            baseline: self.height - trm.m32,
            size,
            end: trm.m31 + width * size,
            text: text.to_owned(),
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), pdf_extract::OutputError> {
        Ok(())
    }
}

/// Every character of the PDF.
pub(super) fn drawn(pdf: &[u8]) -> Vec<Drawn> {
    let document = pdf_extract::Document::load_mem(pdf).expect("a readable PDF");
    let mut collector = Collector::default();
    pdf_extract::output_doc(&document, &mut collector).expect("extractable text");
    collector.chars
}

/// Number of pages of the PDF.
pub(super) fn page_count(pdf: &[u8]) -> usize {
    pdf_extract::Document::load_mem(pdf)
        .expect("a readable PDF")
        .get_pages()
        .len()
}

/// The text of each page, line by line (characters sharing a baseline), left to
/// right; runs far apart on a line (table cells) are joined by ` | `.
pub(super) fn page_lines(pdf: &[u8]) -> Vec<Vec<String>> {
    let mut chars = drawn(pdf);
    chars.sort_by(|a, b| {
        (a.page, (a.baseline * 10.0).round() as i64)
            .cmp(&(b.page, (b.baseline * 10.0).round() as i64))
            .then(a.x.total_cmp(&b.x))
    });
    let mut pages: Vec<Vec<String>> = vec![Vec::new(); page_count(pdf)];
    let mut previous: Option<&Drawn> = None;
    for c in &chars {
        let same_line =
            previous.is_some_and(|p| p.page == c.page && (p.baseline - c.baseline).abs() < 0.5);
        let lines = &mut pages[c.page];
        match previous {
            Some(p) if same_line => {
                let line = lines.last_mut().unwrap();
                if c.x > p.end + 0.8 * c.size {
                    line.push_str(" | ");
                }
                line.push_str(&c.text);
            }
            _ => lines.push(c.text.clone()),
        }
        previous = Some(c);
    }
    pages
}

/// All the text of the PDF, pages separated by a marked line.
pub(super) fn text(pdf: &[u8]) -> String {
    page_lines(pdf)
        .iter()
        .enumerate()
        .map(|(i, lines)| format!("--- page {} ---\n{}\n", i + 1, lines.join("\n")))
        .collect()
}

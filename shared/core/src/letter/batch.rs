//! A library's daily print batch: every letter starting on a new page of one PDF,
//! each letter also as its own PDF, and the manifest staff check the pile against.

use std::cmp::Ordering;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::thread;

use super::pdf::PdfWriter;
use super::{LetterError, LetterView, Prepared, RenderedLetter};

/// A library's letters of a run day, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintBatch {
    /// Each letter as its own PDF, in the order given to [`render_batch`].
    pub letters: Vec<RenderedLetter>,
    /// All the letters in one PDF, each starting on a new page.
    pub pdf: Vec<u8>,
    /// Pages of `pdf`: the sum of the letters' pages.
    pub pages: usize,
    /// `patron_id,reference,stage,item_count,pages,first_page`, one row per letter
    /// in batch order; `first_page` is the batch page the letter starts on, from 1.
    pub manifest_csv: Vec<u8>,
    /// When `pdf` is larger than the size asked of [`render_batch_in_parts`]: the
    /// batch again as consecutive parts, each a PDF of its own under that size
    /// (unless it is a single letter); empty when the batch fits whole.
    pub parts: Vec<BatchPart>,
}

/// A consecutive run of a batch's letters printed as a PDF of its own, for a
/// batch too large to travel in one email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPart {
    /// Its letters, as positions in the batch's order.
    pub letters: Range<usize>,
    /// Those letters in one PDF, each starting on a new page.
    pub pdf: Vec<u8>,
    /// The part's manifest: as the batch's, with `first_page` counted in this part.
    pub manifest_csv: Vec<u8>,
}

/// The order letters are expected in: by patron name as written (ignoring case and
/// accents, so that "Émile" files with "Emile"), then by patron id, then by
/// reference, so that the same letters always print in the same order.
pub fn batch_order(a: &LetterView<'_>, b: &LetterView<'_>) -> Ordering {
    let (name_a, name_b) = (&a.patron.full_name, &b.patron.full_name);
    fold(name_a)
        .cmp(&fold(name_b))
        .then_with(|| name_a.cmp(name_b))
        .then_with(|| a.patron.id.cmp(&b.patron.id))
        .then_with(|| a.notice.reference.cmp(&b.notice.reference))
}

/// Renders a library's batch from letters in the order they are to be printed
/// (sort them with [`batch_order`] first). Fails on the first letter that cannot
/// be rendered, naming it.
///
/// Each letter is laid out once. The letters' own PDFs are written on the
/// machine's other cores while this thread writes the batch, then this thread
/// helps with what is left: most of the time goes into compressing each PDF's
/// font subsets and pages, which the PDFs do not share.
pub fn render_batch(views: &[LetterView<'_>]) -> Result<PrintBatch, LetterError> {
    render_batch_in_parts(views, usize::MAX)
}

/// As [`render_batch`], and when the batch's PDF is larger than `max_part_bytes`,
/// the same letters in as few consecutive parts as keep each under it.
pub fn render_batch_in_parts(
    views: &[LetterView<'_>],
    max_part_bytes: usize,
) -> Result<PrintBatch, LetterError> {
    let first = views
        .first()
        .ok_or_else(|| LetterError::Batch("no letter".to_owned()))?;
    let library = first.notice.library.as_ref();
    if let Some(other) = views.iter().find(|v| v.notice.library.as_ref() != library) {
        return Err(LetterError::Batch(format!(
            "notice {} is for another library than notice {}",
            other.notice.reference, first.notice.reference
        )));
    }
    let prepared = views
        .iter()
        .map(Prepared::new)
        .collect::<Result<Vec<_>, _>>()?;
    let manifest_csv = manifest(views, &prepared)?;

    let title = match library.and_then(|code| first.config.library(code)) {
        Some(library) => format!("{} – {}", library.name, first.notice.run_day),
        None => first.notice.run_day.to_string(),
    };
    let language = first.config.institution.default_language.code();
    let write_pdf = |letters: &[Prepared]| {
        let mut pdf = PdfWriter::new(title.clone(), language);
        for letter in letters {
            pdf.add_pages(&letter.layout.pages);
        }
        pdf.finish()
    };
    let next = AtomicUsize::new(0);
    let (pdf, letters) = thread::scope(|scope| {
        let write_letters = || {
            let mut written = Vec::new();
            loop {
                let i = next.fetch_add(1, AtomicOrdering::Relaxed);
                let Some(letter) = prepared.get(i) else {
                    return written;
                };
                written.push((i, letter.write_alone()));
            }
        };
        let helpers: Vec<_> = (0..helper_threads(prepared.len()))
            .map(|_| scope.spawn(write_letters))
            .collect();

        let pdf = write_pdf(&prepared);

        let mut written = write_letters();
        for helper in helpers {
            written.extend(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        written.sort_by_key(|(i, _)| *i);
        let letters = written
            .into_iter()
            .map(|(_, letter)| letter)
            .collect::<Result<Vec<_>, _>>();
        (pdf, letters)
    });

    let pdf = pdf?;
    let mut parts = Vec::new();
    if pdf.len() > max_part_bytes {
        let pages = prepared.iter().map(Prepared::pages).sum::<usize>();
        // Aimed at nine tenths of the limit: each part embeds its own font subsets.
        let count = pdf.len().div_ceil((max_part_bytes / 10 * 9).max(1));
        for letters in split_by_pages(&prepared, count, pages) {
            split_part(
                letters,
                max_part_bytes,
                &mut |letters| {
                    Ok(BatchPart {
                        pdf: write_pdf(&prepared[letters.clone()])?,
                        manifest_csv: manifest(
                            &views[letters.clone()],
                            &prepared[letters.clone()],
                        )?,
                        letters,
                    })
                },
                &mut parts,
            )?;
        }
    }
    Ok(PrintBatch {
        letters: letters?,
        pdf,
        pages: prepared.iter().map(Prepared::pages).sum(),
        manifest_csv,
        parts,
    })
}

/// `letters` cut into `count` consecutive runs of about equal pages (the size of
/// a PDF grows with its pages); never an empty run.
fn split_by_pages(letters: &[Prepared], count: usize, pages: usize) -> Vec<Range<usize>> {
    let mut runs = Vec::with_capacity(count);
    let (mut start, mut counted) = (0, 0);
    for (i, letter) in letters.iter().enumerate() {
        counted += letter.pages();
        let boundary = pages * (runs.len() + 1) / count;
        if counted >= boundary && runs.len() + 1 < count && i + 1 < letters.len() {
            runs.push(start..i + 1);
            start = i + 1;
        }
    }
    runs.push(start..letters.len());
    runs
}

/// Writes the run `letters` as a part; one still over `max_bytes` is halved
/// until each half fits or holds a single letter.
fn split_part(
    letters: Range<usize>,
    max_bytes: usize,
    write: &mut dyn FnMut(Range<usize>) -> Result<BatchPart, LetterError>,
    parts: &mut Vec<BatchPart>,
) -> Result<(), LetterError> {
    let part = write(letters.clone())?;
    if part.pdf.len() <= max_bytes || letters.len() == 1 {
        parts.push(part);
        return Ok(());
    }
    let middle = letters.start + letters.len() / 2;
    split_part(letters.start..middle, max_bytes, write, parts)?;
    split_part(middle..letters.end, max_bytes, write, parts)
}

/// Threads besides the caller's that write letters: one per other core, none on one core.
fn helper_threads(letters: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_sub(1).min(letters).min(MAX_HELPERS)
}

/// More would mostly wait for memory bandwidth and the batch thread.
const MAX_HELPERS: usize = 7;

fn manifest(views: &[LetterView<'_>], prepared: &[Prepared]) -> Result<Vec<u8>, LetterError> {
    let error = |source| LetterError::Manifest { source };
    let mut manifest = csv::Writer::from_writer(Vec::new());
    manifest
        .write_record([
            "patron_id",
            "reference",
            "stage",
            "item_count",
            "pages",
            "first_page",
        ])
        .map_err(error)?;
    let mut first_page = 1;
    for (view, letter) in views.iter().zip(prepared) {
        manifest
            .write_record([
                view.patron.id.as_str(),
                view.notice.reference.as_str(),
                view.stage.name.as_str(),
                &view.loans.len().to_string(),
                &letter.pages().to_string(),
                &first_page.to_string(),
            ])
            .map_err(error)?;
        first_page += letter.pages();
    }
    manifest
        .into_inner()
        .map_err(|e| error(e.into_error().into()))
}

/// Lower case without the accents of Latin letters, for sorting names.
fn fold(name: &str) -> Vec<char> {
    const ACCENTED: &str = "àáâãäåāăąçćčďđèéêëēėęěìíîïīįłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž";
    const PLAIN: &str = "aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz";
    let mut folded = Vec::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'œ' => folded.extend(['o', 'e']),
            'æ' => folded.extend(['a', 'e']),
            'ß' => folded.extend(['s', 's']),
            _ => folded.push(
                ACCENTED
                    .chars()
                    .position(|a| a == c)
                    .and_then(|i| PLAIN.chars().nth(i))
                    .unwrap_or(c),
            ),
        }
    }
    folded
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn names_fold_to_plain_lower_case_letters() {
        let folded: String = fold("Émile Œstrem Łukasz Nguyễn ŽÁČ").into_iter().collect();
        assert_eq!(folded, "emile oestrem lukasz nguyễn zac");
        let all: String = fold("ÀÁÂÃÄÅĀĂĄÇĆČĎĐÈÉÊËĒĖĘĚÌÍÎÏĪĮŁÑŃŇÒÓÔÕÖØŌŐŔŘŚŠŞŤÙÚÛÜŪŮŰŲÝŸŹŻŽ")
            .into_iter()
            .collect();
        assert_eq!(
            all,
            "aaaaaaaaacccddeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz"
        );
    }
}

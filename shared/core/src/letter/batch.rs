//! A library's daily print batch: every letter starting on a new page of one PDF,
//! each letter also as its own PDF, and the manifest staff check the pile against.

use std::cmp::Ordering;
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

        let mut batch = PdfWriter::new(title, language);
        for letter in &prepared {
            batch.add_pages(&letter.layout.pages);
        }
        let pdf = batch.finish();

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

    Ok(PrintBatch {
        letters: letters?,
        pdf: pdf?,
        pages: prepared.iter().map(Prepared::pages).sum(),
        manifest_csv,
    })
}

/// Threads besides the caller's that write letters: one per other core, none on one core.
fn helper_threads(letters: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    cores.saturating_sub(1).min(letters).min(MAX_HELPERS)
}

/// More would mostly wait for memory bandwidth and the batch thread.
const MAX_HELPERS: usize = 7;

fn manifest(views: &[LetterView<'_>], prepared: &[Prepared]) -> Result<Vec<u8>, LetterError> {
    let error = |e: csv::Error| LetterError::Manifest(e.to_string());
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
        .map_err(|e| LetterError::Manifest(e.to_string()))
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

//! Delivering letters: each library's pending letters of a run day rendered into
//! its print batch, archived, and emailed to the library's inbox.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Library;
use crate::email::{BatchEntry, PrintBatchMail, compose_print_batch};
use crate::ids::{LibraryCode, PatronId};
use crate::ladder::{Channel, Stage};
use crate::letter::{LetterView, PrintBatch, batch_order, check_letter, render_batch_in_parts};
use crate::model::{Loan, Patron};
use crate::notice::{CancelReason, Notice};
use crate::ports::{
    Ledger, LetterArchive, LoanStore, MailTransport, OutgoingMail, StoreError, TransportError,
};
use crate::summary::{NoticeFailure, OpenDayWait, RunSummary};

use super::{Engine, RunError};

/// A letter ready to render: its notice, recipient, stage and re-checked loans.
struct Ready {
    notice: Notice,
    patron: Patron,
    stage: Stage,
    loans: Vec<Loan>,
}

impl<S: LoanStore, L: Ledger, T: MailTransport, A: LetterArchive> Engine<'_, S, L, T, A> {
    /// Renders and sends every library's pending letters up to `run_day` as that
    /// library's batch of the day: a letter held back earlier (no postal address
    /// then) is printed with today's, never into an earlier day's batch, which
    /// stays as it was sent.
    pub(super) async fn deliver_letters(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        summary: &mut RunSummary,
    ) -> Result<(), RunError> {
        let mut batches: BTreeMap<LibraryCode, Vec<Notice>> = BTreeMap::new();
        for notice in self
            .ledger
            .pending_notices(Channel::Letter, run_day)
            .await?
        {
            let Some(library) = notice.library.clone() else {
                self.fail_letters(&[notice], "the letter has no library", summary)
                    .await?;
                continue;
            };
            batches.entry(library).or_default().push(notice);
        }
        for (library, notices) in batches {
            // A batch the transport refused stays pending for the next run.
            self.deliver_batch(&library, notices, run_day, now, summary)
                .await?;
        }
        Ok(())
    }

    /// Renders and sends one library's pending letters up to `run_day` as its
    /// batch of the day (the serverless letters function, one library per message).
    /// Nothing pending: nothing sent. Returns what went and, when the transport
    /// refused a mail of the batch (its letters, and those of the parts after it,
    /// stay pending), the refusal, so that the message is delivered again.
    pub async fn deliver_library_letters(
        &self,
        code: &LibraryCode,
        run_day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(RunSummary, Option<TransportError>), RunError> {
        let mut summary = RunSummary {
            run_day,
            ..RunSummary::default()
        };
        let notices: Vec<Notice> = self
            .ledger
            .pending_notices(Channel::Letter, run_day)
            .await?
            .into_iter()
            .filter(|n| n.library.as_ref() == Some(code))
            .collect();
        let refused = if notices.is_empty() {
            None
        } else {
            self.deliver_batch(code, notices, run_day, now, &mut summary)
                .await?
        };
        Ok((summary, refused))
    }

    /// Delivers a library's batch, in one mail or, when too large, one per part;
    /// returns the transport's error when it could not take a mail (its letters
    /// and those of the later parts stay pending, the failure is recorded).
    async fn deliver_batch(
        &self,
        code: &LibraryCode,
        notices: Vec<Notice>,
        day: NaiveDate,
        now: DateTime<Utc>,
        summary: &mut RunSummary,
    ) -> Result<Option<TransportError>, RunError> {
        let Some(library) = self.config.library(code) else {
            let reason = RunError::UnknownLibrary(code.to_string()).to_string();
            self.fail_letters(&notices, &reason, summary).await?;
            return Ok(None);
        };
        // Rules §14: nobody prints on a day the library is closed. Its letters stay
        // pending, as they are, and go in the batch of the first run on a day it is
        // open (every run delivers what is pending up to its day).
        if let Some(today) = library.closed_on(day) {
            let next = library.open_days.next_open_day(day);
            summary.waiting_for_open_day.extend(notices.iter().map(|n| {
                // Why it was deferred: the closure of its own day, when it was
                // decided on one; else (held back for another reason) today's.
                let reason = library
                    .closed_on(n.run_day)
                    .unwrap_or_else(|| today.clone());
                OpenDayWait::of(n, code.as_str(), next, reason)
            }));
            return Ok(None);
        }
        let mut ready = Vec::with_capacity(notices.len());
        for notice in notices {
            if let Some(letter) = self.prepare(notice, day, summary).await? {
                ready.push(letter);
            }
        }
        if ready.is_empty() {
            return Ok(None);
        }
        match self
            .send_batch(code, library, &ready, day, now, summary)
            .await
        {
            Err(e) if e.is_notice_fault() => {
                // The batch could not be rendered: its letters fail together,
                // the other libraries' batches go.
                let notices: Vec<Notice> = ready.into_iter().map(|r| r.notice).collect();
                self.fail_letters(&notices, &e.to_string(), summary).await?;
                Ok(None)
            }
            other => other,
        }
    }

    /// Records that these letters could not be delivered, for `reason`: they stay
    /// pending and are listed for staff.
    async fn fail_letters(
        &self,
        notices: &[Notice],
        reason: &str,
        summary: &mut RunSummary,
    ) -> Result<(), RunError> {
        for notice in notices {
            self.ledger.record_failure(&notice.id, reason).await?;
            summary.failed += 1;
            summary.failures.push(NoticeFailure::of(notice, reason));
        }
        Ok(())
    }

    /// Renders, archives and sends a library's ready letters as its batch.
    async fn send_batch(
        &self,
        code: &LibraryCode,
        library: &Library,
        ready: &[Ready],
        day: NaiveDate,
        now: DateTime<Utc>,
        summary: &mut RunSummary,
    ) -> Result<Option<TransportError>, RunError> {
        let mut views: Vec<LetterView<'_>> = ready
            .iter()
            .map(|r| LetterView {
                config: self.config,
                notice: &r.notice,
                stage: &r.stage,
                patron: &r.patron,
                loans: &r.loans,
                send_day: day,
            })
            .collect();
        views.sort_by(batch_order);
        let batch = render_batch_in_parts(&views, self.config.mail.batch_attachment_bytes)?;
        // A retry on a day whose batch already went is the day's next batch, with
        // files and a Message-ID of its own: what was sent stays as it was.
        let attempt = self.archive.batches_kept(day, code).await? + 1;
        self.archive_batch(code, day, attempt, &views, &batch)
            .await?;
        let mail_stem = match attempt {
            1 => format!("letters-{code}"),
            n => format!("letters-{code}-batch{n}"),
        };

        // One mail for the batch, or one per part when it is too large for one.
        let mails: Vec<_> = if batch.parts.is_empty() {
            vec![(0..views.len(), &batch.pdf, &batch.manifest_csv)]
        } else {
            batch
                .parts
                .iter()
                .map(|p| (p.letters.clone(), &p.pdf, &p.manifest_csv))
                .collect()
        };
        let count = mails.len();
        for (k, (letters, pdf, manifest_csv)) in mails.into_iter().enumerate() {
            let part = (count > 1).then_some((k + 1, count));
            let entries: Vec<BatchEntry> = views[letters.clone()]
                .iter()
                .zip(&batch.letters[letters.clone()])
                .map(|(v, l)| BatchEntry {
                    reference: v.notice.reference.clone(),
                    patron_id: v.patron.id.clone(),
                    items: v.loans.len(),
                    pages: l.pages,
                })
                .collect();
            let composed = compose_print_batch(&PrintBatchMail {
                config: self.config,
                library,
                run_day: day,
                entries: &entries,
                batch_pdf: pdf,
                part,
                manifest_csv,
                attempt,
                sent_at: now,
            })?;
            let mail = OutgoingMail {
                notice_id: views[letters.start].notice.id.clone(),
                run_day: day,
                name: match part {
                    None => mail_stem.clone(),
                    Some((k, _)) => format!("{mail_stem}-{k}"),
                },
                from: self.config.mail.from.address.clone(),
                to: library.inbox.clone(),
                raw: composed.raw,
            };
            match self.transport.send(&mail).await {
                Ok(message_id) => {
                    let sent: Vec<_> = views[letters.clone()]
                        .iter()
                        .map(|v| (v.notice.id.clone(), message_id.clone()))
                        .collect();
                    self.ledger.record_sent_many(&sent, now).await?;
                    summary.letters_rendered += letters.len();
                    summary.delivered_after_closure.extend(
                        views[letters.clone()].iter().filter_map(|v| {
                            let reason = library.closed_on(v.notice.run_day)?;
                            Some(OpenDayWait::of(v.notice, code.as_str(), Some(day), reason))
                        }),
                    );
                }
                // This part's letters and the later parts' stay pending: the next
                // run renders and sends them again.
                Err(
                    error @ (TransportError::Throttled { .. }
                    | TransportError::Transient { .. }
                    | TransportError::Rejected { .. }),
                ) => {
                    for view in &views[letters.start..] {
                        self.ledger
                            .record_failure(&view.notice.id, &error.to_string())
                            .await?;
                        summary
                            .failures
                            .push(NoticeFailure::of(view.notice, error.to_string()));
                    }
                    summary.failed += 1;
                    return Ok(Some(error));
                }
                Err(e @ TransportError::Unexpected { .. }) => return Err(RunError::Transport(e)),
            }
        }
        Ok(None)
    }

    /// Keeps each letter, the batch and its manifest in the archive: `batch.pdf`
    /// and `manifest.csv` for the day's first batch, `batch-{n}.pdf` and
    /// `manifest-{n}.csv` for the n-th.
    async fn archive_batch(
        &self,
        code: &LibraryCode,
        day: NaiveDate,
        attempt: u32,
        views: &[LetterView<'_>],
        batch: &PrintBatch,
    ) -> Result<(), RunError> {
        let mut letters_of: HashMap<&PatronId, usize> = HashMap::new();
        for view in views {
            *letters_of.entry(&view.patron.id).or_default() += 1;
        }
        for (view, letter) in views.iter().zip(&batch.letters) {
            // `{patron}.pdf`, unless the patron has two letters in the batch (one held
            // back from an earlier day) or this is a later batch of the day, whose
            // patrons may have a letter in an earlier one: then each is told apart
            // by its reference.
            let name = if attempt > 1 || letters_of[&view.patron.id] > 1 {
                format!(
                    "{}-{}.pdf",
                    view.patron.id.file_stem(),
                    view.notice.reference
                )
            } else {
                format!("{}.pdf", view.patron.id.file_stem())
            };
            self.archive.put(day, code, &name, &letter.pdf).await?;
        }
        let (pdf, manifest) = match attempt {
            1 => ("batch.pdf".to_owned(), "manifest.csv".to_owned()),
            n => (format!("batch-{n}.pdf"), format!("manifest-{n}.csv")),
        };
        // The batch last: it is what counts as kept.
        self.archive
            .put(day, code, &manifest, &batch.manifest_csv)
            .await?;
        self.archive.put(day, code, &pdf, &batch.pdf).await?;
        Ok(())
    }

    /// Re-checks a letter's loans and finds its recipient and stage; a letter left
    /// without loans is cancelled, one that cannot be printed stays pending with
    /// the reason recorded for staff.
    async fn prepare(
        &self,
        notice: Notice,
        send_day: NaiveDate,
        summary: &mut RunSummary,
    ) -> Result<Option<Ready>, RunError> {
        match self.try_prepare(&notice, send_day, summary).await {
            Ok(Some((patron, stage, loans))) => Ok(Some(Ready {
                notice,
                patron,
                stage,
                loans,
            })),
            Ok(None) => Ok(None),
            Err(e) if e.is_notice_fault() => {
                self.fail_letters(&[notice], &e.to_string(), summary)
                    .await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn try_prepare(
        &self,
        notice: &Notice,
        send_day: NaiveDate,
        summary: &mut RunSummary,
    ) -> Result<Option<(Patron, Stage, Vec<Loan>)>, RunError> {
        let loans = self.recheck(notice).await?;
        if loans.is_empty() {
            self.ledger
                .cancel(&notice.id, CancelReason::NothingLeft)
                .await?;
            summary.cancelled += 1;
            return Ok(None);
        }
        let patron = self.recipient(notice).await?;
        // A letter's wording is that of the highest stage among its loans (a
        // fallback letter merged into a final letter reads as the final letter).
        let stage = notice
            .loans
            .iter()
            .filter(|l| loans.iter().any(|k| k.id == l.loan_id))
            .filter_map(|l| self.config.ladder.get(&l.stage))
            .max_by_key(|s| s.rank)
            .or_else(|| self.config.ladder.get(&notice.stage))
            .cloned()
            .ok_or_else(|| {
                StoreError::corrupt(format!(
                    "letter {} has unknown stage {}",
                    notice.id, notice.stage
                ))
            })?;
        let view = LetterView {
            config: self.config,
            notice,
            stage: &stage,
            patron: &patron,
            loans: &loans,
            send_day,
        };
        // One letter that cannot be printed (no postal address…) must not hold
        // up its library's batch: it stays pending, with the reason for staff.
        check_letter(&view)?;
        Ok(Some((patron, stage, loans)))
    }
}

//! Delivering email notices: re-check, render, send, record; fall back to print
//! when the address does not work.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures_channel::oneshot;

use crate::address::EmailAddress;
use crate::config::Config;
use crate::email::{self, EmailNotice, Templates};
use crate::ids::NoticeId;
use crate::ladder::{Channel, Stage};
use crate::model::{EmailStatus, Loan, Patron};
use crate::notice::{CancelReason, Notice, NoticeLoan};
use crate::open_days::EmailOnClosedDays;
use crate::plan::listing_order;
use crate::ports::{Ledger, LoanStore, MailTransport, OutgoingMail, StoreError, TransportError};
use crate::summary::{NoticeFailure, OpenDayWait, RunSummary};

use super::{Engine, RunError};

/// After this many failed sends in a row the transport is taken as down and the
/// rest stays pending for the next run.
const MAX_CONSECUTIVE_FAILURES: usize = 5;

/// Notices read, rendered and sent at a time.
const RENDER_CHUNK: usize = 512;

/// What a pending email notice needs, as read from the store.
enum Step {
    /// Every loan was returned or renewed: cancel.
    Cancel,
    /// The patron has no usable address any more: these loans go to print.
    FallBack(Vec<Loan>),
    /// Render and send.
    Send(Box<Draft>),
    /// The notice cannot be prepared or rendered, for this reason of its own: it
    /// fails alone and stays pending.
    Fault(String),
    /// Every library of its loans is closed and the institution holds emails
    /// until one opens (rules §14): it stays pending as it is.
    Wait(OpenDayWait),
}

/// Everything an email is rendered from besides the notice.
struct Draft {
    stage: Stage,
    patron: Patron,
    to: EmailAddress,
    loans: Vec<Loan>,
    other_overdue: Vec<Loan>,
}

/// What became of one email notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted by the transport, with its message id.
    Sent(String),
    /// Every loan was returned or renewed since planning.
    Cancelled,
    /// The address does not work: the loans went to the print batch.
    FellBackToPrint,
    /// A failure that retrying may fix; the notice stays pending.
    Failed(String),
    /// The notice itself cannot be rendered or sent (a template error, a patron
    /// missing from the store…): it stays pending, with the reason, for staff.
    Unsendable(String),
    /// Held for the first open day of one of its libraries
    /// (`email_on_closed_days = "next_open_day"`); it stays pending.
    WaitingForOpenDay(OpenDayWait),
}

impl<S: LoanStore, L: Ledger, T: MailTransport, A> Engine<'_, S, L, T, A> {
    /// Delivers every pending email notice up to `run_day`, in chunks, as a
    /// pipeline: while one chunk is rendered on its own thread (pure work), the
    /// next is read from the store and the previous one sent and recorded.
    pub(super) async fn deliver_emails(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        summary: &mut RunSummary,
    ) -> Result<(), RunError> {
        let pending = self.ledger.pending_notices(Channel::Email, run_day).await?;
        let shared = Arc::new((self.config.clone(), self.templates.clone()));
        let mut progress = Progress {
            total: pending.len(),
            done: 0,
            failures_in_a_row: 0,
        };
        let mut in_flight: Option<Rendering> = None;
        for chunk in pending.chunks(RENDER_CHUNK) {
            let mut work = Vec::with_capacity(chunk.len());
            for notice in chunk {
                work.push((
                    notice.clone(),
                    self.prepare_or_fault(notice, run_day).await?,
                ));
            }
            let shared = Arc::clone(&shared);
            // The rendered chunk comes back through a channel that is awaited, so
            // the executor's thread is never blocked waiting for the renderer.
            let (done, rendering) = oneshot::channel();
            std::thread::Builder::new()
                .name("render-email".into())
                .spawn(move || {
                    let (config, templates) = &*shared;
                    let _ = done.send(render_chunk(config, templates, work, run_day, now));
                })
                .expect("a thread can be started");
            if let Some(previous) = in_flight.replace(rendering) {
                let rendered = previous.await.expect("rendering does not panic");
                if !self
                    .dispatch_chunk(rendered, run_day, now, &mut progress, summary)
                    .await?
                {
                    return Ok(());
                }
            }
        }
        if let Some(last) = in_flight {
            let rendered = last.await.expect("rendering does not panic");
            self.dispatch_chunk(rendered, run_day, now, &mut progress, summary)
                .await?;
        }
        Ok(())
    }

    /// Sends and records a rendered chunk; false once the transport is taken as
    /// down (the rest is counted as deferred and stays pending). When resending
    /// is harmless the chunk's sends are recorded together at its end.
    async fn dispatch_chunk(
        &self,
        rendered: Vec<Rendered>,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        progress: &mut Progress,
        summary: &mut RunSummary,
    ) -> Result<bool, RunError> {
        let mut sent = self
            .transport
            .resend_is_harmless()
            .then(|| Vec::with_capacity(rendered.len()));
        let mut going = true;
        for (notice, step, mail) in rendered {
            if progress.failures_in_a_row >= MAX_CONSECUTIVE_FAILURES {
                summary.deferred = progress.total - progress.done;
                going = false;
                break;
            }
            progress.done += 1;
            if notice.run_day < run_day {
                summary.requeued += 1;
            }
            match self
                .dispatch(&notice, step, mail, now, sent.as_mut())
                .await?
            {
                Delivery::Sent(_) => {
                    summary.emails_sent += 1;
                    progress.failures_in_a_row = 0;
                }
                Delivery::Cancelled => summary.cancelled += 1,
                Delivery::FellBackToPrint => summary.fell_back_to_print += 1,
                Delivery::Failed(reason) => {
                    summary.failed += 1;
                    summary.failures.push(NoticeFailure::of(&notice, reason));
                    progress.failures_in_a_row += 1;
                }
                Delivery::Unsendable(reason) => {
                    summary.failed += 1;
                    summary.failures.push(NoticeFailure::of(&notice, reason));
                }
                Delivery::WaitingForOpenDay(wait) => summary.waiting_for_open_day.push(wait),
            }
        }
        if let Some(sent) = sent {
            self.ledger.record_sent_many(&sent, now).await?;
        }
        Ok(going)
    }

    /// Delivers one pending email notice on `send_day`: re-checks its loans,
    /// renders it with the patron's current data, sends it and records the outcome.
    pub async fn deliver_email(
        &self,
        notice: &Notice,
        send_day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Delivery, RunError> {
        let step = self.prepare_or_fault(notice, send_day).await?;
        let (step, mail) = render_step(self.config, self.templates, notice, step, send_day, now);
        self.dispatch(notice, step, mail, now, None).await
    }

    /// [`Self::prepare_email`], with a fault of the notice's own turned into
    /// [`Step::Fault`]; a store failure still stops the run.
    async fn prepare_or_fault(
        &self,
        notice: &Notice,
        send_day: NaiveDate,
    ) -> Result<Step, RunError> {
        match self.prepare_email(notice, send_day).await {
            Err(e) if e.is_notice_fault() => Ok(Step::Fault(e.to_string())),
            other => other,
        }
    }

    /// Reads what the notice needs now: its loans still due, its recipient's
    /// address and other overdue loans.
    async fn prepare_email(&self, notice: &Notice, send_day: NaiveDate) -> Result<Step, RunError> {
        let loans = self.recheck(notice).await?;
        if loans.is_empty() {
            return Ok(Step::Cancel);
        }
        let patron = self.recipient(notice).await?;
        let Some(to) = patron.usable_email().cloned() else {
            return Ok(Step::FallBack(loans));
        };
        if let Some(wait) = self.email_wait(notice, &loans, send_day) {
            return Ok(Step::Wait(wait));
        }
        let stage = self.config.ladder.get(&notice.stage).ok_or_else(|| {
            StoreError::corrupt(format!(
                "notice {} has unknown stage {}",
                notice.id, notice.stage
            ))
        })?;
        let other_overdue = self.other_overdue(&patron, &loans, send_day).await?;
        Ok(Step::Send(Box::new(Draft {
            stage: stage.clone(),
            patron,
            to,
            loans,
            other_overdue,
        })))
    }

    /// Sends a rendered notice, or cancels it or turns it into letters, and
    /// records the outcome — a send into `sent`, to be recorded by the caller,
    /// when it is given.
    async fn dispatch(
        &self,
        notice: &Notice,
        step: Step,
        mail: Option<OutgoingMail>,
        now: DateTime<Utc>,
        sent: Option<&mut Vec<(NoticeId, String)>>,
    ) -> Result<Delivery, RunError> {
        let (draft, mail) = match (step, mail) {
            (Step::Cancel, _) => {
                self.ledger
                    .cancel(&notice.id, CancelReason::NothingLeft)
                    .await?;
                return Ok(Delivery::Cancelled);
            }
            (Step::FallBack(loans), _) => {
                self.fall_back(notice, &loans).await?;
                return Ok(Delivery::FellBackToPrint);
            }
            (Step::Fault(reason), _) => {
                self.ledger.record_failure(&notice.id, &reason).await?;
                return Ok(Delivery::Unsendable(reason));
            }
            (Step::Wait(wait), _) => return Ok(Delivery::WaitingForOpenDay(wait)),
            (Step::Send(draft), Some(mail)) => (draft, mail),
            (Step::Send(_), None) => unreachable!("every draft is rendered"),
        };
        match self.transport.send(&mail).await {
            Ok(message_id) => {
                match sent {
                    Some(sent) => sent.push((notice.id.clone(), message_id.clone())),
                    None => {
                        self.ledger
                            .record_sent(&notice.id, &message_id, now)
                            .await?
                    }
                }
                Ok(Delivery::Sent(message_id))
            }
            Err(TransportError::Rejected { message, .. }) => {
                self.store
                    .set_email_status(&draft.patron.id, EmailStatus::Bouncing)
                    .await?;
                self.ledger.record_failure(&notice.id, &message).await?;
                self.fall_back(notice, &draft.loans).await?;
                Ok(Delivery::FellBackToPrint)
            }
            Err(
                TransportError::Throttled { message, .. }
                | TransportError::Transient { message, .. },
            ) => {
                self.ledger.record_failure(&notice.id, &message).await?;
                Ok(Delivery::Failed(message))
            }
            Err(e @ TransportError::Unexpected { .. }) => Err(RunError::Transport(e)),
        }
    }

    /// Whether an email waits for an open day on `day`: only when the institution
    /// holds emails (`email_on_closed_days = "next_open_day"`), and then while
    /// every library of its loans is closed. An email that spans several
    /// libraries goes on the first day any of them opens: the patron who answers
    /// or brings items back then finds a desk open, and no library's closure
    /// delays the news of another's loans.
    fn email_wait(&self, notice: &Notice, loans: &[Loan], day: NaiveDate) -> Option<OpenDayWait> {
        if self.config.institution.email_on_closed_days != EmailOnClosedDays::NextOpenDay {
            return None;
        }
        let mut codes: Vec<_> = loans.iter().map(|l| &l.library).collect();
        codes.sort();
        codes.dedup();
        let mut reasons = Vec::with_capacity(codes.len());
        let mut next: Option<NaiveDate> = None;
        for code in &codes {
            // A library missing from the config holds nothing back: its loans are
            // listed by code, as they always were.
            let library = self.config.library(code)?;
            reasons.push(library.closed_on(day)?);
            let opens = library.open_days.next_open_day(day);
            next = match (next, opens) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let libraries: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        Some(OpenDayWait::of(
            notice,
            libraries.join(","),
            next,
            reasons.join("; "),
        ))
    }

    /// The patron a notice goes to, as the store has them now.
    pub(super) async fn recipient(&self, notice: &Notice) -> Result<Patron, RunError> {
        self.store
            .patrons(std::slice::from_ref(&notice.patron_id))
            .await?
            .pop()
            .ok_or_else(|| {
                RunError::MissingPatron(notice.id.to_string(), notice.patron_id.to_string())
            })
    }

    /// The notice's loans that are still open with the due date they were planned
    /// for, in listing order.
    pub(super) async fn recheck(&self, notice: &Notice) -> Result<Vec<Loan>, RunError> {
        let planned: HashMap<_, _> = notice
            .loans
            .iter()
            .map(|l| (l.loan_id.clone(), l.due_date))
            .collect();
        let ids: Vec<_> = planned.keys().cloned().collect();
        let mut loans: Vec<Loan> = self
            .store
            .loans(&ids)
            .await?
            .into_iter()
            .filter(|l| l.is_open() && planned.get(&l.id) == Some(&l.due_date))
            .collect();
        loans.sort_by(listing_order);
        Ok(loans)
    }

    async fn other_overdue(
        &self,
        patron: &Patron,
        listed: &[Loan],
        day: NaiveDate,
    ) -> Result<Vec<Loan>, RunError> {
        let listed: HashSet<_> = listed.iter().map(|l| &l.id).collect();
        let mut others: Vec<Loan> = self
            .store
            .open_loans_of(&patron.id)
            .await?
            .into_iter()
            .filter(|l| !listed.contains(&l.id) && l.days_overdue(day) > 0)
            .collect();
        others.sort_by(listing_order);
        Ok(others)
    }

    async fn fall_back(&self, notice: &Notice, loans: &[Loan]) -> Result<(), RunError> {
        let mut by_library: BTreeMap<_, Vec<NoticeLoan>> = BTreeMap::new();
        for loan in loans {
            by_library
                .entry(loan.library.clone())
                .or_default()
                .push(NoticeLoan {
                    loan_id: loan.id.clone(),
                    due_date: loan.due_date,
                    stage: notice.stage.clone(),
                });
        }
        let letters: Vec<Notice> = by_library
            .into_iter()
            .map(|(library, loans)| {
                Notice::pending(
                    Notice::letter_id(&notice.patron_id, &library, notice.run_day),
                    notice.run_day,
                    notice.patron_id.clone(),
                    Channel::Letter,
                    notice.stage.clone(),
                    Some(library),
                    loans,
                )
            })
            .collect();
        self.ledger.fall_back_to_print(&notice.id, &letters).await?;
        Ok(())
    }
}

/// A notice with what was read for it and its rendered message.
type Rendered = (Notice, Step, Option<OutgoingMail>);

/// A chunk being rendered on its own thread.
type Rendering = oneshot::Receiver<Vec<Rendered>>;

/// Where a run's email delivery is.
struct Progress {
    total: usize,
    done: usize,
    failures_in_a_row: usize,
}

fn render_chunk(
    config: &Config,
    templates: &Templates,
    work: Vec<(Notice, Step)>,
    send_day: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<Rendered> {
    work.into_iter()
        .map(|(notice, step)| {
            let (step, mail) = render_step(config, templates, &notice, step, send_day, now);
            (notice, step, mail)
        })
        .collect()
}

/// Renders a notice to send; a rendering that fails makes the step a fault of
/// this notice alone.
fn render_step(
    config: &Config,
    templates: &Templates,
    notice: &Notice,
    step: Step,
    send_day: NaiveDate,
    now: DateTime<Utc>,
) -> (Step, Option<OutgoingMail>) {
    let Step::Send(draft) = &step else {
        return (step, None);
    };
    match render_mail(config, templates, notice, draft, send_day, now) {
        Ok(mail) => (step, Some(mail)),
        Err(e) => (Step::Fault(e.to_string()), None),
    }
}

fn render_mail(
    config: &Config,
    templates: &Templates,
    notice: &Notice,
    draft: &Draft,
    send_day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<OutgoingMail, RunError> {
    let composed = email::compose(
        templates,
        &EmailNotice {
            config,
            notice,
            stage: &draft.stage,
            patron: &draft.patron,
            to: &draft.to,
            loans: &draft.loans,
            other_overdue: &draft.other_overdue,
            send_day,
            sent_at: now,
        },
    )?;
    Ok(OutgoingMail {
        notice_id: notice.id.clone(),
        run_day: notice.run_day,
        name: notice.mail_name(),
        from: config.mail.from.address.clone(),
        to: draft.to.clone(),
        raw: composed.raw,
    })
}

//! A small institution with three libraries, a patron and loans, for the email tests.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use mail_parser::{Message, MessageParser};

use crate::address::EmailAddress;
use crate::config::Config;
use crate::ids::{LibraryCode, LoanId, PatronId, StageName};
use crate::ladder::{Channel, Stage, StageKind};
use crate::model::{EmailStatus, Item, Language, Loan, Patron, PostalAddress};
use crate::notice::{Notice, NoticeLoan};
use crate::plan::listing_order;

use super::{ComposedEmail, EmailNotice, Templates, compose};

/// Three libraries, listed in an order that is not the listing order (by code).
pub(super) const CONFIG: &str = r#"
[institution]
name = "Université de Bordeaux"
timezone = "Europe/Paris"
default_language = "fr"

[mail]
from = "Service du contentieux des bibliothèques <contentieux@bibliotheques.example.fr>"
reply_to = "reponses@bibliotheques.example.fr"
staff_inbox = "equipe-contentieux@bibliotheques.example.fr"

[[libraries]]
code = "STS"
name = "Bibliothèque Sciences et techniques"
inbox = "bu-sciences@bibliotheques.example.fr"
address = ["Allée Baudour", "33400 Talence"]
phone = "05 40 00 00 00"

[[libraries]]
code = "LSH"
name = "Bibliothèque Lettres et sciences humaines"
inbox = "impression-lsh@bibliotheques.example.fr"
email = "bu-lettres@bibliotheques.example.fr"
address = ["Domaine universitaire", "Esplanade des Antilles", "33600 Pessac"]
phone = "05 40 00 00 01"

[[libraries]]
code = "DRO"
name = "Bibliothèque Droit et économie"
inbox = "bu-droit@bibliotheques.example.fr"
address = ["Avenue Léon Duguit", "33600 Pessac"]
"#;

/// The run and send day of every case.
pub(super) fn send_day() -> NaiveDate {
    day("2026-11-29")
}

pub(super) fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

// Loans as table rows: id | library | title | author | call number | due date.

/// Four loans at three libraries, 7 days overdue on the send day.
const FIRST_REMINDER_LOANS: &[&str] = &[
    "L1001 | STS | Analyse numérique     |                 |         | 2026-11-22",
    "L1002 | LSH | Les Misérables        | Victor Hugo     | 843 HUG | 2026-11-22",
    "L1003 | DRO | Traité de droit civil | Jean Carbonnier | 346 CAR | 2026-11-22",
    "L1004 | LSH | Du côté de chez Swann | Marcel Proust   | 843 PRO | 2026-11-22",
];

/// Other overdue loans: 19 days and 1 day.
const FIRST_REMINDER_OTHERS: &[&str] = &[
    "L0901 | STS | Thermodynamique     | Richard Feynman | 536.7 FEY | 2026-11-10",
    "L0902 | LSH | Le Rouge et le Noir | Stendhal        | 843 STE   | 2026-11-28",
];

/// Two loans due in 3 days at two libraries.
const COURTESY_LOANS: &[&str] = &[
    "L2001 | STS | Linear Algebra Done Right | Sheldon Axler | 512.5 AXL | 2026-12-02",
    "L2002 | DRO | The Concept of Law        | H. L. A. Hart | 340.1 HAR | 2026-12-02",
];

/// An overdue loan, which a courtesy email does not recap.
const COURTESY_OTHERS: &[&str] =
    &["L0903 | LSH | Middlemarch | George Eliot | 823 ELI | 2026-11-20"];

/// The loan of a table row, due at 23:59 Paris time (22:59 UTC in winter); its
/// barcode is made from its id.
pub(super) fn loan(row: &str) -> Loan {
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    let [id, library, title, author, call_number, due] = cells[..] else {
        panic!("six cells in {row:?}");
    };
    let due_date = day(due);
    let due_at = Utc.from_utc_datetime(&due_date.and_hms_opt(22, 59, 0).unwrap());
    Loan {
        id: LoanId::parse(id).unwrap(),
        patron_id: PatronId::parse("P0042").unwrap(),
        library: LibraryCode::parse(library).unwrap(),
        item: Item {
            barcode: format!("3{}", id.trim_start_matches('L')),
            title: title.into(),
            author: author.into(),
            call_number: call_number.into(),
        },
        loaned_at: None,
        due_at,
        due_date,
        returned_at: None,
    }
}

fn loans(rows: &[&str]) -> Vec<Loan> {
    rows.iter().copied().map(loan).collect()
}

/// Everything `compose` takes, owned.
pub(super) struct Case {
    pub config: Config,
    pub stage: Stage,
    pub patron: Patron,
    pub to: EmailAddress,
    pub notice: Notice,
    pub loans: Vec<Loan>,
    pub other_overdue: Vec<Loan>,
    pub sent_at: DateTime<Utc>,
}

impl Case {
    /// A case for `stage` of the standard ladder, loans put in listing order.
    pub(super) fn new(stage: &str, mut loans: Vec<Loan>, mut other_overdue: Vec<Loan>) -> Self {
        let config = Config::parse(CONFIG).unwrap();
        let stage = config
            .ladder
            .get(&StageName::parse(stage).unwrap())
            .unwrap()
            .clone();
        loans.sort_by(listing_order);
        other_overdue.sort_by(listing_order);
        let patron = Patron {
            id: PatronId::parse("P0042").unwrap(),
            full_name: "Camille Martin".into(),
            email: Some(EmailAddress::parse("camille.martin@etu.example.fr").unwrap()),
            email_status: EmailStatus::Deliverable,
            address: PostalAddress::default(),
            language: None,
            courtesy_opt_out: false,
        };
        let notice_loans = loans
            .iter()
            .map(|l| NoticeLoan {
                loan_id: l.id.clone(),
                due_date: l.due_date,
                stage: stage.name.clone(),
            })
            .collect();
        let notice = Notice::pending(
            Notice::email_id(&patron.id, &stage.name, send_day()),
            send_day(),
            patron.id.clone(),
            Channel::Email,
            stage.name.clone(),
            None,
            notice_loans,
        );
        Self {
            to: patron.email.clone().unwrap(),
            config,
            stage,
            patron,
            notice,
            loans,
            other_overdue,
            sent_at: Utc.with_ymd_and_hms(2026, 11, 29, 7, 30, 0).unwrap(),
        }
    }

    /// A French first reminder: four loans at three libraries, two others overdue.
    pub(super) fn first_reminder() -> Self {
        Self::new(
            "first_reminder",
            loans(FIRST_REMINDER_LOANS),
            loans(FIRST_REMINDER_OTHERS),
        )
    }

    /// An English courtesy email, for a patron who also has an overdue loan.
    pub(super) fn courtesy() -> Self {
        let mut case = Self::new("courtesy", loans(COURTESY_LOANS), loans(COURTESY_OTHERS));
        case.patron.full_name = "Alex Morgan".into();
        case.patron.language = Some(Language::En);
        case
    }

    /// The same case at reminder `number` (a stage the standard ladder may lack).
    pub(super) fn with_reminder(mut self, number: u32) -> Self {
        self.stage.kind = StageKind::Reminder { number };
        self
    }

    pub(super) fn email_notice(&self) -> EmailNotice<'_> {
        EmailNotice {
            config: &self.config,
            notice: &self.notice,
            stage: &self.stage,
            patron: &self.patron,
            to: &self.to,
            loans: &self.loans,
            other_overdue: &self.other_overdue,
            send_day: send_day(),
            sent_at: self.sent_at,
        }
    }

    /// Composed with the shipped templates.
    pub(super) fn compose(&self) -> ComposedEmail {
        compose(&Templates::shipped(), &self.email_notice()).unwrap()
    }
}

/// The raw message parsed back.
pub(super) fn parse(email: &ComposedEmail) -> Message<'_> {
    MessageParser::new()
        .parse(&email.raw)
        .expect("a parseable message")
}

/// The header block, up to the blank line.
pub(super) fn header_block(email: &ComposedEmail) -> &[u8] {
    let end = email
        .raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a blank line after the headers");
    &email.raw[..end]
}

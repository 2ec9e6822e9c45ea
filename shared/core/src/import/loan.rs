//! Validating one `loans.csv` row.

use chrono::{DateTime, Utc};

use crate::calendar::local_date;
use crate::config::Config;
use crate::ids::{LibraryCode, LoanId, PatronId};
use crate::model::{Item, Loan};

use super::dates::{PlainDate, parse_moment};
use super::plausible::{MAX_AUTHOR_CHARS, MAX_CALL_NUMBER_CHARS, MAX_TITLE_CHARS};
use super::{Checked, LoanFields, Problems, RowRejected};

/// Validates a loans row against the config: the library must be one of its
/// libraries, and the due date is counted in its timezone (a plain date means the
/// end of that local day). Dates that cannot be right refuse the row, long texts
/// are cut (see `plausible.rs`). Whether the patron exists is the store's question.
pub fn check_loan(fields: &LoanFields<'_>, config: &Config) -> Result<Checked<Loan>, RowRejected> {
    let tz = config.institution.timezone;
    let mut problems = Problems::default();
    let id = problems.parsed("loan_id", LoanId::parse(fields.loan_id));
    let patron_id = problems.parsed("patron_id", PatronId::parse(fields.patron_id));
    let library = problems
        .parsed("library_code", LibraryCode::parse(fields.library_code))
        .filter(|code| {
            let known = config.library(code).is_some();
            if !known {
                problems.error(
                    "library_code",
                    format!(
                        "unknown library {:?} (not among the config's libraries)",
                        code.as_str()
                    ),
                );
            }
            known
        });
    let barcode = problems.required("barcode", fields.barcode);
    let title = problems.required("title", fields.title);
    let author = problems.text("author", fields.author);
    let call_number = problems.text("call_number", fields.call_number);
    let item = Item {
        barcode,
        title: problems.cut("title", title, MAX_TITLE_CHARS),
        author: problems.cut("author", author, MAX_AUTHOR_CHARS),
        call_number: problems.cut("call_number", call_number, MAX_CALL_NUMBER_CHARS),
    };
    let order = config.import.date_order;
    let loaned_at = optional_instant(&mut problems, "loaned_at", fields.loaned_at, config);
    let due_at = if fields.due_at.trim().is_empty() {
        problems.error("due_at", "is empty");
        None
    } else {
        let due_at = problems.parsed(
            "due_at",
            parse_moment(fields.due_at, tz, order, PlainDate::EndOfDay),
        );
        problems.plausible("due_at", due_at)
    };
    let returned_at = optional_instant(&mut problems, "returned_at", fields.returned_at, config);
    if let (Some(loaned_at), Some(due_at), Some(returned_at)) = (loaned_at, due_at, returned_at) {
        problems.loan_dates(loaned_at, due_at, returned_at);
    }
    let (
        Some(id),
        Some(patron_id),
        Some(library),
        Some(loaned_at),
        Some(due_at),
        Some(returned_at),
    ) = (id, patron_id, library, loaned_at, due_at, returned_at)
    else {
        return Err(problems.rejected());
    };
    problems.finish(Loan {
        id,
        patron_id,
        library,
        item,
        loaned_at,
        due_at,
        due_date: local_date(due_at, tz),
        returned_at,
    })
}

/// `Some(None)` for an empty field; a plain date is the start of that day.
fn optional_instant(
    problems: &mut Problems,
    field: &'static str,
    value: &str,
    config: &Config,
) -> Option<Option<DateTime<Utc>>> {
    if value.trim().is_empty() {
        return Some(None);
    }
    let tz = config.institution.timezone;
    let order = config.import.date_order;
    let at = problems.parsed(field, parse_moment(value, tz, order, PlainDate::StartOfDay));
    problems.plausible(field, at).map(Some)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    const CONFIG: &str = crate::testing::INSTITUTION;

    fn config() -> Config {
        Config::parse(CONFIG).unwrap()
    }

    fn row() -> LoanFields<'static> {
        LoanFields {
            loan_id: "L00000001",
            patron_id: "P0000001",
            library_code: "STS",
            barcode: "3300100000017",
            title: "Les Misérables",
            author: "Victor Hugo",
            call_number: "843.7 HUG",
            loaned_at: "2026-10-01T10:15:00+02:00",
            due_at: "2026-11-29T23:59:00+01:00",
            returned_at: "",
        }
    }

    fn fields_in_error(fields: LoanFields<'_>) -> Vec<&'static str> {
        let rejected = check_loan(&fields, &config()).unwrap_err();
        rejected.errors.iter().map(|e| e.field).collect()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_complete_row_becomes_an_open_loan_due_on_its_local_date() {
        let loan = check_loan(&row(), &config()).unwrap().value;
        assert!(loan.is_open());
        assert_eq!(loan.library.as_str(), "STS");
        assert_eq!(loan.due_date, day("2026-11-29"));
        assert_eq!(loan.due_at.to_rfc3339(), "2026-11-29T22:59:00+00:00");
        assert!(loan.loaned_at.is_some());
    }

    #[test]
    fn required_loan_fields_are_checked_together() {
        let empty = LoanFields {
            library_code: "STS",
            ..Default::default()
        };
        assert_eq!(
            fields_in_error(empty),
            ["loan_id", "patron_id", "barcode", "title", "due_at"]
        );
        let optional = LoanFields {
            author: "",
            call_number: "",
            loaned_at: "",
            ..row()
        };
        assert!(check_loan(&optional, &config()).is_ok());
    }

    #[test]
    fn the_library_must_be_one_of_the_config() {
        let err = check_loan(
            &LoanFields {
                library_code: "XYZ",
                ..row()
            },
            &config(),
        )
        .unwrap_err();
        assert_eq!(err.errors[0].field, "library_code");
        assert!(err.errors[0].reason.contains("unknown library \"XYZ\""));
        assert_eq!(
            fields_in_error(LoanFields {
                library_code: "S T",
                ..row()
            }),
            ["library_code"]
        );
    }

    #[test]
    fn a_plain_due_date_is_the_end_of_that_local_day() {
        let loan = check_loan(
            &LoanFields {
                loaned_at: "",
                due_at: "2026-03-29",
                ..row()
            },
            &config(),
        )
        .unwrap()
        .value;
        assert_eq!(loan.due_date, day("2026-03-29"));
        // 23:59:59 on the spring-forward day is already summer time in Paris.
        assert_eq!(loan.due_at.to_rfc3339(), "2026-03-29T21:59:59+00:00");
    }

    #[test]
    fn a_due_time_after_local_midnight_is_on_the_local_date_not_the_utc_one() {
        let loan = check_loan(
            &LoanFields {
                due_at: "2026-11-30T23:30:00Z",
                ..row()
            },
            &config(),
        )
        .unwrap()
        .value;
        assert_eq!(loan.due_date, day("2026-12-01"));
    }

    #[test]
    fn dates_as_exports_write_them_are_read_in_the_institutions_time() {
        let config = config();
        let read = |fields: LoanFields<'_>| check_loan(&fields, &config).unwrap().value;
        let french = read(LoanFields {
            loaned_at: "01/10/2026 10:15",
            due_at: "29/11/2026",
            returned_at: "02/11/2026",
            ..row()
        });
        assert_eq!(french.due_at.to_rfc3339(), "2026-11-29T22:59:59+00:00");
        assert_eq!(
            french.loaned_at.unwrap().to_rfc3339(),
            "2026-10-01T08:15:00+00:00"
        );
        // A plain return date is the start of that day.
        assert_eq!(
            french.returned_at.unwrap().to_rfc3339(),
            "2026-11-01T23:00:00+00:00"
        );
        assert_eq!(
            fields_in_error(LoanFields {
                due_at: "11/29/2026",
                ..row()
            }),
            ["due_at"]
        );
        assert_eq!(
            fields_in_error(LoanFields {
                loaned_at: "le premier octobre",
                ..row()
            }),
            ["loaned_at"]
        );
    }

    #[test]
    fn a_returned_at_closes_the_loan() {
        let loan = check_loan(
            &LoanFields {
                returned_at: "2026-11-02T17:40:00+01:00",
                ..row()
            },
            &config(),
        )
        .unwrap()
        .value;
        assert!(!loan.is_open());
    }

    #[test]
    fn a_loan_due_or_returned_before_it_was_lent_is_rejected() {
        assert_eq!(
            fields_in_error(LoanFields {
                loaned_at: "2026-12-01T10:00:00+01:00",
                due_at: "2026-11-29",
                returned_at: "2026-11-30T10:00:00+01:00",
                ..row()
            }),
            ["due_at", "returned_at"]
        );
        // Lent and due the same day is a short loan, not an error.
        assert!(
            check_loan(
                &LoanFields {
                    loaned_at: "2026-11-29T10:00:00+01:00",
                    due_at: "2026-11-29",
                    ..row()
                },
                &config()
            )
            .is_ok()
        );
    }

    #[test]
    fn placeholder_years_are_rejected_and_a_very_long_loan_is_a_warning() {
        for (loaned_at, due_at, returned_at, field) in [
            ("0001-01-01T00:00:00Z", "2026-11-29", "", "loaned_at"),
            ("", "9999-12-31", "", "due_at"),
            ("", "2026-11-29", "2200-01-01T00:00:00Z", "returned_at"),
        ] {
            let fields = LoanFields {
                loaned_at,
                due_at,
                returned_at,
                ..row()
            };
            assert_eq!(fields_in_error(fields), [field]);
        }
        let long = check_loan(
            &LoanFields {
                due_at: "2029-11-29",
                ..row()
            },
            &config(),
        )
        .unwrap();
        assert_eq!(long.warnings[0].field, "due_at");
    }

    #[test]
    fn long_title_author_and_call_number_are_cut_with_a_warning_each() {
        let title = "Les Misérables ".repeat(70_000);
        let author = "Hugo, ".repeat(100);
        let call_number = "843".repeat(100);
        let checked = check_loan(
            &LoanFields {
                title: &title,
                author: &author,
                call_number: &call_number,
                ..row()
            },
            &config(),
        )
        .unwrap();
        let item = checked.value.item;
        assert!(item.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(item.title.starts_with("Les Misérables Les"));
        assert!(item.author.chars().count() <= MAX_AUTHOR_CHARS);
        assert_eq!(item.call_number.chars().count(), MAX_CALL_NUMBER_CHARS);
        let fields: Vec<_> = checked.warnings.iter().map(|w| w.field).collect();
        assert_eq!(fields, ["title", "author", "call_number"]);
    }

    #[test]
    fn control_characters_in_loan_text_refuse_the_row() {
        assert_eq!(
            fields_in_error(LoanFields {
                title: "Les Misérables\u{0}",
                author: "Victor\nHugo",
                ..row()
            }),
            ["title", "author"]
        );
    }
}

//! Values that parse but cannot be right, or are too long to print.
//!
//! A row that cannot be right is rejected: a loan due or returned before it
//! was lent, a date outside [`PLAUSIBLE_YEARS`] (year 0001 or 9999 is a
//! placeholder, not a date). A row that may well be right is imported with a
//! warning: a loan period over [`LONG_LOAN_DAYS`], or a text longer than
//! notices and letters can show, cut to its limit (a 1 MB title once made a
//! 2.2 MB email and a 492-page letter).

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, Utc};

use super::Problems;

/// The years a loan's dates may fall in.
pub const PLAUSIBLE_YEARS: RangeInclusive<i32> = 1900..=2199;
/// The longest title kept, in characters (a long subtitle fits).
pub const MAX_TITLE_CHARS: usize = 500;
/// The longest author kept, in characters (several names fit).
pub const MAX_AUTHOR_CHARS: usize = 200;
/// The longest call number kept, in characters.
pub const MAX_CALL_NUMBER_CHARS: usize = 100;
/// A loan due more days than this after it was lent is imported with a warning.
pub const LONG_LOAN_DAYS: i64 = 2 * 366;

impl Problems {
    /// `value` cut to `max` characters, with a warning when it was longer.
    pub(super) fn cut(&mut self, field: &'static str, value: String, max: usize) -> String {
        let Some((end, _)) = value.char_indices().nth(max) else {
            return value;
        };
        let length = value.chars().count();
        self.warn(
            field,
            format!("is {length} characters long; cut to the first {max}"),
        );
        let mut value = value;
        value.truncate(end);
        value.truncate(value.trim_end().len());
        value
    }

    /// Refuses a date outside [`PLAUSIBLE_YEARS`].
    pub(super) fn plausible(
        &mut self,
        field: &'static str,
        at: Option<DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        let at = at?;
        if PLAUSIBLE_YEARS.contains(&at.year()) {
            return Some(at);
        }
        self.error(
            field,
            format!(
                "is in year {:04}, outside {} to {} (a placeholder date?)",
                at.year(),
                PLAUSIBLE_YEARS.start(),
                PLAUSIBLE_YEARS.end()
            ),
        );
        None
    }

    /// Checks the order of a loan's dates.
    pub(super) fn loan_dates(
        &mut self,
        loaned_at: Option<DateTime<Utc>>,
        due_at: DateTime<Utc>,
        returned_at: Option<DateTime<Utc>>,
    ) {
        let Some(loaned_at) = loaned_at else {
            return;
        };
        if due_at < loaned_at {
            self.error(
                "due_at",
                "is before loaned_at: a loan cannot be due before it was lent",
            );
        } else if (due_at - loaned_at).num_days() > LONG_LOAN_DAYS {
            self.warn(
                "due_at",
                format!(
                    "is {} days after loaned_at (more than {LONG_LOAN_DAYS}); check the export",
                    (due_at - loaned_at).num_days()
                ),
            );
        }
        if returned_at.is_some_and(|returned| returned < loaned_at) {
            self.error(
                "returned_at",
                "is before loaned_at: a loan cannot be returned before it was lent",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_text_is_cut_on_a_character_boundary_with_a_warning() {
        let mut problems = Problems::default();
        let title = "é".repeat(MAX_TITLE_CHARS + 10);
        let cut = problems.cut("title", title, MAX_TITLE_CHARS);
        assert_eq!(cut.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(problems.warnings.len(), 1);
        assert_eq!(
            problems.warnings[0].reason,
            "is 510 characters long; cut to the first 500"
        );
        let short = problems.cut("author", "Victor Hugo".into(), MAX_AUTHOR_CHARS);
        assert_eq!(short, "Victor Hugo");
        assert_eq!(problems.warnings.len(), 1);
        assert!(problems.errors.is_empty());
    }
}

//! The snapshot guard: a loans file that would close too many loans is more
//! likely truncated than true.

use std::fmt;

/// The most a snapshot may close without being forced, in percent of the open loans.
pub const SNAPSHOT_MAX_CLOSE_PERCENT: u64 = 20;

/// A snapshot refused by [`snapshot_guard`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct SnapshotRefused {
    /// Open loans before the import.
    pub open_before: u64,
    /// Open loans the snapshot does not list.
    pub would_close: u64,
}

impl fmt::Display for SnapshotRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let percent = self.would_close as f64 * 100.0 / self.open_before.max(1) as f64;
        write!(
            f,
            "snapshot refused: it would close {} of the {} open loans ({percent:.1} %), \
             more than {SNAPSHOT_MAX_CLOSE_PERCENT} %; nothing was imported. Check that the \
             loans file is complete, or force the snapshot if it is",
            self.would_close, self.open_before
        )
    }
}

/// Allows closing `would_close` of `open_before` open loans when that is at most
/// 20 % of them, or when forced.
pub fn snapshot_guard(
    open_before: u64,
    would_close: u64,
    forced: bool,
) -> Result<(), SnapshotRefused> {
    // would_close / open_before > 20 / 100, in integers.
    let too_many = u128::from(would_close) * 100
        > u128::from(open_before) * u128::from(SNAPSHOT_MAX_CLOSE_PERCENT);
    if too_many && !forced {
        Err(SnapshotRefused {
            open_before,
            would_close,
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_exactly_twenty_percent_is_allowed_and_one_more_is_refused() {
        assert_eq!(snapshot_guard(1000, 200, false), Ok(()));
        assert_eq!(
            snapshot_guard(1000, 201, false),
            Err(SnapshotRefused {
                open_before: 1000,
                would_close: 201
            })
        );
        assert_eq!(snapshot_guard(5, 1, false), Ok(()));
        assert!(snapshot_guard(4, 1, false).is_err());
    }

    #[test]
    fn forcing_allows_any_snapshot() {
        assert_eq!(snapshot_guard(10, 10, true), Ok(()));
    }

    #[test]
    fn a_store_without_open_loans_has_nothing_to_close() {
        assert_eq!(snapshot_guard(0, 0, false), Ok(()));
    }

    #[test]
    fn the_refusal_says_how_many_and_what_to_do() {
        let text = snapshot_guard(1000, 312, false).unwrap_err().to_string();
        assert!(
            text.contains("312 of the 1000 open loans (31.2 %)"),
            "{text}"
        );
        assert!(text.contains("force"), "{text}");
    }
}

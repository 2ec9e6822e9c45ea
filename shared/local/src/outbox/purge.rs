//! The outbox's files that expire (rules §16): a run day's `letters/` after
//! `[retention] letters` days, its `mail/` (sent notices, forwards of replies,
//! staff reports) after `mail` days; and a patron's own files on erasure.

use std::fs;
use std::path::Path;

use chrono::NaiveDate;
use relance_core::ids::{PatronId, Reference, StageName};
use relance_core::ports::StoreError;
use relance_core::retention::PurgeCutoffs;

use super::Outbox;

fn unavailable(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::unavailable(format!("{}: {e}", path.display())).caused_by(e)
}

/// The entries of a folder; none when it does not exist.
fn entries(dir: &Path) -> Result<Vec<fs::DirEntry>, StoreError> {
    match fs::read_dir(dir) {
        Ok(list) => list
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| unavailable(dir, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(unavailable(dir, e)),
    }
}

/// How many files are under `dir`; removes them (and `dir`) unless `dry_run`.
fn clear(dir: &Path, dry_run: bool) -> Result<u64, StoreError> {
    let mut files = 0;
    for entry in entries(dir)? {
        let path = entry.path();
        if path.is_dir() {
            files += clear(&path, dry_run)?;
        } else {
            files += 1;
            if !dry_run {
                fs::remove_file(&path).map_err(|e| unavailable(&path, e))?;
            }
        }
    }
    if !dry_run && dir.exists() {
        fs::remove_dir(dir).map_err(|e| unavailable(dir, e))?;
    }
    Ok(files)
}

impl Outbox {
    /// The run day folders of the outbox, oldest first.
    fn days(&self) -> Result<Vec<(NaiveDate, std::path::PathBuf)>, StoreError> {
        let mut days: Vec<_> = entries(self.root())?
            .into_iter()
            .filter_map(|e| {
                let name = e.file_name();
                let day = NaiveDate::parse_from_str(&name.to_string_lossy(), "%Y-%m-%d").ok()?;
                Some((day, e.path()))
            })
            .collect();
        days.sort();
        Ok(days)
    }

    /// Removes the letter and mail files `cutoffs` makes due, and a run day's
    /// folder once empty; returns (letter files, mail files). With `dry_run`,
    /// only counts them.
    pub fn purge(&self, cutoffs: &PurgeCutoffs, dry_run: bool) -> Result<(u64, u64), StoreError> {
        let (mut letters, mut mail) = (0, 0);
        for (day, dir) in self.days()? {
            if day <= cutoffs.letters_through {
                letters += clear(&dir.join("letters"), dry_run)?;
            }
            if day <= cutoffs.mail_through {
                mail += clear(&dir.join("mail"), dry_run)?;
            }
            if !dry_run && entries(&dir)?.is_empty() {
                fs::remove_dir(&dir).map_err(|e| unavailable(&dir, e))?;
            }
        }
        Ok((letters, mail))
    }

    /// Removes a patron's own files: their mail (`{stage}-{patron}.eml`) and
    /// their letters (`{patron}.pdf`, `{patron}-{reference}.pdf`). A print batch
    /// holds other patrons' letters too: it stays until `[retention] letters`.
    /// Returns how many files went.
    pub fn erase_patron_files(
        &self,
        patron: &PatronId,
        stages: &[StageName],
        references: &[Reference],
    ) -> Result<u64, StoreError> {
        let stem = patron.file_stem();
        let mut names: Vec<String> = stages
            .iter()
            .map(|stage| format!("{stage}-{stem}.eml"))
            .collect();
        names.push(format!("{stem}.pdf"));
        names.extend(references.iter().map(|r| format!("{stem}-{r}.pdf")));
        let mut removed = 0;
        for (_, dir) in self.days()? {
            let mut folders = vec![dir.join("mail")];
            folders.extend(
                entries(&dir.join("letters"))?
                    .into_iter()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir()),
            );
            for folder in folders {
                for name in &names {
                    let path = folder.join(name);
                    match fs::remove_file(&path) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(unavailable(&path, e)),
                    }
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::Paris;
    use relance_core::config::Retention;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn outbox() -> (tempfile::TempDir, Outbox) {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox"));
        for (path, bytes) in [
            ("2027-01-04/mail/first_reminder-P1.eml", "m"),
            ("2027-01-04/mail/report-2027-01-04.eml", "r"),
            ("2027-01-04/letters/STS/batch.pdf", "b"),
            ("2027-01-04/letters/STS/P1.pdf", "l"),
            ("2027-01-04/letters/STS/manifest.csv", "c"),
            ("2027-03-01/mail/courtesy-P2.eml", "m"),
        ] {
            super::super::write_file(&outbox.root().join(path), bytes.as_bytes()).unwrap();
        }
        (dir, outbox)
    }

    #[test]
    fn letters_and_mail_of_a_day_go_after_ninety_days_and_then_the_day_folder() {
        let (_dir, outbox) = outbox();
        let cut = |day| Retention::default().cutoffs(d(day), Paris);
        assert_eq!(outbox.purge(&cut("2027-04-03"), false).unwrap(), (0, 0));
        assert_eq!(outbox.purge(&cut("2027-04-04"), true).unwrap(), (3, 2));
        assert!(
            outbox
                .root()
                .join("2027-01-04/letters/STS/batch.pdf")
                .exists()
        );
        assert_eq!(outbox.purge(&cut("2027-04-04"), false).unwrap(), (3, 2));
        assert!(!outbox.root().join("2027-01-04").exists());
        assert!(
            outbox
                .root()
                .join("2027-03-01/mail/courtesy-P2.eml")
                .exists()
        );
    }

    #[test]
    fn erasing_a_patron_removes_their_mail_and_letter_but_not_the_batch() {
        let (_dir, outbox) = outbox();
        let stages = [StageName::parse("first_reminder").unwrap()];
        let removed = outbox
            .erase_patron_files(&PatronId::parse("P1").unwrap(), &stages, &[])
            .unwrap();
        assert_eq!(removed, 2);
        assert!(
            outbox
                .root()
                .join("2027-01-04/letters/STS/batch.pdf")
                .exists()
        );
        assert!(
            outbox
                .root()
                .join("2027-03-01/mail/courtesy-P2.eml")
                .exists()
        );
    }
}

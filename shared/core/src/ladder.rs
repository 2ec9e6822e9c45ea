//! The ladder of stages a loan climbs, by days from its local due date.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::shift;
use crate::ids::StageName;

/// How a stage reaches the patron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A consolidated email to the patron.
    Email,
    /// A printed letter, posted by the owning library.
    Letter,
}

impl Channel {
    /// The name used in config, stores and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Letter => "letter",
        }
    }

    /// Reads `email` or `letter`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(Self::Email),
            "letter" => Some(Self::Letter),
            _ => None,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a stage says to the patron, which decides its wording and eligibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageKind {
    /// Before (or on) the due date: a friendly email, skipped when it cannot be emailed.
    Courtesy,
    /// After the due date, by email; `number` counts the reminders from 1.
    Reminder { number: u32 },
    /// The formal letter.
    Letter,
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    /// Unique name, e.g. `first_reminder`.
    pub name: StageName,
    /// Days from the local due date: negative before it.
    pub offset_days: i32,
    /// How the stage is delivered.
    pub channel: Channel,
    /// Derived from offset and channel.
    pub kind: StageKind,
    /// Position in the ladder, from 0: later stages rank higher.
    pub rank: usize,
}

impl Stage {
    /// The due date a loan must have to reach this stage on `day`.
    pub fn due_date_reaching_on(&self, day: NaiveDate) -> Option<NaiveDate> {
        shift(day, -i64::from(self.offset_days))
    }

    /// The day a loan due on `due` reaches this stage.
    pub fn day_reached(&self, due: NaiveDate) -> Option<NaiveDate> {
        shift(due, i64::from(self.offset_days))
    }
}

/// Why a ladder was refused; `stage` is the position of the stage at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LadderError {
    #[error("at least one stage is needed")]
    Empty,
    #[error("stage name {name:?} is used twice")]
    DuplicateName { stage: usize, name: String },
    #[error("offsets must strictly increase: {name:?} has {offset} after {previous}")]
    NotIncreasing {
        stage: usize,
        name: String,
        offset: i32,
        previous: i32,
    },
}

/// The validated ladder: unique names, strictly increasing offsets, at least one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ladder {
    stages: Vec<Stage>,
}

impl Ladder {
    /// Validates `(name, offset, channel)` triples given in ladder order.
    pub fn new(
        stages: impl IntoIterator<Item = (StageName, i32, Channel)>,
    ) -> Result<Self, LadderError> {
        let mut built: Vec<Stage> = Vec::new();
        let mut reminders = 0;
        for (rank, (name, offset_days, channel)) in stages.into_iter().enumerate() {
            if built.iter().any(|s| s.name == name) {
                return Err(LadderError::DuplicateName {
                    stage: rank,
                    name: name.to_string(),
                });
            }
            if let Some(previous) = built.last()
                && offset_days <= previous.offset_days
            {
                return Err(LadderError::NotIncreasing {
                    stage: rank,
                    name: name.to_string(),
                    offset: offset_days,
                    previous: previous.offset_days,
                });
            }
            let kind = match channel {
                Channel::Letter => StageKind::Letter,
                Channel::Email if offset_days <= 0 => StageKind::Courtesy,
                Channel::Email => {
                    reminders += 1;
                    StageKind::Reminder { number: reminders }
                }
            };
            built.push(Stage {
                name,
                offset_days,
                channel,
                kind,
                rank,
            });
        }
        if built.is_empty() {
            return Err(LadderError::Empty);
        }
        Ok(Self { stages: built })
    }

    /// The ladder of the source document: courtesy −3, reminders +7 and +21, letter +35.
    pub fn standard() -> Self {
        let stage = |name: &str| StageName::parse(name).expect("valid stage name");
        Self::new([
            (stage("courtesy"), -3, Channel::Email),
            (stage("first_reminder"), 7, Channel::Email),
            (stage("second_reminder"), 21, Channel::Email),
            (stage("letter"), 35, Channel::Letter),
        ])
        .expect("the standard ladder is valid")
    }

    /// The stages in order.
    pub fn stages(&self) -> &[Stage] {
        &self.stages
    }

    /// The stage of that name.
    pub fn get(&self, name: &StageName) -> Option<&Stage> {
        self.stages.iter().find(|s| &s.name == name)
    }

    /// The stage a loan due on `due` reaches on `day`, if any: a loan reaches each
    /// stage on exactly one day.
    pub fn stage_on(&self, due: NaiveDate, day: NaiveDate) -> Option<&Stage> {
        let offset = (day - due).num_days();
        self.stages
            .iter()
            .find(|s| i64::from(s.offset_days) == offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> StageName {
        StageName::parse(s).unwrap()
    }

    #[test]
    fn the_standard_ladder_has_a_courtesy_two_numbered_reminders_and_a_letter() {
        let ladder = Ladder::standard();
        let kinds: Vec<_> = ladder.stages().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                StageKind::Courtesy,
                StageKind::Reminder { number: 1 },
                StageKind::Reminder { number: 2 },
                StageKind::Letter
            ]
        );
    }

    #[test]
    fn a_ladder_refuses_duplicate_names_and_offsets_that_do_not_increase() {
        let dup = Ladder::new([
            (name("a"), 1, Channel::Email),
            (name("a"), 2, Channel::Email),
        ]);
        assert_eq!(
            dup,
            Err(LadderError::DuplicateName {
                stage: 1,
                name: "a".into()
            })
        );
        let flat = Ladder::new([
            (name("a"), 7, Channel::Email),
            (name("b"), 7, Channel::Email),
        ]);
        assert!(matches!(
            flat,
            Err(LadderError::NotIncreasing { stage: 1, .. })
        ));
        assert_eq!(Ladder::new([]), Err(LadderError::Empty));
    }

    #[test]
    fn a_loan_reaches_each_stage_on_exactly_one_day() {
        let ladder = Ladder::standard();
        let due = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let hits: Vec<_> = (-10..60)
            .filter_map(|o| ladder.stage_on(due, crate::calendar::shift(due, o).unwrap()))
            .map(|s| s.name.as_str().to_owned())
            .collect();
        assert_eq!(
            hits,
            ["courtesy", "first_reminder", "second_reminder", "letter"]
        );
    }
}

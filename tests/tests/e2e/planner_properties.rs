//! For any loans and any sequence of run days with gaps: no (loan, due date, stage)
//! is ever sent twice, a stage is only sent on a day rules §4 allows, and every
//! stage reached on a planned day is handled (sent, kept for print or skipped).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use proptest::prelude::*;
use relance_core::calendar::shift;
use relance_core::ids::{LoanId, PatronId};
use relance_tests::{TestEnv, day, loan_row, patron_row};

const BASE: &str = "2026-11-01";

/// rules §4 in its own words: with W the last day planned and `catch_up_days` = 2,
/// a run for D plans W+1…D when D − W ≤ 3, D alone on a first run or after a
/// longer stop, and nothing when D ≤ W.
fn days_the_spec_allows(watermark: Option<NaiveDate>, run_day: NaiveDate) -> Vec<NaiveDate> {
    match watermark {
        None => vec![run_day],
        Some(w) if run_day <= w => vec![],
        Some(w) if (run_day - w).num_days() <= 3 => (1..=(run_day - w).num_days())
            .map(|i| shift(w, i).unwrap())
            .collect(),
        Some(_) => vec![run_day],
    }
}

#[derive(Debug, Clone)]
struct Scenario {
    /// (due offset from BASE, patron index, library index)
    loans: Vec<(i64, usize, usize)>,
    /// Gaps between consecutive run days (1 = the next day).
    gaps: Vec<i64>,
    /// Which of the four patrons have an email.
    emails: [bool; 4],
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec((-40i64..60, 0usize..4, 0usize..3), 1..25),
        prop::collection::vec(1i64..7, 1..14),
        prop::array::uniform4(any::<bool>()),
    )
        .prop_map(|(loans, gaps, emails)| Scenario {
            loans,
            gaps,
            emails,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn no_stage_is_sent_twice_nor_on_a_day_the_rules_forbid(s in scenario()) {
        let env = TestEnv::new();
        let base = day(BASE);
        let libraries = ["STS", "DRT", "LSH"];
        let patrons: Vec<_> = (0..4)
            .map(|i| {
                let email = if s.emails[i] { format!("p{i}@example.fr") } else { String::new() };
                patron_row(&format!("P{i}"), "Alex Dupont", &email, i == 3)
            })
            .collect();
        let loans: Vec<_> = s.loans.iter().enumerate()
            .map(|(n, &(due, p, l))| loan_row(&format!("L{n}"), &format!("P{p}"), libraries[l], shift(base, due).unwrap(), None))
            .collect();
        env.import(&patrons, &loans);

        // Run the days, remembering what each run was allowed to plan.
        assert_eq!(env.config.institution.catch_up_days, 2);
        let mut run_day = base;
        let mut watermark: Option<NaiveDate> = None;
        let mut allowed: HashMap<NaiveDate, Vec<NaiveDate>> = HashMap::new();
        for gap in &s.gaps {
            run_day = shift(run_day, *gap).unwrap();
            let days = days_the_spec_allows(watermark, run_day);
            let summary = env.run(run_day);
            prop_assert_eq!(&summary.planned_days, &days);
            allowed.insert(run_day, days);
            watermark = Some(run_day);
        }

        let ladder = &env.config.ladder;
        let mut handled = HashSet::new();
        for p in 0..4 {
            for notice in env.store.notices_of(&PatronId::parse(&format!("P{p}")).unwrap()).unwrap() {
                for l in &notice.loans {
                    prop_assert!(handled.insert((l.loan_id.clone(), l.due_date, l.stage.clone())),
                        "{:?} sent twice", l);
                    let stage = ladder.get(&l.stage).unwrap();
                    if stage.offset_days < 0 {
                        prop_assert!(s.emails[p] && p != 3,
                            "courtesy to P{} who opted out or has no email", p);
                    }
                    let reached = stage.day_reached(l.due_date).unwrap();
                    prop_assert!(allowed[&notice.run_day].contains(&reached),
                        "{} reached {} on {reached}, outside the days run {} planned", l.loan_id, l.stage, notice.run_day);
                }
            }
        }

        // Nothing silently lost: every stage reached on a planned day by a loan that
        // could receive it is in a notice.
        let planned: HashSet<NaiveDate> = allowed.values().flatten().copied().collect();
        for (n, &(due, p, _)) in s.loans.iter().enumerate() {
            let due = shift(base, due).unwrap();
            for stage in ladder.stages() {
                let reached = stage.day_reached(due).unwrap();
                let courtesy_impossible = stage.offset_days < 0 && (!s.emails[p] || p == 3);
                if planned.contains(&reached) && !courtesy_impossible {
                    let key = (LoanId::parse(&format!("L{n}")).unwrap(), due, stage.name.clone());
                    prop_assert!(handled.contains(&key), "L{} {} on {reached} was lost", n, stage.name);
                }
            }
        }
    }
}

//! Which days a run plans: make up a short miss, never send retroactively after a
//! long stop (rules §4).

use chrono::NaiveDate;

use crate::calendar::{days_between, shift};

/// The days a run for `run_day` plans, given the watermark (the last run day fully
/// planned): `W+1 … D` when the gap is at most `1 + catch_up_days`, `D` alone on a
/// first run or after a longer stop, nothing when `D` was already planned.
pub fn planned_days(
    watermark: Option<NaiveDate>,
    run_day: NaiveDate,
    catch_up_days: u32,
) -> Vec<NaiveDate> {
    let Some(watermark) = watermark else {
        return vec![run_day];
    };
    let gap = days_between(watermark, run_day);
    if gap <= 0 {
        return Vec::new();
    }
    if gap <= 1 + i64::from(catch_up_days) {
        (1..=gap).filter_map(|i| shift(watermark, i)).collect()
    } else {
        vec![run_day]
    }
}

/// The watermark `resume` sets so that the next run plans `day` only.
pub fn resume_watermark(day: NaiveDate) -> Option<NaiveDate> {
    shift(day, -1)
}

/// How far from today a run or resume day may be without being forced: a year
/// and a day, so that a typo in a year (2072 for 2027) is caught before it moves
/// the watermark out of reach.
pub const FAR_DAYS: i64 = 366;

/// Whether `day` is within [`FAR_DAYS`] of `today`, either way.
pub fn within_reach(day: NaiveDate, today: NaiveDate) -> bool {
    days_between(today, day).abs() <= FAR_DAYS
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_day_a_year_away_is_within_reach_and_a_typo_in_the_year_is_not() {
        let today = d("2027-01-10");
        assert!(within_reach(d("2028-01-11"), today));
        assert!(within_reach(d("2026-01-09"), today));
        assert!(!within_reach(d("2028-01-12"), today));
        assert!(!within_reach(d("2072-01-10"), today));
        assert!(!within_reach(d("9999-12-31"), today));
        assert!(!within_reach(d("2017-01-10"), today));
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_first_run_plans_its_day_only() {
        assert_eq!(planned_days(None, d("2026-11-29"), 2), [d("2026-11-29")]);
    }

    #[test]
    fn a_missed_day_or_two_is_made_up() {
        let w = Some(d("2026-11-26"));
        assert_eq!(
            planned_days(w, d("2026-11-29"), 2),
            [d("2026-11-27"), d("2026-11-28"), d("2026-11-29")]
        );
        assert_eq!(planned_days(w, d("2026-11-27"), 2), [d("2026-11-27")]);
    }

    #[test]
    fn a_longer_stop_plans_the_run_day_only() {
        assert_eq!(
            planned_days(Some(d("2026-11-25")), d("2026-11-29"), 2),
            [d("2026-11-29")]
        );
        assert_eq!(
            planned_days(Some(d("2026-10-01")), d("2026-11-29"), 0),
            [d("2026-11-29")]
        );
    }

    #[test]
    fn a_day_already_planned_plans_nothing_new() {
        assert!(planned_days(Some(d("2026-11-29")), d("2026-11-29"), 2).is_empty());
        assert!(planned_days(Some(d("2026-11-29")), d("2026-11-20"), 2).is_empty());
    }

    #[test]
    fn resume_makes_the_next_run_plan_its_day_only() {
        let day = d("2026-11-29");
        assert_eq!(planned_days(resume_watermark(day), day, 2), [day]);
    }

    proptest! {
        #[test]
        fn planned_days_never_precede_the_watermark_nor_follow_the_run_day(
            w in 0i64..400, gap in -5i64..40, catch_up in 0u32..5,
        ) {
            let watermark = shift(d("2026-01-01"), w).unwrap();
            let run_day = shift(watermark, gap).unwrap();
            let days = planned_days(Some(watermark), run_day, catch_up);
            prop_assert!(days.iter().all(|&day| day > watermark && day <= run_day));
            prop_assert!(days.len() as i64 <= 1 + i64::from(catch_up));
            prop_assert!(days.windows(2).all(|p| p[0] < p[1]));
            if gap > 0 { prop_assert_eq!(days.last().copied(), Some(run_day)); }
        }
    }
}

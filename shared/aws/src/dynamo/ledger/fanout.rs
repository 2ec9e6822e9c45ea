//! `impl FanOutBook for Dynamo`: the claims, counters and run manifests of
//! [`super`] and [`super::deliveries`] behind the functions' port.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use relance_core::ids::NoticeId;
use relance_core::ports::{Ledger, StoreError};
use relance_core::summary::RunSummary;

use crate::dynamo::Dynamo;
use crate::fanout::{Claim, Counters, FanOutBook, ReportClaim};

impl FanOutBook for Dynamo {
    async fn claim(
        &self,
        id: &NoticeId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        Dynamo::claim(self, id, now, lease).await
    }

    async fn count_delivered(
        &self,
        run_day: NaiveDate,
        counts: &[(&'static str, u64)],
    ) -> Result<(), StoreError> {
        Dynamo::count_delivered(self, run_day, counts).await
    }

    async fn take_recheck_call(&self, run_day: NaiveDate, max: u32) -> Result<bool, StoreError> {
        Dynamo::take_recheck_call(self, run_day, max).await
    }

    async fn delivered(
        &self,
        run_days: &[NaiveDate],
    ) -> Result<BTreeMap<NaiveDate, Counters>, StoreError> {
        Dynamo::delivered(self, run_days).await
    }

    async fn record_run(&self, summary: &RunSummary) -> Result<(), StoreError> {
        Ledger::record_run(self, summary).await
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunSummary>, StoreError> {
        Dynamo::runs(self, limit).await
    }

    async fn claim_report(
        &self,
        run_day: NaiveDate,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<ReportClaim, StoreError> {
        Dynamo::claim_report(self, run_day, now, lease).await
    }

    async fn record_report(
        &self,
        run_day: NaiveDate,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Dynamo::record_report(self, run_day, message_id, at).await
    }

    fn read_units(&self) -> f64 {
        Dynamo::read_units(self)
    }
}

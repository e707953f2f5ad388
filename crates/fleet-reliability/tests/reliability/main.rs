//! The reliability suites: one module per row of `RELIABILITY.md`. Each row prints
//! `scorecard: <row> tried=<N> violations=<M>` (and appends it to the scorecard file that
//! `scripts/test.sh` prints), then asserts no violation. Rows that touch DynamoDB need the DynamoDB
//! Local that `scripts/test.sh` (or `scripts/with-dynamodb.sh`) starts.
//!
//! `FLEETLIFT_RELIABILITY_BIG=1` multiplies every row's volume by 10.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a panic is the failure report, and a test reads as one scenario (the limits are for product code)"
)]

mod support;
mod support_http;

mod r01_duplicates;
mod r02_reordering;
mod r03_hazards;
mod r04_overbooking;
mod r05_lost_results;
mod r06_faults;
mod r07_retries;
mod r08_bad_input;
mod r09_authz;
mod r10_resources;
mod r11_poison;
mod r12_soak;
mod r13_limits;
mod r14_quotas;

//! The DynamoDB store against a real DynamoDB Local (started by `scripts/test.sh`, reached through
//! `FLEETLIFT_TEST_DYNAMODB`). Each test makes its own table, so tests run in parallel.

#![allow(
    clippy::unwrap_used,
    reason = "test support: a panic is the failure report"
)]
#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario; the length limit is for product code"
)]

mod steps;
mod support;

mod connections;
mod events;
mod gamelift;
mod idempotency;
mod joins;
mod listing;
mod notifier;
mod reports;
mod schema;

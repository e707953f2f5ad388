//! The DynamoDB store against a real DynamoDB Local (started by `scripts/test.sh`, reached through
//! `FLEETLIFT_TEST_DYNAMODB`). Each test makes its own table, so tests run in parallel.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a panic is the failure report, and a test reads as one scenario (the limits are for product code)"
)]

mod steps;
mod support;

mod connections;
mod events;
mod gamelift;
mod idempotency;
mod joins;
mod listing;
mod migration;
mod notifier;
mod reports;
mod schema;

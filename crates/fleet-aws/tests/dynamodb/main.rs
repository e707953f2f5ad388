//! The DynamoDB store against a real DynamoDB Local (started by `scripts/test.sh`, reached through
//! `FLEETLIFT_TEST_DYNAMODB`). Each test makes its own table, so tests run in parallel.

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

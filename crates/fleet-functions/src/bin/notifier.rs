//! The notifier Lambda (DynamoDB stream of the table, `ReportBatchItemFailures`): builds its clients
//! once per container and hands every batch to [`fleet_functions::notifier::handle`].

// The handler's future nests the store's, the fan-out's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use fleet_functions::{bootstrap, notifier};
use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let deps = bootstrap::pushing_deps().await;
    bootstrap::answer_events(&deps, notifier::handle).await
}

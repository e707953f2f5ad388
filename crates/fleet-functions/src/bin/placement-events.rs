//! The placement-events Lambda (SQS, `ReportBatchItemFailures`): builds the table and WebSocket
//! management clients once per container and hands every batch to
//! [`fleet_functions::placement_events::handle_until`] with the invocation's deadline, which applies
//! the events and pushes the results it wrote to their WebSocket connections at once (leaving to the
//! notifier those too close to the deadline to finish).

// The handler's future nests the store's, the fan-out's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use fleet_functions::{bootstrap, placement_events};
use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Events carry everything a session needs: no GameLift client.
    let deps = bootstrap::pushing_deps().await;
    bootstrap::serve_events(&deps, |deps, batch, deadline| async move {
        Ok(placement_events::handle_until(deps, batch, Some(deadline)).await)
    })
    .await
}

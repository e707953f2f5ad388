//! The sweeper Lambda (EventBridge schedule): builds its clients once per container and runs
//! [`fleet_functions::sweeper::handle`] on every tick, stopping before the invocation's deadline.

// The handler's future nests the sweep's, the store's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use fleet_functions::{bootstrap, sweeper};
use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The sweeper only describes placements and sessions: it never places, so no queue is needed.
    let deps = bootstrap::gamelift_deps(bootstrap::queue_if_any).await;
    bootstrap::serve_events(&deps, |deps, tick, deadline| async move {
        sweeper::handle(deps, tick, deadline)
            .await
            .map_err(Error::from)
    })
    .await
}

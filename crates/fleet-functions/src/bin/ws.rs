//! The ws Lambda (WebSocket API `$connect`, `$disconnect`, `subscribe`): builds its clients once per
//! container and hands every event to [`fleet_functions::ws::handle`], which answers every outcome.

use fleet_functions::{bootstrap, ws};
use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Subscribe answers on the caller's connection (a finished placement's result, or an error).
    let deps = bootstrap::pushing_deps().await;
    bootstrap::answer_events(&deps, ws::handle).await
}

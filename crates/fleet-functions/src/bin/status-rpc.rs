//! The status-rpc Lambda (service HTTP API, AWS_IAM): builds its clients once per container and hands
//! every request to [`fleet_functions::rpc::handle`], which answers every outcome itself.

use fleet_functions::{bootstrap, rpc};
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Status RPCs only update and describe game sessions: they never place, so no queue is needed.
    let deps = bootstrap::gamelift_deps(bootstrap::queue_if_any).await;
    bootstrap::serve_http(&deps, rpc::handle).await
}

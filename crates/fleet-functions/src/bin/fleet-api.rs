//! The fleet-api Lambda (HTTP API v2 payload): builds its clients once per container and hands every
//! request to [`fleet_functions::api::handle`], which answers every outcome itself.

use fleet_functions::{api, bootstrap};
use lambda_http::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // The only function that signs list cursors, so the only one that needs their secret.
    let deps = bootstrap::gamelift_deps(|c| {
        c.require_cursor_secret()?;
        c.require_queue().map(str::to_owned)
    })
    .await;
    bootstrap::serve_http(&deps, api::handle).await
}

//! The fleet-api Lambda (HTTP API v2 payload): builds its clients once per container and hands every
//! request to [`fleet_functions::api::handle`], which answers every outcome itself.

use fleet_aws::clients;
use fleet_aws::gamelift::SdkGameLift;
use fleet_functions::deps::{Deps, NoNotifier};
use fleet_functions::{api, bootstrap};
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // The only function that signs list cursors, so the only one that needs their secret.
    let (config, queue) = bootstrap::config_or_exit(|c| {
        c.require_cursor_secret()?;
        c.require_queue().map(str::to_owned)
    });
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    let gamelift = SdkGameLift::new(clients::gamelift(&aws), queue);
    let deps = Deps::deployed(store, gamelift, NoNotifier, config);
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Error>(api::handle(deps, req).await)
    }))
    .await
}

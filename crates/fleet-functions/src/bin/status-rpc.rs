//! The status-rpc Lambda (service HTTP API, AWS_IAM): builds its clients once per container and hands
//! every request to [`fleet_functions::rpc::handle`], which answers every outcome itself.

use fleet_aws::clients;
use fleet_aws::gamelift::SdkGameLift;
use fleet_functions::deps::{Deps, NoNotifier};
use fleet_functions::{bootstrap, rpc};
use lambda_http::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, ()) = bootstrap::config_or_exit(|_| Ok(()));
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    // Status RPCs only update and describe game sessions: they never place, so no queue is needed.
    let gamelift = SdkGameLift::new(
        clients::gamelift(&aws),
        config.queue_name.clone().unwrap_or_default(),
    );
    let deps = Deps::deployed(store, gamelift, NoNotifier, config);
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move {
        Ok::<_, Error>(rpc::handle(deps, req).await)
    }))
    .await
}

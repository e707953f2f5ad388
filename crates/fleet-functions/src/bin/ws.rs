//! The ws Lambda (WebSocket API `$connect`, `$disconnect`, `subscribe`): builds its clients once per
//! container and hands every event to [`fleet_functions::ws::handle`], which answers every outcome.

use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use fleet_aws::clients;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_functions::deps::{Deps, NoGameLift};
use fleet_functions::{bootstrap, ws};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, endpoint) =
        bootstrap::config_or_exit(|c| c.require_ws_endpoint().map(str::to_owned));
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    // Subscribe answers on the caller's connection (a finished placement's result, or an error).
    let notifier = ApiGatewayNotifier::new(clients::apigw_management(&aws, &endpoint));
    let deps = Deps::deployed(store, NoGameLift, notifier, config);
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            Ok::<_, Error>(ws::handle(deps, event.payload).await)
        },
    ))
    .await
}

//! The notifier Lambda (DynamoDB stream of the table, `ReportBatchItemFailures`): builds its clients
//! once per container and hands every batch to [`fleet_functions::notifier::handle`].

// The handler's future nests the store's, the fan-out's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use fleet_aws::clients;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_functions::deps::{Deps, NoGameLift};
use fleet_functions::{bootstrap, notifier};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, endpoint) =
        bootstrap::config_or_exit(|c| c.require_ws_endpoint().map(str::to_owned));
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    let notifier = ApiGatewayNotifier::new(clients::apigw_management(&aws, &endpoint));
    let deps = Deps::deployed(store, NoGameLift, notifier, config);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(notifier::handle(deps, event.payload).await)
    }))
    .await
}

//! The placement-events Lambda (SQS, `ReportBatchItemFailures`): builds the table and WebSocket
//! management clients once per container and hands every batch to
//! [`fleet_functions::placement_events::handle_until`] with the invocation's deadline, which applies
//! the events and pushes the results it wrote to their WebSocket connections at once (leaving to the
//! notifier those too close to the deadline to finish).

// The handler's future nests the store's, the fan-out's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::SqsEvent;
use fleet_aws::clients;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_functions::deps::{Deps, NoGameLift};
use fleet_functions::{bootstrap, placement_events};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, endpoint) =
        bootstrap::config_or_exit(|c| c.require_ws_endpoint().map(str::to_owned));
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    let notifier = ApiGatewayNotifier::new(clients::apigw_management(&aws, &endpoint));
    // Events carry everything a session needs: no GameLift client.
    let deps = Deps::deployed(store, NoGameLift, notifier, config);
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        // The runtime gives the deadline as wall-clock time; the guard measures with a monotonic clock.
        let left = event
            .context
            .deadline()
            .duration_since(std::time::SystemTime::now())
            .unwrap_or(std::time::Duration::ZERO);
        let deadline = std::time::Instant::now() + left;
        Ok::<_, Error>(placement_events::handle_until(deps, event.payload, Some(deadline)).await)
    }))
    .await
}

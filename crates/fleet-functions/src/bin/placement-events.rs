//! The placement-events Lambda (SQS, `ReportBatchItemFailures`): builds the table client once per
//! container and hands every batch to [`fleet_functions::placement_events::handle`].

use aws_lambda_events::event::sqs::SqsEvent;
use fleet_functions::deps::{Deps, SystemClock, UuidIds};
use fleet_functions::{bootstrap, placement_events};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, ()) = bootstrap::config_or_exit(|_| Ok(()));
    let (_, store) = bootstrap::aws_and_store(&config).await;
    // Events carry everything a session needs: no GameLift client, no pushes from here.
    let deps = Deps { store, gamelift: (), notifier: (), clock: SystemClock, ids: UuidIds, config };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(placement_events::handle(deps, event.payload).await)
    }))
    .await
}

//! The placement-events Lambda (SQS, `ReportBatchItemFailures`): builds the table client once per
//! container and hands every batch to [`fleet_functions::placement_events::handle`].

use aws_lambda_events::event::sqs::SqsEvent;
use fleet_aws::clients;
use fleet_aws::dynamo::DynamoStore;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, SystemClock, UuidIds};
use fleet_functions::{observability, placement_events};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    observability::init_logs();
    // A misconfigured function fails its cold start loudly, naming the variable.
    let config = Config::from_env().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let aws = clients::aws_config().await;
    let store = DynamoStore::new(clients::dynamodb(&aws), config.table.clone(), config.cursor_secret.clone());
    // Events carry everything a session needs: no GameLift client, no pushes from here.
    let deps = Deps { store, gamelift: (), notifier: (), clock: SystemClock, ids: UuidIds, config };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, Error>(placement_events::handle(deps, event.payload).await)
    }))
    .await
}

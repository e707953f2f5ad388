//! The notifier Lambda (DynamoDB stream of the table, `ReportBatchItemFailures`): builds its clients
//! once per container and hands every batch to [`fleet_functions::notifier::handle`].

use aws_lambda_events::event::dynamodb::Event;
use fleet_aws::clients;
use fleet_aws::dynamo::DynamoStore;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, SystemClock, UuidIds};
use fleet_functions::{notifier, observability};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    observability::init_logs();
    // A misconfigured function fails its cold start loudly, naming the variable.
    let config = Config::from_env().and_then(|c| c.require_ws_endpoint().map(str::to_owned).map(|e| (c, e)));
    let (config, endpoint) = config.unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let aws = clients::aws_config().await;
    let store = DynamoStore::new(clients::dynamodb(&aws), config.table.clone(), config.cursor_secret.clone());
    let notifier = ApiGatewayNotifier::new(clients::apigw_management(&aws, &endpoint));
    let deps = Deps { store, gamelift: (), notifier, clock: SystemClock, ids: UuidIds, config };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(notifier::handle(deps, event.payload).await)
    }))
    .await
}

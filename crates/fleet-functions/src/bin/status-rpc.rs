//! The status-rpc Lambda (service HTTP API, AWS_IAM): builds its clients once per container and hands
//! every request to [`fleet_functions::rpc::handle`], which answers every outcome itself.

use fleet_aws::clients;
use fleet_aws::dynamo::DynamoStore;
use fleet_aws::gamelift::SdkGameLift;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, SystemClock, UuidIds};
use fleet_functions::{observability, rpc};
use lambda_http::{Error, service_fn};

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
    // Status RPCs only update and describe game sessions: they never place, so no queue is needed.
    let gamelift = SdkGameLift::new(clients::gamelift(&aws), config.queue_name.clone().unwrap_or_default());
    let deps = Deps { store, gamelift, notifier: (), clock: SystemClock, ids: UuidIds, config };
    let deps = &deps;
    lambda_http::run(service_fn(move |req| async move { Ok::<_, Error>(rpc::handle(deps, req).await) })).await
}

//! What every Lambda binary does once per container before serving: JSON logs, the configuration
//! (a misconfigured function fails its cold start with one line naming the variable), and the clients
//! it reuses across invocations; then the runtime's loop, handing each invocation to the handler.
//!
//! Every binary runs on Tokio's current-thread runtime (`#[tokio::main(flavor = "current_thread")]`): a
//! container serves one event at a time with a fraction of a vCPU (256 MB), so the default runtime's
//! worker threads, one per visible CPU, only cost init time (≈ 0.25 ms) and memory. Concurrency within
//! an invocation (parallel DynamoDB and GameLift requests) is I/O, which one thread drives as well.

use std::time::{Duration, Instant, SystemTime};

use aws_config::SdkConfig;
use fleet_aws::clients;
use fleet_aws::dynamo::DynamoStore;
use fleet_aws::gamelift::SdkGameLift;
use fleet_aws::notifier::ApiGatewayNotifier;
use lambda_runtime::streaming::Body;
use lambda_runtime::{Context, Error, IntoFunctionResponse, LambdaEvent, service_fn};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::config::{Config, ConfigError};
use crate::deps::{Deps, NoGameLift, NoNotifier, PortSet};
use crate::observability;

/// A function that pushes over WebSockets and never calls GameLift (notifier, placement-events, ws).
pub type PushingDeps = Deps<PortSet<DynamoStore, NoGameLift, ApiGatewayNotifier>>;

/// A function that calls GameLift and pushes nothing (fleet-api, status-rpc, sweeper).
pub type GameLiftDeps = Deps<PortSet<DynamoStore, SdkGameLift, NoNotifier>>;

/// Installs the logs, reads the configuration and checks what this function needs with `need`; on any
/// configuration error prints it and exits 1, so the function never serves half-configured.
pub fn config_or_exit<T>(need: impl FnOnce(&Config) -> Result<T, ConfigError>) -> (Config, T) {
    observability::init_logs();
    match Config::from_env().and_then(|c| need(&c).map(|t| (c, t))) {
        Ok(ready) => ready,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// The shared SDK configuration (honours `AWS_ENDPOINT_URL_*`) and the table store.
pub async fn aws_and_store(config: &Config) -> (SdkConfig, DynamoStore) {
    let aws = clients::aws_config().await;
    // Functions without the cursor secret list nothing; should one ever list, a key of its own that
    // nobody knows keeps its cursors unforgeable (an empty key would not).
    let cursor_secret = if config.cursor_secret.is_empty() {
        format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
        .into_bytes()
    } else {
        config.cursor_secret.clone()
    };
    let store = DynamoStore::new(clients::dynamodb(&aws), config.table.clone(), cursor_secret);
    (aws, store)
}

/// The table and the WebSocket management client of the configured endpoint (built by the first
/// invocation, see [`FirstInvocation`]).
pub async fn pushing_deps() -> PushingDeps {
    let (config, endpoint) = config_or_exit(|c| c.require_ws_endpoint().map(str::to_owned));
    let (aws, store) = aws_and_store(&config).await;
    let notifier =
        ApiGatewayNotifier::with_client(clients::apigw_management_on_first_use(&aws, &endpoint));
    Deps::deployed(store, NoGameLift, notifier, config)
}

/// The table and GameLift (its client built by the first invocation, see [`FirstInvocation`]),
/// placing into the queue `queue` names (after checking whatever else the function needs).
pub async fn gamelift_deps(
    queue: impl FnOnce(&Config) -> Result<String, ConfigError>,
) -> GameLiftDeps {
    let (config, queue) = config_or_exit(queue);
    let (aws, store) = aws_and_store(&config).await;
    let gamelift = SdkGameLift::with_client(clients::gamelift_on_first_use(&aws), queue);
    Deps::deployed(store, gamelift, NoNotifier, config)
}

/// The ws-authorizer's: no table, no GameLift, no pushes.
pub type AuthorizerDeps = Deps<PortSet<(), NoGameLift, NoNotifier>>;

/// What a function does at the start of every invocation before its handler runs.
///
/// Init builds only the DynamoDB client, which every function's first call needs at once. The other
/// SDK clients are started here, in the background: the runtime is single-threaded, so the build runs
/// while the handler's first request is on the wire (a DynamoDB round trip, longer than the ≈ 0.1 ms
/// build) and no request waits for it, where in init every cold start would. After the first
/// invocation this is one atomic load per client.
pub trait FirstInvocation {
    /// Starts building, in the background, the clients not built yet.
    fn build_clients_in_background(&self);
}

impl FirstInvocation for PushingDeps {
    fn build_clients_in_background(&self) {
        self.notifier.build_client_in_background();
    }
}

impl FirstInvocation for GameLiftDeps {
    fn build_clients_in_background(&self) {
        self.gamelift.build_client_in_background();
    }
}

impl FirstInvocation for AuthorizerDeps {
    fn build_clients_in_background(&self) {}
}

/// The queue of a function that never places (it only describes and updates): the configured one if
/// any, none required.
pub fn queue_if_any(config: &Config) -> Result<String, ConfigError> {
    Ok(config.queue_name.clone().unwrap_or_default())
}

/// The invocation's deadline on the monotonic clock handlers measure with (the runtime gives it as
/// wall-clock time); a deadline already past is now.
pub fn deadline(context: &Context) -> Instant {
    let left = context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}

/// Serves every HTTP API request with `handler`, which answers every outcome itself.
pub async fn serve_http<'a, D, Fut>(
    deps: &'a D,
    handler: impl Fn(&'a D, lambda_http::Request) -> Fut,
) -> Result<(), Error>
where
    D: FirstInvocation,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'a,
{
    lambda_http::run(service_fn(move |req| {
        deps.build_clients_in_background();
        let answer = handler(deps, req);
        async move { Ok::<_, Error>(answer.await) }
    }))
    .await
}

/// Serves every event with `handler`, which answers every outcome itself from the event's payload.
pub async fn answer_events<'a, D, A, R, Fut>(
    deps: &'a D,
    handler: impl Fn(&'a D, A) -> Fut,
) -> Result<(), Error>
where
    D: FirstInvocation,
    A: DeserializeOwned,
    R: Serialize + IntoFunctionResponse<R, Body>,
    Fut: Future<Output = R>,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<A>| {
        deps.build_clients_in_background();
        let answer = handler(deps, event.payload);
        async move { Ok::<_, Error>(answer.await) }
    }))
    .await
}

/// Serves every event with `handler`, given the event's payload and the invocation's [`deadline`].
pub async fn serve_events<'a, D, A, R, Fut>(
    deps: &'a D,
    handler: impl Fn(&'a D, A, Instant) -> Fut,
) -> Result<(), Error>
where
    D: FirstInvocation,
    A: DeserializeOwned,
    R: Serialize + IntoFunctionResponse<R, Body>,
    Fut: Future<Output = Result<R, Error>>,
{
    lambda_runtime::run(service_fn(move |event: LambdaEvent<A>| {
        deps.build_clients_in_background();
        handler(deps, event.payload, deadline(&event.context))
    }))
    .await
}

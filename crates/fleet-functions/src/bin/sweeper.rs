//! The sweeper Lambda (EventBridge schedule): builds its clients once per container and runs
//! [`fleet_functions::sweeper::handle`] on every tick, stopping before the invocation's deadline.

// The handler's future nests the sweep's, the store's and the SDK's futures deeper than rustc's
// default query depth allows when it lays out `main`'s state machine.
#![recursion_limit = "256"]

use std::time::{Duration, Instant, SystemTime};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use fleet_aws::clients;
use fleet_aws::gamelift::SdkGameLift;
use fleet_functions::deps::{Deps, NoNotifier};
use fleet_functions::{bootstrap, sweeper};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, ()) = bootstrap::config_or_exit(|_| Ok(()));
    let (aws, store) = bootstrap::aws_and_store(&config).await;
    // The sweeper only describes placements and sessions: it never places, so no queue is needed.
    let gamelift = SdkGameLift::new(
        clients::gamelift(&aws),
        config.queue_name.clone().unwrap_or_default(),
    );
    let deps = Deps::deployed(store, gamelift, NoNotifier, config);
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<EventBridgeEvent>| async move {
            // The runtime gives the deadline as wall-clock time; the sweeper measures with a monotonic clock.
            let left = event
                .context
                .deadline()
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            sweeper::handle(deps, event.payload, Instant::now() + left)
                .await
                .map_err(Error::from)
        },
    ))
    .await
}

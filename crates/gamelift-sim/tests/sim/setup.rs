//! A simulator on a manual clock and SDK clients for it, shared by the integration tests and the
//! `start_placement` benchmark (which includes this file by path).

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_types::retry::RetryConfig;
use gamelift_sim::{ManualClock, Model, Simulator, SimulatorBuilder};

/// The SDK's plain-HTTP client: the SDK crates are built without a default client (the workspace's
/// functions bring their own), and the simulator listens on `http://` loopback.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new().build_http()
}

/// An SDK client signing for `region`, without retries (a refusal is the answer under test): the
/// simulator serves every Region on one endpoint and takes the request's Region from the credential
/// scope, as GameLift's regional endpoints do.
pub fn client_in(endpoint: &str, region: &str) -> Client {
    let conf = aws_sdk_gamelift::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// The default model with throttling off.
pub fn quiet_model() -> Model {
    Model {
        throttling: false,
        ..Model::default()
    }
}

/// A simulator of `model` on a manual clock that moves only when its caller advances it.
pub fn sim_builder(model: Model) -> SimulatorBuilder {
    Simulator::builder().model(model).clock(ManualClock::new())
}

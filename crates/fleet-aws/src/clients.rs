//! The AWS clients a Lambda binary builds once per container, from one shared configuration.
//!
//! [`aws_config`] reads the standard environment (region, credentials from the Lambda role, and the
//! per-service endpoint overrides `AWS_ENDPOINT_URL_GAMELIFT`, `AWS_ENDPOINT_URL_DYNAMODB`, …), which is
//! how the local stack points the same binaries at gamelift-sim and DynamoDB Local without a code path of
//! their own.

use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// Longest a PostToConnection may take to connect.
pub const PUSH_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest one PostToConnection attempt may take, answer included (API Gateway answers in milliseconds).
pub const PUSH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// The shared SDK configuration from the environment (call once per container: it resolves the region
/// and credentials chain).
pub async fn aws_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A DynamoDB client (honours `AWS_ENDPOINT_URL_DYNAMODB`).
pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// A GameLift client (honours `AWS_ENDPOINT_URL_GAMELIFT`). It keeps the SDK's standard retries for
/// reads; [`crate::gamelift::SdkGameLift`] turns them off for the calls GameLift refuses when repeated.
pub fn gamelift(config: &SdkConfig) -> aws_sdk_gamelift::Client {
    aws_sdk_gamelift::Client::new(config)
}

/// An API Gateway management client for one WebSocket API stage: `endpoint` is its
/// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` URL (or the local gateway's). The SDK's
/// retries are off: [`crate::notifier::ApiGatewayNotifier`] retries throttles itself and counts attempts.
/// Each attempt is bounded ([`PUSH_CONNECT_TIMEOUT`], [`PUSH_ATTEMPT_TIMEOUT`]) so that one hung push
/// cannot eat the notifier's Lambda deadline; a push that times out is reported, not repeated.
pub fn apigw_management(config: &SdkConfig, endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(PUSH_CONNECT_TIMEOUT)
        .operation_attempt_timeout(PUSH_ATTEMPT_TIMEOUT)
        .build();
    let conf = aws_sdk_apigatewaymanagement::config::Builder::from(config)
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_management_client_targets_the_stage_url_with_bounded_attempts_and_no_sdk_retries() {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .build();
        let client = apigw_management(&shared, "https://abc123.execute-api.eu-west-1.amazonaws.com/prod");
        let conf = client.config();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(conf.retry_config().map(|r| r.max_attempts()), Some(1));
        let timeouts = conf.timeout_config().expect("timeouts");
        assert_eq!(timeouts.connect_timeout(), Some(PUSH_CONNECT_TIMEOUT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(PUSH_ATTEMPT_TIMEOUT));
    }
}

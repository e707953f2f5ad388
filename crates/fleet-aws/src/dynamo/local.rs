//! A client for DynamoDB Local (tests, benchmarks, the local stack): fixed region and dummy static
//! credentials, because DynamoDB Local checks neither.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

/// A DynamoDB client for the endpoint `url` (e.g. `http://127.0.0.1:4003`).
pub fn local_client(url: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(crate::clients::http_client())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "local",
            "local",
            None,
            None,
            "fleetlift-local",
        ))
        .build();
    Client::from_conf(config)
}

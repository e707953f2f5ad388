//! `ApiGatewayNotifier` through the real aws-sdk-apigatewaymanagement against the test kit's fake of
//! API Gateway's `@connections` API (`fleet_testkit::connections`): the connection id picks the
//! answer, and the fake records every request, so attempts are counted and bodies compared byte for
//! byte.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_apigatewaymanagement::config::{Credentials, SharedCredentialsProvider};
use fleet_aws::clients::{PUSH_ATTEMPT_TIMEOUT, apigw_management};
use fleet_aws::notifier::{ApiGatewayNotifier, MAX_ATTEMPTS, RETRY_BUDGET};
use fleet_core::ports::{Notifier, NotifyError};
use fleet_testkit::connections::{self, Log};

use crate::steps::unused_port;

/// A notifier on a fresh fake, and the fake's log.
async fn fake() -> (ApiGatewayNotifier, Log) {
    let (endpoint, log) = connections::serve().await;
    (notifier_at(&endpoint), log)
}

/// A notifier whose client posts to the stage URL `endpoint` (the SDK appends `/@connections/{id}`).
fn notifier_at(endpoint: &str) -> ApiGatewayNotifier {
    let shared = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(fleet_aws::clients::http_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "static",
        )))
        .build();
    ApiGatewayNotifier::new(apigw_management(&shared, endpoint))
}

#[tokio::test]
async fn a_push_arrives_once_with_its_body_intact() {
    let (n, log) = fake().await;
    let payload =
        br#"{"type":"placement","placementId":"p-1","status":"FULFILLED","session":{"name":"caf\u00e9 \u2603"}}"#;
    n.send("ok-1", payload).await.expect("delivered");
    assert_eq!(log.bodies("ok-1"), vec![payload.to_vec()]);
    let binary: Vec<u8> = (0..=255).collect();
    n.send("ok-2", &binary).await.expect("delivered");
    assert_eq!(log.bodies("ok-2"), vec![binary]);
}

#[tokio::test]
async fn a_gone_connection_is_gone_after_one_attempt() {
    let (n, log) = fake().await;
    assert_eq!(n.send("gone-1", b"{}").await, Err(NotifyError::Gone));
    assert_eq!(log.attempts("gone-1"), 1);
}

#[tokio::test]
async fn a_payload_too_large_is_never_retried() {
    let (n, log) = fake().await;
    assert_eq!(
        n.send("big-1", &[b'x'; 4096]).await,
        Err(NotifyError::TooLarge)
    );
    assert_eq!(log.attempts("big-1"), 1);
}

#[tokio::test]
async fn a_forbidden_push_is_another_failure_without_retry() {
    let (n, log) = fake().await;
    assert!(
        matches!(n.send("forbidden-1", b"{}").await, Err(NotifyError::Other(m)) if m.contains("ForbiddenException"))
    );
    assert_eq!(log.attempts("forbidden-1"), 1);
}

#[tokio::test]
async fn a_throttled_push_is_retried_until_it_is_delivered() {
    let (n, log) = fake().await;
    n.send("busy-2-a", b"{\"n\":1}")
        .await
        .expect("third attempt delivers");
    assert_eq!(log.attempts("busy-2-a"), 3);
    assert!(
        log.bodies("busy-2-a").iter().all(|b| b == b"{\"n\":1}"),
        "every attempt carries the same body"
    );
}

#[tokio::test]
async fn a_push_throttled_every_time_gives_up_after_four_attempts_within_the_budget() {
    let (n, log) = fake().await;
    let t = Instant::now();
    assert_eq!(
        n.send("busy-forever-1", b"{}").await,
        Err(NotifyError::Throttled)
    );
    let took = t.elapsed();
    assert_eq!(log.attempts("busy-forever-1"), MAX_ATTEMPTS as usize);
    assert!(took < RETRY_BUDGET + Duration::from_millis(250), "{took:?}");
    assert!(
        took >= Duration::from_millis(25 + 50 + 100),
        "backed off between attempts: {took:?}"
    );
}

#[tokio::test]
async fn no_listener_is_another_failure() {
    let n = notifier_at(&format!("http://127.0.0.1:{}", unused_port()));
    assert!(matches!(
        n.send("ok-1", b"{}").await,
        Err(NotifyError::Other(_))
    ));
}

#[tokio::test]
async fn a_push_that_hangs_is_abandoned_after_one_attempt_timeout() {
    let (n, log) = fake().await;
    let t = Instant::now();
    assert!(matches!(
        n.send("slow-1", b"{}").await,
        Err(NotifyError::Other(_))
    ));
    assert!(
        t.elapsed() < PUSH_ATTEMPT_TIMEOUT + Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        log.attempts("slow-1"),
        1,
        "a timed-out push may have arrived: never repeated"
    );
}

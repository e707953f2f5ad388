//! The notifier port on API Gateway's management API: one PostToConnection per push.
//!
//! | Answer | Result | Why |
//! |---|---|---|
//! | 2xx | `Ok(())` | delivered to API Gateway |
//! | 410 `GoneException` | [`NotifyError::Gone`] | the client disconnected: the caller deletes the connection row |
//! | 413 `PayloadTooLargeException` | [`NotifyError::TooLarge`] (logged with `tracing::warn`) | the same bytes can never fit: never retried |
//! | 429 `LimitExceededException` / throttling | retried, then [`NotifyError::Throttled`] | API Gateway's rate; a short wait usually clears it |
//! | 403 `ForbiddenException`, any other answer, a timeout, a dropped connection | [`NotifyError::Other`] | not ours to fix here; a push is best effort and the client catches up on subscribe |
//!
//! **Retries.** Throttled pushes are retried with jittered exponential backoff: at most [`MAX_ATTEMPTS`]
//! attempts, and no sleep that would end past [`RETRY_BUDGET`] after the first attempt started, so a push
//! always fits well inside a Lambda deadline. The SDK's own retries are switched off on every call (and
//! in [`crate::clients::apigw_management`]), so attempts are counted here, exactly, and a throttle is
//! never retried twice over. Each attempt is itself bounded by the client's timeouts (see
//! [`crate::clients::apigw_management`]). Nothing else is retried: a timeout may have delivered the message, and a
//! duplicate push is worse than the catch-up a client does on subscribe.

use std::time::{Duration, Instant};

use aws_sdk_apigatewaymanagement::Client;
use aws_sdk_apigatewaymanagement::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_types::Blob;
use aws_smithy_types::retry::RetryConfig;

use crate::clients::OnFirstUse;
use fleet_core::ports::{Notifier, NotifyError};
use rand::Rng as _;

/// Most PostToConnection attempts for one push (the first one included).
pub const MAX_ATTEMPTS: u32 = 4;

/// Longest a push may spend retrying, from the start of its first attempt.
pub const RETRY_BUDGET: Duration = Duration::from_secs(1);

/// Backoff before the second attempt; doubled for each further one (50, 100, 200 ms ceilings).
const BASE_BACKOFF: Duration = Duration::from_millis(50);

/// What one PostToConnection answer means for the push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// 410: the connection is gone.
    Gone,
    /// 413: the payload can never be delivered.
    TooLarge,
    /// 429: try again after a backoff.
    Throttled,
    /// Anything else: give up.
    Other,
}

/// Classifies a failed PostToConnection by its error code and HTTP status (the table in the module docs).
pub fn classify(code: Option<&str>, status: Option<u16>) -> Verdict {
    match (code, status) {
        (Some("GoneException"), _) | (_, Some(410)) => Verdict::Gone,
        (Some("PayloadTooLargeException"), _) | (_, Some(413)) => Verdict::TooLarge,
        (
            Some("LimitExceededException" | "ThrottlingException" | "TooManyRequestsException"),
            _,
        )
        | (_, Some(429)) => Verdict::Throttled,
        _ => Verdict::Other,
    }
}

/// The pause before attempt `attempt + 1` after `attempt` throttled attempts (1-based): "equal jitter"
/// over a doubling ceiling, i.e. between half the ceiling and the ceiling, so retries of many concurrent
/// pushes spread out but each still waits a little. `unit` is a random number in `[0, 1]`.
pub fn backoff(attempt: u32, unit: f64) -> Duration {
    let ceiling = BASE_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let half = ceiling / 2;
    // `mul_f64` panics on NaN or a negative factor: an out-of-range draw is pinned, never trusted.
    let unit = if unit.is_nan() {
        0.5
    } else {
        unit.clamp(0.0, 1.0)
    };
    half + half.mul_f64(unit)
}

/// Pushes messages to WebSocket connections through API Gateway's management API.
#[derive(Debug, Clone)]
pub struct ApiGatewayNotifier {
    client: OnFirstUse<Client>,
}

impl ApiGatewayNotifier {
    /// A notifier on `client`, whose endpoint is the WebSocket API's `https://…/<stage>` URL (see
    /// [`crate::clients::apigw_management`]).
    pub fn new(client: Client) -> Self {
        Self::with_client(OnFirstUse::ready(client))
    }

    /// [`new`](Self::new) with a client built by the first push (see [`OnFirstUse`]).
    pub fn with_client(client: OnFirstUse<Client>) -> Self {
        Self { client }
    }

    /// Builds the client in the background unless it is built (see
    /// [`OnFirstUse::build_in_background`]).
    pub fn build_client_in_background(&self) {
        self.client.build_in_background();
    }

    /// One PostToConnection, with the SDK's retries off so that each call is exactly one attempt.
    async fn post(&self, connection: &str, payload: &[u8]) -> Result<(), (Verdict, String)> {
        let client = self.client.get();
        let result = client
            .post_to_connection()
            .connection_id(connection)
            .data(Blob::new(payload))
            .customize()
            .config_override(
                aws_sdk_apigatewaymanagement::config::Builder::default()
                    .retry_config(RetryConfig::disabled()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err) => {
                let verdict = match &err {
                    SdkError::ServiceError(s) => {
                        classify(err.code(), Some(s.raw().status().as_u16()))
                    }
                    // No answer, or one we could not read: the push may or may not have arrived.
                    _ => Verdict::Other,
                };
                Err((verdict, DisplayErrorContext(&err).to_string()))
            }
        }
    }
}

impl Notifier for ApiGatewayNotifier {
    async fn send(&self, connection: &str, payload: &[u8]) -> Result<(), NotifyError> {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let (verdict, text) = match self.post(connection, payload).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            match verdict {
                Verdict::Gone => return Err(NotifyError::Gone),
                Verdict::TooLarge => {
                    tracing::warn!(connection, bytes = payload.len(), error = %text, "push refused as too large; not retried");
                    return Err(NotifyError::TooLarge);
                }
                Verdict::Other => return Err(NotifyError::Other(text)),
                Verdict::Throttled => {
                    let pause = backoff(attempt, rand::rng().random::<f64>());
                    if attempt >= MAX_ATTEMPTS || started.elapsed() + pause > RETRY_BUDGET {
                        tracing::warn!(connection, attempts = attempt, error = %text, "push throttled; giving up");
                        return Err(NotifyError::Throttled);
                    }
                    tracing::debug!(
                        connection,
                        attempt,
                        pause_ms = pause.as_millis() as u64,
                        "push throttled; retrying"
                    );
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_gateway_answers_map_to_verdicts() {
        assert_eq!(classify(Some("GoneException"), Some(410)), Verdict::Gone);
        assert_eq!(classify(None, Some(410)), Verdict::Gone);
        assert_eq!(
            classify(Some("PayloadTooLargeException"), Some(413)),
            Verdict::TooLarge
        );
        assert_eq!(classify(None, Some(413)), Verdict::TooLarge);
        assert_eq!(
            classify(Some("LimitExceededException"), Some(429)),
            Verdict::Throttled
        );
        assert_eq!(classify(None, Some(429)), Verdict::Throttled);
        assert_eq!(
            classify(Some("ForbiddenException"), Some(403)),
            Verdict::Other
        );
        assert_eq!(classify(None, Some(500)), Verdict::Other);
        assert_eq!(classify(None, None), Verdict::Other);
    }

    #[test]
    fn backoff_doubles_with_jitter_between_half_and_the_ceiling() {
        for (attempt, ceiling_ms) in [(1, 50), (2, 100), (3, 200)] {
            let ceiling = Duration::from_millis(ceiling_ms);
            assert_eq!(backoff(attempt, 0.0), ceiling / 2);
            assert_eq!(backoff(attempt, 1.0), ceiling);
            let mid = backoff(attempt, 0.5);
            assert!(mid > ceiling / 2 && mid < ceiling, "{mid:?}");
        }
        assert_eq!(backoff(1, 2.0), Duration::from_millis(50), "clamped");
        assert_eq!(backoff(1, -1.0), Duration::from_millis(25), "clamped");
        assert!(
            backoff(1, f64::NAN) <= Duration::from_millis(50),
            "no panic on NaN"
        );
        assert_eq!(
            backoff(u32::MAX, 1.0),
            BASE_BACKOFF.saturating_mul(1 << 16),
            "no overflow"
        );
    }

    #[test]
    fn every_retry_fits_the_budget_even_at_the_longest_pauses() {
        let worst: Duration = (1..MAX_ATTEMPTS).map(|a| backoff(a, 1.0)).sum();
        assert!(
            worst < RETRY_BUDGET / 2,
            "{worst:?} of sleeps leaves room for the attempts themselves"
        );
    }
}

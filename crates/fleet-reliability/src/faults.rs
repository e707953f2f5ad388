//! Fault injection on an AWS SDK client, at one chosen attempt of one chosen operation.
//!
//! [`FaultInterceptor`] is an SDK interceptor: it counts every attempt of every operation the client
//! makes and, at the planned one, replaces what the call saw:
//!
//! | [`FaultKind`] | Did the request take effect? | What the SDK sees |
//! |---|---|---|
//! | `Throttle` | no (the request is redirected to a harmless read) | 400 `ProvisionedThroughputExceededException` |
//! | `Unavailable` | no | 500 `InternalServerError` |
//! | `LostAnswer` | **yes** | 500 `InternalServerError` (the write happened, the answer was lost) |
//! | `Timeout` | **yes** | an attempt timeout |
//!
//! The SDK then does what it always does (classify, maybe retry), so the store and the handlers see
//! real SDK errors. `attempts` says how many consecutive attempts fail from the planned one: 1 is a
//! blip the SDK's own retry absorbs; a large number outlasts every retry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
    FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// What goes wrong (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// A throttle before any effect.
    Throttle,
    /// A server error before any effect.
    Unavailable,
    /// A server error after the request took effect.
    LostAnswer,
    /// A timeout after the request took effect.
    Timeout,
}

impl FaultKind {
    /// All kinds.
    pub const ALL: [Self; 4] = [
        Self::Throttle,
        Self::Unavailable,
        Self::LostAnswer,
        Self::Timeout,
    ];

    /// Whether the request reaches the service.
    pub const fn takes_effect(self) -> bool {
        matches!(self, Self::LostAnswer | Self::Timeout)
    }
}

/// Which attempt fails, how, and for how many attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    /// Operation name as the SDK names it (`TransactWriteItems`, `Query`, …).
    pub operation: String,
    /// Which attempt of that operation (0-based) fails first.
    pub occurrence: u32,
    /// How.
    pub kind: FaultKind,
    /// Consecutive attempts of that operation that fail.
    pub attempts: u32,
}

#[derive(Debug, Default)]
struct State {
    plan: Option<FaultPlan>,
    attempts: BTreeMap<String, u32>,
    injected: u32,
}

/// The interceptor; clones share their state, so a test keeps one to read the counts.
#[derive(Debug, Clone, Default)]
pub struct FaultInterceptor {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Clone, Copy)]
struct Active(Option<FaultKind>);

impl Storable for Active {
    type Storer = StoreReplace<Self>;
}

impl FaultInterceptor {
    /// An interceptor that lets everything through until [`FaultInterceptor::plan`].
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked mid-update leaves counts that are still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Arms a fault (replacing any other) and resets the counts.
    pub fn plan(&self, plan: Option<FaultPlan>) {
        let mut st = self.lock();
        st.plan = plan;
        st.attempts.clear();
        st.injected = 0;
    }

    /// Attempts per operation since the last [`FaultInterceptor::plan`].
    pub fn attempts(&self) -> BTreeMap<String, u32> {
        self.lock().attempts.clone()
    }

    /// Attempts that were faulted since the last plan.
    pub fn injected(&self) -> u32 {
        self.lock().injected
    }

    fn decide(&self, operation: &str) -> Option<FaultKind> {
        let mut st = self.lock();
        let n = st.attempts.entry(operation.to_owned()).or_insert(0);
        let this = *n;
        *n += 1;
        let kind = st
            .plan
            .as_ref()
            .filter(|p| {
                p.operation == operation && this >= p.occurrence && this < p.occurrence + p.attempts
            })
            .map(|p| p.kind);
        if kind.is_some() {
            st.injected += 1;
        }
        kind
    }
}

fn error_response(status: u16, code: &str) -> Response {
    let body = format!(
        "{{\"__type\":\"com.amazonaws.dynamodb.v20120810#{code}\",\"message\":\"injected by fleet-reliability\"}}"
    );
    let status = StatusCode::try_from(status)
        .unwrap_or_else(|_| unreachable!("400 and 500 are status codes"));
    let mut response = Response::new(status, SdkBody::from(body));
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.0");
    response
}

impl Intercept for FaultInterceptor {
    fn name(&self) -> &'static str {
        "FleetReliabilityFaults"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_owned())
            .unwrap_or_default();
        let kind = self.decide(&operation);
        if kind.is_some_and(|k| !k.takes_effect()) {
            // The request must not take effect: turn it into a read of the account's limits.
            context
                .request_mut()
                .headers_mut()
                .insert("x-amz-target", "DynamoDB_20120810.DescribeLimits");
        }
        cfg.interceptor_state().store_put(Active(kind));
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let replacement = match cfg.load::<Active>().and_then(|a| a.0) {
            Some(FaultKind::Throttle) => Some(error_response(
                400,
                "ProvisionedThroughputExceededException",
            )),
            Some(FaultKind::Unavailable | FaultKind::LostAnswer) => {
                Some(error_response(500, "InternalServerError"))
            }
            Some(FaultKind::Timeout) | None => None,
        };
        if let Some(r) = replacement {
            *context.response_mut() = r;
        }
        Ok(())
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if matches!(
            cfg.load::<Active>().and_then(|a| a.0),
            Some(FaultKind::Timeout)
        ) {
            context
                .inner_mut()
                .set_output_or_error(Err(OrchestratorError::timeout(
                    "injected attempt timeout".into(),
                )));
        }
        Ok(())
    }
}

/// A DynamoDB client for DynamoDB Local at `url` with `faults` installed and a fast retry policy (3
/// attempts, 1 ms initial backoff: the SDK's standard policy, shortened so a matrix of hundreds of
/// cells runs in seconds).
pub fn dynamodb_client(url: &str, faults: &FaultInterceptor) -> aws_sdk_dynamodb::Client {
    use aws_smithy_types::retry::RetryConfig;
    let config = fleet_aws::dynamo::local_client(url)
        .config()
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .interceptor(faults.clone())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

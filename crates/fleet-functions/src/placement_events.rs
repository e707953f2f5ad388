//! placement-events: applies GameLift queue placement events, delivered by SQS, to the table (DESIGN §5).
//!
//! Each SQS record goes through the same steps:
//!
//! 1. [`fleet_core::event::parse_message`] reads the body in any of its three shapes. A body that can
//!    never parse (not JSON, no `placementId`, …) is **quarantined**: logged at error level with its
//!    message id and acknowledged on first receipt, never redelivered.
//! 2. An event of a type this code does not know is logged and acknowledged.
//! 3. The placement is read (strongly consistent). A result for a placement this system never started is
//!    logged and acknowledged.
//! 4. [`fleet_core::rules::outcome_of`] builds the outcome from the event itself (the session's address,
//!    port and player sessions are all in a `PlacementFulfilled`, so there is no GameLift call), and
//!    [`SessionStore::finish_placement`] writes it as a guarded transition: a duplicate or a late event
//!    for a placement that already finished changes nothing.
//! 5. Only a **transient** store failure (unavailable, throttled, contention) sends the message back to
//!    the queue, as a `batchItemFailures` entry for that message alone.
//!
//! Records of one batch are processed concurrently, at most [`CONCURRENCY`] at a time; the response
//! does not depend on the order in which they finish.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use fleet_core::event::{EventKind, parse_message};
use fleet_core::model::PlacementStatus;
use fleet_core::ports::{Applied, Clock, SessionStore, StoreError};
use fleet_core::rules;
use futures::StreamExt as _;

use crate::deps::Deps;
use crate::observability::Metrics;

/// The function's name, the `Function` dimension of its metrics.
pub const FUNCTION: &str = "placement-events";

/// Records of one batch in flight at once: enough to hide DynamoDB latency, few enough to stay well
/// under the table's and the transaction API's limits (an SQS batch holds at most 10,000 records).
pub const CONCURRENCY: usize = 10;

/// What happened to one SQS record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// The placement moved to `status`.
    Applied {
        /// The terminal status written.
        status: PlacementStatus,
        /// For a fulfilment: the event's time minus the placement's creation, in milliseconds.
        time_to_fulfilment_ms: Option<i64>,
    },
    /// The placement was already in that state.
    Duplicate,
    /// The placement had already finished differently; the event changed nothing.
    Refused,
    /// Acknowledged without effect: an unknown event type, or a placement this system never started.
    Ignored,
    /// The message can never succeed: logged with its message id and acknowledged.
    Quarantined,
    /// A transient failure: the message goes back to the queue (`batchItemFailures`).
    Retry,
}

/// Applies a batch and flushes the invocation's metrics: the Lambda entry point's body.
///
/// Only the store and the clock are used; the binary passes `()` for the other ports.
pub async fn handle<S, G, N, C, I>(deps: &Deps<S, G, N, C, I>, event: SqsEvent) -> SqsBatchResponse
where
    S: SessionStore,
    C: Clock,
{
    let (response, mut metrics) = process(&deps.store, event).await;
    metrics.flush(deps.clock.now().millis());
    response
}

/// Applies a batch: the partial batch response (only transient failures, each with its message id)
/// and the metrics of the invocation.
pub async fn process<S: SessionStore>(store: &S, event: SqsEvent) -> (SqsBatchResponse, Metrics) {
    let outcomes: Vec<(Option<String>, RecordOutcome)> = futures::stream::iter(event.records)
        .map(|record| async move {
            let id = message_id(&record);
            let outcome = apply_record(store, &record).await;
            (id, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let mut metrics = Metrics::new(FUNCTION);
    let mut failed: Vec<String> = Vec::new();
    for (id, outcome) in outcomes {
        count(&mut metrics, &outcome);
        if outcome == RecordOutcome::Retry
            && let Some(id) = id
        {
            failed.push(id);
        }
    }
    // Sorted so the response is the same whichever record finished first.
    failed.sort_unstable();
    failed.dedup();
    let mut response = SqsBatchResponse::default();
    response.set_failures(failed);
    (response, metrics)
}

/// The record's message id, when it has a usable one. An empty id is as good as none: reported back,
/// it would fail the whole batch.
fn message_id(record: &SqsMessage) -> Option<String> {
    record.message_id.clone().filter(|id| !id.trim().is_empty())
}

fn count(metrics: &mut Metrics, outcome: &RecordOutcome) {
    match outcome {
        RecordOutcome::Applied { status, time_to_fulfilment_ms } => {
            metrics.count("EventsApplied", 1);
            let name = match status {
                PlacementStatus::Fulfilled => "PlacementsFulfilled",
                PlacementStatus::TimedOut => "PlacementsTimedOut",
                PlacementStatus::Cancelled => "PlacementsCancelled",
                PlacementStatus::Failed | PlacementStatus::Pending => "PlacementsFailed",
            };
            metrics.count(name, 1);
            if let Some(ms) = time_to_fulfilment_ms {
                metrics.millis("TimeToFulfilmentMs", *ms as f64);
            }
        }
        RecordOutcome::Duplicate => metrics.count("EventsDuplicate", 1),
        RecordOutcome::Refused => metrics.count("EventsRefused", 1),
        RecordOutcome::Ignored => metrics.count("EventsIgnored", 1),
        RecordOutcome::Quarantined => metrics.count("EventsQuarantined", 1),
        RecordOutcome::Retry => metrics.count("EventsRetried", 1),
    }
}

/// Applies one record (see the module docs). Never fails: every problem is an outcome.
pub async fn apply_record<S: SessionStore>(store: &S, record: &SqsMessage) -> RecordOutcome {
    let id = message_id(record);
    let message_id = id.as_deref().unwrap_or("");
    let Some(body) = record.body.as_deref() else {
        tracing::error!(message_id, code = "no_body", "quarantined: the SQS record has no body");
        return RecordOutcome::Quarantined;
    };
    let event = match parse_message(body) {
        Ok(event) => event,
        Err(e) => {
            tracing::error!(message_id, code = e.code(), field = e.field(), error = %e, "quarantined");
            return RecordOutcome::Quarantined;
        }
    };
    let placement_id = event.placement_id.as_str();
    let shape = event.shape.as_str();
    if let EventKind::Unknown { event_type } = &event.kind {
        tracing::info!(message_id, placement_id, event_type, shape, "unknown placement event type; acknowledged");
        return RecordOutcome::Ignored;
    }
    let placement = match store.get_placement(&event.placement_id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            tracing::info!(message_id, placement_id, shape, "placement not started by this system; ignored");
            return RecordOutcome::Ignored;
        }
        Err(e) => return store_failure(id.as_deref(), placement_id, &e),
    };
    let (outcome, at) = match rules::outcome_of(&placement, &event) {
        Ok(Some(decided)) => decided,
        // outcome_of answers None only for unknown types, handled above; kept total for safety.
        Ok(None) => return RecordOutcome::Ignored,
        Err(e) => {
            tracing::error!(message_id, placement_id, code = "invalid_field", field = %e.field, error = %e, "quarantined");
            return RecordOutcome::Quarantined;
        }
    };
    let status = match &outcome {
        fleet_core::ports::PlacementOutcome::Fulfilled { .. } => PlacementStatus::Fulfilled,
        fleet_core::ports::PlacementOutcome::Unfulfilled { status, .. } => *status,
    };
    match store.finish_placement(&event.placement_id, &outcome, at).await {
        Ok(Applied::Applied) => {
            let time_to_fulfilment_ms =
                (status == PlacementStatus::Fulfilled).then(|| (at.millis() - placement.created_at.millis()).max(0));
            tracing::info!(message_id, placement_id, status = status.as_str(), shape, "placement finished");
            RecordOutcome::Applied { status, time_to_fulfilment_ms }
        }
        Ok(Applied::Duplicate) => {
            tracing::info!(message_id, placement_id, status = status.as_str(), "duplicate event; acknowledged");
            RecordOutcome::Duplicate
        }
        Ok(Applied::Refused) => {
            tracing::warn!(
                message_id,
                placement_id,
                event_status = status.as_str(),
                "placement already finished with another status; event acknowledged without effect"
            );
            RecordOutcome::Refused
        }
        Ok(Applied::Unknown) => {
            // Read a moment ago, gone now: only TTL removes placements, long after any event.
            tracing::info!(message_id, placement_id, "placement no longer exists; ignored");
            RecordOutcome::Ignored
        }
        Err(e) => store_failure(id.as_deref(), placement_id, &e),
    }
}

/// A store failure: transient ones go back to the queue when the message can be named; permanent ones
/// (a corrupt item) would fail the same way on every delivery, so they are quarantined.
fn store_failure(message_id: Option<&str>, placement_id: &str, e: &StoreError) -> RecordOutcome {
    match (e.is_transient(), message_id) {
        (true, Some(id)) => {
            tracing::warn!(message_id = id, placement_id, error = %e, "transient store failure; message returned to the queue");
            RecordOutcome::Retry
        }
        (true, None) => {
            // An itemIdentifier that names no message fails the whole batch in AWS, so none is sent;
            // the sweeper resolves the placement once its deadline passes.
            tracing::error!(placement_id, error = %e, "transient store failure on a record without a message id; acknowledged");
            RecordOutcome::Quarantined
        }
        (false, _) => {
            tracing::error!(message_id = message_id.unwrap_or(""), placement_id, code = "store_error", error = %e, "quarantined");
            RecordOutcome::Quarantined
        }
    }
}

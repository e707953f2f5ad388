//! placement-events: applies GameLift queue placement events, delivered by SQS, to the table (docs/architecture.md#placement-events-and-results).
//!
//! Each SQS record goes through the same steps:
//!
//! 1. [`fleet_core::event::parse_message`] reads the body in any of its three shapes. A body that can
//!    never parse (not JSON, no `placementId`, …) is **quarantined**: logged at error level with its
//!    message id and acknowledged on first receipt, never redelivered.
//! 2. An event of a type this code does not know is logged and acknowledged.
//! 3. The placement is read (strongly consistent; the batch's placements together, in one
//!    BatchGetItem on DynamoDB). A result for a placement this system never started is
//!    logged and acknowledged.
//! 4. [`fleet_core::rules::outcome_of`] builds the outcome from the event itself (the session's address,
//!    port and player sessions are all in a `PlacementFulfilled`, so there is no GameLift call), and
//!    the batch's outcomes are written together by [`SessionStore::finish_placements`], each as a
//!    guarded transition: a duplicate or a late event for a placement that already finished changes
//!    nothing. The DynamoDB store packs them into shared transactions (one request for a batch of ten
//!    fresh events) and settles them one by one only when a shared transaction cannot commit, so each
//!    record gets the answer it would have got alone.
//! 5. Only a **transient** store failure (unavailable, throttled, contention) sends the message back to
//!    the queue, as a `batchItemFailures` entry for that message alone. A write the store refuses
//!    for good (an item over DynamoDB's limits, which the size budgets of `fleet_core::limits` rule
//!    out for valid input) quarantines the message and ends the placement FAILED with a reason.
//! 6. When step 4 wrote the result ([`Applied::Applied`], any terminal status), the result is **pushed
//!    at once** to the placement's WebSocket connections ([`process_and_push`], what [`handle`] runs):
//!    the notifier's own [`notifier::push_result`], with its sent records (`P#<id>`/`SENT#<connection>`,
//!    `attribute_not_exists`), so each connection gets the result once and the same message whichever
//!    pushes first. The placement pushed is the one read in step 3 with the outcome applied in memory,
//!    and the session is the one step 4's write stored ([`fleet_core::ports::Finished::session`]:
//!    merged with an earlier report, seats counted, which the session built from the event is not), so
//!    the push reads neither again. Who hears the result depends only on the placement read in step
//!    3, so for a placement read PENDING its connections are looked up while step 4's write commits,
//!    not after it. A duplicate, refused, ignored or quarantined record pushes nothing.
//!
//! The early push only shortens the path: without it the result goes through the table's DynamoDB
//! stream to the notifier (0–250 ms more in AWS, as the event source mapping polls each shard about
//! four times a second). The notifier still runs on every result, as the safety net: results the
//! sweeper wrote, pushes that failed here, connections that subscribed in between. It finds the sent
//! records this function wrote and pushes nothing twice.
//!
//! **A push never changes the record's outcome.** The event is applied and acknowledged whatever the
//! push does; a failed push (a store failure looking up the connections, or a PostToConnection that
//! failed transiently, whose sent record is removed again) is logged with the placement id, counted in
//! `EarlyPushFailed`, and left to the notifier. A push failure never makes the record a `Retry`:
//! redelivering an event that was applied would only be a duplicate.
//!
//! **Budget.** The store side of an event is unchanged (docs/architecture.md#functions-and-call-budget: a fulfilled event is at most two
//! writes and no GameLift call). The push is the notifier's work done earlier, with the same calls: the
//! connection lookups (one `connectionsByUser` Query per user, one subscribers Query) and per
//! connection one sent record (a conditional PutItem) and one PostToConnection; the session comes from
//! the write (the notifier, which has only the stream record, reads it with one GetItem when it has
//! something to push). The lookups
//! start before the write's answer, so an event whose placement was read PENDING but whose write
//! then finds it finished (a second copy in the same batch, or the sweeper first) makes them and
//! pushes nothing; an event for a placement read finished makes none. The sent records are the notifier's writes moved here: its later
//! delivery of the same result still looks the connections up, but its conditional puts find the
//! records (refused; DynamoDB still bills a refused conditional write) and it posts nothing.
//!
//! **Time.** The placements of one batch are read in one request, its records decided, then written
//! together; each result is pushed right after that commit, [`CONCURRENCY`] results at a time, to at most
//! [`notifier::CONCURRENCY`] connections at a time. Each PostToConnection is bounded by the deployed
//! notifier's client timeouts and its 1 s retry budget for throttles (`fleet_aws::notifier`,
//! `fleet_aws::clients::apigw_management`); there is no outer timeout, on purpose: cutting a push short
//! between its sent record and its PostToConnection would make the notifier skip that connection. For
//! the same reason no push starts within [`EARLY_PUSH_GUARD`] of the invocation's deadline
//! ([`handle_until`]): such a result is left, unmarked, to the stream's notifier
//! (`EarlyPushSkipped`). The response does not depend on the order in which records finish.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use fleet_core::event::{EventKind, PlacementEvent, parse_message};
use fleet_core::ids::PlacementId;
use fleet_core::model::{Placement, PlacementStatus, Session};
use fleet_core::ports::{
    Applied, Clock, ConnectionStore, Finish, Finished, Notifier, PlacementOutcome, SessionStore,
    StoreError,
};
use fleet_core::rules;
use fleet_core::time::Timestamp;
use futures::StreamExt as _;

use crate::deps::{Deps, Ports};
use crate::notifier::{self, PlacedSession, Pushed};
use crate::observability::Metrics;

/// The function's name, the `Function` dimension of its metrics.
pub const FUNCTION: &str = "placement-events";

/// Results of one batch pushed at once: enough to hide DynamoDB and API Gateway latency, few enough
/// to stay well under the table's limits (an SQS batch holds at most 10,000 records).
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

/// Applies a batch, pushes the results it wrote, and flushes the invocation's metrics: the Lambda entry
/// point's body ([`process_and_push`]).
///
/// The store, the notifier and the clock are used; the binary passes `()` for GameLift.
pub async fn handle<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    deps: &Deps<P>,
    event: SqsEvent,
) -> SqsBatchResponse {
    handle_until(deps, event, None).await
}

/// [`handle`] within an invocation that ends at `deadline`: no early push starts with less than
/// [`EARLY_PUSH_GUARD`] left (see [`process_and_push_until`]).
pub async fn handle_until<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    deps: &Deps<P>,
    event: SqsEvent,
    deadline: Option<std::time::Instant>,
) -> SqsBatchResponse {
    let (response, mut metrics) = process_and_push_until(
        &deps.store,
        &deps.notifier,
        event,
        deps.clock.now(),
        deadline,
    )
    .await;
    metrics.flush(deps.clock.now().millis());
    response
}

/// Time an early push needs: its sent records, then PostToConnection within the client's timeouts
/// and its 1 s throttle budget. A push started with less left could be cut by the Lambda timeout
/// between its sent record and its PostToConnection, and the notifier would then skip that
/// connection as already served.
pub const EARLY_PUSH_GUARD: std::time::Duration = std::time::Duration::from_secs(5);

/// Applies a batch without pushing anything (the results then reach their subscribers through the
/// stream's notifier alone): the partial batch response (only transient failures, each with its
/// message id) and the metrics of the invocation. For callers that measure or exercise the store side
/// alone; the function itself runs [`process_and_push`].
pub async fn process<S: SessionStore>(store: &S, event: SqsEvent) -> (SqsBatchResponse, Metrics) {
    let results = apply_batch(store, &event.records).await;
    release_all(store, &results).await;
    let outcomes = results
        .into_iter()
        .map(|(id, outcome, _)| (id, outcome))
        .collect();
    respond(outcomes, Metrics::new(FUNCTION))
}

/// Applies a batch like [`process`] and pushes each result it wrote to the placement's WebSocket
/// connections right after writing it (see the module docs). The response is exactly [`process`]'s:
/// a push, failed or not, never changes a record's outcome. `now` is the time connection and
/// subscription expiries are checked against.
pub async fn process_and_push<S, N>(
    store: &S,
    notifier: &N,
    event: SqsEvent,
    now: Timestamp,
) -> (SqsBatchResponse, Metrics)
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    process_and_push_until(store, notifier, event, now, None).await
}

/// [`process_and_push`], leaving to the stream's notifier every result whose push would start with
/// less than [`EARLY_PUSH_GUARD`] before `deadline` (counted in `EarlyPushSkipped`): nothing is
/// marked sent for it, so the notifier delivers it.
pub async fn process_and_push_until<S, N>(
    store: &S,
    notifier: &N,
    event: SqsEvent,
    now: Timestamp,
    deadline: Option<std::time::Instant>,
) -> (SqsBatchResponse, Metrics)
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let time_left = || deadline.is_none_or(|d| std::time::Instant::now() + EARLY_PUSH_GUARD <= d);
    let prepared = prepare_batch(store, &event.records).await;
    // Who hears a result depends only on the placement read in `prepare`, so its connections are looked
    // up while the batch commits rather than after: one round trip fewer between the event and the
    // push. Only for placements read PENDING, whose event almost always applies; an event for a
    // placement that already finished (a duplicate, a late one) looks nothing up.
    let mut lookups = Vec::with_capacity(prepared.len());
    for (_, p) in &prepared {
        let pending = p
            .as_ref()
            .ok()
            .filter(|r| r.placement.status == PlacementStatus::Pending)
            .map(|r| r.placement.clone());
        lookups.push(async move {
            match pending {
                Some(placement) => Some(notifier::targets(store, &placement, now).await),
                None => None,
            }
        });
    }
    let (looked_up, applied) = futures::future::join(
        futures::future::join_all(lookups),
        write_batch(store, prepared),
    )
    .await;
    let released = released_by(&applied);
    let pushes = futures::stream::iter(applied.into_iter().zip(looked_up))
        .map(|((id, outcome, finished), looked_up)| async move {
            let pushed = match finished {
                Some(written) if time_left() => {
                    Some(push_early(store, notifier, &written, looked_up, now).await)
                }
                Some(written) => {
                    tracing::info!(
                        placement_id = written.placement.placement_id.as_str(),
                        "too close to the deadline to push; left to the stream's notifier"
                    );
                    Some(EarlyPush::Skipped)
                }
                None => None,
            };
            (id, outcome, pushed)
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<(Option<String>, RecordOutcome, Option<EarlyPush>)>>();
    // The players' pending counts are released after the pushes: the release is not on the player's
    // path to the result, and a write sent beside a push's sent record makes that record wait
    // wherever writes to the table queue behind each other (DynamoDB Local applies them one at a
    // time). It costs the invocation one round trip more, never the player.
    let results = pushes.await;
    release(store, &released).await;
    let mut metrics = Metrics::new(FUNCTION);
    let mut outcomes = Vec::with_capacity(results.len());
    let mut failed = 0u64;
    let mut skipped = 0u64;
    for (id, outcome, pushed) in results {
        match pushed {
            Some(EarlyPush::Done(p)) => {
                p.delivery.record(&mut metrics);
                if p.delivery.failed > 0 {
                    failed += 1;
                }
            }
            Some(EarlyPush::StoreFailed) => failed += 1,
            Some(EarlyPush::Skipped) => skipped += 1,
            None => {}
        }
        outcomes.push((id, outcome));
    }
    if failed > 0 {
        metrics.count("EarlyPushFailed", failed);
    }
    if skipped > 0 {
        metrics.count("EarlyPushSkipped", skipped);
    }
    respond(outcomes, metrics)
}

/// What the push right after a commit did.
enum EarlyPush {
    /// The pushes were made (some may have failed: see the delivery).
    Done(Pushed),
    /// A transient store failure before any push: nothing was sent.
    StoreFailed,
    /// Not attempted: too close to the invocation's deadline; the notifier delivers it.
    Skipped,
}

/// Pushes one result just written, to the targets `looked_up` beside the write when it has them;
/// every failure is logged here and left to the stream's notifier.
async fn push_early<S, N>(
    store: &S,
    notifier: &N,
    written: &Written,
    looked_up: Option<Result<Vec<notifier::Target>, StoreError>>,
    now: Timestamp,
) -> EarlyPush
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let placement = &written.placement;
    let placement_id = placement.placement_id.as_str();
    let placed = PlacedSession::Written(written.session.as_ref());
    let pushed = match looked_up {
        Some(looked_up) => {
            notifier::push_to(store, notifier, placement, placed, looked_up, now).await
        }
        None => notifier::push_result(store, notifier, placement, placed, now).await,
    };
    match pushed {
        Ok(p) => {
            let d = &p.delivery;
            if d.failed > 0 {
                tracing::warn!(
                    placement_id,
                    failed = d.failed,
                    sent = d.sent,
                    "early push failed for some connections; the stream's notifier retries them"
                );
            } else if p.targets > 0 {
                tracing::info!(
                    placement_id,
                    status = placement.status.as_str(),
                    targets = p.targets,
                    sent = d.sent,
                    duplicate = d.duplicate,
                    gone = d.gone,
                    "placement result pushed"
                );
            }
            EarlyPush::Done(p)
        }
        Err(e) => {
            tracing::warn!(placement_id, error = %e, "early push failed; the stream's notifier retries it");
            EarlyPush::StoreFailed
        }
    }
}

/// The partial batch response and the outcome counts, whatever order the records finished in.
fn respond(
    outcomes: Vec<(Option<String>, RecordOutcome)>,
    mut metrics: Metrics,
) -> (SqsBatchResponse, Metrics) {
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
        RecordOutcome::Applied {
            status,
            time_to_fulfilment_ms,
        } => {
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

/// Applies one record (see the module docs; no push): a batch of one. Never fails: every problem is an
/// outcome.
pub async fn apply_record<S: SessionStore>(store: &S, record: &SqsMessage) -> RecordOutcome {
    let results = apply_batch(store, std::slice::from_ref(record)).await;
    release_all(store, &results).await;
    results
        .into_iter()
        .next()
        .map_or(RecordOutcome::Retry, |(_, outcome, _)| outcome)
}

/// The placements a batch finished stop counting against their players' caps ([`release`]).
async fn release_all<S: SessionStore>(
    store: &S,
    results: &[(Option<String>, RecordOutcome, Option<Written>)],
) {
    release(store, &released_by(results)).await;
}

/// The `(owner, placement)` pairs of the player placements a batch finished.
fn released_by(
    results: &[(Option<String>, RecordOutcome, Option<Written>)],
) -> Vec<(String, fleet_core::ids::PlacementId)> {
    results
        .iter()
        .filter_map(|(_, _, finished)| finished.as_ref())
        .filter_map(|w| {
            let owner = fleet_core::auth::pending_owner(&w.placement.requester)?;
            Some((owner, w.placement.placement_id.clone()))
        })
        .collect()
}

/// One request for the whole batch ([`SessionStore::release_pendings`]); best effort, as
/// [`release_pending`].
async fn release<S: SessionStore>(store: &S, released: &[(String, fleet_core::ids::PlacementId)]) {
    if released.is_empty() {
        return;
    }
    if let Err(e) = store.release_pendings(released).await {
        tracing::warn!(placements = released.len(), error = %e, "could not release finished placements from their players' pending counts; the next create at the cap will");
    }
}

/// Ends as FAILED a placement whose result can never be recorded (the store refused the write as
/// invalid, or GameLift's answer cannot be turned into a session), so that nothing retries it
/// forever. `why` (the store's or the parser's own words) goes to the log; the stored reason is ours.
/// Answers the placement as it now stands when the FAILED end was written.
pub async fn fail_unrecordable<S: SessionStore>(
    store: &S,
    placement: &Placement,
    why: &str,
    at: Timestamp,
) -> Option<Placement> {
    let placement_id = placement.placement_id.as_str();
    tracing::error!(
        placement_id,
        error = why,
        "the placement's result can never be stored; marking it FAILED"
    );
    let outcome = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::Failed,
        reason: Some(
            "GameLift reported a result that could not be recorded; create the session again"
                .into(),
        ),
    };
    match store
        .finish_placement(&placement.placement_id, &outcome, at)
        .await
    {
        Ok(Applied::Applied) => {
            release_pending(store, placement).await;
            Some(finished(placement.clone(), &outcome, at))
        }
        Ok(other) => {
            tracing::info!(placement_id, outcome = ?other, "placement already finished");
            None
        }
        Err(e) => {
            tracing::error!(placement_id, error = %e, "could not mark the placement FAILED; the sweeper will");
            None
        }
    }
}

/// What GameLift's description of a placement (DescribeGameSessionPlacement, or the placement a
/// StopGameSessionPlacement refused) means for ours.
#[derive(Debug)]
pub enum Described {
    /// GameLift still has it PENDING.
    Pending,
    /// The outcome to write, as an event would have said it.
    Outcome(PlacementOutcome),
    /// FULFILLED with a session that can never be recorded (the parser's words): see
    /// [`fail_unrecordable`].
    Unrecordable(String),
    /// FULFILLED without a session: nothing safe to write.
    FulfilledWithoutSession,
}

/// Reads GameLift's `description` of `placement` as the outcome a lost event would have carried;
/// `why` gives the reason stored on an unfulfilled end.
pub fn described(
    placement: &Placement,
    description: &fleet_core::ports::PlacementDescription,
    now: Timestamp,
    why: impl FnOnce(PlacementStatus) -> String,
) -> Described {
    match (description.status, &description.fulfilled) {
        (PlacementStatus::Pending, _) => Described::Pending,
        (PlacementStatus::Fulfilled, Some(f)) => {
            match rules::session_from_fulfilled(placement, f, now) {
                Ok(session) => Described::Outcome(PlacementOutcome::Fulfilled {
                    session: Box::new(session),
                    player_sessions: f.placed_player_sessions.clone(),
                }),
                Err(e) => Described::Unrecordable(e.to_string()),
            }
        }
        (PlacementStatus::Fulfilled, None) => Described::FulfilledWithoutSession,
        (status, _) => Described::Outcome(PlacementOutcome::Unfulfilled {
            status,
            reason: Some(why(status)),
        }),
    }
}

/// Tells the store a player's placement just left PENDING, so it stops counting against the player's
/// cap at once ([`SessionStore::release_pending`]; nothing for a service's placement). Best effort: a
/// failure is logged, and the store finds finished placements by itself when the cap is reached.
pub async fn release_pending<S: SessionStore>(store: &S, placement: &Placement) {
    let Some(owner) = fleet_core::auth::pending_owner(&placement.requester) else {
        return;
    };
    if let Err(e) = store.release_pending(&owner, &placement.placement_id).await {
        tracing::warn!(placement_id = placement.placement_id.as_str(), error = %e, "could not release the placement from its player's pending count; the next create at the cap will");
    }
}

/// The placement as [`SessionStore::finish_placement`] left it when it applied `outcome` at `at`: what
/// the stored item says after the write, built from the item read before it (no second read).
pub fn finished(mut placement: Placement, outcome: &PlacementOutcome, at: Timestamp) -> Placement {
    placement.updated_at = at;
    match outcome {
        PlacementOutcome::Fulfilled {
            session,
            player_sessions,
        } => {
            placement.status = PlacementStatus::Fulfilled;
            placement.session_id = Some(session.id.clone());
            placement.player_sessions.clone_from(player_sessions);
        }
        PlacementOutcome::Unfulfilled { status, reason } => {
            placement.status = *status;
            if reason.is_some() {
                placement.reason.clone_from(reason);
            }
        }
    }
    placement
}

/// A result this batch wrote: the placement as it now stands and, for a fulfilment, the session its
/// write stored (what the push carries, so it reads neither again).
struct Written {
    placement: Placement,
    session: Option<Session>,
}

/// A record read and decided, not yet written.
struct Ready {
    event_id: Option<String>,
    placement: Placement,
    finish: Finish,
    shape: &'static str,
}

/// A record read and decided ([`Ready`], when there is an outcome to write) or already concluded.
type Prepared = (Option<String>, Result<Ready, RecordOutcome>);

/// Applies a batch's records: their placements are read together and each record is decided on its
/// own ([`prepare_batch`]), then all the decided ones are written with one
/// [`SessionStore::finish_placements`] (which the DynamoDB store packs into shared transactions), so
/// a batch of fresh events costs one read and one write request, not ten of each.
/// One entry per record, in order: its message id, its outcome and, when it wrote the result, the
/// placement as it now stands. The players' pending counts are the caller's to release
/// ([`release_all`], or after the pushes).
async fn apply_batch<S: SessionStore>(
    store: &S,
    records: &[SqsMessage],
) -> Vec<(Option<String>, RecordOutcome, Option<Written>)> {
    write_batch(store, prepare_batch(store, records).await).await
}

/// Reads and decides every record of a batch, in order: each body is parsed, the placements of
/// those that parse are read together ([`SessionStore::get_placements`], one BatchGetItem on
/// DynamoDB), and each record is decided on its own placement ([`decide`]).
async fn prepare_batch<S: SessionStore>(store: &S, records: &[SqsMessage]) -> Vec<Prepared> {
    let parsed: Vec<(Option<String>, Result<PlacementEvent, RecordOutcome>)> = records
        .iter()
        .map(|record| (message_id(record), parse_record(record)))
        .collect();
    let ids: Vec<PlacementId> = parsed
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok())
        .map(|event| event.placement_id.clone())
        .collect();
    let mut placements = store.get_placements(&ids).await.into_iter();
    parsed
        .into_iter()
        .map(|(id, p)| {
            let ready = p.and_then(|event| {
                let read = placements.next().unwrap_or_else(|| {
                    Err(StoreError::Unavailable(
                        "the store answered fewer placements than it was asked for".into(),
                    ))
                });
                decide(id.clone(), event, read)
            });
            (id, ready)
        })
        .collect()
}

/// Writes the decided records of a prepared batch together and concludes every record (see
/// [`apply_batch`]).
async fn write_batch<S: SessionStore>(
    store: &S,
    prepared: Vec<Prepared>,
) -> Vec<(Option<String>, RecordOutcome, Option<Written>)> {
    let batch: Vec<Finish> = prepared
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok())
        .map(|r| r.finish.clone())
        .collect();
    let mut written = store.finish_placements(&batch).await.into_iter();
    let mut unrecordable = Vec::new();
    let mut results: Vec<(Option<String>, RecordOutcome, Option<Written>)> = prepared
        .into_iter()
        .enumerate()
        .map(|(i, (id, p))| match p {
            Err(outcome) => (id, outcome, None),
            Ok(ready) => {
                let result = written.next().unwrap_or_else(|| {
                    Err(StoreError::Unavailable(
                        "the store answered fewer placements than it was given".into(),
                    ))
                });
                if let Err(e) = &result
                    && !e.is_transient()
                {
                    unrecordable.push((i, ready.placement.clone(), ready.finish.at, e.to_string()));
                }
                let (outcome, placement) = conclude(ready, result);
                (id, outcome, placement)
            }
        })
        .collect();
    // A result the store can never take (quarantined above) must not leave its placement PENDING for
    // the sweeper to retry run after run: it ends FAILED, and is pushed like any result.
    for (i, placement, at, why) in unrecordable {
        if let Some(failed) = fail_unrecordable(store, &placement, &why, at).await
            && let Some(slot) = results.get_mut(i)
        {
            slot.2 = Some(Written {
                placement: failed,
                session: None,
            });
        }
    }
    results
}

/// Parses one record's body into a placement event of a known type; `Err` with the record's
/// outcome for a body that can never parse (quarantined) or an unknown event type (ignored).
fn parse_record(record: &SqsMessage) -> Result<PlacementEvent, RecordOutcome> {
    let id = message_id(record);
    let message_id = id.as_deref().unwrap_or("");
    let Some(body) = record.body.as_deref() else {
        tracing::error!(
            message_id,
            code = "no_body",
            "quarantined: the SQS record has no body"
        );
        return Err(RecordOutcome::Quarantined);
    };
    let event = match parse_message(body) {
        Ok(event) => event,
        Err(e) => {
            tracing::error!(message_id, code = e.code(), field = e.field(), error = %e, "quarantined");
            return Err(RecordOutcome::Quarantined);
        }
    };
    if let EventKind::Unknown { event_type } = &event.kind {
        tracing::info!(
            message_id,
            placement_id = event.placement_id.as_str(),
            event_type,
            shape = event.shape.as_str(),
            "unknown placement event type; acknowledged"
        );
        return Err(RecordOutcome::Ignored);
    }
    Ok(event)
}

/// Decides one parsed record on its placement as `read`: `Ok` when there is an outcome to write,
/// `Err` with the record's outcome otherwise.
fn decide(
    id: Option<String>,
    event: PlacementEvent,
    read: Result<Option<Placement>, StoreError>,
) -> Result<Ready, RecordOutcome> {
    let message_id = id.as_deref().unwrap_or("");
    let placement_id = event.placement_id.as_str();
    let shape = event.shape.as_str();
    let placement = match read {
        Ok(Some(p)) => p,
        Ok(None) => {
            tracing::info!(
                message_id,
                placement_id,
                shape,
                "placement not started by this system; ignored"
            );
            return Err(RecordOutcome::Ignored);
        }
        Err(e) => return Err(store_failure(id.as_deref(), placement_id, &e)),
    };
    let (outcome, at) = match rules::outcome_of(&placement, &event) {
        Ok(Some(decided)) => decided,
        // outcome_of answers None only for unknown types, handled above; kept total for safety.
        Ok(None) => return Err(RecordOutcome::Ignored),
        Err(e) => {
            tracing::error!(message_id, placement_id, code = "invalid_field", field = %e.field, error = %e, "quarantined");
            return Err(RecordOutcome::Quarantined);
        }
    };
    Ok(Ready {
        event_id: id,
        placement,
        finish: Finish {
            id: event.placement_id,
            outcome,
            at,
        },
        shape,
    })
}

/// A decided record's outcome, given what writing it did; with the finished placement when it wrote
/// the result.
fn conclude(
    ready: Ready,
    written: Result<Finished, StoreError>,
) -> (RecordOutcome, Option<Written>) {
    let Ready {
        event_id,
        placement,
        finish,
        shape,
    } = ready;
    let status = finish.outcome.status();
    let message_id = event_id.as_deref().unwrap_or("");
    let placement_id = finish.id.as_str();
    match written.map(|f| (f.applied, f.session)) {
        Ok((Applied::Applied, session)) => {
            let at = finish.at;
            let time_to_fulfilment_ms = (status == PlacementStatus::Fulfilled)
                .then(|| (at.millis() - placement.created_at.millis()).max(0));
            tracing::info!(
                message_id,
                placement_id,
                status = status.as_str(),
                shape,
                "placement finished"
            );
            (
                RecordOutcome::Applied {
                    status,
                    time_to_fulfilment_ms,
                },
                Some(Written {
                    placement: finished(placement, &finish.outcome, at),
                    session,
                }),
            )
        }
        Ok((Applied::Duplicate, _)) => {
            tracing::info!(
                message_id,
                placement_id,
                status = status.as_str(),
                "duplicate event; acknowledged"
            );
            (RecordOutcome::Duplicate, None)
        }
        Ok((Applied::Refused, _)) => {
            tracing::warn!(
                message_id,
                placement_id,
                event_status = status.as_str(),
                "placement already finished with another status; event acknowledged without effect"
            );
            (RecordOutcome::Refused, None)
        }
        Ok((Applied::Unknown, _)) => {
            // Read a moment ago, gone now: only TTL removes placements, long after any event.
            tracing::info!(
                message_id,
                placement_id,
                "placement no longer exists; ignored"
            );
            (RecordOutcome::Ignored, None)
        }
        Err(e) => (store_failure(event_id.as_deref(), placement_id, &e), None),
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

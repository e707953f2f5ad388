//! notifier: pushes a placement's result to the WebSocket connections that want it (docs/architecture.md#placement-events-and-results), fed by
//! the table's DynamoDB stream (`NEW_AND_OLD_IMAGES`, filtered to placements in the template).
//!
//! A stream record matters when it shows a placement item moving from PENDING (or from nothing) to a
//! terminal status; every other record (sessions, seats, subscriptions, a TTL removal, a second change
//! of a finished placement) is ignored. For a placement that finished:
//!
//! - **who**: the live connections of the requester and of each listed player (the `connectionsByUser`
//!   index: a fan-out lookup, not a state decision) and the placement's subscribers;
//! - **what**: `{"type":"placement","placementId","status","session"?,"playerSession"?,"reason"?}`,
//!   where `playerSession` is the connection's own user's player session only, never another player's;
//!   a message that would pass API Gateway's 128 KB leaves out the session's `data` and says
//!   `"sessionDataOmitted": true` ([`placement_message`]);
//! - **once**: before a push, a sent record (`P#<id>`/`SENT#<connection>`) is written with
//!   `attribute_not_exists`; if it exists the push is a duplicate (a redelivered stream record, or a
//!   subscribe's catch-up that got there first) and is skipped;
//! - **failures**: a 410 deletes the connection (and that subscription); a 413 is logged and counted,
//!   never retried; any other push failure removes the sent record again and reports the stream record
//!   as a batch item failure (its `SequenceNumber`), so Lambda retries from it. Processing stops at the
//!   first failed record: Lambda retries from the lowest reported sequence number anyway.
//!
//! **Usually second.** placement-events pushes a result itself right after it commits it, through the
//! same [`push_result`] (see [`crate::placement_events`]), so most stream records here find every
//! sent record already written and push nothing (`NotificationsDuplicate`). This function is the safety
//! net: it delivers results written by the sweeper, pushes that failed or were cut short there, and
//! connections that appeared between that push and this stream record.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use fleet_core::ids::ConnectionId;
use fleet_core::limits::PUSH_MAX_BYTES;
use fleet_core::model::{Placement, PlacementStatus, Session, SessionStatus};
use fleet_core::ports::{Clock, ConnectionStore, Notifier, NotifyError, SessionStore, StoreError};
use fleet_core::time::Timestamp;
use futures::StreamExt as _;
use serde_json::{Value, json};

use crate::deps::{Deps, Ports};
use crate::observability::Metrics;

/// The function's name, the `Function` dimension of its metrics.
pub const FUNCTION: &str = "notifier";

/// Pushes in flight at once for one placement: PostToConnection is a network round trip each.
pub const CONCURRENCY: usize = 10;

/// A connection to push a result to, and whose player session it may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The connection.
    pub connection: ConnectionId,
    /// Its user.
    pub user: String,
    /// Whether it is there through a subscription (removed with the connection when it is gone).
    pub subscribed: bool,
}

/// What one push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Delivered.
    Sent,
    /// Already delivered before; skipped.
    Duplicate,
    /// The connection is gone (410); its row was deleted.
    Gone,
    /// The message is too large (413); not retried.
    TooLarge,
    /// A transient failure; the sent record was removed so a retry pushes again.
    Failed,
}

/// Counts of a delivery, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Delivered.
    pub sent: u32,
    /// Skipped as already delivered.
    pub duplicate: u32,
    /// Connections found gone.
    pub gone: u32,
    /// Messages too large.
    pub too_large: u32,
    /// Transient failures (the caller retries).
    pub failed: u32,
}

impl Delivery {
    fn add(&mut self, outcome: PushOutcome) {
        match outcome {
            PushOutcome::Sent => self.sent += 1,
            PushOutcome::Duplicate => self.duplicate += 1,
            PushOutcome::Gone => self.gone += 1,
            PushOutcome::TooLarge => self.too_large += 1,
            PushOutcome::Failed => self.failed += 1,
        }
    }

    /// Adds these counts to the invocation's metrics.
    pub fn record(&self, metrics: &mut Metrics) {
        for (name, n) in [
            ("NotificationsSent", self.sent),
            ("NotificationsDuplicate", self.duplicate),
            ("NotificationsGone", self.gone),
            ("NotificationsTooLarge", self.too_large),
            ("NotificationsFailed", self.failed),
        ] {
            if n > 0 {
                metrics.count(name, u64::from(n));
            }
        }
    }
}

/// The session as a client sees it: the stored record without the internal `reservedSeats` counter
/// (the HTTP API's session shape, docs/architecture.md#http-api), and no open slots once ended.
pub fn session_json(session: &Session) -> Value {
    let mut v = serde_json::to_value(session).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.remove("reservedSeats");
        if session.status != SessionStatus::Active {
            map.insert("openSlots".into(), json!(0));
        }
    }
    v
}

/// The message for one user's connection: the placement's result with that user's own player session.
///
/// A message over API Gateway's 128 KB ([`PUSH_MAX_BYTES`]) could never be sent, and a session's
/// `data` alone may be 300 KB: such a message goes out without the session's `data` and with
/// `"sessionDataOmitted": true` (the client reads it with `GET /v1/sessions/{id}`). Everything else
/// in it is bounded well under the limit (see `fleet_core::limits`).
pub fn placement_message(placement: &Placement, session: Option<&Session>, user: &str) -> Vec<u8> {
    let full = full_message(placement, session, user);
    if full.len() <= PUSH_MAX_BYTES {
        return full;
    }
    let Some(s) = session.filter(|s| s.data.is_some()) else {
        return full;
    };
    let trimmed = Session {
        data: None,
        ..s.clone()
    };
    let mut msg: Value = serde_json::from_slice(&full_message(placement, Some(&trimmed), user))
        .unwrap_or(Value::Null);
    msg["sessionDataOmitted"] = json!(true);
    msg.to_string().into_bytes()
}

fn full_message(placement: &Placement, session: Option<&Session>, user: &str) -> Vec<u8> {
    let mut msg = json!({
        "type": "placement",
        "placementId": placement.placement_id,
        "status": placement.status,
    });
    if let Some(s) = session {
        msg["session"] = session_json(s);
    }
    if let Some(ps) = placement
        .player_sessions
        .iter()
        .find(|ps| ps.player_id.as_str() == user)
    {
        let mut view = json!({"playerId": ps.player_id, "playerSessionId": ps.player_session_id});
        if let Some(s) = session {
            view["ipAddress"] = json!(s.ip_address);
            view["dnsName"] = json!(s.dns_name);
            view["port"] = json!(s.port);
        }
        msg["playerSession"] = view;
    }
    if let Some(r) = &placement.reason {
        msg["reason"] = json!(r);
    }
    msg.to_string().into_bytes()
}

/// An error message for one connection (a refused or malformed subscribe), shaped like the HTTP API's
/// errors: `{"type":"error","error":{"code","message"},"placementId"?}`.
pub fn error_message(code: &str, message: &str, placement_id: Option<&str>) -> Vec<u8> {
    let mut msg = json!({"type": "error", "error": {"code": code, "message": message}});
    if let Some(p) = placement_id {
        msg["placementId"] = json!(p);
    }
    msg.to_string().into_bytes()
}

/// Everyone who should hear about `placement`: the requester's and listed players' connections, and
/// its subscribers, each connection once. The lookups (one per user, one for the subscribers) are
/// independent and run at once: one round trip of latency, not one per lookup.
pub async fn targets<S: ConnectionStore>(
    store: &S,
    placement: &Placement,
    now: Timestamp,
) -> Result<Vec<Target>, StoreError> {
    let mut users: Vec<&str> = vec![placement.requester.as_str()];
    for p in &placement.players {
        if !users.contains(&p.player_id.as_str()) {
            users.push(p.player_id.as_str());
        }
    }
    // Built in a loop, not mapped through a closure over `&str`, so the future stays provably `Send`
    // (see `deliver`).
    let mut lookups = Vec::with_capacity(users.len());
    for user in &users {
        lookups.push(store.connections_of(user, now));
    }
    let (connections, subscribers) = futures::join!(
        futures::future::join_all(lookups),
        store.subscribers(&placement.placement_id, now)
    );
    let mut out: Vec<Target> = Vec::new();
    for (user, connections) in users.iter().zip(connections) {
        for connection in connections? {
            if !out.iter().any(|t| t.connection == connection) {
                out.push(Target {
                    connection,
                    user: (*user).to_owned(),
                    subscribed: false,
                });
            }
        }
    }
    for sub in subscribers? {
        match out.iter_mut().find(|t| t.connection == sub.connection) {
            Some(t) => t.subscribed = true,
            None => out.push(Target {
                connection: sub.connection,
                user: sub.user,
                subscribed: true,
            }),
        }
    }
    Ok(out)
}

/// What [`push_result`] did for one finished placement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Connections that should hear of it.
    pub targets: usize,
    /// What the pushes to them did.
    pub delivery: Delivery,
}

/// The placed session a result's push carries.
#[derive(Debug, Clone, Copy)]
pub enum PlacedSession<'a> {
    /// Not known to the caller (a stream record): read it, and only if someone is waiting.
    Read,
    /// What the write that finished the placement stored ([`fleet_core::ports::Finished::session`]):
    /// placement-events has it in hand, so its push reads nothing more.
    Written(Option<&'a Session>),
}

/// Pushes a finished placement's result to everyone who should hear it, each connection once: the
/// one path of this function (fed by the stream) and of placement-events (right after it commits the
/// result), so both send the same message and the sent records make the second one a no-op.
///
/// `placement` must be the placement as stored after it finished (its status, `sessionId`,
/// `playerSessions` and `reason` are what the message carries). The targets are looked up first
/// ([`targets`]). The message carries the stored session, not the one built from the event, because
/// the store merges a game server's earlier report into it, counts the placed seats, and keeps a
/// session deleted before its event ended: `placed` either is that session as its write stored it, or
/// asks for it to be read ([`placed_session`], one strongly consistent GetItem, FULFILLED only, and
/// only once a push is to be made: after its sent record was written, so a result already pushed
/// reads nothing). Then [`deliver`].
///
/// `Err` only for a transient store failure of the lookups (nothing was sent; retrying can help); a
/// permanent one (an unreadable item) is logged and read as absent. Failed pushes are in the
/// [`Delivery`], a transient failure to read the session counting as a failed push of each connection
/// that needed it: their sent records were removed, so a later delivery sends them.
pub async fn push_result<S, N>(
    store: &S,
    notifier: &N,
    placement: &Placement,
    placed: PlacedSession<'_>,
    now: Timestamp,
) -> Result<Pushed, StoreError>
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let looked_up = targets(store, placement, now).await;
    push_to(store, notifier, placement, placed, looked_up, now).await
}

/// [`push_result`] once [`targets`] has answered `looked_up`: placement-events looks the targets up
/// while its write commits, so they are not one more round trip after it.
pub async fn push_to<S, N>(
    store: &S,
    notifier: &N,
    placement: &Placement,
    placed: PlacedSession<'_>,
    looked_up: Result<Vec<Target>, StoreError>,
    now: Timestamp,
) -> Result<Pushed, StoreError>
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let targets = transient_only(looked_up)?.unwrap_or_default();
    if targets.is_empty() {
        return Ok(Pushed::default());
    }
    let delivery = deliver(store, notifier, placement, placed, &targets, now).await;
    Ok(Pushed {
        targets: targets.len(),
        delivery,
    })
}

/// The session a FULFILLED placement placed (one read), `None` otherwise or if it was forgotten.
pub async fn placed_session<S: SessionStore>(
    store: &S,
    placement: &Placement,
) -> Result<Option<Session>, StoreError> {
    match (&placement.session_id, placement.status) {
        (Some(id), PlacementStatus::Fulfilled) => store.get_session(id).await,
        _ => Ok(None),
    }
}

/// Where the session a push carries comes from.
enum SessionSource<'a> {
    /// In hand (or known to be absent).
    Ready(Option<&'a Session>),
    /// Read ([`placed_session`]) by the first push whose sent record was written, once for all of
    /// them: a stream record whose pushes placement-events already made (the usual case) finds every
    /// sent record there and reads nothing.
    Lazy(&'a tokio::sync::OnceCell<Option<Session>>),
}

impl SessionSource<'_> {
    async fn get<S: SessionStore>(
        &self,
        store: &S,
        placement: &Placement,
    ) -> Result<Option<&Session>, StoreError> {
        match self {
            SessionSource::Ready(session) => Ok(*session),
            SessionSource::Lazy(cell) => {
                let read = cell
                    .get_or_try_init(|| async {
                        transient_only(placed_session(store, placement).await).map(Option::flatten)
                    })
                    .await?;
                Ok(read.as_ref())
            }
        }
    }
}

/// Pushes a finished placement's result to each target once (see the module docs), with the session
/// `placed` gives: a [`PlacedSession::Read`] is read once, by the first push whose sent record was
/// written, and not at all when every target had already been sent it.
pub async fn deliver<S, N>(
    store: &S,
    notifier: &N,
    placement: &Placement,
    placed: PlacedSession<'_>,
    targets: &[Target],
    now: Timestamp,
) -> Delivery
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let read = tokio::sync::OnceCell::new();
    let session = match placed {
        PlacedSession::Written(session) => SessionSource::Ready(session),
        PlacedSession::Read => SessionSource::Lazy(&read),
    };
    let session = &session;
    // The pushes are built before they are streamed: a stream that maps `&Target` through a closure
    // has a higher-ranked type for which rustc cannot prove `Send`, which callers that spawn this
    // future (the local stack's gateway and stream poller) need.
    let pushes: Vec<_> = targets
        .iter()
        .map(|t| push_once(store, notifier, placement, session, t, now))
        .collect();
    let outcomes: Vec<PushOutcome> = futures::stream::iter(pushes)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let mut delivery = Delivery::default();
    for o in outcomes {
        delivery.add(o);
    }
    delivery
}

async fn push_once<S: SessionStore + ConnectionStore, N: Notifier>(
    store: &S,
    notifier: &N,
    placement: &Placement,
    session: &SessionSource<'_>,
    target: &Target,
    now: Timestamp,
) -> PushOutcome {
    let placement_id = placement.placement_id.as_str();
    let connection = target.connection.as_str();
    match store
        .mark_sent(&placement.placement_id, &target.connection, now)
        .await
    {
        Ok(true) => {}
        Ok(false) => return PushOutcome::Duplicate,
        Err(e) => {
            tracing::warn!(placement_id, connection, error = %e, "could not record the push; will retry");
            return PushOutcome::Failed;
        }
    }
    let session = match session.get(store, placement).await {
        Ok(session) => session,
        Err(e) => {
            tracing::warn!(placement_id, connection, error = %e, "could not read the placed session; will retry");
            unmark(store, placement, target).await;
            return PushOutcome::Failed;
        }
    };
    let payload = placement_message(placement, session, &target.user);
    match notifier.send(connection, &payload).await {
        Ok(()) => PushOutcome::Sent,
        Err(NotifyError::Gone) => {
            tracing::info!(placement_id, connection, "connection gone; deleting it");
            if let Err(e) = store.delete_connection(&target.connection).await {
                // Its TTL removes it anyway, and a later push finds it gone again.
                tracing::warn!(connection, error = %e, "could not delete a gone connection");
            }
            if target.subscribed
                && let Err(e) = store
                    .unsubscribe(&placement.placement_id, &target.connection)
                    .await
            {
                tracing::warn!(placement_id, connection, error = %e, "could not delete a gone subscription");
            }
            PushOutcome::Gone
        }
        Err(NotifyError::TooLarge) => {
            tracing::error!(
                placement_id,
                connection,
                bytes = payload.len(),
                "message too large for PostToConnection; not retried"
            );
            PushOutcome::TooLarge
        }
        Err(e) => {
            tracing::warn!(placement_id, connection, error = %e, "push failed; will retry");
            unmark(store, placement, target).await;
            PushOutcome::Failed
        }
    }
}

/// Removes the sent record of a push that did not happen, so that a retry makes it.
async fn unmark<S: ConnectionStore>(store: &S, placement: &Placement, target: &Target) {
    if let Err(e) = store
        .unmark_sent(&placement.placement_id, &target.connection)
        .await
    {
        // The retry will then see it as sent and skip it: one lost push, logged.
        tracing::error!(
            placement_id = placement.placement_id.as_str(),
            connection = target.connection.as_str(),
            error = %e,
            "could not remove the sent record of a failed push"
        );
    }
}

/// Why a stream record is not acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not a placement item, not an insert or change, or not a move from PENDING to a terminal status.
    NotATransition,
    /// A placement image that cannot be read (logged; retrying cannot help).
    Unreadable(String),
}

/// The placement a stream record shows finishing, if it does.
pub fn finished_placement(record: &EventRecord) -> Result<Placement, Skip> {
    if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
        return Err(Skip::NotATransition);
    }
    let image = &record.change.new_image;
    let text = |item: &serde_dynamo::Item, name: &str| match item.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    };
    if text(image, "kind").as_deref() != Some("placement") {
        return Err(Skip::NotATransition);
    }
    let new_status = text(image, "status")
        .as_deref()
        .and_then(PlacementStatus::from_wire);
    let old_status = text(&record.change.old_image, "status");
    let was_pending = match old_status.as_deref() {
        None => true,
        Some(s) => PlacementStatus::from_wire(s) == Some(PlacementStatus::Pending),
    };
    if !(was_pending && new_status.is_some_and(PlacementStatus::is_terminal)) {
        return Err(Skip::NotATransition);
    }
    // Read by the store's own codec: the stored layout is not the record's serde form.
    let item: fleet_aws::dynamo::codec::Item = image.clone().into();
    fleet_aws::dynamo::codec::placement_from_item(&item)
        .map_err(|e| Skip::Unreadable(e.to_string()))
}

/// Handles a stream batch and flushes the invocation's metrics: the Lambda entry point's body.
pub async fn handle<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    deps: &Deps<P>,
    event: Event,
) -> DynamoDbEventResponse {
    let now = deps.clock.now();
    let (response, mut metrics) = process(&deps.store, &deps.notifier, event, now).await;
    metrics.flush(now.millis());
    response
}

/// Handles a stream batch: the partial batch response (at most one sequence number: where Lambda
/// should resume) and the invocation's metrics.
pub async fn process<S, N>(
    store: &S,
    notifier: &N,
    event: Event,
    now: Timestamp,
) -> (DynamoDbEventResponse, Metrics)
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let mut metrics = Metrics::new(FUNCTION);
    let mut response = DynamoDbEventResponse::default();
    for record in &event.records {
        let sequence = record
            .change
            .sequence_number
            .clone()
            .filter(|s| !s.is_empty());
        if let Err(e) = process_record(store, notifier, record, now, &mut metrics).await {
            match sequence {
                Some(seq) => {
                    tracing::warn!(sequence = seq.as_str(), error = %e, "stream record will be retried");
                    let mut failure = DynamoDbBatchItemFailure::default();
                    failure.item_identifier = Some(seq);
                    response.batch_item_failures.push(failure);
                    // Lambda resumes from this record; everything after it is delivered again.
                    break;
                }
                None => {
                    // An identifier that names no record fails the whole batch; there is nothing to
                    // name, so the record is dropped with a log line.
                    tracing::error!(event_id = record.event_id.as_str(), error = %e, "stream record without a sequence number failed; dropped");
                }
            }
        }
    }
    (response, metrics)
}

/// Why a stream record must be retried.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// The store failed transiently.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some pushes failed transiently.
    #[error("{0} pushes failed")]
    Pushes(u32),
}

async fn process_record<S, N>(
    store: &S,
    notifier: &N,
    record: &EventRecord,
    now: Timestamp,
    metrics: &mut Metrics,
) -> Result<(), RetryError>
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let placement = match finished_placement(record) {
        Ok(p) => p,
        Err(Skip::NotATransition) => return Ok(()),
        Err(Skip::Unreadable(reason)) => {
            tracing::error!(
                event_id = record.event_id.as_str(),
                reason,
                "unreadable placement image; skipped"
            );
            metrics.count("NotificationsUnreadable", 1);
            return Ok(());
        }
    };
    let Pushed { targets, delivery } =
        push_result(store, notifier, &placement, PlacedSession::Read, now).await?;
    tracing::info!(
        placement_id = placement.placement_id.as_str(),
        status = placement.status.as_str(),
        targets,
        sent = delivery.sent,
        duplicate = delivery.duplicate,
        gone = delivery.gone,
        failed = delivery.failed,
        "placement result pushed"
    );
    delivery.record(metrics);
    if delivery.failed > 0 {
        return Err(RetryError::Pushes(delivery.failed));
    }
    Ok(())
}

/// A transient store error is retried; a permanent one (a corrupt item) is logged and treated as
/// absent, since retrying the record cannot repair it.
fn transient_only<T>(r: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_transient() => Err(e),
        Err(e) => {
            tracing::error!(error = %e, "store item unreadable; continuing without it");
            Ok(None)
        }
    }
}

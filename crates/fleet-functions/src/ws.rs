//! ws: the WebSocket API's routes (docs/architecture.md#placement-events-and-results).
//!
//! - `$connect`: the connection was authenticated by the `$connect` REQUEST authorizer
//!   ([`crate::ws_authorizer`]), whose `sub` arrives in `requestContext.authorizer`; without it the
//!   connection is refused (401, fail closed). The connection's row is written with a TTL at API
//!   Gateway's own 2-hour connection limit.
//! - `$disconnect`: deletes the row (best effort: API Gateway may not deliver it; the TTL and the
//!   notifier's handling of 410 cover that).
//! - `subscribe` (`{"action":"subscribe","placementId":"…"}`): allowed for the placement's requester and
//!   listed players. The subscription is written **before** the placement is read again, so a result
//!   that lands in between is seen either here or by the notifier, and a placement that already
//!   finished is answered at once through the same once-only push as the notifier's: no race between
//!   create and connect, and no double message. A refused or malformed subscribe is answered with an
//!   error message on the connection; a placement the caller may not watch is answered exactly like a
//!   missing one (404 `not_found`), so a subscribe does not reveal which placement ids exist.

use aws_lambda_events::encodings::Body;
use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use fleet_core::ids::{ConnectionId, PlacementId, PlayerId};
use fleet_core::model::Placement;
use fleet_core::ports::{
    Clock, Connection, ConnectionStore, Notifier, SessionStore, StoreError, Subscriber,
};
use fleet_core::time::Timestamp;
use serde::Deserialize;

use crate::deps::{Deps, Ports};
use crate::notifier::{self, Target, error_message};

/// API Gateway closes a WebSocket connection after 2 hours, so no row needs to outlive that.
pub const CONNECTION_TTL_SECS: i64 = 2 * 3600;

/// A `subscribe` message's body. Unknown fields are rejected, like the HTTP API's bodies.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubscribeBody {
    action: String,
    placement_id: String,
}

/// The refusal of a subscribe to a placement that does not exist or that the caller may not watch.
const NOT_FOUND: &str = "no such placement";

/// Handles one WebSocket event; routes by `requestContext.routeKey`.
pub async fn handle<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    deps: &Deps<P>,
    request: ApiGatewayWebsocketProxyRequest,
) -> ApiGatewayProxyResponse {
    let ctx = &request.request_context;
    let route = ctx.route_key.as_deref().unwrap_or("");
    let Some(connection) = ctx
        .connection_id
        .as_deref()
        .and_then(|c| ConnectionId::parse(c).ok())
    else {
        tracing::warn!(route, "WebSocket event without a valid connection id");
        return response(400, "missing connection id");
    };
    let now = deps.clock.now();
    match route {
        "$connect" => connect(&deps.store, &request, &connection, now).await,
        "$disconnect" => disconnect(&deps.store, &connection).await,
        "subscribe" => {
            subscribe(
                &deps.store,
                &deps.notifier,
                request.body.as_deref(),
                &connection,
                now,
            )
            .await
        }
        other => {
            tracing::info!(
                route = other,
                connection = connection.as_str(),
                "unknown WebSocket action"
            );
            let msg = error_message(
                "invalid_argument",
                "unknown action; the only action is \"subscribe\"",
                None,
            );
            reply(&deps.notifier, &connection, &msg).await;
            response(400, "unknown action")
        }
    }
}

fn response(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut r = ApiGatewayProxyResponse::default();
    r.status_code = status;
    r.body = Some(Body::Text(body.to_owned()));
    r
}

/// The `sub` the `$connect` authorizer put in the request context, when it is a valid player id.
fn authorizer_sub(request: &ApiGatewayWebsocketProxyRequest) -> Option<PlayerId> {
    let sub = request
        .request_context
        .authorizer
        .fields
        .get("sub")?
        .as_str()?;
    PlayerId::parse(sub).ok()
}

async fn connect<S: ConnectionStore>(
    store: &S,
    request: &ApiGatewayWebsocketProxyRequest,
    connection: &ConnectionId,
    now: Timestamp,
) -> ApiGatewayProxyResponse {
    let Some(user) = authorizer_sub(request) else {
        // Only reachable if the route lost its authorizer: refuse rather than accept an anonymous user.
        tracing::warn!(
            connection = connection.as_str(),
            "$connect without an authorizer sub; refused"
        );
        return response(401, "unauthenticated");
    };
    let row = Connection {
        id: connection.clone(),
        user: user.into_string(),
        connected_at: now,
        expires_at: now.plus_secs(CONNECTION_TTL_SECS),
    };
    match store.put_connection(&row).await {
        Ok(()) => {
            tracing::info!(connection = connection.as_str(), "connected");
            response(200, "connected")
        }
        Err(e) => {
            // A refused $connect is visible to the client, which reconnects; better than a connection
            // that never hears its results.
            tracing::error!(connection = connection.as_str(), error = %e, "could not record the connection");
            response(500, "unavailable")
        }
    }
}

async fn disconnect<S: ConnectionStore>(
    store: &S,
    connection: &ConnectionId,
) -> ApiGatewayProxyResponse {
    match store.delete_connection(connection).await {
        Ok(()) => response(200, "disconnected"),
        Err(e) => {
            tracing::warn!(connection = connection.as_str(), error = %e, "could not delete the connection; its TTL will");
            response(500, "unavailable")
        }
    }
}

/// Sends a message to the caller's own connection; a failure is only logged (the connection may have
/// closed already, and the route's answer is not a delivery guarantee).
async fn reply<N: Notifier>(notifier: &N, connection: &ConnectionId, payload: &[u8]) {
    if let Err(e) = notifier.send(connection.as_str(), payload).await {
        tracing::info!(connection = connection.as_str(), error = %e, "could not answer on the connection");
    }
}

/// Refuses a subscribe with an error message on the connection.
async fn refuse<N: Notifier>(
    notifier: &N,
    connection: &ConnectionId,
    status: i64,
    code: &str,
    message: &str,
    placement: Option<&str>,
) -> ApiGatewayProxyResponse {
    reply(
        notifier,
        connection,
        &error_message(code, message, placement),
    )
    .await;
    response(status, code)
}

fn unavailable(connection: &ConnectionId, e: &StoreError) -> ApiGatewayProxyResponse {
    tracing::error!(connection = connection.as_str(), error = %e, "subscribe failed");
    response(500, "unavailable")
}

/// Handles `subscribe`: checks the message, the connection and the caller's right to watch the
/// placement, then subscribes it.
async fn subscribe<S, N>(
    store: &S,
    notifier: &N,
    body: Option<&str>,
    connection: &ConnectionId,
    now: Timestamp,
) -> ApiGatewayProxyResponse
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let placement_id = match parse_subscribe(body) {
        Ok(id) => id,
        Err(why) => {
            let message =
                format!("expected {{\"action\":\"subscribe\",\"placementId\":\"…\"}}: {why}");
            return refuse(
                notifier,
                connection,
                400,
                "invalid_argument",
                &message,
                None,
            )
            .await;
        }
    };
    let pid = placement_id.as_str();
    // The connection's row carries its user (written from the authorizer's context at $connect) and
    // its expiry, which the subscription shares.
    let row = match store.connection(connection, now).await {
        Ok(Some(row)) => row,
        Ok(None) => {
            return refuse(
                notifier,
                connection,
                401,
                "unauthenticated",
                "connection not recognised; reconnect",
                Some(pid),
            )
            .await;
        }
        Err(e) => return unavailable(connection, &e),
    };
    // Someone else's placement is answered exactly like a missing one (same status, code and
    // message), as the HTTP API does: a subscribe must not tell whether a placement id exists.
    let placement = match store.get_placement(&placement_id).await {
        Ok(Some(p)) if may_watch(&p, &row.user) => p,
        Ok(found) => {
            tracing::info!(
                connection = connection.as_str(),
                placement_id = pid,
                exists = found.is_some(),
                "subscribe refused: no such placement, or not the caller's"
            );
            return refuse(notifier, connection, 404, "not_found", NOT_FOUND, Some(pid)).await;
        }
        Err(e) => return unavailable(connection, &e),
    };
    subscribe_watcher(
        store,
        notifier,
        connection,
        &placement_id,
        placement,
        row,
        now,
    )
    .await
}

/// The placement id of a `subscribe` message, or why the message is not one.
fn parse_subscribe(body: Option<&str>) -> Result<PlacementId, String> {
    serde_json::from_str::<SubscribeBody>(body.unwrap_or(""))
        .map_err(|e| e.to_string())
        .and_then(|b| {
            if b.action != "subscribe" {
                return Err(format!("action must be \"subscribe\", got {:?}", b.action));
            }
            PlacementId::parse(&b.placement_id).map_err(|e| e.to_string())
        })
}

/// Subscribes `connection` (whose row is `row`) to a placement its user may watch, then answers at
/// once if the placement has already finished.
async fn subscribe_watcher<S, N>(
    store: &S,
    notifier: &N,
    connection: &ConnectionId,
    placement_id: &PlacementId,
    placement: Placement,
    row: Connection,
    now: Timestamp,
) -> ApiGatewayProxyResponse
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let subscriber = Subscriber {
        connection: connection.clone(),
        user: row.user.clone(),
    };
    if let Err(e) = store
        .subscribe(placement_id, &subscriber, row.expires_at)
        .await
    {
        return unavailable(connection, &e);
    }
    // Read again after subscribing: a result written between the first read and the subscription is
    // seen here; one written after it is seen by the notifier, which now lists this subscription.
    let current = match reread_unless_finished(store, placement_id, placement).await {
        Ok(p) => p,
        Err(e) => return unavailable(connection, &e),
    };
    if !current.status.is_terminal() {
        tracing::info!(
            connection = connection.as_str(),
            placement_id = placement_id.as_str(),
            "subscribed"
        );
        return response(200, "subscribed");
    }
    answer_finished(
        store,
        notifier,
        connection,
        placement_id,
        &current,
        row.user,
        now,
    )
    .await
}

/// `placement` as it is now: read again unless it had finished already (a finished placement does
/// not change); a placement gone meanwhile is kept as first read.
async fn reread_unless_finished<S: SessionStore>(
    store: &S,
    placement_id: &PlacementId,
    placement: Placement,
) -> Result<Placement, StoreError> {
    if placement.status.is_terminal() {
        return Ok(placement);
    }
    Ok(store
        .get_placement(placement_id)
        .await?
        .unwrap_or(placement))
}

/// Pushes a finished placement's result to `user`'s subscribing connection through the notifier's
/// once-only delivery.
async fn answer_finished<S, N>(
    store: &S,
    notifier: &N,
    connection: &ConnectionId,
    placement_id: &PlacementId,
    current: &Placement,
    user: String,
    now: Timestamp,
) -> ApiGatewayProxyResponse
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    let target = Target {
        connection: connection.clone(),
        user,
        subscribed: true,
    };
    // The session is read only if this connection has not had the result yet.
    let delivery = notifier::deliver(
        store,
        notifier,
        current,
        notifier::PlacedSession::Read,
        &[target],
        now,
    )
    .await;
    tracing::info!(
        connection = connection.as_str(),
        placement_id = placement_id.as_str(),
        status = current.status.as_str(),
        sent = delivery.sent,
        duplicate = delivery.duplicate,
        "subscribed to a finished placement; answered at once"
    );
    if delivery.failed > 0 {
        // The client may subscribe again; nothing was recorded as sent.
        return response(500, "unavailable");
    }
    response(200, "subscribed")
}

/// Whether `user` may hear about `placement`: its requester or a listed player (docs/architecture.md#authorization).
pub fn may_watch(placement: &Placement, user: &str) -> bool {
    placement.requester == user
        || placement
            .players
            .iter()
            .any(|p| p.player_id.as_str() == user)
}

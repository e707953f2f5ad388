//! The WebSocket gateway and its `@connections` management API (see the [module docs](super) for
//! what it answers and why).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
    ApiGatewayWebsocketProxyRequest,
};
use aws_lambda_events::event::iam::IamPolicyEffect;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use fleet_core::ports::{Clock, ConnectionStore, Notifier, SessionStore};
use fleet_functions::deps::{Deps, Ports};
use fleet_functions::ws_authorizer::TokenVerifier;
use fleet_functions::ws_authorizer::jwks::{HttpJwks, JwksCache, StaticJwks};
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{clf_time, now_ms, query_pairs};
use crate::local::{ACCOUNT, GatewayAuth};

/// The WebSocket API's id in events and the `$connect` method ARN.
pub const API_ID: &str = "localwsapi";
/// The stage name in events (API Gateway WebSocket APIs always have a named stage).
pub const STAGE: &str = "local";
/// The routes of the route selection expression `$request.body.action` (besides `$connect` and
/// `$disconnect`); there is no `$default`.
pub const ROUTES: &[&str] = &["subscribe"];

/// API Gateway's WebSocket limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// Largest message either way, 128 KB = 131,072 bytes ("Message payload size: 128 KB" in API
    /// Gateway's WebSocket quotas; the management API's model caps PostToConnection's `Data` blob at
    /// `max: 131072` and answers a larger one with 413 `PayloadTooLargeException`). A bigger message
    /// from the client closes the connection with 1009; a bigger push is refused with that 413.
    pub max_message_bytes: usize,
    /// A connection with no frame either way for this long is closed with 1001 (10 minutes).
    pub idle: Duration,
    /// A connection is closed with 1001 this long after it opened (2 hours).
    pub max_lifetime: Duration,
}

impl Default for WsLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: 131_072,
            idle: Duration::from_secs(10 * 60),
            max_lifetime: Duration::from_secs(2 * 3600),
        }
    }
}

/// Frames larger than our own limit are still read (up to this) so that the client gets API
/// Gateway's clean 1009 close rather than a dropped socket.
const READ_LIMIT_BYTES: usize = 16 * 1024 * 1024;

/// The WebSocket gateway (see the [module docs](super)).
#[derive(Debug, Clone, Copy)]
pub struct WsGateway;

/// What the `@connections` API can ask of a connection's task.
#[derive(Debug)]
enum Outbound {
    Data(Bytes),
    Close,
}

/// An open connection, as the registry knows it.
struct Conn {
    tx: mpsc::UnboundedSender<Outbound>,
    connected_at_ms: i64,
    last_active_ms: Arc<AtomicI64>,
    source_ip: String,
    user_agent: String,
}

/// Everything one connection's events repeat.
#[derive(Clone)]
struct ConnInfo {
    id: String,
    connected_at_ms: i64,
    source_ip: String,
    user_agent: String,
    domain: String,
    authorizer: Map<String, Value>,
}

ports_alias! {
    /// The ports the WebSocket gateway serves the `$connect`/`$disconnect`/message routes and
    /// `@connections` with, owned by the server's tasks (hence `'static`).
    pub trait WsPorts = Ports<
        Store: SessionStore + ConnectionStore + 'static,
        GameLift: Send + Sync + 'static,
        Notifier: Notifier + 'static,
        Clock: 'static,
        Ids: Send + Sync + 'static,
    > + 'static
}

/// The router's state, as axum hands it to the handlers.
type Shared<P> = State<Arc<WsState<P>>>;

struct WsState<P: Ports> {
    deps: Arc<Deps<P>>,
    verifier: TokenVerifier,
    limits: WsLimits,
    conns: Mutex<HashMap<String, Conn>>,
}

impl<P: Ports> WsState<P> {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<String, Conn>> {
        // A panic while holding the lock leaves a map that is still consistent (single inserts and
        // removes), so a poisoned lock is used as is.
        self.conns.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl WsGateway {
    /// Serves the WebSocket API and `@connections` on `listener` with API Gateway's limits, until the
    /// returned task is aborted.
    pub async fn serve<P: WsPorts>(
        listener: tokio::net::TcpListener,
        deps: Arc<Deps<P>>,
        auth: Arc<GatewayAuth>,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        Self::serve_with_limits(listener, deps, auth, WsLimits::default()).await
    }

    /// [`WsGateway::serve`] with other limits (tests shorten the timeouts).
    pub async fn serve_with_limits<P: WsPorts>(
        listener: tokio::net::TcpListener,
        deps: Arc<Deps<P>>,
        auth: Arc<GatewayAuth>,
        limits: WsLimits,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        // The real `$connect` authorizer, holding tokens to the player API's rules: the local
        // issuer's JWKS (fetched over HTTP from the HTTP gateway, as the Lambda fetches its issuer's,
        // or read in process when no URL is set) and the HS256 dev key. The gateway's auth is the
        // source of truth for both, whatever the deps' config says.
        let jwks = match &auth.jwks_url {
            Some(url) => JwksCache::new(HttpJwks::new(url).map_err(std::io::Error::other)?),
            None => JwksCache::new(StaticJwks::new(super::jwt::jwks_json())),
        };
        let verifier =
            TokenVerifier::with_keys(super::jwt::rules(&auth), Some(&auth.jwt_secret), Some(jwks));
        // At "cold start", like the Lambda; a failure (the HTTP gateway not serving yet) is retried
        // by the first token.
        verifier.prefetch(deps.clock.now()).await;
        let state = Arc::new(WsState {
            deps,
            verifier,
            limits,
            conns: Mutex::new(HashMap::new()),
        });
        let manage = post(post_to_connection::<P>)
            .get(get_connection::<P>)
            .delete(delete_connection::<P>);
        let app = Router::new()
            .route("/", axum::routing::get(upgrade::<P>))
            .route("/@connections/{id}", manage.clone())
            .route("/{stage}/@connections/{id}", manage)
            .with_state(state);
        let app = crate::term::observe(app, crate::term::Gateway::WebSocket, auth);
        Ok(super::spawn_serving(listener, app, "WebSocket"))
    }
}

/// API Gateway's own answers: `{"message": "…"}`.
fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({"message": text}).to_string(),
    )
        .into_response()
}

/// A restJson1 error of the management API, which the SDK reads from `x-amzn-ErrorType`.
fn management_error(status: StatusCode, error_type: &'static str, text: String) -> Response {
    (
        status,
        [
            (http::header::CONTENT_TYPE, "application/json"),
            (
                http::HeaderName::from_static("x-amzn-errortype"),
                error_type,
            ),
        ],
        json!({"message": text}).to_string(),
    )
        .into_response()
}

/// A new connection id in API Gateway's form: 11 random bytes as 16 characters of base64url with
/// its `=` (URL-safe, and valid for `fleet_core::ids::ConnectionId`).
fn connection_id() -> String {
    let random = uuid::Uuid::new_v4();
    let bytes = random.as_bytes();
    base64::engine::general_purpose::URL_SAFE.encode(&bytes[..11])
}

/// An id for API Gateway's `requestId`/`extendedRequestId`/`messageId` (same form as connection ids).
fn request_id() -> String {
    connection_id()
}

/// Headers as API Gateway's REST-style maps: single values (repeats joined by `,`) and lists.
fn header_maps(headers: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let (mut single, mut multi) = (Map::new(), Map::new());
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        single.insert(name.as_str().to_owned(), Value::String(values.join(",")));
        multi.insert(name.as_str().to_owned(), json!(values));
    }
    (single, multi)
}

fn query_maps(uri: &Uri) -> (Map<String, Value>, Map<String, Value>) {
    let (mut single, mut multi) = (Map::new(), Map::<String, Value>::new());
    for (k, v) in query_pairs(uri.query().unwrap_or("")) {
        // API Gateway's single-value map keeps the last value.
        single.insert(k.clone(), Value::String(v.clone()));
        match multi.get_mut(&k) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            _ => {
                multi.insert(k, json!([v]));
            }
        }
    }
    (single, multi)
}

/// The `requestContext` of a WebSocket event (or of the authorizer's request).
fn request_context(
    info: &ConnInfo,
    route: &str,
    event_type: &str,
    epoch_ms: i64,
    with_authorizer: bool,
) -> Value {
    let rid = request_id();
    let mut ctx = json!({
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": rid,
        "requestTime": clf_time(epoch_ms),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": info.connected_at_ms,
        "requestTimeEpoch": epoch_ms,
        "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
        "requestId": rid,
        "domainName": info.domain,
        "connectionId": info.id,
        "apiId": API_ID,
    });
    if with_authorizer {
        ctx["authorizer"] = Value::Object(info.authorizer.clone());
    }
    ctx
}

/// The REQUEST authorizer's event (`events/ws/authorizer.json`).
fn authorizer_event(info: &ConnInfo, headers: &HeaderMap, uri: &Uri, epoch_ms: i64) -> Value {
    let (single, multi) = header_maps(headers);
    let (query, multi_query) = query_maps(uri);
    json!({
        "type": "REQUEST",
        "methodArn": format!("arn:aws:execute-api:{}:{ACCOUNT}:{API_ID}/{STAGE}/$connect", crate::local::REGION),
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "stageVariables": {},
        "requestContext": request_context(info, "$connect", "CONNECT", epoch_ms, false),
    })
}

/// The `$connect` event (`events/ws/connect.json`).
fn connect_event(info: &ConnInfo, headers: &HeaderMap, uri: &Uri, epoch_ms: i64) -> Value {
    let (single, multi) = header_maps(headers);
    let (query, multi_query) = query_maps(uri);
    json!({
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": request_context(info, "$connect", "CONNECT", epoch_ms, true),
        "isBase64Encoded": false,
    })
}

/// A message event (`events/ws/subscribe.json`).
fn message_event(info: &ConnInfo, route: &str, body: &str, epoch_ms: i64) -> Value {
    let mut ctx = request_context(info, route, "MESSAGE", epoch_ms, true);
    ctx["messageId"] = Value::String(request_id());
    json!({"requestContext": ctx, "body": body, "isBase64Encoded": false})
}

/// The `$disconnect` event (`events/ws/disconnect.json`).
fn disconnect_event(info: &ConnInfo, code: u16, reason: &str, epoch_ms: i64) -> Value {
    let mut ctx = request_context(info, "$disconnect", "DISCONNECT", epoch_ms, true);
    ctx["disconnectStatusCode"] = json!(code);
    ctx["disconnectReason"] = json!(reason);
    json!({
        "headers": {"Host": info.domain, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {"Host": [info.domain], "x-api-key": [""], "X-Forwarded-For": [""], "x-restapi": [""]},
        "requestContext": ctx,
        "isBase64Encoded": false,
    })
}

/// Whether the authorizer's policy allows `$connect`: at least one Allow, and no Deny.
fn allows(response: &ApiGatewayCustomAuthorizerResponse) -> bool {
    let statements = &response.policy_document.statement;
    statements
        .iter()
        .any(|s| s.effect == IamPolicyEffect::Allow)
        && !statements.iter().any(|s| s.effect == IamPolicyEffect::Deny)
}

/// Calls the ws handler with `event`; `None` when the event does not deserialise (a gateway bug,
/// logged).
async fn call_ws<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    deps: &Deps<P>,
    event: Value,
) -> Option<i64> {
    match serde_json::from_value::<ApiGatewayWebsocketProxyRequest>(event) {
        Ok(request) => Some(fleet_functions::ws::handle(deps, request).await.status_code),
        Err(e) => {
            tracing::error!(error = %e, "could not build a WebSocket event");
            None
        }
    }
}

async fn upgrade<P: WsPorts>(
    State(state): Shared<P>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // The identity source is `route.request.querystring.token`: without it API Gateway answers 401
    // and never calls the authorizer.
    if !query_pairs(uri.query().unwrap_or(""))
        .iter()
        .any(|(k, v)| k == "token" && !v.is_empty())
    {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let connected_at_ms = now_ms();
    let mut info = ConnInfo {
        id: connection_id(),
        connected_at_ms,
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default(),
        domain: headers
            .get(http::header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "localhost".into()),
        authorizer: Map::new(),
    };

    let started = std::time::Instant::now();
    let auth_request = match serde_json::from_value::<ApiGatewayCustomAuthorizerRequestTypeRequest>(
        authorizer_event(&info, &headers, &uri, connected_at_ms),
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "could not build the authorizer event");
            return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let verdict =
        fleet_functions::ws_authorizer::handle(&state.deps, &state.verifier, auth_request).await;
    if !allows(&verdict) {
        return message(StatusCode::FORBIDDEN, "Forbidden");
    }
    // API Gateway passes the policy's context, the principal and the authorizer's latency.
    if let Value::Object(context) = &verdict.context {
        info.authorizer.extend(context.clone());
    }
    info.authorizer
        .insert("principalId".into(), json!(verdict.principal_id));
    info.authorizer.insert(
        "integrationLatency".into(),
        json!(started.elapsed().as_millis() as u64),
    );

    match call_ws(
        &state.deps,
        connect_event(&info, &headers, &uri, connected_at_ms),
    )
    .await
    {
        Some(status) if (200..300).contains(&status) => {}
        Some(status) => {
            tracing::info!(
                connection = info.id,
                status,
                "$connect refused the connection"
            );
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return message(
                status,
                if status.is_server_error() {
                    "Internal server error"
                } else {
                    "Forbidden"
                },
            );
        }
        None => return message(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }

    let (tx, rx) = mpsc::unbounded_channel();
    let last_active = Arc::new(AtomicI64::new(connected_at_ms));
    state.conns().insert(
        info.id.clone(),
        Conn {
            tx,
            connected_at_ms,
            last_active_ms: last_active.clone(),
            source_ip: info.source_ip.clone(),
            user_agent: info.user_agent.clone(),
        },
    );
    let failed_state = state.clone();
    let failed_info = info.clone();
    ws.max_message_size(READ_LIMIT_BYTES)
        .on_failed_upgrade(move |e| {
            tracing::info!(error = %e, "WebSocket upgrade failed after $connect");
            tokio::spawn(async move {
                disconnect(&failed_state, &failed_info, 1006, "Upgrade failed").await
            });
        })
        .on_upgrade(move |socket| run(state, info, socket, rx, last_active))
}

/// Removes the connection and calls `$disconnect` (once per connection).
async fn disconnect<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    state: &WsState<P>,
    info: &ConnInfo,
    code: u16,
    reason: &str,
) {
    state.conns().remove(&info.id);
    match call_ws(&state.deps, disconnect_event(info, code, reason, now_ms())).await {
        Some(status) if (200..300).contains(&status) => {
            tracing::info!(connection = info.id, code, "disconnected")
        }
        other => {
            tracing::warn!(connection = info.id, code, status = ?other, "$disconnect did not succeed")
        }
    }
}

/// One connection's life: frames in, pushes out, limits, then `$disconnect`.
async fn run<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    state: Arc<WsState<P>>,
    info: ConnInfo,
    mut socket: WebSocket,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    last_active: Arc<AtomicI64>,
) {
    let limits = state.limits;
    let ends_at = Instant::now() + limits.max_lifetime;
    let mut idle_from = Instant::now();
    let touch = |idle_from: &mut Instant| {
        *idle_from = Instant::now();
        last_active.store(now_ms(), Ordering::Relaxed);
    };
    let (code, reason): (u16, String) = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None => break (1006, "Connection closed abnormally".into()),
                Some(Err(e)) => break (1006, format!("Connection error: {e}")),
                Some(Ok(Message::Close(frame))) => {
                    break frame.map_or((1005, String::new()), |f| (f.code, f.reason.as_str().to_owned()));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => touch(&mut idle_from),
                Some(Ok(frame @ (Message::Text(_) | Message::Binary(_)))) => {
                    touch(&mut idle_from);
                    let size = match &frame {
                        Message::Text(t) => t.len(),
                        Message::Binary(b) => b.len(),
                        _ => 0,
                    };
                    if size > limits.max_message_bytes {
                        close(&mut socket, 1009, "Message too big").await;
                        break (1009, "Message too big".into());
                    }
                    let text = match &frame {
                        Message::Text(t) => Some(t.as_str()),
                        _ => None,
                    };
                    if let Some(reply) = route_message(&state, &info, text).await
                        && socket.send(Message::Text(Utf8Bytes::from(reply))).await.is_err()
                    {
                        break (1006, "Connection closed abnormally".into());
                    }
                }
            },
            out = rx.recv() => match out {
                Some(Outbound::Data(bytes)) => {
                    touch(&mut idle_from);
                    let frame = match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => Message::Text(Utf8Bytes::from(text)),
                        Err(_) => Message::Binary(bytes),
                    };
                    if socket.send(frame).await.is_err() {
                        break (1006, "Connection closed abnormally".into());
                    }
                }
                Some(Outbound::Close) | None => {
                    close(&mut socket, 1000, "Connection deleted").await;
                    break (1000, "Connection deleted".into());
                }
            },
            () = tokio::time::sleep_until(idle_from + limits.idle) => {
                close(&mut socket, 1001, "Going away").await;
                break (1001, "Going away".into());
            }
            () = tokio::time::sleep_until(ends_at) => {
                close(&mut socket, 1001, "Going away").await;
                break (1001, "Going away".into());
            }
        }
    };
    disconnect(&state, &info, code, &reason).await;
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    if let Err(e) = socket.send(Message::Close(Some(frame))).await {
        tracing::debug!(error = %e, code, "could not send the close frame; the client is gone");
    }
}

/// Route selection on `$request.body.action`: a known route calls the ws handler (its answer is not
/// sent back); anything else gets API Gateway's `Forbidden` message, returned here for the caller to
/// send.
async fn route_message<P: Ports<Store: SessionStore + ConnectionStore, Notifier: Notifier>>(
    state: &WsState<P>,
    info: &ConnInfo,
    text: Option<&str>,
) -> Option<String> {
    let action = text
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_owned));
    match (action, text) {
        (Some(route), Some(body)) if ROUTES.contains(&route.as_str()) => {
            match call_ws(&state.deps, message_event(info, &route, body, now_ms())).await {
                Some(status) if (200..300).contains(&status) => {}
                other => {
                    tracing::info!(connection = info.id, route, status = ?other, "route answered with an error")
                }
            }
            None
        }
        _ => Some(
            json!({"message": "Forbidden", "connectionId": info.id, "requestId": request_id()})
                .to_string(),
        ),
    }
}

/// The connection id from the path (the SDK percent-encodes it; axum has decoded it).
fn path_id(params: &HashMap<String, String>) -> String {
    params.get("id").cloned().unwrap_or_default()
}

fn gone(id: &str) -> Response {
    management_error(
        StatusCode::GONE,
        "GoneException",
        format!("the connection {id} is not open"),
    )
}

async fn post_to_connection<P: Ports>(
    State(state): Shared<P>,
    Path(params): Path<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let id = path_id(&params);
    if body.len() > state.limits.max_message_bytes {
        return management_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            format!(
                "the message must be at most {} bytes, got {}",
                state.limits.max_message_bytes,
                body.len()
            ),
        );
    }
    let sent = state
        .conns()
        .get(&id)
        .map(|c| c.tx.send(Outbound::Data(body)));
    match sent {
        Some(Ok(())) => StatusCode::OK.into_response(),
        // A closing connection's task has dropped its receiver: it is as good as gone.
        Some(Err(_)) | None => gone(&id),
    }
}

async fn get_connection<P: Ports>(
    State(state): Shared<P>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let id = path_id(&params);
    let found = state.conns().get(&id).map(|c| {
        json!({
            "connectedAt": iso(c.connected_at_ms),
            "identity": {"sourceIp": c.source_ip, "userAgent": c.user_agent},
            "lastActiveAt": iso(c.last_active_ms.load(Ordering::Relaxed)),
        })
    });
    match found {
        Some(body) => (
            StatusCode::OK,
            [(http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
        None => gone(&id),
    }
}

async fn delete_connection<P: Ports>(
    State(state): Shared<P>,
    Path(params): Path<HashMap<String, String>>,
) -> Response {
    let id = path_id(&params);
    let sent = state.conns().get(&id).map(|c| c.tx.send(Outbound::Close));
    match sent {
        Some(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Some(Err(_)) | None => gone(&id),
    }
}

/// An epoch-millisecond time as ISO 8601 (the management API's timestamp format).
fn iso(epoch_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_functions::deps::PortSet;

    use fleet_aws::notifier::ApiGatewayNotifier;
    use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryStore, SequentialIds};
    use fleet_core::ids::ConnectionId;
    use fleet_core::ports::NotifyError;
    use fleet_core::time::Timestamp;
    use futures::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::{self, Message as WsMessage};

    use crate::gateway::http::tests::config;
    use crate::gateway::jwt::mint_token;
    use crate::gateway::testing::{self, Serving};

    type Deps_ =
        Deps<PortSet<MemoryStore, FakeGameLift, ApiGatewayNotifier, ManualClock, SequentialIds>>;
    type Client = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    struct Running {
        addr: SocketAddr,
        deps: Arc<Deps_>,
        sdk: aws_sdk_apigatewaymanagement::Client,
        _serving: Serving,
    }

    /// The gateway on a random port, with the real management client (dummy credentials, as the
    /// stack's) pointed at it, both as the deps' notifier and for the tests' own calls.
    async fn start(limits: WsLimits) -> Running {
        let (listener, addr) = testing::listener().await;
        let sdk = fleet_aws::clients::apigw_management(
            &crate::local::sdk_config(),
            &format!("http://{addr}"),
        );
        let deps = Arc::new(Deps {
            store: MemoryStore::new(),
            gamelift: FakeGameLift::new(),
            notifier: ApiGatewayNotifier::new(sdk.clone()),
            clock: ManualClock::new(Timestamp::from_millis(now_ms())),
            ids: SequentialIds::default(),
            config: config(),
            cache: Default::default(),
        });
        let task = WsGateway::serve_with_limits(
            listener,
            deps.clone(),
            Arc::new(GatewayAuth::local([])),
            limits,
        )
        .await
        .expect("serve");
        Running {
            addr,
            deps,
            sdk,
            _serving: Serving(task),
        }
    }

    async fn connect(gw: &Running, query: &str) -> Result<Client, tungstenite::Error> {
        tokio_tungstenite::connect_async(format!("ws://{}/{query}", gw.addr))
            .await
            .map(|(ws, _)| ws)
    }

    async fn player(gw: &Running, sub: &str) -> Client {
        let token = mint_token(&GatewayAuth::local([]), sub, 600);
        connect(gw, &format!("?token={token}"))
            .await
            .expect("connected")
    }

    /// The next text message, skipping pings.
    async fn next_text(ws: &mut Client) -> Value {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("a frame in time");
            match frame.expect("open").expect("a frame") {
                WsMessage::Text(t) => {
                    return serde_json::from_str(t.as_str())
                        .unwrap_or(Value::String(t.as_str().to_owned()));
                }
                WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                other => panic!("expected text, got {other:?}"),
            }
        }
    }

    /// The close code the server sends next.
    async fn close_code(ws: &mut Client) -> Option<u16> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("a frame in time");
            match frame {
                Some(Ok(WsMessage::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// The connection's id, as API Gateway's `Forbidden` answer to an unrouted message reveals it.
    async fn own_id(ws: &mut Client) -> String {
        ws.send(WsMessage::text(r#"{"action":"whoami"}"#))
            .await
            .expect("sent");
        let answer = next_text(ws).await;
        assert_eq!(answer["message"], "Forbidden", "{answer}");
        answer["connectionId"]
            .as_str()
            .expect("a connection id")
            .to_owned()
    }

    async fn wait_for(mut done: impl AsyncFnMut() -> bool) {
        for _ in 0..100 {
            if done().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("condition not reached in 2 s");
    }

    async fn row_exists(gw: &Running, id: &str) -> bool {
        let id = ConnectionId::parse(id).expect("a valid id");
        gw.deps
            .store
            .connection(&id, Timestamp::from_millis(now_ms()))
            .await
            .expect("the fake store answers")
            .is_some()
    }

    #[tokio::test]
    async fn a_missing_token_is_401_and_a_bad_one_403_before_any_upgrade() {
        let gw = start(WsLimits::default()).await;
        for (query, status) in [("", 401), ("?token=", 401), ("?token=not-a-jwt", 403)] {
            match connect(&gw, query).await {
                Err(tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status().as_u16(), status, "{query}")
                }
                other => panic!(
                    "{query}: expected a refused handshake, got {:?}",
                    other.map(|_| ())
                ),
            }
        }
        let expired = crate::gateway::jwt::mint_at(
            &GatewayAuth::local([]),
            "p",
            crate::gateway::jwt::unix_now() - 7200,
            60,
        );
        assert!(
            matches!(connect(&gw, &format!("?token={expired}")).await, Err(tungstenite::Error::Http(r)) if r.status() == 403)
        );
    }

    #[tokio::test]
    async fn an_access_token_from_the_local_jwks_connects_and_foreign_or_expired_ones_are_403() {
        let gw = start(WsLimits::default()).await;
        let auth = GatewayAuth::local([]);
        let token = crate::gateway::jwt::mint_access_token(&auth, "player-access", 600);
        let mut ws = connect(&gw, &format!("?token={token}"))
            .await
            .expect("an access token connects");
        let id = own_id(&mut ws).await;
        assert!(row_exists(&gw, &id).await);

        let now = crate::gateway::jwt::unix_now();
        let claims = |client: &str, exp: i64| json!({"sub": "p", "iss": auth.jwt_issuer, "client_id": client, "token_use": "access", "iat": now - 10, "exp": exp});
        let kid = crate::gateway::jwt::DEV_KEYS[1].0;
        let sign = |c: &Value| crate::gateway::jwt::sign_rs256(c, kid).expect("signed");
        // The second key's private half, under a kid the JWKS does not publish.
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("not-published".into());
        let foreign = jsonwebtoken::encode(
            &header,
            &claims(&auth.jwt_audience, now + 60),
            &jsonwebtoken::EncodingKey::from_rsa_pem(crate::gateway::jwt::DEV_KEYS[1].1.as_bytes())
                .expect("pem"),
        )
        .expect("signed");
        for (name, token) in [
            (
                "second key, right client",
                sign(&claims(&auth.jwt_audience, now + 60)),
            ),
            ("another client", sign(&claims("another-app", now + 60))),
            ("expired", sign(&claims(&auth.jwt_audience, now - 3600))),
            ("unpublished kid", foreign),
        ] {
            let got = connect(&gw, &format!("?token={token}")).await;
            match (name, got) {
                ("second key, right client", Ok(_)) => {}
                (_, Err(tungstenite::Error::Http(r))) if name != "second key, right client" => {
                    assert_eq!(r.status(), 403, "{name}")
                }
                (name, other) => panic!("{name}: {:?}", other.map(|_| ())),
            }
        }
    }

    #[tokio::test]
    async fn connect_then_subscribe_answers_through_the_real_sdk_and_pushes_arrive() {
        let gw = start(WsLimits::default()).await;
        let mut ws = player(&gw, "player-1").await;
        let id = own_id(&mut ws).await;
        assert_eq!(id.len(), 16, "API Gateway's form: {id}");
        assert!(
            row_exists(&gw, &id).await,
            "$connect wrote the connection row"
        );

        // The ws handler answers a subscribe to an unknown placement through the notifier: the real
        // aws-sdk-apigatewaymanagement client posting to this gateway's @connections.
        ws.send(WsMessage::text(
            r#"{"action":"subscribe","placementId":"p-404"}"#,
        ))
        .await
        .expect("sent");
        let reply = next_text(&mut ws).await;
        assert_eq!(reply["error"]["code"], "not_found", "{reply}");

        gw.deps
            .notifier
            .send(&id, br#"{"type":"placement","status":"FULFILLED"}"#)
            .await
            .expect("pushed");
        assert_eq!(next_text(&mut ws).await["status"], "FULFILLED");

        let info = gw
            .sdk
            .get_connection()
            .connection_id(&id)
            .send()
            .await
            .expect("GetConnection");
        assert_eq!(
            info.identity().and_then(|i| i.source_ip()),
            Some("127.0.0.1")
        );
        assert!(info.connected_at().is_some() && info.last_active_at().is_some());
    }

    #[tokio::test]
    async fn unrouted_messages_get_api_gateways_forbidden_answer() {
        let gw = start(WsLimits::default()).await;
        let mut ws = player(&gw, "player-1").await;
        for text in [
            "not json",
            r#"{"no":"action"}"#,
            r#"{"action":"$disconnect"}"#,
        ] {
            ws.send(WsMessage::text(text)).await.expect("sent");
            let answer = next_text(&mut ws).await;
            assert_eq!(answer["message"], "Forbidden", "{text}");
            assert!(answer["requestId"].is_string());
        }
        ws.send(WsMessage::binary(vec![1, 2, 3]))
            .await
            .expect("sent");
        assert_eq!(next_text(&mut ws).await["message"], "Forbidden");
    }

    #[tokio::test]
    async fn closing_calls_disconnect_and_later_pushes_are_gone_for_the_sdk() {
        let gw = start(WsLimits::default()).await;
        let mut ws = player(&gw, "player-1").await;
        let id = own_id(&mut ws).await;
        ws.close(None).await.expect("closed");
        wait_for(async || !row_exists(&gw, &id).await).await;
        assert_eq!(
            gw.deps.notifier.send(&id, b"late").await,
            Err(NotifyError::Gone)
        );
        assert_eq!(
            gw.deps.notifier.send("neverExisted000=", b"x").await,
            Err(NotifyError::Gone)
        );
        let err = gw
            .sdk
            .delete_connection()
            .connection_id(&id)
            .send()
            .await
            .expect_err("gone");
        assert!(
            err.as_service_error()
                .is_some_and(|e| e.is_gone_exception()),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_message_over_128_kb_closes_with_1009_and_a_push_over_it_is_too_large() {
        let gw = start(WsLimits::default()).await;
        let mut ws = player(&gw, "player-1").await;
        let id = own_id(&mut ws).await;
        // Exactly 131,072 bytes is the largest push AWS delivers.
        let limit = vec![b'y'; 131_072];
        gw.deps
            .notifier
            .send(&id, &limit)
            .await
            .expect("at the limit");
        assert_eq!(
            next_text(&mut ws).await.as_str().map(str::len),
            Some(131_072)
        );
        let big = vec![b'x'; 131_072 + 1];
        assert_eq!(
            gw.deps.notifier.send(&id, &big).await,
            Err(NotifyError::TooLarge)
        );
        ws.send(WsMessage::text(String::from_utf8(big).expect("ascii")))
            .await
            .expect("sent");
        assert_eq!(close_code(&mut ws).await, Some(1009));
        wait_for(async || !row_exists(&gw, &id).await).await;
    }

    #[tokio::test]
    async fn an_idle_connection_and_one_past_its_lifetime_close_with_1001() {
        let idle = WsLimits {
            idle: Duration::from_millis(300),
            ..WsLimits::default()
        };
        let gw = start(idle).await;
        let mut ws = player(&gw, "player-1").await;
        assert_eq!(close_code(&mut ws).await, Some(1001));

        let short = WsLimits {
            max_lifetime: Duration::from_millis(400),
            ..WsLimits::default()
        };
        let gw = start(short).await;
        let mut ws = player(&gw, "player-1").await;
        let id = own_id(&mut ws).await;
        assert_eq!(close_code(&mut ws).await, Some(1001));
        wait_for(async || !row_exists(&gw, &id).await).await;
    }

    #[tokio::test]
    async fn delete_connection_closes_it_and_disconnect_runs() {
        let gw = start(WsLimits::default()).await;
        let mut ws = player(&gw, "player-1").await;
        let id = own_id(&mut ws).await;
        gw.sdk
            .delete_connection()
            .connection_id(&id)
            .send()
            .await
            .expect("DeleteConnection");
        assert_eq!(close_code(&mut ws).await, Some(1000));
        wait_for(async || !row_exists(&gw, &id).await).await;
    }

    #[test]
    fn connection_ids_have_api_gateways_form() {
        for _ in 0..50 {
            let id = connection_id();
            assert_eq!(id.len(), 16);
            assert!(id.ends_with('='));
            assert!(ConnectionId::parse(&id).is_ok());
        }
    }

    #[test]
    fn the_events_deserialise_as_the_handlers_read_them() {
        let info = ConnInfo {
            id: "Zx1cHd6ZoAMCJfA=".into(),
            connected_at_ms: 1_795_600_800_000,
            source_ip: "127.0.0.1".into(),
            user_agent: "ua".into(),
            domain: "127.0.0.1:4001".into(),
            authorizer:
                json!({"sub": "player-1", "principalId": "player-1", "integrationLatency": 1})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
        };
        let uri: Uri = "/?token=abc".parse().unwrap();
        let auth: ApiGatewayCustomAuthorizerRequestTypeRequest =
            serde_json::from_value(authorizer_event(&info, &HeaderMap::new(), &uri, 0))
                .expect("authorizer event");
        assert_eq!(auth.query_string_parameters.first("token"), Some("abc"));
        assert!(
            auth.method_arn
                .as_deref()
                .is_some_and(|a| a.ends_with("/local/$connect"))
        );
        let connect: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(connect_event(&info, &HeaderMap::new(), &uri, 0))
                .expect("connect event");
        assert_eq!(
            connect.request_context.route_key.as_deref(),
            Some("$connect")
        );
        assert_eq!(
            connect.request_context.authorizer.fields.get("sub"),
            Some(&json!("player-1"))
        );
        let message: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(message_event(&info, "subscribe", "{}", 0))
                .expect("message event");
        assert_eq!(message.body.as_deref(), Some("{}"));
        let gone: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(disconnect_event(&info, 1001, "Going away", 0))
                .expect("disconnect event");
        assert_eq!(
            gone.request_context.connection_id.as_deref(),
            Some("Zx1cHd6ZoAMCJfA=")
        );
        assert_eq!(gone.request_context.disconnect_status_code, Some(1001));
    }
}

//! The API Gateway emulation of the local stack: the HTTP API (player + service) and the WebSocket API
//! with its `@connections` management API. Both turn traffic into the exact events API Gateway sends
//! and call the very handler functions the Lambda binaries run.
//!
//! # Interface (the stack wires these; keep them stable)
//!
//! ```ignore
//! HttpGateway::serve(listener, deps: Arc<LocalDeps>, auth: Arc<GatewayAuth>,
//!                    health: Arc<dyn Fn() -> serde_json::Value + Send + Sync>)
//!     -> std::io::Result<tokio::task::JoinHandle<()>>
//! WsGateway::serve(listener, deps: Arc<LocalDeps>, auth: Arc<GatewayAuth>)
//!     -> std::io::Result<tokio::task::JoinHandle<()>>
//! mint_token(auth: &GatewayAuth, sub: &str, ttl_secs: u64) -> String
//! ```
//!
//! Both `serve`s are generic over the handlers' ports (`Arc<Deps<P>>` for any [`fleet_functions::deps::Ports`] `P`), so
//! `Arc<LocalDeps>` is one case and the tests pass `fleet_core::fakes`. Each returns once the
//! listener is being served; the task runs until aborted. [`WsGateway::serve_with_limits`] takes
//! shorter limits (tests).
//!
//! # HTTP gateway ([`HttpGateway`], default port 4000)
//!
//! One port serves both HTTP APIs of docs/architecture.md#http-api and picks one by the `Authorization` scheme:
//! `Bearer` → the player API (JWT authorizer, [`jwt`]), `AWS4-HMAC-SHA256` → the service API
//! (`AWS_IAM`, [`sigv4`]). Then, as API Gateway does:
//!
//! 1. `GET /v1/health` needs no auth: 200 with `health()`'s JSON when its `status` is `"ok"`, else 503
//!    with the same JSON.
//! 2. Route match, as API Gateway's HTTP APIs do it: the path is percent-decoded first (so `%2F` is
//!    a `/` and an ARN spans several segments), then matched against the chosen API's routes, read
//!    from `deploy/routes.json` (the table template.yaml is checked against): `{id}` takes one
//!    segment, the greedy `{id+}` of the session routes the rest; the most specific route wins. No
//!    route → API Gateway's own **404** `{"message":"Not Found"}`, without calling a handler. The
//!    status RPCs and `DELETE /v1/sessions/{id+}` exist only on the service API, so a Bearer call to
//!    them is that 404. A request with no or another scheme is matched against the service API's
//!    routes: no route → 404, else the JWT authorizer's 401.
//! 3. Authorizer. Bearer: API Gateway's JWT authorizer rules ([`jwt`]: RS256 by `kid` from the local
//!    issuer's JWKS, which `GET /.well-known/jwks.json` serves, or the HS256 dev key; `iss`; `aud`
//!    or, only without `aud`, `client_id`; exp/nbf/iat); a refusal is its **401**
//!    `{"message":"Unauthorized"}` with the reason in `www-authenticate: Bearer scope=""
//!    error="invalid_token" error_description="…"`. SigV4: invalid signature (bad key, secret,
//!    scope, date skew > 5 min, tampered request) → **401** in the API's error shape (see below).
//! 4. Body: more than API Gateway's 10 MB → **413** (the handler's own 300 KB limit answers 413 too).
//! 5. The API Gateway HTTP API v2 event (see [`http::event`]): `routeKey` the matched route
//!    (`GET /v1/sessions/{id+}`), `rawPath`, `requestContext.http.path` and `pathParameters` decoded
//!    as API Gateway hands them over, `authorizer.jwt` or `authorizer.iam`; deserialised into
//!    `lambda_http::request::LambdaRequest` and converted as the runtime does; the route's function
//!    (`status-rpc` → `fleet_functions::rpc::handle`, `fleet-api` → `fleet_functions::api::handle`)
//!    answers, passed back as is, plus `apigw-requestid`.
//!
//! **Error shape.** The gateway's refusals that API Gateway itself makes are in its shape: 404
//! `{"message":"Not Found"}`, 401 `{"message":"Unauthorized"}` (JWT). A bad SigV4 signature, which
//! API Gateway answers with 403 and a long message, and the 10 MB limit are answered in the API's
//! shape, `{"error":{"code":"unauthenticated"|"payload_too_large","message":"…"}}`, saying *why* (a
//! developer's tool).
//!
//! # WebSocket gateway ([`WsGateway`], default port 4001)
//!
//! * `GET /?token=<jwt>` upgrade. A missing or empty `token` → 401 `{"message":"Unauthorized"}` (API
//!   Gateway's answer when the authorizer's identity source is absent), without calling the
//!   authorizer. Otherwise the REQUEST authorizer (`fleet_functions::ws_authorizer`, the Lambda's
//!   code) gets the real authorizer event; it holds the token to the player API's rules, with the
//!   local JWKS fetched over HTTP from the HTTP gateway (`GatewayAuth::jwks_url`) at start and again
//!   on an unknown `kid`, and the HS256 dev key. A Deny → 403 `{"message":"Forbidden"}`, before any
//!   upgrade. An Allow → a new connection id (API Gateway's form: 16 characters, base64url with a
//!   trailing `=`) and the `$connect` handler (`fleet_functions::ws`) with the `$connect` event carrying `authorizer {…context,
//!   principalId, integrationLatency}`; a non-2xx answer refuses the handshake with that status.
//! * Messages: route selection `$request.body.action`. The only route is `subscribe`; anything else (not
//!   JSON, no `action`, an unknown one, a binary frame) has no route and no `$default`, so the client
//!   gets API Gateway's `{"message": "Forbidden", "connectionId": "…", "requestId": "…"}`. A route's
//!   answer is not sent back (no route responses are configured; the handler pushes its own replies).
//! * Limits (API Gateway's): a message over 128 KB (131,072 bytes) closes the connection with
//!   **1009** "Message too big"; 10 minutes without a frame either way → **1001** "Going away"; 2 hours after connecting →
//!   **1001** "Going away". `DELETE @connections` closes with **1000**.
//! * On any close, the connection leaves the registry (further pushes are 410) and the `$disconnect`
//!   handler gets the `$disconnect` event with `disconnectStatusCode` and `disconnectReason` (1006 when
//!   the client vanished without a close frame, 1005 when its close frame had no code).
//! * `@connections` management API, on the same port, at `/@connections/{id}` (and
//!   `/{stage}/@connections/{id}`, for an endpoint URL with a stage): `POST` (body = the bytes to push;
//!   a text frame when UTF-8, else binary) → 200; `GET` → `{connectedAt, identity {sourceIp,
//!   userAgent}, lastActiveAt}`; `DELETE` → 204. A connection not open → 410 `GoneException`; a POST
//!   body over 131,072 bytes → 413 `PayloadTooLargeException` (the management API's model caps
//!   `Data` at 131,072 bytes; API Gateway's quota: "Message payload size 128 KB"). Errors are restJson1: header
//!   `x-amzn-ErrorType` and body `{"message": "…"}`, which the real aws-sdk-apigatewaymanagement
//!   client maps to its typed errors (so `ApiGatewayNotifier` sees `NotifyError::Gone`). Signatures
//!   are **not checked** here: the SDK signs with whatever credentials the stack gives it, and only
//!   processes on this machine can reach the loopback port.

pub mod http;
pub mod jwt;
pub mod sigv4;
pub mod ws;

pub use self::http::HttpGateway;
pub use self::jwt::{mint_access_token, mint_token};
pub use self::ws::{WsGateway, WsLimits};

/// Percent-decodes `%XX` escapes (a `+` stays a `+`, as in API Gateway's decoded parameters); text
/// that is not UTF-8 once decoded is kept lossily, so decoding never fails on client input.
pub(crate) fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A raw query string as decoded `(name, value)` pairs, in order.
pub(crate) fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// API Gateway's `requestContext.time` / `requestTime` form: `25/Nov/2026:10:00:00 +0000`.
pub(crate) fn clf_time(epoch_ms: i64) -> String {
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp(epoch_ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Serves `app` on `listener` in a task until it is aborted, the handlers able to read the peer's
/// address (`ConnectInfo<SocketAddr>`); `gateway` names it in the log line of a failure.
fn spawn_serving(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    gateway: &'static str,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the {gateway} gateway stopped");
        }
    })
}

/// Milliseconds since the Unix epoch on the system clock (API Gateway's own clock).
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// What the gateways' tests share: a loopback listener, and a server task that ends with the test.
#[cfg(test)]
pub(crate) mod testing {
    /// A listener on a free loopback port, and its address.
    pub(crate) async fn listener() -> (tokio::net::TcpListener, std::net::SocketAddr) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        (listener, addr)
    }

    /// A server's task, aborted when the test drops it.
    pub(crate) struct Serving(pub(crate) tokio::task::JoinHandle<()>);

    impl Drop for Serving {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_plus_and_survives_broken_escapes() {
        assert_eq!(percent_decode("a%2Bb+c%20d"), "a+b+c d");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
        assert_eq!(
            query_pairs("a=1&&b&c=%3D"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), String::new()),
                ("c".into(), "=".into())
            ]
        );
    }

    #[test]
    fn request_times_are_in_api_gateways_format() {
        assert_eq!(clf_time(1_795_600_800_000), "25/Nov/2026:10:00:00 +0000");
    }
}

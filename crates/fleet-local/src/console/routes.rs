//! The console's routes on the HTTP gateway's port:
//!
//! | Route | Answer |
//! |---|---|
//! | `GET /console/` | the page (`/console` redirects here); `app.js`, `app.css`, `vendor/uPlot.*` beside it |
//! | `GET /console/api/state` | the snapshot: placements, sessions, counters |
//! | `GET /console/api/events` | Server-Sent Events: the snapshot, then every change as JSON |
//! | `POST /console/api/sim/faults` | replaces the simulator's faults (gamelift-sim's own `/_sim/faults` body) |
//! | `POST /console/api/sim/throttling` | `{"enabled": bool}`: the simulator's per-API throttling |
//! | `POST /console/api/clock/advance` | `{"ms": n}`: moves the stack's clock forward |
//!
//! Every route answers loopback peers only, and only for a loopback `Host` (so a web page on some
//! other site cannot reach it through DNS rebinding); a `POST` must be JSON and, when the browser
//! names an `Origin`, come from the console's own, so another site's page cannot inject faults.
//! Errors have the API's shape: `{"error": {"code", "message", "field"?}}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use futures::Stream;
use serde_json::{Value, json};

use super::{ActionError, ConsoleHub, assets};

/// The console's routes, for [`crate::gateway::HttpGateway::serve_with_routes`].
pub fn router(hub: Arc<ConsoleHub>) -> Router {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { asset("") }))
        .route("/console/api/state", get(state))
        .route("/console/api/events", get(events))
        .route("/console/api/sim/faults", post(faults))
        .route("/console/api/sim/throttling", post(throttling))
        .route("/console/api/clock/advance", post(advance))
        .route("/console/{*path}", any(file))
        .route_layer(middleware::from_fn(guard))
        .with_state(hub)
}

fn error(status: StatusCode, code: &str, message: &str, field: Option<&str>) -> Response {
    let mut e = json!({"code": code, "message": message});
    if let Some(f) = field {
        e["field"] = json!(f);
    }
    (status, axum::Json(json!({ "error": e }))).into_response()
}

/// Why a request may not reach the console, if it may not.
pub fn refusal(peer: SocketAddr, method: &Method, headers: &HeaderMap) -> Option<Response> {
    if !peer.ip().is_loopback() {
        return Some(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the console answers loopback clients only",
            None,
        ));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_host(host) {
        return Some(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the console answers for 127.0.0.1, localhost or [::1] only (Host header)",
            Some("Host"),
        ));
    }
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin.to_str().is_ok_and(|o| o == format!("http://{host}"));
        if !ok {
            return Some(error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "console actions are accepted from the console's own page only (Origin header)",
                Some("Origin"),
            ));
        }
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim() == "application/json")
        });
    if !json {
        return Some(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "console actions take a JSON body (Content-Type: application/json)",
            Some("Content-Type"),
        ));
    }
    None
}

/// Whether a `Host` header names this machine: `127.x.x.x`, `localhost` or `[::1]`, with any port.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

async fn guard(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    match refusal(peer, request.method(), request.headers()) {
        Some(refused) => refused,
        None => next.run(request).await,
    }
}

fn asset(path: &str) -> Response {
    match assets::asset(path) {
        Some((body, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type),
                // The assets change with the binary: always revalidate.
                (header::CACHE_CONTROL, "no-cache"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no console file /console/{path}"),
            None,
        ),
    }
}

async fn file(method: Method, axum::extract::Path(path): axum::extract::Path<String>) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            &format!("{method} /console/{path}: the console's files are read with GET"),
            None,
        );
    }
    asset(&path)
}

async fn state(State(hub): State<Arc<ConsoleHub>>) -> Response {
    hub.start().await;
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(hub.snapshot()),
    )
        .into_response()
}

async fn events(
    State(hub): State<Arc<ConsoleHub>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    hub.start().await;
    let changes = hub.subscribe();
    let first = Event::default()
        .retry(Duration::from_secs(1))
        .data(hub.snapshot().to_string());
    let closed = hub.closed();
    let rest = futures::stream::unfold((changes, closed), |(mut changes, mut closed)| async move {
        if *closed.borrow() {
            return None;
        }
        let data: Arc<str> = tokio::select! {
            r = changes.recv() => match r {
                Ok(message) => message,
                // This browser fell behind: have it reload its snapshot.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => Arc::from(r#"{"type":"resync"}"#),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            },
            _ = closed.changed() => return None,
        };
        Some((Ok(Event::default().data(&*data)), (changes, closed)))
    });
    let stream = futures::StreamExt::chain(futures::stream::once(async { Ok(first) }), rest);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn answer(result: Result<Value, ActionError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(ActionError::Invalid { field, message }) => error(
            StatusCode::BAD_REQUEST,
            "invalid_argument",
            &format!("{field}: {message}"),
            Some(&field),
        ),
        Err(e @ ActionError::NoSimulator) => {
            error(StatusCode::CONFLICT, "conflict", &e.to_string(), None)
        }
    }
}

/// A JSON body's parse error as a 400 naming the field serde stopped at, where it says.
fn bad_body(e: &serde_json::Error, expected: &str) -> Response {
    let text = e.to_string();
    let field = text
        .split('`')
        .nth(1)
        .filter(|_| text.contains("field"))
        .unwrap_or("body");
    error(
        StatusCode::BAD_REQUEST,
        "invalid_argument",
        &format!("{text}; expected {expected}"),
        Some(field),
    )
}

/// A JSON body that does not read, and what was expected instead: a 400 naming the field.
struct BadBody(serde_json::Error, &'static str);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        bad_body(&self.0, self.1)
    }
}

/// `body` read as a `T`.
fn read_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    expected: &'static str,
) -> Result<T, BadBody> {
    serde_json::from_slice(body).map_err(|e| BadBody(e, expected))
}

/// The throttling route's body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Throttling {
    enabled: bool,
}

/// The clock route's body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    ms: u64,
}

async fn faults(State(hub): State<Arc<ConsoleHub>>, body: Bytes) -> Result<Response, BadBody> {
    let expected =
        r#"gamelift-sim's faults object, e.g. {"events": {"placementFailureRate": 1.0}}"#;
    Ok(answer(hub.set_faults(read_body(&body, expected)?)))
}

async fn throttling(State(hub): State<Arc<ConsoleHub>>, body: Bytes) -> Result<Response, BadBody> {
    let Throttling { enabled } = read_body(&body, r#"{"enabled": true|false}"#)?;
    Ok(answer(hub.set_throttling(enabled)))
}

async fn advance(State(hub): State<Arc<ConsoleHub>>, body: Bytes) -> Result<Response, BadBody> {
    let Advance { ms } = read_body(&body, r#"{"ms": milliseconds}"#)?;
    Ok(answer(hub.advance(ms).await))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};

    const LOOPBACK: &str = "127.0.0.1:50000";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_static(k),
                    HeaderValue::from_str(v).unwrap(),
                )
            })
            .collect()
    }

    fn status(r: Option<Response>) -> Option<u16> {
        r.map(|r| r.status().as_u16())
    }

    #[test]
    fn a_loopback_reader_with_a_loopback_host_is_let_in() {
        for host in [
            "127.0.0.1:4000",
            "localhost:4000",
            "[::1]:4000",
            "127.0.0.2",
        ] {
            let h = headers(&[("host", host)]);
            assert_eq!(
                status(refusal(LOOPBACK.parse().unwrap(), &Method::GET, &h)),
                None,
                "{host}"
            );
        }
    }

    #[test]
    fn a_peer_off_this_machine_or_a_foreign_host_name_is_refused() {
        let h = headers(&[("host", "127.0.0.1:4000")]);
        assert_eq!(
            status(refusal("10.1.2.3:5000".parse().unwrap(), &Method::GET, &h)),
            Some(403)
        );
        for host in ["evil.example:4000", "127.0.0.1.evil.example", ""] {
            let h = headers(&[("host", host)]);
            assert_eq!(
                status(refusal(LOOPBACK.parse().unwrap(), &Method::GET, &h)),
                Some(403),
                "{host}"
            );
        }
    }

    #[test]
    fn an_action_must_be_json_from_the_consoles_own_origin() {
        let peer: SocketAddr = LOOPBACK.parse().unwrap();
        let ok = headers(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://127.0.0.1:4000"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(status(refusal(peer, &Method::POST, &ok)), None);
        let no_origin = headers(&[
            ("host", "127.0.0.1:4000"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(
            status(refusal(peer, &Method::POST, &no_origin)),
            None,
            "curl sends no Origin"
        );
        let foreign = headers(&[
            ("host", "127.0.0.1:4000"),
            ("origin", "http://evil.example"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(status(refusal(peer, &Method::POST, &foreign)), Some(403));
        let form = headers(&[("host", "127.0.0.1:4000"), ("content-type", "text/plain")]);
        assert_eq!(status(refusal(peer, &Method::POST, &form)), Some(415));
    }

    /// The console's router on a loopback port, served as the gateway serves it (with the peer's address).
    async fn serve() -> (String, Arc<ConsoleHub>, tokio::task::JoinHandle<()>) {
        let queue = crate::queue::LocalQueue::new(
            crate::queue::QueueOptions::default(),
            "arn:aws:sqs:us-east-1:0:q",
            "us-east-1",
        );
        let hub = ConsoleHub::new(
            super::super::Sources {
                queue,
                sim: Some(gamelift_sim::Simulator::new(gamelift_sim::Model::default())),
                clock: crate::clock::LocalClock::system(),
                health: Arc::new(|| json!({"status": "ok", "components": {}})),
                table: None,
                sweeps: super::super::SweepLog::default(),
                sweep_interval: Duration::from_secs(10),
            },
            super::super::table_feed(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = router(hub.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (url, hub, task)
    }

    #[tokio::test]
    async fn the_page_its_snapshot_and_its_event_stream_are_served_on_loopback() {
        let (url, hub, task) = serve().await;
        let http = reqwest::Client::new();
        let page = http.get(format!("{url}/console/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(
            page.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("script-src 'self'")
        );
        assert!(
            page.text()
                .await
                .unwrap()
                .contains("<script src=\"app.js\">")
        );
        let missing = http
            .get(format!("{url}/console/nope.js"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        let state: Value = http
            .get(format!("{url}/console/api/state"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(state["type"], "snapshot");
        assert_eq!(state["status"]["sim"]["fleets"][1]["region"], "eu-west-1");
        let mut events = http
            .get(format!("{url}/console/api/events"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            events.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        let mut first = String::new();
        while !first.contains("\n\n") {
            let chunk = events.chunk().await.unwrap().unwrap();
            first.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(first.contains(r#""type":"snapshot""#), "{first}");
        hub.close();
        // Closing the console ends the stream.
        let rest = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(Some(_)) = events.chunk().await {}
        })
        .await;
        assert!(
            rest.is_ok(),
            "the event stream ends when the console closes"
        );
        task.abort();
    }

    #[tokio::test]
    async fn an_action_with_a_bad_body_is_a_400_naming_the_field() {
        let (url, hub, task) = serve().await;
        let http = reqwest::Client::new();
        let post = |path: &'static str, body: &'static str| {
            http.post(format!("{url}{path}"))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let answer = post(
            "/console/api/sim/faults",
            r#"{"events": {"dropRate": "all"}}"#,
        )
        .await
        .unwrap();
        assert_eq!(answer.status(), 400);
        let answer = post("/console/api/clock/advance", r#"{"ms": 0}"#)
            .await
            .unwrap();
        assert_eq!(answer.status(), 400);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["field"], "ms");
        let answer = post("/console/api/sim/throttling", r#"{"enabled": false}"#)
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["throttling"], false);
        hub.close();
        task.abort();
    }

    #[test]
    fn every_asset_the_page_loads_is_compiled_in() {
        for path in [
            "",
            "app.js",
            "app.css",
            "vendor/uPlot.iife.min.js",
            "vendor/uPlot.min.css",
        ] {
            assert!(
                assets::asset(path).is_some_and(|(body, _)| !body.is_empty()),
                "{path}"
            );
        }
        let page = assets::INDEX_HTML;
        for reference in [
            "app.js",
            "app.css",
            "vendor/uPlot.iife.min.js",
            "vendor/uPlot.min.css",
        ] {
            assert!(page.contains(reference), "index.html loads {reference}");
        }
        assert!(assets::asset("../Cargo.toml").is_none());
    }
}

//! A fake of API Gateway's `@connections` API (axum on a random loopback port), for the notifier's
//! suites. The connection id picks the answer; the fake records every request, so attempts are
//! counted and bodies compared byte for byte.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;

/// One request the fake received: the connection id and the body.
type Received = (String, Vec<u8>);

/// What the fake received, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Received>>>);

impl Log {
    /// How many requests reached connection `id`.
    pub fn attempts(&self, id: &str) -> usize {
        self.bodies(id).len()
    }

    /// The bodies posted to connection `id`, in arrival order.
    pub fn bodies(&self, id: &str) -> Vec<Vec<u8>> {
        self.entries()
            .iter()
            .filter(|(c, _)| c == id)
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<Received>> {
        // A handler that panicked mid-push leaves a log that is still whole.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Serves the fake; its stage URL (the SDK appends `/@connections/{id}`) and its log.
///
/// Answers by the connection id's first word: `ok-*` → 200; `gone-*` → 410; `big-*` → 413;
/// `forbidden-*` → 403; `busy-N-*` → 429 for the first N attempts, then 200; `busy-forever-*` →
/// always 429; `slow-*` → 200 after 5 s; anything else → 404.
///
/// # Panics
/// When no loopback port can be bound.
pub async fn serve() -> (String, Log) {
    let log = Log::default();
    let app = Router::new()
        .route("/@connections/{id}", post(post_to_connection))
        .with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind the fake @connections API: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("the fake's address: {e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), log)
}

fn error(status: StatusCode, code: &str) -> Response {
    let body = format!("{{\"message\":\"{code} from the fake\"}}");
    let headers = [
        ("x-amzn-errortype", code),
        ("content-type", "application/json"),
    ];
    (status, headers, body).into_response()
}

async fn post_to_connection(
    State(log): State<Log>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let attempt = {
        let mut entries = log.entries();
        entries.push((id.clone(), body.to_vec()));
        entries.iter().filter(|(c, _)| *c == id).count()
    };
    let busy_for = if id.starts_with("busy-forever") {
        usize::MAX
    } else {
        id.split('-')
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    match id.split('-').next().unwrap_or_default() {
        "ok" => StatusCode::OK.into_response(),
        "gone" => error(StatusCode::GONE, "GoneException"),
        "big" => error(StatusCode::PAYLOAD_TOO_LARGE, "PayloadTooLargeException"),
        "forbidden" => error(StatusCode::FORBIDDEN, "ForbiddenException"),
        "busy" if attempt <= busy_for => {
            error(StatusCode::TOO_MANY_REQUESTS, "LimitExceededException")
        }
        "busy" => StatusCode::OK.into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

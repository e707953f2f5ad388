//! What the local stack prints for people: a line per HTTP request and WebSocket connect, per push
//! through `@connections`, per placement, session or connection change read from the table's stream,
//! and per queue or stream delivery, so a placement can be followed from its create to its push.
//!
//! Nothing is printed until a binary [`install`]s an output, so the library's tests and other embedders
//! stay quiet. `fleet-local up` prints text on stdout (coloured on a terminal); `--log-format json` turns
//! every line into a JSON log event (target [`TARGET`]) among the other logs instead.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use fleet_core::index;
use serde_json::Value;
use time::{OffsetDateTime, UtcOffset};

use crate::local::GatewayAuth;

/// The `tracing` target of terminal lines in the JSON log format.
pub const TARGET: &str = "fleet_local::term";

/// Which API a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The player HTTP API (`Authorization: Bearer`).
    Player,
    /// The service HTTP API (SigV4).
    Service,
    /// The HTTP port without credentials (health, documents, or a refused call).
    Anonymous,
    /// A WebSocket connect.
    WebSocket,
    /// The `@connections` management API, other than a push.
    Connections,
}

impl Api {
    fn tag(self) -> &'static str {
        match self {
            Self::Player => "player",
            Self::Service => "service",
            Self::Anonymous => "anon",
            Self::WebSocket => "ws",
            Self::Connections => "@conn",
        }
    }
}

/// Who fed a handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The SQS-semantics queue (placement-events).
    Queue,
    /// The DynamoDB stream poller (notifier).
    Stream,
}

impl Source {
    fn tag(self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Stream => "stream",
        }
    }
}

/// A change of an item of the table, as the stream shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A placement was written PENDING: the create started it.
    PlacementStarted {
        /// Placement id.
        id: String,
        /// Who asked.
        requester: String,
        /// Players named in the create.
        players: usize,
    },
    /// A placement left PENDING (an event applied, the sweeper, a cancel).
    PlacementFinished {
        /// Placement id.
        id: String,
        /// Its new status.
        status: String,
        /// The session, when FULFILLED.
        session: Option<String>,
        /// Why not, otherwise.
        reason: Option<String>,
        /// From its creation to its result (GameLift's times), milliseconds.
        after_ms: Option<i64>,
    },
    /// A session row was created ACTIVE.
    SessionStarted {
        /// Session id.
        id: String,
        /// Its Region.
        region: String,
        /// Its fleet.
        fleet: String,
        /// Its player cap.
        max_players: Option<u64>,
    },
    /// A session was ended (it is a tombstone now).
    SessionEnded {
        /// Session id.
        id: String,
    },
    /// A WebSocket connection was registered (`$connect`).
    Connected {
        /// Connection id.
        connection: String,
        /// Its player or principal.
        user: String,
    },
    /// A connection subscribed to a placement.
    Subscribed {
        /// Connection id.
        connection: String,
        /// Placement id.
        placement: String,
    },
    /// A connection's row was removed (`$disconnect`, or a push found it gone).
    Disconnected {
        /// Connection id.
        connection: String,
    },
}

/// One thing worth a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// An HTTP request or a WebSocket connect, answered.
    Request {
        /// Which API.
        api: Api,
        /// The caller as the gateway will see it (read, not verified: the status says if it was valid).
        caller: String,
        /// HTTP method.
        method: String,
        /// Path and query (a WebSocket token is not shown).
        path: String,
        /// The answer's status.
        status: u16,
        /// Time to the answer's head.
        latency: Duration,
    },
    /// A message posted to a connection through `@connections`.
    Push {
        /// Connection id.
        connection: String,
        /// What was pushed (`placement <id> FULFILLED`).
        message: String,
        /// The management API's answer (200, 410 gone, 413 too large).
        status: u16,
        /// Time to the answer.
        latency: Duration,
    },
    /// A change read from the table's stream.
    Change(Change),
    /// A batch handed to a handler.
    Delivery {
        /// Queue or stream.
        from: Source,
        /// The handler.
        handler: &'static str,
        /// What the batch carries.
        summary: String,
        /// 1 for a first delivery, more for a redelivery.
        attempt: u32,
    },
    /// Something a delivery could not do (a failed item, a dead-lettered message, dropped records).
    Trouble {
        /// Queue or stream.
        from: Source,
        /// What happened.
        text: String,
    },
}

/// Where lines go.
pub enum Output {
    /// Text lines to `writer` (stdout), coloured with ANSI codes when `color`, times in `offset`.
    Text {
        /// Where.
        writer: Box<dyn Write + Send>,
        /// Colour or not.
        color: bool,
        /// The local time zone's offset (read once at start: reading it later is not thread-safe).
        offset: UtcOffset,
    },
    /// `tracing` events with target [`TARGET`] (the JSON log format).
    Events,
}

static OUTPUT: OnceLock<Mutex<Output>> = OnceLock::new();

/// Sends this process's terminal lines to `output`. Only the first call takes effect; returns whether
/// this call was that one.
pub fn install(output: Output) -> bool {
    OUTPUT.set(Mutex::new(output)).is_ok()
}

/// Whether lines go anywhere (the hooks skip their parsing when not).
pub fn enabled() -> bool {
    OUTPUT.get().is_some()
}

/// Whether stdout should be coloured: a terminal, `NO_COLOR` unset, and not a dumb one.
pub fn stdout_wants_color() -> bool {
    use std::io::IsTerminal as _;
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// The local time zone's offset, UTC when it cannot be read. Call it before any thread starts: the
/// platform's time zone functions are not thread-safe, and the `time` crate refuses once threads exist.
pub fn local_offset() -> UtcOffset {
    UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
}

/// Prints `line` to the installed output, if any.
pub fn emit(line: Line) {
    let Some(output) = OUTPUT.get() else {
        return;
    };
    let mut output = output.lock().unwrap_or_else(PoisonError::into_inner);
    match &mut *output {
        Output::Text {
            writer,
            color,
            offset,
        } => {
            let now = OffsetDateTime::now_utc().to_offset(*offset);
            let text = line.render(now, *color);
            let written = writeln!(writer, "{text}").and_then(|()| writer.flush());
            if written.is_err() {
                // Nobody reads stdout any more (a closed pipe): the stack keeps serving, and the lines
                // go on as log events.
                *output = Output::Events;
                line.trace();
            }
        }
        Output::Events => line.trace(),
    }
}

fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_owned()
    }
}

fn fg(c: AnsiColor) -> Style {
    Style::new().fg_color(Some(c.into()))
}

/// `35 ms` below a second, `1.05 s` above.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// At most `max` characters, the cut marked with `…`.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn status_style(status: u16) -> Style {
    match status {
        101 | 200..=299 => fg(AnsiColor::Green),
        300..=399 => fg(AnsiColor::Cyan),
        400..=499 => fg(AnsiColor::Yellow),
        _ => fg(AnsiColor::Red).bold(),
    }
}

fn placement_status_style(status: &str) -> Style {
    match status {
        "FULFILLED" => fg(AnsiColor::Green),
        "PENDING" => fg(AnsiColor::Yellow),
        _ => fg(AnsiColor::Red),
    }
}

fn latency_text(color: bool, latency: Duration) -> String {
    let text = format!("{:>7}", human(latency));
    if latency >= Duration::from_secs(1) {
        paint(color, fg(AnsiColor::Yellow), &text)
    } else {
        paint(color, Style::new().dimmed(), &text)
    }
}

impl Line {
    fn tag(&self) -> (&'static str, Style) {
        match self {
            Self::Request { api, .. } => (
                api.tag(),
                match api {
                    Api::Player => fg(AnsiColor::Cyan),
                    Api::Service => fg(AnsiColor::Magenta),
                    Api::Anonymous => Style::new().dimmed(),
                    Api::WebSocket | Api::Connections => fg(AnsiColor::Blue),
                },
            ),
            Self::Push { .. } => ("push", fg(AnsiColor::Blue).bold()),
            Self::Change(Change::PlacementStarted { .. } | Change::PlacementFinished { .. }) => {
                ("placement", fg(AnsiColor::Yellow).bold())
            }
            Self::Change(Change::SessionStarted { .. } | Change::SessionEnded { .. }) => {
                ("session", fg(AnsiColor::Green).bold())
            }
            Self::Change(_) => ("ws", fg(AnsiColor::Blue)),
            Self::Delivery { from, .. } => (from.tag(), Style::new().bold()),
            Self::Trouble { from, .. } => (from.tag(), fg(AnsiColor::Red).bold()),
        }
    }

    /// The line as the terminal shows it, stamped `at`.
    pub fn render(&self, at: OffsetDateTime, color: bool) -> String {
        let time = format!(
            "{:02}:{:02}:{:02}.{:03}",
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        );
        let (tag, tag_style) = self.tag();
        format!(
            "{} {} {}",
            paint(color, Style::new().dimmed(), &time),
            paint(color, tag_style, &format!("{tag:<9}")),
            self.body(color)
        )
    }

    fn body(&self, color: bool) -> String {
        match self {
            Self::Request {
                caller,
                method,
                path,
                status,
                latency,
                ..
            } => format!(
                "{:<28} {method:<6} {:<44} {} {}",
                clip(caller, 28),
                clip(path, 160),
                paint(color, status_style(*status), &status.to_string()),
                latency_text(color, *latency),
            ),
            Self::Push {
                connection,
                message,
                status,
                latency,
            } => format!(
                "{:<28} {:<51} {} {}",
                format!("→ {connection}"),
                message,
                paint(color, status_style(*status), &status.to_string()),
                latency_text(color, *latency),
            ),
            Self::Change(change) => change.body(color),
            Self::Delivery {
                handler,
                summary,
                attempt,
                ..
            } => {
                let mut out = format!("→ {handler}: {summary}");
                if *attempt > 1 {
                    out.push_str(&format!(" (delivery {attempt})"));
                }
                out
            }
            Self::Trouble { text, .. } => paint(color, fg(AnsiColor::Red), text),
        }
    }

    /// The line as a `tracing` event (JSON log format): the text, plus the request's fields.
    fn trace(&self) {
        // The request and push fields are the event's own fields: the message stays short, unpadded.
        let millis = |latency: &Duration| u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        let (tag, _) = self.tag();
        match self {
            Self::Request {
                api,
                caller,
                method,
                path,
                status,
                latency,
            } => tracing::info!(
                target: TARGET, kind = "request", api = api.tag(), caller = caller.as_str(),
                method = method.as_str(), path = path.as_str(), status,
                latency_ms = millis(latency), "{method} {path} {status}"
            ),
            Self::Push {
                connection,
                message,
                status,
                latency,
            } => tracing::info!(
                target: TARGET, kind = "push", connection = connection.as_str(), status,
                latency_ms = millis(latency), "{message} → {connection} {status}"
            ),
            Self::Trouble { .. } => {
                tracing::warn!(target: TARGET, kind = tag, "{}", self.body(false));
            }
            Self::Change(_) | Self::Delivery { .. } => {
                tracing::info!(target: TARGET, kind = tag, "{}", self.body(false));
            }
        }
    }
}

impl Change {
    fn body(&self, color: bool) -> String {
        let status = |s: &str| paint(color, placement_status_style(s), s);
        match self {
            Self::PlacementStarted {
                id,
                requester,
                players,
            } => format!(
                "{id} {}, started by {} ({players} player{})",
                status("PENDING"),
                clip(requester, 40),
                if *players == 1 { "" } else { "s" }
            ),
            Self::PlacementFinished {
                id,
                status: s,
                session,
                reason,
                after_ms,
            } => {
                let mut out = format!("{id} {}", status(s));
                if let Some(session) = session {
                    out.push_str(&format!(" → session {session}"));
                }
                if let Some(reason) = reason {
                    out.push_str(&format!(": {}", clip(reason, 120)));
                }
                if let Some(ms) = after_ms.and_then(|ms| u64::try_from(ms).ok()) {
                    out.push_str(&format!(" after {}", human(Duration::from_millis(ms))));
                }
                out
            }
            Self::SessionStarted {
                id,
                region,
                fleet,
                max_players,
            } => {
                let active = paint(color, fg(AnsiColor::Green), "ACTIVE");
                let mut out = format!("{id} {active} in {region} on {fleet}");
                if let Some(max) = max_players {
                    out.push_str(&format!(" (max {max})"));
                }
                out
            }
            Self::SessionEnded { id } => format!("{id} ENDED"),
            Self::Connected { connection, user } => {
                format!("connection {connection} opened by {}", clip(user, 40))
            }
            Self::Subscribed {
                connection,
                placement,
            } => format!("connection {connection} subscribed to {placement}"),
            Self::Disconnected { connection } => format!("connection {connection} closed"),
        }
    }
}

// ---- Reading what the hooks see -------------------------------------------------------------------

/// The lines worth printing for a page of stream records (`GetRecords`' wire JSON, DynamoDB JSON images).
pub fn stream_changes(records: &[Value]) -> Vec<Change> {
    records.iter().filter_map(stream_change).collect()
}

fn stream_change(record: &Value) -> Option<Change> {
    let d = &record["dynamodb"];
    let (new, old) = (&d["NewImage"], &d["OldImage"]);
    let text = |image: &Value, name: &str| image[name]["S"].as_str().map(str::to_owned);
    let pk = d["Keys"][index::PK]["S"].as_str()?;
    let sk = d["Keys"][index::SK]["S"].as_str()?;
    let event = record["eventName"].as_str()?;
    let (prefix, id) = pk.split_once('#')?;
    let id = id.to_owned();
    match (prefix, sk, event) {
        ("P", index::PLACEMENT_SK, "INSERT") => Some(Change::PlacementStarted {
            id,
            requester: text(new, "requester").unwrap_or_else(|| "?".into()),
            players: new["players"]["L"].as_array().map_or(0, Vec::len),
        }),
        ("P", index::PLACEMENT_SK, "MODIFY") => {
            let status = text(new, "status")?;
            if text(old, "status").as_deref() == Some(status.as_str()) {
                return None;
            }
            let millis = |name| {
                text(new, name)
                    .and_then(|t| fleet_core::time::Timestamp::parse_rfc3339(name, &t).ok())
                    .map(|t| t.millis())
            };
            Some(Change::PlacementFinished {
                id,
                status,
                session: text(new, "sessionId"),
                reason: text(new, "reason"),
                after_ms: millis("updatedAt")
                    .zip(millis("createdAt"))
                    .map(|(end, start)| end - start),
            })
        }
        ("P", sub, "INSERT") if sub.starts_with("SUB#") => Some(Change::Subscribed {
            connection: sub.trim_start_matches("SUB#").to_owned(),
            placement: id,
        }),
        ("C", "C", "INSERT") => Some(Change::Connected {
            connection: id,
            user: text(new, index::CONNECTIONS_BY_USER.pk).unwrap_or_else(|| "?".into()),
        }),
        ("C", "C", "REMOVE") => Some(Change::Disconnected { connection: id }),
        ("S", index::SESSION_SK, "INSERT") if text(new, "status").as_deref() == Some("ACTIVE") => {
            Some(Change::SessionStarted {
                id,
                region: text(new, "region").unwrap_or_else(|| "?".into()),
                fleet: text(new, "fleetId").unwrap_or_else(|| "?".into()),
                max_players: new["maxPlayers"]["N"].as_str().and_then(|n| n.parse().ok()),
            })
        }
        ("S", index::SESSION_SK, "MODIFY" | "INSERT")
            if text(new, "status").as_deref() == Some("ENDED")
                && text(old, "status").as_deref() != Some("ENDED") =>
        {
            Some(Change::SessionEnded { id })
        }
        _ => None,
    }
}

/// What one SQS body carries: `PlacementFulfilled <placementId>`, or why it is not a placement event.
pub fn queue_message_summary(body: Option<&str>) -> String {
    match body.map(fleet_core::event::parse_message) {
        Some(Ok(event)) => format!("{} {}", event.kind.type_name(), event.placement_id),
        Some(Err(e)) => format!("not a placement event ({})", clip(&e.to_string(), 60)),
        None => "an empty message".to_owned(),
    }
}

/// A batch's summary: its first messages, then how many more.
pub fn batch_summary(items: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut out = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        out.push_str(&format!(" and {} more", items.len() - SHOWN));
    }
    out
}

// ---- The gateways' request lines ------------------------------------------------------------------

/// Which gateway a router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    /// The HTTP APIs (player and service on one port).
    Http,
    /// The WebSocket API and its `@connections` management API.
    WebSocket,
}

/// `router` with a line printed for every request it answers. The gateways call this where they build
/// their router; `auth` names the SigV4 keys' principals.
pub fn observe(router: axum::Router, gateway: Gateway, auth: Arc<GatewayAuth>) -> axum::Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let auth = auth.clone();
            async move { request_line(gateway, &auth, request, next).await }
        },
    ))
}

/// The most a push body is read for its summary; a bigger one passes unread (the gateway refuses it).
const PUSH_PEEK_BYTES: u64 = 256 * 1024;

async fn request_line(
    gateway: Gateway,
    auth: &GatewayAuth,
    request: Request,
    next: Next,
) -> Response {
    if !enabled() {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let connection = path
        .split_once("/@connections/")
        .map(|(_, id)| id.replace("%3D", "=").replace("%3d", "="));
    let (api, caller, shown) = match (gateway, connection) {
        (Gateway::WebSocket, Some(connection)) if method == "POST" => {
            let (request, message) = match peek_push(request).await {
                Ok(peeked) => peeked,
                Err(response) => return response,
            };
            let response = next.run(request).await;
            emit(Line::Push {
                connection,
                message,
                status: response.status().as_u16(),
                latency: started.elapsed(),
            });
            return response;
        }
        (Gateway::WebSocket, Some(_)) => (Api::Connections, "@connections".to_owned(), path),
        (Gateway::WebSocket, None) => {
            let token = query.as_deref().and_then(|q| query_value(q, "token"));
            let caller = token.as_deref().map_or_else(|| "-".to_owned(), jwt_subject);
            let shown = if token.is_some() {
                format!("{path}?token=…")
            } else {
                path
            };
            (Api::WebSocket, caller, shown)
        }
        (Gateway::Http, _) => {
            let (api, caller) = http_caller(auth, request.headers());
            let shown = match query {
                Some(q) => format!("{path}?{q}"),
                None => path,
            };
            (api, caller, shown)
        }
    };
    let response = next.run(request).await;
    emit(Line::Request {
        api,
        caller,
        method,
        path: shown,
        status: response.status().as_u16(),
        latency: started.elapsed(),
    });
    response
}

/// Reads a push's body (when its length is known and small) to say what it carries, and puts it back.
async fn peek_push(request: Request) -> Result<(Request, String), Response> {
    let length = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let Some(length) = length.filter(|n| *n <= PUSH_PEEK_BYTES) else {
        return Ok((request, "a message of unknown or large size".to_owned()));
    };
    let (parts, body) = request.into_parts();
    let limit = usize::try_from(length).unwrap_or(usize::MAX);
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            let summary = push_summary(&bytes);
            Ok((Request::from_parts(parts, Body::from(bytes)), summary))
        }
        // The caller went away or sent more than it announced: what reading it in the handler would
        // have answered.
        Err(e) => Err((http::StatusCode::BAD_REQUEST, e.to_string()).into_response()),
    }
}

/// What a pushed message is: `placement <id> FULFILLED`, `error <code>`, or its size.
pub fn push_summary(bytes: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        return format!("{} bytes", bytes.len());
    };
    let field = |name: &str| v[name].as_str().unwrap_or("?");
    match v["type"].as_str() {
        Some("placement") => {
            let mut out = format!("placement {} {}", field("placementId"), field("status"));
            if v["status"] == "FULFILLED" && v.get("session").is_none() {
                out.push_str(" (without the session)");
            }
            out
        }
        Some("error") => {
            let mut out = format!("error {}", v["error"]["code"].as_str().unwrap_or("?"));
            if let Some(p) = v["placementId"].as_str() {
                out.push_str(&format!(" for {p}"));
            }
            out
        }
        Some(other) => format!("{other} ({} bytes)", bytes.len()),
        None => format!("{} bytes", bytes.len()),
    }
}

/// The first value of `name` in a raw query string.
fn query_value(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The API and caller of an HTTP request, read the way the gateway picks them: `Bearer` → the player
/// API and the token's `sub`; `AWS4-HMAC-SHA256` → the service API and the key's principal.
pub fn http_caller(auth: &GatewayAuth, headers: &http::HeaderMap) -> (Api, String) {
    let value = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(token) = value.strip_prefix("Bearer ") {
        return (Api::Player, jwt_subject(token.trim()));
    }
    if let Some(rest) = value.strip_prefix("AWS4-HMAC-SHA256") {
        let key = rest
            .split_once("Credential=")
            .and_then(|(_, c)| c.split('/').next())
            .unwrap_or("");
        let caller = match auth.sigv4_keys.get(key) {
            // `arn:aws:iam::000000000000:role/fleetlift-local-service` → `fleetlift-local-service`
            Some(k) => k
                .principal
                .rsplit([':', '/'])
                .next()
                .unwrap_or(&k.principal)
                .to_owned(),
            None if key.is_empty() => "?".to_owned(),
            None => format!("{key} (unknown key)"),
        };
        return (Api::Service, caller);
    }
    (Api::Anonymous, "-".to_owned())
}

/// A JWT's `sub`, read without verifying anything (the gateway verifies; this is for display), or `?`.
pub fn jwt_subject(token: &str) -> String {
    token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .and_then(|claims| claims["sub"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(1_795_600_800_123_000_000).unwrap()
    }

    /// A request line for `/v1/sessions`.
    fn sessions_request(api: Api, caller: &str, method: &str, status: u16, ms: u64) -> Line {
        Line::Request {
            api,
            caller: caller.into(),
            method: method.into(),
            path: "/v1/sessions".into(),
            status,
            latency: Duration::from_millis(ms),
        }
    }

    #[test]
    fn a_request_line_has_time_api_caller_method_path_status_and_latency() {
        let line = sessions_request(Api::Player, "player-1", "POST", 202, 31);
        let text = line.render(at(), false);
        assert!(
            text.starts_with("10:00:00.123 player    player-1 "),
            "{text}"
        );
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(
            words,
            [
                "10:00:00.123",
                "player",
                "player-1",
                "POST",
                "/v1/sessions",
                "202",
                "31",
                "ms"
            ]
        );
    }

    #[test]
    fn colour_is_only_added_when_asked_and_never_changes_the_words() {
        let line = sessions_request(Api::Service, "svc", "GET", 503, 1500);
        let plain = line.render(at(), false);
        let coloured = line.render(at(), true);
        assert!(!plain.contains('\u{1b}'));
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        let stripped = {
            let mut out = String::new();
            let mut chars = coloured.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    for c in chars.by_ref() {
                        if c == 'm' {
                            break;
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            out
        };
        assert_eq!(stripped, plain);
        assert!(plain.ends_with("503  1.50 s"), "{plain}");
    }

    #[test]
    fn the_caller_is_the_tokens_sub_or_the_keys_principal() {
        let auth = GatewayAuth::local([]);
        let nobody = http::HeaderMap::new();
        assert_eq!(http_caller(&auth, &nobody), (Api::Anonymous, "-".into()));
        let bearer = format!(
            "Bearer {}",
            crate::gateway::mint_token(&auth, "player-7", 60)
        );
        let cases = [
            (bearer.as_str(), Api::Player, "player-7"),
            ("Bearer not-a-jwt", Api::Player, "?"),
            (
                "AWS4-HMAC-SHA256 Credential=AKIALOCALSERVICE0001/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00",
                Api::Service,
                "fleetlift-local-service",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AKIAWHO/20260101/us-east-1/execute-api/aws4_request",
                Api::Service,
                "AKIAWHO (unknown key)",
            ),
        ];
        for (authorization, api, caller) in cases {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::AUTHORIZATION, authorization.parse().unwrap());
            assert_eq!(
                http_caller(&auth, &headers),
                (api, caller.into()),
                "{authorization}"
            );
        }
    }

    fn record(event: &str, keys: (&str, &str), old: Value, new: Value) -> Value {
        json!({"eventName": event, "dynamodb": {
            "Keys": {"pk": {"S": keys.0}, "sk": {"S": keys.1}}, "OldImage": old, "NewImage": new}})
    }

    #[test]
    fn stream_records_become_placement_session_and_connection_lines() {
        let pending = json!({"status": {"S": "PENDING"}, "requester": {"S": "player-1"},
            "players": {"L": [{"M": {}}, {"M": {}}]}, "createdAt": {"S": "2026-11-25T10:00:00.000Z"}});
        let mut fulfilled = pending.clone();
        fulfilled["status"] = json!({"S": "FULFILLED"});
        fulfilled["sessionId"] = json!({"S": "gs-abc"});
        fulfilled["updatedAt"] = json!({"S": "2026-11-25T10:00:01.250Z"});
        let records = [
            record("INSERT", ("P#p-1", "P"), Value::Null, pending.clone()),
            record("MODIFY", ("P#p-1", "P"), pending.clone(), fulfilled.clone()),
            // A rewrite without a status change is not a transition.
            record("MODIFY", ("P#p-1", "P"), fulfilled.clone(), fulfilled),
            record("INSERT", ("P#p-1", "SUB#Abc="), Value::Null, json!({})),
            record("INSERT", ("P#p-1", "SENT#Abc="), Value::Null, json!({})),
            record(
                "INSERT",
                ("C#Abc=", "C"),
                Value::Null,
                json!({"cUser": {"S": "player-1"}}),
            ),
            record("REMOVE", ("C#Abc=", "C"), json!({}), Value::Null),
            record(
                "INSERT",
                ("S#gs-abc", "S"),
                Value::Null,
                json!({"status": {"S": "ACTIVE"}, "region": {"S": "us-east-1"},
                       "fleetId": {"S": "fleet-1"}, "maxPlayers": {"N": "4"}}),
            ),
            record(
                "MODIFY",
                ("S#gs-abc", "S"),
                json!({"status": {"S": "ACTIVE"}}),
                json!({"status": {"S": "ENDED"}}),
            ),
            record("INSERT", ("S#gs-abc", "SEAT#x"), Value::Null, json!({})),
        ];
        let changes = stream_changes(&records);
        assert_eq!(
            changes,
            vec![
                Change::PlacementStarted {
                    id: "p-1".into(),
                    requester: "player-1".into(),
                    players: 2
                },
                Change::PlacementFinished {
                    id: "p-1".into(),
                    status: "FULFILLED".into(),
                    session: Some("gs-abc".into()),
                    reason: None,
                    after_ms: Some(1250)
                },
                Change::Subscribed {
                    connection: "Abc=".into(),
                    placement: "p-1".into()
                },
                Change::Connected {
                    connection: "Abc=".into(),
                    user: "player-1".into()
                },
                Change::Disconnected {
                    connection: "Abc=".into()
                },
                Change::SessionStarted {
                    id: "gs-abc".into(),
                    region: "us-east-1".into(),
                    fleet: "fleet-1".into(),
                    max_players: Some(4)
                },
                Change::SessionEnded {
                    id: "gs-abc".into()
                },
            ]
        );
        let text = Line::Change(changes[1].clone()).render(at(), false);
        assert!(
            text.ends_with("placement p-1 FULFILLED → session gs-abc after 1.25 s"),
            "{text}"
        );
    }

    #[test]
    fn pushes_and_queue_messages_are_summarised_by_what_they_carry() {
        assert_eq!(
            push_summary(
                br#"{"type":"placement","placementId":"p-1","status":"FULFILLED","session":{}}"#
            ),
            "placement p-1 FULFILLED"
        );
        assert_eq!(
            push_summary(br#"{"type":"placement","placementId":"p-1","status":"FULFILLED"}"#),
            "placement p-1 FULFILLED (without the session)"
        );
        assert_eq!(
            push_summary(br#"{"type":"error","error":{"code":"not_found"},"placementId":"p-2"}"#),
            "error not_found for p-2"
        );
        assert_eq!(push_summary(b"\x00\x01"), "2 bytes");
        let body = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/placement/sns-fulfilled.json"
        ))
        .unwrap();
        let summary = queue_message_summary(Some(&body));
        assert!(summary.starts_with("PlacementFulfilled "), "{summary}");
        assert!(
            queue_message_summary(Some("{}")).starts_with("not a placement event"),
            "poison is named as such"
        );
        let items: Vec<String> = (1..=5).map(|i| format!("m{i}")).collect();
        assert_eq!(batch_summary(&items), "m1, m2, m3 and 2 more");
    }
}

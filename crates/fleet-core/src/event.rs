//! GameLift queue placement events, read from an SQS message body (docs/architecture.md#placement-events-and-results).
//!
//! GameLift publishes a queue's placement events to an SNS topic (and to EventBridge). They reach the
//! placement-events function through SQS in one of three shapes, all accepted by [`parse_message`]:
//!
//! | [`Shape`] | How it got here | The SQS body |
//! |---|---|---|
//! | [`Shape::SnsEnvelope`] | SNS → SQS | an SNS `Notification` whose `Message` is the event JSON *as a string* |
//! | [`Shape::EventBridge`] | SNS → SQS with raw message delivery, or an EventBridge rule → SQS | the event itself: `{"version","id","detail-type","source","time",…,"detail":{…}}` |
//! | [`Shape::Detail`] | an EventBridge input transformer of `$.detail` | the bare `detail` object (top-level `type` and `placementId`) |
//!
//! Raw delivery and EventBridge → SQS carry the same JSON and are told apart only by where they came
//! from, so both are [`Shape::EventBridge`]. An SNS `Message` may hold either an EventBridge-format event
//! or a bare detail.
//!
//! The `detail` carries `type` (`PlacementFulfilled`, `PlacementTimedOut`, `PlacementCancelled`,
//! `PlacementFailed`, or a type this code does not know yet → [`EventKind::Unknown`]), `placementId`,
//! `startTime`/`endTime` (RFC 3339, any precision and offset) and, when fulfilled, the game session's
//! ARN, address and **port as a string** (a JSON number is accepted too).
//!
//! Reading rules, chosen so that nothing AWS might add or leave out can break the parser:
//! - unknown fields are ignored everywhere (AWS adds fields);
//! - an optional field that is absent or `null` is treated as absent; a required one that is absent is
//!   [`EventError::MissingField`], one that is `null` or of the wrong JSON type is
//!   [`EventError::InvalidField`];
//! - field names in errors are relative to the GameLift event, whatever the shape: `detail.port`,
//!   `detail.placedPlayerSessions[1].playerId` (also for a bare detail), `time`, `id`; the SNS envelope's
//!   own fields keep their names (`Message`, `Timestamp`, `MessageId`);
//! - a body over 256 KiB (the SQS maximum) is refused before it is parsed, and JSON nesting is bounded
//!   by `serde_json`'s recursion limit, so no input can exhaust memory or the stack.
//!
//! Every [`EventError`] is **permanent**: the same body can never parse, so the handler quarantines it
//! (logs it with its message id and acknowledges it) instead of returning it to the queue.
//!
//! The parser never panics, whatever the input: `parse_message` is tested with arbitrary strings and
//! arbitrary JSON trees, raw, inside an SNS `Message` and as a `detail`.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::FieldError;
use crate::ids::{GameSessionArn, PlacementId, PlayerId, Region};
use crate::model::{PlacementStatus, PlayerSession};
use crate::time::Timestamp;

#[cfg(test)]
pub(crate) mod tests;

/// The largest SQS message body, in bytes (256 KiB); a longer body is refused unread.
pub const MESSAGE_MAX_BYTES: usize = 256 * 1024;

/// Longest `playerSessionId` accepted (GameLift's are `psess-` and a UUID).
const PLAYER_SESSION_ID_MAX: usize = 1024;

/// How many characters of an input string an error message quotes.
const QUOTE_MAX: usize = 64;

/// The detail `type` of a fulfilled placement.
pub const TYPE_FULFILLED: &str = "PlacementFulfilled";
/// The detail `type` of a placement that ran out of time in the queue.
pub const TYPE_TIMED_OUT: &str = "PlacementTimedOut";
/// The detail `type` of a placement someone stopped.
pub const TYPE_CANCELLED: &str = "PlacementCancelled";
/// The detail `type` of a placement GameLift could not make.
pub const TYPE_FAILED: &str = "PlacementFailed";

/// One placement event, whatever shape it arrived in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementEvent {
    /// The EventBridge event `id`, or the SNS `MessageId` when the event inside has no `id` (a bare
    /// detail in an SNS envelope); `None` for a bare detail delivered on its own. Useful in logs; not a
    /// de-duplication key (GameLift may publish the same outcome twice under different ids).
    pub event_id: Option<String>,
    /// The placement the event is about (validated: 1–48 of `[A-Za-z0-9-]`).
    pub placement_id: PlacementId,
    /// `detail.startTime`: when the placement request was started.
    pub start_time: Option<Timestamp>,
    /// `detail.endTime`: when the outcome happened (absent on some non-terminal or unknown types).
    pub end_time: Option<Timestamp>,
    /// When the event was emitted: the EventBridge `time`, else the SNS envelope's `Timestamp`.
    pub event_time: Option<Timestamp>,
    /// What happened.
    pub kind: EventKind,
    /// How the SQS body carried it.
    pub shape: Shape,
}

impl PlacementEvent {
    /// When the outcome happened: `endTime`, else the event's own time (EventBridge `time`, else the
    /// SNS `Timestamp`); `None` when the message carries no time at all.
    pub fn occurred_at(&self) -> Option<Timestamp> {
        self.end_time.or(self.event_time)
    }
}

/// How the SQS body carried the event (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// An SNS `Notification` with the event as a JSON string in `Message` (SNS → SQS, no raw delivery).
    SnsEnvelope,
    /// The EventBridge-format event itself (SNS raw message delivery, or an EventBridge rule → SQS).
    EventBridge,
    /// The bare `detail` object (an EventBridge input transformer of `$.detail`).
    Detail,
}

impl Shape {
    /// A stable name for logs: `sns`, `eventbridge`, `detail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SnsEnvelope => "sns",
            Self::EventBridge => "eventbridge",
            Self::Detail => "detail",
        }
    }
}

/// What a placement event says happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `PlacementFulfilled`: a game session was placed; everything needed to build it is here, so no
    /// GameLift call is needed.
    Fulfilled(Fulfilled),
    /// `PlacementTimedOut`: the queue's timeout passed without a placement.
    TimedOut,
    /// `PlacementCancelled`: the placement was stopped.
    Cancelled,
    /// `PlacementFailed`: GameLift could not place it.
    Failed {
        /// `detail.errorCode`, when GameLift gave one.
        error_code: Option<String>,
        /// `detail.errorMessage`, when GameLift gave one.
        error_message: Option<String>,
    },
    /// A `type` this code does not know (a future or non-terminal type such as `PlacementQueued`): the
    /// handler logs and acknowledges it.
    Unknown {
        /// The `type` as sent.
        event_type: String,
    },
}

impl EventKind {
    /// The terminal placement status this event moves the placement to; `None` for an unknown type.
    pub fn status(&self) -> Option<PlacementStatus> {
        match self {
            Self::Fulfilled(_) => Some(PlacementStatus::Fulfilled),
            Self::TimedOut => Some(PlacementStatus::TimedOut),
            Self::Cancelled => Some(PlacementStatus::Cancelled),
            Self::Failed { .. } => Some(PlacementStatus::Failed),
            Self::Unknown { .. } => None,
        }
    }

    /// The `detail.type` as it is spelled on the wire (`PlacementFulfilled`, or the unknown type).
    pub fn type_name(&self) -> &str {
        match self {
            Self::Fulfilled(_) => TYPE_FULFILLED,
            Self::TimedOut => TYPE_TIMED_OUT,
            Self::Cancelled => TYPE_CANCELLED,
            Self::Failed { .. } => TYPE_FAILED,
            Self::Unknown { event_type } => event_type,
        }
    }
}

/// The game session a fulfilled placement created, as the event describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilled {
    /// `detail.gameSessionArn` (validated; gives the fleet and the session's short id).
    pub game_session_arn: GameSessionArn,
    /// `detail.ipAddress` (validated as an IPv4 or IPv6 address).
    pub ip_address: String,
    /// `detail.dnsName`; empty when absent (some locations have none).
    pub dns_name: String,
    /// `detail.port`, 1–65535 (a string on the wire; a number is accepted too).
    pub port: u16,
    /// `detail.gameSessionRegion`, else the region in the ARN.
    pub region: Region,
    /// `detail.placedPlayerSessions`; empty when absent.
    pub placed_player_sessions: Vec<PlayerSession>,
}

/// Why a message body is not a placement event. Every variant is **permanent**: the same body can
/// never parse, so the message is poison and is quarantined, never retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The body (or the SNS `Message` string) is not JSON; the text is `serde_json`'s reason.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The JSON (or the SNS `Message`'s JSON) is not an object (`null`, an array, a number…).
    #[error("not a JSON object")]
    NotAnObject,
    /// A JSON object with no recognisable shape: not an SNS notification, not an EventBridge event,
    /// not a detail with a `placementId`. The text says what was found.
    #[error("not a placement event: {0}")]
    NotAnEvent(String),
    /// The body, or the SNS `Message`, is empty or only whitespace.
    #[error("empty message")]
    EmptyMessage,
    /// The body is longer than an SQS message can be, so it was not parsed.
    #[error("message of {bytes} bytes is over the {max}-byte SQS limit")]
    TooLarge {
        /// The body's length in bytes.
        bytes: usize,
        /// The limit, [`MESSAGE_MAX_BYTES`].
        max: usize,
    },
    /// A required field is absent.
    #[error("missing field {field}")]
    MissingField {
        /// The field, e.g. `detail.placementId`.
        field: String,
    },
    /// A field is present but `null`, of the wrong JSON type, or invalid.
    #[error("invalid field {0}")]
    InvalidField(FieldError),
}

impl EventError {
    /// The field at fault, for the missing and invalid field errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::MissingField { field } => Some(field),
            Self::InvalidField(e) => Some(&e.field),
            _ => None,
        }
    }

    /// A stable snake-case name of the variant, for logs and metrics.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "not_json",
            Self::NotAnObject => "not_an_object",
            Self::NotAnEvent(_) => "not_an_event",
            Self::EmptyMessage => "empty_message",
            Self::TooLarge { .. } => "too_large",
            Self::MissingField { .. } => "missing_field",
            Self::InvalidField(_) => "invalid_field",
        }
    }

    fn missing(field: impl Into<String>) -> Self {
        Self::MissingField {
            field: field.into(),
        }
    }

    fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::InvalidField(FieldError::new(field, problem))
    }
}

impl From<FieldError> for EventError {
    fn from(e: FieldError) -> Self {
        Self::InvalidField(e)
    }
}

/// Reads one SQS message body as a placement event, in any of the three shapes (see the module docs).
///
/// An unknown `type` with a `placementId` is `Ok` with [`EventKind::Unknown`]. An unknown type **without**
/// a `placementId` is [`EventError::NotAnEvent`]: nothing says it is about a placement at all (it may be
/// some other GameLift event on the same topic), so it is quarantined like any other foreign message. A
/// known type without a `placementId` is [`EventError::MissingField`] `detail.placementId`.
pub fn parse_message(body: &str) -> Result<PlacementEvent, EventError> {
    if body.len() > MESSAGE_MAX_BYTES {
        return Err(EventError::TooLarge {
            bytes: body.len(),
            max: MESSAGE_MAX_BYTES,
        });
    }
    let root = parse_json(body, None)?;
    let Value::Object(obj) = &root else {
        return Err(EventError::NotAnObject);
    };
    if is_sns_envelope(obj) {
        parse_sns(obj)
    } else {
        parse_event(obj, None)
    }
}

/// Parses JSON text; `what` names the text in the error (`None` for the body itself).
fn parse_json(text: &str, what: Option<&str>) -> Result<Value, EventError> {
    if text.trim().is_empty() {
        return Err(EventError::EmptyMessage);
    }
    serde_json::from_str(text).map_err(|e| match what {
        Some(w) => EventError::NotJson(format!("{w}: {e}")),
        None => EventError::NotJson(e.to_string()),
    })
}

/// An SNS notification has `Type`, `Message` or `TopicArn` (capitalised, unlike any GameLift field).
fn is_sns_envelope(obj: &Map<String, Value>) -> bool {
    !obj.contains_key("detail")
        && (obj.contains_key("Message") || obj.contains_key("Type") || obj.contains_key("TopicArn"))
}

/// What the SNS envelope contributes when the event inside lacks it.
struct Envelope {
    message_id: Option<String>,
    timestamp: Option<Timestamp>,
}

fn parse_sns(obj: &Map<String, Value>) -> Result<PlacementEvent, EventError> {
    if let Some(t) = opt_str(obj, "Type", "Type")?
        && t != "Notification"
    {
        // e.g. a SubscriptionConfirmation delivered to the queue of a cross-account subscription.
        return Err(EventError::NotAnEvent(format!(
            "an SNS {} message, not a Notification",
            quote(t)
        )));
    }
    let message = match obj.get("Message") {
        None => return Err(EventError::missing("Message")),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(EventError::invalid(
                "Message",
                format!(
                    "must be the event JSON as a string, got {}",
                    json_kind(other)
                ),
            ));
        }
    };
    let envelope = Envelope {
        message_id: opt_str(obj, "MessageId", "MessageId")?.map(str::to_owned),
        timestamp: opt_time(obj, "Timestamp", "Timestamp")?,
    };
    let inner = parse_json(message, Some("Message"))?;
    let Value::Object(inner) = &inner else {
        return Err(EventError::NotAnObject);
    };
    if inner.contains_key("Message") && !inner.contains_key("detail") {
        return Err(EventError::NotAnEvent(
            "an SNS envelope inside an SNS envelope".into(),
        ));
    }
    parse_event(inner, Some(envelope))
}

/// Reads an EventBridge-format event or a bare detail, optionally from inside an SNS envelope.
fn parse_event(
    obj: &Map<String, Value>,
    envelope: Option<Envelope>,
) -> Result<PlacementEvent, EventError> {
    let (detail, shape, id, time) = match obj.get("detail") {
        Some(Value::Object(detail)) => {
            let id = opt_str(obj, "id", "id")?.map(str::to_owned);
            let time = opt_time(obj, "time", "time")?;
            (detail, Shape::EventBridge, id, time)
        }
        Some(other) => {
            return Err(EventError::invalid(
                "detail",
                format!("must be an object, got {}", json_kind(other)),
            ));
        }
        None if obj.contains_key("type") || obj.contains_key("placementId") => {
            (obj, Shape::Detail, None, None)
        }
        None => {
            return Err(EventError::NotAnEvent(
                "no `detail`, no SNS `Message` and no `placementId` at the top level".into(),
            ));
        }
    };
    let parsed = parse_detail(detail)?;
    let (shape, event_id, event_time) = match envelope {
        Some(env) => (
            Shape::SnsEnvelope,
            id.or(env.message_id),
            time.or(env.timestamp),
        ),
        None => (shape, id, time),
    };
    Ok(PlacementEvent {
        event_id,
        placement_id: parsed.placement_id,
        start_time: parsed.start_time,
        end_time: parsed.end_time,
        event_time,
        kind: parsed.kind,
        shape,
    })
}

struct Detail {
    placement_id: PlacementId,
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
    kind: EventKind,
}

/// The field name of `key` in the detail, as errors spell it.
fn df(key: &str) -> String {
    format!("detail.{key}")
}

fn parse_detail(d: &Map<String, Value>) -> Result<Detail, EventError> {
    let event_type = match d.get("type") {
        None => {
            return Err(if d.contains_key("placementId") {
                EventError::missing(df("type"))
            } else {
                EventError::NotAnEvent("a detail with neither `type` nor `placementId`".into())
            });
        }
        Some(Value::String(t)) => t.as_str(),
        Some(other) => return Err(wrong_type(df("type"), "a string", other)),
    };
    let known = matches!(
        event_type,
        TYPE_FULFILLED | TYPE_TIMED_OUT | TYPE_CANCELLED | TYPE_FAILED
    );
    let placement_id = match d.get("placementId") {
        None if known => return Err(EventError::missing(df("placementId"))),
        None => {
            return Err(EventError::NotAnEvent(format!(
                "an event of unknown type {} without a `placementId`",
                quote(event_type)
            )));
        }
        Some(Value::String(s)) => PlacementId::parse(s).map_err(|e| e.within("detail"))?,
        Some(other) => return Err(wrong_type(df("placementId"), "a string", other)),
    };
    let start_time = opt_time(d, "startTime", &df("startTime"))?;
    let end_time = opt_time(d, "endTime", &df("endTime"))?;
    let kind = match event_type {
        TYPE_FULFILLED => EventKind::Fulfilled(parse_fulfilled(d)?),
        TYPE_TIMED_OUT => EventKind::TimedOut,
        TYPE_CANCELLED => EventKind::Cancelled,
        TYPE_FAILED => EventKind::Failed {
            error_code: opt_str(d, "errorCode", &df("errorCode"))?.map(str::to_owned),
            error_message: opt_str(d, "errorMessage", &df("errorMessage"))?.map(str::to_owned),
        },
        other => EventKind::Unknown {
            event_type: other.to_owned(),
        },
    };
    Ok(Detail {
        placement_id,
        start_time,
        end_time,
        kind,
    })
}

fn parse_fulfilled(d: &Map<String, Value>) -> Result<Fulfilled, EventError> {
    let arn_text = req_str(d, "gameSessionArn", &df("gameSessionArn"))?;
    let game_session_arn = GameSessionArn::parse(arn_text).map_err(|e| e.within("detail"))?;

    let ip_address = req_str(d, "ipAddress", &df("ipAddress"))?;
    if ip_address.parse::<IpAddr>().is_err() {
        return Err(EventError::invalid(
            df("ipAddress"),
            format!("must be an IPv4 or IPv6 address, got {}", quote(ip_address)),
        ));
    }

    let dns_name = opt_str(d, "dnsName", &df("dnsName"))?.unwrap_or_default();
    if dns_name
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(EventError::invalid(
            df("dnsName"),
            "must not contain spaces or control characters",
        ));
    }

    let port = parse_port(d.get("port"))?;

    let region = match opt_str(d, "gameSessionRegion", &df("gameSessionRegion"))? {
        Some(r) => {
            Region::parse(r).map_err(|e| FieldError::new(df("gameSessionRegion"), e.problem))?
        }
        None => Region::parse(game_session_arn.region()).map_err(|e| {
            FieldError::new(
                df("gameSessionArn"),
                format!("region in the ARN: {}", e.problem),
            )
        })?,
    };

    let placed_player_sessions = match d.get("placedPlayerSessions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                parse_player_session(&format!("detail.placedPlayerSessions[{i}]"), item)
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(wrong_type(df("placedPlayerSessions"), "an array", other)),
    };

    Ok(Fulfilled {
        game_session_arn,
        ip_address: ip_address.to_owned(),
        dns_name: dns_name.to_owned(),
        port,
        region,
        placed_player_sessions,
    })
}

/// `detail.port`: a string of decimal digits (GameLift's form) or a JSON integer, 1–65535.
fn parse_port(v: Option<&Value>) -> Result<u16, EventError> {
    const FIELD: &str = "detail.port";
    let n: Option<u64> = match v {
        None => return Err(EventError::missing(FIELD)),
        Some(Value::String(s)) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                s.parse().ok()
            }
        }
        Some(Value::Number(n)) => n.as_u64(),
        Some(other) => return Err(wrong_type(FIELD.into(), "a port number as a string", other)),
    };
    match n.and_then(|n| u16::try_from(n).ok()).filter(|&p| p != 0) {
        Some(p) => Ok(p),
        None => {
            let got = match v {
                Some(Value::String(s)) => quote(s),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            Err(EventError::invalid(
                FIELD,
                format!("must be a port number 1–65535, got {got}"),
            ))
        }
    }
}

fn parse_player_session(path: &str, item: &Value) -> Result<PlayerSession, EventError> {
    let Value::Object(obj) = item else {
        return Err(wrong_type(path.to_owned(), "an object", item));
    };
    let player_id = req_str(obj, "playerId", &format!("{path}.playerId"))?;
    let player_id = PlayerId::parse(player_id).map_err(|e| e.within(path))?;
    let field = format!("{path}.playerSessionId");
    let player_session_id = req_str(obj, "playerSessionId", &field)?;
    crate::ids::check_len(&field, player_session_id, 1, PLAYER_SESSION_ID_MAX)?;
    if player_session_id
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(EventError::invalid(
            field,
            "must not contain spaces or control characters",
        ));
    }
    Ok(PlayerSession {
        player_id,
        player_session_id: player_session_id.to_owned(),
    })
}

/// A required string: absent → missing; `null` or another type → invalid.
fn req_str<'a>(obj: &'a Map<String, Value>, key: &str, field: &str) -> Result<&'a str, EventError> {
    match obj.get(key) {
        None => Err(EventError::missing(field)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type(field.to_owned(), "a string", other)),
    }
}

/// An optional string: absent or `null` → `None`; another type → invalid.
fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<&'a str>, EventError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(field.to_owned(), "a string", other)),
    }
}

/// An optional RFC 3339 date-time: absent or `null` → `None`.
fn opt_time(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Timestamp>, EventError> {
    match opt_str(obj, key, field)? {
        None => Ok(None),
        Some(s) => Timestamp::parse_rfc3339(field, s)
            .map(Some)
            .map_err(EventError::from),
    }
}

fn wrong_type(field: String, expected: &str, got: &Value) -> EventError {
    EventError::invalid(field, format!("must be {expected}, got {}", json_kind(got)))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Input text for an error message: quoted, and cut at [`QUOTE_MAX`] characters.
fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

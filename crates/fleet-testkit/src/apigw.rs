//! API Gateway HTTP API (payload 2.0) events built as JSON and turned into the request the Lambda
//! runtime hands a handler (`lambda_http`'s own conversion), and the handlers' answers read back.

use std::collections::BTreeMap;

use base64::Engine as _;
use fleet_core::ports::{GameLift, SessionStore};
use fleet_functions::deps::{Deps, Ports};
use lambda_http::{Body, Request, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::principals::{ACCOUNT, AUDIENCE, ISSUER};

/// What a client percent-encodes in a path segment: everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment as a client would (an ARN's `/` and `:` included).
pub fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// Who an event is from: the authorizer context API Gateway adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// No authorizer context at all.
    Nobody,
    /// A JWT with this `sub`.
    Player(String),
    /// An IAM principal with this `userArn`.
    Iam(String),
    /// An authorizer context given as JSON.
    Raw(Value),
}

impl Who {
    /// A player.
    pub fn player(sub: &str) -> Self {
        Self::Player(sub.to_owned())
    }

    /// An IAM principal.
    pub fn iam(arn: &str) -> Self {
        Self::Iam(arn.to_owned())
    }

    fn authorizer(&self) -> Value {
        match self {
            Self::Nobody => Value::Null,
            Self::Player(sub) => json!({"jwt": {"claims": {
                "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": "1795600800", "exp": "1795604400"},
                "scopes": null}}),
            Self::Iam(arn) => json!({"iam": {
                "accessKey": "ASIAQ3EGRVKT5EXAMPLE", "accountId": ACCOUNT, "callerId": "AROAEXAMPLE:session",
                "cognitoIdentity": null, "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:session"}}),
            Self::Raw(v) => v.clone(),
        }
    }
}

/// An API Gateway HTTP API v2 event, built as JSON.
#[derive(Debug, Clone)]
pub struct Ev {
    method: String,
    path: String,
    query: String,
    body: Option<String>,
    base64: bool,
    headers: BTreeMap<String, String>,
    who: Who,
    stage: String,
}

impl Ev {
    /// `method path` from nobody, no query, no body, on the `$default` stage.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: None,
            base64: false,
            headers: BTreeMap::new(),
            who: Who::Nobody,
            stage: "$default".into(),
        }
    }

    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: &str, body: impl Into<String>) -> Self {
        Self::new("POST", path).body(body)
    }

    /// `DELETE path`.
    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }

    /// From whom.
    #[must_use]
    pub fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }

    /// The raw query string (already encoded).
    #[must_use]
    pub fn query(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }

    /// The body.
    #[must_use]
    pub fn body(mut self, b: impl Into<String>) -> Self {
        self.body = Some(b.into());
        self
    }

    /// A base64-encoded body (API Gateway does this for non-text content types).
    #[must_use]
    pub fn base64_body(mut self, b: &[u8]) -> Self {
        self.body = Some(base64::engine::general_purpose::STANDARD.encode(b));
        self.base64 = true;
        self
    }

    /// A header.
    #[must_use]
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.insert(k.to_ascii_lowercase(), v.into());
        self
    }

    /// A named stage (its name prefixes `rawPath`).
    #[must_use]
    pub fn stage(mut self, stage: &str) -> Self {
        self.path = format!("/{stage}{}", self.path);
        self.stage = stage.into();
        self
    }

    /// The event JSON, shaped like API Gateway's.
    pub fn to_json(&self) -> Value {
        let mut headers = json!({"host": "k7x2m9q4ab.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"});
        if self.body.is_some() {
            headers["content-type"] = json!("application/json");
        }
        for (k, v) in &self.headers {
            headers[k] = json!(v);
        }
        let route_key = format!("{} {}", self.method, self.path);
        let mut ctx = json!({
            "accountId": ACCOUNT, "apiId": "k7x2m9q4ab", "domainName": "k7x2m9q4ab.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "k7x2m9q4ab", "requestId": "test-request", "routeKey": route_key, "stage": self.stage,
            "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_600_800_000_i64,
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.24", "userAgent": "test"},
        });
        let authorizer = self.who.authorizer();
        if !authorizer.is_null() {
            ctx["authorizer"] = authorizer;
        }
        let mut e = json!({
            "version": "2.0", "routeKey": route_key, "rawPath": self.path, "rawQueryString": self.query,
            "headers": headers, "requestContext": ctx, "isBase64Encoded": self.base64,
        });
        if let Some(b) = &self.body {
            e["body"] = json!(b);
        }
        e
    }

    /// The request as the Lambda runtime hands it to the handler.
    pub fn request(&self) -> Request {
        to_request(&self.to_json().to_string())
    }
}

impl From<Ev> for Request {
    fn from(ev: Ev) -> Self {
        ev.request()
    }
}

/// Converts event JSON to a request exactly as `lambda_http` does (`LambdaRequest` → `http::Request`).
///
/// # Panics
/// When `json` is not an HTTP API v2 event.
pub fn to_request(json: &str) -> Request {
    let lambda: lambda_http::request::LambdaRequest =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("an API Gateway event: {e}"));
    assert!(
        matches!(lambda, lambda_http::request::LambdaRequest::ApiGatewayV2(_)),
        "an HTTP API v2 event"
    );
    Request::from(lambda)
}

/// An answer: status, JSON body (`Null` when empty or not JSON) and the headers tests look at.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON.
    pub body: Value,
    /// Whether a non-empty body failed to parse as JSON.
    pub not_json: bool,
    /// The content-type header.
    pub content_type: Option<String>,
    /// The retry-after header.
    pub retry_after: Option<String>,
}

impl Answer {
    /// Reads a response.
    pub fn of(r: Response<Body>) -> Self {
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (content_type, retry_after) = (header("content-type"), header("retry-after"));
        let bytes: &[u8] = r.body();
        let parsed = if bytes.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_slice(bytes)
        };
        Self {
            status: r.status().as_u16(),
            not_json: parsed.is_err(),
            body: parsed.unwrap_or(Value::Null),
            content_type,
            retry_after,
        }
    }

    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The error field of an error answer.
    pub fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    /// Asserts an error answer: status, code, JSON content type and the `{"error":{…}}` shape.
    ///
    /// # Panics
    /// When the answer is not that error.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "answer: {}",
            self.body
        );
        assert!(!self.not_json, "a JSON body");
        assert_eq!(self.content_type.as_deref(), Some("application/json"));
        let e = self.body["error"].as_object().expect("an error object");
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a message: {}",
            self.body
        );
        assert!(
            e.keys()
                .all(|k| ["code", "message", "field", "requestId"].contains(&k.as_str())),
            "only code, message, field, requestId"
        );
        if status >= 500 {
            assert!(
                e.get("requestId")
                    .and_then(|v| v.as_str())
                    .is_some_and(|id| id.len() == 36),
                "a 5xx carries the request id of its log line: {}",
                self.body
            );
        }
        assert_eq!(
            self.body.as_object().map(serde_json::Map::len),
            Some(1),
            "only `error` at the top"
        );
    }
}

/// Calls fleet-api with an event or a request.
pub async fn api<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    d: &Deps<P>,
    req: impl Into<Request>,
) -> Answer {
    Answer::of(fleet_functions::api::handle(d, req.into()).await)
}

/// Calls status-rpc with an event or a request.
pub async fn rpc<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    d: &Deps<P>,
    req: impl Into<Request>,
) -> Answer {
    Answer::of(fleet_functions::rpc::handle(d, req.into()).await)
}

/// A create body: a cap of `max` players and these players.
pub fn create_body(max: u32, players: &[&str]) -> String {
    json!({"maxPlayers": max, "players": player_list(players)}).to_string()
}

/// A join body for these players.
pub fn join_body(players: &[&str]) -> String {
    json!({"players": player_list(players)}).to_string()
}

fn player_list(players: &[&str]) -> Vec<Value> {
    players.iter().map(|p| json!({"playerId": p})).collect()
}

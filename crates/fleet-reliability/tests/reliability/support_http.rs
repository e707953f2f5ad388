//! Handler set-up for the rows that go through the real handlers: the configuration (one service
//! role, a game-server role per fleet, a JWT issuer), API Gateway HTTP API v2 events built as JSON and
//! converted exactly as the Lambda runtime does, and answers read back as JSON.

#![allow(dead_code)]

use std::collections::BTreeMap;

use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, MemoryStore, SequentialIds};
use fleet_core::ports::{GameLift, SessionStore};
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet, Ports};
use fleet_reliability::fixtures::{FLEET, T0};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// The account of every principal.
pub const ACCOUNT: &str = "123456789012";
/// The backend service (its STS session ARN; the role is configured).
pub const SERVICE: &str = "arn:aws:sts::123456789012:assumed-role/fleetlift-backend/matchmaker-1";
/// A game server of [`FLEET`].
pub const GS_OWN: &str =
    "arn:aws:sts::123456789012:assumed-role/fleetlift-game-server/i-0a1b2c3d4e5f60718";
/// A game server of another fleet.
pub const GS_OTHER: &str =
    "arn:aws:sts::123456789012:assumed-role/other-game-server/i-0f0e0d0c0b0a09080";
/// An IAM principal configured as nothing.
pub const STRANGER: &str = "arn:aws:iam::123456789012:user/someone";
/// The other fleet.
pub const OTHER_FLEET: &str = "fleet-99999999-8888-4777-8666-555555555555";
/// The JWT issuer, audience and HS256 secret the authorizer is configured with.
pub const ISSUER: &str = "https://auth.example.com/";
/// The JWT audience.
pub const AUDIENCE: &str = "fleetlift-players";
/// The HS256 secret.
pub const JWT_SECRET: &str = "reliability-hs256-secret-0123456789";

/// The configuration of every handler row.
pub fn config() -> Config {
    let fleets = json!({
        "arn:aws:iam::123456789012:role/fleetlift-game-server": [FLEET],
        "arn:aws:iam::123456789012:role/other-game-server": [OTHER_FLEET],
    })
    .to_string();
    let vars: BTreeMap<&str, String> = BTreeMap::from([
        ("FLEETLIFT_TABLE", "fleetlift".to_owned()),
        ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef0123".to_owned()),
        ("FLEETLIFT_QUEUE_NAME", "fleetlift-queue".to_owned()),
        (
            "FLEETLIFT_SERVICE_PRINCIPALS",
            "arn:aws:iam::123456789012:role/fleetlift-backend".to_owned(),
        ),
        ("FLEETLIFT_GAME_SERVER_FLEETS", fleets),
        ("FLEETLIFT_JWT_ISSUER", ISSUER.to_owned()),
        ("FLEETLIFT_JWT_AUDIENCE", AUDIENCE.to_owned()),
        ("FLEETLIFT_JWT_HS256_SECRET", JWT_SECRET.to_owned()),
    ]);
    Config::from_lookup(|k| vars.get(k).cloned()).expect("the reliability configuration is valid")
}

/// Deps on a shared in-memory store and any GameLift.
pub type MemDeps<G> =
    Deps<PortSet<Arc<MemoryStore>, G, MemoryNotifier, ManualClock, SequentialIds>>;

/// Fresh fakes at [`T0`] around `gamelift`, sharing `store`.
pub fn deps_with<G: GameLift>(store: Arc<MemoryStore>, gamelift: G) -> MemDeps<G> {
    Deps {
        store,
        gamelift,
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(T0),
        ids: SequentialIds::default(),
        config: config(),
        cache: Default::default(),
    }
}

/// Fresh fakes at [`T0`].
pub fn deps() -> MemDeps<FakeGameLift> {
    deps_with(Arc::new(MemoryStore::new()), FakeGameLift::new())
}

/// Who an event is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// No authorizer context.
    Nobody,
    /// A JWT with this `sub`.
    Player(String),
    /// An IAM principal.
    Iam(String),
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
}

/// Percent-encodes a path segment.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An API Gateway HTTP API v2 event.
#[derive(Debug, Clone)]
pub struct Ev {
    method: String,
    path: String,
    query: String,
    body: Option<String>,
    headers: BTreeMap<String, String>,
    who: Who,
}

impl Ev {
    /// `method path` from nobody.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: String::new(),
            body: None,
            headers: BTreeMap::new(),
            who: Who::Nobody,
        }
    }
    /// `GET path`.
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }
    /// `POST path` with a body.
    pub fn post(path: &str, body: impl Into<String>) -> Self {
        Self::new("POST", path).body(body)
    }
    /// `DELETE path`.
    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }
    /// From whom.
    pub fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }
    /// The raw query string.
    pub fn query(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }
    /// The body.
    pub fn body(mut self, b: impl Into<String>) -> Self {
        self.body = Some(b.into());
        self
    }
    /// A header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.insert(k.to_ascii_lowercase(), v.into());
        self
    }

    /// The event JSON, shaped like API Gateway's.
    pub fn to_json(&self) -> Value {
        let authorizer = match &self.who {
            Who::Nobody => Value::Null,
            Who::Player(sub) => json!({"jwt": {"claims": {
                "sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": "1795600800", "exp": "1795604400"}, "scopes": null}}),
            Who::Iam(arn) => json!({"iam": {
                "accessKey": "ASIAQ3EGRVKT5EXAMPLE", "accountId": ACCOUNT, "callerId": "AROAEXAMPLE:session",
                "cognitoIdentity": null, "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:session"}}),
        };
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
            "domainPrefix": "k7x2m9q4ab", "requestId": "rel-request", "routeKey": route_key, "stage": "$default",
            "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_600_800_000_i64,
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.24", "userAgent": "rel"},
        });
        if !authorizer.is_null() {
            ctx["authorizer"] = authorizer;
        }
        let mut e = json!({
            "version": "2.0", "routeKey": route_key, "rawPath": self.path, "rawQueryString": self.query,
            "headers": headers, "requestContext": ctx, "isBase64Encoded": false,
        });
        if let Some(b) = &self.body {
            e["body"] = json!(b);
        }
        e
    }

    /// The request as the Lambda runtime hands it over.
    pub fn request(&self) -> Request {
        let lambda: lambda_http::request::LambdaRequest =
            serde_json::from_str(&self.to_json().to_string()).expect("an API Gateway event");
        Request::from(lambda)
    }
}

/// An answer: status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
    /// Whether a non-empty body failed to parse as JSON.
    pub not_json: bool,
}

impl Answer {
    /// Reads a response.
    pub fn of(r: Response<Body>) -> Self {
        let status = r.status().as_u16();
        let bytes: &[u8] = r.body();
        let parsed = if bytes.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_slice(bytes)
        };
        let not_json = parsed.is_err();
        Self {
            status,
            body: parsed.unwrap_or(Value::Null),
            not_json,
        }
    }

    /// The error code.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Calls fleet-api.
pub async fn api<P: Ports<Store: SessionStore, GameLift: GameLift>>(d: &Deps<P>, ev: Ev) -> Answer {
    Answer::of(fleet_functions::api::handle(d, ev.request()).await)
}

/// Calls status-rpc.
pub async fn rpc<P: Ports<Store: SessionStore, GameLift: GameLift>>(d: &Deps<P>, ev: Ev) -> Answer {
    Answer::of(fleet_functions::rpc::handle(d, ev.request()).await)
}

/// A create body.
pub fn create_body(max: u32, players: &[&str]) -> String {
    let players: Vec<Value> = players.iter().map(|p| json!({"playerId": p})).collect();
    json!({"maxPlayers": max, "players": players}).to_string()
}

/// A join body.
pub fn join_body(players: &[&str]) -> String {
    let players: Vec<Value> = players.iter().map(|p| json!({"playerId": p})).collect();
    json!({"players": players}).to_string()
}

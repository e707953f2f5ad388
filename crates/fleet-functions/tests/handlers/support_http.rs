//! Shared set-up of the HTTP handlers' tests (fleet-api, status-rpc): fakes wired into `Deps` with a
//! configuration naming one service and two game servers, API Gateway HTTP API v2 events built as
//! JSON and converted exactly as the Lambda runtime does (`lambda_http::request::from_str`), the
//! sample events of `events/api/`, and answers read back as JSON.

#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use fleet_core::fakes::{
    FakeGameLift, FaultyStore, ManualClock, MemoryNotifier, MemoryStore, SequentialIds, StoreCall,
    StoreFaults,
};
use fleet_core::ids::{FleetId, GameSessionArn, PlacementId, PlayerId, Region};
use fleet_core::input::GameProperties;
use fleet_core::input::MaxPlayers;
use fleet_core::model::{Placement, PlacementPlayer, PlacementStatus, Session, SessionStatus};
use fleet_core::ports::{SessionStore, StoreError};
use fleet_core::time::Timestamp;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// 2026-11-25T10:00:00Z, when the sample events happened.
pub const T0: Timestamp = Timestamp::from_millis(1_795_600_800_000);

/// The account of every principal.
pub const ACCOUNT: &str = "123456789012";
/// A player's `sub` (the one in the samples).
pub const PLAYER_A: &str = "player-7f3c2a";
/// Another player.
pub const PLAYER_B: &str = "player-b";
/// The backend service, as its STS session ARN arrives (configured as its role).
pub const SERVICE: &str = "arn:aws:sts::123456789012:assumed-role/fleetlift-backend/matchmaker-1";
/// A game server of fleet F1 (the samples' game server).
pub const GS_F1: &str =
    "arn:aws:sts::123456789012:assumed-role/fleetlift-game-server/i-0a1b2c3d4e5f60718";
/// A game server of fleet F2.
pub const GS_F2: &str =
    "arn:aws:sts::123456789012:assumed-role/other-game-server/i-0f0e0d0c0b0a09080";
/// An IAM principal configured as nothing.
pub const STRANGER: &str = "arn:aws:iam::123456789012:user/someone";
/// Fleet F1 (the samples' fleet).
pub const F1: &str = "fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31";
/// Fleet F2.
pub const F2: &str = "fleet-99999999-8888-4777-8666-555555555555";
/// The samples' session ARN (fleet F1).
pub const ARN_1: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31/gsess-0e4b7d2c-91a3-4f6e-b8d5-3c7a1e9f2b64";
/// A session of fleet F2.
pub const ARN_2: &str =
    "arn:aws:gamelift:us-west-2::gamesession/fleet-99999999-8888-4777-8666-555555555555/gsess-2";
/// The samples' placement id.
pub const SAMPLE_PLACEMENT: &str = "9b2f6c1e-4a7d-4f0e-8c3b-2e5d7a9f1b04";

/// The deps of a test: every port faked.
pub type TestDeps =
    Deps<PortSet<MemoryStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

/// The configuration the tests run with: the service role, and one game-server role per fleet.
pub fn config() -> Config {
    let fleets = json!({
        "arn:aws:iam::123456789012:role/fleetlift-game-server": [F1],
        "arn:aws:iam::123456789012:role/other-game-server": [F2],
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
    ]);
    Config::from_lookup(|k| vars.get(k).cloned()).expect("the test configuration is valid")
}

/// Fresh fakes at [`T0`].
pub fn deps() -> TestDeps {
    Deps {
        store: MemoryStore::new(),
        gamelift: FakeGameLift::new(),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(T0),
        ids: SequentialIds::default(),
        config: config(),
        cache: Default::default(),
    }
}

/// An ACTIVE session as a fulfilled placement writes it.
pub fn session(arn: &str, max_players: u32) -> Session {
    let arn = GameSessionArn::parse(arn).expect("a valid test ARN");
    Session {
        id: arn.session_id(),
        region: Region::parse(arn.region()).expect("region"),
        fleet_id: FleetId::parse(arn.fleet_id()).expect("fleet"),
        arn,
        status: SessionStatus::Active,
        name: Some("lobby".into()),
        data: None,
        properties: GameProperties::parse(BTreeMap::from([(
            "mode".to_owned(),
            "casual".to_owned(),
        )]))
        .expect("props"),
        player_count: 0,
        max_players,
        reserved_seats: 0,
        open_slots: max_players,
        joinable: true,
        protected: false,
        ip_address: "198.51.100.7".into(),
        dns_name: "ec2-198-51-100-7.compute-1.amazonaws.com".into(),
        port: 7777,
        created_at: T0,
        updated_at: T0,
    }
}

/// Seeds a session in the store and in GameLift (ACTIVE, with its cap).
pub fn seed(d: &TestDeps, arn: &str, max_players: u32) -> Session {
    let s = session(arn, max_players);
    d.store.seed_sessions(std::slice::from_ref(&s));
    d.gamelift.add_session(&s.arn, "ACTIVE", max_players);
    s
}

/// The short id of an ARN.
pub fn short_id(arn: &str) -> String {
    GameSessionArn::parse(arn)
        .expect("ARN")
        .session_id()
        .into_string()
}

/// Percent-encodes a path segment (everything but unreserved characters).
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

/// Who an event is from.
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
    /// `method path` from nobody, no query, no body.
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
    pub fn by(mut self, who: Who) -> Self {
        self.who = who;
        self
    }
    /// The raw query string (already encoded).
    pub fn query(mut self, q: &str) -> Self {
        self.query = q.into();
        self
    }
    /// The body.
    pub fn body(mut self, b: impl Into<String>) -> Self {
        self.body = Some(b.into());
        self
    }
    /// A base64-encoded body (API Gateway does this for non-text content types).
    pub fn base64_body(mut self, b: &[u8]) -> Self {
        self.body = Some(base64(b));
        self.base64 = true;
        self
    }
    /// A header.
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.insert(k.to_ascii_lowercase(), v.into());
        self
    }
    /// A named stage (its name prefixes `rawPath`).
    pub fn stage(mut self, stage: &str) -> Self {
        self.path = format!("/{stage}{}", self.path);
        self.stage = stage.into();
        self
    }

    /// The event JSON, shaped like API Gateway's.
    pub fn to_json(&self) -> Value {
        let authorizer = match &self.who {
            Who::Nobody => Value::Null,
            Who::Player(sub) => json!({"jwt": {"claims": {
                "sub": sub, "iss": "https://auth.example.com/", "aud": "fleetlift-players",
                "iat": "1795600800", "exp": "1795604400"}, "scopes": null}}),
            Who::Iam(arn) => json!({"iam": {
                "accessKey": "ASIAQ3EGRVKT5EXAMPLE", "accountId": ACCOUNT, "callerId": "AROAEXAMPLE:session",
                "cognitoIdentity": null, "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:session"}}),
            Who::Raw(v) => v.clone(),
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
            "domainPrefix": "k7x2m9q4ab", "requestId": "test-request", "routeKey": route_key, "stage": self.stage,
            "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": 1_795_600_800_000_i64,
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.24", "userAgent": "test"},
        });
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

/// Converts event JSON to a request exactly as `lambda_http` does (`LambdaRequest` → `http::Request`).
pub fn to_request(json: &str) -> Request {
    let lambda: lambda_http::request::LambdaRequest =
        serde_json::from_str(json).expect("an API Gateway event");
    assert!(
        matches!(lambda, lambda_http::request::LambdaRequest::ApiGatewayV2(_)),
        "an HTTP API v2 event"
    );
    Request::from(lambda)
}

/// A sample event's text (`events/api/<name>`).
pub fn sample_text(name: &str) -> String {
    let path = format!("{}/../../events/api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A sample event as the handler receives it.
pub fn sample(name: &str) -> Request {
    to_request(&sample_text(name))
}

/// A sample event's JSON, to vary it.
pub fn sample_json(name: &str) -> Value {
    serde_json::from_str(&sample_text(name)).expect("sample JSON")
}

/// An answer: status and JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body as JSON.
    pub body: Value,
    /// The content-type header.
    pub content_type: Option<String>,
    /// The retry-after header.
    pub retry_after: Option<String>,
}

impl Answer {
    /// Reads a response.
    pub fn of(r: Response<Body>) -> Self {
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes: &[u8] = r.body();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(bytes).expect("a JSON body")
        };
        Self {
            status,
            body,
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
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "answer: {}",
            self.body
        );
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
            self.body.as_object().map(|o| o.len()),
            Some(1),
            "only `error` at the top"
        );
    }
}

/// Calls fleet-api.
pub async fn api<S: SessionStore>(
    d: &Deps<PortSet<S, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>,
    req: Request,
) -> Answer {
    Answer::of(fleet_functions::api::handle(d, req).await)
}

/// Calls status-rpc.
pub async fn rpc<S: SessionStore>(
    d: &Deps<PortSet<S, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>,
    req: Request,
) -> Answer {
    Answer::of(fleet_functions::rpc::handle(d, req).await)
}

/// Fresh fakes around a [`FailingStore`].
pub fn failing_deps()
-> Deps<PortSet<FailingStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>> {
    let d = deps();
    Deps {
        store: FailingStore::default(),
        gamelift: d.gamelift,
        notifier: d.notifier,
        clock: d.clock,
        ids: d.ids,
        config: d.config,
        cache: Default::default(),
    }
}

/// A [`MemoryStore`] whose next calls fail with errors a test queues (one per call, in order), the way
/// DynamoDB fails: unavailable, throttled, or an item that cannot be read back.
pub type FailingStore = FaultyStore<MemoryStore, ScriptedFaults>;

/// The faults of a [`FailingStore`]: a queue, one entry per call in order.
#[derive(Default)]
pub struct ScriptedFaults {
    failures: Mutex<VecDeque<Option<StoreError>>>,
}

impl ScriptedFaults {
    /// Fails the next call not yet scripted with `e`.
    pub fn fail_next(&self, e: StoreError) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(Some(e));
    }

    /// Lets the next call not yet scripted through (to fail a later one).
    pub fn pass_next(&self) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(None);
    }
}

impl StoreFaults for ScriptedFaults {
    fn fault(&self, _call: &StoreCall<'_>) -> Option<StoreError> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
            .flatten()
    }
}

/// A create body with `max` players' cap and these players.
pub fn create_body(max: u32, players: &[&str]) -> String {
    let players: Vec<Value> = players.iter().map(|p| json!({"playerId": p})).collect();
    json!({"maxPlayers": max, "players": players}).to_string()
}

/// A join body for these players.
pub fn join_body(players: &[&str]) -> String {
    let players: Vec<Value> = players.iter().map(|p| json!({"playerId": p})).collect();
    json!({"players": players}).to_string()
}

/// Standard base64 with padding (no extra dev-dependency for one helper).
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A PENDING placement as a create stores it: requested by `requester`, naming `players`, cap 8, started
/// at [`T0`] with the default 600 s queue timeout + 60 s sweep margin as its deadline.
pub fn placement(id: &str, requester: &str, players: &[&str]) -> Placement {
    Placement {
        placement_id: PlacementId::parse(id).expect("placement id"),
        status: PlacementStatus::Pending,
        requester: requester.into(),
        players: players
            .iter()
            .map(|p| PlacementPlayer {
                player_id: PlayerId::parse(p).expect("player id"),
                player_data: None,
            })
            .collect(),
        max_players: MaxPlayers::parse(8).expect("cap"),
        name: None,
        data: None,
        properties: GameProperties::default(),
        latencies: Vec::new(),
        regions: Vec::new(),
        session_id: None,
        player_sessions: Vec::new(),
        reason: None,
        created_at: T0,
        updated_at: T0,
        deadline: T0.plus_secs(660),
    }
}

//! The harness: a whole stack per test, in-process on random ports, on the DynamoDB Local that
//! `scripts/test.sh` (or `scripts/with-dynamodb.sh`) started, with a fresh table; and real clients only —
//! reqwest for HTTP, tokio-tungstenite for WebSocket, AWS's aws-sigv4 for signatures, jsonwebtoken for
//! player tokens.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use fleet_local::stack::{self, Stack, StackOptions};
use futures::{SinkExt as _, StreamExt as _};
use gamelift_sim::Model;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, Message};

pub const SERVICE: (&str, &str) = ("AKIALOCALSERVICE0001", "local-service-secret");
pub const GAME_SERVER: (&str, &str) = ("AKIALOCALGAMESRV0001", "local-gameserver-secret");

/// The local default model with fast placements and no throttling surprises in tests.
pub fn fast_model() -> Model {
    let mut m = stack::local_model();
    m.placement_delay_ms = 50;
    m
}

/// A started stack and an HTTP client.
pub struct TestStack {
    pub stack: Stack,
    pub http: reqwest::Client,
}

pub async fn start() -> TestStack {
    start_with(fast_model()).await
}

pub async fn start_with(model: Model) -> TestStack {
    let url = std::env::var("FLEETLIFT_TEST_DYNAMODB").unwrap_or_else(|_| {
        panic!("FLEETLIFT_TEST_DYNAMODB is not set: run these tests with scripts/test.sh or scripts/with-dynamodb.sh, which start DynamoDB Local")
    });
    let mut options = StackOptions::ephemeral();
    options.dynamodb_endpoint = Some(url);
    options.table = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    options.sim_model = Some(model);
    options.sweep_interval = Duration::from_millis(500);
    options.queue.visibility_timeout = Duration::from_millis(300);
    options.queue.wait = Duration::from_millis(20);
    options.streams.poll_interval = Duration::from_millis(50);
    let stack = stack::start(options).await.expect("the stack starts");
    TestStack {
        stack,
        http: reqwest::Client::new(),
    }
}

/// A started stack with one session placed by the service (`body` is the create's); returns both.
pub async fn start_with_session(body: Value) -> (TestStack, Value) {
    let t = start().await;
    let session = t.fulfilled_session(body).await;
    (t, session)
}

/// A player token, signed with the local dev key.
pub fn token(sub: &str) -> String {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = json!({"sub": sub, "iss": "fleetlift-local", "aud": "fleetlift", "iat": now, "exp": now + 3600});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(fleet_local::local::DEV_JWT_SECRET.as_bytes()),
    )
    .expect("sign a token")
}

/// Signs a request as an AWS SDK would for `execute-api` in us-east-1.
pub fn sigv4(req: reqwest::Request, key: (&str, &str)) -> reqwest::Request {
    let identity = Credentials::new(key.0, key.1, None, None, "e2e").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("execute-api")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let body = req
        .body()
        .and_then(|b| b.as_bytes())
        .unwrap_or_default()
        .to_vec();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let signable = SignableRequest::new(
        req.method().as_str(),
        req.url().as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = req;
    for (k, v) in instructions.headers() {
        req.headers_mut().insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            reqwest::header::HeaderValue::from_str(v).expect("header value"),
        );
    }
    req
}

/// Who makes a call.
#[derive(Clone, Copy)]
pub enum As<'a> {
    Player(&'a str),
    Service,
    GameServer,
    /// No credentials at all: the console's and health's routes take none.
    Anonymous,
}

/// An answer: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl TestStack {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.http_url())
    }

    pub async fn call(
        &self,
        who: As<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut builder = self.http.request(method, self.url(path));
        if let Some(b) = &body {
            builder = builder
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        if let As::Player(sub) = who {
            builder = builder.bearer_auth(token(sub));
        }
        let mut req = builder.build().expect("request");
        match who {
            As::Service => req = sigv4(req, SERVICE),
            As::GameServer => req = sigv4(req, GAME_SERVER),
            As::Player(_) | As::Anonymous => {}
        }
        let res = self.http.execute(req).await.expect("the gateway answers");
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    pub async fn get(&self, who: As<'_>, path: &str) -> Answer {
        self.call(who, reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, who: As<'_>, path: &str, body: Value) -> Answer {
        self.call(who, reqwest::Method::POST, path, Some(body))
            .await
    }

    pub async fn delete(&self, who: As<'_>, path: &str) -> Answer {
        self.call(who, reqwest::Method::DELETE, path, None).await
    }

    /// `POST /v1/sessions/{id}/{action}` by `player` about a seat of their own (`join`, `connection`).
    pub async fn seat(&self, player: &str, id: &str, action: &str) -> Answer {
        self.post(
            As::Player(player),
            &format!("/v1/sessions/{id}/{action}"),
            json!({"players": [{"playerId": player}]}),
        )
        .await
    }

    /// `player` joins session `id` (an id or an ARN, percent-encoded or raw).
    pub async fn join(&self, id: &str, player: &str) -> Answer {
        self.seat(player, id, "join").await
    }

    /// `player` asks for a two-seat session for themselves; returns the placement id.
    pub async fn create_for(&self, player: &str) -> String {
        self.create(As::Player(player), two_seats_for(player)).await
    }

    /// `create_for`, then polled until it is no longer PENDING: the placement id and the placement.
    pub async fn placed_for(&self, player: &str) -> (String, Value) {
        self.create_and_wait(As::Player(player), two_seats_for(player))
            .await
    }

    /// Creates a session and polls until it is no longer PENDING: the placement id and the placement.
    pub async fn create_and_wait(&self, who: As<'_>, body: Value) -> (String, Value) {
        let id = self.create(who, body).await;
        let placement = self.wait_placement(who, &id).await;
        (id, placement)
    }

    /// Creates a session; returns the placement id.
    pub async fn create(&self, who: As<'_>, body: Value) -> String {
        let a = self.post(who, "/v1/sessions", body).await;
        assert_eq!(a.status, 202, "create: {:?}", a.body);
        a.body["placementId"]
            .as_str()
            .expect("placementId")
            .to_owned()
    }

    /// Polls `GET /v1/placements/{id}` until it is no longer PENDING.
    pub async fn wait_placement(&self, who: As<'_>, placement_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let a = self
                .get(who, &format!("/v1/placements/{placement_id}"))
                .await;
            assert_eq!(a.status, 200, "get placement: {:?}", a.body);
            if a.body["status"] != "PENDING" {
                return a.body;
            }
            assert!(
                Instant::now() < deadline,
                "placement {placement_id} still PENDING"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Creates a session as the service (no players) and waits until it is placed; returns the session.
    pub async fn fulfilled_session(&self, body: Value) -> Value {
        let (_, placement) = self.create_and_wait(As::Service, body).await;
        assert_eq!(placement["status"], "FULFILLED", "{placement}");
        placement["session"].clone()
    }

    /// Retries `check` until it holds (GSIs and the stream are asynchronous).
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for: {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The body of a create by `player` for a two-seat session with them in it.
fn two_seats_for(player: &str) -> Value {
    json!({"maxPlayers": 2, "players": [{"playerId": player}]})
}

/// A session's id, as an owned string for paths and bodies.
pub fn id_of(session: &Value) -> String {
    session["id"].as_str().expect("a session id").to_owned()
}

/// A WebSocket client of the local WebSocket API.
pub struct Ws {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    pub async fn connect(stack: &TestStack, sub: &str) -> Ws {
        Ws::connect_with(stack, &token(sub))
            .await
            .expect("WebSocket connects")
    }

    /// Connects with any bearer token, so a refused `$connect` can be looked at.
    pub async fn connect_with(stack: &TestStack, token: &str) -> Result<Ws, tungstenite::Error> {
        let url = format!("{}/?token={token}", stack.stack.ws_url());
        let (socket, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Ws { socket })
    }

    pub async fn send(&mut self, v: Value) {
        self.socket
            .send(Message::text(v.to_string()))
            .await
            .expect("send");
    }

    /// The next placement message about `placement_id` (the stack's health in the failure message).
    pub async fn placement(&mut self, t: &TestStack, placement_id: &str) -> Value {
        self.placement_where(t, placement_id, |_| true).await
    }

    /// The next placement message about `placement_id` that `wanted` accepts.
    pub async fn placement_where(
        &mut self,
        t: &TestStack,
        placement_id: &str,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let wait = async {
            while let Some(frame) = self.socket.next().await {
                if let Ok(Message::Text(t)) = frame
                    && let Ok(v) = serde_json::from_str::<Value>(t.as_str())
                    && v["placementId"] == placement_id
                    && wanted(&v)
                {
                    return v;
                }
            }
            panic!("the WebSocket closed before a message about {placement_id}");
        };
        match tokio::time::timeout(Duration::from_secs(20), wait).await {
            Ok(v) => v,
            Err(_) => panic!(
                "no push about {placement_id} within 20 s; health: {}",
                t.stack.health()
            ),
        }
    }

    pub async fn close(mut self) {
        self.socket.close(None).await.expect("close");
    }
}

/// Percent-encodes every byte but the unreserved ones (what `encodeURIComponent` and the SDKs do).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

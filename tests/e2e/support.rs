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
use tokio_tungstenite::tungstenite::Message;

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
            As::Player(_) => {}
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
        let id = self.create(As::Service, body).await;
        let placement = self.wait_placement(As::Service, &id).await;
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

/// A WebSocket client of the local WebSocket API.
pub struct Ws {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    pub async fn connect(stack: &TestStack, sub: &str) -> Ws {
        let url = format!("{}/?token={}", stack.stack.ws_url(), token(sub));
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("WebSocket connects");
        Ws { socket }
    }

    pub async fn send(&mut self, v: Value) {
        self.socket
            .send(Message::text(v.to_string()))
            .await
            .expect("send");
    }

    /// The next placement message about `placement_id` (the stack's health in the failure message).
    pub async fn placement(&mut self, t: &TestStack, placement_id: &str) -> Value {
        let wait = async {
            while let Some(frame) = self.socket.next().await {
                if let Ok(Message::Text(t)) = frame
                    && let Ok(v) = serde_json::from_str::<Value>(t.as_str())
                    && v["placementId"] == placement_id
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

//! The [`Simulator`] (state, clock, sinks) and its HTTP server ([`SimServer`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::{Clock, ManualClock, SystemClock};
use crate::engine::{Engine, OPERATIONS, Stats};
use crate::error::{ApiError, SimError};
use crate::events::{ChannelSink, EventSink};
use crate::model::{EventFaults, FaultSpec, Faults, Model};
use crate::region;
use crate::wire::{self, Doc};

/// Capacity of the channel returned by [`Simulator::events`].
pub const EVENT_CHANNEL_CAPACITY: usize = 65_536;

/// Which wire protocol a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Smithy RPC v2 CBOR (`POST /service/GameLift/operation/<Op>`).
    RpcV2Cbor,
    /// AWS JSON 1.1 (`POST /`, `X-Amz-Target: GameLift.<Op>`).
    AwsJson11,
}

struct Inner {
    engine: Mutex<Engine>,
    publish: tokio::sync::Mutex<()>,
    clock: Arc<dyn Clock>,
    sinks: RwLock<Vec<Arc<dyn EventSink>>>,
    throttling: AtomicBool,
}

/// A GameLift control-plane simulator. Cheap to clone (all clones share one state).
///
/// ```no_run
/// # async fn demo() -> Result<(), gamelift_sim::SimError> {
/// use gamelift_sim::{ManualClock, Model, Simulator};
/// let clock = ManualClock::new();
/// let sim = Simulator::builder().model(Model::default()).clock(clock.clone()).build();
/// let mut events = sim.events();
/// let server = sim.serve("127.0.0.1:0").await?;
/// // point aws-sdk-gamelift at server.endpoint(), start a placement, then:
/// sim.advance(std::time::Duration::from_secs(2)).await?;
/// let envelope = events.recv().await;
/// # drop(envelope); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

/// Builds a [`Simulator`].
pub struct SimulatorBuilder {
    model: Model,
    clock: Arc<dyn Clock>,
    sinks: Vec<Arc<dyn EventSink>>,
}

impl SimulatorBuilder {
    /// The world to simulate (default: [`Model::default`]).
    pub fn model(mut self, model: Model) -> Self {
        self.model = model;
        self
    }

    /// The clock (default: [`SystemClock`]). Pass a [`ManualClock`] for virtual time.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock, already shared.
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds an event sink (may be called several times).
    pub fn sink(mut self, sink: impl EventSink) -> Self {
        self.sinks.push(Arc::new(sink));
        self
    }

    /// Builds the simulator. The model should have been validated ([`Model::validate`]).
    pub fn build(self) -> Simulator {
        let throttling = self.model.throttling;
        Simulator {
            inner: Arc::new(Inner {
                engine: Mutex::new(Engine::new(self.model)),
                publish: tokio::sync::Mutex::new(()),
                clock: self.clock,
                sinks: RwLock::new(self.sinks),
                throttling: AtomicBool::new(throttling),
            }),
        }
    }
}

impl Simulator {
    /// Starts a builder with the default model, the system clock and no sinks.
    pub fn builder() -> SimulatorBuilder {
        SimulatorBuilder {
            model: Model::default(),
            clock: Arc::new(SystemClock),
            sinks: Vec::new(),
        }
    }

    /// A simulator of `model` on the system clock.
    pub fn new(model: Model) -> Self {
        Self::builder().model(model).build()
    }

    fn engine(&self) -> MutexGuard<'_, Engine> {
        // A panic while holding the lock leaves the state usable; keep serving.
        self.inner
            .engine
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Current simulated time (epoch milliseconds).
    pub fn now_millis(&self) -> i64 {
        self.inner.clock.now_millis()
    }

    /// Subscribes to placement events: each item is an SNS envelope serialized as JSON.
    pub fn events(&self) -> mpsc::Receiver<String> {
        let (sink, rx) = ChannelSink::new(EVENT_CHANNEL_CAPACITY);
        self.add_sink(sink);
        rx
    }

    /// Adds an event sink.
    pub fn add_sink(&self, sink: impl EventSink) {
        if let Ok(mut s) = self.inner.sinks.write() {
            s.push(Arc::new(sink));
        }
    }

    /// Runs `f` on the state at the current time, then publishes what it emitted, in order.
    async fn with_engine<R>(&self, f: impl FnOnce(&mut Engine, i64) -> R) -> R {
        let _order = self.inner.publish.lock().await;
        let (result, outbox) = {
            let mut engine = self.engine();
            let now = self.inner.clock.now_millis();
            let r = f(&mut engine, now);
            (r, engine.take_outbox())
        };
        if !outbox.is_empty() {
            let sinks: Vec<Arc<dyn EventSink>> = self
                .inner
                .sinks
                .read()
                .map(|s| s.clone())
                .unwrap_or_default();
            for envelope in &outbox {
                for sink in &sinks {
                    sink.publish(envelope).await;
                }
            }
        }
        result
    }

    /// Fires every timer that is due (placements, timeouts, reservations, delayed events) and
    /// publishes the resulting events. The server's background driver does this continuously.
    pub async fn run_due(&self) {
        self.with_engine(|e, now| e.run_due(now)).await;
    }

    /// Advances the [`ManualClock`] and runs everything that became due, publishing its events before
    /// returning. Fails if the clock is not manual.
    pub async fn advance(&self, by: Duration) -> Result<(), SimError> {
        let manual: ManualClock = self
            .inner
            .clock
            .as_manual()
            .ok_or(SimError::NotManualClock)?;
        manual.advance(by);
        self.run_due().await;
        Ok(())
    }

    /// Simulates the game server's `AcceptPlayerSession`: RESERVED → ACTIVE.
    pub async fn accept_player_session(&self, player_session_id: &str) -> Result<(), SimError> {
        self.with_engine(|e, now| e.accept_player_session(now, player_session_id))
            .await
    }

    /// Simulates the game server's `RemovePlayerSession`: RESERVED/ACTIVE → COMPLETED.
    pub async fn remove_player_session(&self, player_session_id: &str) -> Result<(), SimError> {
        self.with_engine(|e, now| e.remove_player_session(now, player_session_id))
            .await
    }

    /// Status of a player session (`RESERVED`, `ACTIVE`, `COMPLETED`, `TIMEDOUT`).
    pub fn player_session_status(&self, player_session_id: &str) -> Option<&'static str> {
        self.engine().player_session_status(player_session_id)
    }

    /// Status of a placement (`PENDING`, `FULFILLED`, `CANCELLED`, `TIMED_OUT`, `FAILED`).
    pub fn placement_status(&self, placement_id: &str) -> Option<&'static str> {
        self.engine().placement_status(placement_id)
    }

    /// Number of ACTIVE game sessions.
    pub fn active_game_sessions(&self) -> usize {
        self.engine().active_sessions()
    }

    /// Game-session slots taken now, by (fleet id, location): with the model's `slots`, what is free.
    /// Read without an API call, so a dashboard's look neither spends throttling tokens nor meets an
    /// injected fault.
    pub fn used_slots(&self) -> std::collections::BTreeMap<(String, String), u32> {
        self.engine().used_slots()
    }

    /// Whether per-API throttling is on now (the model's setting until [`Self::set_throttling`]).
    pub fn throttling(&self) -> bool {
        self.inner.throttling.load(Ordering::SeqCst)
    }

    /// Sets the fault for one operation (`"*"` for every operation without its own entry).
    pub fn set_fault(&self, operation: &str, fault: FaultSpec) {
        self.engine()
            .model
            .faults
            .operations
            .insert(operation.to_owned(), fault);
    }

    /// Replaces all faults.
    pub fn set_faults(&self, faults: Faults) {
        self.engine().model.faults = faults;
    }

    /// Removes every operation and event fault.
    pub fn clear_faults(&self) {
        self.engine().model.faults = Faults::default();
    }

    /// Sets the event-stream faults (drop, duplicate, delay, placement failure).
    pub fn set_event_faults(&self, faults: EventFaults) {
        self.engine().model.faults.events = faults;
    }

    /// Turns throttling on or off (buckets start full when turned on).
    pub fn set_throttling(&self, on: bool) {
        self.inner.throttling.store(on, Ordering::SeqCst);
        self.engine().throttle.reset();
    }

    /// Counters of what happened so far.
    pub fn stats(&self) -> Stats {
        self.engine().stats
    }

    /// A copy of the current model (with faults as currently set).
    pub fn model(&self) -> Model {
        self.engine().model.clone()
    }

    /// Runs one operation in-process, as the wire protocols do (throttling and faults included),
    /// with a JSON input and output (timestamps as epoch seconds). It sees every Region, as an operator
    /// looking at the whole simulated account would; [`Simulator::call_in`] makes it in one Region.
    pub async fn call(&self, operation: &str, input: Json) -> Result<Json, ApiError> {
        let doc = self
            .execute(operation, None, input, Protocol::AwsJson11)
            .await?;
        Ok(doc.to_json())
    }

    /// Runs one operation in-process as a request signed for `region` would run: a resource homed in
    /// another Region is NotFoundException, as on the wire.
    pub async fn call_in(
        &self,
        region: &str,
        operation: &str,
        input: Json,
    ) -> Result<Json, ApiError> {
        let doc = self
            .execute(operation, Some(region), input, Protocol::AwsJson11)
            .await?;
        Ok(doc.to_json())
    }

    async fn execute(
        &self,
        op: &str,
        region: Option<&str>,
        input: Json,
        protocol: Protocol,
    ) -> Result<Doc, ApiError> {
        if !OPERATIONS.contains(&op) {
            let status = if protocol == Protocol::RpcV2Cbor {
                404
            } else {
                400
            };
            return Err(ApiError::unknown_operation(op, status));
        }
        let throttling = self.inner.throttling.load(Ordering::SeqCst);
        let (fault, latency) = {
            let mut e = self.engine();
            let now = self.inner.clock.now_millis();
            if throttling {
                let limits = e.model.rate_limits.clone();
                if !e.throttle.allow(op, region, now, &limits) {
                    e.stats.throttled += 1;
                    return Err(ApiError::throttled());
                }
            }
            e.fault_for(op)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Some(err) = fault {
            return Err(err);
        }
        self.with_engine(|e, now| e.call(op, now, region, input))
            .await
    }

    /// Serves one wire request: the operation must exist, the body must decode, and the request must
    /// carry a SigV4 credential scope, whose Region is the one the call is made in.
    async fn handle(
        &self,
        protocol: Protocol,
        op: &str,
        headers: &HeaderMap,
        query: Option<&str>,
        body: &[u8],
    ) -> Response {
        let result = if !OPERATIONS.contains(&op) {
            let status = if protocol == Protocol::RpcV2Cbor {
                404
            } else {
                400
            };
            Err(ApiError::unknown_operation(op, status))
        } else {
            let input = match protocol {
                Protocol::RpcV2Cbor => wire::cbor_body_to_json(body),
                Protocol::AwsJson11 => wire::json_body(body),
            };
            match input.and_then(|i| Ok((i, region::request_region(headers, query)?))) {
                Ok((input, region)) => self.execute(op, Some(&region), input, protocol).await,
                Err(e) => Err(e),
            }
        };
        match &result {
            Ok(_) => tracing::debug!(op, "ok"),
            Err(e) => tracing::debug!(op, code = %e.code, message = %e.message, "error"),
        }
        respond(protocol, result)
    }

    /// The HTTP routes (both protocols plus the `/_sim` control routes), for embedding in another server.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/service/{service}/operation/{op}", post(rpc_v2))
            .route("/", post(json_11).get(health))
            .route("/_sim/health", get(health))
            .route("/_sim/stats", get(stats))
            .route("/_sim/player-sessions/{id}/accept", post(accept))
            .route("/_sim/player-sessions/{id}/remove", post(remove))
            .route("/_sim/throttling", post(throttling))
            .route("/_sim/faults", post(faults))
            .route("/_sim/advance", post(advance))
            .fallback(fallback)
            .with_state(self.clone())
    }

    /// Binds `addr` (e.g. `"127.0.0.1:0"` for a random port), serves both protocols and starts the
    /// background driver that fires timers as the clock moves.
    pub async fn serve(&self, addr: &str) -> Result<SimServer, SimError> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = self.router();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(error = %e, "gamelift-sim server stopped");
            }
        });
        let driver = self.spawn_driver();
        tracing::info!(endpoint = %format!("http://{local}"), "gamelift-sim listening");
        Ok(SimServer {
            addr: local,
            shutdown: Some(tx),
            server: Some(server),
            driver,
        })
    }

    /// Starts the task that fires due timers: it sleeps until the next one is due, looking again at
    /// least every 10 ms of real time (new placements, and a manual clock, so `ManualClock::advance`
    /// alone is enough; [`Simulator::advance`] is the synchronous variant). Sleeping to the due instant
    /// rather than ticking keeps a configured placement delay exact, which the benchmarks subtract.
    pub fn spawn_driver(&self) -> JoinHandle<()> {
        let sim = self.clone();
        tokio::spawn(async move {
            loop {
                let now = sim.now_millis();
                let due = sim.engine().next_due();
                if due.is_some_and(|d| d <= now) {
                    sim.run_due().await;
                }
                let wait = match sim.engine().next_due() {
                    Some(d) => (d - sim.now_millis()).clamp(1, 10),
                    None => 10,
                };
                tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())).await;
            }
        })
    }
}

/// A running simulator server. Dropping it stops the server and its driver.
pub struct SimServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
    driver: JoinHandle<()>,
}

impl SimServer {
    /// `http://127.0.0.1:PORT`: what to give `AWS_ENDPOINT_URL_GAMELIFT` or `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting requests and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.driver.abort();
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }

    /// Serves until the server task ends (it never does on its own; use with a signal).
    pub async fn wait(mut self) {
        if let Some(s) = self.server.take() {
            let _ = s.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.driver.abort();
    }
}

fn request_id() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
        .unwrap_or(HeaderValue::from_static("0"))
}

fn respond(protocol: Protocol, result: Result<Doc, ApiError>) -> Response {
    let (status, doc, code) = match result {
        Ok(doc) => (StatusCode::OK, doc, None),
        Err(e) => (
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            wire::error_doc(&e),
            Some(e.code),
        ),
    };
    let mut headers = HeaderMap::new();
    headers.insert("x-amzn-requestid", request_id());
    let body = match protocol {
        Protocol::RpcV2Cbor => {
            headers.insert("smithy-protocol", HeaderValue::from_static("rpc-v2-cbor"));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/cbor"),
            );
            wire::cbor_bytes(&doc.to_cbor())
        }
        Protocol::AwsJson11 => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            );
            if let Some(code) = &code
                && let Ok(v) = HeaderValue::from_str(code)
            {
                headers.insert("x-amzn-errortype", v);
            }
            doc.to_json().to_string().into_bytes()
        }
    };
    (status, headers, body).into_response()
}

async fn rpc_v2(
    State(sim): State<Simulator>,
    Path((_service, op)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.handle(Protocol::RpcV2Cbor, &op, &headers, uri.query(), &body)
        .await
}

async fn json_11(
    State(sim): State<Simulator>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(op) = target.strip_prefix("GameLift.") else {
        return respond(
            Protocol::AwsJson11,
            Err(ApiError::new(
                "UnknownOperationException",
                400,
                format!("unknown X-Amz-Target '{target}'"),
            )),
        );
    };
    sim.handle(Protocol::AwsJson11, op, &headers, uri.query(), &body)
        .await
}

async fn health() -> &'static str {
    "gamelift-sim ok\n"
}

async fn stats(State(sim): State<Simulator>) -> Response {
    axum::Json(serde_json::to_value(sim.stats()).unwrap_or(Json::Null)).into_response()
}

fn sim_error(e: SimError) -> Response {
    let status = match e {
        SimError::PlayerSessionNotFound(_) => StatusCode::NOT_FOUND,
        SimError::PlayerSessionStatus { .. } | SimError::NotManualClock => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, axum::Json(json!({"error": e.to_string()}))).into_response()
}

async fn accept(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    match sim.accept_player_session(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => sim_error(e),
    }
}

async fn remove(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    match sim.remove_player_session(&id).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => sim_error(e),
    }
}

async fn throttling(State(sim): State<Simulator>, body: Bytes) -> Response {
    match serde_json::from_slice::<Json>(&body)
        .ok()
        .and_then(|v| v.get("enabled").and_then(Json::as_bool))
    {
        Some(on) => {
            sim.set_throttling(on);
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "expected {\"enabled\": bool}"})),
        )
            .into_response(),
    }
}

async fn faults(State(sim): State<Simulator>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            sim.set_faults(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn advance(State(sim): State<Simulator>, body: Bytes) -> Response {
    let Some(ms) = serde_json::from_slice::<Json>(&body)
        .ok()
        .and_then(|v| v.get("ms").and_then(Json::as_u64))
    else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "expected {\"ms\": n}"})),
        )
            .into_response();
    };
    match sim.advance(Duration::from_millis(ms)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => sim_error(e),
    }
}

async fn fallback(headers: HeaderMap) -> Response {
    let cbor = headers.get("smithy-protocol").is_some();
    let err = ApiError::new("UnknownOperationException", 404, "no such route");
    respond(
        if cbor {
            Protocol::RpcV2Cbor
        } else {
            Protocol::AwsJson11
        },
        Err(err),
    )
}

//! The whole system on loopback: [`start`] brings up DynamoDB Local (or uses a running one), the table,
//! gamelift-sim, the handlers' dependencies built as the Lambda binaries build them, the SQS-semantics
//! queue feeding placement-events, the stream poller feeding the notifier, the sweeper on a timer, and
//! the HTTP and WebSocket gateways; [`Stack::shutdown`] stops all of it, Java included.
//!
//! How the parts connect (the deployment's wiring, each AWS service replaced by its local stand-in):
//!
//! ```text
//!  HTTP :4000 ──(API GW v2 event)──> api / rpc handlers ──> DynamoDB Local :4003 <── stream poller ──> notifier
//!  WS   :4001 ──(authorizer, $connect, subscribe)──> ws handler        │                                │
//!       ▲  @connections (PostToConnection) <──────────────────────────┼────────────────────────────────┘
//!       │                                    gamelift-sim :4002 <─────┘ (aws-sdk-gamelift)
//!       │                                          │ SNS envelopes
//!       │                                          ▼
//!       └── pushes                         SQS-semantics queue (+DLQ) ──> placement-events
//!                                                               sweeper (timer) ──> DynamoDB + gamelift-sim
//! ```
//!
//! placement-events also posts to `@connections`, right after it writes a result
//! (`placement_events::process_and_push`, as the deployed function does); the notifier on the stream then
//! finds the sent records and pushes only what that missed.
//!
//! The HTTP port also serves the console (`/console/`, [`crate::console`]): the stream poller's tap
//! feeds it the table's changes, and it reads the queue, the sweeper's runs and the simulator.
//!
//! The handlers are called through their `process`/`sweep` functions, which are the Lambda entry
//! points' bodies minus printing the EMF metrics line; the stack writes that line to the process's EMF
//! sink (`fleet-local` points it at its log file) like every handler it calls.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use fleet_aws::dynamo::{DynamoStore, create_table, local_client};
use fleet_aws::gamelift::SdkGameLift;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_core::ports::Clock as _;
use fleet_functions::config::{Config, ConfigError};
use fleet_functions::deps::{Deps, UuidIds};
use fleet_functions::observability::Metrics;
use fleet_functions::sweeper::{SweepLimits, SweepSummary};
use fleet_functions::{notifier, placement_events, sweeper};
use gamelift_sim::{Model, Simulator};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::{AbortHandle, JoinHandle};

use crate::clock::LocalClock;
use crate::console::{self, ConsoleHub, SweepLog, SweepRun};
use crate::dynamodb_local::{DynamoDbLocal, DynamoDbLocalError};
use crate::gateway::{HttpGateway, WsGateway};
use crate::local::{self, GatewayAuth, LocalDeps, LocalKey};
use crate::queue::{DeadLetter, LocalQueue, Quarantined, QueueOptions, QueueStats};
use crate::signing::SigningKey;
use crate::streams::{StreamError, StreamOptions, StreamPoller, StreamStats, local_streams_client};

/// Default HTTP API port.
pub const DEFAULT_HTTP_PORT: u16 = 4000;
/// Default WebSocket API port.
pub const DEFAULT_WS_PORT: u16 = 4001;
/// Default gamelift-sim port.
pub const DEFAULT_GAMELIFT_PORT: u16 = 4002;
/// Default DynamoDB Local port.
pub const DEFAULT_DYNAMODB_PORT: u16 = 4003;

/// The third fleet of the local default model (us-east-1, after the simulator's two).
pub const LOCAL_FLEET_3: &str = "fleet-3c3c3c3c-0000-4000-8000-000000000003";

/// The fourth fleet of the local default model: homed in eu-west-1, hosting in eu-west-1 and in a
/// remote location, eu-central-1 (its sessions there still live in eu-west-1).
pub const LOCAL_FLEET_4: &str = "fleet-4d4d4d4d-0000-4000-8000-000000000004";

/// A game-server key allowed on one simulated fleet only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetKey {
    /// The fleet.
    pub fleet_id: String,
    /// Its key.
    pub key: SigningKey,
    /// The IAM principal it stands for.
    pub principal: String,
}

/// Everything [`start`] can be told.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// HTTP gateway port (0: a free one).
    pub http_port: u16,
    /// WebSocket gateway port (0: a free one).
    pub ws_port: u16,
    /// gamelift-sim port (0: a free one).
    pub gamelift_port: u16,
    /// DynamoDB Local port (0: a free one); unused with [`Self::dynamodb_endpoint`].
    pub dynamodb_port: u16,
    /// Keep DynamoDB Local's data in this directory (else in memory).
    pub persist: Option<PathBuf>,
    /// The simulator's model (else [`local_model`]).
    pub sim_model: Option<Model>,
    /// Use this running DynamoDB (e.g. the tests' `FLEETLIFT_TEST_DYNAMODB`) instead of starting Java.
    pub dynamodb_endpoint: Option<String>,
    /// Use this GameLift endpoint (a real one: `AWS_ENDPOINT_URL_GAMELIFT`, with the standard AWS
    /// credentials) instead of starting the simulator; its events do not reach the local queue.
    pub gamelift_endpoint: Option<String>,
    /// The GameLift queue placements go to (else the model's first queue).
    pub queue_name: Option<String>,
    /// The table (created from the single-source definition if missing).
    pub table: String,
    /// Time between two sweeper runs.
    pub sweep_interval: Duration,
    /// `FLEETLIFT_SWEEP_MARGIN_SECS`: how long past its queue timeout a placement waits for its event
    /// before the sweeper asks GameLift.
    pub sweep_margin_secs: i64,
    /// The queue between the simulator and placement-events.
    pub queue: QueueOptions,
    /// The stream poller.
    pub streams: StreamOptions,
    /// The clock of the handlers and the simulator (tests move it forward).
    pub clock: LocalClock,
    /// The admin service's SigV4 key.
    pub service_key: SigningKey,
    /// The all-fleets game-server SigV4 key.
    pub game_server_key: SigningKey,
    /// The HS256 key of player tokens.
    pub jwt_secret: Vec<u8>,
}

impl Default for StackOptions {
    /// The documented defaults: ports 4000–4003, table `fleetlift`, sweeper every 10 s.
    fn default() -> Self {
        Self {
            http_port: DEFAULT_HTTP_PORT,
            ws_port: DEFAULT_WS_PORT,
            gamelift_port: DEFAULT_GAMELIFT_PORT,
            dynamodb_port: DEFAULT_DYNAMODB_PORT,
            persist: None,
            sim_model: None,
            dynamodb_endpoint: None,
            gamelift_endpoint: None,
            queue_name: None,
            table: "fleetlift".to_owned(),
            sweep_interval: Duration::from_secs(10),
            sweep_margin_secs: 60,
            queue: QueueOptions::default(),
            streams: StreamOptions::default(),
            clock: LocalClock::system(),
            service_key: SigningKey {
                access_key: local::SERVICE_ACCESS_KEY.into(),
                secret: local::SERVICE_SECRET.into(),
            },
            game_server_key: SigningKey {
                access_key: local::GAME_SERVER_ACCESS_KEY.into(),
                secret: local::GAME_SERVER_SECRET.into(),
            },
            jwt_secret: local::DEV_JWT_SECRET.as_bytes().to_vec(),
        }
    }
}

impl StackOptions {
    /// The defaults on free ports (tests, the demo).
    pub fn ephemeral() -> Self {
        Self {
            http_port: 0,
            ws_port: 0,
            gamelift_port: 0,
            dynamodb_port: 0,
            ..Self::default()
        }
    }
}

/// The local default model: the simulator's default (the queue `default-queue`, homed in us-east-1,
/// over a us-east-1 fleet and a fleet homed in eu-west-1, 100 slots each) plus a third, smaller
/// us-east-1 fleet and a fourth fleet homed in eu-west-1 with a remote location in eu-central-1,
/// the one fleet with the player gateway (`ENABLED`): a session placed in eu-central-1 is reached
/// through relay endpoints with a token, any other through its game server's own address.
///
/// The queue's Region is not its fleets' Regions on purpose: GameLift keeps a session in its fleet's
/// home Region (the one its ARN names) and the simulator answers NotFound elsewhere, so every local
/// run that places in Europe (`regions: ["eu-west-1"]`, latencies, or a full us-east-1) goes through
/// the cross-Region path a real multi-Region queue takes.
pub fn local_model() -> Model {
    let mut model = Model::default();
    model.fleets.push(gamelift_sim::FleetSpec {
        id: LOCAL_FLEET_3.to_owned(),
        region: "us-east-1".to_owned(),
        locations: vec![gamelift_sim::LocationSpec {
            location: "us-east-1".to_owned(),
            slots: 50,
        }],
        player_gateway_mode: gamelift_sim::PlayerGatewayMode::Disabled,
    });
    model.fleets.push(gamelift_sim::FleetSpec {
        id: LOCAL_FLEET_4.to_owned(),
        region: "eu-west-1".to_owned(),
        locations: vec![
            gamelift_sim::LocationSpec {
                location: "eu-west-1".to_owned(),
                slots: 20,
            },
            gamelift_sim::LocationSpec {
                location: "eu-central-1".to_owned(),
                slots: 50,
            },
        ],
        player_gateway_mode: gamelift_sim::PlayerGatewayMode::Enabled,
    });
    if let Some(q) = model.queues.first_mut() {
        q.destinations.push(LOCAL_FLEET_3.to_owned());
        q.destinations.push(LOCAL_FLEET_4.to_owned());
    }
    model
}

/// Why the stack could not start.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// A port is taken.
    #[error("port {port} is in use (use {flag} 0 for a free one)")]
    PortInUse {
        /// The port.
        port: u16,
        /// The flag that sets it.
        flag: &'static str,
    },
    /// Some other failure to listen.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Listen {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// DynamoDB Local did not start.
    #[error(transparent)]
    DynamoDbLocal(#[from] DynamoDbLocalError),
    /// The table could not be found or created.
    #[error("table {table} at {url}: {message}")]
    Table {
        /// The table.
        table: String,
        /// DynamoDB's endpoint.
        url: String,
        /// Why.
        message: String,
    },
    /// The simulator's model is not valid.
    #[error("simulator model: {0}")]
    Model(String),
    /// The handlers' configuration is not valid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The stream could not be read.
    #[error(transparent)]
    Streams(#[from] StreamError),
    /// A thread could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// A task on a thread of its own with a single-threaded runtime, for futures that cannot be `Send`.
struct LocalThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    finished: Arc<AtomicBool>,
}

impl LocalThread {
    fn spawn<F, Fut>(name: &str, make: F) -> std::io::Result<Self>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(async move {
                        tokio::select! {
                            () = make() => {}
                            _ = rx => {}
                        }
                    }),
                    Err(e) => tracing::error!(error = %e, "cannot start a runtime"),
                }
                done.store(true, Ordering::SeqCst);
            })?;
        Ok(Self {
            stop: Some(tx),
            thread: Some(thread),
            finished,
        })
    }

    fn signal_stop(&mut self) {
        if let Some(tx) = self.stop.take()
            && tx.send(()).is_err()
        {
            tracing::debug!("the thread had already finished");
        }
    }

    async fn stop(&mut self) {
        self.signal_stop();
        if let Some(t) = self.thread.take() {
            match tokio::task::spawn_blocking(move || t.join()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => tracing::warn!("a stack thread panicked"),
                Err(e) => tracing::warn!(error = %e, "could not wait for a stack thread"),
            }
        }
    }
}

/// Whether a component is still running.
enum Liveness {
    Task(AbortHandle),
    Thread(Arc<AtomicBool>),
}

impl Liveness {
    fn alive(&self) -> bool {
        match self {
            Self::Task(h) => !h.is_finished(),
            Self::Thread(finished) => !finished.load(Ordering::SeqCst),
        }
    }
}

/// Binds `port` on loopback, naming the flag when it is taken.
async fn listen(port: u16, flag: &'static str) -> Result<TcpListener, StackError> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AddrInUse => StackError::PortInUse { port, flag },
            _ => StackError::Listen { port, source },
        })
}

fn port_of(listener: &TcpListener) -> u16 {
    listener.local_addr().map_or(0, |a: SocketAddr| a.port())
}

/// What the sweeper timer last did.
#[derive(Debug, Default)]
struct SweeperState {
    runs: u64,
    last: Option<SweepSummary>,
    last_error: Option<String>,
}

/// The state `GET /v1/health` reports, shared with the gateway.
struct Health {
    components: Mutex<Vec<(&'static str, Liveness)>>,
    queue: LocalQueue,
    streams: Arc<Mutex<StreamStats>>,
    sweeper: Arc<Mutex<SweeperState>>,
    sim: Option<Simulator>,
    dynamodb_ok: Arc<AtomicBool>,
    urls: Value,
}

impl Health {
    fn report(&self) -> Value {
        let alive: BTreeMap<&str, bool> = self
            .components
            .lock()
            .map(|c| c.iter().map(|(name, l)| (*name, l.alive())).collect())
            .unwrap_or_default();
        let status = |name: &str| {
            if alive.get(name).copied().unwrap_or(false) {
                "ok"
            } else {
                "down"
            }
        };
        let queue = self.queue.stats();
        let streams = self.streams.lock().map(|s| s.clone()).unwrap_or_default();
        let (runs, last, last_error) = self
            .sweeper
            .lock()
            .map(|s| (s.runs, s.last, s.last_error.clone()))
            .unwrap_or_default();
        let dynamodb = if self.dynamodb_ok.load(Ordering::SeqCst) {
            "ok"
        } else {
            "down"
        };
        let gamelift = match &self.sim {
            Some(sim) => {
                json!({"status": status("gamelift-sim"), "url": self.urls["gamelift"], "simulator": true,
                                "activeGameSessions": sim.active_game_sessions(), "stats": sim.stats()})
            }
            None => json!({"status": "external", "url": self.urls["gamelift"], "simulator": false}),
        };
        let components = json!({
            "dynamodb": {"status": dynamodb, "url": self.urls["dynamodb"]},
            "gamelift": gamelift,
            "httpGateway": {"status": status("http-gateway"), "url": self.urls["http"]},
            "wsGateway": {"status": status("ws-gateway"), "url": self.urls["ws"]},
            "placementEvents": {"status": status("queue"), "queue": queue, "dlq": self.queue.dlq().len()},
            "notifier": {"status": status("streams"), "stream": streams},
            "sweeper": {"status": status("sweeper"), "runs": runs, "lastRun": last, "lastError": last_error},
        });
        let all_ok = components.as_object().is_some_and(|c| {
            c.values()
                .all(|v| matches!(v["status"].as_str(), Some("ok" | "external")))
        });
        json!({"status": if all_ok { "ok" } else { "degraded" }, "components": components})
    }
}

/// The running stack.
pub struct Stack {
    http_url: String,
    ws_url: String,
    gamelift_url: String,
    dynamodb_url: String,
    table: String,
    deps: Arc<LocalDeps>,
    auth: Arc<GatewayAuth>,
    queue: LocalQueue,
    sim: Option<Simulator>,
    clock: LocalClock,
    fleet_keys: Vec<FleetKey>,
    options: StackOptions,
    tasks: Tasks,
    streams: Option<LocalThread>,
    dynamodb: Option<DynamoDbLocal>,
    health: Arc<Health>,
    console: Arc<ConsoleHub>,
    /// The local UDP echo the simulator's ListLocations points every AWS location at, so a client
    /// measures a real round trip offline (GameLift's own beacons are on the internet).
    ping_beacon: Option<gamelift_sim::PingBeacon>,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("http", &self.http_url)
            .field("ws", &self.ws_url)
            .field("table", &self.table)
            .finish()
    }
}

/// The stack's own listeners, bound before anything starts so a taken port is reported at once.
struct Listeners {
    http: TcpListener,
    ws: TcpListener,
    /// The simulator's, unless the stack talks to another GameLift endpoint.
    sim: Option<TcpListener>,
}

/// The stack's background tasks, by name (the health report names the one that stopped).
type Tasks = Vec<(&'static str, JoinHandle<()>)>;

/// Starts everything (see the module docs). On failure, whatever had started is stopped again.
pub async fn start(options: StackOptions) -> Result<Stack, StackError> {
    // Every port first, so a taken one is reported before Java starts.
    let listeners = Listeners {
        http: listen(options.http_port, "--http-port").await?,
        ws: listen(options.ws_port, "--ws-port").await?,
        sim: match options.gamelift_endpoint {
            None => Some(listen(options.gamelift_port, "--gamelift-port").await?),
            Some(_) => None,
        },
    };

    let mut dynamodb = None;
    let dynamodb_url = match &options.dynamodb_endpoint {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            // Java binds the port itself: check it is free (or pick one) and let go of it.
            let probe = listen(options.dynamodb_port, "--dynamodb-port").await?;
            let port = port_of(&probe);
            drop(probe);
            let ddb = DynamoDbLocal::start(port, options.persist.as_deref()).await?;
            let url = ddb.url();
            dynamodb = Some(ddb);
            url
        }
    };
    // From here on, a failure must stop Java again: `dynamodb` is dropped with kill_on_drop.
    match start_after_dynamodb(options, listeners, dynamodb_url).await {
        Ok(mut stack) => {
            stack.dynamodb = dynamodb;
            Ok(stack)
        }
        Err(e) => {
            if let Some(mut d) = dynamodb {
                d.stop().await;
            }
            Err(e)
        }
    }
}

async fn ensure_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    url: &str,
) -> Result<(), StackError> {
    let err = |message: String| StackError::Table {
        table: table.to_owned(),
        url: url.to_owned(),
        message,
    };
    match client.describe_table().table_name(table).send().await {
        Ok(_) => return Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => {
            return Err(err(
                aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()
            ));
        }
    }
    create_table(client, table)
        .await
        .map_err(|e| err(e.to_string()))
}

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Everything but DynamoDB Local, in order: the table, the simulator, the handlers' ports, the stream
/// poller, the queue, the sweeper, the health probe, the console and last the gateways (so nothing is
/// served before what it calls is up).
async fn start_after_dynamodb(
    options: StackOptions,
    listeners: Listeners,
    dynamodb_url: String,
) -> Result<Stack, StackError> {
    let (http_port, ws_port) = (port_of(&listeners.http), port_of(&listeners.ws));
    let dynamo = local_client(&dynamodb_url);
    ensure_table(&dynamo, &options.table, &dynamodb_url).await?;

    let simulate = listeners.sim.is_some();
    let (model, queue_name, ping_beacon) = prepare_model(&options, simulate).await?;

    let mut tasks: Tasks = Vec::new();
    let (sim, gamelift_url, events) = start_simulator(listeners.sim, &options, &model, &mut tasks)?;
    let fleet_keys = fleet_keys(if sim.is_some() { &model.fleets } else { &[] });
    let auth = Arc::new(gateway_auth(&options, &fleet_keys, http_port));
    let ws_management = format!("http://127.0.0.1:{ws_port}");
    let config = handler_config(
        &options,
        &model,
        sim.is_some(),
        &queue_name,
        &fleet_keys,
        &ws_management,
    )?;
    let deps = local_deps(
        &options,
        &dynamo,
        config,
        &gamelift_url,
        &queue_name,
        &ws_management,
    )
    .await;

    // The stream first, at LATEST, so no change made once the gateways serve can be missed.
    let stream = start_stream(&dynamo, &dynamodb_url, &options, deps.clone()).await?;

    let queue = spawn_queue(&options, &deps, events, stream.wake.clone(), &mut tasks);
    let sweeper_state = Arc::new(Mutex::new(SweeperState::default()));
    let sweeps = SweepLog::default();
    tasks.push((
        "sweeper",
        spawn_sweeper(
            &options,
            &deps,
            sweeper_state.clone(),
            sweeps.clone(),
            stream.wake,
        ),
    ));
    let dynamodb_ok = Arc::new(AtomicBool::new(true));
    tasks.push((
        "dynamodb-probe",
        spawn_dynamodb_probe(dynamo.clone(), dynamodb_ok.clone()),
    ));

    let http_url = format!("http://127.0.0.1:{http_port}");
    let ws_url = format!("ws://127.0.0.1:{ws_port}");
    let health = Arc::new(Health {
        components: Mutex::new(Vec::new()),
        queue: queue.clone(),
        streams: stream.stats,
        sweeper: sweeper_state,
        sim: sim.clone(),
        dynamodb_ok,
        urls: json!({"http": http_url, "ws": ws_url, "gamelift": gamelift_url, "dynamodb": dynamodb_url}),
    });
    let report: Report = {
        let health = health.clone();
        Arc::new(move || health.report())
    };
    let console = ConsoleHub::new(
        console::Sources {
            queue: queue.clone(),
            sim: sim.clone(),
            clock: options.clock.clone(),
            health: report.clone(),
            table: Some((dynamo.clone(), options.table.clone())),
            sweeps,
            sweep_interval: options.sweep_interval,
        },
        stream.feed,
    );

    let mut stack = Stack {
        http_url,
        ws_url,
        gamelift_url,
        dynamodb_url: dynamodb_url.clone(),
        table: options.table.clone(),
        deps,
        auth,
        queue,
        sim,
        clock: options.clock.clone(),
        fleet_keys,
        options,
        tasks,
        streams: Some(stream.thread),
        dynamodb: None,
        health,
        console: console.clone(),
        ping_beacon,
    };
    if let Err(source) =
        serve_gateways(&mut stack, listeners.http, listeners.ws, report, console).await
    {
        stack.stop_tasks().await;
        return Err(StackError::Listen {
            port: http_port,
            source,
        });
    }
    stack.watch_components();
    Ok(stack)
}

/// What the health report says, as a function the gateways and the console call.
type Report = Arc<dyn Fn() -> Value + Send + Sync>;

impl Stack {
    /// Hands the health report every task and thread the stack runs, so it names the one that stopped.
    fn watch_components(&self) {
        if let Ok(mut c) = self.health.components.lock() {
            *c = self
                .tasks
                .iter()
                .map(|(name, h)| (*name, Liveness::Task(h.abort_handle())))
                .collect();
            if let Some(t) = &self.streams {
                c.push(("streams", Liveness::Thread(t.finished.clone())));
            }
        }
    }
}

/// The simulator's model (the user's or [`local_model`]), validated, and the queue the stack places
/// through (the one the options name, else the model's first). When the stack simulates GameLift
/// and the model names no ping beacon, a local UDP echo stands for every location's beacon, so a
/// client measures a real round trip offline (GameLift's own beacons are on the internet).
async fn prepare_model(
    options: &StackOptions,
    simulate: bool,
) -> Result<(Model, String, Option<gamelift_sim::PingBeacon>), StackError> {
    let mut model = options.sim_model.clone().unwrap_or_else(local_model);
    let ping_beacon = if simulate && model.ping_beacons.is_empty() {
        let beacon = gamelift_sim::serve_ping_beacon("127.0.0.1:0")
            .await
            .map_err(|e| StackError::Model(format!("ping beacon: {e}")))?;
        model.ping_beacons.insert(
            "*".to_owned(),
            gamelift_sim::model::PingBeaconSpec {
                domain: "127.0.0.1".to_owned(),
                port: beacon.local_addr().port(),
            },
        );
        Some(beacon)
    } else {
        None
    };
    model
        .validate()
        .map_err(|e| StackError::Model(e.to_string()))?;
    let queue_name = options
        .queue_name
        .clone()
        .or_else(|| model.queues.first().map(|q| q.name.clone()))
        .ok_or_else(|| StackError::Model("the model has no queue".into()))?;
    Ok((model, queue_name, ping_beacon))
}

/// The GameLift the stack talks to: the simulator (and the SNS envelopes of its events) or none, and
/// its URL.
type GameLiftSide = (
    Option<Simulator>,
    String,
    Option<tokio::sync::mpsc::Receiver<String>>,
);

/// The simulator serving `model` on `listener` (with its placement driver), its URL and its event
/// stream; or, without a listener, the user's GameLift endpoint.
fn start_simulator(
    listener: Option<TcpListener>,
    options: &StackOptions,
    model: &Model,
    tasks: &mut Tasks,
) -> Result<GameLiftSide, StackError> {
    let Some(listener) = listener else {
        return match &options.gamelift_endpoint {
            Some(url) => Ok((None, url.clone(), None)),
            None => Err(StackError::Model(
                "no simulator and no GameLift endpoint".into(),
            )),
        };
    };
    let sim = Simulator::builder()
        .model(model.clone())
        .clock(options.clock.clone())
        .build();
    let events = sim.events();
    let url = format!("http://127.0.0.1:{}", port_of(&listener));
    let router = sim.router();
    tasks.push((
        "gamelift-sim",
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "gamelift-sim stopped");
            }
        }),
    ));
    tasks.push(("gamelift-sim-driver", sim.spawn_driver()));
    Ok((Some(sim), url, Some(events)))
}

/// One game-server key per simulated fleet, allowed on that fleet only.
fn fleet_keys(fleets: &[gamelift_sim::model::FleetSpec]) -> Vec<FleetKey> {
    fleets
        .iter()
        .enumerate()
        .map(|(i, fleet)| FleetKey {
            fleet_id: fleet.id.clone(),
            key: SigningKey {
                access_key: format!("AKIALOCALFLEET{:06}", i + 1),
                secret: format!("local-fleet-{}-secret", i + 1),
            },
            principal: format!(
                "arn:aws:iam::{}:role/fleetlift-local-fleet-{}",
                local::ACCOUNT,
                i + 1
            ),
        })
        .collect()
}

/// The gateways' credentials: the documented keys (or their overrides), one key per simulated fleet,
/// the JWT secret and the JWKS the HTTP gateway serves.
fn gateway_auth(options: &StackOptions, fleet_keys: &[FleetKey], http_port: u16) -> GatewayAuth {
    let mut auth = GatewayAuth::local(fleet_keys.iter().map(|k| {
        (
            k.key.access_key.clone(),
            LocalKey {
                secret: k.key.secret.clone(),
                principal: k.principal.clone(),
            },
        )
    }));
    auth.sigv4_keys.remove(local::SERVICE_ACCESS_KEY);
    auth.sigv4_keys.remove(local::GAME_SERVER_ACCESS_KEY);
    for (key, principal) in [
        (&options.service_key, local::SERVICE_PRINCIPAL),
        (&options.game_server_key, local::GAME_SERVER_PRINCIPAL),
    ] {
        auth.sigv4_keys.insert(
            key.access_key.clone(),
            LocalKey {
                secret: key.secret.clone(),
                principal: principal.to_owned(),
            },
        );
    }
    auth.jwt_secret = options.jwt_secret.clone();
    auth.jwks_url = Some(format!(
        "http://127.0.0.1:{http_port}/.well-known/jwks.json"
    ));
    auth
}

/// The handlers' configuration, through the same parser as the Lambdas' environment, with the values
/// a deployment's template would set for this model.
fn handler_config(
    options: &StackOptions,
    model: &Model,
    simulated: bool,
    queue_name: &str,
    fleet_keys: &[FleetKey],
    ws_management: &str,
) -> Result<Config, StackError> {
    let fleet_ids: Vec<String> = fleet_keys.iter().map(|k| k.fleet_id.clone()).collect();
    let mut game_servers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    game_servers.insert(local::GAME_SERVER_PRINCIPAL.to_owned(), fleet_ids);
    for k in fleet_keys {
        game_servers.insert(k.principal.clone(), vec![k.fleet_id.clone()]);
    }
    let queue_spec = model.queue(queue_name);
    let placement_timeout = queue_spec
        .map_or(600, |q| q.timeout_seconds)
        .clamp(10, 43_200);
    // The fleets with the player gateway, and the locations the queue places into (its fleets'
    // locations, as the deployment's template lists them), both from the model.
    let gateway_fleets: Vec<String> = model
        .fleets
        .iter()
        .filter(|f| simulated && !f.player_gateway_mode.is_disabled())
        .map(|f| f.id.clone())
        .collect();
    let mut locations: Vec<String> = Vec::new();
    for dest in queue_spec.iter().flat_map(|q| &q.destinations) {
        for l in model.fleet(dest).iter().flat_map(|f| &f.locations) {
            if !locations.contains(&l.location) {
                locations.push(l.location.clone());
            }
        }
    }
    let vars: BTreeMap<&str, String> = BTreeMap::from([
        ("FLEETLIFT_PLAYER_GATEWAY_FLEETS", gateway_fleets.join(",")),
        ("FLEETLIFT_LOCATIONS", locations.join(",")),
        ("FLEETLIFT_TABLE", options.table.clone()),
        ("FLEETLIFT_CURSOR_SECRET", random_secret()),
        ("FLEETLIFT_QUEUE_NAME", queue_name.to_owned()),
        (
            "FLEETLIFT_PLACEMENT_TIMEOUT_SECS",
            placement_timeout.to_string(),
        ),
        (
            "FLEETLIFT_SWEEP_MARGIN_SECS",
            options.sweep_margin_secs.to_string(),
        ),
        (
            "FLEETLIFT_SERVICE_PRINCIPALS",
            local::SERVICE_PRINCIPAL.to_owned(),
        ),
        (
            "FLEETLIFT_GAME_SERVER_FLEETS",
            serde_json::to_string(&game_servers).unwrap_or_default(),
        ),
        ("FLEETLIFT_WS_ENDPOINT", ws_management.to_owned()),
        ("FLEETLIFT_JWT_ISSUER", local::JWT_ISSUER.to_owned()),
        ("FLEETLIFT_JWT_AUDIENCE", local::JWT_AUDIENCE.to_owned()),
        (
            "FLEETLIFT_JWT_HS256_SECRET",
            String::from_utf8_lossy(&options.jwt_secret).into_owned(),
        ),
    ]);
    Ok(Config::from_lookup(|k| vars.get(k).cloned())?)
}

/// The handlers' ports, the very adapters the Lambdas use: DynamoDB Local, the simulator (or the
/// user's GameLift endpoint, with the standard credential chain) and its queue, and the local
/// `@connections` API.
async fn local_deps(
    options: &StackOptions,
    dynamo: &aws_sdk_dynamodb::Client,
    config: Config,
    gamelift_url: &str,
    queue_name: &str,
    ws_management: &str,
) -> Arc<LocalDeps> {
    let shared = local::sdk_config();
    let gamelift_client = match &options.gamelift_endpoint {
        None => aws_sdk_gamelift::Client::from_conf(
            aws_sdk_gamelift::config::Builder::from(&shared)
                .endpoint_url(gamelift_url)
                .build(),
        ),
        // A real GameLift: the standard credential chain and region, and the user's endpoint.
        Some(url) => {
            let real = aws_config::defaults(BehaviorVersion::latest())
                .http_client(fleet_aws::clients::http_client())
                .load()
                .await;
            aws_sdk_gamelift::Client::from_conf(
                aws_sdk_gamelift::config::Builder::from(&real)
                    .endpoint_url(url)
                    .build(),
            )
        }
    };
    Arc::new(Deps {
        store: DynamoStore::new(
            dynamo.clone(),
            options.table.clone(),
            config.cursor_secret.clone(),
        ),
        gamelift: SdkGameLift::new(gamelift_client, queue_name.to_owned()),
        notifier: ApiGatewayNotifier::new(fleet_aws::clients::apigw_management(
            &shared,
            ws_management,
        )),
        clock: options.clock.clone(),
        ids: UuidIds,
        config,
        cache: Default::default(),
    })
}

/// The stream poller, started: its thread, the console's feed of every record, its figures and the
/// handle that wakes it before its next poll.
struct RunningStream {
    thread: LocalThread,
    feed: broadcast::Sender<Arc<Value>>,
    stats: Arc<Mutex<StreamStats>>,
    wake: Arc<tokio::sync::Notify>,
}

/// Connects the stream poller to the table's stream (at LATEST) and runs it on its own thread.
async fn start_stream(
    dynamo: &aws_sdk_dynamodb::Client,
    dynamodb_url: &str,
    options: &StackOptions,
    deps: Arc<LocalDeps>,
) -> Result<RunningStream, StackError> {
    let mut poller = StreamPoller::connect(
        dynamo,
        local_streams_client(dynamodb_url),
        dynamodb_url,
        &options.table,
        options.streams.clone(),
    )
    .await?;
    // The console's view of the table: every record, before the notifier's filter.
    let feed = console::table_feed();
    poller.set_tap(feed.clone());
    let (stats, wake) = (poller.stats(), poller.waker());
    tracing::debug!(
        stream_arn = poller.stream_arn(),
        "reading the table's stream"
    );
    Ok(RunningStream {
        thread: spawn_stream_thread(poller, deps)?,
        feed,
        stats,
        wake,
    })
}

/// The stream poller on a thread of its own, feeding the notifier as the stream's Lambda trigger does.
fn spawn_stream_thread(
    poller: StreamPoller,
    deps: Arc<LocalDeps>,
) -> Result<LocalThread, StackError> {
    // The notifier's future is not provably `Send` (a higher-ranked lifetime in its fan-out closure,
    // a compiler limitation; the Lambda runtime never moves it between threads either), so the poller
    // runs on a thread of its own with a single-threaded runtime, as a Lambda invocation would.
    LocalThread::spawn("fleet-local-streams", move || {
        poller.run(move |event| {
            let deps = deps.clone();
            async move {
                let (response, metrics) =
                    notifier::process(&deps.store, &deps.notifier, event, deps.clock.now()).await;
                log_metrics(metrics, deps.clock.now().millis());
                response
            }
        })
    })
    .map_err(StackError::Thread)
}

/// SNS → SQS → placement-events: the simulator's events enqueued, and the queue delivering batches.
fn spawn_queue(
    options: &StackOptions,
    deps: &Arc<LocalDeps>,
    events: Option<tokio::sync::mpsc::Receiver<String>>,
    stream_wake: Arc<tokio::sync::Notify>,
    tasks: &mut Tasks,
) -> LocalQueue {
    let queue_arn = format!(
        "arn:aws:sqs:{}:{}:fleetlift-local-placement-events",
        local::REGION,
        local::ACCOUNT
    );
    let queue = LocalQueue::new(options.queue.clone(), queue_arn, local::REGION);
    if let Some(mut rx) = events {
        let q = queue.clone();
        tasks.push((
            "events",
            tokio::spawn(async move {
                while let Some(envelope) = rx.recv().await {
                    q.enqueue(envelope);
                }
            }),
        ));
    }
    let deps = deps.clone();
    let q = queue.clone();
    tasks.push((
        "queue",
        tokio::spawn(queue.clone().run(move |event| {
            let deps = deps.clone();
            let q = q.clone();
            let wake = stream_wake.clone();
            async move {
                let response = deliver_placement_events(&deps, &q, event).await;
                // The placements it finished are in the stream now: no need to wait for the poll.
                wake.notify_one();
                response
            }
        })),
    ));
    queue
}

/// The EventBridge schedule: the sweeper every `options.sweep_interval`.
fn spawn_sweeper(
    options: &StackOptions,
    deps: &Arc<LocalDeps>,
    state: Arc<Mutex<SweeperState>>,
    sweeps: SweepLog,
    stream_wake: Arc<tokio::sync::Notify>,
) -> JoinHandle<()> {
    let deps = deps.clone();
    let every = options.sweep_interval.max(Duration::from_millis(50));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run_sweeper(&deps, &state, &sweeps).await;
            stream_wake.notify_one();
        }
    })
}

/// DynamoDB's own health for the report: one cheap call every two seconds.
fn spawn_dynamodb_probe(client: aws_sdk_dynamodb::Client, ok: Arc<AtomicBool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let up = client.list_tables().limit(1).send().await.is_ok();
            ok.store(up, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

/// The HTTP gateway (with the console's routes) and the WebSocket gateway, last, so a request only
/// arrives once everything it calls is up.
async fn serve_gateways(
    stack: &mut Stack,
    http: TcpListener,
    ws: TcpListener,
    report: Report,
    console: Arc<ConsoleHub>,
) -> std::io::Result<()> {
    let h = HttpGateway::serve_with_routes(
        http,
        stack.deps.clone(),
        stack.auth.clone(),
        report,
        console::router(console),
    )
    .await?;
    stack.tasks.push(("http-gateway", h));
    let w = WsGateway::serve(ws, stack.deps.clone(), stack.auth.clone()).await?;
    stack.tasks.push(("ws-gateway", w));
    Ok(())
}

/// One SQS batch through placement-events, as the function runs it: the results it writes are pushed at
/// once through the real API Gateway notifier on the local WebSocket gateway's `@connections` (the
/// notifier on the stream is the safety net); records the handler quarantined are kept for inspection.
async fn deliver_placement_events(
    deps: &LocalDeps,
    queue: &LocalQueue,
    event: aws_lambda_events::event::sqs::SqsEvent,
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    let bodies: Vec<(String, Option<String>)> = event
        .records
        .iter()
        .map(|r| (r.message_id.clone().unwrap_or_default(), r.body.clone()))
        .collect();
    let (response, metrics) =
        placement_events::process_and_push(&deps.store, &deps.notifier, event, deps.clock.now())
            .await;
    let quarantined_count = metrics.get("EventsQuarantined").unwrap_or(0.0) as usize;
    if quarantined_count > 0 {
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        // The handler quarantines exactly the acknowledged records that can never parse (plus, rarely,
        // a permanently unreadable item, which is only counted).
        for (id, body) in &bodies {
            let poison = body
                .as_deref()
                .is_none_or(|b| fleet_core::event::parse_message(b).is_err());
            if poison && !failed.contains(id.as_str()) {
                queue.record_quarantined(id, body.as_deref().unwrap_or(""));
            }
        }
    }
    log_metrics(metrics, deps.clock.now().millis());
    response
}

/// One scheduled sweeper run, fed the EventBridge scheduled event (events/schedule/sweeper.json).
async fn run_sweeper(deps: &LocalDeps, state: &Mutex<SweeperState>, sweeps: &SweepLog) {
    let now = deps.clock.now();
    let started = std::time::Instant::now();
    let event: Result<EventBridgeEvent, _> = serde_json::from_value(json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": local::ACCOUNT,
        "time": now.to_rfc3339(),
        "region": local::REGION,
        "resources": [format!("arn:aws:events:{}:{}:rule/fleetlift-local-sweeper", local::REGION, local::ACCOUNT)],
        "detail": {},
    }));
    let event_id = event.ok().and_then(|e| e.id).unwrap_or_default();
    tracing::debug!(event_id, "sweeper tick");
    let limits = SweepLimits::from_config(&deps.config);
    let mut metrics = Metrics::new(sweeper::FUNCTION);
    // The deployed function's timeout bounds a run; the sweeper stops a few seconds before it.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let result = sweeper::sweep(
        &deps.store,
        &deps.gamelift,
        &deps.clock,
        &limits,
        deadline,
        &mut metrics,
    )
    .await;
    log_metrics(metrics, deps.clock.now().millis());
    sweeps.record(SweepRun {
        started_ms: now.millis(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        summary: result.as_ref().ok().copied(),
        error: result.as_ref().err().map(ToString::to_string),
    });
    if let Ok(mut s) = state.lock() {
        s.runs += 1;
        match result {
            Ok(summary) => {
                s.last = Some(summary);
                s.last_error = None;
            }
            Err(e) => s.last_error = Some(e.to_string()),
        }
    }
}

/// The EMF line a Lambda would print, to the process's EMF sink (stdout unless the binary chose).
fn log_metrics(metrics: Metrics, now_ms: i64) {
    if let Some(doc) = metrics.to_emf(now_ms) {
        fleet_functions::observability::emit_emf(&doc);
    }
}

impl Stack {
    /// The local UDP ping beacon every location's `pingBeacon` names (with the simulator and a model
    /// that sets none of its own).
    pub fn ping_beacon_addr(&self) -> Option<std::net::SocketAddr> {
        self.ping_beacon
            .as_ref()
            .map(gamelift_sim::PingBeacon::local_addr)
    }

    /// The HTTP API, `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> &str {
        &self.http_url
    }

    /// The live web console, `http://127.0.0.1:PORT/console/` (on the HTTP API's port, loopback only).
    pub fn console_url(&self) -> String {
        format!("{}/console/", self.http_url)
    }

    /// The console's state (its snapshot is what `GET /console/api/state` answers).
    pub fn console(&self) -> &Arc<ConsoleHub> {
        &self.console
    }

    /// The WebSocket API, `ws://127.0.0.1:PORT` (connect with `?token=<jwt>`).
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// GameLift's endpoint (the simulator's, unless a real one was given).
    pub fn gamelift_url(&self) -> &str {
        &self.gamelift_url
    }

    /// DynamoDB's endpoint.
    pub fn dynamodb_url(&self) -> &str {
        &self.dynamodb_url
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The handlers' dependencies.
    pub fn deps(&self) -> Arc<LocalDeps> {
        self.deps.clone()
    }

    /// How the gateways authenticate (keys, JWT key).
    pub fn auth(&self) -> Arc<GatewayAuth> {
        self.auth.clone()
    }

    /// The options the stack was started with.
    pub fn options(&self) -> &StackOptions {
        &self.options
    }

    /// The per-fleet game-server keys.
    pub fn fleet_keys(&self) -> &[FleetKey] {
        &self.fleet_keys
    }

    /// The simulator, unless a real GameLift is used.
    pub fn sim(&self) -> Option<&Simulator> {
        self.sim.as_ref()
    }

    /// The clock of the handlers and the simulator.
    pub fn clock(&self) -> &LocalClock {
        &self.clock
    }

    /// The placement-events queue.
    pub fn queue(&self) -> &LocalQueue {
        &self.queue
    }

    /// Sends a raw SQS body to placement-events (tests: poison messages, duplicates).
    pub fn enqueue(&self, body: impl Into<String>) -> String {
        self.queue.enqueue(body)
    }

    /// Sends raw SQS bodies together, so they reach placement-events in one batch.
    pub fn enqueue_batch(&self, bodies: impl IntoIterator<Item = String>) -> Vec<String> {
        self.queue.enqueue_batch(bodies)
    }

    /// The dead-letter queue.
    pub fn dlq(&self) -> Vec<DeadLetter> {
        self.queue.dlq()
    }

    /// The records placement-events quarantined.
    pub fn quarantined(&self) -> Vec<Quarantined> {
        self.queue.quarantined()
    }

    /// The queue's counters.
    pub fn queue_stats(&self) -> QueueStats {
        self.queue.stats()
    }

    /// What `GET /v1/health` answers.
    pub fn health(&self) -> Value {
        self.health.report()
    }

    /// Java's process id, when the stack started DynamoDB Local.
    pub fn dynamodb_pid(&self) -> Option<u32> {
        self.dynamodb.as_ref().and_then(DynamoDbLocal::pid)
    }

    /// The environment a client needs, as `NAME=value` lines.
    pub fn client_env(&self) -> Vec<(String, String)> {
        vec![
            ("FLEETLIFT_HTTP".into(), self.http_url.clone()),
            ("FLEETLIFT_WS".into(), self.ws_url.clone()),
            (
                "AWS_ENDPOINT_URL_GAMELIFT".into(),
                self.gamelift_url.clone(),
            ),
            (
                "AWS_ENDPOINT_URL_DYNAMODB".into(),
                self.dynamodb_url.clone(),
            ),
            ("FLEETLIFT_TABLE".into(), self.table.clone()),
            ("AWS_REGION".into(), local::REGION.into()),
            (
                "FLEETLIFT_SERVICE_ACCESS_KEY_ID".into(),
                self.options.service_key.access_key.clone(),
            ),
            (
                "FLEETLIFT_SERVICE_SECRET_ACCESS_KEY".into(),
                self.options.service_key.secret.clone(),
            ),
            (
                "FLEETLIFT_GAME_SERVER_ACCESS_KEY_ID".into(),
                self.options.game_server_key.access_key.clone(),
            ),
            (
                "FLEETLIFT_GAME_SERVER_SECRET_ACCESS_KEY".into(),
                self.options.game_server_key.secret.clone(),
            ),
        ]
    }

    async fn stop_tasks(&mut self) {
        self.console.close();
        if let Some(mut t) = self.streams.take() {
            t.stop().await;
        }
        for (_, task) in &self.tasks {
            task.abort();
        }
        for (name, task) in self.tasks.drain(..) {
            if let Err(e) = task.await
                && !e.is_cancelled()
            {
                tracing::warn!(task = name, error = %e, "task ended abnormally");
            }
        }
    }

    /// Stops every task and DynamoDB Local (killed and reaped), leaving no process behind.
    pub async fn shutdown(mut self) {
        self.stop_tasks().await;
        if let Some(mut d) = self.dynamodb.take() {
            d.stop().await;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // A stack dropped without shutdown (a failed test) still stops its tasks; Java is killed by
        // its handle's kill_on_drop.
        self.console.close();
        if let Some(t) = &mut self.streams {
            t.signal_stop();
        }
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}

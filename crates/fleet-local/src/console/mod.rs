//! The local stack's live web console: one page at `/console/` on the HTTP gateway's port showing
//! placements, sessions, the queue, the sweeper and the simulator as they change, with buttons for the
//! simulator's faults and the stack's clock.
//!
//! It is a developer's tool of the local stack only: its routes (`/console/…`) are not part of the
//! deployed APIs (not in template.yaml, not in api/openapi.yaml) and answer loopback peers only (see
//! [`routes`]). It reads the stack's own parts and adds no work when nobody looks:
//!
//! - the table through its stream: the poller's tap ([`table_feed`]) hands every record, before the
//!   notifier's filter, to [`ConsoleHub`], which keeps placements and sessions ([`live::Live`]); on the
//!   first visit a bounded scan ([`seed`]) adds what was there before, and only from then on does the tap
//!   send anything;
//! - the queue, the stream's counters, the sweeper's runs ([`SweepLog`]), the simulator and the clock by
//!   reading them twice a second while a browser is connected.
//!
//! Browsers get a snapshot, then every change as Server-Sent Events (`GET /console/api/events`).

pub mod assets;
pub mod live;
pub mod routes;
pub mod seed;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use fleet_functions::sweeper::SweepSummary;
use gamelift_sim::{Faults, Simulator};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{OnceCell, broadcast, watch};
use tokio::task::JoinHandle;

use crate::clock::LocalClock;
use crate::queue::LocalQueue;
use live::{Change, Live};

pub use routes::router;

/// Records a stream tap may hold for a slow console before it skips (and the console rescans).
const TABLE_FEED_CAPACITY: usize = 8_192;
/// Messages a slow browser may fall behind before it is told to reload its snapshot.
const OUT_CAPACITY: usize = 4_096;
/// Sweeper runs kept.
const SWEEP_RUNS: usize = 20;
/// Queue, DLQ and quarantine messages listed (the counts cover all).
const LISTED_MESSAGES: usize = 50;
/// Characters of a message body shown.
const BODY_CHARS: usize = 4_096;
/// How often the counters are read while a browser is connected.
const TICK: Duration = Duration::from_millis(500);
/// Counters are sent at least this often, changed or not, so the page's clock keeps up.
const HEARTBEAT: Duration = Duration::from_secs(2);
/// Largest clock step the console accepts (a day).
pub const MAX_ADVANCE_MS: u64 = 86_400_000;

/// The channel the stream poller's tap sends its records on ([`crate::streams::StreamPoller::set_tap`]).
pub fn table_feed() -> broadcast::Sender<Arc<Value>> {
    broadcast::channel(TABLE_FEED_CAPACITY).0
}

/// One sweeper run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepRun {
    /// When it started (the stack's clock, epoch milliseconds).
    pub started_ms: i64,
    /// How long it took.
    pub duration_ms: u64,
    /// What it did, when it finished.
    pub summary: Option<SweepSummary>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

/// The sweeper's last runs, newest last. Clones share them.
#[derive(Debug, Clone, Default)]
pub struct SweepLog(Arc<Mutex<VecDeque<SweepRun>>>);

impl SweepLog {
    /// Records a run, forgetting the oldest beyond the last 20.
    pub fn record(&self, run: SweepRun) {
        let mut runs = lock(&self.0);
        runs.push_back(run);
        while runs.len() > SWEEP_RUNS {
            runs.pop_front();
        }
    }

    /// The runs kept, oldest first.
    pub fn runs(&self) -> Vec<SweepRun> {
        lock(&self.0).iter().cloned().collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Plain data behind the lock: a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the console reads.
#[derive(Clone)]
pub struct Sources {
    /// The placement-events queue.
    pub queue: LocalQueue,
    /// The simulator, unless a real GameLift is used.
    pub sim: Option<Simulator>,
    /// The clock of the handlers and the simulator.
    pub clock: LocalClock,
    /// What `GET /v1/health` answers (component statuses, the stream's counters, the endpoints).
    pub health: Arc<dyn Fn() -> Value + Send + Sync>,
    /// The table, for the first look (none: follow the stream only).
    pub table: Option<(aws_sdk_dynamodb::Client, String)>,
    /// The sweeper's runs.
    pub sweeps: SweepLog,
    /// Time between two sweeper runs.
    pub sweep_interval: Duration,
}

/// Why a console action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// The request is not valid; `field` names what is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// Why.
        message: String,
    },
    /// The stack talks to a real GameLift: nothing to inject faults into.
    #[error(
        "the stack uses an external GameLift; faults and the clock's effect on it need gamelift-sim"
    )]
    NoSimulator,
}

/// The console's state and its browsers' channel.
pub struct ConsoleHub {
    sources: Sources,
    table_feed: broadcast::Sender<Arc<Value>>,
    out: broadcast::Sender<Arc<str>>,
    live: Mutex<Live>,
    started: OnceCell<()>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    closed: watch::Sender<bool>,
}

impl std::fmt::Debug for ConsoleHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleHub")
            .field("browsers", &self.out.receiver_count())
            .finish()
    }
}

impl ConsoleHub {
    /// A console over `sources`, fed by the stream tap `table_feed`. It starts following on the first
    /// visit ([`Self::start`]).
    pub fn new(sources: Sources, table_feed: broadcast::Sender<Arc<Value>>) -> Arc<Self> {
        Arc::new(Self {
            sources,
            table_feed,
            out: broadcast::channel(OUT_CAPACITY).0,
            live: Mutex::new(Live::default()),
            started: OnceCell::new(),
            tasks: Mutex::new(Vec::new()),
            closed: watch::channel(false).0,
        })
    }

    /// Starts following the table and reading the counters, once: subscribes to the tap, scans the
    /// table (so the first snapshot holds what was there), then applies the tap's records as they come.
    pub async fn start(self: &Arc<Self>) {
        self.started
            .get_or_init(|| async {
                let feed = self.table_feed.subscribe();
                self.seed().await;
                let follower = tokio::spawn(self.clone().follow(feed));
                let ticker = tokio::spawn(self.clone().tick());
                lock(&self.tasks).extend([follower, ticker]);
            })
            .await;
    }

    /// Stops the console's tasks and ends every browser's event stream.
    pub fn close(&self) {
        self.closed.send_replace(true);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
    }

    /// Whether [`Self::close`] was called, as a channel an event stream can wait on.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// A browser's feed of changes (subscribe before taking the snapshot, so nothing falls between).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.out.subscribe()
    }

    fn publish(&self, message: &Value) {
        if self.out.receiver_count() > 0 && self.out.send(message.to_string().into()).is_err() {
            tracing::debug!("no browser is listening");
        }
    }

    async fn seed(&self) {
        let Some((client, table)) = &self.sources.table else {
            return;
        };
        match seed::scan(client, table).await {
            Ok(items) => {
                let mut live = lock(&self.live);
                for (pk, sk, item) in &items {
                    live.apply_item(pk, sk, item);
                }
                tracing::debug!(items = items.len(), "console: read the table");
            }
            Err(e) => tracing::warn!(
                error = e,
                "console: could not read the table; following its stream only"
            ),
        }
    }

    async fn follow(self: Arc<Self>, mut feed: broadcast::Receiver<Arc<Value>>) {
        loop {
            match feed.recv().await {
                Ok(record) => {
                    let change: Option<Change> = lock(&self.live).apply_record(&record);
                    if let Some(c) = change {
                        self.publish(&c.to_message());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    // Records were missed: read the table again and have every browser reload.
                    tracing::warn!(
                        skipped,
                        "console: fell behind the table's stream; rereading the table"
                    );
                    self.seed().await;
                    self.publish(&json!({"type": "resync"}));
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn tick(self: Arc<Self>) {
        let mut last = String::new();
        let mut last_sent = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(TICK).await;
            if self.out.receiver_count() == 0 {
                continue;
            }
            let status = self.status();
            let text = status.to_string();
            if text != last || last_sent.elapsed() >= HEARTBEAT {
                self.publish(&self.stamped(status));
                last = text;
                last_sent = tokio::time::Instant::now();
            }
        }
    }

    /// Sends the counters now (after an action, so the page shows its effect at once).
    fn push_status(&self) {
        self.publish(&self.stamped(self.status()));
    }

    fn stamped(&self, mut status: Value) -> Value {
        status["nowMs"] = json!(self.sources.clock.now_millis());
        status
    }

    /// Everything a page needs to draw itself: the lists and the counters.
    pub fn snapshot(&self) -> Value {
        let (placements, sessions) = {
            let live = lock(&self.live);
            (live.placements(), live.sessions())
        };
        json!({
            "type": "snapshot",
            "placements": placements,
            "sessions": sessions,
            "status": self.stamped(self.status()),
        })
    }

    /// The counters: components, placement totals, regions, queue, stream, sweeper, simulator, clock.
    pub fn status(&self) -> Value {
        let health = (self.sources.health)();
        let components: serde_json::Map<String, Value> = health["components"]
            .as_object()
            .map(|c| {
                c.iter()
                    .map(|(name, v)| (name.clone(), v["status"].clone()))
                    .collect()
            })
            .unwrap_or_default();
        let urls = json!({
            "http": health["components"]["httpGateway"]["url"],
            "ws": health["components"]["wsGateway"]["url"],
            "gamelift": health["components"]["gamelift"]["url"],
            "dynamodb": health["components"]["dynamodb"]["url"],
        });
        let (totals, regions, not_listed) = {
            let live = lock(&self.live);
            (live.totals(), live.regions(), live.sessions_not_listed())
        };
        let queue = &self.sources.queue;
        let messages: Vec<Value> = queue
            .messages(LISTED_MESSAGES)
            .into_iter()
            .map(|m| {
                json!({"messageId": m.message_id, "receiveCount": m.receive_count, "inFlight": m.in_flight,
                       "sentMs": m.sent_ms, "body": shorten(&m.body)})
            })
            .collect();
        let dlq: Vec<Value> = last(queue.dlq())
            .map(|d| json!({"messageId": d.message_id, "receiveCount": d.receive_count, "body": shorten(&d.body)}))
            .collect();
        let quarantined: Vec<Value> = last(queue.quarantined())
            .map(|q| json!({"messageId": q.message_id, "body": shorten(&q.body)}))
            .collect();
        json!({
            "type": "status",
            "status": health["status"],
            "components": components,
            "urls": urls,
            "placements": totals,
            "regions": regions,
            "sessionsNotListed": not_listed,
            "queue": {"stats": queue.stats(), "messages": messages, "dlq": dlq, "quarantined": quarantined},
            "stream": health["components"]["notifier"]["stream"],
            "sweeper": {
                "intervalMs": u64::try_from(self.sources.sweep_interval.as_millis()).unwrap_or(u64::MAX),
                "runs": self.sources.sweeps.runs(),
            },
            "sim": self.sim_status(),
            "clock": {"offsetMs": u64::try_from(self.sources.clock.offset().as_millis()).unwrap_or(u64::MAX)},
        })
    }

    fn sim_status(&self) -> Value {
        let Some(sim) = &self.sources.sim else {
            return Value::Null;
        };
        let model = sim.model();
        let used = sim.used_slots();
        let fleets: Vec<Value> = model
            .fleets
            .iter()
            .map(|f| {
                let locations: Vec<Value> = f
                    .locations
                    .iter()
                    .map(|l| {
                        let taken = used
                            .get(&(f.id.clone(), l.location.clone()))
                            .copied()
                            .unwrap_or(0);
                        json!({"location": l.location, "slots": l.slots, "used": taken,
                               "free": l.slots.saturating_sub(taken)})
                    })
                    .collect();
                json!({"id": f.id, "region": f.region, "locations": locations})
            })
            .collect();
        let queues: Vec<Value> = model
            .queues
            .iter()
            .map(|q| {
                json!({"name": q.name, "region": q.region, "timeoutSeconds": q.timeout_seconds,
                            "destinations": q.destinations})
            })
            .collect();
        json!({
            "fleets": fleets,
            "queues": queues,
            "faults": model.faults,
            "throttling": sim.throttling(),
            "placementDelayMs": model.placement_delay_ms,
            "stats": sim.stats(),
            "activeGameSessions": sim.active_game_sessions(),
        })
    }

    /// Replaces the simulator's faults (the body of gamelift-sim's `POST /_sim/faults`), checked as the
    /// simulator checks a model file: known operations, rates within 0..=1.
    pub fn set_faults(&self, faults: Faults) -> Result<Value, ActionError> {
        let sim = self.sources.sim.as_ref().ok_or(ActionError::NoSimulator)?;
        for op in faults.operations.keys() {
            if op != "*" && !gamelift_sim::OPERATIONS.contains(&op.as_str()) {
                return Err(ActionError::Invalid {
                    field: format!("operations.{op}"),
                    message: format!(
                        "not an operation gamelift-sim implements (one of {}, or *)",
                        gamelift_sim::OPERATIONS.join(", ")
                    ),
                });
            }
        }
        for (op, f) in &faults.operations {
            check_rate(&format!("operations.{op}.errorRate"), f.error_rate)?;
            if f.error_code.as_deref().is_some_and(str::is_empty) {
                return Err(ActionError::Invalid {
                    field: format!("operations.{op}.errorCode"),
                    message: "must not be empty".into(),
                });
            }
        }
        let e = &faults.events;
        check_rate("events.dropRate", e.drop_rate)?;
        check_rate("events.duplicateRate", e.duplicate_rate)?;
        check_rate("events.delayRate", e.delay_rate)?;
        check_rate("events.placementFailureRate", e.placement_failure_rate)?;
        if e.delay_ms > MAX_ADVANCE_MS {
            return Err(ActionError::Invalid {
                field: "events.delayMs".into(),
                message: format!("must be at most {MAX_ADVANCE_MS} (a day)"),
            });
        }
        sim.set_faults(faults);
        self.push_status();
        Ok(json!({"faults": sim.model().faults}))
    }

    /// Turns the simulator's per-API throttling on or off.
    pub fn set_throttling(&self, on: bool) -> Result<Value, ActionError> {
        let sim = self.sources.sim.as_ref().ok_or(ActionError::NoSimulator)?;
        sim.set_throttling(on);
        self.push_status();
        Ok(json!({"throttling": sim.throttling()}))
    }

    /// Moves the stack's clock (handlers and simulator together) forward by `ms`, then lets the
    /// simulator fire what became due (placements, timeouts, lapsed reservations).
    pub async fn advance(&self, ms: u64) -> Result<Value, ActionError> {
        if !(1..=MAX_ADVANCE_MS).contains(&ms) {
            return Err(ActionError::Invalid {
                field: "ms".into(),
                message: format!("must be between 1 and {MAX_ADVANCE_MS} (a day), got {ms}"),
            });
        }
        self.sources.clock.advance(Duration::from_millis(ms));
        if let Some(sim) = &self.sources.sim {
            sim.run_due().await;
        }
        self.push_status();
        Ok(json!({
            "offsetMs": u64::try_from(self.sources.clock.offset().as_millis()).unwrap_or(u64::MAX),
        }))
    }
}

fn check_rate(field: &str, rate: f64) -> Result<(), ActionError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(())
    } else {
        Err(ActionError::Invalid {
            field: field.to_owned(),
            message: format!("must be a probability between 0 and 1, got {rate}"),
        })
    }
}

/// The last [`LISTED_MESSAGES`] of a list, oldest first.
fn last<T>(all: Vec<T>) -> impl Iterator<Item = T> {
    let skip = all.len().saturating_sub(LISTED_MESSAGES);
    all.into_iter().skip(skip)
}

/// A body cut to [`BODY_CHARS`] characters (queue bodies may be 256 KB).
fn shorten(body: &str) -> String {
    match body.char_indices().nth(BODY_CHARS) {
        Some((at, _)) => format!("{}… ({} bytes in all)", &body[..at], body.len()),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::QueueOptions;
    use gamelift_sim::{EventFaults, FaultSpec, Model};

    fn hub(sim: Option<Simulator>) -> Arc<ConsoleHub> {
        let queue = LocalQueue::new(
            QueueOptions::default(),
            "arn:aws:sqs:us-east-1:0:q",
            "us-east-1",
        );
        let health: Arc<dyn Fn() -> Value + Send + Sync> = Arc::new(|| {
            json!({"status": "ok", "components": {
                "dynamodb": {"status": "ok", "url": "http://127.0.0.1:1"},
                "notifier": {"status": "ok", "stream": {"records": 3}},
            }})
        });
        ConsoleHub::new(
            Sources {
                queue,
                sim,
                clock: LocalClock::system(),
                health,
                table: None,
                sweeps: SweepLog::default(),
                sweep_interval: Duration::from_secs(10),
            },
            table_feed(),
        )
    }

    #[tokio::test]
    async fn a_record_on_the_tap_reaches_a_browser_once_the_console_is_open() {
        let hub = hub(None);
        let feed = hub.table_feed.clone();
        hub.start().await;
        let mut browser = hub.subscribe();
        let record = json!({
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"pk": {"S": "P#pl-9"}, "sk": {"S": "P"}},
                "NewImage": {"pk": {"S": "P#pl-9"}, "sk": {"S": "P"}, "placementId": {"S": "pl-9"},
                             "status": {"S": "PENDING"}, "requester": {"S": "svc"},
                             "createdAt": {"S": "2026-01-01T00:00:00.000Z"}}
            }
        });
        feed.send(Arc::new(record)).unwrap();
        let message = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                let m: Value = serde_json::from_str(&browser.recv().await.unwrap()).unwrap();
                if m["type"] == "placement" {
                    return m;
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(message["placement"]["placementId"], "pl-9");
        assert_eq!(hub.snapshot()["placements"][0]["status"], "PENDING");
        hub.close();
    }

    #[tokio::test]
    async fn the_status_shows_the_simulators_fleets_with_free_slots_and_the_queue() {
        let hub = hub(Some(Simulator::new(Model::default())));
        hub.sources.queue.enqueue("an SNS envelope");
        let status = hub.status();
        assert_eq!(status["components"]["dynamodb"], "ok");
        assert_eq!(status["stream"]["records"], 3);
        assert_eq!(status["queue"]["stats"]["enqueued"], 1);
        assert_eq!(status["queue"]["messages"][0]["body"], "an SNS envelope");
        let fleet = &status["sim"]["fleets"][0];
        assert_eq!(fleet["locations"][0]["slots"], 100);
        assert_eq!(fleet["locations"][0]["free"], 100);
        assert_eq!(status["sim"]["throttling"], true);
    }

    #[tokio::test]
    async fn faults_set_from_the_console_are_the_simulators_and_bad_ones_name_the_field() {
        let sim = Simulator::new(Model::default());
        let hub = hub(Some(sim.clone()));
        let faults = Faults {
            events: EventFaults {
                placement_failure_rate: 1.0,
                ..EventFaults::default()
            },
            ..Faults::default()
        };
        hub.set_faults(faults.clone()).unwrap();
        assert_eq!(sim.model().faults, faults);
        let mut bad = Faults::default();
        bad.operations.insert(
            "StartGameSessionPlacement".into(),
            FaultSpec {
                error_rate: 1.5,
                ..FaultSpec::default()
            },
        );
        let Err(ActionError::Invalid { field, .. }) = hub.set_faults(bad) else {
            panic!("a rate above 1 is refused");
        };
        assert_eq!(field, "operations.StartGameSessionPlacement.errorRate");
        let mut unknown = Faults::default();
        unknown
            .operations
            .insert("StartPlacement".into(), FaultSpec::default());
        let Err(ActionError::Invalid { field, .. }) = hub.set_faults(unknown) else {
            panic!("an unknown operation is refused");
        };
        assert_eq!(field, "operations.StartPlacement");
        assert_eq!(sim.model().faults, faults, "refusals change nothing");
        hub.set_throttling(false).unwrap();
        assert!(!sim.throttling());
    }

    #[tokio::test]
    async fn the_clock_moves_only_by_a_sane_step_and_without_a_simulator_faults_are_refused() {
        let hub = hub(None);
        assert_eq!(
            hub.advance(60_000).await.unwrap()["offsetMs"],
            json!(60_000)
        );
        assert!(matches!(
            hub.advance(0).await,
            Err(ActionError::Invalid { field, .. }) if field == "ms"
        ));
        assert!(matches!(
            hub.advance(MAX_ADVANCE_MS + 1).await,
            Err(ActionError::Invalid { .. })
        ));
        assert_eq!(
            hub.set_faults(Faults::default()),
            Err(ActionError::NoSimulator)
        );
    }

    #[test]
    fn long_bodies_are_cut_and_say_how_long_they_were() {
        let body = "é".repeat(BODY_CHARS + 10);
        let cut = shorten(&body);
        assert!(cut.starts_with(&"é".repeat(BODY_CHARS)));
        assert!(cut.ends_with(&format!("({} bytes in all)", body.len())));
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn the_sweep_log_keeps_the_last_runs() {
        let log = SweepLog::default();
        for i in 0..(SWEEP_RUNS + 3) {
            log.record(SweepRun {
                started_ms: i as i64,
                duration_ms: 1,
                summary: Some(SweepSummary::default()),
                error: None,
            });
        }
        let runs = log.runs();
        assert_eq!(runs.len(), SWEEP_RUNS);
        assert_eq!(runs[0].started_ms, 3);
    }
}

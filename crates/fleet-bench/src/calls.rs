//! Calls per operation: the workload through the HTTP gateway and placement-events on the counting
//! fakes, side by side with the docs/architecture.md#functions-and-call-budget budget and nakama-gamelift's documented pattern.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use fleet_core::fakes::{
    FakeGameLift, ManualClock, MemoryNotifier, MemoryStore, SequentialIds, StoreCalls,
};
use fleet_core::ids::GameSessionArn;
use fleet_core::ports::Clock as _;
use fleet_core::time::Timestamp;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet};
use fleet_functions::placement_events;
use serde_json::{Value, json};

use crate::report::{CallRow, Report};
use crate::suites::fulfilled_record;
use fleet_local::gateway::{HttpGateway, mint_token};
use fleet_local::local::{GAME_SERVER_PRINCIPAL, GatewayAuth, SERVICE_PRINCIPAL};
use fleet_local::signing::SigningKey;
use fleet_local::signing::signed;

const FLEET: &str = "fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31";
/// The fleet of the seeded player-gateway sessions (the bench suites' session fixture's fleet).
const GATEWAY_FLEET: &str = "fleet-bench";
/// Operations per kind.
const N: usize = 20;

type FakeDeps =
    Deps<PortSet<MemoryStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

fn config() -> Result<Config, String> {
    let fleets = json!({ GAME_SERVER_PRINCIPAL: [FLEET] }).to_string();
    let vars = BTreeMap::from([
        ("FLEETLIFT_TABLE", "fleetlift".to_owned()),
        ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef0123".to_owned()),
        ("FLEETLIFT_QUEUE_NAME", "fleetlift-queue".to_owned()),
        ("FLEETLIFT_SERVICE_PRINCIPALS", SERVICE_PRINCIPAL.to_owned()),
        ("FLEETLIFT_GAME_SERVER_FLEETS", fleets),
        // The bench's one player starts all N placements before any event ends one.
        ("FLEETLIFT_MAX_PENDING_PER_PLAYER", N.to_string()),
        // The bench's seeded sessions stand for a fleet with the player gateway.
        ("FLEETLIFT_PLAYER_GATEWAY_FLEETS", GATEWAY_FLEET.to_owned()),
    ]);
    Config::from_lookup(|k| vars.get(k).cloned()).map_err(|e| e.to_string())
}

struct Counter<'a> {
    deps: &'a FakeDeps,
    store: StoreCalls,
    gamelift: usize,
}

impl<'a> Counter<'a> {
    fn start(deps: &'a FakeDeps) -> Self {
        Self {
            deps,
            store: deps.store.calls(),
            gamelift: deps.gamelift.calls().len(),
        }
    }

    /// (GameLift, reads, writes) since the start.
    fn delta(&self) -> (u64, u64, u64) {
        let now = self.deps.store.calls();
        (
            (self.deps.gamelift.calls().len() - self.gamelift) as u64,
            now.reads - self.store.reads,
            now.writes - self.store.writes,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    operation: &str,
    count: usize,
    (g, r, w): (u64, u64, u64),
    budget: &str,
    within: impl Fn(f64, f64, f64) -> bool,
    nakama: f64,
    nakama_calls: &str,
) -> CallRow {
    let n = count.max(1) as f64;
    let (g, r, w) = (g as f64 / n, r as f64 / n, w as f64 / n);
    CallRow {
        operation: operation.into(),
        count: count as u64,
        gamelift: g,
        dynamo_reads: r,
        dynamo_writes: w,
        budget: budget.into(),
        within_budget: count > 0 && within(g, r, w),
        nakama_gamelift: nakama,
        nakama_calls: nakama_calls.into(),
    }
}

/// Runs the workload and adds its table to the report.
pub(crate) async fn run(report: &mut Report) {
    if let Err(e) = workload(report).await {
        report.note(format!("calls per operation: {e}"));
    }
}

async fn ok(r: Result<reqwest::Response, reqwest::Error>, what: &str) -> Result<Value, String> {
    let r = r.map_err(|e| format!("{what}: {e}"))?;
    let status = r.status();
    let text = r.text().await.map_err(|e| format!("{what}: {e}"))?;
    if !status.is_success() {
        return Err(format!("{what}: {status} {text}"));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn workload(report: &mut Report) -> Result<(), String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let deps = Arc::new(Deps {
        store: MemoryStore::new(),
        gamelift: FakeGameLift::new(),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(Timestamp::from_millis(now)),
        ids: SequentialIds::default(),
        config: config()?,
        cache: Default::default(),
    });
    let auth = Arc::new(GatewayAuth::local([]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let health: Arc<dyn Fn() -> Value + Send + Sync> = Arc::new(|| json!({"status": "ok"}));
    let task = HttpGateway::serve(listener, deps.clone(), auth.clone(), health)
        .await
        .map_err(|e| e.to_string())?;
    let result = drive(&deps, &auth, &base, report).await;
    task.abort();
    result
}

/// The player who creates the placements.
const PLAYER: &str = "calls-player";
/// The player who joins the sessions.
const FRIEND: &str = "calls-friend";

/// Drives every group of calls through the gateway, then sets and prints the calls table.
async fn drive(
    deps: &FakeDeps,
    auth: &GatewayAuth,
    base: &str,
    report: &mut Report,
) -> Result<(), String> {
    let mut driver = Driver::new(deps, auth, base);
    let placements = driver.create_placements().await?;
    let ids = driver.fulfil_placements(&placements).await?;
    driver.get_and_list(&ids).await?;
    driver.join_and_update(&ids).await?;
    driver.locations().await?;
    driver.lock_unlock(&ids).await?;
    driver.player_gateway().await?;
    report.calls = driver.rows;
    print_calls(&report.calls);
    Ok(())
}

/// What the groups of calls share: the fakes, the gateway, the callers' credentials and the rows so far.
struct Driver<'a> {
    deps: &'a FakeDeps,
    base: &'a str,
    http: reqwest::Client,
    token: String,
    friend_token: String,
    game_server: SigningKey,
    /// The calls table, one row per operation, in the order they are driven.
    rows: Vec<CallRow>,
}

impl<'a> Driver<'a> {
    /// A driver with tokens for the player and the friend and the fleet's game-server key.
    fn new(deps: &'a FakeDeps, auth: &GatewayAuth, base: &'a str) -> Self {
        Self {
            deps,
            base,
            http: reqwest::Client::new(),
            token: mint_token(auth, PLAYER, 3600),
            friend_token: mint_token(auth, FRIEND, 3600),
            game_server: SigningKey {
                access_key: fleet_local::local::GAME_SERVER_ACCESS_KEY.into(),
                secret: fleet_local::local::GAME_SERVER_SECRET.into(),
            },
            rows: Vec::new(),
        }
    }

    /// GET `path` as the player.
    async fn player_get(&self, path: &str, what: &str) -> Result<Value, String> {
        ok(
            self.http
                .get(format!("{}{path}", self.base))
                .bearer_auth(&self.token)
                .send()
                .await,
            what,
        )
        .await
    }

    /// POST `body` to `path` as the friend.
    async fn friend_post(&self, path: &str, body: &Value, what: &str) -> Result<Value, String> {
        ok(
            self.http
                .post(format!("{}{path}", self.base))
                .bearer_auth(&self.friend_token)
                .json(body)
                .send()
                .await,
            what,
        )
        .await
    }

    /// Sends `body` to `path` SigV4-signed by the fleet's game server.
    async fn game_server_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: String,
        what: &str,
    ) -> Result<Value, String> {
        let req = signed(
            &self.http,
            method,
            &format!("{}{path}", self.base),
            Some(body),
            &self.game_server,
        )?;
        ok(req.send().await, what).await
    }

    /// N creates by the player; returns their placement ids.
    async fn create_placements(&mut self) -> Result<Vec<String>, String> {
        let c = Counter::start(self.deps);
        let mut placements = Vec::new();
        for i in 0..N {
            let body = json!({"maxPlayers": 8, "players": [{"playerId": PLAYER}], "properties": {"mode": "ranked"}, "name": format!("calls-{i}")});
            let v = ok(
                self.http
                    .post(format!("{}/v1/sessions", self.base))
                    .bearer_auth(&self.token)
                    .json(&body)
                    .send()
                    .await,
                "create",
            )
            .await?;
            placements.push(v["placementId"].as_str().unwrap_or_default().to_owned());
        }
        self.rows.push(row(
            "create",
            N,
            c.delta(),
            "1 StartGameSessionPlacement + ≤2 writes",
            |g, _, w| g == 1.0 && w <= 2.0,
            1.0,
            "StartGameSessionPlacement",
        ));
        Ok(placements)
    }

    /// Fulfils the placements onto N active GameLift sessions with placement-events, in batches of
    /// 10; returns the sessions' ids.
    async fn fulfil_placements(&mut self, placements: &[String]) -> Result<Vec<String>, String> {
        let arns: Vec<String> = (0..N)
            .map(|i| format!("arn:aws:gamelift:us-east-1::gamesession/{FLEET}/gsess-calls-{i}"))
            .collect();
        for arn in &arns {
            if let Ok(a) = GameSessionArn::parse(arn) {
                self.deps.gamelift.add_session(&a, "ACTIVE", 8);
            }
        }
        let c = Counter::start(self.deps);
        for (b, chunk) in placements.chunks(10).enumerate() {
            let mut event = SqsEvent::default();
            event.records = chunk
                .iter()
                .enumerate()
                .map(|(j, p)| fulfilled_record(p, &arns[b * 10 + j], PLAYER, b * 10 + j))
                .collect();
            let (response, _) = placement_events::process(&self.deps.store, event).await;
            if !response.batch_item_failures.is_empty() {
                return Err(format!(
                    "events: {} failed records",
                    response.batch_item_failures.len()
                ));
            }
        }
        self.rows.push(row(
            "fulfilled event",
            N,
            c.delta(),
            "no GameLift call, ≤2 writes",
            |g, _, w| g == 0.0 && w <= 2.0,
            1.0,
            "DescribeGameSessions",
        ));
        Ok(arns
            .iter()
            .filter_map(|a| GameSessionArn::parse(a).ok())
            .map(|a| a.session_id().into_string())
            .collect())
    }

    /// A get of each session, then N filtered and N unfiltered list pages.
    async fn get_and_list(&mut self, ids: &[String]) -> Result<(), String> {
        let c = Counter::start(self.deps);
        for id in ids {
            self.player_get(&format!("/v1/sessions/{id}"), "get")
                .await?;
        }
        let get = c.delta();
        let c = Counter::start(self.deps);
        let filtered = format!(
            "/v1/sessions?query={}&limit=10",
            crate::encode("+properties.mode:ranked")
        );
        for _ in 0..N {
            self.player_get(&filtered, "list").await?;
        }
        let list_filtered = c.delta();
        let c = Counter::start(self.deps);
        for _ in 0..N {
            self.player_get("/v1/sessions?limit=10", "list").await?;
        }
        let list_all = c.delta();
        self.rows.extend([
            row(
                "get",
                N,
                get,
                "1 read",
                |g, r, w| g == 0.0 && r == 1.0 && w == 0.0,
                0.0,
                "its own storage",
            ),
            row(
                "list page (filtered)",
                N,
                list_filtered,
                "1 Query",
                |g, r, w| g == 0.0 && r == 1.0 && w == 0.0,
                0.0,
                "its own storage index",
            ),
            row(
                "list page (unfiltered)",
                N,
                list_all,
                "1 Query",
                |g, r, w| g == 0.0 && r == 1.0 && w == 0.0,
                1.0,
                "SearchGameSessions",
            ),
        ]);
        Ok(())
    }

    /// The friend joins each session; then the game server updates each one's player count, and
    /// then its properties too.
    async fn join_and_update(&mut self, ids: &[String]) -> Result<(), String> {
        let c = Counter::start(self.deps);
        for id in ids {
            let body = json!({"players": [{"playerId": FRIEND}]});
            self.friend_post(&format!("/v1/sessions/{id}/join"), &body, "join")
                .await?;
        }
        let join = c.delta();
        let c = Counter::start(self.deps);
        for id in ids {
            let body = json!({"id": id, "playerCount": 2}).to_string();
            self.game_server_call(
                reqwest::Method::POST,
                "/v1/rpc/update_instance_info",
                body,
                "update",
            )
            .await?;
        }
        let update = c.delta();
        let c = Counter::start(self.deps);
        for id in ids {
            let body =
                json!({"id": id, "playerCount": 2, "metadata": {"GameProperties": {"mode": "casual"}}})
                    .to_string();
            self.game_server_call(
                reqwest::Method::POST,
                "/v1/rpc/update_instance_info",
                body,
                "update",
            )
            .await?;
        }
        let update_props = c.delta();
        self.rows.extend([
            row(
                "join",
                N,
                join,
                "1 CreatePlayerSessions + 1 transaction + 1 write (player sessions on their seats)",
                |g, r, w| g == 1.0 && r <= 1.0 && w <= 2.0,
                1.0,
                "CreatePlayerSession",
            ),
            row(
                "update (player count)",
                N,
                update,
                "1 write, no UpdateGameSession",
                |g, _, w| g == 0.0 && w == 1.0,
                1.0,
                "UpdateGameSession",
            ),
            row(
                "update (properties changed)",
                N,
                update_props,
                "1 write + UpdateGameSession",
                |g, _, w| g <= 1.0 && w == 1.0,
                1.0,
                "UpdateGameSession",
            ),
        ]);
        Ok(())
    }

    /// One locations request on a cold container, then N on the warm one.
    async fn locations(&mut self) -> Result<(), String> {
        // Locations: the first request fills the container's cache; the next N cost no GameLift call.
        let c = Counter::start(self.deps);
        self.player_get("/v1/locations", "locations").await?;
        let locations_cold = c.delta();
        let c = Counter::start(self.deps);
        for _ in 0..N {
            self.player_get("/v1/locations", "locations").await?;
        }
        let locations_warm = c.delta();
        self.rows.extend([
            row(
                "locations (cold container)",
                1,
                locations_cold,
                "1 ListLocations, no table access",
                |g, r, w| g == 1.0 && r == 0.0 && w == 0.0,
                0.0,
                "none (no such operation)",
            ),
            row(
                "locations (warm container)",
                N,
                locations_warm,
                "no call at all (cached 10 min)",
                |g, r, w| g == 0.0 && r == 0.0 && w == 0.0,
                0.0,
                "none (no such operation)",
            ),
        ]);
        Ok(())
    }

    /// Locks and unlocks the sessions alternately.
    async fn lock_unlock(&mut self, ids: &[String]) -> Result<(), String> {
        // Lock and unlock by the fleet's game server.
        let c = Counter::start(self.deps);
        for (i, id) in ids.iter().enumerate() {
            let body = json!({"joinable": i % 2 == 1}).to_string();
            self.game_server_call(
                reqwest::Method::PATCH,
                &format!("/v1/sessions/{id}"),
                body,
                "lock",
            )
            .await?;
        }
        self.rows.push(row(
            "lock / unlock",
            N,
            c.delta(),
            "2 reads (fleet, then seats) + 1 UpdateGameSession + 1 transaction",
            |g, r, w| g == 1.0 && r <= 2.0 && w == 1.0,
            0.0,
            "none (no such operation)",
        ));
        Ok(())
    }

    /// Seeds N sessions on a gateway fleet; the friend joins each, then refreshes its connection.
    async fn player_gateway(&mut self) -> Result<(), String> {
        // Player gateway: joins and token refreshes on a gateway fleet's sessions.
        let deps = self.deps;
        let gateway_sessions: Vec<_> = (0..N)
            .filter_map(|i| {
                crate::suites::session(
                    "calls-gw",
                    i,
                    "us-east-1",
                    "ranked",
                    8,
                    deps.clock.now().millis(),
                )
            })
            .collect();
        deps.store.seed_sessions(&gateway_sessions);
        deps.gamelift.enable_gateway(GATEWAY_FLEET);
        for s in &gateway_sessions {
            deps.gamelift.add_session(&s.arn, "ACTIVE", 8);
        }
        let body = json!({"players": [{"playerId": FRIEND}]});
        let c = Counter::start(deps);
        for s in &gateway_sessions {
            let path = format!("/v1/sessions/{}/join", s.id);
            self.friend_post(&path, &body, "gateway join").await?;
        }
        let gateway_join = c.delta();
        let c = Counter::start(deps);
        for s in &gateway_sessions {
            let path = format!("/v1/sessions/{}/connection", s.id);
            self.friend_post(&path, &body, "connection refresh").await?;
        }
        let refresh = c.delta();
        self.rows.extend([
            row(
                "join (player-gateway fleet)",
                N,
                gateway_join,
                "the join's budget + 1 GetPlayerConnectionDetails",
                |g, r, w| g == 2.0 && r <= 1.0 && w <= 2.0,
                1.0,
                "CreatePlayerSession (no gateway)",
            ),
            row(
                "connection refresh (gateway)",
                N,
                refresh,
                "1 read + 1 GetPlayerConnectionDetails",
                |g, r, w| g == 1.0 && r == 1.0 && w == 0.0,
                0.0,
                "none (no such operation)",
            ),
        ]);
        Ok(())
    }
}

/// Prints each operation's calls and whether they are within budget.
fn print_calls(calls: &[CallRow]) {
    for c in calls {
        eprintln!(
            "bench: calls: {} → GameLift {:.2}, reads {:.2}, writes {:.2} ({})",
            c.operation,
            c.gamelift,
            c.dynamo_reads,
            c.dynamo_writes,
            if c.within_budget {
                "within budget"
            } else {
                "OVER budget"
            }
        );
    }
}

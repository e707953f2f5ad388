//! Calls per operation: the workload through the HTTP gateway and placement-events on the counting
//! fakes, side by side with the docs/architecture.md#functions-and-call-budget budget and nakama-gamelift's documented pattern.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use fleet_core::fakes::StoreCalls;
use fleet_core::ids::GameSessionArn;
use fleet_core::ports::Clock as _;
use fleet_functions::config::Config;
use fleet_functions::placement_events;
use reqwest::Method;
use serde_json::{Value, json};

use crate::report::{CallRow, Report};
use crate::suites::fulfilled_record;
use fleet_local::gateway::{HttpGateway, mint_token};
use fleet_local::local::{FakeDeps, GatewayAuth, fake_deps, fakes_config};
use fleet_local::signing::SigningKey;
use fleet_local::signing::signed;

const FLEET: &str = "fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31";
/// The fleet of the seeded player-gateway sessions (the bench suites' session fixture's fleet).
const GATEWAY_FLEET: &str = "fleet-bench";
/// Operations per kind.
const N: usize = 20;

fn config() -> Result<Config, String> {
    let extra = [
        // The bench's one player starts all N placements before any event ends one.
        ("FLEETLIFT_MAX_PENDING_PER_PLAYER", N.to_string()),
        // The bench's seeded sessions stand for a fleet with the player gateway.
        ("FLEETLIFT_PLAYER_GATEWAY_FLEETS", GATEWAY_FLEET.to_owned()),
    ];
    fakes_config(FLEET, &extra).map_err(|e| e.to_string())
}

/// Calls to the fakes: (GameLift, DynamoDB reads, DynamoDB writes).
type Calls = (u64, u64, u64);

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

    /// The calls since the start.
    fn delta(&self) -> Calls {
        let now = self.deps.store.calls();
        (
            (self.deps.gamelift.calls().len() - self.gamelift) as u64,
            now.reads - self.store.reads,
            now.writes - self.store.writes,
        )
    }
}

impl CallRow {
    /// `count` runs of `operation` that made `calls` in all: its calls per run.
    fn measured(operation: &str, count: usize, (g, r, w): Calls) -> Self {
        let n = count.max(1) as f64;
        Self {
            operation: operation.into(),
            count: count as u64,
            gamelift: g as f64 / n,
            dynamo_reads: r as f64 / n,
            dynamo_writes: w as f64 / n,
            budget: String::new(),
            within_budget: false,
            nakama_gamelift: 0.0,
            nakama_calls: String::new(),
        }
    }

    /// The row against `budget`, which its calls per run (GameLift, reads, writes) are within when
    /// `within` says so.
    fn budget(mut self, budget: &str, within: impl Fn(f64, f64, f64) -> bool) -> Self {
        self.budget = budget.into();
        self.within_budget =
            self.count > 0 && within(self.gamelift, self.dynamo_reads, self.dynamo_writes);
        self
    }

    /// The row beside nakama-gamelift's pattern: `calls`, `gamelift` GameLift calls per run.
    fn nakama(mut self, gamelift: f64, calls: &str) -> Self {
        self.nakama_gamelift = gamelift;
        self.nakama_calls = calls.into();
        self
    }
}

/// The join's budget, as docs/architecture.md#functions-and-call-budget states it.
const JOIN_BUDGET: &str =
    "1 CreatePlayerSessions + 1 transaction + 1 write (player sessions on their seats)";

/// The join's budget with `gamelift` GameLift calls: at most 1 read and 2 writes.
fn join_within(gamelift: f64) -> impl Fn(f64, f64, f64) -> bool {
    move |g, r, w| g == gamelift && r <= 1.0 && w <= 2.0
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
    let deps = Arc::new(fake_deps(config()?));
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

    /// `method` to `path` with `token` (and `body`, as JSON), answered with a success.
    async fn bearer_call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, String> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        ok(request.send().await, what).await
    }

    /// GET `path` as the player.
    async fn player_get(&self, path: &str, what: &str) -> Result<Value, String> {
        self.bearer_call(Method::GET, path, &self.token, None, what)
            .await
    }

    /// POST `body` to `path` as the friend.
    async fn friend_post(&self, path: &str, body: &Value, what: &str) -> Result<Value, String> {
        self.bearer_call(Method::POST, path, &self.friend_token, Some(body), what)
            .await
    }

    /// Sends `body` to `path` SigV4-signed by the fleet's game server.
    async fn game_server_call(
        &self,
        method: Method,
        path: &str,
        body: &Value,
        what: &str,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let req = signed(
            &self.http,
            method,
            &url,
            Some(body.to_string()),
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
            let created = self.bearer_call(
                Method::POST,
                "/v1/sessions",
                &self.token,
                Some(&body),
                "create",
            );
            let v = created.await?;
            placements.push(v["placementId"].as_str().unwrap_or_default().to_owned());
        }
        self.rows.push(
            CallRow::measured("create", N, c.delta())
                .budget("1 StartGameSessionPlacement + ≤2 writes", |g, _, w| {
                    g == 1.0 && w <= 2.0
                })
                .nakama(1.0, "StartGameSessionPlacement"),
        );
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
        self.rows.push(
            CallRow::measured("fulfilled event", N, c.delta())
                .budget("no GameLift call, ≤2 writes", |g, _, w| {
                    g == 0.0 && w <= 2.0
                })
                .nakama(1.0, "DescribeGameSessions"),
        );
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
        let filtered = format!(
            "/v1/sessions?query={}&limit=10",
            crate::encode("+properties.mode:ranked")
        );
        let list_filtered = self.list_pages(&filtered).await?;
        let list_all = self.list_pages("/v1/sessions?limit=10").await?;
        let one_read = |g, r, w| g == 0.0 && r == 1.0 && w == 0.0;
        // A page reads the keys-only index, then its sessions back in one BatchGetItem.
        let two_reads = |g, r, w| g == 0.0 && r == 2.0 && w == 0.0;
        self.rows.extend([
            CallRow::measured("get", N, get)
                .budget("1 read", one_read)
                .nakama(0.0, "its own storage"),
            CallRow::measured("list page (filtered)", N, list_filtered)
                .budget("1 Query + 1 BatchGetItem", two_reads)
                .nakama(0.0, "its own storage index"),
            CallRow::measured("list page (unfiltered)", N, list_all)
                .budget("1 Query + 1 BatchGetItem", two_reads)
                .nakama(1.0, "SearchGameSessions"),
        ]);
        Ok(())
    }

    /// N list pages at `path` as the player: their calls.
    async fn list_pages(&self, path: &str) -> Result<Calls, String> {
        let c = Counter::start(self.deps);
        for _ in 0..N {
            self.player_get(path, "list").await?;
        }
        Ok(c.delta())
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
        let update = self.update_each(ids, json!({"playerCount": 2})).await?;
        let properties =
            json!({"playerCount": 2, "metadata": {"GameProperties": {"mode": "casual"}}});
        let update_props = self.update_each(ids, properties).await?;
        self.rows.extend([
            CallRow::measured("join", N, join)
                .budget(JOIN_BUDGET, join_within(1.0))
                .nakama(1.0, "CreatePlayerSession"),
            CallRow::measured("update (player count)", N, update)
                .budget("1 write, no UpdateGameSession", |g, _, w| {
                    g == 0.0 && w == 1.0
                })
                .nakama(1.0, "UpdateGameSession"),
            CallRow::measured("update (properties changed)", N, update_props)
                .budget("1 write + UpdateGameSession", |g, _, w| {
                    g <= 1.0 && w == 1.0
                })
                .nakama(1.0, "UpdateGameSession"),
        ]);
        Ok(())
    }

    /// The game server's update_instance_info of each session with `fields`: their calls.
    async fn update_each(&self, ids: &[String], fields: Value) -> Result<Calls, String> {
        let c = Counter::start(self.deps);
        for id in ids {
            let mut body = fields.clone();
            body["id"] = json!(id);
            let path = "/v1/rpc/update_instance_info";
            self.game_server_call(Method::POST, path, &body, "update")
                .await?;
        }
        Ok(c.delta())
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
        let no_such = "none (no such operation)";
        self.rows.extend([
            CallRow::measured("locations (cold container)", 1, locations_cold)
                .budget("1 ListLocations, no table access", |g, r, w| {
                    g == 1.0 && r == 0.0 && w == 0.0
                })
                .nakama(0.0, no_such),
            CallRow::measured("locations (warm container)", N, locations_warm)
                .budget("no call at all (cached 10 min)", |g, r, w| {
                    g == 0.0 && r == 0.0 && w == 0.0
                })
                .nakama(0.0, no_such),
        ]);
        Ok(())
    }

    /// Locks and unlocks the sessions alternately.
    async fn lock_unlock(&mut self, ids: &[String]) -> Result<(), String> {
        // Lock and unlock by the fleet's game server.
        let c = Counter::start(self.deps);
        for (i, id) in ids.iter().enumerate() {
            let body = json!({"joinable": i % 2 == 1});
            let path = format!("/v1/sessions/{id}");
            self.game_server_call(Method::PATCH, &path, &body, "lock")
                .await?;
        }
        self.rows.push(
            CallRow::measured("lock / unlock", N, c.delta())
                .budget(
                    "2 reads (fleet, then seats) + 1 UpdateGameSession + 1 transaction",
                    |g, r, w| g == 1.0 && r <= 2.0 && w == 1.0,
                )
                .nakama(0.0, "none (no such operation)"),
        );
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
            CallRow::measured("join (player-gateway fleet)", N, gateway_join)
                .budget(
                    "the join's budget + 1 GetPlayerConnectionDetails",
                    join_within(2.0),
                )
                .nakama(1.0, "CreatePlayerSession (no gateway)"),
            CallRow::measured("connection refresh (gateway)", N, refresh)
                .budget("1 read + 1 GetPlayerConnectionDetails", |g, r, w| {
                    g == 1.0 && r == 1.0 && w == 0.0
                })
                .nakama(0.0, "none (no such operation)"),
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

//! The recorded mix: a fresh table on DynamoDB Local, seeded with ACTIVE sessions written by the store's
//! own seeding path (the items a fulfilment writes), then every operation of the workload run through
//! its real handler — `api::handle`, `placement_events::handle`, `notifier::handle`, `rpc::handle`,
//! `sweeper::sweep` — on a `DynamoStore` whose client records every request (see
//! [`crate::recorder`]). GameLift, the WebSocket pushes, the clock and nothing else are fakes.
//!
//! Each handler call is settled on its own: its requests are charged to partition key values and
//! normalised into patterns, summed per operation.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::{DynamoStore, create_table, local_client, table_spec};
use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier};
use fleet_core::ids::{ConnectionId, FleetId, GameSessionArn, Region};
use fleet_core::input::GameProperties;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{Connection, ConnectionStore};
use fleet_core::time::Timestamp;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet, UuidIds};
use fleet_functions::sweeper;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::Error;
use crate::keys;
use crate::model::{Op, Sample, Target};
use crate::recorder::{Item, Recorder, Shadow, recording_client};

/// The label of the base table in the output (its logical id in template.yaml).
pub const TABLE_LABEL: &str = "Table";

/// 2026-11-25T10:00:00Z: the mix's clock.
const T0: Timestamp = Timestamp::from_millis(1_795_600_800_000);
/// The account of every principal.
const ACCOUNT: &str = "123456789012";
/// The backend service's role.
const SERVICE_ROLE: &str = "arn:aws:iam::123456789012:role/fleetlift-backend";
/// The backend service, as its STS session arrives.
const SERVICE: &str = "arn:aws:sts::123456789012:assumed-role/fleetlift-backend/matchmaker-1";
/// The game servers' role.
const GAME_SERVER_ROLE: &str = "arn:aws:iam::123456789012:role/fleetlift-game-server";
/// A game server.
const GAME_SERVER: &str =
    "arn:aws:sts::123456789012:assumed-role/fleetlift-game-server/i-0a1b2c3d4e5f60718";
/// Regions sessions may be spread over, in order.
pub const REGIONS: [&str; 10] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-northeast-1",
    "ap-southeast-2",
    "sa-east-1",
    "ap-south-1",
    "ca-central-1",
    "eu-north-1",
];
/// A session's name, properties and player data, as the API's sample create carries them.
const NAME: &str = "friday lobby";
const PLAYER_DATA: &str = "{\"skill\":1200}";

/// How the mix is sampled and shaped.
#[derive(Debug, Clone, PartialEq)]
pub struct MixOptions {
    /// ACTIVE sessions seeded before recording (reports, joins and lists work on them).
    pub sample_sessions: usize,
    /// Invocations recorded per operation.
    pub samples_per_op: usize,
    /// Regions the sessions are spread over (at most [`REGIONS`]).
    pub regions: u32,
    /// Fleets per Region.
    pub fleets_per_region: u32,
    /// Players per create.
    pub players_per_create: u32,
    /// Players per join.
    pub players_per_join: u32,
    /// `maxPlayers` of every session.
    pub max_players: u32,
    /// The sweeper's budget (`FLEETLIFT_SWEEP_BUDGET`).
    pub sweep_budget: u32,
    /// What DynamoDB Local's index units of a transaction are divided by (see
    /// [`crate::recorder::LOCAL_TRANSACTION_INDEX_FACTOR`]).
    pub transaction_index_factor: f64,
}

impl Default for MixOptions {
    fn default() -> Self {
        Self {
            sample_sessions: 400,
            samples_per_op: 100,
            regions: 1,
            fleets_per_region: 1,
            players_per_create: 1,
            players_per_join: 1,
            max_players: 8,
            sweep_budget: 500,
            transaction_index_factor: crate::recorder::LOCAL_TRANSACTION_INDEX_FACTOR,
        }
    }
}

/// What the mix recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Capacity per operation and pattern.
    pub sample: Sample,
    /// ACTIVE sessions one GameLift call of the sweeper's session checks covered.
    pub sweeper_sessions_per_call: f64,
    /// Distinct values the recorded requests used per index partition key (a sanity check).
    pub index_values: BTreeMap<String, usize>,
}

type MixDeps = Deps<PortSet<DynamoStore, FakeGameLift, MemoryNotifier, ManualClock, UuidIds>>;

struct Driver {
    deps: MixDeps,
    recorder: Recorder,
    shadow: Shadow,
    plain: Client,
    table: String,
    sample: Sample,
    fleets: Vec<(String, String)>,
    opts: MixOptions,
}

fn err(what: impl std::fmt::Display) -> Error {
    Error(what.to_string())
}

/// The fleet id of fleet `f` of Region `r`, shaped like GameLift's.
fn fleet_id(r: usize, f: u32) -> String {
    format!("fleet-{r:08x}-0000-4000-8000-{f:012x}")
}

fn properties() -> Result<GameProperties, Error> {
    GameProperties::parse(BTreeMap::from([
        ("mode".to_owned(), "ranked".to_owned()),
        ("map".to_owned(), "harbor".to_owned()),
    ]))
    .map_err(err)
}

/// Who calls.
enum Who<'a> {
    Player(&'a str),
    Iam(&'a str),
}

/// An API Gateway HTTP API v2 event, converted exactly as the Lambda runtime does.
fn http_request(
    method: &str,
    path: &str,
    query: &str,
    body: Option<&Value>,
    who: &Who<'_>,
    headers: &[(&str, &str)],
) -> Result<Request, Error> {
    let authorizer = match who {
        Who::Player(sub) => json!({"jwt": {"claims": {
            "sub": sub, "iss": "https://auth.example.com/", "aud": "fleetlift-players",
            "iat": "1795600800", "exp": "1795604400"}, "scopes": null}}),
        Who::Iam(arn) => json!({"iam": {
            "accessKey": "ASIAQ3EGRVKT5EXAMPLE", "accountId": ACCOUNT, "callerId": "AROAEXAMPLE:session",
            "cognitoIdentity": null, "principalOrgId": null, "userArn": arn, "userId": "AROAEXAMPLE:session"}}),
    };
    let mut h = json!({"host": "k7x2m9q4ab.execute-api.us-east-1.amazonaws.com", "x-forwarded-proto": "https"});
    if body.is_some() {
        h["content-type"] = json!("application/json");
    }
    for (k, v) in headers {
        h[*k] = json!(v);
    }
    let route = format!("{method} {path}");
    let mut e = json!({
        "version": "2.0", "routeKey": route, "rawPath": path, "rawQueryString": query, "headers": h,
        "requestContext": {
            "accountId": ACCOUNT, "apiId": "k7x2m9q4ab", "domainName": "k7x2m9q4ab.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "k7x2m9q4ab", "requestId": "capacity", "routeKey": route, "stage": "$default",
            "time": "25/Nov/2026:10:00:00 +0000", "timeEpoch": T0.millis(),
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.24", "userAgent": "fleet-capacity"},
            "authorizer": authorizer,
        },
        "isBase64Encoded": false,
    });
    if let Some(b) = body {
        e["body"] = json!(b.to_string());
    }
    let lambda: lambda_http::request::LambdaRequest = serde_json::from_value(e).map_err(err)?;
    Ok(Request::from(lambda))
}

/// Status and JSON body of an answer.
fn answer(r: &Response<Body>) -> (u16, Value) {
    let bytes: &[u8] = r.body();
    (
        r.status().as_u16(),
        serde_json::from_slice(bytes).unwrap_or(Value::Null),
    )
}

fn expect(op: &str, (status, body): (u16, Value), want: u16) -> Result<Value, Error> {
    if status == want {
        Ok(body)
    } else {
        Err(Error(format!(
            "{op}: expected {want}, got {status}: {body}"
        )))
    }
}

/// An SQS record carrying a GameLift placement event in its SNS envelope, as the queue delivers it.
fn sqs_record(message_id: &str, event: &Value) -> Result<SqsMessage, Error> {
    let envelope = json!({
        "Type": "Notification", "MessageId": message_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placement-events",
        "Message": event.to_string(), "Timestamp": "2026-11-25T10:00:02.310Z", "SignatureVersion": "1",
    });
    serde_json::from_value(json!({
        "messageId": message_id, "receiptHandle": "AQEBexample", "body": envelope.to_string(),
        "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fleetlift-placement-events",
        "awsRegion": "us-east-1",
    }))
    .map_err(err)
}

impl Driver {
    /// Settles the requests since the last settle; an `op` charges them to it, `None` (set-up) only
    /// moves the shadow on.
    async fn settle(&mut self, op: Option<Op>, invocations: u64) -> Result<(), Error> {
        let calls = self.recorder.drain();
        let settled = self
            .shadow
            .settle(&calls, &self.plain)
            .await
            .map_err(Error)?;
        let Some(op) = op else {
            return Ok(());
        };
        let rec = self.sample.ops.entry(op).or_default();
        rec.invocations += invocations;
        rec.requests += settled.requests;
        rec.failed += settled.failed;
        rec.estimated_wcu += settled.estimated_wcu;
        for c in settled.charges {
            let table = if c.index {
                c.target
            } else if c.target == self.table {
                TABLE_LABEL.to_owned()
            } else {
                c.target
            };
            let key = keys::normalise(&c.attribute, &c.value);
            let u = rec.units.entry(Target { table, key }).or_default();
            u.wcu += c.wcu;
            u.rcu += c.rcu;
        }
        Ok(())
    }

    fn config(
        table: &str,
        opts: &MixOptions,
        fleets: &[(String, String)],
    ) -> Result<Config, Error> {
        let fleet_ids: Vec<&str> = fleets.iter().map(|(_, f)| f.as_str()).collect();
        let game_servers = json!({ GAME_SERVER_ROLE: fleet_ids }).to_string();
        let vars: BTreeMap<&str, String> = BTreeMap::from([
            ("FLEETLIFT_TABLE", table.to_owned()),
            (
                "FLEETLIFT_CURSOR_SECRET",
                "fleet-capacity-cursor-secret".to_owned(),
            ),
            ("FLEETLIFT_QUEUE_NAME", "fleetlift-queue".to_owned()),
            ("FLEETLIFT_SERVICE_PRINCIPALS", SERVICE_ROLE.to_owned()),
            ("FLEETLIFT_GAME_SERVER_FLEETS", game_servers),
            ("FLEETLIFT_SWEEP_BUDGET", opts.sweep_budget.to_string()),
        ]);
        Config::from_lookup(|k| vars.get(k).cloned()).map_err(err)
    }

    fn session(
        &self,
        i: usize,
        created_at: Timestamp,
        player_count: u32,
    ) -> Result<Session, Error> {
        let (region, fleet) = self.fleets[i % self.fleets.len()].clone();
        let arn = GameSessionArn::parse(&format!(
            "arn:aws:gamelift:{region}::gamesession/{fleet}/gsess-{}",
            uuid::Uuid::new_v4()
        ))
        .map_err(err)?;
        let max = self.opts.max_players;
        Ok(Session {
            id: arn.session_id(),
            region: Region::parse(&region).map_err(err)?,
            fleet_id: FleetId::parse(&fleet).map_err(err)?,
            arn,
            status: SessionStatus::Active,
            name: Some(NAME.to_owned()),
            data: None,
            properties: properties()?,
            player_count,
            max_players: max,
            reserved_seats: 0,
            open_slots: max.saturating_sub(player_count),
            joinable: true,
            protected: false,
            ip_address: "203.0.113.17".into(),
            dns_name: "ec2-203-0-113-17.compute-1.amazonaws.com".into(),
            port: 7777,
            created_at,
            updated_at: created_at,
        })
    }

    async fn plain_get(&self, pk: String, sk: &str) -> Result<Option<Item>, Error> {
        let out = self
            .plain
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(err)?;
        Ok(out.item)
    }

    async fn create(&mut self, k: usize) -> Result<(String, Vec<String>), Error> {
        let n = self.opts.players_per_create.max(1) as usize;
        let players: Vec<String> = (0..n)
            .map(|j| {
                if j == 0 {
                    format!("player-c{k}")
                } else {
                    format!("player-c{k}-{j}")
                }
            })
            .collect();
        // Every named player has a live WebSocket connection, so the result is pushed to it.
        for (j, p) in players.iter().enumerate() {
            let id = ConnectionId::parse(&format!("c{k:07}x{j:03}A=")).map_err(err)?;
            let row = Connection {
                id,
                user: p.clone(),
                connected_at: T0,
                expires_at: T0.plus_secs(7200),
            };
            self.deps.store.put_connection(&row).await.map_err(err)?;
        }
        self.settle(None, 0).await?;
        let regions: Vec<&str> = REGIONS
            .iter()
            .take(self.opts.regions as usize)
            .copied()
            .collect();
        let body = json!({
            "maxPlayers": self.opts.max_players,
            "players": players.iter().map(|p| json!({"playerId": p, "playerData": PLAYER_DATA})).collect::<Vec<_>>(),
            "latencies": players.iter().flat_map(|p| regions.iter().map(move |r| json!({"playerId": p, "region": r, "latencyMs": 42}))).take(200).collect::<Vec<_>>(),
            "name": NAME,
            "properties": {"mode": "ranked", "map": "harbor"},
        });
        let key = format!("create-{k}");
        let who = if n == 1 {
            Who::Player(&players[0])
        } else {
            Who::Iam(SERVICE)
        };
        let req = http_request(
            "POST",
            "/v1/sessions",
            "",
            Some(&body),
            &who,
            &[("idempotency-key", &key)],
        )?;
        let out = answer(&fleet_functions::api::handle(&self.deps, req).await);
        let body = expect("create", out, 202)?;
        self.settle(Some(Op::Create), 1).await?;
        let id = body["placementId"]
            .as_str()
            .ok_or_else(|| Error(format!("create answered without a placementId: {body}")))?
            .to_owned();
        Ok((id, players))
    }

    async fn fulfil(&mut self, k: usize, placement: &str, players: &[String]) -> Result<(), Error> {
        let (region, fleet) = self.fleets[k % self.fleets.len()].clone();
        let arn = format!(
            "arn:aws:gamelift:{region}::gamesession/{fleet}/gsess-{}",
            uuid::Uuid::new_v4()
        );
        let placed: Vec<Value> = players
            .iter()
            .map(|p| json!({"playerId": p, "playerSessionId": format!("psess-{}", uuid::Uuid::new_v4())}))
            .collect();
        let event = json!({
            "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "GameLift Queue Placement Event",
            "source": "aws.gamelift", "account": ACCOUNT, "time": "2026-11-25T10:00:02Z", "region": region,
            "resources": [format!("arn:aws:gamelift:{region}:{ACCOUNT}:gamesessionqueue/fleetlift-queue")],
            "detail": {
                "type": "PlacementFulfilled", "placementId": placement, "port": "7777", "gameSessionArn": arn,
                "ipAddress": "203.0.113.17", "dnsName": "ec2-203-0-113-17.compute-1.amazonaws.com",
                "startTime": "2026-11-25T10:00:00.118Z", "endTime": "2026-11-25T10:00:01.472Z",
                "gameSessionRegion": region, "placedPlayerSessions": placed,
            },
        });
        let pk = format!("P#{placement}");
        let before = self.plain_get(pk.clone(), "P").await?;
        let mut sqs = SqsEvent::default();
        sqs.records = vec![sqs_record(&format!("m-{k}"), &event)?];
        let response = fleet_functions::placement_events::handle(&self.deps, sqs).await;
        if !response.batch_item_failures.is_empty() {
            return Err(Error(format!(
                "fulfil {placement}: the event was not applied"
            )));
        }
        self.settle(Some(Op::Fulfil), 1).await?;
        let parsed = GameSessionArn::parse(&arn).map_err(err)?;
        self.deps
            .gamelift
            .add_session(&parsed, "ACTIVE", self.opts.max_players);

        // The table's stream then hands the placement's change to the notifier.
        let after = self.plain_get(pk.clone(), "P").await?;
        let (Some(old), Some(new)) = (before, after) else {
            return Err(Error(format!("fulfil {placement}: placement item missing")));
        };
        let mut record = EventRecord::default();
        record.event_id = format!("stream-{k}");
        record.event_name = "MODIFY".into();
        record.event_source = Some("aws:dynamodb".into());
        record.aws_region = "us-east-1".into();
        record.change.keys = serde_dynamo::Item::from(Item::from([
            ("pk".to_owned(), AttributeValue::S(pk)),
            ("sk".to_owned(), AttributeValue::S("P".into())),
        ]));
        record.change.size_bytes = crate::recorder::item_size(&new) as i64;
        record.change.new_image = serde_dynamo::Item::from(new);
        record.change.old_image = serde_dynamo::Item::from(old);
        record.change.sequence_number = Some(format!("{}", 1_000_000 + k));
        let mut stream = StreamEvent::default();
        stream.records = vec![record];
        let response = fleet_functions::notifier::handle(&self.deps, stream).await;
        if !response.batch_item_failures.is_empty() {
            return Err(Error(format!("notify {placement}: the record failed")));
        }
        self.settle(Some(Op::Notify), 1).await
    }

    async fn report(&mut self, session: &Session, player_count: u32) -> Result<(), Error> {
        self.report_as(Op::Report, session, player_count).await
    }

    async fn report_as(
        &mut self,
        op: Op,
        session: &Session,
        player_count: u32,
    ) -> Result<(), Error> {
        let body = json!({"id": session.arn.as_str(), "playerCount": player_count});
        let req = http_request(
            "POST",
            "/v1/rpc/update_instance_info",
            "",
            Some(&body),
            &Who::Iam(GAME_SERVER),
            &[],
        )?;
        let out = answer(&fleet_functions::rpc::handle(&self.deps, req).await);
        expect("report", out, 204)?;
        self.settle(Some(op), 1).await
    }

    async fn join(&mut self, k: usize, session: &Session) -> Result<(), Error> {
        let n = self.opts.players_per_join.max(1) as usize;
        let players: Vec<String> = (0..n).map(|j| format!("player-j{k}-{j}")).collect();
        let body = json!({"players": players.iter().map(|p| json!({"playerId": p, "playerData": PLAYER_DATA})).collect::<Vec<_>>()});
        let who = if n == 1 {
            Who::Player(&players[0])
        } else {
            Who::Iam(SERVICE)
        };
        let path = format!("/v1/sessions/{}/join", session.id);
        let req = http_request("POST", &path, "", Some(&body), &who, &[])?;
        let out = answer(&fleet_functions::api::handle(&self.deps, req).await);
        expect("join", out, 200)?;
        self.settle(Some(Op::Join), 1).await
    }

    async fn list(&mut self, k: usize, op: Op, query: &str) -> Result<(), Error> {
        let player = format!("player-l{k}");
        let req = http_request(
            "GET",
            "/v1/sessions",
            query,
            None,
            &Who::Player(&player),
            &[],
        )?;
        let out = answer(&fleet_functions::api::handle(&self.deps, req).await);
        let body = expect("list", out, 200)?;
        if body["sessions"].as_array().is_none_or(Vec::is_empty) {
            return Err(Error(format!(
                "list {query:?} returned no sessions: {body}"
            )));
        }
        self.settle(Some(op), 1).await
    }

    /// One sweeper run (its session checks unpaced, so the run takes no wall time) and its
    /// open-slots gauge; returns the sessions one GameLift call covered.
    async fn sweep(&mut self, active: usize) -> Result<f64, Error> {
        let limits = sweeper::SweepLimits {
            describe_sessions_per_sec: f64::INFINITY,
            describe_placement_per_sec: f64::INFINITY,
            ..sweeper::SweepLimits::from_config(&self.deps.config)
        };
        let mut metrics = fleet_functions::observability::Metrics::new(sweeper::FUNCTION);
        let summary = sweeper::sweep(
            &self.deps.store,
            &self.deps.gamelift,
            &self.deps.clock,
            &limits,
            Instant::now() + Duration::from_secs(600),
            &mut metrics,
        )
        .await
        .map_err(err)?;
        let gauge =
            sweeper::open_slots_by_region(&self.deps.store, sweeper::OPEN_SLOTS_MAX_SESSIONS)
                .await
                .map_err(err)?;
        if summary.stopped_early || summary.gamelift_calls == 0 || gauge.is_none() {
            return Err(Error(format!(
                "the sweeper did not cover the sample in one run ({summary:?}); lower --sample-sessions below the sweep budget"
            )));
        }
        let checked = active.min(limits.sessions_per_run as usize);
        let read = checked + active.min(sweeper::OPEN_SLOTS_MAX_SESSIONS as usize);
        self.settle(Some(Op::Sweep), read as u64).await?;
        Ok(checked as f64 / f64::from(summary.gamelift_calls))
    }
}

/// A driver on a new table of the DynamoDB Local at `url`, seeded with `opts.sample_sessions` ACTIVE
/// sessions (returned), nothing recorded yet.
async fn start(url: &str, opts: &MixOptions) -> Result<(Driver, Vec<Session>), Error> {
    if opts.regions == 0 || opts.regions as usize > REGIONS.len() {
        return Err(Error(format!(
            "--regions must be 1–{}, got {}",
            REGIONS.len(),
            opts.regions
        )));
    }
    if opts.fleets_per_region == 0 {
        return Err(Error("--fleets-per-region must be at least 1".into()));
    }
    if opts.samples_per_op == 0 || opts.samples_per_op > opts.sample_sessions {
        return Err(Error(format!(
            "--samples-per-op must be 1–{} (--sample-sessions), got {}",
            opts.sample_sessions, opts.samples_per_op
        )));
    }
    let spec = table_spec();
    let plain = local_client(url);
    let table = format!("capacity-{}", uuid::Uuid::new_v4());
    create_table(&plain, &table).await.map_err(err)?;
    let recorder = Recorder::new();
    let client = recording_client(url, &recorder, spec.clone());
    let fleets: Vec<(String, String)> = (0..opts.fleets_per_region)
        .flat_map(|f| {
            REGIONS
                .iter()
                .take(opts.regions as usize)
                .enumerate()
                .map(move |(r, region)| ((*region).to_owned(), fleet_id(r, f)))
        })
        .collect();
    let config = Driver::config(&table, opts, &fleets)?;
    let store = DynamoStore::new(client, table.clone(), config.cursor_secret.clone());
    let mut d = Driver {
        deps: Deps {
            store,
            gamelift: FakeGameLift::new(),
            notifier: MemoryNotifier::default(),
            clock: ManualClock::new(T0),
            ids: UuidIds,
            config,
            cache: Default::default(),
        },
        recorder,
        shadow: Shadow::with_transaction_index_factor(spec, opts.transaction_index_factor),
        plain,
        table,
        sample: Sample::default(),
        fleets,
        opts: opts.clone(),
    };

    // Sessions created over the last hour or so, with varied player counts, written by the store's
    // seeding path (the items a fulfilment writes).
    let mut seeded = Vec::with_capacity(opts.sample_sessions);
    for i in 0..opts.sample_sessions {
        let created = T0.plus_secs(-(10 * (opts.sample_sessions - i) as i64));
        let count = (i % 4) as u32 % opts.max_players.max(1);
        let s = d.session(i, created, count)?;
        d.deps
            .gamelift
            .add_session(&s.arn, "ACTIVE", opts.max_players);
        // GameLift agrees with the servers' reports, as it does for live servers: the sweeper's
        // corrections are for quiet ones, which the workload does not model.
        d.deps.gamelift.set_session_players(&s.arn, count);
        seeded.push(s);
    }
    d.deps.store.seed_sessions(&seeded).await.map_err(err)?;
    d.settle(None, 0).await?;
    Ok((d, seeded))
}

/// Records the mix on the DynamoDB Local at `url`, in a new table.
pub async fn record(url: &str, opts: &MixOptions) -> Result<Recording, Error> {
    let (mut d, seeded) = start(url, opts).await?;
    // `+openSlots:>=1`, encoded.
    let open_query = "query=%2BopenSlots%3A%3E%3D1";
    for k in 0..opts.samples_per_op {
        let (placement, players) = d.create(k).await?;
        d.fulfil(k, &placement, &players).await?;
        // Reports and joins go to different sessions, each at most once: no session fills up.
        let reported = &seeded[k % seeded.len()];
        let count = (reported.player_count + 1) % (opts.max_players / 2).max(2);
        d.report(reported, count).await?;
        let joined = seeded[(k + seeded.len() / 2) % seeded.len()].clone();
        d.join(k, &joined).await?;
        d.list(k, Op::ListDefault, "").await?;
        d.list(k, Op::ListOpenSlots, open_query).await?;
    }
    // Past the joins' reservation window, each joined session's server reports the player who
    // connected, and that report closes the lapsed seat (what becomes of every seat).
    d.deps
        .clock
        .advance_secs(fleet_core::limits::SEAT_RESERVATION_SECS + 1);
    for k in 0..opts.samples_per_op {
        let joined = &seeded[(k + seeded.len() / 2) % seeded.len()];
        let count = (joined.player_count + 1).min(opts.max_players);
        d.report_as(Op::ReportLapse, joined, count).await?;
    }
    let active = opts.sample_sessions + opts.samples_per_op;
    let per_call = d.sweep(active).await?;

    let index_values = table_spec()
        .indexes
        .iter()
        .map(|ix| (ix.name.to_owned(), d.shadow.values_of(ix.name).len()))
        .collect();
    Ok(Recording {
        sample: d.sample,
        sweeper_sessions_per_call: per_call,
        index_values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Spread;
    use crate::model::Units;

    fn units(d: &Driver, op: Op, table: &str, key: &str) -> Units {
        d.sample
            .ops
            .get(&op)
            .and_then(|rec| {
                rec.units
                    .iter()
                    .find(|(t, _)| t.table == table && t.key.key == key)
                    .map(|(_, u)| *u)
            })
            .unwrap_or_default()
    }

    /// On DynamoDB Local (`FLEETLIFT_TEST_DYNAMODB`, set by scripts/test.sh and scripts/with-dynamodb.sh).
    #[tokio::test]
    async fn a_recorded_create_and_fulfilment_charge_the_table_and_every_list_index() {
        let url = std::env::var("FLEETLIFT_TEST_DYNAMODB").expect(
            "FLEETLIFT_TEST_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local",
        );
        let opts = MixOptions {
            sample_sessions: 4,
            samples_per_op: 1,
            ..MixOptions::default()
        };
        let (mut d, _) = start(&url, &opts).await.expect("seeded");
        let (placement, players) = d.create(0).await.expect("create");
        d.fulfil(0, &placement, &players).await.expect("fulfil");

        let create = units(&d, Op::Create, TABLE_LABEL, "P#<placement>");
        assert!(
            create.wcu > 0.0,
            "the create wrote its placement: {create:?}"
        );
        let pending = units(&d, Op::Create, "pendingByDeadline", "PENDING#<shard>");
        assert!(
            pending.wcu > 0.0,
            "and put it in the deadline index: {pending:?}"
        );

        let session = units(&d, Op::Fulfil, TABLE_LABEL, "S#<session>");
        assert!(
            session.wcu > 0.0,
            "the fulfilment wrote its session: {session:?}"
        );
        let (region, fleet) = d.fleets[0].clone();
        for (index, key) in [
            ("listByCreated", "ACTIVE"),
            ("listByCreated2", "ACTIVE"),
            ("listByCreated3", "ACTIVE"),
            ("listByCreated4", "ACTIVE"),
            ("listByPlayers", "ACTIVE#<shard>"),
            ("listByOpen", "ACTIVE#<shard>"),
            ("listByName", "ACTIVE"),
            ("listByRegion", region.as_str()),
            ("listByFleet", fleet.as_str()),
        ] {
            let u = units(&d, Op::Fulfil, index, key);
            assert!(u.wcu > 0.0, "{index}/{key}: {u:?}");
        }
        // A transaction's index write is charged once per KB of the index item, as DynamoDB does
        // (not twice, as DynamoDB Local reports it); a list index holds keys only, under 1 KB.
        assert_eq!(units(&d, Op::Fulfil, "listByCreated", "ACTIVE").wcu, 1.0);
        // The placement left the deadline index: its old value is charged.
        assert!(units(&d, Op::Fulfil, "pendingByDeadline", "PENDING#<shard>").wcu > 0.0);
        // The early push looked the requester's connections up.
        assert!(units(&d, Op::Fulfil, "connectionsByUser", "<player>").rcu > 0.0);
        let fulfil = d.sample.ops.get(&Op::Fulfil).expect("fulfil recorded");
        assert_eq!(fulfil.invocations, 1);
        assert!(
            fulfil
                .units
                .keys()
                .all(|t| t.key.spread != Spread::Unclassified && t.key.key != "<unattributed>"),
            "every unit attributed: {:?}",
            fulfil.units
        );
    }
}

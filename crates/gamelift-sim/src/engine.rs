//! The simulated control plane: placements, game sessions, player sessions, timers and events.
//!
//! Everything here is synchronous and driven by explicit times, so the same inputs at the same
//! (virtual) times always give the same outputs. The server wraps it in a mutex.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::beacon::default_beacon;
use crate::clock::rfc3339_millis;
use crate::error::{ApiError, SimError};
use crate::events::sns_envelope;
use crate::model::{
    FaultSpec, FleetSpec, Model, PlayerGatewayMode, PriorityConfiguration, QueueSpec,
    is_custom_location,
};
use crate::search::{self, Fields, Val};
use crate::throttle::Throttle;
use crate::wire::Doc;

/// What an operation answers: its output document, or the GameLift error it is refused with.
type Reply = Result<Doc, ApiError>;

/// The operations the simulator implements.
pub const OPERATIONS: [&str; 13] = [
    "StartGameSessionPlacement",
    "DescribeGameSessionPlacement",
    "StopGameSessionPlacement",
    "DescribeGameSessions",
    "SearchGameSessions",
    "CreatePlayerSession",
    "CreatePlayerSessions",
    "DescribePlayerSessions",
    "UpdateGameSession",
    "TerminateGameSession",
    "DescribeGameSessionDetails",
    "ListLocations",
    "GetPlayerConnectionDetails",
];

const MAX_PLAYERS: i64 = 200;
const MAX_PROPERTIES: usize = 16;
const MAX_PROPERTY_KEY: usize = 32;
const MAX_PROPERTY_VALUE: usize = 96;
const MAX_PLAYER_IDS: usize = 25;
const MAX_PLAYER_ID: usize = 1024;
const MAX_PLAYER_DATA: usize = 2048;
const MAX_NAME: usize = 1024;
const MAX_GAME_SESSION_DATA: usize = 262_144;
const SEARCH_PAGE: usize = 20;
const DESCRIBE_PAGE: usize = 100;
/// ListLocations' `Limit` range is 1–200 (GameLift API reference).
const LOCATIONS_PAGE: usize = 200;
/// A `NextToken` is 1–1024 characters (GameLift API reference, ListLocations).
const MAX_NEXT_TOKEN: usize = 1024;
/// GetPlayerConnectionDetails' `GameSessionId`: 1–512 characters of `[a-zA-Z0-9:/-]`.
const MAX_CONNECTION_SESSION_ID: usize = 512;
/// Relay endpoints per location (the pool a player's endpoints are drawn from).
const RELAY_POOL: usize = 6;
/// Relay endpoints each player gets (GameLift's example answer lists three).
const RELAYS_PER_PLAYER: usize = 3;
/// First port of a location's relays.
const RELAY_BASE_PORT: i64 = 20_000;
/// Random bytes in a player gateway token (sent base64-encoded, as GameLift sends its tokens).
const TOKEN_BYTES: usize = 32;
const RETRY_MS: i64 = 1000;
const TERMINATING_MS: i64 = 1000;

/// Counters of what the simulator did (for tests and the bench).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Placements started.
    pub placements_started: u64,
    /// Placements fulfilled.
    pub placements_fulfilled: u64,
    /// Placements timed out.
    pub placements_timed_out: u64,
    /// Placements cancelled.
    pub placements_cancelled: u64,
    /// Placements failed (fault injection).
    pub placements_failed: u64,
    /// Events handed to sinks (duplicates included).
    pub events_published: u64,
    /// Events dropped by fault injection.
    pub events_dropped: u64,
    /// Events duplicated by fault injection.
    pub events_duplicated: u64,
    /// Events delayed by fault injection.
    pub events_delayed: u64,
    /// Calls refused with ThrottlingException.
    pub throttled: u64,
    /// Calls failed by fault injection.
    pub faults_injected: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlacementStatus {
    Pending,
    Fulfilled,
    Cancelled,
    TimedOut,
    Failed,
}

impl PlacementStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Fulfilled => "FULFILLED",
            Self::Cancelled => "CANCELLED",
            Self::TimedOut => "TIMED_OUT",
            Self::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone)]
struct Placement {
    id: String,
    queue: String,
    /// The queue's home Region: the placement exists only there.
    region: String,
    status: PlacementStatus,
    props: Vec<(String, String)>,
    max_players: i64,
    name: Option<String>,
    data: Option<String>,
    latencies: Vec<(String, String, f32)>,
    desired: Vec<(String, Option<String>)>,
    location_order: Option<(Vec<String>, bool)>,
    start_ms: i64,
    end_ms: Option<i64>,
    session_arn: Option<String>,
    placed: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct GameSession {
    arn: String,
    /// The fleet's home Region (the one the ARN names): the session exists only there.
    home_region: String,
    name: Option<String>,
    fleet_id: String,
    fleet_arn: String,
    location: String,
    created_ms: i64,
    terminated_ms: Option<i64>,
    max_players: i64,
    status: &'static str,
    status_reason: Option<&'static str>,
    props: Vec<(String, String)>,
    ip: String,
    dns: String,
    port: i64,
    policy: String,
    /// `NoProtection` or `FullProtection` (UpdateGameSession's ProtectionPolicy); placed sessions start
    /// unprotected, a fleet's default NewGameSessionProtectionPolicy.
    protection: String,
    /// Player gateway serves this session: its fleet's mode is ENABLED or REQUIRED and its location
    /// supports it (every AWS location; no custom one).
    gateway: bool,
    data: Option<String>,
    player_sessions: Vec<String>,
}

#[derive(Debug, Clone)]
struct PlayerSession {
    id: String,
    /// Its game session's home Region.
    home_region: String,
    player_id: String,
    session_arn: String,
    fleet_id: String,
    fleet_arn: String,
    created_ms: i64,
    terminated_ms: Option<i64>,
    status: &'static str,
    ip: String,
    dns: String,
    port: i64,
    data: Option<String>,
}

/// A place a game session could go: (fleet id, location, slots).
type Candidate = (String, String, u32);

#[derive(Debug, Clone)]
enum Timer {
    Attempt(String),
    Timeout(String),
    Reservation(String),
    SessionEnd(String),
    Publish(Json),
}

/// The whole mutable state of one simulator.
pub struct Engine {
    pub(crate) model: Model,
    rng: StdRng,
    seq: u64,
    placements: HashMap<String, Placement>,
    sessions: HashMap<String, GameSession>,
    session_order: Vec<String>,
    players: HashMap<String, PlayerSession>,
    used: HashMap<(String, String), u32>,
    timers: BTreeMap<(i64, u64), Timer>,
    outbox: Vec<Json>,
    pub(crate) throttle: Throttle,
    pub(crate) stats: Stats,
}

fn field<T: for<'de> Deserialize<'de>>(input: Json) -> Result<T, ApiError> {
    serde_json::from_value(input)
        .map_err(|e| ApiError::serialization(format!("cannot read request: {e}")))
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::invalid(format!("{name} is required")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Kv {
    key: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LatencyIn {
    player_id: Option<String>,
    region_identifier: Option<String>,
    latency_in_milliseconds: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DesiredIn {
    player_id: Option<String>,
    player_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PriorityIn {
    placement_fallback_strategy: Option<String>,
    location_order: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StartIn {
    placement_id: Option<String>,
    game_session_queue_name: Option<String>,
    game_properties: Option<Vec<Kv>>,
    maximum_player_session_count: Option<i64>,
    game_session_name: Option<String>,
    player_latencies: Option<Vec<LatencyIn>>,
    desired_player_sessions: Option<Vec<DesiredIn>>,
    game_session_data: Option<String>,
    priority_configuration_override: Option<PriorityIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementIdIn {
    placement_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeSessionsIn {
    fleet_id: Option<String>,
    game_session_id: Option<String>,
    alias_id: Option<String>,
    location: Option<String>,
    status_filter: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchIn {
    fleet_id: Option<String>,
    alias_id: Option<String>,
    location: Option<String>,
    filter_expression: Option<String>,
    sort_expression: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePlayerIn {
    game_session_id: Option<String>,
    player_id: Option<String>,
    player_data: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePlayersIn {
    game_session_id: Option<String>,
    player_ids: Option<Vec<String>>,
    player_data_map: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribePlayersIn {
    game_session_id: Option<String>,
    player_id: Option<String>,
    player_session_id: Option<String>,
    player_session_status_filter: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateIn {
    game_session_id: Option<String>,
    maximum_player_session_count: Option<i64>,
    name: Option<String>,
    player_session_creation_policy: Option<String>,
    protection_policy: Option<String>,
    game_properties: Option<Vec<Kv>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListLocationsIn {
    filters: Option<Vec<String>>,
    limit: Option<i64>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConnectionDetailsIn {
    game_session_id: Option<String>,
    player_ids: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TerminateIn {
    game_session_id: Option<String>,
    termination_mode: Option<String>,
}

fn check_props(props: Option<Vec<Kv>>) -> Result<Vec<(String, String)>, ApiError> {
    let props = props.unwrap_or_default();
    if props.len() > MAX_PROPERTIES {
        return Err(ApiError::invalid(format!(
            "GameProperties has {} entries; at most {MAX_PROPERTIES}",
            props.len()
        )));
    }
    let mut out = Vec::with_capacity(props.len());
    for kv in props {
        let key = required(kv.key, "GameProperty.Key")?;
        let value = required(kv.value, "GameProperty.Value")?;
        if key.is_empty() || key.chars().count() > MAX_PROPERTY_KEY {
            return Err(ApiError::invalid(format!(
                "game property key must be 1-{MAX_PROPERTY_KEY} characters"
            )));
        }
        if value.chars().count() > MAX_PROPERTY_VALUE {
            return Err(ApiError::invalid(format!(
                "game property value must be at most {MAX_PROPERTY_VALUE} characters"
            )));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn check_player_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > MAX_PLAYER_ID {
        return Err(ApiError::invalid(format!(
            "PlayerId must be 1-{MAX_PLAYER_ID} characters"
        )));
    }
    Ok(())
}

fn check_player_data(data: Option<&str>) -> Result<(), ApiError> {
    match data {
        Some(d) if d.is_empty() || d.chars().count() > MAX_PLAYER_DATA => Err(ApiError::invalid(
            format!("PlayerData must be 1-{MAX_PLAYER_DATA} characters"),
        )),
        _ => Ok(()),
    }
}

fn check_placement_id(id: &str) -> Result<(), ApiError> {
    let ok =
        (1..=48).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "PlacementId must be 1-48 characters of [A-Za-z0-9-]",
        ))
    }
}

/// A StartGameSessionPlacement's required MaximumPlayerSessionCount, checked to be in range.
fn check_max_players(max_players: Option<i64>) -> Result<i64, ApiError> {
    let max_players = required(max_players, "MaximumPlayerSessionCount")?;
    if !(0..=MAX_PLAYERS).contains(&max_players) {
        return Err(ApiError::invalid(format!(
            "MaximumPlayerSessionCount must be 0-{MAX_PLAYERS}"
        )));
    }
    Ok(max_players)
}

/// Checks the lengths of a placement's optional GameSessionName and GameSessionData.
fn check_session_name_and_data(name: Option<&str>, data: Option<&str>) -> Result<(), ApiError> {
    if let Some(n) = name
        && (n.is_empty() || n.chars().count() > MAX_NAME)
    {
        return Err(ApiError::invalid(format!(
            "GameSessionName must be 1-{MAX_NAME} characters"
        )));
    }
    if let Some(d) = data
        && (d.is_empty() || d.len() > MAX_GAME_SESSION_DATA)
    {
        return Err(ApiError::invalid(format!(
            "GameSessionData must be 1-{MAX_GAME_SESSION_DATA} characters"
        )));
    }
    Ok(())
}

/// A placement's PlayerLatencies as (player, region, milliseconds), each entry checked.
fn read_latencies(input: Vec<LatencyIn>) -> Result<Vec<(String, String, f32)>, ApiError> {
    let mut latencies = Vec::new();
    for l in input {
        let player = required(l.player_id, "PlayerLatency.PlayerId")?;
        check_player_id(&player)?;
        let region = required(l.region_identifier, "PlayerLatency.RegionIdentifier")?;
        let ms = required(
            l.latency_in_milliseconds,
            "PlayerLatency.LatencyInMilliseconds",
        )?;
        if !(ms.is_finite() && ms >= 0.0) {
            return Err(ApiError::invalid(
                "LatencyInMilliseconds must be a non-negative number",
            ));
        }
        latencies.push((player, region, ms as f32));
    }
    Ok(latencies)
}

/// A placement's DesiredPlayerSessions as (player, data): each player once, no more of them than
/// `max_players`.
fn read_desired(
    input: Vec<DesiredIn>,
    max_players: i64,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let mut desired = Vec::new();
    for d in input {
        let player = required(d.player_id, "DesiredPlayerSession.PlayerId")?;
        check_player_id(&player)?;
        check_player_data(d.player_data.as_deref())?;
        if desired
            .iter()
            .any(|(p, _): &(String, Option<String>)| *p == player)
        {
            return Err(ApiError::invalid(format!(
                "player {player} is listed twice in DesiredPlayerSessions"
            )));
        }
        desired.push((player, d.player_data));
    }
    if desired.len() as i64 > max_players {
        return Err(ApiError::invalid(
            "more DesiredPlayerSessions than MaximumPlayerSessionCount",
        ));
    }
    Ok(desired)
}

/// A placement's PriorityConfigurationOverride as (location order, fall back to the other
/// locations); refused alongside player latencies.
fn read_location_order(
    input: Option<PriorityIn>,
    has_latencies: bool,
) -> Result<Option<(Vec<String>, bool)>, ApiError> {
    let Some(p) = input else {
        return Ok(None);
    };
    if has_latencies {
        return Err(ApiError::invalid(
            "PlayerLatencies and PriorityConfigurationOverride cannot be combined",
        ));
    }
    let order = required(
        p.location_order,
        "PriorityConfigurationOverride.LocationOrder",
    )?;
    if order.is_empty() {
        return Err(ApiError::invalid("LocationOrder must not be empty"));
    }
    let fallback = match p.placement_fallback_strategy.as_deref() {
        None | Some("DEFAULT_AFTER_SINGLE_PASS") => true,
        Some("NONE") => false,
        Some(o) => {
            return Err(ApiError::invalid(format!(
                "unknown PlacementFallbackStrategy {o}"
            )));
        }
    };
    Ok(Some((order, fallback)))
}

fn page<T: Clone>(
    items: &[T],
    limit: usize,
    token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match token {
        None => 0,
        Some(t) => t
            .strip_prefix("sim-")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::invalid("invalid NextToken"))?,
    };
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| format!("sim-{end}"));
    Ok((
        items.get(start..end).map(<[T]>::to_vec).unwrap_or_default(),
        next,
    ))
}

/// One page of `docs` under `key`, with the `NextToken` of the next page if there is one.
fn paged(key: &str, docs: &[Doc], limit: usize, token: Option<&str>) -> Reply {
    let (items, next) = page(docs, limit, token)?;
    Ok(Doc::map()
        .with(key, Doc::List(items))
        .with_opt("NextToken", next))
}

fn limit(v: Option<i64>, max: usize) -> Result<usize, ApiError> {
    match v {
        None => Ok(max),
        Some(n) if n >= 1 && (n as u64) <= max as u64 => Ok(n as usize),
        Some(n) => Err(ApiError::invalid(format!(
            "Limit {n} must be between 1 and {max}"
        ))),
    }
}

fn props_doc(props: &[(String, String)]) -> Doc {
    Doc::List(
        props
            .iter()
            .map(|(k, v)| Doc::map().with("Key", k).with("Value", v))
            .collect(),
    )
}

impl Fields for GameSession {
    fn field(&self, name: &str) -> Option<Val> {
        let open =
            self.policy == "ACCEPT_ALL" && (self.player_sessions.len() as i64) < self.max_players;
        match name {
            "gameSessionId" => Some(Val::Str(self.arn.clone())),
            "gameSessionName" => self.name.clone().map(Val::Str),
            "creationTimeMillis" => Some(Val::Num(self.created_ms as f64)),
            "playerSessionCount" => Some(Val::Num(self.player_sessions.len() as f64)),
            "maximumSessions" => Some(Val::Num(self.max_players as f64)),
            "hasAvailablePlayerSessions" => Some(Val::Bool(open)),
            "location" => Some(Val::Str(self.location.clone())),
            _ => name
                .strip_prefix("gameSessionProperties.")
                .and_then(|k| self.props.iter().find(|(pk, _)| pk == k))
                .map(|(_, v)| Val::Str(v.clone())),
        }
    }
}

impl Engine {
    /// A fresh engine for a model.
    pub fn new(model: Model) -> Self {
        let rng = StdRng::seed_from_u64(model.seed);
        Self {
            model,
            rng,
            seq: 0,
            placements: HashMap::new(),
            sessions: HashMap::new(),
            session_order: Vec::new(),
            players: HashMap::new(),
            used: HashMap::new(),
            timers: BTreeMap::new(),
            outbox: Vec::new(),
            throttle: Throttle::default(),
            stats: Stats::default(),
        }
    }

    fn uuid(&mut self) -> String {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string()
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    fn schedule(&mut self, at: i64, t: Timer) {
        self.seq += 1;
        self.timers.insert((at, self.seq), t);
    }

    /// When the next timer is due, if any.
    pub fn next_due(&self) -> Option<i64> {
        self.timers.keys().next().map(|(at, _)| *at)
    }

    /// Fires every timer due at or before `now`, in time order.
    pub fn run_due(&mut self, now: i64) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let ((at, _), timer) = entry.remove_entry();
            self.fire(at, timer);
        }
    }

    /// Takes the envelopes waiting to be published.
    pub fn take_outbox(&mut self) -> Vec<Json> {
        std::mem::take(&mut self.outbox)
    }

    /// Decides whether an injected fault applies to this call.
    pub fn fault_for(&mut self, op: &str) -> (Option<ApiError>, u64) {
        let spec: Option<FaultSpec> = self
            .model
            .faults
            .operations
            .get(op)
            .or_else(|| self.model.faults.operations.get("*"))
            .cloned();
        let Some(spec) = spec else { return (None, 0) };
        let err = if self.chance(spec.error_rate) {
            self.stats.faults_injected += 1;
            Some(ApiError::injected(
                spec.error_code
                    .as_deref()
                    .unwrap_or("InternalServiceException"),
            ))
        } else {
            None
        };
        (err, spec.latency_ms)
    }

    /// Runs one API operation at time `now`, made in `region` (the Region of the request's credential
    /// scope; `None` for in-process calls that may see every Region). A resource homed in another
    /// Region does not exist for the call: NotFoundException, worded as for an unknown id.
    pub fn call(&mut self, op: &str, now: i64, region: Option<&str>, input: Json) -> Reply {
        self.run_due(now);
        match op {
            "StartGameSessionPlacement" => self.start_placement(now, region, field(input)?),
            "DescribeGameSessionPlacement" => {
                let i: PlacementIdIn = field(input)?;
                let id = required(i.placement_id, "PlacementId")?;
                let p = self.find_placement(&id, region)?;
                Ok(Doc::map().with("GameSessionPlacement", self.placement_doc(p)))
            }
            "StopGameSessionPlacement" => {
                let i: PlacementIdIn = field(input)?;
                let id = required(i.placement_id, "PlacementId")?;
                self.find_placement(&id, region)?;
                self.stop_placement(now, &id)
            }
            "DescribeGameSessions" => self.describe_sessions(region, field(input)?, false),
            "DescribeGameSessionDetails" => self.describe_sessions(region, field(input)?, true),
            "SearchGameSessions" => self.search_sessions(region, field(input)?),
            "CreatePlayerSession" => {
                let i: CreatePlayerIn = field(input)?;
                let gs = required(i.game_session_id, "GameSessionId")?;
                let player = required(i.player_id, "PlayerId")?;
                let mut data = BTreeMap::new();
                if let Some(d) = i.player_data {
                    data.insert(player.clone(), d);
                }
                let mut created = self.create_players(now, region, &gs, vec![player], data)?;
                let ps = created
                    .pop()
                    .ok_or_else(|| ApiError::invalid("no player session created"))?;
                Ok(Doc::map().with("PlayerSession", ps))
            }
            "CreatePlayerSessions" => {
                let i: CreatePlayersIn = field(input)?;
                let gs = required(i.game_session_id, "GameSessionId")?;
                let ids = required(i.player_ids, "PlayerIds")?;
                if ids.is_empty() || ids.len() > MAX_PLAYER_IDS {
                    return Err(ApiError::invalid(format!(
                        "PlayerIds must hold 1-{MAX_PLAYER_IDS} player ids"
                    )));
                }
                let data = i.player_data_map.unwrap_or_default();
                let created = self.create_players(now, region, &gs, ids, data)?;
                Ok(Doc::map().with("PlayerSessions", Doc::List(created)))
            }
            "DescribePlayerSessions" => self.describe_players(region, field(input)?),
            "UpdateGameSession" => self.update_session(region, field(input)?),
            "TerminateGameSession" => self.terminate_session(now, region, field(input)?),
            "ListLocations" => self.list_locations(region, field(input)?),
            "GetPlayerConnectionDetails" => self.connection_details(now, region, field(input)?),
            other => Err(ApiError::unknown_operation(other, 400)),
        }
    }

    fn start_placement(&mut self, now: i64, region: Option<&str>, i: StartIn) -> Reply {
        let id = required(i.placement_id, "PlacementId")?;
        check_placement_id(&id)?;
        let queue_name = required(i.game_session_queue_name, "GameSessionQueueName")?;
        let max_players = check_max_players(i.maximum_player_session_count)?;
        let props = check_props(i.game_properties)?;
        check_session_name_and_data(
            i.game_session_name.as_deref(),
            i.game_session_data.as_deref(),
        )?;
        let latencies = read_latencies(i.player_latencies.unwrap_or_default())?;
        let desired = read_desired(i.desired_player_sessions.unwrap_or_default(), max_players)?;
        let location_order =
            read_location_order(i.priority_configuration_override, !latencies.is_empty())?;
        let queue = self.placement_queue(&queue_name, region, location_order.is_some())?;
        if self.placements.contains_key(&id) {
            return Err(ApiError::invalid(format!(
                "PlacementId {id} has already been used"
            )));
        }
        let placement = Placement {
            id,
            queue: queue.name.clone(),
            region: queue.region.clone(),
            status: PlacementStatus::Pending,
            props,
            max_players,
            name: i.game_session_name,
            data: i.game_session_data,
            latencies,
            desired,
            location_order,
            start_ms: now,
            end_ms: None,
            session_arn: None,
            placed: Vec::new(),
        };
        if let Some(ended) = self.model.faults.events.start_ends_as.clone() {
            return Ok(self.start_ended(now, placement, &ended));
        }
        Ok(self.start_pending(now, &queue, placement))
    }

    /// The queue a placement names, cloned, refused if it cannot take a location override the
    /// request carries.
    fn placement_queue(
        &self,
        queue_name: &str,
        region: Option<&str>,
        overrides_locations: bool,
    ) -> Result<QueueSpec, ApiError> {
        let queue = self
            .model
            .queue_in(queue_name, region)
            .ok_or_else(|| {
                ApiError::not_found(format!("game session queue {queue_name} not found"))
            })?
            .clone();
        // GameLift accepts a location override only from a queue whose PriorityConfiguration
        // prioritises LOCATION (aws-sdk-gamelift's StartGameSessionPlacement docs list the
        // InvalidRequestException "if the request includes the PriorityConfigurationOverride parameter
        // and specifies a queue that doesn't prioritize locations").
        if overrides_locations
            && !queue
                .priority_configuration
                .as_ref()
                .is_some_and(PriorityConfiguration::prioritises_locations)
        {
            return Err(ApiError::invalid(format!(
                "PriorityConfigurationOverride requires a queue whose PriorityConfiguration \
                 prioritizes LOCATION; queue {} does not",
                queue.name
            )));
        }
        Ok(queue)
    }

    /// Stores a new PENDING placement, schedules its first attempt and its timeout, and answers
    /// with it.
    fn start_pending(&mut self, now: i64, queue: &QueueSpec, placement: Placement) -> Doc {
        let id = placement.id.clone();
        let delay = i64::try_from(self.model.placement_delay_ms).unwrap_or(i64::MAX / 4);
        let timeout =
            i64::try_from(queue.timeout_seconds.saturating_mul(1000)).unwrap_or(i64::MAX / 4);
        self.schedule(now.saturating_add(delay), Timer::Attempt(id.clone()));
        self.schedule(now.saturating_add(timeout), Timer::Timeout(id.clone()));
        self.stats.placements_started += 1;
        let doc = self.placement_doc(&placement);
        self.placements.insert(id, placement);
        Doc::map().with("GameSessionPlacement", doc)
    }

    /// The `startEndsAs` fault: the placement ends at once with `status`, the answer says so, and
    /// its event is published as for any ending.
    fn start_ended(&mut self, now: i64, mut placement: Placement, status: &str) -> Doc {
        let (status, kind) = match status {
            "CANCELLED" => (PlacementStatus::Cancelled, "PlacementCancelled"),
            "TIMED_OUT" => (PlacementStatus::TimedOut, "PlacementTimedOut"),
            _ => (PlacementStatus::Failed, "PlacementFailed"),
        };
        placement.status = status;
        placement.end_ms = Some(now);
        self.stats.placements_started += 1;
        match status {
            PlacementStatus::Cancelled => self.stats.placements_cancelled += 1,
            PlacementStatus::TimedOut => self.stats.placements_timed_out += 1,
            _ => self.stats.placements_failed += 1,
        }
        let error = (status == PlacementStatus::Failed)
            .then_some(("INJECTED_FAULT", "placement ended by fault injection"));
        self.emit_ended(now, &placement, kind, error);
        let doc = self.placement_doc(&placement);
        self.placements.insert(placement.id.clone(), placement);
        Doc::map().with("GameSessionPlacement", doc)
    }

    fn stop_placement(&mut self, now: i64, id: &str) -> Reply {
        let p = self
            .placements
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found(format!("game session placement {id} not found")))?;
        if p.status != PlacementStatus::Pending {
            return Err(ApiError::invalid(format!(
                "placement {id} is {}, not PENDING",
                p.status.as_str()
            )));
        }
        p.status = PlacementStatus::Cancelled;
        p.end_ms = Some(now);
        let p = p.clone();
        self.stats.placements_cancelled += 1;
        self.emit_ended(now, &p, "PlacementCancelled", None);
        Ok(Doc::map().with("GameSessionPlacement", self.placement_doc(&p)))
    }

    fn candidates(&self, p: &Placement) -> Vec<Candidate> {
        let Some(queue) = self.model.queue(&p.queue) else {
            return Vec::new();
        };
        let mut all = Vec::new();
        for dest in &queue.destinations {
            let Some(fleet) = self.model.fleet(dest) else {
                continue;
            };
            for loc in &fleet.locations {
                if let Some(allowed) = &queue.allowed_locations
                    && !allowed.iter().any(|a| a == &loc.location)
                {
                    continue;
                }
                all.push((fleet.id.clone(), loc.location.clone(), loc.slots));
            }
        }
        if let Some((order, fallback)) = &p.location_order {
            let mut out = Vec::new();
            for want in order {
                out.extend(all.iter().filter(|c| &c.1 == want).cloned());
            }
            if *fallback {
                out.extend(all.iter().filter(|c| !order.contains(&c.1)).cloned());
            }
            return out;
        }
        if p.latencies.is_empty() {
            return all;
        }
        let avg = |loc: &str| -> Option<f64> {
            let v: Vec<f64> = p
                .latencies
                .iter()
                .filter(|l| l.1 == loc)
                .map(|l| f64::from(l.2))
                .collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        };
        let mut keyed: Vec<(Option<f64>, usize, Candidate)> = all
            .into_iter()
            .enumerate()
            .map(|(i, c)| (avg(&c.1), i, c))
            .collect();
        keyed.sort_by(|a, b| match (a.0, b.0) {
            (Some(x), Some(y)) => x.total_cmp(&y).then(a.1.cmp(&b.1)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(&b.1),
        });
        keyed.into_iter().map(|k| k.2).collect()
    }

    fn fire(&mut self, at: i64, timer: Timer) {
        match timer {
            Timer::Attempt(id) => self.attempt(at, &id),
            Timer::Timeout(id) => {
                let Some(p) = self.placements.get_mut(&id) else {
                    return;
                };
                if p.status != PlacementStatus::Pending {
                    return;
                }
                p.status = PlacementStatus::TimedOut;
                p.end_ms = Some(at);
                let p = p.clone();
                self.stats.placements_timed_out += 1;
                self.emit_ended(at, &p, "PlacementTimedOut", None);
            }
            Timer::Reservation(psid) => {
                let Some(ps) = self.players.get_mut(&psid) else {
                    return;
                };
                if ps.status != "RESERVED" {
                    return;
                }
                ps.status = "TIMEDOUT";
                ps.terminated_ms = Some(at);
                let arn = ps.session_arn.clone();
                if let Some(gs) = self.sessions.get_mut(&arn) {
                    gs.player_sessions.retain(|p| p != &psid);
                }
            }
            Timer::SessionEnd(arn) => self.end_session(at, &arn, None),
            Timer::Publish(event) => self.publish(at, event),
        }
    }

    fn attempt(&mut self, at: i64, id: &str) {
        let Some(p) = self.placements.get(id).cloned() else {
            return;
        };
        if p.status != PlacementStatus::Pending {
            return;
        }
        if self.chance(self.model.faults.events.placement_failure_rate) {
            self.fail_by_fault(at, id, p);
            return;
        }
        let Some((fleet_id, location, _)) = self.free_candidate(&p) else {
            self.schedule(at + RETRY_MS, Timer::Attempt(id.to_owned()));
            return;
        };
        let Some(fleet) = self.model.fleet(&fleet_id).cloned() else {
            return;
        };
        let mut session = self.new_session(at, &p, &fleet, location);
        let placed = self.reserve_desired(at, &p, &mut session);
        let detail = fulfilled_detail(at, &p, &session, &placed);
        let arn = session.arn.clone();
        self.open_session(at, session);
        let Some(pm) = self.placements.get_mut(id) else {
            return;
        };
        pm.status = PlacementStatus::Fulfilled;
        pm.end_ms = Some(at);
        pm.session_arn = Some(arn);
        pm.placed = placed;
        self.stats.placements_fulfilled += 1;
        self.emit(at, &p.queue, detail);
    }

    /// The `placementFailureRate` fault: the placement fails and its event is published.
    fn fail_by_fault(&mut self, at: i64, id: &str, p: Placement) {
        if let Some(pm) = self.placements.get_mut(id) {
            pm.status = PlacementStatus::Failed;
            pm.end_ms = Some(at);
        }
        self.stats.placements_failed += 1;
        let p = self.placements.get(id).cloned().unwrap_or(p);
        self.emit_ended(
            at,
            &p,
            "PlacementFailed",
            Some(("INJECTED_FAULT", "placement failed by fault injection")),
        );
    }

    /// The first of a placement's candidates that still has a free game session slot.
    fn free_candidate(&self, p: &Placement) -> Option<Candidate> {
        self.candidates(p).into_iter().find(|(fleet, loc, slots)| {
            self.used
                .get(&(fleet.clone(), loc.clone()))
                .copied()
                .unwrap_or(0)
                < *slots
        })
    }

    /// A new ACTIVE game session for a placement on `fleet` at `location`, at a random address,
    /// with no player sessions yet.
    fn new_session(
        &mut self,
        at: i64,
        p: &Placement,
        fleet: &FleetSpec,
        location: String,
    ) -> GameSession {
        let account = self.model.account_id.clone();
        let arn = if location == fleet.region {
            format!(
                "arn:aws:gamelift:{}::gamesession/{}/{}",
                fleet.region, fleet.id, p.id
            )
        } else {
            format!(
                "arn:aws:gamelift:{}::gamesession/{}/{}/{}",
                fleet.region, fleet.id, location, p.id
            )
        };
        let fleet_arn = format!(
            "arn:aws:gamelift:{}:{}:fleet/{}",
            fleet.region, account, fleet.id
        );
        let (ip, dns, port) = self.random_address(&location);
        GameSession {
            arn,
            home_region: fleet.region.clone(),
            name: p.name.clone(),
            fleet_id: fleet.id.clone(),
            fleet_arn,
            gateway: fleet.player_gateway_mode != PlayerGatewayMode::Disabled
                && !is_custom_location(&location),
            location,
            created_ms: at,
            terminated_ms: None,
            max_players: p.max_players,
            status: "ACTIVE",
            status_reason: None,
            props: p.props.clone(),
            ip,
            dns,
            port,
            policy: "ACCEPT_ALL".to_owned(),
            protection: "NoProtection".to_owned(),
            data: p.data.clone(),
            player_sessions: Vec::new(),
        }
    }

    /// A random public (ip, EC2 DNS name, port) for a game session in `location`.
    fn random_address(&mut self, location: &str) -> (String, String, i64) {
        let first = [3u8, 18, 34, 52, 54][self.rng.random_range(0..5)];
        let ip = format!(
            "{first}.{}.{}.{}",
            self.rng.random_range(0..=255u8),
            self.rng.random_range(0..=255u8),
            self.rng.random_range(1..=254u8)
        );
        let dashed = ip.replace('.', "-");
        let dns = if location == "us-east-1" {
            format!("ec2-{dashed}.compute-1.amazonaws.com")
        } else {
            format!("ec2-{dashed}.{location}.compute.amazonaws.com")
        };
        let port = i64::from(self.rng.random_range(7777..=7876u16));
        (ip, dns, port)
    }

    /// Creates a RESERVED player session in `session` for each of the placement's desired players,
    /// each with its reservation timeout; returns the (player, player session id) pairs.
    fn reserve_desired(
        &mut self,
        at: i64,
        p: &Placement,
        session: &mut GameSession,
    ) -> Vec<(String, String)> {
        let mut placed = Vec::new();
        for (player, data) in &p.desired {
            let psid = format!("psess-{}", self.uuid());
            self.players.insert(
                psid.clone(),
                PlayerSession {
                    id: psid.clone(),
                    home_region: session.home_region.clone(),
                    player_id: player.clone(),
                    session_arn: session.arn.clone(),
                    fleet_id: session.fleet_id.clone(),
                    fleet_arn: session.fleet_arn.clone(),
                    created_ms: at,
                    terminated_ms: None,
                    status: "RESERVED",
                    ip: session.ip.clone(),
                    dns: session.dns.clone(),
                    port: session.port,
                    data: data.clone(),
                },
            );
            session.player_sessions.push(psid.clone());
            let reservation =
                i64::try_from(self.model.reservation_timeout_seconds.saturating_mul(1000))
                    .unwrap_or(i64::MAX / 4);
            self.schedule(
                at.saturating_add(reservation),
                Timer::Reservation(psid.clone()),
            );
            placed.push((player.clone(), psid));
        }
        placed
    }

    /// Stores a placed game session, takes its slot, and schedules its end if sessions have a
    /// lifetime.
    fn open_session(&mut self, at: i64, session: GameSession) {
        let arn = session.arn.clone();
        *self
            .used
            .entry((session.fleet_id.clone(), session.location.clone()))
            .or_insert(0) += 1;
        self.sessions.insert(arn.clone(), session);
        self.session_order.push(arn.clone());
        if let Some(life) = self.model.game_session_lifetime_seconds {
            let life = i64::try_from(life.saturating_mul(1000)).unwrap_or(i64::MAX / 4);
            self.schedule(at.saturating_add(life), Timer::SessionEnd(arn));
        }
    }

    fn emit_ended(&mut self, at: i64, p: &Placement, kind: &str, error: Option<(&str, &str)>) {
        let mut detail = json!({
            "type": kind,
            "placementId": p.id,
            "startTime": rfc3339_millis(p.start_ms),
            "endTime": rfc3339_millis(p.end_ms.unwrap_or(at)),
        });
        if let (Some((code, msg)), Some(obj)) = (error, detail.as_object_mut()) {
            obj.insert("errorCode".into(), json!(code));
            obj.insert("errorMessage".into(), json!(msg));
        }
        self.emit(at, &p.queue, detail);
    }

    /// Wraps a detail in an EventBridge event and applies the event faults.
    fn emit(&mut self, at: i64, queue_name: &str, detail: Json) {
        let region = self
            .model
            .queue(queue_name)
            .map(|q| q.region.clone())
            .unwrap_or_else(|| "us-east-1".into());
        let account = self.model.account_id.clone();
        let event = json!({
            "version": "0",
            "id": self.uuid(),
            "detail-type": "GameLift Queue Placement Event",
            "source": "aws.gamelift",
            "account": account,
            "time": rfc3339_millis(at),
            "region": region,
            "resources": [format!("arn:aws:gamelift:{region}:{account}:gamesessionqueue/{queue_name}")],
            "detail": detail,
        });
        let faults = self.model.faults.events.clone();
        if self.chance(faults.drop_rate) {
            self.stats.events_dropped += 1;
            return;
        }
        let copies = if self.chance(faults.duplicate_rate) {
            self.stats.events_duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            if self.chance(faults.delay_rate) {
                self.stats.events_delayed += 1;
                let delay = i64::try_from(faults.delay_ms).unwrap_or(0);
                self.schedule(at.saturating_add(delay), Timer::Publish(event.clone()));
            } else {
                self.publish(at, event.clone());
            }
        }
    }

    fn publish(&mut self, at: i64, event: Json) {
        let message_id = self.uuid();
        let envelope = sns_envelope(
            &self.model.topic_arn,
            &message_id,
            &rfc3339_millis(at),
            &event,
        );
        self.stats.events_published += 1;
        self.outbox.push(envelope);
    }

    fn end_session(&mut self, at: i64, arn: &str, reason: Option<&'static str>) {
        let Some(gs) = self.sessions.get_mut(arn) else {
            return;
        };
        if gs.status == "TERMINATED" {
            return;
        }
        gs.status = "TERMINATED";
        if reason.is_some() {
            gs.status_reason = reason;
        }
        gs.terminated_ms = Some(at);
        let key = (gs.fleet_id.clone(), gs.location.clone());
        let ids = std::mem::take(&mut gs.player_sessions);
        if let Some(n) = self.used.get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        for id in ids {
            if let Some(ps) = self.players.get_mut(&id) {
                ps.status = "COMPLETED";
                ps.terminated_ms = Some(at);
            }
        }
    }

    fn find_session(&self, id: &str) -> Result<&GameSession, ApiError> {
        self.find_session_in(id, None)
    }

    /// The game session `id` (its ARN, or the placement's GameSessionId, the ARN's last part) as a
    /// request made in `region` sees it: only in its fleet's home Region.
    fn find_session_in(&self, id: &str, region: Option<&str>) -> Result<&GameSession, ApiError> {
        let found = match self.sessions.get(id) {
            Some(s) => Some(s),
            None => self
                .placements
                .get(id)
                .and_then(|p| p.session_arn.as_ref())
                .and_then(|arn| self.sessions.get(arn)),
        };
        found
            .filter(|s| region.is_none_or(|r| r == s.home_region))
            .ok_or_else(|| ApiError::not_found(format!("game session {id} not found")))
    }

    /// The placement `id` as a request made in `region` sees it: only in its queue's home Region.
    fn find_placement(&self, id: &str, region: Option<&str>) -> Result<&Placement, ApiError> {
        self.placements
            .get(id)
            .filter(|p| region.is_none_or(|r| r == p.region))
            .ok_or_else(|| ApiError::not_found(format!("game session placement {id} not found")))
    }

    /// DescribeGameSessions, or with `details` DescribeGameSessionDetails (the same request; each
    /// session wrapped in a GameSessionDetail with its ProtectionPolicy).
    fn describe_sessions(
        &self,
        region: Option<&str>,
        i: DescribeSessionsIn,
        details: bool,
    ) -> Reply {
        let limit = limit(i.limit, DESCRIBE_PAGE)?;
        let list: Vec<&GameSession> = if let Some(id) = &i.game_session_id {
            vec![self.find_session_in(id, region)?]
        } else if let Some(fleet) = i.fleet_id.as_deref().or(i.alias_id.as_deref()) {
            let f = self
                .model
                .fleet_in(fleet, region)
                .ok_or_else(|| ApiError::not_found(format!("fleet {fleet} not found")))?;
            self.session_order
                .iter()
                .filter_map(|a| self.sessions.get(a))
                .filter(|s| s.fleet_id == f.id)
                .collect()
        } else {
            return Err(ApiError::invalid(
                "one of GameSessionId, FleetId or AliasId is required",
            ));
        };
        let list: Vec<Doc> = list
            .into_iter()
            .filter(|s| i.location.as_ref().is_none_or(|l| &s.location == l))
            .filter(|s| {
                i.status_filter
                    .as_ref()
                    .is_none_or(|f| s.status == f.as_str())
            })
            .map(|s| {
                if details {
                    Doc::map()
                        .with("GameSession", self.session_doc(s))
                        .with("ProtectionPolicy", s.protection.as_str())
                } else {
                    self.session_doc(s)
                }
            })
            .collect();
        let key = if details {
            "GameSessionDetails"
        } else {
            "GameSessions"
        };
        paged(key, &list, limit, i.next_token.as_deref())
    }

    fn search_sessions(&self, region: Option<&str>, i: SearchIn) -> Reply {
        let limit = limit(i.limit, SEARCH_PAGE)?;
        let fleet = i
            .fleet_id
            .as_deref()
            .or(i.alias_id.as_deref())
            .ok_or_else(|| ApiError::invalid("FleetId or AliasId is required"))?;
        let f = self
            .model
            .fleet_in(fleet, region)
            .ok_or_else(|| ApiError::not_found(format!("fleet {fleet} not found")))?;
        let filter = match &i.filter_expression {
            Some(t) => Some(
                search::parse_filter(t)
                    .map_err(|e| ApiError::invalid(format!("FilterExpression: {e}")))?,
            ),
            None => None,
        };
        let sort = match &i.sort_expression {
            Some(t) => Some(
                search::parse_sort(t)
                    .map_err(|e| ApiError::invalid(format!("SortExpression: {e}")))?,
            ),
            None => None,
        };
        let mut list: Vec<&GameSession> = self
            .session_order
            .iter()
            .filter_map(|a| self.sessions.get(a))
            .filter(|s| s.fleet_id == f.id && s.status == "ACTIVE")
            .filter(|s| i.location.as_ref().is_none_or(|l| &s.location == l))
            .filter(|s| filter.as_ref().is_none_or(|fl| fl.matches(*s)))
            .collect();
        if let Some(sort) = &sort {
            list.sort_by(|a, b| sort.compare(*a, *b));
        }
        let docs: Vec<Doc> = list.into_iter().map(|s| self.session_doc(s)).collect();
        paged("GameSessions", &docs, limit, i.next_token.as_deref())
    }

    fn create_players(
        &mut self,
        now: i64,
        region: Option<&str>,
        gs_id: &str,
        ids: Vec<String>,
        data: BTreeMap<String, String>,
    ) -> Result<Vec<Doc>, ApiError> {
        for id in &ids {
            check_player_id(id)?;
        }
        for (k, v) in &data {
            if !ids.contains(k) {
                return Err(ApiError::invalid(format!(
                    "PlayerDataMap names {k}, who is not in PlayerIds"
                )));
            }
            check_player_data(Some(v))?;
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != ids.len() {
            return Err(ApiError::invalid("PlayerIds contains duplicates"));
        }
        let gs = self.find_session_in(gs_id, region)?.clone();
        if gs.status != "ACTIVE" {
            return Err(ApiError::bad_status(format!(
                "game session {} is {}",
                gs.arn, gs.status
            )));
        }
        if gs.policy != "ACCEPT_ALL" {
            return Err(ApiError::full(format!(
                "game session {} is not accepting new players",
                gs.arn
            )));
        }
        if gs.player_sessions.len() + ids.len() > usize::try_from(gs.max_players).unwrap_or(0) {
            return Err(ApiError::full(format!("game session {} is full", gs.arn)));
        }
        for id in &ids {
            if gs
                .player_sessions
                .iter()
                .filter_map(|p| self.players.get(p))
                .any(|p| &p.player_id == id)
            {
                return Err(ApiError::invalid(format!(
                    "player {id} already has a player session in this game session"
                )));
            }
        }
        let reservation =
            i64::try_from(self.model.reservation_timeout_seconds.saturating_mul(1000))
                .unwrap_or(i64::MAX / 4);
        let mut out = Vec::new();
        for id in ids {
            let psid = format!("psess-{}", self.uuid());
            let ps = PlayerSession {
                id: psid.clone(),
                home_region: gs.home_region.clone(),
                player_id: id.clone(),
                session_arn: gs.arn.clone(),
                fleet_id: gs.fleet_id.clone(),
                fleet_arn: gs.fleet_arn.clone(),
                created_ms: now,
                terminated_ms: None,
                status: "RESERVED",
                ip: gs.ip.clone(),
                dns: gs.dns.clone(),
                port: gs.port,
                data: data.get(&id).cloned(),
            };
            out.push(player_doc(&ps));
            self.players.insert(psid.clone(), ps);
            if let Some(s) = self.sessions.get_mut(&gs.arn) {
                s.player_sessions.push(psid.clone());
            }
            self.schedule(now.saturating_add(reservation), Timer::Reservation(psid));
        }
        Ok(out)
    }

    fn describe_players(&self, region: Option<&str>, i: DescribePlayersIn) -> Reply {
        let limit = limit(i.limit, DESCRIBE_PAGE)?;
        let here = |p: &&PlayerSession| region.is_none_or(|r| r == p.home_region);
        let mut list: Vec<&PlayerSession> =
            if let Some(psid) = &i.player_session_id {
                vec![self.players.get(psid).filter(here).ok_or_else(|| {
                    ApiError::not_found(format!("player session {psid} not found"))
                })?]
            } else if let Some(gs) = &i.game_session_id {
                let arn = self.find_session_in(gs, region)?.arn.clone();
                self.players
                    .values()
                    .filter(|p| p.session_arn == arn)
                    .collect()
            } else if let Some(player) = &i.player_id {
                // A player's sessions in this Region only: each Region keeps its own.
                self.players
                    .values()
                    .filter(|p| &p.player_id == player)
                    .filter(here)
                    .collect()
            } else {
                return Err(ApiError::invalid(
                    "one of GameSessionId, PlayerId or PlayerSessionId is required",
                ));
            };
        if let Some(player) = &i.player_id {
            list.retain(|p| &p.player_id == player);
        }
        if let Some(f) = &i.player_session_status_filter {
            if !["RESERVED", "ACTIVE", "COMPLETED", "TIMEDOUT"].contains(&f.as_str()) {
                return Err(ApiError::invalid(format!(
                    "unknown PlayerSessionStatusFilter {f}"
                )));
            }
            list.retain(|p| p.status == f.as_str());
        }
        list.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
        let docs: Vec<Doc> = list.into_iter().map(player_doc).collect();
        paged("PlayerSessions", &docs, limit, i.next_token.as_deref())
    }

    /// ListLocations. GameLift lists every location it hosts in (plus the account's custom locations);
    /// the simulator knows the locations its model names, so it lists, as AWS locations, the request's
    /// Region, every fleet's home Region and non-custom location (whatever the fleet's home) and every
    /// `pingBeacons` entry; and, as custom locations, the `custom-` locations of the fleets homed in
    /// the request's Region (custom locations are regional resources). Sorted by name.
    fn list_locations(&self, region: Option<&str>, i: ListLocationsIn) -> Reply {
        let (want_aws, want_custom) = match &i.filters {
            None => (true, true),
            Some(filters) => {
                if filters.is_empty() || filters.len() > 2 {
                    return Err(ApiError::invalid("Filters must hold 1-2 entries"));
                }
                let (mut aws, mut custom) = (false, false);
                for f in filters {
                    match f.as_str() {
                        "AWS" => aws = true,
                        "CUSTOM" => custom = true,
                        other => {
                            return Err(ApiError::invalid(format!(
                                "unknown location filter {other}; expected AWS or CUSTOM"
                            )));
                        }
                    }
                }
                (aws, custom)
            }
        };
        let limit = limit(i.limit, LOCATIONS_PAGE)?;
        if let Some(t) = &i.next_token
            && (t.is_empty() || t.chars().count() > MAX_NEXT_TOKEN)
        {
            return Err(ApiError::invalid(format!(
                "NextToken must be 1-{MAX_NEXT_TOKEN} characters"
            )));
        }
        let mut found: BTreeMap<String, Doc> = BTreeMap::new();
        if want_aws {
            let fleet_locations = self.model.fleets.iter().flat_map(|f| {
                std::iter::once(f.region.as_str())
                    .chain(f.locations.iter().map(|l| l.location.as_str()))
            });
            let named = region
                .into_iter()
                .chain(fleet_locations)
                .chain(self.model.ping_beacons.keys().map(String::as_str))
                .filter(|l| *l != "*" && !is_custom_location(l));
            for name in named {
                let beacon = self
                    .model
                    .ping_beacons
                    .get(name)
                    .or_else(|| self.model.ping_beacons.get("*"))
                    .map(|b| (b.domain.clone(), b.port))
                    .or_else(|| default_beacon(name));
                let mut doc = Doc::map().with("LocationName", name);
                if let Some((domain, port)) = beacon {
                    doc = doc.with(
                        "PingBeacon",
                        Doc::map().with(
                            "UDPEndpoint",
                            Doc::map()
                                .with("Domain", domain)
                                .with("Port", i64::from(port)),
                        ),
                    );
                }
                found.entry(name.to_owned()).or_insert(doc);
            }
        }
        if want_custom {
            let account = &self.model.account_id;
            for f in &self.model.fleets {
                if region.is_some_and(|r| r != f.region) {
                    continue;
                }
                for l in f
                    .locations
                    .iter()
                    .filter(|l| is_custom_location(&l.location))
                {
                    // A custom location has an ARN (pattern `^arn:.*:location/custom-\S+`, e.g.
                    // `arn:aws:gamelift:us-east-1:111122223333:location/custom-location-1` in
                    // GameLift's guide) and no ping beacon.
                    let arn = format!(
                        "arn:aws:gamelift:{}:{account}:location/{}",
                        f.region, l.location
                    );
                    found.entry(l.location.clone()).or_insert_with(|| {
                        Doc::map()
                            .with("LocationName", &l.location)
                            .with("LocationArn", arn)
                    });
                }
            }
        }
        let docs: Vec<Doc> = found.into_values().collect();
        paged("Locations", &docs, limit, i.next_token.as_deref())
    }

    /// GetPlayerConnectionDetails: for each requested player, in order, the relay endpoints and a
    /// fresh token of a player-gateway session, or the game server's own address otherwise. GameLift
    /// does not require the players to hold player sessions in the game session (its reference names
    /// no such error), and neither does the simulator.
    fn connection_details(
        &mut self,
        now: i64,
        region: Option<&str>,
        i: ConnectionDetailsIn,
    ) -> Reply {
        let id = required(i.game_session_id, "GameSessionId")?;
        let id_ok = !id.is_empty()
            && id.len() <= MAX_CONNECTION_SESSION_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b':' || b == b'/' || b == b'-');
        if !id_ok {
            return Err(ApiError::invalid(format!(
                "GameSessionId must be 1-{MAX_CONNECTION_SESSION_ID} characters of [a-zA-Z0-9:/-]"
            )));
        }
        let players = required(i.player_ids, "PlayerIds")?;
        if players.is_empty() || players.len() > MAX_PLAYER_IDS {
            return Err(ApiError::invalid(format!(
                "PlayerIds must hold 1-{MAX_PLAYER_IDS} player ids"
            )));
        }
        for p in &players {
            check_player_id(p)?;
        }
        // "The value is always a full ARN": unlike the other calls, the placement's short
        // GameSessionId names no game session here.
        let gs = self
            .sessions
            .get(&id)
            .filter(|s| region.is_none_or(|r| r == s.home_region))
            .ok_or_else(|| ApiError::not_found(format!("game session {id} not found")))?
            .clone();
        if gs.status != "ACTIVE" {
            return Err(ApiError::bad_status(format!(
                "game session {} is {}",
                gs.arn, gs.status
            )));
        }
        let lifetime = i64::try_from(self.model.player_gateway_token_seconds.saturating_mul(1000))
            .unwrap_or(i64::MAX / 4);
        let mut details = Vec::with_capacity(players.len());
        for player in players {
            let detail = if gs.gateway {
                let token = self.gateway_token();
                Doc::map()
                    .with("PlayerId", &player)
                    .with("Endpoints", relay_endpoints(&gs.location, &player))
                    .with("PlayerGatewayToken", token)
                    .with("Expiration", Doc::Time(now.saturating_add(lifetime)))
            } else {
                Doc::map().with("PlayerId", &player).with(
                    "Endpoints",
                    Doc::List(vec![
                        Doc::map().with("IpAddress", &gs.ip).with("Port", gs.port),
                    ]),
                )
            };
            details.push(detail);
        }
        Ok(Doc::map()
            .with("GameSessionId", &gs.arn)
            .with("PlayerConnectionDetails", Doc::List(details)))
    }

    /// A new opaque player gateway token: random bytes, base64-encoded as GameLift sends its tokens.
    fn gateway_token(&mut self) -> String {
        let bytes: [u8; TOKEN_BYTES] = self.rng.random();
        base64(&bytes)
    }

    fn update_session(&mut self, region: Option<&str>, i: UpdateIn) -> Reply {
        let id = required(i.game_session_id, "GameSessionId")?;
        let new_props = check_props(i.game_properties)?;
        if let Some(m) = i.maximum_player_session_count
            && !(0..=MAX_PLAYERS).contains(&m)
        {
            return Err(ApiError::invalid(format!(
                "MaximumPlayerSessionCount must be 0-{MAX_PLAYERS}"
            )));
        }
        if let Some(n) = &i.name
            && (n.is_empty() || n.chars().count() > MAX_NAME)
        {
            return Err(ApiError::invalid(format!(
                "Name must be 1-{MAX_NAME} characters"
            )));
        }
        if let Some(p) = &i.player_session_creation_policy
            && p != "ACCEPT_ALL"
            && p != "DENY_ALL"
        {
            return Err(ApiError::invalid(format!(
                "unknown PlayerSessionCreationPolicy {p}"
            )));
        }
        if let Some(p) = &i.protection_policy
            && p != "NoProtection"
            && p != "FullProtection"
        {
            return Err(ApiError::invalid(format!("unknown ProtectionPolicy {p}")));
        }
        let arn = self.find_session_in(&id, region)?.arn.clone();
        let gs = self
            .sessions
            .get_mut(&arn)
            .ok_or_else(|| ApiError::not_found(format!("game session {id} not found")))?;
        if gs.status != "ACTIVE" && gs.status != "ACTIVATING" {
            return Err(ApiError::bad_status(format!(
                "game session {arn} is {}",
                gs.status
            )));
        }
        // Properties merge: new keys are added, existing keys updated, nothing is ever deleted.
        let mut merged = gs.props.clone();
        for (k, v) in new_props {
            match merged.iter_mut().find(|(mk, _)| *mk == k) {
                Some(slot) => slot.1 = v,
                None => merged.push((k, v)),
            }
        }
        if merged.len() > MAX_PROPERTIES {
            return Err(ApiError::invalid(format!(
                "a game session holds at most {MAX_PROPERTIES} game properties"
            )));
        }
        gs.props = merged;
        if let Some(m) = i.maximum_player_session_count {
            gs.max_players = m;
        }
        if let Some(n) = i.name {
            gs.name = Some(n);
        }
        if let Some(p) = i.player_session_creation_policy {
            gs.policy = p;
        }
        if let Some(p) = i.protection_policy {
            gs.protection = p;
        }
        let gs = gs.clone();
        Ok(Doc::map().with("GameSession", self.session_doc(&gs)))
    }

    fn terminate_session(&mut self, now: i64, region: Option<&str>, i: TerminateIn) -> Reply {
        let id = required(i.game_session_id, "GameSessionId")?;
        let force = match i.termination_mode.as_deref() {
            None | Some("TRIGGER_ON_PROCESS_TERMINATE") => false,
            Some("FORCE_TERMINATE") => true,
            Some(o) => return Err(ApiError::invalid(format!("unknown TerminationMode {o}"))),
        };
        let arn = self.find_session_in(&id, region)?.arn.clone();
        let status = self
            .sessions
            .get(&arn)
            .map(|s| s.status)
            .unwrap_or("TERMINATED");
        if status != "ACTIVE" && status != "ACTIVATING" {
            return Err(ApiError::bad_status(format!(
                "game session {arn} is {status}"
            )));
        }
        if force {
            self.end_session(now, &arn, Some("FORCE_TERMINATED"));
        } else {
            if let Some(gs) = self.sessions.get_mut(&arn) {
                gs.status = "TERMINATING";
                gs.status_reason = Some("TRIGGERED_ON_PROCESS_TERMINATE");
            }
            self.schedule(now + TERMINATING_MS, Timer::SessionEnd(arn.clone()));
        }
        let gs = self.find_session(&arn)?.clone();
        Ok(Doc::map().with("GameSession", self.session_doc(&gs)))
    }

    /// The player session `psid` as of `now`, for a server-side call that needs it in one of
    /// `statuses`.
    fn player_session_in(
        &mut self,
        now: i64,
        psid: &str,
        statuses: &[&str],
    ) -> Result<&mut PlayerSession, SimError> {
        self.run_due(now);
        let ps = self
            .players
            .get_mut(psid)
            .ok_or_else(|| SimError::PlayerSessionNotFound(psid.to_owned()))?;
        if !statuses.contains(&ps.status) {
            return Err(SimError::PlayerSessionStatus {
                id: psid.to_owned(),
                status: ps.status.to_owned(),
            });
        }
        Ok(ps)
    }

    /// The game server accepted a player (GameLift's server-side AcceptPlayerSession).
    pub fn accept_player_session(&mut self, now: i64, psid: &str) -> Result<(), SimError> {
        self.player_session_in(now, psid, &["RESERVED"])?.status = "ACTIVE";
        Ok(())
    }

    /// The player left (GameLift's server-side RemovePlayerSession).
    pub fn remove_player_session(&mut self, now: i64, psid: &str) -> Result<(), SimError> {
        let ps = self.player_session_in(now, psid, &["RESERVED", "ACTIVE"])?;
        ps.status = "COMPLETED";
        ps.terminated_ms = Some(now);
        let arn = ps.session_arn.clone();
        if let Some(gs) = self.sessions.get_mut(&arn) {
            gs.player_sessions.retain(|p| p != psid);
        }
        Ok(())
    }

    /// Status of a player session, if it exists.
    pub fn player_session_status(&self, psid: &str) -> Option<&'static str> {
        self.players.get(psid).map(|p| p.status)
    }

    /// Status of a placement, if it exists.
    pub fn placement_status(&self, id: &str) -> Option<&'static str> {
        self.placements.get(id).map(|p| p.status.as_str())
    }

    /// Game-session slots taken now, by (fleet id, location); a location not listed has none taken.
    pub fn used_slots(&self) -> BTreeMap<(String, String), u32> {
        self.used
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }

    /// Number of ACTIVE game sessions.
    pub fn active_sessions(&self) -> usize {
        self.sessions
            .values()
            .filter(|s| s.status == "ACTIVE")
            .count()
    }

    fn placement_doc(&self, p: &Placement) -> Doc {
        let session = p.session_arn.as_ref().and_then(|a| self.sessions.get(a));
        let mut d = Doc::map()
            .with("PlacementId", &p.id)
            .with("GameSessionQueueName", &p.queue)
            .with("Status", p.status.as_str())
            .with("GameProperties", props_doc(&p.props))
            .with("MaximumPlayerSessionCount", p.max_players)
            .with_opt("GameSessionName", p.name.as_ref())
            .with(
                "PlayerLatencies",
                Doc::List(
                    p.latencies
                        .iter()
                        .map(|(pl, r, ms)| {
                            Doc::map()
                                .with("PlayerId", pl)
                                .with("RegionIdentifier", r)
                                .with("LatencyInMilliseconds", Doc::Float(f64::from(*ms)))
                        })
                        .collect(),
                ),
            )
            .with("StartTime", Doc::Time(p.start_ms))
            .with_opt("EndTime", p.end_ms.map(Doc::Time))
            .with_opt("GameSessionData", p.data.as_ref());
        if let Some(s) = session {
            let id_part = s.arn.rsplit('/').next().unwrap_or_default();
            d = d
                .with("GameSessionId", id_part)
                .with("GameSessionArn", &s.arn)
                .with("GameSessionRegion", &s.location)
                .with("IpAddress", &s.ip)
                .with("DnsName", &s.dns)
                .with("Port", s.port)
                .with("PlayerGatewayStatus", gateway_status(s))
                .with(
                    "PlacedPlayerSessions",
                    Doc::List(
                        p.placed
                            .iter()
                            .map(|(pl, ps)| {
                                Doc::map().with("PlayerId", pl).with("PlayerSessionId", ps)
                            })
                            .collect(),
                    ),
                );
        }
        d
    }

    fn session_doc(&self, s: &GameSession) -> Doc {
        Doc::map()
            .with("GameSessionId", &s.arn)
            .with_opt("Name", s.name.as_ref())
            .with("FleetId", &s.fleet_id)
            .with("FleetArn", &s.fleet_arn)
            .with("CreationTime", Doc::Time(s.created_ms))
            .with_opt("TerminationTime", s.terminated_ms.map(Doc::Time))
            .with("CurrentPlayerSessionCount", s.player_sessions.len() as i64)
            .with("MaximumPlayerSessionCount", s.max_players)
            .with("Status", s.status)
            .with_opt("StatusReason", s.status_reason)
            .with("GameProperties", props_doc(&s.props))
            .with("IpAddress", &s.ip)
            .with("DnsName", &s.dns)
            .with("Port", s.port)
            .with("PlayerSessionCreationPolicy", s.policy.as_str())
            .with_opt("GameSessionData", s.data.as_ref())
            .with("Location", &s.location)
            .with("PlayerGatewayStatus", gateway_status(s))
    }
}

/// The `PlacementFulfilled` event detail of a placement that got `session` at `at`.
fn fulfilled_detail(
    at: i64,
    p: &Placement,
    session: &GameSession,
    placed: &[(String, String)],
) -> Json {
    json!({
        "type": "PlacementFulfilled",
        "placementId": p.id,
        "port": session.port.to_string(),
        "gameSessionArn": session.arn,
        "ipAddress": session.ip,
        "dnsName": session.dns,
        "startTime": rfc3339_millis(p.start_ms),
        "endTime": rfc3339_millis(at),
        "gameSessionRegion": session.location,
        "placedPlayerSessions": placed.iter().map(|(pl, ps)| json!({"playerId": pl, "playerSessionId": ps})).collect::<Vec<_>>(),
    })
}

/// FNV-1a: a stable hash, so relay addresses are the same in every run and on every platform.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The relay endpoints a player gets in `location`: [`RELAYS_PER_PLAYER`] of the location's
/// [`RELAY_POOL`] relays, starting at one chosen by the player id, so that players of one session get
/// different relays (GameLift: "relay endpoints vary across players"). Relays are `99.x.y.(10+k)` on
/// port `20000+k`, never a game server's address (those are in 3/18/34/52/54.x.y.z, ports 7777–7876).
fn relay_endpoints(location: &str, player: &str) -> Doc {
    let [_, a, b, ..] = fnv1a(location).to_le_bytes();
    let start = usize::try_from(fnv1a(player) % RELAY_POOL as u64).unwrap_or(0);
    Doc::List(
        (0..RELAYS_PER_PLAYER)
            .map(|j| {
                let k = (start + j) % RELAY_POOL;
                Doc::map()
                    .with("IpAddress", format!("99.{a}.{b}.{}", 10 + k))
                    .with("Port", RELAY_BASE_PORT + k as i64)
            })
            .collect(),
    )
}

/// Standard base64 with padding (RFC 4648).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn gateway_status(s: &GameSession) -> &'static str {
    if s.gateway { "ENABLED" } else { "DISABLED" }
}

fn player_doc(p: &PlayerSession) -> Doc {
    Doc::map()
        .with("PlayerSessionId", &p.id)
        .with("PlayerId", &p.player_id)
        .with("GameSessionId", &p.session_arn)
        .with("FleetId", &p.fleet_id)
        .with("FleetArn", &p.fleet_arn)
        .with("CreationTime", Doc::Time(p.created_ms))
        .with_opt("TerminationTime", p.terminated_ms.map(Doc::Time))
        .with("Status", p.status)
        .with("IpAddress", &p.ip)
        .with("DnsName", &p.dns)
        .with("Port", p.port)
        .with_opt("PlayerData", p.data.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn relay_endpoints_are_stable_vary_across_players_and_are_no_game_server() {
        let ips = |player: &str| match relay_endpoints("eu-west-1", player) {
            Doc::List(items) => items,
            other => panic!("not a list: {other:?}"),
        };
        assert_eq!(
            ips("ann"),
            ips("ann"),
            "the same player gets the same relays"
        );
        assert_eq!(ips("ann").len(), RELAYS_PER_PLAYER);
        let players = ["ann", "bob", "cy", "dee", "eve", "fay"];
        assert!(
            players.iter().any(|p| ips(p) != ips("ann")),
            "players of one location do not all share one set of relays"
        );
        for endpoint in ips("ann") {
            let Doc::Map(fields) = endpoint else {
                panic!("not a map")
            };
            assert!(fields.iter().any(
                |(k, v)| k == "IpAddress" && matches!(v, Doc::Str(ip) if ip.starts_with("99."))
            ));
        }
    }
}

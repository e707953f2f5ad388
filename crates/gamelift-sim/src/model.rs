//! The simulated world: queues, fleets, capacity, timings, throttling and faults.
//!
//! A [`Model`] is plain data, loaded from a JSON file (`--model FILE`) or built in code. Field names in
//! the file are camelCase; every field except `fleets` and `queues` has a default.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::region::is_aws_region;

/// The whole simulated GameLift account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Model {
    /// AWS account id used in ARNs and events.
    #[serde(default = "default_account")]
    pub account_id: String,
    /// SNS topic ARN stamped on event envelopes.
    #[serde(default = "default_topic")]
    pub topic_arn: String,
    /// Seed of the random generator (ids, IPs, ports, fault decisions). Same seed, same run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Time between StartGameSessionPlacement and the first placement attempt.
    #[serde(default = "default_delay")]
    pub placement_delay_ms: u64,
    /// How long a RESERVED player session waits for the game server's AcceptPlayerSession.
    #[serde(default = "default_reservation")]
    pub reservation_timeout_seconds: u64,
    /// When set, every game session ends by itself (TERMINATED) after this many seconds, freeing its slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game_session_lifetime_seconds: Option<u64>,
    /// Whether per-API throttling (ThrottlingException) is on.
    #[serde(default = "default_true")]
    pub throttling: bool,
    /// Per-operation overrides of the token-bucket limits (see [`crate::throttle::default_limit`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_limits: BTreeMap<String, RateLimit>,
    /// Fleets and their capacity.
    pub fleets: Vec<FleetSpec>,
    /// Game session queues.
    pub queues: Vec<QueueSpec>,
    /// Fault injection.
    #[serde(default)]
    pub faults: Faults,
    /// How long a player gateway token from GetPlayerConnectionDetails stays valid: its `Expiration`
    /// is the call's time plus this. GameLift promises "at least 3 minutes", so at least 180.
    #[serde(default = "default_gateway_token")]
    pub player_gateway_token_seconds: u64,
    /// UDP ping beacons ListLocations reports instead of GameLift's own (`gamelift-ping.<region>.api.aws`
    /// port 7770), keyed by location name, or `*` for every AWS location without its own entry: lets a
    /// local client measure a real round trip to a local echo ([`crate::beacon::serve_ping_beacon`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ping_beacons: BTreeMap<String, PingBeaconSpec>,
}

/// A UDP endpoint answering pings (GameLift's `UDPEndpoint`): what ListLocations reports for a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PingBeaconSpec {
    /// Host name or IP address, 1–1024 characters (GameLift's `Domain` limits).
    pub domain: String,
    /// UDP port, 1–65535.
    pub port: u16,
}

/// A fleet's `PlayerGatewayMode`, exactly GameLift's values.
///
/// `ENABLED`: sessions use player gateway where the location supports it (the simulator: every AWS
/// location, never a `custom-` one); `REQUIRED`: like `ENABLED`, and a location without support cannot
/// be part of the fleet (the model is refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlayerGatewayMode {
    /// No player gateway (GameLift's default).
    #[default]
    Disabled,
    /// Player gateway where the location supports it.
    Enabled,
    /// Player gateway in every location.
    Required,
}

impl PlayerGatewayMode {
    /// Whether this is `DISABLED` (the default, left out of a written model file).
    pub fn is_disabled(&self) -> bool {
        *self == Self::Disabled
    }
}

/// Whether `location` is a custom (Anywhere) location: GameLift names them `custom-…`
/// (CreateLocation's `LocationName` pattern `^custom-[A-Za-z0-9\-]+`).
pub fn is_custom_location(location: &str) -> bool {
    location.starts_with("custom-")
}

/// A fleet: a home Region plus locations, each with a number of game-session slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FleetSpec {
    /// `fleet-<uuid>`.
    pub id: String,
    /// The fleet's home Region, e.g. `eu-west-1`: its game sessions' ARNs name it, and every call
    /// about the fleet or its sessions must be made in it (any other Region answers NotFound).
    pub region: String,
    /// Locations (the home region included, if it hosts sessions) with their slots.
    pub locations: Vec<LocationSpec>,
    /// GameLift's `PlayerGatewayMode` (`DISABLED`, `ENABLED`, `REQUIRED`; default `DISABLED`): whether
    /// its game sessions' `PlayerGatewayStatus` is `ENABLED` and GetPlayerConnectionDetails hands out
    /// relay endpoints and tokens rather than the game server's own address.
    #[serde(default, skip_serializing_if = "PlayerGatewayMode::is_disabled")]
    pub player_gateway_mode: PlayerGatewayMode,
}

impl FleetSpec {
    /// A fleet without player gateway whose one location is its home Region, with `slots` slots.
    pub fn in_home_region(id: &str, region: &str, slots: u32) -> Self {
        Self {
            id: id.to_owned(),
            region: region.to_owned(),
            locations: vec![LocationSpec::new(region, slots)],
            player_gateway_mode: PlayerGatewayMode::Disabled,
        }
    }
}

/// One location of a fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationSpec {
    /// A region or custom location name, e.g. `eu-west-1`.
    pub location: String,
    /// How many game sessions this location can host at once.
    pub slots: u32,
}

impl LocationSpec {
    /// `location` with `slots` game-session slots.
    pub fn new(location: &str, slots: u32) -> Self {
        Self {
            location: location.to_owned(),
            slots,
        }
    }
}

/// A game session queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueueSpec {
    /// Queue name (requests may use the name or the ARN).
    pub name: String,
    /// The queue's home Region (events carry it): its placements are started, described and
    /// stopped there. Its destinations may be fleets homed in other Regions.
    pub region: String,
    /// A placement still PENDING this long after it started becomes TIMED_OUT.
    #[serde(default = "default_queue_timeout")]
    pub timeout_seconds: u64,
    /// Fleet ids (or fleet ARNs), in priority order.
    pub destinations: Vec<String>,
    /// If set, only these locations are used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_locations: Option<Vec<String>>,
    /// The queue's custom prioritization (GameLift's `PriorityConfiguration`). Without one, or with a
    /// `priorityOrder` that lacks `LOCATION`, StartGameSessionPlacement refuses a
    /// `PriorityConfigurationOverride` with InvalidRequestException, as GameLift does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_configuration: Option<PriorityConfiguration>,
}

impl QueueSpec {
    /// A queue in `region` placing on `destinations` in that order, with no allowed-location list and
    /// no priority configuration.
    pub fn new(name: &str, region: &str, timeout_seconds: u64, destinations: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            region: region.to_owned(),
            timeout_seconds,
            destinations: destinations.iter().map(|d| (*d).to_owned()).collect(),
            allowed_locations: None,
            priority_configuration: None,
        }
    }
}

/// A queue's `PriorityConfiguration`: the order in which placement criteria are applied.
///
/// The simulator uses it to decide whether the queue prioritises locations (what a per-request
/// location override needs); placements are still ranked by latency, then queue order, as described
/// in the README.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriorityConfiguration {
    /// Each of `LATENCY`, `COST`, `DESTINATION`, `LOCATION` at most once, 1 to 4 entries.
    pub priority_order: Vec<String>,
    /// Locations in priority order (used when `priorityOrder` includes `LOCATION`), 1 to 100 unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_order: Option<Vec<String>>,
}

/// The priority types GameLift's `PriorityConfiguration.PriorityOrder` accepts.
pub const PRIORITY_TYPES: [&str; 4] = ["LATENCY", "COST", "DESTINATION", "LOCATION"];

impl PriorityConfiguration {
    /// A configuration that ranks `LOCATION` first, then GameLift's default criteria, and names no
    /// location order: what fleetlift's template gives the queue it creates, so that a create's
    /// `regions` (a location override) is accepted.
    pub fn location_first() -> Self {
        Self {
            priority_order: ["LOCATION", "LATENCY", "COST", "DESTINATION"]
                .map(str::to_owned)
                .to_vec(),
            location_order: None,
        }
    }

    /// Whether the queue prioritises locations, so that a placement may override its location order.
    pub fn prioritises_locations(&self) -> bool {
        self.priority_order.iter().any(|p| p == "LOCATION")
    }

    /// GameLift's limits (PriorityConfiguration in the API reference): known priority types, each at
    /// most once, 1–4 of them; a location order of 1–100 unique entries.
    fn validate(&self, queue: &str) -> Result<(), String> {
        let order = &self.priority_order;
        if order.is_empty() || order.len() > PRIORITY_TYPES.len() {
            return Err(format!(
                "queue {queue}: priorityOrder must hold 1-4 entries"
            ));
        }
        for (i, p) in order.iter().enumerate() {
            if !PRIORITY_TYPES.contains(&p.as_str()) {
                return Err(format!(
                    "queue {queue}: unknown priority type {p} (expected one of {})",
                    PRIORITY_TYPES.join(", ")
                ));
            }
            if order[..i].contains(p) {
                return Err(format!("queue {queue}: priority type {p} is listed twice"));
            }
        }
        if let Some(locations) = &self.location_order {
            if locations.is_empty() || locations.len() > 100 {
                return Err(format!(
                    "queue {queue}: locationOrder must hold 1-100 entries"
                ));
            }
            for (i, l) in locations.iter().enumerate() {
                if locations[..i].contains(l) {
                    return Err(format!("queue {queue}: location {l} is listed twice"));
                }
            }
        }
        Ok(())
    }
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    /// Bucket size.
    pub burst: f64,
    /// Refill per second.
    pub rate: f64,
}

/// Fault injection switches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Per-operation faults, keyed by operation name (e.g. `StartGameSessionPlacement`) or `*` for all.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operations: BTreeMap<String, FaultSpec>,
    /// Faults applied to placement events and placements.
    #[serde(default)]
    pub events: EventFaults,
}

/// Faults for one operation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultSpec {
    /// Probability (0..=1) that a call fails with `error_code`.
    #[serde(default)]
    pub error_rate: f64,
    /// Error returned by injected failures (default `InternalServiceException`, status 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Real-time latency added to every call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

/// Faults on the event stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventFaults {
    /// Probability that an event is never published.
    #[serde(default)]
    pub drop_rate: f64,
    /// Probability that an event is published twice (same event id, new SNS MessageId).
    #[serde(default)]
    pub duplicate_rate: f64,
    /// Probability that an event is published late.
    #[serde(default)]
    pub delay_rate: f64,
    /// How late (simulated milliseconds) a delayed event is published.
    #[serde(default)]
    pub delay_ms: u64,
    /// Probability that a placement ends FAILED instead of being placed.
    #[serde(default)]
    pub placement_failure_rate: f64,
    /// When set (`FAILED`, `CANCELLED` or `TIMED_OUT`): every new placement ends at once with this
    /// status, which StartGameSessionPlacement's answer already carries (its event follows), to
    /// test callers that must read the answer's status rather than assume PENDING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ends_as: Option<String>,
}

fn default_account() -> String {
    "123456789012".to_owned()
}
fn default_topic() -> String {
    "arn:aws:sns:us-east-1:123456789012:gamelift-placements".to_owned()
}
fn default_seed() -> u64 {
    42
}
fn default_delay() -> u64 {
    1000
}
fn default_reservation() -> u64 {
    60
}
fn default_true() -> bool {
    true
}

/// A fleet's or queue's home Region must be an AWS Region name: ARNs and credential scopes name it.
fn check_home_region(kind: &str, name: &str, region: &str) -> Result<(), SimError> {
    if is_aws_region(region) {
        return Ok(());
    }
    Err(SimError::Model(format!(
        "{kind} {name} has home region {region:?}, which is not an AWS Region name (like us-east-1)"
    )))
}

fn default_queue_timeout() -> u64 {
    600
}
fn default_gateway_token() -> u64 {
    DEFAULT_PLAYER_GATEWAY_TOKEN_SECONDS
}

/// Default lifetime of a player gateway token: five minutes, above GameLift's promised minimum of three
/// and long enough for its recommended 60-second refresh to leave slack.
pub const DEFAULT_PLAYER_GATEWAY_TOKEN_SECONDS: u64 = 300;
/// GameLift's promise: a player gateway token is valid for at least 3 minutes.
pub const MIN_PLAYER_GATEWAY_TOKEN_SECONDS: u64 = 180;

/// Fleet id of the default model's us-east-1 fleet.
pub const DEFAULT_FLEET_US: &str = "fleet-1a1a1a1a-0000-4000-8000-000000000001";
/// Fleet id of the default model's eu-west-1 fleet.
pub const DEFAULT_FLEET_EU: &str = "fleet-2b2b2b2b-0000-4000-8000-000000000002";
/// Name of the default model's queue.
pub const DEFAULT_QUEUE: &str = "default-queue";

impl Default for Model {
    /// `default-queue` (us-east-1, 600 s timeout, LOCATION first in its priority configuration) → a
    /// us-east-1 fleet and a eu-west-1 fleet, 100 slots each, 1 s placement delay, 60 s reservations,
    /// throttling on, no faults, seed 42.
    fn default() -> Self {
        Self {
            account_id: default_account(),
            topic_arn: default_topic(),
            seed: default_seed(),
            placement_delay_ms: default_delay(),
            reservation_timeout_seconds: default_reservation(),
            game_session_lifetime_seconds: None,
            throttling: true,
            rate_limits: BTreeMap::new(),
            fleets: vec![
                FleetSpec::in_home_region(DEFAULT_FLEET_US, "us-east-1", 100),
                FleetSpec::in_home_region(DEFAULT_FLEET_EU, "eu-west-1", 100),
            ],
            queues: vec![QueueSpec {
                priority_configuration: Some(PriorityConfiguration::location_first()),
                ..QueueSpec::new(
                    DEFAULT_QUEUE,
                    "us-east-1",
                    default_queue_timeout(),
                    &[DEFAULT_FLEET_US, DEFAULT_FLEET_EU],
                )
            }],
            faults: Faults::default(),
            player_gateway_token_seconds: DEFAULT_PLAYER_GATEWAY_TOKEN_SECONDS,
            ping_beacons: BTreeMap::new(),
        }
    }
}

impl Model {
    /// Parses a model from JSON text and validates it.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let model: Model =
            serde_json::from_str(text).map_err(|e| SimError::Model(e.to_string()))?;
        model.validate()?;
        Ok(model)
    }

    /// Reads and validates a model file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SimError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimError::Model(format!("{}: {e}", path.display())))?;
        Self::from_json(&text)
    }

    /// The model as pretty JSON (the file format).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks references and ranges: queue destinations name known fleets, rates are in 0..=1, etc.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |m: String| Err(SimError::Model(m));
        let mut seen = std::collections::BTreeSet::new();
        for f in &self.fleets {
            if !seen.insert(f.id.as_str()) {
                return bad(format!("duplicate fleet id {}", f.id));
            }
            check_home_region("fleet", &f.id, &f.region)?;
            if f.locations.is_empty() {
                return bad(format!("fleet {} has no locations", f.id));
            }
            // GameLift: with REQUIRED, "fleet locations that do not support the feature cannot be
            // added to the fleet"; custom (Anywhere) locations never have player gateway.
            if f.player_gateway_mode == PlayerGatewayMode::Required
                && let Some(l) = f.locations.iter().find(|l| is_custom_location(&l.location))
            {
                return bad(format!(
                    "fleet {} has playerGatewayMode REQUIRED but location {}, a custom location, has no player gateway",
                    f.id, l.location
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for q in &self.queues {
            if !names.insert(q.name.as_str()) {
                return bad(format!("duplicate queue {}", q.name));
            }
            check_home_region("queue", &q.name, &q.region)?;
            for d in &q.destinations {
                // A destination ARN names the fleet's home Region, which may differ from the queue's.
                let home = self.fleet(d).map(|f| f.region.as_str());
                if home.is_none() || (d.starts_with("arn:") && self.fleet_in(d, home).is_none()) {
                    return bad(format!("queue {} names unknown fleet {d}", q.name));
                }
            }
            if let Some(p) = &q.priority_configuration {
                p.validate(&q.name).map_err(SimError::Model)?;
            }
        }
        let rates = self
            .faults
            .operations
            .values()
            .map(|f| f.error_rate)
            .chain([
                self.faults.events.drop_rate,
                self.faults.events.duplicate_rate,
                self.faults.events.delay_rate,
                self.faults.events.placement_failure_rate,
            ]);
        for r in rates {
            if !(0.0..=1.0).contains(&r) {
                return bad(format!("fault rate {r} is not within 0..=1"));
            }
        }
        if let Some(s) = &self.faults.events.start_ends_as
            && !["FAILED", "CANCELLED", "TIMED_OUT"].contains(&s.as_str())
        {
            return bad(format!(
                "startEndsAs {s} is not one of FAILED, CANCELLED, TIMED_OUT"
            ));
        }
        if self.player_gateway_token_seconds < MIN_PLAYER_GATEWAY_TOKEN_SECONDS {
            return bad(format!(
                "playerGatewayTokenSeconds {} is below {MIN_PLAYER_GATEWAY_TOKEN_SECONDS}: GameLift's tokens are valid for at least 3 minutes",
                self.player_gateway_token_seconds
            ));
        }
        for (location, b) in &self.ping_beacons {
            if is_custom_location(location) {
                return bad(format!(
                    "pingBeacons names {location}: custom locations have no ping beacon"
                ));
            }
            if b.domain.is_empty() || b.domain.chars().count() > 1024 || b.port == 0 {
                return bad(format!(
                    "pingBeacons.{location} needs a domain of 1-1024 characters and a port of 1-65535"
                ));
            }
        }
        for (op, l) in &self.rate_limits {
            if !(l.burst > 0.0 && l.rate >= 0.0) {
                return bad(format!("rate limit for {op} needs burst > 0 and rate >= 0"));
            }
        }
        Ok(())
    }

    /// Finds a fleet by id or by a fleet ARN ending in `/<id>`.
    pub fn fleet(&self, id_or_arn: &str) -> Option<&FleetSpec> {
        let id = id_or_arn.rsplit('/').next().unwrap_or(id_or_arn);
        self.fleets.iter().find(|f| f.id == id)
    }

    /// Finds a queue by name or by ARN ending in `/<name>`.
    pub fn queue(&self, name_or_arn: &str) -> Option<&QueueSpec> {
        let name = name_or_arn.rsplit('/').next().unwrap_or(name_or_arn);
        self.queues.iter().find(|q| q.name == name)
    }

    /// The fleet `id_or_arn` as a request made in `region` sees it: only a fleet homed there exists
    /// (`None` = any Region, for in-process calls). An ARN must also name that Region, this account and
    /// a `fleet/` resource.
    pub fn fleet_in(&self, id_or_arn: &str, region: Option<&str>) -> Option<&FleetSpec> {
        let f = self.fleet(id_or_arn)?;
        let home_ok = region.is_none_or(|r| r == f.region);
        (home_ok && self.arn_names(id_or_arn, &f.region, "fleet/")).then_some(f)
    }

    /// The queue `name_or_arn` as a request made in `region` sees it (see [`Model::fleet_in`]).
    pub fn queue_in(&self, name_or_arn: &str, region: Option<&str>) -> Option<&QueueSpec> {
        let q = self.queue(name_or_arn)?;
        let home_ok = region.is_none_or(|r| r == q.region);
        (home_ok && self.arn_names(name_or_arn, &q.region, "gamesessionqueue/")).then_some(q)
    }

    /// True for a plain id, or an ARN `arn:<partition>:gamelift:<region>:<account>:<kind><id>` of this
    /// account in `region`.
    fn arn_names(&self, s: &str, region: &str, kind: &str) -> bool {
        if !s.starts_with("arn:") {
            return true;
        }
        let parts: Vec<&str> = s.splitn(6, ':').collect();
        matches!(parts.as_slice(), [_, _, "gamelift", r, account, resource]
            if *r == region && *account == self.account_id && resource.starts_with(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_model_round_trips_through_its_file_format() {
        let m = Model::default();
        let back = Model::from_json(&m.to_json_pretty()).expect("parses");
        assert_eq!(m, back);
    }

    #[test]
    fn a_priority_configuration_is_checked_against_gamelift_limits() {
        let with = |p: PriorityConfiguration| {
            let mut m = Model::default();
            m.queues[0].priority_configuration = Some(p);
            m.validate()
        };
        assert!(with(PriorityConfiguration::location_first()).is_ok());
        let order = |v: &[&str]| PriorityConfiguration {
            priority_order: v.iter().map(|s| (*s).to_owned()).collect(),
            location_order: None,
        };
        assert!(with(order(&[])).is_err(), "at least one priority type");
        assert!(with(order(&["LATENCY", "NEARBY"])).is_err(), "unknown type");
        assert!(with(order(&["COST", "COST"])).is_err(), "a type twice");
        let mut twice = PriorityConfiguration::location_first();
        twice.location_order = Some(vec!["us-east-1".into(), "us-east-1".into()]);
        assert!(with(twice).is_err(), "a location twice");
        let text = r#"{"fleets": [], "queues": [{"name": "q", "region": "us-east-1", "destinations": [],
            "priorityConfiguration": {"priorityOrder": ["LOCATION", "LATENCY"],
                                      "locationOrder": ["eu-west-1", "us-east-1"]}}]}"#;
        let m = Model::from_json(text).expect("the model file spells it in camelCase");
        let p = m.queues[0].priority_configuration.as_ref().expect("kept");
        assert!(p.prioritises_locations());
    }

    #[test]
    fn a_player_gateway_mode_is_one_of_gamelifts_and_defaults_to_disabled() {
        let with_mode = |mode: &str| {
            let text = format!(
                r#"{{"fleets": [{{"id": "fleet-1", "region": "us-east-1",
                    "locations": [{{"location": "us-east-1", "slots": 1}}]{mode}}}],
                    "queues": []}}"#
            );
            Model::from_json(&text)
        };
        let m = with_mode("").expect("no mode");
        assert_eq!(m.fleets[0].player_gateway_mode, PlayerGatewayMode::Disabled);
        for (text, mode) in [
            ("DISABLED", PlayerGatewayMode::Disabled),
            ("ENABLED", PlayerGatewayMode::Enabled),
            ("REQUIRED", PlayerGatewayMode::Required),
        ] {
            let m = with_mode(&format!(r#", "playerGatewayMode": "{text}""#)).expect(text);
            assert_eq!(m.fleets[0].player_gateway_mode, mode);
        }
        for bad in ["enabled", "ON", ""] {
            let e = with_mode(&format!(r#", "playerGatewayMode": "{bad}""#))
                .expect_err("not a GameLift mode");
            assert!(e.to_string().contains("REQUIRED"), "{e}");
        }
        let mut m = Model::default();
        m.fleets[0].player_gateway_mode = PlayerGatewayMode::Enabled;
        assert_eq!(
            Model::from_json(&m.to_json_pretty()).expect("round trip"),
            m
        );
    }

    #[test]
    fn a_required_player_gateway_refuses_a_custom_location_and_enabled_accepts_it() {
        let mut m = Model::default();
        m.fleets[0]
            .locations
            .push(LocationSpec::new("custom-home-lab", 1));
        m.fleets[0].player_gateway_mode = PlayerGatewayMode::Enabled;
        assert!(m.validate().is_ok());
        m.fleets[0].player_gateway_mode = PlayerGatewayMode::Required;
        let e = m.validate().expect_err("REQUIRED + custom").to_string();
        assert!(
            e.contains("custom-home-lab") && e.contains(DEFAULT_FLEET_US),
            "{e}"
        );
    }

    #[test]
    fn gateway_tokens_live_at_least_three_minutes_and_beacons_need_an_aws_location_and_a_port() {
        let mut m = Model::default();
        assert_eq!(m.player_gateway_token_seconds, 300);
        m.player_gateway_token_seconds = 179;
        assert!(
            m.validate().is_err(),
            "GameLift promises at least 3 minutes"
        );
        m.player_gateway_token_seconds = 180;
        assert!(m.validate().is_ok());
        let beacon = |port| PingBeaconSpec {
            domain: "127.0.0.1".into(),
            port,
        };
        m.ping_beacons.insert("*".into(), beacon(7770));
        m.ping_beacons.insert("us-east-1".into(), beacon(7771));
        assert!(m.validate().is_ok());
        m.ping_beacons.insert("us-west-2".into(), beacon(0));
        assert!(m.validate().is_err(), "port 0");
        m.ping_beacons.remove("us-west-2");
        m.ping_beacons.insert("custom-lab".into(), beacon(7770));
        assert!(m.validate().is_err(), "a custom location has no beacon");
        let text = r#"{"fleets": [], "queues": [], "playerGatewayTokenSeconds": 600,
            "pingBeacons": {"eu-west-1": {"domain": "localhost", "port": 9000}}}"#;
        let m = Model::from_json(text).expect("camelCase fields");
        assert_eq!(m.player_gateway_token_seconds, 600);
        assert_eq!(m.ping_beacons["eu-west-1"].port, 9000);
    }

    #[test]
    fn a_queue_naming_an_unknown_fleet_is_rejected() {
        let mut m = Model::default();
        m.queues[0].destinations.push("fleet-nope".into());
        assert!(m.validate().is_err());
    }

    #[test]
    fn a_home_region_that_is_no_aws_region_is_rejected_naming_the_fleet_or_queue() {
        let mut m = Model::default();
        m.fleets[1].region = "europe".into();
        let e = m.validate().expect_err("bad fleet region").to_string();
        assert!(e.contains(DEFAULT_FLEET_EU) && e.contains("europe"), "{e}");
        let mut m = Model::default();
        m.queues[0].region = "".into();
        let e = m.validate().expect_err("bad queue region").to_string();
        assert!(e.contains(DEFAULT_QUEUE), "{e}");
    }

    #[test]
    fn a_fleet_or_queue_exists_only_in_its_home_region() {
        let m = Model::default();
        assert!(m.fleet_in(DEFAULT_FLEET_EU, Some("eu-west-1")).is_some());
        assert!(m.fleet_in(DEFAULT_FLEET_EU, Some("us-east-1")).is_none());
        assert!(m.fleet_in(DEFAULT_FLEET_EU, None).is_some());
        let arn = format!("arn:aws:gamelift:eu-west-1:123456789012:fleet/{DEFAULT_FLEET_EU}");
        assert!(m.fleet_in(&arn, Some("eu-west-1")).is_some());
        let wrong = format!("arn:aws:gamelift:us-east-1:123456789012:fleet/{DEFAULT_FLEET_EU}");
        assert!(
            m.fleet_in(&wrong, None).is_none(),
            "an ARN naming another Region"
        );
        assert!(m.queue_in(DEFAULT_QUEUE, Some("us-east-1")).is_some());
        assert!(m.queue_in(DEFAULT_QUEUE, Some("eu-west-1")).is_none());
        let other_account =
            "arn:aws:gamelift:us-east-1:999999999999:gamesessionqueue/default-queue";
        assert!(m.queue_in(other_account, Some("us-east-1")).is_none());
    }
}

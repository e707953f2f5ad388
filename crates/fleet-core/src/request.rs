//! HTTP API requests (docs/architecture.md#http-api), parsed once at the edge: raw bytes, query-string pairs, path segments
//! and headers become validated domain values, or a [`FieldError`] naming the field the client sent
//! (`players[3].playerId`, `latencies[0].latencyMs`, `properties.mode`,
//! `metadata.GameProperties.k`) and the limit of docs/architecture.md#limits it broke. Nothing here calls AWS, so every
//! limit is checked before any AWS call; nothing here panics on any input (property-tested).
//!
//! # How a body is read
//!
//! 1. More than [`BODY_MAX_BYTES`] bytes → `body` (checked before parsing; the handler may answer 413).
//! 2. Empty or whitespace-only → `body`; not JSON → `body`, with serde_json's line and column; valid JSON
//!    that is not an object (an array, a string, `null`) → `body`.
//! 3. The JSON is read into a private tree that keeps object keys **in the client's order, duplicates
//!    included**, then walked by hand, so every error carries the exact path:
//!    * a key that appears twice in one object is rejected (`{"maxPlayers":1,"maxPlayers":200}` names
//!      `maxPlayers`): JSON parsers disagree on which copy wins, so accepting either would be
//!      silently wrong;
//!    * an unknown key is rejected by its path (`foo`, `players[0].nickname`, `metadata.Foo`);
//!    * `null` for an optional field means absent; `null` (or nothing) for a required one is
//!      "is required";
//!    * a wrong JSON type names the field ("must be an integer, got a string").
//! 4. Integers: JSON has one number type, so an integral value written as `2.0` or `2e0` is the integer
//!    2; `1.5` is "must be an integer"; out-of-range values, however large (`1e30`, `2^70`), are a range
//!    error that quotes them. Negative values where counts are expected are range errors.
//!
//! Keys and values the client sent are quoted in `field` and messages up to 64 characters, then cut
//! with `…`, so an error never echoes a 300 KB key.
//!
//! # Choices where the design is silent
//!
//! * `name`, `data` (create) and `metadata.GameSessionName` / `metadata.GameSessionData` (status
//!   report) must be **1** character or more when present: GameLift rejects empty names and data
//!   (`StartGameSessionPlacement`, `UpdateGameSession` take 1–1024 and 1–262,144), so `""` is refused here
//!   rather than by GameLift after a call. Omit the field or send `null` for "none".
//! * Latencies: one entry per (playerId, region); a repeated pair is rejected at `latencies[i]`
//!   (two different numbers for the same pair would leave GameLift to pick one). A latency's
//!   player need not be among `players` (GameLift allows latencies for any player).
//! * Regions and playerIds must be unique in their lists; the error names the later copy.
//! * `regions` and `latencies` together are refused at `regions`: GameLift does not accept a location
//!   priority override with player latencies, so the create could only end as a FAILED placement.
//! * Array order is meaningful (regions, players), so [`CreateSession::digest`] depends on it; object
//!   key order and whitespace do not change it.
//! * `update_instance_info` with only `id` is accepted: an empty [`StatusReport`] (a no-op report,
//!   i.e. a liveness ping). `playerCount` and `player_count` are both read; if both are present they
//!   must be equal (else the error names `playerCount`).
//! * `GameProperties` values must be strings (`null` too is refused: GameLift merges properties and
//!   cannot delete one, so a `null` would be silently ignored).
//! * List parameters: an empty `query` or `sort` is the default; an empty `limit`, `cursor` or
//!   `explain` is an error. `cursor` must be printable ASCII without spaces (the cursor format is
//!   base64url; [`crate::query::cursor::decode`] checks the signature later).
//! * Path segments are percent-decoded once. Valid ids and ARNs contain no `%`, so a segment the
//!   gateway already decoded parses the same way.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};

use crate::FieldError;
use crate::ids::{
    IdempotencyKey, PlacementId, PlayerId, Region, SessionRef, check_at_most, check_count,
    check_len,
};
use crate::input::{self, GameProperties, Latency, MaxPlayers};
use crate::limits::{
    BODY_MAX_BYTES, DATA_MAX, LATENCIES_MAX, LATENCY_MS_MAX, LIMIT_DEFAULT, LIMIT_MAX, LIMIT_MIN,
    MAX_PLAYERS, MAX_PLAYERS_PER_JOIN, NAME_MAX, PROPERTIES_MAX, PROPERTY_KEY_MAX,
    PROPERTY_VALUE_MAX, REGIONS_MAX,
};
use crate::model::PlacementPlayer;
use crate::ports::StatusReport;
use crate::query::cursor::CURSOR_MAX;
use crate::query::{self, Query, Sort};

// ---------------------------------------------------------------------------------------------------
// Public requests
// ---------------------------------------------------------------------------------------------------

/// `POST /v1/sessions`: a validated create.
///
/// Body: `{maxPlayers, players?:[{playerId, playerData?}], latencies?:[{playerId, region, latencyMs}],
/// name?, data?, properties?:{k:v}, regions?:[…]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSession {
    /// The session's cap, 1–200.
    pub max_players: MaxPlayers,
    /// Players to create player sessions for: at most `maxPlayers`, unique playerIds.
    pub players: Vec<PlacementPlayer>,
    /// Latencies for placement: at most 200, one per (playerId, region), each 0–60,000 ms. GameLift
    /// places where the players' average latency is lowest. Never together with `regions`.
    pub latencies: Vec<Latency>,
    /// The session's name, 1–1024 characters.
    pub name: Option<String>,
    /// The session's data, 1–262,144 characters.
    pub data: Option<String>,
    /// Game properties (empty when absent).
    pub properties: GameProperties,
    /// Regions to restrict placement to, in this order: at most 10, unique (empty: the queue's own
    /// order). Sent as a location priority override, which GameLift accepts only from a queue whose
    /// priority configuration includes LOCATION, and never together with `latencies`.
    pub regions: Vec<Region>,
}

impl CreateSession {
    const FIELDS: &'static [&'static str] = &[
        "maxPlayers",
        "players",
        "latencies",
        "name",
        "data",
        "properties",
        "regions",
    ];

    /// Parses and validates a create body (see the [module docs](self) for the rules).
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let mut o = body_object(body, Self::FIELDS)?;

        let (path, v) = o.required("maxPlayers")?;
        let n = integer(&path, v, 1, i64::from(MAX_PLAYERS))?;
        let max_players = MaxPlayers::parse(n).map_err(at(&path))?;

        let players = match o.take("players") {
            (_, None) => Vec::new(),
            (path, Some(v)) => {
                let cap = max_players.get() as usize;
                players(
                    &path,
                    v,
                    0,
                    cap,
                    &format!("at most {cap} entries (maxPlayers)"),
                )?
            }
        };
        let latencies = match o.take("latencies") {
            (_, None) => Vec::new(),
            (path, Some(v)) => latencies(&path, v)?,
        };
        let name = o.optional("name", session_name)?;
        let data = o.optional("data", session_data)?;
        let properties = o.optional("properties", properties)?.unwrap_or_default();
        let regions = match o.take("regions") {
            (_, None) => Vec::new(),
            (path, Some(v)) => regions(&path, v)?,
        };
        // GameLift refuses PlayerLatencies together with a PriorityConfigurationOverride (the
        // InvalidRequestException listed in StartGameSessionPlacement's documentation), and `regions`
        // becomes that override. Refused here, before any AWS call, rather than as a FAILED placement.
        if !regions.is_empty() && !latencies.is_empty() {
            return Err(FieldError::new(
                "regions",
                "cannot be combined with latencies: GameLift places either in the order of these \
                 regions or where the players' latency is lowest; send one of the two",
            ));
        }
        Ok(Self {
            max_players,
            players,
            latencies,
            name,
            data,
            properties,
            regions,
        })
    }

    /// A stable digest of the validated content, for idempotency: the same logical body gives the
    /// same digest whatever its key order, whitespace, escapes or number spelling (`2` / `2.0`);
    /// any change to a value (or to the order of a list) changes it.
    ///
    /// SHA-256 over an unambiguous, length-prefixed encoding of the fields, as 43 characters of
    /// URL-safe base64 without padding.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"fleetlift-create-v1\n");
        put_u64(&mut h, u64::from(self.max_players.get()));
        put_u64(&mut h, self.players.len() as u64);
        for p in &self.players {
            put_str(&mut h, p.player_id.as_str());
            put_opt(&mut h, p.player_data.as_deref());
        }
        put_u64(&mut h, self.latencies.len() as u64);
        for l in &self.latencies {
            put_str(&mut h, l.player_id.as_str());
            put_str(&mut h, l.region.as_str());
            put_u64(&mut h, u64::from(l.latency_ms));
        }
        put_opt(&mut h, self.name.as_deref());
        put_opt(&mut h, self.data.as_deref());
        let props = self.properties.as_map();
        put_u64(&mut h, props.len() as u64);
        for (k, v) in props {
            put_str(&mut h, k);
            put_str(&mut h, v);
        }
        put_u64(&mut h, self.regions.len() as u64);
        for r in &self.regions {
            put_str(&mut h, r.as_str());
        }
        URL_SAFE_NO_PAD.encode(h.finalize())
    }
}

fn put_u64(h: &mut Sha256, n: u64) {
    h.update(n.to_le_bytes());
}

fn put_str(h: &mut Sha256, s: &str) {
    put_u64(h, s.len() as u64);
    h.update(s.as_bytes());
}

fn put_opt(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            put_str(h, s);
        }
    }
}

/// `POST /v1/sessions/{id}/join`: `{players:[{playerId, playerData?}]}`, 1–25 players with unique ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinSession {
    /// The players to seat, 1–25, unique playerIds.
    pub players: Vec<PlacementPlayer>,
}

impl JoinSession {
    /// Parses and validates a join body.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let mut o = body_object(body, &["players"])?;
        let (path, v) = o.required("players")?;
        let players = players(
            &path,
            v,
            1,
            MAX_PLAYERS_PER_JOIN,
            &format!("1–{MAX_PLAYERS_PER_JOIN} entries"),
        )?;
        Ok(Self { players })
    }
}

/// `PATCH /v1/sessions/{id}`: `{joinable?: bool, protected?: bool}`, at least one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchSession {
    /// The policies to set.
    pub policy: crate::ports::SessionPolicy,
}

impl PatchSession {
    /// Parses and validates a patch body.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let mut o = body_object(body, &["joinable", "protected"])?;
        let joinable = o.optional("joinable", boolean)?;
        let protected = o.optional("protected", boolean)?;
        if joinable.is_none() && protected.is_none() {
            return Err(FieldError::new(
                "body",
                "must set joinable or protected (or both)",
            ));
        }
        Ok(Self {
            policy: crate::ports::SessionPolicy {
                joinable,
                protected,
            },
        })
    }
}

/// `POST /v1/sessions/{id}/connection`: `{players:[{playerId}]}`, 1–25 unique players whose
/// connection details are wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRequest {
    /// The players, 1–25, unique.
    pub players: Vec<PlayerId>,
}

impl ConnectionRequest {
    /// Parses and validates a connection-details body.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let max = crate::ports::MAX_CONNECTION_PLAYERS;
        let mut o = body_object(body, &["players"])?;
        let (path, v) = o.required("players")?;
        let items = array(&path, v)?;
        check_count(&path, items.len(), 1..=max, &format!("1–{max} entries"))?;
        let mut players: Vec<PlayerId> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let item_path = index_path(&path, i);
            let mut p = Fields::of(&item_path, item, &["playerId"])?;
            let (id_path, id) = p.require("playerId", player_id)?;
            if let Some(first) = players.iter().position(|q| *q == id) {
                return Err(repeats(id_path, &path, first, "player"));
            }
            players.push(id);
        }
        Ok(Self { players })
    }
}

/// `POST /v1/rpc/update_instance_info`: a game server's status report.
///
/// Body: `{id, playerCount | player_count, metadata?:{GameSessionName?, GameSessionData?,
/// GameProperties?}}`. Both spellings of the player count are accepted (nakama-gamelift's README says
/// `playerCount`, its code `player_count`); both present and different is an error naming
/// `playerCount`. A body with only `id` is a valid no-op report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateInstanceInfo {
    /// The session (short id or ARN).
    pub id: SessionRef,
    /// What the server reported (`player_count` 0–200; name, data and properties from `metadata`).
    pub report: StatusReport,
}

impl UpdateInstanceInfo {
    /// Parses and validates a status report.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let mut o = body_object(body, UPDATE_FIELDS)?;
        let id = body_id(&mut o)?;
        let camel = o.optional("playerCount", player_count)?;
        let snake = o.optional("player_count", player_count)?;
        let player_count = match (camel, snake) {
            (Some(a), Some(b)) if a != b => {
                return Err(FieldError::new(
                    "playerCount",
                    format!("conflicts with player_count ({a} ≠ {b}); send one of them"),
                ));
            }
            (a, b) => a.or(b),
        };
        let mut report = StatusReport {
            player_count,
            ..StatusReport::default()
        };
        if let (path, Some(v)) = o.take("metadata") {
            let mut m = Fields::of(&path, v, METADATA_FIELDS)?;
            report.name = m.optional("GameSessionName", session_name)?;
            report.data = m.optional("GameSessionData", session_data)?;
            report.properties = m.optional("GameProperties", properties)?;
        }
        Ok(Self { id, report })
    }
}

/// `POST /v1/rpc/delete_instance_info`: `{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteInstanceInfo {
    /// The session (short id or ARN).
    pub id: SessionRef,
}

impl DeleteInstanceInfo {
    /// Parses and validates a delete report.
    pub fn parse(body: &[u8]) -> Result<Self, FieldError> {
        let mut o = body_object(body, &["id"])?;
        Ok(Self {
            id: body_id(&mut o)?,
        })
    }
}

/// `GET /v1/sessions` query-string parameters: `query`, `limit`, `cursor`, `sort`, `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    /// The parsed query (match-all when absent or empty).
    pub query: Query,
    /// The order (newest first when absent or empty).
    pub sort: Sort,
    /// Page size, 1–100 (20 when absent).
    pub limit: u32,
    /// The previous page's cursor, 1–2048 printable ASCII characters (not yet verified).
    pub cursor: Option<String>,
    /// Whether to return the plan (`explain=true`; the handler allows it to services only).
    pub explain: bool,
}

impl ListParams {
    const NAMES: [&'static str; 5] = ["query", "limit", "cursor", "sort", "explain"];

    /// Parses decoded query-string pairs. An unknown or repeated parameter is an error naming it.
    pub fn parse(params: &[(String, String)]) -> Result<Self, FieldError> {
        let mut values: [Option<&str>; 5] = [None; 5];
        for (name, value) in params {
            let Some(slot) = Self::NAMES.iter().position(|n| n == name) else {
                return Err(FieldError::new(
                    shown(name),
                    format!(
                        "is not a known parameter; expected one of {}",
                        Self::NAMES.join(", ")
                    ),
                ));
            };
            if values[slot].is_some() {
                return Err(FieldError::new(name.as_str(), "must be given at most once"));
            }
            values[slot] = Some(value.as_str());
        }
        let [q, limit, cursor, sort, explain] = values;

        let query = query::parse(q.unwrap_or(""))?;
        // Refused here, at the edge, so no store is asked for a Query DynamoDB would refuse.
        query::check_keys(&query)?;
        let limit = match limit {
            None => LIMIT_DEFAULT,
            Some(s) => parse_limit(s)?,
        };
        let cursor = cursor.map(parse_cursor).transpose()?;
        let sort = Sort::parse(sort.unwrap_or(""))?;
        let explain = match explain {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(FieldError::new(
                    "explain",
                    format!("must be true or false, got `{}`", shown(other)),
                ));
            }
        };
        Ok(Self {
            query,
            sort,
            limit,
            cursor,
            explain,
        })
    }
}

fn parse_limit(s: &str) -> Result<u32, FieldError> {
    let bad = || {
        FieldError::new(
            "limit",
            format!(
                "must be an integer {LIMIT_MIN}–{LIMIT_MAX}, got `{}`",
                shown(s)
            ),
        )
    };
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match s.parse::<u32>() {
        Ok(n) if (LIMIT_MIN..=LIMIT_MAX).contains(&n) => Ok(n),
        _ => Err(bad()),
    }
}

fn parse_cursor(s: &str) -> Result<String, FieldError> {
    check_len("cursor", s, 1, CURSOR_MAX)?;
    if !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(FieldError::new(
            "cursor",
            "must be printable ASCII without spaces (a cursor from a previous page)",
        ));
    }
    Ok(s.to_owned())
}

/// Reads a session id from a path segment: percent-decodes it (an ARN arrives as
/// `arn%3Aaws%3Agamelift%3A…%2F…`), then accepts a short id or an ARN. Errors name `id`.
pub fn parse_session_ref(path_segment: &str) -> Result<SessionRef, FieldError> {
    let s = percent_decode(path_segment).map_err(|why| FieldError::new("id", why))?;
    SessionRef::parse(&s).map_err(at("id"))
}

/// Reads a placement id from a path segment (percent-decoded first). Errors name `placementId`.
pub fn parse_placement_id(path_segment: &str) -> Result<PlacementId, FieldError> {
    let s = percent_decode(path_segment).map_err(|why| FieldError::new("placementId", why))?;
    PlacementId::parse(&s).map_err(at("placementId"))
}

/// Reads the optional `Idempotency-Key` header: absent → `None`; present → 1–128 printable ASCII
/// characters (an empty header is an error, not "absent"). Errors name `Idempotency-Key`.
pub fn parse_idempotency_key(header: Option<&str>) -> Result<Option<IdempotencyKey>, FieldError> {
    header
        .map(|h| IdempotencyKey::parse(h).map_err(at("Idempotency-Key")))
        .transpose()
}

/// Decodes `%XX` escapes to bytes, then checks the result is UTF-8. `+` is left alone (it means a
/// space only in form bodies, not in paths).
fn percent_decode(s: &str) -> Result<String, String> {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex);
            let lo = bytes.get(i + 2).copied().and_then(hex);
            let (Some(hi), Some(lo)) = (hi, lo) else {
                return Err(format!(
                    "has a bad percent escape at character {}: `%` must be followed by two hex digits",
                    s[..i].chars().count() + 1
                ));
            };
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded".to_owned())
}

// ---------------------------------------------------------------------------------------------------
// Field readers
// ---------------------------------------------------------------------------------------------------

/// Replaces a newtype parser's own field name (`playerId`, `name`) with the full path the client
/// spelled (`players[2].playerId`, `metadata.GameSessionName`).
fn at(path: &str) -> impl FnOnce(FieldError) -> FieldError + '_ {
    move |e| FieldError::new(path, e.problem)
}

fn body_id(o: &mut Fields) -> Result<SessionRef, FieldError> {
    let (_, id) = o.require("id", |path, v| {
        let s = string(path, v)?;
        SessionRef::parse(&s).map_err(at(path))
    })?;
    Ok(id)
}

fn player_count(path: &str, v: Json) -> Result<u32, FieldError> {
    let n = integer(path, v, 0, i64::from(MAX_PLAYERS))?;
    input::parse_player_count(path, n)
}

fn session_name(path: &str, v: Json) -> Result<String, FieldError> {
    non_empty_text(path, v, NAME_MAX, input::parse_name)
}

fn session_data(path: &str, v: Json) -> Result<String, FieldError> {
    non_empty_text(path, v, DATA_MAX, input::parse_data)
}

/// A string GameLift refuses empty (1–`max` characters), then checked by `parse`.
fn non_empty_text(
    path: &str,
    v: Json,
    max: usize,
    parse: fn(&str) -> Result<String, FieldError>,
) -> Result<String, FieldError> {
    let s = string(path, v)?;
    if s.is_empty() {
        return Err(FieldError::new(
            path,
            format!("must be 1–{max} characters, got 0 (omit it or send null for none)"),
        ));
    }
    parse(&s).map_err(at(path))
}

/// The keys of a player entry (create, join).
const PLAYER_FIELDS: &[&str] = &["playerId", "playerData"];
/// The keys of a latency entry.
const LATENCY_FIELDS: &[&str] = &["playerId", "region", "latencyMs"];
/// The top-level keys of a status report.
const UPDATE_FIELDS: &[&str] = &["id", "playerCount", "player_count", "metadata"];
/// The keys of a status report's `metadata`.
const METADATA_FIELDS: &[&str] = &["GameSessionName", "GameSessionData", "GameProperties"];

/// `[{playerId, playerData?}]` with `min..=max` entries and unique ids.
fn players(
    path: &str,
    v: Json,
    min: usize,
    max: usize,
    limit: &str,
) -> Result<Vec<PlacementPlayer>, FieldError> {
    let items = array(path, v)?;
    check_count(path, items.len(), min..=max, limit)?;
    let mut seen: HashMap<PlayerId, usize> = HashMap::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item_path = index_path(path, i);
        let mut o = Fields::of(&item_path, item, PLAYER_FIELDS)?;
        let (id_path, player_id) = o.require("playerId", player_id)?;
        if let Some(first) = seen.insert(player_id.clone(), i) {
            return Err(repeats(id_path, path, first, "player"));
        }
        let player_data = o.optional("playerData", |p, v| {
            let s = string(p, v)?;
            input::parse_player_data(&s).map_err(at(p))
        })?;
        out.push(PlacementPlayer {
            player_id,
            player_data,
        });
    }
    Ok(out)
}

fn player_id(path: &str, v: Json) -> Result<PlayerId, FieldError> {
    let s = string(path, v)?;
    PlayerId::parse(&s).map_err(at(path))
}

fn region(path: &str, v: Json) -> Result<Region, FieldError> {
    let s = string(path, v)?;
    Region::parse(&s).map_err(at(path))
}

/// `[{playerId, region, latencyMs}]`, at most 200, one per (playerId, region).
fn latencies(path: &str, v: Json) -> Result<Vec<Latency>, FieldError> {
    let items = array(path, v)?;
    check_at_most(path, items.len(), LATENCIES_MAX)?;
    let mut seen: HashMap<(PlayerId, Region), usize> = HashMap::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item_path = index_path(path, i);
        let mut o = Fields::of(&item_path, item, LATENCY_FIELDS)?;
        let (_, player_id) = o.require("playerId", player_id)?;
        let (_, region) = o.require("region", region)?;
        let (_, latency_ms) = o.require("latencyMs", |p, v| {
            let ms = integer(p, v, 0, i64::from(LATENCY_MS_MAX))?;
            input::parse_latency_ms(ms).map_err(at(p))
        })?;
        if let Some(first) = seen.insert((player_id.clone(), region.clone()), i) {
            return Err(FieldError::new(
                item_path,
                format!(
                    "repeats the playerId and region of {}: one latency per player and region",
                    index_path(path, first)
                ),
            ));
        }
        out.push(Latency {
            player_id,
            region,
            latency_ms,
        });
    }
    Ok(out)
}

/// `[region, …]`, at most 10, unique.
fn regions(path: &str, v: Json) -> Result<Vec<Region>, FieldError> {
    let items = array(path, v)?;
    check_at_most(path, items.len(), REGIONS_MAX)?;
    let mut seen: HashMap<Region, usize> = HashMap::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let item_path = index_path(path, i);
        let r = region(&item_path, item)?;
        if let Some(first) = seen.insert(r.clone(), i) {
            return Err(repeats(item_path, path, first, "region"));
        }
        out.push(r);
    }
    Ok(out)
}

/// `{key: "value"}`: at most 16 pairs, key 1–32 characters without `.` or control characters, value a
/// string of at most 96 characters. Errors name `<path>.<key>`.
fn properties(path: &str, v: Json) -> Result<GameProperties, FieldError> {
    let Json::Obj(entries) = v else {
        return Err(type_error(path, "an object of string values", &v));
    };
    let mut seen = HashSet::with_capacity(entries.len());
    for (k, _) in &entries {
        if !seen.insert(k.as_str()) {
            return Err(FieldError::new(key_path(path, k), "appears more than once"));
        }
    }
    check_at_most(path, entries.len(), PROPERTIES_MAX)?;
    let mut map = std::collections::BTreeMap::new();
    for (k, v) in entries {
        let p = key_path(path, &k);
        let n = k.chars().count();
        if n == 0 || n > PROPERTY_KEY_MAX {
            return Err(FieldError::new(
                p,
                format!("key must be 1–{PROPERTY_KEY_MAX} characters, got {n}"),
            ));
        }
        if k.contains('.') || k.chars().any(char::is_control) {
            return Err(FieldError::new(
                p,
                "key must not contain '.' or control characters",
            ));
        }
        let Json::Str(s) = v else {
            return Err(type_error(&p, "a string", &v));
        };
        check_len(&p, &s, 0, PROPERTY_VALUE_MAX)?;
        map.insert(k, s);
    }
    GameProperties::parse(map).map_err(at(path))
}

// ---------------------------------------------------------------------------------------------------
// The JSON tree and its walker
// ---------------------------------------------------------------------------------------------------

/// JSON as the client sent it: numbers keep their integer-ness, objects keep key order and duplicates.
#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// What the value is, for "must be X, got Y".
    fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::Float(_) => "a number",
            Self::Str(_) => "a string",
            Self::Arr(_) => "an array",
            Self::Obj(_) => "an object",
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        Json::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json, E> {
        Ok(Json::Int(i128::from(n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json, E> {
        Ok(Json::Int(i128::from(n)))
    }
    fn visit_i128<E: de::Error>(self, n: i128) -> Result<Json, E> {
        Ok(Json::Int(n))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json, E> {
        Ok(Json::Float(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Str(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Json, E> {
        Ok(Json::Str(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Json>()? {
            items.push(item);
        }
        Ok(Json::Arr(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value::<Json>()?;
            entries.push((key, value));
        }
        Ok(Json::Obj(entries))
    }
}

/// Characters of client text quoted in a field name or message before it is cut with `…`.
const SHOWN_MAX: usize = 64;

/// Client text as quoted in errors: whole up to 64 characters, else its first 64 and `…`.
fn shown(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(SHOWN_MAX) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…", &s[..cut])),
    }
}

fn key_path(parent: &str, key: &str) -> String {
    match (parent.is_empty(), key.is_empty()) {
        // A top-level key with an empty name has no path of its own: the body is to blame (the error
        // contract requires a non-empty `field`).
        (true, true) => "body".to_owned(),
        (true, false) => shown(key).into_owned(),
        (false, _) => format!("{parent}.{}", shown(key)),
    }
}

fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

/// The error at `field` for an entry of the list at `list` that repeats its entry `first`.
fn repeats(field: String, list: &str, first: usize, what: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "repeats {}: each {what} may appear once",
            index_path(list, first)
        ),
    )
}

fn type_error(path: &str, expected: &str, got: &Json) -> FieldError {
    FieldError::new(path, format!("must be {expected}, got {}", got.kind()))
}

fn string(path: &str, v: Json) -> Result<String, FieldError> {
    match v {
        Json::Str(s) => Ok(s),
        other => Err(type_error(path, "a string", &other)),
    }
}

fn boolean(path: &str, v: Json) -> Result<bool, FieldError> {
    match v {
        Json::Bool(b) => Ok(b),
        other => Err(type_error(path, "true or false", &other)),
    }
}

fn array(path: &str, v: Json) -> Result<Vec<Json>, FieldError> {
    match v {
        Json::Arr(items) => Ok(items),
        other => Err(type_error(path, "an array", &other)),
    }
}

/// An integer in `min..=max`. Integral numbers written with a fraction or exponent (`2.0`, `2e0`) count;
/// `1.5` does not; anything out of range, however large, is a range error quoting it.
fn integer(path: &str, v: Json, min: i64, max: i64) -> Result<i64, FieldError> {
    let range = |got: &dyn fmt::Display| {
        FieldError::new(path, format!("must be an integer {min}–{max}, got {got}"))
    };
    match v {
        Json::Int(n) => match i64::try_from(n) {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(range(&n)),
        },
        Json::Float(f) if f.is_finite() && f.fract() == 0.0 => {
            // min and max are small (≤ 60,000), so both convert to f64 exactly.
            if f >= min as f64 && f <= max as f64 {
                Ok(f as i64)
            } else {
                Err(range(&f))
            }
        }
        Json::Float(f) => Err(FieldError::new(
            path,
            format!("must be an integer {min}–{max}, got {f}"),
        )),
        other => Err(type_error(path, "an integer", &other)),
    }
}

/// An object's members after its keys were checked: each known at most once, no unknown ones.
struct Fields {
    path: String,
    entries: Vec<(String, Json)>,
}

impl Fields {
    /// Checks that `v` is an object whose keys are all in `allowed`, each at most once; the first
    /// offending key in the client's order is the error.
    fn of(path: &str, v: Json, allowed: &[&str]) -> Result<Self, FieldError> {
        let Json::Obj(entries) = v else {
            return Err(type_error(path, "an object", &v));
        };
        let mut seen = HashSet::with_capacity(entries.len());
        for (k, _) in &entries {
            if !allowed.contains(&k.as_str()) {
                return Err(FieldError::new(
                    key_path(path, k),
                    format!(
                        "is not a known field; expected one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if !seen.insert(k.as_str()) {
                return Err(FieldError::new(key_path(path, k), "appears more than once"));
            }
        }
        Ok(Self {
            path: path.to_owned(),
            entries,
        })
    }

    /// The member's path and value; `null` and absent are both `None`.
    fn take(&mut self, key: &str) -> (String, Option<Json>) {
        let path = key_path(&self.path, key);
        let value = match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => Some(self.entries.swap_remove(i).1),
            None => None,
        };
        (path, value.filter(|v| *v != Json::Null))
    }

    /// A required member: absent or `null` is "is required".
    fn required(&mut self, key: &str) -> Result<(String, Json), FieldError> {
        match self.take(key) {
            (path, Some(v)) => Ok((path, v)),
            (path, None) => Err(FieldError::new(path, "is required")),
        }
    }

    /// A required member read with `read(path, value)`, and its path.
    fn require<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&str, Json) -> Result<T, FieldError>,
    ) -> Result<(String, T), FieldError> {
        let (path, v) = self.required(key)?;
        let value = read(&path, v)?;
        Ok((path, value))
    }

    /// An optional member read with `read(path, value)`.
    fn optional<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(&str, Json) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        match self.take(key) {
            (path, Some(v)) => read(&path, v).map(Some),
            (_, None) => Ok(None),
        }
    }
}

/// The body as an object with only `allowed` keys, or an error naming `body`.
fn body_object(body: &[u8], allowed: &[&str]) -> Result<Fields, FieldError> {
    if body.len() > BODY_MAX_BYTES {
        return Err(FieldError::new(
            "body",
            format!(
                "must be at most {BODY_MAX_BYTES} bytes (300 KB), got {}",
                body.len()
            ),
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FieldError::new(
            "body",
            "is required: expected a JSON object, got an empty body",
        ));
    }
    let v: Json = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("is not valid JSON: {e}")))?;
    if !matches!(v, Json::Obj(_)) {
        return Err(FieldError::new(
            "body",
            format!("must be a JSON object, got {}", v.kind()),
        ));
    }
    Fields::of("", v, allowed)
}

#[cfg(test)]
mod tests;

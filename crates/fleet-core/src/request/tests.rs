//! The request catalogue: every limit of docs/architecture.md#limits at and just past its boundary, wrong types, nulls,
//! unknown fields and malformed bodies, each with the exact `field` the client must be shown; plus
//! property tests that no input makes a parser panic.

#![allow(
    clippy::too_many_lines,
    reason = "a catalogue reads as one table; the length limit is for product code"
)]

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const ARN: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1a2b/gsess-42";

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("test JSON serializes")
}

/// `{"maxPlayers": 10, key: v}`.
fn create_with(key: &str, v: Value) -> Vec<u8> {
    let mut o = json!({ "maxPlayers": 10 });
    o[key] = v;
    body(&o)
}

fn player(id: &str) -> Value {
    json!({ "playerId": id })
}

fn players_json(n: usize) -> Value {
    Value::Array((0..n).map(|i| player(&format!("p{i}"))).collect())
}

fn latency_json(i: usize, ms: Value) -> Value {
    json!({ "playerId": format!("p{i}"), "region": "us-east-1", "latencyMs": ms })
}

fn props_json(n: usize, key_len: usize, val_len: usize) -> Value {
    let map: serde_json::Map<String, Value> = (0..n)
        .map(|i| (format!("{i:0key_len$}"), Value::String("v".repeat(val_len))))
        .collect();
    Value::Object(map)
}

fn regions_json(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| Value::String(format!("region-{i}")))
            .collect(),
    )
}

fn update(v: Value) -> Vec<u8> {
    let mut o = json!({ "id": ARN });
    if let (Some(o), Value::Object(extra)) = (o.as_object_mut(), v) {
        o.extend(extra);
    }
    body(&o)
}

enum Input {
    Create(Vec<u8>),
    Join(Vec<u8>),
    Update(Vec<u8>),
    Delete(Vec<u8>),
    List(Vec<(&'static str, String)>),
    Ref(String),
    Pid(String),
    Key(Option<String>),
}

impl Input {
    fn run(&self) -> Result<(), FieldError> {
        match self {
            Self::Create(b) => CreateSession::parse(b).map(drop),
            Self::Join(b) => JoinSession::parse(b).map(drop),
            Self::Update(b) => UpdateInstanceInfo::parse(b).map(drop),
            Self::Delete(b) => DeleteInstanceInfo::parse(b).map(drop),
            Self::List(p) => {
                let p: Vec<(String, String)> = p
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect();
                ListParams::parse(&p).map(drop)
            }
            Self::Ref(s) => parse_session_ref(s).map(drop),
            Self::Pid(s) => parse_placement_id(s).map(drop),
            Self::Key(h) => parse_idempotency_key(h.as_deref()).map(drop),
        }
    }
}

struct Case {
    name: &'static str,
    input: Input,
    /// `None`: accepted; `Some(field)`: rejected naming exactly `field`.
    field: Option<String>,
}

fn ok(name: &'static str, input: Input) -> Case {
    Case {
        name,
        input,
        field: None,
    }
}

fn err(name: &'static str, input: Input, field: impl Into<String>) -> Case {
    Case {
        name,
        input,
        field: Some(field.into()),
    }
}

fn raw(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn list(pairs: &[(&'static str, &str)]) -> Input {
    Input::List(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

/// A valid create body padded with trailing spaces to exactly `len` bytes.
fn padded_create(len: usize) -> Vec<u8> {
    let mut b = raw(r#"{"maxPlayers":2}"#);
    b.resize(len, b' ');
    b
}

fn catalogue() -> Vec<Case> {
    use Input::*;
    let key33 = "k".repeat(33);
    vec![
        // maxPlayers 1–200, integers only.
        err(
            "maxPlayers 0 is below the minimum",
            Create(raw(r#"{"maxPlayers":0}"#)),
            "maxPlayers",
        ),
        ok(
            "maxPlayers 1 is the minimum",
            Create(raw(r#"{"maxPlayers":1}"#)),
        ),
        ok(
            "maxPlayers 200 is the maximum",
            Create(raw(r#"{"maxPlayers":200}"#)),
        ),
        err(
            "maxPlayers 201 is past the maximum",
            Create(raw(r#"{"maxPlayers":201}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers -1 is negative",
            Create(raw(r#"{"maxPlayers":-1}"#)),
            "maxPlayers",
        ),
        err("maxPlayers is required", Create(raw(r#"{}"#)), "maxPlayers"),
        err(
            "maxPlayers null is missing",
            Create(raw(r#"{"maxPlayers":null}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers as a string is the wrong type",
            Create(raw(r#"{"maxPlayers":"10"}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers as a boolean is the wrong type",
            Create(raw(r#"{"maxPlayers":true}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers 1.5 is not an integer",
            Create(raw(r#"{"maxPlayers":1.5}"#)),
            "maxPlayers",
        ),
        ok(
            "maxPlayers 2.0 is the integer 2",
            Create(raw(r#"{"maxPlayers":2.0}"#)),
        ),
        err(
            "maxPlayers 1e30 is far out of range",
            Create(raw(r#"{"maxPlayers":1e30}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers 2^70 is far out of range",
            Create(raw(r#"{"maxPlayers":1180591620717411303424}"#)),
            "maxPlayers",
        ),
        err(
            "maxPlayers -2^63-1 is far out of range",
            Create(raw(r#"{"maxPlayers":-9223372036854775809}"#)),
            "maxPlayers",
        ),
        err(
            "a key twice in one object is rejected",
            Create(raw(r#"{"maxPlayers":1,"maxPlayers":200}"#)),
            "maxPlayers",
        ),
        // players per create ≤ maxPlayers.
        ok(
            "as many players as maxPlayers fit",
            Create(body(&json!({"maxPlayers": 2, "players": players_json(2)}))),
        ),
        err(
            "more players than maxPlayers are rejected",
            Create(body(&json!({"maxPlayers": 2, "players": players_json(3)}))),
            "players",
        ),
        ok(
            "an empty players list is fine in a create",
            Create(create_with("players", json!([]))),
        ),
        ok(
            "players null is absent",
            Create(create_with("players", Value::Null)),
        ),
        err(
            "players as an object is the wrong type",
            Create(create_with("players", json!({"playerId": "a"}))),
            "players",
        ),
        err(
            "a player that is not an object names its index",
            Create(create_with("players", json!(["a"]))),
            "players[0]",
        ),
        err(
            "a player without playerId names it",
            Create(create_with("players", json!([{}]))),
            "players[0].playerId",
        ),
        err(
            "a null playerId is missing",
            Create(create_with("players", json!([{"playerId": null}]))),
            "players[0].playerId",
        ),
        // playerId 1–1024 characters.
        err(
            "playerId of 0 characters is too short",
            Create(create_with("players", json!([player("")]))),
            "players[0].playerId",
        ),
        ok(
            "playerId of 1024 characters fits",
            Create(create_with("players", json!([player(&"é".repeat(1024))]))),
        ),
        err(
            "playerId of 1025 characters is too long",
            Create(create_with(
                "players",
                json!([player("a"), player(&"x".repeat(1025))]),
            )),
            "players[1].playerId",
        ),
        err(
            "playerId as a number is the wrong type",
            Create(create_with("players", json!([{"playerId": 7}]))),
            "players[0].playerId",
        ),
        err(
            "a repeated playerId names the later copy",
            Create(create_with(
                "players",
                json!([player("a"), player("b"), player("a")]),
            )),
            "players[2].playerId",
        ),
        err(
            "an unknown field inside a player is named by its path",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "nickname": "n"}]),
            )),
            "players[0].nickname",
        ),
        // playerData 1–2048.
        err(
            "playerData of 0 characters is too short",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "playerData": ""}]),
            )),
            "players[0].playerData",
        ),
        ok(
            "playerData of 2048 characters fits",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "playerData": "d".repeat(2048)}]),
            )),
        ),
        err(
            "playerData of 2049 characters is too long",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "playerData": "d".repeat(2049)}]),
            )),
            "players[0].playerData",
        ),
        ok(
            "playerData null is absent",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "playerData": null}]),
            )),
        ),
        err(
            "playerData as an object is the wrong type",
            Create(create_with(
                "players",
                json!([{"playerId": "a", "playerData": {}}]),
            )),
            "players[0].playerData",
        ),
        // properties ≤ 16, key 1–32 without '.', value ≤ 96, values strings.
        ok(
            "16 properties fit",
            Create(create_with("properties", props_json(16, 32, 96))),
        ),
        err(
            "17 properties are too many",
            Create(create_with("properties", props_json(17, 2, 1))),
            "properties",
        ),
        ok(
            "a 32-character key fits",
            Create(create_with("properties", json!({ "k".repeat(32): "v" }))),
        ),
        err(
            "a 33-character key is too long",
            Create(create_with("properties", json!({ key33.clone(): "v" }))),
            format!("properties.{key33}"),
        ),
        err(
            "an empty key is rejected",
            Create(create_with("properties", json!({ "": "v" }))),
            "properties.",
        ),
        err(
            "a key with a dot is rejected",
            Create(create_with("properties", json!({ "a.b": "v" }))),
            "properties.a.b",
        ),
        ok(
            "a 96-character value fits",
            Create(create_with("properties", json!({ "mode": "v".repeat(96) }))),
        ),
        err(
            "a 97-character value is too long",
            Create(create_with("properties", json!({ "mode": "v".repeat(97) }))),
            "properties.mode",
        ),
        ok(
            "an empty value is allowed",
            Create(create_with("properties", json!({ "mode": "" }))),
        ),
        err(
            "a number property value names the key",
            Create(create_with("properties", json!({ "mode": 5 }))),
            "properties.mode",
        ),
        err(
            "a null property value names the key",
            Create(create_with("properties", json!({ "mode": null }))),
            "properties.mode",
        ),
        err(
            "an object property value names the key",
            Create(create_with("properties", json!({ "mode": {"a": "b"} }))),
            "properties.mode",
        ),
        err(
            "properties as an array is the wrong type",
            Create(create_with("properties", json!(["a"]))),
            "properties",
        ),
        err(
            "a property key twice is rejected",
            Create(raw(r#"{"maxPlayers":2,"properties":{"m":"a","m":"b"}}"#)),
            "properties.m",
        ),
        ok(
            "properties null is absent",
            Create(create_with("properties", Value::Null)),
        ),
        // name ≤ 1024, data ≤ 262,144.
        ok(
            "name of 1024 characters fits",
            Create(create_with("name", json!("n".repeat(1024)))),
        ),
        err(
            "name of 1025 characters is too long",
            Create(create_with("name", json!("n".repeat(1025)))),
            "name",
        ),
        err(
            "an empty name is rejected as GameLift would",
            Create(create_with("name", json!(""))),
            "name",
        ),
        err(
            "a name with a newline is rejected",
            Create(create_with("name", json!("a\nb"))),
            "name",
        ),
        err(
            "name as a number is the wrong type",
            Create(create_with("name", json!(5))),
            "name",
        ),
        ok(
            "name null is absent",
            Create(create_with("name", Value::Null)),
        ),
        ok(
            "data of 262144 characters fits",
            Create(create_with("data", json!("d".repeat(262_144)))),
        ),
        err(
            "data of 262145 characters is too long",
            Create(create_with("data", json!("d".repeat(262_145)))),
            "data",
        ),
        err(
            "data as an array is the wrong type",
            Create(create_with("data", json!(["d"]))),
            "data",
        ),
        // latencies ≤ 200, latencyMs 0–60,000.
        ok(
            "200 latencies fit",
            Create(create_with(
                "latencies",
                Value::Array((0..200).map(|i| latency_json(i, json!(5))).collect()),
            )),
        ),
        err(
            "201 latencies are too many",
            Create(create_with(
                "latencies",
                Value::Array((0..201).map(|i| latency_json(i, json!(5))).collect()),
            )),
            "latencies",
        ),
        err(
            "latencyMs -1 is negative",
            Create(create_with(
                "latencies",
                json!([latency_json(0, json!(-1))]),
            )),
            "latencies[0].latencyMs",
        ),
        ok(
            "latencyMs 0 is the minimum",
            Create(create_with("latencies", json!([latency_json(0, json!(0))]))),
        ),
        ok(
            "latencyMs 60000 is the maximum",
            Create(create_with(
                "latencies",
                json!([latency_json(0, json!(60_000))]),
            )),
        ),
        err(
            "latencyMs 60001 is past the maximum",
            Create(create_with(
                "latencies",
                json!([latency_json(0, json!(60_001))]),
            )),
            "latencies[0].latencyMs",
        ),
        err(
            "latencyMs 12.5 is not an integer",
            Create(create_with(
                "latencies",
                json!([latency_json(0, json!(5)), latency_json(1, json!(12.5))]),
            )),
            "latencies[1].latencyMs",
        ),
        err(
            "a latency without latencyMs names it",
            Create(create_with(
                "latencies",
                json!([{"playerId": "a", "region": "us-east-1"}]),
            )),
            "latencies[0].latencyMs",
        ),
        err(
            "a latency without playerId names it",
            Create(create_with(
                "latencies",
                json!([{"region": "us-east-1", "latencyMs": 1}]),
            )),
            "latencies[0].playerId",
        ),
        err(
            "a latency with a bad region names it",
            Create(create_with(
                "latencies",
                json!([{"playerId": "a", "region": "US_EAST", "latencyMs": 1}]),
            )),
            "latencies[0].region",
        ),
        err(
            "two latencies for one player and region are rejected",
            Create(create_with(
                "latencies",
                json!([latency_json(0, json!(5)), latency_json(0, json!(9))]),
            )),
            "latencies[1]",
        ),
        err(
            "an unknown field inside a latency is named",
            Create(create_with(
                "latencies",
                json!([{"playerId": "a", "region": "r", "latencyMs": 1, "ms": 1}]),
            )),
            "latencies[0].ms",
        ),
        // regions ≤ 10, unique.
        ok(
            "10 regions fit",
            Create(create_with("regions", regions_json(10))),
        ),
        err(
            "11 regions are too many",
            Create(create_with("regions", regions_json(11))),
            "regions",
        ),
        err(
            "a repeated region names the later copy",
            Create(create_with("regions", json!(["us-east-1", "us-east-1"]))),
            "regions[1]",
        ),
        err(
            "a malformed region names its index",
            Create(create_with("regions", json!(["a", "b", "Bad Region"]))),
            "regions[2]",
        ),
        err(
            "a region that is not a string names its index",
            Create(create_with("regions", json!([1]))),
            "regions[0]",
        ),
        // Unknown fields, malformed bodies.
        err(
            "an unknown top-level field is named",
            Create(raw(r#"{"maxPlayers":2,"foo":1}"#)),
            "foo",
        ),
        err(
            "an unknown top-level field with an empty name blames the body",
            Create(raw(r#"{"maxPlayers":2,"":{}}"#)),
            "body",
        ),
        err(
            "an unknown field is rejected even when null",
            Create(raw(r#"{"maxPlayers":2,"foo":null}"#)),
            "foo",
        ),
        err(
            "snake_case spellings are unknown in a create",
            Create(raw(r#"{"max_players":2}"#)),
            "max_players",
        ),
        ok(
            "a body of exactly 300 KB is read",
            Create(padded_create(BODY_MAX_BYTES)),
        ),
        err(
            "a body of 300 KB + 1 is too large",
            Create(padded_create(BODY_MAX_BYTES + 1)),
            "body",
        ),
        err(
            "a 1 MiB body is too large",
            Create(padded_create(1 << 20)),
            "body",
        ),
        err("an empty body is rejected", Create(Vec::new()), "body"),
        err(
            "a whitespace body is rejected",
            Create(raw(" \n\t")),
            "body",
        ),
        err(
            "a body that is not JSON is rejected",
            Create(raw("maxPlayers=2")),
            "body",
        ),
        err(
            "a truncated JSON body is rejected",
            Create(raw(r#"{"maxPlayers":2"#)),
            "body",
        ),
        err(
            "trailing text after the JSON is rejected",
            Create(raw(r#"{"maxPlayers":2} x"#)),
            "body",
        ),
        err(
            "a JSON array body is rejected",
            Create(raw(r#"[{"maxPlayers":2}]"#)),
            "body",
        ),
        err("a JSON null body is rejected", Create(raw("null")), "body"),
        err(
            "a JSON string body is rejected",
            Create(raw(r#""x""#)),
            "body",
        ),
        err(
            "a body that is not UTF-8 is rejected",
            Create(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}']),
            "body",
        ),
        err(
            "a lone surrogate escape is rejected",
            Create(raw(r#"{"maxPlayers":2,"name":"\ud800"}"#)),
            "body",
        ),
        // Join: 1–25 players.
        err(
            "a join with 0 players is rejected",
            Join(body(&json!({"players": []}))),
            "players",
        ),
        ok(
            "a join with 1 player is accepted",
            Join(body(&json!({"players": players_json(1)}))),
        ),
        ok(
            "a join with 25 players is accepted",
            Join(body(&json!({"players": players_json(25)}))),
        ),
        err(
            "a join with 26 players is rejected",
            Join(body(&json!({"players": players_json(26)}))),
            "players",
        ),
        err(
            "a join without players is rejected",
            Join(raw("{}")),
            "players",
        ),
        err(
            "a join with an empty-named field blames the body",
            Join(raw(r#"{"":{},"players":[{"playerId":"a"}]}"#)),
            "body",
        ),
        err(
            "a join with players null is rejected",
            Join(raw(r#"{"players":null}"#)),
            "players",
        ),
        err(
            "a join repeating a player names it",
            Join(body(&json!({"players": [player("a"), player("a")]}))),
            "players[1].playerId",
        ),
        err(
            "a join with an unknown field names it",
            Join(body(&json!({"players": players_json(1), "sessionId": "x"}))),
            "sessionId",
        ),
        err(
            "a join with a JSON array body is rejected",
            Join(raw("[]")),
            "body",
        ),
        // update_instance_info.
        ok(
            "playerCount alone is read",
            Update(update(json!({"playerCount": 3}))),
        ),
        ok(
            "player_count alone is read",
            Update(update(json!({"player_count": 3}))),
        ),
        ok(
            "playerCount and player_count equal are fine",
            Update(update(json!({"playerCount": 3, "player_count": 3}))),
        ),
        err(
            "playerCount and player_count different conflict",
            Update(update(json!({"playerCount": 3, "player_count": 4}))),
            "playerCount",
        ),
        ok(
            "playerCount 0 is the minimum",
            Update(update(json!({"playerCount": 0}))),
        ),
        ok(
            "playerCount 200 is the maximum",
            Update(update(json!({"playerCount": 200}))),
        ),
        err(
            "playerCount 201 is past the maximum",
            Update(update(json!({"playerCount": 201}))),
            "playerCount",
        ),
        err(
            "player_count -1 is named by its own spelling",
            Update(update(json!({"player_count": -1}))),
            "player_count",
        ),
        err(
            "playerCount as a string is the wrong type",
            Update(update(json!({"playerCount": "3"}))),
            "playerCount",
        ),
        ok(
            "playerCount null is absent",
            Update(update(json!({"playerCount": null}))),
        ),
        ok(
            "an update with only id is a no-op report",
            Update(update(json!({}))),
        ),
        ok(
            "metadata null is absent",
            Update(update(json!({"metadata": null}))),
        ),
        ok(
            "metadata fields null are absent",
            Update(update(
                json!({"metadata": {"GameSessionName": null, "GameProperties": null}}),
            )),
        ),
        err(
            "metadata as a string is the wrong type",
            Update(update(json!({"metadata": "x"}))),
            "metadata",
        ),
        err(
            "a non-string GameProperties value is named, not a panic",
            Update(update(json!({"metadata": {"GameProperties": {"k": 1}}}))),
            "metadata.GameProperties.k",
        ),
        err(
            "a boolean GameProperties value is named",
            Update(update(
                json!({"metadata": {"GameProperties": {"a": "x", "k": true}}}),
            )),
            "metadata.GameProperties.k",
        ),
        err(
            "17 GameProperties are too many",
            Update(update(
                json!({"metadata": {"GameProperties": props_json(17, 2, 1)}}),
            )),
            "metadata.GameProperties",
        ),
        err(
            "a GameSessionName of 1025 characters is too long",
            Update(update(
                json!({"metadata": {"GameSessionName": "n".repeat(1025)}}),
            )),
            "metadata.GameSessionName",
        ),
        err(
            "a GameSessionData of 262145 characters is too long",
            Update(update(
                json!({"metadata": {"GameSessionData": "d".repeat(262_145)}}),
            )),
            "metadata.GameSessionData",
        ),
        err(
            "an unknown metadata key is named",
            Update(update(json!({"metadata": {"GameSessionname": "x"}}))),
            "metadata.GameSessionname",
        ),
        err(
            "an update without id is rejected",
            Update(raw(r#"{"playerCount":1}"#)),
            "id",
        ),
        err(
            "an update with id null is rejected",
            Update(raw(r#"{"id":null,"playerCount":1}"#)),
            "id",
        ),
        err(
            "an update with a malformed id is rejected",
            Update(raw(r#"{"id":"nope","playerCount":1}"#)),
            "id",
        ),
        err(
            "an update with an unknown field names it",
            Update(update(json!({"players": 1}))),
            "players",
        ),
        // delete_instance_info.
        ok(
            "a delete with an ARN is accepted",
            Delete(body(&json!({"id": ARN}))),
        ),
        err(
            "a delete with an extra field names it",
            Delete(body(&json!({"id": ARN, "terminate": true}))),
            "terminate",
        ),
        err(
            "a delete with a numeric id is rejected",
            Delete(raw(r#"{"id":5}"#)),
            "id",
        ),
        err(
            "a delete with an empty body is rejected",
            Delete(Vec::new()),
            "body",
        ),
        // List parameters.
        ok("no parameters take the defaults", list(&[])),
        ok(
            "a query of 1024 characters fits",
            list(&[("query", &format!("name:{}", "a".repeat(1019)))]),
        ),
        err(
            "a query of 1025 characters is too long",
            list(&[("query", &format!("name:{}", "a".repeat(1020)))]),
            "query",
        ),
        err(
            "a malformed query names query",
            list(&[("query", "+playerCount:")]),
            "query",
        ),
        err(
            "limit 0 is below the minimum",
            list(&[("limit", "0")]),
            "limit",
        ),
        ok("limit 1 is the minimum", list(&[("limit", "1")])),
        ok("limit 100 is the maximum", list(&[("limit", "100")])),
        err(
            "limit 101 is past the maximum",
            list(&[("limit", "101")]),
            "limit",
        ),
        err(
            "limit abc is not a number",
            list(&[("limit", "abc")]),
            "limit",
        ),
        err("limit -1 is negative", list(&[("limit", "-1")]), "limit"),
        err(
            "an empty limit is rejected",
            list(&[("limit", "")]),
            "limit",
        ),
        err(
            "limit 99999999999 does not overflow",
            list(&[("limit", "99999999999")]),
            "limit",
        ),
        ok(
            "a cursor of 2048 characters fits",
            list(&[("cursor", &"c".repeat(2048))]),
        ),
        err(
            "a cursor of 2049 characters is too long",
            list(&[("cursor", &"c".repeat(2049))]),
            "cursor",
        ),
        err(
            "an empty cursor is rejected",
            list(&[("cursor", "")]),
            "cursor",
        ),
        err(
            "a cursor with a space is rejected",
            list(&[("cursor", "a b")]),
            "cursor",
        ),
        err(
            "an unknown sort names sort",
            list(&[("sort", "name")]),
            "sort",
        ),
        ok("explain true is read", list(&[("explain", "true")])),
        err(
            "explain yes is rejected",
            list(&[("explain", "yes")]),
            "explain",
        ),
        err(
            "an unknown parameter is named",
            list(&[("page", "2")]),
            "page",
        ),
        err(
            "a repeated parameter is named",
            list(&[("limit", "5"), ("limit", "6")]),
            "limit",
        ),
        // Path segments and headers.
        ok(
            "a short session id is read",
            Ref(GameSessionArnFixture::id()),
        ),
        ok(
            "a percent-encoded ARN is read",
            Ref("arn%3Aaws%3Agamelift%3Aus-east-1%3A%3Agamesession%2Ffleet-1a2b%2Fgsess-42".into()),
        ),
        ok("an already-decoded ARN is read", Ref(ARN.into())),
        err(
            "a lone percent sign is a bad escape",
            Ref("arn%".into()),
            "id",
        ),
        err(
            "a percent sign with one hex digit is a bad escape",
            Ref("arn%3".into()),
            "id",
        ),
        err(
            "a percent escape with non-hex digits is bad",
            Ref("arn%G1aws".into()),
            "id",
        ),
        err(
            "a percent escape decoding to non-UTF-8 is bad",
            Ref("gs-%FF".into()),
            "id",
        ),
        err(
            "an empty session segment is rejected",
            Ref(String::new()),
            "id",
        ),
        ok("a placementId of 48 characters fits", Pid("a".repeat(48))),
        err(
            "a placementId of 49 characters is too long",
            Pid("a".repeat(49)),
            "placementId",
        ),
        err(
            "a placementId with an underscore is rejected",
            Pid("a_b".into()),
            "placementId",
        ),
        err(
            "a placementId with a slash is rejected",
            Pid("a%2Fb".into()),
            "placementId",
        ),
        err(
            "an empty placementId is rejected",
            Pid(String::new()),
            "placementId",
        ),
        ok("no Idempotency-Key is fine", Key(None)),
        ok(
            "an Idempotency-Key of 128 characters fits",
            Key(Some("k".repeat(128))),
        ),
        err(
            "an Idempotency-Key of 129 characters is too long",
            Key(Some("k".repeat(129))),
            "Idempotency-Key",
        ),
        err(
            "an Idempotency-Key with a tab is not printable",
            Key(Some("a\tb".into())),
            "Idempotency-Key",
        ),
        err(
            "an Idempotency-Key with non-ASCII is not printable",
            Key(Some("clé".into())),
            "Idempotency-Key",
        ),
        err(
            "an empty Idempotency-Key is rejected",
            Key(Some(String::new())),
            "Idempotency-Key",
        ),
    ]
}

struct GameSessionArnFixture;

impl GameSessionArnFixture {
    fn id() -> String {
        crate::ids::GameSessionArn::parse(ARN)
            .expect("fixture ARN")
            .session_id()
            .into_string()
    }
}

#[test]
fn every_limit_and_malformed_input_in_the_catalogue_names_the_expected_field() {
    let cases = catalogue();
    assert!(cases.len() >= 60, "the catalogue has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = case.input.run();
        match (&got, &case.field) {
            (Ok(()), None) => {}
            (Err(e), Some(field)) if &e.field == field => {
                if e.problem.is_empty() {
                    failures.push(format!("{}: empty problem", case.name));
                }
            }
            _ => failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.name, case.field, got
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_catalogue_names_are_unique() {
    let cases = catalogue();
    let names: HashSet<&str> = cases.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), cases.len());
}

#[test]
fn a_full_create_parses_into_domain_values() {
    let c = CreateSession::parse(
        br#"{"maxPlayers": 4, "players": [{"playerId": "a", "playerData": "d"}, {"playerId": "b"}],
             "latencies": [{"playerId": "a", "region": "us-east-1", "latencyMs": 40}],
             "name": "lobby", "data": "{}", "properties": {"mode": "ranked"}}"#,
    )
    .expect("valid create");
    assert_eq!(c.max_players.get(), 4);
    assert_eq!(c.players.len(), 2);
    assert_eq!(c.players[0].player_id.as_str(), "a");
    assert_eq!(c.players[0].player_data.as_deref(), Some("d"));
    assert_eq!(c.players[1].player_data, None);
    assert_eq!(c.latencies[0].latency_ms, 40);
    assert_eq!(c.latencies[0].region.as_str(), "us-east-1");
    assert_eq!(
        (c.name.as_deref(), c.data.as_deref()),
        (Some("lobby"), Some("{}"))
    );
    assert_eq!(c.properties.get("mode"), Some("ranked"));
    assert!(c.regions.is_empty());
    let c = CreateSession::parse(br#"{"maxPlayers": 4, "regions": ["us-east-1", "eu-west-1"]}"#)
        .expect("valid create with regions");
    assert_eq!(
        c.regions.iter().map(Region::as_str).collect::<Vec<_>>(),
        ["us-east-1", "eu-west-1"]
    );
}

#[test]
fn regions_with_latencies_are_refused_at_regions_as_gamelift_would_refuse_them() {
    let latencies = json!([{"playerId": "a", "region": "us-east-1", "latencyMs": 40}]);
    let both = body(&json!({"maxPlayers": 4, "latencies": latencies, "regions": ["eu-west-1"]}));
    let e = CreateSession::parse(&both).expect_err("GameLift refuses the combination");
    assert_eq!(e.field, "regions");
    assert!(e.problem.contains("latencies"), "{}", e.problem);
    // Key order does not change which field is named.
    let reversed = br#"{"regions": ["eu-west-1"], "maxPlayers": 4,
        "latencies": [{"playerId": "a", "region": "us-east-1", "latencyMs": 40}]}"#;
    let e = CreateSession::parse(reversed).expect_err("refused whatever the key order");
    assert_eq!(e.field, "regions");
    // Empty or null lists are absent ones: either list alone, with the other empty, is fine.
    for fine in [
        json!({"maxPlayers": 4, "latencies": latencies, "regions": []}),
        json!({"maxPlayers": 4, "latencies": [], "regions": ["eu-west-1"]}),
        json!({"maxPlayers": 4, "latencies": latencies, "regions": null}),
    ] {
        CreateSession::parse(&body(&fine)).expect("one list alone is a valid create");
    }
}

#[test]
fn a_minimal_create_has_empty_lists_and_no_name() {
    let c = CreateSession::parse(br#"{"maxPlayers": 2}"#).expect("valid create");
    assert!(
        c.players.is_empty()
            && c.latencies.is_empty()
            && c.regions.is_empty()
            && c.properties.is_empty()
    );
    assert_eq!((c.name, c.data), (None, None));
}

#[test]
fn the_digest_ignores_key_order_whitespace_escapes_and_number_spelling() {
    let a =
        CreateSession::parse(br#"{"maxPlayers":4,"name":"lobby","properties":{"a":"1","b":"2"}}"#)
            .expect("a");
    let b = CreateSession::parse(
        b"{ \"properties\" : { \"b\":\"2\", \"a\":\"1\" },\n  \"name\":\"lob\\u0062y\", \"maxPlayers\": 4.0 }",
    )
    .expect("b");
    assert_eq!(a, b);
    assert_eq!(a.digest(), b.digest());
    assert_eq!(a.digest().len(), 43);
    assert!(
        a.digest()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
}

#[test]
fn the_digest_changes_with_every_value_and_list_order() {
    let base =
        r#"{"maxPlayers":4,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r1","r2"]}"#;
    let variants = [
        r#"{"maxPlayers":5,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r1","r2"]}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"b"},{"playerId":"a"}],"regions":["r1","r2"]}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"a","playerData":"x"},{"playerId":"b"}],"regions":["r1","r2"]}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r2","r1"]}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r1","r2"],"name":"n"}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r1","r2"],"data":"n"}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"a"},{"playerId":"b"}],"regions":["r1","r2"],"properties":{"n":""}}"#,
        r#"{"maxPlayers":4,"players":[{"playerId":"ab"}],"regions":["r1","r2"]}"#,
    ];
    let d0 = CreateSession::parse(base.as_bytes())
        .expect("base")
        .digest();
    let mut seen = HashSet::from([d0]);
    for v in variants {
        let d = CreateSession::parse(v.as_bytes()).expect(v).digest();
        assert!(seen.insert(d), "digest collided for {v}");
    }
}

#[test]
fn null_optional_fields_digest_like_absent_ones() {
    let a = CreateSession::parse(br#"{"maxPlayers":4}"#).expect("a");
    let b =
        CreateSession::parse(br#"{"maxPlayers":4,"name":null,"players":null,"properties":null}"#)
            .expect("b");
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn limit_errors_state_the_limit_and_the_value() {
    let e = CreateSession::parse(br#"{"maxPlayers":201}"#).unwrap_err();
    assert!(
        e.problem.contains("1–200") && e.problem.contains("201"),
        "{e}"
    );
    let e = CreateSession::parse(&create_with("players", players_json(11))).unwrap_err();
    assert!(
        e.problem.contains("at most 10") && e.problem.contains("11"),
        "{e}"
    );
    let e = JoinSession::parse(&body(&json!({"players": players_json(26)}))).unwrap_err();
    assert!(
        e.problem.contains("1–25") && e.problem.contains("26"),
        "{e}"
    );
    let e = CreateSession::parse(br#"{"maxPlayers":1e30}"#).unwrap_err();
    assert!(e.problem.contains("1–200"), "{e}");
    let e = CreateSession::parse(br#"{"maxPlayers":1.5}"#).unwrap_err();
    assert!(
        e.problem.contains("integer") && e.problem.contains("1.5"),
        "{e}"
    );
    let e = CreateSession::parse(br#"{"maxPlayers":"2"}"#).unwrap_err();
    assert_eq!(e.problem, "must be an integer, got a string");
    let e = CreateSession::parse(&padded_create(BODY_MAX_BYTES + 1)).unwrap_err();
    assert!(e.problem.contains("307200"), "{e}");
    let e = CreateSession::parse(&create_with("properties", json!({"mode": 5}))).unwrap_err();
    assert_eq!(e.problem, "must be a string, got a number");
}

#[test]
fn a_json_syntax_error_reports_line_and_column() {
    let e = CreateSession::parse(b"{\n  \"maxPlayers\": 2,\n  oops\n}").unwrap_err();
    assert_eq!(e.field, "body");
    assert!(
        e.problem.contains("line 3") && e.problem.contains("column"),
        "{e}"
    );
}

#[test]
fn deeply_nested_json_is_a_body_error_not_a_stack_overflow() {
    let deep = format!(
        "{{\"maxPlayers\":2,\"name\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(deep.len() <= BODY_MAX_BYTES);
    assert_eq!(
        CreateSession::parse(deep.as_bytes()).unwrap_err().field,
        "body"
    );
    let nested = format!("{{\"a\":{}1{}}}", "{\"a\":".repeat(500), "}".repeat(500));
    assert_eq!(
        UpdateInstanceInfo::parse(nested.as_bytes())
            .unwrap_err()
            .field,
        "body"
    );
}

#[test]
fn a_huge_unknown_key_is_quoted_only_in_part() {
    let key = "x".repeat(10_000);
    let e = CreateSession::parse(&create_with(&key, json!(1))).unwrap_err();
    assert_eq!(e.field, format!("{}…", "x".repeat(64)));
    let e =
        CreateSession::parse(&create_with("properties", json!({ key.clone(): "v" }))).unwrap_err();
    assert_eq!(e.field, format!("properties.{}…", "x".repeat(64)));
}

#[test]
fn both_player_count_spellings_give_the_same_report() {
    let camel = UpdateInstanceInfo::parse(&update(json!({"playerCount": 7}))).expect("camel");
    let snake = UpdateInstanceInfo::parse(&update(json!({"player_count": 7}))).expect("snake");
    let both = UpdateInstanceInfo::parse(&update(json!({"playerCount": 7, "player_count": 7})))
        .expect("both");
    assert_eq!(camel.report.player_count, Some(7));
    assert_eq!(camel, snake);
    assert_eq!(camel, both);
    let e = UpdateInstanceInfo::parse(&update(json!({"playerCount": 7, "player_count": 8})))
        .unwrap_err();
    assert!(e.problem.contains("player_count"), "{e}");
}

#[test]
fn an_update_carries_metadata_into_the_status_report() {
    let u = UpdateInstanceInfo::parse(&update(json!({
        "playerCount": 3,
        "metadata": {"GameSessionName": "lobby", "GameSessionData": "blob", "GameProperties": {"mode": "ranked"}}
    })))
    .expect("update");
    assert_eq!(u.id, SessionRef::parse(ARN).expect("arn"));
    assert_eq!(u.report.player_count, Some(3));
    assert_eq!(u.report.name.as_deref(), Some("lobby"));
    assert_eq!(u.report.data.as_deref(), Some("blob"));
    assert_eq!(
        u.report.properties.as_ref().and_then(|p| p.get("mode")),
        Some("ranked")
    );
}

#[test]
fn an_update_with_only_an_id_is_an_empty_report() {
    let u = UpdateInstanceInfo::parse(
        br#"{"id":"arn:aws:gamelift:us-east-1::gamesession/fleet-1a2b/gsess-42","metadata":null}"#,
    )
    .expect("update");
    assert_eq!(u.report, StatusReport::default());
}

#[test]
fn a_percent_encoded_arn_round_trips_to_the_same_session() {
    let encoded: String = ARN
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    assert!(encoded.starts_with("arn%3Aaws%3Agamelift%3A"));
    let want = SessionRef::parse(ARN).expect("arn");
    assert_eq!(parse_session_ref(&encoded), Ok(want.clone()));
    // Hex digits in either case; the ARN text itself is case-sensitive, so only escapes are lowered.
    let mixed = encoded.replace("%3A", "%3a").replace("%2F", "%2f");
    assert_eq!(parse_session_ref(&mixed), Ok(want.clone()));
    assert_eq!(parse_session_ref(ARN), Ok(want.clone()));
    let SessionRef::Arn(arn) = want else {
        panic!("an ARN reference")
    };
    assert_eq!(arn.as_str(), ARN);
    assert_eq!(
        parse_session_ref(arn.session_id().as_str()).map(|r| r.id()),
        Ok(arn.session_id())
    );
}

#[test]
fn bad_percent_escapes_say_where_they_are() {
    let e = parse_session_ref("arn%3Aaws%ZZ").unwrap_err();
    assert_eq!(e.field, "id");
    assert!(e.problem.contains("character 10"), "{e}");
    assert!(
        parse_session_ref("%C3%A9").is_err(),
        "valid UTF-8 but not a session id"
    );
    assert_eq!(
        parse_session_ref("%C3").unwrap_err().problem,
        "is not UTF-8 once percent-decoded"
    );
}

#[test]
fn list_parameters_parse_into_a_query_sort_limit_cursor_and_flag() {
    let p = ListParams::parse(&[
        ("query".into(), "+region:us-east-1 +openSlots:>=1".into()),
        ("limit".into(), "50".into()),
        ("cursor".into(), "abc.def".into()),
        ("sort".into(), "-playerCount".into()),
        ("explain".into(), "true".into()),
    ])
    .expect("params");
    assert_eq!(p.query.clauses().len(), 2);
    assert_eq!(
        (p.sort, p.limit, p.cursor.as_deref(), p.explain),
        (Sort::PlayersDesc, 50, Some("abc.def"), true)
    );
    let d = ListParams::parse(&[]).expect("defaults");
    assert!(d.query.is_match_all());
    assert_eq!(
        (d.sort, d.limit, d.cursor, d.explain),
        (Sort::CreatedDesc, LIMIT_DEFAULT, None, false)
    );
}

#[test]
fn a_malformed_query_points_at_its_column() {
    let e = ListParams::parse(&[("query".into(), "+playerCount:".into())]).unwrap_err();
    assert_eq!(e.field, "query");
    assert!(e.problem.contains("column 14"), "{e}");
}

#[test]
fn an_idempotency_key_header_is_kept_verbatim() {
    let k = parse_idempotency_key(Some("order-42 retry"))
        .expect("key")
        .expect("present");
    assert_eq!(k.as_str(), "order-42 retry");
}

#[test]
fn a_placement_id_segment_is_percent_decoded() {
    assert_eq!(
        parse_placement_id("abc%2D1").map(PlacementId::into_string),
        Ok("abc-1".to_owned())
    );
}

// ---------------------------------------------------------------------------------------------------
// Property tests: nothing panics.
// ---------------------------------------------------------------------------------------------------

const KEYS: &[&str] = &[
    "maxPlayers",
    "players",
    "latencies",
    "name",
    "data",
    "properties",
    "regions",
    "playerId",
    "playerData",
    "region",
    "latencyMs",
    "id",
    "playerCount",
    "player_count",
    "metadata",
    "GameSessionName",
    "GameSessionData",
    "GameProperties",
    "k",
    "a.b",
    "",
];

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-300i64..300).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        Just(Value::String(ARN.to_owned())),
        "[a-z0-9-]{1,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        proptest::sample::select(KEYS).prop_map(str::to_owned),
                        ".{0,8}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Runs every body parser; none may panic, and every refusal must name a field (the API's error contract
/// requires a non-empty `field`).
fn parse_all(bytes: &[u8]) {
    let errors = [
        CreateSession::parse(bytes).map(|c| drop(c.digest())).err(),
        JoinSession::parse(bytes).map(drop).err(),
        UpdateInstanceInfo::parse(bytes).map(drop).err(),
        DeleteInstanceInfo::parse(bytes).map(drop).err(),
    ];
    for e in errors.into_iter().flatten() {
        assert!(!e.field.is_empty(), "an error without a field: {e:?}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_a_body_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        parse_all(&bytes);
        let mut framed = b"{\"maxPlayers\":".to_vec();
        framed.extend_from_slice(&bytes);
        parse_all(&framed);
    }

    #[test]
    fn arbitrary_json_never_panics_a_body_parser(v in any_json()) {
        parse_all(&body(&v));
        // The same value under each known top-level key reaches the nested readers.
        for key in ["players", "latencies", "properties", "regions", "name", "metadata", "playerCount", "id"] {
            let mut o = json!({"maxPlayers": 10, "id": ARN});
            o[key] = v.clone();
            parse_all(&body(&o));
        }
    }

    #[test]
    fn a_parsed_create_reparses_to_the_same_value_and_digest(v in any_json()) {
        let mut o = json!({"maxPlayers": 200});
        if let Value::Object(m) = &v {
            for (k, x) in m {
                o[k.as_str()] = x.clone();
            }
        }
        if let Ok(c) = CreateSession::parse(&body(&o)) {
            let pretty = serde_json::to_vec_pretty(&o).expect("serializes");
            let again = CreateSession::parse(&pretty).expect("the same JSON parses again");
            prop_assert_eq!(c.digest(), again.digest());
            prop_assert_eq!(c, again);
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_parameter_and_path_parsers(
        pairs in proptest::collection::vec((prop_oneof![proptest::sample::select(&ListParams::NAMES[..]).prop_map(str::to_owned), ".{0,6}"], ".{0,40}"), 0..6),
        segment in "(%[0-9A-Fa-f]{0,2}|.){0,40}",
        header in proptest::option::of(".{0,140}"),
    ) {
        let _ = ListParams::parse(&pairs);
        let _ = parse_session_ref(&segment);
        let _ = parse_placement_id(&segment);
        let _ = parse_idempotency_key(header.as_deref());
    }
}

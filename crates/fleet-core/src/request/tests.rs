//! The request catalogue: every limit of docs/architecture.md#limits at and just past its boundary, wrong types, nulls,
//! unknown fields and malformed bodies, each with the exact `field` the client must be shown; plus
//! property tests that no input makes a parser panic.

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

/// The catalogue as it is written: sections of cases to accept, and of cases to refuse at a field.
#[derive(Default)]
struct Catalogue(Vec<Case>);

impl Catalogue {
    /// Cases the parser must accept.
    fn accepted(&mut self, cases: impl IntoIterator<Item = (&'static str, Input)>) {
        self.add(None, cases);
    }

    /// Cases the parser must refuse, naming exactly `field`.
    fn refused_at(&mut self, field: impl Into<String>) -> Refusals<'_> {
        Refusals {
            catalogue: self,
            field: field.into(),
        }
    }

    fn add(
        &mut self,
        field: Option<String>,
        cases: impl IntoIterator<Item = (&'static str, Input)>,
    ) {
        self.0.extend(cases.into_iter().map(|(name, input)| Case {
            name,
            input,
            field: field.clone(),
        }));
    }
}

/// The field a group of refusals must name (a call reads `refused_at(field).cases([...])`).
struct Refusals<'a> {
    catalogue: &'a mut Catalogue,
    field: String,
}

impl Refusals<'_> {
    fn cases(self, cases: impl IntoIterator<Item = (&'static str, Input)>) {
        self.catalogue.add(Some(self.field), cases);
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
    let sections: [fn(&mut Catalogue); 13] = [
        max_players,
        players,
        properties,
        name_and_data,
        latencies,
        regions,
        bodies,
        joins,
        updates,
        deletes,
        list_parameters,
        path_segments,
        idempotency_keys,
    ];
    let mut c = Catalogue::default();
    for section in sections {
        section(&mut c);
    }
    c.0
}

/// maxPlayers 1–200, integers only.
fn max_players(c: &mut Catalogue) {
    let create = |v: &str| Input::Create(raw(&format!(r#"{{"maxPlayers":{v}}}"#)));
    c.accepted([
        ("maxPlayers 1 is the minimum", create("1")),
        ("maxPlayers 200 is the maximum", create("200")),
        ("maxPlayers 2.0 is the integer 2", create("2.0")),
    ]);
    c.refused_at("maxPlayers").cases([
        ("maxPlayers 0 is below the minimum", create("0")),
        ("maxPlayers 201 is past the maximum", create("201")),
        ("maxPlayers -1 is negative", create("-1")),
        ("maxPlayers is required", Input::Create(raw("{}"))),
        ("maxPlayers null is missing", create("null")),
        (
            "maxPlayers as a string is the wrong type",
            create(r#""10""#),
        ),
        ("maxPlayers as a boolean is the wrong type", create("true")),
        ("maxPlayers 1.5 is not an integer", create("1.5")),
        ("maxPlayers 1e30 is far out of range", create("1e30")),
        (
            "maxPlayers 2^70 is far out of range",
            create("1180591620717411303424"),
        ),
        (
            "maxPlayers -2^63-1 is far out of range",
            create("-9223372036854775809"),
        ),
        (
            "a key twice in one object is rejected",
            Input::Create(raw(r#"{"maxPlayers":1,"maxPlayers":200}"#)),
        ),
    ]);
}

/// Players per create ≤ maxPlayers; playerId 1–1024 characters, unique; playerData 1–2048.
fn players(c: &mut Catalogue) {
    let players = |v: Value| Input::Create(create_with("players", v));
    let data = |v: Value| players(json!([{"playerId": "a", "playerData": v}]));
    let capped = |n: usize| json!({"maxPlayers": 2, "players": players_json(n)});
    c.accepted([
        (
            "as many players as maxPlayers fit",
            Input::Create(body(&capped(2))),
        ),
        (
            "an empty players list is fine in a create",
            players(json!([])),
        ),
        ("players null is absent", players(Value::Null)),
        (
            "playerId of 1024 characters fits",
            players(json!([player(&"é".repeat(1024))])),
        ),
        (
            "playerData of 2048 characters fits",
            data(json!("d".repeat(2048))),
        ),
        ("playerData null is absent", data(Value::Null)),
    ]);
    c.refused_at("players").cases([
        (
            "more players than maxPlayers are rejected",
            Input::Create(body(&capped(3))),
        ),
        (
            "players as an object is the wrong type",
            players(json!({"playerId": "a"})),
        ),
    ]);
    c.refused_at("players[0]").cases([(
        "a player that is not an object names its index",
        players(json!(["a"])),
    )]);
    c.refused_at("players[0].playerId").cases([
        ("a player without playerId names it", players(json!([{}]))),
        (
            "a null playerId is missing",
            players(json!([{"playerId": null}])),
        ),
        (
            "playerId of 0 characters is too short",
            players(json!([player("")])),
        ),
        (
            "playerId as a number is the wrong type",
            players(json!([{"playerId": 7}])),
        ),
    ]);
    let long = player(&"x".repeat(1025));
    c.refused_at("players[1].playerId").cases([(
        "playerId of 1025 characters is too long",
        players(json!([player("a"), long])),
    )]);
    c.refused_at("players[2].playerId").cases([(
        "a repeated playerId names the later copy",
        players(json!([player("a"), player("b"), player("a")])),
    )]);
    c.refused_at("players[0].nickname").cases([(
        "an unknown field inside a player is named by its path",
        players(json!([{"playerId": "a", "nickname": "n"}])),
    )]);
    c.refused_at("players[0].playerData").cases([
        ("playerData of 0 characters is too short", data(json!(""))),
        (
            "playerData of 2049 characters is too long",
            data(json!("d".repeat(2049))),
        ),
        ("playerData as an object is the wrong type", data(json!({}))),
    ]);
}

/// Properties ≤ 16, key 1–32 without '.', value ≤ 96, values strings.
fn properties(c: &mut Catalogue) {
    let props = |v: Value| Input::Create(create_with("properties", v));
    let mode = |v: Value| props(json!({ "mode": v }));
    c.accepted([
        ("16 properties fit", props(props_json(16, 32, 96))),
        (
            "a 32-character key fits",
            props(json!({ "k".repeat(32): "v" })),
        ),
        ("a 96-character value fits", mode(json!("v".repeat(96)))),
        ("an empty value is allowed", mode(json!(""))),
        ("properties null is absent", props(Value::Null)),
    ]);
    c.refused_at("properties").cases([
        ("17 properties are too many", props(props_json(17, 2, 1))),
        (
            "properties as an array is the wrong type",
            props(json!(["a"])),
        ),
    ]);
    let key33 = "k".repeat(33);
    c.refused_at(format!("properties.{key33}")).cases([(
        "a 33-character key is too long",
        props(json!({ key33: "v" })),
    )]);
    c.refused_at("properties.")
        .cases([("an empty key is rejected", props(json!({ "": "v" })))]);
    c.refused_at("properties.a.b")
        .cases([("a key with a dot is rejected", props(json!({ "a.b": "v" })))]);
    c.refused_at("properties.mode").cases([
        (
            "a 97-character value is too long",
            mode(json!("v".repeat(97))),
        ),
        ("a number property value names the key", mode(json!(5))),
        ("a null property value names the key", mode(Value::Null)),
        (
            "an object property value names the key",
            mode(json!({"a": "b"})),
        ),
    ]);
    c.refused_at("properties.m").cases([(
        "a property key twice is rejected",
        Input::Create(raw(r#"{"maxPlayers":2,"properties":{"m":"a","m":"b"}}"#)),
    )]);
}

/// name ≤ 1024, data ≤ 262,144; neither may be empty.
fn name_and_data(c: &mut Catalogue) {
    let name = |v: Value| Input::Create(create_with("name", v));
    let data = |v: Value| Input::Create(create_with("data", v));
    c.accepted([
        (
            "name of 1024 characters fits",
            name(json!("n".repeat(1024))),
        ),
        ("name null is absent", name(Value::Null)),
        (
            "data of 262144 characters fits",
            data(json!("d".repeat(262_144))),
        ),
    ]);
    c.refused_at("name").cases([
        (
            "name of 1025 characters is too long",
            name(json!("n".repeat(1025))),
        ),
        (
            "an empty name is rejected as GameLift would",
            name(json!("")),
        ),
        ("a name with a newline is rejected", name(json!("a\nb"))),
        ("name as a number is the wrong type", name(json!(5))),
    ]);
    c.refused_at("data").cases([
        (
            "data of 262145 characters is too long",
            data(json!("d".repeat(262_145))),
        ),
        ("data as an array is the wrong type", data(json!(["d"]))),
    ]);
}

/// Latencies ≤ 200, latencyMs 0–60,000, one per player and region.
fn latencies(c: &mut Catalogue) {
    let latencies = |v: Value| Input::Create(create_with("latencies", v));
    let many = |n: usize| latencies((0..n).map(|i| latency_json(i, json!(5))).collect());
    let ms = |ms: Value| latencies(json!([latency_json(0, ms)]));
    let two = |first: Value, second: Value| latencies(json!([first, second]));
    c.accepted([
        ("200 latencies fit", many(200)),
        ("latencyMs 0 is the minimum", ms(json!(0))),
        ("latencyMs 60000 is the maximum", ms(json!(60_000))),
    ]);
    c.refused_at("latencies")
        .cases([("201 latencies are too many", many(201))]);
    c.refused_at("latencies[0].latencyMs").cases([
        ("latencyMs -1 is negative", ms(json!(-1))),
        ("latencyMs 60001 is past the maximum", ms(json!(60_001))),
        (
            "a latency without latencyMs names it",
            latencies(json!([{"playerId": "a", "region": "us-east-1"}])),
        ),
    ]);
    c.refused_at("latencies[1].latencyMs").cases([(
        "latencyMs 12.5 is not an integer",
        two(latency_json(0, json!(5)), latency_json(1, json!(12.5))),
    )]);
    c.refused_at("latencies[0].playerId").cases([(
        "a latency without playerId names it",
        latencies(json!([{"region": "us-east-1", "latencyMs": 1}])),
    )]);
    c.refused_at("latencies[0].region").cases([(
        "a latency with a bad region names it",
        latencies(json!([{"playerId": "a", "region": "US_EAST", "latencyMs": 1}])),
    )]);
    c.refused_at("latencies[1]").cases([(
        "two latencies for one player and region are rejected",
        two(latency_json(0, json!(5)), latency_json(0, json!(9))),
    )]);
    c.refused_at("latencies[0].ms").cases([(
        "an unknown field inside a latency is named",
        latencies(json!([{"playerId": "a", "region": "r", "latencyMs": 1, "ms": 1}])),
    )]);
}

/// Regions ≤ 10, unique, each a valid region name.
fn regions(c: &mut Catalogue) {
    let regions = |v: Value| Input::Create(create_with("regions", v));
    c.accepted([("10 regions fit", regions(regions_json(10)))]);
    c.refused_at("regions")
        .cases([("11 regions are too many", regions(regions_json(11)))]);
    c.refused_at("regions[1]").cases([(
        "a repeated region names the later copy",
        regions(json!(["us-east-1", "us-east-1"])),
    )]);
    c.refused_at("regions[2]").cases([(
        "a malformed region names its index",
        regions(json!(["a", "b", "Bad Region"])),
    )]);
    c.refused_at("regions[0]").cases([(
        "a region that is not a string names its index",
        regions(json!([1])),
    )]);
}

/// Unknown fields and malformed bodies.
fn bodies(c: &mut Catalogue) {
    let create = |s: &str| Input::Create(raw(s));
    c.accepted([(
        "a body of exactly 300 KB is read",
        Input::Create(padded_create(BODY_MAX_BYTES)),
    )]);
    c.refused_at("foo").cases([
        (
            "an unknown top-level field is named",
            create(r#"{"maxPlayers":2,"foo":1}"#),
        ),
        (
            "an unknown field is rejected even when null",
            create(r#"{"maxPlayers":2,"foo":null}"#),
        ),
    ]);
    c.refused_at("max_players").cases([(
        "snake_case spellings are unknown in a create",
        create(r#"{"max_players":2}"#),
    )]);
    c.refused_at("body").cases([
        (
            "an unknown top-level field with an empty name blames the body",
            create(r#"{"maxPlayers":2,"":{}}"#),
        ),
        (
            "a body of 300 KB + 1 is too large",
            Input::Create(padded_create(BODY_MAX_BYTES + 1)),
        ),
        (
            "a 1 MiB body is too large",
            Input::Create(padded_create(1 << 20)),
        ),
        ("an empty body is rejected", create("")),
        ("a whitespace body is rejected", create(" \n\t")),
        (
            "a body that is not JSON is rejected",
            create("maxPlayers=2"),
        ),
        (
            "a truncated JSON body is rejected",
            create(r#"{"maxPlayers":2"#),
        ),
        (
            "trailing text after the JSON is rejected",
            create(r#"{"maxPlayers":2} x"#),
        ),
        (
            "a JSON array body is rejected",
            create(r#"[{"maxPlayers":2}]"#),
        ),
        ("a JSON null body is rejected", create("null")),
        ("a JSON string body is rejected", create(r#""x""#)),
        (
            "a body that is not UTF-8 is rejected",
            Input::Create(vec![b'{', b'"', 0xff, b'"', b':', b'1', b'}']),
        ),
        (
            "a lone surrogate escape is rejected",
            create(r#"{"maxPlayers":2,"name":"\ud800"}"#),
        ),
    ]);
}

/// Join: 1–25 players with unique ids.
fn joins(c: &mut Catalogue) {
    let join = |v: Value| Input::Join(body(&v));
    let players = |n: usize| join(json!({"players": players_json(n)}));
    c.accepted([
        ("a join with 1 player is accepted", players(1)),
        ("a join with 25 players is accepted", players(25)),
    ]);
    c.refused_at("players").cases([
        ("a join with 0 players is rejected", players(0)),
        ("a join with 26 players is rejected", players(26)),
        ("a join without players is rejected", Input::Join(raw("{}"))),
        (
            "a join with players null is rejected",
            Input::Join(raw(r#"{"players":null}"#)),
        ),
    ]);
    c.refused_at("body").cases([
        (
            "a join with an empty-named field blames the body",
            Input::Join(raw(r#"{"":{},"players":[{"playerId":"a"}]}"#)),
        ),
        (
            "a join with a JSON array body is rejected",
            Input::Join(raw("[]")),
        ),
    ]);
    c.refused_at("players[1].playerId").cases([(
        "a join repeating a player names it",
        join(json!({"players": [player("a"), player("a")]})),
    )]);
    c.refused_at("sessionId").cases([(
        "a join with an unknown field names it",
        join(json!({"players": players_json(1), "sessionId": "x"})),
    )]);
}

/// update_instance_info: both player-count spellings, metadata, the id.
fn updates(c: &mut Catalogue) {
    let upd = |v: Value| Input::Update(update(v));
    let metadata = |v: Value| upd(json!({ "metadata": v }));
    c.accepted([
        ("playerCount alone is read", upd(json!({"playerCount": 3}))),
        (
            "player_count alone is read",
            upd(json!({"player_count": 3})),
        ),
        (
            "playerCount and player_count equal are fine",
            upd(json!({"playerCount": 3, "player_count": 3})),
        ),
        (
            "playerCount 0 is the minimum",
            upd(json!({"playerCount": 0})),
        ),
        (
            "playerCount 200 is the maximum",
            upd(json!({"playerCount": 200})),
        ),
        (
            "playerCount null is absent",
            upd(json!({"playerCount": null})),
        ),
        ("an update with only id is a no-op report", upd(json!({}))),
        ("metadata null is absent", metadata(Value::Null)),
        (
            "metadata fields null are absent",
            metadata(json!({"GameSessionName": null, "GameProperties": null})),
        ),
    ]);
    c.refused_at("playerCount").cases([
        (
            "playerCount and player_count different conflict",
            upd(json!({"playerCount": 3, "player_count": 4})),
        ),
        (
            "playerCount 201 is past the maximum",
            upd(json!({"playerCount": 201})),
        ),
        (
            "playerCount as a string is the wrong type",
            upd(json!({"playerCount": "3"})),
        ),
    ]);
    c.refused_at("player_count").cases([(
        "player_count -1 is named by its own spelling",
        upd(json!({"player_count": -1})),
    )]);
    c.refused_at("metadata").cases([(
        "metadata as a string is the wrong type",
        metadata(json!("x")),
    )]);
    c.refused_at("metadata.GameProperties.k").cases([
        (
            "a non-string GameProperties value is named, not a panic",
            metadata(json!({"GameProperties": {"k": 1}})),
        ),
        (
            "a boolean GameProperties value is named",
            metadata(json!({"GameProperties": {"a": "x", "k": true}})),
        ),
    ]);
    c.refused_at("metadata.GameProperties").cases([(
        "17 GameProperties are too many",
        metadata(json!({"GameProperties": props_json(17, 2, 1)})),
    )]);
    c.refused_at("metadata.GameSessionName").cases([(
        "a GameSessionName of 1025 characters is too long",
        metadata(json!({"GameSessionName": "n".repeat(1025)})),
    )]);
    c.refused_at("metadata.GameSessionData").cases([(
        "a GameSessionData of 262145 characters is too long",
        metadata(json!({"GameSessionData": "d".repeat(262_145)})),
    )]);
    c.refused_at("metadata.GameSessionname").cases([(
        "an unknown metadata key is named",
        metadata(json!({"GameSessionname": "x"})),
    )]);
    c.refused_at("id").cases([
        (
            "an update without id is rejected",
            Input::Update(raw(r#"{"playerCount":1}"#)),
        ),
        (
            "an update with id null is rejected",
            Input::Update(raw(r#"{"id":null,"playerCount":1}"#)),
        ),
        (
            "an update with a malformed id is rejected",
            Input::Update(raw(r#"{"id":"nope","playerCount":1}"#)),
        ),
    ]);
    c.refused_at("players").cases([(
        "an update with an unknown field names it",
        upd(json!({"players": 1})),
    )]);
}

/// delete_instance_info: `{id}` only.
fn deletes(c: &mut Catalogue) {
    c.accepted([(
        "a delete with an ARN is accepted",
        Input::Delete(body(&json!({"id": ARN}))),
    )]);
    c.refused_at("terminate").cases([(
        "a delete with an extra field names it",
        Input::Delete(body(&json!({"id": ARN, "terminate": true}))),
    )]);
    c.refused_at("id").cases([(
        "a delete with a numeric id is rejected",
        Input::Delete(raw(r#"{"id":5}"#)),
    )]);
    c.refused_at("body").cases([(
        "a delete with an empty body is rejected",
        Input::Delete(Vec::new()),
    )]);
}

/// List parameters: query ≤ 1024, limit 1–100, cursor 1–2048 printable, sort, explain.
fn list_parameters(c: &mut Catalogue) {
    let query = |n: usize| format!("name:{}", "a".repeat(n));
    let limit = |v: &str| list(&[("limit", v)]);
    let cursor = |v: &str| list(&[("cursor", v)]);
    c.accepted([
        ("no parameters take the defaults", list(&[])),
        (
            "a query of 1024 characters fits",
            list(&[("query", &query(1019))]),
        ),
        ("limit 1 is the minimum", limit("1")),
        ("limit 100 is the maximum", limit("100")),
        (
            "a cursor of 2048 characters fits",
            cursor(&"c".repeat(2048)),
        ),
        ("explain true is read", list(&[("explain", "true")])),
    ]);
    c.refused_at("query").cases([
        (
            "a query of 1025 characters is too long",
            list(&[("query", &query(1020))]),
        ),
        (
            "a malformed query names query",
            list(&[("query", "+playerCount:")]),
        ),
    ]);
    c.refused_at("limit").cases([
        ("limit 0 is below the minimum", limit("0")),
        ("limit 101 is past the maximum", limit("101")),
        ("limit abc is not a number", limit("abc")),
        ("limit -1 is negative", limit("-1")),
        ("an empty limit is rejected", limit("")),
        ("limit 99999999999 does not overflow", limit("99999999999")),
        (
            "a repeated parameter is named",
            list(&[("limit", "5"), ("limit", "6")]),
        ),
    ]);
    c.refused_at("cursor").cases([
        (
            "a cursor of 2049 characters is too long",
            cursor(&"c".repeat(2049)),
        ),
        ("an empty cursor is rejected", cursor("")),
        ("a cursor with a space is rejected", cursor("a b")),
    ]);
    c.refused_at("sort")
        .cases([("an unknown sort names sort", list(&[("sort", "name")]))]);
    c.refused_at("explain")
        .cases([("explain yes is rejected", list(&[("explain", "yes")]))]);
    c.refused_at("page")
        .cases([("an unknown parameter is named", list(&[("page", "2")]))]);
}

/// Path segments: session references and placement ids, percent-decoded once.
fn path_segments(c: &mut Catalogue) {
    let session = |s: &str| Input::Ref(s.to_owned());
    let placement = |s: &str| Input::Pid(s.to_owned());
    c.accepted([
        (
            "a short session id is read",
            Input::Ref(GameSessionArnFixture::id()),
        ),
        (
            "a percent-encoded ARN is read",
            session("arn%3Aaws%3Agamelift%3Aus-east-1%3A%3Agamesession%2Ffleet-1a2b%2Fgsess-42"),
        ),
        ("an already-decoded ARN is read", session(ARN)),
        (
            "a placementId of 48 characters fits",
            placement(&"a".repeat(48)),
        ),
    ]);
    c.refused_at("id").cases([
        ("a lone percent sign is a bad escape", session("arn%")),
        (
            "a percent sign with one hex digit is a bad escape",
            session("arn%3"),
        ),
        (
            "a percent escape with non-hex digits is bad",
            session("arn%G1aws"),
        ),
        (
            "a percent escape decoding to non-UTF-8 is bad",
            session("gs-%FF"),
        ),
        ("an empty session segment is rejected", session("")),
    ]);
    c.refused_at("placementId").cases([
        (
            "a placementId of 49 characters is too long",
            placement(&"a".repeat(49)),
        ),
        (
            "a placementId with an underscore is rejected",
            placement("a_b"),
        ),
        ("a placementId with a slash is rejected", placement("a%2Fb")),
        ("an empty placementId is rejected", placement("")),
    ]);
}

/// The Idempotency-Key header: absent, or 1–128 printable ASCII characters.
fn idempotency_keys(c: &mut Catalogue) {
    let key = |s: &str| Input::Key(Some(s.to_owned()));
    c.accepted([
        ("no Idempotency-Key is fine", Input::Key(None)),
        (
            "an Idempotency-Key of 128 characters fits",
            key(&"k".repeat(128)),
        ),
    ]);
    c.refused_at("Idempotency-Key").cases([
        (
            "an Idempotency-Key of 129 characters is too long",
            key(&"k".repeat(129)),
        ),
        (
            "an Idempotency-Key with a tab is not printable",
            key("a\tb"),
        ),
        (
            "an Idempotency-Key with non-ASCII is not printable",
            key("clé"),
        ),
        ("an empty Idempotency-Key is rejected", key("")),
    ]);
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

/// Every key a body parser knows, once each and in the order the parsers list them, then a
/// property key, a dotted key and the empty key.
fn keys() -> Vec<&'static str> {
    let known = [
        CreateSession::FIELDS,
        PLAYER_FIELDS,
        LATENCY_FIELDS,
        UPDATE_FIELDS,
        METADATA_FIELDS,
    ];
    let mut seen = HashSet::new();
    let mut keys: Vec<&str> = known.concat();
    keys.retain(|k| seen.insert(*k));
    keys.extend(["k", "a.b", ""]);
    keys
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => crate::event::tests::json_scalar(),
        1 => (-300i64..300).prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => ".{0,40}".prop_map(Value::String),
        1 => Just(Value::String(ARN.to_owned())),
        1 => "[a-z0-9-]{1,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        proptest::sample::select(keys()).prop_map(str::to_owned),
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

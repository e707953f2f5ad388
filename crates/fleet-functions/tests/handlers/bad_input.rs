//! The bad-input catalogue: malformed, oversized and hostile requests through the real handlers. Each
//! must get its exact 4xx and, where one field is to blame, that field; none may get a 5xx, panic, or
//! reach GameLift.

use serde_json::json;

use crate::support_cases::*;
use crate::support_http::*;

struct Case {
    name: &'static str,
    handler: H,
    ev: Ev,
    status: u16,
    field: Option<&'static str>,
}

fn case(name: &'static str, handler: H, ev: Ev, status: u16, field: Option<&'static str>) -> Case {
    Case {
        name,
        handler,
        ev,
        status,
        field,
    }
}

fn create(body: impl Into<String>) -> Ev {
    route::create(body).by(service())
}

fn list(query: &str) -> Ev {
    route::list().query(query).by(service())
}

fn join(body: impl Into<String>) -> Ev {
    Ev::post(&format!("/v1/sessions/{}/join", short_id(ARN_1)), body).by(service())
}

fn patch(body: impl Into<String>) -> Ev {
    route::patch(short_id(ARN_1), body).by(service())
}

/// A read of the session with the raw query string `query`.
fn get_with(query: &str) -> Ev {
    route::get_session(short_id(ARN_1))
        .query(query)
        .by(service())
}

/// A delete of the session with the raw query string `query`.
fn delete_with(query: &str) -> Ev {
    route::delete_session(short_id(ARN_1))
        .query(query)
        .by(service())
}

fn connection(body: impl Into<String>) -> Ev {
    Ev::post(
        &format!("/v1/sessions/{}/connection", short_id(ARN_1)),
        body,
    )
    .by(service())
}

fn update(body: impl Into<String>) -> Ev {
    Ev::post("/v1/rpc/update_instance_info", body).by(service())
}

fn delete_info(body: impl Into<String>) -> Ev {
    Ev::post("/v1/rpc/delete_instance_info", body).by(service())
}

/// A property key one character over the limit.
const KEY_33: &str = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn catalogue() -> Vec<Case> {
    use H::*;
    let players = |n: usize| -> Vec<serde_json::Value> {
        (0..n)
            .map(|i| json!({"playerId": format!("p{i}")}))
            .collect()
    };
    let props = |n: usize| -> serde_json::Map<String, serde_json::Value> {
        (0..n).map(|i| (format!("k{i}"), json!("v"))).collect()
    };
    let one_mib = format!("{{\"maxPlayers\":2,\"data\":\"{}\"}}", long(1024 * 1024));
    let just_over = format!("{{\"maxPlayers\":2,\"data\":\"{}\"}}", long(300 * 1024));
    let latencies: Vec<_> = (0..201)
        .map(|i| json!({"playerId": format!("p{i}"), "region": "us-east-1", "latencyMs": 1}))
        .collect();
    let regions: Vec<_> = (0..11).map(|i| json!(format!("r-{i}"))).collect();
    vec![
        // ---- create: body shape
        case(
            "create with an empty body",
            Api,
            create(""),
            400,
            Some("body"),
        ),
        case(
            "create with a whitespace body",
            Api,
            create("  \n "),
            400,
            Some("body"),
        ),
        case(
            "create with a body that is not JSON",
            Api,
            create("maxPlayers=2"),
            400,
            Some("body"),
        ),
        case(
            "create with truncated JSON",
            Api,
            create("{\"maxPlayers\":2"),
            400,
            Some("body"),
        ),
        case(
            "create with a JSON array",
            Api,
            create("[1,2]"),
            400,
            Some("body"),
        ),
        case(
            "create with JSON null",
            Api,
            create("null"),
            400,
            Some("body"),
        ),
        case(
            "create with a JSON string",
            Api,
            create("\"hi\""),
            400,
            Some("body"),
        ),
        case(
            "create with a 1 MiB body",
            Api,
            create(one_mib.clone()),
            413,
            None,
        ),
        case(
            "create with a body just over 300 KB",
            Api,
            create(just_over),
            413,
            None,
        ),
        case(
            "create with an unknown field",
            Api,
            create(r#"{"maxPlayers":2,"foo":1}"#),
            400,
            Some("foo"),
        ),
        case(
            "create with a repeated key",
            Api,
            create(r#"{"maxPlayers":1,"maxPlayers":200}"#),
            400,
            Some("maxPlayers"),
        ),
        // ---- create: maxPlayers
        case(
            "create without maxPlayers",
            Api,
            create("{}"),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers null",
            Api,
            create(r#"{"maxPlayers":null}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers as a string",
            Api,
            create(r#"{"maxPlayers":"8"}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers as a boolean",
            Api,
            create(r#"{"maxPlayers":true}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers 0",
            Api,
            create(r#"{"maxPlayers":0}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers 201",
            Api,
            create(r#"{"maxPlayers":201}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers -1",
            Api,
            create(r#"{"maxPlayers":-1}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers 1e30",
            Api,
            create(r#"{"maxPlayers":1e30}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers 2^70",
            Api,
            create(r#"{"maxPlayers":1180591620717411303424}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "create with maxPlayers 1.5",
            Api,
            create(r#"{"maxPlayers":1.5}"#),
            400,
            Some("maxPlayers"),
        ),
        // ---- create: players
        case(
            "create with more players than maxPlayers",
            Api,
            create(json!({"maxPlayers": 2, "players": players(3)}).to_string()),
            400,
            Some("players"),
        ),
        case(
            "create with players not an array",
            Api,
            create(r#"{"maxPlayers":2,"players":{"playerId":"a"}}"#),
            400,
            Some("players"),
        ),
        case(
            "create with an empty playerId",
            Api,
            create(r#"{"maxPlayers":2,"players":[{"playerId":""}]}"#),
            400,
            Some("players[0].playerId"),
        ),
        case(
            "create with a 1025-character playerId",
            Api,
            create(json!({"maxPlayers": 2, "players": [{"playerId": long(1025)}]}).to_string()),
            400,
            Some("players[0].playerId"),
        ),
        case(
            "create with a numeric playerId",
            Api,
            create(r#"{"maxPlayers":2,"players":[{"playerId":7}]}"#),
            400,
            Some("players[0].playerId"),
        ),
        case(
            "create with a null player",
            Api,
            create(r#"{"maxPlayers":2,"players":[null]}"#),
            400,
            Some("players[0]"),
        ),
        case(
            "create with a 2049-character playerData",
            Api,
            create(
                json!({"maxPlayers": 2, "players": [{"playerId": "a", "playerData": long(2049)}]})
                    .to_string(),
            ),
            400,
            Some("players[0].playerData"),
        ),
        case(
            "create with an empty playerData",
            Api,
            create(r#"{"maxPlayers":2,"players":[{"playerId":"a","playerData":""}]}"#),
            400,
            Some("players[0].playerData"),
        ),
        case(
            "create with an unknown player field",
            Api,
            create(r#"{"maxPlayers":2,"players":[{"playerId":"a","nickname":"x"}]}"#),
            400,
            Some("players[0].nickname"),
        ),
        case(
            "create with a repeated player",
            Api,
            create(r#"{"maxPlayers":3,"players":[{"playerId":"a"},{"playerId":"a"}]}"#),
            400,
            Some("players[1].playerId"),
        ),
        // ---- create: properties, name, data
        case(
            "create with 17 properties",
            Api,
            create(json!({"maxPlayers": 2, "properties": props(17)}).to_string()),
            400,
            Some("properties"),
        ),
        case(
            "create with a 33-character property key",
            Api,
            create(json!({"maxPlayers": 2, "properties": {KEY_33: "v"}}).to_string()),
            400,
            Some("properties.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"),
        ),
        case(
            "create with a dotted property key",
            Api,
            create(r#"{"maxPlayers":2,"properties":{"a.b":"v"}}"#),
            400,
            Some("properties.a.b"),
        ),
        case(
            "create with a 97-character property value",
            Api,
            create(json!({"maxPlayers": 2, "properties": {"k": long(97)}}).to_string()),
            400,
            Some("properties.k"),
        ),
        case(
            "create with a numeric property value",
            Api,
            create(r#"{"maxPlayers":2,"properties":{"k":1}}"#),
            400,
            Some("properties.k"),
        ),
        case(
            "create with a null property value",
            Api,
            create(r#"{"maxPlayers":2,"properties":{"k":null}}"#),
            400,
            Some("properties.k"),
        ),
        case(
            "create with properties as an array",
            Api,
            create(r#"{"maxPlayers":2,"properties":["k"]}"#),
            400,
            Some("properties"),
        ),
        case(
            "create with a 1025-character name",
            Api,
            create(json!({"maxPlayers": 2, "name": long(1025)}).to_string()),
            400,
            Some("name"),
        ),
        case(
            "create with an empty name",
            Api,
            create(r#"{"maxPlayers":2,"name":""}"#),
            400,
            Some("name"),
        ),
        case(
            "create with data over 262,144 characters",
            Api,
            create(json!({"maxPlayers": 2, "data": long(262_145)}).to_string()),
            400,
            Some("data"),
        ),
        // ---- create: latencies and regions
        case(
            "create with 201 latencies",
            Api,
            create(json!({"maxPlayers": 2, "latencies": latencies}).to_string()),
            400,
            Some("latencies"),
        ),
        case(
            "create with a negative latency",
            Api,
            create(
                r#"{"maxPlayers":2,"latencies":[{"playerId":"a","region":"us-east-1","latencyMs":-1}]}"#,
            ),
            400,
            Some("latencies[0].latencyMs"),
        ),
        case(
            "create with a latency over 60,000",
            Api,
            create(
                r#"{"maxPlayers":2,"latencies":[{"playerId":"a","region":"us-east-1","latencyMs":60001}]}"#,
            ),
            400,
            Some("latencies[0].latencyMs"),
        ),
        case(
            "create with a bad latency region",
            Api,
            create(
                r#"{"maxPlayers":2,"latencies":[{"playerId":"a","region":"US_EAST","latencyMs":1}]}"#,
            ),
            400,
            Some("latencies[0].region"),
        ),
        case(
            "create with 11 regions",
            Api,
            create(json!({"maxPlayers": 2, "regions": regions}).to_string()),
            400,
            Some("regions"),
        ),
        case(
            "create with a repeated region",
            Api,
            create(r#"{"maxPlayers":2,"regions":["us-east-1","us-east-1"]}"#),
            400,
            Some("regions[1]"),
        ),
        // ---- create: headers and query
        case(
            "create with an empty Idempotency-Key",
            Api,
            create(r#"{"maxPlayers":2}"#).header("Idempotency-Key", ""),
            400,
            Some("Idempotency-Key"),
        ),
        case(
            "create with a 129-character Idempotency-Key",
            Api,
            create(r#"{"maxPlayers":2}"#).header("Idempotency-Key", &long(129)),
            400,
            Some("Idempotency-Key"),
        ),
        case(
            "create with a non-ASCII Idempotency-Key",
            Api,
            create(r#"{"maxPlayers":2}"#).header("Idempotency-Key", "clé"),
            400,
            Some("Idempotency-Key"),
        ),
        case(
            "create with a query parameter",
            Api,
            create(r#"{"maxPlayers":2}"#).query("dryRun=true"),
            400,
            Some("dryRun"),
        ),
        case(
            "a player creating for someone else",
            Api,
            route::create(create_body(2, &["not-me"])).by(player_a()),
            403,
            Some("players[0].playerId"),
        ),
        // ---- list
        case(
            "list with limit=0",
            Api,
            list("limit=0"),
            400,
            Some("limit"),
        ),
        case(
            "list with limit=101",
            Api,
            list("limit=101"),
            400,
            Some("limit"),
        ),
        case(
            "list with limit=-1",
            Api,
            list("limit=-1"),
            400,
            Some("limit"),
        ),
        case(
            "list with limit=abc",
            Api,
            list("limit=abc"),
            400,
            Some("limit"),
        ),
        case(
            "list with limit=99999999999999999999",
            Api,
            list("limit=99999999999999999999"),
            400,
            Some("limit"),
        ),
        case(
            "list with an empty limit",
            Api,
            list("limit="),
            400,
            Some("limit"),
        ),
        case(
            "list with limit twice",
            Api,
            list("limit=5&limit=6"),
            400,
            Some("limit"),
        ),
        case(
            "list with a forged cursor",
            Api,
            list("cursor=eyJrIjoiMSJ9.AAAA"),
            400,
            Some("cursor"),
        ),
        case(
            "list with a cursor containing a space",
            Api,
            list("cursor=a%20b"),
            400,
            Some("cursor"),
        ),
        case(
            "list with a query missing its colon",
            Api,
            list("query=%2Bregion"),
            400,
            Some("query"),
        ),
        case(
            "list with an unknown query field",
            Api,
            list("query=colour%3Ablue"),
            400,
            Some("query"),
        ),
        case(
            "list with an inner wildcard",
            Api,
            list("query=name%3Aa*b"),
            400,
            Some("query"),
        ),
        case(
            "list with an unclosed quote",
            Api,
            list("query=name%3A%22open"),
            400,
            Some("query"),
        ),
        case(
            "list with a range on a property",
            Api,
            list("query=properties.mode%3A%3E1"),
            400,
            Some("query"),
        ),
        case(
            "list with a 1025-character query",
            Api,
            list(&format!("query=name%3A{}", long(1020))),
            400,
            Some("query"),
        ),
        case(
            "list with an empty region as the index partition",
            Api,
            list("query=%2Bregion%3A%22%22"),
            400,
            Some("query"),
        ),
        case(
            "list with an empty fleet as the index partition, sorted by players",
            Api,
            list("query=%2BfleetId%3A%22%22&sort=playerCount"),
            400,
            Some("query"),
        ),
        case(
            "list with a region over DynamoDB's 2048-byte key",
            Api,
            list(&format!("query=%2Bregion%3A{}", "%F0%9F%98%80".repeat(513))),
            400,
            Some("query"),
        ),
        case(
            "list with a bad sort",
            Api,
            list("sort=name"),
            400,
            Some("sort"),
        ),
        case(
            "list with explain=maybe",
            Api,
            list("explain=maybe"),
            400,
            Some("explain"),
        ),
        case(
            "list with an unknown parameter",
            Api,
            list("page=2"),
            400,
            Some("page"),
        ),
        case(
            "list with a broken percent escape",
            Api,
            list("query=%ZZ"),
            400,
            Some("query"),
        ),
        case(
            "list with a truncated percent escape",
            Api,
            list("query=abc%4"),
            400,
            Some("query"),
        ),
        case(
            "list with non-UTF-8 bytes",
            Api,
            list("query=%FF%FE"),
            400,
            Some("query"),
        ),
        case(
            "list with a broken escape in a parameter name",
            Api,
            list("%G1=2"),
            400,
            Some("query string"),
        ),
        // ---- get session and placement
        case(
            "get a session by a malformed id",
            Api,
            Ev::get("/v1/sessions/not-an-id").by(service()),
            400,
            Some("id"),
        ),
        case(
            "get a session by a short id of the wrong length",
            Api,
            Ev::get("/v1/sessions/gs-short").by(service()),
            400,
            Some("id"),
        ),
        case(
            "get a session by an ARN of another service",
            Api,
            route::get_session(encode("arn:aws:s3:::bucket")).by(service()),
            400,
            Some("id"),
        ),
        case(
            "get a session by a broken percent escape",
            Api,
            Ev::get("/v1/sessions/gs-%ZZ").by(service()),
            400,
            Some("id"),
        ),
        case(
            "get a session with a query parameter",
            Api,
            get_with("fields=all"),
            400,
            Some("fields"),
        ),
        case(
            "get an unknown session",
            Api,
            route::get_session(short_id(ARN_2)).by(service()),
            404,
            None,
        ),
        case(
            "get a placement with an underscore in its id",
            Api,
            route::get_placement("a_b").by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "get a placement with a 49-character id",
            Api,
            Ev::get(&format!("/v1/placements/{}", long(49))).by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "get a placement with a non-UTF-8 id",
            Api,
            Ev::get("/v1/placements/%E0%A4").by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "get an unknown placement",
            Api,
            route::get_placement("p-404").by(service()),
            404,
            None,
        ),
        // ---- cancel
        case(
            "cancel a placement with an underscore in its id",
            Api,
            route::cancel("a_b").by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "cancel a placement with a 49-character id",
            Api,
            Ev::delete(&format!("/v1/placements/{}", long(49))).by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "cancel a placement with a non-UTF-8 id",
            Api,
            Ev::delete("/v1/placements/%E0%A4").by(service()),
            400,
            Some("placementId"),
        ),
        case(
            "cancel with a query parameter",
            Api,
            route::cancel("p-404").query("force=true").by(service()),
            400,
            Some("force"),
        ),
        case(
            "cancel an unknown placement",
            Api,
            route::cancel("p-404").by(service()),
            404,
            None,
        ),
        // ---- lock / protect
        case(
            "patch with an empty object",
            Api,
            patch("{}"),
            400,
            Some("body"),
        ),
        case("patch with no body", Api, patch(""), 400, Some("body")),
        case(
            "patch joinable as a string",
            Api,
            patch(r#"{"joinable":"false"}"#),
            400,
            Some("joinable"),
        ),
        case(
            "patch protected as a number",
            Api,
            patch(r#"{"protected":1}"#),
            400,
            Some("protected"),
        ),
        case(
            "patch an unknown field",
            Api,
            patch(r#"{"joinable":true,"maxPlayers":9}"#),
            400,
            Some("maxPlayers"),
        ),
        case(
            "patch with a query parameter",
            Api,
            patch(r#"{"joinable":true}"#).query("force=true"),
            400,
            Some("force"),
        ),
        case(
            "patch a malformed session id",
            Api,
            Ev::new("PATCH", "/v1/sessions/not-an-id")
                .body(r#"{"joinable":true}"#)
                .by(service()),
            400,
            Some("id"),
        ),
        // ---- connection details
        case(
            "connection for no players",
            Api,
            connection(r#"{"players":[]}"#),
            400,
            Some("players"),
        ),
        case(
            "connection for 26 players",
            Api,
            connection(json!({"players": players(26)}).to_string()),
            400,
            Some("players"),
        ),
        case(
            "connection for a player twice",
            Api,
            connection(r#"{"players":[{"playerId":"a"},{"playerId":"a"}]}"#),
            400,
            Some("players[1].playerId"),
        ),
        case(
            "connection with player data",
            Api,
            connection(r#"{"players":[{"playerId":"a","playerData":"x"}]}"#),
            400,
            Some("players[0].playerData"),
        ),
        case(
            "connection for an empty player id",
            Api,
            connection(r#"{"players":[{"playerId":""}]}"#),
            400,
            Some("players[0].playerId"),
        ),
        // ---- locations
        case(
            "locations with a query parameter",
            Api,
            Ev::get("/v1/locations").query("filter=AWS").by(service()),
            400,
            Some("filter"),
        ),
        // ---- join
        case(
            "join with no players",
            Api,
            join(r#"{"players":[]}"#),
            400,
            Some("players"),
        ),
        case(
            "join with 26 players",
            Api,
            join(json!({"players": players(26)}).to_string()),
            400,
            Some("players"),
        ),
        case(
            "join with an empty object",
            Api,
            join("{}"),
            400,
            Some("players"),
        ),
        case(
            "join with players null",
            Api,
            join(r#"{"players":null}"#),
            400,
            Some("players"),
        ),
        case(
            "join with an unknown field",
            Api,
            join(r#"{"players":[{"playerId":"a"}],"team":"red"}"#),
            400,
            Some("team"),
        ),
        case(
            "join with a numeric playerId",
            Api,
            join(r#"{"players":[{"playerId":1}]}"#),
            400,
            Some("players[0].playerId"),
        ),
        case(
            "join with a control character in a playerId",
            Api,
            join(r#"{"players":[{"playerId":"a\u0000b"}]}"#),
            400,
            Some("players[0].playerId"),
        ),
        case(
            "join with a 1 MiB body",
            Api,
            join(one_mib.clone()),
            413,
            None,
        ),
        case(
            "join with a non-JSON body",
            Api,
            join("players=a"),
            400,
            Some("body"),
        ),
        // ---- delete
        case(
            "delete with terminate=yes",
            Api,
            delete_with("terminate=yes"),
            400,
            Some("terminate"),
        ),
        case(
            "delete with an unknown parameter",
            Api,
            delete_with("force=true"),
            400,
            Some("force"),
        ),
        // ---- status RPCs
        case("update without an id", Rpc, update("{}"), 400, Some("id")),
        case(
            "update with a malformed id",
            Rpc,
            update(r#"{"id":"session-1"}"#),
            400,
            Some("id"),
        ),
        case(
            "update with a numeric id",
            Rpc,
            update(r#"{"id":42}"#),
            400,
            Some("id"),
        ),
        case(
            "update with playerCount -1",
            Rpc,
            update(json!({"id": ARN_1, "playerCount": -1}).to_string()),
            400,
            Some("playerCount"),
        ),
        case(
            "update with playerCount 201",
            Rpc,
            update(json!({"id": ARN_1, "playerCount": 201}).to_string()),
            400,
            Some("playerCount"),
        ),
        case(
            "update with playerCount as a string",
            Rpc,
            update(json!({"id": ARN_1, "playerCount": "3"}).to_string()),
            400,
            Some("playerCount"),
        ),
        case(
            "update with player_count 1e300",
            Rpc,
            update(format!("{{\"id\":\"{ARN_1}\",\"player_count\":1e300}}")),
            400,
            Some("player_count"),
        ),
        case(
            "update with both spellings disagreeing",
            Rpc,
            update(json!({"id": ARN_1, "playerCount": 1, "player_count": 2}).to_string()),
            400,
            Some("playerCount"),
        ),
        case(
            "update with an unknown metadata key",
            Rpc,
            update(json!({"id": ARN_1, "metadata": {"Foo": "x"}}).to_string()),
            400,
            Some("metadata.Foo"),
        ),
        case(
            "update with a numeric game property",
            Rpc,
            update(json!({"id": ARN_1, "metadata": {"GameProperties": {"k": 1}}}).to_string()),
            400,
            Some("metadata.GameProperties.k"),
        ),
        case(
            "update with a null game property",
            Rpc,
            update(json!({"id": ARN_1, "metadata": {"GameProperties": {"k": null}}}).to_string()),
            400,
            Some("metadata.GameProperties.k"),
        ),
        case(
            "update with properties that overflow 16 once merged",
            Rpc,
            update(json!({"id": ARN_1, "metadata": {"GameProperties": props(16)}}).to_string()),
            400,
            Some("metadata.GameProperties"),
        ),
        case(
            "update with a null body",
            Rpc,
            update("null"),
            400,
            Some("body"),
        ),
        case("update with a 1 MiB body", Rpc, update(one_mib), 413, None),
        case(
            "update with a query parameter",
            Rpc,
            update(json!({"id": ARN_1}).to_string()).query("x=1"),
            400,
            Some("x"),
        ),
        case(
            "delete_instance_info with a null id",
            Rpc,
            delete_info(r#"{"id":null}"#),
            400,
            Some("id"),
        ),
        case(
            "delete_instance_info with a numeric id",
            Rpc,
            delete_info(r#"{"id":1}"#),
            400,
            Some("id"),
        ),
        case(
            "delete_instance_info with an extra field",
            Rpc,
            delete_info(json!({"id": ARN_1, "reason": "x"}).to_string()),
            400,
            Some("reason"),
        ),
        case(
            "delete_instance_info with an empty body",
            Rpc,
            delete_info(""),
            400,
            Some("body"),
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_gets_its_4xx_and_field_and_never_a_5xx() {
    let cases = catalogue();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let d = deps();
        // The session the join and RPC cases name exists (fleet F1, one property already set).
        seed(&d, ARN_1, 8);
        let a = answer(&d, c.handler, c.ev.clone()).await;
        if a.status >= 500 {
            failures.push(format!("{}: 5xx {}", c.name, a.body));
            continue;
        }
        if a.status != c.status || a.field() != c.field {
            failures.push(format!(
                "{}: got {} field {:?}, expected {} field {:?}: {}",
                c.name,
                a.status,
                a.field(),
                c.status,
                c.field,
                a.body["error"]["message"]
            ));
        }
        if !d.gamelift.calls().is_empty() {
            failures.push(format!(
                "{}: reached GameLift: {:?}",
                c.name,
                d.gamelift.calls()
            ));
        }
        if a.content_type.as_deref() != Some("application/json")
            || a.body["error"]["code"].as_str().is_none()
        {
            failures.push(format!("{}: not a JSON error body", c.name));
        }
    }
    println!(
        "bad input: cases={} failures={}",
        cases.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

//! Size budgets hold by construction: no request the limits allow makes the store write an item over
//! `ITEM_BUDGET_BYTES` (360 KB, under DynamoDB's 400 KB) or a push over API Gateway's 128 KB. Items
//! are built with the DynamoDB store's own codec and measured by DynamoDB's rules
//! (`fleet_aws::dynamo::codec::item_size`); the DynamoDB Local tests in `limits` write the largest.

use fleet_aws::dynamo::codec;
use fleet_core::event::Fulfilled;
use fleet_core::ids::{GameSessionArn, PlacementId, Region};
use fleet_core::limits::{BODY_MAX_BYTES, ITEM_BUDGET_BYTES, PUSH_MAX_BYTES};
use fleet_core::model::{Placement, PlacementStatus, PlayerSession, Session};
use fleet_core::request::{CreateSession, UpdateInstanceInfo};
use fleet_core::rules::{self, ReportEffect, SessionState};
use fleet_core::time::Timestamp;
use fleet_functions::notifier::placement_message;
use proptest::prelude::*;
use serde_json::{Value, json};

const AT: Timestamp = Timestamp::from_millis(1_795_600_800_000);
const ARN: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31/gsess-0e4b7d2c-91a3-4f6e-b8d5-3c7a1e9f2b64";

/// A character of 1, 2, 3 or 4 UTF-8 bytes: the wider, the more bytes a character limit allows.
fn wide(class: u8) -> char {
    match class % 4 {
        0 => 'a',
        1 => 'é',
        2 => '€',
        _ => '😀',
    }
}

/// `n` characters of `class`, made unique by a numeric prefix when `tag` is given.
fn text(n: usize, class: u8, tag: Option<usize>) -> String {
    let mut s = tag.map(|t| format!("{t}-")).unwrap_or_default();
    let room = n.saturating_sub(s.chars().count());
    s.extend(std::iter::repeat_n(wide(class), room));
    s
}

/// What a generated create looks like before it becomes JSON.
#[derive(Debug, Clone)]
struct Shape {
    players: usize,
    id_len: usize,
    data_per_player: usize,
    latencies: usize,
    regions: usize,
    properties: usize,
    name_len: usize,
    data_len: usize,
    class: u8,
}

fn arb_shape() -> impl Strategy<Value = Shape> {
    (
        (0usize..=200, 1usize..=1024, 0usize..=2048, 0usize..=200),
        (
            0usize..=10,
            0usize..=16,
            0usize..=1024,
            0usize..=262_144,
            any::<u8>(),
        ),
    )
        .prop_map(
            |(
                (players, id_len, data_per_player, latencies),
                (regions, properties, name_len, data_len, class),
            )| Shape {
                players,
                id_len,
                data_per_player,
                latencies,
                regions,
                properties,
                name_len,
                data_len,
                class,
            },
        )
}

fn body_of(s: &Shape) -> Value {
    let ids: Vec<String> = (0..s.players)
        .map(|i| text(s.id_len.max(4), s.class, Some(i)))
        .collect();
    let players: Vec<Value> = ids
        .iter()
        .map(|id| {
            if s.data_per_player == 0 {
                json!({"playerId": id})
            } else {
                json!({"playerId": id, "playerData": text(s.data_per_player, s.class, None)})
            }
        })
        .collect();
    let region_names: Vec<String> = (0..s.regions).map(|i| format!("xx-region-{i}")).collect();
    let latencies: Vec<Value> = (0..s.latencies.min(ids.len() * region_names.len().max(1)))
        .filter_map(|i| {
            let player = ids.get(i % ids.len().max(1))?;
            let region = region_names
                .get(i / ids.len().max(1))
                .cloned()
                .unwrap_or_else(|| "us-east-1".into());
            Some(json!({"playerId": player, "region": region, "latencyMs": 60_000}))
        })
        .collect();
    let properties: serde_json::Map<String, Value> = (0..s.properties)
        .map(|i| {
            (
                text(32, s.class, Some(i)).replace('.', "-"),
                json!(text(96, s.class, None)),
            )
        })
        .collect();
    let mut body = json!({"maxPlayers": 200, "players": players, "properties": properties});
    if !latencies.is_empty() {
        body["latencies"] = json!(latencies);
    }
    // GameLift refuses `regions` (a priority override) together with player latencies, and so does the
    // API: the region names then only name the latencies' regions.
    if !region_names.is_empty() && latencies.is_empty() {
        body["regions"] = json!(region_names);
    }
    if s.name_len > 0 {
        body["name"] = json!(text(s.name_len, s.class, None));
    }
    if s.data_len > 0 {
        body["data"] = json!(text(s.data_len, s.class, None));
    }
    body
}

/// The largest body the shape gives within the 300 KB limit: data, then player data, then players
/// shrink until it fits.
fn fitted(mut s: Shape) -> (Shape, Vec<u8>) {
    loop {
        let bytes = body_of(&s).to_string().into_bytes();
        if bytes.len() <= BODY_MAX_BYTES {
            return (s, bytes);
        }
        let over = bytes.len() - BODY_MAX_BYTES;
        let width = wide(s.class).len_utf8();
        if s.data_len > 0 {
            s.data_len = s.data_len.saturating_sub(over / width + 1);
        } else if s.data_per_player > 0 {
            let per = over / (width * s.players.max(1)) + 1;
            s.data_per_player = s.data_per_player.saturating_sub(per);
        } else {
            s.players -= 1;
        }
    }
}

/// The placement a create makes (fleet-api's own), with the longest requester a player can have.
fn placement_of(create: CreateSession) -> Placement {
    let id = PlacementId::parse("0b6f4c51-3a2e-4b9d-8c7f-1e2d3c4b5a69").expect("id");
    Placement::pending(create, id, text(1024, 3, None), AT, AT.plus_secs(660))
}

fn fulfilled_of(p: &Placement) -> Fulfilled {
    Fulfilled {
        game_session_arn: GameSessionArn::parse(ARN).expect("arn"),
        ip_address: "203.0.113.45".into(),
        dns_name: "ec2-203-0-113-45.compute-1.amazonaws.com".into(),
        port: 7777,
        region: Region::parse("us-east-1").expect("region"),
        placed_player_sessions: p
            .players
            .iter()
            .enumerate()
            .map(|(i, pl)| PlayerSession {
                player_id: pl.player_id.clone(),
                player_session_id: format!("psess-{i:08}-aaaa-bbbb-cccc-dddddddddddd"),
            })
            .collect(),
    }
}

fn size(item: &codec::Item) -> usize {
    codec::item_size(item)
}

/// Every item and message a create of `body` leads to, checked against the budgets.
fn check_create(body: &[u8]) -> Result<(Placement, Session), TestCaseError> {
    let create = CreateSession::parse(body)
        .map_err(|e| TestCaseError::fail(format!("the generated body is not valid: {e}")))?;
    let mut p = placement_of(create);
    let created = size(&codec::placement_item(&p).expect("item"));
    prop_assert!(
        created <= ITEM_BUDGET_BYTES,
        "created placement: {created} bytes"
    );

    let f = fulfilled_of(&p);
    let session = rules::session_from_fulfilled(&p, &f, AT.plus_secs(2)).expect("session");
    p.status = PlacementStatus::Fulfilled;
    p.session_id = Some(session.id.clone());
    p.player_sessions = f.placed_player_sessions.clone();
    let finished = size(&codec::placement_item(&p).expect("item"));
    prop_assert!(
        finished <= ITEM_BUDGET_BYTES,
        "fulfilled placement: {finished} bytes"
    );
    let stored = size(&codec::session_item(&session, 1, Some(AT)).expect("item"));
    prop_assert!(stored <= ITEM_BUDGET_BYTES, "session: {stored} bytes");
    for user in [
        p.requester.clone(),
        p.players
            .first()
            .map(|x| x.player_id.as_str().to_owned())
            .unwrap_or_default(),
    ] {
        let msg = placement_message(&p, Some(&session), &user);
        prop_assert!(msg.len() <= PUSH_MAX_BYTES, "push: {} bytes", msg.len());
    }
    Ok((p, session))
}

/// A status report body of about `data` characters of `class`, a full name and 16 properties: the
/// session's own keys at the longest values when it has some (more than 16 would be refused once
/// merged), else keys of its own.
fn report_body(session: &Session, data: usize, class: u8) -> Vec<u8> {
    let existing: Vec<String> = serde_json::to_value(&session.properties)
        .ok()
        .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
        .unwrap_or_default();
    let keys: Vec<String> = if existing.is_empty() {
        (0..16)
            .map(|i| text(32, class, Some(100 + i)).replace('.', "-"))
            .collect()
    } else {
        existing
    };
    let props: serde_json::Map<String, Value> = keys
        .into_iter()
        .map(|k| (k, json!(text(96, class, None))))
        .collect();
    let mut data = data;
    loop {
        let body = json!({"id": ARN, "playerCount": 200, "metadata": {
            "GameSessionName": text(1024, class, None),
            "GameSessionData": text(data.max(1), class, None),
            "GameProperties": props,
        }})
        .to_string()
        .into_bytes();
        if body.len() <= BODY_MAX_BYTES {
            return body;
        }
        data -= (body.len() - BODY_MAX_BYTES) / wide(class).len_utf8() + 1;
    }
}

/// A report applied to the session, and kept as a pending report (twice, merged) before it.
fn check_report(session: &Session, body: &[u8]) -> Result<(), TestCaseError> {
    let info = UpdateInstanceInfo::parse(body)
        .map_err(|e| TestCaseError::fail(format!("the generated report is not valid: {e}")))?;
    let live = SessionState::Live {
        session: session.clone(),
        reported_at: None,
    };
    match rules::report(&live, None, &[], ARN, &info.report, AT.plus_secs(3), 0) {
        Ok(ReportEffect::Session(s, _)) => {
            let stored = size(&codec::session_item(&s, 2, Some(AT)).expect("item"));
            prop_assert!(
                stored <= ITEM_BUDGET_BYTES,
                "reported session: {stored} bytes"
            );
            let mut p = placement_of(CreateSession::parse(br#"{"maxPlayers":2}"#).expect("body"));
            p.status = PlacementStatus::Fulfilled;
            p.session_id = Some(s.id.clone());
            let msg = placement_message(&p, Some(&s), "anyone");
            prop_assert!(msg.len() <= PUSH_MAX_BYTES, "push: {} bytes", msg.len());
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "report not applied: {other:?}"
            )));
        }
    }
    let first = match rules::report(&SessionState::Missing, None, &[], ARN, &info.report, AT, 0) {
        Ok(ReportEffect::Pending(r)) => r,
        other => return Err(TestCaseError::fail(format!("not kept: {other:?}"))),
    };
    let merged = match rules::report(
        &SessionState::Missing,
        Some(&first),
        &[],
        ARN,
        &info.report,
        AT.plus_secs(1),
        0,
    ) {
        Ok(ReportEffect::Pending(r)) => r,
        Ok(ReportEffect::Duplicate) => first,
        other => return Err(TestCaseError::fail(format!("not merged: {other:?}"))),
    };
    let stored = size(&codec::report_item(&session.id, &merged, 2).expect("item"));
    prop_assert!(
        stored <= ITEM_BUDGET_BYTES,
        "pending report: {stored} bytes"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn no_valid_create_or_report_makes_an_item_over_the_budget_or_a_push_over_128_kb(
        shape in arb_shape(),
        report_data in 0usize..=262_144,
        report_class in any::<u8>(),
    ) {
        let (_, body) = fitted(shape);
        let (_, session) = check_create(&body)?;
        check_report(&session, &report_body(&session, report_data, report_class))?;
    }
}

#[test]
fn the_largest_creates_and_reports_each_field_at_its_limit_fit_their_budgets() {
    // Each shape fills the 300 KB body from another field, in the widest characters.
    let full = |players, id_len, data_per_player, data_len, class| Shape {
        players,
        id_len,
        data_per_player,
        latencies: 200,
        regions: 10,
        properties: 16,
        name_len: 1024,
        data_len,
        class,
    };
    for class in 0..4 {
        for shape in [
            full(200, 1024, 0, 0, class),
            full(200, 1024, 2048, 0, class),
            full(200, 40, 0, 262_144, class),
            full(0, 1, 0, 262_144, class),
        ] {
            let wanted = format!("{shape:?}");
            let (shape, body) = fitted(shape);
            // Either the body is full, or every field is at its own limit with room left.
            assert!(
                body.len() > BODY_MAX_BYTES - 25_000 || format!("{shape:?}") == wanted,
                "{shape:?} fills the body: {}",
                body.len()
            );
            let (_, session) = check_create(&body).unwrap_or_else(|e| panic!("{shape:?}: {e}"));
            check_report(&session, &report_body(&session, 262_144, class))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn a_push_whose_session_data_would_pass_128_kb_goes_out_without_it_and_says_so() {
    let (p, session) = check_create(
        &fitted(Shape {
            players: 1,
            id_len: 10,
            data_per_player: 0,
            latencies: 0,
            regions: 0,
            properties: 0,
            name_len: 0,
            data_len: 262_144,
            class: 0,
        })
        .1,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let msg: Value =
        serde_json::from_slice(&placement_message(&p, Some(&session), "x")).expect("json");
    assert_eq!(msg["sessionDataOmitted"], true);
    assert!(msg["session"].get("data").is_none() && msg["session"]["id"].is_string());
    // A small one keeps its data and no flag.
    let mut small = session.clone();
    small.data = Some("round=1".into());
    let msg: Value =
        serde_json::from_slice(&placement_message(&p, Some(&small), "x")).expect("json");
    assert_eq!(
        (
            msg["session"]["data"].clone(),
            msg.get("sessionDataOmitted")
        ),
        (json!("round=1"), None)
    );
}

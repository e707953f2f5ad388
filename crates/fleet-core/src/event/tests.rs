//! Tests of placement-event parsing: every shape × type, field errors, nulls, the fixture folder, and
//! property tests that no input makes the parser panic.

use std::collections::BTreeSet;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

const ARN: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-2f1e7a0c-5b6d-4f8e-9a3b-1c2d3e4f5a6b/gsess-7c9e6679-7425-40de-944b-e07fc1f90ae7";
const PID: &str = "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
const EVENT_ID: &str = "5d3c2b1a-0f9e-4d8c-b7a6-958473625140";
const MESSAGE_ID: &str = "95df01b4-ee98-5cb9-9903-4c221d41eb5e";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/placement");

fn fulfilled_detail() -> Value {
    json!({
        "type": "PlacementFulfilled",
        "placementId": PID,
        "port": "7777",
        "gameSessionArn": ARN,
        "ipAddress": "203.0.113.17",
        "dnsName": "ec2-203-0-113-17.compute-1.amazonaws.com",
        "startTime": "2026-11-25T10:00:00.118Z",
        "endTime": "2026-11-25T10:00:01.472Z",
        "gameSessionRegion": "us-east-1",
        "placedPlayerSessions": [
            {"playerId": "player-6f1d2a", "playerSessionId": "psess-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
            {"playerId": "player-9b3e4c", "playerSessionId": "psess-5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a"}
        ]
    })
}

fn detail_of(event_type: &str) -> Value {
    match event_type {
        TYPE_FULFILLED => fulfilled_detail(),
        TYPE_FAILED => json!({
            "type": event_type, "placementId": PID,
            "startTime": "2026-11-25T10:00:00Z", "endTime": "2026-11-25T10:00:09Z",
            "errorCode": "InternalServiceException", "errorMessage": "An internal service error occurred."
        }),
        _ => json!({
            "type": event_type, "placementId": PID,
            "startTime": "2026-11-25T10:00:00Z", "endTime": "2026-11-25T10:10:00Z"
        }),
    }
}

fn eventbridge(detail: Value) -> Value {
    json!({
        "version": "0",
        "id": EVENT_ID,
        "detail-type": "GameLift Queue Placement Event",
        "source": "aws.gamelift",
        "account": "123456789012",
        "time": "2026-11-25T10:00:02Z",
        "region": "us-east-1",
        "resources": ["arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"],
        "detail": detail
    })
}

/// An SNS notification whose `Message` is `message` as is (a string, or any value to test bad ones).
fn sns(message: Value) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": MESSAGE_ID,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placement-events",
        "Message": message,
        "Timestamp": "2026-11-25T10:00:03.250Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
    })
}

/// An SNS notification carrying `event` as a JSON string.
fn sns_of(event: &Value) -> Value {
    sns(Value::String(event.to_string()))
}

/// A detail in each of the ways it can arrive, with the shape each must report.
fn every_shape(detail: &Value) -> Vec<(Shape, Value)> {
    vec![
        (Shape::Detail, detail.clone()),
        (Shape::EventBridge, eventbridge(detail.clone())),
        (Shape::SnsEnvelope, sns_of(&eventbridge(detail.clone()))),
        (Shape::SnsEnvelope, sns_of(detail)),
    ]
}

fn parse(v: &Value) -> Result<PlacementEvent, EventError> {
    parse_message(&v.to_string())
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.insert(key.to_owned(), value);
    }
    v
}

fn without(mut v: Value, key: &str) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.remove(key);
    }
    v
}

fn fulfilled(e: &PlacementEvent) -> &Fulfilled {
    match &e.kind {
        EventKind::Fulfilled(f) => f,
        other => panic!("expected a fulfilled event, got {other:?}"),
    }
}

/// Asserts that `detail` fails the same way in every shape and returns the error.
fn fails_in_every_shape(detail: &Value) -> EventError {
    let errors: Vec<EventError> = every_shape(detail)
        .into_iter()
        .map(|(shape, body)| parse(&body).expect_err(&format!("{shape:?} should fail: {body}")))
        .collect();
    for e in &errors[1..] {
        assert_eq!(e, &errors[0]);
    }
    errors[0].clone()
}

fn field_error_in_every_shape(detail: &Value) -> String {
    let e = fails_in_every_shape(detail);
    e.field()
        .unwrap_or_else(|| panic!("no field in {e:?}"))
        .to_owned()
}

// ---- shapes × types ------------------------------------------------------------------------------

#[test]
fn every_type_parses_the_same_in_every_shape() {
    let types = [
        TYPE_FULFILLED,
        TYPE_TIMED_OUT,
        TYPE_CANCELLED,
        TYPE_FAILED,
        "PlacementQueued",
    ];
    let statuses = [
        Some(PlacementStatus::Fulfilled),
        Some(PlacementStatus::TimedOut),
        Some(PlacementStatus::Cancelled),
        Some(PlacementStatus::Failed),
        None,
    ];
    for (t, status) in types.into_iter().zip(statuses) {
        let detail = detail_of(t);
        let mut kinds = Vec::new();
        for (shape, body) in every_shape(&detail) {
            let e = parse(&body).unwrap_or_else(|err| panic!("{t} as {shape:?}: {err}"));
            assert_eq!(e.shape, shape, "{t}");
            assert_eq!(e.placement_id.as_str(), PID);
            assert_eq!(e.kind.type_name(), t);
            assert_eq!(e.kind.status(), status, "{t}");
            let start = detail["startTime"]
                .as_str()
                .map(|s| Timestamp::parse_rfc3339("t", s).unwrap());
            assert_eq!(e.start_time, start);
            kinds.push(e.kind);
        }
        assert!(kinds.windows(2).all(|w| w[0] == w[1]), "{t}: {kinds:?}");
    }
}

#[test]
fn a_fulfilled_event_carries_everything_needed_to_build_the_session() {
    let e = parse(&sns_of(&eventbridge(fulfilled_detail()))).unwrap();
    let f = fulfilled(&e);
    assert_eq!(f.game_session_arn.as_str(), ARN);
    assert_eq!(
        f.game_session_arn.fleet_id(),
        "fleet-2f1e7a0c-5b6d-4f8e-9a3b-1c2d3e4f5a6b"
    );
    assert_eq!(f.ip_address, "203.0.113.17");
    assert_eq!(f.dns_name, "ec2-203-0-113-17.compute-1.amazonaws.com");
    assert_eq!(f.port, 7777);
    assert_eq!(f.region.as_str(), "us-east-1");
    let players: Vec<(&str, &str)> = f
        .placed_player_sessions
        .iter()
        .map(|p| (p.player_id.as_str(), p.player_session_id.as_str()))
        .collect();
    assert_eq!(
        players,
        [
            (
                "player-6f1d2a",
                "psess-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
            ),
            (
                "player-9b3e4c",
                "psess-5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a"
            )
        ]
    );
    assert_eq!(
        e.end_time.map(Timestamp::to_rfc3339).as_deref(),
        Some("2026-11-25T10:00:01.472Z")
    );
}

#[test]
fn a_failed_event_keeps_gamelifts_error_code_and_message_when_given() {
    let e = parse(&eventbridge(detail_of(TYPE_FAILED))).unwrap();
    assert_eq!(
        e.kind,
        EventKind::Failed {
            error_code: Some("InternalServiceException".into()),
            error_message: Some("An internal service error occurred.".into())
        }
    );
    let bare = without(without(detail_of(TYPE_FAILED), "errorCode"), "errorMessage");
    let e = parse(&eventbridge(bare)).unwrap();
    assert_eq!(
        e.kind,
        EventKind::Failed {
            error_code: None,
            error_message: None
        }
    );
}

#[test]
fn fulfilled_without_players_dns_name_or_region_still_parses() {
    let d = without(
        without(
            without(fulfilled_detail(), "placedPlayerSessions"),
            "dnsName",
        ),
        "gameSessionRegion",
    );
    let e = parse(&eventbridge(d)).unwrap();
    let f = fulfilled(&e);
    assert!(f.placed_player_sessions.is_empty());
    assert_eq!(f.dns_name, "");
    assert_eq!(
        f.region.as_str(),
        "us-east-1",
        "falls back to the ARN's region"
    );
    let e = parse(&eventbridge(with(
        fulfilled_detail(),
        "placedPlayerSessions",
        json!([]),
    )))
    .unwrap();
    assert!(fulfilled(&e).placed_player_sessions.is_empty());
}

#[test]
fn the_region_is_game_session_region_first_then_the_arns() {
    let remote = "arn:aws:gamelift:us-west-2::gamesession/fleet-9/sa-east-1/gsess-1";
    let d = with(
        with(fulfilled_detail(), "gameSessionArn", json!(remote)),
        "gameSessionRegion",
        json!("sa-east-1"),
    );
    assert_eq!(
        fulfilled(&parse(&eventbridge(d.clone())).unwrap())
            .region
            .as_str(),
        "sa-east-1"
    );
    let d = without(d, "gameSessionRegion");
    assert_eq!(
        fulfilled(&parse(&eventbridge(d)).unwrap()).region.as_str(),
        "us-west-2"
    );
}

// ---- port ------------------------------------------------------------------------------------------

#[test]
fn the_port_is_read_from_a_string_and_from_a_number() {
    for (port, want) in [
        (json!("7777"), 7777),
        (json!(7777), 7777),
        (json!("1"), 1),
        (json!(65535), 65535),
        (json!("07777"), 7777),
    ] {
        let d = with(fulfilled_detail(), "port", port.clone());
        if want == 0 {
            assert_eq!(field_error_in_every_shape(&d), "detail.port", "{port}");
            continue;
        }
        for (_, body) in every_shape(&d) {
            assert_eq!(fulfilled(&parse(&body).unwrap()).port, want, "{port}");
        }
    }
}

#[test]
fn a_port_outside_1_to_65535_or_not_a_number_names_detail_port() {
    for bad in [
        json!("0"),
        json!("65536"),
        json!("99999999999999999999"),
        json!(""),
        json!(" 7777"),
        json!("+7777"),
        json!("-1"),
        json!("7777.0"),
        json!("٧٧٧٧"),
        json!("seven"),
        json!(0),
        json!(-7777),
        json!(65536),
        json!(7777.5),
        json!(1e300),
        json!(true),
        json!(null),
        json!([7777]),
        json!({"port": 7777}),
    ] {
        let d = with(fulfilled_detail(), "port", bad.clone());
        let e = fails_in_every_shape(&d);
        assert!(matches!(e, EventError::InvalidField(_)), "{bad}: {e:?}");
        assert_eq!(e.field(), Some("detail.port"), "{bad}");
    }
    let e = fails_in_every_shape(&without(fulfilled_detail(), "port"));
    assert_eq!(
        e,
        EventError::MissingField {
            field: "detail.port".into()
        }
    );
}

// ---- missing, invalid and null fields -------------------------------------------------------------

#[test]
fn missing_required_fields_are_named() {
    for key in ["placementId", "gameSessionArn", "ipAddress", "port"] {
        let e = fails_in_every_shape(&without(fulfilled_detail(), key));
        assert_eq!(
            e,
            EventError::MissingField {
                field: format!("detail.{key}")
            }
        );
    }
    let e = parse(&eventbridge(without(detail_of(TYPE_CANCELLED), "type"))).unwrap_err();
    assert_eq!(
        e,
        EventError::MissingField {
            field: "detail.type".into()
        }
    );
    let d = json!({"placementId": PID});
    assert_eq!(fails_in_every_shape(&d).field(), Some("detail.type"));
    let e = parse(&without(sns(json!("{}")), "Message")).unwrap_err();
    assert_eq!(
        e,
        EventError::MissingField {
            field: "Message".into()
        }
    );
}

#[test]
fn invalid_fields_are_named() {
    let cases = [
        ("placementId", json!("has_underscore"), "detail.placementId"),
        ("placementId", json!("x".repeat(49)), "detail.placementId"),
        ("placementId", json!(""), "detail.placementId"),
        (
            "gameSessionArn",
            json!("arn:aws:s3:::bucket"),
            "detail.gameSessionArn",
        ),
        ("gameSessionArn", json!(""), "detail.gameSessionArn"),
        ("ipAddress", json!("not-an-ip"), "detail.ipAddress"),
        ("ipAddress", json!(""), "detail.ipAddress"),
        ("dnsName", json!("two words"), "detail.dnsName"),
        ("startTime", json!("yesterday"), "detail.startTime"),
        ("endTime", json!("2026-13-45T99:00:00Z"), "detail.endTime"),
        (
            "gameSessionRegion",
            json!("US_EAST"),
            "detail.gameSessionRegion",
        ),
        (
            "placedPlayerSessions",
            json!("psess-1"),
            "detail.placedPlayerSessions",
        ),
        (
            "placedPlayerSessions",
            json!([5]),
            "detail.placedPlayerSessions[0]",
        ),
        (
            "placedPlayerSessions",
            json!([{"playerId": "p"}]),
            "detail.placedPlayerSessions[0].playerSessionId",
        ),
        (
            "placedPlayerSessions",
            json!([{"playerSessionId": "psess-1"}]),
            "detail.placedPlayerSessions[0].playerId",
        ),
        (
            "placedPlayerSessions",
            json!([{"playerId": "p", "playerSessionId": "psess-1"}, {"playerId": "", "playerSessionId": "psess-2"}]),
            "detail.placedPlayerSessions[1].playerId",
        ),
        (
            "placedPlayerSessions",
            json!([{"playerId": "p", "playerSessionId": ""}]),
            "detail.placedPlayerSessions[0].playerSessionId",
        ),
    ];
    for (key, value, field) in cases {
        let d = with(fulfilled_detail(), key, value.clone());
        assert_eq!(field_error_in_every_shape(&d), field, "{key} = {value}");
    }
}

#[test]
fn envelope_fields_of_the_wrong_type_are_named() {
    let cases = [
        (
            with(
                eventbridge(detail_of(TYPE_CANCELLED)),
                "time",
                json!("soon"),
            ),
            "time",
        ),
        (
            with(eventbridge(detail_of(TYPE_CANCELLED)), "id", json!(42)),
            "id",
        ),
        (
            with(
                eventbridge(detail_of(TYPE_CANCELLED)),
                "detail",
                json!(null),
            ),
            "detail",
        ),
        (
            with(
                eventbridge(detail_of(TYPE_CANCELLED)),
                "detail",
                json!("{}"),
            ),
            "detail",
        ),
        (
            with(eventbridge(detail_of(TYPE_CANCELLED)), "detail", json!([])),
            "detail",
        ),
        (
            with(
                sns_of(&detail_of(TYPE_CANCELLED)),
                "Timestamp",
                json!("later"),
            ),
            "Timestamp",
        ),
        (
            with(sns_of(&detail_of(TYPE_CANCELLED)), "MessageId", json!(7)),
            "MessageId",
        ),
        (
            with(sns_of(&detail_of(TYPE_CANCELLED)), "Type", json!(false)),
            "Type",
        ),
    ];
    for (body, field) in cases {
        let e = parse(&body).unwrap_err();
        assert!(matches!(e, EventError::InvalidField(_)), "{body}: {e:?}");
        assert_eq!(e.field(), Some(field), "{body}");
    }
}

#[test]
fn a_null_required_field_is_invalid_and_names_the_field() {
    for key in ["type", "placementId", "gameSessionArn", "ipAddress", "port"] {
        let e = fails_in_every_shape(&with(fulfilled_detail(), key, Value::Null));
        assert!(matches!(e, EventError::InvalidField(_)), "{key}: {e:?}");
        assert_eq!(e.field(), Some(format!("detail.{key}").as_str()));
        assert!(e.to_string().contains("null"), "{e}");
    }
    let d = json!({"placementId": PID, "playerId": null, "type": null});
    assert_eq!(fails_in_every_shape(&d).field(), Some("detail.type"));
}

#[test]
fn a_null_optional_field_counts_as_absent() {
    let mut d = fulfilled_detail();
    for key in [
        "dnsName",
        "gameSessionRegion",
        "placedPlayerSessions",
        "startTime",
        "endTime",
    ] {
        d = with(d, key, Value::Null);
    }
    for (_, body) in every_shape(&d) {
        let e = parse(&body).unwrap();
        assert_eq!((e.start_time, e.end_time), (None, None));
        let f = fulfilled(&e);
        assert_eq!((f.dns_name.as_str(), f.region.as_str()), ("", "us-east-1"));
        assert!(f.placed_player_sessions.is_empty());
    }
    let d = with(
        with(detail_of(TYPE_FAILED), "errorCode", Value::Null),
        "errorMessage",
        Value::Null,
    );
    assert_eq!(
        parse(&d).unwrap().kind,
        EventKind::Failed {
            error_code: None,
            error_message: None
        }
    );
    let body = with(
        with(eventbridge(detail_of(TYPE_CANCELLED)), "id", Value::Null),
        "time",
        Value::Null,
    );
    let e = parse(&body).unwrap();
    assert_eq!((e.event_id, e.event_time), (None, None));
}

#[test]
fn a_non_string_where_a_string_is_expected_is_invalid() {
    for (key, value) in [
        ("type", json!(1)),
        ("placementId", json!(12345)),
        ("placementId", json!({"id": PID})),
        ("gameSessionArn", json!([ARN])),
        ("ipAddress", json!(3405803793u32)),
        ("dnsName", json!(true)),
        ("startTime", json!(1764064800)),
        ("gameSessionRegion", json!({})),
        (
            "placedPlayerSessions",
            json!([{"playerId": 1, "playerSessionId": "psess-1"}]),
        ),
        (
            "placedPlayerSessions",
            json!([{"playerId": "p", "playerSessionId": ["psess-1"]}]),
        ),
    ] {
        let d = with(fulfilled_detail(), key, value.clone());
        let e = parse(&eventbridge(d)).unwrap_err();
        assert!(
            matches!(e, EventError::InvalidField(_)),
            "{key} = {value}: {e:?}"
        );
        assert!(
            e.field()
                .is_some_and(|f| f.starts_with(&format!("detail.{key}"))),
            "{key}: {e:?}"
        );
    }
    let d = with(detail_of(TYPE_FAILED), "errorCode", json!(500));
    assert_eq!(parse(&d).unwrap_err().field(), Some("detail.errorCode"));
}

// ---- SNS Message ------------------------------------------------------------------------------------

#[test]
fn an_sns_message_that_is_null_or_not_a_string_is_an_invalid_message_field() {
    for message in [
        json!(null),
        json!(5),
        json!(true),
        json!([]),
        eventbridge(detail_of(TYPE_CANCELLED)),
    ] {
        let e = parse(&sns(message.clone())).unwrap_err();
        assert!(matches!(e, EventError::InvalidField(_)), "{message}: {e:?}");
        assert_eq!(e.field(), Some("Message"));
    }
}

#[test]
fn an_sns_message_string_that_is_not_a_json_object_is_a_typed_error() {
    let e = parse(&sns(json!("not json {"))).unwrap_err();
    assert!(
        matches!(&e, EventError::NotJson(why) if why.starts_with("Message:")),
        "{e:?}"
    );
    for text in ["null", "[]", "42", "\"PlacementFulfilled\"", "true"] {
        assert_eq!(
            parse(&sns(json!(text))).unwrap_err(),
            EventError::NotAnObject,
            "{text}"
        );
    }
    for text in ["", "   \n"] {
        assert_eq!(
            parse(&sns(json!(text))).unwrap_err(),
            EventError::EmptyMessage,
            "{text:?}"
        );
    }
    let e = parse(&sns(json!("{}"))).unwrap_err();
    assert!(matches!(e, EventError::NotAnEvent(_)), "{e:?}");
    let nested = sns_of(&sns_of(&eventbridge(detail_of(TYPE_CANCELLED))));
    assert!(matches!(
        parse(&nested).unwrap_err(),
        EventError::NotAnEvent(_)
    ));
}

#[test]
fn an_sns_message_that_is_not_a_notification_is_not_an_event() {
    let body = with(sns(json!("{}")), "Type", json!("SubscriptionConfirmation"));
    let e = parse(&body).unwrap_err();
    assert!(
        matches!(&e, EventError::NotAnEvent(why) if why.contains("SubscriptionConfirmation")),
        "{e:?}"
    );
}

// ---- bodies that are not events ----------------------------------------------------------------------

#[test]
fn bodies_that_are_not_json_objects_are_typed_errors() {
    for (body, code) in [
        ("", "empty_message"),
        (" \n\t", "empty_message"),
        ("nope", "not_json"),
        ("{", "not_json"),
        ("{\"type\":\"PlacementFulfilled\",}", "not_json"),
        ("{} {}", "not_json"),
        ("\u{feff}{}", "not_json"),
        ("null", "not_an_object"),
        ("[]", "not_an_object"),
        ("42", "not_an_object"),
        ("\"{}\"", "not_an_object"),
    ] {
        let e = parse_message(body).unwrap_err();
        assert_eq!(e.code(), code, "{body:?}: {e:?}");
        assert_eq!(e.field(), None);
    }
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    for depth in [200, 100_000] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(parse_message(&body).unwrap_err().code(), "not_json");
        let body = format!(
            "{{\"detail\":{}{}}}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth + 1)
        );
        assert!(parse_message(&body).is_err());
    }
}

#[test]
fn objects_without_a_recognisable_shape_are_not_events() {
    for body in [
        json!({}),
        json!({"hello": "world"}),
        eventbridge(json!({})),
        eventbridge(json!({"port": "7777"})),
    ] {
        let e = parse(&body).unwrap_err();
        assert!(matches!(e, EventError::NotAnEvent(_)), "{body}: {e:?}");
    }
}

#[test]
fn an_unknown_type_with_a_placement_id_is_acknowledged_as_unknown() {
    for t in ["PlacementQueued", "PlacementSomethingNew", ""] {
        for (shape, body) in every_shape(&detail_of(t)) {
            let e = parse(&body).unwrap();
            assert_eq!(
                e.kind,
                EventKind::Unknown {
                    event_type: t.into()
                },
                "{shape:?}"
            );
            assert_eq!((e.kind.status(), e.kind.type_name()), (None, t));
        }
    }
    // An unknown type reads no type-specific field, so odd extra fields do not matter.
    let d = with(
        detail_of("PlacementQueued"),
        "port",
        json!({"weird": [null]}),
    );
    assert!(matches!(parse(&d).unwrap().kind, EventKind::Unknown { .. }));
}

#[test]
fn an_unknown_type_without_a_placement_id_is_not_an_event_but_a_known_one_is_missing_it() {
    let d = json!({"type": "MatchmakingSucceeded", "tickets": []});
    for (_, body) in every_shape(&d) {
        assert!(
            matches!(parse(&body).unwrap_err(), EventError::NotAnEvent(_)),
            "{body}"
        );
    }
    for t in [TYPE_FULFILLED, TYPE_TIMED_OUT, TYPE_CANCELLED, TYPE_FAILED] {
        let e = fails_in_every_shape(&without(detail_of(t), "placementId"));
        assert_eq!(
            e,
            EventError::MissingField {
                field: "detail.placementId".into()
            },
            "{t}"
        );
    }
}

#[test]
fn a_body_over_the_sqs_limit_is_refused_unread() {
    let event = eventbridge(detail_of(TYPE_CANCELLED)).to_string();
    let padded = format!("{event}{}", " ".repeat(MESSAGE_MAX_BYTES - event.len()));
    assert_eq!(padded.len(), MESSAGE_MAX_BYTES);
    assert!(
        parse_message(&padded).is_ok(),
        "exactly at the limit is fine"
    );
    let over = format!("{padded} ");
    let e = parse_message(&over).unwrap_err();
    assert_eq!(
        e,
        EventError::TooLarge {
            bytes: MESSAGE_MAX_BYTES + 1,
            max: MESSAGE_MAX_BYTES
        }
    );
    assert_eq!(e.code(), "too_large");
}

// ---- ids and times -----------------------------------------------------------------------------------

#[test]
fn the_event_id_is_the_eventbridge_id_else_the_sns_message_id() {
    assert_eq!(
        parse(&eventbridge(detail_of(TYPE_CANCELLED)))
            .unwrap()
            .event_id
            .as_deref(),
        Some(EVENT_ID)
    );
    assert_eq!(
        parse(&sns_of(&eventbridge(detail_of(TYPE_CANCELLED))))
            .unwrap()
            .event_id
            .as_deref(),
        Some(EVENT_ID)
    );
    assert_eq!(
        parse(&sns_of(&detail_of(TYPE_CANCELLED)))
            .unwrap()
            .event_id
            .as_deref(),
        Some(MESSAGE_ID)
    );
    assert_eq!(parse(&detail_of(TYPE_CANCELLED)).unwrap().event_id, None);
}

#[test]
fn occurred_at_is_end_time_else_the_event_time_else_the_sns_timestamp() {
    let ts = |s: &str| Timestamp::parse_rfc3339("t", s).ok();
    let no_end = without(detail_of(TYPE_TIMED_OUT), "endTime");
    assert_eq!(
        parse(&eventbridge(detail_of(TYPE_TIMED_OUT)))
            .unwrap()
            .occurred_at(),
        ts("2026-11-25T10:10:00Z")
    );
    assert_eq!(
        parse(&eventbridge(no_end.clone())).unwrap().occurred_at(),
        ts("2026-11-25T10:00:02Z")
    );
    assert_eq!(
        parse(&sns_of(&eventbridge(no_end.clone())))
            .unwrap()
            .occurred_at(),
        ts("2026-11-25T10:00:02Z")
    );
    assert_eq!(
        parse(&sns_of(&no_end)).unwrap().occurred_at(),
        ts("2026-11-25T10:00:03.250Z")
    );
    assert_eq!(parse(&no_end).unwrap().occurred_at(), None);
}

#[test]
fn times_in_any_offset_and_precision_are_normalised_to_utc_milliseconds() {
    let d = with(
        with(
            detail_of(TYPE_CANCELLED),
            "startTime",
            json!("2026-11-25T11:00:00.123456789+01:00"),
        ),
        "endTime",
        json!("2026-11-25T05:00:01-05:00"),
    );
    let e = parse(&d).unwrap();
    assert_eq!(
        e.start_time.map(Timestamp::to_rfc3339).as_deref(),
        Some("2026-11-25T10:00:00.123Z")
    );
    assert_eq!(
        e.end_time.map(Timestamp::to_rfc3339).as_deref(),
        Some("2026-11-25T10:00:01.000Z")
    );
}

#[test]
fn unknown_fields_anywhere_are_ignored() {
    let d = with(
        fulfilled_detail(),
        "matchmakerData",
        json!({"matchId": "m-1", "teams": [{"players": []}]}),
    );
    let body = with(eventbridge(d), "replay-name", json!("r"));
    let body = with(
        sns_of(&body),
        "MessageAttributes",
        json!({"k": {"Type": "String", "Value": "v"}}),
    );
    assert_eq!(fulfilled(&parse(&body).unwrap()).port, 7777);
}

#[test]
fn error_messages_quote_input_briefly() {
    let huge = "X".repeat(100_000);
    let e = parse(&json!({"type": huge})).unwrap_err();
    assert!(matches!(e, EventError::NotAnEvent(_)));
    assert!(e.to_string().len() < 200, "{}", e.to_string().len());
    let e = parse(&eventbridge(with(fulfilled_detail(), "port", json!(huge)))).unwrap_err();
    assert!(e.to_string().len() < 200, "{}", e.to_string().len());
}

// ---- the fixture folder ------------------------------------------------------------------------------

/// What each fixture must parse to: a shape and a `detail.type`. Each envelope carries every type;
/// a bare detail only the fulfilled one.
fn fixture_expectations() -> Vec<(String, Shape, &'static str)> {
    let types = [
        ("fulfilled", TYPE_FULFILLED),
        ("timed-out", TYPE_TIMED_OUT),
        ("cancelled", TYPE_CANCELLED),
        ("failed", TYPE_FAILED),
        ("unknown-type", "PlacementQueued"),
    ];
    let envelopes = [
        ("sns", Shape::SnsEnvelope),
        ("raw", Shape::EventBridge),
        ("eventbridge", Shape::EventBridge),
    ];
    let mut all: Vec<_> = envelopes
        .into_iter()
        .flat_map(|(envelope, shape)| {
            types.map(|(suffix, event_type)| {
                (format!("{envelope}-{suffix}.json"), shape, event_type)
            })
        })
        .collect();
    all.push((
        "detail-fulfilled.json".to_owned(),
        Shape::Detail,
        TYPE_FULFILLED,
    ));
    all
}

/// What a poison fixture must fail with: an error code and the field it names.
const POISON_EXPECTATIONS: &[(&str, &str, Option<&str>)] = &[
    ("not-json.txt", "not_json", None),
    ("null-message.json", "invalid_field", Some("Message")),
    (
        "no-placement-id.json",
        "missing_field",
        Some("detail.placementId"),
    ),
    (
        "port-not-a-number.json",
        "invalid_field",
        Some("detail.port"),
    ),
];

/// The files (not folders) in `dir`, by name.
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.file_type().unwrap().is_file())
        .map(|entry| entry.file_name().into_string().unwrap())
        .collect()
}

/// Every file in `dir` has an expectation here, and every expectation a file.
fn assert_files_are<'a>(dir: &Path, expected: impl Iterator<Item = &'a str>) {
    let expected: BTreeSet<String> = expected.map(str::to_owned).collect();
    assert_eq!(
        files_in(dir),
        expected,
        "every fixture in {} needs an expectation here, and every expectation a file",
        dir.display()
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_fixture_parses_to_its_expected_shape_and_type() {
    let dir = Path::new(FIXTURES);
    let expectations = fixture_expectations();
    assert_files_are(dir, expectations.iter().map(|(f, ..)| f.as_str()));
    let mut placement_ids = BTreeSet::new();
    for (file, shape, event_type) in &expectations {
        let body = read(&dir.join(file));
        serde_json::from_str::<Value>(&body)
            .unwrap_or_else(|e| panic!("{file} is not valid JSON: {e}"));
        let e = parse_message(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(
            (e.shape, e.kind.type_name()),
            (*shape, *event_type),
            "{file}"
        );
        assert!(
            e.start_time.is_some() && e.occurred_at().is_some(),
            "{file}"
        );
        assert!(
            placement_ids.insert(e.placement_id.into_string()),
            "{file} reuses a placement id"
        );
        if e.shape != Shape::Detail {
            assert!(e.event_id.is_some(), "{file}");
        }
        if let EventKind::Fulfilled(f) = &e.kind {
            assert_eq!((f.port, f.region.as_str()), (7777, "us-east-1"), "{file}");
            assert!(
                f.game_session_arn.fleet_id().starts_with("fleet-"),
                "{file}"
            );
        }
    }
}

#[test]
fn every_poison_fixture_fails_with_its_expected_error() {
    let dir = Path::new(FIXTURES).join("poison");
    assert_files_are(&dir, POISON_EXPECTATIONS.iter().map(|(f, ..)| *f));
    for (file, code, field) in POISON_EXPECTATIONS {
        let e = parse_message(&read(&dir.join(file))).expect_err(file);
        assert_eq!((e.code(), e.field()), (*code, *field), "{file}: {e}");
    }
}

// ---- no input makes it panic ---------------------------------------------------------------------------

/// Keys the parser looks at, so random objects often hit real code paths.
const KEYS: &[&str] = &[
    "type",
    "placementId",
    "port",
    "gameSessionArn",
    "ipAddress",
    "dnsName",
    "gameSessionRegion",
    "placedPlayerSessions",
    "playerId",
    "playerSessionId",
    "startTime",
    "endTime",
    "errorCode",
    "errorMessage",
    "detail",
    "id",
    "time",
    "Type",
    "Message",
    "MessageId",
    "Timestamp",
    "TopicArn",
];

/// Detail types the field-mutation property starts from.
const EVENT_TYPES: &[&str] = &[
    TYPE_FULFILLED,
    TYPE_FAILED,
    TYPE_CANCELLED,
    "PlacementQueued",
];

fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(TYPE_FULFILLED.to_owned()),
        Just(TYPE_TIMED_OUT.to_owned()),
        Just(TYPE_CANCELLED.to_owned()),
        Just(TYPE_FAILED.to_owned()),
        Just("Notification".to_owned()),
        Just(PID.to_owned()),
        Just(ARN.to_owned()),
        Just("203.0.113.17".to_owned()),
        Just("7777".to_owned()),
        Just("2026-11-25T10:00:00Z".to_owned()),
        Just("null".to_owned()),
        Just(String::new()),
        "[0-9]{0,7}",
        "[a-z-]{0,12}",
        any::<String>(),
    ]
}

/// The JSON scalars every parser's property tests start from: null, booleans and integers of any
/// size, each equally likely. Weight it 4 among other leaves to keep each of these as likely as they.
pub(crate) fn json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => json_scalar(),
        1 => any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        1 => arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![3 => proptest::sample::select(KEYS).prop_map(str::to_owned), 1 => any::<String>()];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..7).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Checks what any `Ok` must satisfy.
fn check_ok(e: &PlacementEvent) {
    assert_eq!(
        e.kind.status().is_none(),
        matches!(e.kind, EventKind::Unknown { .. })
    );
    if let EventKind::Fulfilled(f) = &e.kind {
        assert_ne!(f.port, 0);
    }
}

fn check(body: &str) {
    match parse_message(body) {
        Ok(e) => check_ok(&e),
        Err(e) => {
            let _ = (e.to_string(), e.field(), e.code());
        }
    }
}

proptest! {
    #[test]
    fn no_string_makes_the_parser_panic(body in any::<String>()) {
        check(&body);
    }

    #[test]
    fn no_json_value_makes_the_parser_panic(v in arb_json()) {
        check(&v.to_string());
        check(&sns(v.clone()).to_string());
        check(&sns(Value::String(v.to_string())).to_string());
        check(&eventbridge(v.clone()).to_string());
        check(&sns_of(&eventbridge(v)).to_string());
    }

    #[test]
    fn any_value_in_any_field_of_a_real_event_is_read_or_refused_cleanly(
        key in proptest::sample::select(KEYS),
        v in arb_json(),
        event_type in proptest::sample::select(EVENT_TYPES),
    ) {
        let d = with(detail_of(event_type), key, v);
        let results: Vec<_> = [eventbridge(d.clone()), sns_of(&eventbridge(d.clone()))]
            .iter()
            .map(parse)
            .collect();
        for e in results.iter().flatten() {
            check_ok(e);
        }
        // Raw and SNS-wrapped copies of the same event agree on everything but how they arrived.
        match (&results[0], &results[1]) {
            (Ok(a), Ok(b)) => {
                prop_assert_eq!(&a.kind, &b.kind);
                prop_assert_eq!(&a.placement_id, &b.placement_id);
                prop_assert_eq!((a.start_time, a.end_time), (b.start_time, b.end_time));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "shapes disagree: {:?} vs {:?}", a, b),
        }
        check(&d.to_string());
        check(&sns_of(&d).to_string());
    }

    #[test]
    fn any_text_as_an_sns_message_is_read_or_refused_cleanly(text in any::<String>()) {
        check(&sns(Value::String(text)).to_string());
    }
}

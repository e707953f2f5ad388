//! fleet-api's routing of the greedy session routes, with events shaped as API Gateway sends them:
//! `routeKey` the greedy route, `rawPath` and `pathParameters.id` decoded (an ARN with its `/`s, and
//! for a join the trailing `/join`), and events that name no route of ours matched on their decoded
//! path instead.

use fleet_core::ids::GameSessionArn;
use serde_json::{Value, json};

use crate::support_cases::*;
use crate::support_http::*;

/// The event API Gateway sends for `method /v1/sessions/{id}` matched to the greedy route of
/// `method`, with `id` the decoded value of the greedy variable.
fn greedy(method: &str, id: &str, who: Who, body: Option<String>) -> Value {
    let route_key = format!("{method} /v1/sessions/{{id+}}");
    let path = format!("/v1/sessions/{id}");
    let mut ev = Ev::new(method, &path).by(who);
    if let Some(b) = body {
        ev = ev.body(b);
    }
    let mut e = ev.to_json();
    e["routeKey"] = json!(route_key);
    e["requestContext"]["routeKey"] = json!(route_key);
    e["pathParameters"] = json!({"id": id});
    e
}

/// fleet-api's answer to an event given as JSON.
async fn send(d: &TestDeps, event: &Value) -> Answer {
    api(d, to_request(&event.to_string())).await
}

/// Asserts `a` is session `id` (`what` says which request it answers).
#[track_caller]
fn assert_is_session(a: &Answer, id: &str, what: &str) {
    assert_eq!(
        (a.status, a.body["id"].as_str()),
        (200, Some(id)),
        "{what}: {}",
        a.body
    );
}

#[tokio::test]
async fn a_decoded_arn_with_slashes_reaches_get_join_and_delete_through_the_greedy_routes() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let id = short_id(ARN_1);

    let got = send(&d, &greedy("GET", ARN_1, player_a(), None)).await;
    assert_is_session(&got, &id, "GET by ARN");

    let join = Some(join_body(&[PLAYER_A]));
    let joined = send(
        &d,
        &greedy("POST", &format!("{ARN_1}/join"), player_a(), join),
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(joined.body["session"]["id"], id.as_str());

    let deleted = send(&d, &greedy("DELETE", ARN_1, service(), None)).await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let ended = send(&d, &greedy("GET", &id, service(), None)).await;
    assert_eq!(ended.body["status"], "ENDED");
}

#[tokio::test]
async fn anything_under_the_greedy_routes_but_an_id_or_an_id_and_join_is_404() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let id = short_id(ARN_1);
    for (method, value) in [
        ("POST", format!("{ARN_1}/leave")),
        ("POST", ARN_1.to_owned()),
        ("POST", "join".to_owned()),
        ("GET", format!("{id}/join")),
        ("GET", format!("{id}/x/y")),
        ("DELETE", format!("{id}/join")),
    ] {
        let who = if method == "DELETE" {
            service()
        } else {
            player_a()
        };
        let body = Some(join_body(&[PLAYER_A]));
        let a = send(&d, &greedy(method, &value, who, body)).await;
        assert_eq!(
            (a.status, a.code()),
            (404, "not_found"),
            "{method} {value}: {}",
            a.body
        );
    }
    assert!(d.gamelift.calls().is_empty(), "nothing reached GameLift");
}

#[tokio::test]
async fn an_event_naming_no_route_of_ours_is_matched_on_its_decoded_path() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let id = short_id(ARN_1);
    // A `$default` route (or a hand-built event): the percent-encoded and the raw ARN both route.
    for path in [
        format!("/v1/sessions/{}", encode(ARN_1)),
        format!("/v1/sessions/{ARN_1}"),
    ] {
        let mut e = Ev::get(&path).by(player_a()).to_json();
        e["routeKey"] = json!("$default");
        e["requestContext"]["routeKey"] = json!("$default");
        assert_is_session(&send(&d, &e).await, &id, &path);
    }
    let join = call(&d, route::join(encode(ARN_1), &[PLAYER_A]).by(player_a())).await;
    assert_eq!(join.status, 200, "{}", join.body);
    let seats = d
        .store
        .seats_of(&GameSessionArn::parse(ARN_1).expect("arn").session_id());
    assert_eq!(seats.len(), 1);
}

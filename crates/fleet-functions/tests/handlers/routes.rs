//! fleet-api's routing of the greedy session routes, with events shaped as API Gateway sends them:
//! `routeKey` the greedy route, `rawPath` and `pathParameters.id` decoded (an ARN with its `/`s, and
//! for a join the trailing `/join`), and events that name no route of ours matched on their decoded
//! path instead.

use fleet_core::ids::GameSessionArn;
use serde_json::{Value, json};

use crate::support_http::*;

/// The event API Gateway sends for `method raw_path` matched to `route_key`, with `id` the decoded
/// value of the greedy variable.
fn greedy(method: &str, route_key: &str, id: &str, who: Who, body: Option<String>) -> Value {
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

async fn call(d: &TestDeps, event: &Value) -> Answer {
    api(d, to_request(&event.to_string())).await
}

#[tokio::test]
async fn a_decoded_arn_with_slashes_reaches_get_join_and_delete_through_the_greedy_routes() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let id = short_id(ARN_1);

    let got = call(
        &d,
        &greedy(
            "GET",
            "GET /v1/sessions/{id+}",
            ARN_1,
            Who::player(PLAYER_A),
            None,
        ),
    )
    .await;
    assert_eq!(
        (got.status, got.body["id"].as_str()),
        (200, Some(id.as_str())),
        "{}",
        got.body
    );

    let joined = call(
        &d,
        &greedy(
            "POST",
            "POST /v1/sessions/{id+}",
            &format!("{ARN_1}/join"),
            Who::player(PLAYER_A),
            Some(join_body(&[PLAYER_A])),
        ),
    )
    .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(joined.body["session"]["id"], id.as_str());

    let deleted = call(
        &d,
        &greedy(
            "DELETE",
            "DELETE /v1/sessions/{id+}",
            ARN_1,
            Who::iam(SERVICE),
            None,
        ),
    )
    .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let ended = call(
        &d,
        &greedy(
            "GET",
            "GET /v1/sessions/{id+}",
            &id,
            Who::iam(SERVICE),
            None,
        ),
    )
    .await;
    assert_eq!(ended.body["status"], "ENDED");
}

#[tokio::test]
async fn anything_under_the_greedy_routes_but_an_id_or_an_id_and_join_is_404() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let id = short_id(ARN_1);
    for (method, route, value) in [
        ("POST", "POST /v1/sessions/{id+}", format!("{ARN_1}/leave")),
        ("POST", "POST /v1/sessions/{id+}", ARN_1.to_owned()),
        ("POST", "POST /v1/sessions/{id+}", "join".to_owned()),
        ("GET", "GET /v1/sessions/{id+}", format!("{id}/join")),
        ("GET", "GET /v1/sessions/{id+}", format!("{id}/x/y")),
        ("DELETE", "DELETE /v1/sessions/{id+}", format!("{id}/join")),
    ] {
        let who = if method == "DELETE" {
            Who::iam(SERVICE)
        } else {
            Who::player(PLAYER_A)
        };
        let a = call(
            &d,
            &greedy(method, route, &value, who, Some(join_body(&[PLAYER_A]))),
        )
        .await;
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
        let mut e = Ev::get(&path).by(Who::player(PLAYER_A)).to_json();
        e["routeKey"] = json!("$default");
        e["requestContext"]["routeKey"] = json!("$default");
        let a = call(&d, &e).await;
        assert_eq!(
            (a.status, a.body["id"].as_str()),
            (200, Some(id.as_str())),
            "{path}: {}",
            a.body
        );
    }
    let join = api(
        &d,
        Ev::post(
            &format!("/v1/sessions/{}/join", encode(ARN_1)),
            join_body(&[PLAYER_A]),
        )
        .by(Who::player(PLAYER_A))
        .request(),
    )
    .await;
    assert_eq!(join.status, 200, "{}", join.body);
    let seats = d
        .store
        .seats_of(&GameSessionArn::parse(ARN_1).expect("arn").session_id());
    assert_eq!(seats.len(), 1);
}

//! `GET /v1/locations`: the locations with their ping beacons, one ListLocations while the cache is
//! cold, none while it is warm, the last answer when GameLift fails.

use fleet_core::fakes::GameLiftCall;
use fleet_core::ports::GameLiftError;

use crate::support_cases::*;
use crate::support_http::*;

async fn locations(d: &TestDeps) -> Answer {
    call(d, route::locations().by(player_a())).await
}

fn list_calls(d: &TestDeps) -> usize {
    d.gamelift
        .calls()
        .iter()
        .filter(|c| matches!(c, GameLiftCall::ListLocations))
        .count()
}

#[tokio::test]
async fn locations_come_with_their_ping_beacons_and_a_warm_request_costs_no_gamelift_call() {
    let d = deps();

    let first = locations(&d).await;
    let second = locations(&d).await;

    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        first.body["locations"][0],
        serde_json::json!({"location": "us-east-1",
            "pingBeacon": {"udpEndpoint": {"domain": "gamelift-ping.us-east-1.api.aws", "port": 7770}}})
    );
    assert_eq!(first.body["locations"].as_array().map(Vec::len), Some(2));
    assert_eq!(second.body, first.body);
    assert_eq!(
        list_calls(&d),
        1,
        "the second request is served from the cache"
    );
}

#[tokio::test]
async fn the_cache_is_refreshed_once_its_answer_is_ten_minutes_old() {
    let d = deps();
    assert_eq!(locations(&d).await.status, 200);
    d.clock.advance_secs(599);
    assert_eq!(locations(&d).await.status, 200);
    assert_eq!(list_calls(&d), 1);

    d.clock.advance_secs(1);
    assert_eq!(locations(&d).await.status, 200);

    assert_eq!(list_calls(&d), 2);
}

#[tokio::test]
async fn configured_locations_are_shown_in_their_order_and_others_are_left_out() {
    let mut d = deps();
    d.config.locations = vec!["eu-west-1".into(), "custom-lab-1".into()];

    let a = locations(&d).await;

    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.body["locations"],
        serde_json::json!([
            {"location": "eu-west-1",
             "pingBeacon": {"udpEndpoint": {"domain": "gamelift-ping.eu-west-1.api.aws", "port": 7770}}},
            {"location": "custom-lab-1"}
        ])
    );
}

#[tokio::test]
async fn a_gamelift_failure_serves_the_last_answer_and_without_one_is_the_error() {
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Throttled("Rate exceeded".into()));
    locations(&d).await.assert_error(429, "throttled");

    let fresh = locations(&d).await;
    d.clock.advance_secs(601);
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    let stale = locations(&d).await;

    assert_eq!(stale.status, 200, "{}", stale.body);
    assert_eq!(stale.body, fresh.body);
    assert_eq!(list_calls(&d), 3);
}

#[tokio::test]
async fn a_query_parameter_on_locations_is_a_400_naming_it() {
    let d = deps();
    let with_region = route::locations().query("region=us-east-1");
    let a = call(&d, with_region.by(service())).await;
    a.assert_error(400, "invalid_argument");
    assert_eq!(a.field(), Some("region"));
    assert_eq!(list_calls(&d), 0);
}

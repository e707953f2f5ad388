//! Home Regions end to end: the local queue lives in us-east-1 and places on fleets homed in
//! eu-west-1 too; the strict simulator keeps each session in its fleet's home Region (NotFound
//! anywhere else), so joins, reports and the sweeper only work if every call about a session goes to
//! the Region its ARN names.

use std::time::{Duration, Instant};

use fleet_core::ids::SessionId;
use fleet_core::model::SessionStatus;
use fleet_core::ports::SessionStore as _;
use fleet_functions::observability::Metrics;
use fleet_functions::sweeper::{self, SweepLimits, UNKNOWN_SESSION_GRACE_SECS};
use fleet_local::stack::LOCAL_FLEET_4;
use gamelift_sim::model::DEFAULT_FLEET_EU;
use serde_json::{Value, json};

use crate::support::{As, id_of, start};

const QUEUE_REGION: &str = "us-east-1";
const HOME: &str = "eu-west-1";

/// The simulator's answer to DescribeGameSessions for `arn`, asked in `region`.
async fn describe_in(
    sim: &gamelift_sim::Simulator,
    region: &str,
    arn: &str,
) -> Result<Value, gamelift_sim::ApiError> {
    sim.call_in(
        region,
        "DescribeGameSessions",
        json!({"GameSessionId": arn}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_placed_in_europe_through_the_us_east_1_queue_are_joinable_reportable_and_kept_by_the_sweeper()
 {
    let t = start().await;
    let sim = t.stack.sim().expect("the stack runs the simulator").clone();
    let mut ids = Vec::new();
    // On the fleet homed in eu-west-1, and on a fleet homed there but hosting in eu-central-1.
    for (location, fleet) in [(HOME, DEFAULT_FLEET_EU), ("eu-central-1", LOCAL_FLEET_4)] {
        let session = t
            .fulfilled_session(json!({"maxPlayers": 4, "regions": [location], "name": location}))
            .await;
        let id = id_of(&session);
        let arn = session["arn"].as_str().expect("arn").to_owned();
        assert_eq!(session["region"], location, "{session}");
        assert!(
            arn.starts_with(&format!("arn:aws:gamelift:{HOME}::gamesession/{fleet}/")),
            "the ARN names the fleet's home Region: {arn}"
        );
        // The simulator is as strict as GameLift: the queue's Region does not know the session.
        let elsewhere = describe_in(&sim, QUEUE_REGION, &arn)
            .await
            .expect_err("not in the queue's Region");
        assert_eq!(elsewhere.code, "NotFoundException");

        // Joinable: CreatePlayerSessions reached eu-west-1.
        let joined = t.join(&id, "ana").await;
        assert_eq!(joined.status, 200, "join {location}: {:?}", joined.body);
        assert!(
            joined.body["playerSessions"][0]["playerSessionId"]
                .as_str()
                .is_some_and(|s| s.starts_with("psess-")),
            "{:?}",
            joined.body
        );
        let there = describe_in(&sim, HOME, &arn)
            .await
            .expect("in its home Region");
        assert_eq!(there["GameSessions"][0]["CurrentPlayerSessionCount"], 1);

        // Reportable: new properties go to GameLift with UpdateGameSession, in eu-west-1.
        let report = t
            .post(
                As::GameServer,
                "/v1/rpc/update_instance_info",
                json!({"id": id, "playerCount": 1, "metadata": {"GameProperties": {"round": "2"}}}),
            )
            .await;
        assert_eq!(report.status, 204, "report {location}: {:?}", report.body);
        let there = describe_in(&sim, HOME, &arn)
            .await
            .expect("in its home Region");
        assert_eq!(
            there["GameSessions"][0]["GameProperties"],
            json!([{"Key": "round", "Value": "2"}]),
            "{there}"
        );
        let s = t.get(As::Service, &format!("/v1/sessions/{id}")).await;
        assert_eq!(
            (
                s.body["playerCount"].as_u64(),
                s.body["properties"]["round"].as_str()
            ),
            (Some(1), Some("2")),
            "{:?}",
            s.body
        );
        ids.push(SessionId::parse(&id).expect("session id"));
    }

    // Past the hour after which the sweeper ends a session GameLift says it does not know, one run,
    // forced now rather than waited for: it must find both sessions ACTIVE in eu-west-1.
    t.stack.clock().advance(Duration::from_secs(
        u64::try_from(UNKNOWN_SESSION_GRACE_SECS).unwrap_or(3600) + 60,
    ));
    let deps = t.stack.deps();
    let summary = sweeper::sweep(
        &deps.store,
        &deps.gamelift,
        &deps.clock,
        &SweepLimits::from_config(&deps.config),
        Instant::now() + Duration::from_secs(30),
        &mut Metrics::new(sweeper::FUNCTION),
    )
    .await
    .expect("the sweeper runs");
    assert!(
        summary.gamelift_calls >= 2,
        "it described both sessions: {summary:?}"
    );
    assert_eq!(summary.ended_sessions, 0, "{summary:?}");
    for id in &ids {
        let s = deps
            .store
            .get_session(id)
            .await
            .expect("read")
            .expect("the session exists");
        assert_eq!(s.status, SessionStatus::Active, "{id:?} after the sweep");
    }
    t.stack.shutdown().await;
}

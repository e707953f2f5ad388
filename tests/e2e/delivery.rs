//! Delivery machinery: poison messages in the queue, gone WebSocket connections, health.

use std::time::Duration;

use fleet_core::ids::ConnectionId;
use fleet_core::ports::{Clock as _, Connection, ConnectionStore as _};
use serde_json::json;

use crate::support::{As, Ws, fast_model, start, start_with};

fn fulfilled_event(placement_id: &str, n: u32) -> String {
    json!({
        "version": "0", "id": uuid::Uuid::new_v4().to_string(), "detail-type": "GameLift Queue Placement Event",
        "source": "aws.gamelift", "account": "123456789012", "time": "2026-11-25T12:00:02Z", "region": "us-east-1",
        "resources": ["arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"],
        "detail": {
            "type": "PlacementFulfilled", "placementId": placement_id, "port": "7777",
            "gameSessionArn": format!("arn:aws:gamelift:us-east-1::gamesession/fleet-1a1a1a1a-0000-4000-8000-000000000001/gsess-e2e-{n}"),
            "ipAddress": format!("203.0.113.{n}"), "dnsName": format!("ec2-203-0-113-{n}.compute-1.amazonaws.com"),
            "startTime": "2026-11-25T12:00:00.118Z", "endTime": "2026-11-25T12:00:01.472Z",
            "gameSessionRegion": "us-east-1", "placedPlayerSessions": [],
        }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_lands_in_quarantine_while_the_rest_of_its_batch_is_applied_once() {
    // GameLift takes an hour to place, so the only results are the ones this test sends.
    let mut model = fast_model();
    model.placement_delay_ms = 3_600_000;
    let t = start_with(model).await;
    let a = t.create(As::Service, json!({"maxPlayers": 4})).await;
    let b = t.create(As::Service, json!({"maxPlayers": 4})).await;
    let ids = t.stack.enqueue_batch([
        fulfilled_event(&a, 41),
        "this is not JSON".to_owned(),
        fulfilled_event(&b, 42),
    ]);
    let (pa, pb) = (
        t.wait_placement(As::Service, &a).await,
        t.wait_placement(As::Service, &b).await,
    );
    assert_eq!(
        (pa["status"].as_str(), pb["status"].as_str()),
        (Some("FULFILLED"), Some("FULFILLED"))
    );
    assert_eq!(pa["session"]["ipAddress"], "203.0.113.41");
    let t = &t;
    t.eventually("the batch is settled", || async move {
        t.stack.queue_stats().deleted == 3
    })
    .await;
    let quarantined = t.stack.quarantined();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(
        (
            quarantined[0].message_id.as_str(),
            quarantined[0].body.as_str()
        ),
        (ids[1].as_str(), "this is not JSON")
    );
    let stats = t.stack.queue_stats();
    assert_eq!(
        (stats.batches, stats.failures, stats.dead_lettered),
        (1, 0, 0),
        "one delivery, nothing retried: {stats:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(t.stack.queue_stats().batches, 1, "never redelivered");
    assert!(t.stack.dlq().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_websockets_connection_row_is_removed_after_a_410() {
    let t = start().await;
    let deps = t.stack.deps();
    // A connection that closed without its $disconnect reaching the table (API Gateway's delivery of
    // $disconnect is best effort): the row is still there, the gateway no longer knows it.
    let mut ws = Ws::connect(&t, "frank").await;
    let stale = ConnectionId::parse("c1osedC0nnect1D=").expect("a connection id");
    let now = deps.clock.now();
    deps.store
        .put_connection(&Connection {
            id: stale.clone(),
            user: "frank".into(),
            connected_at: now,
            expires_at: now.plus_secs(7200),
        })
        .await
        .expect("write the stale row");
    let id = t.create_for("frank").await;
    let msg = ws.placement(&t, &id).await;
    assert_eq!(
        msg["status"], "FULFILLED",
        "the live connection is pushed to"
    );
    let t = &t;
    let (deps, stale) = (&deps, &stale);
    t.eventually("the gone connection's row is deleted", || async move {
        deps.store
            .connection(stale, deps.clock.now())
            .await
            .expect("read")
            .is_none()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_every_component_without_authentication() {
    let t = start().await;
    let health = t.get(As::Anonymous, "/v1/health").await;
    assert_eq!(health.status, 200, "{:?}", health.body);
    let body = health.body;
    assert!(body.is_object(), "JSON: {body}");
    assert_eq!(body["status"], "ok", "{body}");
    for c in [
        "dynamodb",
        "gamelift",
        "httpGateway",
        "wsGateway",
        "placementEvents",
        "notifier",
        "sweeper",
    ] {
        assert_eq!(body["components"][c]["status"], "ok", "{c}: {body}");
    }
    t.stack.shutdown().await;
}

//! The console's local-only endpoints on a whole stack: what the table held before the console was
//! opened, what the stream brings after, faults injected through it, and the sweeper's runs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{As, TestStack, start};

async fn state(t: &TestStack) -> Value {
    let a = t.get(As::Anonymous, "/console/api/state").await;
    assert_eq!(a.status, 200, "{:?}", a.body);
    assert!(a.body.is_object(), "JSON: {}", a.body);
    a.body
}

fn placement<'a>(state: &'a Value, id: &str) -> Option<&'a Value> {
    state["placements"]
        .as_array()?
        .iter()
        .find(|p| p["placementId"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_what_the_table_held_before_it_opened_then_follows_the_stream() {
    let t = start().await;
    let (before, placed) = t
        .create_and_wait(
            As::Service,
            json!({"maxPlayers": 4, "name": "before the console"}),
        )
        .await;
    assert_eq!(placed["status"], "FULFILLED");
    let session_id = placed["session"]["id"].as_str().unwrap().to_owned();

    // First visit: the scan finds what the table already holds.
    let first = state(&t).await;
    let p = placement(&first, &before).expect("the earlier placement is on show");
    assert_eq!(p["status"], "FULFILLED", "{p}");
    assert_eq!(p["sessionId"], session_id.as_str());
    assert!(
        p["timeToResultMs"].as_i64().is_some_and(|ms| ms >= 0),
        "{p}"
    );
    let session = first["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session_id.as_str())
        .expect("its session is on show");
    assert_eq!(session["name"], "before the console");
    assert_eq!(session["status"], "ACTIVE");
    assert_eq!(first["status"]["regions"][0]["sessions"], 1);

    // From now on the stream brings every change.
    let after = t.create_for("dora").await;
    t.eventually(
        "the new placement shows FULFILLED in the console",
        || async {
            placement(&state(&t).await, &after).is_some_and(|p| p["status"] == "FULFILLED")
        },
    )
    .await;
    let now = state(&t).await;
    assert_eq!(placement(&now, &after).unwrap()["requester"], "dora");
    assert_eq!(now["status"]["placements"]["fulfilled"], 2);
    assert_eq!(now["status"]["placements"]["started"], 2);
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_set_through_the_console_is_what_the_simulator_answers_and_the_sweeper_runs_show() {
    let t = start().await;
    let res = t
        .post(
            As::Anonymous,
            "/console/api/sim/faults",
            json!({"events": {"placementFailureRate": 1.0}}),
        )
        .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let (id, placed) = t
        .create_and_wait(As::Service, json!({"maxPlayers": 2}))
        .await;
    assert_eq!(placed["status"], "FAILED", "{placed}");
    t.eventually("the failure and its reason show in the console", || async {
        placement(&state(&t).await, &id)
            .is_some_and(|p| p["status"] == "FAILED" && p["reason"].is_string())
    })
    .await;
    let now = state(&t).await;
    assert_eq!(now["status"]["sim"]["stats"]["placementsFailed"], 1);
    assert_eq!(
        now["status"]["sim"]["faults"]["events"]["placementFailureRate"],
        1.0
    );
    // The sweeper runs every 500 ms here.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let runs = state(&t).await["status"]["sweeper"]["runs"].clone();
    assert!(runs.as_array().is_some_and(|r| !r.is_empty()), "{runs}");
    assert!(runs[0]["summary"].is_object(), "{runs}");
    t.stack.shutdown().await;
}

//! R04 overbooking (I1, I2, I11): concurrent joins against one session's capacity on DynamoDB Local.
//! Every trial checks the seats (never past the cap, one per player, the counter equals the seat
//! items) and that the history is linearizable: some sequential order of all the joins, consistent
//! with their real-time order, gives every join the answer it actually got.

use std::sync::Arc;
use std::time::Instant;

use fleet_core::ids::{PlayerId, SessionId};
use fleet_core::model::{SeatStatus, Session};
use fleet_core::ports::{JoinRefused, SessionStore};
use fleet_reliability::fixtures::{Rng, T0, arn, player};
use fleet_reliability::{audit, scorecard};
use fleet_testkit::records;

use crate::support;

/// One join of a history: who, when (invocation and response instants, relative), and the answer.
#[derive(Debug, Clone)]
struct Op {
    players: Vec<String>,
    start: u128,
    end: u128,
    ok: bool,
    refused: Option<JoinRefused>,
}

/// Whether `ops` has a sequential order, consistent with real time (an op that ended before another
/// started comes first), that gives every op its observed answer on a session with `open` slots.
fn linearizable(ops: &[Op], open: u32) -> bool {
    fn go(ops: &[Op], done: &mut Vec<bool>, seated: &mut Vec<String>, open: u32) -> bool {
        if done.iter().all(|d| *d) {
            return true;
        }
        for i in 0..ops.len() {
            if done[i] {
                continue;
            }
            // i may go next only if no pending op finished before i started.
            if (0..ops.len()).any(|j| !done[j] && j != i && ops[j].end < ops[i].start) {
                continue;
            }
            let op = &ops[i];
            let dup = op.players.iter().any(|p| seated.contains(p));
            let free = open as usize - seated.len().min(open as usize);
            let expect_ok = !dup && op.players.len() <= free;
            let matches = match (&op.refused, expect_ok) {
                (None, true) => true,
                (Some(JoinRefused::AlreadySeated(_)), false) => dup,
                (Some(JoinRefused::Full { .. }), false) => !dup,
                _ => false,
            };
            if !matches {
                continue;
            }
            done[i] = true;
            let before = seated.len();
            if op.ok {
                seated.extend(op.players.iter().cloned());
            }
            if go(ops, done, seated, open) {
                return true;
            }
            seated.truncate(before);
            done[i] = false;
        }
        false
    }
    go(ops, &mut vec![false; ops.len()], &mut Vec::new(), open)
}

/// An ACTIVE session with `reported` players of `max`, no seat reserved.
fn session(ns: &str, max: u32, reported: u32) -> Session {
    Session {
        player_count: reported,
        open_slots: max - reported,
        ..records::session(arn(ns, 1).as_str(), max)
    }
}

async fn trial(
    store: Arc<fleet_aws::dynamo::DynamoStore>,
    id: SessionId,
    open: u32,
    joins: Vec<Vec<String>>,
) -> Vec<String> {
    let origin = Instant::now();
    let now = T0.plus_secs(1);
    let tasks: Vec<_> = joins
        .into_iter()
        .map(|players| {
            let (store, id) = (Arc::clone(&store), id.clone());
            tokio::spawn(async move {
                let ids: Vec<PlayerId> = players.iter().map(|p| player(p)).collect();
                let start = origin.elapsed().as_micros();
                let r = store.reserve_seats(&id, &ids, now, now.plus_secs(60)).await;
                let end = origin.elapsed().as_micros();
                (players, start, end, r)
            })
        })
        .collect();
    let mut ops = Vec::new();
    let mut out = Vec::new();
    for t in tasks {
        let (players, start, end, r) = t.await.expect("join task");
        match r {
            Ok(Ok(_)) => ops.push(Op {
                players,
                start,
                end,
                ok: true,
                refused: None,
            }),
            Ok(Err(refused)) => ops.push(Op {
                players,
                start,
                end,
                ok: false,
                refused: Some(refused),
            }),
            Err(e) => out.push(format!("store error in a join: {e}")),
        }
    }
    let seats = audit::dynamo_partition_seats(&store, &id).await;
    let reserved: Vec<&str> = seats
        .iter()
        .filter(|s| s.status == SeatStatus::Reserved)
        .map(|s| s.player_id.as_str())
        .collect();
    let won: usize = ops.iter().filter(|o| o.ok).map(|o| o.players.len()).sum();
    if reserved.len() > open as usize {
        out.push(format!(
            "I1: {} seats for {open} open slots",
            reserved.len()
        ));
    }
    if reserved.len() != won {
        out.push(format!(
            "I1: {won} seats granted, {} seat items",
            reserved.len()
        ));
    }
    let s = store.get_session(&id).await.ok().flatten();
    if let Some(s) = &s {
        let mut v = Vec::new();
        audit::check_session(s, &seats, &mut v);
        out.extend(v);
    }
    if out.is_empty() && !linearizable(&ops, open) {
        out.push(format!(
            "linearizability: no sequential order explains {ops:?} with {open} open slots"
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_joins_never_overbook_and_every_history_is_linearizable() {
    let trials = 200 * scorecard::scale();
    let store = Arc::new(support::spawn_store("r04").await);
    let mut rng = Rng::new(4);
    let mut plans = Vec::new();
    let mut sessions = Vec::new();
    for n in 0..trials {
        let ns = support::ns("j", n);
        let max = 1 + rng.below(6) as u32;
        let reported = rng.below(u64::from(max)) as u32;
        sessions.push(session(&ns, max, reported));
        let pool = ["a", "b", "c", "d", "e", "f", "g"];
        let joins: Vec<Vec<String>> = (0..2 + rng.below(5))
            .map(|_| {
                let k = 1 + rng.below(2) as usize;
                let mut ps: Vec<String> = Vec::new();
                while ps.len() < k {
                    let p = pool[rng.below(pool.len() as u64) as usize].to_owned();
                    if !ps.contains(&p) {
                        ps.push(p);
                    }
                }
                ps
            })
            .collect();
        plans.push((arn(&ns, 1).session_id(), max - reported, joins));
    }
    store.seed_sessions(&sessions).await.expect("seed sessions");
    let mut violations = Vec::new();
    for (id, open, joins) in plans {
        violations.extend(trial(Arc::clone(&store), id, open, joins).await);
    }
    violations.extend(audit::dynamo(&store).await.1);
    scorecard::finish(
        "R04 overbooking",
        trials,
        &violations,
        "DynamoDB Local; 2–6 concurrent joins of 1–2 players on 1–6 open slots; seat audit + linearizability",
    );
}

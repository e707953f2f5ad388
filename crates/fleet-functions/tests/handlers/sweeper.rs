//! sweeper: overdue placements resolved from GameLift, lapsed seats closed, ended sessions tombstoned,
//! all within the run's budget and GameLift's rates.

use std::time::{Duration, Instant};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use fleet_core::event::{EventKind, parse_message};
use fleet_core::fakes::{FakeGameLift, GameLiftCall, ManualClock, MemoryStore};
use fleet_core::ids::PlayerId;
use fleet_core::model::{Placement, PlacementStatus, Session, SessionStatus};
use fleet_core::ports::{
    Applied, Clock, GameLiftError, PlacementDescription, SessionStore, StatusReport, SweepStore,
};
use fleet_core::time::Timestamp;
use fleet_functions::observability::Metrics;
use fleet_functions::sweeper::{self, SweepLimits, SweepSummary};

use crate::support_async::*;
use crate::support_cases::{describe_as, placed, placed_session, stored, stored_session};

/// Limits fast enough for tests (no pacing waits), with `budget` GameLift calls.
fn limits(budget: u32) -> SweepLimits {
    SweepLimits {
        budget,
        describe_placement_per_sec: 1e6,
        describe_sessions_per_sec: 1e6,
        placements_per_run: 100,
        seat_sessions_per_run: 100,
        sessions_per_run: 10_000,
        stop_margin: Duration::ZERO,
    }
}

fn far() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

async fn run(
    store: &MemoryStore,
    gamelift: &FakeGameLift,
    clock: &ManualClock,
    limits: &SweepLimits,
) -> (SweepSummary, Metrics) {
    let mut metrics = Metrics::new(sweeper::FUNCTION);
    let summary = sweeper::sweep(store, gamelift, clock, limits, far(), &mut metrics)
        .await
        .expect("sweep");
    (summary, metrics)
}

/// The fulfilment GameLift describes for the sample fulfilled placement: what its event carries.
fn described_fulfilment() -> PlacementDescription {
    let event = parse_message(&event_text("placement/sns-fulfilled.json")).unwrap();
    let EventKind::Fulfilled(f) = event.kind else {
        panic!("sample is a fulfilment")
    };
    PlacementDescription {
        status: PlacementStatus::Fulfilled,
        fulfilled: Some(f),
    }
}

fn describes(gamelift: &FakeGameLift) -> usize {
    gamelift
        .calls()
        .iter()
        .filter(|c| matches!(c, GameLiftCall::DescribePlacement(_)))
        .count()
}

/// A clock just past the sample placements' deadline (T0 + 11 min).
fn past_deadline() -> ManualClock {
    let clock = ManualClock::new(T0);
    clock.advance_secs(661);
    clock
}

/// The sample placements, PENDING, and a GameLift that knows nothing yet.
async fn samples_world() -> (MemoryStore, FakeGameLift) {
    let store = MemoryStore::new();
    seed_samples(&store).await;
    (store, FakeGameLift::new())
}

/// `n` PENDING placements `p-00`, `p-01`, … of the sample requester.
async fn pending(n: usize) -> (MemoryStore, Vec<Placement>) {
    let store = MemoryStore::new();
    let placements: Vec<_> = (0..n)
        .map(|i| placement(&format!("p-{i:02}"), REQUESTER, &[]))
        .collect();
    seed(&store, &placements).await;
    (store, placements)
}

#[tokio::test]
async fn an_overdue_fulfilled_placement_is_resolved_with_the_session_its_event_would_have_built() {
    let (store, gamelift) = samples_world().await;
    gamelift.set_placement(&pid(FULFILLED_ID), described_fulfilment());
    describe_as(&gamelift, &pid(TIMED_OUT_ID), PlacementStatus::TimedOut);
    let clock = past_deadline();

    let (summary, metrics) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.resolved, 2);
    assert_eq!(describes(&gamelift), 2);
    assert_eq!(
        summary.ended_sessions, 0,
        "a session placed a moment ago is never ended as unknown"
    );
    assert_eq!(metrics.get("SweeperResolvedPlacements"), Some(2.0));
    let (p, session) = placed(&store, FULFILLED_ID).await;
    assert_eq!(p.player_sessions.len(), 2);
    assert_eq!(
        (
            session.ip_address.as_str(),
            session.port,
            session.reserved_seats
        ),
        ("203.0.113.17", 7777, 2)
    );
    assert_eq!(session.name.as_deref(), Some("lobby"));
    let t = stored(&store, &pid(TIMED_OUT_ID)).await;
    assert_eq!(t.status, PlacementStatus::TimedOut);
    assert!(t.reason.unwrap().contains("TIMED_OUT"));

    // The late event finds the placement finished and changes nothing.
    apply_sample(&store, "sns-fulfilled.json").await;
    assert_eq!(stored(&store, &pid(FULFILLED_ID)).await, p);
}

#[tokio::test]
async fn a_placement_gamelift_never_heard_of_is_failed_and_one_still_pending_is_left() {
    let (store, gamelift) = samples_world().await;
    describe_as(&gamelift, &pid(TIMED_OUT_ID), PlacementStatus::Pending);
    let clock = past_deadline();

    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!((summary.resolved, summary.still_pending), (1, 1));
    assert_eq!(
        stored(&store, &pid(FULFILLED_ID)).await.status,
        PlacementStatus::Failed
    );
    assert_eq!(
        stored(&store, &pid(TIMED_OUT_ID)).await.status,
        PlacementStatus::Pending
    );
}

#[tokio::test]
async fn placements_before_their_deadline_and_finished_ones_cost_no_gamelift_call() {
    let (store, gamelift) = samples_world().await;
    apply_sample(&store, "sns-timed-out.json").await;
    let clock = ManualClock::new(T0.plus_secs(600));

    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(summary, SweepSummary::default());

    clock.advance_secs(61);
    gamelift.set_placement(&pid(FULFILLED_ID), described_fulfilment());
    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(
        (summary.resolved, describes(&gamelift)),
        (1, 1),
        "only the still-PENDING one"
    );
}

#[tokio::test]
async fn the_budget_bounds_the_gamelift_calls_of_a_run_and_the_next_run_continues() {
    let (store, placements) = pending(10).await;
    let gamelift = FakeGameLift::new();
    for p in &placements {
        describe_as(&gamelift, &p.placement_id, PlacementStatus::Cancelled);
    }
    let clock = past_deadline();

    let (summary, _) = run(&store, &gamelift, &clock, &limits(3)).await;

    assert_eq!((summary.resolved, summary.gamelift_calls), (3, 3));
    assert!(summary.stopped_early);
    assert_eq!(gamelift.calls().len(), 3);
    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(summary.resolved, 7);
    assert!(
        store
            .due_placements(clock.now(), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_configured_budget_and_gamelifts_rate_pace_the_calls() {
    let (store, _) = pending(4).await;
    let gamelift = FakeGameLift::new();
    let clock = past_deadline();
    let mut l = limits(50);
    l.describe_placement_per_sec = 20.0;
    let started = Instant::now();

    let (summary, _) = run(&store, &gamelift, &clock, &l).await;

    assert_eq!(summary.gamelift_calls, 4);
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "4 calls at 20/s take at least 3 intervals: {:?}",
        started.elapsed()
    );
    let from_config = SweepLimits::from_config(&config());
    assert_eq!(from_config.budget, 50);
    assert!(
        from_config.describe_placement_per_sec <= 75.0
            && from_config.describe_sessions_per_sec <= 20.0
    );
}

#[tokio::test]
async fn a_throttled_answer_stops_the_phase_for_this_run() {
    let (store, gamelift) = samples_world().await;
    gamelift.fail_next(GameLiftError::Throttled("Rate exceeded".into()));
    let clock = past_deadline();

    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!((summary.resolved, summary.gamelift_calls), (0, 1));
    assert!(summary.stopped_early);
}

#[tokio::test]
async fn a_run_whose_lambda_deadline_is_near_makes_no_call() {
    let (store, gamelift) = samples_world().await;
    let clock = past_deadline();
    let mut l = limits(50);
    l.stop_margin = Duration::from_secs(5);
    let mut metrics = Metrics::new(sweeper::FUNCTION);

    let summary = sweeper::sweep(
        &store,
        &gamelift,
        &clock,
        &l,
        Instant::now() + Duration::from_secs(2),
        &mut metrics,
    )
    .await
    .unwrap();

    assert_eq!(summary.gamelift_calls, 0);
    assert!(summary.stopped_early);
    assert!(gamelift.calls().is_empty());
}

#[tokio::test]
async fn lapsed_seat_reservations_are_expired_and_free_their_slots() {
    let (store, gamelift) = samples_world().await;
    apply_sample(&store, "sns-fulfilled.json").await;
    let p = stored(&store, &pid(FULFILLED_ID)).await;
    let sid = p.session_id.unwrap();
    gamelift.add_session(&fleet_core::ids::GameSessionArn::parse(
        "arn:aws:gamelift:us-east-1::gamesession/fleet-2f1e7a0c-5b6d-4f8e-9a3b-1c2d3e4f5a6b/gsess-7c9e6679-7425-40de-944b-e07fc1f90ae0",
    ).unwrap(), "ACTIVE", 8);
    let clock = ManualClock::new(T0);
    clock.advance_secs(120);

    let (summary, metrics) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.expired_seats, 2);
    assert_eq!(metrics.get("SweeperExpiredSeats"), Some(2.0));
    let session = store.get_session(&sid).await.unwrap().unwrap();
    assert_eq!((session.reserved_seats, session.open_slots), (0, 8));
    let (again, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(again.expired_seats, 0);
}

#[tokio::test]
async fn a_report_after_the_window_closes_the_lapsed_seats_and_leaves_the_sweeper_nothing() {
    let (store, gamelift) = samples_world().await;
    apply_sample(&store, "sns-fulfilled.json").await;
    let sid = stored(&store, &pid(FULFILLED_ID)).await.session_id.unwrap();
    let arn = store.get_session(&sid).await.unwrap().unwrap().arn;
    gamelift.add_session(&arn, "ACTIVE", 8);
    let clock = ManualClock::new(T0);
    clock.advance_secs(120);
    // Both players connected: the server counts them, and its report closes their lapsed seats.
    let report = StatusReport {
        player_count: Some(2),
        ..StatusReport::default()
    };
    assert_eq!(
        store
            .apply_report(&arn, &report, clock.now())
            .await
            .unwrap(),
        Applied::Applied
    );
    let session = store.get_session(&sid).await.unwrap().unwrap();
    assert_eq!(
        (
            session.player_count,
            session.reserved_seats,
            session.open_slots
        ),
        (2, 0, 6)
    );

    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.expired_seats, 0);
}

/// A session of fleet-1 in us-east-1, placed at `created`.
fn session(n: u32, created: Timestamp) -> Session {
    session_of("fleet-1", n, created)
}

#[tokio::test]
async fn sessions_gamelift_terminated_or_forgot_are_ended_and_live_ones_are_kept() {
    let store = MemoryStore::new();
    let sessions: Vec<Session> = (0..5)
        .map(|n| session(n, T0.plus_secs(i64::from(n))))
        .collect();
    store.seed_sessions(&sessions);
    let gamelift = FakeGameLift::new();
    gamelift.add_session(&sessions[0].arn, "TERMINATED", 8);
    gamelift.add_session(&sessions[1].arn, "ACTIVE", 8);
    gamelift.add_session(&sessions[2].arn, "TERMINATING", 8);
    // sessions[3]: GameLift no longer knows it. sessions[4]: unknown too, but placed a moment ago.
    let mut young = session(4, T0.plus_secs(3690));
    young.id = sessions[4].id.clone();
    store.seed_sessions(&[young]);
    let clock = ManualClock::new(T0.plus_secs(3700));

    let (summary, metrics) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.ended_sessions, 3);
    assert_eq!(metrics.get("SweeperEndedSessions"), Some(3.0));
    let (ended, active) = (SessionStatus::Ended, SessionStatus::Active);
    for (i, want) in [ended, active, ended, ended, active]
        .into_iter()
        .enumerate()
    {
        let got = stored_session(&store, &sessions[i].id).await;
        assert_eq!(got.status, want, "sessions[{i}]");
    }
}

/// A session of `fleet` in us-east-1, placed at `created`.
fn session_of(fleet: &str, n: u32, created: Timestamp) -> Session {
    placed_session(
        &format!("arn:aws:gamelift:us-east-1::gamesession/{fleet}/gsess-{n:04}"),
        created,
    )
}

/// The fleet locations listed, in order, with their page tokens.
fn listings(gamelift: &FakeGameLift) -> Vec<(String, Option<String>)> {
    gamelift
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            GameLiftCall::DescribeFleetSessions(fleet, token) => Some((fleet, token)),
            _ => None,
        })
        .collect()
}

/// `n` sessions of fleet-1 placed at [`T0`], stored and ACTIVE in GameLift.
fn live_sessions(n: u32) -> (MemoryStore, FakeGameLift, Vec<Session>) {
    let (store, gamelift) = (MemoryStore::new(), FakeGameLift::new());
    let sessions: Vec<Session> = (0..n).map(|n| session(n, T0)).collect();
    store.seed_sessions(&sessions);
    for s in &sessions {
        gamelift.add_session(&s.arn, "ACTIVE", 8);
    }
    (store, gamelift, sessions)
}

#[tokio::test]
async fn one_call_lists_a_hundred_sessions_of_a_fleet_location() {
    let (store, gamelift, _) = live_sessions(250);
    let clock = ManualClock::new(T0.plus_secs(60));

    let (summary, _) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.gamelift_calls, 3, "250 sessions, three pages");
    let pages = listings(&gamelift);
    assert_eq!(
        pages,
        vec![
            ("us-east-1/fleet-1/us-east-1".to_owned(), None),
            (
                "us-east-1/fleet-1/us-east-1".to_owned(),
                Some("100".to_owned())
            ),
            (
                "us-east-1/fleet-1/us-east-1".to_owned(),
                Some("200".to_owned())
            ),
        ]
    );
    assert_eq!(summary.ended_sessions + summary.corrected_counts, 0);
}

#[tokio::test]
async fn a_quiet_game_servers_player_count_is_taken_from_gamelift_and_a_reporting_ones_is_not() {
    let (store, gamelift, sessions) = live_sessions(4);
    let now = T0.plus_secs(3_600);
    let report = |n: u32| StatusReport {
        player_count: Some(n),
        ..StatusReport::default()
    };
    // 0: never reported, three players in GameLift. 1: reported 1 player ten seconds ago, GameLift
    // says 4. 2: reported 2 players long ago, GameLift says 5. 3: GameLift agrees with the report.
    gamelift.set_session_players(&sessions[0].arn, 3);
    store
        .apply_report(&sessions[1].arn, &report(1), now.plus_secs(-10))
        .await
        .unwrap();
    gamelift.set_session_players(&sessions[1].arn, 4);
    store
        .apply_report(&sessions[2].arn, &report(2), T0.plus_secs(10))
        .await
        .unwrap();
    gamelift.set_session_players(&sessions[2].arn, 5);
    store
        .apply_report(&sessions[3].arn, &report(6), T0.plus_secs(10))
        .await
        .unwrap();
    gamelift.set_session_players(&sessions[3].arn, 6);
    let clock = ManualClock::new(now);

    let (summary, metrics) = run(&store, &gamelift, &clock, &limits(50)).await;

    assert_eq!(summary.corrected_counts, 2);
    assert_eq!(metrics.get("SweeperCorrectedCounts"), Some(2.0));
    let counts = async |i: usize| {
        let s = stored_session(&store, &sessions[i].id).await;
        (s.player_count, s.open_slots)
    };
    assert_eq!(counts(0).await, (3, 5));
    assert_eq!(
        counts(1).await,
        (1, 7),
        "a server that reports keeps the last word"
    );
    assert_eq!(counts(2).await, (5, 3));
    assert_eq!(counts(3).await, (6, 2));
    // The correction does not stand for a report: the server's next one applies over it.
    store
        .apply_report(&sessions[2].arn, &report(4), now.plus_secs(1))
        .await
        .unwrap();
    assert_eq!(counts(2).await, (4, 4));
}

#[tokio::test]
async fn seats_reserved_here_are_not_counted_twice_when_gamelift_counts_them_as_players() {
    let (store, gamelift, sessions) = live_sessions(1);
    let s = &sessions[0];
    let now = T0.plus_secs(3_600);
    // Two seats reserved a moment ago: GameLift counts their player sessions (RESERVED) too.
    let players = [
        PlayerId::parse("p-1").unwrap(),
        PlayerId::parse("p-2").unwrap(),
    ];
    store
        .reserve_seats(&s.id, &players, now, now.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    gamelift.set_session_players(&s.arn, 2);
    let clock = ManualClock::new(now);

    let (quiet, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(
        quiet.corrected_counts, 0,
        "GameLift's two are our two reservations"
    );

    // One more player connected that the quiet server never reported: one player, two seats.
    gamelift.set_session_players(&s.arn, 3);
    let (corrected, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(corrected.corrected_counts, 1);
    let got = store.get_session(&s.id).await.unwrap().unwrap();
    assert_eq!(
        (got.player_count, got.reserved_seats, got.open_slots),
        (1, 2, 5)
    );
}

#[tokio::test]
async fn a_small_budget_covers_every_fleet_location_in_turn() {
    let store = MemoryStore::new();
    let gamelift = FakeGameLift::new();
    for (f, fleet) in ["fleet-a", "fleet-b", "fleet-c"].iter().enumerate() {
        for n in 0..2 {
            let s = session_of(fleet, f as u32 * 10 + n, T0);
            gamelift.add_session(&s.arn, "ACTIVE", 8);
            store.seed_sessions(&[s]);
        }
    }
    let clock = ManualClock::new(T0.plus_secs(60));

    for _ in 0..4 {
        let (summary, _) = run(&store, &gamelift, &clock, &limits(1)).await;
        assert_eq!(summary.gamelift_calls, 1);
    }

    let order: Vec<String> = listings(&gamelift).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        order,
        [
            "us-east-1/fleet-a/us-east-1",
            "us-east-1/fleet-b/us-east-1",
            "us-east-1/fleet-c/us-east-1",
            "us-east-1/fleet-a/us-east-1",
        ],
        "each location once per cycle, then over again"
    );
}

#[tokio::test]
async fn a_listing_cut_short_ends_none_of_the_sessions_it_did_not_reach() {
    let (store, gamelift, _) = live_sessions(150);
    // Placed long ago, and GameLift no longer has it.
    let forgotten = session(999, T0);
    store.seed_sessions(std::slice::from_ref(&forgotten));
    let clock = ManualClock::new(T0.plus_secs(7_200));

    let (first, _) = run(&store, &gamelift, &clock, &limits(1)).await;
    assert!(first.stopped_early);
    assert_eq!(
        first.ended_sessions, 0,
        "only the whole listing can show a session is gone"
    );

    let (second, _) = run(&store, &gamelift, &clock, &limits(50)).await;
    assert_eq!(second.ended_sessions, 1);
    let got = store.get_session(&forgotten.id).await.unwrap().unwrap();
    assert_eq!(got.status, SessionStatus::Ended);
}

#[tokio::test]
async fn the_handler_takes_the_sample_schedule_event() {
    let deps = deps();
    seed_samples(&deps.store).await;
    deps.clock.advance_secs(661);
    deps.gamelift
        .set_placement(&pid(FULFILLED_ID), described_fulfilment());
    let event: EventBridgeEvent = event("schedule/sweeper.json");
    assert_eq!(event.detail_type, "Scheduled Event");

    let summary = sweeper::handle(&deps, event, far()).await.unwrap();

    assert_eq!(
        summary.resolved, 2,
        "one from its description, one GameLift never heard of"
    );
    assert!(describes(&deps.gamelift) <= deps.config.sweep_budget as usize);
}

/// An ACTIVE session in `region` with `open` open slots out of 8.
fn session_in(n: u32, region: &str, open: u32) -> Session {
    let created = Timestamp::from_millis(1_795_600_800_000 + i64::from(n));
    let arn = format!("arn:aws:gamelift:{region}::gamesession/fleet-9/gsess-{n}");
    Session {
        player_count: 8 - open,
        open_slots: open,
        ip_address: "10.0.0.9".into(),
        dns_name: String::new(),
        ..placed_session(&arn, created)
    }
}

#[tokio::test]
async fn open_slots_are_summed_per_region_over_every_active_session() {
    let store = MemoryStore::new();
    let sessions: Vec<Session> = (0..2500)
        .map(|n| session_in(n, if n % 2 == 0 { "us-east-1" } else { "eu-west-1" }, n % 3))
        .collect();
    store.seed_sessions(&sessions);
    let totals = sweeper::open_slots_by_region(&store, 5_000)
        .await
        .expect("read")
        .expect("complete");
    let want = |r: &str| {
        sessions
            .iter()
            .filter(|s| s.region.as_str() == r)
            .map(|s| u64::from(s.open_slots))
            .sum::<u64>()
    };
    assert_eq!(totals.get("us-east-1"), Some(&want("us-east-1")));
    assert_eq!(totals.get("eu-west-1"), Some(&want("eu-west-1")));
    // More sessions than the gauge may read: no partial (misleading) figure.
    assert_eq!(
        sweeper::open_slots_by_region(&store, 1_000)
            .await
            .expect("read"),
        None
    );
}

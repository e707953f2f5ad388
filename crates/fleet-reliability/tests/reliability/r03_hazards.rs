//! R03 hazards (I3, I4, I5, I6, I10, I11): the seven named hazards, each played through the real
//! handlers (`api::handle`, `rpc::handle`, `placement_events::process`, `sweeper::sweep`) on the
//! in-memory store, with a GameLift stand-in that can deliver a placement's event synchronously
//! inside StartGameSessionPlacement, lose StartGameSessionPlacement's answer after it took effect, or
//! run the sweeper in the middle of CreatePlayerSessions.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fleet_core::fakes::{FakeGameLift, GameLiftCall, ManualClock, MemoryStore};
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId, SessionId};
use fleet_core::input::GameProperties;
use fleet_core::model::PlayerSession;
use fleet_core::ports::{
    FleetLocation, FleetSessionsPage, GameLift, GameLiftError, PlacementDescription, StartPlacement,
};
use fleet_functions::observability::Metrics;
use fleet_functions::placement_events::process;
use fleet_functions::sweeper::{SweepLimits, SweepSummary, sweep};
use fleet_reliability::fixtures::{
    T0, arn, fulfilled_body, sqs_batch, sqs_event, sqs_record, unfulfilled_body,
};
use fleet_reliability::{audit, scorecard};
use serde_json::json;
use std::sync::Arc;

use crate::support_http::*;

/// What the stand-in does besides being a [`FakeGameLift`].
#[derive(Debug, Clone, Default)]
struct Mode {
    /// Inside StartGameSessionPlacement, after GameLift accepted it: deliver its PlacementFulfilled
    /// (into session `n`) to the placement-events handler before answering.
    publish_on_start: Option<u32>,
    /// StartGameSessionPlacement takes effect, then its answer is lost (a timeout).
    lose_start_answer: bool,
    /// Inside CreatePlayerSessions: run the sweeper this many seconds later, then answer (Some(e) = fail).
    sweep_during_join: Option<(i64, Option<GameLiftError>)>,
}

struct Scripted {
    inner: FakeGameLift,
    store: Arc<MemoryStore>,
    mode: Mutex<Mode>,
}

impl Scripted {
    fn new(store: Arc<MemoryStore>, mode: Mode) -> Self {
        Self {
            inner: FakeGameLift::new(),
            store,
            mode: Mutex::new(mode),
        }
    }
    fn mode(&self) -> Mode {
        self.mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
    fn starts(&self) -> usize {
        self.inner
            .calls()
            .iter()
            .filter(|c| matches!(c, GameLiftCall::StartPlacement(_)))
            .count()
    }
}

impl GameLift for Scripted {
    async fn start_placement(&self, request: &StartPlacement) -> Result<(), GameLiftError> {
        self.inner.start_placement(request).await?;
        let mode = self.mode();
        if let Some(n) = mode.publish_on_start {
            let id = request.placement.placement_id.as_str().to_owned();
            let (ns, name) = id.split_once('-').expect("p-<n>");
            let players: Vec<&str> = request
                .placement
                .players
                .iter()
                .map(|p| p.player_id.as_str())
                .collect();
            let body = fulfilled_body(ns, name, n, &players, T0.plus_secs(1));
            let (response, _) =
                process(&self.store, sqs_event(vec![sqs_record("sync-1", &body, 1)])).await;
            assert!(
                response.batch_item_failures.is_empty(),
                "the synchronous event failed"
            );
        }
        if mode.lose_start_answer {
            return Err(GameLiftError::Ambiguous(
                "injected: the answer was lost after the placement started".into(),
            ));
        }
        Ok(())
    }
    async fn describe_placement(
        &self,
        id: &PlacementId,
    ) -> Result<PlacementDescription, GameLiftError> {
        self.inner.describe_placement(id).await
    }
    async fn stop_placement(&self, id: &PlacementId) -> Result<(), GameLiftError> {
        self.inner.stop_placement(id).await
    }
    async fn create_player_sessions(
        &self,
        arn: &GameSessionArn,
        players: &[(PlayerId, Option<String>)],
    ) -> Result<Vec<PlayerSession>, GameLiftError> {
        if let Some((later, fail)) = self.mode().sweep_during_join {
            let clock = ManualClock::new(T0.plus_secs(later));
            let limits = SweepLimits::from_config(&config());
            let r = sweep(
                &self.store,
                &self.inner,
                &clock,
                &limits,
                Instant::now() + Duration::from_secs(60),
                &mut Metrics::new("sweeper"),
            )
            .await;
            assert!(r.is_ok(), "sweep during join: {r:?}");
            if let Some(e) = fail {
                return Err(e);
            }
        }
        self.inner.create_player_sessions(arn, players).await
    }
    async fn update_game_session(
        &self,
        arn: &GameSessionArn,
        name: Option<&str>,
        p: &GameProperties,
    ) -> Result<(), GameLiftError> {
        self.inner.update_game_session(arn, name, p).await
    }
    async fn terminate_game_session(&self, arn: &GameSessionArn) -> Result<(), GameLiftError> {
        self.inner.terminate_game_session(arn).await
    }
    async fn game_session_status(
        &self,
        arn: &GameSessionArn,
    ) -> Result<Option<String>, GameLiftError> {
        self.inner.game_session_status(arn).await
    }
    async fn fleet_sessions(
        &self,
        fleet: &FleetLocation,
        next: Option<&str>,
    ) -> Result<FleetSessionsPage, GameLiftError> {
        self.inner.fleet_sessions(fleet, next).await
    }
    async fn set_session_policy(
        &self,
        arn: &GameSessionArn,
        policy: &fleet_core::ports::SessionPolicy,
    ) -> Result<(), GameLiftError> {
        self.inner.set_session_policy(arn, policy).await
    }
    async fn list_locations(
        &self,
    ) -> Result<Vec<fleet_core::ports::LocationBeacon>, GameLiftError> {
        self.inner.list_locations().await
    }
    async fn player_connections(
        &self,
        arn: &GameSessionArn,
        players: &[PlayerId],
    ) -> Result<Vec<fleet_core::ports::PlayerConnection>, GameLiftError> {
        self.inner.player_connections(arn, players).await
    }
}

type D = MemDeps<Scripted>;

fn stack(mode: Mode) -> D {
    let store = Arc::new(MemoryStore::new());
    deps_with(store.clone(), Scripted::new(store, mode))
}

/// A stack whose next GameLift calls fail ambiguously, one per error message.
fn stack_failing(errors: &[&str]) -> D {
    let d = stack(Mode::default());
    for e in errors {
        d.gamelift
            .inner
            .fail_next(GameLiftError::Ambiguous((*e).into()));
    }
    d
}

/// One named scenario's violations, each prefixed with its name.
struct Scenario {
    name: &'static str,
    violations: Vec<String>,
}

impl Scenario {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            violations: Vec::new(),
        }
    }

    /// Checks a condition, recording a violation when it fails.
    fn check(&mut self, ok: bool, what: String) {
        if !ok {
            self.violations.push(format!("{}: {what}", self.name));
        }
    }

    /// Checks that `a` has status `status`, recording `what` and the answer when it does not.
    fn answered(&mut self, a: &Answer, status: u16, what: &str) {
        self.check(
            a.status == status,
            format!("{what} {} {}", a.status, a.body),
        );
    }

    /// Checks that one key started one placement in GameLift, naming `case` when it did not.
    fn one_start(&mut self, d: &D, case: &str) {
        let starts = d.gamelift.starts();
        self.check(starts == 1, format!("{case}{starts} starts for one key"));
    }

    /// Checks that placement `id` reads as `status`, recording `what` when it does not.
    async fn placement_is(&mut self, d: &D, id: &str, status: &str, what: &str) {
        let ok = placement_status(d, id).await == status;
        self.check(ok, what.to_owned());
    }

    /// Audits the table's placements and sessions `p-<n>`, naming `when` in each violation.
    async fn audit(&mut self, d: &D, placements: &[&str], sessions: &[u32], when: &str) {
        let pids: Vec<PlacementId> = placements
            .iter()
            .map(|p| PlacementId::parse(p).expect("id"))
            .collect();
        let sids: Vec<SessionId> = sessions.iter().map(|n| arn("p", *n).session_id()).collect();
        let found = audit::sessions(&audit::memory(&d.store, &pids, &sids).await);
        let name = self.name;
        self.violations
            .extend(found.into_iter().map(|v| format!("{name}{when}: {v}")));
    }
}

/// The placement id a create answered with ("" when it answered none).
fn placement_id(a: &Answer) -> String {
    a.body["placementId"].as_str().unwrap_or("").to_owned()
}

async fn create(d: &D, who: &str, body: &str, key: Option<&str>) -> Answer {
    let mut ev = Ev::post("/v1/sessions", body.to_owned()).by(Who::player(who));
    if let Some(k) = key {
        ev = ev.header("Idempotency-Key", k);
    }
    api(d, ev).await
}

async fn placement_status(d: &D, id: &str) -> String {
    let a = api(
        d,
        Ev::get(&format!("/v1/placements/{id}")).by(Who::iam(SERVICE)),
    )
    .await;
    a.body["status"].as_str().unwrap_or("?").to_owned()
}

async fn deliver(d: &D, bodies: &[String]) -> usize {
    process(&d.store, sqs_batch("m-", bodies))
        .await
        .0
        .batch_item_failures
        .len()
}

/// A fresh stack on which ann created a placement for herself (cap `max`); its id.
async fn created_by_ann(max: u32) -> (D, String) {
    let d = stack(Mode::default());
    let a = create(&d, "ann", &create_body(max, &["ann"]), None).await;
    let id = placement_id(&a);
    (d, id)
}

/// Delivers placement `p-<n>`'s PlacementFulfilled (into session `n`, for `player`), `at_s` seconds
/// after T0; the number of batch item failures.
async fn fulfil(d: &D, n: u32, player: &str, at_s: i64) -> usize {
    let body = fulfilled_body("p", &n.to_string(), n, &[player], T0.plus_secs(at_s));
    deliver(d, &[body]).await
}

/// Registers session `n` in the GameLift fake (so joins reach its seat accounting).
fn gamelift_knows(d: &D, n: u32, max: u32) {
    d.gamelift.inner.add_session(&arn("p", n), "ACTIVE", max);
}

async fn run_sweeper(d: &D) -> SweepSummary {
    let limits = SweepLimits::from_config(&d.config);
    sweep(
        &d.store,
        &d.gamelift,
        &d.clock,
        &limits,
        Instant::now() + Duration::from_secs(60),
        &mut Metrics::new("sweeper"),
    )
    .await
    .unwrap_or_else(|e| panic!("sweeper: {e:?}"))
}

/// Past every placement's deadline.
fn past_deadline(d: &D) {
    d.clock
        .advance_secs(d.config.placement_timeout_secs + d.config.sweep_margin_secs + 1);
}

async fn session_json(d: &D, n: u32) -> Answer {
    api(
        d,
        Ev::get(&format!("/v1/sessions/{}", arn("p", n).session_id())).by(Who::iam(SERVICE)),
    )
    .await
}

async fn event_before_create_returns() -> Vec<String> {
    let mut s = Scenario::new("event before create returns");
    let d = stack(Mode {
        publish_on_start: Some(1),
        ..Mode::default()
    });
    let body = create_body(4, &["ann"]);
    let a = create(&d, "ann", &body, Some("k-1")).await;
    s.answered(&a, 202, "create answered");
    let id = placement_id(&a);
    let st = placement_status(&d, &id).await;
    s.check(
        st == "FULFILLED",
        format!("the create's own write overwrote the event: placement {st}"),
    );
    let sj = session_json(&d, 1).await;
    s.check(
        sj.body["status"] == "ACTIVE" && sj.body["openSlots"] == 3,
        format!("session {}", sj.body),
    );
    let again = create(&d, "ann", &body, Some("k-1")).await;
    s.check(
        again.status == 202 && again.body["placementId"] == id.as_str(),
        format!("retry {} {}", again.status, again.body),
    );
    past_deadline(&d);
    let summary = run_sweeper(&d).await;
    s.check(
        summary.resolved == 0,
        format!(
            "the sweeper resolved {} fulfilled placements",
            summary.resolved
        ),
    );
    s.placement_is(
        &d,
        &id,
        "FULFILLED",
        "the sweeper changed a terminal placement",
    )
    .await;
    s.check(
        d.gamelift.starts() == 1,
        format!("{} StartGameSessionPlacement calls", d.gamelift.starts()),
    );
    s.audit(&d, &[&id], &[1], "").await;
    s.violations
}

async fn report_before_event() -> Vec<String> {
    let mut s = Scenario::new("report before event");
    let (d, id) = created_by_ann(4).await;
    let report = json!({"id": arn("p", 1).as_str(), "playerCount": 2, "metadata": {"GameProperties": {"mode": "ranked"}}});
    let r = rpc(
        &d,
        Ev::post("/v1/rpc/update_instance_info", report.to_string()).by(Who::iam(GS_OWN)),
    )
    .await;
    s.answered(&r, 204, "early report answered");
    d.clock.advance_secs(3);
    let failed = fulfil(&d, 1, "ann", 3).await;
    s.check(failed == 0, format!("{failed} batch item failures"));
    s.placement_is(&d, &id, "FULFILLED", "placement not FULFILLED")
        .await;
    let sj = session_json(&d, 1).await;
    s.check(
        sj.body["playerCount"] == 2
            && sj.body["properties"]["mode"] == "ranked"
            && sj.body["openSlots"] == 1,
        format!("the event overwrote the earlier report: {}", sj.body),
    );
    // The same event again, and the report again: nothing moves.
    fulfil(&d, 1, "ann", 3).await;
    let sj2 = session_json(&d, 1).await;
    s.check(
        sj2.body == sj.body,
        format!("a duplicate event changed the session: {}", sj2.body),
    );
    s.audit(&d, &[&id], &[1], "").await;
    s.violations
}

async fn delete_then_late_fulfilled() -> Vec<String> {
    let mut s = Scenario::new("delete then late fulfilled");
    let (d, id) = created_by_ann(4).await;
    let del = api(
        &d,
        Ev::delete(&format!("/v1/sessions/{}", encode(arn("p", 1).as_str()))).by(Who::iam(SERVICE)),
    )
    .await;
    s.answered(&del, 204, "delete of a session not seen yet answered");
    d.clock.advance_secs(5);
    let failed = fulfil(&d, 1, "ann", 5).await;
    s.check(failed == 0, format!("{failed} batch item failures"));
    let st = placement_status(&d, &id).await;
    s.check(st != "PENDING", format!("placement still {st}"));
    let sj = session_json(&d, 1).await;
    s.check(
        sj.status == 404 || sj.body["status"] == "ENDED",
        format!("the deleted session came back: {} {}", sj.status, sj.body),
    );
    gamelift_knows(&d, 1, 4);
    let j = api(
        &d,
        Ev::post(
            &format!("/v1/sessions/{}/join", arn("p", 1).session_id()),
            join_body(&["bob"]),
        )
        .by(Who::player("bob")),
    )
    .await;
    s.check(
        j.status == 409 || j.status == 404,
        format!(
            "join into a deleted session answered {} {}",
            j.status, j.body
        ),
    );
    let list = api(&d, Ev::get("/v1/sessions").by(Who::iam(SERVICE))).await;
    let listed = list.body["sessions"]
        .as_array()
        .map(|v| v.len())
        .unwrap_or(0);
    s.check(
        listed == 0,
        format!("{listed} sessions listed after the delete"),
    );
    s.audit(&d, &[&id], &[1], "").await;
    s.violations
}

async fn retry_after_ambiguous_error() -> Vec<String> {
    let mut s = Scenario::new("retry after ambiguous GameLift error");
    let body = create_body(4, &["ann"]);
    // (a) It took effect and only the answer was lost: 202, and the retry is the same placement.
    let d = stack(Mode {
        lose_start_answer: true,
        ..Mode::default()
    });
    let a = create(&d, "ann", &body, Some("amb-1")).await;
    s.answered(&a, 202, "(a) lost answer gave");
    let b = create(&d, "ann", &body, Some("amb-1")).await;
    s.check(
        b.status == 202 && b.body["placementId"] == a.body["placementId"],
        format!("(a) retry {} {}", b.status, b.body),
    );
    s.one_start(&d, "(a) ");
    // (b) It did not take effect: the placement is FAILED, the answer 503, and the retry with the same
    // key starts nothing new (documented: a new key starts a new placement).
    let d = stack_failing(&["injected 500"]);
    let a = create(&d, "ann", &body, Some("amb-2")).await;
    s.answered(&a, 503, "(b) a start that never happened gave");
    let b = create(&d, "ann", &body, Some("amb-2")).await;
    let id = placement_id(&b);
    s.check(
        b.status == 202 && b.body["status"] == "FAILED",
        format!("(b) retry {} {}", b.status, b.body),
    );
    s.one_start(&d, "(b) ");
    s.placement_is(&d, &id, "FAILED", "(b) placement not FAILED")
        .await;
    // (c) The start and the describe both fail: 202 PENDING. The retry is the same placement: its
    // describe finds that GameLift never had it, so the retry starts it, with the same id (the one
    // start GameLift accepted); after the deadline the sweeper finds it PENDING in GameLift and
    // leaves it. Without a retry the sweeper resolves it (GameLift never had it → FAILED): (b).
    let d = stack_failing(&["injected timeout", "injected timeout"]);
    let a = create(&d, "ann", &body, Some("amb-3")).await;
    s.answered(&a, 202, "(c) unknown outcome gave");
    let b = create(&d, "ann", &body, Some("amb-3")).await;
    s.check(
        b.body["placementId"] == a.body["placementId"],
        format!("(c) retry got another placement: {}", b.body),
    );
    let id = placement_id(&a);
    let known = match PlacementId::parse(&id) {
        Ok(pid) => d.gamelift.inner.describe_placement(&pid).await.is_ok(),
        Err(_) => false,
    };
    s.check(d.gamelift.starts() == 2 && known,
        format!(
            "(c) {} start calls for one key (want the lost one and the retry's), GameLift has it: {known}",
            d.gamelift.starts()
        ),
    );
    past_deadline(&d);
    run_sweeper(&d).await;
    let st = placement_status(&d, &id).await;
    s.check(
        st == "PENDING",
        format!("(c) after the sweeper (GameLift still places it): {st}"),
    );
    s.violations
}

async fn same_key_different_body() -> Vec<String> {
    let mut s = Scenario::new("same key different body");
    let d = stack(Mode::default());
    let a = create(&d, "ann", &create_body(4, &["ann"]), Some("same")).await;
    let b = create(&d, "ann", &create_body(5, &["ann"]), Some("same")).await;
    s.check(
        b.status == 422 && b.code() == "idempotency_mismatch",
        format!("different body gave {} {}", b.status, b.body),
    );
    let c = create(
        &d,
        "ann",
        &json!({"players": [{"playerId": "ann"}], "maxPlayers": 4}).to_string(),
        Some("same"),
    )
    .await;
    s.check(
        c.status == 202 && c.body["placementId"] == a.body["placementId"],
        format!("same body, other key order: {} {}", c.status, c.body),
    );
    s.one_start(&d, "");
    // Another caller's identical key is another placement.
    let o = create(&d, "bob", &create_body(4, &["bob"]), Some("same")).await;
    s.check(
        o.status == 202 && o.body["placementId"] != a.body["placementId"],
        format!("other caller {} {}", o.status, o.body),
    );
    let p = api(
        &d,
        Ev::get(&format!(
            "/v1/placements/{}",
            a.body["placementId"].as_str().unwrap_or("")
        ))
        .by(Who::player("ann")),
    )
    .await;
    s.check(
        p.status == 200 && p.body["status"] == "PENDING",
        format!("first placement {}", p.body),
    );
    s.violations
}

async fn stop_after_fulfilled() -> Vec<String> {
    let mut s = Scenario::new("stop after fulfilled");
    let (d, id) = created_by_ann(4).await;
    fulfil(&d, 1, "ann", 2).await;
    let before = session_json(&d, 1).await;
    // The stop lands after GameLift placed it: its PlacementCancelled arrives late, twice.
    let cancel = unfulfilled_body("p", "1", "PlacementCancelled", T0.plus_secs(3));
    let failed = deliver(&d, &[cancel.clone(), cancel]).await;
    s.check(failed == 0, format!("{failed} batch item failures"));
    s.placement_is(
        &d,
        &id,
        "FULFILLED",
        "a late cancel moved a fulfilled placement",
    )
    .await;
    let after = session_json(&d, 1).await;
    s.check(
        after.body == before.body,
        format!("the cancel changed the session: {}", after.body),
    );
    // And the other way round: cancelled first, the fulfilment late: the first outcome stays.
    let b = create(&d, "bob", &create_body(4, &["bob"]), None).await;
    let id2 = placement_id(&b);
    deliver(
        &d,
        &[unfulfilled_body(
            "p",
            "2",
            "PlacementCancelled",
            T0.plus_secs(2),
        )],
    )
    .await;
    fulfil(&d, 2, "bob", 3).await;
    s.placement_is(
        &d,
        &id2,
        "CANCELLED",
        "a late fulfilment moved a cancelled placement",
    )
    .await;
    past_deadline(&d);
    run_sweeper(&d).await;
    s.placement_is(&d, &id, "FULFILLED", "the sweeper moved it")
        .await;
    s.audit(&d, &[&id, &id2], &[1, 2], "").await;
    s.violations
}

async fn seat_expiry_during_join() -> Vec<String> {
    let mut s = Scenario::new("seat expiry during join");
    for (case, fail) in [
        ("GameLift accepts", None),
        ("GameLift refuses", Some(GameLiftError::Full)),
        (
            "GameLift times out",
            Some(GameLiftError::Ambiguous("timeout".into())),
        ),
    ] {
        let (d, id) = created_by_ann(3).await;
        fulfil(&d, 1, "ann", 1).await;
        gamelift_knows(&d, 1, 3);
        // bob's join: while GameLift is being asked, 61 s pass and the sweeper expires every reservation.
        *d.gamelift
            .mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Mode {
            sweep_during_join: Some((62, fail.clone())),
            ..Mode::default()
        };
        let sid = arn("p", 1).session_id();
        let j = api(
            &d,
            Ev::post(&format!("/v1/sessions/{sid}/join"), join_body(&["bob"]))
                .by(Who::player("bob")),
        )
        .await;
        let want = if fail.is_none() {
            200
        } else if matches!(fail, Some(GameLiftError::Full)) {
            409
        } else {
            503
        };
        s.check(
            j.status == want,
            format!("{case}: join answered {} {}", j.status, j.body),
        );
        *d.gamelift
            .mode
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Mode::default();
        s.audit(&d, &[&id], &[1], &format!(" ({case})")).await;
        // More joins later: never past the cap, counters still right.
        d.clock.advance_secs(62);
        for p in ["cy", "dan", "eve", "fay"] {
            api(
                &d,
                Ev::post(&format!("/v1/sessions/{sid}/join"), join_body(&[p])).by(Who::player(p)),
            )
            .await;
        }
        let seats = d.store.seats_of(&sid);
        let live = seats
            .iter()
            .filter(|x| x.status == fleet_core::model::SeatStatus::Reserved)
            .count();
        s.check(
            live <= 3,
            format!("{case}: {live} live seats on a cap of 3"),
        );
        s.audit(&d, &[&id], &[1], &format!(" ({case}) after more joins"))
            .await;
    }
    s.violations
}

#[tokio::test]
async fn the_seven_named_hazards_through_the_real_handlers() {
    let scenarios = [
        (
            "event before create returns",
            event_before_create_returns().await,
        ),
        ("report before event", report_before_event().await),
        (
            "delete then late fulfilled",
            delete_then_late_fulfilled().await,
        ),
        (
            "retry after ambiguous GameLift error",
            retry_after_ambiguous_error().await,
        ),
        ("same key different body", same_key_different_body().await),
        ("stop after fulfilled", stop_after_fulfilled().await),
        ("seat expiry during join", seat_expiry_during_join().await),
    ];
    let failed: Vec<&str> = scenarios
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, _)| *n)
        .collect();
    let all: Vec<String> = scenarios
        .iter()
        .flat_map(|(_, v)| v.iter().cloned())
        .collect();
    let detail = format!(
        "{}/{} named scenarios through api/rpc/placement-events/sweeper on the in-memory store",
        scenarios.len() - failed.len(),
        scenarios.len()
    );
    let (tried, failing) = (scenarios.len() as u64, failed.len() as u64);
    scorecard::record("R03 hazards", tried, failing, &detail);
    assert!(all.is_empty(), "{}", all.join("\n"));
}

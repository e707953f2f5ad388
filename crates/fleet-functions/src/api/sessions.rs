//! Session routes: create (a placement), list, get, join, delete.
//!
//! # Create
//!
//! The body is validated completely (docs/architecture.md#limits) before anything is written or called. The placement
//! row (PENDING, with its requester, players and a deadline of the queue timeout plus the sweep
//! margin) and the idempotency record are written in one step, then GameLift's
//! StartGameSessionPlacement is called once: 1 GameLift call and 1 store write.
//!
//! * Same `(caller, Idempotency-Key)` and same body → 202 with the first placement (its current
//!   status, and its reason if it failed). A key whose first create failed before GameLift accepted
//!   it keeps answering that FAILED placement: use a new key to try again. A PENDING one is first
//!   described by its own id (one DescribeGameSessionPlacement), because the first attempt may have
//!   written it and never reached GameLift (its answer lost, a crash): GameLift never heard of it →
//!   it is started now with the same id, so a retried create ends in a real placement.
//! * Same key, different body → 422 `idempotency_mismatch`.
//! * GameLift's answer is ambiguous (timeout, 5xx) → one DescribeGameSessionPlacement of **the same**
//!   id: found → 202 (events and the sweeper take it from there); not found → GameLift never started
//!   it: the row is marked FAILED and the answer is 503; the describe fails too → 202, because the
//!   row is PENDING with a deadline and the sweeper resolves it with the same describe. A second
//!   placement with a new id is never started.
//! * GameLift refuses (invalid 400, throttled 429, anything else 503) → the row is marked FAILED
//!   (a second write), so nothing stays PENDING for a placement that does not exist.
//! * GameLift accepts but its answer already carries a terminal status (FAILED, CANCELLED,
//!   TIMED_OUT) → the row is finished with it at once (a second write) and the answer is 202 with
//!   that status and its reason; subscribers hear it like any result.
//!
//! # Join
//!
//! One store transaction reserves a seat per player (refused locally: 404 unknown, 409 ended, locked,
//! full or already seated), then one CreatePlayerSessions call, then (on a player-gateway fleet only)
//! one GetPlayerConnectionDetails for every player's relay endpoints and token. If GameLift refuses (full, not active, not
//! found, invalid) the reservation is released and the answer is 409 with GameLift's reason; throttled
//! → released, 429; ambiguous → released, 503 (GameLift stays the authority on seats).

use fleet_core::auth::{self, Caller};
use fleet_core::ids::{PlayerId, SessionRef};
use fleet_core::limits::SEAT_RESERVATION_SECS;
use fleet_core::model::{Placement, PlacementStatus, PlayerSession, Session};
use fleet_core::ports::{
    Applied, Clock, CreateOutcome, GameLift, GameLiftError, IdempotencyRecord, Ids, JoinRefused,
    ListRequest, PendingCap, PlacementOutcome, PlayerConnection, SessionKey, SessionStore,
    StartPlacement,
};
use fleet_core::query;
use fleet_core::request::{self, CreateSession, JoinSession, ListParams};
use fleet_core::time::Timestamp;
use http::StatusCode;
use lambda_http::{Body, Response};

use super::http::{self as h};
use super::views::{Accepted, Joined, Listed, PlayerSessionView, SessionView};
use super::{Call, connections};
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::observability::Metrics;

/// `Retry-After` of a create refused by the cap on PENDING placements: most placements finish within
/// seconds, and the cap lifts as soon as one does.
pub const PENDING_CAP_RETRY_AFTER_SECS: u32 = 5;

/// `POST /v1/sessions`.
pub async fn create<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
) -> Result<Response<Body>, ApiError> {
    let Call {
        deps,
        req,
        caller,
        metrics,
    } = call;
    auth::may_create(caller)?;
    h::no_params(req)?;
    let create = CreateSession::parse(h::body(req)?)?;
    auth::may_create_for(caller, &create.players, &create.latencies)?;
    let key = request::parse_idempotency_key(h::header(req, "Idempotency-Key")?)?;

    let now = deps.clock.now();
    let deadline =
        now.plus_secs(deps.config.placement_timeout_secs + deps.config.sweep_margin_secs);
    let digest = create.digest();
    let placement = Placement::pending(
        create,
        deps.ids.placement_id(),
        caller.requester(),
        now,
        deadline,
    );
    let idempotency = key.map(|key| IdempotencyRecord {
        caller: caller.idempotency_scope(),
        key,
        body_digest: digest,
    });
    // A player's PENDING placements are capped (services are not): one token must not take every
    // server process and the account's StartGameSessionPlacement rate. The store counts and writes
    // in one step, so concurrent creates cannot pass the cap together.
    let cap = auth::pending_owner(&placement.requester).map(|owner| PendingCap {
        owner,
        max: deps.config.max_pending_per_player,
    });
    match deps
        .store
        .create_placement_capped(&placement, idempotency.as_ref(), cap.as_ref())
        .await?
    {
        CreateOutcome::Created => {}
        CreateOutcome::Existing(first) => return replay(deps, *first, caller, metrics, now).await,
        CreateOutcome::Mismatch => {
            return Err(ApiError::IdempotencyMismatch(
                "this Idempotency-Key was already used with a different request body".into(),
            ));
        }
        CreateOutcome::AtCap => {
            metrics.count("CreatesOverPendingCap", 1);
            return Err(ApiError::ThrottledFor {
                message: format!(
                    "this player already has {} PENDING placements; retry when one finishes",
                    deps.config.max_pending_per_player
                ),
                retry_after_secs: PENDING_CAP_RETRY_AFTER_SECS,
            });
        }
    }
    start(deps, &placement, caller, metrics, now).await
}

/// A create whose `Idempotency-Key` was used before with the same body: the first placement, once it
/// is sure to be real. A PENDING one may never have reached GameLift (the first attempt's write
/// committed but its answer was lost, or the process died before StartGameSessionPlacement), so it is
/// described by its own id: GameLift knows it → answered as it stands (an unfulfilled end GameLift
/// reports is recorded at once); GameLift never heard of it → started now, with that same id, exactly
/// as the first attempt would have; the describe fails → answered PENDING, and the sweeper resolves
/// it after its deadline. A placement is never started under a second id.
async fn replay<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    first: Placement,
    caller: &Caller,
    metrics: &mut Metrics,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    metrics.count("IdempotentReplays", 1);
    if first.status != PlacementStatus::Pending {
        return Ok(accepted(&first));
    }
    let id = &first.placement_id;
    match deps.gamelift.describe_placement(id).await {
        Ok(d) if d.status.is_terminal() && d.status != PlacementStatus::Fulfilled => {
            let reason = format!("GameLift reports the placement {}", d.status.as_str());
            let outcome = PlacementOutcome::Unfulfilled {
                status: d.status,
                reason: Some(reason.clone()),
            };
            finish_or_log(deps, &first, &outcome, now).await;
            Ok(accepted(&Placement {
                status: d.status,
                reason: Some(reason),
                ..first
            }))
        }
        // PENDING, or FULFILLED with its event on the way (the sweeper records it if the event is lost).
        Ok(_) => Ok(accepted(&first)),
        Err(GameLiftError::NotFound(_)) => {
            metrics.count("ReplaysStarted", 1);
            tracing::warn!(placement_id = %id, "replayed create: GameLift never heard of its placement; starting it now");
            start(deps, &first, caller, metrics, now).await
        }
        Err(e) => {
            tracing::warn!(placement_id = %id, error = %e, "replayed create: could not describe its placement; left to the sweeper");
            Ok(accepted(&first))
        }
    }
}

/// Calls StartGameSessionPlacement for a stored PENDING placement and settles what the answer says
/// (see the module docs): the create's second half, and a replay's when GameLift never heard of it.
async fn start<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    placement: &Placement,
    caller: &Caller,
    metrics: &mut Metrics,
    now: Timestamp,
) -> Result<Response<Body>, ApiError> {
    let id = &placement.placement_id;
    match deps
        .gamelift
        .start_placement_status(&StartPlacement {
            placement: placement.clone(),
        })
        .await
    {
        Ok(status) if status.is_terminal() && status != PlacementStatus::Fulfilled => {
            // GameLift's answer already says it ended: finish it now rather than leave it PENDING
            // until an event (or the sweeper, minutes later) says what the answer said.
            metrics.count("PlacementsEndedAtStart", 1);
            tracing::warn!(placement_id = %id, status = status.as_str(), "StartGameSessionPlacement answered a terminal status");
            let reason = format!(
                "GameLift ended the placement at once: StartGameSessionPlacement answered {}",
                status.as_str()
            );
            let outcome = PlacementOutcome::Unfulfilled {
                status,
                reason: Some(reason.clone()),
            };
            finish_or_log(deps, placement, &outcome, now).await;
            Ok(accepted(&Placement {
                status,
                reason: Some(reason),
                ..placement.clone()
            }))
        }
        Ok(_) => {
            metrics.count("PlacementsStarted", 1);
            tracing::info!(placement_id = %id, caller = caller.kind(), "placement started");
            Ok(accepted(placement))
        }
        Err(GameLiftError::Ambiguous(why)) => {
            metrics.count("PlacementsAmbiguous", 1);
            tracing::warn!(placement_id = %id, error = %why, "ambiguous StartGameSessionPlacement; describing it");
            match deps.gamelift.describe_placement(id).await {
                Ok(_) => {
                    metrics.count("PlacementsStarted", 1);
                    Ok(accepted(placement))
                }
                Err(GameLiftError::NotFound(_)) => {
                    let answer = ApiError::dependency(
                        ApiError::Unavailable(
                            "GameLift did not start the placement; retry later".into(),
                        ),
                        &why,
                    );
                    fail(deps, placement, failure_reason(&answer), now).await;
                    Err(answer)
                }
                Err(e) => {
                    // Still unknown: the row stays PENDING and the sweeper describes it after its deadline.
                    tracing::warn!(placement_id = %id, error = %e, "describe after an ambiguous start failed; left to the sweeper");
                    Ok(accepted(placement))
                }
            }
        }
        Err(GameLiftError::Invalid(why)) if deps.gamelift.describe_placement(id).await.is_ok() => {
            // GameLift refuses a PlacementId it knows: a concurrent attempt of this same create (a
            // replay racing its original) started it first. It is real; nothing to undo.
            tracing::info!(placement_id = %id, error = %why, "placement already started by a concurrent attempt of the same create");
            Ok(accepted(placement))
        }
        Err(e) => {
            metrics.count("PlacementsRefused", 1);
            let answer = match e {
                GameLiftError::Invalid(_) => ApiError::InvalidArgument {
                    field: None,
                    message: "GameLift refused the placement".into(),
                },
                GameLiftError::Throttled(_) => ApiError::Throttled(
                    "GameLift throttled the placement; retry after a backoff".into(),
                ),
                _ => ApiError::Unavailable(
                    "GameLift could not start the placement; retry later".into(),
                ),
            };
            tracing::info!(placement_id = %id, "StartGameSessionPlacement refused; marking the placement FAILED");
            let answer = ApiError::dependency(answer, &e);
            fail(deps, placement, failure_reason(&answer), now).await;
            Err(answer)
        }
    }
}

/// The reason stored on a placement GameLift never started: our own words and the request id under
/// which GameLift's own text was logged (the placement's reason reaches clients and pushes).
fn failure_reason(answer: &ApiError) -> String {
    match answer.request_id() {
        Some(id) => format!("{answer} (request id {id})"),
        None => answer.to_string(),
    }
}

/// Marks a placement GameLift never started as FAILED, so it is terminal rather than PENDING until
/// the sweeper. A failure here is logged: the row is still PENDING with a deadline, and the sweeper's
/// describe finds no placement and fails it then.
async fn fail<P: Ports<Store: SessionStore>>(
    deps: &Deps<P>,
    placement: &Placement,
    reason: String,
    at: Timestamp,
) {
    let outcome = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::Failed,
        reason: Some(reason),
    };
    finish_or_log(deps, placement, &outcome, at).await;
}

/// Writes a placement's end that the create itself learnt; a failure is logged, because the row is
/// still PENDING with a deadline and the sweeper's describe ends it then.
async fn finish_or_log<P: Ports<Store: SessionStore>>(
    deps: &Deps<P>,
    placement: &Placement,
    outcome: &PlacementOutcome,
    at: Timestamp,
) {
    let status = outcome.status().as_str();
    let id = &placement.placement_id;
    match deps.store.finish_placement(id, outcome, at).await {
        Ok(Applied::Applied) => {
            crate::placement_events::release_pending(&deps.store, placement).await
        }
        Ok(Applied::Duplicate) => {}
        Ok(other) => {
            tracing::warn!(placement_id = %id, status, outcome = ?other, "could not finish the placement")
        }
        Err(e) => {
            tracing::error!(placement_id = %id, status, error = %e, "could not finish the placement; the sweeper will")
        }
    }
}

fn accepted(p: &Placement) -> Response<Body> {
    h::json(
        StatusCode::ACCEPTED,
        &Accepted {
            placement_id: &p.placement_id,
            status: p.status,
            reason: p.reason.as_deref(),
        },
    )
}

/// `GET /v1/sessions`: one store Query per page; `explain=true` (services) adds the plan and the
/// page's measured read amplification.
pub async fn list<P: Ports<Store: SessionStore>>(
    call: Call<'_, P>,
) -> Result<Response<Body>, ApiError> {
    auth::may_read_sessions(call.caller)?;
    let pairs = h::query_pairs(call.req)?;
    h::only_params(&pairs, &["query", "limit", "cursor", "sort", "explain"])?;
    let params = ListParams::parse(&pairs)?;
    if params.explain {
        auth::may_explain(call.caller)?;
    }
    let request = ListRequest {
        query: params.query,
        sort: params.sort,
        limit: params.limit,
        cursor: params.cursor,
    };
    let plan = if params.explain {
        Some(query::plan(&request.query, request.sort).map_err(fleet_core::FieldError::from)?)
    } else {
        None
    };
    let page = call.deps.store.list_sessions(&request).await?;
    call.metrics.count("ListPages", 1);
    let explain = plan.map(|plan| {
        let mut e = plan.explain();
        e["itemsRead"] = serde_json::json!(page.items_read);
        e["itemsReturned"] = serde_json::json!(page.sessions.len());
        e["readAmplification"] = serde_json::json!(page.read_amplification());
        e
    });
    Ok(h::json(
        StatusCode::OK,
        &Listed {
            sessions: page.sessions.iter().map(SessionView::of).collect(),
            next_cursor: page.next_cursor.as_deref(),
            explain,
        },
    ))
}

/// `GET /v1/sessions/{id}`: one strongly consistent read.
pub async fn get<P: Ports<Store: SessionStore>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    auth::may_read_sessions(call.caller)?;
    h::no_params(call.req)?;
    let sref = request::parse_session_ref(segment)?;
    match call.deps.store.get_session(&sref.id()).await? {
        Some(s) => Ok(h::json(StatusCode::OK, &SessionView::of(&s))),
        None => Err(session_not_found()),
    }
}

/// The 404 of a session the table does not hold.
pub(crate) fn session_not_found() -> ApiError {
    ApiError::NotFound("session not found".into())
}

/// The 409 of a session that has ended (it stays readable, but takes no change).
pub(crate) fn session_ended() -> ApiError {
    ApiError::Conflict("the session has ended".into())
}

/// `POST /v1/sessions/{id}/join`.
pub async fn join<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    let (sref, join) = call.open_session(auth::may_join, segment, JoinSession::parse)?;
    auth::may_join_with(call.caller, &join.players)?;

    let (deps, metrics) = (call.deps, call.metrics);
    let id = sref.id();
    let players: Vec<PlayerId> = join.players.iter().map(|p| p.player_id.clone()).collect();
    let now = deps.clock.now();
    let reserved = match deps
        .store
        .reserve_seats(&id, &players, now, now.plus_secs(SEAT_RESERVATION_SECS))
        .await?
    {
        Ok(r) => r,
        Err(refused) => {
            metrics.count("JoinsRefused", 1);
            return Err(match refused {
                JoinRefused::NotFound => session_not_found(),
                JoinRefused::NotActive => session_ended(),
                JoinRefused::Full { open, wanted } => ApiError::Conflict(format!(
                    "the session is full: {open} open slots, {wanted} requested"
                )),
                JoinRefused::AlreadySeated(p) => {
                    ApiError::Conflict(format!("player {p} already has a seat in this session"))
                }
                JoinRefused::Locked => {
                    ApiError::Conflict("the session is not accepting new players".into())
                }
            });
        }
    };
    let session = reserved.session;
    if let Some(held) = reserved.rejoined {
        // The same players again while their seats are live (a client that lost the answer, or
        // reconnects): the seats they hold, without asking GameLift for more.
        metrics.count("Rejoins", 1);
        let connections = connections_or_none(deps, &session, &held, metrics).await;
        return Ok(joined(&session, &held, connections.as_deref()));
    }
    let wanted: Vec<(PlayerId, Option<String>)> = join
        .players
        .into_iter()
        .map(|p| (p.player_id, p.player_data))
        .collect();
    match deps
        .gamelift
        .create_player_sessions(&session.arn, &wanted)
        .await
    {
        Ok(player_sessions) => {
            metrics.count("Joins", 1);
            if let Err(e) = deps
                .store
                .record_player_sessions(&id, &player_sessions)
                .await
            {
                // The join stands; only a repeat of it will be refused as already seated.
                tracing::warn!(session_id = %id, error = %e, "could not record the join's player sessions");
            }
            let connections = connections_or_none(deps, &session, &player_sessions, metrics).await;
            Ok(joined(&session, &player_sessions, connections.as_deref()))
        }
        Err(e) => {
            metrics.count("JoinsRefusedByGameLift", 1);
            match deps
                .store
                .release_seats(&id, &players, deps.clock.now())
                .await
            {
                Ok(_) => {}
                // The seats lapse on their own after the 60 s window; the answer stays GameLift's.
                Err(re) => {
                    tracing::error!(session_id = %id, error = %re, "could not release refused seats")
                }
            }
            let refused =
                |why: &str| ApiError::Conflict(format!("GameLift refused the join: {why}"));
            Err(match &e {
                GameLiftError::Full => {
                    ApiError::dependency(refused("the game session is full"), &e)
                }
                GameLiftError::NotActive(_) => {
                    ApiError::dependency(refused("the game session is not active"), &e)
                }
                GameLiftError::NotFound(_) => {
                    ApiError::dependency(refused("GameLift does not know the game session"), &e)
                }
                GameLiftError::Invalid(_) => {
                    ApiError::dependency(refused("GameLift found the request invalid"), &e)
                }
                _ => e.into(),
            })
        }
    }
}

/// The joined players' connections; `None` when GameLift could not give a gateway fleet's: the
/// join stands (its player sessions exist), and the client asks the connection route.
async fn connections_or_none<P: Ports<GameLift: GameLift>>(
    deps: &Deps<P>,
    session: &Session,
    player_sessions: &[PlayerSession],
    metrics: &mut Metrics,
) -> Option<Vec<PlayerConnection>> {
    let players: Vec<PlayerId> = player_sessions
        .iter()
        .map(|ps| ps.player_id.clone())
        .collect();
    match connections::connections_for(deps, session, &players, metrics).await {
        Ok(c) => Some(c),
        Err(e) => {
            metrics.count("ConnectionDetailsFailed", 1);
            tracing::warn!(session_id = %session.id, error = %e, "no connection details for a join");
            None
        }
    }
}

fn joined(
    session: &Session,
    player_sessions: &[PlayerSession],
    connections: Option<&[PlayerConnection]>,
) -> Response<Body> {
    let connection_of = |ps: &PlayerSession| {
        connections.and_then(|cs| cs.iter().find(|c| c.player_id == ps.player_id))
    };
    h::json(
        StatusCode::OK,
        &Joined {
            session: SessionView::of(session),
            player_sessions: player_sessions
                .iter()
                .map(|ps| PlayerSessionView::of(ps, Some(session)).connected(connection_of(ps)))
                .collect(),
        },
    )
}

/// `DELETE /v1/sessions/{id}[?terminate=true]`: services only. With `terminate=true` the session is
/// first terminated in GameLift (an unknown or already ended one there is fine), so a GameLift failure
/// leaves the table unchanged; then the session becomes an ENDED tombstone. A session named by ARN
/// that this system has not seen yet is recorded as ended, so its late placement event cannot bring
/// it to life.
pub async fn delete<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    auth::may_delete(call.caller)?;
    let params = h::query_pairs(call.req)?;
    h::only_params(&params, &["terminate"])?;
    let terminate = match params.first().map(|(_, v)| v.as_str()) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("terminate", "must be true or false")),
    };
    let sref = request::parse_session_ref(segment)?;
    if terminate {
        let arn = match &sref {
            SessionRef::Arn(a) => a.clone(),
            SessionRef::Id(id) => {
                call.deps
                    .store
                    .get_session(id)
                    .await?
                    .ok_or_else(session_not_found)?
                    .arn
            }
        };
        match call.deps.gamelift.terminate_game_session(&arn).await {
            Ok(()) | Err(GameLiftError::NotFound(_) | GameLiftError::NotActive(_)) => {}
            Err(e) => return Err(e.into()),
        }
        call.metrics.count("SessionsTerminated", 1);
    }
    let key = match &sref {
        SessionRef::Arn(a) => SessionKey::Arn(a),
        SessionRef::Id(id) => SessionKey::Id(id),
    };
    end_session(call, key, "SessionsDeleted").await
}

/// Ends the session `key` names (an ENDED tombstone, whatever it was) and answers 204, counted as
/// `metric`; a short id the table does not hold is 404.
pub(crate) async fn end_session<P: Ports<Store: SessionStore>>(
    call: Call<'_, P>,
    key: SessionKey<'_>,
    metric: &'static str,
) -> Result<Response<Body>, ApiError> {
    match call
        .deps
        .store
        .end_session(key, call.deps.clock.now())
        .await?
    {
        Applied::Unknown => Err(session_not_found()),
        Applied::Applied | Applied::Duplicate | Applied::Refused => {
            call.metrics.count(metric, 1);
            Ok(h::no_content())
        }
    }
}

//! The placement routes: `GET /v1/placements/{placementId}` reads a create's result;
//! `DELETE /v1/placements/{placementId}` cancels a PENDING one ([`cancel`]).
//!
//! The read is one read, plus one read of the session once FULFILLED.
//!
//! The second read stays: answering from the placement alone would need a copy of the session on it,
//! which would show the player count and open slots as they were at fulfilment (the session item is
//! the one reports and joins keep current) and, with its data, could take the placement item past
//! its size budget. Both keys are only known in turn (the session's id is on the placement), so the
//! reads cannot share one request.
//!
//! A placement the caller may not read (a player who neither requested it nor is listed in it, a
//! game server) answers exactly like one that does not exist, so ids cannot be probed. A player sees
//! only its own player session; a service sees all of them.

use fleet_core::auth::{self, Caller, Denied};
use fleet_core::ids::PlacementId;
use fleet_core::model::{Placement, PlacementStatus};
use fleet_core::ports::{Applied, Clock, GameLift, GameLiftError, PlacementOutcome, SessionStore};
use fleet_core::request;
use fleet_core::time::Timestamp;
use http::StatusCode;
use lambda_http::{Body, Response};

use super::Call;
use super::http::{self as h};
use super::views::{Cancelled, PlacementView, PlayerSessionView, SessionView};
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::observability::Metrics;
use crate::placement_events::{self, Described};

/// `GET /v1/placements/{placementId}`.
pub async fn get<P: Ports<Store: SessionStore>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    let placement = named_placement(&call, segment).await?;
    auth::may_read_placement(call.caller, &placement)
        .map_err(|_| not_found(&placement.placement_id))?;

    let session = match (&placement.status, &placement.session_id) {
        (PlacementStatus::Fulfilled, Some(sid)) => call.deps.store.get_session(sid).await?,
        _ => None,
    };
    let player_sessions = (placement.status == PlacementStatus::Fulfilled).then(|| {
        placement
            .player_sessions
            .iter()
            .filter(|ps| auth::may_see_player_session(call.caller, &ps.player_id))
            .map(|ps| PlayerSessionView::of(ps, session.as_ref()))
            .collect()
    });
    Ok(h::json(
        StatusCode::OK,
        &PlacementView {
            placement_id: &placement.placement_id,
            status: placement.status,
            session: session.as_ref().map(SessionView::of),
            player_sessions,
            reason: placement.reason.as_deref(),
            created_at: placement.created_at,
            updated_at: placement.updated_at,
        },
    ))
}

/// The placement the path names (the routes take no query parameter), or 404.
async fn named_placement<P: Ports<Store: SessionStore>>(
    call: &Call<'_, P>,
    segment: &str,
) -> Result<Placement, ApiError> {
    h::no_params(call.req)?;
    let id = request::parse_placement_id(segment)?;
    call.deps
        .store
        .get_placement(&id)
        .await?
        .ok_or_else(|| not_found(&id))
}

/// The 404 of a placement that does not exist, and of one the caller may not see (so that ids cannot
/// be probed).
fn not_found(id: &PlacementId) -> ApiError {
    ApiError::NotFound(format!("placement {id} not found"))
}

/// `DELETE /v1/placements/{placementId}`: stops a PENDING placement (StopGameSessionPlacement) and
/// records it CANCELLED, so the player's matchmaking ends at once rather than at the queue's timeout.
///
/// The store's write is the result, like an event's: the table's stream pushes it to the placement's
/// WebSocket subscribers through the notifier, and GameLift's later `PlacementCancelled` event finds it
/// written (a duplicate). Who may: the requester and services; a listed player is 403, anyone who
/// may not read the placement 404, game servers 403.
///
/// GameLift decides a race with the fulfilment. If StopGameSessionPlacement answers that the
/// placement is no longer PENDING (InvalidRequestException: a session was already created), the
/// placement is described and whatever GameLift reports is written as its lost event would have (a
/// fulfilment with its session and seats), and the answer is 409 `conflict` naming that status. A
/// placement GameLift never heard of (a create whose start never reached it) is cancelled here alone:
/// nothing will ever start it, since a replay of its create starts only PENDING placements.
pub async fn cancel<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    auth::may_cancel(call.caller)?;
    let placement = named_placement(&call, segment).await?;
    let Call {
        deps,
        caller,
        metrics,
        ..
    } = call;
    let id = &placement.placement_id;
    match auth::may_cancel_placement(caller, &placement) {
        Ok(()) => {}
        Err(Denied::Hidden) => return Err(not_found(id)),
        Err(denied) => return Err(denied.into()),
    }
    if placement.status != PlacementStatus::Pending {
        return Err(already_finished(id, placement.status));
    }
    let now = deps.clock.now();
    let who = if matches!(caller, Caller::Service(_)) {
        "a service"
    } else {
        "its requester"
    };
    match deps.gamelift.stop_placement(id).await {
        Ok(()) | Err(GameLiftError::NotFound(_)) => {}
        Err(GameLiftError::Invalid(why)) => {
            tracing::info!(placement_id = %id, error = %why, "StopGameSessionPlacement refused: GameLift has moved on; describing it");
            return settle_race(deps, &placement, now, metrics).await;
        }
        Err(e) => return Err(e.into()),
    }
    let outcome = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::Cancelled,
        reason: Some(format!("cancelled by {who}")),
    };
    match deps.store.finish_placement(id, &outcome, now).await? {
        Applied::Applied => {
            placement_events::release_pending(&deps.store, &placement).await;
            metrics.count("PlacementsCancelled", 1);
            tracing::info!(placement_id = %id, caller = caller.kind(), "placement cancelled");
            Ok(cancelled(id))
        }
        // A concurrent cancel, or GameLift's PlacementCancelled event, wrote it first.
        Applied::Duplicate => Ok(cancelled(id)),
        Applied::Refused | Applied::Unknown => {
            let now_status = deps
                .store
                .get_placement(id)
                .await?
                .map_or(PlacementStatus::Failed, |p| p.status);
            Err(already_finished(id, now_status))
        }
    }
}

/// GameLift refused to stop the placement: it is no longer PENDING there. What it reports is written
/// (the event may be on its way; the write is guarded, so either lands once) and answered as a 409.
async fn settle_race<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    placement: &Placement,
    now: Timestamp,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    let id = &placement.placement_id;
    let description = deps.gamelift.describe_placement(id).await?;
    let reason =
        |status: PlacementStatus| format!("GameLift reports the placement {}", status.as_str());
    let outcome = match placement_events::described(placement, &description, now, reason) {
        Described::Outcome(outcome) => outcome,
        Described::Pending => {
            return Err(ApiError::Unavailable(
                "GameLift could not stop the placement yet; retry".into(),
            ));
        }
        Described::Unrecordable(why) => {
            placement_events::fail_unrecordable(&deps.store, placement, &why, now).await;
            return Err(already_finished(id, PlacementStatus::Failed));
        }
        Described::FulfilledWithoutSession => {
            return Err(already_finished(id, PlacementStatus::Fulfilled));
        }
    };
    metrics.count("CancelsLostToFulfilment", 1);
    if deps.store.finish_placement(id, &outcome, now).await? == Applied::Applied {
        placement_events::release_pending(&deps.store, placement).await;
    }
    Err(already_finished(id, outcome.status()))
}

fn already_finished(id: &PlacementId, status: PlacementStatus) -> ApiError {
    ApiError::Conflict(format!(
        "placement {id} already finished: {}",
        status.as_str()
    ))
}

fn cancelled(id: &PlacementId) -> Response<Body> {
    h::json(
        StatusCode::OK,
        &Cancelled {
            placement_id: id,
            status: PlacementStatus::Cancelled,
        },
    )
}

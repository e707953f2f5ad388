//! `GET /v1/placements/{placementId}`: one read, plus one read of the session once FULFILLED.
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

use fleet_core::auth::{self, Caller};
use fleet_core::model::PlacementStatus;
use fleet_core::ports::SessionStore;
use fleet_core::request;
use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::http::{self as h};
use super::views::{PlacementView, PlayerSessionView, SessionView};
use crate::deps::Deps;
use crate::error::ApiError;

/// `GET /v1/placements/{placementId}`.
pub async fn get<S: SessionStore, G, N, C, I>(
    deps: &Deps<S, G, N, C, I>,
    req: &Request,
    caller: &Caller,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    h::only_params(&h::query_pairs(req)?, &[])?;
    let id = request::parse_placement_id(segment)?;
    let not_found = || ApiError::NotFound(format!("placement {id} not found"));
    let placement = deps.store.get_placement(&id).await?.ok_or_else(not_found)?;
    auth::may_read_placement(caller, &placement).map_err(|_| not_found())?;

    let session = match (&placement.status, &placement.session_id) {
        (PlacementStatus::Fulfilled, Some(sid)) => deps.store.get_session(sid).await?,
        _ => None,
    };
    let player_sessions = (placement.status == PlacementStatus::Fulfilled).then(|| {
        placement
            .player_sessions
            .iter()
            .filter(|ps| auth::may_see_player_session(caller, &ps.player_id))
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

//! `PATCH /v1/sessions/{id}`: lock or unlock a session to new players, protect it from scale-in.
//!
//! GameLift is told first (UpdateGameSession with PlayerSessionCreationPolicy and ProtectionPolicy),
//! then the table: a refusal leaves the table as it was, and a failure after GameLift took the change
//! is repaired by repeating the request (setting a policy twice changes nothing). A locked session
//! has `openSlots` 0, so open-slot listings skip it, and refuses joins with 409 before any GameLift
//! call; players already seated keep their seats and a rejoin still answers them.

use fleet_core::auth;
use fleet_core::model::SessionStatus;
use fleet_core::ports::{Clock, GameLift, GameLiftError, PolicyRefused, SessionStore};
use fleet_core::request::PatchSession;
use http::StatusCode;
use lambda_http::{Body, Response};

use super::Call;
use super::http::{self as h};
use super::sessions::{session_ended, session_not_found};
use super::views::SessionView;
use crate::deps::Ports;
use crate::error::ApiError;

/// `PATCH /v1/sessions/{id}` `{joinable?, protected?}`: services, and game servers for their fleets.
pub async fn patch<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    let (sref, patch) = call.open_session(auth::may_set_policy, segment, PatchSession::parse)?;
    let deps = call.deps;
    let id = sref.id();
    let session = deps
        .store
        .get_session(&id)
        .await?
        .ok_or_else(session_not_found)?;
    auth::may_set_policy_on(call.caller, session.fleet_id.as_str())?;
    if session.status != SessionStatus::Active {
        return Err(session_ended());
    }
    match deps
        .gamelift
        .set_session_policy(&session.arn, &patch.policy)
        .await
    {
        Ok(()) => {}
        Err(e @ (GameLiftError::NotActive(_) | GameLiftError::NotFound(_))) => {
            // GameLift has moved on (the session is ending or gone): its end reaches the table by
            // its event or the sweeper.
            return Err(ApiError::dependency(
                ApiError::Conflict("GameLift says the game session is not active".into()),
                &e,
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let now = deps.clock.now();
    match deps.store.set_policy(&id, &patch.policy, now).await? {
        Ok(updated) => {
            call.metrics.count("SessionPoliciesSet", 1);
            Ok(h::json(StatusCode::OK, &SessionView::of(&updated)))
        }
        Err(PolicyRefused::NotFound) => Err(session_not_found()),
        Err(PolicyRefused::NotActive) => Err(session_ended()),
    }
}

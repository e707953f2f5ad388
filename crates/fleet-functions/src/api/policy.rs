//! `PATCH /v1/sessions/{id}`: lock or unlock a session to new players, protect it from scale-in.
//!
//! GameLift is told first (UpdateGameSession with PlayerSessionCreationPolicy and ProtectionPolicy),
//! then the table: a refusal leaves the table as it was, and a failure after GameLift took the change
//! is repaired by repeating the request (setting a policy twice changes nothing). A locked session
//! has `openSlots` 0, so open-slot listings skip it, and refuses joins with 409 before any GameLift
//! call; players already seated keep their seats and a rejoin still answers them.

use fleet_core::auth::{self, Caller};
use fleet_core::model::SessionStatus;
use fleet_core::ports::{Clock, GameLift, GameLiftError, PolicyRefused, SessionStore};
use fleet_core::request::{self, PatchSession};
use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::http::{self as h};
use super::sessions::{session_ended, session_not_found};
use super::views::SessionView;
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::observability::Metrics;

/// `PATCH /v1/sessions/{id}` `{joinable?, protected?}`: services, and game servers for their fleets.
pub async fn patch<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: &Request,
    caller: &Caller,
    segment: &str,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    auth::may_set_policy(caller)?;
    h::only_params(&h::query_pairs(req)?, &[])?;
    let sref = request::parse_session_ref(segment)?;
    let patch = PatchSession::parse(h::body(req)?)?;
    let id = sref.id();
    let session = deps
        .store
        .get_session(&id)
        .await?
        .ok_or_else(session_not_found)?;
    auth::may_set_policy_on(caller, session.fleet_id.as_str())?;
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
            metrics.count("SessionPoliciesSet", 1);
            Ok(h::json(StatusCode::OK, &SessionView::of(&updated)))
        }
        Err(PolicyRefused::NotFound) => Err(session_not_found()),
        Err(PolicyRefused::NotActive) => Err(session_ended()),
    }
}

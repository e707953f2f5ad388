//! How players reach a game session, and `POST /v1/sessions/{id}/connection`.
//!
//! On a fleet without the player gateway the game server's own address is the connection, known
//! from the session: no call. On a player-gateway fleet (`FLEETLIFT_PLAYER_GATEWAY_FLEETS`) a client
//! connects through relay endpoints with a token GameLift issues per player and lets expire, so a
//! join asks GetPlayerConnectionDetails once for all its players, and the connection route asks
//! again for fresh tokens before they expire.
//!
//! The connection route does not check seats: GameLift answers for any player id, and the game
//! server's `AcceptPlayerSession` stays the gate (a token without a player session reaches nothing).

use fleet_core::auth;
use fleet_core::ids::PlayerId;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{GameLift, GameLiftError, PlayerConnection, SessionStore};
use fleet_core::request::ConnectionRequest;
use http::StatusCode;
use lambda_http::{Body, Response};

use super::Call;
use super::http::{self as h};
use super::sessions::{session_ended, session_not_found};
use super::views::{ConnectionView, Connections};
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::observability::Metrics;

/// Whether the session's fleet has the player gateway.
pub fn has_gateway<P: Ports>(deps: &Deps<P>, session: &Session) -> bool {
    deps.config
        .player_gateway_fleets
        .iter()
        .any(|f| f == &session.fleet_id)
}

/// How `players` reach `session`: GetPlayerConnectionDetails on a player-gateway fleet (one call for
/// up to 25 players), the session's own address otherwise (no call).
pub async fn connections_for<P: Ports<GameLift: GameLift>>(
    deps: &Deps<P>,
    session: &Session,
    players: &[PlayerId],
    metrics: &mut Metrics,
) -> Result<Vec<PlayerConnection>, GameLiftError> {
    if !has_gateway(deps, session) {
        return Ok(players
            .iter()
            .map(|p| PlayerConnection::direct(p, session))
            .collect());
    }
    metrics.count("ConnectionDetailsCalls", 1);
    deps.gamelift
        .player_connections(&session.arn, players)
        .await
}

/// `POST /v1/sessions/{id}/connection`: fresh connection details for 1–25 players (a player for
/// itself, a service for anyone).
pub async fn refresh<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    segment: &str,
) -> Result<Response<Body>, ApiError> {
    let deps = call.deps;
    let (sref, wanted) = call.open_session(auth::may_connect, segment, ConnectionRequest::parse)?;
    auth::may_connect_for(call.caller, &wanted.players)?;
    let session = deps
        .store
        .get_session(&sref.id())
        .await?
        .ok_or_else(session_not_found)?;
    if session.status != SessionStatus::Active {
        return Err(session_ended());
    }
    let metrics = call.metrics;
    let connections = connections_for(deps, &session, &wanted.players, metrics)
        .await
        .map_err(|e| {
            metrics.count("ConnectionDetailsFailed", 1);
            ApiError::from(e)
        })?;
    Ok(h::json(
        StatusCode::OK,
        &Connections {
            connections: connections.iter().map(ConnectionView::of).collect(),
        },
    ))
}

//! status-rpc: the game servers' status RPCs (docs/architecture.md#http-api), on the service API (AWS_IAM) only.
//!
//! | Route | Does |
//! |---|---|
//! | `POST /v1/rpc/update_instance_info` | `{id, playerCount \| player_count, metadata?}` → 204 |
//! | `POST /v1/rpc/delete_instance_info` | `{id}` → 204 |
//!
//! Callers: game servers, on sessions of the fleets their principal is configured for (the fleet comes
//! from the ARN, or from the stored session when only the short id is given), and services on any
//! session. Players get 403.
//!
//! # update_instance_info
//!
//! Reads the session (1 read) to know its fleet and whether the report changes the game properties or
//! the name; then, only if it does, UpdateGameSession; then the report as one guarded write
//! ([`SessionStore::apply_report`]). GameLift is called **before** the write: if it fails nothing is
//! written (and a retry sees the same difference and calls it again); the other order could leave the
//! table ahead of GameLift with no retry ever noticing.
//!
//! * An ARN of a session this system has not seen yet (the placement event may come later): the
//!   report is kept and merged when the event arrives; 204. Its properties or name cannot be compared
//!   with anything, so UpdateGameSession is called when the report carries any.
//!   (The store's read does not tell a tombstone from a session never seen, so a report by ARN for a
//!   session deleted before its event may still call UpdateGameSession once before the write is
//!   refused with 409.)
//! * A short id of an unknown session: 404 (a short id cannot be turned back into an ARN).
//! * An ENDED session, or a report older than one already applied: 409 `conflict`.
//! * `GameSessionData` is stored but never sent to GameLift (UpdateGameSession cannot change it).
//!
//! # delete_instance_info
//!
//! Ends the session (an ENDED tombstone, never joinable or listed again); by ARN it works for a
//! session not seen yet too. A short id of an unknown session is 404. It never calls GameLift: the
//! game server reports its own end.

use fleet_core::auth::{self, Caller};
use fleet_core::ids::{GameSessionArn, SessionId, SessionRef};
use fleet_core::input::GameProperties;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{Applied, Clock, GameLift, SessionKey, SessionStore, StatusReport};
use fleet_core::request::{DeleteInstanceInfo, UpdateInstanceInfo};
use http::Method;
use lambda_http::{Body, Request, Response};

use crate::api::Call;
use crate::api::http as h;
use crate::api::sessions::{end_session, session_ended, session_not_found};
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::identity;

/// Handles one status RPC. Never fails: errors are answers.
pub async fn handle<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: Request,
) -> Response<Body> {
    h::serve(deps, "status-rpc", async |metrics| {
        let path = h::route_path(&req);
        let update = match (req.method(), path.as_str()) {
            (&Method::POST, "/v1/rpc/update_instance_info") => true,
            (&Method::POST, "/v1/rpc/delete_instance_info") => false,
            _ => return Err(h::unknown_route(&req, &path)),
        };
        let caller = identity::caller(&req, &deps.config)?;
        auth::may_report(&caller)?;
        h::no_params(&req)?;
        let body = h::body(&req)?;
        let call = Call {
            deps,
            req: &req,
            caller: &caller,
            metrics,
        };
        if update {
            update_instance_info(call, UpdateInstanceInfo::parse(body)?).await
        } else {
            delete_instance_info(call, DeleteInstanceInfo::parse(body)?).await
        }
    })
    .await
}

/// The stored session a game server reports on by its short id, once the caller may report on its
/// fleet (a short id of an unknown session is 404: it cannot be turned back into an ARN).
async fn session_reported_on<P: Ports<Store: SessionStore>>(
    call: &Call<'_, P>,
    id: &SessionId,
) -> Result<Session, ApiError> {
    let session = call
        .deps
        .store
        .get_session(id)
        .await?
        .ok_or_else(session_not_found)?;
    auth::may_report_on(call.caller, session.fleet_id.as_str())?;
    Ok(session)
}

async fn update_instance_info<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    call: Call<'_, P>,
    info: UpdateInstanceInfo,
) -> Result<Response<Body>, ApiError> {
    let (arn, current) = match &info.id {
        SessionRef::Arn(arn) => {
            auth::may_report_on(call.caller, arn.fleet_id())?;
            let current = call.deps.store.get_session(&arn.session_id()).await?;
            (arn.clone(), current)
        }
        SessionRef::Id(id) => {
            let s = session_reported_on(&call, id).await?;
            (s.arn.clone(), Some(s))
        }
    };
    if current
        .as_ref()
        .is_some_and(|s| s.status == SessionStatus::Ended)
    {
        return Err(session_ended());
    }
    let Call { deps, metrics, .. } = call;
    if let Some((name, properties)) = gamelift_change(current.as_ref(), &info.report)? {
        deps.gamelift
            .update_game_session(&arn, name, &properties)
            .await?;
        metrics.count("GameSessionUpdates", 1);
    }
    match deps
        .store
        .apply_report(&arn, &info.report, deps.clock.now())
        .await?
    {
        Applied::Applied | Applied::Duplicate => {
            metrics.count("Reports", 1);
            Ok(h::no_content())
        }
        Applied::Refused => {
            metrics.count("ReportsRefused", 1);
            Err(ApiError::Conflict(
                "the session has ended, or a newer report was already applied".into(),
            ))
        }
        Applied::Unknown => Err(session_not_found()),
    }
}

/// What UpdateGameSession must be told, or `None` when GameLift already has it: the reported name
/// when it differs, and the reported properties when merging them changes the session's. A session
/// not seen yet cannot be compared, so anything reported is sent.
fn gamelift_change<'r>(
    current: Option<&Session>,
    report: &'r StatusReport,
) -> Result<Option<(Option<&'r str>, GameProperties)>, ApiError> {
    let name = report
        .name
        .as_deref()
        .filter(|n| current.is_none_or(|s| s.name.as_deref() != Some(*n)));
    let properties = match (&report.properties, current) {
        (None, _) => None,
        (Some(p), None) => Some(p.clone()),
        (Some(p), Some(s)) => {
            let merged = s.properties.merged(p).map_err(|e| {
                ApiError::invalid(
                    "metadata.GameProperties",
                    format!("merged with the session's: {}", e.problem),
                )
            })?;
            (merged != s.properties).then(|| p.clone())
        }
    };
    Ok(match (name, properties) {
        (None, None) => None,
        (name, properties) => Some((name, properties.unwrap_or_default())),
    })
}

async fn delete_instance_info<P: Ports<Store: SessionStore>>(
    call: Call<'_, P>,
    info: DeleteInstanceInfo,
) -> Result<Response<Body>, ApiError> {
    let arn: Option<GameSessionArn> = match &info.id {
        SessionRef::Arn(arn) => {
            auth::may_report_on(call.caller, arn.fleet_id())?;
            Some(arn.clone())
        }
        // A service may end any session: no read needed; a game server's fleet comes from the row.
        SessionRef::Id(_) if matches!(call.caller, Caller::Service(_)) => None,
        SessionRef::Id(id) => Some(session_reported_on(&call, id).await?.arn),
    };
    let key = match (&arn, &info.id) {
        (Some(a), _) => SessionKey::Arn(a),
        (None, SessionRef::Id(id)) => SessionKey::Id(id),
        (None, SessionRef::Arn(a)) => SessionKey::Arn(a),
    };
    end_session(call, key, "SessionsEnded").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn props(pairs: &[(&str, &str)]) -> GameProperties {
        GameProperties::parse(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        )
        .unwrap()
    }

    #[test]
    fn only_a_real_difference_calls_gamelift() {
        let report = StatusReport {
            properties: Some(props(&[("mode", "ranked")])),
            ..StatusReport::default()
        };
        assert!(gamelift_change(None, &report).unwrap().is_some());
        assert!(
            gamelift_change(None, &StatusReport::default())
                .unwrap()
                .is_none()
        );
        let count_only = StatusReport {
            player_count: Some(3),
            ..StatusReport::default()
        };
        assert!(gamelift_change(None, &count_only).unwrap().is_none());
    }
}

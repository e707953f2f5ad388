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
use fleet_core::ids::{GameSessionArn, SessionRef};
use fleet_core::input::GameProperties;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{Applied, Clock, GameLift, SessionKey, SessionStore, StatusReport};
use fleet_core::request::{DeleteInstanceInfo, UpdateInstanceInfo};
use http::Method;
use lambda_http::{Body, Request, Response};

use crate::api::http as h;
use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::identity;
use crate::observability::Metrics;

/// Handles one status RPC. Never fails: errors are answers.
pub async fn handle<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: Request,
) -> Response<Body> {
    let mut metrics = Metrics::new("status-rpc");
    let result = route(deps, &req, &mut metrics).await;
    crate::error::respond(metrics, result, deps.clock.now().millis())
}

async fn route<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: &Request,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    let path = h::route_path(req);
    let update = match (req.method(), path.as_str()) {
        (&Method::POST, "/v1/rpc/update_instance_info") => true,
        (&Method::POST, "/v1/rpc/delete_instance_info") => false,
        _ => return Err(h::unknown_route(req, &path)),
    };
    let caller = identity::caller(req, &deps.config)?;
    auth::may_report(&caller)?;
    h::only_params(&h::query_pairs(req)?, &[])?;
    let body = h::body(req)?;
    if update {
        update_instance_info(deps, &caller, UpdateInstanceInfo::parse(body)?, metrics).await
    } else {
        delete_instance_info(deps, &caller, DeleteInstanceInfo::parse(body)?, metrics).await
    }
}

fn session_not_found() -> ApiError {
    ApiError::NotFound("session not found".into())
}

async fn update_instance_info<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    caller: &Caller,
    info: UpdateInstanceInfo,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    let (arn, current) = match &info.id {
        SessionRef::Arn(arn) => {
            auth::may_report_on(caller, arn.fleet_id())?;
            (
                arn.clone(),
                deps.store.get_session(&arn.session_id()).await?,
            )
        }
        SessionRef::Id(id) => {
            let s = deps
                .store
                .get_session(id)
                .await?
                .ok_or_else(session_not_found)?;
            auth::may_report_on(caller, s.fleet_id.as_str())?;
            (s.arn.clone(), Some(s))
        }
    };
    if current
        .as_ref()
        .is_some_and(|s| s.status == SessionStatus::Ended)
    {
        return Err(ApiError::Conflict("the session has ended".into()));
    }
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
    deps: &Deps<P>,
    caller: &Caller,
    info: DeleteInstanceInfo,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    let arn: Option<GameSessionArn> = match &info.id {
        SessionRef::Arn(arn) => {
            auth::may_report_on(caller, arn.fleet_id())?;
            Some(arn.clone())
        }
        // A service may end any session: no read needed; a game server's fleet comes from the row.
        SessionRef::Id(_) if matches!(caller, Caller::Service(_)) => None,
        SessionRef::Id(id) => {
            let s = deps
                .store
                .get_session(id)
                .await?
                .ok_or_else(session_not_found)?;
            auth::may_report_on(caller, s.fleet_id.as_str())?;
            Some(s.arn)
        }
    };
    let key = match (&arn, &info.id) {
        (Some(a), _) => SessionKey::Arn(a),
        (None, SessionRef::Id(id)) => SessionKey::Id(id),
        (None, SessionRef::Arn(a)) => SessionKey::Arn(a),
    };
    match deps.store.end_session(key, deps.clock.now()).await? {
        Applied::Unknown => Err(session_not_found()),
        Applied::Applied | Applied::Duplicate | Applied::Refused => {
            metrics.count("SessionsEnded", 1);
            Ok(h::no_content())
        }
    }
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

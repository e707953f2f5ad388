//! fleet-api: the HTTP API of DESIGN §3 behind API Gateway HTTP API (payload v2), as one handler that
//! routes on method and path.
//!
//! | Route | Handler |
//! |---|---|
//! | `GET /v1/health` | 200 `{"status":"ok"}`, no identity needed |
//! | `POST /v1/sessions` | [`sessions`]: create → 202 `{placementId, status}` |
//! | `GET /v1/sessions` | [`sessions`]: list → `{sessions, nextCursor?, explain?}` |
//! | `GET /v1/sessions/{id}` | [`sessions`]: get → session |
//! | `POST /v1/sessions/{id}/join` | [`sessions`]: join → `{session, playerSessions}` |
//! | `DELETE /v1/sessions/{id}` | [`sessions`]: delete → 204 |
//! | `GET /v1/placements/{placementId}` | [`placements`]: placement |
//!
//! The status RPCs are another function ([`crate::rpc`]), reachable only on the service API.
//!
//! Every answer that is not a success is an [`ApiError`] (`{"error":{"code","message","field"?}}`);
//! the handler never fails towards the Lambda runtime, and never panics on input.
//!
//! # Order of checks
//!
//! Route (404) → identity (401, or 403 for an IAM principal that is not configured) → what the caller's
//! kind may do at all (403) → query string and body (413, 400) → what the caller may do with these
//! values (403 naming the field, or 404 for a placement it may not see) → the store and GameLift.
//!
//! # Choices where the design is silent
//!
//! * An unknown method on a known path, and any unknown path, is 404 `not_found` (405 is not among the
//!   API's codes).
//! * Query parameters a route does not take are a 400 naming them, like unknown body fields.
//! * A request body on a GET or DELETE is ignored.
//! * `GET /v1/sessions/{id}` returns ENDED sessions too (status `ENDED`, `openSlots` 0) while their
//!   tombstone lasts, so a client can tell "ended" from "never existed"; they are never listed nor
//!   joinable.

pub(crate) mod http;
pub mod placements;
pub mod sessions;
pub mod views;

use fleet_core::ports::{Clock, GameLift, Ids, SessionStore};
use lambda_http::{Body, Request, Response};

use crate::deps::Deps;
use crate::error::ApiError;
use crate::identity;
use crate::observability::Metrics;

/// Handles one HTTP API request. Never fails: errors are answers.
pub async fn handle<S: SessionStore, G: GameLift, N, C: Clock, I: Ids>(
    deps: &Deps<S, G, N, C, I>,
    req: Request,
) -> Response<Body> {
    let mut metrics = Metrics::new("fleet-api");
    let result = route(deps, &req, &mut metrics).await;
    crate::error::respond(metrics, result, deps.clock.now().millis())
}

async fn route<S: SessionStore, G: GameLift, N, C: Clock, I: Ids>(
    deps: &Deps<S, G, N, C, I>,
    req: &Request,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    use ::http::Method;

    let path = http::route_path(req);
    let method = req.method().clone();
    if method == Method::GET && path == "/v1/health" {
        return Ok(http::json(
            ::http::StatusCode::OK,
            &serde_json::json!({"status": "ok"}),
        ));
    }
    let Some(rest) = path.strip_prefix("/v1/") else {
        return Err(http::unknown_route(req, &path));
    };
    // The route is known before the identity is read, so an unknown path is 404 for everyone.
    enum Route<'p> {
        Create,
        List,
        Get(&'p str),
        Join(&'p str),
        Delete(&'p str),
        Placement(&'p str),
    }
    let found = if rest == "sessions" {
        match method {
            Method::POST => Some(Route::Create),
            Method::GET => Some(Route::List),
            _ => None,
        }
    } else if let Some(tail) = rest.strip_prefix("sessions/").filter(|t| !t.is_empty()) {
        // An ARN whose `/` the gateway decoded spans several segments, so `/join` is matched as a
        // suffix rather than as the third segment.
        match (&method, tail.strip_suffix("/join")) {
            (&Method::POST, Some(id)) if !id.is_empty() => Some(Route::Join(id)),
            (_, Some(_)) => None,
            (&Method::GET, None) => Some(Route::Get(tail)),
            (&Method::DELETE, None) => Some(Route::Delete(tail)),
            _ => None,
        }
    } else if let Some(id) = rest.strip_prefix("placements/").filter(|t| !t.is_empty()) {
        (method == Method::GET).then_some(Route::Placement(id))
    } else {
        None
    };
    let Some(found) = found else {
        return Err(http::unknown_route(req, &path));
    };
    let caller = identity::caller(req, &deps.config)?;
    match found {
        Route::Create => sessions::create(deps, req, &caller, metrics).await,
        Route::List => sessions::list(deps, req, &caller, metrics).await,
        Route::Get(id) => sessions::get(deps, req, &caller, id).await,
        Route::Join(id) => sessions::join(deps, req, &caller, id, metrics).await,
        Route::Delete(id) => sessions::delete(deps, req, &caller, id, metrics).await,
        Route::Placement(id) => placements::get(deps, req, &caller, id).await,
    }
}

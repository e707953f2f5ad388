//! fleet-api: the HTTP API of docs/architecture.md#http-api behind API Gateway HTTP API (payload v2), as one handler that
//! routes on method and path.
//!
//! | Route | Handler |
//! |---|---|
//! | `GET /v1/health` | 200 `{"status":"ok"}`, no identity needed |
//! | `POST /v1/sessions` | [`sessions`]: create → 202 `{placementId, status}` |
//! | `GET /v1/sessions` | [`sessions`]: list → `{sessions, nextCursor?, explain?}` |
//! | `GET /v1/sessions/{id+}` | [`sessions`]: get → session |
//! | `POST /v1/sessions/{id+}` ending in `/join` | [`sessions`]: join → `{session, playerSessions}` |
//! | `POST /v1/sessions/{id+}` ending in `/connection` | [`connections`]: fresh connection details → `{connections}` |
//! | `PATCH /v1/sessions/{id+}` | [`policy`]: lock / protect → session |
//! | `DELETE /v1/sessions/{id+}` | [`sessions`]: delete → 204 |
//! | `GET /v1/locations` | [`locations`]: `{locations}` with ping beacons |
//! | `GET /v1/placements/{placementId}` | [`placements`]: placement |
//! | `DELETE /v1/placements/{placementId}` | [`placements`]: cancel → `{placementId, status}` |
//!
//! The session routes are greedy (see [`routes`]): `{id+}` is a short id or a session ARN, which API
//! Gateway hands over decoded, `/` and all. Any other value with a `/`, and a POST that does not end
//! in `/join` or `/connection`, is 404 like a path no route serves.
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

pub mod connections;
pub(crate) mod http;
pub mod locations;
pub mod placements;
pub mod policy;
pub mod routes;
pub mod sessions;
pub mod views;

use std::collections::BTreeMap;

use fleet_core::FieldError;
use fleet_core::auth::{Caller, Denied};
use fleet_core::ids::SessionRef;
use fleet_core::ports::{GameLift, SessionStore};
use fleet_core::request;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::identity;
use crate::observability::Metrics;

/// Handles one HTTP API request. Never fails: errors are answers.
pub async fn handle<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: Request,
) -> Response<Body> {
    http::serve(deps, "fleet-api", async |metrics| {
        route(deps, &req, metrics).await
    })
    .await
}

/// One authenticated request on its way through its route: what every route handler reads.
pub struct Call<'a, P: Ports> {
    /// The function's ports and configuration.
    pub deps: &'a Deps<P>,
    /// The request.
    pub req: &'a Request,
    /// Who sent it.
    pub caller: &'a Caller,
    /// The request's metrics.
    pub metrics: &'a mut Metrics,
}

impl<P: Ports> Call<'_, P> {
    /// The opening of a route that changes one session with a JSON body, each step refusing before
    /// the next: what the caller's kind may do (`may`), no query parameter, the session the path
    /// names (`segment`), the body as `parse` reads it.
    fn open_session<T>(
        &self,
        may: fn(&Caller) -> Result<(), Denied>,
        segment: &str,
        parse: fn(&[u8]) -> Result<T, FieldError>,
    ) -> Result<(SessionRef, T), ApiError> {
        may(self.caller)?;
        http::no_params(self.req)?;
        let sref = request::parse_session_ref(segment)?;
        Ok((sref, parse(http::body(self.req)?)?))
    }
}

async fn route<P: Ports<Store: SessionStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    req: &Request,
    metrics: &mut Metrics,
) -> Result<Response<Body>, ApiError> {
    use ::http::Method;

    let method = req.method().clone();
    let Some((template, params)) = matched_route(req) else {
        return Err(http::unknown_route(req, &http::route_path(req)));
    };
    // The route is known before the identity is read, so an unknown path is 404 for everyone.
    enum Route {
        Create,
        List,
        Get(String),
        Join(String),
        Delete(String),
        Placement(String),
        Cancel(String),
        Patch(String),
        Connection(String),
        Locations,
    }
    let param = |name: &str| params.get(name).cloned().unwrap_or_default();
    let found = match (&method, template) {
        (&Method::GET, "/v1/health") => {
            return Ok(http::json(
                ::http::StatusCode::OK,
                &serde_json::json!({"status": "ok"}),
            ));
        }
        (&Method::POST, "/v1/sessions") => Some(Route::Create),
        (&Method::GET, "/v1/locations") => Some(Route::Locations),
        (&Method::GET, "/v1/sessions") => Some(Route::List),
        (&Method::GET, "/v1/placements/{placementId}") => {
            Some(Route::Placement(param("placementId")))
        }
        (&Method::DELETE, "/v1/placements/{placementId}") => {
            Some(Route::Cancel(param("placementId")))
        }
        (&Method::GET, "/v1/sessions/{id+}") => session_id(&param("id")).map(Route::Get),
        (&Method::DELETE, "/v1/sessions/{id+}") => session_id(&param("id")).map(Route::Delete),
        (&Method::PATCH, "/v1/sessions/{id+}") => session_id(&param("id")).map(Route::Patch),
        // The greedy route carries `/join` and `/connection`: the id is what precedes them.
        (&Method::POST, "/v1/sessions/{id+}") => {
            let id = param("id");
            if let Some(s) = id.strip_suffix("/join") {
                session_id(s).map(Route::Join)
            } else {
                id.strip_suffix("/connection")
                    .and_then(session_id)
                    .map(Route::Connection)
            }
        }
        _ => None,
    };
    let Some(found) = found else {
        return Err(http::unknown_route(req, &http::route_path(req)));
    };
    let caller = identity::caller(req, &deps.config)?;
    let call = Call {
        deps,
        req,
        caller: &caller,
        metrics,
    };
    match found {
        Route::Create => sessions::create(call).await,
        Route::List => sessions::list(call).await,
        Route::Get(id) => sessions::get(call, &id).await,
        Route::Join(id) => sessions::join(call, &id).await,
        Route::Delete(id) => sessions::delete(call, &id).await,
        Route::Placement(id) => placements::get(call, &id).await,
        Route::Cancel(id) => placements::cancel(call, &id).await,
        Route::Patch(id) => policy::patch(call, &id).await,
        Route::Connection(id) => connections::refresh(call, &id).await,
        Route::Locations => locations::list(call).await,
    }
}

/// The route and path parameters of a request: what API Gateway matched (`routeKey` and
/// `pathParameters`) when the event names one of this function's routes, else the same match made
/// here on the decoded path (an event built by hand, a `$default` route).
fn matched_route(req: &Request) -> Option<(&'static str, BTreeMap<String, String>)> {
    let method = req.method().as_str();
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some((key_method, key_path)) =
            ctx.route_key.as_deref().and_then(|k| k.split_once(' '))
        && key_method == method
        && let Some(&(_, template)) = routes::FLEET_API
            .iter()
            .find(|(m, t)| *m == method && *t == key_path)
    {
        let given = req.path_parameters();
        let names = routes::parameter_names(template);
        let params: BTreeMap<String, String> = names
            .iter()
            .filter_map(|name| {
                given
                    .first(name)
                    .map(|v| ((*name).to_owned(), v.to_owned()))
            })
            .collect();
        if params.len() == names.len() {
            return Some((template, params));
        }
    }
    // Matched on the decoded path, as API Gateway does; a path that does not decode is matched as
    // it is, so its parameter reaches the handler's own check and the 400 names the field.
    let raw = http::route_path(req);
    let path = routes::decode_path(&raw).unwrap_or(raw);
    routes::find(routes::FLEET_API, method, &path)
}

/// A session id from the greedy route's value: a short id (one segment) or an ARN (which holds
/// `/`). Anything else with a `/` is a path no route of the API serves.
fn session_id(value: &str) -> Option<String> {
    (!value.is_empty() && (!value.contains('/') || value.starts_with("arn:")))
        .then(|| value.to_owned())
}

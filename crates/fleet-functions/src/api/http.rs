//! HTTP plumbing shared by fleet-api and status-rpc: the route path, strict query-string decoding,
//! the body size limit, and JSON answers.

use fleet_core::FieldError;
use fleet_core::limits::BODY_MAX_BYTES;
use fleet_core::ports::Clock;
use http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::deps::{Deps, Ports};
use crate::error::ApiError;
use crate::observability::Metrics;

/// Answers one request with what `route` makes of it, counted under `function`'s metrics. Every
/// outcome, errors included, is an answer: the handler never fails towards the Lambda runtime.
pub(crate) async fn serve<P: Ports>(
    deps: &Deps<P>,
    function: &'static str,
    route: impl AsyncFnOnce(&mut Metrics) -> Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut metrics = Metrics::new(function);
    let result = route(&mut metrics).await;
    crate::error::respond(metrics, result, deps.clock.now().millis())
}

/// The request's path: API Gateway's `rawPath` (which HTTP APIs hand over decoded; an event built by
/// hand may still carry escapes), without the stage prefix a named stage adds. Falls back to the
/// URI's path for requests built without a raw path.
pub(crate) fn route_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    let path = if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    };
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref()
        && let Some(stage) = ctx
            .stage
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "$default")
        && let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage))
        && rest.starts_with('/')
    {
        return rest.to_owned();
    }
    path.to_owned()
}

/// The query string as decoded `(name, value)` pairs, in order. Decoding is
/// `application/x-www-form-urlencoded` (what browsers and HTTP libraries send): `+` is a space, so a
/// literal `+` (a must clause in a list query) must be sent as `%2B`, which every URL encoder does.
/// Unlike lenient decoders, a broken `%` escape or non-UTF-8 bytes are a 400 naming the parameter,
/// never silently replaced.
pub(crate) fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let Some(raw) = req.uri().query() else {
        return Ok(Vec::new());
    };
    let mut pairs = Vec::new();
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = form_decode(name)
            .map_err(|why| ApiError::invalid("query string", format!("a parameter name {why}")))?;
        let value = form_decode(value).map_err(|why| ApiError::invalid(name.clone(), why))?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Refuses any query parameter except `allowed` (unknown inputs are rejected, docs/architecture.md#http-api), and any
/// parameter given twice.
pub(crate) fn only_params(pairs: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    for (i, (name, _)) in pairs.iter().enumerate() {
        // An empty name (`?=x`) has nothing to name in `field`: the query string is to blame.
        if name.is_empty() {
            return Err(ApiError::invalid(
                "query string",
                "has a parameter with an empty name",
            ));
        }
        if !allowed.contains(&name.as_str()) {
            let expected = if allowed.is_empty() {
                "this route takes none".to_owned()
            } else {
                format!("expected {}", allowed.join(", "))
            };
            return Err(ApiError::invalid(
                shown(name),
                format!("is not a known parameter; {expected}"),
            ));
        }
        if pairs[..i].iter().any(|(n, _)| n == name) {
            return Err(ApiError::invalid(
                name.clone(),
                "must be given at most once",
            ));
        }
    }
    Ok(())
}

/// Refuses every query parameter, as most routes take none.
pub(crate) fn no_params(req: &Request) -> Result<(), ApiError> {
    only_params(&query_pairs(req)?, &[])
}

/// Client text quoted in a field name: at most 64 characters.
fn shown(s: &str) -> String {
    match s.char_indices().nth(64) {
        None => s.to_owned(),
        Some((cut, _)) => format!("{}…", &s[..cut]),
    }
}

fn form_decode(s: &str) -> Result<String, String> {
    percent_decode(s, true)
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in forms); a broken escape or
/// a result that is not UTF-8 is an error saying where.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let decoded = match b {
            b'+' if plus_is_space => b' ',
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_byte) {
                Some(escaped) => {
                    i += 2;
                    escaped
                }
                None => {
                    let at = s[..i].chars().count() + 1;
                    return Err(format!(
                        "has a bad percent escape at character {at}: `%` must be followed by two hex digits"
                    ));
                }
            },
            _ => b,
        };
        out.push(decoded);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "is not UTF-8 once percent-decoded".to_owned())
}

/// The byte two hex digits spell.
fn hex_byte(digits: &[u8]) -> Option<u8> {
    let [hi, lo] = digits else { return None };
    let hex = |d: &u8| (*d as char).to_digit(16);
    Some((hex(hi)? << 4 | hex(lo)?) as u8)
}

/// The request body, refused with 413 above 300 KB before anything parses it.
pub(crate) fn body(req: &Request) -> Result<&[u8], ApiError> {
    let body: &[u8] = req.body();
    if body.len() > BODY_MAX_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "the body must be at most {BODY_MAX_BYTES} bytes (300 KB), got {}",
            body.len()
        )));
    }
    Ok(body)
}

/// A header's value as text; a value that is not visible ASCII is a 400 naming the header.
pub(crate) fn header<'r>(req: &'r Request, name: &str) -> Result<Option<&'r str>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| FieldError::new(name, "must be printable ASCII").into()),
    }
}

/// A JSON answer.
pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    match serde_json::to_string(value) {
        Ok(text) => Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::Text(text))
            .unwrap_or_else(|_| {
                ApiError::Unavailable("could not build the response".into()).to_response()
            }),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a response");
            ApiError::Unavailable("could not build the response".into()).to_response()
        }
    }
}

/// 204 No Content.
pub(crate) fn no_content() -> Response<Body> {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

/// The answer to a method and path no route serves. 405 is not among the API's codes (docs/architecture.md#http-api), so
/// an unknown method on a known path is also 404 `not_found`.
pub(crate) fn unknown_route(req: &Request, path: &str) -> ApiError {
    ApiError::NotFound(format!("no route for {} {}", req.method(), shown(path)))
}

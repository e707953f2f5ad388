//! The HTTP API's errors (DESIGN §3): one enum, one status and one stable code per variant, and the
//! body `{"error":{"code","message","field"?}}` with `content-type: application/json`.
//!
//! Handlers never return `Err` to the Lambda runtime for anything a client or a dependency did: every
//! failure becomes one of these answers. There is deliberately no 500: a stored item that cannot be
//! read back ([`StoreError::Corrupt`]) is logged as an error and answered 503, because to the client
//! it is a dependency failure and retrying later is the only thing it can do.

use fleet_core::FieldError;
use fleet_core::auth::Denied;
use fleet_core::ports::{GameLiftError, StoreError};
use http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

use crate::observability::Metrics;

/// An error answer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_argument`: the request is malformed or breaks a limit; `field` names the input.
    #[error("{message}")]
    InvalidArgument {
        /// The offending field (`players[2].playerId`, `query`, `Idempotency-Key`), when one is to blame.
        field: Option<String>,
        /// What was wrong.
        message: String,
    },
    /// 401 `unauthenticated`: no usable identity in the request context.
    #[error("{0}")]
    Unauthenticated(String),
    /// 403 `forbidden`: the caller is known but may not do this.
    #[error("{message}")]
    Forbidden {
        /// The field that made it so, when there is one.
        field: Option<String>,
        /// Why.
        message: String,
    },
    /// 404 `not_found`: no such route, or no such object (or one the caller may not see).
    #[error("{0}")]
    NotFound(String),
    /// 409 `conflict`: the object's state refuses the change (full, ended, already seated).
    #[error("{0}")]
    Conflict(String),
    /// 413 `payload_too_large`: the body is over 300 KB.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 422 `idempotency_mismatch`: the `Idempotency-Key` was used with a different body.
    #[error("{0}")]
    IdempotencyMismatch(String),
    /// 429 `throttled`: a dependency throttled the request; retry after a backoff.
    #[error("{0}")]
    Throttled(String),
    /// 503 `unavailable`: a dependency failed; nothing was left half done; retry later.
    #[error("{0}")]
    Unavailable(String),
}

impl ApiError {
    /// A 400 on `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::IdempotencyMismatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::IdempotencyMismatch(_) => "idempotency_mismatch",
            Self::Throttled(_) => "throttled",
            Self::Unavailable(_) => "unavailable",
        }
    }

    /// The field the error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidArgument { field, .. } | Self::Forbidden { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The error as a response: status, JSON body, and `retry-after` on 429 and 503.
    pub fn to_response(&self) -> Response<Body> {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        let body = json!({ "error": error }).to_string();
        let mut builder = Response::builder()
            .status(self.status())
            .header(http::header::CONTENT_TYPE, "application/json");
        if matches!(self, Self::Throttled(_) | Self::Unavailable(_)) {
            builder = builder.header(http::header::RETRY_AFTER, "1");
        }
        builder
            .body(Body::Text(body))
            .unwrap_or_else(|_| fallback(self.status()))
    }
}

/// A response that cannot fail to build: the status alone. Only reachable if a static header name or
/// value were invalid, which they are not; kept so no path can panic.
fn fallback(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::Empty);
    *r.status_mut() = status;
    r
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::InvalidArgument {
            message: e.to_string(),
            field: Some(e.field),
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Forbidden { field, message } => Self::Forbidden { field, message },
            Denied::Hidden => Self::NotFound("not found".into()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Invalid(f) => f.into(),
            StoreError::Corrupt { .. } => {
                // A bug or a hand-edited item: loud in the logs, a plain dependency failure to the client.
                tracing::error!(error = %e, "corrupt store item");
                Self::Unavailable("the session store failed; retry later".into())
            }
            StoreError::Unavailable(_) | StoreError::Throttled(_) | StoreError::Contention(_) => {
                tracing::warn!(error = %e, "store failure");
                Self::Unavailable(format!("the session store failed ({e}); retry later"))
            }
        }
    }
}

impl From<GameLiftError> for ApiError {
    fn from(e: GameLiftError) -> Self {
        match e {
            GameLiftError::Full => Self::Conflict("the game session is full".into()),
            GameLiftError::NotActive(status) => {
                Self::Conflict(format!("the game session is not active ({status})"))
            }
            GameLiftError::NotFound(what) => {
                Self::NotFound(format!("GameLift does not know {what}"))
            }
            GameLiftError::Invalid(why) => Self::InvalidArgument {
                field: None,
                message: format!("GameLift refused the request: {why}"),
            },
            GameLiftError::Throttled(why) => Self::Throttled(format!(
                "GameLift throttled the request ({why}); retry after a backoff"
            )),
            GameLiftError::Ambiguous(why) => {
                tracing::warn!(error = %why, "ambiguous GameLift failure");
                Self::Unavailable(format!("GameLift failed ({why}); retry later"))
            }
        }
    }
}

/// The end of every HTTP handler: an error becomes its answer (counted as a 4xx or a 5xx), and the
/// invocation's metrics line is written.
pub fn respond(
    mut metrics: Metrics,
    result: Result<Response<Body>, ApiError>,
    now_ms: i64,
) -> Response<Body> {
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            metrics.count(
                if e.status().is_server_error() {
                    "Errors5xx"
                } else {
                    "Errors4xx"
                },
                1,
            );
            e.to_response()
        }
    };
    metrics.flush(now_ms);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(r.body()).unwrap()
    }

    #[test]
    fn every_error_has_its_status_code_and_json_body() {
        let cases = [
            (
                ApiError::invalid("maxPlayers", "bad"),
                400,
                "invalid_argument",
            ),
            (
                ApiError::Unauthenticated("x".into()),
                401,
                "unauthenticated",
            ),
            (
                ApiError::Forbidden {
                    field: None,
                    message: "x".into(),
                },
                403,
                "forbidden",
            ),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (
                ApiError::PayloadTooLarge("x".into()),
                413,
                "payload_too_large",
            ),
            (
                ApiError::IdempotencyMismatch("x".into()),
                422,
                "idempotency_mismatch",
            ),
            (ApiError::Throttled("x".into()), 429, "throttled"),
            (ApiError::Unavailable("x".into()), 503, "unavailable"),
        ];
        for (e, status, code) in cases {
            let r = e.to_response();
            assert_eq!(r.status().as_u16(), status);
            assert_eq!(r.headers()["content-type"], "application/json");
            let b = body(&r);
            assert_eq!(b["error"]["code"], code);
            assert!(b["error"]["message"].is_string());
        }
        assert_eq!(
            body(&ApiError::invalid("maxPlayers", "bad").to_response())["error"]["field"],
            "maxPlayers"
        );
    }

    #[test]
    fn a_corrupt_item_is_a_503_not_a_500() {
        let e: ApiError = StoreError::Corrupt {
            key: "k".into(),
            reason: "r".into(),
        }
        .into();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        let e: ApiError = StoreError::Invalid(FieldError::new("cursor", "tampered")).into();
        assert_eq!(
            (e.status(), e.field()),
            (StatusCode::BAD_REQUEST, Some("cursor"))
        );
    }
}

//! The HTTP API's errors (docs/architecture.md#http-api): one enum, one status and one stable code per variant, and the
//! body `{"error":{"code","message","field"?,"requestId"?}}` with `content-type: application/json`.
//!
//! Bodies carry only our own messages. What a dependency said (DynamoDB's or GameLift's text, which
//! can name a role ARN or an account id) goes to the log under a fresh request id, and the body
//! repeats that id as `requestId` ([`ApiError::dependency`]): on every 5xx, and on a 4xx a dependency
//! caused (GameLift refusing a join, say), so an operator finds the cause from the client's report.
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
    /// 429 `throttled` with a longer `Retry-After`: the caller reached one of its own limits (its
    /// PENDING placements), which lifts only when something finishes.
    #[error("{message}")]
    ThrottledFor {
        /// Why.
        message: String,
        /// The `Retry-After` seconds.
        retry_after_secs: u32,
    },
    /// 503 `unavailable`: a dependency failed; nothing was left half done; retry later.
    #[error("{0}")]
    Unavailable(String),
    /// An answer a dependency caused: `answer` (with our own message) plus the id under which the
    /// dependency's own text was logged. Built by [`ApiError::dependency`].
    #[error("{answer}")]
    Dependency {
        /// What the client is told (never a `Dependency` itself).
        answer: Box<ApiError>,
        /// The id the log line carries; the body repeats it as `requestId`.
        request_id: String,
    },
}

/// A fresh id for one error answer and its log line.
fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl ApiError {
    /// A 400 on `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// `answer`, caused by a dependency whose own words are `detail`: `detail` is logged (error for a
    /// 5xx, warning otherwise) with a fresh request id, and only `answer`'s message and that id reach
    /// the client.
    pub fn dependency(answer: ApiError, detail: &dyn std::fmt::Display) -> Self {
        let answer = match answer {
            // Already logged under its own id: keep that one.
            Self::Dependency { .. } => return answer,
            other => other,
        };
        let request_id = new_request_id();
        let status = answer.status().as_u16();
        if answer.status().is_server_error() {
            tracing::error!(request_id = %request_id, status, answer = %answer, error = %detail, "dependency failure");
        } else {
            tracing::warn!(request_id = %request_id, status, answer = %answer, error = %detail, "dependency refusal");
        }
        Self::Dependency {
            answer: Box::new(answer),
            request_id,
        }
    }

    /// The request id the body carries, when a dependency caused the error.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Dependency { request_id, .. } => Some(request_id),
            _ => None,
        }
    }

    /// The answer itself, seen through a [`ApiError::Dependency`].
    fn answer(&self) -> &Self {
        match self {
            Self::Dependency { answer, .. } => answer.answer(),
            other => other,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.answer() {
            Self::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::IdempotencyMismatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Throttled(_) | Self::ThrottledFor { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Dependency { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self.answer() {
            Self::InvalidArgument { .. } => "invalid_argument",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::IdempotencyMismatch(_) => "idempotency_mismatch",
            Self::Throttled(_) | Self::ThrottledFor { .. } => "throttled",
            Self::Unavailable(_) | Self::Dependency { .. } => "unavailable",
        }
    }

    /// The field the error names, if any.
    pub fn field(&self) -> Option<&str> {
        match self.answer() {
            Self::InvalidArgument { field, .. } | Self::Forbidden { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The error as a response: status, JSON body, and `retry-after` on 429 and 503. Every 5xx
    /// carries a request id: one a dependency error was logged under, or a fresh one logged here.
    pub fn to_response(&self) -> Response<Body> {
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        if let Some(field) = self.field() {
            error["field"] = json!(field);
        }
        let request_id = match self.request_id() {
            Some(id) => Some(id.to_owned()),
            None if self.status().is_server_error() => {
                let id = new_request_id();
                tracing::error!(request_id = %id, status = self.status().as_u16(), answer = %self, "answered a server error");
                Some(id)
            }
            None => None,
        };
        if let Some(id) = request_id {
            error["requestId"] = json!(id);
        }
        let body = json!({ "error": error }).to_string();
        let mut builder = Response::builder()
            .status(self.status())
            .header(http::header::CONTENT_TYPE, "application/json");
        match self.answer() {
            Self::Throttled(_) | Self::Unavailable(_) => {
                builder = builder.header(http::header::RETRY_AFTER, "1");
            }
            Self::ThrottledFor {
                retry_after_secs, ..
            } => {
                builder = builder.header(http::header::RETRY_AFTER, retry_after_secs.to_string());
            }
            _ => {}
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
    /// A store failure: a bad client value is the client's 400 (our own validation's words); anything
    /// else is a dependency failure whose text (DynamoDB's) stays in the log.
    fn from(e: StoreError) -> Self {
        let answer = match &e {
            StoreError::Invalid(f) => return f.clone().into(),
            // A bug or a hand-edited item: loud in the logs, a plain dependency failure to the client.
            StoreError::Corrupt { .. } => {
                Self::Unavailable("the session store failed; retry later".into())
            }
            StoreError::Unavailable(_) | StoreError::Contention(_) => {
                Self::Unavailable("the session store is unavailable; retry later".into())
            }
            StoreError::Throttled(_) => {
                Self::Unavailable("the session store is busy; retry later".into())
            }
            // Never expected for input the limits allow; loud in the logs.
            StoreError::Refused(_) => {
                Self::Unavailable("the session store could not record this request".into())
            }
        };
        Self::dependency(answer, &e)
    }
}

impl From<GameLiftError> for ApiError {
    /// A GameLift failure, in our own words; GameLift's message stays in the log.
    fn from(e: GameLiftError) -> Self {
        let answer = match &e {
            GameLiftError::Full => Self::Conflict("the game session is full".into()),
            GameLiftError::NotActive(_) => Self::Conflict("the game session is not active".into()),
            GameLiftError::NotFound(_) => {
                Self::NotFound("GameLift does not know the game session".into())
            }
            GameLiftError::Invalid(_) => Self::InvalidArgument {
                field: None,
                message: "GameLift refused the request".into(),
            },
            GameLiftError::Throttled(_) => {
                Self::Throttled("GameLift throttled the request; retry after a backoff".into())
            }
            GameLiftError::Ambiguous(_) => Self::Unavailable("GameLift failed; retry later".into()),
        };
        Self::dependency(answer, &e)
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
    fn a_dependency_error_answers_its_own_status_and_words_with_the_request_id() {
        let e = ApiError::dependency(
            ApiError::Throttled("GameLift throttled the request".into()),
            &"ThrottlingException: arn:aws:iam::1:role/x",
        );
        let r = e.to_response();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        let b = body(&r);
        assert_eq!(b["error"]["code"], "throttled");
        assert_eq!(b["error"]["message"], "GameLift throttled the request");
        assert_eq!(b["error"]["requestId"].as_str(), e.request_id());
        // Wrapping again keeps the first id (it is the one logged).
        let again = ApiError::dependency(e.clone(), &"x");
        assert_eq!(again.request_id(), e.request_id());
        // A 5xx without a dependency still gets an id; a plain 4xx does not.
        let b = body(&ApiError::Unavailable("x".into()).to_response());
        assert!(b["error"]["requestId"].is_string());
        let b = body(&ApiError::Conflict("x".into()).to_response());
        assert!(b["error"].get("requestId").is_none());
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

//! Errors: [`ApiError`] is what a client sees on the wire; [`SimError`] is for library callers.

/// An error returned to an API client, named like GameLift's error shapes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// The error shape name, sent as `__type` (e.g. `InvalidRequestException`).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// HTTP status.
    pub status: u16,
}

impl ApiError {
    /// An error with an explicit code and status.
    pub fn new(code: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            status,
        }
    }
    /// `InvalidRequestException` (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("InvalidRequestException", 400, message)
    }
    /// `NotFoundException` (400, as GameLift sends it).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("NotFoundException", 400, message)
    }
    /// `GameSessionFullException` (400).
    pub fn full(message: impl Into<String>) -> Self {
        Self::new("GameSessionFullException", 400, message)
    }
    /// `InvalidGameSessionStatusException` (400).
    pub fn bad_status(message: impl Into<String>) -> Self {
        Self::new("InvalidGameSessionStatusException", 400, message)
    }
    /// `ThrottlingException` (400, as AWS JSON services send it).
    pub fn throttled() -> Self {
        Self::new("ThrottlingException", 400, "Rate exceeded")
    }
    /// `SerializationException` (400): the body could not be read.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }
    /// `UnknownOperationException` (404 for RPC v2 CBOR, 400 for JSON 1.1; set by the caller).
    pub fn unknown_operation(op: &str, status: u16) -> Self {
        Self::new(
            "UnknownOperationException",
            status,
            format!("unknown operation {op}"),
        )
    }
    /// `MissingAuthenticationTokenException` (400): the request is not signed (see [`crate::region`]).
    pub fn missing_authentication_token() -> Self {
        Self::new(
            "MissingAuthenticationTokenException",
            400,
            "Request is missing Authentication Token",
        )
    }
    /// `IncompleteSignatureException` (400): a SigV4 `Authorization` header without its parts.
    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new("IncompleteSignatureException", 400, message)
    }
    /// `InvalidSignatureException` (400): a credential scope for no Region, another service or day.
    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new("InvalidSignatureException", 400, message)
    }
    /// An injected fault with the given code (status 500 for `InternalServiceException`, else 400).
    pub fn injected(code: &str) -> Self {
        let status = if code == "InternalServiceException" || code == "ServiceUnavailableException"
        {
            500
        } else {
            400
        };
        Self::new(code, status, "injected fault")
    }
}

/// Errors from the simulator's library API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A model file or model value is invalid.
    #[error("invalid model: {0}")]
    Model(String),
    /// Binding or serving failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// No such player session.
    #[error("player session {0} not found")]
    PlayerSessionNotFound(String),
    /// The player session is not in a state that allows the call.
    #[error("player session {id} is {status}")]
    PlayerSessionStatus {
        /// Player session id.
        id: String,
        /// Its current status.
        status: String,
    },
    /// The clock is not a [`crate::ManualClock`].
    #[error("the simulator's clock is not a ManualClock")]
    NotManualClock,
}

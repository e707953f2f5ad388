//! Mapping SDK failures onto the store's error: transient (retry) versus permanent (a bug or bad data).

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use fleet_core::ports::StoreError;

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Classifies an SDK error: throttles and server or network failures are transient; DynamoDB's
/// ValidationException (an item over 400 KB, a key over its size) is a refusal no retry can change.
pub fn map_sdk<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or_default().to_owned();
    let text = DisplayErrorContext(&err).to_string();
    match code.as_str() {
        "ProvisionedThroughputExceededException"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TransactionInProgressException" => StoreError::Throttled(text),
        "ValidationException" => StoreError::Refused(text),
        _ => StoreError::Unavailable(text),
    }
}

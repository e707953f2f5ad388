//! Validation errors that name the offending field and the limit it broke.

use std::fmt;

/// A rejected input: which field (a JSON-path-like name such as `players[2].playerId`) and why.
///
/// Every parse constructor in this crate returns this error, so an API can answer
/// `400 invalid_argument` with `field` set, without knowing which newtype failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FieldError {
    /// The field, as the client spelled it (camelCase, with indexes for list items).
    pub field: String,
    /// What was wrong, including the limit (`must be 1–1024 characters, got 2000`).
    pub problem: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same error seen from an enclosing object: `playerId` inside `players[2]` becomes
    /// `players[2].playerId`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

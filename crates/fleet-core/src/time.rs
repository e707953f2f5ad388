//! Timestamps: milliseconds since the Unix epoch, written as RFC 3339 UTC with milliseconds.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::FieldError;

/// An instant with millisecond precision.
///
/// Its text form (`2026-11-25T10:00:00.123Z`) has a fixed width, so text order equals time order; the
/// table's sort keys rely on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (DynamoDB's TTL unit).
    pub const fn epoch_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant moved by `secs` seconds.
    #[must_use]
    pub const fn plus_secs(self, secs: i64) -> Self {
        Self(self.0 + secs * 1000)
    }

    /// This instant moved by `ms` milliseconds.
    #[must_use]
    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0 + ms)
    }

    /// The fixed-width RFC 3339 form, UTC, with milliseconds.
    pub fn to_rfc3339(self) -> String {
        // Clamp to years 0000–9999 so the text stays fixed-width and sortable.
        let ms = self.0.clamp(-62_167_219_200_000, 253_402_300_799_999);
        let dt = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// Parses RFC 3339 (any offset, any sub-second precision, truncated to milliseconds).
    pub fn parse_rfc3339(field: &str, s: &str) -> Result<Self, FieldError> {
        let dt = OffsetDateTime::parse(s, &Rfc3339)
            .map_err(|e| FieldError::new(field, format!("must be an RFC 3339 date-time ({e})")))?;
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Self)
            .map_err(|_| FieldError::new(field, "date-time out of range"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_rfc3339("timestamp", &s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_keeps_order() {
        let a = Timestamp::from_millis(1_764_028_800_123);
        let b = a.plus_millis(1);
        assert_eq!(a.to_rfc3339(), "2025-11-25T00:00:00.123Z");
        assert!(a.to_rfc3339() < b.to_rfc3339());
        assert_eq!(Timestamp::parse_rfc3339("t", &a.to_rfc3339()), Ok(a));
    }

    #[test]
    fn offsets_and_precision_are_normalised() {
        let t = Timestamp::parse_rfc3339("t", "2020-03-01T22:17:36.966789+01:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2020-03-01T21:17:36.966Z");
    }

    #[test]
    fn a_bad_date_names_the_field() {
        let e = Timestamp::parse_rfc3339("startTime", "yesterday").unwrap_err();
        assert_eq!(e.field, "startTime");
    }
}

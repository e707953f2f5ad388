//! Identifiers, parsed once at the edge ("parse, don't validate"): holding one proves it is valid.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::FieldError;
use crate::limits::{IDEMPOTENCY_KEY_MAX, PLACEMENT_ID_MAX, PLAYER_ID_MAX};

/// Counts characters (not bytes): GameLift's limits are in characters.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Checks `min..=max` characters, naming the field and the limit.
pub(crate) fn check_len(field: &str, s: &str, min: usize, max: usize) -> Result<(), FieldError> {
    let n = char_len(s);
    if n < min || n > max {
        let what = if min == 0 {
            format!("at most {max}")
        } else {
            format!("{min}–{max}")
        };
        return Err(FieldError::new(
            field,
            format!("must be {what} characters, got {n}"),
        ));
    }
    Ok(())
}

/// `must have <limit>, got <n>` unless the count `n` is in `allowed` (`limit` says it in words).
pub(crate) fn check_count(
    field: &str,
    n: usize,
    allowed: std::ops::RangeInclusive<usize>,
    limit: &str,
) -> Result<(), FieldError> {
    if allowed.contains(&n) {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("must have {limit}, got {n}"),
        ))
    }
}

/// [`check_count`] for a list of at most `max` entries.
pub(crate) fn check_at_most(field: &str, n: usize, max: usize) -> Result<(), FieldError> {
    check_count(field, n, 0..=max, &format!("at most {max} entries"))
}

/// The characters an identifier may hold, and how its error says so.
struct Charset {
    allows: fn(char) -> bool,
    rule: &'static str,
}

const NO_CONTROL: Charset = Charset {
    allows: |c| !c.is_control(),
    rule: "must not contain control characters",
};
const ALPHANUMERIC_OR_DASH: Charset = Charset {
    allows: |c| c.is_ascii_alphanumeric() || c == '-',
    rule: "must contain only A-Z, a-z, 0-9 and '-'",
};
const LOWERCASE_DIGIT_OR_DASH: Charset = Charset {
    allows: |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
    rule: "must contain only a-z, 0-9 and '-'",
};
const PRINTABLE_ASCII: Charset = Charset {
    allows: |c| (' '..'\x7f').contains(&c),
    rule: "must be printable ASCII",
};
const URL_SAFE_BASE64: Charset = Charset {
    allows: |c| c.is_ascii_alphanumeric() || "-_=+/".contains(c),
    rule: "must be URL-safe base64 characters",
};

/// `s` owned, once it is 1–`max` characters, all in `charset`; else an error naming `field`.
fn checked(field: &str, s: &str, max: usize, charset: &Charset) -> Result<String, FieldError> {
    check_len(field, s, 1, max)?;
    if !s.chars().all(charset.allows) {
        return Err(FieldError::new(field, charset.rule));
    }
    Ok(s.to_owned())
}

/// Implements the string plumbing shared by every newtype: `as_str`, `Display`, and serde that goes
/// through `parse` so a deserialized value is as valid as a parsed one.
///
/// With a length limit and a [`Charset`], it also writes `parse`: 1 to `max` characters of the set.
macro_rules! string_newtype {
    ($name:ident, $field:literal, $max:expr, $charset:expr) => {
        impl $name {
            /// Validates the text: its length and its characters, naming the field when refused.
            pub fn parse(s: &str) -> Result<Self, FieldError> {
                checked($field, s, $max, &$charset).map(Self)
            }
        }
        string_newtype!($name, $field);
    };
    ($name:ident, $field:literal) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A player's id: 1–1024 characters, no control characters (GameLift's PlayerId limit).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlayerId(String);

impl PlayerId {
    /// A short, fixed-size, key-safe digest of the id: player ids may be 1024 characters, longer than a
    /// DynamoDB sort key allows once prefixed, so seat keys use this instead.
    pub fn key_digest(&self) -> String {
        digest22(self.0.as_bytes())
    }
}
string_newtype!(PlayerId, "playerId", PLAYER_ID_MAX, NO_CONTROL);

/// A GameLift placement id: 1–48 characters of `[A-Za-z0-9-]`, never reused.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlacementId(String);
string_newtype!(
    PlacementId,
    "placementId",
    PLACEMENT_ID_MAX,
    ALPHANUMERIC_OR_DASH
);

/// A client's `Idempotency-Key`: 1–128 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);
string_newtype!(
    IdempotencyKey,
    "Idempotency-Key",
    IDEMPOTENCY_KEY_MAX,
    PRINTABLE_ASCII
);

/// A GameLift game session ARN:
/// `arn:aws:gamelift:<region>::gamesession/<fleetId>/[<location>/]<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GameSessionArn {
    arn: String,
    region_end: usize,
    fleet: (usize, usize),
}

/// Upper bound on an ARN's length; GameLift's own ids keep real ARNs far below it.
const ARN_MAX: usize = 512;

impl GameSessionArn {
    /// Validates an ARN and remembers where its region and fleet are.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        const FIELD: &str = "gameSessionArn";
        check_len(FIELD, s, 1, ARN_MAX)?;
        let bad = |why: &str| {
            FieldError::new(
                FIELD,
                format!(
                    "must look like arn:aws:gamelift:<region>::gamesession/<fleetId>/[<location>/]<id> ({why})"
                ),
            )
        };
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad("printable ASCII without spaces"));
        }
        let rest = s
            .strip_prefix("arn:")
            .ok_or_else(|| bad("no arn: prefix"))?;
        let (partition, rest) = rest.split_once(':').ok_or_else(|| bad("no partition"))?;
        if !partition.starts_with("aws") {
            return Err(bad("partition"));
        }
        let rest = rest
            .strip_prefix("gamelift:")
            .ok_or_else(|| bad("service is not gamelift"))?;
        let (region, rest) = rest.split_once(':').ok_or_else(|| bad("no region"))?;
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("region"));
        }
        // The account field is empty in game session ARNs, but accept one if GameLift ever fills it.
        let (_account, resource) = rest
            .split_once(':')
            .ok_or_else(|| bad("no account field"))?;
        let path = resource
            .strip_prefix("gamesession/")
            .ok_or_else(|| bad("not a gamesession"))?;
        let parts: Vec<&str> = path.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(bad("expected fleetId/[location/]id"));
        }
        let region_start = "arn:".len() + partition.len() + 1 + "gamelift:".len();
        let fleet_start = s.len() - path.len();
        Ok(Self {
            arn: s.to_owned(),
            region_end: region_start + region.len(),
            fleet: (fleet_start, fleet_start + parts[0].len()),
        })
    }

    /// The ARN text.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The region in the ARN (the fleet's home region).
    pub fn region(&self) -> &str {
        let start = self.arn[..self.region_end].rfind(':').map_or(0, |i| i + 1);
        &self.arn[start..self.region_end]
    }

    /// The fleet id in the ARN.
    pub fn fleet_id(&self) -> &str {
        &self.arn[self.fleet.0..self.fleet.1]
    }

    /// The short id derived from this ARN.
    pub fn session_id(&self) -> SessionId {
        SessionId(format!("gs-{}", digest22(self.arn.as_bytes())))
    }
}

impl fmt::Display for GameSessionArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl Serialize for GameSessionArn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.arn)
    }
}

impl<'de> Deserialize<'de> for GameSessionArn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A short, stable, key-safe digest of arbitrary bytes (22 URL-safe characters, 132 bits of SHA-256):
/// for table keys built from unbounded client strings.
pub fn stable_digest(bytes: &[u8]) -> String {
    digest22(bytes)
}

/// The first 132 bits of SHA-256, URL-safe base64: 22 characters, collision-free in practice.
fn digest22(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = URL_SAFE_NO_PAD.encode(&hash[..17]);
    s.truncate(22);
    s
}

/// A session's short id: `gs-` and 22 URL-safe characters, derived deterministically from its ARN so
/// an event or RPC that carries the ARN finds the row without a lookup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// Validates a short session id (use [`SessionRef::parse`] to accept an ARN too).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = s.len() == 25
            && s.starts_with("gs-")
            && s[3..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(FieldError::new(
                "id",
                "must be a session id (gs- and 22 URL-safe characters) or a game session ARN",
            ))
        }
    }
}
string_newtype!(SessionId, "id");

/// A session as a client names it: by short id or by ARN; both resolve to the same [`SessionId`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// The short id.
    Id(SessionId),
    /// The full ARN.
    Arn(GameSessionArn),
}

impl SessionRef {
    /// Accepts either form.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        if s.starts_with("arn:") {
            GameSessionArn::parse(s)
                .map(Self::Arn)
                .map_err(|e| FieldError::new("id", e.problem))
        } else {
            SessionId::parse(s).map(Self::Id)
        }
    }

    /// The short id either form names.
    pub fn id(&self) -> SessionId {
        match self {
            Self::Id(id) => id.clone(),
            Self::Arn(arn) => arn.session_id(),
        }
    }
}

/// A fleet id as GameLift prints it (`fleet-…`) or an alias; 1–128 characters of `[A-Za-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FleetId(String);
string_newtype!(FleetId, "fleetId", 128, ALPHANUMERIC_OR_DASH);

/// An AWS region or GameLift location name (`us-east-1`, `custom-home-lab`): 1–64 of `[a-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region(String);
string_newtype!(Region, "region", 64, LOWERCASE_DIGIT_OR_DASH);

/// An API Gateway WebSocket connection id (API Gateway's are 12–16 characters, base64-ish with `=`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(String);
string_newtype!(ConnectionId, "connectionId", 128, URL_SAFE_BASE64);

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1a2b/gsess-42";

    #[test]
    fn session_id_is_derived_deterministically_from_the_arn() {
        let arn = GameSessionArn::parse(ARN).unwrap();
        let id = arn.session_id();
        assert_eq!(id, GameSessionArn::parse(ARN).unwrap().session_id());
        assert_eq!(id.as_str().len(), 25);
        assert_eq!(SessionId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(SessionRef::parse(ARN).unwrap().id(), id);
        assert_eq!(SessionRef::parse(id.as_str()).unwrap().id(), id);
    }

    #[test]
    fn arn_parts_are_found_with_and_without_a_location() {
        let arn = GameSessionArn::parse(ARN).unwrap();
        assert_eq!((arn.region(), arn.fleet_id()), ("us-east-1", "fleet-1a2b"));
        let loc =
            GameSessionArn::parse("arn:aws:gamelift:us-west-2::gamesession/fleet-9/sa-east-1/abc")
                .unwrap();
        assert_eq!((loc.region(), loc.fleet_id()), ("us-west-2", "fleet-9"));
    }

    #[test]
    fn malformed_arns_are_rejected_with_the_expected_shape() {
        for bad in [
            "",
            "arn:aws:s3:::bucket",
            "arn:aws:gamelift:us-east-1::fleet/fleet-1",
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1",
            "arn:aws:gamelift:us-east-1::gamesession/a/b/c/d",
            "arn:aws:gamelift:US_EAST::gamesession/f/i",
            "arn:aws:gamelift:us-east-1::gamesession/f/ i",
        ] {
            let e = GameSessionArn::parse(bad).unwrap_err();
            assert_eq!(e.field, "gameSessionArn", "{bad}");
        }
    }

    #[test]
    fn placement_ids_follow_gamelift_rules() {
        assert!(PlacementId::parse("abc-123").is_ok());
        assert!(PlacementId::parse(&"a".repeat(48)).is_ok());
        let e = PlacementId::parse(&"a".repeat(49)).unwrap_err();
        assert_eq!(e.field, "placementId");
        assert!(e.problem.contains("1–48"), "{}", e.problem);
        assert!(PlacementId::parse("").is_err());
        assert!(PlacementId::parse("a_b").is_err());
    }

    #[test]
    fn player_ids_are_bounded_in_characters_not_bytes() {
        assert!(PlayerId::parse(&"é".repeat(1024)).is_ok());
        assert!(PlayerId::parse(&"é".repeat(1025)).is_err());
        assert!(PlayerId::parse("").is_err());
        assert!(PlayerId::parse("a\nb").is_err());
    }

    #[test]
    fn idempotency_keys_are_printable_and_bounded() {
        assert!(IdempotencyKey::parse("k-1 2").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(129)).is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert_eq!(
            IdempotencyKey::parse("").unwrap_err().field,
            "Idempotency-Key"
        );
    }

    #[test]
    fn field_errors_compose_into_paths() {
        let e = PlayerId::parse("").unwrap_err().within("players[2]");
        assert_eq!(e.field, "players[2].playerId");
    }
}

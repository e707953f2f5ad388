//! Bounded inputs of docs/architecture.md#limits other than identifiers: names, data, properties, player counts, latencies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::ids::{PlayerId, Region, check_at_most, check_len};
use crate::limits::*;

/// `maxPlayers`: 1–200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct MaxPlayers(u32);

impl MaxPlayers {
    /// Validates a player cap.
    pub fn parse(n: i64) -> Result<Self, FieldError> {
        if (1..=i64::from(MAX_PLAYERS)).contains(&n) {
            Ok(Self(n as u32))
        } else {
            Err(FieldError::new(
                "maxPlayers",
                format!("must be 1–{MAX_PLAYERS}, got {n}"),
            ))
        }
    }

    /// The cap.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<i64> for MaxPlayers {
    type Error = FieldError;
    fn try_from(n: i64) -> Result<Self, FieldError> {
        Self::parse(n)
    }
}

impl From<MaxPlayers> for u32 {
    fn from(m: MaxPlayers) -> u32 {
        m.0
    }
}

/// A player count reported by a game server: 0–200.
pub fn parse_player_count(field: &str, n: i64) -> Result<u32, FieldError> {
    if (0..=i64::from(MAX_PLAYERS)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(FieldError::new(
            field,
            format!("must be 0–{MAX_PLAYERS}, got {n}"),
        ))
    }
}

/// A game session name: at most 1024 characters, no control characters (it is also a list key).
pub fn parse_name(s: &str) -> Result<String, FieldError> {
    check_len("name", s, 0, NAME_MAX)?;
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

/// A game session's data: at most 262,144 characters.
pub fn parse_data(s: &str) -> Result<String, FieldError> {
    check_len("data", s, 0, DATA_MAX)?;
    Ok(s.to_owned())
}

/// A player's data for a player session: 1–2048 characters.
pub fn parse_player_data(s: &str) -> Result<String, FieldError> {
    check_len("playerData", s, 1, PLAYER_DATA_MAX)?;
    Ok(s.to_owned())
}

/// Game properties: ≤16 pairs, key 1–32 characters without `.` (it would clash with the query
/// language's `properties.<key>` path), value ≤96 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct GameProperties(BTreeMap<String, String>);

impl GameProperties {
    /// Validates a property map.
    pub fn parse(map: BTreeMap<String, String>) -> Result<Self, FieldError> {
        check_at_most("properties", map.len(), PROPERTIES_MAX)?;
        for (k, v) in &map {
            check_len("key", k, 1, PROPERTY_KEY_MAX).map_err(|e| e.within("properties"))?;
            if k.contains('.') || k.chars().any(char::is_control) {
                return Err(FieldError::new(
                    format!("properties.{k}"),
                    "key must not contain '.' or control characters",
                ));
            }
            check_len(&format!("properties.{k}"), v, 0, PROPERTY_VALUE_MAX)?;
        }
        Ok(Self(map))
    }

    /// The pairs, ordered by key.
    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    /// One value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// This map with `other`'s pairs laid over it (GameLift's UpdateGameSession merges, never deletes).
    /// Fails when the merged map would exceed the limits.
    pub fn merged(&self, other: &Self) -> Result<Self, FieldError> {
        let mut m = self.0.clone();
        m.extend(other.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        Self::parse(m)
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl TryFrom<BTreeMap<String, String>> for GameProperties {
    type Error = FieldError;
    fn try_from(m: BTreeMap<String, String>) -> Result<Self, FieldError> {
        Self::parse(m)
    }
}

impl From<GameProperties> for BTreeMap<String, String> {
    fn from(p: GameProperties) -> Self {
        p.0
    }
}

/// One player's measured latency to one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Latency {
    /// Whose latency.
    pub player_id: PlayerId,
    /// To which region.
    pub region: Region,
    /// Milliseconds, 0–60,000.
    pub latency_ms: u32,
}

/// Validates a latency in milliseconds.
pub fn parse_latency_ms(n: i64) -> Result<u32, FieldError> {
    if (0..=i64::from(LATENCY_MS_MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(FieldError::new(
            "latencyMs",
            format!("must be 0–{LATENCY_MS_MAX}, got {n}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(n: usize, key_len: usize, val_len: usize) -> BTreeMap<String, String> {
        (0..n)
            .map(|i| (format!("{i:0key_len$}"), "v".repeat(val_len)))
            .collect()
    }

    #[test]
    fn properties_at_the_limits_are_accepted() {
        assert!(GameProperties::parse(props(16, 32, 96)).is_ok());
    }

    #[test]
    fn too_many_properties_name_the_field_and_limit() {
        let e = GameProperties::parse(props(17, 2, 1)).unwrap_err();
        assert_eq!(e.field, "properties");
        assert!(e.problem.contains("16"));
    }

    #[test]
    fn long_keys_values_and_dotted_keys_are_rejected() {
        assert_eq!(
            GameProperties::parse(props(1, 33, 1)).unwrap_err().field,
            "properties.key"
        );
        let e = GameProperties::parse(props(1, 2, 97)).unwrap_err();
        assert_eq!(e.field, "properties.00");
        let dotted = BTreeMap::from([("a.b".to_owned(), "v".to_owned())]);
        assert_eq!(
            GameProperties::parse(dotted).unwrap_err().field,
            "properties.a.b"
        );
        let empty = BTreeMap::from([(String::new(), "v".to_owned())]);
        assert!(GameProperties::parse(empty).is_err());
    }

    #[test]
    fn merging_lays_new_values_over_old_and_keeps_the_rest() {
        let a = GameProperties::parse(BTreeMap::from([
            ("m".into(), "1".into()),
            ("k".into(), "x".into()),
        ]))
        .unwrap();
        let b = GameProperties::parse(BTreeMap::from([("m".into(), "2".into())])).unwrap();
        let m = a.merged(&b).unwrap();
        assert_eq!((m.get("m"), m.get("k")), (Some("2"), Some("x")));
    }

    #[test]
    fn numeric_limits_name_their_fields() {
        assert!(MaxPlayers::parse(1).is_ok() && MaxPlayers::parse(200).is_ok());
        assert_eq!(MaxPlayers::parse(0).unwrap_err().field, "maxPlayers");
        assert_eq!(MaxPlayers::parse(201).unwrap_err().field, "maxPlayers");
        assert_eq!(parse_latency_ms(60_001).unwrap_err().field, "latencyMs");
        assert!(parse_latency_ms(-1).is_err());
        assert_eq!(
            parse_player_count("playerCount", -1).unwrap_err().field,
            "playerCount"
        );
        assert_eq!(parse_player_data("").unwrap_err().field, "playerData");
        assert_eq!(parse_name(&"n".repeat(1025)).unwrap_err().field, "name");
        assert_eq!(parse_data(&"d".repeat(262_145)).unwrap_err().field, "data");
    }
}

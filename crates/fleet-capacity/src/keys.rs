//! Partition key values turned into patterns: a value that names one entity (a session, a placement,
//! a player) becomes a placeholder whose load spreads over that entity's number at scale; a value
//! that is the same for many items (`ACTIVE`, a Region, a fleet) stays as it is and is one partition.

use serde::Serialize;

/// What a partition key value identifies, when it identifies one entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Entity {
    /// A game session (`S#<session>`): its item, its seats, a report that came before it.
    Session,
    /// A placement (`P#<placement>`): its item, its subscriptions, its sent records.
    Placement,
    /// An idempotency record (`I#<digest>`), one per create that carries a key.
    Idempotency,
    /// A WebSocket connection (`C#<connection>`).
    Connection,
    /// A player's connections (`connectionsByUser`).
    Player,
}

impl Entity {
    /// The placeholder of the pattern.
    pub const fn placeholder(self) -> &'static str {
        match self {
            Self::Session => "<session>",
            Self::Placement => "<placement>",
            Self::Idempotency => "<idempotency-key>",
            Self::Connection => "<connection>",
            Self::Player => "<player>",
        }
    }
}

/// How a pattern's load spreads at scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Spread {
    /// One partition key, whatever the scale: it takes its whole share of the load.
    One,
    /// One partition key per entity.
    Per(Entity),
    /// A write-sharded index partition (`ACTIVE#<shard>`): the load spreads evenly over this many
    /// keys (the shard comes from a hash of the session id).
    Shards(u32),
    /// A prefix this model does not know: counted as one key (the pessimistic reading), and flagged.
    Unclassified,
}

/// A partition key value as a pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyPattern {
    /// The value, or its pattern (`S#<session>`).
    pub key: String,
    /// How its load spreads.
    pub spread: Spread,
}

/// Index partition key attributes whose values name one entity; every other index partition value is
/// shared by many items (`ACTIVE`, `PENDING`, `RESERVED`, a Region, a fleet) and kept literally.
const ENTITY_INDEX_ATTRIBUTES: [(&str, Entity); 1] = [("cUser", Entity::Player)];

/// Table partition key prefixes (before the first `#`) and the entity they name.
const TABLE_PREFIXES: [(&str, Entity); 4] = [
    ("S", Entity::Session),
    ("P", Entity::Placement),
    ("I", Entity::Idempotency),
    ("C", Entity::Connection),
];

/// The pattern of `value`, a value of the partition key `attribute` (`pk` for the table, the index's
/// partition key attribute for an index).
pub fn normalise(attribute: &str, value: &str) -> KeyPattern {
    if attribute == fleet_core::index::PK {
        return match value.split_once('#') {
            None => KeyPattern {
                key: value.to_owned(),
                spread: Spread::One,
            },
            Some((prefix, _)) => match TABLE_PREFIXES.iter().find(|(p, _)| *p == prefix) {
                Some((_, entity)) => KeyPattern {
                    key: format!("{prefix}#{}", entity.placeholder()),
                    spread: Spread::Per(*entity),
                },
                None => KeyPattern {
                    key: format!("{prefix}#<unclassified>"),
                    spread: Spread::Unclassified,
                },
            },
        };
    }
    let sharded = fleet_core::index::ALL_INDEXES
        .iter()
        .find(|ix| ix.shards > 1 && ix.pk == attribute);
    if let (Some(ix), Some((logical, _))) = (sharded, value.rsplit_once('#')) {
        return KeyPattern {
            key: format!("{logical}#<shard>"),
            spread: Spread::Shards(ix.shards),
        };
    }
    match ENTITY_INDEX_ATTRIBUTES
        .iter()
        .find(|(a, _)| *a == attribute)
    {
        Some((_, entity)) => KeyPattern {
            key: entity.placeholder().to_owned(),
            spread: Spread::Per(*entity),
        },
        None => KeyPattern {
            key: value.to_owned(),
            spread: Spread::One,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_keys_that_name_an_entity_become_its_placeholder() {
        let cases = [
            (
                "S#gs-KXBaNv1hwyDoBaBcvuaw8V",
                "S#<session>",
                Entity::Session,
            ),
            (
                "P#4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a50",
                "P#<placement>",
                Entity::Placement,
            ),
            ("I#Zm9vYmFy", "I#<idempotency-key>", Entity::Idempotency),
            ("C#L0SM9cOFvHcCIhw=", "C#<connection>", Entity::Connection),
        ];
        for (value, key, entity) in cases {
            assert_eq!(
                normalise("pk", value),
                KeyPattern {
                    key: key.into(),
                    spread: Spread::Per(entity)
                },
                "{value}"
            );
        }
    }

    #[test]
    fn a_table_key_without_an_id_is_one_partition() {
        assert_eq!(
            normalise("pk", "SWEEP"),
            KeyPattern {
                key: "SWEEP".into(),
                spread: Spread::One
            }
        );
    }

    #[test]
    fn an_unknown_table_prefix_is_counted_as_one_key_and_flagged() {
        assert_eq!(normalise("pk", "L#3#abc").spread, Spread::Unclassified);
        assert_eq!(normalise("pk", "L#3#abc").key, "L#<unclassified>");
    }

    #[test]
    fn shared_index_values_stay_literal_and_users_become_players() {
        assert_eq!(normalise("lAll", "ACTIVE").key, "ACTIVE");
        assert_eq!(normalise("lAll", "ACTIVE").spread, Spread::One);
        assert_eq!(normalise("lRegion", "us-east-1").key, "us-east-1");
        assert_eq!(normalise("lFleet", "fleet-1").key, "fleet-1");
        // A value of a sharded index's partition attribute is one of its shards.
        let shard = normalise(fleet_core::index::BY_OPEN.pk, "ACTIVE#07");
        assert_eq!(shard.key, "ACTIVE#<shard>");
        assert_eq!(
            shard.spread,
            Spread::Shards(fleet_core::index::COUNT_SHARDS)
        );
        assert_eq!(
            normalise("cUser", "player-7f3c2a"),
            KeyPattern {
                key: "<player>".into(),
                spread: Spread::Per(Entity::Player)
            }
        );
    }
}

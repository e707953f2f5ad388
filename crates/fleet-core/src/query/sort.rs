//! List order: which index sort key orders the result, and in which direction.

use std::cmp::Ordering;

use crate::FieldError;
use crate::index::{self, IndexDef};
use crate::model::Session;

/// The order of a list. Every order is a total order on the index sort-key string (which ends in the
/// session id), so pages are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    /// Newest first (the default; `sort=createdAt` or `-createdAt`).
    #[default]
    CreatedDesc,
    /// Oldest first (`+createdAt`).
    CreatedAsc,
    /// Fewest players first, then oldest (`playerCount`).
    PlayersAsc,
    /// Most players first, then newest (`-playerCount`).
    PlayersDesc,
    /// Fewest open slots first, then oldest (`openSlots`).
    OpenAsc,
    /// Most open slots first, then newest (`-openSlots`).
    OpenDesc,
}

const SORT_EXPECTED: &str = "must be one of createdAt, -createdAt, +createdAt, playerCount, -playerCount, \
     openSlots, -openSlots (nakama spellings value.create_time, value.player_count accepted)";

impl Sort {
    /// Every order.
    pub const ALL: [Self; 6] = [
        Self::CreatedDesc,
        Self::CreatedAsc,
        Self::PlayersAsc,
        Self::PlayersDesc,
        Self::OpenAsc,
        Self::OpenDesc,
    ];

    /// Parses the `sort` parameter. `""`, `createdAt` and `-createdAt` are newest first (the API's
    /// default); `+createdAt` is oldest first; `playerCount` / `+playerCount` ascending and
    /// `-playerCount` descending; likewise `openSlots`. nakama-gamelift's `value.create_time`,
    /// `value.player_count` / `value.playerCount` are accepted as the same fields.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let t = s.trim();
        let (sign, name) = match t.as_bytes().first() {
            Some(b'+') => (Some(true), &t[1..]),
            Some(b'-') => (Some(false), &t[1..]),
            _ => (None, t),
        };
        let sort = match (name, sign) {
            ("", None) => Self::CreatedDesc,
            ("createdAt" | "value.create_time", None | Some(false)) => Self::CreatedDesc,
            ("createdAt" | "value.create_time", Some(true)) => Self::CreatedAsc,
            ("playerCount" | "value.player_count" | "value.playerCount", None | Some(true)) => {
                Self::PlayersAsc
            }
            ("playerCount" | "value.player_count" | "value.playerCount", Some(false)) => {
                Self::PlayersDesc
            }
            ("openSlots", None | Some(true)) => Self::OpenAsc,
            ("openSlots", Some(false)) => Self::OpenDesc,
            _ => {
                return Err(FieldError::new(
                    "sort",
                    format!("{SORT_EXPECTED}, got `{s}`"),
                ));
            }
        };
        Ok(sort)
    }

    /// The canonical `sort` parameter for this order.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreatedDesc => "-createdAt",
            Self::CreatedAsc => "+createdAt",
            Self::PlayersAsc => "playerCount",
            Self::PlayersDesc => "-playerCount",
            Self::OpenAsc => "openSlots",
            Self::OpenDesc => "-openSlots",
        }
    }

    /// The list index whose sort key defines this order (the planner may use another index with
    /// the same order after its key condition, e.g. `byRegion` for the created orders).
    pub fn index(self) -> IndexDef {
        match self {
            Self::CreatedDesc | Self::CreatedAsc => index::BY_CREATED,
            Self::PlayersAsc | Self::PlayersDesc => index::BY_PLAYERS,
            Self::OpenAsc | Self::OpenDesc => index::BY_OPEN,
        }
    }

    /// Whether the order is descending (DynamoDB `ScanIndexForward = false`).
    pub fn descending(self) -> bool {
        matches!(self, Self::CreatedDesc | Self::PlayersDesc | Self::OpenDesc)
    }

    /// The session's sort-key string in [`Sort::index`]: exactly
    /// [`index::created_key`], [`index::players_key`] or [`index::open_key`].
    pub fn sort_key(self, s: &Session) -> String {
        match self {
            Self::CreatedDesc | Self::CreatedAsc => index::created_key(s.created_at, &s.id),
            Self::PlayersAsc | Self::PlayersDesc => index::players_key(s),
            Self::OpenAsc | Self::OpenDesc => index::open_key(s),
        }
    }

    /// Compares two sessions in list order (by [`Sort::sort_key`], reversed when descending).
    pub fn compare(self, a: &Session, b: &Session) -> Ordering {
        let o = self.sort_key(a).cmp(&self.sort_key(b));
        if self.descending() { o.reverse() } else { o }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::eval::tests::session;

    #[test]
    fn sort_parameters_parse_to_their_orders() {
        // Each order with every spelling that asks for it.
        let cases: [(Sort, &[&str]); 6] = [
            (
                Sort::CreatedDesc,
                &["", "createdAt", "-createdAt", "value.create_time"],
            ),
            (Sort::CreatedAsc, &["+createdAt", "+value.create_time"]),
            (
                Sort::PlayersAsc,
                &["playerCount", "+playerCount", "value.player_count"],
            ),
            (
                Sort::PlayersDesc,
                &["-playerCount", "-value.player_count", "-value.playerCount"],
            ),
            (Sort::OpenAsc, &["openSlots"]),
            (Sort::OpenDesc, &["-openSlots"]),
        ];
        for (sort, spellings) in cases {
            for text in spellings {
                assert_eq!(Sort::parse(text), Ok(sort), "{text}");
            }
        }
        for s in Sort::ALL {
            assert_eq!(Sort::parse(s.as_str()), Ok(s));
        }
    }

    #[test]
    fn unknown_sorts_name_the_sort_field() {
        for bad in [
            "name",
            "-",
            "+",
            "created_at",
            "playerCount ",
            "ÿ",
            "--createdAt",
        ] {
            match Sort::parse(bad) {
                Err(e) => {
                    assert_eq!(e.field, "sort", "{bad}");
                    assert!(e.problem.contains("createdAt"), "{bad}");
                }
                Ok(s) if bad.trim() != bad => assert_eq!(s, Sort::PlayersAsc),
                Ok(s) => panic!("{bad} parsed as {s:?}"),
            }
        }
    }

    #[test]
    fn orders_follow_the_index_sort_keys() {
        let a = session(1, "us-east-1", "fleet-a", 5, 0, None);
        let b = session(2, "us-east-1", "fleet-a", 1, 9, None);
        assert_eq!(Sort::CreatedDesc.compare(&a, &b), Ordering::Greater);
        assert_eq!(Sort::CreatedAsc.compare(&a, &b), Ordering::Less);
        assert_eq!(Sort::PlayersAsc.compare(&a, &b), Ordering::Greater);
        assert_eq!(Sort::PlayersDesc.compare(&a, &b), Ordering::Less);
        assert_eq!(Sort::OpenAsc.compare(&a, &b), Ordering::Less);
        assert_eq!(Sort::OpenDesc.compare(&a, &b), Ordering::Greater);
        assert_eq!(Sort::PlayersAsc.sort_key(&a), index::players_key(&a));
        assert_eq!(Sort::default(), Sort::CreatedDesc);
        assert!(Sort::CreatedDesc.descending() && !Sort::CreatedAsc.descending());
        assert_eq!(Sort::OpenDesc.index(), index::BY_OPEN);
    }
}

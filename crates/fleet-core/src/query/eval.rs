//! The evaluator: whether a session matches a query, in memory (the in-memory store's list, and the
//! reference the planner is tested against).

use super::ast::{Clause, Field, Occur, Query, Value};
use crate::model::{Session, SessionStatus};

/// Earliest instant whose text form keeps its fixed width (0000-01-01T00:00:00.000Z).
pub(crate) const TIME_MIN_MS: i64 = -62_167_219_200_000;
/// Latest instant whose text form keeps its fixed width (9999-12-31T23:59:59.999Z).
pub(crate) const TIME_MAX_MS: i64 = 253_402_300_799_999;

/// A session's `createdAt` as the table sees it: clamped to the years 0000–9999, exactly like
/// [`Timestamp::to_rfc3339`](crate::time::Timestamp::to_rfc3339) clamps the stored text.
pub(crate) fn created_ms(s: &Session) -> i64 {
    s.created_at.millis().clamp(TIME_MIN_MS, TIME_MAX_MS)
}

/// The text value of a text field, if the session has one.
pub(crate) fn text_of<'a>(field: &Field, s: &'a Session) -> Option<&'a str> {
    match field {
        Field::Region => Some(s.region.as_str()),
        Field::FleetId => Some(s.fleet_id.as_str()),
        Field::Name => s.name.as_deref(),
        Field::Id => Some(s.id.as_str()),
        Field::Arn => Some(s.arn.as_str()),
        Field::Property(k) => s.properties.get(k),
        Field::PlayerCount
        | Field::MaxPlayers
        | Field::OpenSlots
        | Field::CreatedAt
        | Field::Joinable => None,
    }
}

impl Clause {
    /// Whether the clause's field:value holds for `s` (ignoring its occur).
    pub fn holds(&self, s: &Session) -> bool {
        let count = match self.field {
            Field::PlayerCount => Some(s.player_count),
            Field::MaxPlayers => Some(s.max_players),
            Field::OpenSlots => Some(s.open_slots),
            _ => None,
        };
        if let Some(n) = count {
            return match &self.value {
                Value::Any => true,
                Value::Range(iv) => iv.contains(i64::from(n)),
                Value::Term(_) | Value::Prefix(_) => false,
            };
        }
        if self.field == Field::Joinable {
            return match &self.value {
                Value::Any => true,
                Value::Term(t) => (t == "true") == s.joinable,
                Value::Range(_) | Value::Prefix(_) => false,
            };
        }
        if self.field == Field::CreatedAt {
            return match &self.value {
                Value::Any => true,
                Value::Range(iv) => iv.contains(created_ms(s)),
                Value::Term(_) | Value::Prefix(_) => false,
            };
        }
        let text = text_of(&self.field, s);
        match &self.value {
            Value::Any => text.is_some(),
            Value::Term(t) => text == Some(t.as_str()),
            Value::Prefix(p) => text.is_some_and(|v| v.starts_with(p.as_str())),
            Value::Range(_) => false,
        }
    }
}

impl Query {
    /// Whether `s` is in this query's result. ENDED sessions never match (lists show only ACTIVE
    /// sessions).
    ///
    /// Semantics: every must clause holds, no must-not clause holds, and — only when there is no
    /// must clause — at least one should clause holds (if there are any).
    pub fn matches(&self, s: &Session) -> bool {
        if s.status != SessionStatus::Active {
            return false;
        }
        let mut any_should = false;
        let mut has_should = false;
        for c in &self.clauses {
            match c.occur {
                Occur::Must if !c.holds(s) => return false,
                Occur::MustNot if c.holds(s) => return false,
                Occur::Should => {
                    has_should = true;
                    any_should = any_should || c.holds(s);
                }
                Occur::Must | Occur::MustNot => {}
            }
        }
        !has_should || any_should || self.has_must()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::ids::{FleetId, GameSessionArn, Region};
    use crate::input::GameProperties;
    use crate::query::parse;
    use crate::time::Timestamp;

    pub(crate) const T0: i64 = 1_764_028_800_000;

    /// A session with small, test-friendly values.
    pub(crate) fn session(
        i: usize,
        region: &str,
        fleet: &str,
        players: u32,
        open: u32,
        name: Option<&str>,
    ) -> Session {
        let arn = GameSessionArn::parse(&format!(
            "arn:aws:gamelift:us-east-1::gamesession/fleet-x/gsess-{i}"
        ))
        .unwrap_or_else(|e| panic!("{e}"));
        Session {
            id: arn.session_id(),
            arn,
            status: SessionStatus::Active,
            region: Region::parse(region).unwrap_or_else(|e| panic!("{e}")),
            fleet_id: FleetId::parse(fleet).unwrap_or_else(|e| panic!("{e}")),
            name: name.map(str::to_owned),
            data: None,
            properties: GameProperties::default(),
            player_count: players,
            max_players: players + open,
            reserved_seats: 0,
            open_slots: open,
            joinable: true,
            protected: false,
            ip_address: "10.0.0.1".into(),
            dns_name: "host.example".into(),
            port: 7777,
            created_at: Timestamp::from_millis(T0 + i as i64 * 1000),
            updated_at: Timestamp::from_millis(T0),
        }
    }

    fn with_props(mut s: Session, props: &[(&str, &str)]) -> Session {
        let m: BTreeMap<String, String> = props
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        s.properties = GameProperties::parse(m).unwrap_or_else(|e| panic!("{e}"));
        s
    }

    fn m(q: &str, s: &Session) -> bool {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}")).matches(s)
    }

    #[test]
    fn the_empty_query_matches_active_sessions_only() {
        let mut s = session(1, "us-east-1", "fleet-a", 2, 3, None);
        assert!(m("", &s) && m("*", &s));
        s.status = SessionStatus::Ended;
        assert!(!m("", &s) && !m("*", &s));
    }

    #[test]
    fn must_clauses_all_have_to_hold() {
        let s = session(1, "us-east-1", "fleet-a", 2, 3, Some("lobby"));
        assert!(m("+region:us-east-1 +playerCount:2", &s));
        assert!(!m("+region:us-east-1 +playerCount:3", &s));
    }

    #[test]
    fn must_not_clauses_exclude() {
        let s = session(1, "us-east-1", "fleet-a", 2, 3, Some("lobby"));
        assert!(!m("-region:us-east-1", &s));
        assert!(m("-region:eu-west-1", &s));
        assert!(m("-region:eu-west-1 -name:arena", &s));
        assert!(!m("+playerCount:2 -name:lobby", &s));
    }

    #[test]
    fn should_clauses_need_one_hit_only_without_musts() {
        let s = session(1, "us-east-1", "fleet-a", 2, 3, Some("lobby"));
        assert!(m("region:eu-west-1 region:us-east-1", &s));
        assert!(!m("region:eu-west-1 region:ap-south-1", &s));
        // With a must clause, should clauses only rank: they do not filter.
        assert!(m("+playerCount:2 region:eu-west-1", &s));
        // Must-nots alone: everything not excluded matches; with shoulds, one should must still hit.
        assert!(m("-name:arena", &s));
        assert!(!m("-name:arena region:eu-west-1", &s));
        assert!(m("-name:arena region:us-east-1", &s));
        assert!(!m("-name:lobby region:us-east-1", &s));
    }

    #[test]
    fn counts_compare_numerically_with_exact_non_integer_handling() {
        let s = session(1, "us-east-1", "fleet-a", 3, 2, None);
        assert!(m("playerCount:3 maxPlayers:5 openSlots:2", &s));
        assert!(
            m("+playerCount:>2.5", &s) && m("+playerCount:>=3", &s) && m("+playerCount:<=3.9", &s)
        );
        assert!(
            !m("+playerCount:>3", &s) && !m("+playerCount:<3", &s) && !m("+playerCount:3.5", &s)
        );
        assert!(
            m("+playerCount:3.0", &s)
                && m("+value.player_count:3", &s)
                && m("+value.max_players:5", &s)
        );
        assert!(m("+playerCount:*", &s));
    }

    #[test]
    fn names_are_exact_case_sensitive_and_absent_names_match_only_must_nots() {
        let named = session(1, "us-east-1", "fleet-a", 0, 4, Some("Big Lobby"));
        let unnamed = session(2, "us-east-1", "fleet-a", 0, 4, None);
        assert!(m("name:\"Big Lobby\"", &named) && !m("name:\"big lobby\"", &named));
        assert!(m("name:Big*", &named) && !m("name:big*", &named));
        assert!(m("value.metadata.GameSessionName:\"Big \"*", &named));
        assert!(m("name:*", &named) && !m("name:*", &unnamed));
        assert!(!m("name:Big*", &unnamed) && m("-name:Big*", &unnamed));
    }

    #[test]
    fn properties_match_by_key_and_absent_keys_do_not_match() {
        let s = with_props(
            session(1, "us-east-1", "fleet-a", 0, 4, None),
            &[("mode", "ranked")],
        );
        assert!(m("properties.mode:ranked", &s));
        assert!(m("value.metadata.GameProperties.mode:rank*", &s));
        assert!(!m("properties.map:dust", &s) && m("-properties.map:dust", &s));
        assert!(m("-properties.mode:casual", &s) && !m("-properties.mode:ranked", &s));
        assert!(m("properties.mode:*", &s) && !m("properties.map:*", &s));
    }

    #[test]
    fn id_matches_the_short_id_or_the_arn() {
        let s = session(7, "us-east-1", "fleet-a", 0, 4, None);
        assert!(m(&format!("id:{}", s.id), &s));
        assert!(m(&format!("value.id:{}", s.arn), &s));
        assert!(m(
            "id:arn:aws:gamelift:us-east-1::gamesession/fleet-x/*",
            &s
        ));
        assert!(m("id:gs-*", &s) && !m("id:arn:aws:gamelift:eu-*", &s));
        assert!(!m("id:gs-nope", &s));
    }

    #[test]
    fn created_at_compares_instants() {
        let s = session(2, "us-east-1", "fleet-a", 0, 4, None); // T0 + 2 s
        assert!(m("createdAt:2025-11-25T00:00:02Z", &s));
        assert!(m("createdAt:\"2025-11-25T01:00:02+01:00\"", &s));
        assert!(m(
            "+createdAt:>=2025-11-25T00:00:02Z +createdAt:<2025-11-25T00:00:02.001Z",
            &s
        ));
        assert!(!m("+createdAt:>2025-11-25T00:00:02Z", &s));
        assert!(m("+createdAt:>2025-11-25T00:00:01.9999Z", &s));
        assert!(!m("createdAt:2025-11-25T00:00:02.0001Z", &s));
        assert!(m("value.create_time:<=2025-11-25T00:00:02.0001Z", &s));
    }
}

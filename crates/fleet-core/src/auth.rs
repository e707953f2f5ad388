//! Who may do what (docs/architecture.md#authorization), as pure decisions over an authenticated [`Caller`].
//!
//! Authentication belongs to API Gateway; the handlers turn its request context into a [`Caller`]
//! and ask here. Every rule fails closed: a caller kind a rule does not name is refused.
//!
//! # The rules
//!
//! | Action | Player (`sub`) | Service (IAM) | Game server (IAM, fleets) |
//! |---|---|---|---|
//! | create | only with its own playerId: `players` empty or exactly itself, latencies only its own | yes | no |
//! | read a placement | if it requested it or is listed in it, else *not found* | yes | no (*not found*) |
//! | list / get sessions | yes | yes | yes |
//! | `explain` on list | no | yes | no |
//! | join | exactly one player: itself | yes | no |
//! | delete a session | no | yes | no |
//! | status RPCs | no | yes, any fleet | only sessions of its configured fleets |
//!
//! # Choices where the design is silent
//!
//! * A player's create with no `players` is accepted as it is: the placement gets no player session
//!   (the player is still its requester, may read it, is notified of it, and may join the session
//!   later). Adding the requester silently would change the request behind the client's back, and
//!   the body digest that idempotency compares.
//! * A placement a caller may not read answers *not found*, exactly like one that does not exist, so
//!   placement ids cannot be probed.
//! * Game servers are IAM principals too, but they get only what they need: reads of sessions and the
//!   status RPCs of their fleets. They may not create, join, delete or read placements.
//! * A principal configured both as a service and as a game server is treated as a game server (the
//!   smaller set of rights).
//! * A placement's requester is the raw `sub` or principal ARN (the WebSocket side matches
//!   connections by `sub`); idempotency records, by contrast, are scoped by kind and identity
//!   ([`Caller::idempotency_scope`]), so a player's key never replays a service's create. Because the
//!   two share one namespace, a token whose `sub` looks like an ARN (`arn:…`, any case) is refused
//!   ([`sub_is_player`]): otherwise a player with such a `sub` would read, and be notified of, the
//!   placements of the service whose ARN it spells.

use crate::FieldError;
use crate::ids::{FleetId, PlayerId};
use crate::input::Latency;
use crate::model::{Placement, PlacementPlayer};

/// An authenticated caller, resolved from API Gateway's request context only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A player, by the JWT's `sub` claim.
    Player(PlayerId),
    /// A backend service, by its (normalised) IAM principal ARN; may act for anyone.
    Service(String),
    /// A game server's IAM principal and the fleets it may report on.
    GameServer {
        /// The normalised IAM principal ARN.
        principal: String,
        /// Fleets whose sessions it may report on.
        fleets: Vec<FleetId>,
    },
}

impl Caller {
    /// The stable name idempotency records are keyed by: the kind and the identity, so a player's
    /// key can never collide with a service's.
    pub fn idempotency_scope(&self) -> String {
        match self {
            Self::Player(p) => format!("player:{p}"),
            Self::Service(arn) => format!("service:{arn}"),
            Self::GameServer { principal, .. } => format!("gameserver:{principal}"),
        }
    }

    /// What a placement records as its requester: a player's `sub` (the WebSocket side matches
    /// connections by it) or a principal ARN.
    pub fn requester(&self) -> String {
        match self {
            Self::Player(p) => p.as_str().to_owned(),
            Self::Service(arn) | Self::GameServer { principal: arn, .. } => arn.clone(),
        }
    }

    /// A short label for logs and metrics (`player`, `service`, `game_server`).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Player(_) => "player",
            Self::Service(_) => "service",
            Self::GameServer { .. } => "game_server",
        }
    }
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The caller may not do this (403), with the field that made it so when there is one.
    #[error("{message}")]
    Forbidden {
        /// The offending field, if any (`players[1].playerId`).
        field: Option<String>,
        /// Why.
        message: String,
    },
    /// The caller may not know the object exists (404).
    #[error("not found")]
    Hidden,
}

impl Denied {
    fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden {
            field: None,
            message: message.into(),
        }
    }

    fn forbidden_at(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Forbidden {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl From<FieldError> for Denied {
    fn from(e: FieldError) -> Self {
        Self::forbidden_at(e.field, e.problem)
    }
}

/// Players and services may; a game server is refused with `refusal`.
fn players_and_services(caller: &Caller, refusal: &str) -> Result<(), Denied> {
    match caller {
        Caller::Player(_) | Caller::Service(_) => Ok(()),
        Caller::GameServer { .. } => Err(Denied::forbidden(refusal)),
    }
}

/// Services and game servers may; a player is refused with `refusal`.
fn services_and_game_servers(caller: &Caller, refusal: &str) -> Result<(), Denied> {
    match caller {
        Caller::Service(_) | Caller::GameServer { .. } => Ok(()),
        Caller::Player(_) => Err(Denied::forbidden(refusal)),
    }
}

/// A game server may act only on sessions of its fleets; `refusal` ends in the fleet id.
fn game_server_owns(caller: &Caller, fleet: &str, refusal: &str) -> Result<(), Denied> {
    match caller {
        Caller::GameServer { fleets, .. } if !fleets.iter().any(|f| f.as_str() == fleet) => {
            Err(Denied::forbidden_at("id", format!("{refusal} {fleet}")))
        }
        _ => Ok(()),
    }
}

/// A player caller may name only itself: the first other player in `listed` is refused at
/// `<list>[i].playerId`. Other callers may name anyone.
fn player_names_only_itself<'a>(
    caller: &Caller,
    list: &str,
    listed: impl IntoIterator<Item = &'a PlayerId>,
    refusal: &str,
) -> Result<(), Denied> {
    let Caller::Player(me) = caller else {
        return Ok(());
    };
    match listed.into_iter().position(|p| p != me) {
        Some(i) => Err(Denied::forbidden_at(
            format!("{list}[{i}].playerId"),
            refusal,
        )),
        None => Ok(()),
    }
}

/// Whether the caller may ask for a create at all (before its body is read).
pub fn may_create(caller: &Caller) -> Result<(), Denied> {
    players_and_services(caller, "game servers may not create sessions")
}

/// Whether the caller may create a placement for these players and latencies: a player only for
/// itself (no other playerId anywhere in the request).
pub fn may_create_for(
    caller: &Caller,
    players: &[PlacementPlayer],
    latencies: &[Latency],
) -> Result<(), Denied> {
    may_create(caller)?;
    player_names_only_itself(
        caller,
        "players",
        players.iter().map(|p| &p.player_id),
        "a player may create a session only for itself",
    )?;
    player_names_only_itself(
        caller,
        "latencies",
        latencies.iter().map(|l| &l.player_id),
        "a player may report only its own latencies",
    )
}

/// Whether a JWT `sub` may name a player: anything but an ARN (`arn:` in any case), which would share
/// the requester namespace with IAM principals (see the module docs).
pub fn sub_is_player(sub: &str) -> bool {
    !sub.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:"))
}

/// Who a placement counts against for the cap on PENDING placements: `player:<sub>` for a player's
/// placement (the player's idempotency scope), `None` for a service's, which are not capped.
pub fn pending_owner(requester: &str) -> Option<String> {
    sub_is_player(requester).then(|| format!("player:{requester}"))
}

/// Whether the caller may read this placement; a refusal is [`Denied::Hidden`].
pub fn may_read_placement(caller: &Caller, placement: &Placement) -> Result<(), Denied> {
    match caller {
        Caller::Service(_) => Ok(()),
        Caller::Player(me) => {
            let listed = placement.players.iter().any(|p| &p.player_id == me);
            if placement.requester == me.as_str() || listed {
                Ok(())
            } else {
                Err(Denied::Hidden)
            }
        }
        Caller::GameServer { .. } => Err(Denied::Hidden),
    }
}

/// Whether the caller may cancel placements at all (before the placement is read): players (their
/// own) and services; game servers never start placements, so they may not stop them either.
pub fn may_cancel(caller: &Caller) -> Result<(), Denied> {
    players_and_services(caller, "game servers may not cancel placements")
}

/// Whether the caller may cancel this placement: its requester or a service. A player the caller
/// may not even read it as is [`Denied::Hidden`]; a player listed in it, who may read it but did not
/// ask for it, is refused (403): the requester decides whether its match is still wanted.
pub fn may_cancel_placement(caller: &Caller, placement: &Placement) -> Result<(), Denied> {
    may_cancel(caller)?;
    may_read_placement(caller, placement)?;
    match caller {
        Caller::Player(me) if placement.requester != me.as_str() => Err(Denied::forbidden(
            "only the player who created a placement may cancel it",
        )),
        _ => Ok(()),
    }
}

/// Whether the caller may see another player's player session in a placement answer: services see
/// all, a player only its own.
pub fn may_see_player_session(caller: &Caller, player: &PlayerId) -> bool {
    match caller {
        Caller::Service(_) => true,
        Caller::Player(me) => me == player,
        Caller::GameServer { .. } => false,
    }
}

/// Whether the caller may list and read sessions: anyone authenticated.
pub fn may_read_sessions(_caller: &Caller) -> Result<(), Denied> {
    Ok(())
}

/// Whether the caller may see the list plan (`explain=true`): services only.
pub fn may_explain(caller: &Caller) -> Result<(), Denied> {
    match caller {
        Caller::Service(_) => Ok(()),
        _ => Err(Denied::forbidden_at(
            "explain",
            "only services may ask for the query plan",
        )),
    }
}

/// Whether the caller may ask for a join at all (before its body is read).
pub fn may_join(caller: &Caller) -> Result<(), Denied> {
    players_and_services(caller, "game servers may not join sessions")
}

/// Whether the caller may seat these players: a player only itself, alone.
pub fn may_join_with(caller: &Caller, players: &[PlacementPlayer]) -> Result<(), Denied> {
    may_join(caller)?;
    player_names_only_itself(
        caller,
        "players",
        players.iter().map(|p| &p.player_id),
        "a player may join only for itself",
    )
}

/// Whether the caller may delete sessions: services only.
pub fn may_delete(caller: &Caller) -> Result<(), Denied> {
    match caller {
        Caller::Service(_) => Ok(()),
        _ => Err(Denied::forbidden("only services may delete sessions")),
    }
}

/// Whether the caller may call the status RPCs at all (before the session is known).
pub fn may_report(caller: &Caller) -> Result<(), Denied> {
    services_and_game_servers(
        caller,
        "only game servers and services may report session status",
    )
}

/// Whether the caller may report on a session of `fleet`: services on any, game servers on theirs.
pub fn may_report_on(caller: &Caller, fleet: &str) -> Result<(), Denied> {
    may_report(caller)?;
    game_server_owns(
        caller,
        fleet,
        "this game server may not report on sessions of fleet",
    )
}

/// Whether the caller may lock, unlock, protect or unprotect sessions at all: services, and game
/// servers (for their own fleets, [`may_set_policy_on`]); a player may not take a match off the list.
pub fn may_set_policy(caller: &Caller) -> Result<(), Denied> {
    services_and_game_servers(
        caller,
        "only services and game servers may change a session's policies",
    )
}

/// Whether the caller may change the policies of a session of `fleet`: services on any, game
/// servers on their fleets'.
pub fn may_set_policy_on(caller: &Caller, fleet: &str) -> Result<(), Denied> {
    may_set_policy(caller)?;
    game_server_owns(
        caller,
        fleet,
        "this game server may not change sessions of fleet",
    )
}

/// Whether the caller may ask for players' connection details at all: players (for themselves)
/// and services; a game server has its own address and no player's token to ask for.
pub fn may_connect(caller: &Caller) -> Result<(), Denied> {
    players_and_services(
        caller,
        "game servers may not ask for players' connection details",
    )
}

/// Whether the caller may have these players' connection details: a player only its own (a relay
/// token lets its holder speak as the player).
pub fn may_connect_for(caller: &Caller, players: &[PlayerId]) -> Result<(), Denied> {
    may_connect(caller)?;
    player_names_only_itself(
        caller,
        "players",
        players,
        "a player may ask only for its own connection details",
    )
}

/// The form an IAM principal ARN is compared in: an STS assumed-role session
/// (`arn:<partition>:sts::<account>:assumed-role/<role>/<session>`) becomes its role
/// (`arn:<partition>:iam::<account>:role/<role>`); a role or user ARN with a path
/// (`…:role/teams/ops/<role>`) loses the path, because an assumed-role ARN never carries it. Other
/// ARNs are returned as they are.
pub fn normalise_principal(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return arn.to_owned();
    };
    if *prefix != "arn" || !region.is_empty() {
        return arn.to_owned();
    }
    match *service {
        "sts" => match resource.split('/').collect::<Vec<_>>().as_slice() {
            ["assumed-role", role, _session] if !role.is_empty() => {
                format!("arn:{partition}:iam::{account}:role/{role}")
            }
            _ => arn.to_owned(),
        },
        "iam" => match resource.split_once('/') {
            Some((kind @ ("role" | "user"), rest)) => match rest.rsplit('/').next() {
                Some(name) if !name.is_empty() => {
                    format!("arn:{partition}:iam::{account}:{kind}/{name}")
                }
                _ => arn.to_owned(),
            },
            _ => arn.to_owned(),
        },
        _ => arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MaxPlayers;
    use crate::model::PlacementStatus;
    use crate::time::Timestamp;

    fn pid(s: &str) -> PlayerId {
        PlayerId::parse(s).unwrap()
    }

    fn player(s: &str) -> PlacementPlayer {
        PlacementPlayer {
            player_id: pid(s),
            player_data: None,
        }
    }

    fn game_server(fleets: &[&str]) -> Caller {
        Caller::GameServer {
            principal: "arn:aws:iam::1:role/gs".into(),
            fleets: fleets.iter().map(|f| FleetId::parse(f).unwrap()).collect(),
        }
    }

    fn placement(requester: &str, players: &[&str]) -> Placement {
        Placement {
            placement_id: crate::ids::PlacementId::parse("p-1").unwrap(),
            status: PlacementStatus::Pending,
            requester: requester.into(),
            players: players.iter().map(|p| player(p)).collect(),
            max_players: MaxPlayers::parse(4).unwrap(),
            name: None,
            data: None,
            properties: Default::default(),
            latencies: vec![],
            regions: vec![],
            session_id: None,
            player_sessions: vec![],
            reason: None,
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
            deadline: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn assumed_role_sessions_compare_as_their_role() {
        assert_eq!(
            normalise_principal("arn:aws:sts::123456789012:assumed-role/game-server/i-0abc"),
            "arn:aws:iam::123456789012:role/game-server"
        );
        assert_eq!(
            normalise_principal("arn:aws:iam::1:role/teams/ops/backend"),
            "arn:aws:iam::1:role/backend"
        );
        assert_eq!(
            normalise_principal("arn:aws-cn:iam::1:user/alice"),
            "arn:aws-cn:iam::1:user/alice"
        );
        assert_eq!(normalise_principal("not an arn"), "not an arn");
        assert_eq!(
            normalise_principal("arn:aws:sts::1:assumed-role//x"),
            "arn:aws:sts::1:assumed-role//x"
        );
    }

    #[test]
    fn a_player_creates_only_for_itself() {
        let me = Caller::Player(pid("a"));
        assert!(may_create_for(&me, &[], &[]).is_ok());
        assert!(may_create_for(&me, &[player("a")], &[]).is_ok());
        let err = may_create_for(&me, &[player("a"), player("b")], &[]).unwrap_err();
        assert_eq!(
            err,
            Denied::forbidden_at(
                "players[1].playerId",
                "a player may create a session only for itself"
            )
        );
        assert!(may_create_for(&Caller::Service("s".into()), &[player("b")], &[]).is_ok());
        assert!(may_create_for(&game_server(&["f"]), &[], &[]).is_err());
    }

    #[test]
    fn placements_are_hidden_from_strangers() {
        let p = placement("a", &["b"]);
        assert!(may_read_placement(&Caller::Player(pid("a")), &p).is_ok());
        assert!(may_read_placement(&Caller::Player(pid("b")), &p).is_ok());
        assert_eq!(
            may_read_placement(&Caller::Player(pid("c")), &p),
            Err(Denied::Hidden)
        );
        assert!(may_read_placement(&Caller::Service("s".into()), &p).is_ok());
        assert_eq!(
            may_read_placement(&game_server(&["f"]), &p),
            Err(Denied::Hidden)
        );
    }

    #[test]
    fn game_servers_report_only_on_their_fleets() {
        assert!(may_report_on(&game_server(&["fleet-1"]), "fleet-1").is_ok());
        assert!(may_report_on(&game_server(&["fleet-1"]), "fleet-2").is_err());
        assert!(may_report_on(&Caller::Service("s".into()), "fleet-2").is_ok());
        assert!(may_report_on(&Caller::Player(pid("a")), "fleet-1").is_err());
    }

    #[test]
    fn a_sub_that_spells_an_arn_is_not_a_player() {
        assert!(!sub_is_player(
            "arn:aws:iam::123456789012:role/fleetlift-backend"
        ));
        assert!(!sub_is_player("ARN:aws:iam::1:role/x"));
        assert!(sub_is_player("player-7f3c2a"));
        assert!(sub_is_player("ar"));
        assert!(sub_is_player("é-arn:"));
    }

    #[test]
    fn idempotency_scopes_never_collide_across_kinds() {
        let same = "arn:aws:iam::1:role/x";
        assert_ne!(
            Caller::Player(pid(same)).idempotency_scope(),
            Caller::Service(same.into()).idempotency_scope()
        );
    }
}

//! What the API answers with (docs/architecture.md#http-api), camelCase. Views borrow the domain types and list their
//! fields explicitly, so nothing internal leaks by accident when a domain type grows a field.
//!
//! `reservedSeats` is deliberately **not** part of the session answer: §3's session shape does not
//! have it, `openSlots` already counts live reservations, and the stored counter also includes
//! lapsed reservations the sweeper has not closed yet, which would only confuse a client.

use fleet_core::ids::{FleetId, GameSessionArn, PlacementId, PlayerId, Region, SessionId};
use fleet_core::input::GameProperties;
use fleet_core::model::{PlacementStatus, PlayerSession, Session, SessionStatus};
use fleet_core::ports::{Endpoint, LocationBeacon, PlayerConnection};
use fleet_core::time::Timestamp;
use serde::Serialize;

/// A session as the API returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView<'a> {
    id: &'a SessionId,
    arn: &'a GameSessionArn,
    status: SessionStatus,
    region: &'a Region,
    fleet_id: &'a FleetId,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    properties: &'a GameProperties,
    player_count: u32,
    max_players: u32,
    open_slots: u32,
    joinable: bool,
    protected: bool,
    #[serde(flatten)]
    address: AddressView<'a>,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl<'a> SessionView<'a> {
    /// The public fields of `s`.
    pub fn of(s: &'a Session) -> Self {
        Self {
            id: &s.id,
            arn: &s.arn,
            status: s.status,
            region: &s.region,
            fleet_id: &s.fleet_id,
            name: s.name.as_deref(),
            data: s.data.as_deref(),
            properties: &s.properties,
            player_count: s.player_count,
            max_players: s.max_players,
            // An ended session has no room, whatever its last counters said.
            open_slots: if s.status == SessionStatus::Active {
                s.open_slots
            } else {
                0
            },
            joinable: s.joinable,
            protected: s.protected,
            address: AddressView::of(s),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Where a session's game server listens: `ipAddress`, `dnsName`, `port`, among the fields of the
/// session and of its player sessions.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressView<'a> {
    ip_address: &'a str,
    dns_name: &'a str,
    port: u16,
}

impl<'a> AddressView<'a> {
    fn of(s: &'a Session) -> Self {
        Self {
            ip_address: &s.ip_address,
            dns_name: &s.dns_name,
            port: s.port,
        }
    }
}

/// A player session with what the client needs to connect.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerSessionView<'a> {
    player_id: &'a PlayerId,
    player_session_id: &'a str,
    /// The session's address, when the session is known (absent otherwise).
    #[serde(flatten)]
    address: Option<AddressView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connection: Option<ConnectionView<'a>>,
}

impl<'a> PlayerSessionView<'a> {
    /// A player session, with the connection details of `session` when it is known.
    pub fn of(ps: &'a PlayerSession, session: Option<&'a Session>) -> Self {
        Self {
            player_id: &ps.player_id,
            player_session_id: &ps.player_session_id,
            address: session.map(AddressView::of),
            connection: None,
        }
    }

    /// The same, with how the player connects (a relay and its token on a player-gateway fleet).
    pub fn connected(mut self, connection: Option<&'a PlayerConnection>) -> Self {
        self.connection = connection.map(ConnectionView::of);
        self
    }
}

/// How one player connects: `{playerId, endpoints:[{ipAddress, port}], playerGatewayToken?,
/// expiresAt?}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView<'a> {
    player_id: &'a PlayerId,
    endpoints: Vec<EndpointView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    player_gateway_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<Timestamp>,
}

impl<'a> ConnectionView<'a> {
    /// The public fields of `c`.
    pub fn of(c: &'a PlayerConnection) -> Self {
        Self {
            player_id: &c.player_id,
            endpoints: c.endpoints.iter().map(EndpointView::of).collect(),
            player_gateway_token: c.token.as_deref(),
            expires_at: c.expires_at,
        }
    }
}

/// One address to connect to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView<'a> {
    ip_address: &'a str,
    port: u16,
}

impl<'a> EndpointView<'a> {
    fn of(e: &'a Endpoint) -> Self {
        Self {
            ip_address: &e.ip_address,
            port: e.port,
        }
    }
}

/// `POST /v1/sessions/{id}/connection` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connections<'a> {
    /// One per requested player, in the request's order.
    pub connections: Vec<ConnectionView<'a>>,
}

/// `GET /v1/locations` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Locations<'a> {
    /// The locations, with their ping beacons.
    pub locations: Vec<LocationView<'a>>,
}

/// A location and its UDP ping beacon: `{location, pingBeacon?:{udpEndpoint:{domain, port}}}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationView<'a> {
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ping_beacon: Option<PingBeaconView<'a>>,
}

impl<'a> LocationView<'a> {
    /// The public fields of `l`.
    pub fn of(l: &'a LocationBeacon) -> Self {
        Self {
            location: &l.location,
            ping_beacon: l.ping_beacon.as_ref().map(|u| PingBeaconView {
                udp_endpoint: UdpEndpointView {
                    domain: &u.domain,
                    port: u.port,
                },
            }),
        }
    }
}

/// GameLift's `PingBeacon`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PingBeaconView<'a> {
    udp_endpoint: UdpEndpointView<'a>,
}

/// GameLift's `UDPEndpoint`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UdpEndpointView<'a> {
    domain: &'a str,
    port: u16,
}

/// `POST /v1/sessions` → 202.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted<'a> {
    /// The placement to poll or subscribe to.
    pub placement_id: &'a PlacementId,
    /// PENDING for a new create; the placement's current status for an idempotent replay.
    pub status: PlacementStatus,
    /// Why it did not fulfil (replays of finished placements only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
}

/// `DELETE /v1/placements/{placementId}` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancelled<'a> {
    /// The placement cancelled.
    pub placement_id: &'a PlacementId,
    /// Always CANCELLED.
    pub status: PlacementStatus,
}

/// `GET /v1/placements/{placementId}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementView<'a> {
    /// The placement.
    pub placement_id: &'a PlacementId,
    /// Where it stands.
    pub status: PlacementStatus,
    /// The placed session, once FULFILLED (absent if it has since been deleted and forgotten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView<'a>>,
    /// The caller's player sessions (a player sees only its own), once FULFILLED.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_sessions: Option<Vec<PlayerSessionView<'a>>>,
    /// Why it did not fulfil.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// When it was started.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// `POST /v1/sessions/{id}/join` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Joined<'a> {
    /// The session after the reservation.
    pub session: SessionView<'a>,
    /// One per joined player, with connection details.
    pub player_sessions: Vec<PlayerSessionView<'a>>,
}

/// `GET /v1/sessions` → 200.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Listed<'a> {
    /// The page, in the requested order.
    pub sessions: Vec<SessionView<'a>>,
    /// The next page's cursor; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<&'a str>,
    /// The plan and its measured read amplification (`explain=true`, services only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<serde_json::Value>,
}

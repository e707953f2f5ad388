//! The GameLift port on aws-sdk-gamelift: queue placements, player sessions and game sessions.
//!
//! [`SdkGameLift`] makes exactly the calls of [`fleet_core::ports::GameLift`], one SDK operation each,
//! and turns every SDK failure into a [`GameLiftError`] through one pure decision, [`classify`], over
//! what the failure was ([`FailureKind`]), the service's error code and the HTTP status. The table:
//!
//! | Failure | Class | Why |
//! |---|---|---|
//! | `GameSessionFullException` | [`ErrorClass::Full`] | no room: the join is refused (409), GameLift stays the authority |
//! | `InvalidGameSessionStatusException` | [`ErrorClass::NotActive`] | TERMINATING/TERMINATED (or not yet ACTIVE) |
//! | `NotFoundException` | [`ErrorClass::NotFound`] | unknown queue, placement or game session |
//! | `InvalidRequestException`, `ValidationException`, `IdempotentParameterMismatchException`, `UnauthorizedException`, `AccessDeniedException`, `UnsupportedRegionException`, `ConflictException`, `TerminalRoutingStrategyException`, `SerializationException`, `LimitExceededException` (a quota, HTTP 400) | [`ErrorClass::Invalid`] | a definite refusal: the call did not take effect and repeating it cannot help |
//! | `ThrottlingException`, `TooManyRequestsException`, `RequestLimitExceeded`, `LimitExceededException` with HTTP 429, `NotReadyException`, any code with HTTP 429 | [`ErrorClass::Throttled`] | a definite refusal that says "later": nothing happened, a retry after a backoff may succeed |
//! | `InternalServiceException`, any 5xx, a timeout, a dispatch (I/O, TLS, connection) failure, an unreadable response | [`ErrorClass::Ambiguous`] | the request may have reached GameLift and taken effect: resolve by describing, never by repeating with a new id |
//! | a request that could not be built | [`ErrorClass::Invalid`] | it never left this process |
//! | any other 4xx code | [`ErrorClass::Invalid`] | GameLift's 4xx are refusals of the request |
//!
//! **SDK retries.** Calls that GameLift refuses when repeated after they took effect are sent with the
//! SDK's retries disabled, whatever the client's configuration: a retried StartGameSessionPlacement whose
//! first attempt succeeded but timed out would be refused as a reused PlacementId (`Invalid`, while the
//! placement exists), a retried CreatePlayerSessions as a player already seated, a retried
//! StopGameSessionPlacement as not PENDING. So start, stop and create-player-sessions are tried once and
//! report [`GameLiftError::Ambiguous`] instead. Reads (describe) and calls whose repetition is harmless
//! (UpdateGameSession merges the same properties again; a repeated TerminateGameSession is at worst
//! `NotActive`) use the client's retry configuration.
//!
//! **Home Regions.** GameLift keeps every resource in its home Region and answers NotFoundException
//! to a call made in any other: a game session lives in its fleet's home Region, the one its ARN names
//! (`arn:aws:gamelift:<home>::gamesession/…`), which for a queue with destinations in several Regions
//! need not be the queue's. So every call about a session (CreatePlayerSessions, DescribeGameSessions,
//! UpdateGameSession, TerminateGameSession) goes to a client for the ARN's Region, and the placement
//! calls (start, describe, stop) to the queue's Region: the Region of the queue's ARN when it is given
//! as one, else the client's own (the function's). The clients for other Regions are derived from the
//! configured one (same HTTP client, credentials, endpoint override, retries and timeouts; only the
//! Region differs), built on first use and kept for the container's life. An ARN whose Region is not
//! an AWS Region name is refused as [`GameLiftError::Invalid`] before any call: no endpoint serves it.
//! An endpoint override (`AWS_ENDPOINT_URL_GAMELIFT`) is kept for every Region, which suits one endpoint
//! serving them all (gamelift-sim reads the Region from the signature's scope); without one, as in a
//! deployment, the SDK resolves each Region's own endpoint.
//!
//! **Answers are validated.** A FULFILLED placement is turned into the same [`Fulfilled`] a
//! `PlacementFulfilled` event would give, by the same parser ([`fleet_core::event::parse_message`]), so
//! a describe (the sweeper) and an event (the queue) can never disagree on what a valid session is. An
//! answer that does not parse is [`GameLiftError::Ambiguous`] with the reason, never a panic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::clients::OnFirstUse;
use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::Region;
use aws_sdk_gamelift::config::http::HttpResponse;
use aws_sdk_gamelift::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_gamelift::types::{
    DesiredPlayerSession, GameProperty, GameSessionPlacement, PlacementFallbackStrategy,
    PlayerLatency, PlayerSessionCreationPolicy, PriorityConfigurationOverride, ProtectionPolicy,
    TerminationMode,
};
use aws_smithy_types::retry::RetryConfig;
use fleet_core::event::{EventKind, Fulfilled, TYPE_FULFILLED, parse_message};
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId};
use fleet_core::input::GameProperties;
use fleet_core::model::{PlacementStatus, PlayerSession};
use fleet_core::ports::{
    Endpoint, FLEET_PAGE, FleetLocation, FleetSession, FleetSessionsPage, GameLift, GameLiftError,
    LocationBeacon, PlacementDescription, PlayerConnection, SessionPolicy, StartPlacement,
    UdpEndpoint,
};
use fleet_core::time::Timestamp;
use serde_json::{Map, Value};

/// What kind of failure an SDK call ended in, before any error code is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The request could not be built (a missing required member, say): it never left this process.
    Construction,
    /// A connect, attempt or operation timeout: the request may have been received.
    Timeout,
    /// The request could not be sent or the response not received (I/O, TLS, connection reset).
    Dispatch,
    /// A response arrived but could not be read (not the protocol's shape).
    Response,
    /// The service answered with a modelled or unmodelled error: its code and status are known.
    Service,
    /// A kind of failure this SDK version did not have when this code was written.
    Other,
}

/// The class of a GameLift failure: a [`GameLiftError`] variant without its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// [`GameLiftError::Full`].
    Full,
    /// [`GameLiftError::NotActive`].
    NotActive,
    /// [`GameLiftError::NotFound`].
    NotFound,
    /// [`GameLiftError::Invalid`].
    Invalid,
    /// [`GameLiftError::Throttled`].
    Throttled,
    /// [`GameLiftError::Ambiguous`].
    Ambiguous,
}

impl ErrorClass {
    /// The port's error of this class, carrying `message`.
    pub fn into_error(self, message: String) -> GameLiftError {
        match self {
            Self::Full => GameLiftError::Full,
            Self::NotActive => GameLiftError::NotActive(message),
            Self::NotFound => GameLiftError::NotFound(message),
            Self::Invalid => GameLiftError::Invalid(message),
            Self::Throttled => GameLiftError::Throttled(message),
            Self::Ambiguous => GameLiftError::Ambiguous(message),
        }
    }
}

/// Classifies a failed GameLift call (the table in the module docs).
///
/// `code` is the service's error code (`__type` without namespace), `status` the HTTP status when a
/// response arrived. Only [`FailureKind::Service`] consults the code: a timeout or a dropped connection
/// is ambiguous whatever else is known, because the request may have taken effect.
pub fn classify(code: Option<&str>, status: Option<u16>, kind: FailureKind) -> ErrorClass {
    match kind {
        FailureKind::Construction => return ErrorClass::Invalid,
        FailureKind::Timeout
        | FailureKind::Dispatch
        | FailureKind::Response
        | FailureKind::Other => {
            return ErrorClass::Ambiguous;
        }
        FailureKind::Service => {}
    }
    match code.unwrap_or_default() {
        "GameSessionFullException" => ErrorClass::Full,
        "InvalidGameSessionStatusException" => ErrorClass::NotActive,
        "NotFoundException" => ErrorClass::NotFound,
        // GameLift's LimitExceededException is a quota ("would exceed the allowed service limit"), sent
        // as 400: repeating the call cannot help. Only a 429 form is a rate, hence a throttle.
        "LimitExceededException" if status == Some(429) => ErrorClass::Throttled,
        "InvalidRequestException"
        | "ValidationException"
        | "IdempotentParameterMismatchException"
        | "IdempotentParameterMismatch"
        | "UnauthorizedException"
        | "AccessDeniedException"
        | "UnsupportedRegionException"
        | "ConflictException"
        | "TerminalRoutingStrategyException"
        | "SerializationException"
        | "LimitExceededException" => ErrorClass::Invalid,
        // NotReadyException: GameLift has not finished setting up the resource; nothing happened and a
        // later call may succeed, which is what callers do with a throttle.
        "ThrottlingException"
        | "Throttling"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "RequestLimitExceeded"
        | "NotReadyException" => ErrorClass::Throttled,
        // A server-side failure: GameLift may have done the work before failing to answer.
        "InternalServiceException"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "ServiceUnavailableException" => ErrorClass::Ambiguous,
        // An unknown code: the status decides, and without one nothing is certain.
        _ => match status {
            Some(429) => ErrorClass::Throttled,
            Some(s) if (400..500).contains(&s) => ErrorClass::Invalid,
            _ => ErrorClass::Ambiguous,
        },
    }
}

/// Maps one SDK failure of `op` onto the port's error, through [`classify`].
fn map_sdk<E>(op: &str, err: SdkError<E, HttpResponse>) -> GameLiftError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (kind, status) = match &err {
        SdkError::ConstructionFailure(_) => (FailureKind::Construction, None),
        SdkError::TimeoutError(_) => (FailureKind::Timeout, None),
        SdkError::DispatchFailure(d) if d.is_timeout() => (FailureKind::Timeout, None),
        SdkError::DispatchFailure(_) => (FailureKind::Dispatch, None),
        SdkError::ResponseError(r) => (FailureKind::Response, Some(r.raw().status().as_u16())),
        SdkError::ServiceError(s) => (FailureKind::Service, Some(s.raw().status().as_u16())),
        _ => (
            FailureKind::Other,
            err.raw_response().map(|r| r.status().as_u16()),
        ),
    };
    let code = err.code();
    let class = classify(code, status, kind);
    let message = match (kind, code) {
        (FailureKind::Service, Some(code)) => {
            format!("{op}: {code}: {}", err.message().unwrap_or("no message"))
        }
        _ => format!("{op}: {}", DisplayErrorContext(&err)),
    };
    class.into_error(message)
}

/// Retries off for one call (see the module docs: calls GameLift refuses when repeated).
fn no_retries() -> aws_sdk_gamelift::config::Builder {
    aws_sdk_gamelift::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// How many other Regions' clients one adapter keeps. AWS has fewer Regions than this in all its
/// partitions together, so in practice every client is reused; the bound only keeps a stream of
/// made-up Region names (from ARNs a caller typed) from growing the map without end. Past it a client
/// is built for the one call.
const MAX_REGIONAL_CLIENTS: usize = 64;

/// Whether `s` has the shape of an AWS Region name: two letters, one or more words, a number
/// (`us-east-1`, `eu-west-1`, `us-gov-west-1`, `cn-northwest-1`, `eu-isoe-west-1`). A game session's
/// ARN names its fleet's home Region, always such a name; GameLift's custom locations and Local Zones
/// are locations of a fleet, never its home.
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    s.len() <= 32
        && words.len() >= 2
        && words[0].len() == 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The Region a queue ARN (`arn:<partition>:gamelift:<region>:<account>:gamesessionqueue/<name>`)
/// names, if `queue` is one; a plain name lives in the client's Region.
pub fn queue_region(queue: &str) -> Option<&str> {
    let parts: Vec<&str> = queue.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "gamelift", region, _, resource]
            if resource.starts_with("gamesessionqueue/") && is_aws_region(region) =>
        {
            Some(region)
        }
        _ => None,
    }
}

/// The GameLift port on aws-sdk-gamelift, placing through one game session queue, and calling each
/// game session's home Region (see the module docs). Clones share the regional clients.
#[derive(Debug, Clone)]
pub struct SdkGameLift {
    client: OnFirstUse<Client>,
    queue_name: String,
    /// The queue's Region when its ARN names one (else the client's).
    queue_region: Option<String>,
    /// Clients for the Regions other than the configured client's, by Region, built on first use.
    regional: Arc<Mutex<HashMap<String, Client>>>,
}

impl SdkGameLift {
    /// An adapter placing game sessions through the queue `queue_name` (a name, which lives in the
    /// client's Region, or an ARN, whose Region placement calls go to). `client` is the configured one:
    /// the clients for other Regions are derived from it.
    pub fn new(client: Client, queue_name: impl Into<String>) -> Self {
        Self::with_client(OnFirstUse::ready(client), queue_name)
    }

    /// [`new`](Self::new) with a client built when the first call needs it (see [`OnFirstUse`]).
    pub fn with_client(client: OnFirstUse<Client>, queue_name: impl Into<String>) -> Self {
        let queue_name = queue_name.into();
        Self {
            queue_region: queue_region(&queue_name).map(str::to_owned),
            client,
            queue_name,
            regional: Arc::default(),
        }
    }

    /// The configured SDK client (for tests and tools).
    pub fn client(&self) -> &Client {
        self.client.get()
    }

    /// Builds the configured client in the background unless it is built (see
    /// [`OnFirstUse::build_in_background`]).
    pub fn build_client_in_background(&self) {
        self.client.build_in_background();
    }

    /// The queue placements go through.
    pub fn queue_name(&self) -> &str {
        &self.queue_name
    }

    /// A client for `region`: the configured one when it is already there, else one derived from it
    /// (built once, then reused).
    pub fn client_in(&self, region: &str) -> Client {
        let client = self.client.get();
        if client.config().region().map(|r| r.as_ref()) == Some(region) {
            return client.clone();
        }
        let mut regional = self.regional.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(c) = regional.get(region) {
            return c.clone();
        }
        let conf = client
            .config()
            .to_builder()
            .region(Region::new(region.to_owned()))
            .build();
        let c = Client::from_conf(conf);
        if regional.len() < MAX_REGIONAL_CLIENTS {
            regional.insert(region.to_owned(), c.clone());
        }
        c
    }

    /// The client for calls about the session `arn`: its home Region's. An ARN whose Region is no
    /// AWS Region name is refused before any call.
    pub fn session_client(&self, arn: &GameSessionArn) -> Result<Client, GameLiftError> {
        let region = arn.region();
        if !is_aws_region(region) {
            return Err(GameLiftError::Invalid(format!(
                "gameSessionArn {}: {region:?} is not an AWS Region, so no GameLift endpoint serves it",
                arn.as_str()
            )));
        }
        Ok(self.client_in(region))
    }

    /// The client for calls about a fleet: its home Region's (checked as for a session).
    pub fn fleet_client(&self, fleet: &FleetLocation) -> Result<Client, GameLiftError> {
        let region = fleet.home_region.as_str();
        if !is_aws_region(region) {
            return Err(GameLiftError::Invalid(format!(
                "fleet {}: {region:?} is not an AWS Region, so no GameLift endpoint serves it",
                fleet.fleet_id
            )));
        }
        Ok(self.client_in(region))
    }

    /// The client for placement calls: the queue's Region's.
    pub fn placement_client(&self) -> Client {
        match &self.queue_region {
            Some(region) => self.client_in(region),
            None => self.client.get().clone(),
        }
    }
}

/// GameLift's key/value list for a property map.
fn game_properties(properties: &GameProperties) -> Vec<GameProperty> {
    properties
        .as_map()
        .iter()
        .map(|(k, v)| GameProperty::builder().key(k).value(v).build())
        .collect()
}

impl GameLift for SdkGameLift {
    async fn start_placement(&self, request: &StartPlacement) -> Result<(), GameLiftError> {
        self.start_placement_status(request).await.map(drop)
    }

    /// The status in the answer's GameSessionPlacement: a terminal one ends the placement at once;
    /// an absent or unknown one is taken as PENDING (its event or the sweeper tells the rest).
    async fn start_placement_status(
        &self,
        request: &StartPlacement,
    ) -> Result<PlacementStatus, GameLiftError> {
        let p = &request.placement;
        let max_players = i32::try_from(u32::from(p.max_players)).map_err(|_| {
            GameLiftError::Invalid(format!(
                "maxPlayers {} is out of range",
                u32::from(p.max_players)
            ))
        })?;
        let latencies = p
            .latencies
            .iter()
            .map(|l| {
                PlayerLatency::builder()
                    .player_id(l.player_id.as_str())
                    .region_identifier(l.region.as_str())
                    // Latencies are 0–60,000 ms: exact in an f32.
                    .latency_in_milliseconds(l.latency_ms as f32)
                    .build()
            })
            .collect::<Vec<_>>();
        let players = p
            .players
            .iter()
            .map(|pl| {
                DesiredPlayerSession::builder()
                    .player_id(pl.player_id.as_str())
                    .set_player_data(pl.player_data.clone())
                    .build()
            })
            .collect::<Vec<_>>();
        // An explicit region list replaces the queue's order and, with fallback NONE, restricts the
        // placement to those regions: the create asked for them, so no other region may be used.
        let priority = (!p.regions.is_empty()).then(|| {
            PriorityConfigurationOverride::builder()
                .set_location_order(Some(
                    p.regions.iter().map(|r| r.as_str().to_owned()).collect(),
                ))
                .placement_fallback_strategy(PlacementFallbackStrategy::None)
                .build()
        });
        let out = self
            .placement_client()
            .start_game_session_placement()
            .placement_id(p.placement_id.as_str())
            .game_session_queue_name(&self.queue_name)
            .maximum_player_session_count(max_players)
            .set_game_session_name(p.name.clone())
            .set_game_session_data(p.data.clone())
            .set_game_properties(Some(game_properties(&p.properties)).filter(|v| !v.is_empty()))
            .set_player_latencies(Some(latencies).filter(|v| !v.is_empty()))
            .set_desired_player_sessions(Some(players).filter(|v| !v.is_empty()))
            .set_priority_configuration_override(priority)
            .customize()
            .config_override(no_retries())
            .send()
            .await
            .map_err(|e| map_sdk("StartGameSessionPlacement", e))?;
        let status = out
            .game_session_placement()
            .and_then(|g| g.status())
            .and_then(|s| PlacementStatus::from_wire(s.as_str()));
        Ok(match status {
            Some(s) if s.is_terminal() && s != PlacementStatus::Fulfilled => s,
            _ => PlacementStatus::Pending,
        })
    }

    async fn describe_placement(
        &self,
        id: &PlacementId,
    ) -> Result<PlacementDescription, GameLiftError> {
        let out = self
            .placement_client()
            .describe_game_session_placement()
            .placement_id(id.as_str())
            .send()
            .await
            .map_err(|e| map_sdk("DescribeGameSessionPlacement", e))?;
        let placement = out.game_session_placement.ok_or_else(|| {
            GameLiftError::Ambiguous(format!(
                "DescribeGameSessionPlacement: no placement in the answer for {id}"
            ))
        })?;
        describe_answer(id, &placement)
    }

    async fn stop_placement(&self, id: &PlacementId) -> Result<(), GameLiftError> {
        self.placement_client()
            .stop_game_session_placement()
            .placement_id(id.as_str())
            .customize()
            .config_override(no_retries())
            .send()
            .await
            .map_err(|e| map_sdk("StopGameSessionPlacement", e))?;
        Ok(())
    }

    async fn create_player_sessions(
        &self,
        arn: &GameSessionArn,
        players: &[(PlayerId, Option<String>)],
    ) -> Result<Vec<PlayerSession>, GameLiftError> {
        let ids = players.iter().map(|(p, _)| p.as_str().to_owned()).collect();
        let data: std::collections::HashMap<String, String> = players
            .iter()
            .filter_map(|(p, d)| Some((p.as_str().to_owned(), d.clone()?)))
            .collect();
        let out = self
            .session_client(arn)?
            .create_player_sessions()
            .game_session_id(arn.as_str())
            .set_player_ids(Some(ids))
            .set_player_data_map(Some(data).filter(|m| !m.is_empty()))
            .customize()
            .config_override(no_retries())
            .send()
            .await
            .map_err(|e| map_sdk("CreatePlayerSessions", e))?;
        // The sessions exist now; an answer we cannot read leaves us not knowing which: ambiguous.
        let list = "CreatePlayerSessions: PlayerSessions";
        read_each(list, out.player_sessions(), |s, at| {
            let player_id = at.player_id(s.player_id())?;
            let player_session_id = s
                .player_session_id()
                .filter(|id| !id.is_empty())
                .ok_or_else(|| at.bad("no PlayerSessionId"))?
                .to_owned();
            Ok(PlayerSession {
                player_id,
                player_session_id,
            })
        })
    }

    async fn update_game_session(
        &self,
        arn: &GameSessionArn,
        name: Option<&str>,
        properties: &GameProperties,
    ) -> Result<(), GameLiftError> {
        // GameLift merges GameProperties (adds and updates, never deletes), which is the report's rule.
        self.session_client(arn)?
            .update_game_session()
            .game_session_id(arn.as_str())
            .set_name(name.map(str::to_owned))
            .set_game_properties(Some(game_properties(properties)).filter(|v| !v.is_empty()))
            .send()
            .await
            .map_err(|e| map_sdk("UpdateGameSession", e))?;
        Ok(())
    }

    async fn terminate_game_session(&self, arn: &GameSessionArn) -> Result<(), GameLiftError> {
        // TRIGGER_ON_PROCESS_TERMINATE lets the game server run its own shutdown (OnProcessTerminate)
        // rather than being killed mid-write.
        self.session_client(arn)?
            .terminate_game_session()
            .game_session_id(arn.as_str())
            .termination_mode(TerminationMode::TriggerOnProcessTerminate)
            .send()
            .await
            .map_err(|e| map_sdk("TerminateGameSession", e))?;
        Ok(())
    }

    async fn game_session_status(
        &self,
        arn: &GameSessionArn,
    ) -> Result<Option<String>, GameLiftError> {
        let out = match self
            .session_client(arn)?
            .describe_game_sessions()
            .game_session_id(arn.as_str())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match map_sdk("DescribeGameSessions", e) {
                    GameLiftError::NotFound(_) => Ok(None),
                    other => Err(other),
                };
            }
        };
        match out.game_sessions().first() {
            None => Ok(None),
            Some(gs) => match gs.status() {
                Some(status) => Ok(Some(status.as_str().to_owned())),
                None => Err(GameLiftError::Ambiguous(format!(
                    "DescribeGameSessions: no Status for {arn}"
                ))),
            },
        }
    }

    async fn fleet_sessions(
        &self,
        fleet: &FleetLocation,
        next: Option<&str>,
    ) -> Result<FleetSessionsPage, GameLiftError> {
        let out = self
            .fleet_client(fleet)?
            .describe_game_sessions()
            .fleet_id(&fleet.fleet_id)
            .location(&fleet.location)
            .limit(FLEET_PAGE as i32)
            .set_next_token(next.map(str::to_owned))
            .send()
            .await
            .map_err(|e| map_sdk("DescribeGameSessions", e))?;
        let mut sessions = Vec::with_capacity(out.game_sessions().len());
        for gs in out.game_sessions() {
            let (Some(arn), Some(status)) = (gs.game_session_id(), gs.status()) else {
                // A listing we cannot read whole must not end or correct anything.
                return Err(GameLiftError::Ambiguous(format!(
                    "DescribeGameSessions for {fleet}: a session without GameSessionId or Status"
                )));
            };
            sessions.push(FleetSession {
                arn: arn.to_owned(),
                status: status.as_str().to_owned(),
                current_players: gs
                    .current_player_session_count()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
            });
        }
        Ok(FleetSessionsPage {
            sessions,
            next: out.next_token().map(str::to_owned),
        })
    }

    async fn set_session_policy(
        &self,
        arn: &GameSessionArn,
        policy: &SessionPolicy,
    ) -> Result<(), GameLiftError> {
        // Setting a policy to what it already is changes nothing, so the client's retries apply.
        self.session_client(arn)?
            .update_game_session()
            .game_session_id(arn.as_str())
            .set_player_session_creation_policy(policy.joinable.map(|j| {
                if j {
                    PlayerSessionCreationPolicy::AcceptAll
                } else {
                    PlayerSessionCreationPolicy::DenyAll
                }
            }))
            .set_protection_policy(policy.protected.map(|p| {
                if p {
                    ProtectionPolicy::FullProtection
                } else {
                    ProtectionPolicy::NoProtection
                }
            }))
            .send()
            .await
            .map_err(|e| map_sdk("UpdateGameSession", e))?;
        Ok(())
    }

    async fn list_locations(&self) -> Result<Vec<LocationBeacon>, GameLiftError> {
        // ListLocations is account-wide, so the queue's Region answers for all of them; custom
        // locations (Anywhere fleets) come too, without a beacon.
        let mut pages = self
            .placement_client()
            .list_locations()
            .limit(200)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| map_sdk("ListLocations", e))?;
            for l in page.locations() {
                let Some(location) = l.location_name() else {
                    continue;
                };
                let ping_beacon = l
                    .ping_beacon()
                    .and_then(|b| b.udp_endpoint())
                    .and_then(|u| {
                        Some(UdpEndpoint {
                            domain: u.domain()?.to_owned(),
                            port: u16::try_from(u.port()?).ok()?,
                        })
                    });
                out.push(LocationBeacon {
                    location: location.to_owned(),
                    ping_beacon,
                });
            }
        }
        Ok(out)
    }

    async fn player_connections(
        &self,
        arn: &GameSessionArn,
        players: &[PlayerId],
    ) -> Result<Vec<PlayerConnection>, GameLiftError> {
        let out = self
            .session_client(arn)?
            .get_player_connection_details()
            .game_session_id(arn.as_str())
            .set_player_ids(Some(
                players.iter().map(|p| p.as_str().to_owned()).collect(),
            ))
            .send()
            .await
            .map_err(|e| map_sdk("GetPlayerConnectionDetails", e))?;
        let list = "GetPlayerConnectionDetails: PlayerConnectionDetails";
        read_each(list, out.player_connection_details(), |d, at| {
            let player_id = at.player_id(d.player_id())?;
            let endpoints = d
                .endpoints()
                .iter()
                .map(|e| {
                    Ok(Endpoint {
                        ip_address: e
                            .ip_address()
                            .ok_or_else(|| at.bad("an endpoint without IpAddress"))?
                            .to_owned(),
                        port: e
                            .port()
                            .and_then(|p| u16::try_from(p).ok())
                            .ok_or_else(|| at.bad("an endpoint without a valid Port"))?,
                    })
                })
                .collect::<Result<Vec<_>, GameLiftError>>()?;
            let expires_at = match d.expiration() {
                None => None,
                Some(t) => Some(Timestamp::from_millis(
                    t.to_millis()
                        .map_err(|_| at.bad("Expiration out of range"))?,
                )),
            };
            Ok(PlayerConnection {
                player_id,
                endpoints,
                token: d
                    .player_gateway_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
                expires_at,
            })
        })
    }
}

/// One element of a list in GameLift's answer, named in the errors about it: `<list>[<index>]: …`.
struct Element<'a> {
    list: &'a str,
    index: usize,
}

impl Element<'_> {
    /// The element is unreadable for the reason `what`: whatever the call did cannot be known from
    /// it, so ambiguous.
    fn bad(&self, what: &str) -> GameLiftError {
        GameLiftError::Ambiguous(format!("{}[{}]: {what}", self.list, self.index))
    }

    /// The element's PlayerId, which must be there and valid.
    fn player_id(&self, id: Option<&str>) -> Result<PlayerId, GameLiftError> {
        let id = id.ok_or_else(|| self.bad("no PlayerId"))?;
        PlayerId::parse(id).map_err(|e| self.bad(&format!("PlayerId {e}")))
    }
}

/// Reads every element of the answer's `list` with `read`; the first it cannot read fails the whole.
fn read_each<T, R>(
    list: &str,
    items: &[T],
    read: impl Fn(&T, &Element<'_>) -> Result<R, GameLiftError>,
) -> Result<Vec<R>, GameLiftError> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| read(item, &Element { list, index }))
        .collect()
}

/// Reads a DescribeGameSessionPlacement answer for the placement `id`.
///
/// A status this code does not know, or a FULFILLED answer whose session does not parse, is
/// [`GameLiftError::Ambiguous`]: the placement's outcome cannot be recorded from it.
pub fn describe_answer(
    id: &PlacementId,
    placement: &GameSessionPlacement,
) -> Result<PlacementDescription, GameLiftError> {
    let status = placement.status().ok_or_else(|| {
        GameLiftError::Ambiguous(format!("DescribeGameSessionPlacement: no Status for {id}"))
    })?;
    let status = PlacementStatus::from_wire(status.as_str()).ok_or_else(|| {
        GameLiftError::Ambiguous(format!(
            "DescribeGameSessionPlacement: unknown Status {:?} for {id}",
            status.as_str()
        ))
    })?;
    let fulfilled = match status {
        PlacementStatus::Fulfilled => Some(fulfilled_from(id, placement)?),
        _ => None,
    };
    Ok(PlacementDescription { status, fulfilled })
}

/// The session of a FULFILLED placement, read by the placement-event parser from the detail a
/// `PlacementFulfilled` event would carry. Absent members are left out (so the parser names them as
/// missing); the port goes in as a number, which the parser accepts besides GameLift's string.
fn fulfilled_from(id: &PlacementId, p: &GameSessionPlacement) -> Result<Fulfilled, GameLiftError> {
    fn put(detail: &mut Map<String, Value>, key: &str, value: Option<&str>) {
        if let Some(v) = value {
            detail.insert(key.to_owned(), Value::String(v.to_owned()));
        }
    }
    let mut detail = Map::new();
    detail.insert("type".into(), Value::String(TYPE_FULFILLED.into()));
    detail.insert("placementId".into(), Value::String(id.as_str().to_owned()));
    put(&mut detail, "gameSessionArn", p.game_session_arn());
    put(&mut detail, "ipAddress", p.ip_address());
    put(&mut detail, "dnsName", p.dns_name());
    put(&mut detail, "gameSessionRegion", p.game_session_region());
    if let Some(port) = p.port() {
        detail.insert("port".into(), Value::from(port));
    }
    let sessions = p
        .placed_player_sessions()
        .iter()
        .map(|s| {
            let mut o = Map::new();
            put(&mut o, "playerId", s.player_id());
            put(&mut o, "playerSessionId", s.player_session_id());
            Value::Object(o)
        })
        .collect();
    detail.insert("placedPlayerSessions".into(), Value::Array(sessions));

    let unusable = |why: String| {
        GameLiftError::Ambiguous(format!(
            "DescribeGameSessionPlacement: FULFILLED {id} is unusable: {why}"
        ))
    };
    let event =
        parse_message(&Value::Object(detail).to_string()).map_err(|e| unusable(e.to_string()))?;
    match event.kind {
        EventKind::Fulfilled(f) => Ok(f),
        other => Err(unusable(format!("read as {}", other.type_name()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_gamelift::types::{GameSessionPlacementState, PlacedPlayerSession};

    use ErrorClass::*;
    use FailureKind::*;

    #[test]
    fn modelled_gamelift_errors_map_to_their_outcome() {
        let cases = [
            ("GameSessionFullException", 400, Full),
            ("InvalidGameSessionStatusException", 400, NotActive),
            ("NotFoundException", 400, NotFound),
            ("InvalidRequestException", 400, Invalid),
            ("ValidationException", 400, Invalid),
            ("IdempotentParameterMismatchException", 400, Invalid),
            ("UnauthorizedException", 400, Invalid),
            ("UnsupportedRegionException", 400, Invalid),
            ("ConflictException", 400, Invalid),
            ("TerminalRoutingStrategyException", 400, Invalid),
            ("ThrottlingException", 400, Throttled),
            ("ThrottlingException", 429, Throttled),
            ("TooManyRequestsException", 429, Throttled),
            ("NotReadyException", 400, Throttled),
            ("InternalServiceException", 500, Ambiguous),
        ];
        for (code, status, want) in cases {
            assert_eq!(
                classify(Some(code), Some(status), Service),
                want,
                "{code} {status}"
            );
        }
    }

    #[test]
    fn a_quota_limit_is_invalid_but_a_rate_limit_is_a_throttle() {
        assert_eq!(
            classify(Some("LimitExceededException"), Some(400), Service),
            Invalid
        );
        assert_eq!(
            classify(Some("LimitExceededException"), Some(429), Service),
            Throttled
        );
    }

    #[test]
    fn timeouts_dropped_connections_and_unreadable_answers_are_ambiguous_whatever_the_code() {
        for kind in [Timeout, Dispatch, Response, Other] {
            assert_eq!(classify(None, None, kind), Ambiguous, "{kind:?}");
            assert_eq!(
                classify(Some("NotFoundException"), Some(400), kind),
                Ambiguous,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn a_request_that_was_never_built_is_invalid() {
        assert_eq!(classify(None, None, Construction), Invalid);
    }

    #[test]
    fn unknown_codes_are_classified_by_status() {
        assert_eq!(
            classify(Some("SomethingNew"), Some(429), Service),
            Throttled
        );
        assert_eq!(classify(Some("SomethingNew"), Some(403), Service), Invalid);
        assert_eq!(
            classify(Some("SomethingNew"), Some(503), Service),
            Ambiguous
        );
        assert_eq!(classify(None, Some(502), Service), Ambiguous);
        assert_eq!(classify(None, None, Service), Ambiguous);
    }

    #[test]
    fn each_class_becomes_its_port_error_with_the_message() {
        let m = || "m".to_owned();
        assert_eq!(Full.into_error(m()), GameLiftError::Full);
        assert_eq!(NotActive.into_error(m()), GameLiftError::NotActive(m()));
        assert_eq!(NotFound.into_error(m()), GameLiftError::NotFound(m()));
        assert_eq!(Invalid.into_error(m()), GameLiftError::Invalid(m()));
        assert_eq!(Throttled.into_error(m()), GameLiftError::Throttled(m()));
        assert_eq!(Ambiguous.into_error(m()), GameLiftError::Ambiguous(m()));
    }

    const ARN: &str =
        "arn:aws:gamelift:us-east-1::gamesession/fleet-1a1a1a1a-0000-4000-8000-000000000001/p-1";

    fn fulfilled_placement() -> aws_sdk_gamelift::types::builders::GameSessionPlacementBuilder {
        GameSessionPlacement::builder()
            .placement_id("p-1")
            .status(GameSessionPlacementState::Fulfilled)
            .game_session_arn(ARN)
            .ip_address("10.0.0.1")
            .dns_name("ec2-10-0-0-1.compute.amazonaws.com")
            .port(7777)
            .game_session_region("us-east-1")
            .placed_player_sessions(
                PlacedPlayerSession::builder()
                    .player_id("alice")
                    .player_session_id("psess-1")
                    .build(),
            )
    }

    fn pid() -> PlacementId {
        PlacementId::parse("p-1").expect("valid id")
    }

    #[test]
    fn a_fulfilled_answer_reads_as_the_event_would() {
        let d = describe_answer(&pid(), &fulfilled_placement().build()).expect("parses");
        assert_eq!(d.status, PlacementStatus::Fulfilled);
        let f = d.fulfilled.expect("fulfilled");
        assert_eq!(f.game_session_arn.as_str(), ARN);
        assert_eq!(
            (f.ip_address.as_str(), f.port, f.region.as_str()),
            ("10.0.0.1", 7777, "us-east-1")
        );
        assert_eq!(f.placed_player_sessions.len(), 1);
        assert_eq!(f.placed_player_sessions[0].player_session_id, "psess-1");
    }

    #[test]
    fn other_statuses_carry_no_session() {
        for (state, want) in [
            (GameSessionPlacementState::Pending, PlacementStatus::Pending),
            (
                GameSessionPlacementState::TimedOut,
                PlacementStatus::TimedOut,
            ),
            (
                GameSessionPlacementState::Cancelled,
                PlacementStatus::Cancelled,
            ),
            (GameSessionPlacementState::Failed, PlacementStatus::Failed),
        ] {
            let p = GameSessionPlacement::builder().status(state).build();
            assert_eq!(
                describe_answer(&pid(), &p),
                Ok(PlacementDescription {
                    status: want,
                    fulfilled: None
                })
            );
        }
    }

    #[test]
    fn an_unparsable_fulfilled_answer_is_ambiguous_with_the_reason() {
        let cases = [
            (
                fulfilled_placement().set_game_session_arn(None).build(),
                "gameSessionArn",
            ),
            (
                fulfilled_placement().game_session_arn("not-an-arn").build(),
                "gameSessionArn",
            ),
            (
                fulfilled_placement().ip_address("10.0.0.999").build(),
                "ipAddress",
            ),
            (fulfilled_placement().port(0).build(), "port"),
            (fulfilled_placement().port(70_000).build(), "port"),
            (fulfilled_placement().set_port(None).build(), "port"),
            (
                fulfilled_placement()
                    .placed_player_sessions(
                        PlacedPlayerSession::builder()
                            .player_session_id("psess-2")
                            .build(),
                    )
                    .build(),
                "playerId",
            ),
        ];
        for (p, field) in cases {
            match describe_answer(&pid(), &p) {
                Err(GameLiftError::Ambiguous(msg)) => {
                    assert!(msg.contains(field), "{msg} names {field}")
                }
                other => panic!("{field}: expected Ambiguous, got {other:?}"),
            }
        }
    }

    /// A client as a Lambda has it (us-east-1), pointed at a port nobody listens on: any call that
    /// were sent would fail as a dropped connection (Ambiguous), so an `Invalid` proves none was.
    fn us_east_1_client() -> Client {
        let conf = aws_sdk_gamelift::Config::builder()
            .behavior_version(aws_sdk_gamelift::config::BehaviorVersion::latest())
            .http_client(crate::clients::http_client())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_gamelift::config::Credentials::new(
                "AKID", "secret", None, None, "test",
            ))
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_millis(700))
                    .build(),
            )
            .build();
        Client::from_conf(conf)
    }

    fn region_of(c: &Client) -> Option<String> {
        c.config().region().map(|r| r.as_ref().to_owned())
    }

    fn session(arn: &str) -> GameSessionArn {
        GameSessionArn::parse(arn).expect("valid ARN")
    }

    #[test]
    fn aws_region_names_are_told_from_locations_and_garbage() {
        for r in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-7",
            "us-gov-west-1",
            "cn-northwest-1",
            "eu-isoe-west-1",
        ] {
            assert!(is_aws_region(r), "{r}");
        }
        for r in [
            "",
            "local",
            "us-east",
            "us-east-1a",
            "us-east-1-bos-1",
            "custom-home-lab",
            "-east-1",
            "us--east-1",
            "us-east-123",
        ] {
            assert!(!is_aws_region(r), "{r:?}");
        }
    }

    #[test]
    fn a_session_call_goes_to_the_region_its_arn_names_on_a_client_built_once() {
        let gl = SdkGameLift::new(us_east_1_client(), "default-queue");
        let eu = session(
            "arn:aws:gamelift:eu-west-1::gamesession/fleet-2b2b2b2b-0000-4000-8000-000000000002/p-1",
        );
        let remote = session(
            "arn:aws:gamelift:eu-west-1::gamesession/fleet-2b2b2b2b-0000-4000-8000-000000000002/eu-central-1/p-2",
        );
        let us = session(
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1a1a1a1a-0000-4000-8000-000000000001/p-3",
        );
        let c = gl.session_client(&eu).expect("a Region");
        assert_eq!(region_of(&c).as_deref(), Some("eu-west-1"));
        let c = gl.session_client(&remote).expect("a Region");
        assert_eq!(
            region_of(&c).as_deref(),
            Some("eu-west-1"),
            "the home Region, not the location"
        );
        let c = gl.session_client(&us).expect("a Region");
        assert_eq!(region_of(&c).as_deref(), Some("us-east-1"));
        // A clone (each handler holds one) shares the clients: one eu-west-1 client in all.
        let clone = gl.clone();
        clone.session_client(&eu).expect("a Region");
        let built = gl.regional.lock().expect("lock").len();
        assert_eq!(
            built, 1,
            "one derived client, reused; us-east-1 is the configured one"
        );
    }

    /// An HTTP client that records each request's `Authorization` header and answers every call
    /// with an empty RPC v2 CBOR structure (`{}`, what DescribeGameSessions answers for no session).
    #[derive(Debug, Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    impl aws_smithy_runtime_api::client::http::HttpClient for Recorder {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpConnector for Recorder {
        fn call(
            &self,
            request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let auth = request.headers().get("authorization").unwrap_or_default();
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(auth.to_owned());
            let mut response = HttpResponse::new(
                200u16.try_into().expect("status"),
                aws_smithy_types::body::SdkBody::from(vec![0xA0]),
            );
            response
                .headers_mut()
                .insert("content-type", "application/cbor");
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
        }
    }

    #[tokio::test]
    async fn a_regional_client_is_the_configured_one_with_only_the_region_changed() {
        // Built as the Lambdas build theirs: one shared SdkConfig, one HTTP client, static credentials.
        let http = Recorder::default();
        let shared = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_gamelift::config::SharedCredentialsProvider::new(
                aws_sdk_gamelift::config::Credentials::new("AKIDSHARED", "s", None, None, "t"),
            ))
            .http_client(http.clone())
            .endpoint_url("http://gamelift.test")
            .retry_config(RetryConfig::standard().with_max_attempts(2))
            .build();
        let base = Client::new(&shared);
        let gl = SdkGameLift::new(base.clone(), "default-queue");
        for arn in [
            "arn:aws:gamelift:eu-west-1::gamesession/fleet-2/p-1",
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1/p-2",
        ] {
            assert_eq!(gl.game_session_status(&session(arn)).await, Ok(None));
        }
        let seen = http.0.lock().expect("lock").clone();
        assert_eq!(
            seen.len(),
            2,
            "both calls went through the one HTTP client: {seen:?}"
        );
        assert!(
            seen[0].contains("Credential=AKIDSHARED/") && seen[0].contains("/eu-west-1/gamelift/"),
            "signed with the shared credentials for the session's Region: {}",
            seen[0]
        );
        assert!(seen[1].contains("/us-east-1/gamelift/"), "{}", seen[1]);
        let eu = gl.client_in("eu-west-1");
        assert_eq!(
            base.config().retry_config().map(|r| r.max_attempts()),
            eu.config().retry_config().map(|r| r.max_attempts()),
            "the configured retries"
        );
    }

    #[test]
    fn placement_calls_go_to_the_queues_region() {
        let by_name = SdkGameLift::new(us_east_1_client(), "default-queue");
        assert_eq!(
            region_of(&by_name.placement_client()).as_deref(),
            Some("us-east-1"),
            "a queue name lives in the configured Region"
        );
        let by_arn = SdkGameLift::new(
            us_east_1_client(),
            "arn:aws:gamelift:ap-northeast-1:123456789012:gamesessionqueue/tokyo",
        );
        assert_eq!(
            region_of(&by_arn.placement_client()).as_deref(),
            Some("ap-northeast-1")
        );
        assert_eq!(
            queue_region("arn:aws:gamelift:moon:1:gamesessionqueue/q"),
            None
        );
        assert_eq!(
            queue_region("arn:aws:gamelift:eu-west-1:1:fleet/fleet-1"),
            None
        );
    }

    #[tokio::test]
    async fn an_arn_whose_region_is_no_aws_region_is_invalid_and_never_sent() {
        let gl = SdkGameLift::new(us_east_1_client(), "default-queue");
        // fleet-core accepts any [a-z0-9-] Region in an ARN; no GameLift endpoint serves these.
        for region in ["local", "us-east-1a", "x"] {
            let arn = session(&format!(
                "arn:aws:gamelift:{region}::gamesession/fleet-1/p-1"
            ));
            let refused = |r: Result<_, GameLiftError>| match r {
                Err(GameLiftError::Invalid(m)) => {
                    m.contains(region) && m.contains("not an AWS Region")
                }
                _ => false,
            };
            let pid = PlayerId::parse("ann").expect("player");
            assert!(refused(
                gl.create_player_sessions(&arn, &[(pid, None)])
                    .await
                    .map(|_| ())
            ));
            assert!(refused(gl.game_session_status(&arn).await.map(|_| ())));
            assert!(refused(
                gl.update_game_session(&arn, Some("n"), &GameProperties::default())
                    .await
            ));
            assert!(refused(gl.terminate_game_session(&arn).await));
        }
        assert!(
            gl.regional.lock().expect("lock").is_empty(),
            "no client built"
        );
    }

    #[test]
    fn an_unknown_or_missing_status_is_ambiguous() {
        let p = GameSessionPlacement::builder()
            .status(GameSessionPlacementState::from("QUEUED"))
            .build();
        assert!(
            matches!(describe_answer(&pid(), &p), Err(GameLiftError::Ambiguous(m)) if m.contains("QUEUED"))
        );
        let p = GameSessionPlacement::builder().build();
        assert!(matches!(
            describe_answer(&pid(), &p),
            Err(GameLiftError::Ambiguous(_))
        ));
    }
}

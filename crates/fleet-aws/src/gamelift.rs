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
//! **Answers are validated.** A FULFILLED placement is turned into the same [`Fulfilled`] a
//! `PlacementFulfilled` event would give, by the same parser ([`fleet_core::event::parse_message`]), so
//! a describe (the sweeper) and an event (the queue) can never disagree on what a valid session is. An
//! answer that does not parse is [`GameLiftError::Ambiguous`] with the reason, never a panic.

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::http::HttpResponse;
use aws_sdk_gamelift::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_gamelift::types::{
    DesiredPlayerSession, GameProperty, GameSessionPlacement, PlacementFallbackStrategy,
    PlayerLatency, PriorityConfigurationOverride, TerminationMode,
};
use aws_smithy_types::retry::RetryConfig;
use fleet_core::event::{EventKind, Fulfilled, TYPE_FULFILLED, parse_message};
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId};
use fleet_core::input::GameProperties;
use fleet_core::model::{PlacementStatus, PlayerSession};
use fleet_core::ports::{GameLift, GameLiftError, PlacementDescription, StartPlacement};
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

/// The GameLift port on aws-sdk-gamelift, placing through one game session queue.
#[derive(Debug, Clone)]
pub struct SdkGameLift {
    client: Client,
    queue_name: String,
}

impl SdkGameLift {
    /// An adapter placing game sessions through the queue `queue_name` (a name or an ARN).
    pub fn new(client: Client, queue_name: impl Into<String>) -> Self {
        Self {
            client,
            queue_name: queue_name.into(),
        }
    }

    /// The SDK client (for tests and tools).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The queue placements go through.
    pub fn queue_name(&self) -> &str {
        &self.queue_name
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
            .client
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
            .client
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
        self.client
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
            .client
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
        out.player_sessions()
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let bad = |what: &str| {
                    GameLiftError::Ambiguous(format!(
                        "CreatePlayerSessions: PlayerSessions[{i}]: {what}"
                    ))
                };
                let player_id = s.player_id().ok_or_else(|| bad("no PlayerId"))?;
                let player_id =
                    PlayerId::parse(player_id).map_err(|e| bad(&format!("PlayerId {e}")))?;
                let player_session_id = s
                    .player_session_id()
                    .filter(|id| !id.is_empty())
                    .ok_or_else(|| bad("no PlayerSessionId"))?
                    .to_owned();
                Ok(PlayerSession {
                    player_id,
                    player_session_id,
                })
            })
            .collect()
    }

    async fn update_game_session(
        &self,
        arn: &GameSessionArn,
        name: Option<&str>,
        properties: &GameProperties,
    ) -> Result<(), GameLiftError> {
        // GameLift merges GameProperties (adds and updates, never deletes), which is the report's rule.
        self.client
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
        self.client
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
            .client
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

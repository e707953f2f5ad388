//! [`FaultyStore`]: any store with faults injected in front of it, the way DynamoDB fails (throttling,
//! an unreachable endpoint, an item that cannot be read back, an item over its size limit). What fails
//! is decided by a [`StoreFaults`] policy per call, so a test scripts "the next three calls" or "every
//! call about this placement" without writing a store of its own.

use crate::ids::{ConnectionId, GameSessionArn, PlacementId, PlayerId, SessionId};
use crate::model::{Placement, PlayerSession, Session};
use crate::ports::{
    Applied, Connection, ConnectionStore, CreateOutcome, IdempotencyRecord, JoinRefused,
    ListRequest, Page, PlacementOutcome, PolicyRefused, Reserved, SessionKey, SessionPolicy,
    SessionStore, StatusReport, StoreError, Subscriber,
};
use crate::time::Timestamp;

/// The store operation a call makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs, reason = "each names the port method of the same name")]
pub enum StoreOp {
    CreatePlacement,
    GetPlacement,
    FinishPlacement,
    GetSession,
    ListSessions,
    EndSession,
    ApplyReport,
    CorrectPlayerCount,
    ReserveSeats,
    RecordPlayerSessions,
    SetPolicy,
    ReleaseSeats,
    ExpireSeats,
    PutConnection,
    DeleteConnection,
    Connection,
    ConnectionsOf,
    Subscribe,
    Unsubscribe,
    Subscribers,
    MarkSent,
    UnmarkSent,
}

/// One call a fault may fail: its operation and, when it is about one placement, that placement.
#[derive(Debug, Clone, Copy)]
pub struct StoreCall<'a> {
    /// The operation.
    pub op: StoreOp,
    /// The placement the call reads or writes, if it is about one.
    pub placement: Option<&'a PlacementId>,
    /// Whether the call records a fulfilment (the write that carries a whole session).
    pub fulfilment: bool,
}

impl<'a> StoreCall<'a> {
    fn of(op: StoreOp) -> Self {
        Self {
            op,
            placement: None,
            fulfilment: false,
        }
    }

    fn about(op: StoreOp, placement: &'a PlacementId) -> Self {
        Self {
            op,
            placement: Some(placement),
            fulfilment: false,
        }
    }
}

/// Decides, call by call, whether a [`FaultyStore`] fails instead of answering.
pub trait StoreFaults: Send + Sync {
    /// The error `call` fails with, or `None` to let it reach the store.
    fn fault(&self, call: &StoreCall<'_>) -> Option<StoreError>;
}

/// `inner` with `faults` in front: every call first asks the policy, then reaches `inner`.
///
/// The trait's composite calls (`create_placement_capped`, `finish_placements`, `release_pending(s)`)
/// keep their defaults, so each of their steps meets a fault of its own.
#[derive(Debug, Default)]
pub struct FaultyStore<S, F> {
    /// The real store.
    pub inner: S,
    /// What fails.
    pub faults: F,
}

impl<S, F: StoreFaults> FaultyStore<S, F> {
    /// `inner` behind `faults`.
    pub fn new(inner: S, faults: F) -> Self {
        Self { inner, faults }
    }

    fn check(&self, call: StoreCall<'_>) -> Result<(), StoreError> {
        self.faults.fault(&call).map_or(Ok(()), Err)
    }
}

impl<S: SessionStore, F: StoreFaults> SessionStore for FaultyStore<S, F> {
    async fn create_placement(
        &self,
        p: &Placement,
        i: Option<&IdempotencyRecord>,
    ) -> Result<CreateOutcome, StoreError> {
        self.check(StoreCall::about(StoreOp::CreatePlacement, &p.placement_id))?;
        self.inner.create_placement(p, i).await
    }

    async fn get_placement(&self, id: &PlacementId) -> Result<Option<Placement>, StoreError> {
        self.check(StoreCall::about(StoreOp::GetPlacement, id))?;
        self.inner.get_placement(id).await
    }

    async fn finish_placement(
        &self,
        id: &PlacementId,
        o: &PlacementOutcome,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.check(StoreCall {
            fulfilment: matches!(o, PlacementOutcome::Fulfilled { .. }),
            ..StoreCall::about(StoreOp::FinishPlacement, id)
        })?;
        self.inner.finish_placement(id, o, at).await
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        self.check(StoreCall::of(StoreOp::GetSession))?;
        self.inner.get_session(id).await
    }

    async fn list_sessions(&self, r: &ListRequest) -> Result<Page, StoreError> {
        self.check(StoreCall::of(StoreOp::ListSessions))?;
        self.inner.list_sessions(r).await
    }

    async fn end_session(&self, key: SessionKey<'_>, at: Timestamp) -> Result<Applied, StoreError> {
        self.check(StoreCall::of(StoreOp::EndSession))?;
        self.inner.end_session(key, at).await
    }

    async fn apply_report(
        &self,
        arn: &GameSessionArn,
        r: &StatusReport,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.check(StoreCall::of(StoreOp::ApplyReport))?;
        self.inner.apply_report(arn, r, at).await
    }

    async fn correct_player_count(
        &self,
        arn: &GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.check(StoreCall::of(StoreOp::CorrectPlayerCount))?;
        self.inner
            .correct_player_count(arn, count, quiet_since, at)
            .await
    }

    async fn reserve_seats(
        &self,
        s: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Result<Reserved, JoinRefused>, StoreError> {
        self.check(StoreCall::of(StoreOp::ReserveSeats))?;
        self.inner.reserve_seats(s, players, now, expires_at).await
    }

    async fn record_player_sessions(
        &self,
        s: &SessionId,
        ps: &[PlayerSession],
    ) -> Result<(), StoreError> {
        self.check(StoreCall::of(StoreOp::RecordPlayerSessions))?;
        self.inner.record_player_sessions(s, ps).await
    }

    async fn set_policy(
        &self,
        s: &SessionId,
        policy: &SessionPolicy,
        at: Timestamp,
    ) -> Result<Result<Session, PolicyRefused>, StoreError> {
        self.check(StoreCall::of(StoreOp::SetPolicy))?;
        self.inner.set_policy(s, policy, at).await
    }

    async fn release_seats(
        &self,
        s: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.check(StoreCall::of(StoreOp::ReleaseSeats))?;
        self.inner.release_seats(s, players, at).await
    }

    async fn expire_seats(&self, s: &SessionId, now: Timestamp) -> Result<u32, StoreError> {
        self.check(StoreCall::of(StoreOp::ExpireSeats))?;
        self.inner.expire_seats(s, now).await
    }
}

impl<S: ConnectionStore, F: StoreFaults> ConnectionStore for FaultyStore<S, F> {
    async fn put_connection(&self, c: &Connection) -> Result<(), StoreError> {
        self.check(StoreCall::of(StoreOp::PutConnection))?;
        self.inner.put_connection(c).await
    }

    async fn delete_connection(&self, c: &ConnectionId) -> Result<(), StoreError> {
        self.check(StoreCall::of(StoreOp::DeleteConnection))?;
        self.inner.delete_connection(c).await
    }

    async fn connection(
        &self,
        c: &ConnectionId,
        now: Timestamp,
    ) -> Result<Option<Connection>, StoreError> {
        self.check(StoreCall::of(StoreOp::Connection))?;
        self.inner.connection(c, now).await
    }

    async fn connections_of(
        &self,
        user: &str,
        now: Timestamp,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        self.check(StoreCall::of(StoreOp::ConnectionsOf))?;
        self.inner.connections_of(user, now).await
    }

    async fn subscribe(
        &self,
        p: &PlacementId,
        s: &Subscriber,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.check(StoreCall::about(StoreOp::Subscribe, p))?;
        self.inner.subscribe(p, s, expires_at).await
    }

    async fn unsubscribe(&self, p: &PlacementId, c: &ConnectionId) -> Result<(), StoreError> {
        self.check(StoreCall::about(StoreOp::Unsubscribe, p))?;
        self.inner.unsubscribe(p, c).await
    }

    async fn subscribers(
        &self,
        p: &PlacementId,
        now: Timestamp,
    ) -> Result<Vec<Subscriber>, StoreError> {
        self.check(StoreCall::about(StoreOp::Subscribers, p))?;
        self.inner.subscribers(p, now).await
    }

    async fn mark_sent(
        &self,
        p: &PlacementId,
        c: &ConnectionId,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.check(StoreCall::about(StoreOp::MarkSent, p))?;
        self.inner.mark_sent(p, c, at).await
    }

    async fn unmark_sent(&self, p: &PlacementId, c: &ConnectionId) -> Result<(), StoreError> {
        self.check(StoreCall::about(StoreOp::UnmarkSent, p))?;
        self.inner.unmark_sent(p, c).await
    }
}

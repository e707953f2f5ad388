//! [`Shared`]: one store behind an `Arc`, so a row can hand the same table to the handlers' `Deps`
//! and to a GameLift stand-in that delivers placement events synchronously (an event that arrives
//! before the create handler returns), or to a sweeper run in the middle of a join.

use std::sync::Arc;

use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId, SessionId};
use fleet_core::model::{Placement, PlayerSession, Session};
use fleet_core::ports::{
    Applied, CreateOutcome, IdempotencyRecord, JoinRefused, ListRequest, Page, PendingCap,
    PlacementOutcome, Reserved, SessionKey, SessionStore, SessionSweepPage, StatusReport,
    StoreError, SweepStore,
};
use fleet_core::time::Timestamp;

/// A store shared by reference count; every call goes to the one inside.
#[derive(Debug, Default)]
pub struct Shared<T>(pub Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Shared<T> {
    /// Shares `inner`.
    pub fn new(inner: T) -> Self {
        Self(Arc::new(inner))
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: SessionStore> SessionStore for Shared<T> {
    async fn create_placement(
        &self,
        p: &Placement,
        i: Option<&IdempotencyRecord>,
    ) -> Result<CreateOutcome, StoreError> {
        self.0.create_placement(p, i).await
    }
    async fn create_placement_capped(
        &self,
        p: &Placement,
        i: Option<&IdempotencyRecord>,
        cap: Option<&PendingCap>,
    ) -> Result<CreateOutcome, StoreError> {
        self.0.create_placement_capped(p, i, cap).await
    }
    async fn release_pending(&self, owner: &str, id: &PlacementId) -> Result<(), StoreError> {
        self.0.release_pending(owner, id).await
    }
    async fn release_pendings(&self, released: &[(String, PlacementId)]) -> Result<(), StoreError> {
        self.0.release_pendings(released).await
    }
    async fn get_placement(&self, id: &PlacementId) -> Result<Option<Placement>, StoreError> {
        self.0.get_placement(id).await
    }
    async fn finish_placement(
        &self,
        id: &PlacementId,
        o: &PlacementOutcome,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.0.finish_placement(id, o, at).await
    }
    async fn get_session(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        self.0.get_session(id).await
    }
    async fn list_sessions(&self, r: &ListRequest) -> Result<Page, StoreError> {
        self.0.list_sessions(r).await
    }
    async fn end_session(&self, k: SessionKey<'_>, at: Timestamp) -> Result<Applied, StoreError> {
        self.0.end_session(k, at).await
    }
    async fn apply_report(
        &self,
        arn: &GameSessionArn,
        r: &StatusReport,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.0.apply_report(arn, r, at).await
    }
    async fn correct_player_count(
        &self,
        arn: &GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.0
            .correct_player_count(arn, count, quiet_since, at)
            .await
    }
    async fn reserve_seats(
        &self,
        id: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Result<Reserved, JoinRefused>, StoreError> {
        self.0.reserve_seats(id, players, now, expires_at).await
    }

    async fn record_player_sessions(
        &self,
        id: &SessionId,
        ps: &[PlayerSession],
    ) -> Result<(), StoreError> {
        self.0.record_player_sessions(id, ps).await
    }
    async fn set_policy(
        &self,
        id: &SessionId,
        policy: &fleet_core::ports::SessionPolicy,
        at: Timestamp,
    ) -> Result<Result<fleet_core::model::Session, fleet_core::ports::PolicyRefused>, StoreError>
    {
        self.0.set_policy(id, policy, at).await
    }
    async fn release_seats(
        &self,
        id: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.0.release_seats(id, players, at).await
    }
    async fn expire_seats(&self, id: &SessionId, now: Timestamp) -> Result<u32, StoreError> {
        self.0.expire_seats(id, now).await
    }
}

impl<T: SweepStore> SweepStore for Shared<T> {
    async fn due_placements(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PlacementId>, StoreError> {
        self.0.due_placements(now, limit).await
    }
    async fn due_seat_sessions(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<SessionId>, StoreError> {
        self.0.due_seat_sessions(now, limit).await
    }
    async fn oldest_sessions(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> Result<SessionSweepPage, StoreError> {
        self.0.oldest_sessions(limit, after).await
    }
    async fn sweep_position(&self) -> Result<Option<String>, StoreError> {
        self.0.sweep_position().await
    }
    async fn save_sweep_position(&self, position: Option<&str>) -> Result<(), StoreError> {
        self.0.save_sweep_position(position).await
    }
}

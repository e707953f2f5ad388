//! A store behind an `Arc` is the same store: one table can be handed to a function's `Deps` and to a
//! GameLift stand-in (or a sweeper run) at once. Every method is passed on, the defaulted ones too, so
//! an adapter's own batching (`get_placements`, `finish_placements`, `release_pendings`) is never swapped for a default.

use std::future::Future;
use std::sync::Arc;

use super::{
    Applied, CreateOutcome, Finish, Finished, IdempotencyRecord, JoinRefused, ListRequest, Page,
    PendingCap, PlacementOutcome, PolicyRefused, Reserved, SessionKey, SessionPolicy, SessionStore,
    SessionSweepPage, StatusReport, StoreError, SweepStore,
};
use crate::ids::{GameSessionArn, PlacementId, PlayerId, SessionId};
use crate::model::{Placement, PlayerSession, Session};
use crate::time::Timestamp;

impl<T: SessionStore> SessionStore for Arc<T> {
    fn create_placement(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send {
        (**self).create_placement(placement, idempotency)
    }

    fn create_placement_capped(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
        cap: Option<&PendingCap>,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send {
        (**self).create_placement_capped(placement, idempotency, cap)
    }

    fn release_pending(
        &self,
        owner: &str,
        id: &PlacementId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release_pending(owner, id)
    }

    fn release_pendings(
        &self,
        released: &[(String, PlacementId)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).release_pendings(released)
    }

    fn get_placement(
        &self,
        id: &PlacementId,
    ) -> impl Future<Output = Result<Option<Placement>, StoreError>> + Send {
        (**self).get_placement(id)
    }

    fn finish_placement(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send {
        (**self).finish_placement(id, outcome, at)
    }

    fn get_placements(
        &self,
        ids: &[PlacementId],
    ) -> impl Future<Output = Vec<Result<Option<Placement>, StoreError>>> + Send {
        (**self).get_placements(ids)
    }

    fn finish_placements(
        &self,
        batch: &[Finish],
    ) -> impl Future<Output = Vec<Result<Finished, StoreError>>> + Send {
        (**self).finish_placements(batch)
    }

    fn get_session(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send {
        (**self).get_session(id)
    }

    fn list_sessions(
        &self,
        request: &ListRequest,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send {
        (**self).list_sessions(request)
    }

    fn end_session(
        &self,
        arn_or_id: SessionKey<'_>,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send {
        (**self).end_session(arn_or_id, at)
    }

    fn apply_report(
        &self,
        arn: &GameSessionArn,
        report: &StatusReport,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send {
        (**self).apply_report(arn, report, at)
    }

    fn correct_player_count(
        &self,
        arn: &GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send {
        (**self).correct_player_count(arn, count, quiet_since, at)
    }

    fn reserve_seats(
        &self,
        session: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<Result<Reserved, JoinRefused>, StoreError>> + Send {
        (**self).reserve_seats(session, players, now, expires_at)
    }

    fn record_player_sessions(
        &self,
        session: &SessionId,
        player_sessions: &[PlayerSession],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).record_player_sessions(session, player_sessions)
    }

    fn release_seats(
        &self,
        session: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send {
        (**self).release_seats(session, players, at)
    }

    fn expire_seats(
        &self,
        session: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send {
        (**self).expire_seats(session, now)
    }

    fn set_policy(
        &self,
        session: &SessionId,
        policy: &SessionPolicy,
        at: Timestamp,
    ) -> impl Future<Output = Result<Result<Session, PolicyRefused>, StoreError>> + Send {
        (**self).set_policy(session, policy, at)
    }
}

impl<T: SweepStore> SweepStore for Arc<T> {
    fn due_placements(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<PlacementId>, StoreError>> + Send {
        (**self).due_placements(now, limit)
    }

    fn due_seat_sessions(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<SessionId>, StoreError>> + Send {
        (**self).due_seat_sessions(now, limit)
    }

    fn oldest_sessions(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> impl Future<Output = Result<SessionSweepPage, StoreError>> + Send {
        (**self).oldest_sessions(limit, after)
    }

    fn sweep_position(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send {
        (**self).sweep_position()
    }

    fn save_sweep_position(
        &self,
        position: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save_sweep_position(position)
    }
}

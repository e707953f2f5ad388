//! A scripted fault policy for `fleet_core::fakes::FaultyStore`: the next calls fail, in order, with
//! the errors a test queues, the way DynamoDB fails (unavailable, throttled, an unreadable item).

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use fleet_core::fakes::{FaultyStore, MemoryStore, StoreCall, StoreFaults};
use fleet_core::ports::StoreError;

/// A [`MemoryStore`] whose next calls fail with the errors a test queues (one per call, in order).
pub type FailingStore = FaultyStore<MemoryStore, ScriptedFaults>;

/// The faults of a [`FailingStore`]: a queue, one entry per call in order.
#[derive(Debug, Default)]
pub struct ScriptedFaults {
    failures: Mutex<VecDeque<Option<StoreError>>>,
}

impl ScriptedFaults {
    /// Fails the next call not yet scripted with `e`.
    pub fn fail_next(&self, e: StoreError) {
        self.queue().push_back(Some(e));
    }

    /// Lets the next call not yet scripted through (to fail a later one).
    pub fn pass_next(&self) {
        self.queue().push_back(None);
    }

    fn queue(&self) -> MutexGuard<'_, VecDeque<Option<StoreError>>> {
        // A test that panicked mid-push leaves a queue that is still whole.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl StoreFaults for ScriptedFaults {
    fn fault(&self, _call: &StoreCall<'_>) -> Option<StoreError> {
        self.queue().pop_front().flatten()
    }
}

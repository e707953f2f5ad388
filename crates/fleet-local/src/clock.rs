//! The stack's one clock: wall-clock time plus an offset that tests can move forward.
//!
//! The handlers and gamelift-sim read time through the same [`LocalClock`], so moving it (for example
//! past GameLift's 60 s seat reservation window) moves both sides together, as real time would, and an
//! end-to-end test does not have to sleep through the window. Unmoved, it is the system clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fleet_core::time::Timestamp;

/// System time plus a shared, only-growing offset. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct LocalClock {
    offset_ms: Arc<AtomicI64>,
}

impl LocalClock {
    /// The system clock (offset zero).
    pub fn system() -> Self {
        Self::default()
    }

    /// Moves this clock (and every clone of it) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    /// How far the clock has been moved ahead of the system clock.
    pub fn offset(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.offset_ms.load(Ordering::SeqCst)).unwrap_or(0))
    }

    /// Now, in milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        system.saturating_add(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl fleet_core::ports::Clock for LocalClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.now_millis())
    }
}

impl gamelift_sim::Clock for LocalClock {
    fn now_millis(&self) -> i64 {
        LocalClock::now_millis(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fleet_core::ports::Clock as _;

    #[test]
    fn an_advanced_clock_moves_every_clone_and_both_views_agree() {
        let clock = LocalClock::system();
        let other = clock.clone();
        let before = other.now().millis();
        clock.advance(Duration::from_secs(61));
        let after = gamelift_sim::Clock::now_millis(&other);
        assert!(after - before >= 61_000, "{before} -> {after}");
        assert_eq!(clock.offset(), Duration::from_secs(61));
    }
}

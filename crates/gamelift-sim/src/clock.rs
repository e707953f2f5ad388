//! Clocks: the simulator reads time only through [`Clock`], so tests can drive it with a [`ManualClock`].

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    fn now_millis(&self) -> i64;

    /// The manual clock behind this clock, if it is one (lets [`crate::Simulator::advance`] move it).
    fn as_manual(&self) -> Option<ManualClock> {
        None
    }
}

/// The real system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A virtual clock that only moves when told to. Clones share the same time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// 2026-01-01T00:00:00Z, the default start of a manual clock.
    pub const DEFAULT_START_MILLIS: i64 = 1_767_225_600_000;

    /// A manual clock starting at [`Self::DEFAULT_START_MILLIS`].
    pub fn new() -> Self {
        Self::starting_at_millis(Self::DEFAULT_START_MILLIS)
    }

    /// A manual clock starting at the given epoch milliseconds.
    pub fn starting_at_millis(millis: i64) -> Self {
        Self { now: Arc::new(AtomicI64::new(millis)) }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock to an absolute time (epoch milliseconds).
    pub fn set_millis(&self, millis: i64) {
        self.now.store(millis, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn as_manual(&self) -> Option<ManualClock> {
        Some(self.clone())
    }
}

/// Formats epoch milliseconds as RFC 3339 UTC with milliseconds, e.g. `2026-11-25T10:00:00.123Z`.
pub fn rfc3339_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            ms
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// Epoch milliseconds as epoch seconds for the wire (CBOR tag 1 / JSON number).
///
/// The AWS SDKs truncate to milliseconds after converting the float, so a tiny bias keeps
/// `x.123` from coming back as `x.122`.
pub fn wire_seconds(millis: i64) -> f64 {
    if millis % 1000 == 0 {
        (millis / 1000) as f64
    } else {
        (millis as f64 + 0.0005) / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_has_milliseconds_and_z() {
        assert_eq!(rfc3339_millis(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
    }

    #[test]
    fn manual_clock_advances_all_clones() {
        let c = ManualClock::new();
        let d = c.clone();
        c.advance(Duration::from_secs(2));
        assert_eq!(d.now_millis(), ManualClock::DEFAULT_START_MILLIS + 2000);
    }
}

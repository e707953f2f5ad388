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
        Self {
            now: Arc::new(AtomicI64::new(millis)),
        }
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

/// Epoch milliseconds as epoch seconds for CBOR (tag 1).
///
/// The Rust SDK truncates to milliseconds after converting the float, so `x.123` could come back as
/// `x.122`; a bias of 0.25 µs (about one f64 ulp at today's epoch) keeps the value just above the exact
/// millisecond and well below the half-microsecond that clients rounding to microseconds would notice.
pub fn wire_seconds(millis: i64) -> f64 {
    if millis % 1000 == 0 {
        (millis / 1000) as f64
    } else {
        millis as f64 / 1000.0 + 2.5e-7
    }
}

/// Epoch milliseconds as epoch seconds for JSON (the shortest decimal that round-trips, e.g. `1767225600.123`).
pub fn json_seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_has_milliseconds_and_z() {
        assert_eq!(
            rfc3339_millis(1_767_225_600_123),
            "2026-01-01T00:00:00.123Z"
        );
    }

    #[test]
    fn cbor_seconds_never_truncate_below_the_millisecond() {
        for ms in [
            1_767_225_600_001_i64,
            1_767_225_600_123,
            1_795_565_796_688,
            4_102_444_800_999,
        ] {
            let s = wire_seconds(ms);
            let back = (s * 1000.0).floor() as i64;
            assert_eq!(back, ms, "{ms}");
            assert!(s - (ms as f64 / 1000.0) < 5e-7);
        }
    }

    #[test]
    fn manual_clock_advances_all_clones() {
        let c = ManualClock::new();
        let d = c.clone();
        c.advance(Duration::from_secs(2));
        assert_eq!(d.now_millis(), ManualClock::DEFAULT_START_MILLIS + 2000);
    }
}

//! Token-bucket throttling at GameLift's per-API rates, timed by the simulator's clock.

use std::collections::HashMap;

use crate::model::RateLimit;

/// GameLift's default limit for an operation (burst, rate per second).
///
/// CreatePlayerSession 50/50 and CreatePlayerSessions 150/150 are from the GameLift API limits
/// reference; DescribeGameSessions and UpdateGameSession 20/s are the per-account figures the design
/// relies on; SearchGameSessions 10 burst / 5 per second is what AWS support quotes. The others
/// (ListLocations, GetPlayerConnectionDetails and DescribeGameSessionDetails included) are
/// conservative figures; override any of them with `rateLimits` in the model file.
pub fn default_limit(op: &str) -> RateLimit {
    let (burst, rate) = match op {
        "CreatePlayerSession" | "StartGameSessionPlacement" | "DescribeGameSessionPlacement" => {
            (50.0, 50.0)
        }
        "CreatePlayerSessions" => (150.0, 150.0),
        "SearchGameSessions" => (10.0, 5.0),
        // DescribeGameSessions, UpdateGameSession, StopGameSessionPlacement, DescribePlayerSessions,
        // TerminateGameSession, DescribeGameSessionDetails, GetPlayerConnectionDetails, and
        // ListLocations, which GameLift says "is not designed for high-volume requests" (cache its
        // answer).
        _ => (20.0, 20.0),
    };
    RateLimit { burst, rate }
}

/// Account-wide ceiling on all GameLift APIs together in one Region (500 burst, 500 per second).
pub const ACCOUNT_LIMIT: RateLimit = RateLimit {
    burst: 500.0,
    rate: 500.0,
};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ms: i64,
    limit: RateLimit,
}

impl Bucket {
    /// A bucket holding its whole burst at `now_ms`.
    fn full(limit: RateLimit, now_ms: i64) -> Self {
        Self {
            tokens: limit.burst,
            last_ms: now_ms,
            limit,
        }
    }

    fn take(&mut self, now_ms: i64) -> bool {
        let elapsed = (now_ms - self.last_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.limit.rate).min(self.limit.burst);
        self.last_ms = now_ms.max(self.last_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-operation buckets plus the account-wide bucket, per Region: GameLift's quotas are per account
/// and Region, so calls in eu-west-1 never use up us-east-1's tokens.
#[derive(Debug, Default)]
pub struct Throttle {
    buckets: HashMap<(String, String), Bucket>,
    account: HashMap<String, Bucket>,
}

impl Throttle {
    /// Takes a token for `op` in `region` (`None`: an in-process call, counted on its own);
    /// false means the call is throttled.
    pub fn allow(
        &mut self,
        op: &str,
        region: Option<&str>,
        now_ms: i64,
        overrides: &std::collections::BTreeMap<String, RateLimit>,
    ) -> bool {
        let region = region.unwrap_or_default().to_owned();
        let limit = overrides
            .get(op)
            .copied()
            .unwrap_or_else(|| default_limit(op));
        let bucket = self
            .buckets
            .entry((region.clone(), op.to_owned()))
            .or_insert(Bucket::full(limit, now_ms));
        bucket.limit = limit;
        if !bucket.take(now_ms) {
            return false;
        }
        let account = self
            .account
            .entry(region)
            .or_insert(Bucket::full(ACCOUNT_LIMIT, now_ms));
        account.take(now_ms)
    }

    /// Forgets all buckets (full again).
    pub fn reset(&mut self) {
        self.buckets.clear();
        self.account.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_beyond_the_bucket_is_throttled_and_refills_with_time() {
        let mut t = Throttle::default();
        let o = Default::default();
        let us = Some("us-east-1");
        for _ in 0..20 {
            assert!(t.allow("DescribeGameSessions", us, 0, &o));
        }
        assert!(!t.allow("DescribeGameSessions", us, 0, &o));
        assert!(t.allow("DescribeGameSessions", us, 100, &o));
    }

    #[test]
    fn each_region_has_its_own_buckets() {
        let mut t = Throttle::default();
        let o = Default::default();
        for _ in 0..20 {
            assert!(t.allow("UpdateGameSession", Some("us-east-1"), 0, &o));
        }
        assert!(!t.allow("UpdateGameSession", Some("us-east-1"), 0, &o));
        assert!(t.allow("UpdateGameSession", Some("eu-west-1"), 0, &o));
    }
}

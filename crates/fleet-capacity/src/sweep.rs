//! How long the sweeper takes to check every ACTIVE session against GameLift, from its real
//! configuration: the per-run budget and rate limit of `fleet_functions::sweeper`, the schedule and the
//! Lambda timeout of template.yaml, and the sessions one GameLift call covers (measured by running the
//! real sweeper over the sample).

use serde::Serialize;

/// What bounds the sweeper's session checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweeperModel {
    /// GameLift calls one run may make (`FLEETLIFT_SWEEP_BUDGET`).
    pub budget_per_run: u32,
    /// Sessions one run reads for checking.
    pub sessions_per_run_limit: u32,
    /// The pacing of the session checks' GameLift API, calls per second (GameLift's own limit).
    pub calls_per_sec_limit: f64,
    /// ACTIVE sessions one GameLift call covers (measured).
    pub sessions_per_call: f64,
    /// Seconds between runs (the schedule).
    pub run_interval_secs: f64,
    /// Seconds a run may spend (the Lambda timeout less the sweeper's stop margin).
    pub run_secs: f64,
}

/// The sweeper's figures for one number of sessions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweeperFigures {
    /// ACTIVE sessions to check.
    pub sessions: u64,
    /// Seconds until every one has been checked once (`null` if never).
    pub full_cycle_seconds: Option<f64>,
    /// GameLift calls per second, averaged over the cycle.
    pub gamelift_calls_per_sec: f64,
    /// The most GameLift calls in any second (the pacing).
    pub peak_gamelift_calls_per_sec: f64,
    /// GameLift's limit for that API, per second per account.
    pub gamelift_limit_per_sec: f64,
    /// Sessions one run checks.
    pub sessions_per_run: f64,
    /// Runs per full cycle.
    pub runs_per_cycle: Option<f64>,
    /// The model the figures come from.
    pub model: SweeperModel,
}

/// The figures of `m` for `sessions` ACTIVE sessions, with `limit` GameLift's rate limit.
pub fn figures(m: &SweeperModel, sessions: u64, limit: f64) -> SweeperFigures {
    let rate = m.calls_per_sec_limit.max(0.0);
    let calls_in_time = if rate.is_finite() {
        (rate * m.run_secs.max(0.0)).floor()
    } else {
        f64::INFINITY
    };
    let calls_per_run = f64::from(m.budget_per_run).min(calls_in_time);
    let sessions_per_run =
        (calls_per_run * m.sessions_per_call.max(0.0)).min(f64::from(m.sessions_per_run_limit));
    let calls_per_cycle = if m.sessions_per_call > 0.0 {
        (sessions as f64 / m.sessions_per_call).ceil()
    } else {
        f64::INFINITY
    };
    let (cycle, runs, average) = if sessions == 0 {
        (Some(0.0), Some(0.0), 0.0)
    } else if sessions_per_run < 1.0 {
        (None, None, 0.0)
    } else {
        let runs = (sessions as f64 / sessions_per_run).ceil();
        let cycle = if runs <= 1.0 {
            // One run covers everything: the cycle is that run's calls at the pacing.
            if rate > 0.0 && rate.is_finite() {
                calls_per_cycle / rate
            } else {
                0.0
            }
        } else {
            runs * m.run_interval_secs
        };
        let average = calls_per_cycle / (runs * m.run_interval_secs).max(f64::MIN_POSITIVE);
        (Some(cycle), Some(runs), average)
    };
    SweeperFigures {
        sessions,
        full_cycle_seconds: cycle,
        gamelift_calls_per_sec: average,
        peak_gamelift_calls_per_sec: if sessions == 0 { 0.0 } else { rate.min(limit) },
        gamelift_limit_per_sec: limit,
        sessions_per_run,
        runs_per_cycle: runs,
        model: m.clone(),
    }
}

/// Seconds between runs of an EventBridge `rate(N unit)` expression.
pub fn rate_seconds(expression: &str) -> Result<f64, String> {
    let inner = expression
        .trim()
        .strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| {
            format!("{expression:?} is not a rate(N unit) expression; pass --sweep-interval-secs")
        })?;
    let (n, unit) = inner
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("{expression:?}: expected rate(N unit)"))?;
    let n: f64 = n
        .parse()
        .map_err(|_| format!("{expression:?}: {n:?} is not a number"))?;
    let unit_secs = match unit.trim().trim_end_matches('s') {
        "minute" => 60.0,
        "hour" => 3600.0,
        "day" => 86_400.0,
        other => return Err(format!("{expression:?}: unknown unit {other:?}")),
    };
    Ok(n * unit_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Today's sweeper: one DescribeGameSessions per session, 20/s, 500 per run, every minute, a 60 s
    /// Lambda with a 3 s margin.
    fn today() -> SweeperModel {
        SweeperModel {
            budget_per_run: 500,
            sessions_per_run_limit: 500,
            calls_per_sec_limit: 20.0,
            sessions_per_call: 1.0,
            run_interval_secs: 60.0,
            run_secs: 57.0,
        }
    }

    #[test]
    fn todays_sweeper_takes_hours_for_a_hundred_thousand_sessions() {
        let f = figures(&today(), 100_000, 20.0);
        assert_eq!(f.sessions_per_run, 500.0);
        assert_eq!(f.runs_per_cycle, Some(200.0));
        assert_eq!(f.full_cycle_seconds, Some(12_000.0));
        assert!((f.gamelift_calls_per_sec - 500.0 / 60.0).abs() < 1e-9);
        assert_eq!(f.peak_gamelift_calls_per_sec, 20.0);
    }

    #[test]
    fn a_run_is_bounded_by_its_time_as_well_as_its_budget() {
        let m = SweeperModel {
            budget_per_run: 5_000,
            sessions_per_run_limit: 5_000,
            ..today()
        };
        // 57 s at 20 calls/s: 1,140 calls.
        assert_eq!(figures(&m, 100_000, 20.0).sessions_per_run, 1_140.0);
    }

    #[test]
    fn pages_of_a_hundred_sessions_cover_the_fleet_in_one_run() {
        let m = SweeperModel {
            budget_per_run: 5_000,
            sessions_per_call: 100.0,
            sessions_per_run_limit: 100_000,
            ..today()
        };
        let f = figures(&m, 100_000, 20.0);
        assert_eq!(f.runs_per_cycle, Some(1.0));
        // 1,000 calls at 20/s.
        assert_eq!(f.full_cycle_seconds, Some(50.0));
    }

    #[test]
    fn twice_the_sessions_take_twice_as_long() {
        let a = figures(&today(), 100_000, 20.0).full_cycle_seconds;
        let b = figures(&today(), 200_000, 20.0).full_cycle_seconds;
        assert_eq!(b, a.map(|s| 2.0 * s));
    }

    #[test]
    fn rate_expressions_are_read() {
        assert_eq!(rate_seconds("rate(1 minute)"), Ok(60.0));
        assert_eq!(rate_seconds("rate(5 minutes)"), Ok(300.0));
        assert_eq!(rate_seconds("rate(1 hour)"), Ok(3600.0));
        assert!(rate_seconds("cron(0 * * * ? *)").is_err());
    }
}

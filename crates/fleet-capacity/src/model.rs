//! The scaling, pure arithmetic: a recorded sample (the capacity each operation consumed, per table or
//! index and partition key pattern) and a workload give the load of the hottest partition key of each
//! pattern, per second.
//!
//! For each operation, the mean capacity per invocation on a (table, pattern) times the operation's
//! rate is that pattern's total load. A pattern that names one entity (`S#<session>`) spreads that
//! load over the entity's number at scale ([`keys_at_scale`]); a literal value (`ACTIVE`, a Region, a
//! fleet) is one key and carries all of its share. DynamoDB serves at most [`PARTITION_WCU`] and
//! [`PARTITION_RCU`] per partition, and one key is never split over partitions, so the hottest key's
//! load over those limits is the fraction that matters.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::keys::{Entity, KeyPattern, Spread};

/// Write capacity units one partition serves per second.
pub const PARTITION_WCU: f64 = 1000.0;
/// Read capacity units one partition serves per second.
pub const PARTITION_RCU: f64 = 3000.0;
/// On-demand price of a million write request units in us-east-1, USD.
pub const USD_PER_MILLION_WRITE_UNITS: f64 = 0.625;
/// On-demand price of a million read request units in us-east-1, USD.
pub const USD_PER_MILLION_READ_UNITS: f64 = 0.125;
/// Where the prices come from.
pub const PRICING_SOURCE: &str = "https://aws.amazon.com/dynamodb/pricing/on-demand/ (us-east-1, standard table class, since the November 2024 on-demand price cut)";

/// The load the model is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// ACTIVE sessions in the table.
    pub active_sessions: u64,
    /// `update_instance_info` reports per second.
    pub reports_per_sec: f64,
    /// Creates per second (each one fulfilled).
    pub creates_per_sec: f64,
    /// Joins per second.
    pub joins_per_sec: f64,
    /// List pages per second.
    pub list_pages_per_sec: f64,
}

impl Workload {
    /// The target deployment: a million sessions, 20,000 reports/s, 200 creates/s, 2,000 joins/s and
    /// 5,000 list pages/s.
    pub const TARGET: Self = Self {
        active_sessions: 1_000_000,
        reports_per_sec: 20_000.0,
        creates_per_sec: 200.0,
        joins_per_sec: 2_000.0,
        list_pages_per_sec: 5_000.0,
    };

    /// This workload with every figure multiplied by `k`.
    pub fn times(self, k: f64) -> Self {
        Self {
            active_sessions: (self.active_sessions as f64 * k).round() as u64,
            reports_per_sec: self.reports_per_sec * k,
            creates_per_sec: self.creates_per_sec * k,
            joins_per_sec: self.joins_per_sec * k,
            list_pages_per_sec: self.list_pages_per_sec * k,
        }
    }
}

/// What the workload's figures leave open: how requests are shaped, and where sessions live.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shape {
    /// Players named by each create (each one gets a seat and is notified).
    pub players_per_create: u32,
    /// Players in each join.
    pub players_per_join: u32,
    /// Share of list pages that ask `+openSlots:>=1` (the rest take the default query).
    pub open_slots_list_share: f64,
    /// Regions (GameLift locations) the sessions are spread over, evenly.
    pub regions: u32,
    /// Fleets per Region, sessions spread evenly.
    pub fleets_per_region: u32,
    /// ACTIVE sessions the sweeper reads per second (its session checks and its open-slots gauge).
    pub sweeper_sessions_read_per_sec: f64,
}

/// An operation of the recorded mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    /// `POST /v1/sessions` (fleet-api), with an `Idempotency-Key`.
    Create,
    /// A `PlacementFulfilled` event (placement-events), with the early push to the requester.
    Fulfil,
    /// The stream record of that fulfilment (notifier, the safety net).
    Notify,
    /// `update_instance_info` changing `playerCount` (status-rpc), on a session holding no lapsed seat.
    Report,
    /// The same report on a session holding a join's seats whose reservation window has passed: the
    /// player connected (the count goes up by one) and the report closes the seats. Every reservation
    /// ends this way, so these are one per create and per join ([`reservations_per_sec`]), out of the
    /// reports.
    ReportLapse,
    /// `POST /v1/sessions/{id}/join` (fleet-api).
    Join,
    /// `GET /v1/sessions` with the default query.
    ListDefault,
    /// `GET /v1/sessions?query=+openSlots:>=1`.
    ListOpenSlots,
    /// The sweeper, per ACTIVE session it reads.
    Sweep,
}

impl Op {
    /// Every operation, in the order the mix runs them.
    pub const ALL: [Self; 9] = [
        Self::Create,
        Self::Fulfil,
        Self::Notify,
        Self::Report,
        Self::ReportLapse,
        Self::Join,
        Self::ListDefault,
        Self::ListOpenSlots,
        Self::Sweep,
    ];

    /// Invocations per second under `w` and `s`.
    pub fn rate(self, w: &Workload, s: &Shape) -> f64 {
        let open = s.open_slots_list_share.clamp(0.0, 1.0);
        match self {
            Self::Create | Self::Fulfil | Self::Notify => w.creates_per_sec,
            Self::Report => w.reports_per_sec - Self::ReportLapse.rate(w, s),
            Self::ReportLapse => reservations_per_sec(w).min(w.reports_per_sec),
            Self::Join => w.joins_per_sec,
            Self::ListDefault => w.list_pages_per_sec * (1.0 - open),
            Self::ListOpenSlots => w.list_pages_per_sec * open,
            Self::Sweep => s.sweeper_sessions_read_per_sec,
        }
    }
}

/// Reservations made per second: each create and each join reserves its players' seats, which lapse
/// together when the window passes (none is confirmed one by one) and are closed by the session's next
/// report, one report per reservation.
pub fn reservations_per_sec(w: &Workload) -> f64 {
    w.creates_per_sec + w.joins_per_sec
}

/// Capacity units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Units {
    /// Write capacity units.
    pub wcu: f64,
    /// Read capacity units.
    pub rcu: f64,
}

/// A table (or index) and a partition key pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// The table's label or the index's name.
    pub table: String,
    /// The key pattern.
    pub key: KeyPattern,
}

/// What the sample recorded for one operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpSample {
    /// Invocations recorded.
    pub invocations: u64,
    /// DynamoDB requests they made.
    pub requests: u64,
    /// Requests that failed (refused conditions).
    pub failed: u64,
    /// Write units estimated for the failed requests (included in `units`).
    pub estimated_wcu: f64,
    /// Capacity per target, summed over the invocations.
    pub units: BTreeMap<Target, Units>,
}

/// The recorded sample.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Per operation.
    pub ops: BTreeMap<Op, OpSample>,
}

/// The number of distinct keys a pattern's load spreads over at any moment.
///
/// Sessions: every ACTIVE session. Placements and idempotency records: a placement's key takes all
/// its requests within about a second of its create, so about `createsPerSec` of them share each
/// second's load. Players and connections: the players created or joined each second.
pub fn keys_at_scale(spread: Spread, w: &Workload, s: &Shape) -> f64 {
    let players = w.creates_per_sec * f64::from(s.players_per_create)
        + w.joins_per_sec * f64::from(s.players_per_join);
    let n = match spread {
        Spread::One | Spread::Unclassified => 1.0,
        Spread::Shards(n) => f64::from(n),
        Spread::Per(Entity::Session) => w.active_sessions as f64,
        Spread::Per(Entity::Placement | Entity::Idempotency) => w.creates_per_sec,
        Spread::Per(Entity::Player | Entity::Connection) => players,
    };
    n.max(1.0)
}

/// The load of one pattern at scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Partition {
    /// The table's label or the index's name.
    pub table: String,
    /// The partition key value, or its pattern.
    pub key: String,
    /// Write units per second on the hottest key of the pattern.
    pub wcu_per_sec: f64,
    /// Read units per second on the hottest key of the pattern.
    pub rcu_per_sec: f64,
    /// `wcuPerSec` over a partition's 1,000.
    pub write_fraction: f64,
    /// `rcuPerSec` over a partition's 3,000.
    pub read_fraction: f64,
    /// How the pattern spreads (`one`, `per <entity>`, `unclassified`, `unused`).
    pub spread: String,
    /// Keys the pattern's load spreads over.
    pub keys_at_scale: f64,
    /// Write units per second over all its keys.
    pub total_wcu_per_sec: f64,
    /// Read units per second over all its keys.
    pub total_rcu_per_sec: f64,
}

fn spread_label(spread: Spread) -> String {
    match spread {
        Spread::One => "one".into(),
        Spread::Per(e) => format!("per {}", e.placeholder().trim_matches(['<', '>'])),
        Spread::Shards(n) => format!("{n} shards"),
        Spread::Unclassified => "unclassified (counted as one key)".into(),
    }
}

/// The per-pattern load at `w`: every recorded (table, pattern), then every name of `tables` (the
/// table and all its indexes) nothing was recorded on, at zero; hottest first.
pub fn scale(sample: &Sample, w: &Workload, s: &Shape, tables: &[String]) -> Vec<Partition> {
    let mut totals: BTreeMap<&Target, Units> = BTreeMap::new();
    for (op, rec) in &sample.ops {
        if rec.invocations == 0 {
            continue;
        }
        let per_sec = op.rate(w, s) / rec.invocations as f64;
        for (target, units) in &rec.units {
            let t = totals.entry(target).or_default();
            t.wcu += units.wcu * per_sec;
            t.rcu += units.rcu * per_sec;
        }
    }
    let mut out: Vec<Partition> = totals
        .into_iter()
        .map(|(target, total)| {
            let n = keys_at_scale(target.key.spread, w, s);
            let (wcu, rcu) = (total.wcu / n, total.rcu / n);
            Partition {
                table: target.table.clone(),
                key: target.key.key.clone(),
                wcu_per_sec: wcu,
                rcu_per_sec: rcu,
                write_fraction: wcu / PARTITION_WCU,
                read_fraction: rcu / PARTITION_RCU,
                spread: spread_label(target.key.spread),
                keys_at_scale: n,
                total_wcu_per_sec: total.wcu,
                total_rcu_per_sec: total.rcu,
            }
        })
        .collect();
    for t in tables {
        if !out.iter().any(|p| &p.table == t) {
            out.push(Partition {
                table: t.clone(),
                key: String::new(),
                wcu_per_sec: 0.0,
                rcu_per_sec: 0.0,
                write_fraction: 0.0,
                read_fraction: 0.0,
                spread: "unused".into(),
                keys_at_scale: 0.0,
                total_wcu_per_sec: 0.0,
                total_rcu_per_sec: 0.0,
            });
        }
    }
    out.sort_by(|a, b| {
        let ka = a.write_fraction.max(a.read_fraction);
        let kb = b.write_fraction.max(b.read_fraction);
        kb.total_cmp(&ka)
            .then_with(|| a.table.cmp(&b.table))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

/// The largest write fraction and read fraction over `partitions`.
pub fn max_fractions(partitions: &[Partition]) -> (f64, f64) {
    partitions.iter().fold((0.0_f64, 0.0_f64), |(w, r), p| {
        (w.max(p.write_fraction), r.max(p.read_fraction))
    })
}

/// One operation's cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpCost {
    /// The operation.
    pub op: Op,
    /// Its rate in the workload.
    pub rate_per_sec: f64,
    /// Invocations recorded.
    pub samples: u64,
    /// DynamoDB requests per invocation.
    pub requests_per_op: f64,
    /// Write units per invocation, table and indexes.
    pub wcu_per_op: f64,
    /// Read units per invocation, table and indexes.
    pub rcu_per_op: f64,
    /// Of `wcuPerOp`, the units written to indexes.
    pub index_wcu_per_op: f64,
    /// Requests that failed per invocation (billed by estimate, see the docs).
    pub failed_per_op: f64,
    /// On-demand cost of a million invocations, USD.
    pub usd_per_million: f64,
}

/// Per-operation means and costs.
pub fn op_costs(sample: &Sample, w: &Workload, s: &Shape, table_label: &str) -> Vec<OpCost> {
    sample
        .ops
        .iter()
        .filter(|(_, rec)| rec.invocations > 0)
        .map(|(op, rec)| {
            let n = rec.invocations as f64;
            let (wcu, rcu, index_wcu) =
                rec.units
                    .iter()
                    .fold((0.0, 0.0, 0.0), |(w, r, iw), (target, u)| {
                        let on_index = target.table != table_label;
                        (
                            w + u.wcu,
                            r + u.rcu,
                            iw + if on_index { u.wcu } else { 0.0 },
                        )
                    });
            let (wcu, rcu) = (wcu / n, rcu / n);
            OpCost {
                op: *op,
                rate_per_sec: op.rate(w, s),
                samples: rec.invocations,
                requests_per_op: rec.requests as f64 / n,
                wcu_per_op: wcu,
                rcu_per_op: rcu,
                index_wcu_per_op: index_wcu / n,
                failed_per_op: rec.failed as f64 / n,
                usd_per_million: wcu * USD_PER_MILLION_WRITE_UNITS
                    + rcu * USD_PER_MILLION_READ_UNITS,
            }
        })
        .collect()
}

/// The whole workload's throughput and its on-demand cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Write units per second, every partition.
    pub wcu_per_sec: f64,
    /// Read units per second, every partition.
    pub rcu_per_sec: f64,
    /// On-demand cost per hour, USD.
    pub usd_per_hour: f64,
    /// On-demand cost per 30-day month, USD.
    pub usd_per_month: f64,
}

/// Sums `costs` at their rates.
pub fn totals(costs: &[OpCost]) -> Totals {
    let (wcu, rcu) = costs.iter().fold((0.0, 0.0), |(w, r), c| {
        (
            w + c.wcu_per_op * c.rate_per_sec,
            r + c.rcu_per_op * c.rate_per_sec,
        )
    });
    let usd_per_sec =
        (wcu * USD_PER_MILLION_WRITE_UNITS + rcu * USD_PER_MILLION_READ_UNITS) / 1_000_000.0;
    Totals {
        wcu_per_sec: wcu,
        rcu_per_sec: rcu,
        usd_per_hour: usd_per_sec * 3600.0,
        usd_per_month: usd_per_sec * 3600.0 * 24.0 * 30.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            players_per_create: 1,
            players_per_join: 1,
            open_slots_list_share: 0.5,
            regions: 1,
            fleets_per_region: 1,
            sweeper_sessions_read_per_sec: 100.0,
        }
    }

    fn target(table: &str, key: &str, spread: Spread) -> Target {
        Target {
            table: table.into(),
            key: KeyPattern {
                key: key.into(),
                spread,
            },
        }
    }

    /// Ten reports, each writing 2 WCU to its session and 6 WCU to `byCreated/ACTIVE`, and reading
    /// 0.5 RCU of its session; ten default list pages reading 1 RCU of `byCreated/ACTIVE` each.
    fn sample() -> Sample {
        let mut report = OpSample {
            invocations: 10,
            requests: 20,
            ..OpSample::default()
        };
        report.units.insert(
            target("Table", "S#<session>", Spread::Per(Entity::Session)),
            Units {
                wcu: 20.0,
                rcu: 5.0,
            },
        );
        report.units.insert(
            target("byCreated", "ACTIVE", Spread::One),
            Units {
                wcu: 60.0,
                rcu: 0.0,
            },
        );
        let mut list = OpSample {
            invocations: 10,
            requests: 10,
            ..OpSample::default()
        };
        list.units.insert(
            target("byCreated", "ACTIVE", Spread::One),
            Units {
                wcu: 0.0,
                rcu: 10.0,
            },
        );
        Sample {
            // The sample's lapse-closing reports cost what the others do, so reports add up to the
            // workload's 20,000/s of one cost.
            ops: BTreeMap::from([
                (Op::ReportLapse, report.clone()),
                (Op::Report, report),
                (Op::ListDefault, list),
            ]),
        }
    }

    fn find<'a>(ps: &'a [Partition], table: &str, key: &str) -> &'a Partition {
        ps.iter()
            .find(|p| p.table == table && p.key == key)
            .unwrap_or_else(|| panic!("{table}/{key} in {ps:?}"))
    }

    #[test]
    fn a_literal_key_carries_its_whole_share_and_a_per_entity_pattern_spreads() {
        let w = Workload::TARGET;
        let ps = scale(&sample(), &w, &shape(), &[]);
        let active = find(&ps, "byCreated", "ACTIVE");
        // 20,000 reports/s × 6 WCU; 2,500 default pages/s × 1 RCU.
        assert_eq!(active.wcu_per_sec, 120_000.0);
        assert_eq!(active.rcu_per_sec, 2_500.0);
        assert_eq!(active.write_fraction, 120.0);
        let session = find(&ps, "Table", "S#<session>");
        // 20,000 reports/s × 2 WCU over a million sessions.
        assert_eq!(session.total_wcu_per_sec, 40_000.0);
        assert!((session.wcu_per_sec - 0.04).abs() < 1e-12);
        assert_eq!(
            ps.first().map(|p| p.key.as_str()),
            Some("ACTIVE"),
            "hottest first"
        );
    }

    #[test]
    fn doubling_the_workload_doubles_the_literal_keys_and_keeps_per_session_keys() {
        let (s, sample) = (shape(), sample());
        let once = scale(&sample, &Workload::TARGET, &s, &[]);
        let twice = scale(&sample, &Workload::TARGET.times(2.0), &s, &[]);
        let (a1, a2) = (
            find(&once, "byCreated", "ACTIVE"),
            find(&twice, "byCreated", "ACTIVE"),
        );
        assert_eq!(a2.wcu_per_sec, 2.0 * a1.wcu_per_sec);
        assert_eq!(a2.rcu_per_sec, 2.0 * a1.rcu_per_sec);
        // Twice the reports over twice the sessions: each session's key is as busy as before.
        let (s1, s2) = (
            find(&once, "Table", "S#<session>"),
            find(&twice, "Table", "S#<session>"),
        );
        assert_eq!(s2.total_wcu_per_sec, 2.0 * s1.total_wcu_per_sec);
        assert!((s2.wcu_per_sec - s1.wcu_per_sec).abs() < 1e-12);
        let (w1, _) = max_fractions(&once);
        let (w2, _) = max_fractions(&twice);
        assert_eq!(w2, 2.0 * w1);
    }

    #[test]
    fn every_named_table_appears_even_when_nothing_touched_it() {
        let tables = [
            "Table".to_owned(),
            "byCreated".into(),
            "seatsByExpiry".into(),
        ];
        let ps = scale(&sample(), &Workload::TARGET, &shape(), &tables);
        let unused = find(&ps, "seatsByExpiry", "");
        assert_eq!(
            (unused.wcu_per_sec, unused.spread.as_str()),
            (0.0, "unused")
        );
        assert_eq!(ps.iter().filter(|p| p.table == "byCreated").count(), 1);
    }

    #[test]
    fn the_open_slots_share_splits_list_pages() {
        let w = Workload::TARGET;
        let s = shape();
        assert_eq!(
            Op::ListDefault.rate(&w, &s) + Op::ListOpenSlots.rate(&w, &s),
            5_000.0
        );
        assert_eq!(Op::Fulfil.rate(&w, &s), w.creates_per_sec);
    }

    #[test]
    fn every_seat_lapses_through_a_report_and_the_reports_add_up() {
        let (w, s) = (Workload::TARGET, shape());
        assert_eq!(Op::ReportLapse.rate(&w, &s), 2_200.0);
        assert_eq!(
            Op::Report.rate(&w, &s) + Op::ReportLapse.rate(&w, &s),
            w.reports_per_sec
        );
        let few_reports = Workload {
            reports_per_sec: 1_000.0,
            ..w
        };
        assert_eq!(Op::ReportLapse.rate(&few_reports, &s), 1_000.0);
        assert_eq!(Op::Report.rate(&few_reports, &s), 0.0);
    }

    #[test]
    fn keys_at_scale_follow_each_entitys_number() {
        let (w, s) = (Workload::TARGET, shape());
        assert_eq!(keys_at_scale(Spread::One, &w, &s), 1.0);
        assert_eq!(keys_at_scale(Spread::Per(Entity::Session), &w, &s), 1e6);
        assert_eq!(keys_at_scale(Spread::Per(Entity::Placement), &w, &s), 200.0);
        assert_eq!(keys_at_scale(Spread::Per(Entity::Player), &w, &s), 2_200.0);
        let idle = Workload {
            creates_per_sec: 0.0,
            ..w
        };
        assert_eq!(
            keys_at_scale(Spread::Per(Entity::Placement), &idle, &s),
            1.0
        );
    }

    #[test]
    fn costs_price_each_operations_units() {
        let (w, s) = (Workload::TARGET, shape());
        let costs = op_costs(&sample(), &w, &s, "Table");
        let report = costs
            .iter()
            .find(|c| c.op == Op::Report)
            .expect("report cost");
        assert_eq!((report.wcu_per_op, report.rcu_per_op), (8.0, 0.5));
        assert_eq!(report.index_wcu_per_op, 6.0);
        assert!((report.usd_per_million - (8.0 * 0.625 + 0.5 * 0.125)).abs() < 1e-12);
        // 2,200 of the 20,000 reports/s close lapsed seats (those of 200 creates and 2,000 joins a
        // second), priced as their own operation.
        assert_eq!(report.rate_per_sec, 17_800.0);
        let lapse = costs
            .iter()
            .find(|c| c.op == Op::ReportLapse)
            .expect("lapse cost");
        assert_eq!(lapse.rate_per_sec, 2_200.0);
        let t = totals(&costs);
        assert_eq!(t.wcu_per_sec, 160_000.0);
        assert_eq!(t.rcu_per_sec, 10_000.0 + 2_500.0);
    }
}

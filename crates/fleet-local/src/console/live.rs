//! The console's picture of the table: placements and sessions as the table's stream (and, once, a scan)
//! reports them, plus the counts a dashboard needs.
//!
//! Items are read attribute by attribute from their DynamoDB JSON rather than decoded into the domain
//! types: the console must show whatever the table holds, including fields this build does not know
//! yet (a `joinable` flag, say), and must never stop following because one item does not decode.

use std::collections::{BTreeMap, HashMap, VecDeque};

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_core::time::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// Most placements kept (the oldest seen are forgotten first).
pub const MAX_PLACEMENTS: usize = 2_000;
/// Most sessions kept: beyond this, new sessions are counted but not listed.
pub const MAX_SESSIONS: usize = 20_000;
/// Most ended sessions kept on show (the longest ended go first).
pub const MAX_ENDED_SESSIONS: usize = 200;

/// A placement as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementView {
    /// GameLift's PlacementId.
    pub placement_id: String,
    /// PENDING, FULFILLED, CANCELLED, TIMED_OUT or FAILED.
    pub status: String,
    /// Who asked: a player's `sub` or a service principal.
    pub requester: String,
    /// Player ids named in the create.
    pub players: Vec<String>,
    /// Cap of the session asked for.
    pub max_players: Option<i64>,
    /// Name asked for.
    pub name: Option<String>,
    /// Regions the placement was restricted to.
    pub regions: Vec<String>,
    /// The placed session, once FULFILLED.
    pub session_id: Option<String>,
    /// Why it did not fulfil.
    pub reason: Option<String>,
    /// When it was started (epoch milliseconds).
    pub created_ms: i64,
    /// Its last change (epoch milliseconds).
    pub updated_ms: i64,
    /// Start to result, once it has one.
    pub time_to_result_ms: Option<i64>,
}

impl PlacementView {
    fn terminal(&self) -> bool {
        self.status != "PENDING"
    }
}

/// A session as the console lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    /// The short id (`gs-…`).
    pub id: String,
    /// GameLift's ARN.
    pub arn: Option<String>,
    /// ACTIVE or ENDED.
    pub status: String,
    /// Display name.
    pub name: Option<String>,
    /// Where it runs.
    pub region: Option<String>,
    /// Its fleet.
    pub fleet_id: Option<String>,
    /// Players the game server last reported.
    pub player_count: i64,
    /// Cap.
    pub max_players: i64,
    /// Seats reserved by joins not yet covered by a report.
    pub reserved_seats: i64,
    /// What a join may still take.
    pub open_slots: i64,
    /// The item's own `joinable` flag, when the table carries one.
    pub joinable: Option<bool>,
    /// When GameLift placed it (epoch milliseconds).
    pub created_ms: Option<i64>,
    /// Its last change (epoch milliseconds).
    pub updated_ms: Option<i64>,
    /// The item's version (every write bumps it), so an older picture never replaces a newer one.
    pub version: i64,
}

/// A change worth telling the browsers about.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A placement appeared or moved.
    Placement(PlacementView),
    /// A session appeared or changed.
    Session(SessionView),
    /// A session's item was deleted (TTL, or a test cleaning up).
    SessionGone(String),
}

impl Change {
    /// The message sent to the browsers.
    pub fn to_message(&self) -> Value {
        match self {
            Self::Placement(p) => json!({"type": "placement", "placement": p}),
            Self::Session(s) => json!({"type": "session", "session": s}),
            Self::SessionGone(id) => json!({"type": "session-removed", "id": id}),
        }
    }
}

/// Placements by outcome, counted once each, since the console started following the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementTotals {
    /// Placements seen.
    pub started: u64,
    /// Still PENDING.
    pub pending: u64,
    /// FULFILLED.
    pub fulfilled: u64,
    /// FAILED.
    pub failed: u64,
    /// TIMED_OUT.
    pub timed_out: u64,
    /// CANCELLED.
    pub cancelled: u64,
}

impl PlacementTotals {
    fn count(&mut self, status: &str, by: i64) {
        let slot = match status {
            "PENDING" => &mut self.pending,
            "FULFILLED" => &mut self.fulfilled,
            "FAILED" => &mut self.failed,
            "TIMED_OUT" => &mut self.timed_out,
            "CANCELLED" => &mut self.cancelled,
            _ => return,
        };
        *slot = slot.saturating_add_signed(by);
    }
}

/// Active sessions of one region, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSummary {
    /// The region.
    pub region: String,
    /// ACTIVE sessions.
    pub sessions: u64,
    /// Players reported.
    pub players: i64,
    /// Open slots.
    pub open_slots: i64,
    /// Capacity (sum of maxPlayers).
    pub max_players: i64,
}

/// What the console knows of the table.
#[derive(Debug, Default)]
pub struct Live {
    placements: HashMap<String, PlacementView>,
    placement_order: VecDeque<String>,
    sessions: HashMap<String, SessionView>,
    totals: PlacementTotals,
    sessions_not_listed: u64,
}

/// An attribute of DynamoDB's wire JSON (`{"S": "x"}`, `{"N": "1"}`, `{"M": {…}}`, …) as plain JSON.
pub fn plain_from_wire(attribute: &Value) -> Value {
    let Some((kind, v)) = attribute.as_object().and_then(|o| o.iter().next()) else {
        return Value::Null;
    };
    match kind.as_str() {
        "S" | "B" => v.clone(),
        "N" => number(v.as_str().unwrap_or("")),
        "BOOL" => Value::Bool(v.as_bool().unwrap_or(false)),
        "NULL" => Value::Null,
        "M" => Value::Object(
            v.as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, a)| (k.clone(), plain_from_wire(a)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        "L" => Value::Array(
            v.as_array()
                .map(|l| l.iter().map(plain_from_wire).collect())
                .unwrap_or_default(),
        ),
        "SS" | "BS" => v.clone(),
        "NS" => Value::Array(
            v.as_array()
                .map(|l| l.iter().map(|n| number(n.as_str().unwrap_or(""))).collect())
                .unwrap_or_default(),
        ),
        _ => Value::Null,
    }
}

/// An SDK attribute value as plain JSON (the scan's items).
pub fn plain_from_sdk(attribute: &AttributeValue) -> Value {
    match attribute {
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => number(n),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::M(m) => Value::Object(
            m.iter()
                .map(|(k, a)| (k.clone(), plain_from_sdk(a)))
                .collect(),
        ),
        AttributeValue::L(l) => Value::Array(l.iter().map(plain_from_sdk).collect()),
        AttributeValue::Ss(l) => json!(l),
        AttributeValue::Ns(l) => Value::Array(l.iter().map(|n| number(n)).collect()),
        _ => Value::Null,
    }
}

/// A DynamoDB number as JSON: an integer when it is one, else a float, else the text.
fn number(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return json!(i);
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or_else(|| Value::String(text.to_owned()), Value::Number)
}

/// A whole item (attribute name → wire attribute) as a plain JSON object.
pub fn plain_item(image: &Value) -> Map<String, Value> {
    image
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, a)| (k.clone(), plain_from_wire(a)))
                .collect()
        })
        .unwrap_or_default()
}

fn text(item: &Map<String, Value>, name: &str) -> Option<String> {
    item.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn int(item: &Map<String, Value>, name: &str) -> Option<i64> {
    item.get(name).and_then(Value::as_i64)
}

fn millis(item: &Map<String, Value>, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse_rfc3339(name, t).ok())
        .map(Timestamp::millis)
}

fn strings(item: &Map<String, Value>, name: &str, inner: Option<&str>) -> Vec<String> {
    item.get(name)
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| match inner {
                    Some(field) => v.get(field).and_then(Value::as_str),
                    None => v.as_str(),
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// A placement item's view, or `None` when it lacks what every placement has.
pub fn placement_view(item: &Map<String, Value>) -> Option<PlacementView> {
    let placement_id = text(item, "placementId")?;
    let status = text(item, "status")?;
    let created_ms = millis(item, "createdAt")?;
    let updated_ms = millis(item, "updatedAt").unwrap_or(created_ms);
    let finished = status != "PENDING";
    Some(PlacementView {
        placement_id,
        requester: text(item, "requester").unwrap_or_default(),
        players: strings(item, "players", Some("playerId")),
        max_players: int(item, "maxPlayers"),
        name: text(item, "name"),
        regions: strings(item, "regions", None),
        session_id: text(item, "sessionId"),
        reason: text(item, "reason"),
        created_ms,
        updated_ms,
        time_to_result_ms: finished.then(|| (updated_ms - created_ms).max(0)),
        status,
    })
}

/// A session item's view (a live session or a tombstone), or `None` without an id.
pub fn session_view(id: &str, item: &Map<String, Value>) -> Option<SessionView> {
    if id.is_empty() {
        return None;
    }
    let tombstone = text(item, "kind").as_deref() == Some("tombstone");
    Some(SessionView {
        id: text(item, "id").unwrap_or_else(|| id.to_owned()),
        arn: text(item, "arn"),
        status: if tombstone {
            "ENDED".to_owned()
        } else {
            text(item, "status").unwrap_or_else(|| "ACTIVE".to_owned())
        },
        name: text(item, "name"),
        region: text(item, "region"),
        fleet_id: text(item, "fleetId"),
        player_count: int(item, "playerCount").unwrap_or(0),
        max_players: int(item, "maxPlayers").unwrap_or(0),
        reserved_seats: int(item, "reservedSeats").unwrap_or(0),
        open_slots: int(item, "openSlots").unwrap_or(0),
        joinable: item.get("joinable").and_then(Value::as_bool),
        created_ms: millis(item, "createdAt"),
        updated_ms: millis(item, "updatedAt"),
        version: int(item, "version").unwrap_or(0),
    })
}

/// Which item a key names: a placement (`P#id` / `P`), a session (`S#id` / `S`), or something else.
enum ItemKind<'a> {
    Placement,
    Session(&'a str),
    Other,
}

fn item_kind<'a>(pk: &'a str, sk: &str) -> ItemKind<'a> {
    match (sk, pk.split_once('#')) {
        ("P", Some(("P", _))) => ItemKind::Placement,
        ("S", Some(("S", id))) => ItemKind::Session(id),
        _ => ItemKind::Other,
    }
}

impl Live {
    /// Applies one record of the table's stream in Lambda's shape; what changed on show, if anything.
    pub fn apply_record(&mut self, record: &Value) -> Option<Change> {
        let d = &record["dynamodb"];
        let keys = plain_item(&d["Keys"]);
        let pk = keys.get("pk").and_then(Value::as_str).unwrap_or("");
        let sk = keys.get("sk").and_then(Value::as_str).unwrap_or("");
        if record["eventName"] == "REMOVE" {
            return match item_kind(pk, sk) {
                ItemKind::Session(id) => self
                    .sessions
                    .remove(id)
                    .map(|_| Change::SessionGone(id.to_owned())),
                // A finished placement expiring is not news; it stays on show until it ages out.
                _ => None,
            };
        }
        self.apply_item(pk, sk, &plain_item(&d["NewImage"]))
    }

    /// Applies an item read from the table (`pk`, `sk` and its attributes as plain JSON).
    pub fn apply_item(&mut self, pk: &str, sk: &str, item: &Map<String, Value>) -> Option<Change> {
        match item_kind(pk, sk) {
            ItemKind::Placement => self.apply_placement(placement_view(item)?),
            ItemKind::Session(id) => self.apply_session(session_view(id, item)?),
            ItemKind::Other => None,
        }
    }

    fn apply_placement(&mut self, view: PlacementView) -> Option<Change> {
        match self.placements.get(&view.placement_id) {
            // A placement moves once, PENDING to a final status; an older picture (the scan racing
            // the stream, a duplicate record) never takes it back.
            Some(old) if old.terminal() && !view.terminal() => return None,
            Some(old) if old.terminal() == view.terminal() && old.updated_ms > view.updated_ms => {
                return None;
            }
            Some(old) if *old == view => return None,
            Some(old) => {
                self.totals.count(&old.status, -1);
                self.totals.count(&view.status, 1);
            }
            None => {
                self.totals.started += 1;
                self.totals.count(&view.status, 1);
                self.placement_order.push_back(view.placement_id.clone());
                while self.placement_order.len() > MAX_PLACEMENTS {
                    if let Some(gone) = self.placement_order.pop_front() {
                        self.placements.remove(&gone);
                    }
                }
            }
        }
        self.placements
            .insert(view.placement_id.clone(), view.clone());
        Some(Change::Placement(view))
    }

    fn apply_session(&mut self, view: SessionView) -> Option<Change> {
        match self.sessions.get(&view.id) {
            Some(old) if old.version > view.version || *old == view => return None,
            Some(_) => {}
            None if self.sessions.len() >= MAX_SESSIONS => {
                self.sessions_not_listed += 1;
                return None;
            }
            None => {}
        }
        self.sessions.insert(view.id.clone(), view.clone());
        if view.status != "ACTIVE" {
            self.prune_ended();
        }
        Some(Change::Session(view))
    }

    fn prune_ended(&mut self) {
        let mut ended: Vec<(i64, String)> = self
            .sessions
            .values()
            .filter(|s| s.status != "ACTIVE")
            .map(|s| (s.updated_ms.unwrap_or(0), s.id.clone()))
            .collect();
        if ended.len() <= MAX_ENDED_SESSIONS {
            return;
        }
        ended.sort();
        for (_, id) in ended.iter().take(ended.len() - MAX_ENDED_SESSIONS) {
            self.sessions.remove(id);
        }
    }

    /// The placements on show, most recently started last.
    pub fn placements(&self) -> Vec<PlacementView> {
        let mut all: Vec<PlacementView> = self.placements.values().cloned().collect();
        all.sort_by(|a, b| (a.created_ms, &a.placement_id).cmp(&(b.created_ms, &b.placement_id)));
        all
    }

    /// The sessions on show, most recently created last.
    pub fn sessions(&self) -> Vec<SessionView> {
        let mut all: Vec<SessionView> = self.sessions.values().cloned().collect();
        all.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        all
    }

    /// Placements by outcome.
    pub fn totals(&self) -> PlacementTotals {
        self.totals
    }

    /// Sessions the list had no room for.
    pub fn sessions_not_listed(&self) -> u64 {
        self.sessions_not_listed
    }

    /// ACTIVE sessions summed per region, by region name.
    pub fn regions(&self) -> Vec<RegionSummary> {
        let mut by: BTreeMap<String, RegionSummary> = BTreeMap::new();
        for s in self.sessions.values().filter(|s| s.status == "ACTIVE") {
            let region = s.region.clone().unwrap_or_else(|| "?".to_owned());
            let r = by.entry(region.clone()).or_insert_with(|| RegionSummary {
                region,
                ..RegionSummary::default()
            });
            r.sessions += 1;
            r.players += s.player_count;
            r.open_slots += s.open_slots;
            r.max_players += s.max_players;
        }
        by.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        json!({ "S": v })
    }

    fn n(v: i64) -> Value {
        json!({ "N": v.to_string() })
    }

    fn placement_record(event: &str, id: &str, status: &str, updated: &str) -> Value {
        json!({
            "eventName": event,
            "dynamodb": {
                "Keys": {"pk": s(&format!("P#{id}")), "sk": s("P")},
                "NewImage": {
                    "pk": s(&format!("P#{id}")), "sk": s("P"), "kind": s("placement"),
                    "placementId": s(id), "status": s(status), "requester": s("player-1"),
                    "players": {"L": [{"M": {"playerId": s("player-1")}}]},
                    "maxPlayers": n(4), "regions": {"L": [s("eu-west-1")]},
                    "createdAt": s("2026-01-01T00:00:00.000Z"), "updatedAt": s(updated),
                    "reason": if status == "FAILED" { s("GameLift: no capacity") } else { json!({"NULL": true}) },
                }
            }
        })
    }

    fn session_record(event: &str, id: &str, version: i64, players: i64) -> Value {
        json!({
            "eventName": event,
            "dynamodb": {
                "Keys": {"pk": s(&format!("S#{id}")), "sk": s("S")},
                "NewImage": {
                    "pk": s(&format!("S#{id}")), "sk": s("S"), "kind": s("session"),
                    "id": s(id), "status": s("ACTIVE"), "region": s("eu-west-1"),
                    "fleetId": s("fleet-2"), "name": s("lobby"), "playerCount": n(players),
                    "maxPlayers": n(8), "reservedSeats": n(1), "openSlots": n(7 - players),
                    "createdAt": s("2026-01-01T00:00:01.500Z"), "updatedAt": s("2026-01-01T00:00:02.000Z"),
                    "version": n(version), "properties": {"M": {}},
                }
            }
        })
    }

    #[test]
    fn a_placement_moves_from_pending_to_its_result_with_the_time_it_took() {
        let mut live = Live::default();
        let Some(Change::Placement(p)) = live.apply_record(&placement_record(
            "INSERT",
            "pl-1",
            "PENDING",
            "2026-01-01T00:00:00.000Z",
        )) else {
            panic!("a new placement is news");
        };
        assert_eq!(
            (p.status.as_str(), p.time_to_result_ms, p.players.clone()),
            ("PENDING", None, vec!["player-1".to_owned()])
        );
        assert_eq!(p.regions, vec!["eu-west-1".to_owned()]);
        let Some(Change::Placement(p)) = live.apply_record(&placement_record(
            "MODIFY",
            "pl-1",
            "FAILED",
            "2026-01-01T00:00:01.250Z",
        )) else {
            panic!("a result is news");
        };
        assert_eq!(p.status, "FAILED");
        assert_eq!(p.reason.as_deref(), Some("GameLift: no capacity"));
        assert_eq!(p.time_to_result_ms, Some(1_250));
        assert_eq!(
            live.totals(),
            PlacementTotals {
                started: 1,
                failed: 1,
                ..PlacementTotals::default()
            }
        );
    }

    #[test]
    fn an_older_picture_of_a_placement_never_takes_its_result_back() {
        let mut live = Live::default();
        live.apply_record(&placement_record(
            "MODIFY",
            "pl-1",
            "FULFILLED",
            "2026-01-01T00:00:02.000Z",
        ));
        let stale = placement_record("INSERT", "pl-1", "PENDING", "2026-01-01T00:00:00.000Z");
        assert_eq!(live.apply_record(&stale), None);
        assert_eq!(
            live.apply_record(&placement_record(
                "MODIFY",
                "pl-1",
                "FULFILLED",
                "2026-01-01T00:00:02.000Z"
            )),
            None,
            "a duplicate is not news"
        );
        assert_eq!(live.placements()[0].status, "FULFILLED");
        assert_eq!(live.totals().fulfilled, 1);
        assert_eq!(live.totals().pending, 0);
    }

    #[test]
    fn sessions_follow_their_version_and_sum_up_per_region() {
        let mut live = Live::default();
        assert!(matches!(
            live.apply_record(&session_record("INSERT", "gs-a", 1, 0)),
            Some(Change::Session(_))
        ));
        live.apply_record(&session_record("MODIFY", "gs-a", 3, 2));
        assert_eq!(
            live.apply_record(&session_record("MODIFY", "gs-a", 2, 1)),
            None,
            "version 2 arrives after version 3"
        );
        live.apply_record(&session_record("INSERT", "gs-b", 1, 1));
        let a = live
            .sessions()
            .into_iter()
            .find(|s| s.id == "gs-a")
            .unwrap();
        assert_eq!(
            (a.player_count, a.open_slots, a.joinable, a.created_ms),
            (2, 5, None, Some(1_767_225_601_500))
        );
        assert_eq!(
            live.regions(),
            vec![RegionSummary {
                region: "eu-west-1".into(),
                sessions: 2,
                players: 3,
                open_slots: 11,
                max_players: 16
            }]
        );
        let mut gone = session_record("REMOVE", "gs-b", 1, 1);
        gone["dynamodb"]["NewImage"] = Value::Null;
        assert_eq!(
            live.apply_record(&gone),
            Some(Change::SessionGone("gs-b".into()))
        );
        assert_eq!(live.sessions().len(), 1);
    }

    #[test]
    fn a_joinable_flag_in_the_item_is_shown_as_is() {
        let mut live = Live::default();
        let mut r = session_record("INSERT", "gs-a", 1, 0);
        r["dynamodb"]["NewImage"]["joinable"] = json!({"BOOL": false});
        let Some(Change::Session(v)) = live.apply_record(&r) else {
            panic!("new session");
        };
        assert_eq!(v.joinable, Some(false));
    }

    #[test]
    fn a_tombstone_is_an_ended_session_and_other_items_are_ignored() {
        let mut live = Live::default();
        let tomb = json!({
            "eventName": "INSERT",
            "dynamodb": {
                "Keys": {"pk": s("S#gs-t"), "sk": s("S")},
                "NewImage": {"pk": s("S#gs-t"), "sk": s("S"), "kind": s("tombstone"),
                             "status": s("ENDED"), "version": n(1), "updatedAt": s("2026-01-01T00:00:00Z")}
            }
        });
        let Some(Change::Session(v)) = live.apply_record(&tomb) else {
            panic!("a tombstone is shown as ended");
        };
        assert_eq!((v.id.as_str(), v.status.as_str()), ("gs-t", "ENDED"));
        let seat = json!({
            "eventName": "INSERT",
            "dynamodb": {"Keys": {"pk": s("S#gs-t"), "sk": s("SEAT#abc")}, "NewImage": {"kind": s("seat")}}
        });
        assert_eq!(live.apply_record(&seat), None);
        assert!(live.regions().is_empty(), "ended sessions are not summed");
    }

    #[test]
    fn only_the_most_recent_placements_are_kept() {
        let mut live = Live::default();
        for i in 0..(MAX_PLACEMENTS + 5) {
            live.apply_record(&placement_record(
                "INSERT",
                &format!("pl-{i}"),
                "PENDING",
                "2026-01-01T00:00:00.000Z",
            ));
        }
        let kept = live.placements();
        assert_eq!(kept.len(), MAX_PLACEMENTS);
        assert!(!kept.iter().any(|p| p.placement_id == "pl-0"));
        assert_eq!(live.totals().started, (MAX_PLACEMENTS + 5) as u64);
    }

    #[test]
    fn wire_and_sdk_attributes_read_as_the_same_plain_json() {
        let wire = json!({"M": {"a": {"N": "3"}, "b": {"L": [{"S": "x"}, {"BOOL": true}]}, "c": {"N": "1.5"}}});
        let sdk = AttributeValue::M(HashMap::from([
            ("a".to_owned(), AttributeValue::N("3".into())),
            (
                "b".to_owned(),
                AttributeValue::L(vec![
                    AttributeValue::S("x".into()),
                    AttributeValue::Bool(true),
                ]),
            ),
            ("c".to_owned(), AttributeValue::N("1.5".into())),
        ]));
        let expected = json!({"a": 3, "b": ["x", true], "c": 1.5});
        assert_eq!(plain_from_wire(&wire), expected);
        assert_eq!(plain_from_sdk(&sdk), expected);
    }
}

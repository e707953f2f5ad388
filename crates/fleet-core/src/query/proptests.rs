//! Property tests: the planner against the evaluator (through an interpreter of the DynamoDB
//! expressions the planner emits, over items shaped like the table's), cursors, and a parser that
//! never panics.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;

use super::*;
use crate::ids::{FleetId, GameSessionArn, Region, SessionId};
use crate::index;
use crate::input::GameProperties;
use crate::model::{Session, SessionStatus};
use crate::time::Timestamp;

// ---------------------------------------------------------------------------------------------
// A DynamoDB item and an interpreter of the expression subset the planner emits.
// ---------------------------------------------------------------------------------------------

/// An attribute value, as DynamoDB holds it.
#[derive(Debug, Clone, PartialEq)]
enum Av {
    S(String),
    N(String),
    M(BTreeMap<String, Av>),
    L(Vec<Av>),
    Bool(bool),
    Null,
}

fn to_av(v: serde_json::Value) -> Av {
    match v {
        serde_json::Value::Null => Av::Null,
        serde_json::Value::Bool(b) => Av::Bool(b),
        serde_json::Value::Number(n) => Av::N(n.to_string()),
        serde_json::Value::String(s) => Av::S(s),
        serde_json::Value::Array(a) => Av::L(a.into_iter().map(to_av).collect()),
        serde_json::Value::Object(o) => Av::M(o.into_iter().map(|(k, v)| (k, to_av(v))).collect()),
    }
}

/// The session item: the session's camelCase serde attributes, plus the list-index attributes
/// while ACTIVE (the indexes are sparse).
fn item(s: &Session) -> BTreeMap<String, Av> {
    let Av::M(mut m) = to_av(serde_json::to_value(s).unwrap_or(serde_json::Value::Null)) else {
        panic!("a session serializes to an object");
    };
    if s.status == SessionStatus::Active {
        for (k, v) in index::list_attributes(s) {
            m.insert(k.to_owned(), Av::S(v));
        }
    }
    m
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Val(String),
    Word(String),
    Op(String),
    LParen,
    RParen,
    Comma,
    Dot,
}

fn tokenize(s: &str) -> Vec<Tok> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |i: &mut usize| {
        let start = *i;
        while *i < cs.len() && (cs[*i].is_ascii_alphanumeric() || cs[*i] == '_') {
            *i += 1;
        }
        cs[start..*i].iter().collect::<String>()
    };
    while i < cs.len() {
        let single = match cs[i] {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '=' => Some(Tok::Op("=".into())),
            _ => None,
        };
        if let Some(tok) = single {
            out.push(tok);
            i += 1;
            continue;
        }
        match cs[i] {
            c if c.is_whitespace() => i += 1,
            '#' => {
                i += 1;
                out.push(Tok::Name(format!("#{}", word(&mut i))));
            }
            ':' => {
                i += 1;
                out.push(Tok::Val(format!(":{}", word(&mut i))));
            }
            '<' | '>' => {
                let mut op = cs[i].to_string();
                i += 1;
                if i < cs.len() && (cs[i] == '=' || (op == "<" && cs[i] == '>')) {
                    op.push(cs[i]);
                    i += 1;
                }
                out.push(Tok::Op(op));
            }
            c if c.is_ascii_alphabetic() => out.push(Tok::Word(word(&mut i))),
            c => panic!("unexpected character {c:?} in expression {s:?}"),
        }
    }
    out
}

#[derive(Debug)]
enum E {
    And(Box<E>, Box<E>),
    Or(Box<E>, Box<E>),
    Not(Box<E>),
    Cmp(Vec<String>, String, String),
    Between(Vec<String>, String, String),
    BeginsWith(Vec<String>, String),
    Exists(Vec<String>, bool),
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn next(&mut self) -> Tok {
        let t = self
            .toks
            .get(self.i)
            .cloned()
            .unwrap_or_else(|| panic!("unexpected end of expression"));
        self.i += 1;
        t
    }
    fn expect(&mut self, t: &Tok) {
        let got = self.next();
        assert_eq!(&got, t);
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }
    fn or(&mut self) -> E {
        let mut e = self.and();
        while self.is_word("OR") {
            self.i += 1;
            e = E::Or(Box::new(e), Box::new(self.and()));
        }
        e
    }
    fn and(&mut self) -> E {
        let mut e = self.not();
        while self.is_word("AND") {
            self.i += 1;
            e = E::And(Box::new(e), Box::new(self.not()));
        }
        e
    }
    fn not(&mut self) -> E {
        if self.is_word("NOT") {
            self.i += 1;
            return E::Not(Box::new(self.not()));
        }
        self.primary()
    }
    fn path(&mut self) -> Vec<String> {
        let mut p = Vec::new();
        loop {
            match self.next() {
                Tok::Name(n) => p.push(n),
                t => panic!("expected a name placeholder, got {t:?}"),
            }
            if self.peek() == Some(&Tok::Dot) {
                self.i += 1;
            } else {
                return p;
            }
        }
    }
    fn val(&mut self) -> String {
        match self.next() {
            Tok::Val(v) => v,
            t => panic!("expected a value placeholder, got {t:?}"),
        }
    }
    fn primary(&mut self) -> E {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.i += 1;
                let e = self.or();
                self.expect(&Tok::RParen);
                e
            }
            Some(Tok::Word(f)) => {
                self.i += 1;
                self.expect(&Tok::LParen);
                let path = self.path();
                let e = match f.as_str() {
                    "begins_with" => {
                        self.expect(&Tok::Comma);
                        E::BeginsWith(path, self.val())
                    }
                    "attribute_exists" => E::Exists(path, true),
                    "attribute_not_exists" => E::Exists(path, false),
                    other => panic!("unsupported function {other}"),
                };
                self.expect(&Tok::RParen);
                e
            }
            Some(Tok::Name(_)) => {
                let path = self.path();
                match self.next() {
                    Tok::Op(op) => E::Cmp(path, op, self.val()),
                    Tok::Word(w) if w == "BETWEEN" => {
                        let lo = self.val();
                        assert!(self.is_word("AND"));
                        self.i += 1;
                        E::Between(path, lo, self.val())
                    }
                    t => panic!("expected a comparison, got {t:?}"),
                }
            }
            t => panic!("unexpected token {t:?}"),
        }
    }
}

/// A filter or key expression, ready to evaluate; checks that every placeholder is defined and used
/// (DynamoDB rejects both mistakes).
struct Compiled<'f> {
    e: E,
    f: &'f Filter,
}

fn compile(f: &Filter) -> Compiled<'_> {
    let toks = tokenize(&f.expression);
    for name in f.names.keys() {
        assert!(
            toks.contains(&Tok::Name(name.clone())),
            "unused name {name} in {f:?}"
        );
    }
    for v in f.values.keys() {
        assert!(
            toks.contains(&Tok::Val(v.clone())),
            "unused value {v} in {f:?}"
        );
    }
    let mut p = P { toks, i: 0 };
    let e = p.or();
    assert_eq!(p.i, p.toks.len(), "trailing tokens in {:?}", f.expression);
    Compiled { e, f }
}

impl Compiled<'_> {
    fn resolve<'a>(&self, path: &[String], item: &'a BTreeMap<String, Av>) -> Option<&'a Av> {
        let mut names = path.iter().map(|p| {
            self.f
                .names
                .get(p)
                .unwrap_or_else(|| panic!("undefined name {p}"))
        });
        let mut cur = item.get(names.next()?)?;
        for n in names {
            match cur {
                Av::M(m) => cur = m.get(n)?,
                _ => return None,
            }
        }
        Some(cur)
    }

    fn value(&self, v: &str) -> Av {
        match self
            .f
            .values
            .get(v)
            .unwrap_or_else(|| panic!("undefined value {v}"))
        {
            FilterValue::S(s) => Av::S(s.clone()),
            FilterValue::N(n) => Av::N(n.clone()),
            FilterValue::Bool(b) => Av::Bool(*b),
        }
    }

    /// DynamoDB's comparison: only S with S (byte order) and N with N (numeric order).
    fn cmp(a: &Av, b: &Av) -> Option<Ordering> {
        match (a, b) {
            (Av::S(x), Av::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
            (Av::N(x), Av::N(y)) => {
                let (x, y) = (x.parse::<f64>().ok()?, y.parse::<f64>().ok()?);
                x.partial_cmp(&y)
            }
            (Av::Bool(x), Av::Bool(y)) => Some(x.cmp(y)),
            _ => None,
        }
    }

    fn eval(&self, item: &BTreeMap<String, Av>) -> bool {
        self.go(&self.e, item)
    }

    fn go(&self, e: &E, item: &BTreeMap<String, Av>) -> bool {
        match e {
            E::And(a, b) => self.go(a, item) && self.go(b, item),
            E::Or(a, b) => self.go(a, item) || self.go(b, item),
            E::Not(a) => !self.go(a, item),
            E::Cmp(p, op, v) => {
                let Some(a) = self.resolve(p, item) else {
                    return false;
                };
                let Some(o) = Self::cmp(a, &self.value(v)) else {
                    return false;
                };
                match op.as_str() {
                    "=" => o == Ordering::Equal,
                    "<>" => o != Ordering::Equal,
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    ">=" => o != Ordering::Less,
                    other => panic!("unknown operator {other}"),
                }
            }
            E::Between(p, lo, hi) => {
                let Some(a) = self.resolve(p, item) else {
                    return false;
                };
                let (lo, hi) = (self.value(lo), self.value(hi));
                assert_ne!(
                    Self::cmp(&lo, &hi),
                    Some(Ordering::Greater),
                    "BETWEEN with low > high is a DynamoDB error"
                );
                Self::cmp(a, &lo).is_some_and(|o| o != Ordering::Less)
                    && Self::cmp(a, &hi).is_some_and(|o| o != Ordering::Greater)
            }
            E::BeginsWith(p, v) => match (self.resolve(p, item), self.value(v)) {
                (Some(Av::S(a)), Av::S(b)) => {
                    assert!(!b.is_empty(), "begins_with with an empty operand");
                    a.as_bytes().starts_with(b.as_bytes())
                }
                _ => false,
            },
            E::Exists(p, want) => self.resolve(p, item).is_some() == *want,
        }
    }
}

/// Runs `plan` as DynamoDB would over the sessions' items: the index's partition, the key
/// condition on its sort key, index order in the plan's direction, then the filter.
fn simulate(plan: &Plan, sessions: &[Session]) -> Vec<SessionId> {
    let key_expr = plan.key_condition_expression();
    let key = compile(&key_expr);
    let filter = plan.filter.as_ref().map(compile);
    if let KeyCondition::Between(lo, hi) = &plan.key {
        assert!(lo <= hi, "BETWEEN {lo:?} AND {hi:?}");
    }
    let mut rows = Vec::new();
    for s in sessions {
        let it = item(s);
        let (Some(Av::S(pk)), Some(Av::S(sk))) = (it.get(plan.index.pk), it.get(plan.index.sk))
        else {
            continue; // not in this (sparse) index
        };
        if !index::partition_values(plan.index, &plan.partition_value).contains(pk) {
            continue;
        }
        let by_key = plan.key.matches(sk);
        // The store runs the key condition once per shard, with the shard's value for `:pk`.
        let mut in_shard = it.clone();
        in_shard.insert(
            plan.index.pk.to_owned(),
            Av::S(plan.partition_value.clone()),
        );
        assert_eq!(
            by_key,
            key.eval(&in_shard),
            "KeyCondition and its expression disagree on {sk:?}: {:?}",
            key_expr
        );
        if by_key {
            rows.push((sk.clone(), it, s.id.clone()));
        }
    }
    rows.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if !plan.scan_forward {
        rows.reverse();
    }
    rows.into_iter()
        .filter(|(_, it, _)| filter.as_ref().is_none_or(|f| f.eval(it)))
        .map(|(_, _, id)| id)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Generators: small value domains so that queries hit.
// ---------------------------------------------------------------------------------------------

const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-south-1"];
const FLEETS: [&str; 3] = ["fleet-a", "fleet-b", "fleet-c"];
const NAMES: [Option<&str>; 6] = [
    None,
    Some("lobby"),
    Some("lobby 2"),
    Some("arena"),
    Some("Lobby"),
    Some(""),
];
const MODES: [Option<&str>; 3] = [None, Some("ranked"), Some("casual")];
const MAPS: [Option<&str>; 3] = [None, Some("dust"), Some("de_dust")];

fn arn_of(i: usize) -> GameSessionArn {
    GameSessionArn::parse(&format!(
        "arn:aws:gamelift:us-east-1::gamesession/fleet-x/gsess-{i}"
    ))
    .unwrap_or_else(|e| panic!("{e}"))
}

#[derive(Debug, Clone)]
struct Shape {
    region: usize,
    fleet: usize,
    players: u32,
    open: u32,
    reserved: u32,
    name: usize,
    mode: usize,
    map: usize,
    created: i64,
    ended: bool,
    joinable: bool,
}

/// Mostly small counts, sometimes around the 3-digit key prefix's saturation at 999.
fn arb_count() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0..6u32, 1 => select(vec![998u32, 999, 1000, 1500])]
}

fn arb_shape() -> impl Strategy<Value = Shape> {
    (
        (0..3usize, 0..3usize, arb_count(), arb_count(), 0..2u32),
        (
            0..NAMES.len(),
            0..3usize,
            0..3usize,
            0..5i64,
            prop::bool::weighted(0.5),
            prop::bool::weighted(0.1),
            prop::bool::weighted(0.7),
        ),
    )
        .prop_map(
            |(
                (region, fleet, players, open, reserved),
                (name, mode, map, secs, half, ended, joinable),
            )| {
                Shape {
                    region,
                    fleet,
                    players,
                    open,
                    reserved,
                    name,
                    mode,
                    map,
                    created: T0 + secs * 1000 + if half { 500 } else { 0 },
                    ended,
                    joinable,
                }
            },
        )
}

fn build(i: usize, sh: &Shape) -> Session {
    let arn = arn_of(i);
    let mut props = BTreeMap::new();
    if let Some(m) = MODES[sh.mode] {
        props.insert("mode".to_owned(), m.to_owned());
    }
    if let Some(m) = MAPS[sh.map] {
        props.insert("map".to_owned(), m.to_owned());
    }
    Session {
        id: arn.session_id(),
        arn,
        status: if sh.ended {
            SessionStatus::Ended
        } else {
            SessionStatus::Active
        },
        region: Region::parse(REGIONS[sh.region]).unwrap_or_else(|e| panic!("{e}")),
        fleet_id: FleetId::parse(FLEETS[sh.fleet]).unwrap_or_else(|e| panic!("{e}")),
        name: NAMES[sh.name].map(str::to_owned),
        data: None,
        properties: GameProperties::parse(props).unwrap_or_else(|e| panic!("{e}")),
        player_count: sh.players,
        max_players: sh.players + sh.open + sh.reserved,
        reserved_seats: sh.reserved,
        // A locked session offers no slot (the data rule the join and the list both rely on).
        open_slots: if sh.joinable { sh.open } else { 0 },
        joinable: sh.joinable,
        protected: false,
        ip_address: "10.0.0.1".into(),
        dns_name: "h.example".into(),
        port: 7777,
        created_at: Timestamp::from_millis(sh.created),
        updated_at: Timestamp::from_millis(sh.created),
    }
}

fn arb_sessions() -> impl Strategy<Value = Vec<Session>> {
    prop::collection::vec(arb_shape(), 0..12).prop_map(|shapes| {
        shapes
            .iter()
            .enumerate()
            .map(|(i, sh)| build(i, sh))
            .collect()
    })
}

fn quote(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

fn bare(v: &str) -> String {
    if v.is_empty() {
        return quote(v);
    }
    let mut s = String::new();
    for c in v.chars() {
        if c.is_whitespace() || c == '\\' || c == '*' || c == '"' {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

fn text_value(domain: Vec<String>) -> BoxedStrategy<String> {
    let d2 = domain.clone();
    prop_oneof![
        4 => (select(domain), any::<bool>()).prop_map(|(v, q)| if q { quote(&v) } else { bare(&v) }),
        3 => (select(d2), 0..8usize, any::<bool>()).prop_map(|(v, k, q)| {
            let p: String = v.chars().take(k).collect();
            if q { format!("{}*", quote(&p)) } else if p.is_empty() { "*".to_owned() } else { format!("{}*", bare(&p)) }
        }),
        1 => Just("*".to_owned()),
    ]
    .boxed()
}

fn count_value() -> BoxedStrategy<String> {
    let nums = vec![
        "0", "1", "2", "3", "4", "5", "2.5", "2.0", "-1", "1e0", "4.999", "0.5", "998", "999",
        "1000", "1200", "1500",
    ];
    prop_oneof![
        4 => select(nums.clone()).prop_map(str::to_owned),
        4 => (select(vec![">", ">=", "<", "<="]), select(nums.clone())).prop_map(|(o, n)| format!("{o}{n}")),
        1 => select(nums).prop_map(|n| format!("\"{n}\"")),
        1 => Just("*".to_owned()),
    ]
    .boxed()
}

fn date_value() -> BoxedStrategy<String> {
    let mut dates = Vec::new();
    for k in 0..6 {
        dates.push(format!("2025-11-25T00:00:0{k}Z"));
        dates.push(format!("2025-11-25T00:00:0{k}.500Z"));
        dates.push(format!("2025-11-25T01:00:0{k}+01:00"));
        dates.push(format!("2025-11-25T00:00:0{k}.0004Z"));
        dates.push(format!("2025-11-24T23:59:5{k}.9996-00:00"));
    }
    dates.push("0001-01-01T00:00:00Z".into());
    dates.push("9999-12-31T23:59:59.999Z".into());
    prop_oneof![
        2 => select(dates.clone()),
        1 => select(dates.clone()).prop_map(|d| quote(&d)),
        5 => (select(vec![">", ">=", "<", "<="]), select(dates), any::<bool>())
            .prop_map(|(o, d, q)| if q { format!("{o}{}", quote(&d)) } else { format!("{o}{d}") }),
        1 => Just("*".to_owned()),
    ]
    .boxed()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn arb_clause() -> BoxedStrategy<String> {
    let mut ids: Vec<String> = Vec::new();
    for i in 0..4 {
        ids.push(arn_of(i).session_id().to_string());
        ids.push(arn_of(i).to_string());
    }
    ids.push("gs-nope".into());
    let mut names = strings(&["lobby", "lobby 2", "arena", "Lobby", "", "lob", "nobody"]);
    names.push("n".repeat(index::NAME_KEY_BYTES + 5));
    let field_value = prop_oneof![
        3 => (select(vec!["playerCount", "value.player_count", "value.playerCount", "maxPlayers", "value.max_players", "openSlots"]), count_value()),
        2 => (select(vec!["createdAt", "value.create_time"]), date_value()),
        3 => (Just("region"), text_value(strings(&["us-east-1", "eu-west-1", "ap-south-1", "us-west-2"]))),
        2 => (Just("fleetId"), text_value(strings(&["fleet-a", "fleet-b", "fleet-c", "fleet-z"]))),
        3 => (select(vec!["name", "value.metadata.GameSessionName"]), text_value(names)),
        2 => (select(vec!["properties.mode", "value.metadata.GameProperties.mode", "properties.map"]),
              text_value(strings(&["ranked", "casual", "dust", "de_dust", ""]))),
        1 => (select(vec!["id", "value.id"]), text_value(ids)),
        1 => (Just("joinable"), select(strings(&["true", "false"]))),
    ];
    (select(vec!["", "", "+", "-"]), field_value)
        .prop_map(|(o, (f, v))| format!("{o}{f}:{v}"))
        .boxed()
}

/// Clauses on the fields the planner turns into partitions and key conditions, mostly musts.
fn arb_key_clause() -> BoxedStrategy<String> {
    let field_value = prop_oneof![
        3 => (select(vec!["playerCount", "openSlots"]), count_value()),
        2 => (Just("createdAt"), date_value()),
        1 => (Just("region"), text_value(strings(&["us-east-1", "eu-west-1"]))),
        1 => (Just("fleetId"), text_value(strings(&["fleet-a", "fleet-b"]))),
        1 => (Just("name"), text_value(strings(&["lobby", "lobby 2", ""]))),
    ];
    let single = (select(vec!["+", "+", "+", "", "-"]), field_value)
        .prop_map(|(o, (f, v))| format!("{o}{f}:{v}"));
    // A two-sided range on one count field (a BETWEEN on the count prefix).
    let between = (
        select(vec!["playerCount", "openSlots"]),
        select(vec![">", ">="]),
        0..6u32,
        select(vec!["<", "<="]),
        0..8u32,
    )
        .prop_map(|(f, lo_op, lo, hi_op, hi)| format!("+{f}:{lo_op}{lo} +{f}:{hi_op}{hi}"));
    prop_oneof![3 => single, 1 => between].boxed()
}

fn arb_key_query() -> impl Strategy<Value = String> {
    prop::collection::vec(arb_key_clause(), 1..4).prop_map(|cs| cs.join(" "))
}

fn arb_query() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => (prop::collection::vec(arb_clause(), 0..5), select(vec![" ", "  ", "\t"]))
            .prop_map(|(cs, sep)| cs.join(sep)),
        1 => Just("*".to_owned()),
    ]
}

fn arb_sort() -> impl Strategy<Value = Sort> {
    select(Sort::ALL.to_vec())
}

fn expected(q: &Query, sort: Sort, sessions: &[Session]) -> Vec<SessionId> {
    let mut hits: Vec<&Session> = sessions.iter().filter(|s| q.matches(s)).collect();
    hits.sort_by(|a, b| sort.compare(a, b));
    hits.into_iter().map(|s| s.id.clone()).collect()
}

/// A generated query, parsed and planned; either step failing fails the case.
fn planned(text: &str, sort: Sort) -> Result<(Query, Plan), TestCaseError> {
    let q = parse(text).map_err(|e| TestCaseError::fail(format!("{text:?} did not parse: {e}")))?;
    let plan = plan(&q, sort).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
    Ok((q, plan))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_planned_dynamodb_query_returns_what_the_evaluator_returns_in_sort_order(
        sessions in arb_sessions(),
        text in arb_query(),
        sort in arb_sort(),
    ) {
        let (q, plan) = planned(&text, sort)?;
        prop_assert!(index::LIST_INDEXES.contains(&plan.index));
        prop_assert!(plan.expected_amplification >= 1.0);
        prop_assert_eq!(plan.scan_forward, !sort.descending());
        let got = simulate(&plan, &sessions);
        let want = expected(&q, sort, &sessions);
        prop_assert_eq!(got, want, "query {:?} sort {:?} plan {}", text, sort, plan.explain());
    }

    #[test]
    fn key_conditions_never_drop_a_match_and_keep_sort_order(
        sessions in arb_sessions(),
        text in arb_key_query(),
        sort in arb_sort(),
    ) {
        let (q, plan) = planned(&text, sort)?;
        let got = simulate(&plan, &sessions);
        let want = expected(&q, sort, &sessions);
        prop_assert_eq!(got, want, "query {:?} sort {:?} plan {}", text, sort, plan.explain());
    }

    #[test]
    fn cursors_round_trip_and_any_change_is_detected(
        key in prop::collection::btree_map("[a-zA-Z]{1,6}", "\\PC{0,40}", 1..5),
        fingerprint in "[A-Za-z0-9_-]{22}",
        secret in prop::collection::vec(any::<u8>(), 0..40),
        at in any::<prop::sample::Index>(),
        with in select(vec!['A', 'z', '0', '-', '_', '.', '=', 'é']),
    ) {
        let c = cursor::encode(&secret, &fingerprint, &key);
        prop_assert!(c.len() <= cursor::CURSOR_MAX);
        prop_assert_eq!(cursor::decode(&secret, &fingerprint, &c), Ok(key.clone()));
        let mut chars: Vec<char> = c.chars().collect();
        let i = at.index(chars.len());
        chars[i] = with;
        let tampered: String = chars.into_iter().collect();
        if tampered != c {
            let e = cursor::decode(&secret, &fingerprint, &tampered);
            prop_assert!(e.as_ref().is_err_and(|e| e.field == "cursor"), "{:?}", e);
        }
        let other = format!("{fingerprint}x");
        prop_assert!(cursor::decode(&secret, &other, &c).is_err());
        let mut other_secret = secret.clone();
        other_secret.push(1);
        prop_assert!(cursor::decode(&other_secret, &fingerprint, &c).is_err());
    }

    #[test]
    fn cursor_decoding_never_panics_on_arbitrary_text(text in "\\PC{0,80}", dotted in "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,60}") {
        prop_assert!(cursor::decode(b"s", "fp", &text).is_err());
        prop_assert!(cursor::decode(b"s", "fp", &dotted).is_err());
    }

    #[test]
    fn the_parser_never_panics_on_arbitrary_strings(text in any::<String>()) {
        exercise(&text)?;
    }

    #[test]
    fn the_parser_never_panics_on_near_grammar_strings(
        parts in prop::collection::vec(select(vec![
            "+", "-", " ", "\t", ":", "\"", "\\", "*", ">", "<", "=", ">=", "playerCount", "value.player_count",
            "properties.", "value.metadata.GameProperties.", "mode", "name", "createdAt", "id", "arn:", "region",
            "2025-11-25T00:00:00Z", "1.5", "e9", "-1", "é", "日本", "\u{1}", "\u{0}", "lobby", "us-east-1", ".", "..",
        ]), 0..16),
    ) {
        exercise(&parts.concat())?;
    }
}

/// Parses, and when that succeeds plans, evaluates, fingerprints and explains: nothing may panic,
/// and an error's column must point inside the text (or just past it).
fn exercise(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(q) => {
            let s = build(0, &arb_shape_default());
            let _ = q.matches(&s);
            for sort in Sort::ALL {
                let p = match plan(&q, sort) {
                    Ok(p) => p,
                    Err(e) => {
                        // Only a key value DynamoDB would refuse stops a parsed query, at a clause.
                        prop_assert!(q.clauses().iter().any(|c| c.column == e.column), "{e}");
                        continue;
                    }
                };
                let _ = p.fingerprint(&q, sort);
                let _ = p.explain();
                if let Some(f) = &p.filter {
                    let _ = compile(f).eval(&item(&s));
                }
            }
        }
        Err(e) => {
            let n = text.chars().count();
            prop_assert!(
                e.column >= 1 && e.column <= n.max(1024) + 1,
                "{e} for {text:?}"
            );
            let prefix = format!("query: column {}: expected ", e.column);
            prop_assert!(e.to_string().starts_with(&prefix), "{}", e);
        }
    }
    Ok(())
}

fn arb_shape_default() -> Shape {
    Shape {
        region: 0,
        fleet: 0,
        players: 2,
        open: 2,
        reserved: 0,
        name: 1,
        mode: 1,
        map: 0,
        created: T0,
        ended: false,
        joinable: true,
    }
}

#[test]
fn the_simulation_sees_only_active_sessions_in_the_sparse_indexes() {
    let mut ended = arb_shape_default();
    ended.ended = true;
    let sessions = vec![build(0, &arb_shape_default()), build(1, &ended)];
    let q = parse("").unwrap_or_else(|e| panic!("{e}"));
    let p = plan(&q, Sort::CreatedDesc).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(simulate(&p, &sessions), vec![sessions[0].id.clone()]);
}

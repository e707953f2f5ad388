//! The query parser: text → [`Query`], or a [`QueryError`] naming the column and the expected token.
//!
//! Works on characters (never byte offsets), so any UTF-8 input is safe; every error path returns a
//! column instead of panicking.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ast::{Clause, Field, FieldKind, Interval, Occur, Query, QueryError, Value};
use crate::limits::QUERY_MAX;

/// The fields a query may name, for error messages.
pub(crate) const FIELD_LIST: &str = "a field: playerCount, maxPlayers, openSlots, joinable, region, fleetId, name, \
     createdAt, id, properties.<key> (or value.player_count, value.playerCount, value.max_players, \
     value.metadata.GameSessionName, value.metadata.GameProperties.<key>, value.create_time, value.id)";

/// Parses a list query (docs/architecture.md#query-language; the language is described in the [module docs](super)).
///
/// The empty query and `*` (surrounding whitespace ignored) match every session. Text longer than
/// 1024 characters is rejected.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let n = text.chars().count();
    if n > QUERY_MAX {
        return Err(QueryError::new(
            QUERY_MAX + 1,
            format!("at most {QUERY_MAX} characters"),
            format!("the query has {n} characters"),
        ));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "*" {
        return Ok(Query {
            text: text.to_owned(),
            clauses: Vec::new(),
        });
    }
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut clauses = Vec::new();
    loop {
        p.skip_ws();
        if p.at_end() {
            break;
        }
        clauses.push(p.clause()?);
        if let Some(c) = p.peek()
            && !c.is_whitespace()
        {
            return Err(p.error(
                "whitespace or the end of the query after a value",
                format!("found `{c}`"),
            ));
        }
    }
    Ok(Query {
        text: text.to_owned(),
        clauses,
    })
}

/// A range operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::Lt => "<",
            Self::Le => "<=",
        }
    }
}

/// A value as written, before it is read according to the field's kind.
enum Raw {
    /// `*` alone.
    Any,
    /// A bare or quoted string; `prefix` when it ended with an unescaped `*`.
    Text {
        text: String,
        prefix: bool,
        column: usize,
    },
    /// `>N`, `>=N`, `<N`, `<=N` (operand bare or quoted).
    Range { op: Op, text: String, column: usize },
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    /// 1-based column of the current position.
    fn column(&self) -> usize {
        self.pos + 1
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "found the end of the query".to_owned(),
            Some(c) if c.is_whitespace() => "found whitespace".to_owned(),
            Some(c) => format!("found `{c}`"),
        }
    }

    fn error(&self, expected: impl Into<String>, message: impl Into<String>) -> QueryError {
        QueryError::new(self.column(), expected, message)
    }

    fn clause(&mut self) -> Result<Clause, QueryError> {
        let column = self.column();
        let occur = match self.peek() {
            Some('+') => {
                self.pos += 1;
                Occur::Must
            }
            Some('-') => {
                self.pos += 1;
                Occur::MustNot
            }
            _ => Occur::Should,
        };
        let field_column = self.column();
        let name = self.field_name()?;
        if name.is_empty() {
            let msg = if self.peek() == Some(':') {
                "a clause is `[+|-]field:value`".to_owned()
            } else {
                self.found()
            };
            return Err(self.error(FIELD_LIST, msg));
        }
        if self.peek() != Some(':') {
            return Err(self.error("`:` after the field name", self.found()));
        }
        self.pos += 1;
        let field = resolve_field(&name)
            .map_err(|(expected, message)| QueryError::new(field_column, expected, message))?;
        let value_column = self.column();
        let raw = self.raw_value()?;
        let (field, value) = typed_value(field, raw, value_column)?;
        Ok(Clause {
            occur,
            field,
            value,
            column,
        })
    }

    /// Reads a field name up to `:` or whitespace; `\` escapes the next character.
    fn field_name(&mut self) -> Result<String, QueryError> {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ':' {
                break;
            }
            self.pos += 1;
            if c == '\\' {
                name.push(self.escaped()?);
            } else {
                name.push(c);
            }
        }
        Ok(name)
    }

    /// The character after a `\` (the cursor is just past the backslash).
    fn escaped(&mut self) -> Result<char, QueryError> {
        match self.peek() {
            Some(c) => {
                self.pos += 1;
                Ok(c)
            }
            None => Err(self.error("a character after `\\`", "found the end of the query")),
        }
    }

    fn raw_value(&mut self) -> Result<Raw, QueryError> {
        match self.peek() {
            None => Err(self.error("a value after `:`", "found the end of the query")),
            Some(c) if c.is_whitespace() => {
                Err(self.error("a value after `:`", "found whitespace"))
            }
            Some('>' | '<') => {
                let op = self.op();
                let column = self.column();
                let text = match self.peek() {
                    Some('"') => self.quoted()?,
                    _ => self.bare(false)?.0,
                };
                if text.is_empty() {
                    return Err(QueryError::new(
                        column,
                        format!("a number or an RFC 3339 date-time after `{}`", op.as_str()),
                        self.found(),
                    ));
                }
                Ok(Raw::Range { op, text, column })
            }
            Some('"') => {
                let column = self.column();
                let text = self.quoted()?;
                let prefix = self.peek() == Some('*');
                if prefix {
                    self.pos += 1;
                }
                Ok(Raw::Text {
                    text,
                    prefix,
                    column,
                })
            }
            Some(_) => {
                let column = self.column();
                let (text, prefix) = self.bare(true)?;
                if prefix && text.is_empty() {
                    return Ok(Raw::Any);
                }
                Ok(Raw::Text {
                    text,
                    prefix,
                    column,
                })
            }
        }
    }

    fn op(&mut self) -> Op {
        let first = self.peek();
        self.pos += 1;
        let eq = self.peek() == Some('=');
        if eq {
            self.pos += 1;
        }
        match (first, eq) {
            (Some('>'), false) => Op::Gt,
            (Some('>'), true) => Op::Ge,
            (_, false) => Op::Lt,
            (_, true) => Op::Le,
        }
    }

    /// A bare term up to whitespace; `\` escapes; an unescaped `*` is allowed only as the last
    /// character (then it is a prefix, when `allow_prefix`). Returns (text, prefix).
    fn bare(&mut self, allow_prefix: bool) -> Result<(String, bool), QueryError> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                break;
            }
            let column = self.column();
            self.pos += 1;
            match c {
                '\\' => text.push(self.escaped()?),
                '*' => {
                    let last = self.peek().is_none_or(char::is_whitespace);
                    if last && allow_prefix {
                        return Ok((text, true));
                    }
                    let expected = if allow_prefix {
                        "`*` only at the end of a value (a prefix), or `\\*` for a literal star"
                    } else {
                        "no `*` in a range bound"
                    };
                    return Err(QueryError::new(
                        column,
                        expected,
                        "wildcards inside a value are not supported",
                    ));
                }
                _ => text.push(c),
            }
        }
        Ok((text, false))
    }

    /// A `"quoted phrase"`; `\"` and `\\` (any `\x`) are escapes. The cursor is on the opening quote.
    fn quoted(&mut self) -> Result<String, QueryError> {
        let open = self.column();
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(QueryError::new(
                        open,
                        "a closing `\"` for this quote",
                        "found the end of the query",
                    ));
                }
                Some('"') => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some('\\') => {
                    self.pos += 1;
                    if self.at_end() {
                        return Err(QueryError::new(
                            open,
                            "a closing `\"` for this quote",
                            "found the end of the query",
                        ));
                    }
                    text.push(self.escaped()?);
                }
                Some(c) => {
                    self.pos += 1;
                    text.push(c);
                }
            }
        }
    }
}

/// Resolves a field name or nakama-gamelift alias. Errors are (expected, message).
fn resolve_field(name: &str) -> Result<Field, (String, String)> {
    let field = match name {
        "playerCount" | "value.player_count" | "value.playerCount" => Field::PlayerCount,
        "maxPlayers" | "value.max_players" | "value.maxPlayers" => Field::MaxPlayers,
        "openSlots" => Field::OpenSlots,
        "joinable" => Field::Joinable,
        "region" => Field::Region,
        "fleetId" => Field::FleetId,
        "name" | "value.metadata.GameSessionName" => Field::Name,
        "createdAt" | "value.create_time" => Field::CreatedAt,
        "id" | "value.id" => Field::Id,
        _ => {
            let key = name
                .strip_prefix("properties.")
                .or_else(|| name.strip_prefix("value.metadata.GameProperties."));
            match key {
                Some("") => {
                    return Err((
                        "a property key after `properties.`".to_owned(),
                        "the key is empty".to_owned(),
                    ));
                }
                Some(k) if k.contains('.') => {
                    return Err((
                        "a property key without `.`".to_owned(),
                        format!("property keys cannot contain `.`, got `{k}`"),
                    ));
                }
                Some(k) => Field::Property(k.to_owned()),
                None => return Err((FIELD_LIST.to_owned(), format!("unknown field `{name}`"))),
            }
        }
    };
    Ok(field)
}

/// Reads a raw value according to the field's kind.
fn typed_value(field: Field, raw: Raw, value_column: usize) -> Result<(Field, Value), QueryError> {
    let kind = field.kind();
    let value = match raw {
        Raw::Any => Value::Any,
        Raw::Text {
            text,
            prefix,
            column,
        } => match kind {
            FieldKind::Text => {
                let field = if field == Field::Id && text.starts_with("arn:") {
                    Field::Arn
                } else {
                    field
                };
                let value = if prefix {
                    Value::Prefix(text)
                } else {
                    Value::Term(text)
                };
                return Ok((field, value));
            }
            _ if prefix => {
                return Err(QueryError::new(
                    value_column,
                    expected_for(kind),
                    format!("a trailing-`*` prefix applies only to text fields, not `{field}`"),
                ));
            }
            FieldKind::Count => Value::Range(number_interval(None, &text, column)?),
            FieldKind::Time => Value::Range(time_interval(None, &text, column)?),
            FieldKind::Bool if text == "true" || text == "false" => Value::Term(text),
            FieldKind::Bool => {
                return Err(QueryError::new(
                    column,
                    expected_for(kind),
                    format!("`{field}` is true or false, got `{text}`"),
                ));
            }
        },
        Raw::Range { op, text, column } => match kind {
            FieldKind::Text => {
                return Err(QueryError::new(
                    value_column,
                    "an exact value or a trailing-`*` prefix",
                    format!(
                        "ranges apply only to playerCount, maxPlayers, openSlots and createdAt, not `{field}` (its values are strings)"
                    ),
                ));
            }
            FieldKind::Bool => {
                return Err(QueryError::new(
                    value_column,
                    expected_for(kind),
                    format!("ranges do not apply to `{field}` (true or false)"),
                ));
            }
            FieldKind::Count => Value::Range(number_interval(Some(op), &text, column)?),
            FieldKind::Time => Value::Range(time_interval(Some(op), &text, column)?),
        },
    };
    Ok((field, value))
}

fn expected_for(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Count => "a number or a range (`>N`, `>=N`, `<N`, `<=N`)",
        FieldKind::Time => "an RFC 3339 date-time or a range of them (`>=2025-01-01T00:00:00Z`)",
        FieldKind::Text => "an exact value or a trailing-`*` prefix",
        FieldKind::Bool => "`true` or `false`",
    }
}

/// Whether `s` is a plain decimal number: `[+-]?digits[.digits]?([eE][+-]?digits)?` (also `.5`, `5.`).
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - int_start;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// Largest magnitude kept from a number: far beyond any count, small enough to stay exact in f64.
const NUM_LIMIT: f64 = 9.0e15;

/// The integers selected by `op x` (or `= x` when `op` is `None`). Non-integers are handled exactly:
/// `>2.5` is `>=3`, `2.5` alone selects nothing.
fn number_interval(op: Option<Op>, text: &str, column: usize) -> Result<Interval, QueryError> {
    let x = if is_decimal(text) {
        text.parse::<f64>().ok().filter(|x| x.is_finite())
    } else {
        None
    };
    let Some(x) = x else {
        return Err(QueryError::new(
            column,
            expected_for(FieldKind::Count),
            format!("`{text}` is not a number"),
        ));
    };
    let x = x.clamp(-NUM_LIMIT, NUM_LIMIT);
    // Both are whole numbers within ±9e15, so the casts are exact.
    let (floor, ceil) = (x.floor() as i64, x.ceil() as i64);
    Ok(interval_for(op, floor, ceil))
}

/// The interval selected by `op x` given floor(x) and ceil(x) in the integer domain (equal when x is
/// itself an integer).
fn interval_for(op: Option<Op>, floor: i64, ceil: i64) -> Interval {
    match op {
        None if floor == ceil => Interval {
            lo: floor,
            hi: floor,
        },
        None => Interval::EMPTY,
        Some(Op::Gt) => Interval {
            lo: floor.saturating_add(1),
            hi: i64::MAX,
        },
        Some(Op::Ge) => Interval {
            lo: ceil,
            hi: i64::MAX,
        },
        Some(Op::Lt) => Interval {
            lo: i64::MIN,
            hi: ceil.saturating_sub(1),
        },
        Some(Op::Le) => Interval {
            lo: i64::MIN,
            hi: floor,
        },
    }
}

/// The milliseconds selected by `op t` (or `= t`). Sub-millisecond precision is honoured exactly:
/// `>=…00.0005Z` starts at the next millisecond, an exact term with sub-ms digits selects nothing.
fn time_interval(op: Option<Op>, text: &str, column: usize) -> Result<Interval, QueryError> {
    let dt = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        QueryError::new(
            column,
            expected_for(FieldKind::Time),
            format!("`{text}` is not an RFC 3339 date-time: {e}"),
        )
    })?;
    let nanos = dt.unix_timestamp_nanos();
    let floor = nanos.div_euclid(1_000_000);
    let ceil = floor + i128::from(nanos.rem_euclid(1_000_000) != 0);
    // RFC 3339 years are 0000–9999, far inside i64 milliseconds.
    let (floor, ceil) = (
        i64::try_from(floor).unwrap_or(i64::MAX),
        i64::try_from(ceil).unwrap_or(i64::MAX),
    );
    Ok(interval_for(op, floor, ceil))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Clause {
        let q = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(q.clauses().len(), 1, "{text}");
        q.clauses()[0].clone()
    }

    fn err(text: &str) -> QueryError {
        match parse(text) {
            Ok(q) => panic!("{text} parsed as {q:?}"),
            Err(e) => e,
        }
    }

    /// The error of a query that must not parse, checked to point at `column`.
    fn err_at(text: &str, column: usize) -> QueryError {
        let e = err(text);
        assert_eq!(e.column, column, "{text}: {e}");
        e
    }

    const T0: i64 = 1_764_028_800_000; // 2025-11-25T00:00:00Z

    #[test]
    fn the_empty_query_and_a_lone_star_match_everything() {
        for q in ["", "   ", "*", " * ", "\t*\n"] {
            let q = parse(q).unwrap();
            assert!(q.is_match_all());
        }
        assert_eq!(parse(" * ").unwrap().text(), " * ");
    }

    #[test]
    fn occur_prefixes_select_must_must_not_and_should() {
        let q = parse("+region:a -fleetId:b name:c").unwrap();
        let occurs: Vec<_> = q.clauses().iter().map(|c| c.occur).collect();
        assert_eq!(occurs, [Occur::Must, Occur::MustNot, Occur::Should]);
        assert_eq!(q.clauses()[1].column, 11);
        assert!(q.has_must());
    }

    #[test]
    fn every_field_and_alias_resolves() {
        let cases = [
            ("playerCount:1", Field::PlayerCount),
            ("value.player_count:1", Field::PlayerCount),
            ("value.playerCount:1", Field::PlayerCount),
            ("maxPlayers:1", Field::MaxPlayers),
            ("value.max_players:1", Field::MaxPlayers),
            ("value.maxPlayers:1", Field::MaxPlayers),
            ("openSlots:1", Field::OpenSlots),
            ("region:x", Field::Region),
            ("fleetId:x", Field::FleetId),
            ("name:x", Field::Name),
            ("value.metadata.GameSessionName:x", Field::Name),
            ("createdAt:2025-11-25T00:00:00Z", Field::CreatedAt),
            ("value.create_time:2025-11-25T00:00:00Z", Field::CreatedAt),
            ("id:gs-x", Field::Id),
            ("value.id:gs-x", Field::Id),
            ("id:arn:aws:gamelift:us-east-1::gamesession/f/x", Field::Arn),
            (
                "value.id:arn:aws:gamelift:us-east-1::gamesession/f/x",
                Field::Arn,
            ),
            ("properties.mode:x", Field::Property("mode".into())),
            (
                "value.metadata.GameProperties.mode:x",
                Field::Property("mode".into()),
            ),
            ("properties.m\\:x:y", Field::Property("m:x".into())),
        ];
        for (text, field) in cases {
            assert_eq!(one(text).field, field, "{text}");
        }
    }

    #[test]
    fn numbers_become_integer_intervals() {
        let r = |t: &str| match one(t).value {
            Value::Range(i) => i,
            v => panic!("{t}: {v:?}"),
        };
        assert_eq!(r("playerCount:2"), Interval { lo: 2, hi: 2 });
        assert_eq!(r("playerCount:2.0"), Interval { lo: 2, hi: 2 });
        assert!(r("playerCount:2.5").is_empty());
        assert_eq!(
            r("playerCount:>2.5"),
            Interval {
                lo: 3,
                hi: i64::MAX
            }
        );
        assert_eq!(
            r("playerCount:>2"),
            Interval {
                lo: 3,
                hi: i64::MAX
            }
        );
        assert_eq!(
            r("playerCount:>=2.5"),
            Interval {
                lo: 3,
                hi: i64::MAX
            }
        );
        assert_eq!(
            r("playerCount:<2.5"),
            Interval {
                lo: i64::MIN,
                hi: 2
            }
        );
        assert_eq!(
            r("playerCount:<2"),
            Interval {
                lo: i64::MIN,
                hi: 1
            }
        );
        assert_eq!(
            r("playerCount:<=2.5"),
            Interval {
                lo: i64::MIN,
                hi: 2
            }
        );
        assert_eq!(
            r("openSlots:>=-1"),
            Interval {
                lo: -1,
                hi: i64::MAX
            }
        );
        assert_eq!(r("maxPlayers:\"4\""), Interval { lo: 4, hi: 4 });
        assert_eq!(
            r("maxPlayers:>=\"4\""),
            Interval {
                lo: 4,
                hi: i64::MAX
            }
        );
        assert_eq!(r("maxPlayers:1e1"), Interval { lo: 10, hi: 10 });
        assert_eq!(
            r("maxPlayers:1e300"),
            Interval {
                lo: 9_000_000_000_000_000,
                hi: 9_000_000_000_000_000
            }
        );
    }

    #[test]
    fn dates_become_millisecond_intervals() {
        let r = |t: &str| match one(t).value {
            Value::Range(i) => i,
            v => panic!("{t}: {v:?}"),
        };
        assert_eq!(
            r("createdAt:2025-11-25T00:00:00Z"),
            Interval { lo: T0, hi: T0 }
        );
        assert_eq!(
            r("createdAt:\"2025-11-25T01:00:00.5+01:00\""),
            Interval {
                lo: T0 + 500,
                hi: T0 + 500
            }
        );
        assert!(r("createdAt:2025-11-25T00:00:00.0005Z").is_empty());
        assert_eq!(
            r("createdAt:>=2025-11-25T00:00:00.0005Z"),
            Interval {
                lo: T0 + 1,
                hi: i64::MAX
            }
        );
        assert_eq!(
            r("createdAt:>2025-11-25T00:00:00.0005Z"),
            Interval {
                lo: T0 + 1,
                hi: i64::MAX
            }
        );
        assert_eq!(
            r("createdAt:<2025-11-25T00:00:00Z"),
            Interval {
                lo: i64::MIN,
                hi: T0 - 1
            }
        );
        assert_eq!(
            r("createdAt:<=2025-11-25T00:00:00.0005Z"),
            Interval {
                lo: i64::MIN,
                hi: T0
            }
        );
        assert_eq!(
            r("value.create_time:>=\"2025-11-25T00:00:00Z\""),
            Interval {
                lo: T0,
                hi: i64::MAX
            }
        );
    }

    #[test]
    fn text_values_are_terms_phrases_prefixes_or_any() {
        assert_eq!(one("name:lobby").value, Value::Term("lobby".into()));
        assert_eq!(
            one("name:\"big lobby\"").value,
            Value::Term("big lobby".into())
        );
        assert_eq!(
            one(r#"name:"say \"hi\" \\ ok""#).value,
            Value::Term(r#"say "hi" \ ok"#.into())
        );
        assert_eq!(
            one("name:big\\ lobby").value,
            Value::Term("big lobby".into())
        );
        assert_eq!(one("name:lob*").value, Value::Prefix("lob".into()));
        assert_eq!(
            one("name:\"big lo\"*").value,
            Value::Prefix("big lo".into())
        );
        assert_eq!(one("name:a\\*").value, Value::Term("a*".into()));
        assert_eq!(one("name:*").value, Value::Any);
        assert_eq!(one("playerCount:*").value, Value::Any);
        assert_eq!(one("name:2").value, Value::Term("2".into()));
        assert_eq!(one("name:\"\"").value, Value::Term(String::new()));
        assert_eq!(
            one("name:héllo·wörld").value,
            Value::Term("héllo·wörld".into())
        );
        assert_eq!(one("region:=x").value, Value::Term("=x".into()));
        let c = one("+value.metadata.GameSessionName:lobby*");
        assert_eq!(
            (c.occur, c.field, c.value),
            (Occur::Must, Field::Name, Value::Prefix("lobby".into()))
        );
    }

    #[test]
    fn clauses_may_be_separated_by_any_whitespace() {
        let q = parse(" +region:a\t\t-name:\"x y\"\n  openSlots:>=1 ").unwrap();
        assert_eq!(q.clauses().len(), 3);
        assert_eq!(q.clauses()[0].column, 2);
    }

    #[test]
    fn unknown_fields_name_the_column_and_list_the_fields() {
        let e = err_at("+region:a +colour:red", 12);
        assert!(
            e.expected.contains("playerCount") && e.expected.contains("properties.<key>"),
            "{e}"
        );
        assert!(e.message.contains("colour"), "{e}");
        assert!(
            e.to_string()
                .starts_with("query: column 12: expected a field"),
            "{e}"
        );
        err_at("playercount:1", 1);
    }

    #[test]
    fn a_missing_value_names_the_column_after_the_colon() {
        assert_eq!(err_at("+region:", 9).expected, "a value after `:`");
        assert!(err_at("name: lobby", 6).message.contains("whitespace"));
    }

    #[test]
    fn lone_occur_signs_and_bare_words_expect_a_field_or_a_colon() {
        assert!(err_at("+", 2).expected.starts_with("a field"));
        assert_eq!(err_at("lobby", 6).expected, "`:` after the field name");
        assert!(err_at("*:x", 1).message.contains("unknown field"));
        for (text, column) in [
            ("region:a -", 11),
            ("+ region:a", 2),
            (":x", 1),
            ("* +region:a", 2),
        ] {
            err_at(text, column);
        }
    }

    #[test]
    fn an_unterminated_quote_points_at_the_opening_quote() {
        let e = err_at("+region:a name:\"big lobby", 16);
        assert!(e.expected.contains("closing"), "{e}");
        err_at("name:\"ends with backslash\\", 6);
    }

    #[test]
    fn garbage_after_a_quoted_value_is_an_error() {
        assert!(err_at("name:\"a\"b", 9).expected.contains("whitespace"));
    }

    #[test]
    fn ranges_on_text_fields_and_prefixes_on_numbers_are_errors() {
        let e = err_at("properties.mode:>3", 17);
        assert!(e.message.contains("ranges apply only"), "{e}");
        let e = err_at("playerCount:2*", 13);
        assert!(e.expected.contains("a number"), "{e}");
        let e = err("createdAt:2025*");
        assert!(e.expected.contains("RFC 3339"), "{e}");
    }

    #[test]
    fn bad_numbers_and_dates_name_the_value_column() {
        assert_eq!(
            err_at("+playerCount:two", 14).message,
            "`two` is not a number"
        );
        let e = err_at("playerCount:>=", 15);
        assert!(e.expected.starts_with("a number or an RFC 3339"), "{e}");
        for bad in [
            "playerCount:NaN",
            "playerCount:inf",
            "playerCount:1e",
            "playerCount:.",
            "playerCount:1.2.3",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = err_at("createdAt:>=yesterday", 13);
        assert!(e.expected.contains("RFC 3339"), "{e}");
        err_at("createdAt:2025-11-25", 11);
    }

    #[test]
    fn inner_wildcards_are_rejected_at_their_column() {
        err_at("name:lo*by", 8);
        err_at("playerCount:>*", 14);
    }

    #[test]
    fn property_keys_must_be_present_and_dot_free() {
        assert!(err("properties.:x").expected.contains("property key"));
        assert!(err("properties.a.b:x").expected.contains("without `.`"));
        assert!(err("properties:x").message.contains("unknown field"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        err_at("name:é +bogus:1", 9);
        err_at("name:\"日本語 +bogus:1", 6);
    }

    #[test]
    fn queries_longer_than_1024_characters_are_rejected() {
        let ok = format!("name:{}", "é".repeat(1019));
        assert_eq!(ok.chars().count(), 1024);
        assert!(parse(&ok).is_ok());
        let long = format!("name:{}", "é".repeat(1020));
        let e = err_at(&long, 1025);
        assert!(e.expected.contains("1024"), "{e}");
    }

    #[test]
    fn a_query_error_becomes_a_field_error_on_query() {
        let e: crate::FieldError = err("+").into();
        assert_eq!(e.field, "query");
        assert!(
            e.problem.starts_with("column 2: expected a field"),
            "{}",
            e.problem
        );
        assert!(e.to_string().starts_with("query: column 2: expected"));
    }
}

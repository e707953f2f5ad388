//! The subset of SearchGameSessions' FilterExpression and SortExpression the simulator understands.
//!
//! Operands: `gameSessionId`, `gameSessionName`, `creationTimeMillis`, `playerSessionCount`,
//! `maximumSessions`, `hasAvailablePlayerSessions`, `location`, `gameSessionProperties.<key>`.
//! Comparators: `=`, `<>`, `!=`, `<`, `>`, `<=`, `>=`. Logic: `AND`, `OR`, `NOT`, parentheses.
//! Values: numbers, `true`/`false`, `'quoted'`/`"quoted"` strings or bare words.
//! Sort: `<operand> ASC|DESC`.

use std::cmp::Ordering;

/// What an expression is evaluated against.
pub trait Fields {
    /// The value of an operand for this game session, if it has one.
    fn field(&self, name: &str) -> Option<Val>;
}

/// A field or literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl Val {
    fn compare(&self, other: &Val) -> Option<Ordering> {
        match (self, other) {
            (Val::Num(a), Val::Num(b)) => a.partial_cmp(b),
            (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
            (Val::Str(a), Val::Num(b)) => a.parse::<f64>().ok().and_then(|a| a.partial_cmp(b)),
            (Val::Num(a), Val::Str(b)) => b.parse::<f64>().ok().and_then(|b| a.partial_cmp(&b)),
            (Val::Str(a), Val::Str(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y),
                _ => Some(a.cmp(b)),
            },
            (Val::Str(a), Val::Bool(b)) | (Val::Bool(b), Val::Str(a)) => {
                if a.eq_ignore_ascii_case(&b.to_string()) {
                    Some(Ordering::Equal)
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `a AND b`.
    And(Box<Filter>, Box<Filter>),
    /// `a OR b`.
    Or(Box<Filter>, Box<Filter>),
    /// `NOT a`.
    Not(Box<Filter>),
    /// `operand op value`.
    Cmp(String, CmpOp, Val),
}

/// A comparator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>` or `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl Filter {
    /// Evaluates the filter.
    pub fn matches(&self, s: &dyn Fields) -> bool {
        match self {
            Filter::And(a, b) => a.matches(s) && b.matches(s),
            Filter::Or(a, b) => a.matches(s) || b.matches(s),
            Filter::Not(a) => !a.matches(s),
            Filter::Cmp(field, op, v) => {
                let Some(actual) = s.field(field) else {
                    return *op == CmpOp::Ne;
                };
                let Some(ord) = actual.compare(v) else {
                    return *op == CmpOp::Ne;
                };
                match op {
                    CmpOp::Eq => ord == Ordering::Equal,
                    CmpOp::Ne => ord != Ordering::Equal,
                    CmpOp::Lt => ord == Ordering::Less,
                    CmpOp::Gt => ord == Ordering::Greater,
                    CmpOp::Le => ord != Ordering::Greater,
                    CmpOp::Ge => ord != Ordering::Less,
                }
            }
        }
    }
}

/// A parsed sort expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    /// Operand to sort by.
    pub field: String,
    /// Ascending?
    pub ascending: bool,
}

impl Sort {
    /// Orders two sessions; sessions without the field sort last.
    pub fn compare(&self, a: &dyn Fields, b: &dyn Fields) -> Ordering {
        match (a.field(&self.field), b.field(&self.field)) {
            (Some(x), Some(y)) => {
                let o = x.compare(&y).unwrap_or(Ordering::Equal);
                if self.ascending { o } else { o.reverse() }
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
}

const OPERANDS: [&str; 7] = [
    "gameSessionId",
    "gameSessionName",
    "creationTimeMillis",
    "playerSessionCount",
    "maximumSessions",
    "hasAvailablePlayerSessions",
    "location",
];

fn check_operand(name: &str) -> Result<(), String> {
    if OPERANDS.contains(&name)
        || name
            .strip_prefix("gameSessionProperties.")
            .is_some_and(|k| !k.is_empty())
    {
        Ok(())
    } else {
        Err(format!("unknown operand '{name}'"))
    }
}

/// Parses a sort expression such as `creationTimeMillis DESC`.
pub fn parse_sort(text: &str) -> Result<Sort, String> {
    let mut parts = text.split_whitespace();
    let field = parts.next().ok_or("empty sort expression")?.to_owned();
    check_operand(&field)?;
    let ascending = match parts.next().map(str::to_ascii_uppercase).as_deref() {
        None | Some("ASC") => true,
        Some("DESC") => false,
        Some(o) => return Err(format!("sort order must be ASC or DESC, not '{o}'")),
    };
    if parts.next().is_some() {
        return Err("sort expression has trailing text".to_owned());
    }
    Ok(Sort { field, ascending })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Op(CmpOp),
    Open,
    Close,
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            '\'' | '"' => {
                let q = c;
                let start = i + 1;
                let mut j = start;
                while j < chars.len() && chars[j] != q {
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(format!("unterminated string at column {}", i + 1));
                }
                out.push(Tok::Quoted(chars[start..j].iter().collect()));
                i = j + 1;
            }
            '=' | '<' | '>' | '!' => {
                let next = chars.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    ('<', Some('>')) | ('!', Some('=')) => (CmpOp::Ne, 2),
                    ('<', Some('=')) => (CmpOp::Le, 2),
                    ('>', Some('=')) => (CmpOp::Ge, 2),
                    ('<', _) => (CmpOp::Lt, 1),
                    ('>', _) => (CmpOp::Gt, 1),
                    ('=', _) => (CmpOp::Eq, 1),
                    _ => return Err(format!("unexpected '{c}' at column {}", i + 1)),
                };
                out.push(Tok::Op(op));
                i += len;
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"()=<>!'\"".contains(chars[i])
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    /// Steps over the keyword `kw` (any case) if it comes next.
    fn eat_kw(&mut self, kw: &str) -> bool {
        let next =
            matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw));
        if next {
            self.pos += 1;
        }
        next
    }
    /// `operand (kw operand)*`, grouped from the left with `join`.
    fn chain(
        &mut self,
        kw: &str,
        operand: fn(&mut Self) -> Result<Filter, String>,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Filter, String> {
        let mut left = operand(self)?;
        while self.eat_kw(kw) {
            left = join(Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }
    fn or(&mut self) -> Result<Filter, String> {
        self.chain("OR", Self::and, Filter::Or)
    }
    fn and(&mut self) -> Result<Filter, String> {
        self.chain("AND", Self::not, Filter::And)
    }
    fn not(&mut self) -> Result<Filter, String> {
        if self.eat_kw("NOT") {
            return Ok(Filter::Not(Box::new(self.not()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Filter, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Open) => {
                self.pos += 1;
                let f = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err("missing ')'".to_owned());
                }
                self.pos += 1;
                Ok(f)
            }
            Some(Tok::Word(field)) => {
                check_operand(&field)?;
                self.pos += 1;
                let Some(Tok::Op(op)) = self.toks.get(self.pos).cloned() else {
                    return Err(format!("expected a comparator after '{field}'"));
                };
                self.pos += 1;
                let val = match self.toks.get(self.pos).cloned() {
                    Some(Tok::Quoted(s)) => Val::Str(s),
                    Some(Tok::Word(w)) => {
                        if w.eq_ignore_ascii_case("true") {
                            Val::Bool(true)
                        } else if w.eq_ignore_ascii_case("false") {
                            Val::Bool(false)
                        } else if let Ok(n) = w.parse::<f64>() {
                            Val::Num(n)
                        } else {
                            Val::Str(w)
                        }
                    }
                    _ => return Err(format!("expected a value after '{field}'")),
                };
                self.pos += 1;
                Ok(Filter::Cmp(field, op, val))
            }
            Some(t) => Err(format!("unexpected token {t:?}")),
            None => Err("unexpected end of expression".to_owned()),
        }
    }
}

/// Parses a filter expression such as `hasAvailablePlayerSessions=true AND gameSessionProperties.mode='ctf'`.
pub fn parse_filter(text: &str) -> Result<Filter, String> {
    let toks = lex(text)?;
    let mut p = Parser { toks, pos: 0 };
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err("trailing text in filter expression".to_owned());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct S;
    impl Fields for S {
        fn field(&self, name: &str) -> Option<Val> {
            match name {
                "playerSessionCount" => Some(Val::Num(3.0)),
                "hasAvailablePlayerSessions" => Some(Val::Bool(true)),
                "gameSessionProperties.mode" => Some(Val::Str("ctf".into())),
                _ => None,
            }
        }
    }

    #[test]
    fn filters_combine_with_and_or_not_and_parentheses() {
        let f = parse_filter("hasAvailablePlayerSessions=true AND (playerSessionCount>5 OR gameSessionProperties.mode = 'ctf') AND NOT playerSessionCount=0").expect("parses");
        assert!(f.matches(&S));
        assert!(
            !parse_filter("playerSessionCount >= 4")
                .expect("parses")
                .matches(&S)
        );
    }

    #[test]
    fn an_unknown_operand_is_rejected() {
        assert!(parse_filter("bogus = 1").is_err());
        assert!(parse_sort("creationTimeMillis SIDEWAYS").is_err());
    }
}

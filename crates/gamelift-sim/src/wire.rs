//! Protocol-neutral documents and their CBOR / JSON encodings.
//!
//! Requests of both protocols are decoded into `serde_json::Value` (a CBOR timestamp, tag 1, becomes its
//! epoch-seconds number). Responses are built as [`Doc`], which keeps timestamps apart so each protocol
//! encodes them its own way (CBOR tag 1 with epoch seconds; a JSON number of epoch seconds).

use ciborium::Value as Cbor;
use serde_json::Value as Json;

use crate::clock::{json_seconds, wire_seconds};
use crate::error::ApiError;

/// A response document.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// A timestamp in epoch milliseconds.
    Time(i64),
    /// A list.
    List(Vec<Doc>),
    /// A structure or map, in field order.
    Map(Vec<(String, Doc)>),
}

impl Doc {
    /// Starts an empty structure.
    pub fn map() -> Self {
        Doc::Map(Vec::new())
    }

    /// Adds a field (builder style).
    pub fn with(mut self, key: &str, value: impl Into<Doc>) -> Self {
        if let Doc::Map(fields) = &mut self {
            fields.push((key.to_owned(), value.into()));
        }
        self
    }

    /// Adds a field when the value is present.
    pub fn with_opt<T: Into<Doc>>(self, key: &str, value: Option<T>) -> Self {
        match value {
            Some(v) => self.with(key, v),
            None => self,
        }
    }

    /// Encodes as CBOR (RPC v2).
    pub fn to_cbor(&self) -> Cbor {
        match self {
            Doc::Int(i) => Cbor::Integer((*i).into()),
            Doc::Float(f) => Cbor::Float(*f),
            Doc::Str(s) => Cbor::Text(s.clone()),
            Doc::Bool(b) => Cbor::Bool(*b),
            Doc::Time(ms) => Cbor::Tag(1, Box::new(Cbor::Float(wire_seconds(*ms)))),
            Doc::List(items) => Cbor::Array(items.iter().map(Doc::to_cbor).collect()),
            Doc::Map(fields) => Cbor::Map(
                fields
                    .iter()
                    .map(|(k, v)| (Cbor::Text(k.clone()), v.to_cbor()))
                    .collect(),
            ),
        }
    }

    /// Encodes as JSON (AWS JSON 1.1; timestamps as epoch seconds).
    pub fn to_json(&self) -> Json {
        match self {
            Doc::Int(i) => Json::from(*i),
            Doc::Float(f) => serde_json::Number::from_f64(*f)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Doc::Str(s) => Json::String(s.clone()),
            Doc::Bool(b) => Json::Bool(*b),
            Doc::Time(ms) => serde_json::Number::from_f64(json_seconds(*ms))
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Doc::List(items) => Json::Array(items.iter().map(Doc::to_json).collect()),
            Doc::Map(fields) => Json::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// `From` conversions of plain values into the [`Doc`] variant that holds them.
macro_rules! doc_from {
    ($($from:ty => |$v:ident| $doc:expr;)*) => {
        $(impl From<$from> for Doc {
            fn from($v: $from) -> Self {
                $doc
            }
        })*
    };
}

doc_from! {
    &str => |s| Doc::Str(s.to_owned());
    String => |s| Doc::Str(s);
    &String => |s| Doc::Str(s.clone());
    i64 => |i| Doc::Int(i);
    u32 => |i| Doc::Int(i64::from(i));
    i32 => |i| Doc::Int(i64::from(i));
    bool => |b| Doc::Bool(b);
    Vec<Doc> => |v| Doc::List(v);
}

/// Decodes an RPC v2 CBOR request body into JSON. An empty body is an empty structure.
pub fn cbor_body_to_json(body: &[u8]) -> Result<Json, ApiError> {
    if body.is_empty() {
        return Ok(Json::Object(Default::default()));
    }
    let value: Cbor = ciborium::de::from_reader(body)
        .map_err(|e| ApiError::serialization(format!("malformed CBOR body: {e}")))?;
    let json = cbor_to_json(value, 0)?;
    if !json.is_object() {
        return Err(ApiError::serialization("request body must be a CBOR map"));
    }
    Ok(json)
}

fn cbor_to_json(value: Cbor, depth: u32) -> Result<Json, ApiError> {
    if depth > 64 {
        return Err(ApiError::serialization("CBOR nesting too deep"));
    }
    Ok(match value {
        Cbor::Integer(i) => {
            let i = i128::from(i);
            if let Ok(v) = i64::try_from(i) {
                Json::from(v)
            } else if let Ok(v) = u64::try_from(i) {
                Json::from(v)
            } else {
                return Err(ApiError::serialization("integer out of range"));
            }
        }
        Cbor::Float(f) => serde_json::Number::from_f64(f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Cbor::Text(s) => Json::String(s),
        Cbor::Bytes(_) => {
            return Err(ApiError::serialization(
                "blobs are not accepted by these operations",
            ));
        }
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Null => Json::Null,
        Cbor::Tag(_, inner) => cbor_to_json(*inner, depth + 1)?,
        Cbor::Array(items) => Json::Array(
            items
                .into_iter()
                .map(|v| cbor_to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Cbor::Map(pairs) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in pairs {
                let Cbor::Text(k) = k else {
                    return Err(ApiError::serialization("CBOR map keys must be text"));
                };
                // Smithy: a null member is the same as an absent one.
                let v = cbor_to_json(v, depth + 1)?;
                if !v.is_null() {
                    obj.insert(k, v);
                }
            }
            Json::Object(obj)
        }
        _ => return Err(ApiError::serialization("unsupported CBOR value")),
    })
}

/// Decodes an AWS JSON 1.1 request body. An empty body is an empty structure.
pub fn json_body(body: &[u8]) -> Result<Json, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Json::Object(Default::default()));
    }
    let v: Json = serde_json::from_slice(body)
        .map_err(|e| ApiError::serialization(format!("malformed JSON body: {e}")))?;
    match v {
        Json::Object(mut m) => {
            m.retain(|_, v| !v.is_null());
            Ok(Json::Object(m))
        }
        _ => Err(ApiError::serialization(
            "request body must be a JSON object",
        )),
    }
}

/// Encodes a CBOR value to bytes.
pub fn cbor_bytes(value: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail for values we build ourselves.
    if ciborium::ser::into_writer(value, &mut out).is_err() {
        out.clear();
    }
    out
}

/// The error document both protocols send: `{"__type": code, "message": message}`.
pub fn error_doc(err: &ApiError) -> Doc {
    Doc::map()
        .with("__type", err.code.as_str())
        .with("message", err.message.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_cbor_is_a_serialization_error() {
        let err = cbor_body_to_json(&[0xff, 0x00, 0x13]).expect_err("garbage");
        assert_eq!(err.code, "SerializationException");
    }

    #[test]
    fn timestamps_encode_as_tag_one() {
        let c = Doc::Time(1_000_500).to_cbor();
        assert!(matches!(c, Cbor::Tag(1, _)));
    }
}

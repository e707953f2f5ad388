//! cargo-fuzz target `query_parser` (R08). The body is shared with the reliability suite, which replays
//! `fuzz/corpus/query_parser/` on stable: `crates/fleet-reliability/src/fuzzing.rs`.
#![no_main]

#[path = "../../crates/fleet-reliability/src/fuzzing.rs"]
#[allow(dead_code)]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::query_parser(data));

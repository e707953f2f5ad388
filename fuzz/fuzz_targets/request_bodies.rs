//! cargo-fuzz target `request_bodies` (R08). The body is shared with the reliability suite, which replays
//! `fuzz/corpus/request_bodies/` on stable: `crates/fleet-reliability/src/fuzzing.rs`.
#![no_main]

#[path = "../../crates/fleet-reliability/src/fuzzing.rs"]
#[allow(dead_code)]
mod fuzzing;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzzing::request_bodies(data));

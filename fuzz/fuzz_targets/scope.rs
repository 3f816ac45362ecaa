//! `cargo fuzz run scope`: the invariants live in `jeton_testkit::fuzzing::scope`, shared with the
//! seed replay test `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::scope(data));

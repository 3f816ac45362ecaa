//! `cargo fuzz run form`: the invariants live in `jeton_testkit::fuzzing::form`, shared with the
//! seed replay test `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::form(data));

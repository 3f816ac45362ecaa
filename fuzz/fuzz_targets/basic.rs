//! `cargo fuzz run basic`: the invariants live in `jeton_testkit::fuzzing::basic`, shared with the
//! seed replay test `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::basic(data));

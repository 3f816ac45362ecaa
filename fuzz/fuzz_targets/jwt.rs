//! `cargo fuzz run jwt`: the invariants live in `jeton_testkit::fuzzing::jwt`, shared with the
//! seed replay test `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::jwt(data));

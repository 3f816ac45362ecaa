//! `cargo fuzz run keyauth`: client assertions (RFC 7523) and DPoP proofs (RFC 9449); the
//! invariants live in `jeton_testkit::fuzzing::keyauth`, shared with the seed replay test
//! `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::keyauth(data));

//! `cargo fuzz run resource_request`: a request to a protected API route (RFC 6750, RFC 9449 §7);
//! the invariants live in `jeton_testkit::fuzzing::resource_request`, shared with the seed
//! replay test `crates/jeton/tests/fuzz_corpus.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jeton_testkit::fuzzing::resource_request(data));

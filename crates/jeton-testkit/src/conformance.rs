//! The raw-HTTP conformance table every adapter runs against a live server.
//!
//! Filled in with the first adapter (jeton-hyper).

//! The `jeton` binary; everything is in the `jeton_server` library.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    jeton_server::run()
}

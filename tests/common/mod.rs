//! Shared by the integration tests that drive the built binary.

use assert_cmd::Command;

/// The `adskew` binary with a clean environment: no `ADSKEW_*` override or `RUST_LOG` from
/// the developer's shell may leak into what a test checks.
pub fn adskew() -> Command {
    let mut cmd = Command::cargo_bin("adskew").unwrap();
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
        cmd.env_remove(k);
    }
    cmd.env_remove("RUST_LOG");
    cmd
}

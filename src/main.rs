//! The `adskew` binary: parse the command line, run the command, map the outcome to an
//! exit code (0 ok, 2 bad input, 3 database busy, 4 invalid or expired token, 1 any other
//! failure; `Error::exit_code`). All logic lives in the library.

use clap::Parser;

fn main() {
    restore_sigpipe();
    let cli = adskew::cli::Cli::parse();
    adskew::commands::init_logging(cli.verbose, cli.log_file().as_deref());
    match adskew::commands::execute(cli) {
        Ok(()) => std::process::exit(adskew::error::EXIT_OK),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

/// Rust ignores SIGPIPE, so `adskew status | head` would panic on a closed pipe. Restore
/// the default so the process ends quietly, like other Unix tools.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

//! The `adskew` binary: parse the command line, run the command, map the outcome to an
//! exit code (0 ok, 2 bad input, 1 any other failure). All logic lives in the library.

use clap::Parser;

fn main() {
    let cli = adskew::cli::Cli::parse();
    adskew::commands::init_logging(cli.verbose);
    match adskew::commands::execute(cli) {
        Ok(()) => std::process::exit(adskew::error::EXIT_OK),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

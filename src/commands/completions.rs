//! `adskew completions` and `adskew man`: shell completions and manual pages, generated
//! from the same clap definitions as `--help`, so they never disagree with it.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::{Error, Result};

pub fn completions(args: CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "adskew", &mut std::io::stdout());
    Ok(())
}

pub fn man(args: ManArgs) -> Result<()> {
    let command = Cli::command();
    let Some(dir) = args.out else {
        return render(&command, &mut std::io::stdout())
            .map_err(|e| Error::io("cannot write the manual page", e));
    };
    if dir.exists() && !dir.is_dir() {
        return Err(Error::BadInput(format!(
            "--out {}: is a file, not a folder; give a folder for the pages (e.g. --out man)",
            dir.display()
        )));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    for (name, page) in pages(command) {
        let path = dir.join(format!("{name}.1"));
        write_page(&page, &path)?;
        println!("{}", path.display());
    }
    Ok(())
}

/// The main page and one per command (`adskew-run`, `adskew-audience-upload`, ...), each
/// named as `man` finds it and showing how it is typed (`adskew audience upload`).
fn pages(command: clap::Command) -> Vec<(String, clap::Command)> {
    let mut pages = Vec::new();
    collect(command, "adskew", "adskew", &mut pages);
    pages
}

fn collect(
    command: clap::Command,
    name: &str,
    typed: &str,
    pages: &mut Vec<(String, clap::Command)>,
) {
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let sub_name = format!("{name}-{}", sub.get_name());
        let sub_typed = format!("{typed} {}", sub.get_name());
        let page = sub
            .clone()
            .display_name(sub_name.clone())
            .bin_name(sub_typed.clone());
        collect(page, &sub_name, &sub_typed, pages);
    }
    pages.push((name.to_string(), command));
}

fn write_page(command: &clap::Command, path: &Path) -> Result<()> {
    let mut file = std::fs::File::create(path)
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    render(command, &mut file).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

fn render(command: &clap::Command, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    clap_mangen::Man::new(command.clone()).render(out)
}

//! Where logs go: stderr, and for commands that act on runs a JSON log next to the database.

use std::path::Path;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

/// Logs go to stderr (RUST_LOG wins over -v) and, for commands that act on runs, also as
/// JSON lines (info and above) to `adskew.log` next to the database: a record of what each
/// unattended night did, kept with the data it concerns.
pub fn init_logging(verbose: u8, log_file: Option<&Path>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let default = match verbose {
        0 => "adskew=warn",
        1 => "adskew=info",
        _ => "adskew=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour only on a terminal: cron mails and systemd journals get plain text.
        .with_ansi(colour_on_stderr())
        .with_target(false)
        .with_filter(filter);
    let file = log_file.map(|path| {
        let log = LazyLog(Arc::new((path.to_path_buf(), std::sync::Mutex::new(None))));
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(move || log.clone())
            .with_filter(EnvFilter::new("adskew=info"))
    });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init();
}

/// The log file, opened (and its folder created) only when the first line is written, so a
/// command that fails validation or makes a dry run leaves nothing behind.
#[derive(Clone)]
struct LazyLog(Arc<(std::path::PathBuf, std::sync::Mutex<Option<std::fs::File>>)>);

impl std::io::Write for LazyLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (path, file) = &*self.0;
        let mut file = file.lock().map_err(|_| std::io::Error::other("log lock"))?;
        if file.is_none() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            *file = Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            );
        }
        file.as_mut().expect("opened above").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0 .1.lock() {
            Ok(mut f) => f.as_mut().map_or(Ok(()), std::io::Write::flush),
            Err(_) => Ok(()),
        }
    }
}

/// Whether stderr is a terminal and the user has not asked for no colour
/// (<https://no-color.org>).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

//! `adskew mock-server` driven by Meta's official Business SDKs, unchanged but for the base
//! URL: the Python SDK (`tests/sdk/python/lifecycle.py`) and the Node.js SDK
//! (`tests/sdk/node/lifecycle.js`) each run a whole ad-delivery audit (create, read back,
//! update, list, insights sync and async, batch, custom audience, archive, delete) and the
//! rules Meta enforces, each check against Meta's documented behaviour. Each SDK gets a fresh
//! mock from a fixed start. The SDKs are installed by `bash scripts/install-test-deps.sh`;
//! without them these tests fail (never skip).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The mock's clock at start.
const START: &str = "2026-03-02T00:00:00Z";
/// How long one SDK's whole lifecycle may take (it takes seconds).
const SDK_TIMEOUT: Duration = Duration::from_secs(120);
const INSTALL_HINT: &str = "run `bash scripts/install-test-deps.sh` (installs the pinned SDKs)";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `adskew mock-server` as a child process, killed when dropped.
struct Mock {
    child: Child,
    /// `http://127.0.0.1:PORT`, as the server printed it.
    origin: String,
    /// The server's stderr (its log), shown when a lifecycle fails.
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Mock {
    fn start() -> Mock {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("mock-server.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_adskew"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADSKEW_")) {
            command.env_remove(k);
        }
        let mut child = command
            .env_remove("RUST_LOG")
            .current_dir(dir.path())
            .args(["mock-server", "--addr", "127.0.0.1:0", "--start", START])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .expect("cannot start adskew mock-server");
        // A line says where it listens: "Mock Graph API on http://127.0.0.1:PORT/v27.0/ ...".
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines
                .by_ref()
                .find(|l| l.as_ref().map_or(true, |l| l.contains("http://")));
            let _ = tx.send(first);
            // Keep reading so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let mut mock = Mock {
            child,
            origin: String::new(),
            log,
            _dir: dir,
        };
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(line))) => line,
            other => panic!(
                "mock-server printed no address ({other:?}); its log:\n{}",
                mock.log_text()
            ),
        };
        let at = line
            .find("http://")
            .unwrap_or_else(|| panic!("no URL in the mock-server's first line: {line}"));
        let url = &line[at..];
        let end = url[7..].find('/').map_or(url.len(), |i| i + 7);
        mock.origin = url[..end].to_string();
        mock
    }

    fn log_text(&self) -> String {
        let mut text = String::new();
        let _ = File::open(&self.log).and_then(|mut f| f.read_to_string(&mut text));
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Runs one SDK's lifecycle script against a fresh mock and asserts it passed every check.
fn run_lifecycle(sdk: &str, program: &Path, script: &Path) {
    let mock = Mock::start();
    let out_dir = tempfile::tempdir().unwrap();
    let out_path = out_dir.path().join("out.txt");
    let mut child = Command::new(program)
        .arg(script)
        .current_dir(root())
        .env("ADSKEW_MOCK_URL", &mock.origin)
        .env("ADSKEW_MOCK_TOKEN", "sdk-test-token")
        .env("ADSKEW_MOCK_ACCOUNT", "act_1")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(out_dir.path().join("err.txt")).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); {INSTALL_HINT}", program.display()));
    let deadline = Instant::now() + SDK_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(out_dir.path().join("err.txt")).unwrap_or_default();
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.ends_with(" failed") && l.contains(" passed, "))
        .unwrap_or("no summary line")
        .to_string();
    let verdict = match status {
        None => format!("timed out after {SDK_TIMEOUT:?}"),
        Some(s) if s.success() && summary.ends_with(" 0 failed") => return,
        Some(s) => format!("exited with {s}"),
    };
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    panic!(
        "the {sdk} SDK lifecycle {verdict}: {summary}\n\
         failed checks:\n{}\n\n--- full output ---\n{stdout}\n--- stderr ---\n{stderr}\n\
         --- mock-server log (last lines) ---\n{}",
        failed.join("\n"),
        mock.log_text()
    );
}

#[test]
fn python_business_sdk_runs_the_audit_lifecycle() {
    let python = root().join("target/sdk/venv/bin/python");
    assert!(
        python.exists(),
        "Meta's Python SDK is not installed ({} is missing): {INSTALL_HINT}",
        python.display()
    );
    let probe = Command::new(&python)
        .args(["-c", "import facebook_business"])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "facebook_business does not import in {}: {INSTALL_HINT}\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    run_lifecycle(
        "Python",
        &python,
        &root().join("tests/sdk/python/lifecycle.py"),
    );
}

#[test]
fn node_business_sdk_runs_the_audit_lifecycle() {
    let sdk = root().join("tests/sdk/node/node_modules/facebook-nodejs-business-sdk");
    assert!(
        sdk.join("package.json").exists(),
        "Meta's Node.js SDK is not installed ({} is missing): {INSTALL_HINT}",
        sdk.display()
    );
    let node = PathBuf::from("node");
    let probe = Command::new(&node).arg("--version").output();
    assert!(
        probe.as_ref().is_ok_and(|o| o.status.success()),
        "node does not run ({probe:?}): {INSTALL_HINT}"
    );
    run_lifecycle(
        "Node.js",
        &node,
        &root().join("tests/sdk/node/lifecycle.js"),
    );
}

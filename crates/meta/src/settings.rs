//! Account-level settings: which ad account, page and API version to use, and where the
//! token is. They live outside experiment files (an experiment is shared and published; an
//! account is not), layered with the `config` crate: `--config FILE`, else `./adskew.toml`,
//! else `~/.config/adskew/config.toml`; then environment variables.
//!
//! ```toml
//! database = "/data/audit/adskew.db"     # default database (else results/adskew.db)
//!
//! [meta]
//! ad_account_id = "act_1234567890"
//! page_id = "1234567890"
//! api_version = "v27.0"                  # default: the newest Meta has released
//! base_url = "https://graph.facebook.com" # default; a loopback URL for the mock server
//! token_file = "~/.config/adskew/meta-token"
//! app_secret_file = "~/.config/adskew/meta-app-secret"  # optional: sends appsecret_proof
//! dsa_beneficiary = "Example University"  # both required by Meta for ad sets reaching the EU
//! dsa_payor = "Example University"
//!
//! [alerts]                               # optional: being told when a nightly pass meets trouble
//! command = "mail -s adskew me@example.org"  # run with sh -c, the alert as JSON on stdin
//! webhook = "https://hooks.example.org/adskew"  # the alert POSTed as JSON
//! on = ["collection_failed", "run_failed", "cap_reached", "ad_rejected", "pause_failed"]
//! ```
//!
//! `[alerts]` is `adskew_core::alerts::AlertSettings`; `collect` and `daemon` deliver them.
//!
//! Environment: `ADSKEW_META__AD_ACCOUNT_ID`, `ADSKEW_META__PAGE_ID`,
//! `ADSKEW_META__API_VERSION`, `ADSKEW_META__BASE_URL`, `ADSKEW_META__TOKEN_FILE`,
//! `ADSKEW_META__MAX_CALLS_PER_SECOND` (client-side limiter, default 5),
//! `ADSKEW_META__APP_SECRET_FILE`, `ADSKEW_META__ASYNC_AFTER_DAYS` (insights over longer
//! ranges are read as async report runs, default 28), `ADSKEW_META__ASYNC_TIMEOUT_MINUTES`
//! (how long one insights read may take through async report runs in all, its failed runs
//! split and run again in parts included; default 60). The token itself comes only from `ADSKEW_META_TOKEN` or the
//! token file (the app secret from `ADSKEW_META_APP_SECRET` or its file), never from a settings or
//! experiment file, and is held as a [`Secret`] that never prints.

use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

use crate::adapter::{MetaConfig, Secret};
use adskew_core::alerts::AlertSettings;
use adskew_core::error::{Error, Result};

use crate::adapter::defaults;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The default database, when neither `--db` nor `ADSKEW_DB` names one.
    pub database: Option<PathBuf>,
    #[serde(default)]
    pub meta: MetaSettings,
    /// Where `collect` and `daemon` send alerts (a command, a webhook), and which.
    #[serde(default)]
    pub alerts: AlertSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaSettings {
    pub ad_account_id: Option<String>,
    pub page_id: Option<String>,
    #[serde(default = "default_version")]
    pub api_version: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    pub token_file: Option<PathBuf>,
    /// A file holding the app secret; with it every call carries `appsecret_proof`.
    pub app_secret_file: Option<PathBuf>,
    /// Client-side ceiling on calls per second, each call inside a batch counted (default 5).
    #[serde(default = "default_rate")]
    pub max_calls_per_second: u32,
    /// Insights over more days than this are read as async report runs (default 28).
    #[serde(default = "default_async_after_days")]
    pub async_after_days: u32,
    /// How long one insights read may take through async report runs in all, parts of
    /// failed runs included, before the collection fails (minutes, default 60).
    #[serde(default = "default_async_timeout_minutes")]
    pub async_timeout_minutes: u32,
    /// The DSA beneficiary and payor (usually the research organisation) Meta requires on
    /// ad sets that reach the EU; both or neither.
    pub dsa_beneficiary: Option<String>,
    pub dsa_payor: Option<String>,
    /// Keep the time of `adskew mock-server` (its simulated clock) instead of the real
    /// one; only with a plain-http loopback `base_url`. Never set for a real account.
    #[serde(default)]
    pub mock_clock: bool,
}

// Every default is `adapter::defaults`, which `MetaConfig::new` uses too.
fn default_async_after_days() -> u32 {
    defaults::ASYNC_AFTER_DAYS
}

fn default_async_timeout_minutes() -> u32 {
    defaults::ASYNC_TIMEOUT_MINUTES
}

fn default_rate() -> u32 {
    defaults::MAX_CALLS_PER_SECOND
}

impl Default for MetaSettings {
    fn default() -> Self {
        MetaSettings {
            ad_account_id: None,
            page_id: None,
            api_version: default_version(),
            base_url: default_base_url(),
            token_file: None,
            app_secret_file: None,
            max_calls_per_second: default_rate(),
            async_after_days: default_async_after_days(),
            async_timeout_minutes: default_async_timeout_minutes(),
            dsa_beneficiary: None,
            dsa_payor: None,
            mock_clock: false,
        }
    }
}

fn default_version() -> String {
    crate::versions::LATEST.to_string()
}

fn default_base_url() -> String {
    defaults::BASE_URL.to_string()
}

/// `~/x` as `$HOME/x`, as the settings examples write paths.
fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// A secret from the environment, else from its file (`~` expanded); blank counts as none.
fn secret(from_env: Option<String>, file: Option<&Path>, what: &str) -> Result<Option<String>> {
    if let Some(t) = from_env.filter(|t| !t.trim().is_empty()) {
        return Ok(Some(t.trim().to_string()));
    }
    let Some(file) = file else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(expand_home(file)).map_err(|e| {
        Error::BadInput(format!(
            "cannot read the {what} file {}: {e}",
            file.display()
        ))
    })?;
    Ok(Some(text.trim().to_string()).filter(|t| !t.is_empty()))
}

/// The settings file to read: the one given, else `./adskew.toml`, else the user's.
fn settings_file(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let local = PathBuf::from("adskew.toml");
    if local.is_file() {
        return Some(local);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    let user = home.join(".config/adskew/config.toml");
    user.is_file().then_some(user)
}

/// The keys of `[meta]`, for the variable meant by a misspelt `ADSKEW_META__*`.
const META_KEYS: &[&str] = &[
    "ad_account_id",
    "page_id",
    "api_version",
    "base_url",
    "token_file",
    "app_secret_file",
    "max_calls_per_second",
    "async_after_days",
    "async_timeout_minutes",
    "dsa_beneficiary",
    "dsa_payor",
    "mock_clock",
];

/// An unknown setting that an `ADSKEW_META__*` variable (one of `names`) introduced, named
/// as the variable with the one meant, rather than blamed on the settings file.
fn misnamed_variable(message: &str, names: &[String]) -> Option<Error> {
    let var = names.iter().find(|var| {
        let key = var.trim_start_matches("ADSKEW_META__").to_ascii_lowercase();
        message.contains(&format!("unknown field `{key}`"))
    })?;
    let key = var.trim_start_matches("ADSKEW_META__").to_ascii_lowercase();
    let fix = match adskew_core::experiment::read::closest(&key, META_KEYS) {
        Some(meant) => format!("did you mean ADSKEW_META__{}?", meant.to_ascii_uppercase()),
        None => "unset it; the settings section of README.md lists the variables".to_string(),
    };
    Some(Error::BadInput(format!(
        "environment variable {var} names no setting ({fix})"
    )))
}

impl Settings {
    /// Loads settings from the file (if any) and the process environment.
    pub fn load(explicit: Option<&Path>) -> Result<Settings> {
        Settings::load_with_env(explicit, std::env::vars())
    }

    pub fn load_with_env(
        explicit: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings> {
        let mut builder = Config::builder();
        if let Some(file) = settings_file(explicit) {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Error::BadInput(format!("cannot read settings file {}: {e}", file.display()))
            })?;
            builder = builder.add_source(File::from_str(&text, FileFormat::Toml));
        }
        // Only ADSKEW_META__* addresses settings; ADSKEW_META_TOKEN is read separately, and
        // ADSKEW_DB is `--db` (clap), which wins over the file's `database`.
        let vars: std::collections::HashMap<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("ADSKEW_META__"))
            .collect();
        let names: Vec<String> = vars.keys().cloned().collect();
        builder = builder.add_source(
            Environment::with_prefix("ADSKEW")
                .prefix_separator("_")
                .separator("__")
                .source(Some(vars)),
        );
        let built = builder
            .build()
            .map_err(|e| Error::BadInput(format!("settings: {e}")))?;
        let settings: Settings = built.try_deserialize().map_err(|e| {
            misnamed_variable(&e.to_string(), &names).unwrap_or_else(|| {
                Error::BadInput(format!(
                    "settings: {e} (see the settings section of README.md for the fields)"
                ))
            })
        })?;
        settings.meta.check_rate()?;
        settings.alerts.check()?;
        Ok(settings)
    }

    /// Everything the Meta adapter needs, or a message naming what is missing. The app
    /// secret, if any, comes from `ADSKEW_META_APP_SECRET` or `meta.app_secret_file`.
    pub fn meta_config(&self, token_from_env: Option<String>) -> Result<MetaConfig> {
        self.meta_config_with(token_from_env, std::env::var("ADSKEW_META_APP_SECRET").ok())
    }

    /// [`Settings::meta_config`] with the secrets given rather than read from the process.
    pub fn meta_config_with(
        &self,
        token_from_env: Option<String>,
        app_secret_from_env: Option<String>,
    ) -> Result<MetaConfig> {
        let m = &self.meta;
        let mut missing = Vec::new();
        let account = m.account(&mut missing)?;
        let page_id = m.page_id.clone().unwrap_or_default();
        if page_id.is_empty() {
            missing.push("meta.page_id (or ADSKEW_META__PAGE_ID)".to_string());
        }
        m.check_version()?;
        m.check_rate()?;
        let token = secret(token_from_env, m.token_file.as_deref(), "token")?;
        let app_secret = secret(
            app_secret_from_env,
            m.app_secret_file.as_deref(),
            "app secret",
        )?;
        if token.is_none() {
            missing.push("an access token (ADSKEW_META_TOKEN, or meta.token_file)".to_string());
        }
        if !missing.is_empty() {
            return Err(Error::BadInput(format!(
                "Meta settings are incomplete; missing: {}",
                missing.join("; ")
            )));
        }
        let mut config = MetaConfig::new(
            &m.base_url,
            &account,
            &page_id,
            Secret::new(token.unwrap_or_default()),
        );
        config.version = m.api_version.clone();
        config.max_calls_per_second = m.max_calls_per_second;
        config.async_after_days = m.async_after_days;
        config.async_timeout =
            std::time::Duration::from_secs(60 * u64::from(m.async_timeout_minutes.max(1)));
        config.app_secret = app_secret.map(Secret::new);
        config.dsa = m.dsa()?;
        config.check().map_err(|e| Error::BadInput(e.to_string()))?;
        m.check_mock_clock()?;
        config.mock_clock = m.mock_clock;
        Ok(config)
    }
}

impl MetaSettings {
    /// The ad account as written; an absent one is added to `missing` (reported together
    /// with the other missing settings), one that is not digits is refused at once.
    fn account(&self, missing: &mut Vec<String>) -> Result<String> {
        let account = self.ad_account_id.clone().unwrap_or_default();
        let digits = account.strip_prefix("act_").unwrap_or(&account);
        if digits.is_empty() {
            missing.push("meta.ad_account_id (or ADSKEW_META__AD_ACCOUNT_ID)".to_string());
        } else if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::BadInput(format!(
                "meta.ad_account_id `{account}` must be digits, optionally prefixed act_"
            )));
        }
        Ok(account)
    }

    /// `api_version` looks like `v23.0` and is neither retired nor unreleased today.
    fn check_version(&self) -> Result<()> {
        let version_ok = self
            .api_version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit())
            });
        if !version_ok {
            return Err(Error::BadInput(format!(
                "meta.api_version `{}` must look like {}",
                self.api_version,
                crate::versions::LATEST
            )));
        }
        retired_version(&self.api_version, chrono::Utc::now().date_naive())
    }

    /// The DSA beneficiary and payor: both or neither, as Meta requires the pair.
    fn dsa(&self) -> Result<Option<crate::adapter::Dsa>> {
        match (&self.dsa_beneficiary, &self.dsa_payor) {
            (Some(b), Some(p)) => Ok(Some(crate::adapter::Dsa {
                beneficiary: b.clone(),
                payor: p.clone(),
            })),
            (None, None) => Ok(None),
            _ => Err(Error::BadInput(
                "settings: give both meta.dsa_beneficiary and meta.dsa_payor (Meta requires the pair on ad sets that reach the EU), or neither".into(),
            )),
        }
    }

    /// A ceiling of 0 calls per second would allow none; refused rather than read as 1.
    fn check_rate(&self) -> Result<()> {
        if self.max_calls_per_second == 0 {
            return Err(Error::BadInput(format!(
                "settings: meta.max_calls_per_second (or ADSKEW_META__MAX_CALLS_PER_SECOND) is \
                 0, which would allow no call at all: set it to at least 1, or remove it for \
                 the default of {}",
                defaults::MAX_CALLS_PER_SECOND
            )));
        }
        Ok(())
    }

    /// The mock's clock is only for a mock server on this machine, never a real account.
    fn check_mock_clock(&self) -> Result<()> {
        if self.mock_clock && !self.base_url.starts_with("http://") {
            return Err(Error::BadInput(format!(
                "meta.mock_clock is for `adskew mock-server` on this machine, but meta.base_url is {}: \
                 remove mock_clock for a real account",
                self.base_url
            )));
        }
        Ok(())
    }
}

/// Refuses a version Meta has retired (calls to it fail) or not yet released.
fn retired_version(text: &str, today: chrono::NaiveDate) -> Result<()> {
    use crate::versions::{Version, LATEST};
    let Some(v) = Version::parse(text) else {
        return Ok(());
    };
    if !v.is_released() {
        return Err(Error::BadInput(format!(
            "meta.api_version {text} is not released yet; the newest is {LATEST}"
        )));
    }
    match v.last_day() {
        Some(last) if last < today => Err(Error::BadInput(format!(
            "meta.api_version {text} was retired by Meta on {last}: calls to it fail; set meta.api_version = \"{LATEST}\" (or remove it for the default)"
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("adskew.toml");
        std::fs::write(
            &file,
            "[meta]\nad_account_id = \"act_1000\"\npage_id = \"2000\"\n",
        )
        .unwrap();
        let s = Settings::load_with_env(
            Some(&file),
            env(&[
                ("ADSKEW_META__PAGE_ID", "3000"),
                ("ADSKEW_DB", "x"),
                ("ADSKEW_META__ASYNC_TIMEOUT_MINUTES", "90"),
            ]),
        )
        .unwrap();
        assert_eq!(s.meta.ad_account_id.as_deref(), Some("act_1000"));
        assert_eq!(s.meta.page_id.as_deref(), Some("3000"), "environment wins");
        assert_eq!(s.meta.api_version, crate::versions::LATEST);
        assert_eq!(s.database, None);
        let config = s.meta_config(Some("tok".into())).unwrap();
        assert_eq!(format!("{:?}", config.token), "[redacted]");
        assert_eq!(
            config.async_timeout,
            std::time::Duration::from_secs(90 * 60)
        );
        assert_eq!(MetaSettings::default().async_timeout_minutes, 60);
    }

    /// The mock's clock is kept only when asked for, and never with a real account's URL.
    #[test]
    fn the_mock_clock_is_explicit_and_local_only() {
        let base = [
            ("ADSKEW_META__AD_ACCOUNT_ID", "act_1000"),
            ("ADSKEW_META__PAGE_ID", "2000"),
        ];
        let load = |extra: &[(&str, &str)]| {
            let mut pairs = base.to_vec();
            pairs.extend_from_slice(extra);
            Settings::load_with_env(None, env(&pairs)).unwrap()
        };
        let local = [("ADSKEW_META__BASE_URL", "http://127.0.0.1:8787")];
        assert!(
            !load(&local)
                .meta_config(Some("t".into()))
                .unwrap()
                .mock_clock
        );
        let mock = [
            ("ADSKEW_META__BASE_URL", "http://127.0.0.1:8787"),
            ("ADSKEW_META__MOCK_CLOCK", "true"),
        ];
        assert!(
            load(&mock)
                .meta_config(Some("t".into()))
                .unwrap()
                .mock_clock
        );
        let err = load(&[("ADSKEW_META__MOCK_CLOCK", "true")])
            .meta_config(Some("t".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mock_clock") && err.contains("graph.facebook.com"),
            "{err}"
        );
    }

    #[test]
    fn token_from_file_and_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "  abc\n").unwrap();
        let mut s = Settings::default();
        let err = s.meta_config(None).unwrap_err().to_string();
        assert!(
            err.contains("meta.ad_account_id")
                && err.contains("meta.page_id")
                && err.contains("ADSKEW_META_TOKEN"),
            "{err}"
        );
        s.meta.ad_account_id = Some("1000".into());
        s.meta.page_id = Some("2000".into());
        s.meta.token_file = Some(token);
        assert_eq!(s.meta_config(None).unwrap().token.expose(), "abc");
        s.meta.base_url = "http://graph.facebook.com".into();
        assert!(s
            .meta_config(None)
            .unwrap_err()
            .to_string()
            .contains("https"));
        s.meta.base_url = "https://graph.facebook.com".into();
        s.meta.api_version = "25".into();
        assert!(s
            .meta_config(None)
            .unwrap_err()
            .to_string()
            .contains(crate::versions::LATEST));
        assert!(retired_version(
            "v24.0",
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        )
        .unwrap_err()
        .to_string()
        .contains("retired"));
        assert!(retired_version(
            "v25.0",
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        )
        .is_ok());
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if let Some(home) = home {
            assert_eq!(expand_home(Path::new("~/t")), home.join("t"));
        }
        assert_eq!(expand_home(Path::new("/a/~/t")), PathBuf::from("/a/~/t"));
    }

    /// A misspelt variable is named, with the one meant, not blamed on the file.
    #[test]
    fn a_misspelt_variable_is_named_with_the_one_meant() {
        let env = vec![("ADSKEW_META__AD_ACOUNT_ID".to_string(), "act_1".to_string())];
        let err = Settings::load_with_env(None, env).unwrap_err();
        assert_eq!(err.exit_code(), adskew_core::error::EXIT_BAD_INPUT);
        let err = err.to_string();
        assert!(err.contains("ADSKEW_META__AD_ACOUNT_ID"), "{err}");
        assert!(
            err.contains("did you mean ADSKEW_META__AD_ACCOUNT_ID?"),
            "{err}"
        );
    }

    /// `max_calls_per_second = 0` is refused like -1, naming the setting and the fix,
    /// whether it comes from the file or the environment.
    #[test]
    fn zero_calls_per_second_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("adskew.toml");
        std::fs::write(&file, "[meta]\nmax_calls_per_second = 0\n").unwrap();
        let err = Settings::load_with_env(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("meta.max_calls_per_second") && err.contains("at least 1"),
            "{err}"
        );
        let err = Settings::load_with_env(None, env(&[("ADSKEW_META__MAX_CALLS_PER_SECOND", "0")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ADSKEW_META__MAX_CALLS_PER_SECOND"), "{err}");
        std::fs::write(&file, "[meta]\nmax_calls_per_second = 1\n").unwrap();
        let s = Settings::load_with_env(Some(&file), Vec::new()).unwrap();
        assert_eq!(s.meta.max_calls_per_second, 1);
    }

    /// The `[alerts]` table is read and checked with the rest of the file.
    #[test]
    fn the_alerts_table_is_read_and_checked() {
        use adskew_core::alerts::AlertKind;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("adskew.toml");
        std::fs::write(
            &file,
            "[alerts]\ncommand = \"cat\"\non = [\"cap_reached\", \"pause_failed\"]\n",
        )
        .unwrap();
        let s = Settings::load_with_env(Some(&file), Vec::new()).unwrap();
        assert_eq!(
            s.alerts.on,
            Some(vec![AlertKind::CapReached, AlertKind::PauseFailed])
        );
        std::fs::write(&file, "[alerts]\ncommand = \"cat\"\non = [\"cap\"]\n").unwrap();
        let err = Settings::load_with_env(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("alerts.on") && err.contains("`cap`") && err.contains("cap_reached"),
            "{err}"
        );
        std::fs::write(&file, "[alerts]\nwebhook = \"http://example.org/x\"\n").unwrap();
        let err = Settings::load_with_env(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("alerts.webhook") && err.contains("https"),
            "{err}"
        );
    }

    #[test]
    fn unknown_settings_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("adskew.toml");
        std::fs::write(&file, "[meta]\naccess_token = \"oops\"\n").unwrap();
        let err = Settings::load_with_env(Some(&file), Vec::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("access_token"), "{err}");
    }
}

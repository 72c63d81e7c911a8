//! The command line, as clap derives it. Help texts here are the user's manual at hand:
//! they say what each command does, what it writes and what it costs.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `adskew --version`: the release, the commit it was built from and the build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ADSKEW_COMMIT"),
    ", built ",
    env!("ADSKEW_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "adskew",
    version = VERSION,
    about = "Measure demographic skew in ad delivery",
    long_about = "adskew runs ad-delivery audits end to end: it reads an experiment written in TOML, \
launches its ads together with identical targeting, collects delivery breakdowns (gender, age, \
region) into SQLite, tests for skew (chi-square, two-proportion z) and writes charts and tables \
for a paper.\n\nThe default platform is a simulator: no account, no token, no network, no money.",
    after_help = "Examples:\n  adskew validate campaigns/imana2021_paired_jobs.toml\n  adskew run campaigns/imana2021_paired_jobs.toml\n  adskew status\n  adskew analyze imana2021-paired-jobs --json\n\nExit codes: 0 ok; 2 bad input (nothing was created, spent or written); 3 database busy; 4 the access token is invalid or expired (make a new one); 1 other failure while running.\nLogs: set RUST_LOG (e.g. RUST_LOG=adskew=debug) or pass -v."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Where commands that act on runs (run, resume, collect, stop, daemon) log: `adskew.log`
    /// next to their database.
    pub fn log_file(&self) -> Option<PathBuf> {
        let db = match &self.command {
            Command::Run(RunArgs { db, .. })
            | Command::Resume(ResumeArgs { db, .. })
            | Command::Collect(CollectArgs { db, .. })
            | Command::Stop(StopArgs { db, .. })
            | Command::Daemon(DaemonArgs { db, .. }) => db,
            _ => return None,
        };
        let db = db.path().ok()?;
        Some(
            db.parent()
                .unwrap_or(std::path::Path::new(""))
                .join("adskew.log"),
        )
    }
}

/// Analysis settings given on the command line, over the experiment file's `[analysis]`.
/// The stored run is not changed: the same data can be analysed several ways.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AnalysisArgs {
    /// Significance level after correction, in (0, 0.5).
    #[arg(long, value_parser = parse_alpha)]
    pub alpha: Option<f64>,
    /// Multiple-comparison correction across all tests: none, bonferroni, holm or bh.
    #[arg(long, value_parser = parse_correction)]
    pub correction: Option<crate::vocab::Correction>,
    /// Interval for each share: wilson, agresti-coull, clopper-pearson or wald.
    #[arg(long, value_parser = parse_ci)]
    pub ci: Option<crate::vocab::CiMethod>,
    /// Confidence level of the intervals, in (0.5, 1).
    #[arg(long, value_parser = parse_level)]
    pub level: Option<f64>,
    /// Apply Yates' continuity correction to 2 × 2 chi-square tests.
    #[arg(long, conflicts_with = "no_yates")]
    pub yates: bool,
    /// Do not apply Yates' correction (the default).
    #[arg(long)]
    pub no_yates: bool,
    /// What is counted: reach (people) or impressions.
    #[arg(long, value_parser = parse_metric)]
    pub metric: Option<crate::vocab::Metric>,
    #[command(flatten)]
    pub p_floor: PFloorArgs,
    /// Expected composition for goodness of fit, e.g. "female=0.5,male=0.5" or
    /// "age:18-24=0.2,25-34=0.3,...". Shares sum to 1. Repeat for more breakdowns; each
    /// replaces the experiment's (or the simulator's) composition for its breakdown.
    #[arg(long, value_name = "GROUP=SHARE,...", value_parser = parse_expected)]
    pub expected: Vec<(crate::vocab::Breakdown, Vec<(String, f64)>)>,
    /// The alternative of the z-test and of Fisher's exact test: two-sided, greater or less
    /// (statsmodels' larger and smaller are read too). greater: the first ad's share of the
    /// group is the larger. For the z-test that is the group it tests (women, or the
    /// pre-registered group) and the first ad is the comparison's first (the one expected
    /// higher when a direction was pre-registered); for Fisher's exact test it is the
    /// table's first group (column) and the comparison's first ad: an odds ratio above 1,
    /// as scipy's fisher_exact(alternative="greater"). Default: two-sided, or greater where
    /// a direction was pre-registered.
    #[arg(long, value_name = "ALTERNATIVE", value_parser = parse_alternative)]
    pub alternative: Option<crate::analysis::ztest::Alternative>,
}

impl AnalysisArgs {
    /// `settings` with the options given applied.
    pub fn apply(&self, settings: &mut crate::experiment::AnalysisSettings) {
        if let Some(a) = self.alpha {
            settings.alpha = a;
        }
        if let Some(c) = self.correction {
            settings.correction = c;
        }
        if let Some(ci) = self.ci {
            settings.ci = ci;
        }
        if let Some(l) = self.level {
            settings.ci_level = l;
        }
        if self.yates {
            settings.yates = true;
        }
        if self.no_yates {
            settings.yates = false;
        }
        if let Some(m) = self.metric {
            settings.metric = m;
        }
        self.p_floor.apply(settings);
        if let Some(a) = self.alternative {
            settings.alternative = Some(a);
        }
        for (breakdown, shares) in &self.expected {
            settings.expected.insert(
                *breakdown,
                crate::experiment::ExpectedComposition {
                    source: "command line".to_string(),
                    shares: shares.clone(),
                },
            );
        }
    }
}

fn parse_format(s: &str) -> Result<crate::report::Format, String> {
    crate::report::Format::parse(s).ok_or_else(|| {
        format!(
            "unknown format `{s}`; use any of: {}",
            crate::report::Format::choices()
        )
    })
}

/// `[BREAKDOWN:]GROUP=SHARE,GROUP=SHARE,...`
fn parse_expected(s: &str) -> Result<(crate::vocab::Breakdown, Vec<(String, f64)>), String> {
    let (hint, list) = match s.split_once(':') {
        Some((b, rest)) if crate::vocab::Breakdown::parse(b).is_some() => {
            (crate::vocab::Breakdown::parse(b), rest)
        }
        _ => (None, s),
    };
    let mut pairs = Vec::new();
    for item in list.split(',').filter(|i| !i.trim().is_empty()) {
        let (group, share) = item
            .split_once('=')
            .ok_or_else(|| format!("`{item}` is not GROUP=SHARE, e.g. female=0.5"))?;
        let share: f64 = share
            .trim()
            .parse()
            .map_err(|_| format!("the share in `{item}` is not a number"))?;
        pairs.push((group.trim().to_string(), share));
    }
    crate::experiment::ExpectedComposition::check(hint, &pairs)
}

fn parse_in(s: &str, lo: f64, hi: f64, what: &str) -> Result<f64, String> {
    let x: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if x > lo && x < hi {
        Ok(x)
    } else {
        Err(format!("{what} must be in ({lo}, {hi}), got {s}"))
    }
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    parse_in(s, 0.0, 0.5, "alpha")
}

fn parse_level(s: &str) -> Result<f64, String> {
    parse_in(s, 0.5, 1.0, "the level")
}

/// `--p-floor`, declared once for `analyze` and `report`.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct PFloorArgs {
    /// The smallest p-value the text and tables print, a power of ten from 1e-300 to 1e-3
    /// (default 1e-16, or the experiment's `[analysis] p_floor`): below it they say
    /// "p < 10⁻¹⁶"; results.json and the CSV tables keep the exact log10 p.
    #[arg(long, value_name = "P", value_parser = parse_p_floor)]
    pub p_floor: Option<f64>,
}

impl PFloorArgs {
    /// `settings` with the floor given, if any.
    pub fn apply(&self, settings: &mut crate::experiment::AnalysisSettings) {
        if let Some(f) = self.p_floor {
            settings.p_floor = f;
        }
    }
}

fn parse_p_floor(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|&f| crate::experiment::p_floor_exponent(f).is_some())
        .ok_or_else(|| {
            format!("`{s}` is not a power of ten from 1e-300 to 1e-3; give e.g. --p-floor 1e-16")
        })
}

fn parse_alternative(s: &str) -> Result<crate::analysis::ztest::Alternative, String> {
    crate::analysis::ztest::Alternative::parse(s)
        .ok_or_else(|| format!("`{s}` is not an alternative; use two-sided, greater or less"))
}

fn parse_correction(s: &str) -> Result<crate::vocab::Correction, String> {
    crate::vocab::Correction::parse(s)
        .ok_or_else(|| format!("use one of: {}", crate::vocab::Correction::choices()))
}

fn parse_ci(s: &str) -> Result<crate::vocab::CiMethod, String> {
    crate::vocab::CiMethod::parse(s)
        .ok_or_else(|| format!("use one of: {}", crate::vocab::CiMethod::choices()))
}

fn parse_metric(s: &str) -> Result<crate::vocab::Metric, String> {
    match crate::vocab::Metric::parse(s) {
        Some(m @ (crate::vocab::Metric::Reach | crate::vocab::Metric::Impressions)) => Ok(m),
        _ => Err("use reach or impressions".to_string()),
    }
}

/// `--json`, declared once for every command that prints results or state.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct OutputArgs {
    /// Print the outcome as JSON on stdout, for scripts (warnings, progress and errors stay
    /// on stderr; the exit code says whether it worked).
    #[arg(long)]
    pub json: bool,
}

/// `--wait` and the like: a whole number of seconds, 0 or more.
fn parse_seconds(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!("`{s}` is not a number of seconds; give 0 or more, e.g. 60 (0: do not wait)")
    })
}

fn parse_minutes(s: &str) -> Result<u64, String> {
    match s.trim().parse::<u64>() {
        Ok(m) if m > 0 => Ok(m),
        _ => Err(format!(
            "`{s}` is not a number of minutes; give 1 or more, e.g. 60"
        )),
    }
}

/// The most replicates `plan` accepts: more would run for hours without narrowing the
/// power's standard error (0.5% at 10,000) in a way a design decision needs.
pub const MAX_REPLICATES: usize = 100_000;

fn parse_replicates(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_REPLICATES).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` replicates: give a whole number from 1 to {MAX_REPLICATES} (500 to 2,000 \
             estimate power to about ±2 points)"
        )),
    }
}

/// How long to wait for another adskew holding the database's lock.
#[derive(Debug, clap::Args)]
pub struct LockArgs {
    /// Seconds to wait while another adskew (a collector, a run) holds the database's lock
    /// before giving up with a message.
    #[arg(long, default_value_t = 30, value_name = "SECONDS", allow_negative_numbers = true, value_parser = parse_seconds)]
    pub wait: u64,
}

/// `--config`, declared once for every command that reads the settings file (all that
/// use the database, for its `database`, and those that talk to Meta, for the account).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Settings file (default: ./adskew.toml, else ~/.config/adskew/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl ConfigArgs {
    pub fn file(&self) -> Option<&std::path::Path> {
        self.config.as_deref()
    }
}

/// Options shared by commands that use the database: `--db` and the settings file that
/// may name it.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// The SQLite database that holds runs and delivery snapshots [default: `database` in
    /// the settings file, else results/adskew.db].
    #[arg(long, env = "ADSKEW_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    #[command(flatten)]
    pub settings: ConfigArgs,
}

impl DbArgs {
    /// `--db` (or `ADSKEW_DB`), else the settings file's `database`, else
    /// `results/adskew.db`.
    pub fn path(&self) -> crate::error::Result<PathBuf> {
        if let Some(db) = &self.db {
            return Ok(db.clone());
        }
        Ok(crate::settings::Settings::load(self.config())?
            .database
            .unwrap_or_else(|| PathBuf::from("results/adskew.db")))
    }

    /// `--config`, when given.
    pub fn config(&self) -> Option<&std::path::Path> {
        self.settings.file()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an experiment file and report every problem at once (writes nothing).
    ///
    /// Each problem names its field path (e.g. `ads[2].daily_budget`) and a hint.
    /// Exit code 2 if the file is invalid. Warnings (e.g. a spend cap the budgets would
    /// exceed) do not fail validation.
    Validate(ValidateArgs),

    /// Launch an experiment, collect delivery to the end, analyse it and write the report.
    ///
    /// On the simulator (platform = "sim") time is simulated: a 14-day experiment runs in
    /// seconds. All ads are created paused and activated together; delivery is collected
    /// every `schedule.collect_every_hours`; every ad is paused at the end or when the
    /// spend cap is reached. The report goes to OUT/<experiment name>/.
    Run(RunArgs),

    /// Analyse a stored run and print the results (text, or JSON with --json).
    ///
    /// EXPERIMENT is a run id or an experiment name (the latest run with that name).
    /// Reads only the database; never talks to a platform.
    #[command(after_help = "Examples:
  adskew analyze imana2021-paired-jobs
  adskew analyze 12 --json > results.json
  adskew analyze 12 --alpha 0.01 --correction bonferroni --ci clopper-pearson --level 0.99
  adskew analyze 12 --metric impressions --yates
  adskew analyze 12 --expected \"female=0.5,male=0.5\"   # goodness of fit against 50/50
  adskew analyze --counts downloaded.csv --json   # counts that did not come from adskew

The JSON format is documented in docs/results-json.md and stable.

A counts file is long-format CSV: columns ad, dimension (gender, age or region), group, and
reach and/or impressions (clicks, spend optional), plus an optional comparison column;
without it all ads are compared together and, past two, pairwise.")]
    Analyze(AnalyzeArgs),

    /// Correct a list of p-values for multiple comparisons, as statsmodels' multipletests:
    /// Bonferroni, Holm or Benjamini–Hochberg (the corrections `analyze` applies to its own
    /// tests), for p-values that did not come from adskew (a paper's, another tool's).
    ///
    /// The values come as arguments or from a file (--file FILE, or --file - for stdin):
    /// any number per line, separated by commas, semicolons, tabs or spaces; blank lines and
    /// lines starting with # are skipped. A value that is not a number from 0 to 1 is
    /// refused with its argument number or line (exit code 2, nothing printed). Prints
    /// each p-value, its adjusted value (in the order given) and whether it is below
    /// --alpha; --json prints the same as JSON.
    #[command(after_help = "Examples:
  adskew adjust --method holm 0.01 0.04 0.03
  adskew adjust --method bh --file pvalues.txt --json
  cut -d, -f5 tests.csv | tail -n +2 | adskew adjust --method bonferroni --file -")]
    Adjust(AdjustArgs),

    /// Regenerate the report of a stored run: report.html, report.md, results.json, charts
    /// and tables.
    ///
    /// Reads only the database; never talks to a platform. Deterministic: the same data give
    /// byte-identical SVG, PNG, PDF, tables and JSON.
    #[command(
        after_help = "Formats (--format, comma-separated; default: all but pdf):
  html  report.html: everything in one self-contained file (inline SVG, no network)
  md    report.md and tables/*.md
  tex   tables/*.tex (booktabs; \\usepackage{booktabs})
  csv   tables/*.csv (exact values, as in results.json)
  json  results.json (docs/results-json.md)
  svg   charts as SVG, text in the DejaVu Sans subset each file embeds
  png   charts as PNG at 300 dpi, rendered from the SVG in the same font
  pdf   charts as PDF at their printed size, from the SVG (font embedded)

Examples:
  adskew report imana2021-paired-jobs
  adskew report 12 --format tex,csv --out paper/figures"
    )]
    Report(ReportArgs),

    /// Read Meta Ads Manager report exports (CSV) into the database, one collection per file,
    /// so they get the same `analyze`, `report` and `status` as runs adskew collected.
    ///
    /// Each file is one snapshot of cumulative numbers: its rows are stored as totals over
    /// its reporting window (Reporting Starts to Reporting Ends), and the newest snapshot is
    /// the one analysed. The snapshot time is a date and time in the file name, read as UTC
    /// (`2020-08-26_18:32.csv`, `export-2020-08-26T18_32.csv`), else the file's modification
    /// time; files are stored oldest first.
    ///
    /// If the database has a run called NAME (a name or an id), the files are added to
    /// it: each ad name must be an ad of the run (its key, a name ending in /KEY, or its
    /// headline), in the run's currency and breakdowns, and newer than its latest
    /// collection. Otherwise a new experiment of that name is recorded (platform `import`,
    /// state completed): an ad per name (key: the name in lowercase with '-' for anything
    /// but letters and digits), all ads compared together and, past two, pairwise.
    ///
    /// Every file is checked completely before anything is written, and everything is
    /// written in one transaction: a bad file (missing column, negative or fractional count,
    /// unknown gender or age, repeated row, row without dates, other currency, not UTF-8)
    /// stops the import with its file and line, exit code 2, and nothing stored. A file
    /// already imported into the run (same SHA-256) is skipped with a message, so importing
    /// a whole folder again adds only the new files.
    #[command(after_help = "Examples:
  adskew import exports/*.csv --experiment algorithmwatch-de
  adskew import 2020-08-27_09:00.csv --experiment algorithmwatch-de   # add a later snapshot
  adskew analyze algorithmwatch-de
  adskew report algorithmwatch-de

Exporting from Ads Manager: in the table of ads (or ad sets), Breakdown → By Delivery →
Gender, Age, or Age and Gender (or Region alone), then Reports → Export table data → .csv.
The file needs a name column (Ad Name, Ad Set Name or Campaign Name), the breakdown
column(s), Reach, Impressions, \"Amount Spent (XXX)\", Reporting Starts and Reporting Ends;
Link Clicks or Clicks (All) are read when present, other columns are ignored. A totals row
(no ad name and no breakdown value) is skipped and said.

Exit codes: 0 imported (or nothing new); 2 a bad file or a file that does not fit the run
(nothing was written); 3 the database is in use.")]
    Import(ImportArgs),

    /// Plan before spending: simulated power of an experiment, or analytic sample size.
    ///
    /// With FILE: runs the experiment --replicates times on the simulator (the whole
    /// pipeline, with the `[sim]` section as the skew you expect) and reports per comparison
    /// the distribution of the skew estimate, the power (share of replicates where the skew
    /// is detected at the experiment's alpha after its correction) and the expected spend.
    /// Nothing is written and nothing is spent.
    ///
    /// With --p1 and --p2: the number of people each ad must reach for the pooled
    /// two-proportion z-test to detect p1 vs p2 (Cohen's h, as statsmodels' NormalIndPower);
    /// with --n, the power at that many people instead.
    #[command(
        after_help = "Examples:\n  adskew plan campaigns/pilot_two_ads.toml --replicates 500\n  adskew plan --p1 0.5 --p2 0.55\n  adskew plan --p1 0.5 --p2 0.55 --n 2000 --alternative larger"
    )]
    Plan(PlanArgs),

    /// Check the Meta account before money moves: the token (valid, permissions, expiry),
    /// the ad account (status, currency, payment method, spending limit), the page, the
    /// DSA beneficiary and payor, the API version's retirement and the app's access tier.
    ///
    /// One line per check. With an experiment FILE, also against its currency, spend cap,
    /// audience and schedule (a token or API version that would expire mid-study fails).
    /// Creates nothing and spends nothing. Exit code 1 if any check fails (would block or
    /// endanger a launch), 0 otherwise; warnings do not fail.
    ///
    /// Examples:
    ///   adskew doctor
    ///   adskew doctor campaigns/imana2021_paired_jobs.toml --config adskew.toml
    Doctor(DoctorArgs),

    /// Serve a Graph-API-compatible mock of Meta's Marketing API on loopback, backed by the
    /// simulator (for trying the Meta adapter without an ad account). Any ad account id works
    /// (e.g. act_1000). Its clock is simulated: read it with GET /__admin/clock and move it
    /// with POST /__admin/clock?to=RFC3339. Runs until interrupted (Ctrl-C).
    MockServer(MockServerArgs),

    /// List stored runs: state, spend against cap, last and next collection, and any ad
    /// the platform rejected or limited.
    Status(StatusArgs),

    /// One collection pass over running experiments, for cron: collect what is due, pause
    /// at spend caps and at the end, re-collect after the revision window.
    ///
    /// Each run continues from what the database says: a launch interrupted by a crash is
    /// finished (objects already created are found by name, never created twice), paired
    /// ads are activated together once their start time has come, and a collection is made
    /// when one is due. Running it twice in a row changes nothing. One line per run; the
    /// exit code is 1 if any run failed (it is retried at the next pass), 4 if every failure
    /// was an invalid or expired access token (nothing succeeds until there is a new one).
    ///
    /// With an [alerts] table in the settings file, each pass tells a command or a webhook
    /// what a person must act on: a failed collection or run, a spend cap reached, an ad
    /// the platform rejected, a pause that failed; each once. An alert that cannot be
    /// delivered is said on stderr and noted in the run, and never changes the exit code.
    #[command(after_help = "Examples:
  adskew collect --all                 # every unfinished run, e.g. nightly from cron
  adskew collect imana2021-paired-jobs # one run, by name or id

Alerts, in the settings file (--config, ./adskew.toml or ~/.config/adskew/config.toml):
  [alerts]
  command = \"mail -s 'adskew alert' me@example.org\"  # sh -c, the alert as JSON on stdin
  webhook = \"https://hooks.example.org/adskew\"       # the alert POSTed as JSON
  on = [\"collection_failed\", \"run_failed\", \"cap_reached\", \"ad_rejected\", \"pause_failed\"]

scripts/adskew-collect.cron and scripts/systemd/ schedule it nightly; README.md, \"Being
told when something goes wrong\", has the alert's fields.")]
    Collect(CollectArgs),

    /// Continue an interrupted run in this process (launch, activation and collections).
    ///
    /// On a simulated clock (the mock server) the run is driven to its end; on a real
    /// platform what is due now is done and the rest is left to `collect`.
    Resume(ResumeArgs),

    /// The kill switch: pause the campaign, every ad set and every ad of a run at once, and
    /// mark it stopped.
    ///
    /// It never waits for another adskew (a collection pass can hold the database for
    /// minutes): the pause happens at once, and when the database is busy the stop is left
    /// as a request that the other adskew, or the next `collect`, records.
    #[command(after_help = "Example:
  adskew stop imana2021-paired-jobs --reason \"budget office asked to halt\"")]
    Stop(StopArgs),

    /// Collect on an internal schedule until SIGINT or SIGTERM (an alternative to cron).
    ///
    /// Each pass is `collect --all`; between passes it sleeps until the next collection is
    /// due (at most --max-sleep-minutes). A signal stops it cleanly: a write in progress
    /// finishes or rolls back. Each pass sends the alerts of the settings' [alerts] table
    /// as `collect` does (see `adskew collect --help`).
    Daemon(DaemonArgs),

    /// Print a shell completion script (bash, zsh, fish, elvish or powershell).
    #[command(after_help = "Examples:
  adskew completions bash > ~/.local/share/bash-completion/completions/adskew
  adskew completions zsh > ~/.zfunc/_adskew      # with fpath+=~/.zfunc in ~/.zshrc
  adskew completions fish > ~/.config/fish/completions/adskew.fish")]
    Completions(CompletionsArgs),

    /// Write the manual pages (man(1) format): adskew.1 and one page per command.
    #[command(after_help = "Examples:
  adskew man --out ~/.local/share/man/man1 && man adskew-run
  adskew man | man -l -     # read the main page without installing it")]
    Man(ManArgs),

    /// Customer-list custom audiences on Meta: upload a CSV of people, hashed.
    Audience {
        #[command(subcommand)]
        command: AudienceCommand,
    },
}

/// `adskew audience ...`
#[derive(Debug, Subcommand)]
pub enum AudienceCommand {
    /// Upload a CSV of people to a new (or existing) Meta custom audience.
    ///
    /// Every value is normalised and SHA-256 hashed on this machine as Meta requires; only
    /// hashes leave it, and nothing from the file is logged or stored (the database keeps
    /// the file's SHA-256, Meta's ids and counts). The whole file is checked first: an
    /// unknown column, a line with the wrong number of fields, or text that is not UTF-8
    /// stops the command (exit 2) before anything is created on Meta.
    ///
    /// The first line names the columns: email, phone, first_name (fn), last_name (ln),
    /// first_initial (fi), gender (gen), dob (YYYY-MM-DD), birth_year (doby), birth_month
    /// (dobm), birth_day (dobd), city (ct), state (st), zip, country, extern_id; any subset,
    /// any order, any case. Give phone numbers with their country code. A value that is not
    /// valid for its column (an email without @) is sent empty; a line with no valid value
    /// is not sent and is reported by line number.
    ///
    /// People go to Meta in one upload session of batches (at most 10,000 per request).
    /// The audience id printed at the end goes into the experiment file as
    /// `audience.custom_audience`. Uses the Meta account settings `run --live` uses.
    #[command(after_help = "Examples:
  adskew audience upload campaigns/people_example.csv --name \"NC voters, balanced\"
  adskew audience upload more.csv --audience 120210000000000001   # add to an existing audience

Exit codes: 0 uploaded; 2 bad file or settings (nothing was created or sent); 1 Meta failed during the upload (what it had received is reported and recorded).")]
    Upload(UploadArgs),
}

/// The alternative hypothesis of a two-proportion test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlternativeArg {
    TwoSided,
    Larger,
    Smaller,
}

impl From<AlternativeArg> for crate::analysis::ztest::Alternative {
    fn from(a: AlternativeArg) -> Self {
        match a {
            AlternativeArg::TwoSided => Self::TwoSided,
            AlternativeArg::Larger => Self::Larger,
            AlternativeArg::Smaller => Self::Smaller,
        }
    }
}

/// The arguments of `adskew validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The experiment file (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The experiment file (TOML).
    pub file: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Directory for reports; each experiment gets a subdirectory.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Do not show a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Spend real money: create and activate the ads on a real platform. Without it an
    /// experiment on `meta` is a dry run that prints what would be created and the most
    /// it could spend. (The simulator needs no flag.)
    #[arg(long)]
    pub live: bool,
    /// Start a second run even though the experiment has an unfinished one (which
    /// `run` otherwise refuses: each copy has its own campaign and its own spend cap;
    /// `adskew resume ID --live` continues the first).
    #[arg(long)]
    pub new: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Run id or experiment name.
    #[arg(required_unless_present = "counts", conflicts_with = "counts")]
    pub experiment: Option<String>,
    /// Analyse a CSV of counts instead of a stored run.
    #[arg(long, value_name = "FILE.csv")]
    pub counts: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub options: AnalysisArgs,
}

/// The arguments of `adskew adjust`.
#[derive(Debug, clap::Args)]
pub struct AdjustArgs {
    /// The p-values, each from 0 to 1.
    #[arg(value_name = "P", conflicts_with = "file")]
    pub p_values: Vec<String>,
    /// Read the p-values from FILE instead (- for stdin).
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The correction: bonferroni, holm or bh (Benjamini–Hochberg).
    #[arg(long, default_value = "holm", value_parser = parse_correction)]
    pub method: crate::vocab::Correction,
    /// The level an adjusted p-value is compared with, in (0, 0.5).
    #[arg(long, default_value = "0.05", value_parser = parse_alpha)]
    pub alpha: f64,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Run id or experiment name.
    pub experiment: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Directory for reports; the run gets a subdirectory named after the experiment.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// What to write, comma-separated: html, md, tex, csv, json, svg, png, pdf.
    #[arg(long, value_delimiter = ',', value_parser = parse_format, value_name = "FORMATS")]
    pub format: Vec<crate::report::Format>,
    #[command(flatten)]
    pub p_floor: PFloorArgs,
    #[command(flatten)]
    pub figures: FigureArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How `adskew report` draws figures, over the experiment's `[figures]` and labels.
#[derive(Debug, Clone, clap::Args)]
pub struct FigureArgs {
    /// paper (no title inside figures; the captions carry it) or screen (titles drawn).
    #[arg(long, value_name = "STYLE", value_parser = parse_figure_style)]
    pub style: Option<crate::experiment::figures::FigureStyle>,
    /// The share axis: auto (zoomed to the data), full (0-100%), or LO,HI in percent.
    #[arg(long, value_name = "RANGE", value_parser = crate::experiment::figures::AxisRange::parse)]
    pub axis: Option<crate::experiment::figures::AxisRange>,
    /// Every figure one-column (3.5 in) or two-column (7 in) wide.
    #[arg(long, value_name = "WIDTH", value_parser = parse_figure_width)]
    pub width: Option<crate::experiment::figures::FigureWidth>,
    /// A display label, KEY=TEXT: KEY an ad, a comparison or a group (e.g.
    /// instacart_shopper="Instacart shopper", female=Women). Repeatable.
    #[arg(long = "label", value_name = "KEY=TEXT", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

impl FigureArgs {
    /// Applies the flags to the experiment; a label for no ad, comparison or group is
    /// refused, naming the flag.
    pub fn apply(&self, e: &mut crate::experiment::Experiment) -> crate::error::Result<()> {
        if let Some(style) = self.style {
            e.figures.style = style;
        }
        if let Some(axis) = self.axis {
            e.figures.axis = axis;
        }
        if let Some(width) = self.width {
            e.figures.width = Some(width);
        }
        for (key, text) in &self.labels {
            crate::experiment::figures::set_label(e, key, text)
                .map_err(|m| crate::error::Error::BadInput(format!("--label {key}={text}: {m}")))?;
        }
        Ok(())
    }
}

fn parse_figure_style(s: &str) -> Result<crate::experiment::figures::FigureStyle, String> {
    use crate::experiment::figures::FigureStyle;
    FigureStyle::parse(s).ok_or_else(|| {
        format!(
            "`{s}` is not a figure style; give one of {}",
            FigureStyle::choices()
        )
    })
}

fn parse_figure_width(s: &str) -> Result<crate::experiment::figures::FigureWidth, String> {
    use crate::experiment::figures::FigureWidth;
    FigureWidth::parse(s).ok_or_else(|| {
        format!(
            "`{s}` is not a figure width; give one of {}",
            FigureWidth::choices()
        )
    })
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!(
            "`{s}` is not KEY=TEXT; give e.g. --label instacart_shopper=\"Instacart shopper\""
        )),
    }
}

/// The arguments of `adskew import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The exports (CSV), one snapshot each, in any order.
    #[arg(required = true, value_name = "FILE.csv")]
    pub files: Vec<PathBuf>,
    /// The run to add to (name or id), or the name of a new experiment.
    #[arg(long, value_name = "NAME")]
    pub experiment: String,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew plan`.
#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The experiment file to simulate.
    #[arg(conflicts_with_all = ["p1", "p2", "n"], required_unless_present = "p1")]
    pub file: Option<PathBuf>,
    /// Simulated replicates of the experiment (1 to 100,000; each is a whole simulated run,
    /// so 1,000 take seconds in a release build and about ten times longer in a debug one).
    #[arg(long, default_value_t = 200, value_parser = parse_replicates)]
    pub replicates: usize,
    /// Base seed of the replicates (default: the experiment's `sim.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Do not show a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Share of the group among people reached by ad 1 (analytic mode).
    #[arg(long, requires = "p2", allow_negative_numbers = true)]
    pub p1: Option<f64>,
    /// Share of the group among people reached by ad 2 (analytic mode).
    #[arg(long, requires = "p1", allow_negative_numbers = true)]
    pub p2: Option<f64>,
    /// Significance level (analytic mode; simulations use the experiment's).
    #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Target power for the sample size.
    #[arg(long, default_value_t = 0.8, allow_negative_numbers = true)]
    pub power: f64,
    /// two-sided, or larger/smaller: the direction of p1 relative to p2.
    #[arg(long, value_enum, default_value = "two-sided")]
    pub alternative: AlternativeArg,
    /// People reached by ad 2 per person reached by ad 1.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub ratio: f64,
    /// People reached by ad 1: print the power at this size instead of a sample size.
    #[arg(long, allow_negative_numbers = true)]
    pub n: Option<f64>,
}

/// The arguments of `adskew doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// An experiment file to check the account against.
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub settings: ConfigArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew mock-server`.
#[derive(Debug, clap::Args)]
pub struct MockServerArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub addr: std::net::SocketAddr,
    /// An experiment file whose `[sim]` section is the ground truth (default: the
    /// simulator's defaults).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Seed of the simulator (overrides the truth file's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// The mock's clock at start (RFC 3339; default: now, to the hour).
    #[arg(long)]
    pub start: Option<String>,
    /// A TOML file of fault rates (throttle, transient, gateway) and a seed.
    #[arg(long, value_name = "FILE")]
    pub faults: Option<PathBuf>,
}

/// The arguments of `adskew status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew collect`.
#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// The run (id, or name for its latest run); either this or --all, not both.
    #[arg(conflicts_with = "all")]
    pub experiment: Option<String>,
    /// Every run that is not finished (instead of naming one).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew resume`.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The run (id, or name for its latest run).
    pub experiment: String,
    /// Allow spending on a real platform (resuming may activate ads).
    #[arg(long)]
    pub live: bool,
    #[command(flatten)]
    pub db: DbArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Do not show the bar of collections (shown on a terminal while a run on a
    /// simulated clock is driven to its end).
    #[arg(long, short)]
    pub quiet: bool,
    /// Where reports are written (a folder per experiment).
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The arguments of `adskew stop`.
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// The run (id, or name for its latest run).
    pub experiment: String,
    /// Why (recorded with the run).
    #[arg(long, default_value = "stopped by hand (adskew stop)")]
    pub reason: String,
    #[command(flatten)]
    pub db: DbArgs,
    /// Seconds to wait for another adskew holding the database before leaving the
    /// stop's record to it; the ads are paused first either way.
    #[arg(long, default_value_t = 0, value_name = "SECONDS", allow_negative_numbers = true, value_parser = parse_seconds)]
    pub wait: u64,
}

/// The arguments of `adskew daemon`.
#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The longest sleep between passes.
    #[arg(long, default_value_t = 60, value_name = "MINUTES", allow_negative_numbers = true, value_parser = parse_minutes)]
    pub max_sleep_minutes: u64,
}

/// The arguments of `adskew upload`.
#[derive(Debug, clap::Args)]
pub struct UploadArgs {
    /// The CSV file of people (UTF-8, comma-separated, a header line naming the columns; a
    /// regular file of at most 1 GiB: split a bigger list and upload the parts with --audience).
    pub file: PathBuf,
    /// Name of the new audience, as Meta's Audience Manager will show it.
    #[arg(
        long,
        required_unless_present = "audience",
        conflicts_with = "audience"
    )]
    pub name: Option<String>,
    /// Description of the new audience (e.g. where the list came from).
    #[arg(long, default_value = "", conflicts_with = "audience")]
    pub description: String,
    /// Add the people to this existing audience instead of creating one (for example to
    /// finish an upload that stopped: adding the same people again changes nothing).
    #[arg(long, value_name = "ID")]
    pub audience: Option<String>,
    /// People per request (Meta takes at most 10,000).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch_size: u32,
    #[command(flatten)]
    pub db: DbArgs,
}

/// The arguments of `adskew completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The arguments of `adskew man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Folder to write adskew.1 and adskew-COMMAND.1 into (created if missing); without it
    /// the main page goes to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

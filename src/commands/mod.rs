//! What each command does, in terms of the library's modules.

mod import;
mod runs;

use std::path::Path;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::analysis::{self, Analysis};
use crate::cli::{AudienceCommand, Cli, Command};
use crate::clock::{Clock, SimClock, WallClock};
use crate::error::{Error, Result};
use crate::experiment::{self, Experiment};
use crate::mockapi::clock::MockClock;
use crate::platform::meta::adapter::MetaPlatform;
use crate::platform::sim::SimPlatform;
use crate::platform::Delivery;
use crate::platform::Platform;
use crate::report::{self, words};
use crate::runtime;
use crate::scheduler;
use crate::settings::Settings;
use crate::store::{EventKind, RunOrigin, RunState, Store};
use crate::vocab::PlatformKind;

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

pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate { file } => validate(&file),
        Command::Run {
            file,
            db,
            out,
            quiet,
            live,
            new,
            lock,
        } => run(
            &file,
            &db.path()?,
            &out,
            RunFlags { quiet, live, new },
            db.config(),
            std::time::Duration::from_secs(lock.wait),
        ),
        Command::Collect {
            experiment,
            all,
            db,
            lock,
        } => runs::collect(
            // clap refuses a run together with --all, and neither.
            if all { None } else { experiment.as_deref() },
            &db.path()?,
            std::time::Duration::from_secs(lock.wait),
            db.config(),
        ),
        Command::Resume {
            experiment,
            live,
            db,
            lock,
            quiet,
            out,
        } => runs::resume(
            &experiment,
            &db.path()?,
            std::time::Duration::from_secs(lock.wait),
            runs::ResumeFlags { live, quiet },
            db.config(),
            &out,
        ),
        Command::Stop {
            experiment,
            reason,
            db,
            wait,
        } => runs::stop(
            &experiment,
            &reason,
            &db.path()?,
            std::time::Duration::from_secs(wait),
            db.config(),
        ),
        Command::Daemon {
            db,
            max_sleep_minutes,
        } => runs::daemon(
            &db.path()?,
            db.config(),
            std::time::Duration::from_secs(max_sleep_minutes * 60),
        ),
        Command::Analyze {
            experiment,
            counts,
            db,
            json,
            options,
        } => match (experiment, counts) {
            (_, Some(file)) => {
                print_analysis(&crate::counts::analyze_counts(&file, &options)?, json)
            }
            (Some(e), None) => analyze(&e, &db.path()?, json, &options),
            (None, None) => Err(Error::BadInput(
                "give a run (id or name) or --counts FILE.csv".to_string(),
            )),
        },
        Command::Report {
            experiment,
            db,
            out,
            format,
        } => report_cmd(&experiment, &db.path()?, &out, &format),
        Command::Status { db } => status(&db.path()?, db.config()),
        Command::Import {
            files,
            experiment,
            db,
            lock,
        } => import::import(
            &files,
            &experiment,
            &db.path()?,
            std::time::Duration::from_secs(lock.wait),
        ),
        Command::Audience {
            command:
                AudienceCommand::Upload {
                    file,
                    name,
                    description,
                    audience,
                    batch_size,
                    db,
                },
        } => audience_upload(
            &file,
            name.as_deref(),
            &description,
            audience.as_deref(),
            batch_size as usize,
            &db.path()?,
            db.config(),
        ),
        Command::Doctor { file, settings } => doctor(file.as_deref(), settings.file()),
        Command::MockServer {
            addr,
            truth,
            seed,
            start,
            faults,
        } => mock_server(
            addr,
            truth.as_deref(),
            seed,
            start.as_deref(),
            faults.as_deref(),
        ),
        Command::Plan {
            file,
            replicates,
            seed,
            json,
            quiet,
            p1,
            p2,
            alpha,
            power,
            alternative,
            ratio,
            n,
        } => match (file, p1, p2) {
            (Some(file), _, _) => plan_simulated(&file, replicates, seed, json, quiet),
            (None, Some(p1), Some(p2)) => {
                plan_analytic(p1, p2, alpha, power, alternative.into(), ratio, n)
            }
            _ => Err(Error::BadInput(
                "give an experiment FILE, or --p1 and --p2".into(),
            )),
        },
    }
}

/// The experiment in `file`, validated whole: the core's rules and adskew-sim's of `[sim]`.
fn load(file: &Path) -> Result<Experiment> {
    let loaded = experiment::load(file, &[crate::platform::sim::check])?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(loaded.experiment)
}

fn validate(file: &Path) -> Result<()> {
    let exp = load(file)?;
    println!(
        "{}: valid. {} ads, {} comparisons on platform {}; at most {} {} over {} (spend cap {} {}).",
        file.display(),
        exp.ads.len(),
        exp.comparisons.len(),
        exp.platform,
        exp.max_scheduled_spend(),
        exp.currency,
        humanize(exp.schedule.duration),
        exp.spend_cap,
        exp.currency,
    );
    Ok(())
}

/// The bar of collections that `run` and `resume` show while they drive a run to its end in
/// simulated time (a real-time run ends in minutes and is left to `collect`); hidden
/// with `--quiet`.
pub(crate) fn collections_bar(exp: &Experiment, show: bool) -> CollectionsBar {
    if !show {
        return CollectionsBar(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(scheduler::planned_collections(exp));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} collections ({elapsed})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {} (simulated time)", exp.name, exp.platform));
    CollectionsBar(bar)
}

/// The collections bar, as the scheduler reports to it.
pub(crate) struct CollectionsBar(pub ProgressBar);

impl scheduler::Progress for CollectionsBar {
    fn collected(&self) {
        self.0.inc(1);
    }
}

fn humanize(d: chrono::TimeDelta) -> String {
    let hours = d.num_hours();
    if hours % 24 == 0 {
        format!("{} day{}", hours / 24, if hours == 24 { "" } else { "s" })
    } else {
        format!("{hours} hours")
    }
}

/// The switches of `adskew run`.
struct RunFlags {
    quiet: bool,
    live: bool,
    /// A second copy of an experiment with an unfinished run, on purpose.
    new: bool,
}

fn run(
    file: &Path,
    db: &Path,
    out: &Path,
    RunFlags { quiet, live, new }: RunFlags,
    config: Option<&Path>,
    wait: std::time::Duration,
) -> Result<()> {
    // Validate everything before anything is opened or created.
    let exp = load(file)?;
    let runtime = runtime()?;
    let purpose = if live {
        Purpose::Launch
    } else {
        Purpose::DryRun
    };
    let Some((platform, clock, simulated)) = connect(&exp, purpose, config, &runtime)? else {
        return Ok(()); // a dry run
    };
    let _lock = crate::store::lock::DbLock::acquire(db, wait)?;
    let mut store = Store::open(db)?;
    runs::refuse_second_copy(&mut store, &exp, new)?;

    let progress = collections_bar(&exp, !quiet && simulated);
    let id = scheduler::record(&exp, clock.as_ref(), &mut store)?;
    // In simulated time the whole run happens now; in real time this launches (and
    // activates, once the start has come) and collection continues from cron or the daemon.
    let mode = if simulated {
        scheduler::Mode::ToCompletion
    } else {
        scheduler::Mode::DueNow
    };
    let outcome = runtime.block_on(scheduler::drive(
        &exp,
        id,
        platform.as_ref(),
        clock.as_ref(),
        &mut store,
        &progress,
        mode,
    ))?;
    progress.0.finish_and_clear();
    if !simulated {
        println!(
            "{}: run {} launched ({}); {} collection(s) so far. Collection continues with \
             `adskew collect --all` from cron or `adskew daemon` (see scripts/); \
             `adskew stop {}` is the kill switch.",
            exp.name,
            id,
            outcome.state.as_str(),
            outcome.collections,
            id
        );
        if let Some(next) = outcome.next {
            println!("Next due: {}", next.to_rfc3339());
        }
        return Ok(());
    }
    print_outcome(&store, &exp, &outcome, db, out)
}

/// The analysis, report files and summary of a run that ended in this process.
fn print_outcome(
    store: &Store,
    exp: &Experiment,
    outcome: &scheduler::RunOutcome,
    db: &Path,
    out: &Path,
) -> Result<()> {
    let record = store.find_experiment(&outcome.experiment_id.to_string())?;
    let inputs = crate::analysis_inputs(store, &record)?;
    let report = report::Report::load(store, &inputs, analysis::analyze(&inputs))?;
    let analysis = &report.analysis;
    let dir = out.join(&exp.name);
    report::write_all(&report, &dir)?;
    println!(
        "{}: run {} {} after {} collections; spent {} of {} {}.",
        exp.name,
        outcome.experiment_id,
        outcome.state.as_str(),
        outcome.collections,
        outcome.spend,
        exp.spend_cap,
        exp.currency
    );
    print_summary(analysis);
    println!(
        "Report: {} (also report.md, results.json, tables/ and the charts)",
        dir.join("report.html").display()
    );
    println!("Database: {}", db.display());
    Ok(())
}

/// A platform to run on, its clock, and whether that clock is simulated; `None` after a dry
/// run (a real platform without `--live`), which creates nothing.
pub(crate) type Connected = (Box<dyn Platform>, Arc<dyn Clock>, bool);

/// Why [`connect`] is called: what it checks and whether it returns a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `run` without `--live`: check and describe, create nothing.
    DryRun,
    /// `run --live`: a new run, refused if its schedule has already ended.
    Launch,
    /// Back to a recorded run (`resume`, `collect`, `stop`), whatever the time.
    Reconnect,
}

fn connect(
    exp: &Experiment,
    purpose: Purpose,
    config: Option<&Path>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Option<Connected>> {
    match exp.platform {
        PlatformKind::Sim => {
            let start = scheduler::start_time(exp, chrono::Utc::now());
            let clock = Arc::new(SimClock::new(start));
            let sim = SimPlatform::new(crate::platform::sim::truth_of(exp)?, clock.clone());
            Ok(Some((Box::new(sim), clock, true)))
        }
        PlatformKind::Meta => {
            let meta = Settings::load(config)?
                .meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?
                .for_experiment(exp);
            let (clock, simulated) = meta_clock(&meta, runtime)?;
            let now = clock.now();
            let start = scheduler::start_time(exp, now);
            if purpose != Purpose::Reconnect {
                // Refused here, so a dry run says it too, not only `--live`.
                scheduler::check_not_over(exp, start, start + exp.schedule.duration, now)?;
            }
            let findings = crate::platform::meta::preflight::check(exp, &meta, start);
            for w in &findings.warnings {
                eprintln!("warning: {w}");
            }
            if !findings.problems.is_empty() {
                // Refused before anything exists on the platform.
                return Err(Error::BadInput(format!(
                    "Meta would refuse this launch after creating the campaign:\n  - {}",
                    findings.problems.join("\n  - ")
                )));
            }
            if purpose == Purpose::DryRun {
                print_dry_run(exp, &meta);
                println!("\nThe account (as `adskew doctor` checks it):");
                run_doctor(Some(exp), &meta, runtime)?;
                validate_on_meta(exp, meta, runtime)?;
                return Ok(None);
            }
            let platform = MetaPlatform::new(meta, clock.clone())?;
            Ok(Some((Box::new(platform), clock, simulated)))
        }
    }
}

/// The clock a Meta run keeps, and whether it is simulated: the mock server's when the
/// settings say the server is `adskew mock-server` (`meta.mock_clock`), the real time
/// otherwise. A real account's run never asks its server for a clock.
fn meta_clock(
    meta: &crate::platform::meta::adapter::MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<(Arc<dyn Clock>, bool)> {
    if !meta.mock_clock {
        return Ok((Arc::new(WallClock), false));
    }
    let clock = runtime
        .block_on(MockClock::connect(&meta.base_url))
        .map_err(|e| {
            Error::BadInput(format!(
                "meta.mock_clock is set but {} does not serve a mock clock ({e}): start \
                 `adskew mock-server` there, or remove mock_clock",
                meta.base_url
            ))
        })?;
    Ok((Arc::new(clock), true))
}

/// Has Meta check the campaign's parameters with `validate_only`, which creates nothing and
/// spends nothing but proves the token, the account and the settings are accepted.
fn validate_on_meta(
    exp: &Experiment,
    mut meta: crate::platform::meta::adapter::MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    // A dry run should answer quickly, not wait out a long outage.
    meta.max_retries = 1;
    meta.backoff = std::time::Duration::from_secs(1);
    let platform = MetaPlatform::new(meta, Arc::new(WallClock))?;
    let spec = crate::platform::CampaignSpec {
        spend_cap: Some(exp.spend_cap),
        name: format!("adskew/{}/dry-run", exp.name),
        objective: exp.objective,
        category: exp.category,
        countries: exp.audience.countries.clone(),
    };
    runtime
        .block_on(platform.validate_campaign(&spec))
        .map_err(|e| Error::PlatformDuring {
            message: format!("Meta did not accept the campaign in a validate_only check: {e}"),
            source: e,
        })?;
    println!(
        "Meta checked the campaign's parameters (execution_options=validate_only) and accepted them; \
         ad sets, creatives and ads are checked when --live creates them paused."
    );
    Ok(())
}

/// `adskew doctor`: every check of the Meta account, one line each; exit 1 if any fails.
fn doctor(file: Option<&Path>, config: Option<&Path>) -> Result<()> {
    let exp = file.map(load).transpose()?;
    let mut meta = Settings::load(config)?.meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?;
    if let Some(exp) = &exp {
        meta = meta.for_experiment(exp);
    }
    run_doctor(exp.as_ref(), &meta, &runtime()?)
}

/// The doctor's checks, printed one per line; an error if any failed.
fn run_doctor(
    exp: Option<&Experiment>,
    meta: &crate::platform::meta::adapter::MetaConfig,
    runtime: &tokio::runtime::Runtime,
) -> Result<()> {
    use crate::platform::meta::doctor::{self, Level};
    let mut quick = meta.clone();
    quick.max_retries = 1;
    quick.backoff = std::time::Duration::from_secs(1);
    let platform = MetaPlatform::new(quick, Arc::new(WallClock))?;
    let start = exp
        .map(|e| scheduler::start_time(e, chrono::Utc::now()))
        .unwrap_or_else(chrono::Utc::now);
    let checks = runtime.block_on(doctor::run(&platform, meta, exp, start));
    for c in &checks {
        println!("{:<5} {:<15} {}", c.level.label(), c.name, c.message);
    }
    let failed = checks.iter().filter(|c| c.level == Level::Fail).count();
    if failed > 0 {
        return Err(Error::ChecksFailed { failed });
    }
    Ok(())
}

/// What `run` would do on a real platform, without doing it.
fn print_dry_run(exp: &Experiment, meta: &crate::platform::meta::adapter::MetaConfig) {
    println!(
        "Dry run: nothing was created and nothing will be spent. Add --live to run {} on Meta.",
        exp.name
    );
    println!(
        "Account {} via {}/{}; all objects are created PAUSED and activated together.",
        meta.account, meta.base_url, meta.version
    );
    println!(
        "Would create 1 campaign ({}, {}) and per ad an ad set, a creative and an ad:",
        exp.objective, exp.category
    );
    for ad in &exp.ads {
        let budget = match ad.budget {
            crate::experiment::Budget::Daily(m) => format!("{m} {}/day", exp.currency),
            crate::experiment::Budget::Lifetime(m) => format!("{m} {} lifetime", exp.currency),
        };
        println!("  {:<24} {budget:>18}  \"{}\"", ad.key, ad.headline);
    }
    if let Some(ca) = &exp.audience.custom_audience {
        if !ca.is_empty() && ca.chars().all(|c| c.is_ascii_digit()) {
            println!("Targeting custom audience {ca} (audience.custom_audience).");
        } else {
            println!(
                "Warning: audience.custom_audience = \"{ca}\" is not a Meta audience id, so Meta will refuse the ad sets. \
Upload the list with `adskew audience upload FILE.csv --name NAME` and put the id it prints there."
            );
        }
    }
    println!(
        "At most {} {cur} over {} (the budgets); spend cap {} {cur}, also set on the campaign as \
         Meta's spend_cap so spending stops there even if no collection runs.",
        exp.max_scheduled_spend(),
        humanize(exp.schedule.duration),
        exp.spend_cap,
        cur = exp.currency
    );
}

fn print_summary(a: &Analysis) {
    for ad in a.ads.iter().filter(|ad| ad.platform_problem.is_some()) {
        println!("\nWarning: {}", words::describe_refused(ad));
    }
    if let Some(nothing) = words::describe_no_delivery(a) {
        println!("\n{nothing}");
    }
    for c in &a.comparisons {
        println!("\nComparison {}:", c.key);
        if let Some(p) = c.paired() {
            println!("  {}", words::describe_paired(p));
        }
        for b in &c.breakdowns {
            println!("  {}", words::describe_breakdown(a, b));
        }
    }
    println!();
}

fn analysis_for(selector: &str, db: &Path, options: &crate::cli::AnalysisArgs) -> Result<Analysis> {
    let store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    let mut inputs = crate::analysis_inputs(&store, &record)?;
    options.apply(&mut inputs.experiment.analysis);
    Ok(analysis::analyze(&inputs))
}

fn analyze(
    selector: &str,
    db: &Path,
    json: bool,
    options: &crate::cli::AnalysisArgs,
) -> Result<()> {
    print_analysis(&analysis_for(selector, db, options)?, json)
}

fn print_analysis(analysis: &Analysis, json: bool) -> Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(analysis).expect("analysis serialises")
        );
    } else {
        if analysis.experiment.platform == RunOrigin::Counts {
            println!(
                "{} (counts from {}):",
                analysis.experiment.name, analysis.experiment.file_path
            );
        } else {
            println!(
                "{} (run {}, {}):",
                analysis.experiment.name, analysis.experiment.id, analysis.experiment.state
            );
        }
        print_summary(analysis);
    }
    Ok(())
}

fn report_cmd(selector: &str, db: &Path, out: &Path, formats: &[report::Format]) -> Result<()> {
    let store = Store::open_existing(db)?;
    let record = store.find_experiment(selector)?;
    let inputs = crate::analysis_inputs(&store, &record)?;
    let report = report::Report::load(&store, &inputs, analysis::analyze(&inputs))?;
    let dir = out.join(&report.analysis.experiment.name);
    let files = report::write(&report, &dir, formats)?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

/// Warns of unfinished Meta runs whose last collection falls after Meta retires the API
/// version the settings use (calls to a retired version fail).
fn print_version_retirements(runs: &[crate::store::ExperimentRecord], config: Option<&Path>) {
    use crate::platform::meta::versions::{Version, LATEST};
    let Some(settings) = Settings::load(config).ok() else {
        return;
    };
    let version = settings.meta.api_version;
    let Some(last_day) = Version::parse(&version).and_then(Version::last_day) else {
        return;
    };
    for r in runs.iter().filter(|r| {
        r.platform == RunOrigin::Meta
            && matches!(
                r.state,
                RunState::Draft | RunState::Created | RunState::Running
            )
    }) {
        let last = [r.planned_end, r.recollect_at]
            .into_iter()
            .flatten()
            .map(|t| t.date_naive())
            .max();
        if let Some(last) = last.filter(|l| *l > last_day) {
            println!(
                "WARNING: run {}'s last collection ({last}) falls after Meta retires API version {version} on {last_day}: \
                 set meta.api_version = \"{LATEST}\" before then",
                r.id
            );
        }
    }
}

fn status(db: &Path, config: Option<&Path>) -> Result<()> {
    let store = Store::open_existing(db)?;
    let runs = store.list_experiments()?;
    if runs.is_empty() {
        println!("No runs in {}.", db.display());
        return Ok(());
    }
    runs::print_attention(&store)?;
    print_version_retirements(&runs, config);
    println!(
        "{:>4}  {:<30} {:<9} {:<6} {:>22} {:>5}  {:<20}  next due",
        "id", "experiment", "state", "plat", "spend / cap", "coll.", "last collection"
    );
    for r in runs {
        let collections = store.collections(r.id)?;
        let spend = collections.last().map(|c| c.spend).unwrap_or_default();
        let next = r
            .experiment()
            .ok()
            .and_then(|exp| scheduler::next_due(&exp, &r, &store).ok().flatten())
            .map_or("-".to_string(), |t| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            });
        println!(
            "{:>4}  {:<30} {:<9} {:<6} {:>22} {:>5}  {:<20}  {}",
            r.id,
            r.name,
            r.state,
            r.platform,
            // An import has no cap: its spend is what the exports say was spent.
            if r.platform == RunOrigin::Import {
                format!("{spend} {} (no cap)", r.currency)
            } else {
                format!("{spend} / {} {}", r.spend_cap, r.currency)
            },
            collections.len(),
            collections
                .last()
                .map_or("-".to_string(), |c| c.platform_time.clone()),
            next
        );
        if let Some(e) = store.events(r.id)?.last() {
            if matches!(r.state, RunState::Stopped | RunState::Failed)
                || e.kind == EventKind::CollectionFailed
            {
                println!("      {}: {}", e.at, e.cause);
            }
        }
        // Ads the platform rejected or limited, and, while the run should be delivering,
        // ads it does not deliver.
        for (ad, review) in store.latest_reviews(r.id)? {
            let status = &review.platform_status;
            match review.problem {
                Some(problem) => println!("      ad {ad}: {status}: {problem}"),
                None if r.state == RunState::Running && review.delivery != Delivery::Delivering => {
                    println!("      ad {ad}: {status} on the platform")
                }
                None => {}
            }
        }
    }
    Ok(())
}

fn audience_upload(
    file: &Path,
    name: Option<&str>,
    description: &str,
    existing: Option<&str>,
    batch_size: usize,
    db: &Path,
    config: Option<&Path>,
) -> Result<()> {
    use crate::platform::meta::audience::PeopleFile;
    use crate::platform::ObjectId;
    use crate::store::{UploadStart, UploadState};

    // Everything that can be wrong with the input is found before Meta is asked anything.
    let people = PeopleFile::check(file).map_err(|e| Error::BadInput(e.to_string()))?;
    if let Some(id) = existing {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Error::BadInput(format!(
                "--audience `{id}` is not a Meta audience id (digits, as `audience upload` prints)"
            )));
        }
    }
    let meta = Settings::load(config)?.meta_config(std::env::var("ADSKEW_META_TOKEN").ok())?;
    let account = meta.account_node();
    let mut store = Store::open(db)?;
    let platform = MetaPlatform::new(meta, Arc::new(WallClock))?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let (audience, created) = match existing {
            Some(id) => (ObjectId(id.to_string()), false),
            None => {
                let name = name.unwrap_or_default();
                (platform.create_custom_audience(name, description).await?, true)
            }
        };
        if created {
            println!(
                "Created custom audience {audience} \"{}\" on {account}.",
                name.unwrap_or_default()
            );
        }
        let upload = store.start_audience_upload(
            &UploadStart {
                platform: "meta",
                account: &account,
                audience_id: &audience.0,
                audience_name: name.unwrap_or_default(),
                created_audience: created,
                file_sha256: &people.file_sha256,
                schema: &people.schema,
                rows_read: people.rows_read,
                rows_skipped: people.rows_skipped,
            },
            chrono::Utc::now(),
        )?;
        let outcome = platform.upload_checked(&audience, &people, batch_size).await;
        // Provenance of every request (customer-list payloads summarised by their hash).
        store.archive(None, platform.name(), &platform.take_exchanges())?;
        let report = match outcome {
            Ok(report) => report,
            Err(e) => {
                if let Some(done) = e.done() {
                    store.finish_audience_upload(
                        upload,
                        done,
                        UploadState::Failed,
                        Some(&e.to_string()),
                        chrono::Utc::now(),
                    )?;
                }
                return Err(e.into());
            }
        };
        store.finish_audience_upload(
            upload,
            &report,
            UploadState::Complete,
            None,
            chrono::Utc::now(),
        )?;
        println!(
            "Uploaded {} of {} people in {} batch(es) (session {}, columns {}): Meta received {}, {} invalid.",
            people.rows_usable,
            people.rows_read,
            report.batches,
            report.session_id,
            report.schema.join(","),
            report.num_received,
            report.num_invalid_entries
        );
        if report.rows_skipped > 0 {
            let lines: Vec<String> = report.skipped_lines.iter().map(u64::to_string).collect();
            let more = if report.rows_skipped as usize > lines.len() { ", ..." } else { "" };
            println!(
                "Skipped {} line(s) with no valid value (line {}{more}).",
                report.rows_skipped,
                lines.join(", ")
            );
        }
        if report.cells_blanked > 0 {
            println!(
                "{} value(s) were not valid for their column and were sent empty.",
                report.cells_blanked
            );
        }
        println!("To target these people, put the id in the experiment file:\n  [audience]\n  custom_audience = \"{audience}\"");
        println!("Meta matches the people within about 24 hours. Recorded in {} (audience_uploads).", db.display());
        Ok(())
    })
}

fn plan_simulated(
    file: &Path,
    replicates: usize,
    seed: Option<u64>,
    json: bool,
    quiet: bool,
) -> Result<()> {
    let exp = load(file)?;
    let seed = seed.unwrap_or(crate::platform::sim::truth_of(&exp)?.seed);
    let progress = if quiet || json {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(replicates as u64);
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} replicates ({elapsed}, eta {eta})",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("planning {}", exp.name));
        bar
    };
    let report = crate::plan::simulate(&exp, replicates, seed, &progress)?;
    progress.finish_and_clear();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("plan serialises")
        );
        return Ok(());
    }
    println!(
        "{}: {} simulated replicates (seed {}), alpha {} with {} correction.",
        report.experiment, report.replicates, report.seed, report.alpha, report.correction
    );
    if let Some(s) = &report.spend {
        println!(
            "Spend per run: mean {:.2} {cur} (95% of runs between {:.2} and {:.2} {cur}); cap {} {cur}.",
            s.mean, s.q025, s.q975, exp.spend_cap, cur = report.currency
        );
    }
    for c in &report.comparisons {
        println!("\nComparison {}:", c.key);
        println!(
            "  power {:.1}% ± {:.1}% (skew detected in {} of {} runs)",
            c.power * 100.0,
            c.power_se * 100.0,
            c.detections,
            report.replicates
        );
        let counted: Vec<String> = c
            .mean_counted
            .iter()
            .map(|(ad, n)| format!("{ad} {n:.0}"))
            .collect();
        println!("  mean counted per ad: {}", counted.join(", "));
        if let Some(e) = &c.estimate {
            println!(
                "  {}: mean {:+.2} points, sd {:.2}, 95% of runs in [{:+.2}, {:+.2}]",
                c.estimate_is,
                e.mean * 100.0,
                e.sd * 100.0,
                e.q025 * 100.0,
                e.q975 * 100.0
            );
        }
    }
    Ok(())
}

fn plan_analytic(
    p1: f64,
    p2: f64,
    alpha: f64,
    target: f64,
    alternative: crate::analysis::ztest::Alternative,
    ratio: f64,
    n: Option<f64>,
) -> Result<()> {
    use crate::analysis::power::{cohens_h, power, sample_size};
    for (name, v) in [("--p1", p1), ("--p2", p2)] {
        if !(v > 0.0 && v < 1.0) {
            return Err(Error::BadInput(format!(
                "{name} must be a share strictly between 0 and 1 (got {v})"
            )));
        }
    }
    let share = |x: f64| x > 0.0 && x < 1.0;
    if !share(alpha) || !share(target) || ratio.is_nan() || ratio <= 0.0 {
        return Err(Error::BadInput(
            "--alpha and --power must be in (0, 1), --ratio positive".into(),
        ));
    }
    let h = cohens_h(p1, p2);
    println!("Cohen's h = {h:.4} for p1 = {p1} vs p2 = {p2} ({alternative:?}, alpha = {alpha}, ratio = {ratio}).");
    match n {
        Some(n) if n > 0.0 => {
            let p = power(h, n, alpha, ratio, alternative);
            println!("Power with {n} people reached by ad 1 and {} by ad 2: {:.4}", n * ratio, p);
        }
        Some(n) => return Err(Error::BadInput(format!("--n must be positive (got {n})"))),
        None => match sample_size(h, alpha, target, ratio, alternative) {
            Some(n1) => println!(
                "People to reach for power {target}: {} for ad 1 and {} for ad 2 ({n1:.2} before rounding up).",
                n1.ceil(),
                (n1 * ratio).ceil()
            ),
            None => {
                return Err(Error::BadInput(format!(
                    "no sample size reaches power {target}: p1 - p2 is zero or points against --alternative {alternative:?}"
                )))
            }
        },
    }
    Ok(())
}

fn mock_server(
    addr: std::net::SocketAddr,
    truth: Option<&Path>,
    seed: Option<u64>,
    start: Option<&str>,
    faults: Option<&Path>,
) -> Result<()> {
    let faults = match faults {
        Some(f) => crate::mockapi::faults::Faults::load(f).map_err(Error::BadInput)?,
        None => Default::default(),
    };
    // The account's currency is the truth experiment's, so its amounts mean the same.
    let (mut sim, currency) = match truth {
        Some(file) => {
            let exp = load(file)?;
            (crate::platform::sim::truth_of(&exp)?, exp.currency)
        }
        None => (
            crate::platform::sim::SimTruth::defaults(),
            "USD".to_string(),
        ),
    };
    if let Some(seed) = seed {
        sim.seed = seed;
    }
    let start = match start {
        Some(t) => chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|e| Error::BadInput(format!("--start `{t}` is not an RFC 3339 time: {e}")))?
            .with_timezone(&chrono::Utc),
        None => scheduler::start_time_now(),
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let mock = crate::mockapi::Mock::with_faults(sim, start, faults);
        mock.set_currency(&currency);
        let bound = crate::mockapi::spawn(mock, addr)
            .await
            .map_err(|e| Error::io(format!("cannot listen on {addr}"), e))?;
        println!("Mock Graph API on http://{bound}/{}/ (any act_ id; clock at http://{bound}/__admin/clock). Ctrl-C stops it.", crate::platform::meta::versions::LATEST);
        tokio::signal::ctrl_c().await.map_err(|e| Error::io("waiting for Ctrl-C", e))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--quiet` (of `run` and `resume`) hides the bar; without it the bar counts the
    /// planned collections. (Through the binary no bar is drawn: stderr is no terminal.)
    #[test]
    fn quiet_hides_the_bar_of_collections() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("campaigns/pilot_two_ads.toml");
        let exp = load(&file).unwrap();
        assert_eq!(collections_bar(&exp, false).0.length(), None);
        assert_eq!(
            collections_bar(&exp, true).0.length(),
            Some(scheduler::planned_collections(&exp))
        );
    }
}

//! `adskew report`: regenerate a stored run's report files; reads only the database.

use crate::analysis;
use crate::cli::ReportArgs;
use crate::error::Result;
use crate::report;
use crate::store::Store;

pub fn execute(args: ReportArgs) -> Result<()> {
    let store = Store::open_existing(&args.db.path()?)?;
    let record = store.find_experiment(&args.experiment)?;
    let inputs = store.analysis_inputs(&record)?;
    let report = report::Report::load(&store, &inputs, analysis::analyze(&inputs))?;
    let dir = args.out.join(&report.analysis.experiment.name);
    let files = report::write(&report, &dir, &args.format)?;
    if args.output.json {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        return super::print_json(&serde_json::json!({
            "run": record.id,
            "experiment": report.analysis.experiment.name,
            "folder": dir.display().to_string(),
            "files": files,
        }));
    }
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

//! `adskew report`: regenerate a stored run's report files; reads only the database.

use crate::analysis;
use crate::cli::ReportArgs;
use crate::error::Result;
use crate::report;
use crate::store::Store;

pub fn execute(args: ReportArgs) -> Result<()> {
    let store = Store::open_read_only(&args.db.path()?)?;
    let record = store.find_experiment(&args.experiment)?;
    let mut inputs = crate::report_inputs(&store, &record)?;
    args.p_floor.apply(&mut inputs.experiment.analysis);
    args.figures.apply(&mut inputs.experiment)?;
    let analysis = analysis::analyze(&inputs);
    let report = report::Report::load(&store, inputs, analysis)?;
    let written = report::write(&report, &args.out, &args.format)?;
    if args.output.json {
        let files: Vec<String> = written
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect();
        return super::print_json(&serde_json::json!({
            "run": record.id,
            "experiment": report.analysis.experiment.name,
            "folder": written.dir.display().to_string(),
            "files": files,
        }));
    }
    for f in written.files {
        println!("{}", f.display());
    }
    Ok(())
}

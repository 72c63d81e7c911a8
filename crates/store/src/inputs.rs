//! What an analysis of a run reads, read from the store in one place.

use std::collections::BTreeMap;

use crate::error::Result;
use adskew_core::analysis::Inputs;
use adskew_core::records::ExperimentRecord;

use crate::Store;

impl Store {
    /// Everything [`adskew_core::analysis::analyze`] needs about the run `record`.
    pub fn analysis_inputs(&self, record: &ExperimentRecord) -> Result<Inputs> {
        let experiment = record.experiment()?;
        let mut totals = BTreeMap::new();
        for b in &experiment.collect.breakdowns {
            totals.insert(*b, self.latest_totals(record.id, *b)?);
        }
        let state_cause = self
            .events(record.id)?
            .into_iter()
            .rev()
            .find(|e| e.state == record.state && e.is_about_run())
            .map(|e| e.cause);
        let mut inputs = Inputs::new(
            record.clone(),
            experiment,
            self.collections(record.id)?,
            totals,
            self.latest_reviews(record.id)?,
            state_cause,
        );
        if let Some(last) = self.looks(record.id)?.pop() {
            inputs.looks = last.looks;
            inputs.looks_as_of = Some(last.as_of);
        }
        Ok(inputs)
    }
}

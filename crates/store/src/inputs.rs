//! What an analysis of a run reads, read from the store in one place.

use std::collections::BTreeMap;

use crate::error::Result;
use adskew_core::analysis::Inputs;
use adskew_core::records::ExperimentRecord;

use crate::Store;

/// Whether the inputs also carry each collection's totals ([`Inputs::history`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Latest,
    WithHistory,
}

impl Store {
    /// Everything [`adskew_core::analysis::analyze`] needs about the run `record`.
    pub fn analysis_inputs(&self, record: &ExperimentRecord) -> Result<Inputs> {
        self.inputs(record, Reading::Latest)
    }

    /// [`Store::analysis_inputs`] and, from the same read of the totals, each
    /// collection's totals for a report's charts over time ([`Inputs::history`]).
    pub fn report_inputs(&self, record: &ExperimentRecord) -> Result<Inputs> {
        self.inputs(record, Reading::WithHistory)
    }

    fn inputs(&self, record: &ExperimentRecord, reading: Reading) -> Result<Inputs> {
        let experiment = record.experiment()?;
        let (mut totals, mut history) = (BTreeMap::new(), BTreeMap::new());
        for b in &experiment.collect.breakdowns {
            match reading {
                Reading::Latest => {
                    totals.insert(*b, self.latest_totals(record.id, *b)?);
                }
                Reading::WithHistory => {
                    let read = self.totals(record.id, *b)?;
                    totals.insert(*b, read.latest);
                    history.insert(*b, read.history);
                }
            }
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
        inputs.history = (reading == Reading::WithHistory).then_some(history);
        if let Some(last) = self.looks(record.id)?.pop() {
            inputs.looks = last.looks;
            inputs.looks_as_of = Some(last.as_of);
        }
        Ok(inputs)
    }
}

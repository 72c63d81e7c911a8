//! What a run has to do next: the scheduler's one decision, as a pure function of the run's
//! state, its plan and what has been collected, so `run`, `collect`, `status` and the guard
//! against a second copy all answer it the same way, and each case is tested on its own.

use chrono::{DateTime, TimeDelta, Utc};

use crate::records::RunState;

/// What the store knows about a run, as far as the schedule is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunClock {
    pub state: RunState,
    /// When the ads start and stop delivering (fixed when the run was recorded).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Every `collect_every` from the start, and the end.
    pub collect_every: TimeDelta,
    /// The latest scheduled time a collection was made for.
    pub last_collected: Option<DateTime<Utc>>,
    /// The final re-collection, once the run has ended, and whether it was made.
    pub recollect: Option<(DateTime<Utc>, bool)>,
}

/// The next thing a run has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Due {
    /// Activate every ad together at the start.
    Activate { at: DateTime<Utc> },
    /// The scheduled collections not made yet, oldest first (never empty).
    Collect { pending: Vec<DateTime<Utc>> },
    /// Every scheduled collection was made but the run was not marked as ended (the
    /// process stopped in between): end it now.
    Finish,
    /// The final re-collection, when the platform's late revisions have settled.
    Recollect { at: DateTime<Utc> },
    /// Nothing, ever again (failed, or ended and re-collected).
    Nothing,
}

impl RunClock {
    /// The scheduled collection times: every `collect_every` from the start, and the end.
    pub fn collection_times(&self) -> Vec<DateTime<Utc>> {
        let mut times = Vec::new();
        let mut t = self.start + self.collect_every;
        while t < self.end {
            times.push(t);
            t += self.collect_every;
        }
        times.push(self.end);
        times
    }

    /// What the run has to do next.
    pub fn due(&self) -> Due {
        match self.state {
            RunState::Draft | RunState::Created => Due::Activate { at: self.start },
            RunState::Running => {
                let pending: Vec<_> = self
                    .collection_times()
                    .into_iter()
                    .filter(|t| self.last_collected.is_none_or(|l| *t > l))
                    .collect();
                if pending.is_empty() {
                    Due::Finish
                } else {
                    Due::Collect { pending }
                }
            }
            RunState::Completed | RunState::Stopped => match self.recollect {
                Some((at, false)) => Due::Recollect { at },
                _ => Due::Nothing,
            },
            RunState::Failed => Due::Nothing,
        }
    }
}

impl Due {
    /// When the next step is due; `None` for [`Due::Nothing`] and for [`Due::Finish`],
    /// which is due at once.
    pub fn next_at(&self) -> Option<DateTime<Utc>> {
        match self {
            Due::Activate { at } | Due::Recollect { at } => Some(*at),
            Due::Collect { pending } => pending.first().copied(),
            Due::Finish | Due::Nothing => None,
        }
    }

    /// The time to act for if the step is due at `now`, for a pass that only does what is
    /// due (cron's `collect`). Missed collections are not made up one by one: the latest one
    /// due collects everything since the launch.
    pub fn due_by(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Due::Activate { at } | Due::Recollect { at } => (*at <= now).then_some(*at),
            Due::Collect { pending } => pending.iter().rev().find(|t| **t <= now).copied(),
            Due::Finish => Some(now),
            Due::Nothing => None,
        }
    }

    /// Whether the run has anything left to do.
    pub fn is_unfinished(&self) -> bool {
        *self != Due::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn clock(state: RunState) -> RunClock {
        RunClock {
            state,
            start: t(2, 0),
            end: t(4, 12),
            collect_every: TimeDelta::hours(24),
            last_collected: None,
            recollect: None,
        }
    }

    #[test]
    fn collections_every_interval_and_at_the_end() {
        assert_eq!(
            clock(RunState::Running).collection_times(),
            vec![t(3, 0), t(4, 0), t(4, 12)]
        );
    }

    #[test]
    fn a_run_not_yet_activated_is_activated_at_its_start() {
        for state in [RunState::Draft, RunState::Created] {
            let due = clock(state).due();
            assert_eq!(due, Due::Activate { at: t(2, 0) });
            assert_eq!(due.due_by(t(1, 23)), None);
            assert_eq!(due.due_by(t(2, 1)), Some(t(2, 0)));
        }
    }

    #[test]
    fn a_running_run_collects_what_it_has_not_and_merges_missed_times() {
        let mut c = clock(RunState::Running);
        c.last_collected = Some(t(3, 0));
        let due = c.due();
        assert_eq!(
            due,
            Due::Collect {
                pending: vec![t(4, 0), t(4, 12)]
            }
        );
        assert_eq!(due.next_at(), Some(t(4, 0)));
        assert_eq!(due.due_by(t(3, 12)), None);
        // Both missed: one pass, for the latest.
        assert_eq!(due.due_by(t(5, 0)), Some(t(4, 12)));
    }

    #[test]
    fn a_running_run_collected_to_its_end_is_finished() {
        let mut c = clock(RunState::Running);
        c.last_collected = Some(t(4, 12));
        assert_eq!(c.due(), Due::Finish);
        assert!(c.due().is_unfinished());
    }

    #[test]
    fn an_ended_run_owes_only_its_recollection() {
        let mut c = clock(RunState::Completed);
        assert_eq!(c.due(), Due::Nothing);
        c.recollect = Some((t(7, 12), false));
        assert_eq!(c.due(), Due::Recollect { at: t(7, 12) });
        c.state = RunState::Stopped;
        assert_eq!(c.due().due_by(t(8, 0)), Some(t(7, 12)));
        c.recollect = Some((t(7, 12), true));
        assert_eq!(c.due(), Due::Nothing);
        assert!(!c.due().is_unfinished());
    }

    #[test]
    fn a_failed_run_has_nothing_due() {
        let mut c = clock(RunState::Failed);
        c.recollect = Some((t(7, 12), false));
        assert_eq!(c.due(), Due::Nothing);
    }
}

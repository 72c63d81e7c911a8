//! Time, real or simulated.
//!
//! The scheduler waits for collection times through a [`Clock`]. Against a real platform
//! that is the wall clock; against the simulator it is a [`SimClock`] that jumps straight
//! to the next instant, so a 14-day experiment runs in seconds and the simulator, which
//! reads the same clock, delivers exactly the hours that have "passed".

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Returns once `now() >= t`.
    async fn sleep_until(&self, t: DateTime<Utc>);
}

/// The real time; waits with tokio timers.
#[derive(Debug, Default)]
pub struct WallClock;

#[async_trait]
impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        let wait = (t - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
    }
}

/// A clock that only moves when asked to.
#[derive(Debug)]
pub struct SimClock {
    now: Mutex<DateTime<Utc>>,
}

impl SimClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        SimClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward to `t` (never backwards).
    pub fn advance_to(&self, t: DateTime<Utc>) {
        let mut now = self.now.lock().expect("clock lock");
        if t > *now {
            *now = t;
        }
    }
}

#[async_trait]
impl Clock for SimClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock lock")
    }

    async fn sleep_until(&self, t: DateTime<Utc>) {
        self.advance_to(t);
    }
}

//! The adapter's own pacing: at most `calls` Graph calls in any sliding window of `window`,
//! counting every call inside a batch request.
//!
//! Why a sliding window and not a uniform rate: Meta's limits are counts over a window
//! ("rate limitation happens real time on sliding window", Marketing API rate limiting; the
//! scores decay over 300 s, the business-use-case quotas are per hour), and the mock
//! enforces the same (`rate_limit` calls per `rate_window_secs`, sliding). A uniform rate
//! set below the window's average never uses the burst the window allows, so a collection
//! of N calls took about N / rate seconds where the window allows ⌊(N − 1) / calls⌋
//! windows. Pacing by the window itself sends the first `calls` at once and each later
//! call as soon as one leaves the window.
//!
//! Why each call of a batch counts: Meta's page on batch requests ("Limitations") says
//! "each call within the batch is counted separately for the purposes of calculating API
//! call limits ... a batch of 10 API calls will count as 10 calls" (verified on
//! developers.facebook.com/docs/graph-api/batch-requests). Meta also weighs calls (its
//! rate-limiting page gives a read 1 point and a write 3 in the ad account's score); that
//! weighting is not applied here (unverified for the business-use-case quotas, which count
//! calls), so `calls` is a count of calls.
//!
//! A slot is held from the moment a call is sent until `window` after its answer arrived:
//! the platform counts a call when it arrives, which is between the two, so a call sent
//! when a slot frees arrives at least `window` after the call that held the slot did, and
//! the platform never sees more than `calls` in a window, whatever the network's delays.
//! A batch of more calls than the window holds waits for an empty window and then holds
//! the window for as many windows as it needs (`calls` per window), so the long-run rate
//! stays within the limit.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// At most `calls` calls in any sliding `window`.
pub struct Pacer {
    calls: usize,
    window: Duration,
    state: Mutex<Window>,
    /// Woken when a request ends, so a waiter sees the slots it freed.
    ended: Notify,
}

/// The calls in the window: those in flight, and those answered with when they leave.
#[derive(Default)]
struct Window {
    in_flight: usize,
    /// (when the slots free, how many), in order of the first.
    held: VecDeque<(Instant, usize)>,
}

impl Window {
    fn used(&self) -> usize {
        self.in_flight + self.held.iter().map(|(_, n)| n).sum::<usize>()
    }

    fn forget_before(&mut self, now: Instant) {
        while self.held.front().is_some_and(|(t, _)| *t <= now) {
            self.held.pop_front();
        }
    }

    fn hold(&mut self, until: Instant, calls: usize) {
        let at = self.held.partition_point(|(t, _)| *t <= until);
        self.held.insert(at, (until, calls));
    }
}

/// The right to send one request of `calls` calls; dropped when its answer has arrived
/// (or it failed), which starts its calls' time in the window.
pub struct Permit<'a> {
    pacer: &'a Pacer,
    slots: usize,
    calls: usize,
}

impl Pacer {
    /// A pacer of at most `calls` calls (at least 1) per sliding `window`.
    pub fn new(calls: u64, window: Duration) -> Pacer {
        Pacer {
            calls: usize::try_from(calls.max(1)).unwrap_or(usize::MAX),
            window,
            state: Mutex::new(Window::default()),
            ended: Notify::new(),
        }
    }

    /// Waits until a request of `calls` calls (a batch's count; 1 for a plain call) fits in
    /// the window, and takes its slots.
    pub async fn acquire(&self, calls: usize) -> Permit<'_> {
        let calls = calls.max(1);
        let slots = calls.min(self.calls);
        loop {
            // Registered before looking, so a request ending in between still wakes us.
            let ended = self.ended.notified();
            let next_free = {
                let mut window = self.state.lock().expect("pacer lock");
                window.forget_before(Instant::now());
                if window.used() + slots <= self.calls {
                    window.in_flight += slots;
                    return Permit {
                        pacer: self,
                        slots,
                        calls,
                    };
                }
                window.held.front().map(|(t, _)| *t)
            };
            match next_free {
                Some(t) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(t) => {}
                        _ = ended => {}
                    }
                }
                None => ended.await,
            }
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let pacer = self.pacer;
        {
            let mut window = pacer.state.lock().expect("pacer lock");
            window.in_flight -= self.slots;
            // Chunks of at most `calls` calls, one window after another.
            let mut left = self.calls;
            let mut until = now + pacer.window;
            while left > 0 {
                let chunk = left.min(pacer.calls);
                window.hold(until, chunk);
                left -= chunk;
                until += pacer.window;
            }
        }
        pacer.ended.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `requests` (each of so many calls) one after another, each answered after
    /// `latency`; returns when each was sent, from the start.
    async fn send(pacer: &Pacer, requests: &[usize], latency: Duration) -> Vec<Duration> {
        let start = Instant::now();
        let mut sent = Vec::new();
        for &calls in requests {
            let permit = pacer.acquire(calls).await;
            sent.push(start.elapsed());
            tokio::time::sleep(latency).await;
            drop(permit);
        }
        sent
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_burst_is_used_and_never_exceeded() {
        // 20 calls per 5 s, 74 calls answered in 10 ms each: the first 20 at once, then
        // each as a slot frees, so the 74th goes out after 3 windows (plus the answers'
        // time), never 21 within 5 s of each other's answers.
        let pacer = Pacer::new(20, Duration::from_secs(5));
        let latency = Duration::from_millis(10);
        let sent = send(&pacer, &[1; 74], latency).await;
        for (i, t) in sent.iter().enumerate().skip(20) {
            assert!(
                *t >= sent[i - 20] + latency + Duration::from_secs(5),
                "call {i} at {t:?}, call {} at {:?}",
                i - 20,
                sent[i - 20]
            );
        }
        assert!(sent[19] < Duration::from_millis(200), "{:?}", sent[19]);
        let last = sent[73].as_secs_f64();
        assert!((15.0..16.0).contains(&last), "74th call at {last} s");
    }

    #[tokio::test(start_paused = true)]
    async fn readers_side_by_side_share_one_window() {
        // Three readers of 17, 40 and 17 pages (a collection's breakdowns), each page sent
        // when the answer to the one before is in, 400 ms later: together never more than
        // 20 calls in a window, and sooner done than one reader of all 74 pages, whose
        // round trips, one after another, take longer than the window's wait.
        let latency = Duration::from_millis(400);
        let pacer = Pacer::new(20, Duration::from_secs(5));
        let (a, b, c) = tokio::join!(
            send(&pacer, &[1; 17], latency),
            send(&pacer, &[1; 40], latency),
            send(&pacer, &[1; 17], latency),
        );
        let mut sent: Vec<Duration> = a.into_iter().chain(b).chain(c).collect();
        sent.sort();
        assert_eq!(sent.len(), 74);
        for (i, t) in sent.iter().enumerate().skip(20) {
            assert!(
                *t >= sent[i - 20] + latency + Duration::from_secs(5),
                "call {i} at {t:?}, call {} at {:?}",
                i - 20,
                sent[i - 20]
            );
        }
        let alone = send(&Pacer::new(20, Duration::from_secs(5)), &[1; 74], latency).await;
        assert!(
            sent[73] + Duration::from_secs(5) < alone[73],
            "side by side the 74th call at {:?}, one reader at {:?}",
            sent[73],
            alone[73]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn every_call_of_a_batch_counts() {
        // 10 calls per second: a batch of 8 leaves room for 2 single calls, then waits.
        let pacer = Pacer::new(10, Duration::from_secs(1));
        let sent = send(&pacer, &[8, 1, 1, 1], Duration::ZERO).await;
        assert!(sent[2] < Duration::from_millis(1), "{sent:?}");
        assert!(sent[3] >= Duration::from_secs(1), "{sent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_batch_larger_than_the_window_keeps_the_average_rate() {
        // 5 calls per second, batches of 50: each holds the window for 10 s.
        let pacer = Pacer::new(5, Duration::from_secs(1));
        let sent = send(&pacer, &[50, 50, 50], Duration::ZERO).await;
        assert_eq!(sent[0], Duration::ZERO);
        assert!(sent[1] >= Duration::from_secs(10), "{sent:?}");
        assert!(sent[2] >= Duration::from_secs(20), "{sent:?}");
    }
}

//! Work on every figure of a report at once: one worker per core the process may use
//! (`std::thread::available_parallelism`, which follows the CPU affinity, so `taskset`
//! sets the count), each taking the next figure, the largest first (so the one tall figure
//! of a 150-ad report does not start last and leave the other cores idle); the answers
//! come back in the figures' order, so what a report writes does not depend on which
//! worker finished first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `f` of every item, computed on the available cores, in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_largest_first(items, |_| 0, f)
}

/// `f` of every item, computed on the available cores, started in decreasing order of
/// `size` (ties in the items' order), answered in the items' order.
pub fn map_largest_first<T: Sync, R: Send>(
    items: &[T],
    size: impl Fn(&T) -> u64,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(size(&items[i])));
    let next = AtomicUsize::new(0);
    let answers: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let answer = f(&items[i]);
                    *answers[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(answer);
                }
            });
        }
    });
    answers
        .into_iter()
        .map(|a| {
            a.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item was computed: a worker that panics ends the scope with it")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    #[test]
    fn answers_keep_the_items_order() {
        let items: Vec<u64> = (0..100).collect();
        let squares = super::map(&items, |&i| {
            // Uneven work, so workers finish out of order.
            std::thread::sleep(std::time::Duration::from_micros((100 - i) * 10));
            i * i
        });
        assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert!(super::map(&[] as &[u8], |_| 0).is_empty());
        let started = Mutex::new(Vec::new());
        let sizes = super::map_largest_first(
            &[3u64, 9, 1, 9],
            |&s| s,
            |&s| {
                started.lock().unwrap().push(s);
                s
            },
        );
        assert_eq!(sizes, [3, 9, 1, 9], "answers in the items' order");
        let started = started.into_inner().unwrap();
        assert_eq!(
            started[..2],
            [9, 9],
            "the largest started first: {started:?}"
        );
    }
}

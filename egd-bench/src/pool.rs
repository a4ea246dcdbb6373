//! Runs many training runs on `jobs` worker threads (default stacks: a run
//! boxes everything big).
//!
//! Workers take the next run from a shared counter, so results come back in
//! input order whatever the scheduling; each finished run is handed to a
//! callback on its worker thread at once (to write its files and its
//! results line before the next run starts). After an interrupt
//! ([`crate::interrupt`]) no further run starts. Each run is deterministic
//! on its own; only the timings depend on how many run in parallel.

use crate::config::RunConfig;
use crate::interrupt;
use crate::progress::{Progress, run_line};
use crate::run_result::RunResult;
use crate::train;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs every configuration, calls `done(i, &mut result)` on the worker as
/// each finishes, and returns the results in input order (runs never
/// started because of an interrupt are absent). `jobs` is clamped to
/// `1..=cfgs.len()`.
///
/// # Panics
///
/// If a worker thread cannot be spawned, or a run panics.
#[must_use]
pub fn run_all(
    cfgs: &[RunConfig],
    jobs: usize,
    progress: &Progress,
    done: &(dyn Fn(usize, &mut RunResult) + Sync),
) -> Vec<RunResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<RunResult>>> = Mutex::new(vec![None; cfgs.len()]);
    let workers = jobs.clamp(1, cfgs.len().max(1));
    std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(workers);
        for w in 0..workers {
            let (next, slots) = (&next, &slots);
            let handle = std::thread::Builder::new()
                .name(format!("egd-worker-{w}"))
                .spawn_scoped(s, move || {
                    while !interrupt::requested() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(cfg) = cfgs.get(i) else { break };
                        let bar = progress.run_bar(cfg);
                        let mut r = train::run(cfg, &mut |rec| bar.update(rec));
                        bar.finish();
                        done(i, &mut r);
                        let (finished, eta) = progress.run_done();
                        progress.log(&format!(
                            "{}[{finished}/{}] {}{eta}",
                            progress.label(),
                            cfgs.len(),
                            run_line(&r)
                        ));
                        if let Ok(mut v) = slots.lock() {
                            v[i] = Some(r);
                        }
                    }
                })
                .expect("spawn a worker thread");
            handles.push(handle);
        }
        for h in handles {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p);
            }
        }
    });
    progress.finish();
    slots
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect()
}

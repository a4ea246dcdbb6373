//! Ctrl-C (SIGINT, and SIGTERM as sent by Slurm on pre-emption or time-out):
//! a process-wide flag that training loops poll between optimizer steps.
//!
//! The first signal sets the flag: every running run stops after its current
//! step, keeps the epochs it completed and is recorded with
//! `stop: "interrupted"`; `compare` and `sweep` start no further runs. The
//! command then writes what it has and exits with status 130. A second
//! signal ends the process at once (status 130), for a run that is stuck.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Exit status of a command that was interrupted (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Installs the handler (once per process; later calls do nothing). If the
/// platform refuses, Ctrl-C keeps its default effect (the process ends and
/// the runs in flight are lost), which is said once on stderr.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let res = ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                std::process::exit(EXIT_INTERRUPTED);
            }
            eprintln!(
                "\ninterrupted: finishing the current step of each run and writing the results (Ctrl-C again to quit at once)"
            );
        });
        if let Err(e) = res {
            eprintln!("warning: cannot catch Ctrl-C ({e}); an interrupt will lose the runs in flight");
        }
    });
}

/// Whether an interrupt was requested.
#[must_use]
#[inline]
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Requests an interrupt, as Ctrl-C does (for callers that embed the
/// harness and have their own signal handling).
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

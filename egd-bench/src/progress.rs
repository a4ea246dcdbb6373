//! Live progress (indicatif) on stderr: one bar per running run, plus an
//! overall bar for `compare` and `sweep`, each with an estimate of the time
//! left, and the shard (`--shard I/N`) in front. Hidden with `--quiet` or
//! when stdout or stderr is not a terminal (a Slurm log, a pipe); the log
//! line of each finished run then goes to stderr as plain text (unless
//! `--quiet`), with the shard and the time left for the whole list.
//!
//! Time left: per run, the epochs left to the cap at the run's own epoch
//! rate (an upper bound when early stopping ends it sooner); for the list,
//! the runs left × the wall time per finished run so far (with `--jobs`
//! workers this already counts their overlap).

use crate::config::RunConfig;
use crate::formatting::num;
use crate::run_result::{EpochRecord, RunResult, Stop};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The progress display of one command.
#[derive(Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    quiet: bool,
    label: String,
    runs: usize,
    finished: AtomicUsize,
    start: Instant,
}

/// `1h02m`, `4m05s`, `12s`.
#[must_use]
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Estimated time left for `left` runs when `done` took `elapsed`.
#[must_use]
pub fn time_left(elapsed: Duration, done: usize, left: usize) -> Option<Duration> {
    (done > 0).then(|| elapsed.mul_f64(left as f64 / done as f64))
}

impl Progress {
    /// Bars if `!quiet` and both stdout and stderr are terminals; `runs` > 1
    /// adds an overall bar. `shard` (e.g. `"shard 1/4"`) prefixes the
    /// overall bar and the log lines.
    #[must_use]
    pub fn new(quiet: bool, runs: usize, shard: Option<String>) -> Self {
        let label = shard.map_or_else(String::new, |s| format!("[{s}] "));
        let visible = !quiet && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let mut p = Self {
            multi: None,
            overall: None,
            quiet,
            label,
            runs,
            finished: AtomicUsize::new(0),
            start: Instant::now(),
        };
        if !visible {
            return p;
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        p.overall = (runs > 1).then(|| {
            let bar = multi.add(ProgressBar::new(runs as u64));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix}runs {pos}/{len} [{bar:30}] {elapsed_precise}, ~{eta} left",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix(p.label.clone());
            bar
        });
        p.multi = Some(multi);
        p
    }

    /// The shard label (`"[shard 1/4] "`, or empty).
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// A bar for one run (hidden if the display is).
    #[must_use]
    pub fn run_bar(&self, cfg: &RunConfig) -> RunBar {
        let Some(multi) = &self.multi else {
            return RunBar(None);
        };
        let bar = multi.add(ProgressBar::new(u64::from(cfg.epochs)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>12} [{bar:25}] {pos}/{len} ep {msg} ({elapsed_precise}, ≤{eta} to cap)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{} s{}", cfg.optimizer, cfg.seed));
        RunBar(Some(bar))
    }

    /// Prints a log line above the bars, or to stderr (nothing if quiet).
    pub fn log(&self, line: &str) {
        if self.quiet {
            return;
        }
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None => eprintln!("{line}"),
        }
    }

    /// Counts a finished run; returns how many have finished and, when
    /// runs are left, `"; ~T left"` for the whole list.
    pub fn run_done(&self) -> (usize, String) {
        if let Some(b) = &self.overall {
            b.inc(1);
        }
        let done = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
        let left = self.runs.saturating_sub(done);
        let eta = match time_left(self.start.elapsed(), done, left) {
            Some(t) if left > 0 => format!("; {left} left, ~{} to go", duration_text(t)),
            _ => String::new(),
        };
        (done, eta)
    }

    /// Removes the bars.
    pub fn finish(&self) {
        if let Some(b) = &self.overall {
            b.finish_and_clear();
        }
    }
}

/// The bar of one run.
#[derive(Debug)]
pub struct RunBar(Option<ProgressBar>);

impl RunBar {
    /// Shows a completed epoch.
    pub fn update(&self, r: &EpochRecord) {
        if let Some(b) = &self.0 {
            b.set_position(u64::from(r.epoch));
            b.set_message(format!(
                "acc {:.3}/{:.3} loss {:.3}/{:.3} (train/test)",
                r.train_acc, r.test_acc, r.train_loss, r.test_loss
            ));
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

/// A one-line summary of a finished run, for logs.
#[must_use]
pub fn run_line(r: &RunResult) -> String {
    let c = &r.config;
    let grok = r.grok_epoch().map_or_else(
        || format!("never grokked in {} epochs", r.epochs_run()),
        |e| format!("grokked at epoch {e}"),
    );
    let ms = r.ms_per_step().map_or_else(|| "–".into(), |m| num(m, 2));
    let mut line = format!(
        "{} lr {} wd {} seed {}: {grok}; test {} after {} epochs; {ms} ms/step, {} s",
        c.optimizer,
        c.lr,
        c.wd,
        c.seed,
        r.last().map_or_else(|| "–".into(), |l| num(l.test_acc, 4)),
        r.epochs_run(),
        num(r.wall_s, 1)
    );
    match &r.stop {
        Stop::Failed(e) => line.push_str(&format!(" [failed: {e}]")),
        Stop::Interrupted => line.push_str(" [interrupted]"),
        _ => {}
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_scales_with_the_runs_left() {
        assert_eq!(time_left(Duration::from_secs(60), 0, 5), None);
        assert_eq!(
            time_left(Duration::from_secs(60), 2, 3),
            Some(Duration::from_secs(90))
        );
        assert_eq!(duration_text(Duration::from_secs(3725)), "1h02m");
        assert_eq!(duration_text(Duration::from_secs(245)), "4m05s");
        assert_eq!(duration_text(Duration::from_secs(12)), "12s");
    }
}

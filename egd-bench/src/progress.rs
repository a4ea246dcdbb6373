//! Live progress (indicatif) on stderr: one bar per running run, plus an
//! overall bar for `compare` and `sweep`. Hidden with `--quiet` or when
//! stdout or stderr is not a terminal; log lines then go to stderr as plain
//! text (unless `--quiet`).

use crate::config::RunConfig;
use crate::output::num;
use crate::train::{EpochRecord, RunResult};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// The progress display of one command.
#[derive(Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    quiet: bool,
}

impl Progress {
    /// Bars if `!quiet` and both stdout and stderr are terminals; `runs` > 1
    /// adds an overall bar.
    #[must_use]
    pub fn new(quiet: bool, runs: usize) -> Self {
        let visible = !quiet && std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        if !visible {
            return Self {
                multi: None,
                overall: None,
                quiet,
            };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let overall = (runs > 1).then(|| {
            let bar = multi.add(ProgressBar::new(runs as u64));
            bar.set_style(
                ProgressStyle::with_template("runs {pos}/{len} [{bar:30}] {elapsed_precise}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self {
            multi: Some(multi),
            overall,
            quiet,
        }
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
                "{prefix:>12} [{bar:25}] {pos}/{len} ep {msg} ({elapsed_precise})",
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

    /// Counts a finished run on the overall bar.
    pub fn run_done(&self) {
        if let Some(b) = &self.overall {
            b.inc(1);
        }
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
    if let crate::train::Stop::Failed(e) = &r.stop {
        line.push_str(&format!(" [failed: {e}]"));
    }
    line
}

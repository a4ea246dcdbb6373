//! What a training run produces: one [`EpochRecord`] per completed epoch,
//! why the run ended ([`Stop`]), and the finished [`RunResult`] with its
//! milestones (the paper's grok epoch, fit epoch, epoch of 99 %) and timings.
//!
//! Plain data: the training loop ([`crate::train`]) fills it in; the files,
//! tables, plots, logs and JSON records read it.

use crate::config::RunConfig;

/// Test accuracy that counts as grokked: strictly above this (the paper's
/// criterion).
pub const GROK_THRESHOLD: f64 = 0.95;
/// Accuracy for [`RunResult::fit_epoch`] and [`RunResult::epoch_99`] (`≥`).
pub const HIGH_ACC: f64 = 0.99;

/// The state after one completed epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EpochRecord {
    /// Completed epochs (1-based).
    pub epoch: u32,
    /// Optimizer steps so far (`epoch × steps_per_epoch`).
    pub step: u64,
    /// Accuracy on the whole training set.
    pub train_acc: f64,
    /// Accuracy on the whole test set.
    pub test_acc: f64,
    /// Mean loss on the training set (no weight-decay term).
    pub train_loss: f64,
    /// Mean loss on the test set.
    pub test_loss: f64,
    /// Frobenius norm of `W1`.
    pub w1_norm: f64,
    /// Wall milliseconds of this epoch's training steps (evaluation excluded).
    pub ms: f64,
    /// Wall seconds since the run started, at the end of this epoch's
    /// evaluation (setup, training and evaluation included).
    pub wall_s: f64,
}

/// Why a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The epoch cap was reached.
    Cap,
    /// Test accuracy ≥ 0.99 held for the early-stop window.
    EarlyStop,
    /// A step or an evaluation failed (NaN/∞ loss, SVD not converged): the
    /// run ends with the epochs completed so far.
    Failed(String),
    /// Ctrl-C (or SIGTERM) arrived ([`crate::interrupt`]): the run ends with
    /// the epochs completed so far; the epoch in progress is dropped.
    Interrupted,
}

impl Stop {
    /// `"cap"`, `"early_stop"`, `"failed"` or `"interrupted"`.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Cap => "cap",
            Self::EarlyStop => "early_stop",
            Self::Failed(_) => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// A finished run: its configuration, curve and milestones.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    /// What was run.
    pub config: RunConfig,
    /// Training examples.
    pub n_train: usize,
    /// Test examples.
    pub n_test: usize,
    /// Optimizer steps per epoch (`⌊n_train / batch⌋`).
    pub steps_per_epoch: usize,
    /// One record per completed epoch.
    pub curve: Vec<EpochRecord>,
    /// Why the run ended.
    pub stop: Stop,
    /// Wall seconds of the whole run (training and evaluation).
    pub wall_s: f64,
    /// The CSV curve, once written.
    pub csv: Option<std::path::PathBuf>,
    /// The SVG plot, once written.
    pub svg: Option<std::path::PathBuf>,
}

/// First epoch (1-based) whose record satisfies `pred`.
fn first_epoch(curve: &[EpochRecord], pred: impl Fn(&EpochRecord) -> bool) -> Option<u32> {
    curve.iter().find(|r| pred(r)).map(|r| r.epoch)
}

impl RunResult {
    /// First completed epoch with test accuracy > 0.95 (the paper's count).
    #[must_use]
    pub fn grok_epoch(&self) -> Option<u32> {
        first_epoch(&self.curve, |r| r.test_acc > GROK_THRESHOLD)
    }

    /// [`Self::grok_epoch`] × steps per epoch.
    #[must_use]
    pub fn grok_step(&self) -> Option<u64> {
        self.grok_epoch()
            .map(|e| u64::from(e) * self.steps_per_epoch as u64)
    }

    /// First completed epoch with training accuracy ≥ 0.99.
    #[must_use]
    pub fn fit_epoch(&self) -> Option<u32> {
        first_epoch(&self.curve, |r| r.train_acc >= HIGH_ACC)
    }

    /// First completed epoch with test accuracy ≥ 0.99.
    #[must_use]
    pub fn epoch_99(&self) -> Option<u32> {
        first_epoch(&self.curve, |r| r.test_acc >= HIGH_ACC)
    }

    /// Completed epochs.
    #[must_use]
    pub fn epochs_run(&self) -> u32 {
        self.curve.last().map_or(0, |r| r.epoch)
    }

    /// The last record, if any epoch completed.
    #[must_use]
    pub fn last(&self) -> Option<&EpochRecord> {
        self.curve.last()
    }

    /// Median over epochs of the per-epoch `ms / steps_per_epoch`.
    #[must_use]
    pub fn ms_per_step(&self) -> Option<f64> {
        let spe = self.steps_per_epoch.max(1) as f64;
        let v: Vec<f64> = self.curve.iter().map(|r| r.ms / spe).collect();
        crate::stats::median(&v)
    }

    /// Seconds of training steps (evaluation excluded) up to and including
    /// the grok epoch.
    #[must_use]
    pub fn grok_train_s(&self) -> Option<f64> {
        let g = self.grok_epoch()?;
        Some(
            self.curve
                .iter()
                .take_while(|r| r.epoch <= g)
                .map(|r| r.ms)
                .sum::<f64>()
                / 1000.0,
        )
    }

    /// Wall seconds from the start of the run until the grok epoch's
    /// evaluation finished (setup, training and every evaluation included).
    #[must_use]
    pub fn grok_wall_s(&self) -> Option<f64> {
        let g = self.grok_epoch()?;
        self.curve.iter().find(|r| r.epoch == g).map(|r| r.wall_s)
    }

    /// Seconds of training steps over the whole run.
    #[must_use]
    pub fn train_s(&self) -> f64 {
        self.curve.iter().map(|r| r.ms).sum::<f64>() / 1000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OptKind, RunArgs, resolve};

    fn record(epoch: u32, train_acc: f64, test_acc: f64) -> EpochRecord {
        EpochRecord {
            epoch,
            step: u64::from(epoch) * 10,
            train_acc,
            test_acc,
            train_loss: 0.0,
            test_loss: 0.0,
            w1_norm: 0.0,
            ms: 20.0,
            wall_s: f64::from(epoch) * 0.5,
        }
    }

    #[test]
    fn milestones_follow_the_paper() {
        let cfg = resolve(&RunArgs::default(), OptKind::Sgd, 0, None, None, None).unwrap();
        let r = RunResult {
            config: cfg,
            n_train: 100,
            n_test: 100,
            steps_per_epoch: 10,
            curve: vec![
                record(1, 0.5, 0.0),
                record(2, 0.99, 0.95), // exactly 0.95 does not count
                record(3, 1.0, 0.951),
                record(4, 1.0, 0.99),
            ],
            stop: Stop::Cap,
            wall_s: 1.0,
            csv: None,
            svg: None,
        };
        assert_eq!(r.fit_epoch(), Some(2));
        assert_eq!(r.grok_epoch(), Some(3));
        assert_eq!(r.grok_step(), Some(30));
        assert_eq!(r.epoch_99(), Some(4));
        assert_eq!(r.ms_per_step(), Some(2.0));
        assert_eq!(r.grok_train_s(), Some(0.06));
        assert_eq!(r.grok_wall_s(), Some(1.5));
        assert_eq!(r.epochs_run(), 4);
    }
}

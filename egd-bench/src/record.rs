//! One run as a serializable record (`serde`): the JSON object that `--json`
//! prints and that every line of a results file holds, and the way back
//! from a record to a [`RunResult`] for `egd report`.
//!
//! # JSON (`--json`: the last line of stdout; results files: one per line)
//!
//! `egd grok` prints one object, `egd compare`, `egd sweep` and `egd report`
//! an array of them, one per run. Keys (numbers are JSON numbers, absent or
//! non-finite values `null`):
//!
//! | key | meaning |
//! |---|---|
//! | `schema` | version of this layout ([`SCHEMA`]); `egd report` refuses others |
//! | `code_version` | the crate version, `+` the git commit it was built from (`-dirty` if the sources differed from it), when known |
//! | `task` | `"mod-add"`, `"mod-sub"`, `"mod-mul"`, `"mod-div"` or `"parity"` |
//! | `preset` | the preset name, or `null` |
//! | `p`, `train_frac` | modular tasks only: modulus and training fraction |
//! | `n`, `k` | parity only: input bits and secret bits |
//! | `n_train`, `n_test` | split sizes |
//! | `optimizer` | `sgd`, `adamw`, `grokfast`, `egd`, `egd-ns`, `egd-rsvd`, `colnorm` |
//! | `seed` | seed of split, shuffles and initialisation |
//! | `lr`, `wd`, `batch`, `width` | hyperparameters (`wd`: L2 in the gradient; decoupled for `adamw`) |
//! | `egd_layers`, `cutoff`, `warm_start`, `switch_off` | EGD settings (`"first"`/`"all"`, `"clamp:…"`/`"relative:…"`/`"auto"`, bool, threshold or `null`) |
//! | `rank`, `power_iters` | EGD-RSVD's sketch rank and power iterations (`null` for other optimizers) |
//! | `grokfast_alpha`, `grokfast_lambda` | Grokfast's EMA decay and amplification |
//! | `epochs_cap`, `early_stop` | limits (`early_stop`: window in epochs, or `null`) |
//! | `steps_per_epoch` | `⌊n_train / batch⌋` |
//! | `epochs_run` | completed epochs |
//! | `grok_epoch` | first completed epoch (1-based) with test accuracy **> 0.95**, or `null` |
//! | `grok_step` | `grok_epoch × steps_per_epoch`, or `null` |
//! | `fit_epoch` | first epoch with train accuracy ≥ 0.99, or `null` |
//! | `epoch_99` | first epoch with test accuracy ≥ 0.99, or `null` |
//! | `final_train_acc`, `final_test_acc`, `final_train_loss`, `final_test_loss` | after the last epoch (`null` if none completed) |
//! | `ms_per_step` | median over epochs of the epoch's training ms / `steps_per_epoch` |
//! | `grok_train_s` | seconds of training steps up to the grok epoch (evaluation excluded), or `null` |
//! | `grok_wall_s` | wall seconds from the start until the grok epoch's evaluation finished (evaluation included), or `null` |
//! | `wall_s` | wall seconds of the whole run, evaluation included |
//! | `stop` | `"cap"`, `"early_stop"`, `"failed"` or `"interrupted"` (Ctrl-C / SIGTERM) |
//! | `error` | why a `"failed"` run stopped (e.g. a NaN loss), else `null` |
//! | `csv`, `svg` | the files written, or `null` |
//! | `plan` | results files only: `{"command", "id", "index", "runs", "shard", "jobs"}` — the `compare`/`sweep` run list this run belongs to (its fingerprint `id`, this run's 0-based `index` of `runs`), the `"I/N"` shard that ran it and its `--jobs` |
//! | `curve` | results files only: one `[epoch, step, train_acc, test_acc, train_loss, test_loss, w1_norm, ms, wall_s]` per completed epoch (the CSV's columns) |
//!
//! Floats are written in the shortest form that reads back to the same
//! `f64` (so a merged report computes the same medians as the run itself).

use crate::config::{
    LayerPolicy, OptKind, RunArgs, RunConfig, TaskKind, UsageError, cutoff_name, parse_cutoff,
    resolve, split_sizes,
};
use crate::run_result::{EpochRecord, RunResult, Stop};
use egd_tasks::TaskSpec;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Version of the record layout. Raise it when a key changes meaning or
/// goes away; `egd report` merges only records of this version.
pub const SCHEMA: u32 = 1;

/// The code version written into every record: the crate version, plus
/// `+COMMIT` (`-dirty` when the sources differed from it) when the binary
/// was built in a git checkout.
#[must_use]
pub fn code_version() -> String {
    let version = env!("CARGO_PKG_VERSION");
    match option_env!("EGD_GIT_COMMIT") {
        Some(c) if !c.is_empty() => format!("{version}+{c}"),
        _ => version.to_string(),
    }
}

/// What a run was asked to do: every setting that changes its result. Two
/// runs with equal settings (and equal code) give the same curve, bit for
/// bit, so this is also the identity used to resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Task family name.
    pub task: String,
    /// The preset the defaults came from.
    pub preset: Option<String>,
    /// Modulus (modular tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<u32>,
    /// Training fraction (modular tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_frac: Option<f64>,
    /// Input bits (parity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Secret bits (parity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Training examples.
    pub n_train: usize,
    /// Test examples.
    pub n_test: usize,
    /// Optimizer name.
    pub optimizer: String,
    /// Seed.
    pub seed: u64,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay.
    pub wd: f64,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden width.
    pub width: usize,
    /// EGD layer policy.
    pub egd_layers: String,
    /// EGD cutoff.
    pub cutoff: String,
    /// EGD warm start.
    pub warm_start: bool,
    /// EGD switch-off threshold.
    pub switch_off: Option<f64>,
    /// EGD-RSVD sketch rank (`None` for other optimizers).
    pub rank: Option<u16>,
    /// EGD-RSVD power iterations (`None` for other optimizers).
    pub power_iters: Option<u8>,
    /// Grokfast α.
    pub grokfast_alpha: f64,
    /// Grokfast λ.
    pub grokfast_lambda: f64,
    /// Epoch cap.
    pub epochs_cap: u32,
    /// Early-stop window.
    pub early_stop: Option<u32>,
}

impl Settings {
    /// The settings of a configuration.
    ///
    /// # Errors
    ///
    /// If the task cannot be built (a configuration that `resolve` accepted
    /// always can).
    pub fn of(c: &RunConfig) -> Result<Self, UsageError> {
        let (n_train, n_test) = split_sizes(&c.task, c.seed)?;
        let (mut p, mut train_frac, mut n, mut k) = (None, None, None, None);
        match c.task {
            TaskSpec::Modular(m) => {
                p = Some(m.p);
                train_frac = Some(m.train_fraction);
            }
            TaskSpec::Parity(s) => {
                n = Some(s.n);
                k = Some(s.k);
            }
        }
        Ok(Self {
            task: c.task_name().to_string(),
            preset: c.preset.map(str::to_string),
            p,
            train_frac,
            n,
            k,
            n_train,
            n_test,
            optimizer: c.optimizer.name().to_string(),
            seed: c.seed,
            lr: c.lr,
            wd: c.wd,
            batch: c.batch,
            width: c.width,
            egd_layers: c.layers.name().to_string(),
            cutoff: cutoff_name(c.cutoff),
            warm_start: c.warm_start,
            switch_off: c.switch_off,
            rank: c.rsvd.map(|r| r.rank),
            power_iters: c.rsvd.map(|r| r.power_iters),
            grokfast_alpha: c.grokfast_alpha,
            grokfast_lambda: c.grokfast_lambda,
            epochs_cap: c.epochs,
            early_stop: c.early_stop,
        })
    }

    /// A canonical one-line key (the settings as JSON, in field order).
    #[must_use]
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The configuration these settings describe, rebuilt through the same
    /// validation as the command line (so it is a configuration this build
    /// can run).
    ///
    /// # Errors
    ///
    /// A message naming what this build does not know or accept.
    pub fn to_config(&self) -> Result<RunConfig, String> {
        let optimizer = OptKind::parse(&self.optimizer)
            .ok_or_else(|| format!("unknown optimizer '{}'", self.optimizer))?;
        let task = match self.task.as_str() {
            "mod-add" => TaskKind::ModAdd,
            "mod-sub" => TaskKind::ModSub,
            "mod-mul" => TaskKind::ModMul,
            "mod-div" => TaskKind::ModDiv,
            "parity" => TaskKind::Parity,
            other => return Err(format!("unknown task '{other}'")),
        };
        let parity = task == TaskKind::Parity;
        let egd_layers = match self.egd_layers.as_str() {
            "first" => LayerPolicy::First,
            "all" => LayerPolicy::All,
            other => return Err(format!("unknown egd_layers '{other}'")),
        };
        let args = RunArgs {
            preset: self.preset.clone(),
            task: self.preset.is_none().then_some(task),
            p: self.p,
            train_frac: self.train_frac,
            n: self.n,
            k: self.k,
            n_train: parity.then_some(self.n_train),
            n_test: parity.then_some(self.n_test),
            batch: Some(self.batch),
            width: Some(self.width),
            epochs: Some(self.epochs_cap),
            egd_layers,
            cutoff: parse_cutoff(&self.cutoff)?,
            warm_start: self.warm_start,
            switch_off: self.switch_off,
            early_stop: Some(self.early_stop.unwrap_or(0)),
            grokfast_alpha: self.grokfast_alpha,
            grokfast_lambda: self.grokfast_lambda,
            rank: self.rank.unwrap_or(RunArgs::default().rank),
            power_iters: self.power_iters.unwrap_or(RunArgs::default().power_iters),
            ..RunArgs::default()
        };
        let cfg = resolve(
            &args,
            optimizer,
            self.seed,
            Some(self.lr),
            Some(self.wd),
            None,
        )
        .map_err(|e| e.0)?;
        let back = Self::of(&cfg).map_err(|e| e.0)?;
        if back != *self {
            return Err(format!(
                "the settings do not rebuild to themselves in this build: {} vs {}",
                self.key(),
                back.key()
            ));
        }
        Ok(cfg)
    }
}

/// Where a run of `compare`/`sweep` sits in its run list (results files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTag {
    /// `"compare"` or `"sweep"`.
    pub command: String,
    /// Fingerprint of the whole run list ([`crate::plan::Plan::id`]).
    pub id: String,
    /// This run's 0-based index in the run list.
    pub index: usize,
    /// Runs in the list.
    pub runs: usize,
    /// The shard that ran it, `"I/N"`.
    pub shard: String,
    /// `--jobs` of that shard.
    pub jobs: usize,
}

/// One curve row: the CSV's columns, non-finite values as `null`.
pub type CurveRow = (
    u32,
    u64,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
);

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn curve_row(e: &EpochRecord) -> CurveRow {
    (
        e.epoch,
        e.step,
        finite(e.train_acc),
        finite(e.test_acc),
        finite(e.train_loss),
        finite(e.test_loss),
        finite(e.w1_norm),
        finite(e.ms),
        finite(e.wall_s),
    )
}

fn epoch_record(r: &CurveRow) -> EpochRecord {
    let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
    EpochRecord {
        epoch: r.0,
        step: r.1,
        train_acc: v(r.2),
        test_acc: v(r.3),
        train_loss: v(r.4),
        test_loss: v(r.5),
        w1_norm: v(r.6),
        ms: v(r.7),
        wall_s: v(r.8),
    }
}

/// One run: settings, milestones, timings, files (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`SCHEMA`].
    pub schema: u32,
    /// [`code_version`] of the binary that ran it.
    pub code_version: String,
    /// What was run.
    #[serde(flatten)]
    pub settings: Settings,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Completed epochs.
    pub epochs_run: u32,
    /// First epoch with test accuracy > 0.95.
    pub grok_epoch: Option<u32>,
    /// `grok_epoch × steps_per_epoch`.
    pub grok_step: Option<u64>,
    /// First epoch with train accuracy ≥ 0.99.
    pub fit_epoch: Option<u32>,
    /// First epoch with test accuracy ≥ 0.99.
    pub epoch_99: Option<u32>,
    /// Train accuracy after the last epoch.
    pub final_train_acc: Option<f64>,
    /// Test accuracy after the last epoch.
    pub final_test_acc: Option<f64>,
    /// Train loss after the last epoch.
    pub final_train_loss: Option<f64>,
    /// Test loss after the last epoch.
    pub final_test_loss: Option<f64>,
    /// Median ms per step.
    pub ms_per_step: Option<f64>,
    /// Seconds of training steps to grok.
    pub grok_train_s: Option<f64>,
    /// Wall seconds to the grok epoch's evaluation.
    pub grok_wall_s: Option<f64>,
    /// Wall seconds of the run.
    pub wall_s: Option<f64>,
    /// Why the run ended.
    pub stop: String,
    /// The failure, for `"failed"`.
    pub error: Option<String>,
    /// The CSV written.
    pub csv: Option<String>,
    /// The SVG written.
    pub svg: Option<String>,
    /// Results files: the run list this run belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanTag>,
    /// Results files: the curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curve: Option<Vec<CurveRow>>,
}

impl RunRecord {
    /// The record of a run, without plan or curve (what `--json` prints).
    ///
    /// # Errors
    ///
    /// If the run's task cannot be built (never for a run that trained).
    pub fn of(r: &RunResult) -> Result<Self, UsageError> {
        let last = r.last();
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        Ok(Self {
            schema: SCHEMA,
            code_version: code_version(),
            settings: Settings::of(&r.config)?,
            steps_per_epoch: r.steps_per_epoch,
            epochs_run: r.epochs_run(),
            grok_epoch: r.grok_epoch(),
            grok_step: r.grok_step(),
            fit_epoch: r.fit_epoch(),
            epoch_99: r.epoch_99(),
            final_train_acc: last.and_then(|l| finite(l.train_acc)),
            final_test_acc: last.and_then(|l| finite(l.test_acc)),
            final_train_loss: last.and_then(|l| finite(l.train_loss)),
            final_test_loss: last.and_then(|l| finite(l.test_loss)),
            ms_per_step: r.ms_per_step().and_then(finite),
            grok_train_s: r.grok_train_s().and_then(finite),
            grok_wall_s: r.grok_wall_s().and_then(finite),
            wall_s: finite(r.wall_s),
            stop: r.stop.name().to_string(),
            error: match &r.stop {
                Stop::Failed(e) => Some(e.clone()),
                _ => None,
            },
            csv: path(&r.csv),
            svg: path(&r.svg),
            plan: None,
            curve: None,
        })
    }

    /// This record with the run's plan tag and curve (a results-file line).
    #[must_use]
    pub fn with_plan(mut self, plan: PlanTag, r: &RunResult) -> Self {
        self.plan = Some(plan);
        self.curve = Some(r.curve.iter().map(curve_row).collect());
        self
    }

    /// The record as one line of JSON (no newline).
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The run back, for reports: its configuration rebuilt from the
    /// settings, its curve and stop reason from the record.
    ///
    /// # Errors
    ///
    /// A record without a curve (a `--json` line rather than a results-file
    /// line), an unknown stop reason, or settings this build cannot run.
    pub fn to_result(&self) -> Result<RunResult, String> {
        let curve = self
            .curve
            .as_ref()
            .ok_or("the record has no curve (a --json line, not a results-file line)")?;
        let stop = match self.stop.as_str() {
            "cap" => Stop::Cap,
            "early_stop" => Stop::EarlyStop,
            "interrupted" => Stop::Interrupted,
            "failed" => Stop::Failed(self.error.clone().unwrap_or_default()),
            other => return Err(format!("unknown stop reason '{other}'")),
        };
        Ok(RunResult {
            config: self.settings.to_config()?,
            n_train: self.settings.n_train,
            n_test: self.settings.n_test,
            steps_per_epoch: self.steps_per_epoch,
            curve: curve.iter().map(epoch_record).collect(),
            stop,
            wall_s: self.wall_s.unwrap_or(f64::NAN),
            csv: self.csv.as_ref().map(PathBuf::from),
            svg: self.svg.as_ref().map(PathBuf::from),
        })
    }
}

/// One run as a JSON object on one line (what `egd grok --json` prints).
#[must_use]
pub fn run_json(r: &RunResult) -> String {
    RunRecord::of(r).map_or_else(
        |e| serde_json::json!({ "error": e.0 }).to_string(),
        |rec| rec.to_json(),
    )
}

/// Several records as a JSON array on one line.
#[must_use]
pub fn records_json(records: &[RunRecord]) -> String {
    serde_json::to_string(records).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::run;

    fn cfg(opt: OptKind, args: &RunArgs) -> RunConfig {
        resolve(args, opt, 3, None, None, Some(5)).unwrap()
    }

    #[test]
    fn settings_rebuild_their_configuration() {
        let cases = [
            RunArgs::default(),
            RunArgs {
                preset: Some("paper-add-127".into()),
                lr: Some(0.3),
                warm_start: true,
                cutoff: egd_core::polar::Cutoff::Relative(0.01),
                switch_off: Some(0.9),
                ..RunArgs::default()
            },
            RunArgs {
                task: Some(TaskKind::ModMul),
                p: Some(23),
                width: Some(64),
                batch: Some(64),
                ..RunArgs::default()
            },
            RunArgs {
                task: Some(TaskKind::Parity),
                n: Some(50),
                k: Some(4),
                n_test: Some(300),
                ..RunArgs::default()
            },
            RunArgs {
                preset: Some("paper-add-97".into()),
                rank: 64,
                power_iters: 3,
                ..RunArgs::default()
            },
        ];
        for a in &cases {
            for opt in OptKind::ALL {
                let c = cfg(opt, a);
                let s = Settings::of(&c).unwrap();
                assert_eq!(s.to_config().unwrap(), c, "{}", s.key());
            }
        }
    }

    #[test]
    fn records_round_trip_through_json() {
        let c = resolve(
            &RunArgs {
                epochs: Some(2),
                ..RunArgs::default()
            },
            OptKind::Egd,
            1,
            None,
            None,
            None,
        )
        .unwrap();
        let r = run(&c, &mut |_| {});
        let tag = PlanTag {
            command: "compare".into(),
            id: "00".into(),
            index: 0,
            runs: 1,
            shard: "0/1".into(),
            jobs: 1,
        };
        let rec = RunRecord::of(&r).unwrap().with_plan(tag, &r);
        let line = rec.to_json();
        assert!(!line.contains('\n'));
        let back: RunRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.to_result().unwrap(), r);
        // `--json` lines carry no plan or curve.
        let plain = run_json(&r);
        assert!(
            plain.starts_with("{\"schema\":1,\"code_version\":"),
            "{plain}"
        );
        assert!(!plain.contains("\"curve\"") && !plain.contains("\"plan\""));
    }

    #[test]
    fn non_finite_numbers_are_null() {
        let row = curve_row(&EpochRecord {
            epoch: 1,
            step: 2,
            train_acc: 0.5,
            test_acc: 0.25,
            train_loss: f64::NAN,
            test_loss: f64::INFINITY,
            w1_norm: 1.0,
            ms: 3.0,
            wall_s: 4.0,
        });
        let s = serde_json::to_string(&row).unwrap();
        assert_eq!(s, "[1,2,0.5,0.25,null,null,1.0,3.0,4.0]");
    }
}

//! Run configuration: presets, task parameters, optimizer settings and their
//! validation into one [`RunConfig`] per training run.
//!
//! Defaults come from a named [`Preset`] (the paper's settings); every flag
//! overrides one field. Without `--preset` and `--task` the smoke preset
//! [`DEFAULT_PRESET`] (`smoke-add-47`) is used; `--task mod-*` starts from the paper's modular
//! settings (p = 97, hidden 512, SGD lr 0.7, batch 512, L2 1e-4) and
//! `--task parity` from the paper's preset with the same `n` (else
//! `paper-parity-3`).

use crate::shapes;
use clap::{Args, ValueEnum};
use egd_core::optim::Layers;
use egd_core::polar::Cutoff;
use egd_tasks::{
    Dataset, InitScheme, ModularSpec, Op, ParitySpec, Preset, Remainder, TaskError, TaskSpec,
};
use std::fmt;
use std::path::PathBuf;

/// The preset used when neither `--preset` nor `--task` is given.
pub const DEFAULT_PRESET: &str = "smoke-add-47";

/// The `egd-tasks` preset called `name`.
#[must_use]
pub fn find_preset(name: &str) -> Option<Preset> {
    Preset::by_name(name).copied()
}

/// Every preset name, `egd-tasks`' first.
#[must_use]
pub fn preset_names() -> Vec<&'static str> {
    Preset::ALL.iter().map(|p| p.name).collect()
}

/// Default `--early-stop` window of `grok`, `compare` and `sweep` (epochs
/// with test accuracy ≥ 0.99 in a row).
pub const DEFAULT_EARLY_STOP: u32 = 5;

/// A bad command line: the message names the argument. The binary prints it
/// on one line and exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for building a [`UsageError`].
fn usage<T>(msg: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError(msg.into()))
}

/// The task families of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TaskKind {
    /// `(a + b) mod p`.
    ModAdd,
    /// `(a − b) mod p`.
    ModSub,
    /// `(a · b) mod p` (p prime).
    ModMul,
    /// `(a / b) mod p` (p prime, b ≠ 0).
    ModDiv,
    /// Sparse parity of `k` of `n` ±1 bits.
    Parity,
}

impl TaskKind {
    /// The modular operation, or `None` for parity.
    #[must_use]
    pub const fn op(self) -> Option<Op> {
        match self {
            Self::ModAdd => Some(Op::Add),
            Self::ModSub => Some(Op::Sub),
            Self::ModMul => Some(Op::Mul),
            Self::ModDiv => Some(Op::Div),
            Self::Parity => None,
        }
    }
}

/// The optimizers the harness can run. All but `adamw` use plain SGD (no
/// momentum) as the base step and the coupled L2 term `wd · W` in the
/// gradient, as the paper does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum OptKind {
    /// Plain SGD, L2 in the gradient (the paper's "vanilla").
    Sgd,
    /// `AdamW`; `--wd` is its decoupled decay (default lr 1e-3, wd 1e-2).
    #[value(name = "adamw")]
    AdamW,
    /// Grokfast-EMA (α, λ) filter, then SGD.
    Grokfast,
    /// EGD (exact polar factor by Jacobi SVD, with the cutoff), then SGD.
    Egd,
    /// EGD by 5 Newton–Schulz steps (approximate, ignores the cutoff), then SGD.
    EgdNs,
    /// EGD-RSVD: the direction from a rank-`--rank` randomized SVD with
    /// `--power-iters` power iterations (the paper's variant), then SGD.
    EgdRsvd,
    /// The paper's column-norm baseline (rows of our `W1` layout), then SGD.
    #[value(name = "colnorm")]
    ColNorm,
}

impl OptKind {
    /// Every optimizer, in table order.
    pub const ALL: [Self; 7] = [
        Self::Sgd,
        Self::AdamW,
        Self::Grokfast,
        Self::Egd,
        Self::EgdNs,
        Self::EgdRsvd,
        Self::ColNorm,
    ];

    /// The command-line name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::AdamW => "adamw",
            Self::Grokfast => "grokfast",
            Self::Egd => "egd",
            Self::EgdNs => "egd-ns",
            Self::EgdRsvd => "egd-rsvd",
            Self::ColNorm => "colnorm",
        }
    }

    /// Parses a command-line name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.name() == s)
    }

    /// The learning rate when `--lr` is not given: the preset's, except
    /// `AdamW` (1e-3, `PyTorch`'s default; the preset's SGD rate would diverge).
    #[must_use]
    pub const fn default_lr(self, preset_lr: f64) -> f64 {
        match self {
            Self::AdamW => 1e-3,
            _ => preset_lr,
        }
    }

    /// The weight decay when `--wd` is not given: the preset's L2, except
    /// `AdamW`, whose decay is decoupled (1e-2, `PyTorch`'s default).
    #[must_use]
    pub const fn default_wd(self, preset_wd: f64) -> f64 {
        match self {
            Self::AdamW => 1e-2,
            _ => preset_wd,
        }
    }

    /// Whether the EGD layer policy and cutoff apply.
    #[must_use]
    pub const fn is_egd(self) -> bool {
        matches!(self, Self::Egd | Self::EgdNs | Self::EgdRsvd)
    }
}

impl fmt::Display for OptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which weight matrices EGD (and column norm) act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayerPolicy {
    /// `W1` only (the paper's MLP experiments).
    First,
    /// `W1` and `W2`.
    All,
}

impl LayerPolicy {
    /// The core's layer selection.
    #[must_use]
    pub const fn layers(self) -> Layers {
        match self {
            Self::First => Layers::First,
            Self::All => Layers::All,
        }
    }

    /// The command-line name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::First => "first",
            Self::All => "all",
        }
    }
}

/// Parses `clamp:EPS`, `relative:TAU` or `auto` (the `--cutoff` flag).
///
/// # Errors
///
/// A message naming the accepted forms.
pub fn parse_cutoff(s: &str) -> Result<Cutoff<f64>, String> {
    let num = |v: &str| -> Result<f64, String> {
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err(format!("'{v}' is not a finite number > 0")),
        }
    };
    match s.split_once(':') {
        None if s == "auto" => Ok(Cutoff::Auto),
        Some(("clamp", v)) => Ok(Cutoff::Clamp(num(v)?)),
        Some(("relative", v)) => Ok(Cutoff::Relative(num(v)?)),
        _ => Err("expected clamp:EPS, relative:TAU or auto".into()),
    }
}

/// The command-line form of a cutoff (`clamp:0.000001`, `relative:…`, `auto`).
#[must_use]
pub fn cutoff_name(c: Cutoff<f64>) -> String {
    match c {
        Cutoff::Auto => "auto".into(),
        Cutoff::Clamp(e) => format!("clamp:{e}"),
        Cutoff::Relative(t) => format!("relative:{t}"),
    }
}

/// The flags shared by `grok`, `compare` and `sweep`: the task, the model and
/// the hyperparameters (each overrides the preset's value).
#[derive(Debug, Clone, PartialEq, Args)]
pub struct RunArgs {
    /// Named configuration (the paper's settings): see `egd list`.
    /// Default: `smoke-add-47` unless `--task` is given.
    #[arg(long, value_name = "NAME", conflicts_with = "task")]
    pub preset: Option<String>,
    /// Task, instead of a preset (starts from the paper's settings for it).
    #[arg(long, value_enum)]
    pub task: Option<TaskKind>,
    /// Modulus of a modular task (compiled shapes only: see `egd list`).
    #[arg(long)]
    pub p: Option<u32>,
    /// Fraction of the pairs used for training, in (0, 1).
    #[arg(long, value_name = "FRAC")]
    pub train_frac: Option<f64>,
    /// Parity: input bits.
    #[arg(long)]
    pub n: Option<usize>,
    /// Parity: secret bits (the first k).
    #[arg(long)]
    pub k: Option<usize>,
    /// Parity: training examples.
    #[arg(long, value_name = "N")]
    pub n_train: Option<usize>,
    /// Parity: test examples.
    #[arg(long, value_name = "N")]
    pub n_test: Option<usize>,
    /// Learning rate (> 0). `compare`: applies to every optimizer listed,
    /// `adamw` included (without it each takes its own default); use
    /// `sweep --lrs OPT:…` for per-optimizer grids.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight decay: L2 added to the gradient (`adamw`: decoupled decay).
    #[arg(long)]
    pub wd: Option<f64>,
    /// Minibatch size (the last partial batch of an epoch is dropped).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Hidden width of the MLP (compiled shapes only).
    #[arg(long, alias = "hidden")]
    pub width: Option<usize>,
    /// Cap on the number of epochs.
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Which weight matrices EGD / column norm act on.
    #[arg(long, value_enum, alias = "policy", default_value = "first")]
    pub egd_layers: LayerPolicy,
    /// EGD cutoff for small singular values: `clamp:EPS` (the reference
    /// code's soft cutoff), `relative:TAU` (Moore–Penrose below `τ·σ_max`), `auto`.
    #[arg(long, value_parser = parse_cutoff, default_value = "clamp:1e-6")]
    pub cutoff: Cutoff<f64>,
    /// EGD: start each Jacobi SVD from the previous step's rotation (same
    /// accuracy contract, usually fewer sweeps; off by default, like the core).
    #[arg(long)]
    pub warm_start: bool,
    /// EGD-RSVD: sketch rank r (1 ..= 256; r ≥ min(R, C) is exact EGD).
    #[arg(long, value_name = "R", default_value_t = 128)]
    pub rank: u16,
    /// EGD-RSVD: power iterations q (1 ..= 16; the paper: 2).
    #[arg(long, value_name = "Q", default_value_t = 2)]
    pub power_iters: u8,
    /// Switch EGD off for good (plain SGD) once test accuracy exceeds this.
    #[arg(long, value_name = "ACC")]
    pub switch_off: Option<f64>,
    /// End a run once test accuracy ≥ 0.99 held for N epochs in a row
    /// (default 5; 0: never, train to the epoch cap).
    #[arg(long, value_name = "N")]
    pub early_stop: Option<u32>,
    /// Grokfast EMA decay α.
    #[arg(long, default_value_t = 0.98)]
    pub grokfast_alpha: f64,
    /// Grokfast amplification λ.
    #[arg(long, default_value_t = 2.0)]
    pub grokfast_lambda: f64,
    /// Directory for CSV curves and SVG plots.
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,
    /// Print the result as JSON on the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no per-run log lines.
    #[arg(long, short)]
    pub quiet: bool,
}

impl Default for RunArgs {
    /// The command line without flags (the same values as clap's defaults).
    fn default() -> Self {
        Self {
            preset: None,
            task: None,
            p: None,
            train_frac: None,
            n: None,
            k: None,
            n_train: None,
            n_test: None,
            lr: None,
            wd: None,
            batch: None,
            width: None,
            epochs: None,
            egd_layers: LayerPolicy::First,
            cutoff: Cutoff::Clamp(1e-6),
            warm_start: false,
            rank: 128,
            power_iters: 2,
            switch_off: None,
            early_stop: None,
            grokfast_alpha: 0.98,
            grokfast_lambda: 2.0,
            out: PathBuf::from("runs"),
            json: false,
            quiet: false,
        }
    }
}

/// Largest EGD-RSVD rank the harness's workspace holds (`--rank`).
pub const MAX_RANK: u16 = 256;

/// EGD-RSVD's sketch rank and power iterations, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RsvdSettings {
    /// Sketch rank `r` (`1..=`[`MAX_RANK`]).
    pub rank: u16,
    /// Power iterations `q` (`1..=16`).
    pub power_iters: u8,
}

impl RsvdSettings {
    /// Checks the ranges of `--rank` and `--power-iters`.
    ///
    /// # Errors
    ///
    /// A [`UsageError`] naming the flag.
    pub fn new(rank: u16, power_iters: u8) -> Result<Self, UsageError> {
        if rank == 0 || rank > MAX_RANK {
            return usage(format!("--rank: must be in 1..={MAX_RANK} (got {rank})"));
        }
        if power_iters == 0 || power_iters > egd_core::rsvd::MAX_POWER_ITERS {
            return usage(format!(
                "--power-iters: must be in 1..={} (got {power_iters})",
                egd_core::rsvd::MAX_POWER_ITERS
            ));
        }
        Ok(Self { rank, power_iters })
    }
}

/// Everything one training run needs, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// The preset the defaults came from, if any.
    pub preset: Option<&'static str>,
    /// The task (its seed is [`RunConfig::seed`]).
    pub task: TaskSpec,
    /// The optimizer.
    pub optimizer: OptKind,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay (L2 in the gradient; decoupled for `adamw`).
    pub wd: f64,
    /// Minibatch size.
    pub batch: usize,
    /// Hidden width.
    pub width: usize,
    /// Epoch cap.
    pub epochs: u32,
    /// Seed of the split, the epoch shuffles and the initialisation.
    pub seed: u64,
    /// Parameter initialisation.
    pub init: InitScheme,
    /// Whether the output layer has a bias.
    pub output_bias: bool,
    /// EGD / column-norm layer policy.
    pub layers: LayerPolicy,
    /// EGD cutoff (Jacobi only).
    pub cutoff: Cutoff<f64>,
    /// EGD: warm-started Jacobi SVD.
    pub warm_start: bool,
    /// EGD-RSVD: sketch rank and power iterations (`None` for other optimizers).
    pub rsvd: Option<RsvdSettings>,
    /// EGD switch-off threshold on test accuracy.
    pub switch_off: Option<f64>,
    /// Early-stop window (epochs with test accuracy ≥ 0.99), if on.
    pub early_stop: Option<u32>,
    /// Grokfast α.
    pub grokfast_alpha: f64,
    /// Grokfast λ.
    pub grokfast_lambda: f64,
}

impl RunConfig {
    /// `"mod-add"`, …, `"parity"`.
    #[must_use]
    pub fn task_name(&self) -> &'static str {
        task_name(&self.task)
    }

    /// A file-name-safe description of the task, e.g. `paper-add-97`,
    /// `mod-mul-p23-f0.3` or `parity-n100-k3`.
    #[must_use]
    pub fn task_label(&self) -> String {
        if let Some(p) = self.preset
            && find_preset(p).is_some_and(|pr| pr.task == self.task)
        {
            return p.to_string();
        }
        match self.task {
            TaskSpec::Modular(m) => {
                format!("{}-p{}-f{}", task_name(&self.task), m.p, m.train_fraction)
            }
            TaskSpec::Parity(s) => format!(
                "parity-n{}-k{}-tr{}-te{}",
                s.n, s.k, s.train_len, s.test_len
            ),
        }
    }

    /// A file-name stem for this run's CSV and SVG.
    #[must_use]
    pub fn file_stem(&self) -> String {
        let mut s = format!(
            "{}_{}_lr{}_wd{}_b{}_h{}",
            self.task_label(),
            self.optimizer,
            self.lr,
            self.wd,
            self.batch,
            self.width
        );
        if self.optimizer.is_egd() && self.layers == LayerPolicy::All {
            s.push_str("_all");
        }
        if matches!(self.optimizer, OptKind::Egd | OptKind::EgdRsvd)
            && self.cutoff != Cutoff::Clamp(1e-6)
        {
            s.push('_');
            s.push_str(&cutoff_name(self.cutoff).replace(':', ""));
        }
        if self.optimizer == OptKind::Egd && self.warm_start {
            s.push_str("_warm");
        }
        if let Some(r) = self.rsvd {
            s.push_str(&format!("_r{}_q{}", r.rank, r.power_iters));
        }
        if let Some(t) = self.switch_off.filter(|_| self.optimizer.is_egd()) {
            s.push_str(&format!("_off{t}"));
        }
        s.push_str(&format!("_seed{}", self.seed));
        s
    }
}

/// `"mod-add"`, …, `"parity"` for a task.
#[must_use]
pub fn task_name(task: &TaskSpec) -> &'static str {
    match task {
        TaskSpec::Modular(m) => match m.op {
            Op::Add => "mod-add",
            Op::Sub => "mod-sub",
            Op::Mul => "mod-mul",
            Op::Div => "mod-div",
            _ => "mod",
        },
        TaskSpec::Parity(_) => "parity",
    }
}

/// The command-line flag that sets a task parameter of `egd-tasks`.
fn flag_of(param: &str) -> &str {
    match param {
        "p" => "--p",
        "op" => "--task",
        "train_fraction" => "--train-frac",
        "n" => "--n",
        "k" => "--k",
        "train_len" => "--n-train",
        "test_len" => "--n-test",
        "batch_size" => "--batch",
        other => other,
    }
}

/// A one-line message for a task error, naming the flag.
#[must_use]
pub fn task_error(e: &TaskError) -> UsageError {
    let flag = e.parameter().map_or("task", flag_of);
    UsageError(format!("{flag}: {e}"))
}

/// The base preset of a command line: `--preset`, or the paper settings for
/// `--task`, or [`DEFAULT_PRESET`].
fn base_preset(args: &RunArgs) -> Result<Preset, UsageError> {
    let by_name = |name: &str| -> Result<Preset, UsageError> {
        find_preset(name).ok_or_else(|| {
            UsageError(format!(
                "--preset: unknown preset '{name}' (available: {})",
                preset_names().join(", ")
            ))
        })
    };
    match (&args.preset, args.task) {
        (Some(name), _) => by_name(name),
        (None, None) => by_name(DEFAULT_PRESET),
        (None, Some(TaskKind::Parity)) => {
            // The paper's settings for this n (k = 2: n = 400, k = 3: n = 100,
            // k = 4: n = 50), else those of k = 3.
            let same_n = Preset::ALL.iter().find(|p| {
                matches!(p.task, TaskSpec::Parity(s) if Some(s.n) == args.n && p.origin == egd_tasks::Origin::Paper)
            });
            same_n.map_or_else(|| by_name("paper-parity-3"), |p| Ok(*p))
        }
        (None, Some(kind)) => {
            let mut p = by_name("paper-add-97")?;
            if let (TaskSpec::Modular(m), Some(op)) = (&mut p.task, kind.op()) {
                m.op = op;
            }
            Ok(p)
        }
    }
}

/// Builds the task (validating its parameters) to learn its split sizes.
///
/// # Errors
///
/// The task's error, naming the flag.
pub fn split_sizes(task: &TaskSpec, seed: u64) -> Result<(usize, usize), UsageError> {
    let res = match task {
        TaskSpec::Modular(m) => m.build(seed).map(|t| (t.train_len(), t.test_len())),
        TaskSpec::Parity(s) => s.build(seed).map(|t| (t.train_len(), t.test_len())),
    };
    res.map_err(|e| task_error(&e))
}

fn check_batch(task: &TaskSpec, batch: usize) -> Result<(), UsageError> {
    let res = match task {
        TaskSpec::Modular(m) => m
            .build(0)
            .and_then(|t| t.epoch(0, batch, Remainder::Drop).map(|_| ())),
        TaskSpec::Parity(s) => s
            .build(0)
            .and_then(|t| t.epoch(0, batch, Remainder::Drop).map(|_| ())),
    };
    res.map_err(|e| task_error(&e))
}

fn positive(flag: &str, v: f64) -> Result<f64, UsageError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        usage(format!("{flag}: must be a finite number > 0 (got {v})"))
    }
}

fn non_negative(flag: &str, v: f64) -> Result<f64, UsageError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        usage(format!("{flag}: must be a finite number >= 0 (got {v})"))
    }
}

/// Resolves the command line into one run's configuration, for `optimizer`
/// and `seed`, with `lr`/`wd` overriding both the flags and the defaults when
/// given (sweeps). Validates everything a run could trip over: task
/// parameters, batch size against the training set, hyperparameter ranges and
/// whether the shape is compiled in.
///
/// # Errors
///
/// A [`UsageError`] naming the flag.
pub fn resolve(
    args: &RunArgs,
    optimizer: OptKind,
    seed: u64,
    lr: Option<f64>,
    wd: Option<f64>,
    default_early_stop: Option<u32>,
) -> Result<RunConfig, UsageError> {
    let preset = base_preset(args)?;
    let mut task = preset.task;
    let modular_flags = [
        ("--p", args.p.is_some()),
        ("--train-frac", args.train_frac.is_some()),
    ];
    let parity_flags = [
        ("--n", args.n.is_some()),
        ("--k", args.k.is_some()),
        ("--n-train", args.n_train.is_some()),
        ("--n-test", args.n_test.is_some()),
    ];
    match &mut task {
        TaskSpec::Modular(ModularSpec {
            p, train_fraction, ..
        }) => {
            if let Some((flag, _)) = parity_flags.iter().find(|f| f.1) {
                return usage(format!(
                    "{flag}: applies to the parity task only (this run is {})",
                    task_name(&preset.task)
                ));
            }
            *p = args.p.unwrap_or(*p);
            *train_fraction = args.train_frac.unwrap_or(*train_fraction);
        }
        TaskSpec::Parity(ParitySpec {
            n,
            k,
            train_len,
            test_len,
            ..
        }) => {
            if let Some((flag, _)) = modular_flags.iter().find(|f| f.1) {
                return usage(format!(
                    "{flag}: applies to modular tasks only (this run is parity)"
                ));
            }
            *n = args.n.unwrap_or(*n);
            *k = args.k.unwrap_or(*k);
            *train_len = args.n_train.unwrap_or(*train_len);
            *test_len = args.n_test.unwrap_or(*test_len);
        }
    }
    split_sizes(&task, seed)?;
    let lr = positive(
        "--lr",
        lr.or(args.lr).unwrap_or(optimizer.default_lr(preset.lr)),
    )?;
    let wd = non_negative(
        "--wd",
        wd.or(args.wd)
            .unwrap_or(optimizer.default_wd(preset.weight_decay)),
    )?;
    let batch = args.batch.unwrap_or(preset.batch_size);
    if batch == 0 {
        return usage("--batch: must be >= 1 (got 0)");
    }
    check_batch(&task, batch).map_err(|e| match args.batch {
        Some(_) => e,
        None => UsageError(format!(
            "--batch: the default batch size {batch} (from {}) does not fit this task: {e}; pass --batch",
            preset.name
        )),
    })?;
    let width = args.width.unwrap_or(preset.hidden);
    if !shapes::is_compiled(&task, width) {
        return usage(format!(
            "--width/--p/--n: the shape {} is not compiled in; compiled shapes: {}",
            shapes::describe(&task, width),
            shapes::list()
        ));
    }
    let epochs = args.epochs.unwrap_or(preset.epochs_cap);
    if epochs == 0 {
        return usage("--epochs: must be >= 1 (got 0)");
    }
    if let Some(t) = args.switch_off
        && !(t.is_finite() && t > 0.0 && t <= 1.0)
    {
        return usage(format!("--switch-off: must be in (0, 1] (got {t})"));
    }
    let a = args.grokfast_alpha;
    if !(0.0..=1.0).contains(&a) {
        return usage(format!("--grokfast-alpha: must be in [0, 1] (got {a})"));
    }
    non_negative("--grokfast-lambda", args.grokfast_lambda)?;
    let rsvd = (optimizer == OptKind::EgdRsvd)
        .then(|| RsvdSettings::new(args.rank, args.power_iters))
        .transpose()?;
    let early_stop = match args.early_stop.or(default_early_stop) {
        Some(0) | None => None,
        Some(n) => Some(n),
    };
    Ok(RunConfig {
        preset: args.task.is_none().then_some(preset.name),
        task,
        optimizer,
        lr,
        wd,
        batch,
        width,
        epochs,
        seed,
        init: preset.init,
        output_bias: preset.output_bias,
        layers: args.egd_layers,
        cutoff: args.cutoff,
        warm_start: args.warm_start,
        rsvd,
        switch_off: args.switch_off,
        early_stop,
        grokfast_alpha: args.grokfast_alpha,
        grokfast_lambda: args.grokfast_lambda,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> RunArgs {
        RunArgs::default()
    }

    #[test]
    fn default_matches_clap() {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            run: RunArgs,
        }
        assert_eq!(Wrap::parse_from(["x"]).run, RunArgs::default());
    }

    #[test]
    fn cutoff_forms() {
        assert_eq!(parse_cutoff("auto"), Ok(Cutoff::Auto));
        assert_eq!(parse_cutoff("clamp:1e-6"), Ok(Cutoff::Clamp(1e-6)));
        assert_eq!(parse_cutoff("relative:0.01"), Ok(Cutoff::Relative(0.01)));
        assert!(parse_cutoff("clamp:-1").is_err());
        assert!(parse_cutoff("relative").is_err());
        assert!(parse_cutoff("foo:1").is_err());
        assert_eq!(cutoff_name(Cutoff::Clamp(1e-6)), "clamp:0.000001");
    }

    #[test]
    fn default_is_the_smoke_preset() {
        let c = resolve(&args(), OptKind::Egd, 0, None, None, None).unwrap();
        assert_eq!(c.task_label(), DEFAULT_PRESET);
        assert_eq!((c.width, c.batch, c.lr, c.epochs), (128, 128, 0.7, 150));
        assert!(shapes::is_compiled(&c.task, c.width));
        assert_eq!(split_sizes(&c.task, 0), Ok((1767, 442)));
        assert_eq!(c.early_stop, None);
    }

    #[test]
    fn paper_defaults_and_adamw() {
        let a = RunArgs {
            preset: Some("paper-add-127".into()),
            ..args()
        };
        let c = resolve(&a, OptKind::Sgd, 1, None, None, Some(5)).unwrap();
        assert_eq!((c.lr, c.wd, c.batch, c.width), (0.7, 1e-4, 512, 512));
        assert_eq!(c.early_stop, Some(5));
        assert_eq!(
            c.file_stem(),
            "paper-add-127_sgd_lr0.7_wd0.0001_b512_h512_seed1"
        );
        let c = resolve(&a, OptKind::AdamW, 1, None, None, None).unwrap();
        assert_eq!((c.lr, c.wd), (1e-3, 1e-2));
    }

    #[test]
    fn egd_rsvd_rank_and_power_iterations() {
        let a = RunArgs {
            preset: Some("paper-add-127".into()),
            rank: 64,
            ..args()
        };
        let c = resolve(&a, OptKind::EgdRsvd, 3, None, None, None).unwrap();
        assert_eq!(
            c.rsvd,
            Some(RsvdSettings {
                rank: 64,
                power_iters: 2
            })
        );
        assert_eq!(
            c.file_stem(),
            "paper-add-127_egd-rsvd_lr0.7_wd0.0001_b512_h512_r64_q2_seed3"
        );
        // Other optimizers ignore the flags.
        assert_eq!(
            resolve(&a, OptKind::Egd, 3, None, None, None).unwrap().rsvd,
            None
        );
        for (rank, q, flag) in [
            (0, 2, "--rank"),
            (257, 2, "--rank"),
            (64, 0, "--power-iters"),
            (64, 17, "--power-iters"),
        ] {
            let a = RunArgs {
                rank,
                power_iters: q,
                ..a.clone()
            };
            let e = resolve(&a, OptKind::EgdRsvd, 0, None, None, None).unwrap_err();
            assert!(e.0.starts_with(flag), "{e}");
        }
        assert_eq!(OptKind::parse("egd-rsvd"), Some(OptKind::EgdRsvd));
    }

    #[test]
    fn task_without_preset() {
        let a = RunArgs {
            task: Some(TaskKind::ModMul),
            p: Some(23),
            width: Some(64),
            ..args()
        };
        let e = resolve(&a, OptKind::Egd, 0, None, None, None).unwrap_err();
        assert!(
            e.0.starts_with("--batch: the default batch size 512"),
            "{e}"
        );
        let a = RunArgs {
            batch: Some(64),
            ..a
        };
        let c = resolve(&a, OptKind::Egd, 0, None, None, None).unwrap();
        assert_eq!(c.task_name(), "mod-mul");
        assert_eq!(c.task_label(), "mod-mul-p23-f0.5");
    }

    #[test]
    fn parity_task_takes_the_papers_settings_for_its_n() {
        let a = RunArgs {
            task: Some(TaskKind::Parity),
            n: Some(50),
            k: Some(4),
            ..args()
        };
        let c = resolve(&a, OptKind::Sgd, 0, None, None, None).unwrap();
        assert_eq!((c.width, c.lr, c.epochs), (100, 0.023_084_1, 6000));
        let a = RunArgs { n: Some(100), ..a };
        let c = resolve(&a, OptKind::Sgd, 0, None, None, None).unwrap();
        assert_eq!(c.lr, 0.041_623_9);
    }

    #[test]
    fn bad_arguments_name_the_flag() {
        let cases: Vec<(RunArgs, &str)> = vec![
            (
                RunArgs {
                    preset: Some("nope".into()),
                    ..args()
                },
                "--preset",
            ),
            (
                RunArgs {
                    p: Some(1),
                    ..args()
                },
                "--p",
            ),
            (
                RunArgs {
                    p: Some(13),
                    ..args()
                },
                "not compiled",
            ),
            (
                RunArgs {
                    task: Some(TaskKind::Parity),
                    k: Some(200),
                    ..args()
                },
                "--k",
            ),
            (
                RunArgs {
                    lr: Some(0.0),
                    ..args()
                },
                "--lr",
            ),
            (
                RunArgs {
                    width: Some(100),
                    ..args()
                },
                "compiled shapes",
            ),
            (
                RunArgs {
                    batch: Some(100_000),
                    ..args()
                },
                "--batch",
            ),
            (
                RunArgs {
                    n: Some(10),
                    ..args()
                },
                "--n",
            ),
            (
                RunArgs {
                    train_frac: Some(1.5),
                    ..args()
                },
                "--train-frac",
            ),
        ];
        for (a, needle) in cases {
            let e = resolve(&a, OptKind::Sgd, 0, None, None, None).unwrap_err();
            assert!(e.0.contains(needle), "{needle}: {e}");
            assert!(!e.0.contains('\n'), "{e}");
        }
    }
}

//! The `egd` command line: `grok`, `compare`, `sweep`, `report` and `list`.
//!
//! Exit status: 0 on success (a run that never grokks is a result, not an
//! error), 1 if output files cannot be written, 2 for bad arguments or
//! results files that cannot be merged (one line on stderr saying which),
//! 3 for `grok --require-grok` when the run did not grok, 130 after Ctrl-C
//! (what finished, and the interrupted runs' partial curves, are written).

use crate::config::{
    DEFAULT_EARLY_STOP, OptKind, RunArgs, RunConfig, UsageError, resolve, split_sizes,
};
use crate::formatting::{describe_optimizer, num};
use crate::interrupt;
use crate::merge;
use crate::output;
use crate::plan::{Plan, Shard};
use crate::pool;
use crate::progress::Progress;
use crate::publish::{self, Published};
use crate::record::{self, PlanTag, RunRecord, run_json};
use crate::results;
use crate::run_result::{RunResult, Stop};
use crate::shapes;
use crate::train::{self, EvalMode};
use clap::{Args, Parser, Subcommand};
use egd_tasks::{Preset, TaskSpec};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Writes a line to stdout, ignoring a closed pipe.
macro_rules! say {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// Does EGD grok faster than SGD, in how many steps, at what cost per step?
///
/// Trains the paper's small MLPs on modular arithmetic and sparse parity
/// (f32, single-threaded per run), and reports epochs and steps to grokking
/// (first epoch with test accuracy > 0.95), time per step, and curves as CSV
/// and SVG.
#[derive(Debug, Parser)]
#[command(name = "egd", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One training run with a live progress bar; writes its curve (CSV, SVG).
    Grok(GrokArgs),
    /// Optimizers × seeds on one task: a Markdown table of epochs to grok.
    Compare(CompareArgs),
    /// A learning-rate (and weight-decay) grid per optimizer over seeds; the
    /// best setting per optimizer, so comparisons are against tuned baselines.
    Sweep(SweepArgs),
    /// Merges the results files of `compare`/`sweep` shards (or of an
    /// interrupted run) into the table, overlay plot and curves of the
    /// whole list.
    Report(ReportArgs),
    /// The presets and the compiled network shapes.
    List,
}

/// `egd grok`.
#[derive(Debug, Args)]
pub struct GrokArgs {
    /// Task, model and hyperparameters.
    #[command(flatten)]
    pub run: RunArgs,
    /// Optimizer.
    #[arg(long, value_enum, default_value = "egd")]
    pub optimizer: OptKind,
    /// Seed of the split, the epoch shuffles and the initialisation.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Exit with status 3 if the run does not grok (for CI smoke runs).
    #[arg(long)]
    pub require_grok: bool,
}

/// The seeds and parallelism of `compare` and `sweep`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Comma-separated optimizers.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sgd,egd")]
    pub optimizers: Vec<OptKind>,
    /// Number of seeds (0, 1, …, N−1).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Explicit comma-separated seeds (instead of `--seeds`).
    #[arg(long, value_delimiter = ',', conflicts_with = "seeds")]
    pub seed_list: Option<Vec<u64>>,
    /// Runs in parallel (each run is single-threaded). Default: the
    /// machine's available parallelism.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Run only shard I of N (0-based): the runs whose index in the list is
    /// ≡ I (mod N). Each shard appends its finished runs to its own results
    /// file in `--out`; `egd report` merges them.
    #[arg(long, value_name = "I/N", default_value = "0/1")]
    pub shard: Shard,
}

/// `egd report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Results files (`results*.jsonl`), or directories holding them.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub inputs: Vec<PathBuf>,
    /// Where to write the table, the overlay plot and the per-run curves
    /// (default: the first input directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Report the finished runs even if some of the list are missing.
    #[arg(long)]
    pub partial: bool,
    /// Print the merged runs as a JSON array on the last line of stdout.
    #[arg(long)]
    pub json: bool,
}

/// `egd compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Task, model and hyperparameters (`--lr`/`--wd` apply to every optimizer).
    #[command(flatten)]
    pub run: RunArgs,
    /// Optimizers, seeds, parallelism.
    #[command(flatten)]
    pub seeds: SeedArgs,
}

/// `egd sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Task, model and hyperparameters.
    #[command(flatten)]
    pub run: RunArgs,
    /// Optimizers, seeds, parallelism.
    #[command(flatten)]
    pub seeds: SeedArgs,
    /// Learning rates: `0.1,0.3,0.7` for every optimizer, or `OPT:0.001,0.003`
    /// for one (repeat the flag). Optimizers without a grid use their default.
    #[arg(long, value_name = "[OPT:]LIST")]
    pub lrs: Vec<String>,
    /// Weight decays, in the same form as `--lrs`.
    #[arg(long, value_name = "[OPT:]LIST")]
    pub wds: Vec<String>,
}

/// A value grid: a list for every optimizer and lists for single ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grid {
    all: Option<Vec<f64>>,
    per: Vec<(OptKind, Vec<f64>)>,
}

impl Grid {
    /// Parses the occurrences of `--lrs`/`--wds` (`flag` names it in errors).
    ///
    /// # Errors
    ///
    /// A one-line [`UsageError`].
    pub fn parse(items: &[String], flag: &str, min: f64, strict: bool) -> Result<Self, UsageError> {
        let mut g = Self::default();
        for item in items {
            let (opt, list) = match item.split_once(':') {
                Some((o, l)) => {
                    let opt = OptKind::parse(o).ok_or_else(|| {
                        UsageError(format!("{flag}: unknown optimizer '{o}' in '{item}'"))
                    })?;
                    (Some(opt), l)
                }
                None => (None, item.as_str()),
            };
            let mut values = Vec::new();
            for v in list.split(',').map(str::trim) {
                let x: f64 = v.parse().map_err(|_| {
                    UsageError(format!("{flag}: '{v}' is not a number (in '{item}')"))
                })?;
                let ok = x.is_finite() && if strict { x > min } else { x >= min };
                if !ok {
                    let rel = if strict { ">" } else { ">=" };
                    return Err(UsageError(format!(
                        "{flag}: {x} must be finite and {rel} {min}"
                    )));
                }
                if !values.contains(&x) {
                    values.push(x);
                }
            }
            match opt {
                Some(o) => g.per.push((o, values)),
                None => g.all = Some(values),
            }
        }
        Ok(g)
    }

    /// The values for `opt` (`[None]`: use the optimizer's default).
    #[must_use]
    pub fn for_opt(&self, opt: OptKind) -> Vec<Option<f64>> {
        let list = self
            .per
            .iter()
            .rev()
            .find(|(o, _)| *o == opt)
            .map(|(_, l)| l)
            .or(self.all.as_ref());
        list.map_or_else(|| vec![None], |l| l.iter().copied().map(Some).collect())
    }
}

/// Turns a clap error into one line (`error: …`), dropping usage and hints.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .collect();
    parts.join(" ")
}

/// Runs the command line `args` (program name first) and returns the exit
/// status.
pub fn main_from<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    e.exit_code()
                }
                _ => {
                    eprintln!("{}", one_line(&e));
                    2
                }
            };
        }
    };
    let res = match cli.command {
        Command::Grok(a) => grok(&a),
        Command::Compare(a) => compare(&a),
        Command::Sweep(a) => sweep(&a),
        Command::Report(a) => report_cmd(&a),
        Command::List => {
            list();
            Ok(0)
        }
    };
    match res {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("error: {e}");
            2
        }
        Err(Failure::Io(e)) => {
            eprintln!("error: writing output: {e}");
            1
        }
    }
}

/// Why a command failed.
enum Failure {
    Usage(UsageError),
    Io(String),
}

impl From<UsageError> for Failure {
    fn from(e: UsageError) -> Self {
        Self::Usage(e)
    }
}

/// The task and model of a configuration, for headers.
fn describe_task(c: &RunConfig, n_train: usize, n_test: usize, spe: usize) -> String {
    let task = match c.task {
        TaskSpec::Modular(m) => format!(
            "{} p={} train fraction {}",
            c.task_name(),
            m.p,
            m.train_fraction
        ),
        TaskSpec::Parity(s) => format!("parity n={} k={}", s.n, s.k),
    };
    let preset = c.preset.map_or_else(String::new, |p| format!("{p}: "));
    format!(
        "{preset}{task}; {n_train} train / {n_test} test; MLP width {}; batch {} ({spe} steps/epoch, remainder dropped); cap {} epochs{}",
        c.width,
        c.batch,
        c.epochs,
        c.early_stop.map_or_else(String::new, |n| format!(
            ", early stop after {n} epochs at test ≥ 0.99"
        ))
    )
}

fn epoch_text(e: Option<u32>, spe: usize) -> String {
    e.map_or_else(
        || "never".into(),
        |e| format!("epoch {e} (step {})", u64::from(e) * spe as u64),
    )
}

fn grok(a: &GrokArgs) -> Result<i32, Failure> {
    let cfg = resolve(
        &a.run,
        a.optimizer,
        a.seed,
        None,
        None,
        Some(DEFAULT_EARLY_STOP),
    )?;
    let (n_train, n_test) = split_sizes(&cfg.task, cfg.seed)?;
    let spe = n_train / cfg.batch;
    say!("egd grok: {}", describe_task(&cfg, n_train, n_test, spe));
    interrupt::install();
    let progress = Progress::new(a.run.quiet, 1, None);
    let bar = progress.run_bar(&cfg);
    // One run: a second core, if there is one, evaluates each epoch while
    // the next one trains (same records; sweeps use their cores for runs).
    let two_cores = std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    let mode = if two_cores {
        EvalMode::Concurrent
    } else {
        EvalMode::Inline
    };
    let mut r = train::run_with(&cfg, mode, &mut |rec| bar.update(rec));
    bar.finish();
    output::write_run(&mut r, &a.run.out).map_err(Failure::Io)?;
    say!(
        "optimizer: {}, seed {}",
        describe_optimizer(&r.config),
        cfg.seed
    );
    say!(
        "grokked (test accuracy > 0.95): {}; train ≥ 0.99: {}; test ≥ 0.99: {}",
        epoch_text(r.grok_epoch(), spe),
        epoch_text(r.fit_epoch(), spe),
        epoch_text(r.epoch_99(), spe)
    );
    if let Some(l) = r.last() {
        say!(
            "final: train acc {} / test acc {}, loss {} / {}, after {} epochs ({})",
            num(l.train_acc, 4),
            num(l.test_acc, 4),
            num(l.train_loss, 4),
            num(l.test_loss, 4),
            r.epochs_run(),
            match &r.stop {
                Stop::Cap => "epoch cap".to_string(),
                Stop::EarlyStop => "early stop".to_string(),
                Stop::Failed(e) => format!("failed: {e}"),
                Stop::Interrupted => "interrupted".to_string(),
            }
        );
    } else if let Stop::Failed(e) = &r.stop {
        say!("failed before the first epoch completed: {e}");
    }
    say!(
        "time: {} ms/step (median over epochs), {} s of training to grok, {} s wall to grok (evaluation included), {} s wall in total",
        r.ms_per_step().map_or_else(|| "–".into(), |m| num(m, 3)),
        r.grok_train_s().map_or_else(|| "–".into(), |s| num(s, 2)),
        r.grok_wall_s().map_or_else(|| "–".into(), |s| num(s, 2)),
        num(r.wall_s, 2)
    );
    for p in [&r.csv, &r.svg].into_iter().flatten() {
        say!("wrote {}", p.display());
    }
    if a.run.json {
        say!("{}", run_json(&r));
    }
    Ok(if r.stop == Stop::Interrupted {
        interrupt::EXIT_INTERRUPTED
    } else if a.require_grok && r.grok_epoch().is_none() {
        3
    } else {
        0
    })
}

/// Most runs one `compare` or `sweep` may schedule.
const MAX_RUNS: usize = 100_000;
/// Most worker threads (each holds one run's boxed model, about 4 MB at p = 127).
const MAX_JOBS: usize = 64;

/// The seeds of `compare`/`sweep`, validated.
fn seeds_of(s: &SeedArgs) -> Result<Vec<u64>, UsageError> {
    let seeds: Vec<u64> = match &s.seed_list {
        Some(l) => l.clone(),
        None => (0..s.seeds.min(MAX_RUNS as u64 + 1)).collect(),
    };
    if seeds.is_empty() {
        return Err(UsageError("--seeds: need at least one seed".into()));
    }
    if seeds.len() > MAX_RUNS {
        return Err(UsageError(format!("--seeds: at most {MAX_RUNS} seeds")));
    }
    if s.optimizers.is_empty() {
        return Err(UsageError(
            "--optimizers: need at least one optimizer".into(),
        ));
    }
    Ok(seeds)
}

/// `--jobs`, or the machine's available parallelism (at most
/// [`MAX_JOBS`]).
fn jobs_of(s: &SeedArgs) -> Result<usize, UsageError> {
    match s.jobs {
        Some(j) if j == 0 || j > MAX_JOBS => {
            Err(UsageError(format!("--jobs: must be in 1..={MAX_JOBS}")))
        }
        Some(j) => Ok(j),
        None => Ok(std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(MAX_JOBS)),
    }
}

fn dedup(v: &[OptKind]) -> Vec<OptKind> {
    let mut out = Vec::new();
    for &o in v {
        if !out.contains(&o) {
            out.push(o);
        }
    }
    out
}

/// A results record without its curve (for `--json` on stdout).
fn without_curve(r: &RunRecord) -> RunRecord {
    RunRecord {
        curve: None,
        ..r.clone()
    }
}

/// Prints the published files and the table.
fn say_published(p: &Published, out: &Path, command: &str) {
    say!();
    say!("{}", p.table);
    let what = if command == "sweep" {
        "overlay of the best settings"
    } else {
        "overlay plot"
    };
    say!("wrote {} ({what})", p.svg.display());
    say!("wrote {} (this table)", p.md.display());
    if p.curves > 0 {
        say!(
            "wrote {} per-run CSV curves and SVG plots to {}",
            p.curves,
            out.display()
        );
    }
}

/// Runs this shard's part of `plan` (skipping runs already recorded in
/// `--out`), appends each finished run to the shard's results file, and —
/// for the whole list — writes the table and plots.
fn run_plan(plan: &Plan, run: &RunArgs, s: &SeedArgs) -> Result<i32, Failure> {
    let jobs = jobs_of(s)?;
    let shard = s.shard;
    let out = &run.out;
    let code = record::code_version();
    let done = results::finished(out, &code).map_err(Failure::Io)?;
    let mine = plan.shard_indices(shard);
    let (skipped, todo): (Vec<usize>, Vec<usize>) = mine
        .iter()
        .partition(|&&i| done.contains_key(&plan.settings[i].key()));
    let parallel = jobs.min(todo.len()).max(1);
    say!(
        "{} runs in the list (id {}), {} in parallel{}",
        plan.runs.len(),
        plan.id,
        parallel,
        if shard.is_all() {
            String::new()
        } else {
            format!("; shard {shard}: {} of them", mine.len())
        }
    );
    if !skipped.is_empty() {
        say!(
            "resuming: {} runs already finished in {} (same settings, seed and code version {code}) are skipped; {} to run",
            skipped.len(),
            out.display(),
            todo.len()
        );
    }
    interrupt::install();
    let writer = Mutex::new(
        results::Writer::open(out, &results::file_name(plan, shard)).map_err(Failure::Io)?,
    );
    let results_path = writer
        .lock()
        .map(|w| w.path().to_path_buf())
        .unwrap_or_default();
    let io_error: Mutex<Option<String>> = Mutex::new(None);
    let new_records: Mutex<Vec<(usize, RunRecord)>> = Mutex::new(Vec::new());
    let tag = |i: usize| PlanTag {
        command: plan.command.to_string(),
        id: plan.id.clone(),
        index: i,
        runs: plan.runs.len(),
        shard: shard.to_string(),
        jobs,
    };
    let on_done = |k: usize, r: &mut RunResult| {
        let i = todo[k];
        let res = output::write_run(r, out).and_then(|()| {
            let rec = RunRecord::of(r).map_err(|e| e.0)?.with_plan(tag(i), r);
            writer
                .lock()
                .map_err(|_| "results writer poisoned".to_string())?
                .append(&rec)?;
            if let Ok(mut v) = new_records.lock() {
                v.push((i, rec));
            }
            Ok(())
        });
        if let (Err(e), Ok(mut slot)) = (res, io_error.lock()) {
            slot.get_or_insert(e);
        }
    };
    let cfgs: Vec<RunConfig> = todo.iter().map(|&i| plan.runs[i].clone()).collect();
    let label = (!shard.is_all()).then(|| format!("shard {shard}"));
    let progress = Progress::new(run.quiet, cfgs.len(), label);
    let ran = pool::run_all(&cfgs, jobs, &progress, &on_done);
    if let Some(e) = io_error.into_inner().unwrap_or(None) {
        return Err(Failure::Io(e));
    }
    let mut records: Vec<(usize, RunRecord)> = new_records.into_inner().unwrap_or_default();
    for &i in &skipped {
        if let Some(r) = done.get(&plan.settings[i].key()) {
            records.push((i, r.clone()));
        }
    }
    records.sort_by_key(|(i, _)| *i);
    let json = || {
        let v: Vec<RunRecord> = records.iter().map(|(_, r)| without_curve(r)).collect();
        record::records_json(&v)
    };
    if interrupt::requested() {
        let cut = ran.iter().filter(|r| r.stop == Stop::Interrupted).count();
        let finished = records
            .iter()
            .filter(|(_, r)| r.stop != "interrupted")
            .count();
        say!(
            "interrupted: {finished} of this shard's {} runs finished ({cut} cut short and recorded as interrupted) in {}; run the same command again to resume",
            mine.len(),
            results_path.display()
        );
        if run.json {
            say!("{}", json());
        }
        return Ok(interrupt::EXIT_INTERRUPTED);
    }
    if shard.is_all() {
        let mut runs = records
            .iter()
            .map(|(_, r)| r.to_result())
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::Io)?;
        let published = publish::publish(
            plan.command,
            &mut runs,
            jobs.min(plan.runs.len()),
            out,
            false,
        )
        .map_err(Failure::Io)?;
        say_published(&published, out, plan.command);
        say!("wrote {} (one JSON line per run)", results_path.display());
    } else {
        say!(
            "shard {shard}: {} runs ran, {} were already done; results in {}",
            todo.len(),
            skipped.len(),
            results_path.display()
        );
        say!("when every shard is done: egd report {}", out.display());
    }
    if run.json {
        say!("{}", json());
    }
    Ok(0)
}

fn compare(a: &CompareArgs) -> Result<i32, Failure> {
    let seeds = seeds_of(&a.seeds)?;
    let opts = dedup(&a.seeds.optimizers);
    let mut cfgs = Vec::new();
    for &o in &opts {
        for &s in &seeds {
            cfgs.push(resolve(&a.run, o, s, None, None, Some(DEFAULT_EARLY_STOP))?);
        }
    }
    let first = &cfgs[0];
    let (n_train, n_test) = split_sizes(&first.task, first.seed)?;
    say!(
        "egd compare: {}",
        describe_task(first, n_train, n_test, n_train / first.batch)
    );
    say!(
        "{} optimizers × {} seeds = {} runs",
        opts.len(),
        seeds.len(),
        cfgs.len()
    );
    let plan = Plan::new("compare", cfgs)?;
    run_plan(&plan, &a.run, &a.seeds)
}

fn sweep(a: &SweepArgs) -> Result<i32, Failure> {
    let seeds = seeds_of(&a.seeds)?;
    let opts = dedup(&a.seeds.optimizers);
    let lrs = Grid::parse(&a.lrs, "--lrs", 0.0, true)?;
    let wds = Grid::parse(&a.wds, "--wds", 0.0, false)?;
    let mut cfgs = Vec::new();
    for &o in &opts {
        for lr in lrs.for_opt(o) {
            for wd in wds.for_opt(o) {
                for &s in &seeds {
                    cfgs.push(resolve(&a.run, o, s, lr, wd, Some(DEFAULT_EARLY_STOP))?);
                }
            }
        }
    }
    if cfgs.len() > MAX_RUNS {
        return Err(UsageError(format!(
            "--lrs/--wds/--seeds: {} runs requested, at most {MAX_RUNS}",
            cfgs.len()
        ))
        .into());
    }
    let first = &cfgs[0];
    let (n_train, n_test) = split_sizes(&first.task, first.seed)?;
    say!(
        "egd sweep: {}",
        describe_task(first, n_train, n_test, n_train / first.batch)
    );
    say!(
        "{} settings × {} seeds = {} runs",
        cfgs.len() / seeds.len(),
        seeds.len(),
        cfgs.len()
    );
    let plan = Plan::new("sweep", cfgs)?;
    run_plan(&plan, &a.run, &a.seeds)
}

fn report_cmd(a: &ReportArgs) -> Result<i32, Failure> {
    let merged = merge::merge(&a.inputs, a.partial).map_err(|e| Failure::Usage(UsageError(e)))?;
    let out = a.out.clone().unwrap_or_else(|| {
        let first = &a.inputs[0];
        if first.is_dir() {
            first.clone()
        } else {
            first
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        }
    });
    for f in &merged.torn {
        eprintln!(
            "note: {}: ignored an incomplete last line (a writer was killed mid-line)",
            f.display()
        );
    }
    let first = &merged.runs[0];
    let (n_train, n_test) = (first.n_train, first.n_test);
    say!(
        "egd report: {} of {} runs ({} list {}, code {}) from {} results file(s)",
        merged.runs.len(),
        merged.total,
        merged.command,
        merged.id,
        merged.code_version,
        merged.files.len()
    );
    say!(
        "{}",
        describe_task(&first.config, n_train, n_test, first.steps_per_epoch)
    );
    if !merged.missing.is_empty() {
        say!(
            "partial: {} runs missing (indices {:?}); the table covers the others",
            merged.missing.len(),
            merged.missing
        );
    }
    let mut runs = merged.runs;
    let command = if merged.command == "sweep" {
        "sweep"
    } else {
        "compare"
    };
    let published = publish::publish(
        command,
        &mut runs,
        merged.jobs.min(merged.total),
        &out,
        true,
    )
    .map_err(Failure::Io)?;
    say_published(&published, &out, command);
    if a.json {
        let v: Vec<RunRecord> = merged.records.iter().map(without_curve).collect();
        say!("{}", record::records_json(&v));
    }
    Ok(0)
}

fn list() {
    say!("presets (egd grok --preset NAME; smoke-add-47 is ours, for quick runs and CI):");
    say!(
        "| name | task | width | lr | wd | batch | epochs cap | paper epochs to >95 % (SGD / EGD) |"
    );
    say!("|---|---|---|---|---|---|---|---|");
    for p in Preset::ALL.iter().copied() {
        let task = match p.task {
            TaskSpec::Modular(m) => format!(
                "{} p={} frac {}",
                crate::config::task_name(&p.task),
                m.p,
                m.train_fraction
            ),
            TaskSpec::Parity(s) => format!(
                "parity n={} k={} ({} / {})",
                s.n, s.k, s.train_len, s.test_len
            ),
        };
        let paper = p
            .paper_epochs
            .map_or_else(|| "–".into(), |e| format!("{} / {}", e.vanilla, e.egd));
        say!(
            "| {} | {task} | {} | {} | {} | {} | {} | {paper} |",
            p.name,
            p.hidden,
            p.lr,
            p.weight_decay,
            p.batch_size,
            p.epochs_cap
        );
    }
    say!();
    say!("compiled shapes: {}", shapes::list());
    say!("optimizers: {}", OptKind::ALL.map(OptKind::name).join(", "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids() {
        let g = Grid::parse(
            &["0.1,0.3".into(), "adamw:0.001".into()],
            "--lrs",
            0.0,
            true,
        )
        .unwrap();
        assert_eq!(g.for_opt(OptKind::Sgd), vec![Some(0.1), Some(0.3)]);
        assert_eq!(g.for_opt(OptKind::AdamW), vec![Some(0.001)]);
        assert_eq!(Grid::default().for_opt(OptKind::Egd), vec![None]);
        assert!(Grid::parse(&["0,1".into()], "--lrs", 0.0, true).is_err());
        assert!(Grid::parse(&["foo:1".into()], "--lrs", 0.0, true).is_err());
        assert!(Grid::parse(&["x".into()], "--lrs", 0.0, true).is_err());
        assert!(Grid::parse(&["0".into()], "--wds", 0.0, false).is_ok());
    }

    #[test]
    fn clap_errors_fit_on_one_line() {
        let e = Cli::try_parse_from(["egd", "grok", "--task", "nope"]).unwrap_err();
        let line = one_line(&e);
        assert!(
            line.starts_with("error:") && line.contains("--task"),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}

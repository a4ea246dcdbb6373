//! Markdown reports: the `compare` table (optimizers × seeds) and the `sweep`
//! tables (every setting, and the best setting per optimizer).
//!
//! Runs that never grokked within the epoch cap (or failed) count as `+∞`
//! in every median, minimum and maximum: a median that lands on such a run
//! prints as `> cap`. Speed-ups are ratios of medians only.

use crate::config::OptKind;
use crate::formatting::num;
use crate::run_result::RunResult;
use crate::stats::{Censored, Summary, median};
use std::fmt::Write as _;

/// The statistics of one group of runs (one optimizer, or one setting).
#[derive(Debug, Clone, PartialEq)]
pub struct Group<'a> {
    /// The optimizer.
    pub optimizer: OptKind,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay.
    pub wd: f64,
    /// The runs, in seed order.
    pub runs: Vec<&'a RunResult>,
    /// Epochs to grok.
    pub epochs: Summary,
    /// Seconds of training steps to grok.
    pub time: Summary,
    /// Median of the runs' median ms per step.
    pub ms_per_step: Option<f64>,
    /// Largest epoch cap among the runs.
    pub cap: u32,
}

impl<'a> Group<'a> {
    /// Summarises `runs` (all of the same optimizer and setting).
    #[must_use]
    pub fn new(optimizer: OptKind, lr: f64, wd: f64, runs: Vec<&'a RunResult>) -> Self {
        let epochs: Vec<Option<f64>> = runs.iter().map(|r| r.grok_epoch().map(f64::from)).collect();
        let time: Vec<Option<f64>> = runs.iter().map(|r| r.grok_train_s()).collect();
        let ms: Vec<f64> = runs.iter().filter_map(|r| r.ms_per_step()).collect();
        Self {
            optimizer,
            lr,
            wd,
            epochs: Summary::of(&epochs),
            time: Summary::of(&time),
            ms_per_step: median(&ms),
            cap: runs.iter().map(|r| r.config.epochs).max().unwrap_or(0),
            runs,
        }
    }

    /// The ranking key of a sweep: median epochs (never-grokked = `+∞`),
    /// then fewer never-grokked runs, then lower median time to grok, then
    /// higher median final test accuracy.
    fn rank_key(&self) -> (f64, usize, f64, f64) {
        let acc: Vec<f64> = self
            .runs
            .iter()
            .filter_map(|r| r.last().map(|l| l.test_acc))
            .collect();
        (
            self.epochs.median.map_or(f64::INFINITY, Censored::as_f64),
            self.epochs.never,
            self.time.median.map_or(f64::INFINITY, Censored::as_f64),
            -median(&acc).unwrap_or(0.0),
        )
    }
}

/// Groups `runs` by optimizer (in first-seen order) and, with `by_setting`,
/// also by `(lr, wd)`.
#[must_use]
pub fn group(runs: &[RunResult], by_setting: bool) -> Vec<Group<'_>> {
    let mut keys: Vec<(OptKind, u64, u64)> = Vec::new();
    let key = |r: &RunResult| {
        let c = &r.config;
        if by_setting {
            (c.optimizer, c.lr.to_bits(), c.wd.to_bits())
        } else {
            (c.optimizer, 0, 0)
        }
    };
    for r in runs {
        if !keys.contains(&key(r)) {
            keys.push(key(r));
        }
    }
    keys.into_iter()
        .map(|k| {
            let members: Vec<&RunResult> = runs.iter().filter(|r| key(r) == k).collect();
            let (lr, wd) = members
                .first()
                .map_or((0.0, 0.0), |r| (r.config.lr, r.config.wd));
            Group::new(k.0, lr, wd, members)
        })
        .collect()
}

/// A censored value for a table cell: the value with `digits` decimals, or
/// `> cap` (`cap_text`), or `–` if there were no runs.
fn cell(c: Option<Censored>, digits: usize, cap_text: &str) -> String {
    match c {
        Some(Censored::Value(v)) => num(v, digits),
        Some(Censored::Infinite) => format!("> {cap_text}"),
        None => "–".into(),
    }
}

/// A list of distinct values of a field, for table cells.
fn distinct(values: impl Iterator<Item = f64>) -> String {
    let mut v: Vec<f64> = Vec::new();
    for x in values {
        if !v.contains(&x) {
            v.push(x);
        }
    }
    v.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Why a speed-up cell says `n/a`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NoRatio {
    NoBaseline,
    BaselineCensored,
    SelfCensored,
}

fn ratio(base: Option<Censored>, this: Option<Censored>) -> Result<f64, NoRatio> {
    match (base, this) {
        (None, _) => Err(NoRatio::NoBaseline),
        (Some(Censored::Infinite), _) => Err(NoRatio::BaselineCensored),
        (_, Some(Censored::Infinite) | None) => Err(NoRatio::SelfCensored),
        (Some(Censored::Value(b)), Some(Censored::Value(t))) => Ok(b / t),
    }
}

fn ratio_cell(r: Result<f64, NoRatio>, notes: &mut Vec<NoRatio>) -> String {
    match r {
        Ok(x) => format!("{}×", num(x, 2)),
        Err(e) => {
            if !notes.contains(&e) {
                notes.push(e);
            }
            "n/a".into()
        }
    }
}

/// The header of the `compare` table.
pub const COMPARE_HEADER: &str = "| optimizer | lr | wd | median epochs to grok | min | max | never grokked | median ms/step | median time to grok (s) | speed-up vs SGD (epochs) | speed-up vs SGD (time) |";

/// The `compare` report: one row per optimizer, then footnotes.
/// `steps_per_epoch` and `jobs` go into the footnotes.
#[must_use]
pub fn compare_table(runs: &[RunResult], jobs: usize) -> String {
    let groups = group(runs, false);
    let sgd = groups.iter().find(|g| g.optimizer == OptKind::Sgd);
    let (base_e, base_t) = (
        sgd.and_then(|g| g.epochs.median),
        sgd.and_then(|g| g.time.median),
    );
    let mut s = String::new();
    let _ = writeln!(s, "{COMPARE_HEADER}");
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
    let mut notes = Vec::new();
    for g in &groups {
        let cap = g.cap.to_string();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} |",
            g.optimizer,
            distinct(g.runs.iter().map(|r| r.config.lr)),
            distinct(g.runs.iter().map(|r| r.config.wd)),
            cell(g.epochs.median, 1, &cap),
            cell(g.epochs.min, 0, &cap),
            cell(g.epochs.max, 0, &cap),
            g.epochs.never,
            g.epochs.runs,
            g.ms_per_step.map_or_else(|| "–".into(), |m| num(m, 2)),
            cell(g.time.median, 2, "cap"),
            ratio_cell(ratio(base_e, g.epochs.median), &mut notes),
            ratio_cell(ratio(base_t, g.time.median), &mut notes),
        );
    }
    s.push('\n');
    footnotes(&mut s, runs, jobs, &notes, "compare");
    s
}

fn footnotes(s: &mut String, runs: &[RunResult], jobs: usize, notes: &[NoRatio], what: &str) {
    let spe = distinct(runs.iter().map(|r| r.steps_per_epoch as f64));
    let _ = writeln!(
        s,
        "Epochs to grok: the first completed epoch (1-based) whose test accuracy is > 0.95, \
         evaluated on the whole test set after every epoch (steps = epochs × {spe} steps per \
         epoch). Runs that never grokked within the epoch cap (or failed) count as +∞: a median \
         or max on such a run shows as \"> cap\"."
    );
    let _ = writeln!(
        s,
        "\nTime: wall time of the training steps only (per-epoch evaluation excluded), on this \
         machine, with {jobs} run(s) in parallel; ms/step is the median over epochs, then over runs."
    );
    if what == "compare" {
        let _ = writeln!(
            s,
            "\nSpeed-up = SGD's median / the optimizer's median (ratios of medians only)."
        );
    }
    for n in notes {
        let text = match n {
            NoRatio::NoBaseline => "n/a: no SGD runs in this comparison to compare against.",
            NoRatio::BaselineCensored => {
                "n/a: SGD never grokked within the cap in at least half of its runs, so its \
                 median is unknown (the speed-up is at least cap / this optimizer's median)."
            }
            NoRatio::SelfCensored => {
                "n/a: this optimizer's median run never grokked within the cap."
            }
        };
        let _ = writeln!(s, "\n{text}");
    }
}

/// The `sweep` report: every setting, then the best setting per optimizer.
#[must_use]
pub fn sweep_tables(runs: &[RunResult], jobs: usize) -> String {
    let groups = group(runs, true);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| optimizer | lr | wd | median epochs to grok | min | max | never grokked | median ms/step | median time to grok (s) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for g in &groups {
        let cap = g.cap.to_string();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} | {} |",
            g.optimizer,
            g.lr,
            g.wd,
            cell(g.epochs.median, 1, &cap),
            cell(g.epochs.min, 0, &cap),
            cell(g.epochs.max, 0, &cap),
            g.epochs.never,
            g.epochs.runs,
            g.ms_per_step.map_or_else(|| "–".into(), |m| num(m, 2)),
            cell(g.time.median, 2, "cap"),
        );
    }
    let best = best_per_optimizer(&groups);
    let sgd = best.iter().find(|g| g.optimizer == OptKind::Sgd);
    let (base_e, base_t) = (
        sgd.and_then(|g| g.epochs.median),
        sgd.and_then(|g| g.time.median),
    );
    let mut notes = Vec::new();
    let _ = writeln!(
        s,
        "\nBest setting per optimizer (lowest median epochs to grok; never-grokked runs count \
         as +∞, ties broken by fewer never-grokked runs, then lower median time to grok):\n"
    );
    let _ = writeln!(
        s,
        "| optimizer | best lr | best wd | median epochs to grok | never grokked | median ms/step | median time to grok (s) | speed-up vs tuned SGD (epochs) | speed-up vs tuned SGD (time) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    for g in &best {
        let cap = g.cap.to_string();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} |",
            g.optimizer,
            g.lr,
            g.wd,
            cell(g.epochs.median, 1, &cap),
            g.epochs.never,
            g.epochs.runs,
            g.ms_per_step.map_or_else(|| "–".into(), |m| num(m, 2)),
            cell(g.time.median, 2, "cap"),
            ratio_cell(ratio(base_e, g.epochs.median), &mut notes),
            ratio_cell(ratio(base_t, g.time.median), &mut notes),
        );
    }
    s.push('\n');
    footnotes(&mut s, runs, jobs, &notes, "sweep");
    s
}

/// The best group of each optimizer, in first-seen optimizer order.
#[must_use]
pub fn best_per_optimizer<'g, 'a>(groups: &'g [Group<'a>]) -> Vec<&'g Group<'a>> {
    let mut out: Vec<&Group<'a>> = Vec::new();
    for g in groups {
        match out.iter_mut().find(|b| b.optimizer == g.optimizer) {
            Some(b) => {
                if g.rank_key().partial_cmp(&b.rank_key()) == Some(std::cmp::Ordering::Less) {
                    *b = g;
                }
            }
            None => out.push(g),
        }
    }
    out
}

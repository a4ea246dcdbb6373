//! Machine-readable output: the CSV curve and the JSON run object.
//!
//! # CSV (one file per run)
//!
//! `epoch,step,train_acc,test_acc,train_loss,test_loss,w1_norm,ms,wall_s`,
//! one row per completed epoch: `epoch` is 1-based (completed epochs),
//! `step` = `epoch × steps_per_epoch`, accuracies and mean losses (without
//! the weight-decay term) over the whole train/test split after that epoch,
//! `w1_norm` the Frobenius norm of `W1`, `ms` the wall milliseconds of that
//! epoch's training steps (evaluation excluded), `wall_s` the wall seconds
//! since the run started, at the end of that epoch's evaluation.
//!
//! The file is named by [`RunConfig::file_stem`](crate::config::RunConfig::file_stem),
//! which records the settings that are not columns: for `egd-rsvd` the rank
//! and power iterations (`…_egd-rsvd_…_r128_q2_seed0.csv`).
//!
//! # JSON (`--json`: the last line of stdout)
//!
//! `egd grok` prints one object, `egd compare` and `egd sweep` an array of
//! them, one per run. Keys (numbers are JSON numbers, absent values `null`):
//!
//! | key | meaning |
//! |---|---|
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
//! | `stop` | `"cap"`, `"early_stop"` or `"failed"` |
//! | `error` | why a `"failed"` run stopped (e.g. a NaN loss), else `null` |
//! | `csv`, `svg` | the files written, or `null` |

use crate::config::{LayerPolicy, OptKind, cutoff_name};
use crate::train::{RunResult, Stop};
use egd_tasks::TaskSpec;
use std::fmt::Write as _;
use std::path::Path;

/// Formats `x` with at most `digits` decimals, trailing zeros removed
/// (`0.5`, `12`, `0.000123`); non-finite values become `null`-safe text
/// only through [`json_num`].
#[must_use]
pub fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.into() }
    } else {
        s
    }
}

/// A JSON number with at most `digits` decimals, or `null` if not finite.
#[must_use]
pub fn json_num(x: f64, digits: usize) -> String {
    if x.is_finite() {
        num(x, digits)
    } else {
        "null".into()
    }
}

/// A JSON string literal (quotes, backslashes and control characters escaped).
#[must_use]
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds one JSON object from `(key, raw JSON value)` pairs.
struct Obj(String);

impl Obj {
    fn new() -> Self {
        Self(String::from("{"))
    }
    fn raw(&mut self, key: &str, value: impl AsRef<str>) -> &mut Self {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        self.0.push_str(&json_str(key));
        self.0.push(':');
        self.0.push_str(value.as_ref());
        self
    }
    fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.raw(key, json_str(value))
    }
    fn opt<T: ToString>(&mut self, key: &str, value: Option<T>) -> &mut Self {
        match value {
            Some(v) => self.raw(key, v.to_string()),
            None => self.raw(key, "null"),
        }
    }
    fn float(&mut self, key: &str, value: Option<f64>, digits: usize) -> &mut Self {
        match value {
            Some(v) => self.raw(key, json_num(v, digits)),
            None => self.raw(key, "null"),
        }
    }
    fn finish(&mut self) -> String {
        self.0.push('}');
        std::mem::take(&mut self.0)
    }
}

/// A path as a JSON string, or `null`.
fn path_json(p: Option<&Path>) -> String {
    p.map_or_else(|| "null".into(), |p| json_str(&p.display().to_string()))
}

/// One run as a JSON object on one line (schema in the [module docs](self)).
#[must_use]
pub fn run_json(r: &RunResult) -> String {
    let c = &r.config;
    let mut o = Obj::new();
    o.str("task", c.task_name());
    match c.preset {
        Some(p) => o.str("preset", p),
        None => o.raw("preset", "null"),
    };
    match c.task {
        TaskSpec::Modular(m) => {
            o.raw("p", m.p.to_string())
                .raw("train_frac", json_num(m.train_fraction, 12));
        }
        TaskSpec::Parity(s) => {
            o.raw("n", s.n.to_string()).raw("k", s.k.to_string());
        }
    }
    let last = r.last();
    o.raw("n_train", r.n_train.to_string())
        .raw("n_test", r.n_test.to_string())
        .str("optimizer", c.optimizer.name())
        .raw("seed", c.seed.to_string())
        .raw("lr", json_num(c.lr, 12))
        .raw("wd", json_num(c.wd, 12))
        .raw("batch", c.batch.to_string())
        .raw("width", c.width.to_string())
        .str("egd_layers", c.layers.name())
        .str("cutoff", &cutoff_name(c.cutoff))
        .raw("warm_start", c.warm_start.to_string())
        .opt("rank", c.rsvd.map(|r| r.rank))
        .opt("power_iters", c.rsvd.map(|r| r.power_iters))
        .float("switch_off", c.switch_off, 12)
        .raw("epochs_cap", c.epochs.to_string())
        .opt("early_stop", c.early_stop)
        .raw("steps_per_epoch", r.steps_per_epoch.to_string())
        .raw("epochs_run", r.epochs_run().to_string())
        .opt("grok_epoch", r.grok_epoch())
        .opt("grok_step", r.grok_step())
        .opt("fit_epoch", r.fit_epoch())
        .opt("epoch_99", r.epoch_99())
        .float("final_train_acc", last.map(|l| l.train_acc), 6)
        .float("final_test_acc", last.map(|l| l.test_acc), 6)
        .float("final_train_loss", last.map(|l| l.train_loss), 6)
        .float("final_test_loss", last.map(|l| l.test_loss), 6)
        .float("ms_per_step", r.ms_per_step(), 4)
        .float("grok_train_s", r.grok_train_s(), 4)
        .float("grok_wall_s", r.grok_wall_s(), 4)
        .raw("wall_s", json_num(r.wall_s, 4))
        .str("stop", r.stop.name());
    match &r.stop {
        Stop::Failed(msg) => o.str("error", msg),
        _ => o.raw("error", "null"),
    };
    o.raw("csv", path_json(r.csv.as_deref()))
        .raw("svg", path_json(r.svg.as_deref()))
        .finish()
}

/// Several runs as a JSON array on one line.
#[must_use]
pub fn runs_json(runs: &[RunResult]) -> String {
    let items: Vec<String> = runs.iter().map(run_json).collect();
    format!("[{}]", items.join(","))
}

/// The CSV curve of a run (header and one row per epoch).
#[must_use]
pub fn curve_csv(r: &RunResult) -> String {
    let mut s =
        String::from("epoch,step,train_acc,test_acc,train_loss,test_loss,w1_norm,ms,wall_s\n");
    for e in &r.curve {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{}",
            e.epoch,
            e.step,
            num(e.train_acc, 6),
            num(e.test_acc, 6),
            num(e.train_loss, 6),
            num(e.test_loss, 6),
            num(e.w1_norm, 5),
            num(e.ms, 3),
            num(e.wall_s, 3)
        );
    }
    s
}

/// A one-line human description of a run's optimizer settings.
#[must_use]
pub fn describe_optimizer(r: &RunResult) -> String {
    let c = &r.config;
    let mut s = format!("{} lr {} wd {}", c.optimizer, c.lr, c.wd);
    match c.optimizer {
        OptKind::Egd | OptKind::EgdNs | OptKind::EgdRsvd => {
            let layers = match c.layers {
                LayerPolicy::First => "W1",
                LayerPolicy::All => "all layers",
            };
            let _ = write!(s, " ({layers}");
            if let Some(r) = c.rsvd {
                let _ = write!(s, ", rank {}, q {}", r.rank, r.power_iters);
            }
            if matches!(c.optimizer, OptKind::Egd | OptKind::EgdRsvd) {
                let _ = write!(s, ", {}", cutoff_name(c.cutoff));
                if c.warm_start {
                    s.push_str(", warm start");
                }
            }
            if let Some(t) = c.switch_off {
                let _ = write!(s, ", off above {t}");
            }
            s.push(')');
        }
        OptKind::Grokfast => {
            let _ = write!(s, " (α {}, λ {})", c.grokfast_alpha, c.grokfast_lambda);
        }
        _ => {}
    }
    s
}

/// Writes the run's CSV and SVG into `dir` (created if needed) under
/// [`RunConfig::file_stem`](crate::config::RunConfig::file_stem) names and
/// records the paths in the result.
///
/// # Errors
///
/// The I/O error, with the path.
pub fn write_run(r: &mut RunResult, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stem = r.config.file_stem();
    let csv = dir.join(format!("{stem}.csv"));
    write_file(&csv, &curve_csv(r))?;
    let svg = dir.join(format!("{stem}.svg"));
    write_file(&svg, &crate::svg::run_plot(r))?;
    r.csv = Some(csv);
    r.svg = Some(svg);
    Ok(())
}

/// Writes `text` to `path`.
///
/// # Errors
///
/// The I/O error, with the path.
pub fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_strings() {
        assert_eq!(num(0.5, 6), "0.5");
        assert_eq!(num(12.0, 3), "12");
        assert_eq!(num(1e-4, 12), "0.0001");
        assert_eq!(num(-0.0000001, 3), "0");
        assert_eq!(json_num(f64::NAN, 3), "null");
        assert_eq!(json_str("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }

    #[test]
    fn object_builder() {
        let s = Obj::new()
            .str("a", "x")
            .opt::<u32>("b", None)
            .float("c", Some(0.25), 3)
            .finish();
        assert_eq!(s, r#"{"a":"x","b":null,"c":0.25}"#);
    }
}

//! Per-run files: the CSV curve and the SVG plot, the number format they
//! share with the tables, and the one-line optimizer description.
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
//! The JSON of `--json` and of results files is in [`crate::record`].

use crate::config::{LayerPolicy, OptKind, cutoff_name};
use crate::train::RunResult;
use std::fmt::Write as _;
use std::path::Path;

/// Formats `x` with at most `digits` decimals, trailing zeros removed
/// (`0.5`, `12`, `0.000123`).
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
    fn numbers() {
        assert_eq!(num(0.5, 6), "0.5");
        assert_eq!(num(12.0, 3), "12");
        assert_eq!(num(1e-4, 12), "0.0001");
        assert_eq!(num(-0.0000001, 3), "0");
    }
}

//! Per-run files: the CSV curve and the SVG plot of one run, written under
//! the run's file stem. Numbers are formatted by [`crate::formatting`]; the plot
//! is drawn by [`crate::svg`].
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

use crate::formatting::num;
use crate::run_result::RunResult;
use crate::svg;
use std::fmt::Write as _;
use std::path::Path;

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
    write_file(&svg, &svg::run_plot(r))?;
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

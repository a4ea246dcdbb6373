//! The files of a finished `compare` or `sweep` run list: the Markdown
//! table, the overlay plot of the median runs and (for `egd report`) every
//! run's CSV curve and SVG plot. `compare`, `sweep` and `egd report` all
//! write through here, so a merged report is the same as an unsharded run.

use crate::output::{self, write_file};
use crate::report::{self, Group};
use crate::run_result::RunResult;
use crate::stats::median_index;
use crate::svg;
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// The Markdown table(s).
    pub table: String,
    /// The overlay plot.
    pub svg: PathBuf,
    /// The table file.
    pub md: PathBuf,
    /// Per-run CSV + SVG pairs written here (`egd report` only).
    pub curves: usize,
}

/// The median run (by epochs to grok) of each group, labelled for an
/// overlay plot.
fn median_runs<'a>(groups: &[Group<'a>]) -> Vec<(String, &'a RunResult)> {
    groups
        .iter()
        .filter_map(|g| {
            let e: Vec<Option<f64>> = g
                .runs
                .iter()
                .map(|r| r.grok_epoch().map(f64::from))
                .collect();
            let i = median_index(&e)?;
            let r = g.runs[i];
            let label = format!("{} (seed {})", r.config.optimizer, r.config.seed);
            Some((label, r))
        })
        .collect()
}

/// Distinct values in first-seen order.
fn distinct<T: PartialEq + Copy>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Writes the outputs of `command` (`"compare"` or `"sweep"`) for `runs`
/// (the whole list, in list order; `jobs` goes into the footnotes) into
/// `out`; with `curves`, every run's CSV and SVG too (and their paths are
/// set in `runs`).
///
/// # Errors
///
/// An I/O error with the path, or an empty run list.
pub fn publish(
    command: &str,
    runs: &mut [RunResult],
    jobs: usize,
    out: &Path,
    curves: bool,
) -> Result<Published, String> {
    let Some(first) = runs.first() else {
        return Err("no runs to report".into());
    };
    let label = first.config.task_label();
    let (batch, width) = (first.config.batch, first.config.width);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut written = 0;
    if curves {
        for r in runs.iter_mut() {
            output::write_run(r, out)?;
            written += 1;
        }
    }
    let runs: &[RunResult] = runs;
    let names: Vec<&str> = distinct(runs.iter().map(|r| r.config.optimizer))
        .iter()
        .map(|o| o.name())
        .collect();
    let seeds = distinct(runs.iter().map(|r| r.config.seed)).len();
    let stem = format!("{command}_{label}_{}_{seeds}seeds", names.join("-"));
    let (table, overlay, svg_path) = if command == "sweep" {
        let groups = report::group(runs, true);
        let best: Vec<Group<'_>> = report::best_per_optimizer(&groups)
            .into_iter()
            .cloned()
            .collect();
        let labelled: Vec<(String, &RunResult)> = median_runs(&best)
            .into_iter()
            .map(|(l, r)| (format!("{l} lr {}", r.config.lr), r))
            .collect();
        let overlay = svg::overlay_plot(
            &format!("{label}: best setting per optimizer"),
            "test accuracy solid, train dashed; median run of the best (lr, wd) per optimizer",
            &labelled,
        );
        (
            report::sweep_tables(runs, jobs),
            overlay,
            out.join(format!("{stem}_best.svg")),
        )
    } else {
        let groups = report::group(runs, false);
        let overlay = svg::overlay_plot(
            &format!("{label}: {}", names.join(" vs ")),
            &format!(
                "test accuracy solid, train dashed; median run (by epochs to grok) of {seeds} seeds each; batch {batch}, width {width}"
            ),
            &median_runs(&groups),
        );
        (
            report::compare_table(runs, jobs),
            overlay,
            out.join(format!("{stem}.svg")),
        )
    };
    write_file(&svg_path, &overlay)?;
    let md = out.join(format!("{stem}.md"));
    write_file(&md, &table)?;
    Ok(Published {
        table,
        svg: svg_path,
        md,
        curves: written,
    })
}

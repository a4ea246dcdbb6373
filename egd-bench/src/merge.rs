//! `egd report`'s merge: results files from any set of shards (and
//! resumed or repeated runs) back into one run list, or a clear error when
//! they do not belong together.
//!
//! Records merge when they have this build's schema, belong to one run list
//! (the same plan id, so the same command and the same runs in the same
//! order) and come from one code version. A run recorded more than once
//! (a resumed shard, a repeated command) counts once, a finished record
//! winning over an interrupted one. Runs with no finished record are
//! missing: an error unless `partial` is set, when they are left out.

use crate::record::{RunRecord, SCHEMA};
use crate::results;
use crate::run_result::RunResult;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A merged run list.
#[derive(Debug)]
pub struct Merged {
    /// `"compare"` or `"sweep"`.
    pub command: String,
    /// The plan id.
    pub id: String,
    /// Runs in the list.
    pub total: usize,
    /// The largest `--jobs` of the shards.
    pub jobs: usize,
    /// The code version of every record.
    pub code_version: String,
    /// The finished runs' records, in list order.
    pub records: Vec<RunRecord>,
    /// The same runs rebuilt, in list order.
    pub runs: Vec<RunResult>,
    /// Indices with no finished record.
    pub missing: Vec<usize>,
    /// Results files read.
    pub files: Vec<PathBuf>,
    /// Files whose torn last line was ignored.
    pub torn: Vec<PathBuf>,
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// Reads and merges the results files named by `inputs` (files, or
/// directories holding `results*.jsonl`).
///
/// # Errors
///
/// One message saying what does not fit: no results files, a damaged line,
/// another schema, records of different run lists or code versions, or
/// missing runs (without `partial`).
pub fn merge(inputs: &[PathBuf], partial: bool) -> Result<Merged, String> {
    let files = results::find(inputs)?;
    if files.is_empty() {
        return Err(format!(
            "no results files (results*.jsonl) in {}",
            inputs
                .iter()
                .map(|p| shown(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut all: Vec<(RunRecord, &Path)> = Vec::new();
    let mut torn = Vec::new();
    for f in &files {
        let (recs, t) = results::read(f)?;
        if t {
            torn.push(f.clone());
        }
        all.extend(recs.into_iter().map(|r| (r, f.as_path())));
    }
    let Some((first, first_file)) = all.first() else {
        return Err(format!(
            "the results files hold no complete run yet: {}",
            files
                .iter()
                .map(|p| shown(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let (first, first_file) = (first.clone(), *first_file);
    for (r, f) in &all {
        if r.schema != SCHEMA {
            return Err(format!(
                "{}: schema {} records; this egd reads schema {SCHEMA} (use the egd that wrote them)",
                shown(f),
                r.schema
            ));
        }
        let (Some(p), Some(p0)) = (&r.plan, &first.plan) else {
            return Err(format!(
                "{}: a record without its run list (a --json line, not a compare/sweep results file)",
                shown(f)
            ));
        };
        if p.id != p0.id || p.command != p0.command || p.runs != p0.runs {
            return Err(format!(
                "results of different run lists cannot be merged: {} ({} runs, id {}) in {} and {} ({} runs, id {}) in {}; pass the results of one command line",
                p0.command,
                p0.runs,
                p0.id,
                shown(first_file),
                p.command,
                p.runs,
                p.id,
                shown(f)
            ));
        }
        if r.code_version != first.code_version {
            return Err(format!(
                "results of different code versions cannot be merged: {} in {} and {} in {}; rerun the older shards with one build",
                first.code_version,
                shown(first_file),
                r.code_version,
                shown(f)
            ));
        }
        if p.index >= p.runs {
            return Err(format!(
                "{}: run index {} of a {}-run list",
                shown(f),
                p.index,
                p.runs
            ));
        }
    }
    let Some(tag) = first.plan.clone() else {
        return Err(format!(
            "{}: a record without its run list",
            shown(first_file)
        ));
    };
    // One record per index: a finished one wins; the settings of two
    // records at one index must agree (same list, same code).
    let mut by_index: BTreeMap<usize, RunRecord> = BTreeMap::new();
    let mut jobs = 1;
    for (r, f) in all {
        let Some(p) = &r.plan else { continue };
        jobs = jobs.max(p.jobs);
        if r.stop == "interrupted" {
            continue;
        }
        if let Some(old) = by_index.get(&p.index)
            && old.settings != r.settings
        {
            return Err(format!(
                "{}: run {} has settings that differ from another file's record of it",
                shown(f),
                p.index
            ));
        }
        by_index.entry(p.index).or_insert(r);
    }
    let missing: Vec<usize> = (0..tag.runs)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() && !partial {
        let shards: Vec<String> = {
            let mut s: Vec<String> = Vec::new();
            for f in &files {
                if let Some(n) = f.file_name().and_then(|n| n.to_str())
                    && !s.contains(&n.to_string())
                {
                    s.push(n.to_string());
                }
            }
            s
        };
        let list: Vec<String> = missing.iter().take(20).map(usize::to_string).collect();
        return Err(format!(
            "{} of {} runs have no finished result yet (indices {}{}); a shard is still running, was interrupted or was not run: rerun it with the same command (it resumes), or pass --partial (files read: {})",
            missing.len(),
            tag.runs,
            list.join(", "),
            if missing.len() > 20 { ", …" } else { "" },
            shards.join(", ")
        ));
    }
    let records: Vec<RunRecord> = by_index.into_values().collect();
    let runs = records
        .iter()
        .map(|r| {
            r.to_result().map_err(|e| {
                format!(
                    "run {} ({} seed {}): {e}",
                    r.plan.as_ref().map_or(0, |p| p.index),
                    r.settings.optimizer,
                    r.settings.seed
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if runs.is_empty() {
        return Err("no finished runs to report".into());
    }
    Ok(Merged {
        command: tag.command,
        id: tag.id,
        total: tag.runs,
        jobs,
        code_version: first.code_version,
        records,
        runs,
        missing,
        files,
        torn,
    })
}

//! Results files: one JSON [`RunRecord`] per line, appended as each run
//! finishes, one file per shard, in `--out`.
//!
//! **Torn lines.** A line is written with one `write` of the whole line and
//! its newline, then `fsync`ed. A process killed mid-write can leave at most
//! one incomplete last line: readers ignore a last line without its newline,
//! and a writer that opens the file again first cuts such a tail off, so the
//! next line starts on a fresh line. Every complete line must parse; one
//! that does not is an error naming the file and line (the file was edited
//! or damaged, not torn).
//!
//! File names: `results_{command}_{plan id}_shard{I}of{N}.jsonl`. Any file
//! named `results*.jsonl` in a directory counts as a results file.

use crate::plan::{Plan, Shard};
use crate::record::RunRecord;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The results file of `shard` of `plan` in `dir`.
#[must_use]
pub fn file_name(plan: &Plan, shard: Shard) -> String {
    format!(
        "results_{}_{}_shard{}of{}.jsonl",
        plan.command, plan.id, shard.index, shard.count
    )
}

/// Whether `path` is named like a results file.
#[must_use]
pub fn is_results_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("results") && n.ends_with(".jsonl"))
}

/// A results file open for appending.
#[derive(Debug)]
pub struct Writer {
    file: File,
    path: PathBuf,
}

impl Writer {
    /// Opens (creating `dir` and the file if needed) and cuts off a torn
    /// last line left by a killed writer.
    ///
    /// # Errors
    ///
    /// The I/O error, with the path.
    pub fn open(dir: &Path, name: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(name);
        let err = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(err)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(err)?;
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if keep < bytes.len() {
            file.set_len(keep as u64).map_err(err)?;
            file.seek(SeekFrom::End(0)).map_err(err)?;
        }
        Ok(Self { file, path })
    }

    /// Appends one record as one line and syncs it to disk.
    ///
    /// # Errors
    ///
    /// The I/O error, with the path.
    pub fn append(&mut self, rec: &RunRecord) -> Result<(), String> {
        let mut line = rec.to_json();
        line.push('\n');
        let err = |e: std::io::Error| format!("{}: {e}", self.path.display());
        self.file.write_all(line.as_bytes()).map_err(err)?;
        self.file.sync_data().map_err(err)
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The records of one results file, and whether a torn last line was
/// ignored.
///
/// # Errors
///
/// An unreadable file, or a complete line that is not a record
/// (`path:line: why`).
pub fn read(path: &Path) -> Result<(Vec<RunRecord>, bool), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = complete < bytes.len();
    let mut out = Vec::new();
    for (n, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let rec: RunRecord = serde_json::from_slice(line)
            .map_err(|e| format!("{}:{}: not a run record: {e}", path.display(), n + 1))?;
        out.push(rec);
    }
    Ok((out, torn))
}

/// The results files named by `inputs`: files as given, directories by
/// their `results*.jsonl` (sorted by name). A missing directory has none.
///
/// # Errors
///
/// An input that does not exist or a directory that cannot be listed.
pub fn find(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.is_file() && is_results_file(f))
                .collect();
            files.sort();
            out.extend(files);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

/// The finished runs (stop other than `"interrupted"`) recorded in `dir`'s
/// results files by this code version, by settings key: what a resumed
/// command skips. Torn last lines are ignored; a damaged file is an error.
///
/// # Errors
///
/// As [`read`].
pub fn finished(dir: &Path, code_version: &str) -> Result<HashMap<String, RunRecord>, String> {
    let mut done = HashMap::new();
    if !dir.is_dir() {
        return Ok(done);
    }
    for f in find(&[dir.to_path_buf()])? {
        for rec in read(&f)?.0 {
            if rec.stop != "interrupted" && rec.code_version == code_version && rec.curve.is_some()
            {
                done.insert(rec.settings.key(), rec);
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("egd-results-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_torn_tail_is_ignored_and_cut_before_appending() {
        let dir = tmp("torn");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results_x.jsonl");
        std::fs::write(&path, "{\"schema\":1,\"trun").unwrap();
        let (recs, torn) = read(&path).unwrap();
        assert!(recs.is_empty() && torn);
        let w = Writer::open(&dir, "results_x.jsonl").unwrap();
        drop(w);
        assert_eq!(std::fs::read(&path).unwrap(), b"");
        std::fs::write(&path, "not json\n").unwrap();
        let e = read(&path).unwrap_err();
        assert!(e.contains("results_x.jsonl:1: not a run record"), "{e}");
        assert!(find(&[dir.join("nope")]).is_err());
        assert_eq!(find(std::slice::from_ref(&dir)).unwrap(), vec![path]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Build script: records the git commit the `egd` binary is built from, so
//! results files can say which code produced them (`code_version`).
//!
//! Sets `EGD_GIT_COMMIT` to `git rev-parse --short=12 HEAD`, with `-dirty`
//! appended when `egd-core`, `egd-tasks` or `egd-bench` differ from that
//! commit. Outside a git checkout (a source tarball, a vendored copy) or
//! without `git`, nothing is set and the code version is the crate version
//! alone.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    // Rerun when the sources or the checked-out commit change.
    for dir in ["src", "../egd-core/src", "../egd-tasks/src"] {
        if Path::new(dir).exists() {
            println!("cargo:rerun-if-changed={dir}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return;
    };
    for what in ["HEAD", "packed-refs"] {
        if let Some(p) = git(&["rev-parse", "--git-path", what]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"])
        && let Some(p) = git(&["rev-parse", "--git-path", &head])
    {
        println!("cargo:rerun-if-changed={p}");
    }
    let clean = Command::new("git")
        .args([
            "diff",
            "--quiet",
            "HEAD",
            "--",
            "../egd-core",
            "../egd-tasks",
            ".",
        ])
        .status()
        .is_ok_and(|s| s.success());
    let suffix = if clean { "" } else { "-dirty" };
    println!("cargo:rustc-env=EGD_GIT_COMMIT={commit}{suffix}");
}

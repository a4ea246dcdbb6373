//! # egd-bench
//!
//! The `egd` command-line harness (and support for the criterion benches):
//! does EGD grok faster than SGD on a task, in how many steps, and what does
//! a step cost?
//!
//! | module | holds |
//! |---|---|
//! | [`cli`] | the `egd` command line: `grok`, `compare`, `sweep`, `report`, `list` |
//! | [`config`] | presets, flags and their validation into a [`RunConfig`](config::RunConfig) |
//! | [`shapes`] | the network shapes compiled in, and a visitor that runs code monomorphized for one |
//! | [`train`] | one training run (the paper's loop, `f32`): the shape visitor that trains |
//! | [`run_result`] | what a run produces: per-epoch records, why it stopped, milestones |
//! | [`pool`] | many runs on `--jobs` worker threads |
//! | [`plan`] | the deterministic run list of `compare`/`sweep`, its fingerprint, `--shard I/N` |
//! | [`record`] | one run as a `serde` record: the JSON of `--json` and of results files |
//! | [`results`] | results files: one JSON line per finished run, torn-line safe; resume |
//! | [`merge`] | `egd report`: results files of shards back into one run list, or a clear error |
//! | [`publish`] | the table, overlay plot and curves of a finished run list |
//! | [`interrupt`] | Ctrl-C / SIGTERM: runs stop cleanly and are recorded as interrupted |
//! | [`stats`] | medians with censoring ("never grokked" = `+∞`) |
//! | [`report`] | the Markdown tables of `compare` and `sweep` |
//! | [`output`] | per-run files: the CSV curve and the SVG plot |
//! | [`svg`] | hand-written SVG plots (log-scale steps) |
//! | [`formatting`] | number formatting and the one-line optimizer description |
//! | [`progress`] | live progress bars (indicatif) and per-run log lines |
//!
//! Modules import each other without cycles (`ARCHITECTURE.md` at the
//! repository root draws the graph; `tests/tests/architecture.rs` checks it).
//!
//! ```text
//! egd grok --preset paper-add-127 --optimizer egd
//! egd compare --preset smoke-add-47 --optimizers sgd,egd --seeds 5 --jobs 2
//! egd sweep --preset smoke-add-47 --optimizers sgd,egd --lrs 0.3,0.7,1 --seeds 3
//! egd sweep --preset smoke-add-47 --lrs 0.3,0.7,1 --seeds 3 --shard 1/4 --out shared/
//! egd report shared/
//! ```

pub mod cli;
pub mod config;
pub mod formatting;
pub mod interrupt;
pub mod merge;
pub mod output;
pub mod plan;
pub mod pool;
pub mod progress;
pub mod publish;
pub mod record;
pub mod report;
pub mod results;
pub mod run_result;
pub mod shapes;
pub mod stats;
pub mod svg;
pub mod train;

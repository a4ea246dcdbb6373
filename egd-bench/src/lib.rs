//! # egd-bench
//!
//! The `egd` command-line harness (and support for the criterion benches):
//! does EGD grok faster than SGD on a task, in how many steps, and what does
//! a step cost?
//!
//! | module | holds |
//! |---|---|
//! | [`cli`] | the `egd` command line: `grok`, `compare`, `sweep`, `list` |
//! | [`config`] | presets, flags and their validation into a [`RunConfig`](config::RunConfig) |
//! | [`shapes`] | the network shapes compiled in, and the dispatch to them |
//! | [`train`] | one training run (the paper's loop, `f32`), milestones |
//! | [`pool`] | many runs on `--jobs` big-stack worker threads |
//! | [`stats`] | medians with censoring ("never grokked" = `+∞`) |
//! | [`report`] | the Markdown tables of `compare` and `sweep` |
//! | [`output`] | CSV curves and the JSON schema of `--json` |
//! | [`svg`] | hand-written SVG plots (log-scale steps) |
//! | [`progress`] | live progress bars (indicatif) |
//!
//! ```text
//! egd grok --preset paper-add-127 --optimizer egd
//! egd compare --preset smoke-add-47 --optimizers sgd,egd --seeds 5 --jobs 2
//! egd sweep --preset smoke-add-47 --optimizers sgd,egd --lrs 0.3,0.7,1 --seeds 3
//! ```

pub mod cli;
pub mod config;
pub mod output;
pub mod pool;
pub mod progress;
pub mod report;
pub mod shapes;
pub mod stats;
pub mod svg;
pub mod train;

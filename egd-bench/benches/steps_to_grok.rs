//! Steps to grok as a criterion measurement (regression tracking).
//!
//! A counting [`Measurement`]: each iteration is one full training run on the
//! harness's smoke preset (`smoke-add-47`, EGD then SGD), with the seed varied
//! per iteration, and the value is the optimizer steps until test accuracy
//! first exceeds 0.95. Criterion cannot express a run that never groks, so a
//! censored run counts its step cap; the `egd compare` report (median, spread
//! and the count of runs that never grokked) stays the source of truth.
//!
//! In the HTML report (`target/criterion/report/index.html`) the values are
//! optimizer steps per training run: criterion titles its axes "Average
//! time" whatever the measurement, and the unit in brackets ("steps to
//! grok") is what was counted.
//!
//! `cargo bench -p egd-bench --bench steps_to_grok`

use clap::Parser;
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use egd_bench::config::{OptKind, RunArgs, resolve};
use egd_bench::train::run;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Optimizer steps, a plain count.
struct Steps;

struct StepsFormatter;

/// The unit shown in the report (criterion prints it after the value and in
/// the axis labels).
const UNIT: &str = "steps to grok";

impl ValueFormatter for StepsFormatter {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        UNIT
    }
    /// No group here sets a throughput; should one, the values stay steps.
    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        UNIT
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "steps"
    }
}

impl Measurement for Steps {
    type Intermediate = ();
    type Value = u64;
    fn start(&self) -> Self::Intermediate {}
    fn end(&self, _i: Self::Intermediate) -> Self::Value {
        0
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &StepsFormatter
    }
}

#[derive(Parser)]
struct Wrapper {
    #[command(flatten)]
    args: RunArgs,
}

/// Steps to grok for one seed, or the step cap when the run never groks.
fn steps_to_grok(optimizer: OptKind, seed: u64) -> u64 {
    let args = Wrapper::parse_from(["bench", "--preset", "smoke-add-47"]).args;
    let cfg =
        resolve(&args, optimizer, seed, None, None, Some(1)).expect("the smoke preset is valid");
    let result = run(&cfg, &mut |_| {});
    result
        .grok_step()
        .unwrap_or(u64::from(cfg.epochs) * result.steps_per_epoch as u64)
}

fn bench(c: &mut Criterion<Steps>) {
    let mut g = c.benchmark_group("steps_to_grok");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_nanos(1));
    g.measurement_time(Duration::from_millis(1));
    static SEED: AtomicU64 = AtomicU64::new(0);
    for (name, opt) in [("egd", OptKind::Egd), ("egd-ns", OptKind::EgdNs)] {
        g.bench_function(BenchmarkId::new("smoke-add-47", name), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| steps_to_grok(opt, SEED.fetch_add(1, Ordering::Relaxed)))
                    .sum()
            })
        });
    }
    g.finish();
}

fn config() -> Criterion<Steps> {
    Criterion::default()
        .with_measurement(Steps)
        .nresamples(1000)
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench
}
criterion_main!(benches);

//! Host build of the firmware's training loop (`../src/train.rs`, the same
//! file): runs a configuration for several seeds, EGD and SGD from the same
//! initial weights, to choose what the firmware trains. The firmware is
//! bit-identical to this build (same `egd-core` operation order, libm).
//!
//! ```text
//! cd firmware/search
//! cargo run --release -- P HIDDEN TRAIN_FRAC LR BATCH WD EPOCHS SEEDS [sgd|sgd:EPOCHS]
//! cargo run --release -- 47 64 0.7 0.3 256 1e-4 200 1-10 sgd
//! ```
//! Seed `s` seeds both the task's split/shuffles and the initial weights.
//! Prints one line per seed; with `sgd`, also SGD for the same number of
//! steps (`sgd:EPOCHS`: for that many epochs instead). EGD stops once it has
//! grokked stably, as on the device. `JOBS=n` runs seeds in parallel (2).

#[path = "../../src/train.rs"]
#[allow(dead_code)]
mod train;

use egd_core::nn::{Mlp2, Mlp2Scratch};
use egd_core::optim::{Egd, EgdConfig, Layers, NoTransform, Optimizer, Sgd, SgdConfig};
use egd_core::polar::{Cutoff, Method, PolarConfig};
use egd_core::rng::SplitMix64;
use egd_core::svd::{DEFAULT_MAX_SWEEPS, SvdConfig};
use egd_tasks::{Dataset, ModularTask, Op};
use heapless::HistoryBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use train::{Clock, Cost, Schedule};

/// EGD stops after this many evaluations in a row above 0.95 (the F407
/// configuration's window; the small one uses 1).
const STABLE_EVALS: usize = 3;

struct NoClock;
impl Clock for NoClock {
    fn ticks(&mut self) -> u32 {
        0
    }
}

#[derive(Clone, Copy)]
struct Args {
    p: usize,
    hidden: usize,
    frac: f64,
    lr: f32,
    batch: usize,
    wd: f32,
    epochs: u32,
    sgd: bool,
    /// SGD epochs instead of as many as EGD took (`sgd:EPOCHS`).
    sgd_epochs: Option<u32>,
}

const EGD_CONFIG: EgdConfig<f32> = EgdConfig::DEFAULT
    .with_polar(
        PolarConfig::DEFAULT
            .with_method(Method::Jacobi)
            .with_cutoff(Cutoff::Auto)
            .with_svd(
                SvdConfig::DEFAULT
                    .with_tol(None)
                    .with_max_sweeps(DEFAULT_MAX_SWEEPS),
            )
            .with_warm_start(false)
            .with_precondition(true),
    )
    .with_layers(Layers::All)
    .with_switch_off_above(None);

const fn kdim(i: usize, h: usize, o: usize) -> usize {
    let a = if h < i { h } else { i };
    let b = if o < h { o } else { h };
    if a > b { a } else { b }
}
const fn ldim(i: usize, h: usize, o: usize) -> usize {
    let a = if h > i { h } else { i };
    let b = if o > h { o } else { h };
    if a > b { a } else { b }
}

fn run<const IN: usize, const H: usize, const P: usize, const K: usize, const L: usize>(
    a: Args,
    seed: u64,
) -> String {
    let task = ModularTask::new(P as u32, Op::Add, a.frac, seed).expect("task");
    let sgd = || Sgd::new(SgdConfig::default().with_lr(a.lr).with_weight_decay(a.wd)).expect("sgd");
    let mut net = Box::new(Mlp2::<f32, IN, H, P>::zeros(true, false));
    let mut grad = Box::new(Mlp2::<f32, IN, H, P>::zeros(true, false));
    let mut scratch = Box::new(Mlp2Scratch::<f32, H, P>::new());
    let mut egd = Box::new(Optimizer::new(Egd::<f32, K, L>::new(EGD_CONFIG), sgd()));
    net.init_he(&mut SplitMix64::new(seed));
    let sched = Schedule {
        batch: a.batch,
        epochs: a.epochs,
        eval_every: 1,
        stop_when_stable: true,
    };
    let mut cost = Cost::default();
    let o = train::train(
        &mut net,
        &mut grad,
        &mut scratch,
        &mut egd,
        &task,
        &sched,
        &mut NoClock,
        &mut cost,
        &mut HistoryBuf::<f32, STABLE_EVALS>::new(),
        |_| {},
    )
    .expect("egd run");
    let mut line = format!(
        "seed={seed} train={} test={} egd_grok_epoch={:?} egd_stable={} egd_steps={} egd_test={:.4}",
        task.train_len(),
        task.test_len(),
        o.grok_epoch,
        o.stable,
        cost.steps,
        o.last.test_acc
    );
    if a.sgd {
        net.init_he(&mut SplitMix64::new(seed));
        let mut opt = Optimizer::new(NoTransform, sgd());
        let mut c2 = Cost::default();
        let s2 = Schedule {
            epochs: a.sgd_epochs.unwrap_or(o.last.epoch),
            stop_when_stable: false,
            ..sched
        };
        let o2 = train::train(
            &mut net,
            &mut grad,
            &mut scratch,
            &mut opt,
            &task,
            &s2,
            &mut NoClock,
            &mut c2,
            &mut HistoryBuf::<f32, STABLE_EVALS>::new(),
            |_| {},
        )
        .expect("sgd run");
        line += &format!(
            " sgd_steps={} sgd_test={:.4} sgd_train={:.4}",
            c2.steps, o2.last.test_acc, o2.last.train_acc
        );
    }
    line
}

macro_rules! dispatch {
    ($a:expr, $seed:expr; $(($p:literal, $h:literal)),*) => {
        match ($a.p, $a.hidden) {
            $(($p, $h) => run::<{ 2 * $p }, $h, $p, { kdim(2 * $p, $h, $p) }, { ldim(2 * $p, $h, $p) }>($a, $seed),)*
            _ => panic!("shape ({}, {}) not compiled in", $a.p, $a.hidden),
        }
    };
}

fn main() {
    let v: Vec<String> = std::env::args().skip(1).collect();
    assert!(
        v.len() >= 8,
        "usage: P HIDDEN TRAIN_FRAC LR BATCH WD EPOCHS SEEDS(a-b) [sgd|sgd:EPOCHS]"
    );
    let a = Args {
        p: v[0].parse().expect("P"),
        hidden: v[1].parse().expect("HIDDEN"),
        frac: v[2].parse().expect("TRAIN_FRAC"),
        lr: v[3].parse().expect("LR"),
        batch: v[4].parse().expect("BATCH"),
        wd: v[5].parse().expect("WD"),
        epochs: v[6].parse().expect("EPOCHS"),
        sgd: v.get(8).is_some_and(|s| s.starts_with("sgd")),
        sgd_epochs: v
            .get(8)
            .and_then(|s| s.strip_prefix("sgd:"))
            .map(|e| e.parse().expect("sgd:EPOCHS")),
    };
    let (lo, hi) = v[7].split_once('-').unwrap_or((&v[7], &v[7]));
    let seeds: Vec<u64> = (lo.parse().expect("seed")..=hi.parse().expect("seed")).collect();
    let jobs: usize = std::env::var("JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(2);
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while let Some(&seed) = seeds.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let line = dispatch!(a, seed; (47, 64), (53, 64), (59, 64), (47, 48), (23, 48));
                    println!(
                        "p={} hidden={} frac={} lr={} batch={} wd={} {line}",
                        a.p, a.hidden, a.frac, a.lr, a.batch, a.wd
                    );
                }
            });
        }
    });
}

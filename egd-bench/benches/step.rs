//! Time of one training step, SGD vs EGD on the same batch and the same
//! weights (a fixed snapshot: the He-initialised network, so the Jacobi sweep
//! count is the same in every iteration), and its split: forward + backward
//! (`batch_grad` per sample, `batch_grad_blocked` as the harness runs it),
//! the forward pass alone (`forward_blocked8`: backward = gradient −
//! forward), the W1 polar factor alone, the optimizer alone on a fixed
//! gradient (`sgd_update`: L2, finiteness check, SGD), the whole step
//! (gradient on the blocked fast path, as in the harness, then the
//! optimizer), and evaluation of the test split on the blocked forward-only
//! path (`evaluate_blocked`, throughput in examples). At p = 97 and 127 also
//! EGD-RSVD (rank 128 and 64, two power iterations, the paper's clamp):
//! `polar_w1_rsvd{r}` and `egd_rsvd{r}_step`; and the steps of the other
//! methods of the reproduction table, as the harness builds them:
//! `egd_ns5_step` (Newton–Schulz ×5 on W1), `grokfast_step` (Grokfast-EMA,
//! α 0.98, λ 2, then SGD) and `colnorm_step` (column normalisation on W1,
//! then SGD).
//!
//! Shapes: the paper's p = 97 and p = 127 models (two-hot input `2p`, hidden
//! 512, output `p`, batch 512; test splits of 4705 and 8065 examples) and a
//! microcontroller model (p = 23, hidden 64, batch 64).
//!
//! Report layout: one group per shape (`step/paper_p127`, …) with
//! throughput in samples (the batch) and one function per part of a step,
//! the batch size as the parameter; evaluation in its own group
//! (`evaluate/paper_p127`, …) with throughput in test examples. A new
//! method is one more `bench_function` in [`shape!`].
//! `cargo bench -p egd-bench --bench step`; the HTML report is
//! `target/criterion/report/index.html`.

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use egd_core::nn::{CrossEntropy, Mlp2, Mlp2BlockScratch, Mlp2Scratch, MultiHot};
use egd_core::optim::{
    ColumnNorm, ColumnNormConfig, Egd, EgdConfig, Grokfast, GrokfastConfig, NoTransform, Optimizer,
    Sgd, SgdConfig,
};
use egd_core::polar::{Method, PolarConfig, polar};
use egd_core::rng::SplitMix64;
use egd_core::rsvd::{self, RsvdWorkspace};
use egd_core::svd::SvdWorkspace;
use egd_core::{Matrix, Real};
use egd_tasks::{Dataset, ModularTask, Op};
use std::hint::black_box;
use std::time::Duration;

fn task(p: u32) -> ModularTask {
    ModularTask::new(p, Op::Add, 0.5, 0).expect("valid task")
}

fn batch(p: u32, n: usize) -> Vec<([usize; 2], usize)> {
    let task = task(p);
    (0..n)
        .map(|i| {
            let e = task.train_example(i).expect("in range");
            (e.two_hot(), e.label() as usize)
        })
        .collect()
}

/// The whole test split (half of all `p²` pairs).
fn test_split(p: u32) -> Vec<([usize; 2], usize)> {
    let task = task(p);
    (0..task.test_len())
        .map(|i| {
            let e = task.test_example(i).expect("in range");
            (e.two_hot(), e.label() as usize)
        })
        .collect()
}

/// Grokfast-EMA on a network of shape `(I, H, O)`, then SGD.
type GrokfastSgd<const I: usize, const H: usize, const O: usize> =
    Optimizer<Grokfast<f32, Mlp2<f32, I, H, O>>, Sgd<f32>>;

/// Grokfast-EMA as the harness builds it (α 0.98, λ 2, then SGD), its EMA
/// zeroed on the heap.
fn grokfast<const I: usize, const H: usize, const O: usize>(
    sgd_cfg: SgdConfig<f32>,
) -> Box<GrokfastSgd<I, H, O>> {
    let gf_cfg = GrokfastConfig::default().with_alpha(0.98).with_lambda(2.0);
    Box::new(Optimizer::new(
        Grokfast::const_new(gf_cfg, Mlp2::zeros(true, false)),
        Sgd::new(sgd_cfg).unwrap(),
    ))
}

macro_rules! shape {
    ($c:expr, $name:literal, $p:literal, $in:literal, $h:literal, $k:literal, $l:literal, $batch:literal $(, rsvd $($rank:literal)+)?) => {{
        let data = batch($p, $batch);
        let it = || data.iter().map(|(x, y)| (MultiHot(x), *y));
        // Everything network-sized is zeroed on the heap (criterion's own
        // main thread runs this; nothing big is built on its stack).
        let mut net = Box::<Mlp2<f32, $in, $h, $p>>::default();
        net.reset(true, false);
        net.init_he(&mut SplitMix64::new(1));
        let mut grad = Box::<Mlp2<f32, $in, $h, $p>>::default();
        let mut scratch = Box::new(Mlp2Scratch::new());
        let sgd_cfg = SgdConfig::default().with_lr(0.7).with_weight_decay(1e-4);
        let sgd = Box::new(Optimizer::new(NoTransform, Sgd::new(sgd_cfg).unwrap()));
        let egd = Box::new(Optimizer::new(
            Egd::<f32, $k, $l, 0, Box<RsvdWorkspace<f32, $k, $l, 0>>>::from_workspace(
                EgdConfig::paper(),
                Box::default(),
            ),
            Sgd::new(sgd_cfg).unwrap(),
        ));

        let mut g = $c.benchmark_group(concat!("step/", $name));
        g.throughput(Throughput::Elements($batch));
        let big = $h >= 512;
        g.sample_size(if big { 10 } else { 30 });
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if big { 5 } else { 2 }));
        g.bench_function(BenchmarkId::new("batch_grad", $batch), |b| {
            b.iter(|| {
                net.batch_grad(&CrossEntropy, it(), &mut grad, &mut scratch)
                    .unwrap()
            })
        });
        let mut block = Box::<Mlp2BlockScratch<f32, $h, $p, 8>>::default();
        g.bench_function(BenchmarkId::new("batch_grad_blocked8", $batch), |b| {
            b.iter(|| {
                net.batch_grad_blocked(&CrossEntropy, it(), &mut grad, &mut block)
                    .unwrap()
            })
        });
        // The forward pass alone (logits and loss of the same batch): with
        // batch_grad_blocked8 it splits a gradient into forward and backward.
        g.bench_function(BenchmarkId::new("forward_blocked8", $batch), |b| {
            b.iter(|| {
                net.evaluate_blocked(&CrossEntropy, it(), &mut block)
                    .unwrap()
            })
        });
        // The optimizer alone on a fixed gradient: L2, finiteness check and
        // the SGD update (what an EGD step adds on top of its polar factor).
        net.batch_grad_blocked(&CrossEntropy, it(), &mut grad, &mut block)
            .unwrap();
        g.bench_function(BenchmarkId::new("sgd_update", $batch), |b| {
            b.iter_batched_ref(
                || (net.clone(), grad.clone(), sgd.clone()),
                |(n, gr, o)| o.step(&mut **n, &mut **gr).unwrap(),
                BatchSize::LargeInput,
            )
        });
        // The W1 gradient with the L2 term, as EGD sees it.
        net.batch_grad(&CrossEntropy, it(), &mut grad, &mut scratch)
            .unwrap();
        let mut w1g = Box::<Matrix<f32, $h, $in>>::default();
        w1g.as_mut_slice().copy_from_slice(grad.l1.w.as_slice());
        w1g.axpy(f32::from_f64(1e-4), &net.l1.w);
        let mut out = Box::<Matrix<f32, $h, $in>>::default();
        let mut ws = Box::<SvdWorkspace<f32, $k, $l>>::default();
        let cfg = PolarConfig::paper();
        g.bench_function(BenchmarkId::new("polar_w1", $batch), |b| {
            b.iter(|| polar(black_box(&*w1g), &mut out, &mut ws, &cfg).unwrap())
        });
        // The harness's step (the blocked gradient, then the optimizer), one
        // body for every method: `timed_step!(id, optimizer)`.
        macro_rules! timed_step {
            ($id:expr, $opt:expr) => {
                g.bench_function(BenchmarkId::new($id, $batch), |b| {
                    b.iter_batched_ref(
                        || (net.clone(), $opt.clone()),
                        |(n, o)| {
                            n.batch_grad_blocked(&CrossEntropy, it(), &mut grad, &mut block)
                                .unwrap();
                            o.step(&mut **n, &mut *grad).unwrap()
                        },
                        BatchSize::LargeInput,
                    )
                });
            };
        }
        timed_step!("sgd_step", sgd);
        timed_step!("egd_step", egd);
        // The other methods of the reproduction table (their steps, a
        // timing for "fewer epochs" against "less time").
        let ns5 = Box::new(Optimizer::new(
            Egd::<f32, $k, $l, 0, Box<RsvdWorkspace<f32, $k, $l, 0>>>::from_workspace(
                EgdConfig::default().with_polar(PolarConfig::newton_schulz()),
                Box::default(),
            ),
            Sgd::new(sgd_cfg).unwrap(),
        ));
        let grokfast = grokfast::<$in, $h, $p>(sgd_cfg);
        let colnorm = Box::new(Optimizer::new(
            ColumnNorm::new(ColumnNormConfig::default()),
            Sgd::new(sgd_cfg).unwrap(),
        ));
        timed_step!("egd_ns5_step", ns5);
        timed_step!("grokfast_step", grokfast);
        timed_step!("colnorm_step", colnorm);
        $($(
            let rcfg = PolarConfig::paper().with_method(Method::Rsvd { rank: $rank, power_iters: 2, seed: 0 });
            let mut rws = Box::<RsvdWorkspace<f32, $k, $l, 128>>::default();
            g.bench_function(BenchmarkId::new(concat!("polar_w1_rsvd", $rank), $batch), |b| {
                b.iter(|| rsvd::polar(black_box(&*w1g), &mut out, &mut rws, &rcfg, 0).unwrap())
            });
            let rsvd_opt = Box::new(Optimizer::new(
                Egd::<f32, $k, $l, 128, Box<RsvdWorkspace<f32, $k, $l, 128>>>::from_workspace(
                    EgdConfig::paper().with_polar(rcfg),
                    Box::default(),
                ),
                Sgd::new(sgd_cfg).unwrap(),
            ));
            timed_step!(concat!("egd_rsvd", $rank, "_step"), rsvd_opt);
        )+)?
        g.finish();

        // Evaluation of the whole test split, per example.
        let test = test_split($p);
        let mut g = $c.benchmark_group(concat!("evaluate/", $name));
        g.throughput(Throughput::Elements(test.len() as u64));
        g.sample_size(if big { 10 } else { 30 });
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(if big { 5 } else { 2 }));
        g.bench_function(BenchmarkId::new("evaluate_blocked8", test.len()), |b| {
            b.iter(|| {
                net.evaluate_blocked(
                    &CrossEntropy,
                    test.iter().map(|(x, y)| (MultiHot(x), *y)),
                    &mut block,
                )
                .unwrap()
            })
        });
        g.finish();
    }};
}

fn step_benches(c: &mut Criterion) {
    shape!(c, "mcu_p23_h64", 23, 46, 64, 46, 64, 64);
    shape!(c, "paper_p97", 97, 194, 512, 194, 512, 512, rsvd 128 64);
    shape!(c, "paper_p127", 127, 254, 512, 254, 512, 512, rsvd 128 64);
}

criterion_group!(benches, step_benches);

criterion_main!(benches);

//! One training run: the paper's loop, in `f32`.
//!
//! [`run`] hands a visitor to [`crate::shapes::visit`], which calls it back
//! monomorphized for the run's compiled shape; the loop then records each
//! epoch into a [`RunResult`] ([`crate::run_result`]). The pieces only this
//! loop uses live here too: how a task's examples become network inputs
//! (`Adapter`), and the optimizer chosen at run time (`AnyOpt`).
//!
//! Per epoch `e` (0-based internally, reported 1-based as *completed* epochs):
//!
//! 1. the training split is reshuffled by `(seed, e)` and cut into
//!    `⌊N_train / batch⌋` minibatches (the remainder is dropped);
//! 2. per minibatch: the mean-loss gradient ([`Mlp2::batch_grad_blocked`]:
//!    blocks of 16 samples against a transposed `W2`, active hidden units
//!    only, into a reused buffer; sparse two-hot inputs read and update two
//!    rows of a transposed `W1`), then one optimizer step (L2 → transform →
//!    SGD/AdamW); these steps, and nothing else, are timed (`ms`);
//! 3. the whole training set and the whole test set are evaluated with the
//!    forward-only path ([`Mlp2::evaluate_blocked`]) and the epoch's record
//!    is passed to the observer. With [`EvalMode::Concurrent`] this runs on
//!    a second thread, on a copy of the weights, while epoch `e + 1` trains;
//!    the records are the same bits.
//!
//! The run ends at the epoch cap, at the early stop, on a failed step, or
//! when an interrupt is requested ([`crate::interrupt`], polled before every
//! step: the epoch in progress is dropped, the completed ones are kept).
//!
//! No allocation happens per step or per epoch except the record pushed to
//! the curve (and, with [`EvalMode::Concurrent`], the evaluation thread's
//! spawn). Everything big (network, gradient, block scratch, optimizer
//! state with its SVD workspace: about 4 MB for the paper's p = 127 model)
//! is boxed once per run, so [`run`] works on any thread with the default
//! stack.
//!
//! Training is `f32` only (the embedded workhorse, and what the paper's JAX
//! code uses); the `f64` path of `egd-core` is for tests and oracles.

use crate::config::{MAX_RANK, OptKind, RunConfig};
use crate::interrupt;
use crate::run_result::{EpochRecord, HIGH_ACC, RunResult, Stop};
use crate::shapes::{self, ShapeVisitor};
use egd_core::EgdError;
use egd_core::nn::{BatchStats, CrossEntropy, Input, Loss, Mlp2, Mlp2BlockScratch, Mse, MultiHot};
use egd_core::optim::{
    AdamW, AdamWConfig, Base, ColumnNorm, ColumnNormConfig, Egd, EgdConfig, Grokfast,
    GrokfastConfig, NoTransform, Optimizer, Sgd, SgdConfig, Transform,
};
use egd_core::polar::{Cutoff, Method, PolarConfig};
use egd_core::rng::{Init, SplitMix64};
use egd_core::rsvd::RsvdWorkspace;
use egd_tasks::{
    Dataset, InitScheme, ModExample, ModularSpec, ParityExample, ParitySpec, Remainder,
};
use std::time::Instant;

/// Samples per block in the gradient and evaluation passes (the results do
/// not depend on it; 16 is about 5 % faster than 8 at p = 127).
const BLOCK: usize = 16;

/// Trains one run as configured, calling `observer` after every epoch.
///
/// The shape must be compiled in ([`shapes::is_compiled`]; `resolve` checks
/// it); otherwise the run ends at once with [`Stop::Failed`].
pub fn run(cfg: &RunConfig, observer: &mut dyn FnMut(&EpochRecord)) -> RunResult {
    run_with(cfg, EvalMode::Inline, observer)
}

/// [`run`], with the evaluation where `mode` says (same records either way).
pub fn run_with(
    cfg: &RunConfig,
    mode: EvalMode,
    observer: &mut dyn FnMut(&EpochRecord),
) -> RunResult {
    let trainer = Trainer {
        cfg,
        mode,
        observer,
    };
    shapes::visit(&cfg.task, cfg.width, trainer)
        .flatten()
        .unwrap_or_else(|| RunResult {
            config: cfg.clone(),
            n_train: 0,
            n_test: 0,
            steps_per_epoch: 0,
            curve: Vec::new(),
            stop: Stop::Failed(format!(
                "shape {} is not compiled in",
                shapes::describe(&cfg.task, cfg.width)
            )),
            wall_s: 0.0,
            csv: None,
            svg: None,
        })
}

/// Builds the run's data set and trains on the shape [`shapes::visit`]
/// picked; `None` if the task cannot be built (`resolve` rules that out).
struct Trainer<'a> {
    cfg: &'a RunConfig,
    mode: EvalMode,
    observer: &'a mut dyn FnMut(&EpochRecord),
}

impl ShapeVisitor for Trainer<'_> {
    type Output = Option<RunResult>;

    fn modular<
        const IN: usize,
        const H: usize,
        const OUT: usize,
        const K: usize,
        const L: usize,
    >(
        self,
        spec: &ModularSpec,
    ) -> Option<RunResult> {
        let data = spec.build(self.cfg.seed).ok()?;
        Some(train::<IN, H, OUT, K, L, Modular>(
            self.cfg,
            &data,
            self.mode,
            self.observer,
        ))
    }

    fn parity<const IN: usize, const H: usize, const OUT: usize, const K: usize, const L: usize>(
        self,
        spec: &ParitySpec,
    ) -> Option<RunResult> {
        let data = spec.build(self.cfg.seed).ok()?;
        Some(train::<IN, H, OUT, K, L, Parity>(
            self.cfg,
            &data,
            self.mode,
            self.observer,
        ))
    }
}

/// How a task's examples become network inputs and targets.
trait Adapter<const IN: usize, const OUT: usize> {
    /// The data set.
    type Data: Dataset + Sync;
    /// The network input.
    type X: Input<f32, IN>;
    /// The loss.
    type L: Loss<f32, OUT>;
    /// The loss value.
    const LOSS: Self::L;
    /// One example as (input, target).
    fn convert(
        ex: <Self::Data as Dataset>::Example,
    ) -> (Self::X, <Self::L as Loss<f32, OUT>>::Target);
}

/// Modular arithmetic: two-hot inputs, `p` logits, cross-entropy.
struct Modular;

impl<const IN: usize, const OUT: usize> Adapter<IN, OUT> for Modular {
    type Data = egd_tasks::ModularTask;
    type X = MultiHot<[usize; 2]>;
    type L = CrossEntropy;
    const LOSS: CrossEntropy = CrossEntropy;
    #[inline]
    fn convert(ex: ModExample) -> (MultiHot<[usize; 2]>, usize) {
        (MultiHot(ex.two_hot()), ex.label() as usize)
    }
}

/// Sparse parity: dense ±1 inputs, one scalar output, MSE against ±1.
struct Parity;

impl<const IN: usize, const OUT: usize> Adapter<IN, OUT> for Parity {
    type Data = egd_tasks::SparseParity;
    type X = [f32; IN];
    type L = Mse;
    const LOSS: Mse = Mse;
    #[inline]
    fn convert(ex: ParityExample) -> ([f32; IN], [f32; OUT]) {
        let mut x = [0.0f32; IN];
        // The dispatch only pairs IN with tasks of input length IN, so the
        // length check inside cannot fail.
        let written = ex.write_input(&mut x);
        debug_assert!(written.is_ok());
        (x, [f32::from(ex.label()); OUT])
    }
}

/// The optimizers, dispatched at run time inside one training loop per shape.
/// EGD's workspace, for ranks up to `MAX_RANK` (EGD-RSVD).
type Workspace<const K: usize, const L: usize> = RsvdWorkspace<f32, K, L, { MAX_RANK as usize }>;

/// (The network-sized states are boxed: the enum itself stays small.)
enum AnyOpt<N, const K: usize, const L: usize> {
    Sgd(Optimizer<NoTransform, Sgd<f32>>),
    AdamW(Box<Optimizer<NoTransform, AdamW<f32, N>>>),
    Grokfast(Box<Optimizer<Grokfast<f32, N>, Sgd<f32>>>),
    Egd(Optimizer<Egd<f32, K, L, { MAX_RANK as usize }, Box<Workspace<K, L>>>, Sgd<f32>>),
    ColNorm(Optimizer<ColumnNorm<f32>, Sgd<f32>>),
}

fn f32_cutoff(c: Cutoff<f64>) -> Cutoff<f32> {
    match c {
        Cutoff::Auto => Cutoff::Auto,
        Cutoff::Clamp(e) => Cutoff::Clamp(e as f32),
        Cutoff::Relative(t) => Cutoff::Relative(t as f32),
    }
}

impl<const IN: usize, const H: usize, const OUT: usize, const K: usize, const L: usize>
    AnyOpt<Mlp2<f32, IN, H, OUT>, K, L>
{
    fn new(cfg: &RunConfig, net: &Mlp2<f32, IN, H, OUT>) -> Result<Self, EgdError> {
        let sgd = || {
            Sgd::new(
                SgdConfig::default()
                    .with_lr(cfg.lr as f32)
                    .with_weight_decay(cfg.wd as f32),
            )
        };
        let layers = cfg.layers.layers();
        Ok(match cfg.optimizer {
            OptKind::Sgd => Self::Sgd(Optimizer::new(NoTransform, sgd()?)),
            // The network-sized states are zeroed straight into their boxes
            // (`const_new` takes the zero buffers), then the configs checked.
            OptKind::AdamW => {
                let adam_cfg = AdamWConfig::default()
                    .with_lr(cfg.lr as f32)
                    .with_weight_decay(cfg.wd as f32);
                let (m, v) = (Mlp2::default(), Mlp2::default());
                let o = Box::new(Optimizer::new(
                    NoTransform,
                    AdamW::const_new(adam_cfg, m, v),
                ));
                Base::<f32, Mlp2<f32, IN, H, OUT>>::validate(&o.base)?;
                Self::AdamW(o)
            }
            OptKind::Grokfast => {
                let gf_cfg = GrokfastConfig::default()
                    .with_alpha(cfg.grokfast_alpha as f32)
                    .with_lambda(cfg.grokfast_lambda as f32);
                let base = sgd()?;
                let mu = Mlp2::zeros(net.l1.bias, net.l2.bias);
                let o = Box::new(Optimizer::new(Grokfast::const_new(gf_cfg, mu), base));
                Transform::<f32, Mlp2<f32, IN, H, OUT>>::validate(&o.transform)?;
                Self::Grokfast(o)
            }
            OptKind::Egd | OptKind::EgdNs | OptKind::EgdRsvd => {
                let polar = if cfg.optimizer == OptKind::EgdNs {
                    PolarConfig::newton_schulz()
                } else if let Some(r) = cfg.rsvd {
                    // The sketches are drawn from the run's seed (and the step).
                    PolarConfig::paper()
                        .with_method(Method::Rsvd {
                            rank: r.rank,
                            power_iters: r.power_iters,
                            seed: cfg.seed,
                        })
                        .with_cutoff(f32_cutoff(cfg.cutoff))
                } else {
                    PolarConfig::paper()
                        .with_cutoff(f32_cutoff(cfg.cutoff))
                        .with_warm_start(cfg.warm_start)
                };
                let egd_cfg = EgdConfig::default()
                    .with_polar(polar)
                    .with_layers(layers)
                    .with_switch_off_above(cfg.switch_off.map(|t| t as f32));
                // The workspace (1.3 MB at p = 127) is zeroed on the heap.
                let egd =
                    Egd::<f32, K, L, { MAX_RANK as usize }, Box<Workspace<K, L>>>::from_workspace(
                        egd_cfg,
                        Box::default(),
                    );
                Self::Egd(Optimizer::new(egd, sgd()?))
            }
            OptKind::ColNorm => Self::ColNorm(Optimizer::new(
                ColumnNorm::new(ColumnNormConfig::default().with_layers(layers)),
                sgd()?,
            )),
        })
    }

    #[inline]
    fn step(
        &mut self,
        net: &mut Mlp2<f32, IN, H, OUT>,
        grad: &mut Mlp2<f32, IN, H, OUT>,
    ) -> Result<(), EgdError> {
        match self {
            Self::Sgd(o) => o.step(net, grad).map(drop),
            Self::AdamW(o) => o.step(net, grad).map(drop),
            Self::Grokfast(o) => o.step(net, grad).map(drop),
            Self::Egd(o) => o.step(net, grad).map(drop),
            Self::ColNorm(o) => o.step(net, grad).map(drop),
        }
    }

    /// Feeds the epoch's test accuracy to EGD's switch-off rule.
    fn observe(&mut self, test_acc: f64) {
        if let Self::Egd(o) = self {
            o.transform.observe_accuracy(test_acc as f32);
        }
    }
}

fn init_net<const IN: usize, const H: usize, const OUT: usize>(
    net: &mut Mlp2<f32, IN, H, OUT>,
    init: InitScheme,
    seed: u64,
) {
    // The same initial weights for every optimizer with the same seed; a
    // stream separate from the task's split and shuffles.
    let mut rng = SplitMix64::new(SplitMix64::mix(seed ^ 0x696E_6974_5F6E_6574));
    match init {
        InitScheme::HeWithBias => {
            let std = (2.0 / IN as f64).sqrt();
            net.l1.init(Init::HeNormal, Init::Normal { std }, &mut rng);
            net.l2.init(Init::HeNormal, Init::Zeros, &mut rng);
        }
        _ => net.init_he(&mut rng),
    }
}

/// A hint for a failed step.
fn hint(e: EgdError) -> &'static str {
    match e {
        EgdError::NonFinite => " (the loss diverged; try a smaller --lr)",
        EgdError::NotConverged { .. } => " (the Jacobi SVD hit its sweep cap)",
        _ => "",
    }
}

/// The training loop for one shape and task kind.
fn train<
    const IN: usize,
    const H: usize,
    const OUT: usize,
    const K: usize,
    const L: usize,
    A: Adapter<IN, OUT>,
>(
    cfg: &RunConfig,
    data: &A::Data,
    mode: EvalMode,
    observer: &mut dyn FnMut(&EpochRecord),
) -> RunResult {
    let start = Instant::now();
    let mut result = RunResult {
        config: cfg.clone(),
        n_train: data.train_len(),
        n_test: data.test_len(),
        steps_per_epoch: data.train_len() / cfg.batch.max(1),
        curve: Vec::with_capacity(cfg.epochs.min(100_000) as usize),
        stop: Stop::Cap,
        wall_s: 0.0,
        csv: None,
        svg: None,
    };
    // EGD's switch-off rule reads each epoch's test accuracy before the next
    // epoch trains, so it cannot overlap the two.
    let concurrent = mode == EvalMode::Concurrent && cfg.switch_off.is_none();
    // Zeroed in place on the heap (4 MB at p = 127): nothing big on the stack.
    let mut net = Box::<Mlp2<f32, IN, H, OUT>>::default();
    net.reset(true, cfg.output_bias);
    init_net(&mut net, cfg.init, cfg.seed);
    let mut grad = Box::<Mlp2<f32, IN, H, OUT>>::default(); // switches set by batch_grad
    let mut scratch = Box::<Mlp2BlockScratch<f32, H, OUT, BLOCK>>::default();
    // The concurrent evaluation's own copy of the weights and scratch, handed
    // to its thread and back every epoch.
    let mut spare = concurrent.then(|| {
        (
            Box::<Mlp2<f32, IN, H, OUT>>::default(),
            Box::<Mlp2BlockScratch<f32, H, OUT, BLOCK>>::default(),
        )
    });
    let outcome = std::thread::scope(|s| -> Result<Stop, String> {
        let mut opt = AnyOpt::<_, K, L>::new(cfg, &net).map_err(|e| e.to_string())?;
        let mut streak = 0u32;
        // Turns epoch `e`'s evaluation into its record; `Some` to stop.
        let mut finish = |opt: &mut AnyOpt<_, K, L>,
                          e: u32,
                          ms: f64,
                          ev: Evaluated|
         -> Result<Option<Stop>, String> {
            let (tr, te) = ev.stats?;
            let acc = |c: usize, n: usize| c as f64 / n.max(1) as f64;
            let rec = EpochRecord {
                epoch: e + 1,
                step: u64::from(e + 1) * result.steps_per_epoch as u64,
                train_acc: acc(tr.correct, tr.samples),
                test_acc: acc(te.correct, te.samples),
                train_loss: f64::from(tr.loss),
                test_loss: f64::from(te.loss),
                w1_norm: ev.w1_norm,
                ms,
                wall_s: ev.wall_s,
            };
            result.curve.push(rec);
            observer(&rec);
            opt.observe(rec.test_acc);
            streak = if rec.test_acc >= HIGH_ACC {
                streak + 1
            } else {
                0
            };
            Ok(cfg
                .early_stop
                .is_some_and(|n| streak >= n)
                .then_some(Stop::EarlyStop))
        };
        let mut pending = None;
        for e in 0..cfg.epochs {
            let trained = train_epoch::<IN, H, OUT, K, L, A>(
                data,
                cfg.batch,
                e,
                &mut net,
                &mut grad,
                &mut scratch,
                &mut opt,
            );
            // The previous epoch's record comes first, as if it had been
            // evaluated before this epoch trained (an early stop it triggers
            // discards this epoch).
            if let Some((pe, pms, handle)) = pending.take() {
                let (snapshot, sc, ev) = join(handle);
                spare = Some((snapshot, sc));
                if let Some(stop) = finish(&mut opt, pe, pms, ev)? {
                    return Ok(stop);
                }
            }
            let Some(ms) = trained? else {
                return Ok(Stop::Interrupted);
            };
            match spare.take() {
                Some((mut snapshot, mut sc)) => {
                    snapshot.clone_from(&net);
                    let job = move || {
                        let ev = evaluate::<IN, H, OUT, A>(&snapshot, &mut sc, data, e, start);
                        (snapshot, sc, ev)
                    };
                    let handle = std::thread::Builder::new()
                        .name("egd-evaluation".into())
                        .spawn_scoped(s, job)
                        .map_err(|err| format!("cannot start the evaluation thread: {err}"))?;
                    pending = Some((e, ms, handle));
                }
                None => {
                    let ev = evaluate::<IN, H, OUT, A>(&net, &mut scratch, data, e, start);
                    if let Some(stop) = finish(&mut opt, e, ms, ev)? {
                        return Ok(stop);
                    }
                }
            }
        }
        if let Some((pe, pms, handle)) = pending.take() {
            let (_, _, ev) = join(handle);
            return Ok(finish(&mut opt, pe, pms, ev)?.unwrap_or(Stop::Cap));
        }
        Ok(Stop::Cap)
    });
    result.stop = outcome.unwrap_or_else(Stop::Failed);
    result.wall_s = start.elapsed().as_secs_f64();
    result
}

/// Where the per-epoch evaluation of the whole training and test sets runs.
/// Either way the records are the same bits; only timings differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalMode {
    /// On the training thread, after each epoch.
    Inline,
    /// On a second thread, on a copy of the weights, while the next epoch
    /// trains (falls back to [`EvalMode::Inline`] under EGD's switch-off
    /// rule, which needs each epoch's test accuracy before the next epoch).
    /// A record's `wall_s` is when its evaluation finished; an early stop
    /// discards the epoch that trained meanwhile.
    Concurrent,
}

/// One epoch's evaluation: losses and counts on both splits, the weights'
/// `‖W1‖_F`, and the wall time when it finished.
struct Evaluated {
    stats: Result<(BatchStats<f32>, BatchStats<f32>), String>,
    w1_norm: f64,
    wall_s: f64,
}

/// Evaluates `net` (the weights after 0-based epoch `e`) on both splits.
fn evaluate<const IN: usize, const H: usize, const OUT: usize, A: Adapter<IN, OUT>>(
    net: &Mlp2<f32, IN, H, OUT>,
    scratch: &mut Mlp2BlockScratch<f32, H, OUT, BLOCK>,
    data: &A::Data,
    e: u32,
    start: Instant,
) -> Evaluated {
    let mut on = |it: egd_tasks::Examples<'_, A::Data>| {
        net.evaluate_blocked(&A::LOSS, it.map(A::convert), scratch)
            .map_err(|err| format!("epoch {} evaluation: {err}{}", e + 1, hint(err)))
    };
    let stats = on(data.train_examples()).and_then(|tr| Ok((tr, on(data.test_examples())?)));
    Evaluated {
        stats,
        w1_norm: f64::from(net.l1.w.frobenius_norm()),
        wall_s: start.elapsed().as_secs_f64(),
    }
}

/// Waits for a concurrent evaluation; a panic on its thread is re-raised.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Trains 0-based epoch `e`: its timed steps in milliseconds, `None` if an
/// interrupt was requested (polled before every step; the epoch is dropped).
fn train_epoch<
    const IN: usize,
    const H: usize,
    const OUT: usize,
    const K: usize,
    const L: usize,
    A: Adapter<IN, OUT>,
>(
    data: &A::Data,
    batch_size: usize,
    e: u32,
    net: &mut Mlp2<f32, IN, H, OUT>,
    grad: &mut Mlp2<f32, IN, H, OUT>,
    scratch: &mut Mlp2BlockScratch<f32, H, OUT, BLOCK>,
    opt: &mut AnyOpt<Mlp2<f32, IN, H, OUT>, K, L>,
) -> Result<Option<f64>, String> {
    if interrupt::requested() {
        return Ok(None);
    }
    let epoch = data
        .epoch(u64::from(e), batch_size, Remainder::Drop)
        .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    for batch in epoch.batches() {
        if interrupt::requested() {
            return Ok(None);
        }
        net.batch_grad_blocked(&A::LOSS, batch.iter().map(A::convert), grad, scratch)
            .and_then(|_| opt.step(net, grad))
            .map_err(|err| format!("epoch {}: {err}{}", e + 1, hint(err)))?;
    }
    Ok(Some(t0.elapsed().as_secs_f64() * 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RunArgs, resolve};

    #[test]
    fn tiny_run_learns_and_is_deterministic() {
        let args = RunArgs {
            epochs: Some(3),
            ..RunArgs::default()
        };
        let cfg = resolve(&args, OptKind::Egd, 1, None, None, None).unwrap();
        let a = run(&cfg, &mut |_| {});
        let b = run(&cfg, &mut |_| {});
        assert_eq!(a.stop, Stop::Cap);
        assert_eq!(a.curve.len(), 3);
        assert_eq!(a.steps_per_epoch, a.n_train / a.config.batch);
        for (x, y) in a.curve.iter().zip(&b.curve) {
            assert_eq!((x.train_acc, x.test_loss), (y.train_acc, y.test_loss));
        }
        assert!(a.curve[2].train_loss < a.curve[0].train_loss);
    }

    /// The records without their timings, as bits.
    fn bits(r: &RunResult) -> Vec<[u64; 6]> {
        r.curve
            .iter()
            .map(|x| {
                [
                    x.step,
                    x.train_acc.to_bits(),
                    x.test_acc.to_bits(),
                    x.train_loss.to_bits(),
                    x.test_loss.to_bits(),
                    x.w1_norm.to_bits(),
                ]
            })
            .collect()
    }

    #[test]
    fn concurrent_evaluation_gives_the_same_records_and_stops() {
        for (opt, epochs, early_stop) in [
            (OptKind::Sgd, 4, None),
            (OptKind::Egd, 3, None),
            // Stops at the first epoch at ≥ 99 % test accuracy: the epoch
            // trained meanwhile must be discarded.
            (OptKind::Egd, 150, Some(1)),
        ] {
            let args = RunArgs {
                epochs: Some(epochs),
                ..RunArgs::default()
            };
            let cfg = resolve(&args, opt, 0, None, None, early_stop).unwrap();
            let mut seen = (0, 0);
            let inline = run_with(&cfg, EvalMode::Inline, &mut |_| seen.0 += 1);
            let concurrent = run_with(&cfg, EvalMode::Concurrent, &mut |_| seen.1 += 1);
            assert_eq!(inline.stop, concurrent.stop, "{opt:?}");
            assert_eq!(bits(&inline), bits(&concurrent), "{opt:?}");
            assert_eq!(seen, (inline.curve.len(), inline.curve.len()));
            if early_stop.is_some() {
                assert_eq!(inline.stop, Stop::EarlyStop, "the smoke task groks");
                assert!(inline.curve.len() < epochs as usize);
            }
        }
    }
}

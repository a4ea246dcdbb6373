//! The training loop, free of anything target-specific.
//!
//! The firmware (`main.rs`) plugs in the CMSDK timer as its [`Clock`] and
//! semihosting as its printer; the same code runs on the host for tuning
//! (see `README.md`, "Choosing the configuration").

use egd_core::EgdError;
use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, MultiHot, Params};
use egd_core::optim::{Base, Optimizer, Transform};
use egd_tasks::{Dataset, ModularTask, Remainder, Split, TaskError};
use heapless::HistoryBuf;

/// Grokking threshold on test accuracy (strictly above), as in the paper.
pub const GROK_ACC: f32 = 0.95;

/// A free-running tick counter (it may wrap; differences are taken modulo
/// 2^32).
pub trait Clock {
    /// Current tick count, counting up.
    fn ticks(&mut self) -> u32;
}

/// What went wrong during training.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// From `egd-core` (non-finite loss or gradient, SVD not converged, …).
    Core(EgdError),
    /// From `egd-tasks` (bad task parameters).
    Task(TaskError),
}

impl From<EgdError> for TrainError {
    fn from(e: EgdError) -> Self {
        Self::Core(e)
    }
}

impl From<TaskError> for TrainError {
    fn from(e: TaskError) -> Self {
        Self::Task(e)
    }
}

/// Tick totals over a run, split by phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Optimizer steps taken.
    pub steps: u32,
    /// Ticks in `forward + backward` (the minibatch gradient).
    pub grad_ticks: u64,
    /// Ticks in `Optimizer::step` (L2, check, transform, update).
    pub opt_ticks: u64,
    /// Ticks in the evaluations (whole train and test split).
    pub eval_ticks: u64,
    /// Jacobi sweeps summed over all polar steps (0 without EGD).
    pub sweeps: u64,
    /// Polar steps taken.
    pub polar_steps: u32,
}

/// One evaluation: accuracies on the whole train and test splits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Eval {
    /// Epochs completed.
    pub epoch: u32,
    /// Optimizer steps completed.
    pub steps: u32,
    /// Mean training cross-entropy of the last epoch's minibatches.
    pub loss: f32,
    /// Accuracy on the training split.
    pub train_acc: f32,
    /// Accuracy on the test split.
    pub test_acc: f32,
}

/// How one run ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// First evaluated epoch with test accuracy above [`GROK_ACC`].
    pub grok_epoch: Option<u32>,
    /// Whether the run ended with a full window of evaluations in a row
    /// above [`GROK_ACC`] (stable grokking).
    pub stable: bool,
    /// The last evaluation.
    pub last: Eval,
}

/// Hyperparameters of a run that are not part of the optimizer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Minibatch size (the last partial batch of an epoch is dropped).
    pub batch: usize,
    /// Epochs to run at most.
    pub epochs: u32,
    /// Evaluate after every this many epochs (and after the last one).
    pub eval_every: u32,
    /// Stop once the window of recent test accuracies (see [`train`]) is
    /// full and all of them are above [`GROK_ACC`].
    pub stop_when_stable: bool,
}

/// Accuracy of `net` on one split of `task`.
///
/// # Errors
///
/// Invalid inputs from the task (cannot happen for a well-formed task).
pub fn accuracy<const IN: usize, const H: usize, const OUT: usize>(
    net: &Mlp2<f32, IN, H, OUT>,
    task: &ModularTask,
    split: Split,
    scratch: &mut Mlp2Scratch<f32, H, OUT>,
) -> Result<f32, TrainError> {
    let data = task
        .examples(split)
        .map(|ex| (MultiHot(ex.two_hot()), ex.label() as usize));
    Ok(net.evaluate(&CrossEntropy, data, scratch)?.accuracy())
}

/// Trains `net` with `opt` on `task` under `schedule`, reporting each
/// evaluation to `report` and adding the measured ticks to `cost`.
///
/// `window` keeps the last `W` test accuracies (a bounded ring, no
/// allocator); the run is *stable* once it is full and all of them are above
/// [`GROK_ACC`] (one crossing of the threshold on a finite test set can be
/// luck; `W` in a row, with the weights moving in between, is not). It is
/// cleared first.
///
/// The minibatch gradient comes from [`Mlp2::batch_grad`] (two-hot inputs as
/// [`MultiHot`] index pairs, so the first layer reads and updates two columns
/// per sample): the gradient of the mean cross-entropy; `opt` adds the L2 term.
///
/// # Errors
///
/// The first error from the task, the network or the optimizer.
#[allow(clippy::too_many_arguments)]
pub fn train<const IN: usize, const H: usize, const OUT: usize, const W: usize, X, B, C>(
    net: &mut Mlp2<f32, IN, H, OUT>,
    grad: &mut Mlp2<f32, IN, H, OUT>,
    scratch: &mut Mlp2Scratch<f32, H, OUT>,
    opt: &mut Optimizer<X, B>,
    task: &ModularTask,
    schedule: &Schedule,
    clock: &mut C,
    cost: &mut Cost,
    window: &mut HistoryBuf<f32, W>,
    mut report: impl FnMut(&Eval),
) -> Result<Outcome, TrainError>
where
    X: Transform<f32, Mlp2<f32, IN, H, OUT>>,
    B: Base<f32, Mlp2<f32, IN, H, OUT>>,
    C: Clock,
{
    let mut last = Eval {
        epoch: 0,
        steps: cost.steps,
        loss: 0.0,
        train_acc: 0.0,
        test_acc: 0.0,
    };
    let mut grok_epoch = None;
    window.clear();
    let mut stable = false;
    for epoch in 0..schedule.epochs {
        let mut loss_sum = 0.0f32;
        let mut batches = 0u32;
        for batch in task
            .epoch(u64::from(epoch), schedule.batch, Remainder::Drop)?
            .batches()
        {
            let data = batch
                .into_iter()
                .map(|ex| (MultiHot(ex.two_hot()), ex.label() as usize));
            let t0 = clock.ticks();
            let stats = net.batch_grad(&CrossEntropy, data, grad, scratch)?;
            let t1 = clock.ticks();
            loss_sum += stats.loss;
            let info = opt.step(net, grad)?;
            let t2 = clock.ticks();
            cost.grad_ticks += u64::from(t1.wrapping_sub(t0));
            cost.opt_ticks += u64::from(t2.wrapping_sub(t1));
            cost.steps += 1;
            for p in info.polar.iter().flatten() {
                cost.sweeps += u64::from(p.sweeps);
                cost.polar_steps += 1;
            }
            batches += 1;
        }
        let done = epoch + 1;
        if done % schedule.eval_every == 0 || done == schedule.epochs {
            let t0 = clock.ticks();
            let train_acc = accuracy(net, task, Split::Train, scratch)?;
            let test_acc = accuracy(net, task, Split::Test, scratch)?;
            cost.eval_ticks += u64::from(clock.ticks().wrapping_sub(t0));
            last = Eval {
                epoch: done,
                steps: cost.steps,
                loss: loss_sum / batches.max(1) as f32,
                train_acc,
                test_acc,
            };
            report(&last);
            if last.test_acc > GROK_ACC && grok_epoch.is_none() {
                grok_epoch = Some(done);
            }
            window.write(last.test_acc);
            stable = window.is_full() && window.as_slice().iter().all(|&a| a > GROK_ACC);
            if stable && schedule.stop_when_stable {
                break;
            }
        }
    }
    Ok(Outcome {
        grok_epoch,
        stable,
        last,
    })
}

/// FNV-1a over the bits of every parameter: shows that two runs start from
/// the same weights.
pub fn fingerprint<N: Params<f32>>(net: &N) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for i in 0..N::TENSORS {
        for &x in net.tensor(i) {
            for b in x.to_bits().to_le_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
    }
    h
}

//! Your own network under EGD: a residual perceptron that is neither `Mlp2`
//! nor `Mlp3`, its `Params` impl from `dense_params!` (checked by
//! `check_params`), its forward and backward pass written here, trained with
//! EGD + SGD on modular addition until it generalises.
//!
//! ```text
//! cargo run -p egd-core --example custom_network --release
//! ```
//!
//! The task: learn `(a + b) mod 23` from two-hot inputs `[a, 23 + b]`,
//! training on a fixed random 80 % of the 529 pairs (423) and testing on the
//! other 106, in shuffled minibatches of 64. The network:
//!
//! ```text
//! h1 = ReLU(E x + e)            embed: 46 → 48
//! h2 = h1 + ReLU(M h1 + m)      mix:   48 → 48, a residual block
//! y  = H h2                     head:  48 → 23, no bias
//! ```
//!
//! EGD (the exact polar factor of every weight matrix's gradient) with SGD
//! underneath (lr 0.3, L2 1e-4) trains until the test accuracy reaches
//! [`TARGET_TEST_ACCURACY`] = 0.95, which the program asserts within
//! [`MAX_EPOCHS`]; then plain SGD with the same initialisation, data order
//! and number of epochs shows what EGD bought. Both runs are deterministic
//! (the same bits on every run and target), so what it prints is the same
//! everywhere. `cargo test --workspace` runs it too: it is a test target
//! (`test = true` in `egd-core/Cargo.toml`) whose one test calls `main`.

use egd_core::EgdError;
use egd_core::dense_params;
use egd_core::nn::{
    BatchStats, CrossEntropy, Dense, Loss, MultiHot, Params, check_params, relu, relu_backward,
};
use egd_core::optim::{
    Base, Egd, EgdConfig, Layers, NoTransform, Optimizer, Sgd, SgdConfig, Transform,
};
use egd_core::rng::{Init, SplitMix64};
use egd_core::scalar::Real;

/// The modulus.
const P: usize = 23;
/// Share of the `P²` pairs in the training set.
const TRAIN_FRACTION: f64 = 0.8;
/// Minibatch size (the last partial batch of an epoch is dropped).
const BATCH: usize = 64;
/// Input width: two one-hot blocks of `P`.
const IN: usize = 2 * P;
/// Hidden width.
const H: usize = 48;

/// The test accuracy EGD must reach (checked after every epoch).
const TARGET_TEST_ACCURACY: f64 = 0.95;
/// Epoch budget for EGD (this example uses initialisation seed 7, which
/// reaches the target at epoch 171 with the J-free polar assembly; seeds 1–7
/// took 69–185 epochs with the previous, bitwise different one).
const MAX_EPOCHS: usize = 1000;

/// The network: three dense layers and a residual connection.
#[derive(Clone, Debug, PartialEq)]
struct Residual<T, const IN: usize, const H: usize, const OUT: usize> {
    embed: Dense<T, IN, H>,
    mix: Dense<T, H, H>,
    head: Dense<T, H, OUT>,
}

// Tensors 0..6: embed.weight, embed.bias, mix.weight, mix.bias, head.weight,
// head.bias; layers 0 (embed), 1 (mix), 2 (head).
dense_params!(
    impl[T: Real, const IN: usize, const H: usize, const OUT: usize] Params<T>
        for Residual<T, IN, H, OUT> { embed, mix, head }
);

/// Activations of one sample and their gradients.
struct Scratch<T, const H: usize, const OUT: usize> {
    h1: [T; H],
    r: [T; H],
    h2: [T; H],
    y: [T; OUT],
    d_y: [T; OUT],
    d_h2: [T; H],
    d_r: [T; H],
    d_h1: [T; H],
}

impl<T: Real, const H: usize, const OUT: usize> Scratch<T, H, OUT> {
    fn new() -> Self {
        Self {
            h1: [T::ZERO; H],
            r: [T::ZERO; H],
            h2: [T::ZERO; H],
            y: [T::ZERO; OUT],
            d_y: [T::ZERO; OUT],
            d_h2: [T::ZERO; H],
            d_r: [T::ZERO; H],
            d_h1: [T::ZERO; H],
        }
    }
}

impl<T: Real, const IN: usize, const H: usize, const OUT: usize> Residual<T, IN, H, OUT> {
    fn zeros() -> Self {
        Self {
            embed: Dense::zeros(true),
            mix: Dense::zeros(true),
            head: Dense::zeros(false),
        }
    }

    /// He-normal weights, zero biases; the residual branch starts small
    /// (`M` scaled by 1/4) so the block is close to the identity.
    fn init(&mut self, rng: &mut SplitMix64) {
        self.embed.init(Init::HeNormal, Init::Zeros, rng);
        self.mix.init(Init::HeNormal, Init::Zeros, rng);
        for w in self.mix.w.as_mut_slice() {
            *w *= T::from_f64(0.25);
        }
        self.head.init(Init::HeNormal, Init::Zeros, rng);
    }

    /// Forward pass; the logits land in `s.y`.
    fn forward(
        &self,
        x: &MultiHot<[usize; 2]>,
        s: &mut Scratch<T, H, OUT>,
    ) -> Result<(), EgdError> {
        self.embed.forward(x, &mut s.h1)?;
        relu(&mut s.h1);
        self.mix.forward(&s.h1, &mut s.r)?;
        relu(&mut s.r);
        for ((h2, &h1), &r) in s.h2.iter_mut().zip(&s.h1).zip(&s.r) {
            *h2 = h1 + r;
        }
        self.head.forward(&s.h2, &mut s.y)
    }

    /// One sample: forward, loss, `grad += scale · ∇loss`. Returns the loss.
    fn accumulate(
        &self,
        x: &MultiHot<[usize; 2]>,
        label: usize,
        scale: T,
        grad: &mut Self,
        s: &mut Scratch<T, H, OUT>,
    ) -> Result<T, EgdError> {
        self.forward(x, s)?;
        let loss = CrossEntropy.loss_grad(&s.y, label, scale, &mut s.d_y)?;
        // y = H h2
        self.head.accumulate_grad(&s.h2, &s.d_y, &mut grad.head);
        self.head.backprop(&s.d_y, &mut s.d_h2);
        // h2 = h1 + ReLU(M h1 + m): the branch first ...
        s.d_r = s.d_h2;
        relu_backward(&s.r, &mut s.d_r);
        self.mix.accumulate_grad(&s.h1, &s.d_r, &mut grad.mix);
        self.mix.backprop(&s.d_r, &mut s.d_h1);
        // ... then the skip connection adds ∂h2 unchanged.
        for (d, &skip) in s.d_h1.iter_mut().zip(&s.d_h2) {
            *d += skip;
        }
        // h1 = ReLU(E x + e)
        relu_backward(&s.h1, &mut s.d_h1);
        self.embed.accumulate_grad(x, &s.d_h1, &mut grad.embed);
        Ok(loss)
    }

    /// Mean gradient over `data` into `grad` (zeroed first).
    fn batch_grad(
        &self,
        data: &[([usize; 2], usize)],
        grad: &mut Self,
        s: &mut Scratch<T, H, OUT>,
    ) -> Result<T, EgdError> {
        grad.fill_zero();
        let scale = T::ONE / T::from_usize(data.len());
        let mut sum = T::ZERO;
        for &(x, label) in data {
            sum += self.accumulate(&MultiHot(x), label, scale, grad, s)?;
        }
        Ok(sum * scale)
    }

    fn evaluate(
        &self,
        data: &[([usize; 2], usize)],
        s: &mut Scratch<T, H, OUT>,
    ) -> Result<BatchStats<T>, EgdError> {
        let mut stats = BatchStats {
            loss: T::ZERO,
            correct: 0,
            samples: 0,
        };
        for &(x, label) in data {
            self.forward(&MultiHot(x), s)?;
            stats.loss += CrossEntropy.loss(&s.y, label)?;
            stats.correct += usize::from(CrossEntropy.correct(&s.y, label));
            stats.samples += 1;
        }
        stats.loss /= T::from_usize(stats.samples.max(1));
        Ok(stats)
    }
}

type Net = Residual<f32, IN, H, P>;
type Data = Vec<([usize; 2], usize)>;

/// All `P²` pairs, shuffled with a fixed seed, split into train and test.
fn split() -> (Data, Data) {
    let mut all: Data = (0..P * P)
        .map(|i| ([i / P, P + i % P], (i / P + i % P) % P))
        .collect();
    shuffle(&mut all, &mut SplitMix64::new(2026));
    let test = all.split_off((all.len() as f64 * TRAIN_FRACTION) as usize);
    (all, test)
}

/// Fisher–Yates with the crate's deterministic generator.
fn shuffle<X>(v: &mut [X], rng: &mut SplitMix64) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_word() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// What a run reached.
#[derive(Debug)]
struct Outcome {
    /// Epochs trained.
    epochs: usize,
    /// Whether the test accuracy reached [`TARGET_TEST_ACCURACY`].
    reached: bool,
    train: BatchStats<f32>,
    test: BatchStats<f32>,
}

/// Trains a freshly initialised network with `opt` for up to `max_epochs`
/// (stopping early at the target if `stop_at_target`).
fn train<X, B>(
    opt: &mut Optimizer<X, B>,
    max_epochs: usize,
    stop_at_target: bool,
) -> Result<Outcome, EgdError>
where
    X: Transform<f32, Net>,
    B: Base<f32, Net>,
{
    let (train_set, test_set) = split();
    let mut net = Net::zeros();
    net.init(&mut SplitMix64::new(7));
    let mut grad = Net::zeros();
    let mut s = Scratch::new();
    let mut order = train_set.clone();
    let mut rng = SplitMix64::new(11);
    let mut out = Outcome {
        epochs: 0,
        reached: false,
        train: net.evaluate(&train_set, &mut s)?,
        test: net.evaluate(&test_set, &mut s)?,
    };
    while out.epochs < max_epochs && !(stop_at_target && out.reached) {
        shuffle(&mut order, &mut rng);
        for batch in order.chunks_exact(BATCH) {
            net.batch_grad(batch, &mut grad, &mut s)?;
            opt.step(&mut net, &mut grad)?;
        }
        out.epochs += 1;
        out.test = net.evaluate(&test_set, &mut s)?;
        out.reached |= f64::from(out.test.accuracy()) >= TARGET_TEST_ACCURACY;
    }
    out.train = net.evaluate(&train_set, &mut s)?;
    Ok(out)
}

fn report(name: &str, o: &Outcome) {
    println!(
        "{name}: {} epochs, train accuracy {:.3} (loss {:.4}), test accuracy {:.3} (loss {:.4})",
        o.epochs,
        o.train.accuracy(),
        o.train.loss,
        o.test.accuracy(),
        o.test.loss
    );
}

fn main() -> Result<(), EgdError> {
    // The one line a user's test of their Params impl needs.
    check_params(&Net::zeros()).expect("a consistent Params impl");

    let sgd = || Sgd::new(SgdConfig::default().with_lr(0.3).with_weight_decay(1e-4));
    // EGD on every weight matrix. One SVD workspace serves them all:
    // K ≥ min(R, C) and L ≥ max(R, C) over 48×46, 48×48 and 23×48.
    let egd = Egd::<f32, H, H>::new(EgdConfig::default().with_layers(Layers::All));
    let (train_set, test_set) = split();
    println!(
        "residual network {IN}→{H}→{H}→{P} on (a + b) mod {P}, {} train / {} test pairs",
        train_set.len(),
        test_set.len()
    );
    let with_egd = train(&mut Optimizer::new(egd, sgd()?), MAX_EPOCHS, true)?;
    report("EGD + SGD", &with_egd);
    let plain = train(
        &mut Optimizer::new(NoTransform, sgd()?),
        with_egd.epochs,
        false,
    )?;
    report("SGD alone, same epochs", &plain);
    assert!(
        with_egd.reached,
        "EGD did not reach {TARGET_TEST_ACCURACY} test accuracy in {MAX_EPOCHS} epochs: {with_egd:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example's own assertion: EGD reaches the stated test accuracy.
    #[test]
    fn egd_trains_the_custom_network_to_the_stated_accuracy() -> Result<(), EgdError> {
        main()
    }

    /// A hand-written backward pass deserves a gradient check: every
    /// gradient entry of a small `f64` copy of the network against the
    /// central difference `(L(w + ε) − L(w − ε)) / 2ε` of the mean loss
    /// (ε = 1e-6; agreement within 1e-6 absolute + 1e-5 relative, the
    /// difference quotient's own error at this size).
    #[test]
    fn backward_pass_matches_finite_differences() -> Result<(), EgdError> {
        type Small = Residual<f64, 8, 5, 4>;
        let mut net = Small::zeros();
        net.init(&mut SplitMix64::new(3));
        // Non-zero biases, so their gradients are exercised too.
        for (i, b) in net.embed.b.iter_mut().chain(&mut net.mix.b).enumerate() {
            *b = 0.05 * (i as f64 - 4.0);
        }
        let data = [([0, 5], 1), ([1, 6], 3), ([3, 4], 2), ([2, 7], 0)];
        let mut s = Scratch::new();
        let mut grad = Small::zeros();
        net.batch_grad(&data, &mut grad, &mut s)?;
        let eps = 1e-6;
        for t in 0..Small::TENSORS {
            if !net.is_active(t) {
                continue;
            }
            for k in 0..net.tensor(t).len() {
                let w = net.tensor(t)[k];
                net.tensor_mut(t)[k] = w + eps;
                let up = net.evaluate(&data, &mut s)?.loss;
                net.tensor_mut(t)[k] = w - eps;
                let down = net.evaluate(&data, &mut s)?.loss;
                net.tensor_mut(t)[k] = w;
                let fd = (up - down) / (2.0 * eps);
                let g = grad.tensor(t)[k];
                let name = Small::info(t).map_or("?", |i| i.name);
                assert!(
                    (fd - g).abs() <= 1e-6 + 1e-5 * fd.abs(),
                    "{name}[{k}]: backward {g}, finite difference {fd}"
                );
            }
        }
        Ok(())
    }
}

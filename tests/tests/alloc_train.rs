//! A full training step — forward, backward, EGD, SGD update — and the other
//! optimizers and checkpoints allocate nothing.
//!
//! A counting `#[global_allocator]` wraps `System`; it counts per thread, and
//! only while that thread has switched counting on, so other test threads
//! (and the harness) do not disturb the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use egd_core::checkpoint;
use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, Mlp3, Mlp3Scratch, Mse, MultiHot};
use egd_core::optim::{
    AdamW, AdamWConfig, ColumnNorm, Egd, EgdConfig, Grokfast, GrokfastConfig, Layers, NoTransform,
    Optimizer, Sgd, SgdConfig,
};
use egd_core::polar::PolarConfig;
use egd_core::rng::SplitMix64;

struct Counting;

thread_local! {
    /// Whether this thread is in a measured region.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// Allocations this thread made while counting (per thread, so tests
    /// running in parallel cannot disturb each other).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn note() {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: forwards every call to `System` unchanged; only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with counting on for this thread; returns the allocations it made.
fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get) - before
}

const P: usize = 23;
type Net = Mlp2<f32, { 2 * P }, 64, P>;

fn pairs() -> [[usize; 2]; P * P] {
    core::array::from_fn(|i| [i / P, P + i % P])
}

#[test]
fn counter_sees_allocations() {
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert!(n >= 1);
}

#[test]
fn egd_sgd_training_step_allocates_nothing() {
    {
        let mut net = Net::zeros(true, false);
        net.init_he(&mut SplitMix64::new(1));
        let mut grad = net.zeros_like();
        let mut s = Mlp2Scratch::new();
        let mut opt = Optimizer::new(
            Egd::<f32, 46, 64>::new(EgdConfig::paper()),
            Sgd::new(SgdConfig::paper().with_lr(0.1)).unwrap(),
        );
        let all = pairs();
        let n = allocations_in(|| {
            for step in 0..5 {
                let batch = all[step * 32..step * 32 + 32]
                    .iter()
                    .map(|x| (MultiHot(x), (x[0] + x[1] - P) % P));
                net.batch_grad(&CrossEntropy, batch, &mut grad, &mut s)
                    .unwrap();
                let info = opt.step(&mut net, &mut grad).unwrap();
                assert!(info.polar[0].is_some());
            }
            let eval = net.evaluate(
                &CrossEntropy,
                all.iter().map(|x| (MultiHot(x), (x[0] + x[1] - P) % P)),
                &mut s,
            );
            assert!(eval.unwrap().loss.is_finite());
        });
        assert_eq!(n, 0, "a training step allocated");
    }
}

#[test]
fn other_optimizers_and_checkpoints_allocate_nothing() {
    {
        let mut net = Net::zeros(true, false);
        net.init_he(&mut SplitMix64::new(2));
        let mut grad = net.zeros_like();
        let mut s = Mlp2Scratch::new();
        let all = pairs();
        let mut adam = Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), &net).unwrap(),
            AdamW::new(AdamWConfig::default(), &net).unwrap(),
        );
        let mom = SgdConfig::paper().with_momentum(0.9).with_nesterov(true);
        let mut sgd = Optimizer::new(
            ColumnNorm::default(),
            Sgd::with_momentum(mom, &net).unwrap(),
        );
        let mut ns = Optimizer::new(
            Egd::<f32, 46, 64>::new(
                EgdConfig::default()
                    .with_polar(PolarConfig::newton_schulz())
                    .with_layers(Layers::All),
            ),
            Sgd::new(SgdConfig::default()).unwrap(),
        );
        type Ckpt = Optimizer<Grokfast<f32, Net>, AdamW<f32, Net>>;
        let mut buf = vec![0u8; checkpoint::bytes::<f32, Net, Ckpt>()];
        let n = allocations_in(|| {
            let data = || {
                all[..64]
                    .iter()
                    .map(|x| (MultiHot(x), (x[0] + x[1] - P) % P))
            };
            net.batch_grad(&CrossEntropy, data(), &mut grad, &mut s)
                .unwrap();
            adam.step(&mut net, &mut grad).unwrap();
            net.batch_grad(&CrossEntropy, data(), &mut grad, &mut s)
                .unwrap();
            sgd.step(&mut net, &mut grad).unwrap();
            net.batch_grad(&CrossEntropy, data(), &mut grad, &mut s)
                .unwrap();
            ns.step(&mut net, &mut grad).unwrap();
            // The error path too.
            grad.l2.w.fill(f32::NAN);
            assert!(adam.step(&mut net, &mut grad).is_err());
            checkpoint::save(&net, &adam, &mut buf).unwrap();
            checkpoint::restore(&buf, &mut net, &mut adam).unwrap();
            buf[200] ^= 1;
            assert!(checkpoint::restore(&buf, &mut net, &mut adam).is_err());
        });
        assert_eq!(n, 0);
    }
}

#[test]
fn mlp3_dense_mse_step_allocates_nothing() {
    {
        let mut net = Mlp3::<f64, 20, 16, 8, 1>::zeros(true, true);
        net.init_he(&mut SplitMix64::new(3));
        let mut grad = net.zeros_like();
        let mut s = Mlp3Scratch::new();
        let xs: Vec<[f64; 20]> = (0..16)
            .map(|i| core::array::from_fn(|j| if (i >> (j % 4)) & 1 == 1 { 1.0 } else { -1.0 }))
            .collect();
        let mut opt = Optimizer::new(
            Egd::<f64, 16, 20>::new(EgdConfig::default().with_layers(Layers::All)),
            Sgd::new(SgdConfig::default()).unwrap(),
        );
        let mut plain = Optimizer::new(NoTransform, Sgd::new(SgdConfig::default()).unwrap());
        let n = allocations_in(|| {
            for _ in 0..3 {
                net.batch_grad(
                    &Mse,
                    xs.iter().map(|x| (x, [x[0] * x[1]])),
                    &mut grad,
                    &mut s,
                )
                .unwrap();
                opt.step(&mut net, &mut grad).unwrap();
                net.batch_grad(
                    &Mse,
                    xs.iter().map(|x| (x, [x[0] * x[1]])),
                    &mut grad,
                    &mut s,
                )
                .unwrap();
                plain.step(&mut net, &mut grad).unwrap();
            }
        });
        assert_eq!(n, 0);
    }
}

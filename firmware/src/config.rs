//! The experiment's two configurations (the small default and the STM32F407
//! one, feature `f407`), chosen on the host (see `README.md`, "Choosing the
//! configuration").

use egd_core::nn::Mlp2;
use egd_core::optim::{Egd, EgdConfig, Layers, Optimizer, Sgd, SgdConfig};
use egd_core::polar::{Cutoff, Method, PolarConfig};
use egd_core::rsvd::RsvdWorkspace;
use egd_core::svd::{DEFAULT_MAX_SWEEPS, SvdConfig};

/// A real part whose flash, RAM and clock the build is held to: its memory map
/// (chosen by `build.rs`) declares its flash and RAM, so the linker refuses
/// an image that would not fit it; the clock turns instruction counts into
/// an estimated wall time.
pub struct Part {
    /// Part name.
    pub name: &'static str,
    /// Core clock in MHz.
    pub clock_mhz: u32,
    /// Flash in bytes (as in `memory-small.x` / `memory-f407.x`).
    pub flash_bytes: usize,
    /// RAM in bytes (as in `memory-small.x` / `memory-f407.x`).
    pub ram_bytes: usize,
}

/// The small configuration (default): `(a + b) mod 23` within 64 KiB of RAM.
#[cfg(not(feature = "f407"))]
mod sizes {
    pub const CONFIG: &str = "small";
    pub const PART: super::Part = super::Part {
        name: "STM32F401RC",
        clock_mhz: 84,
        flash_bytes: 256 * 1024,
        ram_bytes: 64 * 1024,
    };
    pub const P: usize = 23;
    pub const HIDDEN: usize = 48;
    pub const TRAIN_FRACTION: f64 = 0.95;
    pub const BATCH: usize = 64;
    pub const LR: f32 = 0.3;
    pub const FULL_EPOCHS: u32 = 150;
    pub const STABLE_EVALS: usize = 1;
}

/// The STM32F407 configuration (feature `f407`): `(a + b) mod 47` with a
/// 663-example test set, within 192 KiB of RAM.
#[cfg(feature = "f407")]
mod sizes {
    pub const CONFIG: &str = "f407";
    pub const PART: super::Part = super::Part {
        name: "STM32F407VG",
        clock_mhz: 168,
        flash_bytes: 1024 * 1024,
        ram_bytes: 192 * 1024,
    };
    pub const P: usize = 47;
    pub const HIDDEN: usize = 64;
    pub const TRAIN_FRACTION: f64 = 0.7;
    pub const BATCH: usize = 256;
    pub const LR: f32 = 0.3;
    pub const FULL_EPOCHS: u32 = 200;
    pub const STABLE_EVALS: usize = 3;
}

/// Which configuration this build is (`small` or `f407`).
pub const CONFIG: &str = sizes::CONFIG;
/// The part whose budget this build is held to.
pub const PART: Part = sizes::PART;
/// Modulus of `(a + b) mod P`.
pub const P: usize = sizes::P;
/// Two-hot input width.
pub const IN: usize = 2 * P;
/// Hidden units.
pub const HIDDEN: usize = sizes::HIDDEN;
/// Share of the `P²` pairs used for training (the rest is the test set).
pub const TRAIN_FRACTION: f64 = sizes::TRAIN_FRACTION;
/// Minibatch size (the last partial batch of each epoch is dropped).
pub const BATCH: usize = sizes::BATCH;
/// Learning rate, the same for EGD and SGD (no momentum).
pub const LR: f32 = sizes::LR;
/// L2 coefficient: `wd · W` joins the gradient before EGD whitens it.
pub const WEIGHT_DECAY: f32 = 1e-4;
/// Epoch budget for EGD (feature `smoke`: 3 epochs, for the slow soft-float
/// Cortex-M3 run and the CI check of the large configuration).
pub const EPOCHS: u32 = if cfg!(feature = "smoke") {
    3
} else {
    sizes::FULL_EPOCHS
};
/// EGD stops once this many evaluations in a row are above 0.95 test
/// accuracy. Small: 1, the first crossing, as this configuration always did
/// (with 27 test pairs, 26 right, its seed-1 run crosses at epochs 80, 88, 90,
/// 92, … but not three times in a row by epoch 124: see `README.md`). F407: 3.
pub const STABLE_EVALS: usize = sizes::STABLE_EVALS;
/// Evaluate (and print a line) after every this many epochs.
pub const EVAL_EVERY: u32 = 1;
/// Start each Jacobi SVD from the previous call's rotation. Off: with
/// `Layers::All` one workspace serves `W1` and `W2` in turn, so it is never
/// warm for the next matrix.
pub const WARM_START: bool = false;
/// Seed of the task's split and epoch shuffles.
pub const TASK_SEED: u64 = 1;
/// Seed of the initial weights (shared by the EGD and SGD runs).
pub const INIT_SEED: u64 = 1;

/// `(a + b) mod P` MLP: two-hot input, `ReLU` hidden layer with bias, no output bias.
pub type Net = Mlp2<f32, IN, HIDDEN, P>;

/// The bias switches above: hidden bias on, output bias off. (The static
/// state starts all-zero, biases off, in `.bss`; `main` switches them on in
/// place with `Mlp2::reset`.)
pub const BIASES: (bool, bool) = (true, false);

const fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}
const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// SVD workspace short side: `≥ min(R, C)` of every weight matrix
/// (`W1: HIDDEN × IN`, `W2: P × HIDDEN`).
pub const K: usize = max(min(HIDDEN, IN), min(P, HIDDEN));
/// SVD workspace long side: `≥ max(R, C)` of every weight matrix.
pub const L: usize = max(max(HIDDEN, IN), max(P, HIDDEN));

/// The SVD workspace EGD uses for both weight matrices: all-zero bytes when
/// fresh, so it sits in the zeroed static state (`.bss`).
pub type Workspace = RsvdWorkspace<f32, K, L, 0>;

/// EGD (exact Jacobi polar factor, default relative cutoff) on a workspace
/// it borrows from the static state, plain SGD underneath.
pub type EgdOptimizer<'w> = Optimizer<Egd<f32, K, L, 0, &'w mut Workspace>, Sgd<f32>>;

/// SGD for both runs: [`LR`], L2 [`WEIGHT_DECAY`], no momentum.
pub const SGD_CONFIG: SgdConfig<f32> = SgdConfig::new(LR).with_weight_decay(WEIGHT_DECAY);

/// The EGD settings: exact Jacobi polar factor (QR-preconditioned) with the
/// automatic relative cutoff and no switch-off, as `EgdConfig::default()`,
/// but on **both** weight matrices: with the first layer alone this small
/// model stalls below 0.5 test accuracy (see `README.md`). Spelled out with
/// the `const` builders.
pub const EGD_CONFIG: EgdConfig<f32> = EgdConfig::DEFAULT
    .with_polar(
        PolarConfig::DEFAULT
            .with_method(Method::Jacobi)
            .with_cutoff(Cutoff::Auto)
            .with_svd(SvdConfig::DEFAULT.with_max_sweeps(DEFAULT_MAX_SWEEPS))
            .with_warm_start(WARM_START)
            .with_precondition(true),
    )
    .with_layers(Layers::All)
    .with_switch_off_above(None);

/// An optional number that prints as `none` when absent.
pub struct Maybe(pub Option<u32>);

impl core::fmt::Display for Maybe {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("none"),
        }
    }
}

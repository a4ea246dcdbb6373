//! The trainer behind the C API, in safe Rust: a network, its gradient, the
//! activation scratch and the optimizer, plus checks of every C input
//! **before** anything is changed, so that an error leaves the trainer as it
//! was.

use crate::shape::{ACTIVE, IN, Net, OUT, Opt, Scratch};
use crate::status::{self, Status};
use egd_core::checkpoint;
use egd_core::nn::{BatchStats, CrossEntropy, MultiHot};
#[cfg(test)]
use egd_core::optim::Optimizer;
use egd_core::optim::{Egd, EgdConfig, Layers, Sgd, SgdConfig};
use egd_core::polar::{Cutoff, Method, PolarConfig};
use egd_core::rng::SplitMix64;
use egd_core::svd::{DEFAULT_MAX_SWEEPS, SvdConfig};

/// Marks memory that holds an initialised trainer of this build (the shapes
/// are folded in, so a trainer from a build with other shapes is refused).
pub const MAGIC: u64 = 0x4547_445f_5452_4e00 ^ ((IN as u64) << 32 | (OUT as u64) << 16);

/// What `egd_trainer_init` takes (`egd_config` in `egd.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Input width the C program was written for; must equal the build's.
    pub input: u32,
    /// Hidden width; must equal the build's.
    pub hidden: u32,
    /// Classes; must equal the build's.
    pub out: u32,
    /// Active indices per sparse sample; must equal the build's.
    pub active: u32,
    /// Learning rate, `> 0` and finite.
    pub lr: f32,
    /// L2 coefficient, `≥ 0` and finite (added to the gradient before EGD).
    pub weight_decay: f32,
    /// Seed of the He initialisation (same seed, same initial weights).
    pub seed: u64,
    /// 1: EGD on both weight matrices; 0: plain SGD (the baseline).
    pub egd: u32,
}

/// What a training step or an evaluation reports (`egd_stats` in `egd.h`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Mean cross-entropy over the samples.
    pub loss: f32,
    /// Samples whose largest output is the label.
    pub correct: u32,
    /// Samples seen.
    pub samples: u32,
    /// Jacobi sweeps of this step's polar factors (0 for SGD and evaluation).
    pub sweeps: u32,
}

/// A batch as the C API passes it, not yet checked.
#[derive(Clone, Copy, Debug)]
pub enum Batch<'a> {
    /// `ACTIVE` indices per sample, each `< IN`.
    Sparse(&'a [u32]),
    /// `IN` floats per sample, all finite.
    Dense(&'a [f32]),
}

/// The EGD settings: exact Jacobi polar factor (QR-preconditioned, automatic
/// relative cutoff), as the firmware uses, on `layers`.
const fn egd_config(layers: Layers) -> EgdConfig<f32> {
    EgdConfig::DEFAULT
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
        .with_layers(layers)
        .with_switch_off_above(None)
}

/// EGD on both weight matrices (built at compile time: the workspace is large).
pub const EGD_ALL: Egd<f32, { crate::shape::K }, { crate::shape::L }> =
    Egd::new(egd_config(Layers::All));
/// EGD on no layer: the optimizer is plain SGD.
pub const EGD_NONE: Egd<f32, { crate::shape::K }, { crate::shape::L }> =
    Egd::new(egd_config(Layers::Mask(0)));
/// A zeroed network with a hidden bias and no output bias.
pub const NET_ZEROS: Net = Net::zeros(true, false);

/// The trainer; lives in memory the C program provides. `repr(C)` keeps
/// [`MAGIC`] at offset 0, where the C API looks for it.
#[repr(C)]
pub struct Trainer {
    /// [`MAGIC`] once initialised.
    pub magic: u64,
    /// The weights.
    pub net: Net,
    /// Gradient buffer (scratch between steps).
    pub grad: Net,
    /// Activation scratch.
    pub scratch: Scratch,
    /// EGD (or no transform) on SGD.
    pub opt: Opt,
    /// Successful training steps.
    pub steps: u64,
}

impl Config {
    /// Checks the declared shapes and builds the SGD base; nothing is written.
    ///
    /// # Errors
    ///
    /// [`status::SHAPE_MISMATCH`], [`status::INVALID_PARAMETER`].
    pub fn validate(&self) -> Result<Sgd<f32>, Status> {
        let shapes = [self.input, self.hidden, self.out, self.active];
        let built = [IN, crate::shape::HIDDEN, OUT, ACTIVE];
        if shapes.iter().zip(built).any(|(&a, b)| a as usize != b) {
            return Err(status::SHAPE_MISMATCH);
        }
        if self.egd > 1 {
            return Err(status::INVALID_PARAMETER);
        }
        Sgd::new(
            SgdConfig::default()
                .with_lr(self.lr)
                .with_weight_decay(self.weight_decay),
        )
        .map_err(status::of)
    }
}

impl Batch<'_> {
    /// Number of samples, or an error if the slice is not a whole number of
    /// samples or an entry is out of range / not finite.
    fn check(&self, labels: &[u32]) -> Result<usize, Status> {
        let n = labels.len();
        if n == 0 || labels.iter().any(|&t| t as usize >= OUT) {
            return Err(status::INVALID_PARAMETER);
        }
        match *self {
            Self::Sparse(idx) => {
                if idx.len() != n * ACTIVE || idx.iter().any(|&i| i as usize >= IN) {
                    return Err(status::INVALID_PARAMETER);
                }
            }
            Self::Dense(x) => {
                if x.len() != n * IN {
                    return Err(status::INVALID_PARAMETER);
                }
                if x.iter().any(|v| !v.is_finite()) {
                    return Err(status::NON_FINITE);
                }
            }
        }
        Ok(n)
    }
}

/// `ACTIVE` C indices as a multi-hot input.
fn multi_hot(sample: &[u32]) -> MultiHot<[usize; ACTIVE]> {
    MultiHot(core::array::from_fn(|j| {
        sample.get(j).map_or(0, |&i| i as usize)
    }))
}

/// A dense C sample as an input row (`chunks_exact(IN)` guarantees the length).
fn dense_row(sample: &[f32]) -> &[f32; IN] {
    const ZERO: [f32; IN] = [0.0; IN];
    sample.try_into().unwrap_or(&ZERO)
}

fn stats(s: &BatchStats<f32>, sweeps: u32) -> Stats {
    Stats {
        loss: s.loss,
        correct: u32::try_from(s.correct).unwrap_or(u32::MAX),
        samples: u32::try_from(s.samples).unwrap_or(u32::MAX),
        sweeps,
    }
}

impl Trainer {
    /// He-initialises the weights from `seed` (called once by `egd_trainer_init`).
    pub fn init_weights(&mut self, seed: u64) {
        self.net.init_he(&mut SplitMix64::new(seed));
    }

    /// One training step on `batch` with `labels`: minibatch gradient of the
    /// mean cross-entropy, then the optimizer step (L2, EGD, SGD update).
    ///
    /// # Errors
    ///
    /// Bad input (checked first; nothing changes) or an `egd-core` error
    /// (weights and optimizer state unchanged, as `egd-core` documents; the
    /// gradient buffer is scratch).
    pub fn step(&mut self, batch: Batch<'_>, labels: &[u32]) -> Result<Stats, Status> {
        batch.check(labels)?;
        let t = labels.iter().map(|&t| t as usize);
        let s = match batch {
            Batch::Sparse(idx) => {
                let data = idx.chunks_exact(ACTIVE).map(multi_hot).zip(t);
                self.net
                    .batch_grad(&CrossEntropy, data, &mut self.grad, &mut self.scratch)
            }
            Batch::Dense(x) => {
                let data = x.chunks_exact(IN).map(dense_row).zip(t);
                self.net
                    .batch_grad(&CrossEntropy, data, &mut self.grad, &mut self.scratch)
            }
        }
        .map_err(status::of)?;
        let info = self
            .opt
            .step(&mut self.net, &mut self.grad)
            .map_err(status::of)?;
        let sweeps = info
            .polar
            .iter()
            .flatten()
            .map(|p| u32::from(p.sweeps))
            .sum();
        self.steps += 1;
        Ok(stats(&s, sweeps))
    }

    /// Loss and accuracy on `batch` (no gradient, weights unchanged).
    ///
    /// # Errors
    ///
    /// Bad input, or [`status::NON_FINITE`] if the loss overflows.
    pub fn evaluate(&mut self, batch: Batch<'_>, labels: &[u32]) -> Result<Stats, Status> {
        batch.check(labels)?;
        let t = labels.iter().map(|&t| t as usize);
        let s = match batch {
            Batch::Sparse(idx) => {
                let data = idx.chunks_exact(ACTIVE).map(multi_hot).zip(t);
                self.net.evaluate(&CrossEntropy, data, &mut self.scratch)
            }
            Batch::Dense(x) => {
                let data = x.chunks_exact(IN).map(dense_row).zip(t);
                self.net.evaluate(&CrossEntropy, data, &mut self.scratch)
            }
        }
        .map_err(status::of)?;
        Ok(stats(&s, 0))
    }

    /// Checkpoint size in bytes (weights and optimizer state, validated on restore).
    pub const CHECKPOINT_BYTES: usize = checkpoint::bytes::<f32, Net, Opt>();

    /// Writes the weights and optimizer state into `buf`; returns the bytes written.
    ///
    /// # Errors
    ///
    /// [`status::BUFFER_TOO_SMALL`] (nothing written).
    pub fn save(&self, buf: &mut [u8]) -> Result<usize, Status> {
        checkpoint::save::<f32, Net, Opt>(&self.net, &self.opt, buf).map_err(status::of)
    }

    /// Restores weights and optimizer state from `buf`.
    ///
    /// # Errors
    ///
    /// A checkpoint status (truncated, bad magic, version, corrupted, shape
    /// mismatch); the trainer is unchanged on error.
    pub fn restore(&mut self, buf: &[u8]) -> Result<(), Status> {
        checkpoint::restore::<f32, Net, Opt>(buf, &mut self.net, &mut self.opt).map_err(status::of)
    }
}

/// A heap trainer for the unit tests (the C API initialises in place).
#[cfg(test)]
pub fn new_boxed_for_test(cfg: &Config) -> Result<std::boxed::Box<Trainer>, Status> {
    let base = cfg.validate()?;
    let transform = if cfg.egd == 1 { EGD_ALL } else { EGD_NONE };
    let mut t = std::boxed::Box::new(Trainer {
        magic: MAGIC,
        net: NET_ZEROS,
        grad: NET_ZEROS,
        scratch: Scratch::new(),
        opt: Optimizer::new(transform, base),
        steps: 0,
    });
    t.init_weights(cfg.seed);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::{HIDDEN, IN};
    use core::mem::{offset_of, size_of};

    fn cfg(egd: u32) -> Config {
        Config {
            input: IN as u32,
            hidden: HIDDEN as u32,
            out: OUT as u32,
            active: ACTIVE as u32,
            lr: 0.3,
            weight_decay: 1e-4,
            seed: 3,
            egd,
        }
    }

    /// The layouts `egd.h` declares (`tests/c/host_test.c` checks the C side).
    #[test]
    fn c_layouts() {
        assert_eq!(size_of::<Config>(), 40);
        assert_eq!(offset_of!(Config, lr), 16);
        assert_eq!(offset_of!(Config, seed), 24);
        assert_eq!(offset_of!(Config, egd), 32);
        assert_eq!(size_of::<Stats>(), 16);
        assert_eq!(offset_of!(Trainer, magic), 0);
    }

    #[test]
    fn config_is_checked() {
        let mut c = cfg(1);
        c.hidden += 1;
        assert_eq!(c.validate().err(), Some(status::SHAPE_MISMATCH));
        let mut c = cfg(1);
        c.lr = f32::NAN;
        assert_eq!(c.validate().err(), Some(status::INVALID_PARAMETER));
        assert_eq!(cfg(2).validate().err(), Some(status::INVALID_PARAMETER));
        assert!(cfg(0).validate().is_ok());
    }

    #[test]
    fn bad_batches_change_nothing() {
        let mut t = new_boxed_for_test(&cfg(1)).unwrap();
        let idx: std::vec::Vec<u32> = (0..4 * ACTIVE as u32).map(|i| i % IN as u32).collect();
        let labels = [0, 1, 2, 3];
        t.step(Batch::Sparse(&idx), &labels).unwrap();
        let net = t.net.clone();
        let mut bad = idx.clone();
        bad[1] = IN as u32;
        assert_eq!(
            t.step(Batch::Sparse(&bad), &labels),
            Err(status::INVALID_PARAMETER)
        );
        assert_eq!(
            t.step(Batch::Sparse(&idx[1..]), &labels),
            Err(status::INVALID_PARAMETER)
        );
        assert_eq!(
            t.step(Batch::Sparse(&idx), &[0, 1, 2, OUT as u32]),
            Err(status::INVALID_PARAMETER)
        );
        let mut x = std::vec![0.0f32; 4 * IN];
        x[5] = f32::INFINITY;
        assert_eq!(t.step(Batch::Dense(&x), &labels), Err(status::NON_FINITE));
        assert_eq!(
            t.evaluate(Batch::Dense(&x), &labels),
            Err(status::NON_FINITE)
        );
        assert_eq!(
            t.step(Batch::Dense(&[]), &[]),
            Err(status::INVALID_PARAMETER)
        );
        assert!(t.net == net);
        assert_eq!(t.steps, 1);
    }

    #[test]
    fn checkpoint_round_trip_is_exact() {
        let idx: std::vec::Vec<u32> = (0..8 * ACTIVE as u32)
            .map(|i| (i * 7) % IN as u32)
            .collect();
        let labels: std::vec::Vec<u32> = (0..8).map(|i| i % OUT as u32).collect();
        let mut a = new_boxed_for_test(&cfg(1)).unwrap();
        let mut b = new_boxed_for_test(&cfg(1)).unwrap();
        a.step(Batch::Sparse(&idx), &labels).unwrap();
        let mut buf = std::vec![0u8; Trainer::CHECKPOINT_BYTES];
        assert_eq!(a.save(&mut buf[..10]), Err(status::BUFFER_TOO_SMALL));
        assert_eq!(a.save(&mut buf), Ok(Trainer::CHECKPOINT_BYTES));
        let before = b.net.clone();
        assert_eq!(
            b.restore(&buf[..buf.len() - 1]),
            Err(status::CHECKPOINT_TRUNCATED)
        );
        assert!(b.net == before);
        b.restore(&buf).unwrap();
        a.step(Batch::Sparse(&idx), &labels).unwrap();
        b.step(Batch::Sparse(&idx), &labels).unwrap();
        assert!(a.net == b.net);
    }
}

//! Egalitarian Gradient Descent as a gradient transform.

use super::{Layers, MAX_LAYERS, StepInfo, Transform, check};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::matrix::Matrix;
use crate::nn::{Params, WeightVisitor};
use crate::polar::{Method, PolarConfig, PolarInfo, polar_in_place};
use crate::rsvd::{self, RsvdWorkspace};
use crate::scalar::Real;
use core::borrow::BorrowMut;

/// [`Egd`] settings.
///
/// `#[non_exhaustive]`: build it from [`EgdConfig::DEFAULT`] (or
/// [`Default`], [`EgdConfig::paper`]) with the `const` builders.
///
/// ```
/// use egd_core::optim::{EgdConfig, Layers};
/// let c = EgdConfig::<f32>::paper();
/// assert_eq!((c.layers, c.switch_off_above), (Layers::First, None));
/// const ALL: EgdConfig<f32> = EgdConfig::DEFAULT.with_layers(Layers::All);
/// assert_eq!(ALL.layers, Layers::All);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct EgdConfig<T> {
    /// The orthogonaliser: Jacobi (exact) or Newton–Schulz, and the cutoff.
    pub polar: PolarConfig<T>,
    /// Which weight matrices get the EGD direction (the paper's MLPs: the
    /// first layer only; the rest take the plain gradient).
    pub layers: Layers,
    /// Switch-off rule: once [`Egd::observe_accuracy`] sees a test accuracy
    /// strictly above this, EGD stops for good and the base optimizer steps
    /// alone (the reference code's behaviour after grokking). `None`: never.
    pub switch_off_above: Option<T>,
}

impl<T: Real> Default for EgdConfig<T> {
    /// Jacobi with the `Auto` relative cutoff, first layer, no switch-off.
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Real> EgdConfig<T> {
    /// [`Default`] as a constant (for `static`/`const` items in firmware).
    pub const DEFAULT: Self = Self {
        polar: PolarConfig::DEFAULT,
        layers: Layers::First,
        switch_off_above: None,
    };

    /// Sets [`polar`](Self::polar).
    #[must_use]
    pub const fn with_polar(mut self, polar: PolarConfig<T>) -> Self {
        self.polar = polar;
        self
    }

    /// Sets [`layers`](Self::layers).
    #[must_use]
    pub const fn with_layers(mut self, layers: Layers) -> Self {
        self.layers = layers;
        self
    }

    /// Sets [`switch_off_above`](Self::switch_off_above).
    #[must_use]
    pub const fn with_switch_off_above(mut self, threshold: Option<T>) -> Self {
        self.switch_off_above = threshold;
        self
    }

    /// The reference code: Jacobi with `Clamp(1e-6)`, first layer, no switch-off.
    #[must_use]
    pub fn paper() -> Self {
        Self {
            polar: PolarConfig::paper(),
            ..Self::default()
        }
    }
}

/// EGD: replaces each selected weight matrix's gradient `G = U S Vᵀ` by
/// `U Vᵀ` (the polar factor, with the configured cutoff), in place, before
/// the base optimizer steps. Biases and unselected matrices keep the plain
/// gradient. The L2 term is already part of `G` (the pipeline adds it first).
///
/// Holds one [`SvdWorkspace<T, K, L>`](crate::svd::SvdWorkspace) that serves every weight matrix of the
/// network: `K ≥ min(R, C)` and `L ≥ max(R, C)` must hold for **every**
/// weight matrix `R × C` of the network, selected or not (checked at compile
/// time, because the layer selection is a runtime value). For the paper's
/// model (`W1: 512 × 254`, `W2: 127 × 512`) that is `K = 254, L = 512`.
///
/// With [`Method::Rsvd`] (EGD-RSVD) the workspace also holds the sketch
/// basis for ranks up to `RM` (the fourth parameter, 0 by default: enough
/// for Jacobi and Newton–Schulz). Each call's sketch is drawn from the
/// method's seed and the stream `step · MAX_LAYERS + layer`, where `step`
/// counts the steps EGD has run; the counter is checkpointed, so a resumed
/// run draws the same sketches as an uninterrupted one.
///
/// With [`PolarConfig::warm_start`] the workspace also carries the previous
/// rotation from step to step. That rotation is scratch, not checkpointed
/// state: a run resumed from a checkpoint meets the same accuracy contract but
/// is not bit-identical to an uninterrupted one (with warm start off, the
/// default, it is).
///
/// # Memory
///
/// [`Egd::BYTES`] is dominated by the workspace, [`Egd::WORKSPACE_BYTES`]
/// `= RsvdWorkspace::<T, K, L, RM>::BYTES` (`= SvdWorkspace::<T, K, L>::BYTES`
/// for `RM = 0`); the state is the switch-off flag and the step counter.
///
/// # Example: EGD + SGD on `(a + b) mod 5`
///
/// ```
/// use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, MultiHot};
/// use egd_core::optim::{Egd, EgdConfig, Optimizer, Sgd, SgdConfig};
/// use egd_core::rng::SplitMix64;
///
/// const P: usize = 5;
/// let mut net = Mlp2::<f32, { 2 * P }, 32, P>::zeros(true, false);
/// net.init_he(&mut SplitMix64::new(11));
/// let mut grad = net.zeros_like();
/// let mut s = Mlp2Scratch::new();
/// // Workspace for W1 (32×10) and W2 (5×32): K = 10, L = 32.
/// let mut opt = Optimizer::new(
///     Egd::<f32, 10, 32>::new(EgdConfig::default()),
///     Sgd::new(SgdConfig::new(0.2).with_weight_decay(1e-4))?,
/// );
/// let idx: [[usize; 2]; P * P] = core::array::from_fn(|i| [i / P, P + i % P]);
/// let data = || idx.iter().map(|x| (MultiHot(x), (x[0] + x[1] - P) % P));
/// for _ in 0..200 {
///     net.batch_grad(&CrossEntropy, data(), &mut grad, &mut s)?;
///     let info = opt.step(&mut net, &mut grad)?;
///     assert!(info.polar[0].is_some() && info.polar[1].is_none()); // first layer only
/// }
/// assert_eq!(net.evaluate(&CrossEntropy, data(), &mut s)?.correct, P * P);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
/// # Static placement and your own workspace
///
/// [`Egd::new`] is a `const fn`, so an EGD transform can be a `static` (or
/// sit in one inside a cell): its workspace is all-zero bytes. The config is
/// not, so a `static` holding the whole transform is placed in `.data` (its
/// image in flash). Firmware that wants the workspace in `.bss` keeps the
/// workspace in its zeroed state and lends it to a small transform built
/// where it is used, with [`Egd::with_workspace`] (`W = &mut
/// RsvdWorkspace<…>`); the results are bit for bit those of an owned
/// workspace.
///
/// ```
/// use egd_core::optim::{Egd, EgdConfig};
/// use egd_core::rsvd::RsvdWorkspace;
/// static OWNED: Egd<f32, 4, 8> = Egd::new(EgdConfig::DEFAULT); // const-built
/// let mut ws = RsvdWorkspace::<f32, 4, 8, 0>::new();
/// let lent = Egd::with_workspace(EgdConfig::DEFAULT, &mut ws);
/// assert_eq!(lent.cfg, OWNED.cfg);
/// ```
#[derive(Clone, Debug)]
pub struct Egd<
    T,
    const K: usize,
    const L: usize,
    const RM: usize = 0,
    W = RsvdWorkspace<T, K, L, RM>,
> {
    /// Settings.
    pub cfg: EgdConfig<T>,
    ws: W,
    switched_off: bool,
    /// Steps EGD has run (the sketch stream of EGD-RSVD).
    steps: u64,
    last: [Option<PolarInfo>; MAX_LAYERS],
}

impl<T: Real, const K: usize, const L: usize, const RM: usize> Egd<T, K, L, RM> {
    /// An EGD transform with a fresh (all-zero) workspace of its own.
    #[must_use]
    pub const fn new(cfg: EgdConfig<T>) -> Self {
        Self::from_workspace(cfg, RsvdWorkspace::new())
    }
}

impl<'w, T: Real, const K: usize, const L: usize, const RM: usize>
    Egd<T, K, L, RM, &'w mut RsvdWorkspace<T, K, L, RM>>
{
    /// An EGD transform on a workspace it borrows (for example one in a
    /// zeroed `static`). Its content does not matter (it is scratch), except
    /// the warm-start rotation with [`PolarConfig::warm_start`]. The steps are
    /// bit for bit those of [`Egd::new`].
    #[must_use]
    pub const fn with_workspace(cfg: EgdConfig<T>, ws: &'w mut RsvdWorkspace<T, K, L, RM>) -> Self {
        Self::from_workspace(cfg, ws)
    }
}

impl<T: Real, const K: usize, const L: usize, const RM: usize, W> Egd<T, K, L, RM, W> {
    /// Size in bytes (workspace included when `W` owns it).
    pub const BYTES: usize = size_of::<Self>();
    /// Size of the workspace in bytes (`SvdWorkspace::<T, K, L>::BYTES` for `RM = 0`).
    pub const WORKSPACE_BYTES: usize = RsvdWorkspace::<T, K, L, RM>::BYTES;

    /// An EGD transform on the workspace `ws` of any kind that lends an
    /// `RsvdWorkspace<T, K, L, RM>` (`core::borrow::BorrowMut`): owned
    /// ([`Egd::new`]), borrowed ([`Egd::with_workspace`]), or, on a desktop,
    /// a `Box<RsvdWorkspace<…>>` from `Box::default()`, zeroed on the heap so
    /// the 1 MB paper-size workspace never sits on the stack. Give the type
    /// parameters explicitly (`Egd::<T, K, L, RM, Box<_>>::from_workspace`).
    #[must_use]
    pub const fn from_workspace(cfg: EgdConfig<T>, ws: W) -> Self {
        Self {
            cfg,
            ws,
            switched_off: false,
            steps: 0,
            last: [None; MAX_LAYERS],
        }
    }

    /// Tells EGD the latest test accuracy; returns whether EGD is now off.
    /// With `switch_off_above = Some(τ)`, an accuracy `> τ` switches EGD off
    /// for the rest of the run (it stays off; it is part of the checkpoint).
    pub fn observe_accuracy(&mut self, test_accuracy: T) -> bool {
        if let Some(th) = self.cfg.switch_off_above {
            if test_accuracy > th {
                self.switched_off = true;
            }
        }
        self.switched_off
    }

    /// Whether the switch-off rule has fired.
    #[must_use]
    pub fn is_switched_off(&self) -> bool {
        self.switched_off
    }

    /// Optimizer steps that committed with EGD running (an `Err` step or a
    /// step after the switch-off does not count); part of the checkpoint,
    /// and the stream index of EGD-RSVD's sketches.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Per layer, the polar step's sweeps and rank at the last step that ran
    /// EGD (`None` for layers it did not whiten).
    #[must_use]
    pub fn last_info(&self) -> &[Option<PolarInfo>; MAX_LAYERS] {
        &self.last
    }
}

struct PolarVisitor<'a, T, const K: usize, const L: usize, const RM: usize> {
    ws: &'a mut RsvdWorkspace<T, K, L, RM>,
    cfg: &'a PolarConfig<T>,
    layers: Layers,
    step: u64,
    out: [Option<PolarInfo>; MAX_LAYERS],
}

impl<T: Real, const K: usize, const L: usize, const RM: usize> WeightVisitor<T>
    for PolarVisitor<'_, T, K, L, RM>
{
    fn visit<const R: usize, const C: usize>(
        &mut self,
        layer: usize,
        w: &mut Matrix<T, R, C>,
    ) -> Result<(), EgdError> {
        if self.layers.contains(layer) {
            let info = if let Method::Rsvd { .. } = self.cfg.method {
                let stream = self
                    .step
                    .wrapping_mul(MAX_LAYERS as u64)
                    .wrapping_add(layer as u64);
                rsvd::polar_in_place(w, self.ws, self.cfg, stream)?
            } else {
                polar_in_place(w, self.ws.svd_mut(), self.cfg)?
            };
            if let Some(slot) = self.out.get_mut(layer) {
                *slot = Some(info);
            }
        }
        Ok(())
    }
}

impl<T: Real, N: Params<T>, const K: usize, const L: usize, const RM: usize, W> Transform<T, N>
    for Egd<T, K, L, RM, W>
where
    W: BorrowMut<RsvdWorkspace<T, K, L, RM>>,
{
    fn validate(&self) -> Result<(), EgdError> {
        check(
            self.cfg.switch_off_above.is_none_or(|t| t.is_finite()),
            "switch_off_above",
            "a finite accuracy threshold",
        )
    }

    fn apply(&mut self, grad: &mut N, info: &mut StepInfo) -> Result<(), EgdError> {
        if self.switched_off {
            return Ok(());
        }
        let mut v = PolarVisitor {
            ws: self.ws.borrow_mut(),
            cfg: &self.cfg.polar,
            layers: self.cfg.layers,
            step: self.steps,
            out: [None; MAX_LAYERS],
        };
        grad.visit_weights_mut(&mut v)?;
        info.polar = v.out;
        info.transformed = true;
        Ok(())
    }

    fn commit(&mut self, _: &mut N, info: &StepInfo) {
        if info.transformed {
            self.last = info.polar;
            self.steps = self.steps.wrapping_add(1);
        }
    }
}

/// Transform kind `1`; state: two words, the switch-off flag (`0` or `1`)
/// and the step counter that seeds EGD-RSVD's sketches (any value).
impl<T: Real, const K: usize, const L: usize, const RM: usize, W> State<T> for Egd<T, K, L, RM, W> {
    const KIND: u8 = 1;
    const SCALARS: usize = 0;
    const WORDS: usize = 2;
    fn write_state(&self, w: &mut Writer<'_>) {
        w.word(u64::from(self.switched_off));
        w.word(self.steps);
    }
    fn read_state(&mut self, r: &mut Reader<'_>) {
        self.switched_off = r.word() != 0;
        self.steps = r.word();
    }
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError> {
        r.check_flag("EGD switch-off flag")?;
        r.word(); // the step counter: every value is valid
        Ok(())
    }
}

//! # egd-tasks
//!
//! The data sets of grokking research, as functions of a seed: modular
//! arithmetic `a ∘ b mod p` and sparse parity, with exact train/test splits
//! and shuffled epochs in O(1) memory. `#![no_std]`, no allocator, no
//! dependencies, no `unsafe`: the same examples on a Cortex-M0 and on a
//! desktop.
//!
//! | item | holds |
//! |---|---|
//! | [`ModularTask`], [`Op`], [`ModExample`] | `a ∘ b mod p` for `∘ ∈ {+, −, ×, ÷}`, two-hot inputs, labels in `0..p` |
//! | [`SparseParity`], [`Secret`], [`ParityExample`] | `(n, k)` parity with `±1` inputs and labels |
//! | [`Dataset`] | the shared interface: random access, split iterators, [`epoch`](Dataset::epoch)s |
//! | [`Epoch`], [`Batch`], [`Batches`], [`EpochExamples`], [`Examples`] | shuffled minibatches and iterators, all `Copy`-sized cursors |
//! | [`Permutation`] | the seeded permutation of `0..len` behind splits and shuffles |
//! | [`Preset`] | the paper's configurations (and a small one for CI) by name |
//! | [`TaskError`] | small, `Copy`; the message names the parameter and its range |
//!
//! ```
//! use egd_tasks::{Dataset, ModularTask, Op, Remainder};
//!
//! let task = ModularTask::new(127, Op::Add, 0.5, 42)?; // the paper's split sizes
//! for e in 0..2 {
//!     for batch in task.epoch(e, 512, Remainder::Drop)?.batches() {
//!         for ex in batch {
//!             let [i, j] = ex.two_hot(); // the two active inputs of 254
//!             let y = ex.label();        // class in 0..127
//!             # let _ = (i, j, y);
//!         }
//!     }
//! }
//! // Evaluation: the whole test set, in index order.
//! let mut x = [0.0f32; 254]; // or use the sparse two_hot() indices
//! for ex in task.test_examples() {
//!     ex.write_input(&mut x)?;
//!     assert_eq!(ex.label(), (ex.a() + ex.b()) % 127);
//! }
//! # Ok::<(), egd_tasks::TaskError>(())
//! ```
//!
//! ## Conventions
//!
//! * **Examples are computed, not stored.** Example `i` of a split is a pure
//!   function of the task's parameters, its seed and `i`; the same on every
//!   target (wrapping integer arithmetic only, no floats except for turning
//!   `train_fraction` into a count).
//! * **Splits are exact.** A [`ModularTask`] orders its `N` pairs by a seeded
//!   [`Permutation`] of `0..N`; the first `⌊train_fraction·N⌋` (truncated in
//!   `f64`, like the reference code's `int(frac * N)`) are the training set,
//!   the rest the test set. Sparse parity draws `train_len` and `test_len`
//!   examples from two independent counter-based streams.
//! * **Epochs are seeded by `(seed, epoch)`.** [`Dataset::epoch`] permutes
//!   `0..train_len` afresh; minibatches take consecutive positions, and
//!   [`Remainder`] says whether the last partial batch is dropped (the paper)
//!   or kept.
//! * **Indices are `usize`**, lengths at most `u32::MAX` (the largest task,
//!   p = 65 535, has 4 294 836 225 pairs). Out-of-range indices give `None`.
//! * **Inputs** are written into caller buffers of any type built from `i8`
//!   (`f32`, `f64`, `i8`, …): two-hot `{0, 1}^(2p)` or `{−1, +1}^n`. For
//!   modular arithmetic, [`ModExample::two_hot`] gives the two active
//!   indices `[a, p + b]` for a sparse first layer.
//! * **No panics.** Bad parameters give a [`TaskError`], wrong buffer
//!   lengths too; nothing in the crate panics on any input. Every division
//!   is by a `NonZeroU32` and every index is checked, so a release build for
//!   `thumbv6m-none-eabi` and `thumbv7em-none-eabihf` that calls the whole
//!   API links with a panic handler that references an undefined symbol
//!   (the `panic-never` technique).
//!
//! ## Memory
//!
//! Sizes from `core::mem::size_of` (checked by unit tests on 64-bit hosts;
//! the 32-bit column is for Cortex-M, `thumbv6m`/`thumbv7em`):
//!
//! | type | 64-bit | 32-bit |
//! |---|---|---|
//! | [`Permutation`] | 16 | 16 |
//! | [`ModularTask`] | 32 | 32 |
//! | [`ModExample`] | 8 | 8 |
//! | [`SparseParity`] | 56 | 56 |
//! | [`ParityExample`] | 16 | 16 |
//! | [`Examples`] (split iterator) | 24 | 16 |
//! | [`Epoch`] | 32 | 28 |
//! | [`Batches`] | 40 | 32 |
//! | [`Batch`], [`EpochExamples`] | 40 | 36 |
//!
//! So training on the p = 127 split for any number of epochs, with the loops
//! above, keeps a 32-byte task, a 40-byte batch iterator and a 40-byte
//! example iterator alive across examples: **112 bytes** on a 64-bit host
//! (100 on Cortex-M), independent of `p`. The `Epoch` and `Batch` values
//! they are made from add at most 72 bytes (64) more, depending on how the
//! compiler reuses stack slots. Evaluating holds the task and a 24-byte (16)
//! split iterator. A stored index table for p = 127 would take
//! 16 129 × 2 = 32 258 bytes.
//!
//! ## Cost per example
//!
//! A [`Permutation`] evaluation is 6 Feistel rounds of a two-multiply
//! 32-bit hash, repeated by cycle-walking at most `D/len < 4` times on
//! average (`D` the power-of-4 domain). A modular example costs one such
//! evaluation (≈ 1.016 walks at p = 127) plus a `u32` division; in an epoch,
//! one more for the shuffle (≈ 2.03 walks for the 8064 training examples).
//! A parity example costs one `SplitMix64` step, plus `⌈k/64⌉` for its label
//! and `⌈n/64⌉` to write its input.
//!
//! ## Randomness
//!
//! All randomness comes from `SplitMix64`'s output function applied to
//! counters (random access, no state), and from a 32-bit low-bias integer
//! hash inside the Feistel rounds. Independent purposes (split, epochs,
//! parity secret, train stream, test stream) use keys derived from the seed
//! with distinct tags. This is for data sets, not cryptography.
#![no_std]
#![forbid(unsafe_code)]

pub mod dataset;
pub mod error;
mod mix;
pub mod modular;
pub mod parity;
pub mod perm;
pub mod preset;

pub use dataset::{Batch, Batches, Dataset, Epoch, EpochExamples, Examples, Remainder, Split};
pub use error::{ParamValue, TaskError};
pub use modular::{ModExample, ModularTask, Op};
pub use parity::{ParityExample, Secret, SparseParity};
pub use perm::Permutation;
pub use preset::{
    BaseOptimizer, InitScheme, LossKind, ModularSpec, Origin, PaperEpochs, ParitySpec, Preset,
    TaskSpec,
};

//! # egd-ffi
//!
//! egd from C without an allocator: a `#![no_std]` static library
//! (`libegd_ffi.a`) that trains a two-layer `ReLU` MLP with EGD (or plain SGD)
//! in memory the C program provides. The shapes are fixed when the library is
//! built (`EGD_FFI_IN`, `EGD_FFI_HIDDEN`, `EGD_FFI_OUT`, `EGD_FFI_ACTIVE`; see
//! `build.rs`), and the C program declares the same numbers in its
//! `egd_config`, which `egd_trainer_init` checks.
//!
//! | module | holds |
//! |---|---|
//! | `shape` | the build's shapes as `egd-core` const generics, the size bound |
//! | `status` | the C status codes, one per `EgdError` kind |
//! | `trainer` | the trainer in safe Rust: input checks, step, evaluate, checkpoints |
//! | `ffi` | the `extern "C"` functions: the crate's only `unsafe` |
//!
//! The C interface is `include/egd.h`; `.ci/ffi.sh` checks it against this
//! crate, runs the host C test and the C firmware example.
#![cfg_attr(not(test), no_std)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod ffi;
pub mod shape;
pub mod status;
pub mod trainer;

// The C header's size formula must bound the real size on every target.
const _: () = assert!(
    size_of::<trainer::Trainer>()
        <= shape::trainer_bytes_bound(shape::IN, shape::HIDDEN, shape::OUT)
);

/// No panic can be reached from the C API in a release build: this handler
/// calls a symbol defined nowhere, so a C program links only if the
/// optimiser removed every panic path (the same link-time proof as the
/// firmware's `nopanic` binary). Build the library with `--release`.
#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        fn egd_ffi_panic_is_reachable() -> !;
    }
    // SAFETY: never defined; a reference that survives LTO is a link error by design.
    unsafe { egd_ffi_panic_is_reachable() }
}

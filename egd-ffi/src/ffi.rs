//! The C boundary: every `extern "C"` function of `egd.h`, and the crate's
//! only `unsafe` code. Each function checks its pointers (null, alignment,
//! initialised trainer) and lengths, turns them into slices and references,
//! and hands over to the safe [`Trainer`](crate::trainer::Trainer).
//!
//! Caller contract (stated once, relied on by every `SAFETY:` below): a
//! non-null pointer with a length points to that many readable (writable for
//! outputs) elements for the duration of the call; buffers passed to one call
//! do not overlap each other or the trainer memory; a trainer is used by one
//! thread at a time. Memory is never retained after a call returns.

use crate::status::{self, Status};
use crate::trainer::{Batch, Config, EGD_ALL, EGD_NONE, MAGIC, NET_ZEROS, Stats, Trainer};
use core::ffi::{CStr, c_char, c_void};
use core::mem::{align_of, size_of};
use core::ptr;
use core::slice;
use egd_core::nn::Mlp2Scratch;

/// Opaque trainer handle (`egd_trainer` in `egd.h`): the caller's memory
/// after a successful `egd_trainer_init`.
pub type Handle = c_void;

/// Bytes of memory `egd_trainer_init` needs.
#[unsafe(no_mangle)]
pub extern "C" fn egd_trainer_size() -> usize {
    size_of::<Trainer>()
}

/// Alignment in bytes that `egd_trainer_init` requires of its memory.
#[unsafe(no_mangle)]
pub extern "C" fn egd_trainer_align() -> usize {
    align_of::<Trainer>()
}

/// Bytes of a checkpoint.
#[unsafe(no_mangle)]
pub extern "C" fn egd_checkpoint_size() -> usize {
    Trainer::CHECKPOINT_BYTES
}

/// The trainer memory as a trainer, if it is one.
///
/// # Safety
///
/// `t` is null or points to `egd_trainer_size()` readable and writable bytes
/// that no one else accesses during the call.
unsafe fn trainer<'a>(t: *mut Handle) -> Result<&'a mut Trainer, Status> {
    if t.is_null() {
        return Err(status::NULL_POINTER);
    }
    if !t.cast::<Trainer>().is_aligned() {
        return Err(status::BAD_ALIGNMENT);
    }
    // SAFETY: non-null and aligned for `Trainer` (so for its first field, a
    // u64 at offset 0 under `repr(C)`); the caller guarantees the bytes are
    // readable. Every bit pattern is a valid u64.
    let magic = unsafe { ptr::read(t.cast::<u64>()) };
    if magic != MAGIC {
        return Err(status::NOT_INITIALIZED);
    }
    // SAFETY: the magic word is written only by `egd_trainer_init` after it
    // has initialised every field, so the memory holds a valid `Trainer`; the
    // caller guarantees exclusive access for the call.
    Ok(unsafe { &mut *t.cast::<Trainer>() })
}

/// A C array as a slice; `n == 0` gives an empty slice whatever the pointer.
///
/// # Safety
///
/// `p` is null or points to `n` readable `T`s that stay unchanged during the call.
unsafe fn array<'a, T>(p: *const T, n: usize) -> Result<&'a [T], Status> {
    if n == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(status::NULL_POINTER);
    }
    if !p.is_aligned() {
        return Err(status::BAD_ALIGNMENT);
    }
    if n.checked_mul(size_of::<T>())
        .is_none_or(|b| b > isize::MAX as usize)
    {
        return Err(status::INVALID_PARAMETER);
    }
    // SAFETY: non-null, aligned, `n` readable elements (caller), total size
    // within isize::MAX (checked above).
    Ok(unsafe { slice::from_raw_parts(p, n) })
}

/// Writes `v` to `out` if `out` is not null.
///
/// # Safety
///
/// `out` is null or points to a writable, aligned `T`.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-null, and the caller guarantees it is writable and aligned.
        unsafe { out.write(v) };
    }
}

fn code(r: Result<(), Status>) -> Status {
    r.err().unwrap_or(status::OK)
}

/// Initialises a trainer in `mem` (`mem_len` bytes, aligned to
/// `egd_trainer_align()`): checks `cfg`, zeroes nothing outside the trainer,
/// He-initialises the weights from `cfg.seed` and writes the handle to `out`.
/// On error nothing is written to `mem` or `out`.
///
/// # Safety
///
/// `mem` is null or points to `mem_len` writable bytes; `cfg` is null or
/// points to an `egd_config`; `out` is null or points to a writable pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_trainer_init(
    mem: *mut c_void,
    mem_len: usize,
    cfg: *const Config,
    out: *mut *mut Handle,
) -> Status {
    if mem.is_null() || cfg.is_null() {
        return status::NULL_POINTER;
    }
    if !mem.cast::<Trainer>().is_aligned() {
        return status::BAD_ALIGNMENT;
    }
    if mem_len < size_of::<Trainer>() {
        return status::BUFFER_TOO_SMALL;
    }
    if !cfg.is_aligned() {
        return status::BAD_ALIGNMENT;
    }
    // SAFETY: non-null and aligned; the caller guarantees it points to an
    // `egd_config` (a plain-data `repr(C)` struct, every bit pattern valid).
    let cfg = unsafe { cfg.read() };
    let base = match cfg.validate() {
        Ok(b) => b,
        Err(e) => return e,
    };
    let p = mem.cast::<Trainer>();
    // SAFETY: `p` is non-null, aligned and has room for a `Trainer` (checked
    // above) in memory the caller lets us write. Each field is written in
    // place from a constant (no large temporary on the stack) before the
    // magic word marks the trainer as initialised; only then is a reference
    // formed.
    let t = unsafe {
        (&raw mut (*p).net).write(NET_ZEROS);
        (&raw mut (*p).grad).write(NET_ZEROS);
        (&raw mut (*p).scratch).write(Mlp2Scratch::new());
        // Two writes, not one of an `if` value: that would build the
        // 30 KB workspace in a stack temporary first.
        if cfg.egd == 1 {
            (&raw mut (*p).opt.transform).write(EGD_ALL);
        } else {
            (&raw mut (*p).opt.transform).write(EGD_NONE);
        }
        (&raw mut (*p).opt.base).write(base);
        (&raw mut (*p).steps).write(0);
        (&raw mut (*p).magic).write(MAGIC);
        &mut *p
    };
    t.init_weights(cfg.seed);
    // SAFETY: `out` is null or writable (caller).
    unsafe { put(out, mem) };
    status::OK
}

/// Shared body of the four batch functions.
///
/// # Safety
///
/// As [`trainer`] for `t`; `x` points to `n · per_sample` readable `X`s,
/// `labels` to `n` readable labels, `stats` is null or writable.
#[allow(clippy::too_many_arguments)] // the four C entry points differ in exactly these
unsafe fn batch_call<X>(
    t: *mut Handle,
    x: *const X,
    per_sample: usize,
    labels: *const u32,
    n: usize,
    stats: *mut Stats,
    wrap: fn(&[X]) -> Batch<'_>,
    run: fn(&mut Trainer, Batch<'_>, &[u32]) -> Result<Stats, Status>,
) -> Status {
    // SAFETY: forwarded caller contract (see each function).
    let t = match unsafe { trainer(t) } {
        Ok(t) => t,
        Err(e) => return e,
    };
    if n == 0 {
        return status::INVALID_PARAMETER;
    }
    let Some(len) = n.checked_mul(per_sample) else {
        return status::INVALID_PARAMETER;
    };
    // SAFETY: the caller guarantees `len` readable elements at `x` and `n` at `labels`.
    let (x, labels) = match unsafe { (array(x, len), array(labels, n)) } {
        (Ok(x), Ok(l)) => (x, l),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    code(run(t, wrap(x), labels).map(|s| {
        // SAFETY: `stats` is null or writable (caller).
        unsafe { put(stats, s) }
    }))
}

/// One training step on `n` sparse samples: `indices` holds `n · EGD_ACTIVE`
/// input indices (sample `i` at `indices[i·EGD_ACTIVE ..]`, each `< EGD_IN`),
/// `labels` holds `n` classes `< EGD_OUT`. Writes the batch's loss and
/// accuracy (before the update) to `stats` if not null. On error the weights
/// and optimizer state are unchanged.
///
/// # Safety
///
/// `t` is a handle from `egd_trainer_init` (or null); `indices` and `labels`
/// point to as many readable `uint32_t` as stated; `stats` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_train_step_sparse(
    t: *mut Handle,
    indices: *const u32,
    labels: *const u32,
    n: usize,
    stats: *mut Stats,
) -> Status {
    // SAFETY: the caller's contract above is batch_call's.
    unsafe {
        batch_call(
            t,
            indices,
            crate::shape::ACTIVE,
            labels,
            n,
            stats,
            |s| Batch::Sparse(s),
            Trainer::step,
        )
    }
}

/// One training step on `n` dense samples: `x` holds `n · EGD_IN` floats
/// (row-major, all finite), `labels` `n` classes. As `egd_train_step_sparse`
/// otherwise.
///
/// # Safety
///
/// As `egd_train_step_sparse`, with `x` pointing to `n · EGD_IN` readable floats.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_train_step_dense(
    t: *mut Handle,
    x: *const f32,
    labels: *const u32,
    n: usize,
    stats: *mut Stats,
) -> Status {
    // SAFETY: the caller's contract above is batch_call's.
    unsafe {
        batch_call(
            t,
            x,
            crate::shape::IN,
            labels,
            n,
            stats,
            |s| Batch::Dense(s),
            Trainer::step,
        )
    }
}

/// Loss and accuracy of the current weights on `n` sparse samples (layout
/// as `egd_train_step_sparse`); the weights do not change.
///
/// # Safety
///
/// As `egd_train_step_sparse`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_evaluate_sparse(
    t: *mut Handle,
    indices: *const u32,
    labels: *const u32,
    n: usize,
    stats: *mut Stats,
) -> Status {
    // SAFETY: the caller's contract above is batch_call's.
    unsafe {
        batch_call(
            t,
            indices,
            crate::shape::ACTIVE,
            labels,
            n,
            stats,
            |s| Batch::Sparse(s),
            Trainer::evaluate,
        )
    }
}

/// Loss and accuracy of the current weights on `n` dense samples.
///
/// # Safety
///
/// As `egd_train_step_dense`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_evaluate_dense(
    t: *mut Handle,
    x: *const f32,
    labels: *const u32,
    n: usize,
    stats: *mut Stats,
) -> Status {
    // SAFETY: the caller's contract above is batch_call's.
    unsafe {
        batch_call(
            t,
            x,
            crate::shape::IN,
            labels,
            n,
            stats,
            |s| Batch::Dense(s),
            Trainer::evaluate,
        )
    }
}

/// Writes a checkpoint (weights and optimizer state, `egd_checkpoint_size()`
/// bytes) into `buf` of `len` bytes; the byte count goes to `written` if not
/// null. Nothing is written on error.
///
/// # Safety
///
/// `t` is a handle (or null); `buf` points to `len` writable bytes (or is
/// null); `written` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_checkpoint_save(
    t: *mut Handle,
    buf: *mut u8,
    len: usize,
    written: *mut usize,
) -> Status {
    // SAFETY: caller contract.
    let t = match unsafe { trainer(t) } {
        Ok(t) => t,
        Err(e) => return e,
    };
    if buf.is_null() {
        return status::NULL_POINTER;
    }
    if len > isize::MAX as usize {
        return status::INVALID_PARAMETER;
    }
    // SAFETY: non-null, `len` writable bytes (caller), u8 needs no alignment,
    // and the buffer does not overlap the trainer (caller).
    let buf = unsafe { slice::from_raw_parts_mut(buf, len) };
    code(t.save(buf).map(|n| {
        // SAFETY: `written` is null or writable (caller).
        unsafe { put(written, n) }
    }))
}

/// Restores weights and optimizer state from a checkpoint in `buf` (`len`
/// bytes), after validating it whole (magic, version, checksum, shapes). On
/// error the trainer is unchanged.
///
/// # Safety
///
/// `t` is a handle (or null); `buf` points to `len` readable bytes (or is null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_checkpoint_restore(
    t: *mut Handle,
    buf: *const u8,
    len: usize,
) -> Status {
    // SAFETY: caller contract.
    let t = match unsafe { trainer(t) } {
        Ok(t) => t,
        Err(e) => return e,
    };
    if buf.is_null() {
        return status::NULL_POINTER;
    }
    // SAFETY: non-null, `len` readable bytes (caller), u8 needs no alignment.
    let buf = match unsafe { array(buf, len) } {
        Ok(b) => b,
        Err(e) => return e,
    };
    code(t.restore(buf))
}

/// Successful training steps since init (0 for a null or invalid handle).
///
/// # Safety
///
/// `t` is a handle from `egd_trainer_init` (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn egd_trainer_steps(t: *mut Handle) -> u64 {
    // SAFETY: caller contract.
    unsafe { trainer(t) }.map_or(0, |t| t.steps)
}

/// A static, NUL-terminated English name for a status code.
#[unsafe(no_mangle)]
pub extern "C" fn egd_status_str(s: Status) -> *const c_char {
    let msg: &CStr = match s {
        status::OK => c"ok",
        status::NULL_POINTER => c"null pointer",
        status::BUFFER_TOO_SMALL => c"buffer too small",
        status::BAD_ALIGNMENT => c"buffer not aligned",
        status::NOT_INITIALIZED => c"not an initialised trainer",
        status::SHAPE_MISMATCH => c"shapes differ from the library build",
        status::NON_FINITE => c"NaN or infinity",
        status::INVALID_PARAMETER => c"invalid parameter",
        status::NOT_CONVERGED => c"SVD did not converge",
        status::CHECKPOINT_BAD_MAGIC => c"checkpoint: bad magic",
        status::CHECKPOINT_UNSUPPORTED_VERSION => c"checkpoint: unsupported version",
        status::CHECKPOINT_SHAPE_MISMATCH => c"checkpoint: shape mismatch",
        status::CHECKPOINT_TRUNCATED => c"checkpoint: truncated",
        status::CHECKPOINT_CORRUPTED => c"checkpoint: corrupted",
        status::CHECKPOINT_INVALID => c"checkpoint: invalid",
        status::OTHER => c"other egd error",
        _ => c"unknown status",
    };
    msg.as_ptr()
}

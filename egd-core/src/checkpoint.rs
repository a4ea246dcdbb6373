//! Checkpoints: every parameter and all optimizer state in a caller-provided
//! byte buffer, and back.
//!
//! # Format (version 1, little-endian)
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 8 | magic `b"EGDCKPT\0"` |
//! | 8 | 2 | format version (`1`) |
//! | 10 | 1 | scalar type: `4` = `f32`, `8` = `f64` |
//! | 11 | 1 | optimizer kind ([`State::KIND`]: transform in the high nibble, base in the low) |
//! | 12 | 4 | number of parameter tensors |
//! | 16 | 8 | number of parameter scalars |
//! | 24 | 8 | number of optimizer-state scalars |
//! | 32 | 8 | number of optimizer-state words (step counters, flags) |
//! | 40 | 8 | shape hash (FNV-1a 64 of every tensor's kind, layer, shape and bias switch, and of the optimizer layout) |
//! | 48 | 8 | total length in bytes, checksum included |
//! | 56 | … | parameters (tensor by tensor, row-major), then optimizer state |
//! | end − 8 | 8 | FNV-1a 64 checksum of every byte before it |
//!
//! Hyperparameters (learning rate, β, …) are configuration, not state: they
//! are not stored; restore into an optimizer built with the same configuration.
//!
//! # Guarantees
//!
//! [`restore`] validates the whole buffer before writing anything — magic,
//! version, length, checksum, shape, then every stored value — so a
//! corrupted, truncated, mismatched or out-of-domain buffer gives
//! `Err(EgdError::Checkpoint(..))` and leaves the network and optimizer
//! untouched. A checkpoint that restores holds only finite parameters, zero
//! disabled biases, and optimizer state inside its domain (each [`State`]
//! type states and checks its own invariant, [`State::check_state`]).
//! Restoring and continuing gives weights bit-identical to an uninterrupted
//! run.
//!
//! # Threat model
//!
//! * **The checksum detects accidents, not tampering.** FNV-1a 64 catches
//!   bit flips, truncation and torn writes in storage or transit; it is not a
//!   cryptographic MAC, and anyone can recompute it after editing the bytes.
//!   This crate does not authenticate checkpoints: when the source matters,
//!   sign or MAC the buffer outside it.
//! * **Values are validated because a checkpoint may come from elsewhere** —
//!   another program, a hand-edited file, or memory that was corrupted on the
//!   device *before* [`save`] computed the checksum. With a matching checksum,
//!   every scalar must still be finite and every optimizer state inside its
//!   domain ([`CheckpointError::InvalidValue`] names the first value that is
//!   not, with its byte offset).
//! * **What remains possible**: a well-formed checkpoint with finite,
//!   in-domain but *wrong* values (other weights, a large momentum) restores.
//!   It cannot smuggle a NaN into the weights later either: a step whose
//!   result would not be finite returns `Err(NonFinite)` and writes nothing
//!   (see [`optim`](crate::optim)).
//!
//! ```
//! use egd_core::checkpoint;
//! use egd_core::nn::Mlp2;
//! use egd_core::optim::{NoTransform, Optimizer, Sgd, SgdConfig};
//! use egd_core::rng::SplitMix64;
//!
//! type Net = Mlp2<f32, 6, 8, 3>;
//! type Opt = Optimizer<NoTransform, Sgd<f32, Net>>;
//! let mut net = Net::zeros(true, false);
//! net.init_he(&mut SplitMix64::new(5));
//! let cfg = SgdConfig::new(0.1).with_momentum(0.9);
//! let opt: Opt = Optimizer::new(NoTransform, Sgd::with_momentum(cfg, &net)?);
//!
//! let mut buf = [0u8; checkpoint::bytes::<f32, Net, Opt>()];
//! checkpoint::save(&net, &opt, &mut buf)?;
//!
//! let mut net2 = Net::zeros(true, false);
//! let mut opt2: Opt = Optimizer::new(NoTransform, Sgd::with_momentum(cfg, &net2)?);
//! checkpoint::restore(&buf, &mut net2, &mut opt2)?;
//! assert_eq!(net, net2);
//!
//! buf[100] ^= 1; // corrupt one bit
//! assert!(checkpoint::restore(&buf, &mut net2, &mut opt2).is_err());
//! # Ok::<(), egd_core::EgdError>(())
//! ```

use crate::error::{CheckpointError, EgdError};
use crate::nn::{Kind, Params};
use crate::scalar::Real;

/// The first eight bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"EGDCKPT\0";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
/// Size of the fixed header.
pub const HEADER_BYTES: usize = 56;
/// Size of the trailing checksum.
pub const CHECKSUM_BYTES: usize = 8;

/// Optimizer (or optimizer component) state that goes into a checkpoint.
///
/// The layout is static: `SCALARS` values of type `T` and `WORDS` `u64`s,
/// written and read in the same fixed order. `()` is the empty state (save a
/// network without an optimizer).
///
/// Every state type declares its domain in [`State::check_state`]; [`restore`]
/// runs it on the serialized bytes before [`State::read_state`] writes
/// anything, so a restored state is always inside its type's domain.
pub trait State<T: Real> {
    /// Kind tag stored in the header (`0..16` for components).
    const KIND: u8;
    /// Number of `T` values written.
    const SCALARS: usize;
    /// Number of `u64` words written.
    const WORDS: usize;
    /// Writes exactly `SCALARS` scalars and `WORDS` words.
    fn write_state(&self, w: &mut Writer<'_>);
    /// Reads what [`State::write_state`] wrote (the buffer is already
    /// validated, including by [`State::check_state`]).
    fn read_state(&mut self, r: &mut Reader<'_>);
    /// Checks the serialized state in `r` — exactly what
    /// [`State::read_state`] would read — against this type's invariant:
    /// every scalar finite, plus the type's own domain (second moments
    /// `>= 0`, flags `0` or `1`, all-zero buffers before the first step, …).
    /// Writes nothing.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::InvalidValue`] naming the first value outside the
    /// domain and its byte offset.
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError>;
}

impl<T: Real> State<T> for () {
    const KIND: u8 = 0;
    const SCALARS: usize = 0;
    const WORDS: usize = 0;
    fn write_state(&self, _: &mut Writer<'_>) {}
    fn read_state(&mut self, _: &mut Reader<'_>) {}
    fn check_state(_: &mut Reader<'_>) -> Result<(), CheckpointError> {
        Ok(())
    }
}

/// A forward-only cursor writing little-endian values into a byte buffer.
/// Writes past the end are dropped (callers size the buffer first).
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes written so far.
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    fn bytes(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(self.pos..self.pos + b.len()) {
            dst.copy_from_slice(b);
        }
        self.pos += b.len();
    }

    /// Writes scalars in order.
    pub fn scalars<T: Real>(&mut self, xs: &[T]) {
        for &x in xs {
            if let Some(dst) = self.buf.get_mut(self.pos..self.pos + T::BYTES) {
                x.write_le(dst);
            }
            self.pos += T::BYTES;
        }
    }

    /// Writes one `u64`.
    pub fn word(&mut self, w: u64) {
        self.bytes(&w.to_le_bytes());
    }
}

/// A forward-only cursor reading little-endian values; reads past the end give zeros.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Byte offset of the next value in the buffer (for a reader that
    /// [`restore`] or [`validate`] hands out: in the whole checkpoint).
    #[must_use]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads one scalar.
    pub fn scalar<T: Real>(&mut self) -> T {
        let x = self
            .buf
            .get(self.pos..self.pos + T::BYTES)
            .map_or(T::ZERO, T::read_le);
        self.pos += T::BYTES;
        x
    }

    /// Reads scalars in order into `xs`.
    pub fn scalars<T: Real>(&mut self, xs: &mut [T]) {
        for x in xs {
            *x = self.scalar();
        }
    }

    /// Reads one `u64`.
    pub fn word(&mut self) -> u64 {
        let w = self.buf.get(self.pos..self.pos + 8).map_or(0, read_u64);
        self.pos += 8;
        w
    }

    /// Reads `n` scalars and checks each with `ok`.
    ///
    /// ```
    /// use egd_core::CheckpointError;
    /// use egd_core::checkpoint::Reader;
    /// let bytes: Vec<u8> = [1.0f32, -2.0].iter().flat_map(|x| x.to_le_bytes()).collect();
    /// let nonneg = |x: f32| x >= 0.0;
    /// assert_eq!(
    ///     Reader::new(&bytes).check_scalars(2, "v", ">= 0", nonneg),
    ///     Err(CheckpointError::InvalidValue { field: "v", expected: ">= 0", offset: 4 })
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`CheckpointError::InvalidValue`] with `field`, `expected` and the
    /// offset of the first scalar that fails (the reader then stands after it).
    pub fn check_scalars<T: Real>(
        &mut self,
        n: usize,
        field: &'static str,
        expected: &'static str,
        ok: impl Fn(T) -> bool,
    ) -> Result<(), CheckpointError> {
        for _ in 0..n {
            let offset = self.pos;
            if !ok(self.scalar()) {
                return Err(CheckpointError::InvalidValue {
                    field,
                    expected,
                    offset,
                });
            }
        }
        Ok(())
    }

    /// Reads a `u64` that must be `0` or `1` and returns it as a flag.
    ///
    /// # Errors
    ///
    /// [`CheckpointError::InvalidValue`] with `field` for any other value.
    pub fn check_flag(&mut self, field: &'static str) -> Result<bool, CheckpointError> {
        let offset = self.pos;
        match self.word() {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(CheckpointError::InvalidValue {
                field,
                expected: "0 or 1",
                offset,
            }),
        }
    }
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    u64::from_le_bytes(a)
}

/// FNV-1a, 64 bits, over `bytes`, continuing from `hash` (start from [`FNV_OFFSET`]).
#[must_use]
pub const fn fnv1a64(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        i += 1;
    }
    hash
}

/// FNV-1a 64 offset basis.
pub const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;

/// Checkpoint size in bytes for network `N` and optimizer state `O` with scalar `T`.
///
/// ```
/// use egd_core::{checkpoint, nn::Mlp2};
/// // header + 4·(8·6 + 8 + 3·8 + 3) parameter bytes + checksum
/// assert_eq!(checkpoint::bytes::<f32, Mlp2<f32, 6, 8, 3>, ()>(), 56 + 4 * 83 + 8);
/// ```
#[must_use]
pub const fn bytes<T: Real, N: Params<T>, O: State<T>>() -> usize {
    HEADER_BYTES + (N::LEN + O::SCALARS) * T::BYTES + O::WORDS * 8 + CHECKSUM_BYTES
}

fn shape_hash<T: Real, N: Params<T>, O: State<T>>(net: &N) -> u64 {
    let mut h = fnv1a64(FNV_OFFSET, &(T::BYTES as u64).to_le_bytes());
    for i in 0..N::TENSORS {
        if let Some(info) = N::info(i) {
            let kind: u64 = match info.kind {
                Kind::Weight => 0,
                Kind::Bias => 1,
            };
            for v in [
                kind,
                info.layer as u64,
                info.rows as u64,
                info.cols as u64,
                u64::from(net.is_active(i)),
            ] {
                h = fnv1a64(h, &v.to_le_bytes());
            }
        }
    }
    for v in [u64::from(O::KIND), O::SCALARS as u64, O::WORDS as u64] {
        h = fnv1a64(h, &v.to_le_bytes());
    }
    h
}

/// Writes `net` and `opt` into `buf`; returns the number of bytes written
/// ([`bytes`]).
///
/// # Errors
///
/// [`EgdError::BufferTooSmall`] (nothing written).
pub fn save<T: Real, N: Params<T>, O: State<T>>(
    net: &N,
    opt: &O,
    buf: &mut [u8],
) -> Result<usize, EgdError> {
    let len = bytes::<T, N, O>();
    let got = buf.len();
    let Some(buf) = buf.get_mut(..len) else {
        return Err(EgdError::BufferTooSmall { needed: len, got });
    };
    let mut w = Writer::new(buf);
    w.bytes(&MAGIC);
    w.bytes(&VERSION.to_le_bytes());
    w.bytes(&[T::BYTES as u8, O::KIND]);
    w.bytes(&(N::TENSORS as u32).to_le_bytes());
    for v in [
        N::LEN as u64,
        O::SCALARS as u64,
        O::WORDS as u64,
        shape_hash::<T, N, O>(net),
        len as u64,
    ] {
        w.word(v);
    }
    for i in 0..N::TENSORS {
        w.scalars(net.tensor(i));
    }
    opt.write_state(&mut w);
    let body = len - CHECKSUM_BYTES;
    let sum = fnv1a64(FNV_OFFSET, buf.get(..body).unwrap_or(&[]));
    if let Some(dst) = buf.get_mut(body..) {
        dst.copy_from_slice(&sum.to_le_bytes());
    }
    Ok(len)
}

/// Checks `buf` as a checkpoint for `net`/`opt` without changing either.
///
/// # Errors
///
/// [`CheckpointError::Truncated`] (shorter than its header or its stated
/// length), [`CheckpointError::BadMagic`], [`CheckpointError::UnsupportedVersion`],
/// [`CheckpointError::Corrupted`] (checksum), [`CheckpointError::ShapeMismatch`]
/// (scalar type, tensor shapes, bias switches or optimizer layout differ),
/// [`CheckpointError::InvalidValue`] (a parameter that is not finite, a
/// disabled bias that is not zero, or optimizer state outside its domain,
/// [`State::check_state`]) — checked in that order.
pub fn validate<T: Real, N: Params<T>, O: State<T>>(buf: &[u8], net: &N) -> Result<(), EgdError> {
    let err = |e: CheckpointError| Err(EgdError::Checkpoint(e));
    if buf.len() < MAGIC.len() || buf.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return if buf.len() < MAGIC.len() {
            err(CheckpointError::Truncated)
        } else {
            err(CheckpointError::BadMagic)
        };
    }
    if buf.len() < HEADER_BYTES {
        return err(CheckpointError::Truncated);
    }
    let version = u16::from_le_bytes([buf[8], buf[9]]);
    if version != VERSION {
        return err(CheckpointError::UnsupportedVersion(version));
    }
    let word = |off: usize| buf.get(off..off + 8).map_or(0, read_u64);
    let stated = word(48);
    if stated > buf.len() as u64 {
        return err(CheckpointError::Truncated);
    }
    #[allow(clippy::cast_possible_truncation)]
    let stated = stated as usize;
    if stated < HEADER_BYTES + CHECKSUM_BYTES {
        return err(CheckpointError::Corrupted);
    }
    let body = stated - CHECKSUM_BYTES;
    let sum = fnv1a64(FNV_OFFSET, buf.get(..body).unwrap_or(&[]));
    if sum != word(body) {
        return err(CheckpointError::Corrupted);
    }
    let tensors = buf
        .get(12..16)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let same = buf[10] as usize == T::BYTES
        && buf[11] == O::KIND
        && tensors as usize == N::TENSORS
        && word(16) == N::LEN as u64
        && word(24) == O::SCALARS as u64
        && word(32) == O::WORDS as u64
        && word(40) == shape_hash::<T, N, O>(net)
        && stated == bytes::<T, N, O>();
    if !same {
        return err(CheckpointError::ShapeMismatch);
    }
    check_values::<T, N, O>(buf.get(..body).unwrap_or(&[]), net).map_err(EgdError::Checkpoint)
}

/// Every stored value against its domain: parameters finite (a disabled
/// tensor all zero), then the optimizer state's own invariant.
fn check_values<T: Real, N: Params<T>, O: State<T>>(
    body: &[u8],
    net: &N,
) -> Result<(), CheckpointError> {
    let mut r = Reader {
        buf: body,
        pos: HEADER_BYTES,
    };
    for i in 0..N::TENSORS {
        let len = net.tensor(i).len();
        let name = N::info(i).map_or("parameter", |t| t.name);
        if net.is_active(i) {
            r.check_scalars(len, name, "finite", T::is_finite)?;
        } else {
            r.check_scalars(len, name, "0 (a disabled bias)", |x: T| x == T::ZERO)?;
        }
    }
    O::check_state(&mut r)
}

/// Restores `net` and `opt` from `buf` (see [`validate`] for the checks, all
/// done before anything is written).
///
/// # Errors
///
/// As [`validate`]; `net` and `opt` are untouched on error.
pub fn restore<T: Real, N: Params<T>, O: State<T>>(
    buf: &[u8],
    net: &mut N,
    opt: &mut O,
) -> Result<(), EgdError> {
    validate::<T, N, O>(buf, net)?;
    let mut r = Reader {
        buf,
        pos: HEADER_BYTES,
    };
    for i in 0..N::TENSORS {
        r.scalars(net.tensor_mut(i));
    }
    opt.read_state(&mut r);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_reference() {
        assert_eq!(fnv1a64(FNV_OFFSET, b""), 0xCBF2_9CE4_8422_2325);
        assert_eq!(fnv1a64(FNV_OFFSET, b"a"), 0xAF63_DC4C_8601_EC8C);
        assert_eq!(fnv1a64(FNV_OFFSET, b"foobar"), 0x8594_4171_F739_67E8);
    }
}

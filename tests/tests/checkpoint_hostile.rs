//! Hostile checkpoints and hostile steps (issue 16).
//!
//! A checkpoint whose checksum matches but whose values are NaN, infinite or
//! outside their optimizer's domain is refused with nothing written, for every
//! optimizer the crate offers; a checkpoint that restores round-trips bit for
//! bit, and the step after it either succeeds with every value finite and in
//! its domain or fails with nothing changed. Steps from crafted states that
//! would overflow or go NaN return `Err(NonFinite)` with weights and state
//! bit-for-bit untouched.
//!
//! The oracle is the format's layout and each state's documented domain,
//! written out here independently of `egd-core`'s checks ([`Layout`]).

use egd_core::checkpoint::{self, CHECKSUM_BYTES, FNV_OFFSET, HEADER_BYTES, State, fnv1a64};
use egd_core::nn::{CrossEntropy, Empty, Mlp2, Mlp2Scratch, MultiHot, Params};
use egd_core::optim::{
    AdamW, AdamWConfig, Base, ColumnNorm, Egd, EgdConfig, Grokfast, GrokfastConfig, Layers,
    NoTransform, Optimizer, Sgd, SgdConfig, Transform,
};
use egd_core::rng::SplitMix64;
use egd_core::{CheckpointError, EgdError};
use proptest::prelude::*;
use proptest::sample::Index;

const P: usize = 5;
/// First-layer bias on, output bias disabled (a region that must stay zero).
type Net = Mlp2<f32, { 2 * P }, 16, P>;
/// Workspace for W1 (16×10) and W2 (5×16).
type EgdP = Egd<f32, 10, 16>;
const LEN: usize = <Net as Params<f32>>::LEN;

fn net(seed: u64) -> Net {
    let mut n = Net::zeros(true, false);
    n.init_he(&mut SplitMix64::new(seed));
    n
}

/// The mean CE gradient of minibatch `step` (8 of the 25 pairs).
fn grad_at(net: &Net, step: usize) -> Net {
    let all: [[usize; 2]; P * P] = core::array::from_fn(|i| [i / P, P + i % P]);
    let batch: Vec<[usize; 2]> = (0..8)
        .map(|j| all[(step * 8 + j * 3) % all.len()])
        .collect();
    let mut g = net.zeros_like();
    net.batch_grad(
        &CrossEntropy,
        batch.iter().map(|x| (MultiHot(x), (x[0] + x[1] - P) % P)),
        &mut g,
        &mut Mlp2Scratch::new(),
    )
    .unwrap();
    g
}

fn train<X, B>(net: &mut Net, opt: &mut Optimizer<X, B>, steps: std::ops::Range<usize>)
where
    X: Transform<f32, Net>,
    B: Base<f32, Net>,
{
    for k in steps {
        let mut g = grad_at(net, k);
        opt.step(net, &mut g).unwrap();
    }
}

/// Every parameter and state bit, via a checkpoint.
fn snapshot<O: State<f32>>(net: &Net, opt: &O) -> Vec<u8> {
    let mut buf = vec![0u8; checkpoint::bytes::<f32, Net, O>()];
    checkpoint::save(net, opt, &mut buf).unwrap();
    buf
}

/// Recomputes the checksum after an edit, as a hostile writer would.
fn reseal(buf: &mut [u8]) {
    let body = buf.len() - CHECKSUM_BYTES;
    let sum = fnv1a64(FNV_OFFSET, &buf[..body]);
    buf[body..].copy_from_slice(&sum.to_le_bytes());
}

fn put_f32(buf: &mut [u8], offset: usize, x: f32) {
    buf[offset..offset + 4].copy_from_slice(&x.to_le_bytes());
}

fn get_f32(buf: &[u8], offset: usize) -> f32 {
    f32::from_le_bytes(buf[offset..offset + 4].try_into().unwrap())
}

fn put_u64(buf: &mut [u8], offset: usize, w: u64) {
    buf[offset..offset + 8].copy_from_slice(&w.to_le_bytes());
}

fn get_u64(buf: &[u8], offset: usize) -> u64 {
    u64::from_le_bytes(buf[offset..offset + 8].try_into().unwrap())
}

// ---------------------------------------------------------------------------
// The oracle: the payload layout and each value's domain, from the docs.

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    Finite,
    FiniteNonNegative,
    Zero,
}

impl Rule {
    fn holds(self, x: f32) -> bool {
        match self {
            Self::Finite => x.is_finite(),
            Self::FiniteNonNegative => x.is_finite() && x >= 0.0,
            Self::Zero => x == 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Region {
    /// `len` `f32`s, each obeying the rule.
    Scalars(usize, Rule),
    /// A `u64`: a flag must be 0 or 1 (a counter may be anything); when it
    /// is 0, the `zero_before` scalars just before it must all be zero
    /// (nothing accumulated before the first step).
    Word { flag: bool, zero_before: usize },
}

/// The serialized state of an optimizer component, region by region.
trait Layout {
    fn regions() -> Vec<Region>;
}

impl Layout for Sgd<f32, Empty> {
    fn regions() -> Vec<Region> {
        vec![]
    }
}

impl Layout for Sgd<f32, Net> {
    fn regions() -> Vec<Region> {
        vec![Region::Scalars(LEN, Rule::Finite)]
    }
}

impl Layout for AdamW<f32, Net> {
    fn regions() -> Vec<Region> {
        vec![
            Region::Scalars(LEN, Rule::Finite),
            Region::Scalars(LEN, Rule::FiniteNonNegative),
            Region::Word {
                flag: false,
                zero_before: 2 * LEN,
            },
        ]
    }
}

impl Layout for Grokfast<f32, Net> {
    fn regions() -> Vec<Region> {
        vec![
            Region::Scalars(LEN, Rule::Finite),
            Region::Word {
                flag: true,
                zero_before: LEN,
            },
        ]
    }
}

impl Layout for EgdP {
    fn regions() -> Vec<Region> {
        vec![
            Region::Word {
                flag: true,
                zero_before: 0,
            },
            // The step counter (EGD-RSVD's sketch stream): any value.
            Region::Word {
                flag: false,
                zero_before: 0,
            },
        ]
    }
}

impl Layout for ColumnNorm<f32> {
    fn regions() -> Vec<Region> {
        vec![]
    }
}

impl Layout for NoTransform {
    fn regions() -> Vec<Region> {
        vec![]
    }
}

impl<X: Layout, B: Layout> Layout for Optimizer<X, B> {
    fn regions() -> Vec<Region> {
        let mut r = X::regions();
        r.extend(B::regions());
        r
    }
}

/// Parameters, tensor by tensor (a disabled bias must be zero), then `O`.
fn regions<O: Layout>(net: &Net) -> Vec<(usize, Region)> {
    let mut all: Vec<Region> = (0..Net::TENSORS)
        .map(|i| {
            let rule = if net.is_active(i) {
                Rule::Finite
            } else {
                Rule::Zero
            };
            Region::Scalars(net.tensor(i).len(), rule)
        })
        .collect();
    all.extend(O::regions());
    let mut offset = HEADER_BYTES;
    all.into_iter()
        .map(|r| {
            let start = offset;
            offset += match r {
                Region::Scalars(len, _) => 4 * len,
                Region::Word { .. } => 8,
            };
            (start, r)
        })
        .collect()
}

/// Byte offset of the first value outside its domain, in stream order (a
/// word's zero rule is checked when the word is reached).
fn first_violation(buf: &[u8], regions: &[(usize, Region)]) -> Option<usize> {
    for &(start, r) in regions {
        match r {
            Region::Scalars(len, rule) => {
                if let Some(k) = (0..len).find(|k| !rule.holds(get_f32(buf, start + 4 * k))) {
                    return Some(start + 4 * k);
                }
            }
            Region::Word { flag, zero_before } => {
                let w = get_u64(buf, start);
                if flag && w > 1 {
                    return Some(start);
                }
                if w == 0 {
                    let first = start - 4 * zero_before;
                    if let Some(k) = (0..zero_before).find(|k| get_f32(buf, first + 4 * k) != 0.0) {
                        return Some(first + 4 * k);
                    }
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Payload mutations.

#[derive(Clone, Debug)]
struct Mutation {
    region: Index,
    element: Index,
    scalar: f32,
    word: u64,
}

fn hostile_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(f32::from_bits(0xFFC0_0001)), // negative quiet NaN with a payload
        Just(f32::from_bits(0x7F80_0001)), // signalling NaN
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MAX),
        Just(-f32::MAX),
        Just(-0.0f32),
        Just(-1e-30f32),
        Just(f32::from_bits(1)), // smallest subnormal
        -1e3f32..1e3f32,
        any::<u32>().prop_map(f32::from_bits),
    ]
}

fn hostile_word() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1), Just(2), Just(u64::MAX), any::<u64>()]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(
        (
            any::<Index>(),
            any::<Index>(),
            hostile_f32(),
            hostile_word(),
        )
            .prop_map(|(region, element, scalar, word)| Mutation {
                region,
                element,
                scalar,
                word,
            }),
        1..=3,
    )
}

fn mutate(buf: &mut [u8], regions: &[(usize, Region)], muts: &[Mutation]) {
    for m in muts {
        let (start, r) = regions[m.region.index(regions.len())];
        match r {
            Region::Scalars(0, _) => {}
            Region::Scalars(len, _) => put_f32(buf, start + 4 * m.element.index(len), m.scalar),
            Region::Word { .. } => put_u64(buf, start, m.word),
        }
    }
    reseal(buf);
}

/// The property, for one optimizer: a trained source checkpoint with its
/// payload mutated (checksum recomputed) is refused at exactly the first
/// out-of-domain value with the target untouched; otherwise it restores,
/// saves back to the same bytes, and the next step is `Ok` with everything
/// finite and in its domain, or an error with nothing changed.
fn hostile_payload<X, B>(
    make: fn(&Net) -> Optimizer<X, B>,
    muts: &[Mutation],
) -> Result<(), TestCaseError>
where
    X: Transform<f32, Net> + State<f32> + Layout,
    B: Base<f32, Net> + State<f32> + Layout,
{
    let mut p = net(40);
    let mut opt = make(&p);
    train(&mut p, &mut opt, 0..3);
    let mut buf = snapshot(&p, &opt);
    let layout = regions::<Optimizer<X, B>>(&p);
    prop_assert_eq!(first_violation(&buf, &layout), None);
    mutate(&mut buf, &layout, muts);
    let want = first_violation(&buf, &layout);

    let mut q = net(41);
    let mut opt2 = make(&q);
    train(&mut q, &mut opt2, 0..2);
    let target = snapshot(&q, &opt2);
    let validated = checkpoint::validate::<f32, Net, Optimizer<X, B>>(&buf, &q);
    let restored = checkpoint::restore(&buf, &mut q, &mut opt2);
    prop_assert_eq!(validated, restored);
    match want {
        Some(offset) => {
            prop_assert!(
                matches!(
                    restored,
                    Err(EgdError::Checkpoint(CheckpointError::InvalidValue { offset: o, .. }))
                        if o == offset
                ),
                "want InvalidValue at byte {}, got {:?}",
                offset,
                restored
            );
            prop_assert_eq!(snapshot(&q, &opt2), target);
        }
        None => {
            prop_assert_eq!(restored, Ok(()));
            prop_assert_eq!(&snapshot(&q, &opt2), &buf);
            let mut g = grad_at(&p, 3);
            match opt2.step(&mut q, &mut g) {
                Ok(_) => {
                    let after = snapshot(&q, &opt2);
                    prop_assert_eq!(first_violation(&after, &layout), None);
                }
                Err(e) => {
                    prop_assert!(
                        matches!(e, EgdError::NonFinite | EgdError::NotConverged { .. }),
                        "{:?}",
                        e
                    );
                    prop_assert_eq!(snapshot(&q, &opt2), buf);
                }
            }
        }
    }
    Ok(())
}

fn sgd_plain(_: &Net) -> Optimizer<NoTransform, Sgd<f32>> {
    Optimizer::new(NoTransform, Sgd::new(SgdConfig::paper()).unwrap())
}

fn sgd_cfg(nesterov: bool) -> SgdConfig<f32> {
    SgdConfig::default()
        .with_lr(0.1)
        .with_momentum(0.9)
        .with_nesterov(nesterov)
        .with_weight_decay(1e-3)
        .with_decoupled_weight_decay(1e-3)
}

fn momentum(p: &Net) -> Sgd<f32, Net> {
    Sgd::with_momentum(sgd_cfg(false), p).unwrap()
}

fn adamw(p: &Net) -> AdamW<f32, Net> {
    AdamW::new(AdamWConfig::default().with_lr(1e-2).with_l2(1e-4), p).unwrap()
}

fn grokfast(p: &Net) -> Grokfast<f32, Net> {
    Grokfast::new(GrokfastConfig::default(), p).unwrap()
}

fn egd() -> EgdP {
    EgdP::new(EgdConfig::default().with_layers(Layers::All))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn hostile_payload_sgd(muts in mutations()) {
        hostile_payload(sgd_plain, &muts)?;
    }

    #[test]
    fn hostile_payload_sgd_momentum(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(NoTransform, momentum(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_sgd_nesterov(muts in mutations()) {
        hostile_payload(
            |p| Optimizer::new(NoTransform, Sgd::with_momentum(sgd_cfg(true), p).unwrap()),
            &muts,
        )?;
    }

    #[test]
    fn hostile_payload_adamw(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(NoTransform, adamw(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_grokfast_sgd(muts in mutations()) {
        hostile_payload(
            |p| Optimizer::new(grokfast(p), Sgd::new(SgdConfig::default()).unwrap()),
            &muts,
        )?;
    }

    #[test]
    fn hostile_payload_grokfast_momentum(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(grokfast(p), momentum(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_grokfast_adamw(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(grokfast(p), adamw(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_egd_sgd(muts in mutations()) {
        hostile_payload(
            |_| Optimizer::new(egd(), Sgd::new(SgdConfig::paper()).unwrap()),
            &muts,
        )?;
    }

    #[test]
    fn hostile_payload_egd_momentum(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(egd(), momentum(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_egd_adamw(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(egd(), adamw(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_column_norm_sgd(muts in mutations()) {
        hostile_payload(
            |_| Optimizer::new(ColumnNorm::default(), Sgd::new(SgdConfig::default()).unwrap()),
            &muts,
        )?;
    }

    #[test]
    fn hostile_payload_column_norm_momentum(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(ColumnNorm::default(), momentum(p)), &muts)?;
    }

    #[test]
    fn hostile_payload_column_norm_adamw(muts in mutations()) {
        hostile_payload(|p| Optimizer::new(ColumnNorm::default(), adamw(p)), &muts)?;
    }

    /// Any byte anywhere (header included), checksum recomputed: never a
    /// panic; an error leaves the target untouched, a success round-trips.
    #[test]
    fn hostile_bytes_anywhere(edits in prop::collection::vec((any::<Index>(), any::<u8>()), 1..=4)) {
        type O = Optimizer<Grokfast<f32, Net>, AdamW<f32, Net>>;
        let mut p = net(42);
        let mut opt: O = Optimizer::new(grokfast(&p), adamw(&p));
        train(&mut p, &mut opt, 0..3);
        let mut buf = snapshot(&p, &opt);
        let body = buf.len() - CHECKSUM_BYTES;
        for (at, byte) in &edits {
            buf[at.index(body)] = *byte;
        }
        reseal(&mut buf);
        let mut q = net(43);
        let mut opt2: O = Optimizer::new(grokfast(&q), adamw(&q));
        let target = snapshot(&q, &opt2);
        match checkpoint::restore(&buf, &mut q, &mut opt2) {
            Ok(()) => prop_assert_eq!(snapshot(&q, &opt2), buf),
            Err(_) => prop_assert_eq!(snapshot(&q, &opt2), target),
        }
    }
}

// ---------------------------------------------------------------------------
// The two paths of the issue, and every state's named error.

/// Source `(p, opt)` after three steps and its checkpoint.
fn trained<X, B>(make: fn(&Net) -> Optimizer<X, B>) -> (Net, Optimizer<X, B>, Vec<u8>)
where
    X: Transform<f32, Net> + State<f32>,
    B: Base<f32, Net> + State<f32>,
{
    let mut p = net(44);
    let mut opt = make(&p);
    train(&mut p, &mut opt, 0..3);
    let buf = snapshot(&p, &opt);
    (p, opt, buf)
}

/// Offset of state scalar `k` after the parameters and `skip_words` words.
fn state_scalar(k: usize, skip_words: usize) -> usize {
    HEADER_BYTES + 4 * (LEN + k) + 8 * skip_words
}

/// Edits `buf` with `edit`, reseals it, and expects `restore` to fail with
/// `InvalidValue { field, expected, offset }` and leave a fresh target as it was.
fn refused<X, B>(
    make: fn(&Net) -> Optimizer<X, B>,
    buf: &[u8],
    edit: impl FnOnce(&mut [u8]),
    field: &str,
    expected: &str,
    offset: usize,
) where
    X: Transform<f32, Net> + State<f32>,
    B: Base<f32, Net> + State<f32>,
{
    let mut bad = buf.to_vec();
    edit(&mut bad);
    reseal(&mut bad);
    let mut q = net(45);
    let mut opt = make(&q);
    let target = snapshot(&q, &opt);
    let got = checkpoint::restore(&bad, &mut q, &mut opt);
    match got {
        Err(EgdError::Checkpoint(CheckpointError::InvalidValue {
            field: f,
            expected: e,
            offset: o,
        })) => assert_eq!((f, e, o), (field, expected, offset)),
        other => panic!("want InvalidValue({field}), got {other:?}"),
    }
    assert_eq!(snapshot(&q, &opt), target, "{field}: target changed");
    assert_eq!(
        got.unwrap_err().to_string(),
        format!("checkpoint rejected: {field} at byte {offset} is not {expected}")
    );
}

#[test]
fn issue16_nan_weight_with_a_valid_checksum_is_refused() {
    let (_, _, buf) = trained(sgd_plain);
    for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        refused(
            sgd_plain,
            &buf,
            |b| put_f32(b, HEADER_BYTES, x),
            "l1.weight",
            "finite",
            HEADER_BYTES,
        );
    }
    // The last bias scalar of the first layer (tensor 1).
    let at = HEADER_BYTES + 4 * (16 * 10 + 15);
    refused(
        sgd_plain,
        &buf,
        |b| put_f32(b, at, f32::NAN),
        "l1.bias",
        "finite",
        at,
    );
    // The output layer's bias is disabled: it must stay zero.
    let at = HEADER_BYTES + 4 * (16 * 10 + 16 + 5 * 16);
    refused(
        sgd_plain,
        &buf,
        |b| put_f32(b, at, 0.5),
        "l2.bias",
        "0 (a disabled bias)",
        at,
    );
}

#[test]
fn issue16_negative_second_moment_is_refused_at_restore() {
    let make = |p: &Net| Optimizer::new(NoTransform, adamw(p));
    let (_, _, buf) = trained(make);
    // v starts after m (LEN scalars).
    let at = state_scalar(LEN + 7, 0);
    refused(
        make,
        &buf,
        |b| put_f32(b, at, -1.0),
        "AdamW second moment",
        "finite and >= 0",
        at,
    );
    // −0 is a zero, and allowed.
    let mut ok = buf.clone();
    put_f32(&mut ok, at, -0.0);
    reseal(&mut ok);
    let mut q = net(46);
    let mut opt = make(&q);
    checkpoint::restore(&ok, &mut q, &mut opt).unwrap();
    let mut g = grad_at(&q, 3);
    opt.step(&mut q, &mut g).unwrap();
    assert!(q.is_finite());
}

#[test]
fn every_state_names_its_violation() {
    // SGD momentum.
    let make = |p: &Net| Optimizer::new(NoTransform, momentum(p));
    let (_, _, buf) = trained(make);
    let at = state_scalar(3, 0);
    refused(
        make,
        &buf,
        |b| put_f32(b, at, f32::INFINITY),
        "SGD momentum",
        "finite",
        at,
    );

    // AdamW: first moment, and the step counter set back to 0 with moments kept.
    let make = |p: &Net| Optimizer::new(NoTransform, adamw(p));
    let (_, _, buf) = trained(make);
    let at = state_scalar(0, 0);
    refused(
        make,
        &buf,
        |b| put_f32(b, at, f32::NAN),
        "AdamW first moment",
        "finite",
        at,
    );
    let first_nonzero = (0..2 * LEN)
        .map(|k| state_scalar(k, 0))
        .find(|&o| get_f32(&buf, o) != 0.0)
        .unwrap();
    refused(
        make,
        &buf,
        |b| put_u64(b, state_scalar(2 * LEN, 0), 0),
        "AdamW moment at step 0",
        "0 (no step taken yet)",
        first_nonzero,
    );

    // Grokfast: EMA, flag, and "not started" with a nonzero EMA.
    let make = |p: &Net| Optimizer::new(grokfast(p), Sgd::new(SgdConfig::default()).unwrap());
    let (_, _, buf) = trained(make);
    let at = state_scalar(LEN - 1, 0);
    refused(
        make,
        &buf,
        |b| put_f32(b, at, f32::NEG_INFINITY),
        "Grokfast EMA",
        "finite",
        at,
    );
    let flag = state_scalar(LEN, 0);
    refused(
        make,
        &buf,
        |b| put_u64(b, flag, 2),
        "Grokfast started flag",
        "0 or 1",
        flag,
    );
    let first_nonzero = (0..LEN)
        .map(|k| state_scalar(k, 0))
        .find(|&o| get_f32(&buf, o) != 0.0)
        .unwrap();
    refused(
        make,
        &buf,
        |b| put_u64(b, flag, 0),
        "Grokfast EMA before the first step",
        "0",
        first_nonzero,
    );

    // EGD's switch-off flag (the transform's words come before the base's state).
    let make = |p: &Net| Optimizer::new(egd(), momentum(p));
    let (_, _, buf) = trained(make);
    let flag = state_scalar(0, 0);
    refused(
        make,
        &buf,
        |b| put_u64(b, flag, u64::MAX),
        "EGD switch-off flag",
        "0 or 1",
        flag,
    );
    // …and the momentum after its two words.
    let at = state_scalar(5, 2);
    refused(
        make,
        &buf,
        |b| put_f32(b, at, f32::NAN),
        "SGD momentum",
        "finite",
        at,
    );
}

#[test]
fn fresh_state_restores() {
    // t = 0 with zero moments and an unstarted Grokfast are in the domain.
    type O = Optimizer<Grokfast<f32, Net>, AdamW<f32, Net>>;
    let p = net(47);
    let opt: O = Optimizer::new(grokfast(&p), adamw(&p));
    let buf = snapshot(&p, &opt);
    let mut q = net(48);
    let mut opt2: O = Optimizer::new(grokfast(&q), adamw(&q));
    train(&mut q, &mut opt2, 0..2);
    checkpoint::restore(&buf, &mut q, &mut opt2).unwrap();
    assert_eq!(snapshot(&q, &opt2), buf);
    assert_eq!(opt2.base.steps(), 0);
    assert!(!opt2.transform.started());
}

// ---------------------------------------------------------------------------
// In-domain states that would overflow on the next step.

/// Restores `buf` with `edit` applied (it must be accepted: the state is in
/// its domain), then steps with `grad`: `Err(NonFinite)` with weights and
/// state bit-for-bit as restored.
fn overflows_on_next_step<X, B>(
    make: fn(&Net) -> Optimizer<X, B>,
    buf: &[u8],
    edit: impl FnOnce(&mut [u8]),
    grad: &Net,
) where
    X: Transform<f32, Net> + State<f32>,
    B: Base<f32, Net> + State<f32>,
{
    let mut crafted = buf.to_vec();
    edit(&mut crafted);
    reseal(&mut crafted);
    let mut q = net(49);
    let mut opt = make(&q);
    checkpoint::restore(&crafted, &mut q, &mut opt).expect("in-domain state restores");
    let mut g = (*grad).clone();
    assert_eq!(opt.step(&mut q, &mut g), Err(EgdError::NonFinite));
    assert_eq!(snapshot(&q, &opt), crafted);
}

#[test]
fn adamw_huge_first_moment_over_tiny_second_moment_is_refused_at_step() {
    // No coupled L2, so a zero gradient element stays zero.
    let make = |p: &Net| {
        let cfg = AdamWConfig::default().with_lr(1e-2);
        Optimizer::new(NoTransform, AdamW::new(cfg, p).unwrap())
    };
    let (p, _, buf) = trained(make);
    let mut g = grad_at(&p, 3);
    g.l1.w[(1, 0)] = 0.0;
    // Element 10 = W1[1, 0]: m' / (√v' / √(1−β2ᵗ) + ε) with m = 1e33 and v
    // the smallest subnormal is 0.9e33 / ~1e-8 → ∞.
    overflows_on_next_step(
        make,
        &buf,
        |b| {
            put_f32(b, state_scalar(10, 0), 1e33);
            put_f32(b, state_scalar(LEN + 10, 0), f32::from_bits(1));
        },
        &g,
    );
    let g = grad_at(&p, 3);
    // m at the float limit, v = 0.
    overflows_on_next_step(
        make,
        &buf,
        |b| {
            put_f32(b, state_scalar(0, 0), -f32::MAX);
            put_f32(b, state_scalar(LEN, 0), 0.0);
        },
        &g,
    );
    // v at the float limit: β2·v + (1−β2)·g² overflows for a large gradient.
    let mut big = g;
    big.l1.w[(2, 3)] = 1e20;
    overflows_on_next_step(
        make,
        &buf,
        |b| put_f32(b, state_scalar(LEN + 2 * 10 + 3, 0), f32::MAX),
        &big,
    );
}

#[test]
fn momentum_near_the_float_limit_is_refused_at_step() {
    let make = |p: &Net| {
        let cfg = sgd_cfg(false).with_lr(2.0);
        Optimizer::new(NoTransform, Sgd::with_momentum(cfg, p).unwrap())
    };
    let (p, _, buf) = trained(make);
    let g = grad_at(&p, 3);
    // v' = 0.9·MAX + g, w' = w − 2·v' → −∞.
    overflows_on_next_step(make, &buf, |b| put_f32(b, state_scalar(0, 0), f32::MAX), &g);
    // Nesterov: d = g + μ·v' overflows on its own at lr = 2 as well.
    let make = |p: &Net| {
        let cfg = sgd_cfg(true).with_lr(2.0);
        Optimizer::new(NoTransform, Sgd::with_momentum(cfg, p).unwrap())
    };
    let (p, _, buf) = trained(make);
    overflows_on_next_step(
        make,
        &buf,
        |b| put_f32(b, state_scalar(7, 0), -f32::MAX),
        &grad_at(&p, 3),
    );
    // EGD's direction is bounded, but the momentum behind it is not.
    let make = |p: &Net| {
        let cfg = sgd_cfg(false).with_lr(2.0);
        Optimizer::new(egd(), Sgd::with_momentum(cfg, p).unwrap())
    };
    let (p, _, buf) = trained(make);
    overflows_on_next_step(
        make,
        &buf,
        |b| put_f32(b, state_scalar(0, 2), f32::MAX),
        &grad_at(&p, 3),
    );
}

#[test]
fn grokfast_ema_near_the_float_limit_is_refused_at_step() {
    let make = |p: &Net| Optimizer::new(grokfast(p), Sgd::new(SgdConfig::default()).unwrap());
    let (p, _, buf) = trained(make);
    // g + λ·(α·MAX + (1 − α)·g) with λ = 2 → ∞: the EMA, the started flag and
    // the weights all stay as restored.
    overflows_on_next_step(
        make,
        &buf,
        |b| put_f32(b, state_scalar(4, 0), f32::MAX),
        &grad_at(&p, 3),
    );
}

#[test]
fn weights_near_the_float_limit_are_refused_at_step() {
    let (p, _, buf) = trained(sgd_plain);
    // w' = MAX − 0.7·g with g = −1e35 → ∞.
    let mut g = grad_at(&p, 3);
    g.l1.w[(0, 0)] = -1e35;
    overflows_on_next_step(sgd_plain, &buf, |b| put_f32(b, HEADER_BYTES, f32::MAX), &g);
}

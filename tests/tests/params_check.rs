//! `check_params` and `dense_params!`: every shipped and macro-derived
//! `Params` impl passes, and every single-point corruption of a correct impl
//! (wrong storage, order, layer, shape, name, kind, switch or visit) fails.

use std::cell::Cell;

use egd_core::dense_params;
use egd_core::nn::{
    Dense, Kind, Mlp2, Mlp3, Params, ParamsDefect, TensorInfo, WeightVisitor, check_params,
};
use egd_core::rng::{Init, SplitMix64};
use egd_core::{EgdError, Matrix, Real};
use proptest::prelude::*;

/// A user-style network of five layers with two equal shapes (so field
/// mix-ups would type-check), derived by the macro.
struct Deep<T, const W: usize> {
    input: Dense<T, 5, W>,
    a: Dense<T, W, W>,
    b: Dense<T, W, W>,
    c: Dense<T, W, 3>,
    out: Dense<T, 3, 2>,
}
dense_params!(impl[T: Real, const W: usize] Params<T> for Deep<T, W> { input, a, b, c, out });

/// A non-generic user network, through the macro's first form.
struct Tiny {
    only: Dense<f32, 2, 1>,
}
dense_params!(impl Params<f32> for Tiny { only });

fn deep<T: Real, const W: usize>(bias: [bool; 5], seed: u64) -> Deep<T, W> {
    let mut net = Deep {
        input: Dense::zeros(bias[0]),
        a: Dense::zeros(bias[1]),
        b: Dense::zeros(bias[2]),
        c: Dense::zeros(bias[3]),
        out: Dense::zeros(bias[4]),
    };
    let mut rng = SplitMix64::new(seed);
    let n = Init::Normal { std: 1.0 };
    net.input.init(n, n, &mut rng);
    net.a.init(n, n, &mut rng);
    net.b.init(n, n, &mut rng);
    net.c.init(n, n, &mut rng);
    net.out.init(n, n, &mut rng);
    net
}

#[test]
fn macro_layout_is_field_order() {
    type D = Deep<f64, 4>;
    assert_eq!(D::TENSORS, 10);
    assert_eq!(
        D::LEN,
        (4 * 5 + 4) + 2 * (4 * 4 + 4) + (3 * 4 + 3) + (2 * 3 + 2)
    );
    assert_eq!(D::BYTES, size_of::<D>());
    let names: Vec<_> = (0..D::TENSORS).map(|i| D::info(i).unwrap().name).collect();
    assert_eq!(
        names,
        [
            "input.weight",
            "input.bias",
            "a.weight",
            "a.bias",
            "b.weight",
            "b.bias",
            "c.weight",
            "c.bias",
            "out.weight",
            "out.bias"
        ]
    );
    let c = D::info(6).unwrap();
    assert_eq!((c.kind, c.layer, c.rows, c.cols), (Kind::Weight, 3, 3, 4));
    assert_eq!(D::info(10), None);
    let net = deep::<f64, 4>([true, false, true, false, true], 1);
    assert_eq!(net.tensor(4), net.b.w.as_slice());
    assert_eq!(net.tensor(9), &net.out.b[..]);
    assert!(!net.is_active(3) && net.is_active(5));
    assert_eq!(Tiny::TENSORS, 2);
    assert_eq!(
        check_params(&Tiny {
            only: Dense::zeros(true)
        }),
        Ok(())
    );
}

/// The macro's `Params` impls of `Mlp2`/`Mlp3` keep the tensor table they
/// had when written by hand (checkpoints and reports depend on it).
#[test]
fn mlp_tensor_tables_are_unchanged() {
    type M2 = Mlp2<f32, 6, 8, 3>;
    type M3 = Mlp3<f32, 4, 5, 3, 2>;
    let table = |info: fn(usize) -> Option<TensorInfo>, n: usize| -> Vec<_> {
        (0..n)
            .map(|i| info(i).map(|t| (t.name, t.kind, t.layer, t.rows, t.cols)))
            .collect()
    };
    use Kind::{Bias as B, Weight as W};
    assert_eq!(
        table(M2::info, 5),
        [
            Some(("l1.weight", W, 0, 8, 6)),
            Some(("l1.bias", B, 0, 8, 1)),
            Some(("l2.weight", W, 1, 3, 8)),
            Some(("l2.bias", B, 1, 3, 1)),
            None
        ]
    );
    assert_eq!(
        table(M3::info, 7),
        [
            Some(("l1.weight", W, 0, 5, 4)),
            Some(("l1.bias", B, 0, 5, 1)),
            Some(("l2.weight", W, 1, 3, 5)),
            Some(("l2.bias", B, 1, 3, 1)),
            Some(("l3.weight", W, 2, 2, 3)),
            Some(("l3.bias", B, 2, 2, 1)),
            None
        ]
    );
    assert_eq!((M2::LEN, M3::LEN), (M2::PARAMS, M3::PARAMS));
}

/// One corruption of an otherwise correct impl (tensor indices `0..6`,
/// visit indices `0..3`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mutation {
    None,
    /// `tensor_mut(i)` and `tensor_mut(j)` exchanged.
    SwapMut(usize, usize),
    /// `tensor(i)` reads tensor `j`.
    AliasRead(usize, usize),
    /// `info(i).layer` is `l` (not its layer).
    Layer(usize, usize),
    /// `info(i).rows` is one more.
    Rows(usize),
    /// `info(i).name` is tensor `j`'s.
    Name(usize, usize),
    /// `info(i).kind` is the other kind.
    Kind(usize),
    /// Visit `k` is left out.
    SkipVisit(usize),
    /// Visit `k` passes layer `l` (not `k`).
    VisitLayer(usize, usize),
    /// Visit `k` passes a copy of the matrix.
    VisitCopy(usize),
    /// `zeros_like` flips layer `k`'s bias switch.
    FlipSwitch(usize),
    /// `is_active(TENSORS)` is `true`.
    ActivePastEnd,
}

thread_local! {
    /// `info` has no `self`: the mutation under test lives here.
    static MUTATION: Cell<Mutation> = const { Cell::new(Mutation::None) };
}

fn mutation() -> Mutation {
    MUTATION.with(Cell::get)
}

type Inner = Mlp3<f64, 3, 4, 4, 2>;

/// `Inner` with a hand-written impl that applies [`MUTATION`].
struct Mutant(Inner);

impl Params<f64> for Mutant {
    const TENSORS: usize = Inner::TENSORS;
    const LEN: usize = Inner::LEN;
    const BYTES: usize = size_of::<Self>();

    fn info(i: usize) -> Option<TensorInfo> {
        let mut t = Inner::info(i)?;
        match mutation() {
            Mutation::Layer(m, l) if m == i => t.layer = l,
            Mutation::Rows(m) if m == i => t.rows += 1,
            Mutation::Name(m, j) if m == i => t.name = Inner::info(j)?.name,
            Mutation::Kind(m) if m == i => {
                t.kind = match t.kind {
                    Kind::Weight => Kind::Bias,
                    Kind::Bias => Kind::Weight,
                }
            }
            _ => {}
        }
        Some(t)
    }
    fn is_active(&self, i: usize) -> bool {
        (i == Self::TENSORS && mutation() == Mutation::ActivePastEnd) || self.0.is_active(i)
    }
    fn tensor(&self, i: usize) -> &[f64] {
        match mutation() {
            Mutation::AliasRead(m, j) if m == i => self.0.tensor(j),
            _ => self.0.tensor(i),
        }
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [f64] {
        match mutation() {
            Mutation::SwapMut(a, b) if a == i => self.0.tensor_mut(b),
            Mutation::SwapMut(a, b) if b == i => self.0.tensor_mut(a),
            _ => self.0.tensor_mut(i),
        }
    }
    fn zeros_like(&self) -> Self {
        let mut z = Params::zeros_like(&self.0);
        if let Mutation::FlipSwitch(k) = mutation() {
            let layer = [&mut z.l1.bias, &mut z.l2.bias, &mut z.l3.bias];
            if let Some(b) = layer.into_iter().nth(k) {
                *b = !*b;
            }
        }
        Self(z)
    }
    fn visit_weights_mut<V: WeightVisitor<f64>>(&mut self, v: &mut V) -> Result<(), EgdError> {
        let m = mutation();
        visit(v, 0, &mut self.0.l1.w, m)?;
        visit(v, 1, &mut self.0.l2.w, m)?;
        visit(v, 2, &mut self.0.l3.w, m)
    }
}

fn visit<V: WeightVisitor<f64>, const R: usize, const C: usize>(
    v: &mut V,
    k: usize,
    w: &mut Matrix<f64, R, C>,
    m: Mutation,
) -> Result<(), EgdError> {
    match m {
        Mutation::SkipVisit(s) if s == k => Ok(()),
        Mutation::VisitLayer(s, l) if s == k => v.visit(l, w),
        Mutation::VisitCopy(s) if s == k => v.visit(k, &mut Clone::clone(w)),
        _ => v.visit(k, w),
    }
}

fn mutant(bias: [bool; 3], seed: u64) -> Mutant {
    let mut net = Inner::zeros(false, false);
    net.l1.bias = bias[0];
    net.l2.bias = bias[1];
    net.l3.bias = bias[2];
    let n = Init::Normal { std: 1.0 };
    let mut rng = SplitMix64::new(seed);
    net.l1.init(n, n, &mut rng);
    net.l2.init(n, n, &mut rng);
    net.l3.init(n, n, &mut rng);
    Mutant(net)
}

/// The layer tensor `i` of `Inner` is in.
fn layer_of(i: usize) -> usize {
    i / 2
}

fn corruption() -> impl Strategy<Value = Mutation> {
    let pair = (0usize..6, 0usize..6).prop_filter("distinct", |(i, j)| i != j);
    prop_oneof![
        pair.clone().prop_map(|(i, j)| Mutation::SwapMut(i, j)),
        pair.clone().prop_map(|(i, j)| Mutation::AliasRead(i, j)),
        (0usize..6, 0usize..4)
            .prop_filter("another layer", |&(i, l)| l != layer_of(i))
            .prop_map(|(i, l)| Mutation::Layer(i, l)),
        (0usize..6).prop_map(Mutation::Rows),
        pair.prop_map(|(i, j)| Mutation::Name(i, j)),
        (0usize..6).prop_map(Mutation::Kind),
        (0usize..3).prop_map(Mutation::SkipVisit),
        (0usize..3, 0usize..4)
            .prop_filter("another layer", |(k, l)| k != l)
            .prop_map(|(k, l)| Mutation::VisitLayer(k, l)),
        (0usize..3).prop_map(Mutation::VisitCopy),
        (0usize..3).prop_map(Mutation::FlipSwitch),
        Just(Mutation::ActivePastEnd),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The shipped networks and macro-derived ones pass, whatever the bias
    /// switches and weights.
    #[test]
    fn correct_impls_pass(bias in any::<[bool; 5]>(), seed in any::<u64>()) {
        prop_assert_eq!(check_params(&deep::<f64, 4>(bias, seed)), Ok(()));
        prop_assert_eq!(check_params(&deep::<f32, 1>(bias, seed)), Ok(()));
        let mut m2 = Mlp2::<f32, 6, 8, 3>::zeros(bias[0], bias[1]);
        m2.init_he(&mut SplitMix64::new(seed));
        prop_assert_eq!(check_params(&m2), Ok(()));
        let mut m3 = Mlp3::<f64, 4, 5, 3, 2>::zeros(bias[2], bias[3]);
        m3.init_he(&mut SplitMix64::new(seed));
        prop_assert_eq!(check_params(&m3), Ok(()));
        MUTATION.with(|m| m.set(Mutation::None));
        prop_assert_eq!(check_params(&mutant([bias[0], bias[1], bias[4]], seed)), Ok(()));
    }

    /// Every corruption is reported, never passed.
    #[test]
    fn every_corruption_is_caught(
        m in corruption(),
        bias in any::<[bool; 3]>(),
        seed in any::<u64>(),
    ) {
        MUTATION.with(|c| c.set(m));
        let got = check_params(&mutant(bias, seed));
        MUTATION.with(|c| c.set(Mutation::None));
        prop_assert!(got.is_err(), "{:?} passed", m);
    }
}

/// A few corruptions and the defect each is reported as.
#[test]
fn corruptions_are_named() {
    let cases = [
        (
            Mutation::SkipVisit(2),
            ParamsDefect::MissedWeight { tensor: 4 },
        ),
        (
            Mutation::VisitCopy(1),
            ParamsDefect::VisitStorage { tensor: 2 },
        ),
        (
            Mutation::Layer(3, 2),
            ParamsDefect::LayerOrder { tensor: 3 },
        ),
        (
            Mutation::Name(5, 1),
            ParamsDefect::DuplicateName {
                tensor: 5,
                first: 1,
            },
        ),
        (
            Mutation::SwapMut(1, 3),
            ParamsDefect::SharedStorage { tensor: 1 },
        ),
        (
            Mutation::FlipSwitch(0),
            ParamsDefect::ZerosLike { tensor: 1 },
        ),
        (Mutation::ActivePastEnd, ParamsDefect::PastEnd),
    ];
    for (m, want) in cases {
        MUTATION.with(|c| c.set(m));
        let got = check_params(&mutant([true; 3], 9));
        MUTATION.with(|c| c.set(Mutation::None));
        assert_eq!(got, Err(want), "{m:?}");
    }
}

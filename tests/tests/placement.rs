//! Where the big values live: a paper-size model trains on the default
//! test-thread stack (everything network-sized boxed, zeroed in place), every
//! optimizer, network, scratch and workspace type is `const`-constructible
//! into a `static`, and EGD on a lent workspace takes the same steps, bit for
//! bit, as EGD on its own.
//!
//! No `RUST_MIN_STACK` and no big-stack thread here: these tests run as a
//! downstream user's would, on the harness's default 2 MiB threads.

use egd_core::nn::{
    CrossEntropy, Empty, Mlp2, Mlp2BlockScratch, Mlp2Scratch, Mlp3, Mlp3Scratch, MultiHot, Params,
};
use egd_core::optim::{
    AdamW, AdamWConfig, ColumnNorm, ColumnNormConfig, Egd, EgdConfig, Grokfast, GrokfastConfig,
    Layers, NoTransform, Optimizer, Sgd, SgdConfig,
};
use egd_core::rng::SplitMix64;
use egd_core::rsvd::RsvdWorkspace;
use egd_core::svd::SvdWorkspace;
use std::sync::Mutex;

/// The paper's modular-arithmetic model, p = 127.
type Paper = Mlp2<f32, 254, 512, 127>;

fn paper_batch() -> Vec<([usize; 2], usize)> {
    (0..128)
        .map(|i| {
            let (a, b) = (i % 127, (i * 31 + 5) % 127);
            ([a, 127 + b], (a + b) % 127)
        })
        .collect()
}

#[test]
fn paper_size_egd_training_on_the_default_stack() {
    const { assert!(Paper::BYTES > 700_000) }; // the sizes that used to need a 256 MiB stack
    let mut net = Box::<Paper>::default(); // zeros written straight into the allocation
    net.reset(true, false);
    net.init_he(&mut SplitMix64::new(127));
    let mut grad = Box::<Paper>::default(); // batch_grad sets its bias switches
    let mut scratch = Box::<Mlp2BlockScratch<f32, 512, 127, 8>>::default();
    let sgd = Sgd::new(SgdConfig::paper()).unwrap();
    let mut opt = Box::new(Optimizer::new(
        Egd::<f32, 254, 512>::new(EgdConfig::paper()),
        sgd,
    ));
    let batch = paper_batch();
    let data = || batch.iter().map(|(x, y)| (MultiHot(x), *y));
    let first = net.evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new());
    let first = first.unwrap().loss;
    for _ in 0..3 {
        net.batch_grad_blocked(&CrossEntropy, data(), &mut grad, &mut scratch)
            .unwrap();
        let info = opt.step(&mut *net, &mut *grad).unwrap();
        let w1 = info.polar[0].expect("EGD whitened W1");
        assert!(w1.rank > 0 && w1.sweeps > 0, "{w1:?}");
        assert!(info.polar[1].is_none()); // the paper's policy: first layer only
    }
    assert!(net.is_finite());
    assert_eq!(opt.transform.steps(), 3);
    let last = net.evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new());
    let last = last.unwrap().loss;
    assert!(
        last < first,
        "three EGD steps on one batch: loss {first} -> {last}"
    );
}

/// Same start, same batches: EGD with a borrowed workspace (what firmware
/// keeps in a zeroed `static`) and EGD with its own give the same bits.
#[test]
fn lent_workspace_steps_are_bit_identical() {
    type Net = Mlp2<f32, 20, 24, 10>;
    let batch: Vec<([usize; 2], usize)> = (0..40)
        .map(|i| ([i % 10, 10 + (i * 3) % 10], (i % 10 + (i * 3) % 10) % 10))
        .collect();
    let data = || batch.iter().map(|(x, y)| (MultiHot(x), *y));
    let cfg = EgdConfig::DEFAULT.with_layers(Layers::All);
    let run = |lent: bool| {
        let mut net = Net::zeros(true, false);
        net.init_he(&mut SplitMix64::new(5));
        let mut grad = Net::default();
        let mut s = Mlp2Scratch::new();
        let sgd = Sgd::const_new(SgdConfig::new(0.3).with_weight_decay(1e-4));
        let mut ws = RsvdWorkspace::<f32, 20, 24, 0>::new();
        let mut owned = Optimizer::new(Egd::<f32, 20, 24>::new(cfg), sgd.clone());
        let mut borrowed = Optimizer::new(Egd::with_workspace(cfg, &mut ws), sgd);
        for _ in 0..5 {
            net.batch_grad(&CrossEntropy, data(), &mut grad, &mut s)
                .unwrap();
            if lent {
                borrowed.step(&mut net, &mut grad).unwrap();
            } else {
                owned.step(&mut net, &mut grad).unwrap();
            }
        }
        net
    };
    let (a, b) = (run(false), run(true));
    for i in 0..Net::TENSORS {
        let bits = |n: &Net| n.tensor(i).iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a), bits(&b), "tensor {i}");
    }
}

// Every optimizer, network, scratch and workspace type, built by a `const fn`
// into a plain `static` (behind a `Mutex` for safe mutation): no `unsafe`,
// no lazy initialisation.
type Small = Mlp2<f32, 6, 8, 3>;
static NET: Mutex<Small> = Mutex::new(Small::zeros(false, false));
static GRAD: Mutex<Small> = Mutex::new(Small::zeros(false, false));
static SCRATCH: Mutex<Mlp2Scratch<f32, 8, 3>> = Mutex::new(Mlp2Scratch::new());
static BLOCK: Mutex<Mlp2BlockScratch<f32, 8, 3, 4>> = Mutex::new(Mlp2BlockScratch::new());
static MLP3: Mutex<Mlp3<f32, 6, 5, 4, 3>> = Mutex::new(Mlp3::zeros(true, false));
static MLP3_SCRATCH: Mutex<Mlp3Scratch<f32, 5, 4, 3>> = Mutex::new(Mlp3Scratch::new());
static SVD_WS: Mutex<SvdWorkspace<f32, 6, 8>> = Mutex::new(SvdWorkspace::new());
static RSVD_WS: Mutex<RsvdWorkspace<f32, 6, 8, 2>> = Mutex::new(RsvdWorkspace::new());
static EGD_SGD: Mutex<Optimizer<Egd<f32, 6, 8>, Sgd<f32>>> = Mutex::new(Optimizer::new(
    Egd::new(EgdConfig::DEFAULT.with_layers(Layers::All)),
    Sgd::const_new(SgdConfig::new(0.3).with_weight_decay(1e-4)),
));
static SGD_MOMENTUM: Mutex<Optimizer<NoTransform, Sgd<f32, Small>>> = Mutex::new(Optimizer::new(
    NoTransform,
    Sgd::const_with_momentum(
        SgdConfig::new(0.1).with_momentum(0.9),
        Small::zeros(false, false),
    ),
));
static ADAMW: Mutex<Optimizer<NoTransform, AdamW<f32, Small>>> = Mutex::new(Optimizer::new(
    NoTransform,
    AdamW::const_new(
        AdamWConfig::<f32>::DEFAULT.with_lr(1e-2),
        Small::zeros(false, false),
        Small::zeros(false, false),
    ),
));
static GROKFAST: Mutex<Optimizer<Grokfast<f32, Small>, Sgd<f32>>> = Mutex::new(Optimizer::new(
    Grokfast::const_new(GrokfastConfig::new(0.98, 2.0), Small::zeros(true, false)),
    Sgd::const_new(SgdConfig::new(0.1)),
));
static COLNORM: Mutex<Optimizer<ColumnNorm<f32>, Sgd<f32, Empty>>> = Mutex::new(Optimizer::new(
    ColumnNorm::new(ColumnNormConfig::new(Layers::First, 0.01)),
    Sgd::const_new(SgdConfig::new(0.1)),
));

#[test]
fn every_type_builds_in_a_static_and_trains_there() {
    let mut net = NET.lock().unwrap();
    let mut grad = GRAD.lock().unwrap();
    let mut s = SCRATCH.lock().unwrap();
    net.reset(true, false);
    net.init_he(&mut SplitMix64::new(9));
    let batch = [
        (MultiHot([0, 3]), 0),
        (MultiHot([1, 4]), 1),
        (MultiHot([2, 5]), 2),
    ];
    let before = net.evaluate(&CrossEntropy, batch, &mut s).unwrap().loss;
    let start = net.clone();
    macro_rules! train {
        ($opt:expr) => {{
            let mut opt = $opt.lock().unwrap();
            net.clone_from(&start);
            for _ in 0..20 {
                net.batch_grad(&CrossEntropy, batch, &mut *grad, &mut s)
                    .unwrap();
                opt.step(&mut *net, &mut *grad).unwrap();
            }
            let after = net.evaluate(&CrossEntropy, batch, &mut s).unwrap().loss;
            assert!(after < before, "{}: {before} -> {after}", stringify!($opt));
        }};
    }
    train!(EGD_SGD);
    train!(SGD_MOMENTUM);
    train!(ADAMW);
    train!(GROKFAST);
    train!(COLNORM);
    // The blocked path and the other scratch and workspace statics work in place.
    let mut block = BLOCK.lock().unwrap();
    net.batch_grad_blocked(&CrossEntropy, batch, &mut *grad, &mut block)
        .unwrap();
    assert!(grad.is_finite());
    let mut m3 = MLP3.lock().unwrap();
    m3.init_he(&mut SplitMix64::new(1));
    let x = [1.0f32, 0.0, 0.0, 1.0, 0.0, 0.0];
    assert!(m3.forward(&x, &mut MLP3_SCRATCH.lock().unwrap()).is_ok());
    let g = egd_core::Matrix::<f32, 6, 8>::from_rows(core::array::from_fn(|r| {
        core::array::from_fn(|c| (r * 8 + c) as f32 - 20.0)
    }));
    let mut out = egd_core::Matrix::zeros();
    let cfg = egd_core::polar::PolarConfig::default();
    egd_core::polar::polar(&g, &mut out, &mut SVD_WS.lock().unwrap(), &cfg).unwrap();
    let rcfg = cfg.with_method(egd_core::polar::Method::Rsvd {
        rank: 2,
        power_iters: 2,
        seed: 1,
    });
    egd_core::rsvd::polar(&g, &mut out, &mut RSVD_WS.lock().unwrap(), &rcfg, 0).unwrap();
}

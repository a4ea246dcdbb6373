//! Property tests for `egd-tasks`: splits are exact partitions, shuffles are
//! permutations, labels are right, data is a function of the seed, parity
//! data is balanced, and bad parameters give the right `Err` (never a panic).

use egd_tasks::{
    Dataset, ModularTask, Op, ParamValue, Permutation, Preset, Remainder, Secret, SparseParity,
    Split, TaskError, TaskSpec,
};
use proptest::prelude::*;

// ---------------------------------------------------------------------------
// Oracles, written independently of the crate.

fn is_prime(n: u32) -> bool {
    n >= 2
        && (2..n)
            .take_while(|d| d * d <= n)
            .all(|d| !n.is_multiple_of(d))
}

/// Pairs of the task in a fixed order, with the label computed directly in
/// `u64` (division checked by multiplying back).
fn reference_label(op: Op, a: u64, b: u64, p: u64) -> Option<u64> {
    match op {
        Op::Add => Some((a + b) % p),
        Op::Sub => Some((a + p - b) % p),
        Op::Mul => Some(a * b % p),
        Op::Div => (b != 0).then(|| (0..p).find(|c| c * b % p == a)).flatten(),
        _ => None,
    }
}

fn total_pairs(op: Op, p: u32) -> u32 {
    if op == Op::Div { p * (p - 1) } else { p * p }
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop::sample::select(Op::ALL.to_vec())
}

/// Checks that the train and test sets of `task` partition all pairs, with
/// exact sizes and correct labels, and that `locate` inverts the split.
/// Returns the train-membership map, indexed by `a·p + b`.
fn check_partition(task: &ModularTask, expected_train: usize) -> Vec<bool> {
    let (p, op) = (task.p(), task.op());
    let n = total_pairs(op, p) as usize;
    assert_eq!(task.total_len(), n);
    assert_eq!(task.train_len(), expected_train);
    assert_eq!(task.test_len(), n - expected_train);
    let mut where_ = vec![None; (p * p) as usize];
    for split in [Split::Train, Split::Test] {
        let mut count = 0;
        for (i, ex) in task.examples(split).enumerate() {
            let (a, b) = (ex.a(), ex.b());
            assert!(a < p && b < p && ex.p() == p);
            let slot = &mut where_[(a * p + b) as usize];
            assert_eq!(*slot, None, "pair ({a}, {b}) occurs twice");
            *slot = Some(split);
            let want = reference_label(op, a.into(), b.into(), p.into());
            assert_eq!(want, Some(u64::from(ex.label())), "{a} {op:?} {b} mod {p}");
            if op == Op::Div {
                assert_eq!(ex.label() * ex.b() % p, ex.a(), "division multiplies back");
            }
            assert_eq!(ex.two_hot(), [a as usize, (p + b) as usize]);
            assert_eq!(task.locate(a, b), Some((split, i)));
            assert_eq!(task.example(split, i), Some(ex));
            count += 1;
        }
        assert_eq!(count, task.split_len(split));
    }
    for a in 0..p {
        for b in 0..p {
            let present = where_[(a * p + b) as usize].is_some();
            assert_eq!(present, op != Op::Div || b != 0, "pair ({a}, {b}) missing");
        }
    }
    where_.iter().map(|s| *s == Some(Split::Train)).collect()
}

// ---------------------------------------------------------------------------
// Modular arithmetic.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn split_is_an_exact_partition(
        p in 2u32..=60,
        op in op_strategy(),
        fraction in 0.0f64..1.0,
        seed in any::<u64>(),
    ) {
        prop_assume!(op != Op::Div || is_prime(p));
        let n = total_pairs(op, p);
        let train = (fraction * f64::from(n)) as u64;
        match ModularTask::new(p, op, fraction, seed) {
            Ok(task) => {
                prop_assert!(train >= 1 && train < u64::from(n));
                check_partition(&task, train as usize);
            }
            Err(e) => {
                // Only an empty split may be refused here (fraction 0.0 is
                // the one value outside (0, 1) the range can produce).
                if fraction == 0.0 {
                    prop_assert_eq!(e.parameter(), Some("train_fraction"));
                } else {
                    prop_assert_eq!(e, TaskError::EmptySplit { total: n.into(), train });
                }
            }
        }
    }

    #[test]
    fn with_train_len_is_an_exact_partition(
        p in 2u32..=40,
        op in op_strategy(),
        pick in any::<prop::sample::Index>(),
        seed in any::<u64>(),
    ) {
        prop_assume!(op != Op::Div || is_prime(p));
        let n = total_pairs(op, p) as usize;
        let train = 1 + pick.index(n - 1);
        let task = ModularTask::with_train_len(p, op, train, seed).unwrap();
        check_partition(&task, train);
    }

    #[test]
    fn same_seed_same_data_other_seed_other_split(
        p in 10u32..=60,
        op in op_strategy(),
        seed in any::<u64>(),
        delta in 1u64..,
    ) {
        prop_assume!(op != Op::Div || is_prime(p));
        let a = ModularTask::new(p, op, 0.5, seed).unwrap();
        let b = ModularTask::new(p, op, 0.5, seed).unwrap();
        prop_assert_eq!(a, b);
        prop_assert!(a.train_examples().eq(b.train_examples()));
        prop_assert!(a.test_examples().eq(b.test_examples()));
        let c = ModularTask::new(p, op, 0.5, seed.wrapping_add(delta)).unwrap();
        // With at least 90 pairs, two seeds giving the same split has odds
        // below 1 / C(90, 45) ≈ 1e-26.
        let in_a: Vec<bool> = check_partition(&a, a.train_len());
        let in_c: Vec<bool> = check_partition(&c, c.train_len());
        prop_assert_ne!(in_a, in_c);
    }

    #[test]
    fn epochs_are_permutations_of_the_training_set(
        p in 2u32..=40,
        op in op_strategy(),
        fraction in 0.05f64..0.95,
        seed in any::<u64>(),
        epoch in any::<u64>(),
        batch_pick in any::<prop::sample::Index>(),
        keep in any::<bool>(),
    ) {
        prop_assume!(op != Op::Div || is_prime(p));
        let Ok(task) = ModularTask::new(p, op, fraction, seed) else {
            return Ok(()); // tiny p: empty split, covered elsewhere
        };
        let n = task.train_len();
        let batch_size = 1 + batch_pick.index(n);
        let remainder = if keep { Remainder::Keep } else { Remainder::Drop };
        let ep = task.epoch(epoch, batch_size, remainder).unwrap();
        let used = if keep { n } else { n / batch_size * batch_size };
        prop_assert_eq!(ep.example_count(), used);
        prop_assert_eq!(ep.batch_count(), used.div_ceil(batch_size));
        let mut seen = vec![false; n];
        let mut position = 0;
        for (b, batch) in ep.batches().enumerate() {
            prop_assert_eq!(batch.index(), b);
            prop_assert_eq!(batch.len(), batch_size.min(used - position));
            for (j, ex) in batch.iter().enumerate() {
                let i = batch.train_index(j).unwrap();
                prop_assert!(!seen[i], "training example {} twice", i);
                seen[i] = true;
                prop_assert_eq!(Some(ex), task.train_example(i));
                prop_assert_eq!(ep.train_index(position), Some(i));
                prop_assert_eq!(ep.batch_example(b, j), Some(ex));
                position += 1;
            }
            prop_assert_eq!(batch.get(batch.len()), None);
        }
        prop_assert_eq!(position, used);
        prop_assert_eq!(seen.iter().filter(|&&s| s).count(), used);
        prop_assert_eq!(ep.example(used), None);
        prop_assert!(ep.batch(ep.batch_count()).is_none());
        // Same (seed, epoch): same order.
        let again = task.epoch(epoch, batch_size, remainder).unwrap();
        prop_assert!(again.examples().eq(ep.examples()));
    }

    #[test]
    fn out_of_range_access_is_none(
        p in 2u32..=200,
        seed in any::<u64>(),
        extra in any::<usize>(),
    ) {
        let task = ModularTask::new(p, Op::Mul, 0.5, seed).unwrap();
        prop_assert_eq!(task.train_example(task.train_len().saturating_add(extra)), None);
        prop_assert_eq!(task.test_example(task.test_len().saturating_add(extra)), None);
        prop_assert_eq!(task.locate(p, 0), None);
        prop_assert_eq!(task.locate(0, p.saturating_add(extra as u32)), None);
        let ex = task.train_example(0).unwrap();
        let len = 2 * p as usize;
        for wrong in [len - 1, len + 1, 0] {
            let mut buf = vec![7.0f32; wrong];
            prop_assert_eq!(
                ex.write_input(&mut buf),
                Err(TaskError::BufferLength { expected: len, got: wrong })
            );
            prop_assert!(buf.iter().all(|&v| v == 7.0), "buffer untouched on error");
        }
    }
}

#[test]
fn full_split_check_at_p_127() {
    for op in Op::ALL {
        let task = ModularTask::new(127, op, 0.5, 2026).unwrap();
        let expected = if op == Op::Div { 8001 } else { 8064 };
        check_partition(&task, expected);
        // Dense input matches the two-hot indices.
        let mut x = [0.0f32; 254];
        for ex in task.test_examples().take(50) {
            ex.write_input(&mut x).unwrap();
            let [i, j] = ex.two_hot();
            assert_eq!((x[i], x[j], x.iter().sum::<f32>()), (1.0, 1.0, 2.0));
        }
        // A full epoch of the paper's schedule visits 15 × 512 distinct pairs.
        let epoch = task.epoch(0, 512, Remainder::Drop).unwrap();
        let mut seen = vec![false; 127 * 127];
        let mut count = 0;
        for batch in epoch.batches() {
            for ex in batch {
                let slot = &mut seen[(ex.a() * 127 + ex.b()) as usize];
                assert!(!*slot);
                *slot = true;
                assert_eq!(task.locate(ex.a(), ex.b()).unwrap().0, Split::Train);
                count += 1;
            }
        }
        assert_eq!(count, 15 * 512); // ⌊8064/512⌋ (⌊8001/512⌋ for ÷) = 15 batches
    }
}

#[test]
fn split_is_not_biased_toward_low_pairs() {
    // The permutation should spread the training set evenly over the grid:
    // with 8064 of 16 129 pairs, each quarter of the `a` range gets about a
    // quarter of the training set (binomial-ish, 5-sigma bound).
    let task = ModularTask::new(127, Op::Add, 0.5, 7).unwrap();
    let mut quarters = [0usize; 4];
    for ex in task.train_examples() {
        quarters[(ex.a() * 4 / 127) as usize] += 1;
    }
    let mean = 8064.0 / 4.0;
    for q in quarters {
        assert!(
            (q as f64 - mean).abs() < 5.0 * (mean * 0.75).sqrt(),
            "{quarters:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Bad parameters: the right `Err`, never a panic.

fn fraction_strategy() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        -1.0f64..2.0,
        0.0f64..1e-3,
        (1.0f64 - 1e-3)..1.0,
        Just(0.0),
        Just(1.0),
        Just(-0.0),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MIN_POSITIVE),
        Just(1.0 - f64::EPSILON),
    ]
}

fn p_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..=5, 2u32..=300, 65_500u32..=65_600, any::<u32>()]
}

fn len_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..=3,
        0usize..=5000,
        Just(u32::MAX as usize),
        Just(u32::MAX as usize + 1),
        any::<usize>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn modular_parameters_are_validated(
        p in p_strategy(),
        op in op_strategy(),
        fraction in fraction_strategy(),
        seed in any::<u64>(),
    ) {
        let got = ModularTask::new(p, op, fraction, seed);
        let expected: Result<u64, TaskError> = if !(2..=65_535).contains(&p) {
            Err(TaskError::OutOfRange { name: "p", value: p.into(), min: 2, max: 65_535 })
        } else if op == Op::Div && !is_prime(p) {
            Err(TaskError::InvalidParameter {
                name: "p",
                value: ParamValue::Int(p.into()),
                expected: "a prime (division needs b⁻¹ mod p)",
            })
        } else if !(fraction > 0.0 && fraction < 1.0) {
            Err(TaskError::InvalidParameter {
                name: "train_fraction",
                value: ParamValue::Float(fraction),
                expected: "a number in the open interval (0, 1)",
            })
        } else {
            let n = u64::from(total_pairs(op, p));
            let train = (fraction * n as f64).floor() as u64;
            if train == 0 || train >= n {
                Err(TaskError::EmptySplit { total: n, train })
            } else {
                Ok(train)
            }
        };
        match (got, expected) {
            (Ok(task), Ok(train)) => prop_assert_eq!(task.train_len() as u64, train),
            (Err(e), Err(want)) => {
                prop_assert_eq!(e, want);
                let msg = e.to_string();
                prop_assert!(msg.contains(e.parameter().unwrap()), "{}", msg);
            }
            (got, want) => prop_assert!(false, "got {:?}, expected {:?}", got, want),
        }
    }

    #[test]
    fn with_train_len_is_validated(
        p in p_strategy(),
        op in op_strategy(),
        train in len_strategy(),
    ) {
        let got = ModularTask::with_train_len(p, op, train, 0);
        let p_ok = (2..=65_535).contains(&p) && (op != Op::Div || is_prime(p));
        if !p_ok {
            prop_assert_eq!(got.unwrap_err().parameter(), Some("p"));
        } else {
            let n = u64::from(total_pairs(op, p));
            if train >= 1 && (train as u64) < n {
                prop_assert_eq!(got.unwrap().train_len(), train);
            } else {
                prop_assert_eq!(
                    got.unwrap_err(),
                    TaskError::OutOfRange { name: "train_len", value: train as u64, min: 1, max: n - 1 }
                );
            }
        }
    }

    #[test]
    fn parity_parameters_are_validated(
        n in prop_oneof![0usize..=10, 4090usize..=4100, any::<usize>()],
        k in prop_oneof![0usize..=12, any::<usize>()],
        train_len in len_strategy(),
        test_len in len_strategy(),
        random in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let secret = if random { Secret::Random } else { Secret::FirstK };
        let got = SparseParity::with_secret(n, k, train_len, test_len, secret, seed);
        let max_len = u64::from(u32::MAX);
        let range = |name, value: usize, min: u64, max: u64| {
            let v = value as u64;
            (v < min || v > max).then_some(TaskError::OutOfRange { name, value: v, min, max })
        };
        let expected = range("n", n, 1, 4096)
            .or_else(|| range("k", k, 1, n as u64))
            .or_else(|| range("train_len", train_len, 1, max_len))
            .or_else(|| range("test_len", test_len, 1, max_len));
        match (got, expected) {
            (Ok(task), None) => {
                prop_assert_eq!((task.n(), task.k()), (n, k));
                prop_assert_eq!((task.train_len(), task.test_len()), (train_len, test_len));
                prop_assert_eq!(task.train_example(train_len), None);
                prop_assert_eq!(task.test_example(usize::MAX), None);
                let ex = task.test_example(test_len - 1).unwrap();
                prop_assert!(ex.label() == 1 || ex.label() == -1);
                prop_assert_eq!(ex.input(n), None);
                let mut short = vec![0i8; n - 1];
                prop_assert_eq!(
                    ex.write_input(&mut short),
                    Err(TaskError::BufferLength { expected: n, got: n - 1 })
                );
            }
            (Err(e), Some(want)) => {
                prop_assert_eq!(e, want);
                let quoted = format!("`{}`", e.parameter().unwrap());
                prop_assert!(e.to_string().contains(&quoted), "{}", e);
            }
            (got, want) => prop_assert!(false, "got {:?}, expected {:?}", got, want),
        }
    }

    #[test]
    fn batch_size_is_validated(
        p in 2u32..=30,
        batch_size in len_strategy(),
        keep in any::<bool>(),
        epoch in any::<u64>(),
    ) {
        let task = ModularTask::new(p, Op::Add, 0.5, 1).unwrap();
        let remainder = if keep { Remainder::Keep } else { Remainder::Drop };
        let got = task.epoch(epoch, batch_size, remainder);
        let n = task.train_len();
        if (1..=n).contains(&batch_size) {
            prop_assert_eq!(got.unwrap().batch_size(), batch_size);
        } else {
            prop_assert_eq!(
                got.unwrap_err(),
                TaskError::OutOfRange { name: "batch_size", value: batch_size as u64, min: 1, max: n as u64 }
            );
        }
    }

    #[test]
    fn permutations_are_bijections(len in len_strategy(), seed in any::<u64>()) {
        match Permutation::new(len, seed) {
            Ok(perm) if len <= 5000 => {
                let mut seen = vec![false; len];
                for i in 0..len {
                    let j = perm.apply(i).unwrap();
                    prop_assert!(!seen[j]);
                    seen[j] = true;
                    prop_assert_eq!(perm.invert(j), Some(i));
                }
                prop_assert_eq!(perm.apply(len), None);
                prop_assert_eq!(perm.invert(len), None);
            }
            Ok(perm) => {
                prop_assert!(len <= u32::MAX as usize);
                let j = perm.apply(len - 1).unwrap();
                prop_assert_eq!(perm.invert(j), Some(len - 1));
                prop_assert_eq!(perm.apply(len), None);
            }
            Err(e) => prop_assert_eq!(
                e,
                TaskError::OutOfRange { name: "len", value: len as u64, min: 1, max: u32::MAX.into() }
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Sparse parity.

/// `|count − m/2| ≤ 5σ` for a fair-coin binomial with `m` trials.
fn within_five_sigma(count: usize, m: usize) -> bool {
    let sigma = (m as f64).sqrt() / 2.0;
    (count as f64 - m as f64 / 2.0).abs() <= 5.0 * sigma
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn parity_data_is_pm1_balanced_and_labelled(
        n in 1usize..=200,
        k_pick in any::<prop::sample::Index>(),
        random in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let k = 1 + k_pick.index(n);
        let secret = if random { Secret::Random } else { Secret::FirstK };
        let m = 1000;
        let task = SparseParity::with_secret(n, k, m, m, secret, seed).unwrap();
        let secret_set: Vec<usize> = task.secret_indices().collect();
        prop_assert_eq!(secret_set.len(), k);
        let mut x = vec![0.0f64; n];
        let mut x8 = vec![0i8; n];
        for split in [Split::Train, Split::Test] {
            let (mut positive_labels, mut positive_inputs) = (0, 0);
            for ex in task.examples(split) {
                ex.write_input(&mut x).unwrap();
                ex.write_input(&mut x8).unwrap();
                for (j, (&v, &v8)) in x.iter().zip(&x8).enumerate() {
                    prop_assert!(v == 1.0 || v == -1.0);
                    prop_assert_eq!(v, f64::from(v8));
                    prop_assert_eq!(ex.input(j), Some(v8));
                }
                positive_inputs += x8.iter().filter(|&&v| v > 0).count();
                let product: f64 = secret_set.iter().map(|&j| x[j]).product();
                prop_assert_eq!(f64::from(ex.label()), product);
                positive_labels += usize::from(ex.label() > 0);
            }
            prop_assert!(within_five_sigma(positive_labels, m), "{} of {} labels +1", positive_labels, m);
            prop_assert!(within_five_sigma(positive_inputs, m * n), "{} of {} inputs +1", positive_inputs, m * n);
        }
        // Same seed, same data; train and test streams differ.
        let again = SparseParity::with_secret(n, k, m, m, secret, seed).unwrap();
        prop_assert!(task.train_examples().eq(again.train_examples()));
        if n >= 32 {
            prop_assert!(task.train_examples().zip(task.test_examples()).any(|(a, b)| a != b));
        }
    }

    #[test]
    fn parity_seeds_give_different_data(n in 32usize..=128, seed in any::<u64>(), delta in 1u64..) {
        let a = SparseParity::new(n, 3, 16, 16, seed).unwrap();
        let b = SparseParity::new(n, 3, 16, 16, seed.wrapping_add(delta)).unwrap();
        let (mut xa, mut xb) = (vec![0i8; n], vec![0i8; n]);
        let mut differ = false;
        for (ea, eb) in a.train_examples().zip(b.train_examples()) {
            ea.write_input(&mut xa).unwrap();
            eb.write_input(&mut xb).unwrap();
            differ |= xa != xb;
        }
        prop_assert!(differ);
    }

    #[test]
    fn parity_epochs_are_permutations(
        train_len in 1usize..=3000,
        batch_pick in any::<prop::sample::Index>(),
        epoch in any::<u64>(),
        seed in any::<u64>(),
    ) {
        let task = SparseParity::new(20, 2, train_len, 10, seed).unwrap();
        let batch_size = 1 + batch_pick.index(train_len);
        let ep = task.epoch(epoch, batch_size, Remainder::Keep).unwrap();
        let mut seen = vec![false; train_len];
        for j in 0..train_len {
            let i = ep.train_index(j).unwrap();
            prop_assert!(!seen[i]);
            seen[i] = true;
        }
        prop_assert_eq!(ep.batches().map(|b| b.len()).sum::<usize>(), train_len);
    }
}

#[test]
fn paper_parity_presets_are_balanced() {
    for name in ["paper-parity-2", "paper-parity-3", "paper-parity-4"] {
        let preset = Preset::by_name(name).unwrap();
        let TaskSpec::Parity(spec) = preset.task else {
            panic!("{name} is a parity preset")
        };
        let task = spec.build(0).unwrap();
        assert_eq!((task.train_len(), task.test_len()), (2000, 10_000));
        let pos = task.test_examples().filter(|ex| ex.label() > 0).count();
        assert!(within_five_sigma(pos, 10_000), "{name}: {pos} of 10000");
        let pos = task.train_examples().filter(|ex| ex.label() > 0).count();
        assert!(within_five_sigma(pos, 2000), "{name}: {pos} of 2000");
        let epoch = task.epoch(0, preset.batch_size, preset.remainder).unwrap();
        assert_eq!(epoch.batch_count(), 62);
    }
}

#[test]
fn presets_by_name() {
    assert_eq!(Preset::ALL.len(), 10);
    for name in [
        "paper-add-79",
        "paper-add-97",
        "paper-add-127",
        "paper-mul-79",
        "paper-mul-97",
        "paper-mul-127",
        "paper-parity-2",
        "paper-parity-3",
        "paper-parity-4",
        "smoke-add-47",
    ] {
        let preset = Preset::by_name(name).unwrap();
        assert_eq!(preset.name, name);
        assert_eq!(preset.egd_layers, &[0]);
        match preset.task {
            TaskSpec::Modular(spec) => {
                let task = spec.build(0).unwrap();
                assert_eq!(preset.task.input_len(), task.input_len());
                assert!(task.epoch(0, preset.batch_size, preset.remainder).is_ok());
            }
            TaskSpec::Parity(spec) => {
                let task = spec.build(0).unwrap();
                assert_eq!(preset.task.input_len(), task.input_len());
            }
        }
    }
    assert!(Preset::by_name("PAPER-ADD-127").is_none());
    assert!(Preset::by_name("").is_none());
}

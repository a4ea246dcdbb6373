//! The network shapes compiled into the binary, and a visitor that runs
//! code monomorphized for one of them.
//!
//! `egd-core` fixes every size at compile time, so each `(task shape, width)`
//! the harness can run is one monomorphization of whatever visits it (the
//! training loop in [`crate::train`]; the optimizer is chosen at run time
//! inside it). This module knows the shapes only: validation
//! ([`crate::config`]) asks [`is_compiled`] without depending on training.
//! The list is kept short to keep compile times in check:
//!
//! | task | p or n | width | why |
//! |---|---|---|---|
//! | modular | 79, 97, 127 | 512 | the paper's Tables 1–3 |
//! | modular | 23 | 128 | a small model for quick runs |
//! | modular | 23 | 64 | a smaller smoke model |
//! | modular | 47 | 128 | the harness's smoke preset `smoke-add-47` |
//! | modular | 97 | 128 | the paper's p on a small net |
//! | parity | (400, 50), (100, 100), (50, 100) | | the paper's Table 4 (k = 2, 3, 4) |
//!
//! To add a shape, add a pair to the `shapes!` invocation at the bottom.

use egd_tasks::{ModularSpec, ParitySpec, TaskSpec};

/// Code that runs on one compiled shape, given its sizes as constants.
///
/// [`visit`] calls exactly one method, with `IN`/`H`/`OUT` the input,
/// hidden and output widths of the two-layer MLP and `K`/`L` the short and
/// long sides of an EGD workspace that covers both weight matrices
/// ([`kdim`], [`ldim`]; passed in because stable Rust cannot compute a
/// const generic from others).
pub trait ShapeVisitor {
    /// What a visit returns.
    type Output;

    /// A modular task (`IN = 2p`, `OUT = p`).
    fn modular<const IN: usize, const H: usize, const OUT: usize, const K: usize, const L: usize>(
        self,
        spec: &ModularSpec,
    ) -> Self::Output;

    /// A sparse-parity task (`IN = n`, `OUT = 1`).
    fn parity<const IN: usize, const H: usize, const OUT: usize, const K: usize, const L: usize>(
        self,
        spec: &ParitySpec,
    ) -> Self::Output;
}

/// Short side of the EGD workspace: covers `W1: H × IN` and `W2: OUT × H`.
#[must_use]
pub const fn kdim(input: usize, hidden: usize, out: usize) -> usize {
    let a = if hidden < input { hidden } else { input };
    let b = if out < hidden { out } else { hidden };
    if a > b { a } else { b }
}

/// Long side of the EGD workspace: covers `W1: H × IN` and `W2: OUT × H`.
#[must_use]
pub const fn ldim(input: usize, hidden: usize, out: usize) -> usize {
    let a = if hidden > input { hidden } else { input };
    let b = if out > hidden { out } else { hidden };
    if a > b { a } else { b }
}

macro_rules! shapes {
    (
        modular: [$(($p:literal, $h:literal)),* $(,)?],
        parity: [$(($n:literal, $w:literal)),* $(,)?] $(,)?
    ) => {
        /// Compiled modular shapes, as `(p, width)`.
        pub const MODULAR: &[(u32, usize)] = &[$(($p, $h)),*];
        /// Compiled parity shapes, as `(n, width)`.
        pub const PARITY: &[(usize, usize)] = &[$(($n, $w)),*];

        /// Calls `visitor` monomorphized for `task` at hidden width
        /// `width`, or returns `None` if that shape is not compiled in.
        pub fn visit<V: ShapeVisitor>(task: &TaskSpec, width: usize, visitor: V) -> Option<V::Output> {
            match task {
                TaskSpec::Modular(spec) => match (spec.p, width) {
                    $(($p, $h) => Some(visitor.modular::<
                        { 2 * $p }, $h, $p,
                        { kdim(2 * $p, $h, $p) }, { ldim(2 * $p, $h, $p) },
                    >(spec)),)*
                    _ => None,
                },
                TaskSpec::Parity(spec) => match (spec.n, width) {
                    $(($n, $w) => Some(visitor.parity::<
                        $n, $w, 1,
                        { kdim($n, $w, 1) }, { ldim($n, $w, 1) },
                    >(spec)),)*
                    _ => None,
                },
            }
        }
    };
}

shapes! {
    modular: [(23, 64), (23, 128), (47, 128), (97, 128), (79, 512), (97, 512), (127, 512)],
    parity: [(400, 50), (100, 100), (50, 100)],
}

/// Whether `task` at hidden width `width` is compiled in.
#[must_use]
pub fn is_compiled(task: &TaskSpec, width: usize) -> bool {
    match task {
        TaskSpec::Modular(m) => MODULAR.contains(&(m.p, width)),
        TaskSpec::Parity(s) => PARITY.contains(&(s.n, width)),
    }
}

/// `"p=23 width=128"` or `"parity n=100 width=100"`.
#[must_use]
pub fn describe(task: &TaskSpec, width: usize) -> String {
    match task {
        TaskSpec::Modular(m) => format!("p={} width={width}", m.p),
        TaskSpec::Parity(s) => format!("parity n={} width={width}", s.n),
    }
}

/// Every compiled shape on one line.
#[must_use]
pub fn list() -> String {
    let m = MODULAR
        .iter()
        .map(|(p, h)| format!("p={p} width={h}"))
        .chain(
            PARITY
                .iter()
                .map(|(n, w)| format!("parity n={n} width={w}")),
        );
    m.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use egd_tasks::Preset;

    #[test]
    fn workspace_covers_both_layers() {
        assert_eq!((kdim(254, 512, 127), ldim(254, 512, 127)), (254, 512));
        assert_eq!((kdim(46, 128, 23), ldim(46, 128, 23)), (46, 128));
        assert_eq!((kdim(400, 50, 1), ldim(400, 50, 1)), (50, 400));
        assert_eq!((kdim(100, 100, 1), ldim(100, 100, 1)), (100, 100));
    }

    /// Reports the constants it was monomorphized with.
    struct Sizes;

    impl ShapeVisitor for Sizes {
        type Output = (&'static str, [usize; 5]);
        fn modular<
            const IN: usize,
            const H: usize,
            const OUT: usize,
            const K: usize,
            const L: usize,
        >(
            self,
            _: &ModularSpec,
        ) -> Self::Output {
            ("modular", [IN, H, OUT, K, L])
        }
        fn parity<
            const IN: usize,
            const H: usize,
            const OUT: usize,
            const K: usize,
            const L: usize,
        >(
            self,
            _: &ParitySpec,
        ) -> Self::Output {
            ("parity", [IN, H, OUT, K, L])
        }
    }

    #[test]
    fn visit_passes_each_listed_shape_and_nothing_else() {
        use egd_tasks::{Op, Secret};
        for &(p, h) in MODULAR {
            let task = TaskSpec::Modular(ModularSpec {
                p,
                op: Op::Add,
                train_fraction: 0.5,
            });
            let (i, o) = (2 * p as usize, p as usize);
            let want = [i, h, o, kdim(i, h, o), ldim(i, h, o)];
            assert_eq!(visit(&task, h, Sizes), Some(("modular", want)));
            assert!(is_compiled(&task, h));
            assert_eq!(visit(&task, h + 1, Sizes), None);
            assert!(!is_compiled(&task, h + 1));
        }
        for &(n, w) in PARITY {
            let task = TaskSpec::Parity(ParitySpec {
                n,
                k: 2,
                train_len: 10,
                test_len: 10,
                secret: Secret::FirstK,
            });
            let want = [n, w, 1, kdim(n, w, 1), ldim(n, w, 1)];
            assert_eq!(visit(&task, w, Sizes), Some(("parity", want)));
            assert_eq!(visit(&task, w + 1, Sizes), None);
        }
    }

    #[test]
    fn every_preset_is_compiled() {
        for p in Preset::ALL.iter().copied() {
            assert!(is_compiled(&p.task, p.hidden), "{}", p.name);
        }
        assert!(list().contains("p=127 width=512"));
    }
}

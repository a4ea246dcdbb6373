//! The network shapes compiled into the binary.
//!
//! `egd-core` fixes every size at compile time, so each `(task shape, width)`
//! the harness can run is one monomorphization of the training loop (the
//! optimizer is chosen at run time inside it). The list is kept short to keep
//! compile times in check:
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

use crate::config::RunConfig;
use crate::train::{self, EpochRecord, Modular, Parity, RunResult};
use egd_tasks::TaskSpec;

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

        /// Runs the training loop monomorphized for `cfg`'s shape, or `None`
        /// if that shape is not compiled in.
        pub(crate) fn dispatch(
            cfg: &RunConfig,
            observer: &mut dyn FnMut(&EpochRecord),
        ) -> Option<RunResult> {
            match cfg.task {
                TaskSpec::Modular(spec) => {
                    let data = spec.build(cfg.seed).ok()?;
                    match (spec.p, cfg.width) {
                        $(($p, $h) => Some(train::train::<
                            { 2 * $p }, $h, $p,
                            { kdim(2 * $p, $h, $p) }, { ldim(2 * $p, $h, $p) },
                            Modular,
                        >(cfg, &data, observer)),)*
                        _ => None,
                    }
                }
                TaskSpec::Parity(spec) => {
                    let data = spec.build(cfg.seed).ok()?;
                    match (spec.n, cfg.width) {
                        $(($n, $w) => Some(train::train::<
                            $n, $w, 1,
                            { kdim($n, $w, 1) }, { ldim($n, $w, 1) },
                            Parity,
                        >(cfg, &data, observer)),)*
                        _ => None,
                    }
                }
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

/// `"p=23 width=100"` or `"n=100 width=50"`.
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

    #[test]
    fn every_preset_is_compiled() {
        for p in Preset::ALL.iter().copied() {
            assert!(is_compiled(&p.task, p.hidden), "{}", p.name);
        }
        assert!(list().contains("p=127 width=512"));
    }
}

//! Text formatting shared by the tables, plots, logs and files: the number
//! format ([`num`]) and the one-line description of a run's optimizer
//! settings ([`describe_optimizer`]).

use crate::config::{LayerPolicy, OptKind, RunConfig, cutoff_name};
use std::fmt::Write as _;

/// Formats `x` with at most `digits` decimals, trailing zeros removed
/// (`0.5`, `12`, `0.000123`).
#[must_use]
pub fn num(x: f64, digits: usize) -> String {
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        let t = s.trim_end_matches('0').trim_end_matches('.');
        if t == "-0" { "0".into() } else { t.into() }
    } else {
        s
    }
}

/// A one-line human description of a run's optimizer settings, e.g.
/// `egd lr 0.7 wd 0.0001 (W1, clamp:0.000001)`.
#[must_use]
pub fn describe_optimizer(c: &RunConfig) -> String {
    let mut s = format!("{} lr {} wd {}", c.optimizer, c.lr, c.wd);
    match c.optimizer {
        OptKind::Egd | OptKind::EgdNs | OptKind::EgdRsvd => {
            let layers = match c.layers {
                LayerPolicy::First => "W1",
                LayerPolicy::All => "all layers",
            };
            let _ = write!(s, " ({layers}");
            if let Some(r) = c.rsvd {
                let _ = write!(s, ", rank {}, q {}", r.rank, r.power_iters);
            }
            if matches!(c.optimizer, OptKind::Egd | OptKind::EgdRsvd) {
                let _ = write!(s, ", {}", cutoff_name(c.cutoff));
                if c.warm_start {
                    s.push_str(", warm start");
                }
            }
            if let Some(t) = c.switch_off {
                let _ = write!(s, ", off above {t}");
            }
            s.push(')');
        }
        OptKind::Grokfast => {
            let _ = write!(s, " (α {}, λ {})", c.grokfast_alpha, c.grokfast_lambda);
        }
        _ => {}
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(num(0.5, 6), "0.5");
        assert_eq!(num(12.0, 3), "12");
        assert_eq!(num(1e-4, 12), "0.0001");
        assert_eq!(num(-0.0000001, 3), "0");
    }

    #[test]
    fn optimizer_descriptions() {
        use crate::config::{RunArgs, resolve};
        let c = resolve(&RunArgs::default(), OptKind::Egd, 0, None, None, None).unwrap();
        assert_eq!(
            describe_optimizer(&c),
            "egd lr 0.7 wd 0.0001 (W1, clamp:0.000001)"
        );
        let c = resolve(&RunArgs::default(), OptKind::Grokfast, 0, None, None, None).unwrap();
        assert_eq!(
            describe_optimizer(&c),
            "grokfast lr 0.7 wd 0.0001 (α 0.98, λ 2)"
        );
    }
}

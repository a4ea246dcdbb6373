//! The run list of a `compare` or `sweep` and its shards: `--shard I/N`
//! runs the runs whose 0-based index `≡ I (mod N)`.
//!
//! The list is built deterministically from the arguments (optimizers, then
//! learning rates, weight decays and seeds, in the order given), so every
//! shard of one command line sees the same list. Its fingerprint
//! ([`Plan::id`]) depends on the runs' settings and order only — not on
//! `--shard`, `--jobs`, `--out` or the code version — so results of the
//! same list from different shards and machines merge, and results of
//! different lists are told apart.

use crate::config::{RunConfig, UsageError};
use crate::record::Settings;
use std::fmt;
use std::str::FromStr;

/// `--shard I/N`: this process runs the runs with index `≡ I (mod N)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// `I`, in `0..N`.
    pub index: usize,
    /// `N` ≥ 1.
    pub count: usize,
}

impl Shard {
    /// The whole list (`0/1`).
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Whether the run at `i` belongs to this shard.
    #[must_use]
    pub const fn owns(self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// Whether this is the whole list.
    #[must_use]
    pub const fn is_all(self) -> bool {
        self.count == 1
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `I/N` with `0 ≤ I < N` (0-based, as Slurm's
    /// `SLURM_ARRAY_TASK_ID` for `--array=0-(N-1)`).
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("'{s}' is not I/N (e.g. 0/4)"))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|_| format!("'{i}' is not a shard index"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("'{n}' is not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: need 0 <= I < N (0-based)"));
        }
        Ok(Self { index, count })
    }
}

/// A deterministic run list.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `"compare"` or `"sweep"`.
    pub command: &'static str,
    /// The runs, in list order.
    pub runs: Vec<RunConfig>,
    /// Each run's settings (its identity for resume), in list order.
    pub settings: Vec<Settings>,
    /// The fingerprint: 16 hex digits.
    pub id: String,
}

/// 64-bit FNV-1a: a stable fingerprint (not a security property).
fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Plan {
    /// The plan of `runs` for `command`.
    ///
    /// # Errors
    ///
    /// If a run's task cannot be built (never after `resolve`).
    pub fn new(command: &'static str, runs: Vec<RunConfig>) -> Result<Self, UsageError> {
        let settings = runs
            .iter()
            .map(Settings::of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut h = fnv1a(command.as_bytes(), 0xcbf2_9ce4_8422_2325);
        for s in &settings {
            h = fnv1a(b"\n", h);
            h = fnv1a(s.key().as_bytes(), h);
        }
        Ok(Self {
            command,
            runs,
            settings,
            id: format!("{h:016x}"),
        })
    }

    /// The indices `shard` runs.
    #[must_use]
    pub fn shard_indices(&self, shard: Shard) -> Vec<usize> {
        (0..self.runs.len()).filter(|&i| shard.owns(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OptKind, RunArgs, resolve};

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!("1/4".parse(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1/0", "x/2", "1", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let mut seen = [0; 10];
        for i in 0..3 {
            let s = Shard { index: i, count: 3 };
            for (j, n) in seen.iter_mut().enumerate() {
                if s.owns(j) {
                    *n += 1;
                }
            }
        }
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn the_id_depends_on_the_list_only() {
        let runs = |seeds: &[u64]| -> Vec<RunConfig> {
            seeds
                .iter()
                .map(|&s| resolve(&RunArgs::default(), OptKind::Sgd, s, None, None, Some(5)))
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let a = Plan::new("compare", runs(&[0, 1])).unwrap();
        assert_eq!(a.id, Plan::new("compare", runs(&[0, 1])).unwrap().id);
        assert_ne!(a.id, Plan::new("compare", runs(&[1, 0])).unwrap().id);
        assert_ne!(a.id, Plan::new("sweep", runs(&[0, 1])).unwrap().id);
        assert_eq!(a.id.len(), 16);
        assert_eq!(a.shard_indices(Shard { index: 1, count: 2 }), vec![1]);
    }
}

//! Order statistics with censoring: a run that never grokked within its cap
//! counts as `+∞` (it is known only to take longer than the cap).

/// Median of `v` (mean of the two middle values for an even count); `None`
/// for an empty slice. NaNs sort last.
#[must_use]
pub fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

/// A value that is either known or censored (`> cap`, "never within the cap").
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Censored {
    /// A known value.
    Value(f64),
    /// Larger than anything observed: at least one of the values that decide
    /// the statistic never happened within the cap.
    Infinite,
}

impl Censored {
    /// The value, if known.
    #[must_use]
    pub const fn value(self) -> Option<f64> {
        match self {
            Self::Value(v) => Some(v),
            Self::Infinite => None,
        }
    }

    /// `+∞` for [`Censored::Infinite`], for ordering.
    #[must_use]
    pub const fn as_f64(self) -> f64 {
        match self {
            Self::Value(v) => v,
            Self::Infinite => f64::INFINITY,
        }
    }
}

/// Median / min / max of values where `None` means "never" (`+∞`). For an
/// even count the median is the mean of the two middle values, and infinite
/// if either is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of runs.
    pub runs: usize,
    /// Runs that never reached the event (`None`).
    pub never: usize,
    /// Median, censored.
    pub median: Option<Censored>,
    /// Smallest value, censored.
    pub min: Option<Censored>,
    /// Largest value, censored.
    pub max: Option<Censored>,
}

impl Summary {
    /// Summarises `values` (`None` = never).
    #[must_use]
    pub fn of(values: &[Option<f64>]) -> Self {
        let mut s: Vec<f64> = values.iter().map(|v| v.unwrap_or(f64::INFINITY)).collect();
        s.sort_by(f64::total_cmp);
        let wrap = |v: f64| {
            if v.is_infinite() {
                Censored::Infinite
            } else {
                Censored::Value(v)
            }
        };
        let n = s.len();
        let median = (n > 0).then(|| {
            if n % 2 == 1 {
                wrap(s[n / 2])
            } else {
                wrap((s[n / 2 - 1] + s[n / 2]) / 2.0)
            }
        });
        Self {
            runs: n,
            never: values.iter().filter(|v| v.is_none()).count(),
            median,
            min: s.first().copied().map(wrap),
            max: s.last().copied().map(wrap),
        }
    }
}

/// Index of the median element of `values` (`None` = `+∞`), the lower one
/// for an even count: the "median run" to plot.
#[must_use]
pub fn median_index(values: &[Option<f64>]) -> Option<usize> {
    if values.is_empty() {
        return None;
    }
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| {
        let key = |i: usize| values[i].unwrap_or(f64::INFINITY);
        key(a).total_cmp(&key(b)).then(a.cmp(&b))
    });
    Some(idx[(values.len() - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn censoring() {
        let s = Summary::of(&[Some(10.0), None, Some(30.0)]);
        assert_eq!(s.median, Some(Censored::Value(30.0)));
        assert_eq!(s.min, Some(Censored::Value(10.0)));
        assert_eq!(s.max, Some(Censored::Infinite));
        assert_eq!((s.runs, s.never), (3, 1));
        let s = Summary::of(&[Some(10.0), None]);
        assert_eq!(s.median, Some(Censored::Infinite));
        let s = Summary::of(&[]);
        assert_eq!(s.median, None);
        assert_eq!(
            median_index(&[Some(5.0), None, Some(1.0), Some(3.0)]),
            Some(3)
        );
        assert_eq!(median_index(&[None, Some(2.0), Some(1.0)]), Some(1));
    }
}

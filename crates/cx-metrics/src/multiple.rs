//! Adjusting p-values when several tests are reported together.
//!
//! When `m` hypotheses are tested at once (every pairwise difference of driver importances, every
//! driver in a comparison of two segments), the chance that at least one true null is rejected grows
//! with `m`. [`PValueAdjustment`] turns the raw p-values into adjusted ones that can be compared with
//! the nominal level α directly:
//!
//! | method | controls | adjusted p-value of the i-th smallest `p₍ᵢ₎` |
//! | --- | --- | --- |
//! | [`none`](PValueAdjustment::None) | nothing (per-test error rate) | `p₍ᵢ₎` |
//! | [`holm`](PValueAdjustment::Holm) | family-wise error rate, any dependence | `max_{j ≤ i} min(1, (m − j + 1) p₍ⱼ₎)` |
//! | [`benjamini_hochberg`](PValueAdjustment::BenjaminiHochberg) | false discovery rate (independent or positively dependent tests) | `min_{j ≥ i} min(1, m p₍ⱼ₎ / j)` |
//!
//! The values equal R's `p.adjust(method = "holm" | "BH")` and statsmodels'
//! `multipletests(method="holm" | "fdr_bh")`.
//!
//! # References
//! - Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian Journal of
//!   Statistics* 6(2), 65–70.
//! - Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and powerful
//!   approach to multiple testing. *Journal of the Royal Statistical Society B* 57(1), 289–300.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How p-values reported together are adjusted for multiplicity.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PValueAdjustment {
    /// No adjustment: each p-value stands alone.
    None,
    /// Holm's (1979) step-down method: controls the family-wise error rate under any dependence
    /// between the tests, and is uniformly more powerful than Bonferroni. The default.
    #[default]
    Holm,
    /// Benjamini & Hochberg's (1995) step-up method: controls the false discovery rate.
    BenjaminiHochberg,
}

impl PValueAdjustment {
    /// Every method.
    pub const ALL: [Self; 3] = [Self::None, Self::Holm, Self::BenjaminiHochberg];

    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Holm => "holm",
            Self::BenjaminiHochberg => "benjamini_hochberg",
        }
    }

    /// Adjust `p_values` (each in `[0, 1]`), returned in the input order.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the first p-value that is NaN or outside `[0, 1]`.
    ///
    /// ```
    /// use cx_metrics::multiple::PValueAdjustment;
    /// // R: p.adjust(c(0.01, 0.04, 0.03), "holm") = 0.03 0.06 0.06
    /// let adj = PValueAdjustment::Holm.adjust(&[0.01, 0.04, 0.03]).unwrap();
    /// assert!((adj[0] - 0.03).abs() < 1e-15 && (adj[1] - 0.06).abs() < 1e-15);
    /// ```
    pub fn adjust(self, p_values: &[f64]) -> Result<Vec<f64>> {
        if let Some((i, p)) = p_values
            .iter()
            .enumerate()
            .find(|(_, p)| !(0.0..=1.0).contains(*p))
        {
            return Err(Error::invalid(
                "p_values",
                format!("p-value {p} at position {i} is not a probability in [0, 1]"),
            ));
        }
        let m = p_values.len();
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
        let mut adjusted = p_values.to_vec();
        match self {
            Self::None => {}
            Self::Holm => {
                let mut running: f64 = 0.0;
                for (rank, &i) in order.iter().enumerate() {
                    running = running.max(((m - rank) as f64 * p_values[i]).min(1.0));
                    adjusted[i] = running;
                }
            }
            Self::BenjaminiHochberg => {
                let mut running: f64 = 1.0;
                for (rank, &i) in order.iter().enumerate().rev() {
                    running = running.min((m as f64 * p_values[i] / (rank + 1) as f64).min(1.0));
                    adjusted[i] = running;
                }
            }
        }
        Ok(adjusted)
    }

    /// Adjust the p-values of `p` that are not NaN, as one family (m = their count); a NaN stays
    /// NaN (an undefined test is not counted).
    ///
    /// # Errors
    /// As [`adjust`](Self::adjust), for a value outside `[0, 1]`.
    ///
    /// ```
    /// use cx_metrics::multiple::PValueAdjustment;
    /// let adj = PValueAdjustment::Holm.adjust_finite(&[0.01, f64::NAN, 0.04]).unwrap();
    /// assert!((adj[0] - 0.02).abs() < 1e-15 && adj[1].is_nan() && (adj[2] - 0.04).abs() < 1e-15);
    /// ```
    pub fn adjust_finite(self, p: &[f64]) -> Result<Vec<f64>> {
        let idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
        let adjusted = self.adjust(&idx.iter().map(|&i| p[i]).collect::<Vec<_>>())?;
        let mut out = vec![f64::NAN; p.len()];
        for (&i, a) in idx.iter().zip(adjusted) {
            out[i] = a;
        }
        Ok(out)
    }
}

impl fmt::Display for PValueAdjustment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PValueAdjustment {
    type Err = Error;

    /// Parse `"none"`, `"holm"`, `"benjamini_hochberg"` or its short form `"bh"`.
    ///
    /// ```
    /// use cx_metrics::multiple::PValueAdjustment;
    /// assert_eq!("bh".parse::<PValueAdjustment>().unwrap(), PValueAdjustment::BenjaminiHochberg);
    /// assert!("bonferroni".parse::<PValueAdjustment>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self> {
        if s == "bh" {
            return Ok(Self::BenjaminiHochberg);
        }
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "adjustment",
                    format!(
                        "{s:?}; use one of \"none\", \"holm\", \"benjamini_hochberg\" (\"bh\")"
                    ),
                )
            })
    }
}

/// The comparison of two groups `a` and `b` among all pairs: `a − b`, its test and the p-value
/// adjusted over every pair.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairComparison {
    /// Index of the first group.
    pub a: usize,
    /// Index of the second group.
    pub b: usize,
    /// a − b with its SE, z, p-value and Wald interval.
    #[serde(flatten)]
    pub difference: crate::trend::Difference,
    /// The p-value adjusted over every pair (NaN where the p-value is).
    #[serde(with = "crate::serde_nan")]
    pub p_adjusted: f64,
}

/// Every pair of groups compared, with the groups' estimates.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllPairs {
    /// The figure compared.
    pub measure: crate::trend::Measure,
    /// Level of the intervals.
    pub confidence_level: f64,
    /// The adjustment of the p-values over the pairs.
    pub adjust: PValueAdjustment,
    /// Each group's estimate.
    pub groups: Vec<crate::trend::GroupEstimate>,
    /// The pairs (a, b), a < b, in the order (0, 1), (0, 2), …, (1, 2), ….
    pub pairs: Vec<PairComparison>,
}

/// Compare every pair of independent groups, a − b for a < b: difference of the estimates,
/// SE = √(SE_a² + SE_b²), z test and Wald interval (for NPS the Wald comparison of
/// [`crate::nps::compare`]), with the p-values adjusted over the m = g(g − 1)/2 pairs by `adjust`.
/// A pair with an undefined group has NaN figures and is not counted in m.
///
/// # Errors
/// [`Error::InvalidArgument`] for a level outside (0, 1).
///
/// ```
/// use cx_metrics::multiple::{all_pairs, PValueAdjustment};
/// use cx_metrics::trend::{GroupEstimate, Measure};
/// use cx_metrics::NpsTally;
/// let groups: Vec<GroupEstimate> = [(10, 20, 70), (30, 20, 50), (20, 20, 60)]
///     .iter()
///     .map(|&(d, p, pr)| {
///         GroupEstimate::of(Measure::Nps, NpsTally::from_counts(d, p, pr).tally(), 0.95).unwrap()
///     })
///     .collect();
/// let r = all_pairs(Measure::Nps, groups, PValueAdjustment::Holm, 0.95).unwrap();
/// assert_eq!(r.pairs.len(), 3);
/// assert!((r.pairs[0].difference.difference - 0.4).abs() < 1e-12);
/// ```
pub fn all_pairs(
    measure: crate::trend::Measure,
    groups: Vec<crate::trend::GroupEstimate>,
    adjust: PValueAdjustment,
    confidence_level: f64,
) -> Result<AllPairs> {
    let level = crate::intervals::check_level(confidence_level)?;
    let g = groups.len();
    let mut pairs = Vec::with_capacity(g * g.saturating_sub(1) / 2);
    for a in 0..g {
        for b in a + 1..g {
            // independent(x, y) is y − x: a − b is independent(b, a).
            let difference = crate::trend::Difference::independent(&groups[b], &groups[a], level)?;
            pairs.push(PairComparison {
                a,
                b,
                difference,
                p_adjusted: f64::NAN,
            });
        }
    }
    let p: Vec<f64> = pairs.iter().map(|c| c.difference.p_value).collect();
    for (c, q) in pairs.iter_mut().zip(adjust.adjust_finite(&p)?) {
        c.p_adjusted = q;
    }
    Ok(AllPairs {
        measure,
        confidence_level: level,
        adjust,
        groups,
        pairs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nps::{compare, NpsMethod, NpsTally};
    use crate::trend::{GroupEstimate, Measure};

    /// Each pair of NPS is the Wald comparison of `nps::compare`; Holm over the defined pairs only.
    #[test]
    fn all_pairs_of_nps_are_wald_comparisons() {
        let counts = [(10, 20, 70), (30, 20, 50), (0, 0, 0), (25, 25, 50)];
        let tallies: Vec<NpsTally> = counts
            .iter()
            .map(|&(d, p, pr)| NpsTally::from_counts(d, p, pr))
            .collect();
        let groups = tallies
            .iter()
            .map(|t| GroupEstimate::of(Measure::Nps, t.tally(), 0.95).unwrap())
            .collect();
        let r = all_pairs(Measure::Nps, groups, PValueAdjustment::Holm, 0.95).unwrap();
        assert_eq!(r.pairs.len(), 6);
        let mut raw = Vec::new();
        for p in &r.pairs {
            let (a, b) = (tallies[p.a].result(), tallies[p.b].result());
            if p.a == 2 || p.b == 2 {
                assert!(p.difference.p_value.is_nan() && p.p_adjusted.is_nan());
                continue;
            }
            let c = compare(&a, &b, NpsMethod::Wald).unwrap();
            assert!((p.difference.difference - c.difference).abs() < 1e-15);
            assert!((p.difference.std_error - c.std_error).abs() < 1e-15);
            assert!((p.difference.p_value - c.p_value).abs() < 1e-15);
            raw.push(p.difference.p_value);
        }
        let holm = PValueAdjustment::Holm.adjust(&raw).unwrap();
        let adjusted: Vec<f64> = r
            .pairs
            .iter()
            .map(|p| p.p_adjusted)
            .filter(|p| !p.is_nan())
            .collect();
        assert_eq!(adjusted, holm);
    }

    /// R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "BH") is 0.05 five times; "holm" is
    /// 0.05 0.08 0.09 0.09 0.09.
    #[test]
    fn adjustments_match_r() {
        let p = [0.01, 0.02, 0.03, 0.04, 0.05];
        let bh = PValueAdjustment::BenjaminiHochberg.adjust(&p).unwrap();
        assert!(bh.iter().all(|q| (q - 0.05).abs() < 1e-15), "{bh:?}");
        let holm = PValueAdjustment::Holm.adjust(&p).unwrap();
        for (q, r) in holm.iter().zip([0.05, 0.08, 0.09, 0.09, 0.09]) {
            assert!((q - r).abs() < 1e-15, "{holm:?}");
        }
    }
}

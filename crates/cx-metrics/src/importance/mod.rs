//! Relative importance of drivers, all from one (weighted) correlation matrix.
//!
//! Given the correlation matrix of `p` drivers and the outcome (outcome last), this module decomposes the
//! model R² among the drivers in the ways relaimpo (Grömping 2006) and the dominance-analysis literature
//! define, without refitting anything from rows:
//!
//! | measure | what it is | sums to R² |
//! | --- | --- | --- |
//! | [`lmg`](ImportanceMeasure::Lmg) | Shapley value of R² over all orders of entry (Lindeman, Merenda & Gold 1980) | yes |
//! | [`last`](ImportanceMeasure::Last) | R² lost when the driver leaves the full model (usefulness) | no |
//! | [`first`](ImportanceMeasure::First) | R² of the driver alone, `r²` | no |
//! | [`beta_squared`](ImportanceMeasure::BetaSquared) (relaimpo's `betasq`) | squared standardized coefficient | no |
//! | [`pratt`](ImportanceMeasure::Pratt) | standardized coefficient × correlation (Pratt 1987) | yes |
//! | [`johnson`](ImportanceMeasure::Johnson) (relaimpo's `genizi`) | Johnson's (2000) relative weights = Genizi (1993) | yes |
//! | [`car`](ImportanceMeasure::Car) | squared CAR score (Zuber & Strimmer 2011) | yes |
//!
//! plus the R² of every subset ([`SubsetRSquared`]) and dominance analysis ([`Dominance`]; Budescu
//! 1993, Azen & Budescu 2003).
//!
//! `always` covariates are in every model and are not ranked: the R² they explain alone is reported
//! apart ([`RelativeImportance::r_squared_always`]) and the measures split the rest (relaimpo's
//! `always`). Groups make several drivers one unit that enters and leaves together (relaimpo's
//! `groups`); per-driver measures (beta_squared, pratt, johnson, car) and signs are then unavailable.
//!
//! Formulas and accuracy notes are in the submodules: [`subsets`] (enumeration), [`lmg`] (Shapley),
//! [`measures`] (closed forms), [`dominance`].
//!
//! # References
//! - Azen, R. & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors in
//!   multiple regression. *Psychological Methods* 8(2), 129–148.
//! - Budescu, D. V. (1993). Dominance analysis: a new approach to the problem of relative importance of
//!   predictors in multiple regression. *Psychological Bulletin* 114(3), 542–551.
//! - Genizi, A. (1993). Decomposition of R² in multiple regression with correlated regressors.
//!   *Statistica Sinica* 3, 407–420.
//! - Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
//!   *Journal of Statistical Software* 17(1).
//! - Johnson, J. W. (2000). A heuristic method for estimating the relative weight of predictor variables
//!   in multiple regression. *Multivariate Behavioral Research* 35(1), 1–19.
//! - Lindeman, R. H., Merenda, P. F. & Gold, R. Z. (1980). *Introduction to Bivariate and Multivariate
//!   Analysis*. Scott, Foresman.
//! - Pratt, J. W. (1987). Dividing the indivisible: using simple symmetry to partition variance explained.
//! - Zuber, V. & Strimmer, K. (2011). High-dimensional regression and variable selection using CAR scores.
//!   *Statistical Applications in Genetics and Molecular Biology* 10(1).

use std::fmt;
use std::str::FromStr;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod dominance;
pub mod lmg;
pub mod measures;
mod problem;
pub mod subsets;

pub use dominance::{dominance_from_subsets, Dominance, DOMINANCE_TOLERANCE};
pub use lmg::{shapley_from_subsets, LmgMethod, ShapleyMethod};
pub use subsets::{SubsetRSquared, MAX_EXACT_UNITS};

/// A relative-importance measure.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportanceMeasure {
    /// LMG, the Shapley decomposition of R² (Lindeman, Merenda & Gold 1980):
    /// `LMG_j = Σ_{S ⊆ U∖j} |S|!(g−|S|−1)!/g! · [R²(S ∪ j) − R²(S)]`. Sums to R².
    Lmg,
    /// Usefulness: `R²(U) − R²(U∖j)`, the R² lost when `j` leaves the full model.
    Last,
    /// `R²({j})`, the squared correlation with the outcome (beyond `always`).
    First,
    /// Squared standardized coefficient `β_j²` of the full model.
    #[serde(alias = "betasq")]
    BetaSquared,
    /// Pratt's measure `β_j r_jy`. Sums to R²; can be negative (suppression).
    Pratt,
    /// Johnson's (2000) relative weights, identical to Genizi's (1993) decomposition and relaimpo's
    /// `genizi`: `RW_j = Σ_k Λ_jk² ω_k²` with `Λ = R_xx^{1/2}`, `ω = Λ⁻¹ r_xy`. Sums to R².
    #[serde(alias = "genizi")]
    Johnson,
    /// Squared CAR scores (Zuber & Strimmer 2011): `ω_j²` with `ω = R_xx^{-1/2} r_xy`. Sums to R².
    Car,
}

impl ImportanceMeasure {
    /// Every measure, in relaimpo's order.
    pub const ALL: [Self; 7] = [
        Self::Lmg,
        Self::Last,
        Self::First,
        Self::BetaSquared,
        Self::Pratt,
        Self::Johnson,
        Self::Car,
    ];

    /// Whether the measure is defined per driver only (unavailable with groups).
    pub fn per_driver(self) -> bool {
        matches!(
            self,
            Self::BetaSquared | Self::Pratt | Self::Johnson | Self::Car
        )
    }

    /// The snake_case name, as parsed by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lmg => "lmg",
            Self::Last => "last",
            Self::First => "first",
            Self::BetaSquared => "beta_squared",
            Self::Pratt => "pratt",
            Self::Johnson => "johnson",
            Self::Car => "car",
        }
    }

    /// The name in R's relaimpo (`betasq` and `genizi` differ from ours), also accepted by `FromStr`.
    pub fn relaimpo_name(self) -> &'static str {
        match self {
            Self::BetaSquared => "betasq",
            Self::Johnson => "genizi",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for ImportanceMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportanceMeasure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s || m.relaimpo_name() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "measures",
                    format!(
                        "{s:?}; use one of \"lmg\", \"last\", \"first\", \"beta_squared\", \"pratt\", \"johnson\", \"car\""
                    ),
                )
            })
    }
}

/// Several drivers ranked as one unit (relaimpo's `groups`): they enter and leave every model together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverGroup {
    /// The unit's name in the results (must differ from the ungrouped drivers' names).
    pub name: String,
    /// The drivers in the group, by name.
    pub members: Vec<String>,
}

impl DriverGroup {
    /// A group named `name` of the drivers `members`.
    pub fn new<S: AsRef<str>>(name: impl Into<String>, members: &[S]) -> Self {
        Self {
            name: name.into(),
            members: members.iter().map(|s| s.as_ref().to_owned()).collect(),
        }
    }
}

/// Options of [`relative_importance`]. Start from `default()` and set what you need.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportanceOptions {
    /// Drivers adjusted for in every model and not ranked (relaimpo's `always`).
    pub always: Vec<String>,
    /// Groups of drivers ranked as one unit (relaimpo's `groups`); drivers not in a group are their own unit.
    pub groups: Vec<DriverGroup>,
    /// Measures to compute; `None` = all that apply (lmg, last, first with groups; all seven otherwise).
    pub measures: Option<Vec<ImportanceMeasure>>,
    /// Also report signed scores (see [`MeasureScores::signed`]); not available with groups.
    pub signed: bool,
    /// Run dominance analysis (needs the stored subset table: at most [`MAX_EXACT_UNITS`] units).
    pub dominance: bool,
    /// Return the R² of every subset ([`RelativeImportance::subsets`]; at most [`MAX_EXACT_UNITS`] units).
    pub all_subsets: bool,
    /// Exact or sampled LMG.
    pub lmg_method: ShapleyMethod,
    /// Orders of entry drawn when LMG is sampled (default 10 000).
    pub permutations: usize,
    /// Seed of the sampling (ChaCha8); the estimate depends only on the seed, not on the thread count.
    pub seed: u64,
}

impl Default for ImportanceOptions {
    fn default() -> Self {
        Self {
            always: Vec::new(),
            groups: Vec::new(),
            measures: None,
            signed: false,
            dominance: false,
            all_subsets: false,
            lmg_method: ShapleyMethod::Auto,
            permutations: 10_000,
            seed: 0,
        }
    }
}

impl ImportanceOptions {
    /// Set the `always` covariates.
    pub fn with_always<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        self.always = names.iter().map(|s| s.as_ref().to_owned()).collect();
        self
    }

    /// Add a group of drivers ranked as one unit.
    pub fn with_group(mut self, group: DriverGroup) -> Self {
        self.groups.push(group);
        self
    }

    /// Compute only these measures.
    pub fn with_measures(mut self, measures: &[ImportanceMeasure]) -> Self {
        self.measures = Some(measures.to_vec());
        self
    }

    /// Request signed scores.
    pub fn with_signed(mut self, signed: bool) -> Self {
        self.signed = signed;
        self
    }

    /// Request dominance analysis.
    pub fn with_dominance(mut self, dominance: bool) -> Self {
        self.dominance = dominance;
        self
    }

    /// Request the table of all-subset R².
    pub fn with_all_subsets(mut self, all_subsets: bool) -> Self {
        self.all_subsets = all_subsets;
        self
    }

    /// Choose how LMG is computed, and the sampling's size and seed.
    pub fn with_lmg_method(
        mut self,
        method: ShapleyMethod,
        permutations: usize,
        seed: u64,
    ) -> Self {
        self.lmg_method = method;
        self.permutations = permutations;
        self.seed = seed;
        self
    }
}

/// The scores of one measure, one per unit, in the order of [`RelativeImportance::names`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureScores {
    /// Which measure.
    pub measure: ImportanceMeasure,
    /// Raw scores, as fractions of the outcome's total variance (R² units).
    pub raw: Vec<f64>,
    /// Shares of 1 (`raw / Σ raw`, relaimpo's `rela = TRUE`); `None` when `Σ raw` is zero.
    pub share: Option<Vec<f64>>,
    /// On request: `sign(r_jy) · |raw_j|`, the score with the direction of the driver's correlation with
    /// the outcome (partial correlation given `always`). Pratt's raw score already has a sign and is
    /// returned as is. See [`ImportanceWarning::SignDisagreement`].
    pub signed: Option<Vec<f64>>,
    /// Standard error of a sampled estimate (LMG by permutation sampling); `None` when exact.
    #[serde(alias = "standard_error")]
    pub std_error: Option<Vec<f64>>,
}

/// Something the caller should know about a result that is nonetheless valid.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ImportanceWarning {
    /// A driver's correlation with the outcome and its full-model coefficient have opposite signs
    /// (suppression or collinearity): the sign shown by signed importance is not the sign of its effect
    /// holding the other drivers fixed.
    SignDisagreement {
        /// The driver.
        driver: String,
        /// Its (partial, given `always`) correlation with the outcome.
        correlation: f64,
        /// Its standardized full-model coefficient.
        coefficient: f64,
    },
    /// The raw scores of a measure sum to zero, so shares are undefined.
    SharesUndefined {
        /// The measure.
        measure: ImportanceMeasure,
    },
}

/// Relative importance of the drivers: see [`relative_importance`].
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeImportance {
    /// The ranked units (drivers, or group names) in the order of every score vector.
    pub names: Vec<String>,
    /// The drivers of each unit.
    pub members: Vec<Vec<String>>,
    /// The `always` covariates.
    pub always: Vec<String>,
    /// R² of the full model (always covariates and all drivers).
    pub r_squared: f64,
    /// R² of the `always` covariates alone (0 without them).
    pub r_squared_always: f64,
    /// The R² split among the units: `r_squared − r_squared_always`.
    pub r_squared_decomposed: f64,
    /// The ranked drivers, in the order of `coefficients`.
    pub drivers: Vec<String>,
    /// Standardized full-model coefficients of the ranked drivers.
    pub coefficients: Vec<f64>,
    /// The requested measures.
    pub scores: Vec<MeasureScores>,
    /// How LMG was computed (`Exact` or `Sampled`), if it was.
    pub lmg_method: Option<ShapleyMethod>,
    /// Dominance analysis, if requested.
    pub dominance: Option<Dominance>,
    /// R² of every subset of units, if requested.
    pub subsets: Option<SubsetRSquared>,
    /// Things to know about the result.
    pub warnings: Vec<ImportanceWarning>,
}

impl RelativeImportance {
    /// The scores of `measure`, if it was computed.
    pub fn scores(&self, measure: ImportanceMeasure) -> Option<&MeasureScores> {
        self.scores.iter().find(|s| s.measure == measure)
    }
}

/// Relative importance of drivers from the correlation matrix of the drivers and the outcome.
///
/// `correlation` is the `(p+1)×(p+1)` correlation matrix (weighted or not) with the drivers in the order
/// of `names` and the **outcome as the last row and column**. It must be square, symmetric and have a
/// unit diagonal (within 1e-9), finite, and positive definite (no driver a linear combination of
/// others); violations are errors that name the driver. Every measure is computed from this matrix:
/// nothing is refitted from rows.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::InvalidArgument`], [`Error::BadColumn`], [`Error::Collinear`]
/// for an invalid matrix; [`Error::UnknownColumn`] for a name in `always` or `groups` that is not a
/// driver; [`Error::InvalidArgument`] for inconsistent options (overlapping groups, per-driver measures
/// or signs with groups, exact LMG or dominance above [`MAX_EXACT_UNITS`] units).
///
/// ```
/// use cx_metrics::importance::{relative_importance, ImportanceMeasure, ImportanceOptions};
/// use nalgebra::DMatrix;
/// let r = DMatrix::from_row_slice(3, 3, &[
///     1.0, 0.5, 0.6,
///     0.5, 1.0, 0.4,
///     0.6, 0.4, 1.0,
/// ]);
/// let res = relative_importance(&r, &["ease", "speed"], &ImportanceOptions::default()).unwrap();
/// let lmg = res.scores(ImportanceMeasure::Lmg).unwrap();
/// assert!((lmg.raw.iter().sum::<f64>() - res.r_squared).abs() < 1e-14);
/// ```
pub fn relative_importance<S: AsRef<str>>(
    correlation: &DMatrix<f64>,
    names: &[S],
    options: &ImportanceOptions,
) -> Result<RelativeImportance> {
    let problem = problem::build(correlation, names, options)?;
    let g = problem.n_units();
    let requested: Vec<ImportanceMeasure> = match &options.measures {
        Some(m) => {
            let mut out: Vec<ImportanceMeasure> = Vec::new();
            for &x in m {
                if !out.contains(&x) {
                    out.push(x);
                }
            }
            out
        }
        None => ImportanceMeasure::ALL
            .into_iter()
            .filter(|m| !(problem.grouped && m.per_driver()))
            .collect(),
    };
    if problem.grouped {
        if let Some(m) = requested.iter().find(|m| m.per_driver()) {
            return Err(Error::invalid(
                "measures",
                format!("{m} is defined per driver and does not work with groups; use lmg, last or first"),
            ));
        }
        if options.signed {
            return Err(Error::invalid(
                "signed",
                "a group has no single direction; signed importance is not available with groups",
            ));
        }
    }
    let store = options.dominance || options.all_subsets;
    if store && g > MAX_EXACT_UNITS {
        return Err(Error::invalid(
            if options.dominance {
                "dominance"
            } else {
                "all_subsets"
            },
            format!("needs every subset stored: at most {MAX_EXACT_UNITS} units, got {g}"),
        ));
    }
    let wants_lmg = requested.contains(&ImportanceMeasure::Lmg);
    let sample_lmg = wants_lmg
        && match options.lmg_method {
            ShapleyMethod::Sampled => true,
            ShapleyMethod::Exact => {
                if g > MAX_EXACT_UNITS {
                    return Err(Error::invalid(
                        "lmg_method",
                        format!(
                            "exact LMG needs at most {MAX_EXACT_UNITS} units, got {g}; use \"sampled\" or \"auto\""
                        ),
                    ));
                }
                false
            }
            _ => g > MAX_EXACT_UNITS,
        };

    let (sums, table) = if store || (wants_lmg && !sample_lmg) {
        let (s, t) = subsets::enumerate(&problem, store)?;
        (Some(s), t)
    } else {
        (None, None)
    };

    let full = measures::full_model(&problem)?;
    let r2_decomposed = problem
        .cov
        .view((0, problem.n_drivers()), (problem.n_drivers(), 1))
        .column(0)
        .dot(&full.beta);
    let signs = measures::correlation_signs(&problem);
    let mut warnings = Vec::new();
    if options.signed {
        for (j, (&s, &b)) in signs.iter().zip(full.beta.iter()).enumerate() {
            let sb = measures::sign(b);
            if s != 0.0 && sb != 0.0 && s != sb {
                warnings.push(ImportanceWarning::SignDisagreement {
                    driver: problem.drivers[j].clone(),
                    correlation: problem.cov[(j, problem.n_drivers())],
                    coefficient: b,
                });
            }
        }
    }

    let mut genizi_car: Option<(Vec<f64>, Vec<f64>)> = None;
    let mut scores = Vec::with_capacity(requested.len());
    let mut lmg_method = None;
    for &m in &requested {
        let mut standard_error = None;
        let raw = match m {
            ImportanceMeasure::Lmg => {
                if sample_lmg {
                    let (est, se) = lmg::lmg_sampled(&problem, options.permutations, options.seed)?;
                    standard_error = Some(se);
                    lmg_method = Some(ShapleyMethod::Sampled);
                    est
                } else {
                    lmg_method = Some(ShapleyMethod::Exact);
                    let by_size = sums
                        .as_ref()
                        .map(|s| s.conditional_by_size())
                        .unwrap_or_default();
                    by_size
                        .iter()
                        .map(|c| c.iter().sum::<f64>() / g as f64)
                        .collect()
                }
            }
            ImportanceMeasure::Last => measures::last(&problem, &full)?,
            ImportanceMeasure::First => measures::first(&problem)?,
            ImportanceMeasure::BetaSquared => measures::betasq(&problem, &full),
            ImportanceMeasure::Pratt => measures::pratt(&problem, &full),
            ImportanceMeasure::Johnson | ImportanceMeasure::Car => {
                if genizi_car.is_none() {
                    genizi_car = Some(measures::genizi_and_car(&problem)?);
                }
                let (gz, car) = genizi_car
                    .as_ref()
                    .map_or((&[][..], &[][..]), |(a, b)| (a.as_slice(), b.as_slice()));
                if m == ImportanceMeasure::Johnson {
                    gz.to_vec()
                } else {
                    car.to_vec()
                }
            }
        };
        let total: f64 = raw.iter().sum();
        let share = if total != 0.0 && total.is_finite() {
            Some(raw.iter().map(|x| x / total).collect())
        } else {
            warnings.push(ImportanceWarning::SharesUndefined { measure: m });
            None
        };
        let signed = options.signed.then(|| {
            if m == ImportanceMeasure::Pratt {
                raw.clone()
            } else {
                raw.iter().zip(&signs).map(|(x, s)| s * x.abs()).collect()
            }
        });
        scores.push(MeasureScores {
            measure: m,
            raw,
            share,
            signed,
            std_error: standard_error,
        });
    }

    let dominance = match (&table, options.dominance) {
        (Some(t), true) => Some(dominance_from_subsets(t, &problem.unit_names)?),
        _ => None,
    };
    let subsets = match (table, options.all_subsets) {
        (Some(t), true) => Some(SubsetRSquared {
            names: problem.unit_names.clone(),
            r_squared: t,
        }),
        _ => None,
    };
    Ok(RelativeImportance {
        names: problem.unit_names.clone(),
        members: problem.unit_members.clone(),
        always: problem.always.clone(),
        r_squared: problem.r2_always + r2_decomposed,
        r_squared_always: problem.r2_always,
        r_squared_decomposed: r2_decomposed,
        drivers: problem.drivers.clone(),
        coefficients: full.beta.iter().copied().collect(),
        scores,
        lmg_method,
        dominance,
        subsets,
        warnings,
    })
}

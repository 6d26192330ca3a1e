//! Validation of the correlation matrix and of the options, and the working matrix every measure reads.
//!
//! The working matrix is the covariance of the ranked drivers and the outcome *conditional on* the
//! `always` covariates (a Schur complement of the correlation matrix), with the drivers reordered so that
//! each unit (a single driver or a group) occupies consecutive rows, and the outcome last. Because the
//! input is a correlation matrix, the outcome's total variance is 1 and every explained variance read
//! from the working matrix is directly an R² increment.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use nalgebra::DMatrix;

use super::ImportanceOptions;
use crate::error::{Error, Result};

/// Largest admitted asymmetry `|r_ij − r_ji|` and deviation of a diagonal entry from 1.
pub(crate) const MATRIX_TOLERANCE: f64 = 1e-9;

/// Smallest admitted partial variance of a variable given the variables before it (1 / this is a VIF).
pub(crate) const PIVOT_TOLERANCE: f64 = 1e-10;

/// Largest `|1 − R²|` of the outcome on the drivers taken as an exact fit (R² = 1) rather than a
/// matrix that is not positive definite: the rounding error of a correlation matrix of `f64` data.
pub(crate) const EXACT_FIT_TOLERANCE: f64 = 1e-12;

/// The validated problem: what every measure is computed from.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Covariance of the ranked drivers (unit order) and the outcome (last), conditional on `always`.
    pub cov: DMatrix<f64>,
    /// Rows of `cov` that belong to each unit.
    pub units: Vec<Range<usize>>,
    /// Name of each unit (the driver's name, or the group's name).
    pub unit_names: Vec<String>,
    /// Drivers in each unit.
    pub unit_members: Vec<Vec<String>>,
    /// The ranked drivers in the order of the rows of `cov`.
    pub drivers: Vec<String>,
    /// The `always` covariates, in input order.
    pub always: Vec<String>,
    /// R² of the outcome on the `always` covariates alone.
    pub r2_always: f64,
    /// Whether any unit has more than one driver, or a group was named.
    pub grouped: bool,
}

impl Problem {
    /// Number of ranked drivers (rows of `cov` minus the outcome).
    pub fn n_drivers(&self) -> usize {
        self.drivers.len()
    }

    /// Number of units (ranked drivers or groups).
    pub fn n_units(&self) -> usize {
        self.units.len()
    }
}

/// Check that `corr` is a valid (p+1)×(p+1) correlation matrix with the outcome last, and return it
/// symmetrised (`(R + Rᵀ)/2`) with an exact unit diagonal.
pub(crate) fn validate_correlation<S: AsRef<str>>(
    corr: &DMatrix<f64>,
    names: &[S],
) -> Result<DMatrix<f64>> {
    let (rows, cols) = corr.shape();
    if rows != cols {
        return Err(Error::invalid(
            "correlation",
            format!("must be square, got {rows}×{cols}"),
        ));
    }
    if rows < 2 {
        return Err(Error::invalid(
            "correlation",
            "needs at least one driver and the outcome (2×2 or larger)",
        ));
    }
    let p = rows - 1;
    if names.len() != p {
        return Err(Error::LengthMismatch {
            what:
                "drivers in the correlation matrix (all rows but the last, the outcome) and names",
            left: p,
            right: names.len(),
        });
    }
    let label = |i: usize| -> String {
        names
            .get(i)
            .map_or_else(|| "outcome".to_owned(), |s| s.as_ref().to_owned())
    };
    let mut seen = HashSet::new();
    for s in names {
        if !seen.insert(s.as_ref()) {
            return Err(Error::invalid(
                "names",
                format!(
                    "driver name {:?} appears twice; names must be unique",
                    s.as_ref()
                ),
            ));
        }
    }
    let bad = |i: usize, message: String| Error::BadColumn {
        column: label(i),
        message,
    };
    for i in 0..rows {
        for j in 0..rows {
            let v = corr[(i, j)];
            if !v.is_finite() {
                return Err(bad(
                    i,
                    format!("its correlation with {:?} is {v}, not finite", label(j)),
                ));
            }
        }
        let d = corr[(i, i)];
        if (d - 1.0).abs() > MATRIX_TOLERANCE {
            return Err(bad(
                i,
                format!(
                    "diagonal entry is {d}, not 1; pass a correlation matrix (not a covariance matrix)"
                ),
            ));
        }
        for j in 0..i {
            let (a, b) = (corr[(i, j)], corr[(j, i)]);
            if (a - b).abs() > MATRIX_TOLERANCE {
                return Err(bad(
                    i,
                    format!(
                        "correlation with {:?} is {a} in one triangle and {b} in the other; \
                         the matrix must be symmetric",
                        label(j)
                    ),
                ));
            }
            if a.abs() > 1.0 + MATRIX_TOLERANCE {
                return Err(bad(
                    i,
                    format!("correlation with {:?} is {a}, outside [-1, 1]", label(j)),
                ));
            }
        }
    }
    let r = DMatrix::from_fn(rows, rows, |i, j| {
        if i == j {
            1.0
        } else {
            0.5 * (corr[(i, j)] + corr[(j, i)])
        }
    });
    check_positive_definite(&r, &label)?;
    Ok(r)
}

/// Eliminate the variables in order; the first whose partial variance given the earlier ones is not
/// clearly positive makes the matrix (numerically) singular and is named.
fn check_positive_definite(r: &DMatrix<f64>, label: &dyn Fn(usize) -> String) -> Result<()> {
    let n = r.nrows();
    let mut m = r.clone();
    for k in 0..n {
        let pivot = m[(k, k)];
        // The outcome (last) may be an exact linear function of the drivers: R² = 1 is a fit (the
        // measures are defined), as long as its partial variance is zero up to rounding.
        if k + 1 == n && pivot.abs() <= EXACT_FIT_TOLERANCE {
            return Ok(());
        }
        if pivot.is_nan() || pivot <= PIVOT_TOLERANCE {
            if k + 1 == n {
                return Err(Error::BadColumn {
                    column: label(k),
                    message: format!(
                        "the outcome is an exact linear combination of the drivers (1 − R² = {pivot:.3e}); \
                         the correlation matrix is not positive definite"
                    ),
                });
            }
            return Err(Error::Collinear {
                columns: format!("{} (given the drivers before it)", label(k)),
            });
        }
        for i in k + 1..n {
            let f = m[(i, k)] / pivot;
            for j in k + 1..n {
                m[(i, j)] -= f * m[(k, j)];
            }
        }
    }
    Ok(())
}

/// Validate the matrix and the options, and build the working matrix.
pub(crate) fn build<S: AsRef<str>>(
    corr: &DMatrix<f64>,
    names: &[S],
    options: &ImportanceOptions,
) -> Result<Problem> {
    let r = validate_correlation(corr, names)?;
    let p = names.len();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_ref(), i))
        .collect();
    let available = || {
        names
            .iter()
            .map(|s| s.as_ref())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let lookup = |name: &str| -> Result<usize> {
        index
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownColumn {
                column: name.to_owned(),
                available: available(),
            })
    };

    let mut is_always = vec![false; p];
    for a in &options.always {
        let i = lookup(a)?;
        if is_always[i] {
            return Err(Error::invalid("always", format!("{a:?} is listed twice")));
        }
        is_always[i] = true;
    }

    let mut group_of: Vec<Option<usize>> = vec![None; p];
    let mut unit_name_seen: HashSet<&str> = HashSet::new();
    for (g, group) in options.groups.iter().enumerate() {
        if group.members.is_empty() {
            return Err(Error::invalid(
                "groups",
                format!("group {:?} has no drivers", group.name),
            ));
        }
        if !unit_name_seen.insert(group.name.as_str()) {
            return Err(Error::invalid(
                "groups",
                format!("group name {:?} is used twice", group.name),
            ));
        }
        for m in &group.members {
            let i = lookup(m)?;
            if is_always[i] {
                return Err(Error::invalid(
                    "groups",
                    format!("{m:?} is in group {:?} and in always; a driver is either ranked or adjusted for", group.name),
                ));
            }
            if let Some(other) = group_of[i] {
                let other = options.groups.get(other).map_or("", |o| o.name.as_str());
                return Err(Error::invalid(
                    "groups",
                    format!(
                        "{m:?} is in groups {other:?} and {:?}; groups must not overlap",
                        group.name
                    ),
                ));
            }
            group_of[i] = Some(g);
        }
    }
    for (i, s) in names.iter().enumerate() {
        if group_of[i].is_none() && !is_always[i] && unit_name_seen.contains(s.as_ref()) {
            return Err(Error::invalid(
                "groups",
                format!(
                    "group name {:?} is also the name of an ungrouped driver",
                    s.as_ref()
                ),
            ));
        }
    }

    // Units in order of first appearance; a group's drivers in the order the group lists them.
    let mut order: Vec<usize> = Vec::with_capacity(p);
    let mut units = Vec::new();
    let mut unit_names = Vec::new();
    let mut unit_members = Vec::new();
    let mut emitted = vec![false; options.groups.len()];
    for i in 0..p {
        if is_always[i] {
            continue;
        }
        let start = order.len();
        match group_of[i] {
            None => {
                order.push(i);
                unit_names.push(names[i].as_ref().to_owned());
                unit_members.push(vec![names[i].as_ref().to_owned()]);
            }
            Some(g) => {
                if emitted[g] {
                    continue;
                }
                emitted[g] = true;
                let group = &options.groups[g];
                for m in &group.members {
                    order.push(lookup(m)?);
                }
                unit_names.push(group.name.clone());
                unit_members.push(group.members.clone());
            }
        }
        units.push(start..order.len());
    }
    if units.is_empty() {
        return Err(Error::invalid(
            "always",
            "every driver is in always; leave at least one driver to rank",
        ));
    }
    let always_idx: Vec<usize> = (0..p).filter(|&i| is_always[i]).collect();

    // Working matrix: rows `order` then the outcome, conditional on the always covariates.
    let mut rows = order.clone();
    rows.push(p);
    let n = rows.len();
    let mut cov = DMatrix::from_fn(n, n, |i, j| r[(rows[i], rows[j])]);
    if !always_idx.is_empty() {
        let k = always_idx.len();
        let raa = DMatrix::from_fn(k, k, |i, j| r[(always_idx[i], always_idx[j])]);
        let rxa = DMatrix::from_fn(n, k, |i, j| r[(rows[i], always_idx[j])]);
        let chol = raa.cholesky().ok_or_else(|| Error::Collinear {
            columns: options.always.join(", "),
        })?;
        let solved = chol.solve(&rxa.transpose());
        cov -= &rxa * solved;
        // Re-symmetrise against rounding.
        cov = (&cov + cov.transpose()) * 0.5;
    }
    let r2_always = 1.0 - cov[(n - 1, n - 1)];
    let grouped = !options.groups.is_empty();
    Ok(Problem {
        cov,
        units,
        unit_names,
        unit_members,
        drivers: order
            .iter()
            .map(|&i| names[i].as_ref().to_owned())
            .collect(),
        always: options.always.clone(),
        r2_always,
        grouped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::importance::{relative_importance, DriverGroup, ImportanceMeasure};

    fn good() -> DMatrix<f64> {
        DMatrix::from_row_slice(
            4,
            4,
            &[
                1.0, 0.3, 0.2, 0.5, //
                0.3, 1.0, 0.1, 0.4, //
                0.2, 0.1, 1.0, 0.3, //
                0.5, 0.4, 0.3, 1.0,
            ],
        )
    }

    const NAMES: [&str; 3] = ["price", "speed", "ease"];

    fn err(r: &DMatrix<f64>, names: &[&str], o: &ImportanceOptions) -> Error {
        relative_importance(r, names, o).unwrap_err()
    }

    #[test]
    fn matrix_errors_name_the_driver() {
        let o = ImportanceOptions::default();
        let mut r = good();
        r[(1, 2)] = 0.2;
        assert!(matches!(err(&r, &NAMES, &o), Error::BadColumn { column, .. } if column == "ease"));
        let mut r = good();
        r[(2, 2)] = 1.1;
        assert!(matches!(err(&r, &NAMES, &o), Error::BadColumn { column, .. } if column == "ease"));
        let mut r = good();
        r[(0, 3)] = f64::NAN;
        assert!(
            matches!(err(&r, &NAMES, &o), Error::BadColumn { column, .. } if column == "price")
        );
        let mut r = good();
        r[(0, 1)] = 1.5;
        r[(1, 0)] = 1.5;
        assert!(
            matches!(err(&r, &NAMES, &o), Error::BadColumn { column, .. } if column == "speed")
        );
        // speed = price exactly: not positive definite, and speed is named.
        let mut r = good();
        for (i, v) in [1.0, 1.0, 0.2, 0.5].into_iter().enumerate() {
            r[(1, i)] = v;
            r[(i, 1)] = v;
        }
        assert!(
            matches!(err(&r, &NAMES, &o), Error::Collinear { columns } if columns.starts_with("speed"))
        );
        assert!(matches!(
            err(&DMatrix::zeros(3, 4), &NAMES, &o),
            Error::InvalidArgument { .. }
        ));
        assert!(matches!(
            err(&good(), &["a", "b"], &o),
            Error::LengthMismatch { .. }
        ));
        assert!(matches!(
            err(&good(), &["a", "a", "b"], &o),
            Error::InvalidArgument { .. }
        ));
    }

    #[test]
    fn option_errors() {
        let r = good();
        let o = ImportanceOptions::default().with_always(&["colour"]);
        assert!(matches!(err(&r, &NAMES, &o), Error::UnknownColumn { .. }));
        let o = ImportanceOptions::default().with_always(&NAMES);
        assert!(matches!(err(&r, &NAMES, &o), Error::InvalidArgument { .. }));
        let o = ImportanceOptions::default()
            .with_group(DriverGroup::new("g", &["price", "speed"]))
            .with_group(DriverGroup::new("h", &["speed", "ease"]));
        assert!(matches!(err(&r, &NAMES, &o), Error::InvalidArgument { .. }));
        let o = ImportanceOptions::default()
            .with_always(&["price"])
            .with_group(DriverGroup::new("g", &["price", "speed"]));
        assert!(matches!(err(&r, &NAMES, &o), Error::InvalidArgument { .. }));
        let o = ImportanceOptions::default()
            .with_group(DriverGroup::new("g", &["price", "speed"]))
            .with_signed(true);
        assert!(matches!(err(&r, &NAMES, &o), Error::InvalidArgument { .. }));
        let o =
            ImportanceOptions::default().with_group(DriverGroup::new("ease", &["price", "speed"]));
        assert!(matches!(err(&r, &NAMES, &o), Error::InvalidArgument { .. }));
        // With a group and no explicit measures: the three that apply.
        let o = ImportanceOptions::default().with_group(DriverGroup::new("g", &["price", "speed"]));
        let res = relative_importance(&r, &NAMES, &o).unwrap();
        assert_eq!(res.names, ["g", "ease"]);
        let got: Vec<_> = res.scores.iter().map(|s| s.measure).collect();
        assert_eq!(
            got,
            [
                ImportanceMeasure::Lmg,
                ImportanceMeasure::Last,
                ImportanceMeasure::First
            ]
        );
    }

    #[test]
    fn option_strings_parse() {
        for m in ImportanceMeasure::ALL {
            assert_eq!(m.as_str().parse::<ImportanceMeasure>().unwrap(), m);
        }
        // relaimpo's names are accepted too.
        for m in ImportanceMeasure::ALL {
            assert_eq!(m.relaimpo_name().parse::<ImportanceMeasure>().unwrap(), m);
        }
        assert_eq!(
            "genizi".parse::<ImportanceMeasure>().unwrap(),
            ImportanceMeasure::Johnson
        );
        assert!("johnsons".parse::<ImportanceMeasure>().is_err());
        assert_eq!(
            "sampled"
                .parse::<crate::importance::ShapleyMethod>()
                .unwrap(),
            crate::importance::ShapleyMethod::Sampled
        );
    }

    #[test]
    fn one_driver_gets_all_of_r_squared() {
        let r = DMatrix::from_row_slice(2, 2, &[1.0, 0.6, 0.6, 1.0]);
        let o = ImportanceOptions::default()
            .with_dominance(true)
            .with_signed(true);
        let res = relative_importance(&r, &["a"], &o).unwrap();
        for s in &res.scores {
            assert!((s.raw[0] - 0.36).abs() < 1e-15, "{}", s.measure);
        }
        assert_eq!(res.dominance.unwrap().complete, vec![vec![0.5]]);
        // The same driver after an always covariate uncorrelated with it.
        let r = DMatrix::from_row_slice(3, 3, &[1.0, 0.0, 0.3, 0.0, 1.0, 0.6, 0.3, 0.6, 1.0]);
        let o = ImportanceOptions::default().with_always(&["z"]);
        let res = relative_importance(&r, &["z", "a"], &o).unwrap();
        assert!((res.r_squared_always - 0.09).abs() < 1e-15);
        assert!((res.r_squared - 0.45).abs() < 1e-15);
        for s in &res.scores {
            assert!((s.raw[0] - 0.36).abs() < 1e-15, "{}", s.measure);
        }
    }

    #[test]
    fn outcome_fully_explained_is_decomposed() {
        // y = (x1 + x2)/√2 with x1 ⟂ x2: an exact fit (R² = 1) is decomposed, not refused; each
        // driver explains half.
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let r = DMatrix::from_row_slice(3, 3, &[1.0, 0.0, h, 0.0, 1.0, h, h, h, 1.0]);
        let res = relative_importance(&r, &["a", "b"], &ImportanceOptions::default()).unwrap();
        assert!((res.r_squared - 1.0).abs() < 1e-12);
        for s in &res.scores {
            assert!(
                s.raw.iter().all(|v| (v - 0.5).abs() < 1e-12),
                "{}",
                s.measure
            );
        }
    }
}

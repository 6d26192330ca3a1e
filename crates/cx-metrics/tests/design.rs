//! The prepared design: columns of every width give the figures of the same data as `f64` columns,
//! masked values are missing values, and errors still name the column.
//!
//! Reference: the `&[f64]` entry point on the same numbers converted by hand (every value here is
//! exact in `f64`), and, for listwise deletion, on the columns with the incomplete rows removed
//! beforehand. Tolerance: 1e-12 relative (the fits are the same arithmetic on the same numbers; rows
//! dropped before the fit change only how the rows are split into blocks, a rounding difference).
//! Both a small design (solved by the refined QR) and a large one (read in blocks, solved by the
//! corrected semi-normal equations) are checked.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::design::{Column, Design, Numbers};
use cx_metrics::drivers::{driver_analysis, driver_analysis_design, DriverOptions, MissingPolicy};
use cx_metrics::{DriverAnalysis, Error, ImportanceMeasure};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOL: Tol = Tol::rel(1e-12).near_zero(1e-13, 1e-13);

/// Ratings 1–10 of three correlated drivers, a 0–10 outcome, a 0/1 flag and weights.
struct Survey {
    y: Vec<i16>,
    x: [Vec<i16>; 3],
    flag: Vec<bool>,
    w: Vec<f64>,
}

fn survey(n: usize, seed: u64) -> Survey {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = Survey {
        y: Vec::with_capacity(n),
        x: [Vec::new(), Vec::new(), Vec::new()],
        flag: Vec::with_capacity(n),
        w: Vec::with_capacity(n),
    };
    for _ in 0..n {
        let common: f64 = rng.random_range(-2.0..2.0);
        let mut fit = 0.5;
        for (j, c) in s.x.iter_mut().enumerate() {
            let v = (6.0 + 1.5 * common + rng.random_range(-3.0..3.0f64))
                .round()
                .clamp(1.0, 10.0);
            c.push(v as i16);
            fit += v / (j as f64 + 2.0);
        }
        let flag = rng.random_range(0.0..1.0) < 0.3;
        s.flag.push(flag);
        let y = (fit * 0.55 + f64::from(u8::from(flag)) + rng.random_range(-2.0..2.0)).round();
        s.y.push(y.clamp(0.0, 10.0) as i16);
        s.w.push(f64::from(rng.random_range(1..5u8)) * 0.5);
    }
    s
}

fn f64s<T: Copy + Into<f64>>(v: &[T]) -> Vec<f64> {
    v.iter().map(|&x| x.into()).collect()
}

const NAMES: [&str; 4] = ["a", "b", "c", "flag"];

/// The analysis of the f64 columns (NaN where `missing`), by the `&[f64]` entry point.
fn reference(s: &Survey, weighted: bool, missing: Option<&[bool]>) -> DriverAnalysis {
    let mut cols: Vec<Vec<f64>> = s.x.iter().map(|c| f64s(c)).collect();
    cols.push(s.flag.iter().map(|&f| f64::from(u8::from(f))).collect());
    if let Some(m) = missing {
        for (v, &gone) in cols[1].iter_mut().zip(m) {
            if gone {
                *v = f64::NAN;
            }
        }
    }
    let drivers: Vec<(&str, &[f64])> = NAMES
        .iter()
        .copied()
        .zip(cols.iter().map(|c| c.as_slice()))
        .collect();
    let y = f64s(&s.y);
    driver_analysis(
        &y,
        &drivers,
        weighted.then_some(&s.w[..]),
        &DriverOptions::default(),
    )
    .unwrap()
}

fn assert_same(what: &str, got: &DriverAnalysis, want: &DriverAnalysis) {
    assert_eq!(
        (got.n, got.n_omitted, got.n_zero_weight),
        (want.n, want.n_omitted, want.n_zero_weight),
        "{what}"
    );
    for (g, w) in got
        .regression
        .coefficients
        .iter()
        .zip(&want.regression.coefficients)
    {
        assert_close(
            &format!("{what}: {} estimate", g.term),
            g.estimate,
            w.estimate,
            TOL,
        );
        assert_close(
            &format!("{what}: {} std_error", g.term),
            g.std_error,
            w.std_error,
            TOL,
        );
    }
    assert_close(&format!("{what}: R²"), got.r_squared, want.r_squared, TOL);
    assert_close(
        &format!("{what}: effective n"),
        got.effective_n,
        want.effective_n,
        TOL,
    );
    let (g, w) = (
        got.scores(ImportanceMeasure::Lmg).unwrap(),
        want.scores(ImportanceMeasure::Lmg).unwrap(),
    );
    for (a, b) in g.raw.iter().zip(&w.raw) {
        assert_close(&format!("{what}: LMG"), *a, *b, TOL);
    }
    for (a, b) in got.vif.iter().zip(&want.vif) {
        assert_close(&format!("{what}: VIF"), *a, *b, TOL);
    }
    assert_eq!(got.warnings, want.warnings, "{what}");
}

/// Sizes of a small design (refined QR) and of a large one (blocks, semi-normal equations).
const SIZES: [usize; 2] = [500, 80_000];

#[test]
fn every_width_gives_the_figures_of_f64_columns() {
    for n in SIZES {
        let s = survey(n, 3);
        let as_i8: Vec<i8> = s.x[0].iter().map(|&v| v as i8).collect();
        let as_u8: Vec<u8> = s.x[0].iter().map(|&v| v as u8).collect();
        let as_i32: Vec<i32> = s.x[1].iter().map(|&v| i32::from(v)).collect();
        let as_u64: Vec<u64> = s.x[1].iter().map(|&v| v as u64).collect();
        let as_f32: Vec<f32> = s.x[2].iter().map(|&v| f32::from(v)).collect();
        let as_i64: Vec<i64> = s.x[2].iter().map(|&v| i64::from(v)).collect();
        let y_u16: Vec<u16> = s.y.iter().map(|&v| v as u16).collect();
        let y_f64 = f64s(&s.y);
        let widths: Vec<(&str, Numbers<'_>, Numbers<'_>, Numbers<'_>, Numbers<'_>)> = vec![
            (
                "i16",
                (&s.y[..]).into(),
                (&s.x[0][..]).into(),
                (&s.x[1][..]).into(),
                (&s.x[2][..]).into(),
            ),
            (
                "i8/i32/f32",
                (&y_f64[..]).into(),
                (&as_i8[..]).into(),
                (&as_i32[..]).into(),
                (&as_f32[..]).into(),
            ),
            (
                "u16/u8/u64/i64",
                (&y_u16[..]).into(),
                (&as_u8[..]).into(),
                (&as_u64[..]).into(),
                (&as_i64[..]).into(),
            ),
        ];
        for weighted in [false, true] {
            let want = reference(&s, weighted, None);
            for (label, y, a, b, c) in &widths {
                let design = Design::new(
                    Column::new("ltr", *y),
                    vec![
                        Column::new("a", *a),
                        Column::new("b", *b),
                        Column::new("c", *c),
                        Column::new("flag", &s.flag[..]),
                    ],
                    weighted.then_some(&s.w[..]),
                )
                .unwrap();
                let got = driver_analysis_design(&design, &DriverOptions::default()).unwrap();
                assert_same(
                    &format!("n = {n}, {label}, weighted {weighted}"),
                    &got,
                    &want,
                );
            }
        }
    }
}

#[test]
fn masked_values_are_missing_values() {
    for n in SIZES {
        let s = survey(n, 5);
        let missing: Vec<bool> = (0..n).map(|i| i % 13 == 4 || i % 101 == 0).collect();
        let design = |policy_weights: bool| {
            Design::new(
                Column::new("ltr", &s.y[..]),
                vec![
                    Column::new("a", &s.x[0][..]),
                    Column::new("b", &s.x[1][..]).with_missing(&missing),
                    Column::new("c", &s.x[2][..]),
                    Column::new("flag", &s.flag[..]),
                ],
                policy_weights.then_some(&s.w[..]),
            )
            .unwrap()
        };
        for weighted in [false, true] {
            let d = design(weighted);
            let got = driver_analysis_design(&d, &DriverOptions::default()).unwrap();
            // The same data as f64 with NaN where masked.
            let want = reference(&s, weighted, Some(&missing));
            assert_same(&format!("n = {n}, NaN, weighted {weighted}"), &got, &want);
            assert_eq!(got.n_omitted, missing.iter().filter(|&&m| m).count());
            // The same as removing those rows first.
            let keep: Vec<usize> = (0..n).filter(|&i| !missing[i]).collect();
            let pick = |c: &[i16]| -> Vec<f64> { keep.iter().map(|&i| f64::from(c[i])).collect() };
            let cols: Vec<Vec<f64>> = s.x.iter().map(|c| pick(c)).collect();
            let flag: Vec<f64> = keep
                .iter()
                .map(|&i| f64::from(u8::from(s.flag[i])))
                .collect();
            let w: Vec<f64> = keep.iter().map(|&i| s.w[i]).collect();
            let drivers: Vec<(&str, &[f64])> = vec![
                ("a", &cols[0]),
                ("b", &cols[1]),
                ("c", &cols[2]),
                ("flag", &flag),
            ];
            let dropped = driver_analysis(
                &pick(&s.y),
                &drivers,
                weighted.then_some(&w[..]),
                &DriverOptions::default(),
            )
            .unwrap();
            assert_eq!(got.n as usize, keep.len());
            assert_close("R² vs rows dropped", got.r_squared, dropped.r_squared, TOL);
            for (g, w) in got
                .regression
                .coefficients
                .iter()
                .zip(&dropped.regression.coefficients)
            {
                assert_close(
                    &format!("n = {n}: {} vs rows dropped", g.term),
                    g.estimate,
                    w.estimate,
                    TOL,
                );
                assert_close(
                    &format!("n = {n}: {} se vs rows dropped", g.term),
                    g.std_error,
                    w.std_error,
                    TOL,
                );
            }
            // The policies that work on a float64 copy agree too.
            let pairwise = DriverOptions::default().with_missing(MissingPolicy::Pairwise);
            let mut cols: Vec<Vec<f64>> = s.x.iter().map(|c| f64s(c)).collect();
            for (v, &gone) in cols[1].iter_mut().zip(&missing) {
                if gone {
                    *v = f64::NAN;
                }
            }
            let flag = f64s(&s.flag.iter().map(|&f| u8::from(f)).collect::<Vec<u8>>());
            let drivers: Vec<(&str, &[f64])> = vec![
                ("a", &cols[0]),
                ("b", &cols[1]),
                ("c", &cols[2]),
                ("flag", &flag),
            ];
            let want = driver_analysis(
                &f64s(&s.y),
                &drivers,
                weighted.then_some(&s.w[..]),
                &pairwise,
            )
            .unwrap();
            assert_eq!(driver_analysis_design(&d, &pairwise).unwrap(), want);
            // raise names the first masked value.
            let err = driver_analysis_design(
                &d,
                &DriverOptions::default().with_missing(MissingPolicy::Raise),
            )
            .unwrap_err();
            assert!(
                err.to_string().contains("\"b\"") && err.to_string().contains("row 0"),
                "{err}"
            );
        }
    }
}

#[test]
fn errors_name_the_column() {
    // Two rows: too few.
    let y: [u8; 2] = [1, 2];
    let x: [i16; 2] = [3, 4];
    let d = Design::new(
        Column::new("ltr", &y[..]),
        vec![Column::new("x", &x[..])],
        None,
    )
    .unwrap();
    assert!(matches!(
        driver_analysis_design(&d, &DriverOptions::default()),
        Err(Error::TooFewRows { rows: 2, needed: 3 })
    ));
    for n in SIZES {
        let s = survey(n, 9);
        // A driver that is the sum of two others: collinear, named.
        let sum: Vec<i32> = s.x[0]
            .iter()
            .zip(&s.x[1])
            .map(|(a, b)| i32::from(*a) + i32::from(*b))
            .collect();
        let d = Design::new(
            Column::new("ltr", &s.y[..]),
            vec![
                Column::new("a", &s.x[0][..]),
                Column::new("b", &s.x[1][..]),
                Column::new("a+b", &sum[..]),
            ],
            None,
        )
        .unwrap();
        match driver_analysis_design(&d, &DriverOptions::default()) {
            Err(Error::Collinear { columns }) => assert!(columns.contains("a+b"), "{columns}"),
            other => panic!("n = {n}: {other:?}"),
        }
        // An infinity in a float32 driver: named with its row.
        let mut f: Vec<f32> = s.x[2].iter().map(|&v| f32::from(v)).collect();
        f[n / 2] = f32::INFINITY;
        let d = Design::new(
            Column::new("ltr", &s.y[..]),
            vec![Column::new("a", &s.x[0][..]), Column::new("f", &f[..])],
            None,
        )
        .unwrap();
        let err = driver_analysis_design(&d, &DriverOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("\"f\"")
                && err.to_string().contains(&format!("row {}", n / 2)),
            "{err}"
        );
        // A constant driver of another width: zero variance, named.
        let constant = vec![7u8; n];
        let d = Design::new(
            Column::new("ltr", &s.y[..]),
            vec![
                Column::new("a", &s.x[0][..]),
                Column::new("k", &constant[..]),
            ],
            None,
        )
        .unwrap();
        let err = driver_analysis_design(&d, &DriverOptions::default()).unwrap_err();
        assert!(
            err.to_string().contains("\"k\"") && err.to_string().contains("zero variance"),
            "{err}"
        );
    }
    // The design's outcome must be the options' outcome.
    let d = Design::new(
        Column::new("csat", &y[..]),
        vec![Column::new("x", &x[..])],
        None,
    )
    .unwrap();
    assert!(matches!(
        driver_analysis_design(&d, &DriverOptions::default()),
        Err(Error::InvalidArgument { .. })
    ));
}

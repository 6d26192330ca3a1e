//! The importance–performance matrix: quadrants under each cut rule, priority order, uncertainty
//! marking, and the matrix of the sample survey's driver analysis.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::drivers::matrix::{
    importance_performance, importance_performance_from_scores, CutLine, DriverPoint,
    MatrixOptions, Performance, Quadrant, RatedDriver,
};
use cx_metrics::drivers::{pillar_driver_analysis, pillar_names, DriverOptions};
use cx_metrics::{Direction, Error, ImportanceMeasure, Interval, Scale};

const SAMPLE_SURVEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../python/cx_metrics/data/sample_survey.csv"
);

/// A CSV with a header; blank or non-numeric fields are NaN.
fn read_csv(path: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut cols = vec![Vec::new(); header.len()];
    for line in lines.filter(|l| !l.trim().is_empty()) {
        for (c, field) in line.split(',').enumerate() {
            cols[c].push(field.parse::<f64>().unwrap_or(f64::NAN));
        }
    }
    (header, cols)
}

fn ten() -> Scale {
    Scale::new(1, 10, Direction::HigherIsBetter).unwrap()
}

/// Five drivers on 1..10. Importance sums to 1: mean 0.2, median 0.11 (sorted .08 .10 .11 .26 .45).
/// Performance: mean (6 + 8.5 + 5 + 9 + 7.2)/5 = 35.7/5 = 7.14, median 7.2.
fn five() -> Vec<DriverPoint> {
    [
        ("a", 0.45, 6.0),
        ("b", 0.26, 8.5),
        ("c", 0.11, 5.0),
        ("d", 0.08, 9.0),
        ("e", 0.10, 7.2),
    ]
    .iter()
    .map(|&(n, i, p)| DriverPoint::new(n, i, p, ten()))
    .collect()
}

fn quadrants(options: &MatrixOptions) -> Vec<Quadrant> {
    let m = importance_performance_from_scores(&five(), options).unwrap();
    m.drivers.iter().map(|d| d.quadrant).collect()
}

#[test]
fn quadrants_with_the_mean_cut() {
    use Quadrant::*;
    let m = importance_performance_from_scores(&five(), &MatrixOptions::default()).unwrap();
    assert_close("m.importance_line", m.importance_line, 0.2, Tol::abs(1e-15));
    assert_close(
        "m.performance_line",
        m.performance_line,
        7.14,
        Tol::abs(1e-14),
    );
    // a (.45, 6): important, under; b (.26, 8.5): important, performing; c (.11, 5): neither;
    // d (.08, 9): performing only; e (.10, 7.2 ≥ 7.14): performing only.
    assert_eq!(
        quadrants(&MatrixOptions::default()),
        [
            FixFirst,
            KeepItUp,
            LowPriority,
            PossibleOverkill,
            PossibleOverkill
        ]
    );
}

#[test]
fn quadrants_with_the_median_cut() {
    use Quadrant::*;
    let options = MatrixOptions::default().with_cuts(CutLine::Median, CutLine::Median);
    let m = importance_performance_from_scores(&five(), &options).unwrap();
    assert_eq!((m.importance_line, m.performance_line), (0.11, 7.2));
    // Lines at .11 and 7.2: c sits on the importance line (counts as important, 5 < 7.2: fix_first);
    // e sits on the performance line (counts as performing; .10 < .11: possible_overkill).
    assert_eq!(
        quadrants(&options),
        [
            FixFirst,
            KeepItUp,
            FixFirst,
            PossibleOverkill,
            PossibleOverkill
        ]
    );
}

#[test]
fn quadrants_with_given_values_and_an_even_median() {
    use Quadrant::*;
    let options = MatrixOptions::default().with_cuts(CutLine::Value(0.09), CutLine::Value(8.0));
    // Lines at .09 and 8: e (.10, 7.2) is now important and under-performing; d (.08, 9) unimportant.
    assert_eq!(
        quadrants(&options),
        [FixFirst, KeepItUp, FixFirst, PossibleOverkill, FixFirst]
    );
    // Four drivers: the median is the mean of the two middle values, (.11 + .26)/2 = .185.
    let four = &five()[..4];
    let options = MatrixOptions::default().with_cuts(CutLine::Median, CutLine::Value(7.0));
    let m = importance_performance_from_scores(four, &options).unwrap();
    assert_close(
        "m.importance_line",
        m.importance_line,
        0.185,
        Tol::abs(1e-15),
    );
    let q: Vec<Quadrant> = m.drivers.iter().map(|d| d.quadrant).collect();
    assert_eq!(q, [FixFirst, KeepItUp, LowPriority, PossibleOverkill]);
}

#[test]
fn lower_is_better_means_perform_below_the_line() {
    use Quadrant::*;
    // CES 1.0 style: 1 = very low effort (best). Means 2.0 and 4.0, line 3.0 (the mean).
    let s = Scale::new(1, 5, Direction::LowerIsBetter).unwrap();
    let points = [
        DriverPoint::new("effort", 0.7, 4.0, s),
        DriverPoint::new("waiting", 0.3, 2.0, s),
    ];
    let m = importance_performance_from_scores(&points, &MatrixOptions::default()).unwrap();
    assert_eq!(m.direction, Direction::LowerIsBetter);
    assert_eq!(m.drivers[0].quadrant, FixFirst);
    assert_eq!(m.drivers[1].quadrant, PossibleOverkill);
    // Headroom to the best point 1 on a range of 4: (4 − 1)/4 = 0.75 and (2 − 1)/4 = 0.25.
    assert_eq!(m.drivers[0].headroom, 0.75);
    assert_eq!(m.drivers[1].headroom, 0.25);
}

#[test]
fn priority_follows_the_expected_gain() {
    let m = importance_performance_from_scores(&five(), &MatrixOptions::default()).unwrap();
    // gain = importance × (10 − mean)/9:
    // a .45·4/9 = .2; b .26·1.5/9 = .04333; c .11·5/9 = .06111; d .08·1/9 = .00889; e .10·2.8/9 = .03111.
    let expected = [
        0.2,
        0.26 * 1.5 / 9.0,
        0.11 * 5.0 / 9.0,
        0.08 / 9.0,
        0.1 * 2.8 / 9.0,
    ];
    for (d, g) in m.drivers.iter().zip(expected) {
        assert!((d.expected_gain - g).abs() < 1e-15, "{}", d.name);
    }
    let ranks: Vec<usize> = m.drivers.iter().map(|d| d.priority).collect();
    assert_eq!(ranks, [1, 3, 2, 5, 4]);
    let order: Vec<&str> = m.priorities().iter().map(|d| d.name.as_str()).collect();
    assert_eq!(order, ["a", "c", "b", "e", "d"]);
    let fix: Vec<&str> = m
        .in_quadrant(Quadrant::FixFirst)
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(fix, ["a"]);
    // Equal gains (.2 · 4.5/9 = .1 = .1 · 9/9, both exact): the more important driver ranks first.
    let tie = [
        DriverPoint::new("g", 0.1, 1.0, ten()),
        DriverPoint::new("f", 0.2, 5.5, ten()),
    ];
    let m = importance_performance_from_scores(&tie, &MatrixOptions::default()).unwrap();
    assert_eq!(m.drivers[0].expected_gain, m.drivers[1].expected_gain);
    assert_eq!((m.drivers[0].priority, m.drivers[1].priority), (2, 1));
}

#[test]
fn top_box_priority_uses_the_share_left() {
    let points = [
        DriverPoint::new("a", 0.6, 0.50, ten()),
        DriverPoint::new("b", 0.4, 0.20, ten()),
    ];
    let options = MatrixOptions::default().with_performance(Performance::TopBox);
    let m = importance_performance_from_scores(&points, &options).unwrap();
    // gains .6 · (1 − .5) = .3 and .4 · (1 − .2) = .32: b first.
    assert_close(
        "m.drivers[0].expected_gain",
        m.drivers[0].expected_gain,
        0.3,
        Tol::abs(1e-15),
    );
    assert_close(
        "m.drivers[1].expected_gain",
        m.drivers[1].expected_gain,
        0.32,
        Tol::abs(1e-15),
    );
    assert_eq!((m.drivers[0].priority, m.drivers[1].priority), (2, 1));
    assert_eq!(m.drivers[0].quadrant, Quadrant::KeepItUp);
    assert_eq!(m.drivers[1].quadrant, Quadrant::LowPriority);
}

#[test]
fn intervals_crossing_a_line_mark_the_axis_uncertain() {
    // Lines .2 and 7.14 (mean cuts).
    let iv = |a, b| Interval::new(a, b, 0.95);
    let importance = vec![
        iv(0.30, 0.60), // a: clear of .2
        iv(0.15, 0.40), // b: contains .2
        iv(0.05, 0.20), // c: ends on .2 (closed interval: uncertain)
        iv(0.02, 0.12), // d: clear
        iv(0.05, 0.19), // e: clear
    ];
    let performance = vec![
        iv(5.5, 6.5), // a: clear of 7.14
        iv(8.0, 9.0), // b: clear
        iv(4.5, 5.5), // c: clear
        iv(8.5, 9.5), // d: clear
        iv(6.9, 7.5), // e: contains 7.14
    ];
    let options = MatrixOptions::default().with_intervals(Some(importance), Some(performance));
    let m = importance_performance_from_scores(&five(), &options).unwrap();
    let flags: Vec<(bool, bool)> = m
        .drivers
        .iter()
        .map(|d| (d.uncertain_importance, d.uncertain_performance))
        .collect();
    assert_eq!(
        flags,
        [
            (false, false),
            (true, false),
            (true, false),
            (false, false),
            (false, true)
        ]
    );
    assert!(!m.drivers[0].uncertain() && m.drivers[4].uncertain());
    // Without intervals nothing is uncertain.
    let m = importance_performance_from_scores(&five(), &MatrixOptions::default()).unwrap();
    assert!(m.drivers.iter().all(|d| !d.uncertain()));
    // One interval short: an error, not a silent guess.
    let options = MatrixOptions::default().with_intervals(Some(vec![iv(0.0, 1.0)]), None);
    assert!(matches!(
        importance_performance_from_scores(&five(), &options),
        Err(Error::LengthMismatch { .. })
    ));
}

/// Reversed or NaN intervals were taken as given (a reversed interval contains nothing, so the
/// driver was silently certain): now a typed error naming the driver and the argument.
#[test]
fn reversed_or_nan_intervals_are_refused() {
    let iv = |a, b| Interval::new(a, b, 0.95);
    let good = || vec![iv(0.1, 0.2); 5];
    let mut reversed = good();
    reversed[2] = iv(0.3, 0.1);
    let mut nan = good();
    nan[3] = iv(f64::NAN, 0.2);
    for (imp, perf, name, driver) in [
        (Some(reversed.clone()), None, "importance_intervals", "c"),
        (None, Some(nan.clone()), "performance_intervals", "d"),
        (Some(nan), None, "importance_intervals", "d"),
    ] {
        let options = MatrixOptions::default().with_intervals(imp, perf);
        let e = importance_performance_from_scores(&five(), &options).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidArgument { name: n, .. } if *n == name),
            "{e}"
        );
        assert!(e.to_string().contains(&format!("{driver:?}")), "{e}");
    }
}

#[test]
fn option_strings_and_bad_inputs() {
    assert_eq!("mean".parse::<CutLine>().unwrap(), CutLine::Mean);
    assert_eq!("median".parse::<CutLine>().unwrap(), CutLine::Median);
    assert_eq!("0.25".parse::<CutLine>().unwrap(), CutLine::Value(0.25));
    assert!("nan".parse::<CutLine>().is_err());
    assert!("average".parse::<CutLine>().is_err());
    assert_eq!(
        "top_box".parse::<Performance>().unwrap(),
        Performance::TopBox
    );
    for q in Quadrant::ALL {
        assert_eq!(q.as_str().parse::<Quadrant>().unwrap(), q);
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            format!("\"{}\"", q.as_str())
        );
    }
    let ids: Vec<&str> = Quadrant::ALL.iter().map(|q| q.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fix_first",
            "keep_it_up",
            "low_priority",
            "possible_overkill"
        ]
    );
    let five_point = Scale::new(1, 5, Direction::HigherIsBetter).unwrap();
    let mixed = [
        DriverPoint::new("a", 0.5, 4.0, five_point),
        DriverPoint::new("b", 0.5, 7.0, ten()),
    ];
    assert!(matches!(
        importance_performance_from_scores(&mixed, &MatrixOptions::default()),
        Err(Error::Incompatible(_))
    ));
    let options = MatrixOptions::default().with_performance(Performance::TopBox);
    assert!(importance_performance_from_scores(&five(), &options).is_err());
    assert!(importance_performance_from_scores(&[], &MatrixOptions::default()).is_err());
    let twice = [
        DriverPoint::new("a", 0.5, 4.0, ten()),
        DriverPoint::new("a", 0.5, 7.0, ten()),
    ];
    assert!(importance_performance_from_scores(&twice, &MatrixOptions::default()).is_err());
    let nan = [DriverPoint::new("a", f64::NAN, 4.0, ten())];
    assert!(importance_performance_from_scores(&nan, &MatrixOptions::default()).is_err());
    assert!(RatedDriver::new("a", &[1.0], ten(), 0).is_err());
    assert!(RatedDriver::new("a", &[1.0], ten(), 10).is_err());
}

#[test]
fn sample_survey_matrix_from_the_driver_analysis() {
    let (header, cols) = read_csv(SAMPLE_SURVEY);
    let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].as_slice();
    let pillars = pillar_names();
    let weights = col("weight");
    let analysis = pillar_driver_analysis(
        col("ltr"),
        pillars.map(col),
        Some(weights),
        &DriverOptions::default(),
    )
    .unwrap();
    let columns: Vec<RatedDriver<'_>> = pillars
        .iter()
        .map(|p| RatedDriver::new(p, col(p), ten(), 2).unwrap())
        .collect();
    let m = importance_performance(
        &analysis,
        &columns,
        Some(weights),
        &MatrixOptions::default(),
    )
    .unwrap();
    let lmg = analysis.scores(ImportanceMeasure::Lmg).unwrap();
    // Blanks per pillar, from python/cx_metrics/data/README.md: integrity 65, resolution 851,
    // expectations 69, time and effort 50, personalisation 116, empathy 89.
    let blanks = [65u64, 851, 69, 50, 116, 89];
    for (j, d) in m.drivers.iter().enumerate() {
        assert_eq!(d.name, pillars[j]);
        assert_eq!(d.importance, lmg.share.as_ref().unwrap()[j]);
        assert_eq!(d.n_missing, blanks[j], "{}", d.name);
        assert_eq!(d.n, 2000 - blanks[j]);
        // Weighted mean of the non-blank ratings, summed here in a plain loop.
        let x = col(pillars[j]);
        let (mut sw, mut sx) = (0.0, 0.0);
        for i in 0..x.len() {
            if !x[i].is_nan() {
                sw += weights[i];
                sx += weights[i] * x[i];
            }
        }
        assert!((d.performance - sx / sw).abs() < 1e-12, "{}", d.name);
        let important = d.importance >= m.importance_line;
        let performing = d.performance >= m.performance_line;
        assert_eq!(d.quadrant, Quadrant::of(important, performing));
    }
    // The LMG shares sum to 1, so their mean line is 1/6.
    assert_close(
        "m.importance_line",
        m.importance_line,
        1.0 / 6.0,
        Tol::abs(1e-12),
    );
    // Top-2 box (9–10) shares, and raw LMG on request.
    let options = MatrixOptions::default()
        .with_measure(ImportanceMeasure::Lmg, false)
        .with_performance(Performance::TopBox);
    let t = importance_performance(&analysis, &columns, Some(weights), &options).unwrap();
    for (j, d) in t.drivers.iter().enumerate() {
        assert_eq!(d.importance, lmg.raw[j]);
        let x = col(pillars[j]);
        let (mut sw, mut st) = (0.0, 0.0);
        for i in 0..x.len() {
            if !x[i].is_nan() {
                sw += weights[i];
                if x[i] >= 9.0 {
                    st += weights[i];
                }
            }
        }
        assert!((d.performance - st / sw).abs() < 1e-12, "{}", d.name);
        assert_close("d.headroom", d.headroom, 1.0 - st / sw, Tol::abs(1e-12));
    }
    let json = serde_json::to_string(&t).unwrap();
    assert_eq!(
        serde_json::from_str::<cx_metrics::drivers::ImportancePerformance>(&json).unwrap(),
        t
    );
    // A ranked driver without a column.
    assert!(matches!(
        importance_performance(
            &analysis,
            &columns[1..],
            Some(weights),
            &MatrixOptions::default()
        ),
        Err(Error::UnknownColumn { .. })
    ));
}

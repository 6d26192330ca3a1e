//! What-if simulation: hand-computed examples of every shift, caps and clips, exact reproduction of
//! the observed NPS, monotonicity, and the seeded bootstrap on the sample survey.

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::drivers::matrix::RatedDriver;
use cx_metrics::drivers::whatif::{what_if, what_if_bootstrap, Binning, Scenario, Shift, WhatIf};
use cx_metrics::drivers::{driver_analysis, pillar_names, DriverOptions};
use cx_metrics::{Direction, Error, NanPolicy, NpsCategory, Scale, ScaleTally};

const SAMPLE_SURVEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../python/cx_metrics/data/sample_survey.csv"
);

/// Tolerance of the hand-computed examples: the slopes are exact in theory and the simulated answers
/// land within a few ulps of whole points, so the NPS figures are exact fractions to rounding.
const TOL: f64 = 1e-12;

fn close(actual: f64, expected: f64, what: &str) {
    assert_close(what, actual, expected, Tol::abs(TOL));
}

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

fn five() -> Scale {
    Scale::new(1, 5, Direction::HigherIsBetter).unwrap()
}

fn ten() -> Scale {
    Scale::new(1, 10, Direction::HigherIsBetter).unwrap()
}

// Data A: one driver on 1..5, ltr = 3 + 2·x + e with e = (+1, −1, −1, +1, +1, −1); e sums to 0 and
// Σ x·e = 1 − 1 − 2 + 2 + 3 − 3 = 0, so least squares gives β = 2 and intercept 3 exactly, also with
// the weights (2, 2, 1, 1, 1, 1) (Σ w·e = 0 and Σ w·x·e = 0).
// Observed ltr: 6 4 6 8 10 8 → D D D P0 P P0: NPS = (1 − 3)/6 = −1/3.
const A_X: [f64; 6] = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
const A_Y: [f64; 6] = [6.0, 4.0, 6.0, 8.0, 10.0, 8.0];

fn run_a(top_box: u32, weights: Option<&[f64]>, shift: Shift, binning: Binning) -> WhatIf {
    let d = [RatedDriver::new("ease", &A_X, five(), top_box).unwrap()];
    let scenario = Scenario::new(&[("ease", shift)]).with_binning(binning);
    what_if(&A_Y, &d, weights, &scenario).unwrap()
}

/// Both binnings: with whole-point changes of the answers (β = 2 times whole rating points) they agree.
const BOTH: [Binning; 2] = [Binning::Latent, Binning::Round];

/// `Scenario::new` with the default binning.
fn sc(shifts: &[(&str, Shift)]) -> Scenario {
    Scenario::new(shifts)
}

#[test]
fn shift_all_by_hand() {
    for b in BOTH {
        // +1: x → 2 2 3 3 4 4 (no cap), ltr + 2 → 8 6 8 10 12 10; 12 is clipped to 10.
        // Categories P0 D P0 P P P: NPS = (3 − 1)/6 = 1/3; change 1/3 − (−1/3) = 2/3.
        let r = run_a(1, None, Shift::All(1.0), b);
        assert_eq!(r.binning, b);
        close(r.baseline, -1.0 / 3.0, "baseline");
        close(r.simulated, 1.0 / 3.0, "simulated");
        close(r.change, 2.0 / 3.0, "change");
        assert_eq!(
            (r.n, r.n_capped, r.n_clipped_low, r.n_clipped_high),
            (6, 0, 0, 1)
        );
        assert_eq!(r.scenario[0].n_changed, 6);
        close(r.scenario[0].coefficient, 2.0, "β");
        close(r.scenario[0].mean_change, 1.0, "mean Δx");
        // +3: x → 4 4 5 5 6→5 6→5, Δx = 3 3 3 3 2 2 (two capped at 5);
        // ltr' = 12 10 12 14 14 12 → five clipped to 10, all promoters: NPS 1, change 4/3.
        let r = run_a(1, None, Shift::All(3.0), b);
        close(r.simulated, 1.0, "simulated");
        close(r.change, 4.0 / 3.0, "change");
        assert_eq!((r.n_capped, r.n_clipped_high), (2, 5));
        assert_eq!(r.scenario[0].n_capped, 2);
        // −1: x → 1 1 1 1 2 2 (rows 1–2 capped at 1), Δx = 0 0 −1 −1 −1 −1;
        // ltr' = 6 4 4 6 8 6 → D D D D P0 D: NPS −5/6, change −5/6 + 1/3 = −1/2.
        let r = run_a(1, None, Shift::All(-1.0), b);
        close(r.simulated, -5.0 / 6.0, "simulated");
        close(r.change, -0.5, "change");
        assert_eq!((r.n_capped, r.scenario[0].n_changed), (2, 4));
    }
}

#[test]
fn latent_binning_of_half_points_by_hand() {
    // +0.25 on data A: every answer moves by β·0.25 = 0.5 point. Latent binning spreads ltr' over
    // [ltr' − ½, ltr' + ½) and scores it (share above 8.5) − (share below 6.5):
    //   6 → 6.5: [6, 7) half below 6.5 → −0.5;   4 → 4.5: [4, 5) → −1;   6 → 6.5 → −0.5;
    //   8 → 8.5: [8, 9) half above 8.5 → +0.5;  10 → 10.5 → +1;  8 → +0.5.
    // NPS = (−0.5 − 1 − 0.5 + 0.5 + 1 + 0.5)/6 = 0; change 0 − (−1/3) = 1/3.
    let r = run_a(1, None, Shift::All(0.25), Binning::Latent);
    close(r.simulated, 0.0, "simulated");
    close(r.change, 1.0 / 3.0, "change");
    // Below 2 by 0.25: rows 1–2 only, 6 → −0.5 and 4 → −1 (unchanged): NPS (−0.5 − 1 − 1 + 0 + 1 + 0)/6
    // = −1/4, change −1/4 + 1/3 = 1/12.
    let r = run_a(
        1,
        None,
        Shift::Below {
            threshold: 2.0,
            delta: 0.25,
        },
        Binning::Latent,
    );
    close(r.simulated, -0.25, "simulated");
    close(r.change, 1.0 / 12.0, "change");
    // Rounding moves nobody by a quarter of a point (0.25·2 = 0.5 is a tie, so use 0.2: 0.4 point).
    let r = run_a(1, None, Shift::All(0.2), Binning::Round);
    assert_eq!(r.change, 0.0);
    let r = run_a(1, None, Shift::All(0.2), Binning::Latent);
    // 0.4 point: 6 → [5.9, 6.9): 0.6 below 6.5 → −0.6 (twice); 8 → [7.9, 8.9): +0.4 (twice);
    // 4 → −1; 10 → +1: NPS (−1.2 + 0.8 − 1 + 1)/6 = −0.4/6, change −1/15 + 1/3 = 4/15.
    close(r.change, 4.0 / 15.0, "change");
}

#[test]
fn shift_below_by_hand() {
    for b in BOTH {
        // Ratings below 2 (rows 1–2) +1 → x = 2 2 2 2 3 3; ltr' = 8 6 6 8 10 8 → P0 D D P0 P P0:
        // NPS (1 − 2)/6 = −1/6, change 1/6.
        let below = |threshold, delta| Shift::Below { threshold, delta };
        let r = run_a(1, None, below(2.0, 1.0), b);
        close(r.simulated, -1.0 / 6.0, "simulated");
        close(r.change, 1.0 / 6.0, "change");
        assert_eq!((r.scenario[0].n_changed, r.n_capped), (2, 0));
        // Ratings below 3 (rows 1–4) +5 → 6 6 7 7, capped at 5: Δx = 4 4 3 3 0 0;
        // ltr' = 14 12 12 14 10 8 → four clipped; P P P P P P0: NPS 5/6, change 7/6.
        let r = run_a(1, None, below(3.0, 5.0), b);
        close(r.simulated, 5.0 / 6.0, "simulated");
        close(r.change, 7.0 / 6.0, "change");
        assert_eq!((r.n_capped, r.n_clipped_high), (4, 4));
    }
}

#[test]
fn shift_to_a_top_box_target_by_hand() {
    let target = |share| Shift::TopBoxTarget { share };
    for b in BOTH {
        // Top-2 box of 1..5 = {4, 5}; nobody is in it. Target 1/2 of 6 rows = 3 rows, lowest first:
        // rows 1, 2 (x = 1) then row 3 (x = 2, first in row order), each lifted to 4: Δx = 3 3 2 0 0 0.
        // ltr' = 12 10 10 8 10 8 → one clipped; P P P P0 P P0: NPS 4/6, change 4/6 + 1/3 = 1.
        let r = run_a(2, None, target(0.5), b);
        close(r.simulated, 2.0 / 3.0, "simulated");
        close(r.change, 1.0, "change");
        assert_eq!((r.n_clipped_high, r.scenario[0].n_changed), (1, 3));
        assert_eq!(r.scenario[0].top_box_before, 0.0);
        assert_eq!(r.scenario[0].top_box_after, 0.5);
        // Weighted (2, 2, 1, 1, 1, 1), Σw = 8: baseline D = 2 + 2 + 1, P = 1 → (1 − 5)/8 = −1/2.
        // Target 1/2 of 8 = 4: rows 1 and 2 (weight 2 each) reach it. Δx = 3 3 0 0 0 0;
        // ltr' = 12→10 10 6 8 10 8 → P(2) P(2) D(1) P0(1) P(1) P0(1): (5 − 1)/8 = 1/2, change 1.
        let w = [2.0, 2.0, 1.0, 1.0, 1.0, 1.0];
        let r = run_a(2, Some(&w), target(0.5), b);
        close(r.baseline, -0.5, "weighted baseline");
        close(r.simulated, 0.5, "weighted simulated");
        close(r.change, 1.0, "weighted change");
        close(r.scenario[0].coefficient, 2.0, "weighted β");
        assert_eq!(r.scenario[0].n_changed, 2);
        // A target already met changes nothing: top_box 4 = {2..5} holds 4 of 6 rows.
        let r = run_a(4, None, target(0.5), b);
        assert_eq!(r.simulated.to_bits(), r.baseline.to_bits());
        assert_eq!(r.scenario[0].n_changed, 0);
        // Share 1: everyone into the top box.
        let r = run_a(2, None, target(1.0), b);
        assert_eq!(r.scenario[0].top_box_after, 1.0);
    }
}

#[test]
fn several_drivers_at_once_by_hand() {
    // Data B: ltr = 1 + 2·x1 + 1·x2 + e, e = (+1, −1, −1, +1, +1, −1), orthogonal to 1, x1 and x2
    // (Σ x2·e = 1 − 1 − 2 + 2 + 1 − 1 = 0): β = (2, 1) exactly. ltr = 5 3 6 8 9 7 → NPS −1/3.
    let x1 = [1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
    let x2 = [1.0, 1.0, 2.0, 2.0, 1.0, 1.0];
    let y = [5.0, 3.0, 6.0, 8.0, 9.0, 7.0];
    let d = [
        RatedDriver::new("speed", &x1, five(), 1).unwrap(),
        RatedDriver::new("ease", &x2, five(), 1).unwrap(),
    ];
    for b in BOTH {
        // Both +1: ltr + 3 = 8 6 9 11 12 10 → two clipped; P0 D P P P P: NPS 1/2, change 5/6.
        let both = sc(&[("speed", Shift::All(1.0)), ("ease", Shift::All(1.0))]).with_binning(b);
        let r = what_if(&y, &d, None, &both).unwrap();
        close(r.baseline, -1.0 / 3.0, "baseline");
        close(r.simulated, 0.5, "simulated");
        close(r.change, 5.0 / 6.0, "change");
        assert_eq!(r.n_clipped_high, 2);
        close(r.scenario[0].coefficient, 2.0, "β speed");
        close(r.scenario[1].coefficient, 1.0, "β ease");
        assert_eq!(r.to_string(), "raise speed and ease by 1 point → NPS +83.3");
        // Speed only: ltr + 2 = 7 5 8 10 11 9 → P0 D P0 P P P: NPS 1/3, change 2/3.
        let one = sc(&[("speed", Shift::All(1.0))]).with_binning(b);
        let r = what_if(&y, &d, None, &one).unwrap();
        close(r.change, 2.0 / 3.0, "change");
        assert_eq!(r.to_string(), "raise speed by 1 point → NPS +66.7");
    }
    // Different shifts read as separate phrases.
    let mixed = sc(&[
        (
            "speed",
            Shift::Below {
                threshold: 2.0,
                delta: 2.0,
            },
        ),
        ("ease", Shift::TopBoxTarget { share: 0.5 }),
    ]);
    let r = what_if(&y, &d, None, &mixed).unwrap();
    assert!(r.to_string().starts_with(
        "raise speed by 2 points where worse than 2, lift ease to a top-box share of 50 % → NPS "
    ));
}

#[test]
fn clips_at_zero_are_counted() {
    // ltr = −3 + 2·x + e on x = 2 2 3 3 4 4: ltr = 2 0 2 4 6 4 (β = 2 as in data A).
    // −1: x → 1 1 2 2 3 3 (no cap), ltr − 2 = 0 −2 0 2 4 2 → one clipped at 0; all detractors before
    // and after: change 0.
    let x = [2.0, 2.0, 3.0, 3.0, 4.0, 4.0];
    let y = [2.0, 0.0, 2.0, 4.0, 6.0, 4.0];
    let d = [RatedDriver::new("ease", &x, five(), 1).unwrap()];
    for b in BOTH {
        let scenario = sc(&[("ease", Shift::All(-1.0))]).with_binning(b);
        let r = what_if(&y, &d, None, &scenario).unwrap();
        assert_eq!((r.n_clipped_low, r.n_clipped_high, r.n_capped), (1, 0, 0));
        assert_eq!((r.baseline, r.simulated), (-1.0, -1.0));
        assert_eq!(r.to_string(), "lower ease by 1 point → NPS +0.0");
    }
}

struct Survey {
    ltr: Vec<f64>,
    weight: Vec<f64>,
    pillars: Vec<Vec<f64>>,
}

fn survey() -> Survey {
    let (header, cols) = read_csv(SAMPLE_SURVEY);
    let col = |n: &str| cols[header.iter().position(|h| h == n).unwrap()].clone();
    Survey {
        ltr: col("ltr"),
        weight: col("weight"),
        pillars: pillar_names().iter().map(|p| col(p)).collect(),
    }
}

impl Survey {
    fn drivers(&self) -> Vec<RatedDriver<'_>> {
        pillar_names()
            .iter()
            .zip(&self.pillars)
            .map(|(p, c)| RatedDriver::new(p, c, ten(), 2).unwrap())
            .collect()
    }

    fn complete(&self) -> Vec<usize> {
        (0..self.ltr.len())
            .filter(|&i| !self.ltr[i].is_nan() && self.pillars.iter().all(|c| !c[i].is_nan()))
            .collect()
    }
}

/// NPS of a tally of the answers (the foundation's way) and, independently, from a plain loop.
fn observed_nps(ltr: &[f64], weights: Option<&[f64]>) -> (f64, f64) {
    let mut t = ScaleTally::new(Scale::NPS);
    t.fold(ltr, weights, NanPolicy::Raise).unwrap();
    let w = |c: NpsCategory| t.sum_where(|p| NpsCategory::of(p as u8) == c).0;
    let (d, p0, p) = (
        w(NpsCategory::Detractor),
        w(NpsCategory::Passive),
        w(NpsCategory::Promoter),
    );
    let s = d + p0 + p;
    let tally = p / s - d / s;
    let (mut sw, mut net) = (0.0, 0.0);
    for (i, &y) in ltr.iter().enumerate() {
        let wi = weights.map_or(1.0, |w| w[i]);
        sw += wi;
        net += wi * NpsCategory::of(y as u8).sign();
    }
    (tally, net / sw)
}

#[test]
fn zero_change_reproduces_the_observed_nps_exactly() {
    let s = survey();
    let drivers = s.drivers();
    let rows = s.complete();
    // python/cx_metrics/data/README.md: 919 complete rows of ltr and the six pillars.
    assert_eq!(rows.len(), 919);
    let ltr: Vec<f64> = rows.iter().map(|&i| s.ltr[i]).collect();
    let w: Vec<f64> = rows.iter().map(|&i| s.weight[i]).collect();
    let zero_shifts = [
        Shift::All(0.0),
        Shift::All(-0.0),
        Shift::Below {
            threshold: 1.0,
            delta: 3.0,
        },
        Shift::TopBoxTarget { share: 1e-9 },
    ];
    for (weights, b) in [None, Some(s.weight.as_slice())]
        .into_iter()
        .flat_map(|w| BOTH.map(|b| (w, b)))
    {
        let kept = weights.map(|_| w.as_slice());
        let (tally, plain) = observed_nps(&ltr, kept);
        assert_close("tally", tally, plain, Tol::abs(1e-15));
        for shift in zero_shifts {
            let all: Vec<(&str, Shift)> = pillar_names().iter().map(|p| (*p, shift)).collect();
            for scenario in [&all[3..4], &all[..]] {
                let r = what_if(&s.ltr, &drivers, weights, &sc(scenario).with_binning(b)).unwrap();
                assert_eq!(r.n, 919);
                assert_eq!(r.n_omitted, 2000 - 919);
                assert_eq!(r.baseline.to_bits(), tally.to_bits(), "{shift:?}");
                assert_eq!(r.simulated.to_bits(), r.baseline.to_bits(), "{shift:?}");
                assert_eq!(r.change, 0.0);
                assert_eq!((r.n_clipped_low, r.n_clipped_high), (0, 0));
            }
        }
    }
}

#[test]
fn sample_survey_point_change_matches_a_direct_computation() {
    // The driver analysis' slope (tested against the data's documented fit elsewhere), then the
    // smearing, the latent binning, clipping and NPS written out here row by row.
    let s = survey();
    let names = pillar_names();
    let cols: Vec<(&str, &[f64])> = names
        .iter()
        .zip(&s.pillars)
        .map(|(p, c)| (*p, c.as_slice()))
        .collect();
    let fit = driver_analysis(&s.ltr, &cols, Some(&s.weight), &DriverOptions::default()).unwrap();
    let beta = fit.coefficient("time_and_effort").unwrap().estimate;
    // python/cx_metrics/data/README.md: about 0.335 per point (unweighted); below half an ltr point.
    assert!(beta > 0.2 && beta < 0.5, "{beta}");
    let te = &s.pillars[3];
    let (mut sw, mut before, mut after, mut capped, mut clipped) = (0.0, 0.0, 0.0, 0, 0);
    for i in s.complete() {
        let w = s.weight[i];
        let x1 = (te[i] + 1.0).min(10.0);
        capped += usize::from(te[i] + 1.0 > 10.0);
        let m = s.ltr[i] + beta * (x1 - te[i]);
        clipped += usize::from(m >= 10.5);
        // Share of [m − ½, m + ½) above 8.5 minus the share below 6.5.
        let promoter = (m + 0.5 - 8.5).clamp(0.0, 1.0);
        let detractor = (6.5 - (m - 0.5)).clamp(0.0, 1.0);
        sw += w;
        before += w * NpsCategory::of(s.ltr[i] as u8).sign();
        after += w * (promoter - detractor);
    }
    let scenario = sc(&[("time_and_effort", Shift::All(1.0))]);
    let r = what_if(&s.ltr, &s.drivers(), Some(&s.weight), &scenario).unwrap();
    assert_close(
        "r.scenario[0].coefficient",
        r.scenario[0].coefficient,
        beta,
        Tol::abs(1e-12),
    );
    assert_close("r.change", r.change, (after - before) / sw, Tol::abs(1e-12));
    assert_eq!(r.n_capped, capped as u64);
    assert_eq!(r.n_clipped_high, clipped as u64);
    assert!(r.change > 0.0);
    // Rounding instead: a change of β < ½ point moves no whole answer, so the NPS does not move.
    let rounded = scenario.with_binning(Binning::Round);
    let r = what_if(&s.ltr, &s.drivers(), Some(&s.weight), &rounded).unwrap();
    assert_eq!(r.change, 0.0);
}

#[test]
fn larger_changes_never_lower_the_nps_when_the_slope_is_positive() {
    let s = survey();
    let drivers = s.drivers();
    for weights in [None, Some(s.weight.as_slice())] {
        let mut last = f64::NEG_INFINITY;
        for k in 0..=16 {
            let delta = f64::from(k) * 0.25;
            let scenario = sc(&[("time_and_effort", Shift::All(delta))]);
            let r = what_if(&s.ltr, &drivers, weights, &scenario).unwrap();
            assert!(r.scenario[0].coefficient > 0.0);
            assert!(r.simulated >= last, "δ = {delta}: {} < {last}", r.simulated);
            last = r.simulated;
        }
        let mut last = f64::NEG_INFINITY;
        for k in 1..=10 {
            let share = f64::from(k) / 10.0;
            let r = what_if(
                &s.ltr,
                &drivers,
                weights,
                &sc(&[("resolution", Shift::TopBoxTarget { share })]),
            )
            .unwrap();
            assert!(r.scenario[0].top_box_after >= share - 1e-12);
            assert!(r.simulated >= last, "share {share}");
            last = r.simulated;
        }
    }
}

#[test]
fn bootstrap_is_reproducible_and_covers_the_point_change() {
    let s = survey();
    let drivers = s.drivers();
    let scenario = sc(&[("time_and_effort", Shift::All(1.0))]);
    let run = || {
        what_if_bootstrap(
            &s.ltr,
            &drivers,
            Some(&s.weight),
            &scenario,
            400,
            20261123,
            0.95,
        )
        .unwrap()
    };
    let a = run();
    let b = run();
    assert_eq!(a, b);
    // The same on one thread: replicate b draws from its own stream.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    assert_eq!(pool.install(run), a);
    let ci = a.interval.unwrap();
    assert!(ci.low < a.change && a.change < ci.high, "{a}");
    assert_eq!(
        (a.n_resamples, a.n_failed_resamples, a.seed),
        (400, 0, Some(20261123))
    );
    // The point figures are those of the simulation without bootstrap.
    let point = what_if(&s.ltr, &drivers, Some(&s.weight), &scenario).unwrap();
    assert_eq!(
        (a.baseline, a.simulated, a.change),
        (point.baseline, point.simulated, point.change)
    );
    // Another seed gives another interval.
    let c = what_if_bootstrap(&s.ltr, &drivers, Some(&s.weight), &scenario, 400, 1, 0.95).unwrap();
    assert_ne!(c.interval, a.interval);
    let text = a.to_string();
    let expected = format!(
        "raise Time and Effort by 1 point → NPS {:+.1} (95 % CI {:.1} to {:.1})",
        a.change * 100.0,
        ci.low * 100.0,
        ci.high * 100.0
    );
    assert_eq!(text, expected);
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<WhatIf>(&json).unwrap(), a);
}

#[test]
fn bad_scenarios_are_errors() {
    let d = [RatedDriver::new("ease", &A_X, five(), 1).unwrap()];
    let run = |name: &str, shift| what_if(&A_Y, &d, None, &sc(&[(name, shift)]));
    assert!(matches!(
        run("speed", Shift::All(1.0)),
        Err(Error::UnknownColumn { .. })
    ));
    let invalid = |r: Result<WhatIf, Error>, arg: &str| match r {
        Err(Error::InvalidArgument { name, .. }) => assert_eq!(name, arg),
        other => panic!("expected an invalid {arg}, got {other:?}"),
    };
    invalid(run("ease", Shift::All(f64::NAN)), "delta");
    invalid(run("ease", Shift::All(f64::INFINITY)), "delta");
    invalid(
        run(
            "ease",
            Shift::Below {
                threshold: f64::NAN,
                delta: 1.0,
            },
        ),
        "threshold",
    );
    invalid(
        run(
            "ease",
            Shift::Below {
                threshold: 3.0,
                delta: f64::NAN,
            },
        ),
        "delta",
    );
    for share in [0.0, -0.1, 1.0 + 1e-12, f64::NAN] {
        invalid(run("ease", Shift::TopBoxTarget { share }), "share");
    }
    assert!(run("ease", Shift::TopBoxTarget { share: 1.0 }).is_ok());
    invalid(what_if(&A_Y, &d, None, &sc(&[])), "scenario");
    invalid(
        what_if(
            &A_Y,
            &d,
            None,
            &sc(&[("ease", Shift::All(1.0)), ("ease", Shift::All(2.0))]),
        ),
        "scenario",
    );
    // ltr must be whole points of 0..=10; ratings must be on their scale.
    let mut y = A_Y;
    y[2] = 6.5;
    assert!(matches!(
        what_if(&y, &d, None, &sc(&[("ease", Shift::All(1.0))])),
        Err(Error::BadColumn { .. })
    ));
    y[2] = 11.0;
    assert!(what_if(&y, &d, None, &sc(&[("ease", Shift::All(1.0))])).is_err());
    let mut x = A_X;
    x[0] = 6.0;
    let off = [RatedDriver::new("ease", &x, five(), 1).unwrap()];
    assert!(matches!(
        what_if(&A_Y, &off, None, &sc(&[("ease", Shift::All(1.0))])),
        Err(Error::BadColumn { .. })
    ));
    let bad_w = [1.0, 1.0, -1.0, 1.0, 1.0, 1.0];
    assert!(matches!(
        what_if(&A_Y, &d, Some(&bad_w), &sc(&[("ease", Shift::All(1.0))])),
        Err(Error::InvalidWeight { index: 2, .. })
    ));
    let scenario = sc(&[("ease", Shift::All(1.0))]);
    invalid(
        what_if_bootstrap(&A_Y, &d, None, &scenario, 1, 0, 0.95),
        "n_resamples",
    );
    invalid(
        what_if_bootstrap(&A_Y, &d, None, &scenario, 100, 0, 1.0),
        "confidence_level",
    );
}

#[test]
fn missing_and_zero_weight_rows_are_counted() {
    let mut y = A_Y.to_vec();
    let mut x = A_X.to_vec();
    y.extend([f64::NAN, 7.0, 9.0]);
    x.extend([2.0, f64::NAN, 4.0]);
    let w = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0];
    let d = [RatedDriver::new("ease", &x, five(), 1).unwrap()];
    let r = what_if(&y, &d, Some(&w), &sc(&[("ease", Shift::All(1.0))])).unwrap();
    // Two rows with a missing value, one complete row of weight zero; the six others as in data A.
    assert_eq!((r.n, r.n_omitted, r.n_zero_weight), (6, 2, 1));
    close(r.change, 2.0 / 3.0, "change");
}

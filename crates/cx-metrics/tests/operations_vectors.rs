//! The churn, retention, repeat-rate, lifetime-value and sBG figures of
//! `shared/validation/operations_vectors.json` (published examples: Churnkey's conversion table,
//! Glew, Fader & Hardie 2007; recomputed with scipy).
//!
//! Tolerances: closed forms 1e-12 relative (the fixture's README); counts exactly; the sBG fit,
//! which stops at a gradient of 1e-12 · (1 + |ℓ|) in (ln α, ln β), 1e-7 relative for α and β,
//! 1e-10 relative for the log-likelihood (flat at the optimum) and 1e-6 relative for S(12).

mod common;

use common::tol::{assert_close, Tol};
use cx_metrics::churn::{convert_churn, retention_shortcut, ChurnOptions, ChurnTally};
use cx_metrics::clv::{gupta_lehmann, simple_clv, DiscountTiming, Horizon};
use cx_metrics::cohorts::PeriodUnit;
use cx_metrics::customers::{repeat_rate, Window};
use cx_metrics::sbg::{sbg_fit, SbgOptions};
use serde_json::Value;

const CLOSED: f64 = 1e-12;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/validation/operations_vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("operations_vectors.json is readable");
    serde_json::from_str(&text).expect("operations_vectors.json is valid JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert_close(what, got, want, Tol::rel(rel));
}

#[test]
fn churn_conversions_use_a_constant_hazard() {
    let v = vectors();
    for (monthly, annual) in v["churn_monthly_to_annual"].as_object().unwrap() {
        let m: f64 = monthly.parse().unwrap();
        close(
            monthly,
            convert_churn(m, 1.0, 12.0).unwrap(),
            num(annual),
            CLOSED,
        );
        // and back
        close(
            monthly,
            convert_churn(num(annual), 12.0, 1.0).unwrap(),
            m,
            CLOSED,
        );
    }
    for (annual, monthly) in v["churn_annual_to_monthly"].as_object().unwrap() {
        let a: f64 = annual.parse().unwrap();
        close(
            annual,
            convert_churn(a, 12.0, 1.0).unwrap(),
            num(monthly),
            CLOSED,
        );
    }
}

#[test]
fn retention_shortcut_of_the_reference() {
    let v = &vectors()["retention_shortcut"];
    let (start, end, new) = (
        v["start"].as_u64().unwrap(),
        v["end"].as_u64().unwrap(),
        v["new"].as_u64().unwrap(),
    );
    let want = num(&v["retention"]);
    close(
        "shortcut",
        retention_shortcut(start, end, new).unwrap(),
        want,
        CLOSED,
    );
    // The same counts as a churn tally: 200 at the start, 30 lost, 50 new, none of them lost.
    let lost = start + new - end;
    let r = ChurnTally::from_counts(start, lost, new, 0)
        .unwrap()
        .result(&ChurnOptions::default())
        .unwrap();
    assert_eq!(r.customers_end, end);
    close("retention", r.retention, want, CLOSED);
    close("field", r.retention_shortcut, want, CLOSED);
}

#[test]
fn repeat_rate_of_the_reference() {
    let v = &vectors()["repeat_rate"];
    let (accounts, never, once, twice) = (
        v["accounts"].as_u64().unwrap() as u32,
        v["never"].as_u64().unwrap() as u32,
        v["once"].as_u64().unwrap() as u32,
        v["twice_plus"].as_u64().unwrap() as u32,
    );
    assert_eq!(never + once + twice, accounts);
    // Accounts 0..once order once in the window, the next `twice` two or three times, the
    // rest never; every account also ordered once before the window.
    let (mut customers, mut times) = (Vec::new(), Vec::new());
    for c in 0..accounts {
        customers.push(c);
        times.push(0);
        let k = if c < once {
            1
        } else if c < once + twice {
            2 + c % 2
        } else {
            0
        };
        for j in 0..k {
            customers.push(c);
            times.push(10 + i64::from(j));
        }
    }
    let w = Window { start: 10, end: 20 };
    let r = repeat_rate(&customers, accounts as usize, None, &times, w, 0.95).unwrap();
    assert_eq!(
        (r.once, r.repeat, r.customers),
        (once as u64, twice as u64, (once + twice) as u64)
    );
    assert_eq!((r.new, r.returning), (0, (once + twice) as u64));
    close("rate", r.rate, num(&v["rate"]), CLOSED);
}

#[test]
fn clv_formulas_of_the_reference() {
    let v = &vectors()["clv"];
    let s = &v["simple"];
    let c = simple_clv(
        num(&s["arpu"]),
        num(&s["margin"]),
        num(&s["churn"]),
        PeriodUnit::Month,
    )
    .unwrap();
    close("simple", c.value, num(&s["clv"]), CLOSED);
    let g = &v["gupta_lehmann"];
    let gl = |h, t| {
        gupta_lehmann(
            num(&g["margin"]),
            num(&g["retention"]),
            num(&g["discount"]),
            h,
            t,
            PeriodUnit::Year,
            0.0,
        )
        .unwrap()
        .value
    };
    close(
        "infinite, end",
        gl(Horizon::Infinite, DiscountTiming::End),
        num(&g["infinite_end"]),
        CLOSED,
    );
    close(
        "infinite, start",
        gl(Horizon::Infinite, DiscountTiming::Start),
        num(&g["infinite_start"]),
        CLOSED,
    );
    let ten = Horizon::Finite {
        count: 10,
        unit: PeriodUnit::Year,
    };
    close(
        "T = 10, end",
        gl(ten, DiscountTiming::End),
        num(&g["finite_T10"]),
        CLOSED,
    );
}

#[test]
fn sbg_fit_of_the_regular_customers() {
    let v = &vectors()["sbg_regular"];
    let survivors: Vec<f64> = v["survivors"].as_array().unwrap().iter().map(num).collect();
    let fit = sbg_fit(&[&survivors], &SbgOptions::default()).unwrap();
    assert!(fit.converged, "{}", fit.message);
    close("alpha", fit.alpha, num(&v["alpha"]), 1e-7);
    close("beta", fit.beta, num(&v["beta"]), 1e-7);
    close("loglik", fit.log_likelihood, num(&v["loglik"]), 1e-10);
    close(
        "S(12) x 1000",
        1000.0 * fit.survival(12),
        num(&v["forecast_S12_x1000"]),
        1e-6,
    );
    assert!(fit.gradient_norm < 1e-6, "{}", fit.gradient_norm);
    assert!(fit.alpha_ci.contains(fit.alpha) && fit.beta_ci.contains(fit.beta));
    // Two cohorts observed for different lengths: the regular cohort split in two halves (whole
    // customers: counts are refused otherwise), one observed for 4 periods only.
    let half: Vec<f64> = survivors.iter().map(|s| (s / 2.0).floor()).collect();
    let short = &half[..5];
    let both = sbg_fit(&[&half, short], &SbgOptions::default()).unwrap();
    assert!(both.converged && both.log_likelihood < 0.0);
    let curve = fit.survival_curve(12);
    close("curve", curve[12], fit.survival(12), 1e-12);
    close("r_1", fit.retention(1), fit.survival(1), 1e-12);
}

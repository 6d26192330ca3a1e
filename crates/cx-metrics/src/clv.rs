//! Customer lifetime value: the simple formula, Gupta & Lehmann's discounted margin, and the
//! discounted expected residual lifetime of a fitted sBG model (Fader & Hardie 2010).
//!
//! Every rate (ARPU, margin, churn, retention, discount rate) is per **period** of one declared
//! time unit ([`PeriodUnit`](crate::cohorts::PeriodUnit)); a horizon is a count of another declared unit, converted to periods
//! only where the ratio is exact (a year is 12 months or 4 quarters; a week is 7 days);
//! [`DiscountTiming`] says whether each period's margin arrives at its start or its end. All three
//! are arguments and part of every result.
//!
//! | method | formula |
//! | --- | --- |
//! | simple | ARPU × margin / churn (undiscounted, infinite horizon) |
//! | Gupta–Lehmann, margin at the end | m · Σ_{t=1..T} rᵗ / (1 + i)ᵗ; T = ∞: m · r / (1 + i − r) |
//! | Gupta–Lehmann, margin at the start | m · Σ_{t=0..T−1} rᵗ / (1 + i)ᵗ; T = ∞: m · (1 + i) / (1 + i − r) |
//! | sBG (DERL) | m · Σ_{t≥n} S(t)/S(n−1) · (1 + d)^−(t−n+1), × (1 + d) with margin at the start |
//!
//! (minus an acquisition cost when one is given). The two discounted methods count different
//! margins with the margin at the start: Gupta–Lehmann values a customer at the start of the
//! current period and counts that period's (certain) margin; the sBG value is a *residual*
//! lifetime taken just before the next renewal, which never counts the current period's margin
//! and leaves the next renewal's undiscounted. On one survival curve, margin at the end gives the
//! same value v for both; at the start Gupta–Lehmann gives m + v and sBG (1 + d) · v. Every result
//! says which margins it counts ([`ClvResult::counted`], printed by [`ClvResult::describe`]). The sBG form with margin at the start is
//! Fader & Hardie's DERL(d | α, β, n − 1 renewals) = (β + n − 1)/(α + β + n − 1) ·
//! ₂F₁(1, β + n; α + β + n; 1/(1 + d)).
//!
//! ```
//! use cx_metrics::clv::{gupta_lehmann, simple_clv, DiscountTiming, Horizon};
//! use cx_metrics::cohorts::PeriodUnit as TimeUnit;
//! let c = simple_clv(50.0, 0.8, 0.02, TimeUnit::Month).unwrap();
//! assert!((c.value - 2000.0).abs() < 1e-9);
//! let g = gupta_lehmann(100.0, 0.8, 0.1, Horizon::Infinite, DiscountTiming::End, TimeUnit::Year, 0.0)
//!     .unwrap();
//! assert!((g.value - 266.66666666666663).abs() < 1e-9);
//! ```

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::buy_till_you_die::{BgNbdFit, GammaGammaFit, Rfm};
use crate::cohorts::PeriodUnit as TimeUnit;
use crate::error::{Error, Result};
use crate::sbg::SbgFit;

/// When each period's margin arrives, for discounting.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountTiming {
    /// At the start of the period: the first margin is not discounted.
    Start,
    /// At the end of the period: the first margin is discounted once.
    End,
}

impl DiscountTiming {
    /// The option string.
    pub fn id(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::End => "end",
        }
    }
}

impl FromStr for DiscountTiming {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "start" => Ok(Self::Start),
            "end" => Ok(Self::End),
            _ => Err(Error::invalid(
                "timing",
                format!("{s:?}; use \"start\" or \"end\" (when each period's margin arrives)"),
            )),
        }
    }
}

/// How far ahead value is counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Horizon {
    /// For ever.
    Infinite,
    /// `count` periods of `unit`.
    Finite {
        /// How many.
        count: u32,
        /// Of what.
        unit: TimeUnit,
    },
}

impl Horizon {
    /// The horizon in whole periods of `unit` (`None`: infinite).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the horizon is not a whole number of periods.
    pub fn periods(self, unit: TimeUnit) -> Result<Option<u32>> {
        match self {
            Self::Infinite => Ok(None),
            Self::Finite { count, unit: h } => {
                let Some(ratio) = unit.per(h) else {
                    return Err(Error::invalid(
                        "horizon_unit",
                        format!(
                            "a {h} is not a whole number of {unit}s; give the horizon in {unit}s"
                        ),
                    ));
                };
                let periods = f64::from(count) * ratio;
                if periods.fract() != 0.0 || periods > f64::from(u32::MAX) {
                    return Err(Error::invalid(
                        "horizon",
                        format!(
                            "{count} {h}s are {periods} {unit}s, not a whole number; give the \
                             horizon in {unit}s"
                        ),
                    ));
                }
                Ok(Some(periods as u32))
            }
        }
    }
}

/// A lifetime value and everything it was computed with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvResult {
    /// `"simple"`, `"gupta_lehmann"` or `"sbg"`.
    pub method: String,
    /// The lifetime value, in the currency of the margin.
    pub value: f64,
    /// Margin per period (ARPU × margin share for the simple formula).
    pub margin: f64,
    /// Retention per period (the sBG model's first-period retention for `"sbg"`).
    pub retention: f64,
    /// Discount rate per period (0 for the simple formula).
    pub discount_rate: f64,
    /// The unit of a period.
    pub time_unit: TimeUnit,
    /// The horizon.
    pub horizon: Horizon,
    /// The horizon in periods (`None`: infinite).
    pub horizon_periods: Option<u32>,
    /// When margins arrive (`None` for the undiscounted simple formula).
    pub timing: Option<DiscountTiming>,
    /// Acquisition cost subtracted.
    pub acquisition_cost: f64,
    /// Expected (discounted) periods of margin: `(value + acquisition_cost) / margin`.
    pub multiple: f64,
    /// Which margins are counted and how each is discounted, in words (see [`counted`]).
    #[serde(default)]
    pub counted: String,
}

/// Which margins a lifetime value counts and how each is discounted, in words: what `timing`
/// means for `method` (`"simple"`, `"gupta_lehmann"`, `"sbg"`) with periods of `unit`.
///
/// Gupta–Lehmann values a customer at the start of the current period: with the margin at the
/// start, the current period's margin (certain, undiscounted) is counted. The sBG value is Fader &
/// Hardie's discounted expected *residual* lifetime: it is taken just before the next renewal, and
/// the current period's margin (already paid) is never counted; "start" then means the margin of
/// the next renewal is not discounted. On the same survival curve, margin at the end gives the
/// same value for both; at the start, Gupta–Lehmann = margin + that value, sBG = (1 + d) × that
/// value.
pub fn counted(method: &str, timing: Option<DiscountTiming>, unit: TimeUnit) -> String {
    match (method, timing) {
        ("gupta_lehmann", Some(DiscountTiming::Start)) => format!(
            "the current {unit}'s margin (certain, not discounted) and each later {unit} t's with \
             probability r^t, discounted t {unit}s"
        ),
        ("gupta_lehmann", Some(DiscountTiming::End)) => format!(
            "margins of {unit}s t = 1, 2, … (not the current {unit}'s), each with probability r^t \
             at the end of its {unit}, discounted t {unit}s"
        ),
        ("sbg", Some(DiscountTiming::Start)) => format!(
            "residual, valued just before the next renewal: the margin of renewal t = 1, 2, … \
             with probability S(n + t)/S(n) (n: renewals so far), discounted t − 1 {unit}s (the \
             next renewal's not discounted); the current {unit}'s margin is not counted"
        ),
        ("sbg", Some(DiscountTiming::End)) => format!(
            "residual: the margin of renewal t = 1, 2, … with probability S(n + t)/S(n) (n: \
             renewals so far), discounted t {unit}s; the current {unit}'s margin is not counted"
        ),
        _ => String::from("undiscounted margin per expected lifetime"),
    }
}

impl ClvResult {
    /// A one-line description of the result with its units and timing.
    pub fn describe(&self) -> String {
        let horizon = match self.horizon {
            Horizon::Infinite => String::from("infinite horizon"),
            Horizon::Finite { count, unit } => format!("horizon {count} {unit}(s)"),
        };
        let timing = match self.timing {
            Some(t) => format!("margin at the {} of each {}", t.id(), self.time_unit),
            None => String::from("undiscounted"),
        };
        let counted = match (self.timing, self.counted.is_empty()) {
            (None, _) => String::new(),
            (Some(_), false) => format!(": {}", self.counted),
            (Some(_), true) => format!(": {}", counted(&self.method, self.timing, self.time_unit)),
        };
        format!(
            "CLV {:.2} ({}; rates per {}, discount {}, {horizon}, {timing}{counted})",
            self.value, self.method, self.time_unit, self.discount_rate
        )
    }
}

fn check_rate(name: &'static str, x: f64, lo: f64, hi: f64, what: &str) -> Result<()> {
    if !(x.is_finite() && x >= lo && x <= hi) {
        return Err(Error::invalid(name, format!("{x}; {what}")));
    }
    Ok(())
}

/// Simple CLV = ARPU × margin / churn (every figure per period of `time_unit`).
///
/// # Errors
/// [`Error::InvalidArgument`] for a churn outside (0, 1], a margin outside [0, 1] or a non-finite
/// ARPU.
pub fn simple_clv(arpu: f64, margin: f64, churn: f64, time_unit: TimeUnit) -> Result<ClvResult> {
    check_rate("arpu", arpu, f64::MIN, f64::MAX, "ARPU must be finite")?;
    check_rate(
        "margin",
        margin,
        0.0,
        1.0,
        "the margin is a share in [0, 1]",
    )?;
    if !(churn.is_finite() && churn > 0.0 && churn <= 1.0) {
        return Err(Error::invalid(
            "churn",
            format!("{churn}; churn per period must lie in (0, 1] (no churn: no finite CLV)"),
        ));
    }
    let per_period = arpu * margin;
    Ok(ClvResult {
        method: "simple".into(),
        value: per_period / churn,
        margin: per_period,
        retention: 1.0 - churn,
        discount_rate: 0.0,
        time_unit,
        horizon: Horizon::Infinite,
        horizon_periods: None,
        timing: None,
        acquisition_cost: 0.0,
        multiple: 1.0 / churn,
        counted: counted("simple", None, time_unit),
    })
}

/// Gupta & Lehmann's CLV: a constant margin `margin` per period kept with probability `retention`
/// each period and discounted at `discount_rate` per period, to `horizon`, minus
/// `acquisition_cost`.
///
/// # Errors
/// [`Error::InvalidArgument`] for a retention outside [0, 1], a discount rate below 0 (or 0 with
/// an infinite horizon and retention 1), a non-finite margin or cost, or a horizon that is not a
/// whole number of periods.
pub fn gupta_lehmann(
    margin: f64,
    retention: f64,
    discount_rate: f64,
    horizon: Horizon,
    timing: DiscountTiming,
    time_unit: TimeUnit,
    acquisition_cost: f64,
) -> Result<ClvResult> {
    check_rate(
        "margin",
        margin,
        f64::MIN,
        f64::MAX,
        "the margin must be finite",
    )?;
    check_rate(
        "retention",
        retention,
        0.0,
        1.0,
        "retention per period lies in [0, 1]",
    )?;
    check_rate(
        "discount_rate",
        discount_rate,
        0.0,
        f64::MAX,
        "the discount rate per period must be >= 0",
    )?;
    check_rate(
        "acquisition_cost",
        acquisition_cost,
        f64::MIN,
        f64::MAX,
        "the acquisition cost must be finite",
    )?;
    let periods = horizon.periods(time_unit)?;
    let q = retention / (1.0 + discount_rate);
    // Σ_{t=1..T} qᵗ (margin at the end); the start timing shifts every margin one period earlier.
    let end_sum = match periods {
        None => {
            if q >= 1.0 {
                return Err(Error::invalid(
                    "discount_rate",
                    "with retention 1 and no discount the infinite-horizon value is infinite; \
                     give a discount rate > 0 or a finite horizon",
                ));
            }
            q / (1.0 - q)
        }
        Some(t) => {
            if q == 1.0 {
                f64::from(t)
            } else {
                q * -(f64::from(t) * q.ln()).exp_m1() / (1.0 - q)
            }
        }
    };
    // Start timing: Σ_{t=0..T−1} qᵗ = 1 + Σ_{t=1..T} qᵗ − q^T.
    let multiple = match (timing, periods) {
        (DiscountTiming::End, _) => end_sum,
        (DiscountTiming::Start, None) => 1.0 + end_sum,
        (DiscountTiming::Start, Some(t)) => 1.0 + end_sum - q.powi(t as i32),
    };
    Ok(ClvResult {
        method: "gupta_lehmann".into(),
        value: margin * multiple - acquisition_cost,
        margin,
        retention,
        discount_rate,
        time_unit,
        horizon,
        horizon_periods: periods,
        timing: Some(timing),
        acquisition_cost,
        multiple,
        counted: counted("gupta_lehmann", Some(timing), time_unit),
    })
}

/// CLV from a fitted sBG model: `margin` per period times the discounted expected residual
/// lifetime of a customer who has renewed `renewals` times (0: just acquired, first margin paid),
/// to `horizon` (Fader & Hardie 2010 with margin at the start).
///
/// # Errors
/// [`Error::InvalidArgument`] for a discount rate ≤ 0 with an infinite horizon (the series
/// need not converge), a non-finite margin, or a horizon that is not a whole number of periods.
pub fn sbg_clv(
    fit: &SbgFit,
    margin: f64,
    discount_rate: f64,
    renewals: u32,
    horizon: Horizon,
    timing: DiscountTiming,
    time_unit: TimeUnit,
) -> Result<ClvResult> {
    check_rate(
        "margin",
        margin,
        f64::MIN,
        f64::MAX,
        "the margin must be finite",
    )?;
    check_rate(
        "discount_rate",
        discount_rate,
        0.0,
        f64::MAX,
        "the discount rate per period must be >= 0",
    )?;
    let periods = horizon.periods(time_unit)?;
    if periods.is_none() && discount_rate <= 0.0 {
        return Err(Error::invalid(
            "discount_rate",
            "an infinite horizon needs a discount rate > 0 (the expected lifetime of the sBG \
             model can be infinite); give one, or a finite horizon",
        ));
    }
    let (a, b) = (fit.alpha, fit.beta);
    let z = 1.0 / (1.0 + discount_rate);
    let n = f64::from(renewals) + 1.0;
    // term_k = S(n + k)/S(n − 1) · z^(k+1), k = 0, 1, ...
    let mut term = (b + n - 1.0) / (a + b + n - 1.0) * z;
    let mut sum = 0.0;
    let mut k: u64 = 0;
    let limit = periods.map_or(u64::MAX, u64::from);
    while k < limit {
        sum += term;
        if term <= sum * 1e-17 || k > 100_000_000 {
            break;
        }
        let j = n + k as f64;
        term *= (b + j) / (a + b + j) * z;
        k += 1;
    }
    let multiple = match timing {
        DiscountTiming::End => sum,
        DiscountTiming::Start => sum / z,
    };
    Ok(ClvResult {
        method: "sbg".into(),
        value: margin * multiple,
        margin,
        retention: fit.retention(renewals + 1),
        discount_rate,
        time_unit,
        horizon,
        horizon_periods: periods,
        timing: Some(timing),
        acquisition_cost: 0.0,
        multiple,
        counted: counted("sbg", Some(timing), time_unit),
    })
}

/// Lifetime values of customers from a BG/NBD fit and a Gamma–Gamma fit, with everything they
/// were computed with.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerClv {
    /// `"bgnbd_gamma_gamma"`.
    pub method: String,
    /// Discounted lifetime value of each customer over the horizon, in the currency of the spend.
    pub values: Vec<f64>,
    /// Undiscounted expected purchases of each customer over the horizon.
    pub expected_purchases: Vec<f64>,
    /// Expected spend per purchase of each customer (Gamma–Gamma).
    pub expected_spend: Vec<f64>,
    /// Share of the spend kept as margin.
    pub margin: f64,
    /// Discount rate per period.
    pub discount_rate: f64,
    /// The unit of a period (of the discount rate and the horizon).
    pub time_unit: TimeUnit,
    /// The time unit of the BG/NBD model (of recency and T).
    pub model_time_unit: TimeUnit,
    /// The horizon.
    pub horizon: Horizon,
    /// The horizon in periods.
    pub horizon_periods: u32,
    /// When each period's margin arrives.
    pub timing: DiscountTiming,
}

impl CustomerClv {
    /// A one-line description with the units and timing.
    pub fn describe(&self) -> String {
        let total: f64 = self.values.iter().sum();
        format!(
            "CLV of {} customers: total {:.2}, mean {:.2} ({}; margin {} of spend, discount {} per \
             {}, horizon {} {}(s), margin at the {} of each {}; model in {}s)",
            self.values.len(),
            total,
            total / self.values.len().max(1) as f64,
            self.method,
            self.margin,
            self.discount_rate,
            self.time_unit,
            self.horizon_periods,
            self.time_unit,
            self.timing.id(),
            self.time_unit,
            self.model_time_unit
        )
    }
}

/// Lifetime value of each customer from BG/NBD × Gamma–Gamma: for periods k = 1..K of
/// `time_unit`, margin × E[spend | x, m̄] × (E[Y(k)] − E[Y(k − 1)] | x, t_x, T) discounted by
/// (1 + d)^−k (margin at the end of each period) or (1 + d)^−(k−1) (at the start); E[Y(·)] is the
/// BG/NBD conditional expectation with times converted to the model's unit.
///
/// # Errors
/// [`Error::InvalidArgument`] for a margin outside [0, 1], a negative or non-finite discount rate,
/// an infinite horizon, a horizon that is not a whole number of periods, a period that is not an
/// exact number of the model's time units (a month in a model of weeks), or a bad row of the
/// customers (named); errors of the two models' predictions.
#[allow(clippy::too_many_arguments)]
pub fn bgnbd_clv(
    fit: &BgNbdFit,
    spend: &GammaGammaFit,
    rfm: &Rfm<'_>,
    mean_spend: &[f64],
    margin: f64,
    discount_rate: f64,
    horizon: Horizon,
    timing: DiscountTiming,
    time_unit: TimeUnit,
) -> Result<CustomerClv> {
    check_rate(
        "margin",
        margin,
        0.0,
        1.0,
        "the margin is a share of spend in [0, 1]",
    )?;
    check_rate(
        "discount_rate",
        discount_rate,
        0.0,
        f64::MAX,
        "the discount rate per period must be >= 0",
    )?;
    let Some(periods) = horizon.periods(time_unit)? else {
        return Err(Error::invalid(
            "horizon",
            "the BG/NBD lifetime value needs a finite horizon; give one",
        ));
    };
    let Some(step) = fit.time_unit.per(time_unit) else {
        return Err(Error::invalid(
            "time_unit",
            format!(
                "a {time_unit} is not a whole number of {}s (the model's unit); give the periods in \
                 days or weeks for a model of days or weeks",
                fit.time_unit
            ),
        ));
    };
    let spends = spend.expected_spend_of(rfm.frequency, mean_spend)?;
    // Validate every row once (and the lengths) before the sums.
    fit.p_alive_of(rfm)?;
    let v = 1.0 / (1.0 + discount_rate);
    let mut values = Vec::with_capacity(spends.len());
    let mut purchases = Vec::with_capacity(spends.len());
    for (i, &s) in spends.iter().enumerate() {
        let (x, tx, t) = (rfm.frequency[i], rfm.recency[i], rfm.t[i]);
        let (mut prev, mut sum) = (0.0, 0.0);
        let mut disc = match timing {
            DiscountTiming::End => v,
            DiscountTiming::Start => 1.0,
        };
        for k in 1..=periods {
            let y = fit.conditional_expected_purchases(f64::from(k) * step, x, tx, t)?;
            sum += (y - prev) * disc;
            prev = y;
            disc *= v;
        }
        values.push(margin * s * sum);
        purchases.push(prev);
    }
    Ok(CustomerClv {
        method: "bgnbd_gamma_gamma".into(),
        values,
        expected_purchases: purchases,
        expected_spend: spends,
        margin,
        discount_rate,
        time_unit,
        model_time_unit: fit.time_unit,
        horizon,
        horizon_periods: periods,
        timing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gupta_lehmann_by_hand() {
        let gl = |h, t| gupta_lehmann(100.0, 0.8, 0.1, h, t, TimeUnit::Year, 0.0).unwrap();
        let ten = Horizon::Finite {
            count: 10,
            unit: TimeUnit::Year,
        };
        // Σ_{t=1..10} 100 (0.8/1.1)^t and Σ_{t=0..9}, summed term by term.
        let q: f64 = 0.8 / 1.1;
        let end: f64 = (1..=10).map(|t| 100.0 * q.powi(t)).sum();
        let start: f64 = (0..10).map(|t| 100.0 * q.powi(t)).sum();
        assert!((gl(ten, DiscountTiming::End).value - end).abs() < 1e-10);
        assert!((gl(ten, DiscountTiming::Start).value - start).abs() < 1e-10);
        assert!(
            (gl(Horizon::Infinite, DiscountTiming::Start).value - 366.6666666666667).abs() < 1e-9
        );
        // 120 months are 10 years; 10 years of months need monthly rates, converted exactly.
        let months = Horizon::Finite {
            count: 10,
            unit: TimeUnit::Year,
        };
        assert_eq!(months.periods(TimeUnit::Month).unwrap(), Some(120));
        assert!(months.periods(TimeUnit::Week).is_err());
        assert!(gupta_lehmann(
            1.0,
            1.0,
            0.0,
            Horizon::Infinite,
            DiscountTiming::End,
            TimeUnit::Month,
            0.0
        )
        .is_err());
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // customers indexed alike in four arrays
    fn bgnbd_clv_telescopes_and_shifts_with_timing() {
        use crate::buy_till_you_die::{bgnbd_fit_in, gamma_gamma_fit, BtydOptions, Rfm};
        let (x, tx, t) = (
            [2.0, 1.0, 0.0, 0.0, 5.0, 3.0, 1.0],
            [30.4, 1.7, 0.0, 0.0, 35.1, 12.0, 20.0],
            [38.9, 38.9, 38.9, 30.0, 38.0, 37.5, 25.0],
        );
        let m = [20.0, 11.0, 0.0, 0.0, 35.0, 18.0, 30.0];
        let rfm = Rfm {
            frequency: &x,
            recency: &tx,
            t: &t,
        };
        let o = BtydOptions::default();
        let fit = bgnbd_fit_in(&rfm, TimeUnit::Week, &o).unwrap();
        let spend = gamma_gamma_fit(&x, &m, &o).unwrap();
        let h = Horizon::Finite {
            count: 10,
            unit: TimeUnit::Week,
        };
        let run = |d, timing| {
            bgnbd_clv(&fit, &spend, &rfm, &m, 0.3, d, h, timing, TimeUnit::Week).unwrap()
        };
        // Undiscounted, the increments add up to E[Y(10) | history].
        let flat = run(0.0, DiscountTiming::End);
        for i in 0..x.len() {
            let y = fit
                .conditional_expected_purchases(10.0, x[i], tx[i], t[i])
                .unwrap();
            let s = spend.expected_spend(x[i], m[i]).unwrap();
            assert!((flat.values[i] - 0.3 * s * y).abs() < 1e-12 * (1.0 + flat.values[i]));
        }
        // Margin at the start of each period is the end timing's value times (1 + d).
        let (end, start) = (
            run(0.01, DiscountTiming::End),
            run(0.01, DiscountTiming::Start),
        );
        for i in 0..x.len() {
            assert!((start.values[i] - 1.01 * end.values[i]).abs() < 1e-12 * (1.0 + end.values[i]));
        }
        // Days of a model in weeks are exact; months are not.
        let days = Horizon::Finite {
            count: 70,
            unit: TimeUnit::Day,
        };
        let by_day = bgnbd_clv(
            &fit,
            &spend,
            &rfm,
            &m,
            0.3,
            0.0,
            days,
            DiscountTiming::End,
            TimeUnit::Day,
        )
        .unwrap();
        assert!((by_day.values[0] - flat.values[0]).abs() < 1e-9);
        let months = Horizon::Finite {
            count: 2,
            unit: TimeUnit::Month,
        };
        assert!(bgnbd_clv(
            &fit,
            &spend,
            &rfm,
            &m,
            0.3,
            0.0,
            months,
            DiscountTiming::End,
            TimeUnit::Month
        )
        .is_err());
    }
}

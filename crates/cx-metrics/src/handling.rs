//! Handling time: the average handle time (AHT) of handled contacts, its components kept apart.
//!
//! AHT = Σ (chosen components) / handled contacts. The components are talk, hold, after-call work
//! (`acw`) and dialling (`dial`, outbound); vendors differ on which ones count (the usual
//! definition is talk + hold + acw; Genesys Cloud adds dialling and contacting for outbound), so
//! the components counted are an explicit argument, printed with the result, and the mean of every
//! component given is kept and reported separately: any other definition's AHT is the sum of its
//! components' means.
//!
//! The mean's interval is Student's t on the per-contact totals (`mean ± t·sd/√n`).
//!
//! **Quantiles need the values.** The mergeable state ([`HandlingTally`]) keeps the handled count,
//! each component's sum and the totals' mean and sum of squared deviations (Chan et al.'s merge),
//! which give the AHT, the component means and the interval exactly after any merge; it keeps no
//! values, so a result finished from a state has no quantiles. The in-memory call
//! ([`handling_time`]) has the per-contact totals and adds their median, p90 (any `p`) with the
//! answered-only quantile code of [`survival`](crate::survival) (Hyndman–Fan type 7 or nearest
//! rank), exact.
//!
//! ```
//! use cx_metrics::handling::{handling_time, Component, HandlingRows};
//! use cx_metrics::survival::QuantileMethod;
//! let (talk, hold, acw) = ([300.0, 200.0, 400.0], [0.0, 60.0, 0.0], [30.0, 40.0, 50.0]);
//! let rows = HandlingRows { talk: Some(&talk), hold: Some(&hold), acw: Some(&acw), dial: None };
//! let r = handling_time(rows, &[Component::Talk, Component::Hold, Component::Acw], &[0.5],
//!     QuantileMethod::Type7, 0.95).unwrap();
//! assert!((r.aht - 360.0).abs() < 1e-12);
//! assert_eq!(r.quantiles, vec![(0.5, 330.0)]);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::any_state::{Columnar, Columns};
use crate::error::{Error, Result, UndefinedReason};
use crate::intervals::{mean_t_ci, Interval};
use crate::state::{add_count, Accumulator, Decoder, Encoder, Example, StateKind};
use crate::survival::{answered_summary, QuantileMethod};
use crate::tally::Merge;

/// A component of handling time.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    /// Talk time.
    Talk,
    /// Hold time.
    Hold,
    /// After-call work (wrap-up).
    Acw,
    /// Dialling (outbound).
    Dial,
}

impl Component {
    /// Every component, in slot order.
    pub const ALL: [Self; 4] = [Self::Talk, Self::Hold, Self::Acw, Self::Dial];

    /// The option string (and column name).
    pub fn id(self) -> &'static str {
        match self {
            Self::Talk => "talk",
            Self::Hold => "hold",
            Self::Acw => "acw",
            Self::Dial => "dial",
        }
    }

    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Component {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|c| c.id() == s).ok_or_else(|| {
            Error::invalid(
                "components",
                format!("{s:?}; name components among \"talk\", \"hold\", \"acw\", \"dial\""),
            )
        })
    }
}

/// Per-contact component durations (one row per handled contact; a component not recorded is
/// `None`). Every given column has the same length; values are finite and ≥ 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct HandlingRows<'a> {
    /// Talk time.
    pub talk: Option<&'a [f64]>,
    /// Hold time.
    pub hold: Option<&'a [f64]>,
    /// After-call work.
    pub acw: Option<&'a [f64]>,
    /// Dialling.
    pub dial: Option<&'a [f64]>,
}

impl<'a> HandlingRows<'a> {
    fn columns(&self) -> [Option<&'a [f64]>; 4] {
        [self.talk, self.hold, self.acw, self.dial]
    }

    /// Checks the columns against the chosen components and returns the row count.
    fn check(&self, chosen: &[Component]) -> Result<usize> {
        let cols = self.columns();
        let mut n = None;
        for (c, col) in Component::ALL.iter().zip(cols) {
            let Some(col) = col else {
                if chosen.contains(c) {
                    return Err(Error::invalid(
                        "components",
                        format!("{c:?} is counted but no {c} column was given; give it or leave {c} out of components"),
                    ));
                }
                continue;
            };
            match n {
                None => n = Some(col.len()),
                Some(m) if m != col.len() => {
                    return Err(Error::invalid(
                        "columns",
                        format!("{} has {} rows but an earlier component has {m}; give one value per contact in each", c, col.len()),
                    ))
                }
                _ => {}
            }
            if let Some(i) = col.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(Error::invalid(
                    "columns",
                    format!(
                        "{} = {} at position {i}; a duration is finite and >= 0: fill it (0 when the \
                         contact had no {}) or drop that contact",
                        c, col[i], c
                    ),
                ));
            }
        }
        Ok(n.unwrap_or(0))
    }

    /// The per-contact totals of the chosen components (checked).
    pub fn totals(&self, chosen: &[Component]) -> Result<Vec<f64>> {
        let n = self.check(chosen)?;
        let cols = self.columns();
        let mut out = vec![0.0; n];
        for c in chosen {
            let col = cols[c.slot()].expect("checked");
            for (o, v) in out.iter_mut().zip(col) {
                *o += v;
            }
        }
        Ok(out)
    }
}

fn check_components(chosen: &[Component]) -> Result<Vec<Component>> {
    let mut c = chosen.to_vec();
    c.sort_unstable();
    c.dedup();
    if c.is_empty() || c.len() != chosen.len() {
        return Err(Error::invalid(
            "components",
            "name each counted component once, at least one, e.g. [\"talk\", \"hold\", \"acw\"]",
        ));
    }
    Ok(c)
}

/// The mergeable handling-time state: the counted components, the handled count, each given
/// component's sum, and the per-contact totals' mean and sum of squared deviations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawHandlingTally")]
pub struct HandlingTally {
    components: Vec<Component>,
    handled: u64,
    /// Per component (slot order): the sum, `None` when the component was never given.
    sums: [Option<f64>; 4],
    mean: f64,
    m2: f64,
}

#[derive(Deserialize)]
struct RawHandlingTally {
    components: Vec<Component>,
    handled: u64,
    sums: [Option<f64>; 4],
    mean: f64,
    m2: f64,
}

impl TryFrom<RawHandlingTally> for HandlingTally {
    type Error = Error;
    fn try_from(r: RawHandlingTally) -> Result<Self> {
        let t = Self {
            components: r.components,
            handled: r.handled,
            sums: r.sums,
            mean: r.mean,
            m2: r.m2,
        };
        t.validate()?;
        Ok(t)
    }
}

/// Options of [`HandlingTally`]'s `finish`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlingOptions {
    /// The confidence level of the mean's interval.
    pub confidence_level: f64,
}

impl HandlingTally {
    /// An empty tally counting `components` in the AHT.
    pub fn new(components: &[Component]) -> Result<Self> {
        Ok(Self {
            components: check_components(components)?,
            handled: 0,
            sums: [None; 4],
            mean: 0.0,
            m2: 0.0,
        })
    }

    /// The counted components.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    fn of_rows(&self, rows: HandlingRows<'_>) -> Result<Self> {
        let totals = rows.totals(&self.components)?;
        let mut part = Self::new(&self.components)?;
        for (slot, col) in rows.columns().iter().enumerate() {
            part.sums[slot] = col.map(|c| c.iter().sum());
        }
        for x in &totals {
            part.handled += 1;
            let delta = x - part.mean;
            part.mean += delta / part.handled as f64;
            part.m2 += delta * (x - part.mean);
        }
        Ok(part)
    }

    /// The result (no quantiles: the state keeps no values).
    pub fn result(&self, confidence_level: f64) -> Result<HandlingResult> {
        if self.handled == 0 {
            return Err(Error::Undefined(UndefinedReason::NoRows));
        }
        let n = self.handled as f64;
        let sd = if self.handled > 1 {
            (self.m2 / (n - 1.0)).sqrt()
        } else {
            f64::NAN
        };
        let aht_ci = if self.handled > 1 {
            Some(mean_t_ci(self.mean, sd, n, confidence_level)?)
        } else {
            None
        };
        Ok(HandlingResult {
            components: self.components.clone(),
            handled: self.handled,
            aht: self.mean,
            sd,
            aht_ci,
            component_means: Component::ALL
                .iter()
                .zip(self.sums)
                .filter_map(|(c, s)| s.map(|s| (*c, s / n)))
                .collect(),
            quantiles: Vec::new(),
            quantile_method: None,
            confidence_level,
        })
    }
}

impl Merge for HandlingTally {
    fn merge(&mut self, other: &Self) -> Result<()> {
        if self.components != other.components {
            return Err(Error::invalid(
                "other",
                format!(
                    "a tally counting {:?} cannot merge one counting {:?}; fold every part with the same components",
                    self.components, other.components
                ),
            ));
        }
        let handled = add_count(self.handled, other.handled, || "the handled count".into())?;
        if other.handled == 0 {
            return Ok(());
        }
        let mut sums = self.sums;
        for (s, o) in sums.iter_mut().zip(other.sums) {
            *s = match (*s, o) {
                (Some(a), Some(b)) => Some(a + b),
                (None, b) if self.handled == 0 => b,
                // Given in one part only: its sum over both parts is not known.
                _ => None,
            };
        }
        let (na, nb, n) = (self.handled as f64, other.handled as f64, handled as f64);
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.sums = sums;
        self.handled = handled;
        Ok(())
    }
}

impl Accumulator for HandlingTally {
    const KIND: StateKind = StateKind::HandlingTally;
    type Batch<'a> = HandlingRows<'a>;
    type Options = HandlingOptions;
    type Output = HandlingResult;

    /// Per-contact component rows (weights are not supported: AHT counts contacts).
    fn fold_batch(&mut self, batch: HandlingRows<'_>, weights: Option<&[f64]>) -> Result<()> {
        if weights.is_some() {
            return Err(Error::invalid(
                "weights",
                "handling time counts contacts; weights are not supported",
            ));
        }
        let part = self.of_rows(batch)?;
        self.merge(&part)
    }

    fn n(&self) -> u64 {
        self.handled
    }

    fn finish(&self, options: &HandlingOptions) -> Result<HandlingResult> {
        self.result(options.confidence_level)
    }

    fn validate(&self) -> Result<()> {
        let c =
            check_components(&self.components).map_err(|e| Self::KIND.invalid(e.to_string()))?;
        if c != self.components {
            return Err(Self::KIND.invalid("components not in order"));
        }
        let bad = |x: f64| !(x.is_finite() && x >= 0.0);
        if bad(self.mean) || bad(self.m2) || self.sums.iter().flatten().any(|s| bad(*s)) {
            return Err(Self::KIND.invalid("sums, mean and squared deviations are finite and >= 0"));
        }
        let sums_nonzero = self.sums.iter().flatten().any(|s| *s != 0.0);
        if self.handled == 0 && (self.mean != 0.0 || self.m2 != 0.0 || sums_nonzero) {
            return Err(Self::KIND.invalid("a mean or sums without handled contacts"));
        }
        for c in &self.components {
            if self.handled > 0 && self.sums[c.slot()].is_none() {
                return Err(Self::KIND.invalid(format!("no sum of the counted component {c}")));
            }
        }
        Ok(())
    }

    fn encode_payload(&self, out: &mut Encoder) {
        let mask = |cs: &mut dyn Iterator<Item = usize>| cs.fold(0u8, |m, s| m | (1 << s));
        out.u8(mask(&mut self.components.iter().map(|c| c.slot())));
        out.u8(mask(&mut (0..4).filter(|s| self.sums[*s].is_some())));
        out.u64(self.handled);
        out.f64s(&self.sums.map(|s| s.unwrap_or(0.0)));
        out.f64(self.mean);
        out.f64(self.m2);
    }

    fn decode_payload(input: &mut Decoder<'_>) -> Result<Self> {
        let (chosen, given) = (input.u8("components")?, input.u8("given")?);
        if chosen > 15 || given > 15 {
            return Err(input.invalid("component masks have 4 bits"));
        }
        let handled = input.u64("handled")?;
        let raw = input.f64s(4, "sums")?;
        let mut sums = [None; 4];
        for (s, slot) in sums.iter_mut().zip(0..4) {
            let is_given = given & (1 << slot) != 0;
            if !is_given && raw[slot].to_bits() != 0 {
                return Err(input.invalid("the sum of a component not given is not zero"));
            }
            *s = is_given.then_some(raw[slot]);
        }
        Ok(Self {
            components: Component::ALL
                .into_iter()
                .filter(|c| chosen & (1 << c.slot()) != 0)
                .collect(),
            handled,
            sums,
            mean: input.f64("mean")?,
            m2: input.f64("m2")?,
        })
    }
}

/// The configuration of a [`HandlingTally`] made by kind ([`crate::any_state::AnyState`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlingConfig {
    /// The components counted in the AHT (`"talk"`, `"hold"`, `"acw"`, `"dial"`).
    pub components: Vec<Component>,
}

impl Columnar for HandlingTally {
    type Config = HandlingConfig;

    fn from_config(config: HandlingConfig) -> Result<Self> {
        Self::new(&config.components)
    }

    /// Optional float64 columns `talk`, `hold`, `acw`, `dial`, one row per handled contact.
    fn batch<'a>(columns: &Columns<'a>) -> Result<HandlingRows<'a>> {
        columns.only(&["talk", "hold", "acw", "dial"])?;
        Ok(HandlingRows {
            talk: columns.f64("talk")?,
            hold: columns.f64("hold")?,
            acw: columns.f64("acw")?,
            dial: columns.f64("dial")?,
        })
    }
}

impl Example for HandlingTally {
    fn example() -> Self {
        let mut t = Self::new(&[Component::Talk, Component::Hold, Component::Acw]).expect("valid");
        let rows = HandlingRows {
            talk: Some(&[300.0, 200.0, 400.0, 250.0]),
            hold: Some(&[0.0, 60.0, 0.0, 30.0]),
            acw: Some(&[30.0, 40.0, 50.0, 20.0]),
            dial: Some(&[5.0, 8.0, 6.0, 7.0]),
        };
        t.fold_batch(rows, None).expect("valid rows");
        t
    }
}

/// Handling time of a set of contacts.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandlingResult {
    /// The components counted in the AHT.
    pub components: Vec<Component>,
    /// Handled contacts.
    pub handled: u64,
    /// Average handle time: the mean of the per-contact totals.
    pub aht: f64,
    /// Standard deviation of the totals (NaN with one contact).
    #[serde(with = "crate::serde_nan")]
    pub sd: f64,
    /// Student's t interval of the AHT (`None` with one contact).
    pub aht_ci: Option<Interval>,
    /// The mean of every component given, counted or not (another definition's AHT is the sum of
    /// its components' means).
    pub component_means: Vec<(Component, f64)>,
    /// `(p, quantile)` of the per-contact totals (empty when finished from a state: it keeps no
    /// values).
    pub quantiles: Vec<(f64, f64)>,
    /// How the quantiles were computed.
    pub quantile_method: Option<QuantileMethod>,
    /// Confidence level of the interval.
    pub confidence_level: f64,
}

impl fmt::Display for HandlingResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let comps: Vec<&str> = self.components.iter().map(|c| c.id()).collect();
        let ci = match &self.aht_ci {
            Some(i) => format!(
                " ({}% CI {:.2} to {:.2}, t)",
                100.0 * i.confidence_level,
                i.low,
                i.high
            ),
            None => String::new(),
        };
        writeln!(
            f,
            "AHT {:.2}{ci} over {} handled contacts; AHT = ({}) / handled",
            self.aht,
            self.handled,
            comps.join(" + ")
        )?;
        let means: Vec<String> = self
            .component_means
            .iter()
            .map(|(c, m)| {
                let counted = if self.components.contains(c) {
                    ""
                } else {
                    " (not counted)"
                };
                format!("{c} {m:.2}{counted}")
            })
            .collect();
        write!(f, "  component means: {}", means.join(", "))?;
        if self.quantiles.is_empty() {
            write!(f, "\n  quantiles: none (a merged state keeps no values; fold rows in memory for them)")
        } else {
            let method = match self.quantile_method {
                Some(QuantileMethod::NearestRank) => "nearest rank",
                _ => "type 7",
            };
            let q: Vec<String> = self
                .quantiles
                .iter()
                .map(|(p, v)| format!("p{} {v:.2}", 100.0 * p))
                .collect();
            write!(f, "\n  {} ({method}); sd {:.2}", q.join(", "), self.sd)
        }
    }
}

/// Handling time of per-contact rows in memory: the state's figures plus the quantiles of the
/// per-contact totals (the answered-only quantile code of [`survival`](crate::survival)).
pub fn handling_time(
    rows: HandlingRows<'_>,
    components: &[Component],
    quantiles: &[f64],
    method: QuantileMethod,
    confidence_level: f64,
) -> Result<HandlingResult> {
    let mut t = HandlingTally::new(components)?;
    t.fold_batch(rows, None)?;
    let mut r = t.result(confidence_level)?;
    let totals = rows.totals(&t.components)?;
    r.quantiles = answered_summary(&totals, None, quantiles, method, None)?.quantiles;
    r.quantile_method = Some(method);
    Ok(r)
}

/// The rows of each group, contiguous: `order` lists the rows group after group (each group's rows
/// in input order) and group `g` holds `order[bounds[g]..bounds[g + 1]]` (a counting sort of the
/// group codes, every code below `n_groups`).
pub(crate) fn rows_by_group(codes: &[u32], n_groups: usize) -> (Vec<usize>, Vec<usize>) {
    let mut bounds = vec![0usize; n_groups + 1];
    for &c in codes {
        bounds[c as usize + 1] += 1;
    }
    for g in 0..n_groups {
        bounds[g + 1] += bounds[g];
    }
    let mut next = bounds[..n_groups].to_vec();
    let mut order = vec![0usize; codes.len()];
    for (i, &c) in codes.iter().enumerate() {
        order[next[c as usize]] = i;
        next[c as usize] += 1;
    }
    (order, bounds)
}

/// [`handling_time`] of every group of `grouping`, in one call: the rows are checked once (a bad
/// duration is named by its row in the input), gathered group by group (in input order) and each
/// group's rows give exactly the result [`handling_time`] gives for them; `None` for a group without
/// contacts (an unused categorical level).
pub fn handling_time_by_group(
    grouping: &crate::groups::Grouping<'_>,
    rows: HandlingRows<'_>,
    components: &[Component],
    quantiles: &[f64],
    method: QuantileMethod,
    confidence_level: f64,
) -> Result<Vec<Option<HandlingResult>>> {
    use rayon::prelude::*;

    check_components(components)?;
    let n = rows.check(components)?;
    if n != grouping.n_rows() {
        return Err(Error::LengthMismatch {
            what: "component columns and group labels",
            left: n,
            right: grouping.n_rows(),
        });
    }
    crate::intervals::check_level(confidence_level)?;
    let (order, bounds) = rows_by_group(&grouping.codes(), grouping.n_groups());
    let gathered = rows
        .columns()
        .map(|c| c.map(|c| order.iter().map(|&i| c[i]).collect::<Vec<f64>>()));
    (0..grouping.n_groups())
        .into_par_iter()
        .map(|g| {
            let at = bounds[g]..bounds[g + 1];
            if at.is_empty() {
                return Ok(None);
            }
            let part = |k: usize| gathered[k].as_deref().map(|c| &c[at.clone()]);
            let group = HandlingRows {
                talk: part(0),
                hold: part(1),
                acw: part(2),
                dial: part(3),
            };
            handling_time(group, components, quantiles, method, confidence_level).map(Some)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TC: [Component; 3] = [Component::Talk, Component::Hold, Component::Acw];

    /// Against the shared fixture's figures (values of one component): mean 29.6, median 5.5,
    /// p90 37.5 (type 7) and 15 (nearest rank), numpy's.
    #[test]
    fn fixture_quantiles_and_mean() {
        // ../shared/validation/operations_vectors.json, frt_minutes.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/validation/operations_vectors.json");
        let text = std::fs::read_to_string(path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let f = &v["frt_minutes"];
        let values: Vec<f64> = f["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let rows = HandlingRows {
            talk: Some(&values),
            ..Default::default()
        };
        let r = handling_time(
            rows,
            &[Component::Talk],
            &[0.5, 0.9],
            QuantileMethod::Type7,
            0.95,
        )
        .unwrap();
        assert!((r.aht - f["mean"].as_f64().unwrap()).abs() < 1e-12);
        assert!((r.quantiles[0].1 - f["median"].as_f64().unwrap()).abs() < 1e-12);
        assert!((r.quantiles[1].1 - f["p90_type7"].as_f64().unwrap()).abs() < 1e-9);
        let r = handling_time(
            rows,
            &[Component::Talk],
            &[0.9],
            QuantileMethod::NearestRank,
            0.95,
        )
        .unwrap();
        assert_eq!(r.quantiles[0].1, f["p90_nearest_rank"].as_f64().unwrap());
        // scipy.stats.t.interval(0.95, 9, loc=29.6, scale=sd/sqrt(10)) with sd = np.std(x, ddof=1).
        let ci = r.aht_ci.unwrap();
        assert!((r.sd - 74.03182498838666).abs() < 1e-9, "{}", r.sd);
        assert!((ci.low - -23.359177267054015).abs() < 1e-8, "{}", ci.low);
        assert!((ci.high - 82.55917726705403).abs() < 1e-8, "{}", ci.high);
    }

    #[test]
    fn components_merge_round_trip() {
        let ex = HandlingTally::example();
        let r = ex.result(0.95).unwrap();
        // Totals 330, 300, 450, 300: mean 345; dial given, not counted.
        assert!((r.aht - 345.0).abs() < 1e-12);
        assert_eq!(r.component_means.len(), 4);
        assert!((r.component_means[3].1 - 6.5).abs() < 1e-12);
        assert!(r.quantiles.is_empty());
        let mut a = HandlingTally::new(&TC).unwrap();
        let mut b = a.clone();
        let (t, h, w) = ([300.0, 200.0], [0.0, 60.0], [30.0, 40.0]);
        a.fold_batch(
            HandlingRows {
                talk: Some(&t),
                hold: Some(&h),
                acw: Some(&w),
                dial: None,
            },
            None,
        )
        .unwrap();
        let (t2, h2, w2) = ([400.0, 250.0], [0.0, 30.0], [50.0, 20.0]);
        b.fold_batch(
            HandlingRows {
                talk: Some(&t2),
                hold: Some(&h2),
                acw: Some(&w2),
                dial: None,
            },
            None,
        )
        .unwrap();
        a.merge(&b).unwrap();
        let m = a.result(0.95).unwrap();
        assert!((m.aht - 345.0).abs() < 1e-12 && (m.sd - r.sd).abs() < 1e-9);
        assert_eq!(HandlingTally::from_bytes(&ex.to_bytes()).unwrap(), ex);
        assert_eq!(HandlingTally::from_json(&ex.to_json()).unwrap(), ex);
        assert!(HandlingTally::new(&[Component::Talk])
            .unwrap()
            .merge(&ex)
            .is_err());
    }

    #[test]
    fn bad_rows_are_named() {
        let mut t = HandlingTally::new(&TC).unwrap();
        let e = t
            .fold_batch(
                HandlingRows {
                    talk: Some(&[1.0, 2.0]),
                    hold: Some(&[0.0, -1.0]),
                    acw: Some(&[0.0, 0.0]),
                    dial: None,
                },
                None,
            )
            .unwrap_err();
        assert!(e.to_string().contains("hold = -1 at position 1"), "{e}");
        let e = t
            .fold_batch(
                HandlingRows {
                    talk: Some(&[1.0]),
                    ..Default::default()
                },
                None,
            )
            .unwrap_err();
        assert!(e.to_string().contains("no hold column"), "{e}");
        assert_eq!(t.n(), 0);
        assert!(HandlingTally::new(&[]).is_err());
        assert!(HandlingTally::new(&[Component::Talk, Component::Talk]).is_err());
    }

    #[test]
    fn by_group_equals_each_group_alone() {
        use crate::groups::{Grouping, KeyColumn};
        // 300 contacts of 7 agents (agent 5 has none: labels 0..7 without 5), in mixed order.
        let agent: Vec<i64> = (0..300).map(|i| [3, 0, 6, 1, 4, 2][(i * 7) % 6]).collect();
        let talk: Vec<f64> = (0..300).map(|i| f64::from((i * 37) % 500)).collect();
        let hold: Vec<f64> = (0..300).map(|i| f64::from((i * 11) % 60) * 0.5).collect();
        let g = Grouping::new(vec![KeyColumn::from(&agent[..])], 300).unwrap();
        let rows = HandlingRows {
            talk: Some(&talk),
            hold: Some(&hold),
            ..Default::default()
        };
        let chosen = [Component::Talk, Component::Hold];
        let by = handling_time_by_group(&g, rows, &chosen, &[0.5, 0.9], QuantileMethod::Type7, 0.9)
            .unwrap();
        assert_eq!(by.len(), 6);
        for (k, label) in [0i64, 1, 2, 3, 4, 6].iter().enumerate() {
            let at: Vec<usize> = (0..300).filter(|&i| agent[i] == *label).collect();
            let t: Vec<f64> = at.iter().map(|&i| talk[i]).collect();
            let h: Vec<f64> = at.iter().map(|&i| hold[i]).collect();
            let alone = handling_time(
                HandlingRows {
                    talk: Some(&t),
                    hold: Some(&h),
                    ..Default::default()
                },
                &chosen,
                &[0.5, 0.9],
                QuantileMethod::Type7,
                0.9,
            )
            .unwrap();
            // Bit for bit: the same rows in the same order through the same code.
            assert_eq!(by[k].as_ref(), Some(&alone), "agent {label}");
        }
        // A bad duration is named by its row in the input, not in its group.
        let mut bad = hold.clone();
        bad[250] = -1.0;
        let e = handling_time_by_group(
            &g,
            HandlingRows {
                talk: Some(&talk),
                hold: Some(&bad),
                ..Default::default()
            },
            &chosen,
            &[0.5],
            QuantileMethod::Type7,
            0.9,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("at position 250"), "{e}");
        let short = Grouping::new(vec![KeyColumn::from(&agent[..10])], 10).unwrap();
        assert!(matches!(
            handling_time_by_group(&short, rows, &chosen, &[], QuantileMethod::Type7, 0.9),
            Err(Error::LengthMismatch { .. })
        ));
    }
}

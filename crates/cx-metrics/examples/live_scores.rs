//! A small scoring service: load a fitted driver model, read survey responses as JSON lines from
//! standard input, score each one, keep live NPS tallies per segment and print snapshots.
//!
//! ```sh
//! # the bundled model (ltr on the six pillars of the sample survey), a snapshot every 500 lines
//! cargo run -p cx-metrics --example live_scores < responses.jsonl
//! # any model written by DriverModel::to_json (Python: DriverAnalysis.model().to_json()), every 100
//! cargo run -p cx-metrics --example live_scores -- my_model.json 100 < responses.jsonl
//! ```
//!
//! One response per line:
//!
//! ```json
//! {"segment": "north", "ltr": 9, "drivers": {"integrity": 8, "resolution": null, "empathy": 7}}
//! ```
//!
//! `ltr` (the answer to the recommendation question, 0–10) is optional; a driver left out or `null`
//! is a missing answer, scored as the model says (a driver the analysis filled by the indicator
//! method is filled the same way; any other missing driver makes the line unscorable). Each line is
//! scored by the model: the predicted 0–10 score, clipped to the scale.
//!
//! Per segment the service keeps two NPS tallies:
//!
//! - **actual**: the `ltr` answers given (lines without `ltr` do not count here);
//! - **predicted**: the model's predicted score *rounded to the nearest whole point* (half away from
//!   zero) and then categorised (9–10 promoter, 0–6 detractor), for every scored line, with or
//!   without `ltr`. It is an estimate of the NPS the segment would give, not an answer.
//!
//! A snapshot (every N lines and at the end) prints per segment the lines scored, the mean predicted
//! score, and each NPS (×100) with its 95 % adjusted-Wald interval and its n. A line that cannot be
//! used — not JSON, a field of the wrong type, an unknown driver, an `ltr` off 0–10, a driver off its
//! scale, an unscorable missing driver — is reported on standard error with its line number and
//! counted, and the service goes on; a line counts either entirely or not at all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use cx_metrics::scoring::DriverModel;
use cx_metrics::{Error, Merge, NanPolicy, NpsMethod, NpsTally};
use serde::Deserialize;

/// The model bundled with the example: `ltr` on the six pillars of the sample survey (see
/// `examples/data/README.md`).
const BUNDLED_MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/data/driver_model.json"
);

/// The level of the intervals printed.
const LEVEL: f64 = 0.95;

/// One response.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Response {
    segment: String,
    #[serde(default)]
    ltr: Option<f64>,
    #[serde(default)]
    drivers: BTreeMap<String, Option<f64>>,
}

/// The tallies of one segment.
#[derive(Default)]
struct Segment {
    scored: u64,
    sum_predicted: f64,
    actual: NpsTally,
    predicted: NpsTally,
}

/// An NPS with its interval, on −100..100.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Nps {
    n: u64,
    score: f64,
    low: f64,
    high: f64,
}

/// One segment's line of a snapshot.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    segment: String,
    scored: u64,
    mean_predicted: f64,
    /// `None` when no line of the segment gave `ltr`.
    actual: Option<Nps>,
    predicted: Option<Nps>,
}

/// The running state of the service.
struct Live {
    model: DriverModel,
    segments: BTreeMap<String, Segment>,
    lines: u64,
    bad: u64,
    blank: u64,
}

fn nps_of(tally: &NpsTally) -> Option<Nps> {
    let r = tally.result();
    let ci = r.ci(LEVEL, NpsMethod::AdjustedWald).ok()?;
    Some(Nps {
        n: r.n,
        score: 100.0 * r.score,
        low: 100.0 * ci.low,
        high: 100.0 * ci.high,
    })
}

impl Live {
    fn new(model: DriverModel) -> Self {
        Self {
            model,
            segments: BTreeMap::new(),
            lines: 0,
            bad: 0,
            blank: 0,
        }
    }

    /// Score one line and count it, or say why it cannot be used (nothing is counted then).
    fn line(&mut self, line_no: u64, text: &str) -> Result<(), String> {
        let r: Response = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let names = self.model.driver_names();
        if let Some(unknown) = r.drivers.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(Error::UnknownColumn {
                column: unknown.clone(),
                available: names.join(", "),
            }
            .to_string());
        }
        let values: Vec<f64> = names
            .iter()
            .map(|n| r.drivers.get(*n).copied().flatten().unwrap_or(f64::NAN))
            .collect();
        // Rows are numbered by line (1-based) in the errors.
        let row = usize::try_from(line_no).unwrap_or(usize::MAX);
        let p = self
            .model
            .predict_row(row, &values)
            .map_err(|e| e.to_string())?;
        // Validate the answer before anything is counted.
        let mut answer = NpsTally::new();
        if let Some(ltr) = r.ltr {
            answer
                .push(ltr, 1.0, NanPolicy::Raise)
                .map_err(|e| format!("ltr: {e}"))?;
        }
        let segment = self.segments.entry(r.segment).or_default();
        // The prediction is clipped to 0–10, so its rounding is a valid 0–10 point.
        segment
            .predicted
            .push(p.predicted.round(), 1.0, NanPolicy::Raise)
            .map_err(|e| e.to_string())?;
        segment.actual.merge(&answer).map_err(|e| e.to_string())?;
        segment.scored += 1;
        segment.sum_predicted += p.predicted;
        Ok(())
    }

    /// Read one line of input: blank lines are skipped (and counted), bad ones reported to `err`.
    fn feed(&mut self, text: &str, err: &mut impl Write) -> io::Result<()> {
        self.lines += 1;
        if text.trim().is_empty() {
            self.blank += 1;
            return Ok(());
        }
        if let Err(why) = self.line(self.lines, text) {
            self.bad += 1;
            writeln!(err, "line {}: {why}", self.lines)?;
        }
        Ok(())
    }

    /// Count a line that cannot even be read as text.
    fn feed_bad(&mut self, why: &str, err: &mut impl Write) -> io::Result<()> {
        self.lines += 1;
        self.bad += 1;
        writeln!(err, "line {}: {why}", self.lines)
    }

    fn rows(&self) -> Vec<Row> {
        self.segments
            .iter()
            .map(|(name, s)| Row {
                segment: name.clone(),
                scored: s.scored,
                mean_predicted: s.sum_predicted / s.scored as f64,
                actual: nps_of(&s.actual),
                predicted: nps_of(&s.predicted),
            })
            .collect()
    }

    fn snapshot(&self) -> String {
        let scored: u64 = self.segments.values().map(|s| s.scored).sum();
        let mut out = format!(
            "after {} lines: {scored} scored, {} bad, {} blank; NPS x100 with 95% adjusted-Wald \
             interval; predicted = the model's 0-10 score rounded to the nearest point\n",
            self.lines, self.bad, self.blank
        );
        let _ = writeln!(
            out,
            "{:<12} {:>7} {:>9} {:>7} {:>23} {:>7} {:>23}",
            "segment", "scored", "mean_pred", "n_ltr", "nps_actual", "n_pred", "nps_predicted"
        );
        let fmt = |n: Option<Nps>| match n {
            Some(n) => (
                n.n.to_string(),
                format!("{:.1} [{:.1}, {:.1}]", n.score, n.low, n.high),
            ),
            None => ("0".into(), "-".into()),
        };
        for r in self.rows() {
            let (na, a) = fmt(r.actual);
            let (np, p) = fmt(r.predicted);
            let _ = writeln!(
                out,
                "{:<12} {:>7} {:>9.2} {na:>7} {a:>23} {np:>7} {p:>23}",
                r.segment, r.scored, r.mean_predicted
            );
        }
        out
    }
}

/// Read `input` to the end, printing a snapshot to `out` every `every` lines and at the end, and
/// bad lines to `err`.
fn run(
    model: DriverModel,
    input: impl BufRead,
    every: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<Live> {
    let mut live = Live::new(model);
    for line in input.split(b'\n') {
        let mut bytes = line?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        match String::from_utf8(bytes) {
            Ok(text) => live.feed(&text, err)?,
            Err(_) => live.feed_bad("the line is not UTF-8 text", err)?,
        }
        if every > 0 && live.lines % every == 0 {
            writeln!(out, "{}", live.snapshot())?;
        }
    }
    writeln!(out, "final {}", live.snapshot())?;
    Ok(live)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().map_or(BUNDLED_MODEL, String::as_str);
    let every = match args.get(1).map(|s| s.parse::<u64>()) {
        None => 500,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("the second argument is the number of lines between snapshots, e.g. 500");
            return ExitCode::FAILURE;
        }
    };
    let model = match std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {path}: {e}"))
        .and_then(|text| DriverModel::from_json(&text).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", model.describe());
    let stdin = io::stdin();
    match run(
        model,
        stdin.lock(),
        every,
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    ) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> DriverModel {
        DriverModel::from_json(&std::fs::read_to_string(BUNDLED_MODEL).unwrap()).unwrap()
    }

    /// The adjusted-Wald NPS interval (Rocks 2016) written out: pseudo-counts 0.75, 1.5, 0.75.
    fn adjusted_wald(promoters: f64, detractors: f64, n: f64) -> (f64, f64, f64) {
        let m = n + 3.0;
        let (p, d) = ((promoters + 0.75) / m, (detractors + 0.75) / m);
        let centre = (promoters - detractors) / m;
        let half = 1.959963984540054 * ((p + d - (p - d).powi(2)) / m).sqrt();
        (
            100.0 * (promoters - detractors) / n,
            100.0 * (centre - half).max(-1.0),
            100.0 * (centre + half).min(1.0),
        )
    }

    /// The model's score written out from its parameters: intercept + Σ β x, a missing driver with
    /// an indicator filled with its fill value and the indicator's coefficient added, clipped 0–10.
    fn by_hand(m: &DriverModel, drivers: &[(&str, Option<f64>)]) -> f64 {
        let mut s = m.intercept;
        for d in &m.drivers {
            match drivers
                .iter()
                .find(|(n, _)| *n == d.name)
                .and_then(|(_, v)| *v)
            {
                Some(v) => s += d.coefficient * v,
                None => {
                    let i = m.indicators.iter().find(|i| i.driver == d.name).unwrap();
                    s += d.coefficient * i.fill_value + i.coefficient;
                }
            }
        }
        s.clamp(0.0, 10.0)
    }

    #[test]
    fn snapshots_match_an_independent_computation() {
        let model = bundled();
        assert_eq!(model.outcome, "ltr");
        assert_eq!(model.drivers.len(), 6);
        // A generated stream: segments, answers with and without ltr, resolution sometimes
        // missing (filled by the model's indicator), and bad lines among them.
        let names = model.driver_names();
        let mut lines = Vec::new();
        let mut expected: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
        for i in 0..300u32 {
            let segment = ["north", "south", "east"][(i % 3) as usize];
            let drivers: Vec<(&str, Option<f64>)> = names
                .iter()
                .enumerate()
                .map(|(k, n)| {
                    let v = f64::from(1 + (i * 7 + k as u32 * 3) % 10);
                    (*n, (!(*n == "resolution" && i % 4 == 0)).then_some(v))
                })
                .collect();
            let ltr = (i % 5 != 0).then_some(f64::from((i * 13) % 11));
            let fields: Vec<String> = drivers
                .iter()
                .map(|(n, v)| match v {
                    Some(v) => format!("\"{n}\": {v}"),
                    None => format!("\"{n}\": null"),
                })
                .collect();
            let ltr_field = ltr.map_or(String::new(), |l| format!(", \"ltr\": {l}"));
            lines.push(format!(
                "{{\"segment\": \"{segment}\"{ltr_field}, \"drivers\": {{{}}}}}",
                fields.join(", ")
            ));
            let e = expected.entry(segment).or_default();
            e.0.push(by_hand(&model, &drivers));
            e.1.extend(ltr);
        }
        // Bad lines (numbers 301..): each reported, none counted.
        let all5 = r#"{"integrity": 5, "resolution": 5, "expectations": 5, "time_and_effort": 5, "personalisation": 5, "empathy": 5}"#;
        let bad = [
            "not json",
            &format!(r#"{{"segment": "north", "ltr": 11, "drivers": {all5}}}"#),
            &format!(r#"{{"segment": "north", "ltr": 7.5, "drivers": {all5}}}"#),
            r#"{"segment": "north", "drivers": {"integrity": 12}}"#,
            r#"{"segment": "north", "drivers": {"integrty": 5}}"#,
            r#"{"segment": "north", "drivers": {"resolution": 5}}"#,
            r#"{"segment": "north", "drivers": {}, "extra": 1}"#,
        ];
        lines.extend(bad.iter().map(|s| s.to_string()));
        lines.push("   ".to_string());
        // Line 309 is not UTF-8, line 310 ends with CRLF.
        let mut input = lines.join("\n").into_bytes();
        input.extend_from_slice(b"\n{\"segment\": \"x\xff\"}\n");
        input.extend_from_slice(format!("{}\r\n", lines[0]).as_bytes());
        // Line 1 again (north, no ltr): one more scored line of north.
        let north = expected.get_mut("north").unwrap();
        let first = north.0[0];
        north.0.push(first);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let live = run(model, input.as_slice(), 100, &mut out, &mut err).unwrap();
        let err = String::from_utf8(err).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!((live.lines, live.bad, live.blank), (310, 8, 1));
        for (k, want) in [
            (301, "expected"),
            (302, "outside the scale 0..=10"),
            (303, "not a whole scale point"),
            (304, "\"integrity\": value 12 at row 304"),
            (305, "did you mean \"integrity\""),
            (306, "\"integrity\""),
            (307, "unknown field"),
            (309, "not UTF-8"),
        ] {
            let line = err
                .lines()
                .find(|l| l.starts_with(&format!("line {k}: ")))
                .unwrap_or_else(|| panic!("line {k} not reported: {err}"));
            assert!(line.contains(want), "{line}");
        }
        // Snapshots at 100, 200, 300 lines and the final one.
        assert_eq!(out.matches("after ").count(), 4);
        assert!(out.contains("final after 310 lines: 301 scored, 8 bad, 1 blank"));
        let rows = live.rows();
        assert_eq!(rows.len(), 3);
        for r in rows {
            let (pred, ltr) = &expected[r.segment.as_str()];
            assert_eq!(r.scored, pred.len() as u64);
            let mean = pred.iter().sum::<f64>() / pred.len() as f64;
            // Tolerance: 1e-12 (sums of ~100 scores of 0–10).
            assert!((r.mean_predicted - mean).abs() < 1e-12);
            for (got, values) in [
                (r.actual.unwrap(), ltr.clone()),
                (
                    r.predicted.unwrap(),
                    pred.iter().map(|p| p.round()).collect::<Vec<_>>(),
                ),
            ] {
                let n = values.len() as f64;
                let promoters = values.iter().filter(|&&v| v >= 9.0).count() as f64;
                let detractors = values.iter().filter(|&&v| v <= 6.0).count() as f64;
                let (score, low, high) = adjusted_wald(promoters, detractors, n);
                assert_eq!(got.n, values.len() as u64);
                assert!((got.score - score).abs() < 1e-9, "{got:?} vs {score}");
                assert!((got.low - low).abs() < 1e-9 && (got.high - high).abs() < 1e-9);
                let printed = format!("{:.1} [{:.1}, {:.1}]", score, low, high);
                assert!(out.contains(&printed), "{printed} not in {out}");
            }
        }
    }

    #[test]
    fn the_bundled_model_is_read_and_checked() {
        let m = bundled();
        assert_eq!(m.indicators.len(), 1);
        assert_eq!(m.indicators[0].driver, "resolution");
        assert_eq!(m.outcome_scale, Some((0.0, 10.0)));
        assert!(m.drivers.iter().all(|d| d.scale == Some((1.0, 10.0))));
    }
}

//! Read the bundled synthetic survey (a CSV file) with the standard library only and print the
//! number of respondents per segment and the count of each 0..=10 answer to the recommendation
//! question (`ltr`), with the blanks counted, not dropped.
//!
//! ```sh
//! cargo run -p cx-metrics --example sample_survey            # the bundled sample survey
//! cargo run -p cx-metrics --example sample_survey -- my.csv  # any CSV with `segment` and `ltr`
//! ```
//!
//! The CSV has one header line and no quoted fields; a blank field is a missing answer.

use std::collections::BTreeMap;
use std::process::ExitCode;

use cx_metrics::{NanPolicy, Scale, ScaleTally};

/// The sample survey shipped with the Python package.
const SAMPLE_SURVEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../python/cx_metrics/data/sample_survey.csv"
);

/// What the example reports.
struct Summary {
    rows: usize,
    per_segment: BTreeMap<String, usize>,
    ltr: ScaleTally,
}

/// Position of `name` in the header, or an error naming the columns there are.
fn column(header: &[&str], name: &str) -> Result<usize, String> {
    header.iter().position(|h| *h == name).ok_or_else(|| {
        format!(
            "column {name:?} not found; available columns: {}",
            header.join(", ")
        )
    })
}

/// Count the rows per segment and tally the 0..=10 `ltr` answers of a CSV text.
fn summarise(text: &str) -> Result<Summary, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .ok_or("the file is empty")?
        .split(',')
        .collect();
    let segment_at = column(&header, "segment")?;
    let ltr_at = column(&header, "ltr")?;

    let mut per_segment = BTreeMap::new();
    let mut answers: Vec<Option<u8>> = Vec::new();
    for (i, line) in lines.enumerate() {
        let line_no = i + 2; // 1-based, after the header
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != header.len() {
            return Err(format!(
                "line {line_no}: {} fields, expected {}",
                fields.len(),
                header.len()
            ));
        }
        let (Some(segment), Some(raw)) = (fields.get(segment_at), fields.get(ltr_at)) else {
            return Err(format!("line {line_no}: missing fields"));
        };
        *per_segment.entry((*segment).to_owned()).or_insert(0) += 1;
        let answer = if raw.is_empty() {
            None
        } else {
            let value = raw.parse::<u8>().map_err(|_| {
                format!("line {line_no}: ltr {raw:?} is not a whole number from 0 to 10")
            })?;
            Some(value)
        };
        answers.push(answer);
    }

    let mut ltr = ScaleTally::new(Scale::NPS);
    // Validates every answer against 0..=10; blanks are omitted and counted.
    ltr.fold(&answers, None, NanPolicy::Omit)
        .map_err(|e| format!("ltr (positions count data lines from 0): {e}"))?;
    Ok(Summary {
        rows: answers.len(),
        per_segment,
        ltr,
    })
}

fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| SAMPLE_SURVEY.to_owned());
    let summary = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {path}: {e}"))
        .and_then(|text| summarise(&text));
    let summary = match summary {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };

    println!("{} respondents", summary.rows);
    println!("\nrespondents per segment");
    for (segment, n) in &summary.per_segment {
        println!("  {segment:<8} {n:>6}");
    }
    println!("\nltr (0-10) answers");
    for point in Scale::NPS.min()..=Scale::NPS.max() {
        println!("  {point:>2} {:>6}", summary.ltr.rows_at(point));
    }
    println!("  blank {:>3}", summary.ltr.n_omitted());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_segments_answers_and_blanks() {
        let text = "respondent_id,segment,ltr\n1,north,10\n2,south,\n3,north,0\n4,east,10\n";
        let s = summarise(text).expect("valid CSV");
        assert_eq!(s.rows, 4);
        assert_eq!(s.per_segment.get("north"), Some(&2));
        assert_eq!(s.per_segment.get("south"), Some(&1));
        assert_eq!(s.ltr.rows_at(10), 2);
        assert_eq!(s.ltr.rows_at(0), 1);
        assert_eq!(s.ltr.n(), 3);
        assert_eq!(s.ltr.n_omitted(), 1);
    }

    #[test]
    fn rejects_bad_input_without_panicking() {
        assert!(summarise("").is_err());
        assert!(summarise("segment\nnorth\n").is_err()); // no ltr column
        assert!(summarise("segment,ltr\nnorth,11\n").is_err()); // outside 0..=10
        assert!(summarise("segment,ltr\nnorth,7.5\n").is_err());
        assert!(summarise("segment,ltr\nnorth\n").is_err()); // short row
    }

    #[test]
    fn bundled_sample_survey() {
        // Figures of the generated file, documented in python/cx_metrics/data/README.md.
        let text = std::fs::read_to_string(SAMPLE_SURVEY).expect("the sample survey is bundled");
        let s = summarise(&text).expect("the sample survey parses");
        assert_eq!(s.rows, 2000);
        let segments: Vec<(&str, usize)> = s
            .per_segment
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            segments,
            [("east", 504), ("north", 611), ("south", 492), ("west", 393)]
        );
        let counts: Vec<u64> = (0..=10).map(|p| s.ltr.rows_at(p)).collect();
        assert_eq!(counts, [1, 8, 25, 45, 80, 145, 197, 268, 275, 278, 659]);
        assert_eq!(s.ltr.n_omitted(), 19);
    }
}

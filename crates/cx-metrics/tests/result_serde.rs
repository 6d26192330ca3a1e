//! Results of driver analysis read back from JSON: the options travel with the analysis, and undefined
//! (NaN or infinite) figures are written as `null` and read back as NaN instead of failing.

use cx_metrics::drivers::{
    bootstrap, driver_analysis, BootstrapEstimate, BootstrapOptions, DriverAnalysis,
    DriverBootstrap, DriverOptions, MissingPolicy,
};
use cx_metrics::{DriverGroup, ImportanceMeasure, Interval};

fn columns() -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = 60;
    let ease: Vec<f64> = (0..n)
        .map(|i| f64::from((i * 7 % 10) as u8) + 1.0)
        .collect();
    let speed: Vec<f64> = (0..n).map(|i| f64::from((i * 3 % 7) as u8) + 1.0).collect();
    let care: Vec<f64> = (0..n)
        .map(|i| {
            if i % 9 == 0 {
                f64::NAN
            } else {
                f64::from((i * 5 % 6) as u8) + 1.0
            }
        })
        .collect();
    let ltr: Vec<f64> = (0..n)
        .map(|i| (0.5 * ease[i] + 0.3 * speed[i] + f64::from((i * 11 % 5) as u8) * 0.4).min(10.0))
        .collect();
    (ltr, ease, speed, care)
}

#[test]
fn an_analysis_reads_back_with_its_options() {
    let (ltr, ease, speed, care) = columns();
    let drivers = [
        ("ease", &ease[..]),
        ("speed", &speed[..]),
        ("care", &care[..]),
    ];
    let options = DriverOptions::default()
        .with_missing(MissingPolicy::Indicator)
        .with_group(DriverGroup::new("service", &["speed", "care"]));
    let a = driver_analysis(&ltr, &drivers, None, &options).unwrap();
    assert_eq!(a.options, options);
    let back: DriverAnalysis = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    assert_eq!(back, a);
    // The options decide a bootstrap of the restored result exactly as of the original.
    let boot = BootstrapOptions::default()
        .with_resamples(20)
        .with_seed(4)
        .with_measures(&[ImportanceMeasure::Lmg]);
    let b1 = bootstrap(&ltr, &drivers, None, &a.options, &boot).unwrap();
    let b2 = bootstrap(&ltr, &drivers, None, &back.options, &boot).unwrap();
    assert_eq!(b1, b2);
    let text = serde_json::to_string(&b1).unwrap();
    let read: DriverBootstrap = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&read).unwrap(), text);
}

#[test]
fn json_without_options_reads_back_with_the_defaults() {
    let (ltr, ease, speed, _) = columns();
    let a = driver_analysis(
        &ltr,
        &[("ease", &ease[..]), ("speed", &speed[..])],
        None,
        &DriverOptions::default(),
    )
    .unwrap();
    let mut value = serde_json::to_value(&a).unwrap();
    value.as_object_mut().unwrap().remove("options");
    let back: DriverAnalysis = serde_json::from_value(value).unwrap();
    assert_eq!(back.options, DriverOptions::default());
}

#[test]
fn undefined_figures_read_back_as_nan() {
    // The result is non-exhaustive: build a defined one from JSON, then make its figures undefined.
    let mut e: BootstrapEstimate = serde_json::from_value(serde_json::json!({
        "name": "ease",
        "estimate": 0.2,
        "std_error": 0.0,
        "bias": 0.0,
        "percentile": Interval::new(0.1, 0.3, 0.95),
        "bca": null,
        "bias_correction": 0.0,
        "acceleration": 0.0,
    }))
    .unwrap();
    (e.std_error, e.bias_correction, e.acceleration) = (f64::NAN, f64::INFINITY, f64::NAN);
    let text = serde_json::to_string(&e).unwrap();
    let back: BootstrapEstimate = serde_json::from_str(&text).unwrap();
    assert_eq!(
        (back.name.as_str(), back.estimate, back.bca),
        ("ease", 0.2, None)
    );
    assert!(back.std_error.is_nan() && back.bias_correction.is_nan() && back.acceleration.is_nan());
}

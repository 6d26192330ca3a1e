use super::*;

fn tp(name: &str, channel: &str) -> Touchpoint {
    Touchpoint::new(name, channel, Ownership::Own)
}

fn map() -> Journey {
    Journey::new(
        "retail",
        Some("new customers".into()),
        vec![
            Stage::new("discover", vec![tp("ads", "social media")]),
            Stage::new("buy", vec![tp("web", "website"), tp("shop", "store")]),
            Stage::new(
                "support",
                vec![Touchpoint::new(
                    "carrier",
                    "delivery",
                    Ownership::ThirdParty,
                )],
            ),
        ],
    )
    .unwrap()
}

fn problem(e: Error) -> &'static str {
    match e {
        Error::Journey { problem, .. } => problem,
        other => panic!("not a journey error: {other:?}"),
    }
}

#[test]
fn invalid_maps_are_typed_errors() {
    let st = |n: &str, t: Vec<Touchpoint>| Stage::new(n, t);
    let cases = [
        (vec![], "no_stages"),
        (
            vec![st("a", vec![tp("x", "c")]), st("a", vec![tp("y", "c")])],
            "duplicate_stage",
        ),
        (vec![st("a", vec![])], "empty_stage"),
        (
            vec![st("a", vec![tp("x", "c"), tp("x", "d")])],
            "duplicate_touchpoint",
        ),
        (
            vec![st("a", vec![tp("x", "c")]), st("b", vec![tp("x", "c")])],
            "touchpoint_in_two_stages",
        ),
        (vec![st(" ", vec![tp("x", "c")])], "blank_name"),
    ];
    for (stages, want) in cases {
        assert_eq!(problem(Journey::new("j", None, stages).unwrap_err()), want);
    }
    let own = [Ownership::Own; 3];
    let e = Journey::from_table(
        "j",
        None,
        &["a", "b", "a"],
        &["x", "y", "y"],
        &["c"; 3],
        &own,
    );
    assert_eq!(problem(e.unwrap_err()), "touchpoint_in_two_stages");
    let j = Journey::from_table(
        "j",
        None,
        &["a", "b", "a"],
        &["x", "y", "z"],
        &["c"; 3],
        &own,
    )
    .unwrap();
    assert_eq!(j.stages()[0].touchpoints.len(), 2);
    assert_eq!(j.touchpoint_index("y"), Some(2));
    let back: Journey = serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap();
    assert_eq!(back, j);
    let dup = r#"{"name": "j", "segment": null, "stages": [
        {"name": "a", "touchpoints": []}]}"#;
    assert!(serde_json::from_str::<Journey>(dup).is_err());
}

struct Data {
    touchpoint: Vec<&'static str>,
    customer: Vec<i64>,
    ltr: Vec<f64>,
    csat: Vec<f64>,
    ces: Vec<f64>,
}

impl Data {
    fn rows(&self) -> SurveyRows<'_> {
        SurveyRows {
            touchpoint: &self.touchpoint,
            customer: &self.customer,
            ltr: Some(&self.ltr),
            csat: Some(&self.csat),
            ces: Some(&self.ces),
        }
    }
}

fn data() -> Data {
    Data {
        touchpoint: vec![
            "ads", "web", "web", "shop", "carrier", "web", "shop", "carrier", "ads", "web",
        ],
        customer: vec![1, 1, 2, 2, 2, 3, 3, 3, 4, 4],
        ltr: vec![9.0, 10.0, 3.0, 8.0, 2.0, 9.0, f64::NAN, 5.0, 10.0, 6.0],
        csat: vec![5.0, 4.0, 2.0, 4.0, 1.0, 5.0, 3.0, 2.0, 5.0, 3.0],
        ces: vec![6.0, 7.0, 3.0, 5.0, 2.0, 6.0, 4.0, 1.0, 7.0, 5.0],
    }
}

#[test]
fn scores_match_hand_counts() {
    let d = data();
    let s = touchpoint_scores(&map(), &d.rows(), &ScoreOptions::default()).unwrap();
    assert_eq!(s.n_customers, 4);
    let web = s.touchpoint("web").unwrap();
    // web: rows 1, 2, 5, 9 of customers 1, 2, 3, 4; ltr 10, 3, 9, 6 -> 2 promoters, 2 detractors.
    assert_eq!((web.n_rows, web.n_customers), (4, 4));
    assert_eq!(web.customer_share, 1.0);
    let nps = web.nps.as_ref().unwrap();
    assert_eq!((nps.n, nps.score, nps.detractors), (4, 0.0, 0.5));
    let csat = web.csat.as_ref().unwrap();
    // csat 4, 2, 5, 3 on 1..5, top two box: 2 of 4; bottom (1-2): 1 of 4.
    assert_eq!(
        (csat.share_satisfied, csat.share_bottom, csat.mean),
        (0.5, 0.25, 3.5)
    );
    let ces = web.ces.as_ref().unwrap();
    // ces 7, 3, 6, 5: mean 5.25, agree (5-7) 3 of 4.
    assert_eq!((ces.mean, ces.share_agree), (5.25, 0.75));
    // Wilson 2 of 4 at 95 %: 0.5 ± 0.3992... (statsmodels proportion_confint(2, 4, method="wilson")
    // = (0.15003898915214947, 0.8499610108478506)).
    let ci = csat.ci.unwrap();
    assert!((ci.low - 0.150_038_989_152_149_47).abs() < 1e-12);
    assert!((ci.high - 0.849_961_010_847_850_6).abs() < 1e-12);
    let shop = s.touchpoint("shop").unwrap();
    let nps = shop.nps.as_ref().unwrap();
    assert_eq!((nps.n, nps.n_omitted), (1, 1));
    assert_eq!(shop.customer_share, 0.5);
    // The stage "buy" pools web and shop: 6 rows, 4 customers.
    let buy = s.stage("buy").unwrap();
    assert_eq!((buy.n_rows, buy.n_customers), (6, 4));
    assert_eq!(buy.touchpoint, None);
    assert_eq!(buy.csat.as_ref().unwrap().n, 6);
}

#[test]
fn bad_rows_are_named_or_counted() {
    let mut d = data();
    d.touchpoint[4] = "van";
    let e = touchpoint_scores(&map(), &d.rows(), &ScoreOptions::default()).unwrap_err();
    assert_eq!(problem(e.clone()), "unknown_touchpoint");
    assert!(e.to_string().contains("row 4"), "{e}");
    d.touchpoint[6] = "";
    let o = ScoreOptions {
        unknown: UnknownPolicy::Exclude,
        ..ScoreOptions::default()
    };
    let s = touchpoint_scores(&map(), &d.rows(), &o).unwrap();
    assert_eq!((s.n_excluded_unknown, s.n_excluded_missing), (1, 1));
    assert_eq!(s.touchpoint("carrier").unwrap().n_rows, 1);
    d.customer[3] = -1;
    let e = touchpoint_scores(&map(), &d.rows(), &o).unwrap_err();
    assert_eq!(problem(e.clone()), "missing_id");
    assert!(e.to_string().contains("row 3"), "{e}");
    d.customer.pop();
    assert!(matches!(
        touchpoint_scores(&map(), &d.rows(), &o),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn gaps_follow_the_interval() {
    let d = data();
    let s = touchpoint_scores(&map(), &d.rows(), &ScoreOptions::default()).unwrap();
    let t = |name: &str, metric, threshold, direction| Target {
        level: Level::Touchpoint,
        name: name.into(),
        metric,
        threshold,
        direction,
    };
    let targets = [
        t("web", Metric::Csat, 0.95, Direction::AtLeast), // CI 0.15..0.85: missed
        t("web", Metric::Csat, 0.10, Direction::AtLeast), // met
        t("web", Metric::Csat, 0.5, Direction::AtLeast),  // undecided
        t("web", Metric::CsatBottom, 0.9, Direction::AtMost), // met
    ];
    let g = journey_gaps(&s, &targets).unwrap();
    let v: Vec<Verdict> = g.gaps.iter().map(|g| g.verdict).collect();
    assert_eq!(
        v,
        [
            Verdict::MissedBeyondDoubt,
            Verdict::MetBeyondDoubt,
            Verdict::Undecided,
            Verdict::MetBeyondDoubt
        ]
    );
    let g0 = &g.gaps[0];
    assert!((g0.gap - (0.5 - 0.95)).abs() < 1e-15);
    let ci = s
        .touchpoint("web")
        .unwrap()
        .csat
        .as_ref()
        .unwrap()
        .ci
        .unwrap();
    assert!((g0.gap_ci.unwrap().high - (ci.high - 0.95)).abs() < 1e-15);
    let bad = [t("van", Metric::Csat, 0.5, Direction::AtLeast)];
    assert_eq!(
        problem(journey_gaps(&s, &bad).unwrap_err()),
        "unknown_touchpoint"
    );
    // A percentage given for a share, an NPS in points, a CES mean off its scale: refused, with
    // the fraction to give.
    let e = journey_gaps(&s, &[t("web", Metric::Csat, 85.0, Direction::AtLeast)]).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("web csat") && m.contains("0..1") && m.contains("give 0.85"),
        "{m}"
    );
    let e = journey_gaps(&s, &[t("web", Metric::Nps, 30.0, Direction::AtLeast)]).unwrap_err();
    assert!(e.to_string().contains("-1..1"), "{e}");
    let e = journey_gaps(&s, &[t("web", Metric::CesMean, 8.0, Direction::AtLeast)]).unwrap_err();
    assert!(e.to_string().contains("1..7"), "{e}");
    let e = journey_gaps(&s, &[t("web", Metric::CsatMean, 6.0, Direction::AtLeast)]).unwrap_err();
    assert!(e.to_string().contains("1..5"), "{e}");
    // The ends of each range are thresholds a user may mean.
    for (m, x) in [
        (Metric::Csat, 1.0),
        (Metric::Nps, -1.0),
        (Metric::CesMean, 7.0),
    ] {
        assert!(journey_gaps(&s, &[t("web", m, x, Direction::AtLeast)]).is_ok());
    }
}

#[test]
fn pain_points_combine_explicit_weights_and_are_reproducible() {
    let d = data();
    let reach = DropOff::StageReach(vec![
        ("discover".into(), 100),
        ("buy".into(), 60),
        ("support".into(), 30),
    ]);
    let pain = PainOptions {
        drop_off: Some(reach),
        n_resamples: 500,
        seed: 7,
        ..PainOptions::default()
    };
    let o = ScoreOptions::default();
    let p = pain_points(&map(), &d.rows(), &o, &pain).unwrap();
    assert_eq!(p.normalised_weights.effort, 0.25);
    let web = p.rows.iter().find(|r| r.touchpoint == "web").unwrap();
    // effort (7 − 5.25)/6, bottom 0.25, volume 1, drop-off after "buy" 1 − 30/60.
    let want = [(7.0 - 5.25) / 6.0, 0.25, 1.0, 0.5];
    for (k, w) in want.iter().enumerate() {
        assert!((web.contributions[k] - 0.25 * w).abs() < 1e-15);
    }
    assert!((web.score - want.iter().sum::<f64>() / 4.0).abs() < 1e-15);
    let ads = p.rows.iter().find(|r| r.touchpoint == "ads").unwrap();
    assert!((ads.drop_off - 0.4).abs() < 1e-15);
    let carrier = p.rows.iter().find(|r| r.touchpoint == "carrier").unwrap();
    assert_eq!(carrier.drop_off, 0.0);
    // Ranks follow the scores; the probabilities of the top 3 add up to 3 less the resamples in which
    // fewer than 3 touchpoints have a defined score (with 4 customers, a touchpoint is often unused).
    for w in p.rows.windows(2) {
        assert!(w[0].score >= w[1].score);
    }
    let total: f64 = p.rows.iter().map(|r| r.p_top).sum();
    assert!(total <= 3.0 + 1e-12 && total > 2.5, "{total}");
    assert_eq!(p, pain_points(&map(), &d.rows(), &o, &pain).unwrap());
    let other = PainOptions {
        seed: 8,
        ..pain.clone()
    };
    assert_ne!(p, pain_points(&map(), &d.rows(), &o, &other).unwrap());
    let growing = PainOptions {
        drop_off: Some(DropOff::StageReach(vec![
            ("discover".into(), 10),
            ("buy".into(), 60),
            ("support".into(), 30),
        ])),
        ..pain.clone()
    };
    assert!(pain_points(&map(), &d.rows(), &o, &growing).is_err());
    let no_table = PainOptions {
        drop_off: None,
        ..pain
    };
    assert!(matches!(
        pain_points(&map(), &d.rows(), &o, &no_table),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn brand_differences_reuse_the_two_sample_comparisons() {
    let d = data();
    let mut tps = d.touchpoint.clone();
    tps.extend(d.touchpoint.iter());
    let mut cust = d.customer.clone();
    cust.extend(d.customer.iter().map(|c| c + 100));
    let mut ltr = d.ltr.clone();
    ltr.extend(
        d.ltr
            .iter()
            .map(|x| if x.is_nan() { *x } else { (x + 1.0).min(10.0) }),
    );
    let mut csat = d.csat.clone();
    csat.extend(d.csat.iter().rev());
    let mut ces = d.ces.clone();
    ces.extend(d.ces.iter());
    let brand: Vec<&str> = (0..20)
        .map(|i| if i < 10 { "us" } else { "rival" })
        .collect();
    let rows = SurveyRows {
        touchpoint: &tps,
        customer: &cust,
        ltr: Some(&ltr),
        csat: Some(&csat),
        ces: Some(&ces),
    };
    let o = ScoreOptions::default();
    let c = compare_brands(&map(), &brand, &rows, "us", &o, PValueAdjustment::Holm).unwrap();
    assert_eq!(c.brands, ["rival", "us"]);
    let web = c
        .differences
        .iter()
        .find(|d| d.name == "web" && d.metric == Metric::Nps)
        .unwrap();
    let us = &c.scores[1];
    let rival = &c.scores[0];
    assert!(
        (web.difference
            - (rival.touchpoint("web").unwrap().nps.as_ref().unwrap().score
                - us.touchpoint("web").unwrap().nps.as_ref().unwrap().score))
            .abs()
            < 1e-15
    );
    // Holm over the finite p-values: recompute.
    let p: Vec<f64> = c.differences.iter().map(|d| d.p_value).collect();
    let adj = PValueAdjustment::Holm.adjust_finite(&p).unwrap();
    for (d, a) in c.differences.iter().zip(adj) {
        assert!(d.p_adjusted == a || (d.p_adjusted.is_nan() && a.is_nan()));
    }
    assert!(compare_brands(&map(), &brand, &rows, "nobody", &o, PValueAdjustment::Holm).is_err());
}

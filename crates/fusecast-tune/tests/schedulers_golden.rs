//! Our schedulers against decisions Ray Tune 2.60 made on the same recorded sequences of trial
//! reports (`scripts/golden/tune_schedulers.py`): every decision equal, the rung milestones and
//! the percentile cutoffs equal bit for bit.

use fusecast_tune::scheduler::{
    milestones, percentile, Asha, AshaSettings, Decision, MedianSettings, MedianStopping, Mode,
    Scheduler,
};
use serde_json::Value;

fn fixture() -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schedulers_golden.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn mode(s: &Value) -> Mode {
    match s["mode"].as_str().unwrap() {
        "max" => Mode::Max,
        _ => Mode::Min,
    }
}

fn scheduler(sc: &Value) -> Scheduler {
    let s = &sc["settings"];
    match sc["scheduler"].as_str().unwrap() {
        "asha" => Scheduler::Asha(Asha::new(AshaSettings {
            grace_period: s["grace_period"].as_f64().unwrap(),
            reduction_factor: s["reduction_factor"].as_f64().unwrap(),
            max_t: s["max_t"].as_f64().unwrap(),
            brackets: s["brackets"].as_u64().unwrap() as usize,
            stop_last_trials: s["stop_last_trials"].as_bool().unwrap(),
            mode: mode(s),
        })),
        "median" => Scheduler::Median(MedianStopping::new(MedianSettings {
            grace_period: s["grace_period"].as_f64().unwrap(),
            min_samples_required: s["min_samples_required"].as_u64().unwrap() as usize,
            min_time_slice: s["min_time_slice"].as_f64().unwrap(),
            hard_stop: s["hard_stop"].as_bool().unwrap(),
            mode: mode(s),
        })),
        _ => Scheduler::Fifo,
    }
}

#[test]
fn every_decision_equals_rays() {
    let f = fixture();
    let mut checked = 0;
    let mut stops = 0;
    for sc in f["scenarios"].as_array().unwrap() {
        let name = sc["name"].as_str().unwrap();
        let time_attr = sc["settings"]["time_attr"]
            .as_str()
            .unwrap_or("training_iteration");
        let metric = sc["settings"]["metric"].as_str().unwrap_or("val_loss");
        let mut s = scheduler(sc);
        if let (Scheduler::Asha(a), Some(p)) = (&s, sc.get("bracket_probabilities")) {
            let ours = a.bracket_probabilities();
            let theirs: Vec<f64> = p
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            assert_eq!(ours, theirs, "{name}: bracket probabilities");
        }
        for (i, e) in sc["events"].as_array().unwrap().iter().enumerate() {
            let trial = e["trial"].as_str().unwrap();
            let r = &e["result"];
            let (t, m) = (r[time_attr].as_f64(), r[metric].as_f64());
            match e["kind"].as_str().unwrap() {
                "add" => s.on_add(trial, e["bracket"].as_u64().unwrap_or(0) as usize),
                "result" => {
                    let waiting = e["pending_or_paused"]
                        .as_array()
                        .is_some_and(|w| !w.is_empty());
                    let ours = s.on_result(trial, t, m, waiting);
                    let theirs: Decision = serde_json::from_value(e["decision"].clone()).unwrap();
                    assert_eq!(ours, theirs, "{name}: event {i} ({trial} at {t:?}, {m:?})");
                    checked += 1;
                    stops += (theirs == Decision::Stop) as usize;
                }
                "complete" => s.on_complete(trial, t, m),
                _ => {}
            }
        }
    }
    assert!(
        checked > 200 && stops > 10,
        "{checked} decisions, {stops} stops"
    );
}

#[test]
fn rungs_and_cutoffs_equal_rays_bit_for_bit() {
    let f = fixture();
    for row in f["rung_table"].as_array().unwrap() {
        let ours = milestones(
            row["grace_period"].as_f64().unwrap(),
            row["max_t"].as_f64().unwrap(),
            row["reduction_factor"].as_f64().unwrap(),
            row["s"].as_u64().unwrap() as usize,
        );
        let theirs: Vec<f64> = row["milestones"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(ours, theirs, "{row}");
    }
    for case in f["percentile_cases"].as_array().unwrap() {
        let values: Vec<f64> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect();
        let ours = percentile(&values, case["q_percent"].as_f64().unwrap());
        let bits = u64::from_str_radix(case["cutoff_bits"].as_str().unwrap(), 16).unwrap();
        let theirs = f64::from_bits(bits);
        assert!(
            ours.to_bits() == bits || (ours.is_nan() && theirs.is_nan()),
            "{case}: {ours}"
        );
    }
}

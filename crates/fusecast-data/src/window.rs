//! Encoder/decoder windows over all series for a global model, and the batches built from them.
//!
//! Windows are never stored: window `i` is computed from its index. Each series contributes the
//! windows of its observed stretches (its span, cut at missing periods), a count per stretch;
//! prefix sums over those counts find the stretch of an index, the position follows from the
//! stride. Memory is the panel plus one batch and one count per stretch, whatever the number of
//! windows (the RAM blow-ups of PF#1038/#1322 came from materialized windows).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::panel::{CovariateKind, Panel, Role};
use crate::scale::{SeriesScale, TargetNormalizer, TargetScaler, TargetTransform};
use crate::untaught::LeftOutInput;
use crate::vocab::Vocabulary;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub encoder_length: usize,
    /// Shorter encoders (down to this) let the first periods of a series be forecast too.
    pub min_encoder_length: usize,
    pub horizon: usize,
    /// Distance between consecutive training windows of one series.
    pub stride: usize,
}

impl WindowSpec {
    fn check(&self) -> Result<()> {
        if self.horizon == 0 || self.encoder_length == 0 || self.stride == 0 {
            return Err(DataError::config(
                "windows",
                "encoder_length, horizon and stride must be at least 1",
            ));
        }
        if self.min_encoder_length == 0 || self.min_encoder_length > self.encoder_length {
            return Err(DataError::config(
                "windows.min_encoder_length",
                "must be in 1..=encoder_length",
            ));
        }
        Ok(())
    }
}

/// Time-based split: periods `0..train_end` train, `train_end..val_end` validation, the rest test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSplit {
    pub train_end: usize,
    pub val_end: usize,
    pub len: usize,
}

impl TimeSplit {
    /// The last `test` periods are the test part and the `validation` periods before them the
    /// validation part.
    pub fn from_tail(len: usize, validation: usize, test: usize) -> Result<Self> {
        if validation + test >= len {
            return Err(DataError::config(
                "windows",
                format!("validation_periods ({validation}) + test_periods ({test}) leave nothing to train on in {len} periods"),
            ));
        }
        Ok(TimeSplit {
            train_end: len - validation - test,
            val_end: len - test,
            len,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Train,
    Validation,
    Test,
    /// Every window whose decoder lies in the validation part, one per period (the validation
    /// windows are laid end to end): the residuals conformal calibration is fitted on.
    ValidationRolling,
}

/// One window: the decoder covers `decoder_start..decoder_start + horizon`, the encoder the
/// `encoder_length` periods before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub series: usize,
    pub decoder_start: usize,
    pub encoder_length: usize,
}

/// The windows of one observed stretch of one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    series: usize,
    /// The stretch's first period: no encoder reaches before it.
    first: usize,
    first_decoder: usize,
    count: usize,
}

/// The windows of one part of the split, computed on demand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Windows {
    /// Stretches holding at least one window, in series order.
    stretches: Arc<[Stretch]>,
    /// `starts[k]`: the index of stretch k's first window; the last entry is the total.
    starts: Arc<[usize]>,
    stride: usize,
    spec: WindowSpec,
}

impl Windows {
    /// The windows of `n_series` series that cover the whole grid.
    pub fn new(n_series: usize, spec: WindowSpec, split: TimeSplit, part: Part) -> Result<Self> {
        Self::build(spec, split, part, (0..n_series).map(|s| (s, 0..split.len)))
    }

    /// The windows of a panel's series, each inside its observed stretches: a series that
    /// starts late gets shorter encoders first (down to `min_encoder_length`), no window reads
    /// a missing period, and evaluation windows lie where the series has actuals. The series
    /// in `left_out` (sorted) get none.
    pub fn over(
        panel: &Panel,
        spec: WindowSpec,
        split: TimeSplit,
        part: Part,
        left_out: &[usize],
    ) -> Result<Self> {
        let runs = (0..panel.n_series())
            .filter(|s| left_out.binary_search(s).is_err())
            .flat_map(|s| panel.runs(s).into_iter().map(move |r| (s, r)));
        Self::build(spec, split, part, runs)
    }

    fn build(
        spec: WindowSpec,
        split: TimeSplit,
        part: Part,
        runs: impl Iterator<Item = (usize, std::ops::Range<usize>)>,
    ) -> Result<Self> {
        spec.check()?;
        let (from, to, stride) = match part {
            // Training decoders may start once the shortest encoder fits.
            Part::Train => (0, split.train_end, spec.stride),
            // Evaluation windows are laid end to end over their part.
            Part::Validation => (split.train_end, split.val_end, spec.horizon),
            Part::ValidationRolling => (split.train_end, split.val_end, 1),
            Part::Test => (split.val_end, split.len, spec.horizon),
        };
        let mut stretches = Vec::new();
        let mut starts = vec![0];
        for (series, run) in runs {
            let lo = from.max(run.start + spec.min_encoder_length);
            let hi = to.min(run.end);
            if hi < lo + spec.horizon {
                continue;
            }
            let count = (hi - lo - spec.horizon) / stride + 1;
            stretches.push(Stretch {
                series,
                first: run.start,
                first_decoder: lo,
                count,
            });
            starts.push(starts.last().expect("starts at 0") + count);
        }
        Ok(Windows {
            stretches: stretches.into(),
            starts: starts.into(),
            stride,
            spec,
        })
    }

    pub fn len(&self) -> usize {
        *self.starts.last().expect("starts at 0")
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most windows any series has (on a full panel every series has this many; see
    /// [`Windows::count`] for ragged ones).
    pub fn per_series(&self) -> usize {
        let (mut best, mut series, mut count) = (0, usize::MAX, 0);
        for r in self.stretches.iter() {
            if r.series != series {
                (series, count) = (r.series, 0);
            }
            count += r.count;
            best = best.max(count);
        }
        best
    }

    /// The windows of series `s`.
    pub fn count(&self, s: usize) -> usize {
        self.of_series(s).len()
    }

    /// The indices of series `s`'s windows (they are consecutive).
    pub fn of_series(&self, s: usize) -> std::ops::Range<usize> {
        let a = self.stretches.partition_point(|r| r.series < s);
        let b = self.stretches.partition_point(|r| r.series <= s);
        self.starts[a]..self.starts[b]
    }

    fn stretch_of(&self, i: usize) -> usize {
        self.starts.partition_point(|&x| x <= i) - 1
    }

    pub fn get(&self, i: usize) -> Window {
        assert!(i < self.len(), "window {i} of {}", self.len());
        let k = self.stretch_of(i);
        let r = self.stretches[k];
        let decoder_start = r.first_decoder + (i - self.starts[k]) * self.stride;
        Window {
            series: r.series,
            decoder_start,
            encoder_length: self.spec.encoder_length.min(decoder_start - r.first),
        }
    }
}

/// How each panel column enters the model, with vocabularies fitted once over all series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureLayout {
    /// Static categoricals: `series_id` first, then the panel's statics.
    pub static_categoricals: Vec<Vocabulary>,
    /// Static reals: the target's centre and scale (the series' or the window's, as the
    /// normalizer says).
    pub static_reals: Vec<String>,
    /// Known categoricals (calendar) with their cardinalities.
    pub known_categoricals: Vec<(String, usize)>,
    /// Known reals; `relative_time_idx` (position relative to the forecast origin) is added last.
    pub known_reals: Vec<String>,
    /// Observed reals; the scaled target is always the first.
    pub observed_reals: Vec<String>,
    /// Known covariates of the panel that the model does not read: its training part could not
    /// teach them ([`crate::untaught`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOutInput>,
    /// Seasons the known real [`TARGET_PROFILE`] takes its median over; 0 (layouts saved before
    /// it): no such input.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub profile_seasons: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

pub const RELATIVE_TIME: &str = "relative_time_idx";
/// The target's seasonal profile at each step: the median of its values at the same phase of
/// the last `profile_seasons` seasons before the step (before the forecast origin for forecast
/// steps, so every one is known there), scaled as the target. The seasonal naive forecast when
/// taken over one season; over several, one holiday week does not set it.
pub const TARGET_PROFILE: &str = "target_profile";

impl FeatureLayout {
    /// The layout of a panel's columns, vocabularies fitted on its values. Observed
    /// categoricals have no place in it: the decoder would read their future values.
    pub fn fit(panel: &Panel) -> Result<Self> {
        if let Some(c) = panel.covariates.iter().find(|c| {
            c.role == Role::Observed && matches!(c.kind, CovariateKind::Categorical { .. })
        }) {
            return Err(DataError::config(
                "features",
                format!("{:?} is an observed categorical covariate; the model takes observed inputs as reals only (known categoricals such as the calendar are fine)", c.name),
            ));
        }
        let mut statics = vec![Vocabulary::fit(
            "series_id",
            panel.series.iter().map(String::as_str),
        )];
        statics.extend(
            panel
                .statics
                .iter()
                .map(|s| Vocabulary::fit(&s.name, s.values.iter().map(String::as_str))),
        );
        let pick = |role: Role, categorical: bool| -> Vec<&crate::panel::Covariate> {
            panel
                .covariates
                .iter()
                .filter(|c| {
                    c.role == role
                        && matches!(c.kind, CovariateKind::Categorical { .. }) == categorical
                })
                .collect()
        };
        let mut known_reals: Vec<String> = pick(Role::Known, false)
            .iter()
            .map(|c| c.name.clone())
            .collect();
        known_reals.push(RELATIVE_TIME.to_string());
        let mut observed_reals = vec![panel.target_name.clone()];
        observed_reals.extend(pick(Role::Observed, false).iter().map(|c| c.name.clone()));
        Ok(FeatureLayout {
            static_categoricals: statics,
            static_reals: vec!["target_center".into(), "target_scale".into()],
            known_categoricals: pick(Role::Known, true)
                .iter()
                .map(|c| match c.kind {
                    CovariateKind::Categorical { cardinality } => (c.name.clone(), cardinality),
                    CovariateKind::Real => unreachable!("filtered to categoricals"),
                })
                .collect(),
            known_reals,
            observed_reals,
            left_out: Vec::new(),
            profile_seasons: 0,
        })
    }

    /// The known reals that are panel covariates: all but those each window makes
    /// ([`RELATIVE_TIME`], [`TARGET_PROFILE`]).
    pub fn covariate_known_reals(&self) -> impl Iterator<Item = &String> {
        self.known_reals
            .iter()
            .filter(|n| *n != RELATIVE_TIME && *n != TARGET_PROFILE)
    }

    /// The layout with the known real [`TARGET_PROFILE`] over `seasons` seasons (before
    /// `relative_time_idx`); 0 leaves it without.
    pub fn with_profile(mut self, seasons: usize) -> Self {
        self.known_reals.retain(|n| n != TARGET_PROFILE);
        self.profile_seasons = seasons;
        if seasons > 0 {
            let at = self
                .known_reals
                .iter()
                .position(|n| n == RELATIVE_TIME)
                .unwrap_or(self.known_reals.len());
            self.known_reals.insert(at, TARGET_PROFILE.to_string());
        }
        self
    }

    /// The layout without the known inputs `out` names, which it records.
    pub fn leaving_out(mut self, out: Vec<LeftOutInput>) -> Self {
        let kept = |name: &String| !out.iter().any(|o| &o.name == name);
        self.known_categoricals.retain(|(n, _)| kept(n));
        self.known_reals.retain(kept);
        self.left_out.extend(out);
        self
    }

    /// The first way `other` (fitted on other data) differs in its variables, not counting
    /// vocabulary classes: names, order, cardinalities.
    pub fn variables_differ(&self, other: &FeatureLayout) -> Option<String> {
        let names = |l: &FeatureLayout| -> Vec<String> {
            l.static_categoricals
                .iter()
                .map(|v| v.name.clone())
                .collect()
        };
        let pairs = [
            (
                "static categoricals",
                format!("{:?}", names(self)),
                format!("{:?}", names(other)),
            ),
            (
                "static reals",
                format!("{:?}", self.static_reals),
                format!("{:?}", other.static_reals),
            ),
            (
                "known categoricals",
                format!("{:?}", self.known_categoricals),
                format!("{:?}", other.known_categoricals),
            ),
            (
                "known reals",
                format!("{:?}", self.known_reals),
                format!("{:?}", other.known_reals),
            ),
            (
                "observed reals",
                format!("{:?}", self.observed_reals),
                format!("{:?}", other.observed_reals),
            ),
        ];
        pairs
            .into_iter()
            .find(|(_, a, b)| a != b)
            .map(|(what, a, b)| format!("{what}: the model has {a}, the data {b}"))
    }
}

/// A batch in flat row-major arrays, ready to become tensors. The encoder is right-padded:
/// sample `b` has valid encoder steps `0..encoder_lengths[b]`, then zeros.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    pub size: usize,
    pub encoder_length: usize,
    pub horizon: usize,
    pub windows: Vec<Window>,
    pub encoder_lengths: Vec<usize>,
    /// `[size, n_static_categoricals]` codes.
    pub static_categoricals: Vec<i64>,
    /// `[size, n_static_reals]`.
    pub static_reals: Vec<f32>,
    /// `[size, encoder_length, n_known_categoricals]` and `[size, horizon, ...]`.
    pub encoder_categoricals: Vec<i64>,
    pub decoder_categoricals: Vec<i64>,
    /// `[size, encoder_length, n_known_reals + n_observed_reals]`.
    pub encoder_reals: Vec<f32>,
    /// `[size, horizon, n_known_reals]`.
    pub decoder_reals: Vec<f32>,
    /// Scaled target to predict, `[size, horizon]`.
    pub target: Vec<f32>,
    /// Each sample's target centre and scale (after the transform): the predictions are
    /// unscaled with these, so a per-window scale never has to be recomputed from the panel.
    pub target_scales: Vec<SeriesScale>,
}

impl Batch {
    /// Windows `from..to` of this batch (the inverse of [`Batch::concat`]).
    pub fn slice(&self, from: usize, to: usize) -> Batch {
        if from == 0 && to == self.size {
            return self.clone();
        }
        let per = |len: usize| len / self.size.max(1);
        fn cut<T: Clone>(v: &[T], k: usize, from: usize, to: usize) -> Vec<T> {
            v[from * k..to * k].to_vec()
        }
        let i = |v: &[i64]| cut(v, per(v.len()), from, to);
        let f = |v: &[f32]| cut(v, per(v.len()), from, to);
        Batch {
            size: to - from,
            encoder_length: self.encoder_length,
            horizon: self.horizon,
            windows: self.windows[from..to].to_vec(),
            encoder_lengths: self.encoder_lengths[from..to].to_vec(),
            static_categoricals: i(&self.static_categoricals),
            static_reals: f(&self.static_reals),
            encoder_categoricals: i(&self.encoder_categoricals),
            decoder_categoricals: i(&self.decoder_categoricals),
            encoder_reals: f(&self.encoder_reals),
            decoder_reals: f(&self.decoder_reals),
            target: f(&self.target),
            target_scales: self.target_scales[from..to].to_vec(),
        }
    }

    /// Batches of one encoder length and horizon as one batch, in order (a service packs
    /// concurrent requests into one forward pass). `None` when their shapes differ.
    pub fn concat(batches: &[Batch]) -> Option<Batch> {
        let first = batches.first()?;
        if batches
            .iter()
            .any(|b| b.encoder_length != first.encoder_length || b.horizon != first.horizon)
        {
            return None;
        }
        let mut out = Batch {
            encoder_length: first.encoder_length,
            horizon: first.horizon,
            ..Batch::default()
        };
        for b in batches {
            out.size += b.size;
            out.windows.extend_from_slice(&b.windows);
            out.encoder_lengths.extend_from_slice(&b.encoder_lengths);
            out.static_categoricals
                .extend_from_slice(&b.static_categoricals);
            out.static_reals.extend_from_slice(&b.static_reals);
            out.encoder_categoricals
                .extend_from_slice(&b.encoder_categoricals);
            out.decoder_categoricals
                .extend_from_slice(&b.decoder_categoricals);
            out.encoder_reals.extend_from_slice(&b.encoder_reals);
            out.decoder_reals.extend_from_slice(&b.decoder_reals);
            out.target.extend_from_slice(&b.target);
            out.target_scales.extend_from_slice(&b.target_scales);
        }
        Some(out)
    }
}

/// Standardization of one real covariate, fitted on the training periods of all series (PF
/// scales every real input; raw weather in degrees and inches blows gradients up).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CovariateScale {
    pub name: String,
    pub center: f32,
    pub scale: f32,
}

/// A panel with its split, scaler and layout: the source of every batch.
pub struct WindowDataset<'a> {
    pub panel: &'a Panel,
    pub spec: WindowSpec,
    pub split: TimeSplit,
    pub scaler: TargetScaler,
    pub layout: FeatureLayout,
    pub covariate_scales: Vec<CovariateScale>,
    /// Standardization of the static reals (each series' target centre and scale) across series:
    /// with a softplus transform they are counts in the thousands, which the network cannot take raw.
    pub static_real_scales: Vec<CovariateScale>,
    /// Series (sorted indices) too short for any training window: they have no windows in any
    /// part and no fitted target scale, so the model never reads or forecasts them.
    pub left_out: Vec<usize>,
}

fn fit_covariate_scales(panel: &Panel, train_end: usize) -> Vec<CovariateScale> {
    let len = panel.len();
    panel
        .covariates
        .iter()
        .filter(|c| c.kind == CovariateKind::Real)
        .map(|c| {
            // Observed cells only: the periods a series has no data for carry no inputs.
            let values: Vec<f64> = (0..panel.n_series())
                .flat_map(|s| (0..train_end).map(move |t| (s, t)))
                .filter(|&(s, t)| panel.is_observed(s, t))
                .map(|(s, t)| c.value(s, t, len) as f64)
                .collect();
            let n = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            CovariateScale {
                name: c.name.clone(),
                center: mean as f32,
                scale: if std > 1e-8 { std as f32 } else { 1.0 },
            }
        })
        .collect()
}

impl<'a> WindowDataset<'a> {
    pub fn new(
        panel: &'a Panel,
        spec: WindowSpec,
        split: TimeSplit,
        transform: TargetTransform,
    ) -> Result<Self> {
        if split.len != panel.len() {
            return Err(DataError::Invalid(format!(
                "split is for {} periods, the panel has {}",
                split.len,
                panel.len()
            )));
        }
        let required = spec.min_encoder_length + spec.horizon;
        if split.train_end < required {
            return Err(DataError::SeriesTooShort {
                series: panel.series.first().cloned().unwrap_or_default(),
                length: split.train_end,
                required,
                hint: format!(
                    " in its training part (all {} series share the {}-period grid, {} of them held out for validation and test); use a longer date range, a shorter encoder or horizon, or fewer held-out periods",
                    panel.n_series(),
                    panel.len(),
                    panel.len() - split.train_end
                ),
            });
        }
        for (part, name) in [(Part::Validation, "validation"), (Part::Test, "test")] {
            let periods = match part {
                Part::Validation => split.val_end - split.train_end,
                _ => split.len - split.val_end,
            };
            if periods > 0 && periods < spec.horizon {
                return Err(DataError::config(
                    format!("windows.{name}_periods"),
                    format!(
                        "{periods} periods cannot hold one horizon of {}",
                        spec.horizon
                    ),
                ));
            }
        }
        let left_out = Self::without_training_windows(panel, spec, split)?;
        if left_out.len() == panel.n_series() {
            // Name the series closest to having a window.
            let observed = |s: usize| {
                (0..split.train_end)
                    .filter(|&t| panel.is_observed(s, t))
                    .count()
            };
            let best = (0..panel.n_series())
                .max_by_key(|&s| observed(s))
                .unwrap_or(0);
            return Err(DataError::SeriesTooShort {
                series: panel.series.get(best).cloned().unwrap_or_default(),
                length: observed(best),
                required,
                hint: format!(
                    " without a gap in its training part (the {} periods before validation), and no series has that: none has a training window; use a longer date range, a shorter encoder or horizon, or fewer held-out periods",
                    split.train_end
                ),
            });
        }
        Ok(WindowDataset {
            static_real_scales: Vec::new(),
            panel,
            spec,
            split,
            scaler: TargetScaler::fit(panel, transform, split.train_end)?,
            layout: FeatureLayout::fit(panel)?,
            covariate_scales: fit_covariate_scales(panel, split.train_end),
            left_out,
        }
        .with_static_real_scales())
    }

    /// The same windows with the target scaled by `normalizer`; the static reals' standardization
    /// is refitted over what they then hold (the training windows' own centres and scales).
    pub fn with_normalizer(mut self, normalizer: TargetNormalizer) -> Self {
        if normalizer == self.scaler.normalizer {
            return self;
        }
        self.scaler.normalizer = normalizer;
        self.with_static_real_scales()
    }

    /// The same windows with the target's seasonal profile over `seasons` seasons as a known
    /// input ([`TARGET_PROFILE`]; 0: none).
    pub fn with_profile(mut self, seasons: usize) -> Self {
        self.layout = self.layout.with_profile(seasons);
        self
    }

    /// The scaled [`TARGET_PROFILE`] of series `s` at period `t` in a window starting its
    /// forecast at `origin` and scaled by `sc`: 0 (the centre) when no season before has a value.
    /// `v` is scratch space, reused across the steps of a batch.
    fn profile_at(
        &self,
        s: usize,
        t: usize,
        origin: usize,
        sc: SeriesScale,
        v: &mut Vec<f64>,
    ) -> f32 {
        let season = self.panel.grid.frequency.season_length();
        // The nearest same-phase period that is known at the step (at the origin when forecast).
        let first_back = match t.checked_sub(origin) {
            None => season,
            Some(ahead) => season * (ahead / season + 1),
        };
        let y = self.panel.values(s);
        v.clear();
        v.extend(
            (0..self.layout.profile_seasons)
                .filter_map(|j| t.checked_sub(first_back + j * season))
                .map(|u| y[u])
                .filter(|v| !v.is_nan()),
        );
        if v.is_empty() {
            return 0.0;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = match n % 2 {
            1 => v[n / 2],
            _ => 0.5 * (v[n / 2 - 1] + v[n / 2]),
        };
        self.scaler.scale_with(sc, median)
    }

    /// The same windows without the known inputs that the training part cannot teach
    /// ([`crate::untaught::untaught`]); the layout records which and why.
    pub fn leaving_out_untaught(mut self) -> Self {
        let out = crate::untaught::untaught(self.panel, &self.layout, self.split.train_end);
        self.layout = self.layout.leaving_out(out);
        self
    }

    /// The target centre and scale of window `w`.
    pub fn window_scale(&self, w: &Window) -> SeriesScale {
        let from = w.decoder_start - w.encoder_length;
        self.scaler.of_window(
            w.series,
            &self.panel.values(w.series)[from..w.decoder_start],
        )
    }

    /// The series of `panel` that have no training window under `spec` and `split`.
    pub fn without_training_windows(
        panel: &Panel,
        spec: WindowSpec,
        split: TimeSplit,
    ) -> Result<Vec<usize>> {
        let train = Windows::over(panel, spec, split, Part::Train, &[])?;
        Ok((0..panel.n_series())
            .filter(|&s| train.count(s) == 0)
            .collect())
    }

    /// Whether the model takes part in forecasting series `s` (it had a training window).
    pub fn is_modelled(&self, s: usize) -> bool {
        self.left_out.binary_search(&s).is_err()
    }

    /// The window that forecasts series `s` from cutoff `c` (its last observed period): the
    /// encoder holds up to `encoder_length` observed periods ending at `c`, at least
    /// `min_encoder_length`. Why not, when it cannot.
    pub fn window_at(&self, s: usize, c: usize) -> std::result::Result<Window, String> {
        let h = self.spec.horizon;
        let len = self.panel.len();
        let min_encoder = self.spec.min_encoder_length.max(1);
        let id = &self.panel.series[s];
        if c + h >= len {
            return Err(format!(
                "cutoff {c} cannot hold {h} steps ahead in {len} periods"
            ));
        }
        if !self.is_modelled(s) {
            return Err(format!(
                "series {id:?} was too short for a training window, so the model has no scale for it"
            ));
        }
        let Some((first, _)) = self.panel.history(s, c) else {
            return Err(format!(
                "series {id:?} has no value at {}",
                crate::time::format_timestamp(self.panel.grid.timestamp(c))
            ));
        };
        if c + 1 - first < min_encoder {
            return Err(format!(
                "series {id:?} has {} observations without a gap up to {}, the model needs at least {min_encoder} (min_encoder_length)",
                c + 1 - first,
                crate::time::format_timestamp(self.panel.grid.timestamp(c))
            ));
        }
        Ok(Window {
            series: s,
            decoder_start: c + 1,
            encoder_length: self.spec.encoder_length.min(c + 1 - first),
        })
    }

    fn with_static_real_scales(mut self) -> Self {
        let fit = |name: &str, values: Vec<f64>| {
            let n = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
            CovariateScale {
                name: name.to_string(),
                center: mean as f32,
                scale: if std > 1e-8 { std as f32 } else { 1.0 },
            }
        };
        // Over the modelled series only: a left-out series' placeholder scale is no data.
        let series: Vec<_> = match self.scaler.normalizer {
            TargetNormalizer::Series => (0..self.scaler.series.len())
                .filter(|&s| self.is_modelled(s))
                .map(|s| self.scaler.series[s])
                .collect(),
            // What the model reads: the training windows' scales, narrower than a series'.
            _ => {
                let train = self
                    .windows(Part::Train)
                    .expect("the training windows were built when the dataset was");
                (0..train.len())
                    .map(|i| self.window_scale(&train.get(i)))
                    .collect()
            }
        };
        self.static_real_scales = vec![
            fit("target_center", series.iter().map(|s| s.center).collect()),
            fit("target_scale", series.iter().map(|s| s.scale).collect()),
        ];
        self
    }

    pub fn windows(&self, part: Part) -> Result<Windows> {
        Windows::over(self.panel, self.spec, self.split, part, &self.left_out)
    }

    /// Gathers the given windows into one batch.
    pub fn batch(&self, windows: &[Window]) -> Batch {
        let p = self.panel;
        let len = p.len();
        let (e_max, h) = (self.spec.encoder_length, self.spec.horizon);
        let lay = &self.layout;
        let cov = |name: &str| p.covariate(name).expect("layout names panel covariates");
        let known_cats: Vec<_> = lay.known_categoricals.iter().map(|(n, _)| cov(n)).collect();
        let scale_of = |name: &str| {
            let s = self
                .covariate_scales
                .iter()
                .find(|s| s.name == name)
                .expect("reals are scaled");
            (s.center, s.scale)
        };
        let known_reals: Vec<_> = lay
            .covariate_known_reals()
            .map(|n| (cov(n), scale_of(n)))
            .collect();
        let profile = lay.profile_seasons > 0;
        let mut scratch = Vec::with_capacity(lay.profile_seasons);
        let observed: Vec<_> = lay.observed_reals[1..]
            .iter()
            .map(|n| (cov(n), scale_of(n)))
            .collect();
        let n_enc_reals = lay.known_reals.len() + lay.observed_reals.len();
        let mut b = Batch {
            size: windows.len(),
            encoder_length: e_max,
            horizon: h,
            windows: windows.to_vec(),
            ..Batch::default()
        };
        b.encoder_categoricals = vec![0; windows.len() * e_max * known_cats.len()];
        b.encoder_reals = vec![0.0; windows.len() * e_max * n_enc_reals];
        for (i, w) in windows.iter().enumerate() {
            let s = w.series;
            b.encoder_lengths.push(w.encoder_length);
            b.static_categoricals
                .push(lay.static_categoricals[0].code(&p.series[s]) as i64);
            for (voc, st) in lay.static_categoricals[1..].iter().zip(&p.statics) {
                b.static_categoricals.push(voc.code(&st.values[s]) as i64);
            }
            let sc = self.window_scale(w);
            b.target_scales.push(sc);
            let (c, k) = (&self.static_real_scales[0], &self.static_real_scales[1]);
            b.static_reals.extend([
                (sc.center as f32 - c.center) / c.scale,
                (sc.scale as f32 - k.center) / k.scale,
            ]);
            let origin = w.decoder_start as i64;
            let enc_from = w.decoder_start - w.encoder_length;
            for (k, t) in (enc_from..w.decoder_start).enumerate() {
                let cat_row = (i * e_max + k) * known_cats.len();
                for (j, c) in known_cats.iter().enumerate() {
                    b.encoder_categoricals[cat_row + j] = c.value(s, t, len) as i64;
                }
                let row = &mut b.encoder_reals
                    [(i * e_max + k) * n_enc_reals..(i * e_max + k + 1) * n_enc_reals];
                let mut j = 0;
                for (c, (center, scale)) in &known_reals {
                    row[j] = (c.value(s, t, len) - center) / scale;
                    j += 1;
                }
                if profile {
                    row[j] = self.profile_at(s, t, w.decoder_start, sc, &mut scratch);
                    j += 1;
                }
                row[j] = relative_time(t as i64 - origin, e_max);
                j += 1;
                row[j] = self.scaler.scale_with(sc, p.values(s)[t]);
                j += 1;
                for (c, (center, scale)) in &observed {
                    row[j] = (c.value(s, t, len) - center) / scale;
                    j += 1;
                }
            }
            for t in w.decoder_start..w.decoder_start + h {
                for c in &known_cats {
                    b.decoder_categoricals.push(c.value(s, t, len) as i64);
                }
                for (c, (center, scale)) in &known_reals {
                    b.decoder_reals.push((c.value(s, t, len) - center) / scale);
                }
                if profile {
                    b.decoder_reals
                        .push(self.profile_at(s, t, w.decoder_start, sc, &mut scratch));
                }
                b.decoder_reals
                    .push(relative_time(t as i64 - origin, e_max));
                b.target.push(self.scaler.scale_with(sc, p.values(s)[t]));
            }
        }
        b
    }
}

/// Position relative to the forecast origin, scaled by the encoder length (PF's
/// `relative_time_idx`): -1 at the first full-encoder step, 0 at the first forecast step.
fn relative_time(offset: i64, encoder_length: usize) -> f32 {
    offset as f32 / encoder_length as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{parse_date, Frequency, TimeGrid};

    /// Two series over 120 days; the second's level triples on day 80, after the training part.
    fn panel() -> Panel {
        let grid = TimeGrid::from_days(
            parse_date("2021-01-01").unwrap(),
            parse_date("2021-04-30").unwrap(),
            Frequency::Daily,
        );
        let n = grid.len;
        let mut values = Vec::new();
        for s in 0..2 {
            for t in 0..n {
                let weekly = [1.0, 1.3, 0.7, 1.1, 0.9, 1.6, 0.4][t % 7];
                let level = if s == 1 && t >= 80 { 3.0 } else { 1.0 };
                // A spike every 17 days: mean/std and median/IQR differ on it.
                let spike = if t % 17 == 3 { 9.0 } else { 1.0 };
                values.push(50.0 * (s + 1) as f64 * level * weekly * spike + t as f64);
            }
        }
        Panel::new(grid, "y", vec!["a".into(), "b".into()], values).unwrap()
    }

    fn dataset(p: &Panel, normalizer: TargetNormalizer) -> WindowDataset<'_> {
        dataset_with_horizon(p, normalizer, 7)
    }

    fn dataset_with_horizon(
        p: &Panel,
        normalizer: TargetNormalizer,
        horizon: usize,
    ) -> WindowDataset<'_> {
        let spec = WindowSpec {
            encoder_length: 28,
            min_encoder_length: 28,
            horizon,
            stride: 1,
        };
        let split = TimeSplit::from_tail(p.len(), 14, 28).unwrap();
        WindowDataset::new(p, spec, split, TargetTransform::Log1p)
            .unwrap()
            .with_normalizer(normalizer)
    }

    /// The scaled target of sample `i`'s encoder, read out of the batch's real inputs.
    fn encoder_target(ds: &WindowDataset, b: &Batch, i: usize) -> Vec<f64> {
        let n = ds.layout.known_reals.len() + ds.layout.observed_reals.len();
        let at = ds.layout.known_reals.len();
        (0..b.encoder_lengths[i])
            .map(|k| b.encoder_reals[(i * b.encoder_length + k) * n + at] as f64)
            .collect()
    }

    fn quantile(v: &[f64], p: f64) -> f64 {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let h = (v.len() - 1) as f64 * p;
        let lo = h.floor() as usize;
        v[lo] + (h - lo as f64) * (v[(lo + 1).min(v.len() - 1)] - v[lo])
    }

    #[test]
    fn the_profile_input_is_the_median_of_the_same_weekday_before_each_step() {
        let p = panel();
        let ds = dataset_with_horizon(&p, TargetNormalizer::Window, 14).with_profile(3);
        assert_eq!(ds.layout.known_reals, [TARGET_PROFILE, RELATIVE_TIME]);
        assert_eq!(ds.layout.profile_seasons, 3);
        let w = Window {
            series: 0,
            decoder_start: 60,
            encoder_length: 28,
        };
        let first = Window {
            decoder_start: 28,
            ..w
        };
        let b = ds.batch(&[w, first]);
        let y = p.values(0);
        let sc = ds.window_scale(&w);
        let scaled = |t: usize| ds.scaler.scale_with(sc, y[t]);
        // Forecast steps, 2 known reals each: the profile, then the relative time.
        let decoder = |k: usize| b.decoder_reals[k * 2];
        // Step 1 (day 61): days 54, 47 and 40; 54 is a spike (x9), the median is day 47.
        assert_eq!(decoder(1), scaled(47));
        assert!(y[54] > 5.0 * y[47]);
        // Step 8 (day 68) looks back from the origin too: days 54, 47, 40 again.
        assert_eq!(decoder(8), scaled(47));
        // Step 0 (day 60): days 53, 46, 39, all plain: the middle one by value is day 46.
        assert_eq!(decoder(0), scaled(46));
        // Encoder steps look one season back from themselves: day 40 reads days 33, 26, 19.
        let n = ds.layout.known_reals.len() + ds.layout.observed_reals.len();
        let encoder = |i: usize, t: usize| {
            let k = t - (b.windows[i].decoder_start - b.windows[i].encoder_length);
            b.encoder_reals[(i * b.encoder_length + k) * n]
        };
        assert_eq!(encoder(0, 40), scaled(26));
        // Day 0 has no season before it: the centre. Day 8 has one, day 1.
        let sc1 = ds.window_scale(&first);
        assert_eq!(encoder(1, 0), 0.0);
        assert_eq!(encoder(1, 8), ds.scaler.scale_with(sc1, y[1]));
        // Off, the layout has no such input; a layout saved before it reads as off.
        let off = ds.layout.clone().with_profile(0);
        assert_eq!(off.known_reals, [RELATIVE_TIME]);
        let saved = serde_json::to_value(&off).unwrap();
        assert!(saved.get("profile_seasons").is_none());
        let read: FeatureLayout = serde_json::from_value(saved).unwrap();
        assert_eq!(read.profile_seasons, 0);
    }

    #[test]
    fn a_window_is_scaled_by_its_own_encoder() {
        let p = panel();
        let windows = [
            Window {
                series: 0,
                decoder_start: 40,
                encoder_length: 28,
            },
            Window {
                series: 1,
                decoder_start: 100,
                encoder_length: 28,
            },
        ];
        let ds = dataset(&p, TargetNormalizer::Window);
        let b = ds.batch(&windows);
        for i in 0..2 {
            let z = encoder_target(&ds, &b, i);
            let mean = z.iter().sum::<f64>() / z.len() as f64;
            let std = (z.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / z.len() as f64).sqrt();
            assert!(mean.abs() < 1e-5, "window {i}: mean {mean}");
            assert!((std - 1.0).abs() < 1e-5, "window {i}: std {std}");
        }
        let ds = dataset(&p, TargetNormalizer::WindowRobust);
        let b = ds.batch(&windows);
        for i in 0..2 {
            let z = encoder_target(&ds, &b, i);
            let (med, iqr) = (quantile(&z, 0.5), quantile(&z, 0.75) - quantile(&z, 0.25));
            assert!(med.abs() < 1e-5, "window {i}: median {med}");
            assert!((iqr - 1.0).abs() < 1e-5, "window {i}: IQR {iqr}");
        }
        // Per series, the window after the level shift sits far above the training centre.
        let ds = dataset(&p, TargetNormalizer::Series);
        let z = encoder_target(&ds, &ds.batch(&windows), 1);
        assert!(z.iter().sum::<f64>() / z.len() as f64 > 1.0);
    }

    #[test]
    fn scaling_and_unscaling_a_window_is_the_identity() {
        let p = panel();
        for normalizer in [
            TargetNormalizer::Series,
            TargetNormalizer::Window,
            TargetNormalizer::WindowRobust,
        ] {
            let ds = dataset(&p, normalizer);
            let ws = ds.windows(Part::Test).unwrap();
            let windows: Vec<Window> = (0..ws.len()).map(|i| ws.get(i)).collect();
            let b = ds.batch(&windows);
            for (i, w) in windows.iter().enumerate() {
                let sc = b.target_scales[i];
                assert_eq!(sc, ds.window_scale(w));
                for k in 0..b.horizon {
                    let y = p.values(w.series)[w.decoder_start + k];
                    let back = ds
                        .scaler
                        .unscale_with(sc, b.target[i * b.horizon + k] as f64);
                    assert!((back - y).abs() < 1e-4 * y, "{normalizer:?}: {y} -> {back}");
                }
            }
        }
    }

    #[test]
    fn the_window_centre_and_scale_reach_the_model_standardized_over_training_windows() {
        let p = panel();
        let ds = dataset(&p, TargetNormalizer::Window);
        let train = ds.windows(Part::Train).unwrap();
        let all: Vec<Window> = (0..train.len()).map(|i| train.get(i)).collect();
        let b = ds.batch(&all);
        for j in 0..2 {
            let v: Vec<f64> = (0..b.size)
                .map(|i| b.static_reals[i * 2 + j] as f64)
                .collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            assert!(
                mean.abs() < 1e-3 && (std - 1.0).abs() < 1e-3,
                "{j}: {mean} {std}"
            );
        }
        // The static centre follows the window, not the series.
        let late = ds.batch(&[Window {
            series: 1,
            decoder_start: 110,
            encoder_length: 28,
        }]);
        let early = ds.batch(&[Window {
            series: 1,
            decoder_start: 40,
            encoder_length: 28,
        }]);
        assert!(late.static_reals[0] > early.static_reals[0] + 0.5);
    }
}

//! What a report holds, as plain data: filled from a run directory (or a tuning experiment) by
//! the pipeline, rendered by [`super::page::render`]. A part the run does not have is
//! [`Part::Omitted`] with the reason, which the page shows in place of the section.

/// A section's content, or why the run has none.
#[derive(Clone, Debug, PartialEq)]
pub enum Part<T> {
    Shown(T),
    Omitted(String),
}

impl<T> Part<T> {
    pub fn shown(&self) -> Option<&T> {
        match self {
            Part::Shown(t) => Some(t),
            Part::Omitted(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub title: String,
    /// Short lines under the title (data, backtest windows, where the files are).
    pub facts: Vec<String>,
    pub comparison: Part<Comparison>,
    pub winners: Part<Winners>,
    /// The series where the TFT's MASE is over twice the best baseline's, worst first.
    pub behind: Part<Vec<BehindRow>>,
    pub clusters: Part<Vec<GroupRow>>,
    /// Every model's scores per backtest window (cutoff).
    pub windows: Part<Vec<GroupRow>>,
    pub forecasts: Part<Vec<SeriesPlot>>,
    /// One per model interpreted (a run has one TFT; a per-cluster experiment one per cluster).
    pub interpretation: Part<Vec<Interpretation>>,
    pub training: Part<TrainingCurve>,
    /// Only for a tuning experiment; a run's page has no such section at all.
    pub experiment: Option<Part<Experiment>>,
}

/// One model's backtest scores (a row of `eval/comparison.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelRow {
    pub model: String,
    pub series: usize,
    pub points: usize,
    pub missing: usize,
    pub mae: f64,
    pub rmse: f64,
    pub smape: f64,
    pub mase: f64,
    /// One per level of [`Comparison::levels`].
    pub pinball: Vec<f64>,
    pub qrisk50: f64,
    pub qrisk90: f64,
    pub coverage80: f64,
    pub fallbacks: usize,
    pub wins: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub levels: Vec<f64>,
    pub models: Vec<ModelRow>,
}

/// The model with the lowest MASE per series, and every model's MASE there (`eval/winners.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct Winners {
    pub models: Vec<String>,
    pub rows: Vec<WinnerRow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WinnerRow {
    pub series: String,
    pub cluster: String,
    pub winner: String,
    /// In the order of [`Winners::models`].
    pub mase: Vec<f64>,
}

impl Winners {
    /// Series won per model, in model order (models that win nothing included).
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.models
            .iter()
            .map(|m| {
                (
                    m.clone(),
                    self.rows.iter().filter(|r| r.winner == *m).count(),
                )
            })
            .collect()
    }
}

/// A series the TFT is far behind the best baseline on (a row of `eval/tft_behind.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct BehindRow {
    pub series: String,
    pub model: String,
    pub mase: f64,
    pub best_baseline: String,
    pub best_mase: f64,
    pub ratio: f64,
    /// The explanation's kind (`few_counts`, `level_moved`, ...) and its words.
    pub reason: String,
    pub explanation: String,
}

/// One model's scores over a group of windows: a cluster's series (a row of
/// `eval/per_cluster.csv`) or one backtest cutoff's (of `eval/per_window.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    /// The cluster's name or the cutoff.
    pub group: String,
    pub model: String,
    pub series: usize,
    pub mase: f64,
    pub qrisk50: f64,
    pub qrisk90: f64,
    pub coverage80: f64,
}

/// One series around its backtest windows: what happened, and a model's median with its 80%
/// band from every cutoff (PyTorch Forecasting's `plot_prediction`, for all windows at once).
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPlot {
    pub series: String,
    /// Why this series is shown ("worst TFT MASE", "largest series").
    pub why: String,
    /// Timestamps (seconds, the panel's wall clock) of `actual`.
    pub time: Vec<i64>,
    pub actual: Vec<f64>,
    /// The forecast origins (last observed step of each window).
    pub cutoffs: Vec<i64>,
    /// The model drawn with its band; others add their median only.
    pub models: Vec<ModelPaths>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelPaths {
    pub model: String,
    /// This model's MASE on this series, when scored.
    pub mase: Option<f64>,
    pub windows: Vec<ForecastWindow>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForecastWindow {
    pub time: Vec<i64>,
    pub median: Vec<f64>,
    /// The 0.1 and 0.9 quantiles, when the model has them.
    pub band: Option<(Vec<f64>, Vec<f64>)>,
}

/// A TFT's mean variable importances and attention (PyTorch Forecasting's
/// `plot_interpretation`).
#[derive(Clone, Debug, PartialEq)]
pub struct Interpretation {
    pub title: String,
    pub windows: usize,
    pub static_importance: Vec<(String, f64)>,
    pub encoder_importance: Vec<(String, f64)>,
    pub decoder_importance: Vec<(String, f64)>,
    /// `attention[step][lag - 1]`.
    pub attention: Vec<Vec<f64>>,
}

impl Interpretation {
    /// Mean attention over forecast steps, by lag (index `lag - 1`).
    pub fn attention_by_lag(&self) -> Vec<f64> {
        let lags = self.attention.iter().map(Vec::len).max().unwrap_or(0);
        (0..lags)
            .map(|l| {
                let v: Vec<f64> = self
                    .attention
                    .iter()
                    .filter_map(|row| row.get(l).copied())
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            })
            .collect()
    }
}

/// Loss per epoch (`metrics.jsonl`).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingCurve {
    pub epochs: Vec<usize>,
    pub train_loss: Vec<f64>,
    pub val_loss: Vec<f64>,
    /// The epoch with the lowest validation loss (the run's `best/` model).
    pub best_epoch: Option<usize>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// `trials.csv` as it is: its header and rows.
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The rows of the winning trials (`best` column).
    pub best: Vec<bool>,
    /// The tuner's own SVG of every trial's validation curve, inlined as it is.
    pub curves_svg: Part<String>,
}

//! KServe's open time-series forecast API (kserve/kserve#4615, `POST /v1/timeseries/forecast`):
//! the request and response bodies. Unknown fields are accepted, as KServe's schema allows.
//! Two Fusecast additions, both optional: an input without `series` is forecast from the history
//! the model was trained with, and `future` gives an input's known inputs over the horizon.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize)]
pub struct ForecastRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub inputs: Vec<TimeSeriesInput>,
    pub options: ForecastOptions,
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct TimeSeriesInput {
    /// `"univariate_time_series"` (the only kind a TFT over one target takes).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub name: String,
    /// The history, oldest first. Absent: the history the model was trained with. Read as raw
    /// JSON so that a wrong element is reported by its index, and alone.
    #[serde(default)]
    pub series: Option<serde_json::Value>,
    /// `"D"` / `"day"`, `"H"` / `"hour"`; absent: the model's.
    #[serde(default)]
    pub frequency: Option<String>,
    /// The timestamp of `series[0]` (ISO 8601); needed with `series`.
    #[serde(default)]
    pub start_timestamp: Option<String>,
    /// Fusecast: values of the model's known inputs (other than the calendar) over the horizon.
    #[serde(default)]
    pub future: Option<BTreeMap<String, serde_json::Value>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ForecastOptions {
    pub horizon: usize,
    /// Levels to return, each one of the model's; absent: all of them.
    #[serde(default)]
    pub quantiles: Option<Vec<f64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Completed,
    Partial,
    Error,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: Option<String>,
    pub message: String,
    /// The request field at fault (`inputs[3].series[17]`).
    pub param: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastResponse {
    pub id: String,
    pub created_at: u64,
    pub status: Status,
    pub error: Option<ErrorBody>,
    pub model: String,
    pub outputs: Vec<ForecastOutput>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastOutput {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub status: Status,
    pub content: Vec<TimeSeriesForecast>,
    pub error: Option<ErrorBody>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeSeriesForecast {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    /// The point forecast: the TFT's median.
    pub mean_forecast: Vec<f64>,
    pub frequency: String,
    /// The first forecast period.
    pub start_timestamp: String,
    /// `"0.1" -> path`, one per requested level.
    pub quantiles: BTreeMap<String, Vec<f64>>,
    /// Fusecast: set when the forecast is a fallback (never for the TFT's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub const UNIVARIATE: &str = "univariate_time_series";
pub const FORECAST_OUTPUT: &str = "time_series_forecast";

/// A quantile level as KServe keys it (`str(q)` in Python: `0.1`, `0.5`).
pub fn level_key(level: f64) -> String {
    format!("{level}")
}

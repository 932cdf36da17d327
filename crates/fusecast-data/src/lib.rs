//! Fusecast's data stage: trip records, long tables or the synthetic city in; one validated
//! [`Panel`] out, with calendar, holiday and weather covariates, zone statics, clusters,
//! per-series target scaling and encoder/decoder windows for a global model.

pub mod calendar;
pub mod cluster;
pub mod config;
pub mod csvline;
mod dense;
pub mod error;
pub mod files;
pub mod fitted;
pub mod forecast;
pub mod future;
pub mod panel;
pub mod prepare;
pub mod scale;
pub mod synth;
pub mod synth_trips;
pub mod table;
pub mod time;
pub mod trips;
pub mod untaught;
pub mod vocab;
pub mod weather;
pub mod window;
pub mod zones;

pub use error::{DataError, Result};
pub use forecast::{Forecast, ForecastRow, RowNote, RowNoteKind};
pub use panel::Panel;
pub use polars;
pub use time::{Frequency, TimeGrid};

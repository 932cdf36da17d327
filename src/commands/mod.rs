pub mod aggregate;
pub mod jobs;
pub mod predict;
pub mod report;
pub mod serve;
pub mod synth_trips;
pub mod train;
pub mod tune;

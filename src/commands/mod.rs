pub mod aggregate;
pub mod jobs;
pub mod synth_trips;
pub mod tune;

pub mod aggregate;
pub mod evaluate;
pub mod prepare;
pub mod run;
pub mod synth_trips;
pub mod train;

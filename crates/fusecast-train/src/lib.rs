//! Fusecast's training stage: one global TFT over all series of a panel.

pub mod checkpoint;
pub mod clip;
pub mod inputs;
pub mod parallel;
pub mod predict;
pub mod trainer;

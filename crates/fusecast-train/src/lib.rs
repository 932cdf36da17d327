//! Fusecast's training stage. Today: the bridge from the data stage's windows to the model's
//! inputs (the trainer itself is the training issue's work).

pub mod inputs;

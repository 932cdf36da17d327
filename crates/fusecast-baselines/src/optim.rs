//! Numerical optimizers shared by the model fits (being written).

//! The Temporal Fusion Transformer (Lim, Arik, Loeff, Pfister 2019) in burn, block for block as
//! PyTorch Forecasting implements it, with a quantile loss and interpretation.

pub mod attention;
pub mod config;
pub mod flops;
pub mod grn;
pub mod interpret;
pub mod kernels;
pub mod layers;
pub mod loss;
pub mod lstm;
pub mod pf_import;
pub mod tft;
pub mod vsn;

pub use burn;
pub use config::{Categorical, TftConfig};
pub use layers::with_dropout_seed;
pub use tft::{Tft, TftInput, TftOutput};

//! Analytic FLOP count of one TFT forward pass (multiply-adds x 2, matmuls and embeddings'
//! dense work only; element-wise ops are a few percent and left out). A training step is about
//! three times the forward (forward, plus two matmuls per matmul in backward).

use crate::config::TftConfig;

fn linear(n: usize, d_in: usize, d_out: usize) -> u64 {
    2 * (n * d_in * d_out) as u64
}

/// A GRN over `n` rows: fc1, optional context, fc2, GLU (2x width), resample (a matmul).
fn grn(n: usize, d_in: usize, hidden: usize, d_out: usize, context: Option<usize>) -> u64 {
    linear(n, d_in, hidden)
        + context.map_or(0, |c| linear(n, c, hidden))
        + linear(n, hidden, hidden)
        + linear(n, hidden, 2 * d_out)
        + if d_in != d_out {
            linear(n, d_in, d_out)
        } else {
            0
        }
}

fn vsn(cfg: &TftConfig, n: usize, cats: &[usize], n_reals: usize, context: bool) -> u64 {
    let h = cfg.hidden_size;
    let hc = cfg.hidden_continuous_size;
    let vars = cats.len() + n_reals;
    let mut f: u64 = cats.iter().map(|e| linear(n, *e, h)).sum();
    f += n_reals as u64 * grn(n, hc, hc.min(h), h, None);
    if vars > 1 {
        let total = cats.iter().sum::<usize>() + n_reals * hc;
        f += grn(n, total, h.min(vars), vars, context.then_some(h));
        f += 2 * (n * vars * h) as u64;
    }
    f
}

/// FLOPs of one forward pass over `batch` windows of `encoder + horizon` steps.
pub fn forward_flops(cfg: &TftConfig, batch: usize, encoder: usize, horizon: usize) -> u64 {
    let h = cfg.hidden_size;
    let t = encoder + horizon;
    let emb = |names: &[String]| -> Vec<usize> {
        names
            .iter()
            .map(|n| {
                cfg.embedding_size(&cfg.categoricals[cfg.categorical_index(n).expect("validated")])
            })
            .collect()
    };
    let mut f = 2 * (batch * t * cfg.reals.len() * cfg.hidden_continuous_size) as u64;
    f += vsn(
        cfg,
        batch,
        &emb(&cfg.static_categoricals),
        cfg.static_reals.len(),
        false,
    );
    f += vsn(
        cfg,
        batch * encoder,
        &emb(&cfg.encoder_categoricals),
        cfg.encoder_reals.len(),
        true,
    );
    f += vsn(
        cfg,
        batch * horizon,
        &emb(&cfg.decoder_categoricals),
        cfg.decoder_reals.len(),
        true,
    );
    f += 4 * grn(batch, h, h, h, None);
    // LSTMs: input and hidden projections to 4h per step and layer.
    f += cfg.lstm_layers as u64 * (linear(batch * t, h, 4 * h) + linear(batch * t, h, 4 * h));
    f += linear(batch * t, h, 2 * h); // post-LSTM gate
    f += grn(batch * t, h, h, h, Some(h)); // static enrichment
    let heads = cfg.attention_heads;
    let dk = h / heads;
    f += linear(batch * horizon, h, heads * dk)
        + linear(batch * t, h, heads * dk)
        + linear(batch * t, h, dk);
    f += 2 * 2 * (batch * heads * horizon * t * dk) as u64; // scores and weighted values
    f += linear(batch * horizon, dk, h);
    f += linear(batch * horizon, h, 2 * h)
        + grn(batch * horizon, h, h, h, None)
        + linear(batch * horizon, h, 2 * h);
    f += linear(batch * horizon, h, cfg.quantiles.len());
    f
}

#!/usr/bin/env python3
"""Generate golden fixtures for the Fusecast TFT parity test.

Builds a tiny deterministic dataset, a PyTorch Forecasting TemporalFusionTransformer
with perturbed (non-trivial) weights, runs one forward pass over a batch of 6 windows
with varying encoder lengths, and writes weights / batch / outputs / meta to OUT.

Pinned environment (see README.md in this directory):
    torch==2.15.0 lightning==2.6.6 pytorch-forecasting==1.8.0
    pandas==2.3.3 numpy==2.4.6 safetensors==0.8.0

Usage:
    .venv/bin/python make_tft_golden.py [--lstm-layers N] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

from pytorch_forecasting import TemporalFusionTransformer, TimeSeriesDataSet
from pytorch_forecasting.data import GroupNormalizer
from pytorch_forecasting.metrics import QuantileLoss

warnings.filterwarnings("ignore")

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "crates/fusecast-model/tests/fixtures/tft_golden"

N_SERIES = 5
N_STEPS = 40
BATCH = 6


def seed_everything(seed: int = 0) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # pragma: no cover
        print(f"note: use_deterministic_algorithms failed: {e}")


def make_df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    regions = ["north", "south", "west"]
    for s_i, s in enumerate("abcde"):
        static_r = float(0.5 + 0.37 * s_i)
        offset = 2.0 * s_i
        region = regions[s_i % 3]
        for t in range(N_STEPS):
            seas = np.sin(t / 3.0)
            rows.append(
                dict(
                    series=s,
                    region=region,
                    static_r=static_r,
                    time_idx=t,
                    dow=str(t % 7),
                    known_r=float(seas + 0.05 * rng.standard_normal()),
                    obs_r=float(rng.standard_normal()),
                    value=float(10.0 + 3.0 * seas + offset + 0.3 * rng.standard_normal()),
                )
            )
    df = pd.DataFrame(rows)
    for c in ["series", "region", "dow"]:
        df[c] = df[c].astype(str)
    return df


def make_dataset(df: pd.DataFrame) -> TimeSeriesDataSet:
    return TimeSeriesDataSet(
        df,
        time_idx="time_idx",
        target="value",
        group_ids=["series"],
        max_encoder_length=8,
        min_encoder_length=4,
        max_prediction_length=3,
        min_prediction_length=3,
        static_categoricals=["series", "region"],
        static_reals=["static_r"],
        time_varying_known_categoricals=["dow"],
        time_varying_known_reals=["known_r"],
        time_varying_unknown_reals=["obs_r", "value"],
        target_normalizer=GroupNormalizer(groups=["series"], transformation=None),
        add_relative_time_idx=True,
        add_target_scales=True,
        add_encoder_length=True,
        randomize_length=None,
        allow_missing_timesteps=False,
    )


def pick_batch(ds: TimeSeriesDataSet):
    """Collate 6 chosen windows with varying encoder lengths (4..8)."""
    # PF's (non-predict) index holds full windows (8+3) plus, per series, extra
    # windows starting at time 0 with shorter encoders (sequence_length 7..10) and
    # windows at the series end with shorter encoders.  Row position == ds[i].
    index = ds.index.reset_index(drop=True)
    enc_len = index["sequence_length"].to_numpy() - ds.max_prediction_length
    seq_id = index["sequence_id"].to_numpy()
    start = index["time"].to_numpy()
    # (series position, encoder length, window start time)
    wanted = [(0, 4, 0), (1, 5, 0), (2, 6, 0), (3, 7, 0), (4, 8, 0), (0, 8, 29)]
    chosen = []
    for g, L, t0 in wanted:
        cand = np.where((seq_id == g) & (enc_len == L) & (start == t0))[0]
        if len(cand) != 1:
            raise SystemExit(f"expected one window (series {g}, enc {L}, t0 {t0}), got {cand}")
        chosen.append(int(cand[0]))
    samples = [ds[i] for i in chosen]
    x, (y, _w) = TimeSeriesDataSet._collate_fn(samples)
    return chosen, x, y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lstm-layers", type=int, default=1)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    seed_everything(0)
    df = make_df()
    ds = make_dataset(df)

    loss = QuantileLoss()
    model = TemporalFusionTransformer.from_dataset(
        ds,
        hidden_size=8,
        attention_head_size=2,
        hidden_continuous_size=4,
        dropout=0.1,
        lstm_layers=args.lstm_layers,
        output_size=7,
        loss=loss,
    )
    # perturb every parameter (and float buffer) so zero-initialised ones are non-trivial
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for _name, p in model.named_parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.1)
    model.eval()

    chosen, x, y = pick_batch(ds)

    captured = {}

    def hook(_mod, _inp, out):
        captured["raw_output"] = out.detach().clone()

    h = model.output_layer.register_forward_hook(hook)
    with torch.no_grad():
        out = model(x)
    h.remove()

    args.out.mkdir(parents=True, exist_ok=True)

    def f32(t):
        return t.detach().to(torch.float32).contiguous().clone()

    def i64(t):
        return t.detach().to(torch.int64).contiguous().clone()

    # ---- weights
    sd = model.state_dict()
    weights = {}
    for k, v in sd.items():
        weights[k] = f32(v) if v.is_floating_point() else i64(v)
    save_file(weights, str(args.out / "weights.safetensors"))

    # ---- batch
    target_scale = x["target_scale"]
    if isinstance(target_scale, (list, tuple)):
        raise SystemExit("multi-target not expected")
    enc_start = x["decoder_time_idx"][:, 0] - x["encoder_lengths"]
    batch = dict(
        encoder_cat=i64(x["encoder_cat"]),
        encoder_cont=f32(x["encoder_cont"]),
        decoder_cat=i64(x["decoder_cat"]),
        decoder_cont=f32(x["decoder_cont"]),
        encoder_lengths=i64(x["encoder_lengths"]),
        decoder_lengths=i64(x["decoder_lengths"]),
        target_scale=f32(target_scale),
        decoder_target=f32(y),
        encoder_target=f32(x["encoder_target"]),
        encoder_time_idx_start=i64(enc_start),
        decoder_time_idx=i64(x["decoder_time_idx"]),
        groups=i64(x["groups"]),
    )
    save_file(batch, str(args.out / "batch.safetensors"))

    # ---- outputs
    outputs = dict(
        raw_output=f32(captured["raw_output"]),
        prediction=f32(out["prediction"]),
        encoder_attention=f32(out["encoder_attention"]),
        decoder_attention=f32(out["decoder_attention"]),
        static_variables=f32(out["static_variables"]),
        encoder_variables=f32(out["encoder_variables"]),
        decoder_variables=f32(out["decoder_variables"]),
    )
    save_file(outputs, str(args.out / "outputs.safetensors"))

    # ---- meta
    hp = model.hparams

    def pkg(name):
        try:
            return version(name)
        except Exception:
            return None

    meta = dict(
        hparams=dict(
            hidden_size=hp.hidden_size,
            attention_head_size=hp.attention_head_size,
            hidden_continuous_size=hp.hidden_continuous_size,
            hidden_continuous_sizes=dict(hp.hidden_continuous_sizes),
            lstm_layers=hp.lstm_layers,
            dropout=hp.dropout,
            output_size=hp.output_size,
            quantiles=list(loss.quantiles),
            share_single_variable_networks=hp.share_single_variable_networks,
            mask_bias=hp.mask_bias,
            categorical_groups=dict(hp.categorical_groups),
        ),
        x_reals=list(hp.x_reals),
        x_categoricals=list(hp.x_categoricals),
        static_categoricals=list(hp.static_categoricals),
        static_reals=list(hp.static_reals),
        time_varying_categoricals_encoder=list(hp.time_varying_categoricals_encoder),
        time_varying_categoricals_decoder=list(hp.time_varying_categoricals_decoder),
        time_varying_reals_encoder=list(hp.time_varying_reals_encoder),
        time_varying_reals_decoder=list(hp.time_varying_reals_decoder),
        reals=list(model.reals),
        static_variables=list(model.static_variables),
        encoder_variables=list(model.encoder_variables),
        decoder_variables=list(model.decoder_variables),
        embedding_sizes={k: list(v) for k, v in hp.embedding_sizes.items()},
        embedding_paddings=list(hp.embedding_paddings),
        embedding_labels={
            k: (list(v.keys()) if isinstance(v, dict) else [str(i) for i in v])
            for k, v in hp.embedding_labels.items()
        },
        max_encoder_length=hp.max_encoder_length,
        min_encoder_length=ds.min_encoder_length,
        max_prediction_length=ds.max_prediction_length,
        causal_attention=hp.causal_attention,
        target_normalizer=repr(ds.target_normalizer),
        batch_dataset_indices=chosen,
        state_dict=[[k, list(v.shape)] for k, v in sd.items()],
        versions=dict(
            torch=torch.__version__,
            pytorch_forecasting=pkg("pytorch-forecasting"),
            lightning=pkg("lightning"),
            numpy=np.__version__,
            pandas=pd.__version__,
            safetensors=pkg("safetensors"),
        ),
        notes=(
            "Parameters = PF init (torch.manual_seed(0)) + N(0,0.1) noise (Generator seed 1234). "
            "model.eval(). Batch built with TimeSeriesDataSet._collate_fn over chosen ds indices; "
            "encoder tensors are right-padded with 0 up to max(encoder_lengths). "
            "raw_output = output of model.output_layer before transform_output."
        ),
    )
    with open(args.out / "meta.json", "w") as f:
        json.dump(meta, f, indent=1)

    for p in args.out.iterdir():  # safetensors writes 0600 files
        os.chmod(p, 0o644)

    # ---- summary
    print(f"wrote {args.out}")
    for fname, d in [("weights", weights), ("batch", batch), ("outputs", outputs)]:
        if fname == "weights":
            print(f"weights.safetensors: {len(d)} tensors")
            continue
        print(f"{fname}.safetensors:")
        for k, v in d.items():
            print(f"  {k:24s} {str(v.dtype):14s} {list(v.shape)}")
    print("encoder_lengths:", x["encoder_lengths"].tolist())
    print("decoder_lengths:", x["decoder_lengths"].tolist())
    total = sum(os.path.getsize(args.out / p) for p in os.listdir(args.out))
    print(f"total size: {total} bytes")


if __name__ == "__main__":
    main()

"""`fusecast-ray baselines`: the per-series baselines of a config as Ray tasks, one shard of the
series each (`fusecast baselines CONFIG --shard I/N`, spread over the cluster's nodes), merged
by `fusecast baselines CONFIG --merge` into exactly what one machine would have written."""

from __future__ import annotations

import os
from pathlib import Path

import ray

from . import binary
from .experiment import connect


@ray.remote(num_cpus=1)
def _shard(exe: str, config: str, index: int, count: int, overrides: list[str], cwd: str) -> dict:
    """One shard, on whichever node Ray places it, in the driver's folder (a relative
    `run.output_dir` means the same run directory as the merge's); that folder and the run
    directory must be on storage every node shares."""
    binary.run(
        exe,
        ["--quiet", "baselines", config, "--shard", f"{index}/{count}", *overrides],
        f"fusecast baselines --shard {index}/{count}",
        cwd=cwd,
    )
    return {"shard": index, "node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}


def run_baselines(
    config: str,
    *,
    shards: int | None = None,
    overrides: list[str] | None = None,
    fusecast: str | None = None,
    address: str | None = None,
) -> list[dict]:
    """Fits the shards as Ray tasks (by default one per CPU of the cluster), then merges them;
    returns where each shard ran."""
    overrides = list(overrides or [])
    exe = binary.find_binary(fusecast)
    config = str(Path(config).resolve())
    connect(address)
    count = shards or max(1, int(ray.cluster_resources().get("CPU", 1)))
    if count < 1:
        raise binary.BridgeError(f"--shards must be at least 1, not {count}")
    refs = [
        _shard.options(scheduling_strategy="SPREAD").remote(
            exe, config, i, count, overrides, os.getcwd()
        )
        for i in range(count)
    ]
    placed = ray.get(refs)
    binary.run(
        exe,
        ["--quiet", "baselines", config, "--merge", *overrides],
        "fusecast baselines --merge",
    )
    return placed

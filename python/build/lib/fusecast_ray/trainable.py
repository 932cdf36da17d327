"""One Fusecast trial as a Ray Tune function trainable: `fusecast train` on the trial's config,
driven epoch by epoch. After each epoch the binary exports its checkpoint and waits; the
trainable reports the epoch's metrics with that checkpoint (`tune.report` blocks until the
driver wants the next result, so the binary never runs ahead of the scheduler) and lets it go
on. A trial stopped by the scheduler, or a worker that dies, stops the binary: SIGTERM (its last
checkpoint is intact), the end of its stdin, and its parent-death signal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections import deque
from pathlib import Path

from ray import tune

from . import binary
from .space import TIME_ATTR, trial_values

#: Files the trainable keeps in a trial's run directory beside the binary's own.
OUTCOME = "ray-outcome.json"
STARTS = "ray-starts.jsonl"
EXPORTS = ".ray-exports"
LOG = "ray-train.log"

_METRICS = ("train_loss", "val_loss", "q_risk50", "q_risk90", "mae", "lr", "wall_s")


def trial_id() -> str:
    """The trial's folder name under the experiment's `trials/`: Ray's trial id, which a
    restore keeps."""
    return "ray-" + tune.get_context().get_trial_id()


def _write_json(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


def _devices(job: dict) -> list[str]:
    n = job["resources"].get("gpu", 0)
    if n:
        import ray

        return [f"wgpu:{int(i)}" for i in ray.get_gpu_ids()] or ["wgpu"] * int(n)
    return ["cpu"] * int(job["resources"]["cpu"])


def run_trial(config: dict, job: dict) -> None:
    """The function trainable (`tune.with_parameters(run_trial, job=...)`). `job`: binary,
    config, overrides, trials_dir, metric."""
    params, cluster = trial_values(config)
    tid = trial_id()
    trial_dir = Path(job["trials_dir"]) / tid
    trial_dir.mkdir(parents=True, exist_ok=True)
    import ray

    outcome = {
        "id": tid,
        "params": params,
        "cluster": cluster,
        "status": "RUNNING",
        "node": ray.get_runtime_context().get_node_id(),
    }
    _write_json(trial_dir / OUTCOME, outcome)
    exports = trial_dir / EXPORTS
    shutil.rmtree(exports, ignore_errors=True)
    fixed = {
        "run.output_dir": job["trials_dir"],
        "run.name": tid,
        "train.monitor": job["metric"],
        "train.devices": _devices(job),
    }
    if cluster is not None:
        fixed["clusters.select"] = cluster
    args = [
        job["binary"],
        "--json",
        "train",
        job["config"],
        *job["overrides"],
        *binary.set_args(params),
        *binary.set_args(fixed),
        "--pause-after-epoch",
        str(exports),
    ]
    threads = str(len(fixed["train.devices"]))
    env = dict(os.environ, RAYON_NUM_THREADS=threads)
    checkpoint = tune.get_checkpoint()
    started = time.monotonic()
    try:
        if checkpoint is None:
            _drive(args, env, trial_dir, job, outcome, started, resumed_from=0)
        else:
            with checkpoint.as_directory() as saved:
                epoch = _checkpoint_epoch(Path(saved))
                _drive(
                    [*args, "--resume-from", str(saved)],
                    env,
                    trial_dir,
                    job,
                    outcome,
                    started,
                    resumed_from=epoch,
                )
    except SystemExit:
        # tune.report raised it: the scheduler stopped this trial; at its last epoch (ASHA's
        # max_t, the budget) that is the end of a finished trial, as `fusecast tune` counts it.
        outcome["status"] = "TERMINATED" if outcome.get("last") else "STOPPED"
        _write_json(trial_dir / OUTCOME, outcome)
        raise
    except BaseException as e:
        outcome["status"] = "ERROR"
        outcome["message"] = str(e)
        _write_json(trial_dir / OUTCOME, outcome)
        raise
    finally:
        shutil.rmtree(exports, ignore_errors=True)
    outcome["status"] = "TERMINATED"
    _write_json(trial_dir / OUTCOME, outcome)


def _checkpoint_epoch(saved: Path) -> int:
    folders = sorted(p.name for p in (saved / "checkpoints").iterdir() if p.is_dir())
    return int(folders[-1].split("-")[1]) if folders else 0


def _drive(args, env, trial_dir: Path, job: dict, outcome: dict, started: float, resumed_from: int):
    with open(trial_dir / STARTS, "a") as f:
        f.write(json.dumps({"resumed_from_epoch": resumed_from, "time": time.time()}) + "\n")
    with open(trial_dir / LOG, "a") as log:
        proc = binary.spawn(args, env=env, stderr=log)
        tail: deque = deque(maxlen=20)
        last_epoch = None
        try:
            for line in proc.stdout:
                tail.append(line.rstrip())
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kind = event.get("event")
                if kind == "training_started" and "setup_s" not in outcome:
                    outcome["setup_s"] = time.monotonic() - started
                elif kind == "epoch":
                    last_epoch = event
                elif kind == "paused":
                    # Kept before reporting: Ray may end the worker as soon as the scheduler
                    # stops the trial, before the trainable writes its verdict.
                    outcome["last"] = event["last"]
                    outcome["epochs"] = event["epoch"]
                    _write_json(trial_dir / OUTCOME, outcome)
                    metrics = {k: last_epoch[k] for k in _METRICS if k in last_epoch}
                    metrics[TIME_ATTR] = event["epoch"]
                    saved = Path(event["checkpoint"])
                    tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(str(saved)))
                    # Ray copied it into the experiment's storage.
                    shutil.rmtree(saved, ignore_errors=True)
                    proc.stdin.write("continue\n")
                    proc.stdin.flush()
                elif kind == "error":
                    raise RuntimeError(event.get("message", "fusecast train failed"))
            code = proc.wait()
        finally:
            binary.stop(proc)
        if code != 0:
            raise RuntimeError(
                f"fusecast train exited with status {code}; its last lines:\n" + "\n".join(tail)
            )

"""`fusecast-ray tune`: a Fusecast experiment on Ray Tune. The plan comes from the binary, Ray
runs the trials (each `fusecast train` in its trial's run directory), and the binary writes the
results from those run directories exactly as `fusecast tune` does, so `fusecast predict` and
`fusecast serve` do not care which engine tuned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import ray
from ray import tune

from . import binary, space
from .trainable import OUTCOME, run_trial

#: The Ray experiment's folder inside the Fusecast experiment's (the storage path default).
RAY_NAME = "ray"
OUTCOMES = "ray-outcomes.json"


def connect(address: str | None) -> None:
    """Attaches to the cluster at `address` ("auto": the one this node belongs to), or starts a
    local one: `address="local"`, because a bare `ray.init()` silently joins a cluster found
    through RAY_ADDRESS or a session file."""
    if ray.is_initialized():
        return
    ray.init(
        address=address or "local",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )


def tune_experiment(
    config: str,
    *,
    overrides: list[str] | None = None,
    fusecast: str | None = None,
    address: str | None = None,
    resume: bool = False,
    storage: str | None = None,
    verbose: int = 1,
) -> dict:
    """Runs (or with `resume` restores and continues) the experiment of `config`; returns the
    outcomes it handed to `fusecast tune --collect`."""
    overrides = list(overrides or [])
    exe = binary.find_binary(fusecast)
    config = str(Path(config).resolve())
    plan = binary.plan(exe, config, overrides)
    experiment = Path(plan["experiment"]).resolve()
    trials_dir = Path(plan["trials_dir"]).resolve()
    storage_path = Path(storage).resolve() if storage else experiment
    ray_dir = storage_path / RAY_NAME
    resources = space.resources(plan)
    job = {
        "binary": exe,
        "config": config,
        "overrides": overrides,
        "trials_dir": str(trials_dir),
        "metric": plan["settings"]["metric"],
        "resources": resources,
    }
    trainable = tune.with_resources(tune.with_parameters(run_trial, job=job), resources)
    connect(address)
    if resume:
        if not tune.Tuner.can_restore(str(ray_dir)):
            raise binary.BridgeError(
                f"{ray_dir}: no Ray Tune experiment to resume (run without --resume first)"
            )
        tuner = tune.Tuner.restore(
            str(ray_dir), trainable=trainable, resume_unfinished=True, resume_errored=True
        )
    else:
        # A new experiment in an old folder: none of the old trials may pass for its own.
        for old in (trials_dir, ray_dir):
            shutil.rmtree(old, ignore_errors=True)
        trials_dir.mkdir(parents=True, exist_ok=True)
        settings = plan["settings"]
        tuner = tune.Tuner(
            trainable,
            param_space=space.param_space(plan),
            tune_config=tune.TuneConfig(
                metric=settings["metric"],
                mode="min",
                scheduler=space.scheduler(plan),
                search_alg=space.search_alg(plan),
                num_samples=settings["num_samples"],
                max_concurrent_trials=settings.get("max_concurrent") or 0,
                reuse_actors=False,
            ),
            run_config=tune.RunConfig(
                name=RAY_NAME,
                storage_path=str(storage_path),
                verbose=verbose,
                failure_config=tune.FailureConfig(max_failures=0),
            ),
        )
    grid = tuner.fit()
    outcomes = gather(trials_dir, grid)
    path = experiment / OUTCOMES
    path.write_text(json.dumps(outcomes, indent=1))
    binary.run(
        exe,
        ["--quiet", "tune", config, "--collect", str(path), *overrides],
        "fusecast tune --collect",
    )
    return {"experiment": str(experiment), "outcomes": outcomes}


def gather(trials_dir: Path, grid) -> list[dict]:
    """Every trial's verdict from the file its trainable kept in its run directory. Ray may end
    a stopped trial's worker before the trainable writes its verdict; such a trial (still
    RUNNING in its file, with a Ray result and no error) ended at its last epoch (TERMINATED) or
    was stopped by the scheduler (STOPPED). A trial with a Ray error is an ERROR with Ray's
    message."""
    errors, reported = {}, set()
    for result in grid:
        tid = (result.metrics or {}).get("trial_id")
        if not tid:
            continue
        reported.add("ray-" + tid)
        if result.error is not None:
            errors["ray-" + tid] = str(result.error).strip().splitlines()[-1][:500]
    outcomes = []
    for path in sorted(trials_dir.glob(f"*/{OUTCOME}")):
        o = json.loads(path.read_text())
        if o["status"] in ("RUNNING", "PENDING"):
            if o["id"] in errors:
                o["status"], o["message"] = "ERROR", errors[o["id"]]
            elif o["id"] in reported:
                o["status"] = "TERMINATED" if o.get("last") else "STOPPED"
            else:
                o["status"] = "ERROR"
                o["message"] = "the trial's worker ended before it reported an epoch"
        fields = ("id", "params", "cluster", "status", "message", "setup_s")
        outcomes.append({k: o[k] for k in fields if k in o})
    if grid.num_errors and not any(o["status"] == "ERROR" for o in outcomes):
        raise binary.BridgeError(f"{grid.num_errors} Ray trials failed: {list(errors.values())}")
    return outcomes

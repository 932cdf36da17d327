"""A Fusecast `[tune]` plan (from `fusecast tune CONFIG --plan`) as Ray Tune's param_space,
scheduler and search algorithm, so one config runs on either engine with the same meaning."""

from __future__ import annotations

from ray import tune
from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, MedianStoppingRule
from ray.tune.search.basic_variant import BasicVariantGenerator

from .binary import BridgeError

#: The param_space key of a per-cluster trial's assignment: its `clusters.*` values and the
#: cluster (`clusters.select`) it trains on.
ASSIGNMENT = "assignment"

#: The reported value schedulers count time in: epochs, as `fusecast tune` counts them (Ray's
#: training_iteration restarts its count differently after a restore).
TIME_ATTR = "epoch"


def _dimension(key: str, dim: dict):
    if len(dim) != 1:
        raise BridgeError(f"{key}: a dimension has one kind, got {sorted(dim)}")
    ((kind, arg),) = dim.items()
    if kind == "grid":
        return tune.grid_search(list(arg))
    if kind == "choice":
        return tune.choice(list(arg))
    if kind == "uniform":
        return tune.uniform(arg[0], arg[1])
    if kind == "loguniform":
        return tune.loguniform(arg[0], arg[1])
    if kind == "randint":
        # Both engines exclude hi (Ray's randint and Fusecast's).
        return tune.randint(arg[0], arg[1])
    raise BridgeError(f"{key}: unknown kind of dimension {kind!r}")


def per_cluster(plan: dict) -> bool:
    return plan["settings"]["scope"] == "per_cluster"


def param_space(plan: dict) -> dict:
    """Every dimension with Ray's own sampling; with scope = "per_cluster" the cluster
    assignments (grids only: each value expands into one trial per cluster) become one grid of
    (assignment, cluster) pairs."""
    space = {}
    for key, dim in plan["dimensions"]:
        if per_cluster(plan) and key.startswith("clusters."):
            if "grid" not in dim:
                kind = next(iter(dim))
                raise BridgeError(
                    f'{key}: with scope = "per_cluster" the Ray bridge needs the clusters.* '
                    f"dimensions as grids (each assignment is split into one trial per "
                    f"cluster before Ray samples), not {kind}"
                )
            continue
        space[key] = _dimension(key, dim)
    if per_cluster(plan):
        pairs = [
            {"params": a["params"], "cluster": c}
            for a in plan["assignments"]
            for c in a["clusters"]
        ]
        space[ASSIGNMENT] = tune.grid_search(pairs)
    return space


def trial_values(config: dict) -> tuple[dict, int | None]:
    """A Ray trial's config as Fusecast's trial parameters (`section.key` -> value, the
    assignment's `clusters.*` among them) and its cluster (None with scope = "global")."""
    params = {k: v for k, v in config.items() if k != ASSIGNMENT}
    cluster = None
    if ASSIGNMENT in config:
        params.update(config[ASSIGNMENT]["params"])
        cluster = config[ASSIGNMENT]["cluster"]
    return dict(sorted(params.items())), cluster


def scheduler(plan: dict):
    """FIFO, ASHA (`AsyncHyperBandScheduler`) or the median stopping rule with the plan's
    settings; metric and mode are given to the TuneConfig, not here."""
    s = plan["settings"]
    kind = s["scheduler"]
    if kind == "fifo":
        return FIFOScheduler()
    if kind == "asha":
        return ASHAScheduler(
            time_attr=TIME_ATTR,
            max_t=plan["max_t"],
            grace_period=s["grace_period"],
            reduction_factor=s["reduction_factor"],
            brackets=s["brackets"],
            stop_last_trials=True,
        )
    if kind == "median":
        return MedianStoppingRule(
            time_attr=TIME_ATTR,
            grace_period=s["grace_period"],
            min_samples_required=s["min_samples_required"],
            min_time_slice=0,
            hard_stop=True,
        )
    if kind == "asha_promotion":
        # Ray 2.60 ships only the stopping variant of ASHA; promotions need a scheduler that
        # pauses trials at every rung and chooses which to continue, which Ray's does not.
        raise BridgeError(
            "tune.scheduler = \"asha_promotion\": Ray Tune has no promotion-based ASHA; "
            "run this experiment with `fusecast tune` (no --engine ray), or use "
            "scheduler = \"asha\" on Ray"
        )
    raise BridgeError(f"tune.scheduler: unknown scheduler {kind!r}")


def search_alg(plan: dict) -> BasicVariantGenerator:
    """Ray's own grid expansion and random draws, seeded by `tune.seed`."""
    return BasicVariantGenerator(random_state=plan["settings"]["seed"])


def resources(plan: dict) -> dict:
    """What each trial asks of Ray: `devices_per_trial` CPU cores, or GPUs when the device
    pool (`tune.devices`) is GPUs."""
    s = plan["settings"]
    n = s["devices_per_trial"]
    devices = s.get("devices") or []
    if devices and all(not d.startswith("cpu") for d in devices):
        return {"cpu": 1, "gpu": n}
    return {"cpu": n}

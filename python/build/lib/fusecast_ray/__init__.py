"""Fusecast on Ray: the `fusecast` binary's tuning trials as Ray Tune trials (the same `[tune]`
search space and schedulers, the same trial run directories and results), and its per-series
baselines as Ray tasks, one shard of the series each.

Ray has no Rust client, so this package drives the binary: `fusecast tune CONFIG --plan` parses
and checks the search space, each trial runs `fusecast train ... --pause-after-epoch` epoch by
epoch, and `fusecast tune CONFIG --collect` writes the results exactly as `fusecast tune` does.
"""

__version__ = "0.1.0"

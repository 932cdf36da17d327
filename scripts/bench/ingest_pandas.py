"""The reference work's ingestion path (the seed's `preprocess_data`): read the pickup columns with
pyarrow, convert to pandas, floor to the period, group by zone and period, count.

Prints one JSON line: trips, seconds, trips_per_s, peak_rss_mib, periods, series.
"""
import json
import resource
import sys
import time

import pandas as pd
import pyarrow.parquet as pq


def main() -> None:
    freq = sys.argv[1]  # "D" or "h"
    files = sys.argv[2:]
    t0 = time.perf_counter()
    table = pq.read_table(files, columns=["tpep_pickup_datetime", "PULocationID"])
    df = table.to_pandas()
    df["period"] = df["tpep_pickup_datetime"].dt.floor(freq)
    counts = df.groupby(["PULocationID", "period"]).size()
    seconds = time.perf_counter() - t0
    print(json.dumps({
        "trips": int(len(df)),
        "seconds": seconds,
        "trips_per_s": len(df) / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cells": int(len(counts)),
        "total": int(counts.sum()),
    }))


if __name__ == "__main__":
    main()

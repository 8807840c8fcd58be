"""Shared timing helper for the benchmark scripts."""
from __future__ import annotations

import statistics
import time


def median_seconds(function, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls after one warm-up call, and the last result."""
    result = function()  # warm-up (FFT plans, page faults, caches)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result

"""Batch PSA benchmarks of the HCC model (shipped base case, weekly grid, 20 years):
throughput of each backend, peak memory, and identical results across backends.

    python benchmarks/bench_batch.py --out bench_out [--draws 100000] [--dask-draws 20000]
                                     [--million 1000000] [--steps one,two,api,dask,million]

Every run is the real command line (``markov psa ... --no-evppi`` in a subprocess, so
the numbers are what a user sees), except ``api``, which calls ``markov.probabilistic.psa.run_psa``.
For each run: wall time, draws per second over the PSA phase (from the start to the
last chunk written, and steadily: from the first chunk written to the last), and peak
memory — the sum of the resident memory of the process and its
worker processes, sampled every 0.2 s (a Dask cluster's workers are counted apart).

Steps (each appends its figures to ``OUT/bench.json`` as it finishes, so a long
benchmark that is stopped keeps what it measured):

* ``one``: ``--draws`` draws in one process (the baseline of the ratios);
* ``two``: the same with ``--workers 2``: its store must hold the same bits as ``one``;
* ``api``: ``run_psa`` in memory: the same bits as ``one``;
* ``dask``: ``--dask-draws`` draws on a ``LocalCluster`` of 2 worker processes
  (``--scheduler tcp://...``): the same bits as the first draws of ``one``;
* ``million``: ``--million`` draws with ``--workers 2``: peak memory, and the same bits
  as ``one`` for the draws they share.

The machine is shared: report the ratios against ``one`` measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psutil

from markov.inputs import load_analysis
from markov.probabilistic.psa import read_psa, run_psa

ENVIRONMENT = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}


class PeakMemory:
    """Peak of the summed resident memory of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.process, self.interval, self.peak = psutil.Process(pid), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_cli(out: Path, n: int, *extra: str) -> dict:
    """``markov psa`` of ``n`` draws into ``out``: wall time, PSA throughput, peak memory."""
    command = ["markov", "psa", "-n", str(n), "--seed", "1", "--no-evppi", "--out", str(out), *extra]
    started = time.time()
    process = subprocess.Popen(command, env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    memory = PeakMemory(process.pid)
    _, err = process.communicate()
    peak = memory.stop()
    wall = time.time() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    written = sorted((p.stat().st_mtime, p) for p in (out / "psa_store" / "chunks").glob("chunk-*.parquet"))
    psa_seconds = written[-1][0] - started
    first_chunk = len(pd.read_parquet(written[0][1], columns=["sample"]))
    return {"command": " ".join(command), "draws": n, "wall_seconds": round(wall, 1),
            "psa_seconds": round(psa_seconds, 1), "draws_per_second": round(n / psa_seconds, 1),
            # from the first chunk written to the last: without start-up (imports, workers, connection)
            "steady_draws_per_second": round((n - first_chunk) / (written[-1][0] - written[0][0]), 1),
            "peak_memory_mb": round(peak / 2**20)}


def same_draws(a, b) -> bool:
    """The draws the two PSAs share hold the same bits."""
    n = min(a.n_samples, b.n_samples)
    try:
        pd.testing.assert_frame_equal(a.outcomes.iloc[:n], b.outcomes.iloc[:n], check_exact=True)
        pd.testing.assert_frame_equal(a.parameters.iloc[:n], b.parameters.iloc[:n], check_exact=True)
    except AssertionError:
        return False
    return True


def record(out: Path, step: str, figures: dict) -> None:
    path = out / "bench.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    results[step] = figures
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{step}: {json.dumps(figures)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--dask-draws", type=int, default=20_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--steps", default="one,two,api,dask,million")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    inputs = load_analysis()
    steps = args.steps.split(",")

    def baseline():
        return read_psa(args.out / "one", inputs)

    if "one" in steps:
        record(args.out, "one", run_cli(args.out / "one", args.draws))
    if "two" in steps:
        figures = run_cli(args.out / "two", args.draws, "--workers", "2")
        figures["identical_to_one"] = same_draws(read_psa(args.out / "two", inputs), baseline())
        figures["summary_identical_to_one"] = ((args.out / "two" / "psa_summary.csv").read_bytes()
                                               == (args.out / "one" / "psa_summary.csv").read_bytes())
        record(args.out, "two", figures)
    if "api" in steps:
        started = time.time()
        api = run_psa(inputs, args.draws, seed=1)
        record(args.out, "api", {"draws": args.draws, "wall_seconds": round(time.time() - started, 1),
                                 "identical_to_one": same_draws(api, baseline())})
    if "dask" in steps:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={"OPENBLAS_NUM_THREADS": "1"}) as cluster:
            figures = run_cli(args.out / "dask", args.dask_draws, "--scheduler", cluster.scheduler_address)
        figures["identical_to_one"] = same_draws(read_psa(args.out / "dask", inputs), baseline())
        record(args.out, "dask", figures)
    if "million" in steps:
        figures = run_cli(args.out / "million", args.million, "--workers", "2")
        million = read_psa(args.out / "million", inputs, measures=("cost", "qalys"), parameter_samples=args.draws)
        figures["identical_to_one_on_shared_draws"] = same_draws(
            million, read_psa(args.out / "one", inputs, measures=("cost", "qalys")))
        record(args.out, "million", figures)


if __name__ == "__main__":
    sys.exit(main())

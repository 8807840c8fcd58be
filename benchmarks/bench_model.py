"""The model part of the HCC PSA against another version of the code, in the same run.

    python benchmarks/bench_model.py --baseline PYTHON [--draws 2000] [--chunk-size 500] [--repeats 3]

``PYTHON`` is the interpreter of an environment where the version to compare with is
installed (``git worktree add /tmp/old <revision> && python -m venv /tmp/venv-old &&
/tmp/venv-old/bin/pip install /tmp/old``); this version is the one installed for the
interpreter running the script. Each repeat evaluates draws 0 to ``--draws`` of the
shipped base case (seed 1), in chunks of ``--chunk-size`` in one process, once with each
version, alternately, each in a fresh process run outside any source tree (so both see
the same machine load and their installed packages); it prints the
median draws per second of each, their ratio, and the largest relative difference of any
result (cost, life-years, QALYs by category and state) between the two versions.

The machine may be shared: only the ratio measured in one run means anything.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

# run in a fresh interpreter with only the given checkout on the path
_WORKER = r'''
import sys, time
import markov
try:  # memory as the command line's processes manage it (a version before it has no such module)
    from markov._memory import reuse_freed_memory
    reuse_freed_memory()
except ImportError:
    pass
try:
    from markov.engine.memory import fault_in_heap_growth
    fault_in_heap_growth()
except ImportError:
    pass
from markov.probabilistic.psa import build_model, evaluate_chunk
draws, size, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
inputs = markov.load()._inputs
model = build_model(inputs)
evaluate_chunk(inputs, 1, 0, 20, model)  # warm-up: FFT plans, life table, page faults
started = time.perf_counter()
tables = [evaluate_chunk(inputs, 1, start, min(start + size, draws), model).outcomes
          for start in range(0, draws, size)]
seconds = time.perf_counter() - started
import pandas as pd
pd.concat(tables).to_pickle(out)
print(draws / seconds)
'''


def draws_per_second(python: str, draws: int, chunk_size: int, out: Path) -> float:
    environment = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([python, "-c", _WORKER, str(draws), str(chunk_size), str(out)], cwd=out.parent,
                          env=environment, capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def largest_relative_difference(a: pd.DataFrame, b: pd.DataFrame) -> float:
    columns = [c for c in a.columns if c in b.columns and a[c].dtype.kind == "f"]
    x, y = a[columns].to_numpy(), b[columns].to_numpy()
    scale = np.maximum(np.abs(x), np.finfo(float).tiny)
    return float(np.nanmax(np.abs(x - y) / scale))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="Python of an environment with the version to compare with")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"this": [], "baseline": []}
    with tempfile.TemporaryDirectory() as scratch:
        outputs = {name: Path(scratch) / f"{name}.pkl" for name in rates}
        for _ in range(args.repeats):
            for name, python in (("this", sys.executable), ("baseline", args.baseline)):
                rates[name].append(draws_per_second(python, args.draws, args.chunk_size, outputs[name]))
        difference = largest_relative_difference(pd.read_pickle(outputs["this"]), pd.read_pickle(outputs["baseline"]))
    this, baseline = (statistics.median(rates[name]) for name in ("this", "baseline"))
    print(f"HCC base case, model part, {args.draws:,} draws in chunks of {args.chunk_size}, one process, "
          f"median of {args.repeats}")
    print(f"  this checkout  {this:8.0f} draws/s   {[round(r) for r in rates['this']]}")
    print(f"  baseline       {baseline:8.0f} draws/s   {[round(r) for r in rates['baseline']]}")
    print(f"  ratio          {this / baseline:8.2f}")
    print(f"  largest relative difference of any result: {difference:.1e}")


if __name__ == "__main__":
    main()

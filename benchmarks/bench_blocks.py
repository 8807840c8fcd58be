"""What an evaluation block of the HCC PSA costs: a fixed part, a part per draw, and a
fresh process's first block.

    python benchmarks/bench_blocks.py [--sizes 10 125 250 500 750 1000] [--repeats 7]

In a fresh interpreter (one BLAS thread, memory managed as the command line's processes
manage it),
after a warm-up of 20 draws, it times the first block of ``EVALUATION_BLOCK_DRAWS``
draws (with the page faults it takes: the block's working memory touched for the first
time), then blocks of each size in turn, ``--repeats`` rounds over the same draws. It
fits the medians with time = fixed + per draw × draws (least squares) and prints both
parts, the draws per second they give in blocks of ``EVALUATION_BLOCK_DRAWS``, and the
first block's cost beyond a later one's. The fixed part is the Python that walks the
model's populations, strategies and states once per block, whatever its size; the part
per draw is the arrays' arithmetic.

The machine may be shared: the parts are from one run's medians, the fit's residuals
show how well a line describes them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

_WORKER = r'''
import json, resource, statistics, sys, time
import markov
from markov._memory import reuse_freed_memory
from markov.engine.memory import fault_in_heap_growth
reuse_freed_memory()
fault_in_heap_growth()
import markov.probabilistic.psa as psa
sizes, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
inputs = markov.load()._inputs
model = psa.build_model(inputs)
psa.evaluate_chunk(inputs, 1, 0, 20, model)  # imports, FFT plans, life table
block = psa.EVALUATION_BLOCK_DRAWS
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
started = time.perf_counter()
psa.evaluate_chunk(inputs, 1, 20, 20 + block, model)
first = time.perf_counter() - started
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
psa.EVALUATION_BLOCK_DRAWS = max(sizes)  # one block whatever its size
seconds = {n: [] for n in sizes}
for _ in range(repeats):
    for n in sizes:
        started = time.perf_counter()
        psa.evaluate_chunk(inputs, 1, 5000, 5000 + n, model)
        seconds[n].append(time.perf_counter() - started)
print(json.dumps({"block": block, "first": first, "faults": faults,
                  "medians": {n: statistics.median(t) for n, t in seconds.items()}}))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 125, 250, 500, 750, 1000])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    if len(set(args.sizes)) < 2 or min(args.sizes) < 1:
        parser.error("--sizes: at least two different block sizes, each of at least 1 draw")
    environment = {"PATH": os.environ.get("PATH", ""), "OPENBLAS_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as outside:  # not in a source tree: the installed package
        done = subprocess.run([sys.executable, "-c", _WORKER, json.dumps(args.sizes), str(args.repeats)],
                              cwd=outside, env=environment, capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    sizes = np.array([int(n) for n in found["medians"]])
    seconds = np.array(list(found["medians"].values()))
    per_draw, fixed = np.polyfit(sizes, seconds, 1)
    residuals = seconds - (fixed + per_draw * sizes)
    block = found["block"]
    later = fixed + per_draw * block
    print(f"HCC base case, one evaluation block, one process, medians of {args.repeats}")
    for n, s, r in zip(sizes, seconds, residuals, strict=True):
        print(f"  {n:6,d} draws  {s * 1e3:8.1f} ms   {s / n * 1e6:7.0f} µs a draw   fit residual {r * 1e3:+6.1f} ms")
    print(f"  fixed per block      {fixed * 1e3:8.1f} ms")
    print(f"  per draw             {per_draw * 1e6:8.0f} µs")
    print(f"  blocks of {block}:      {block / later:8.0f} draws/s ({later * 1e3:.0f} ms a block)")
    print(f"  a fresh process's first block: {found['first'] * 1e3:.0f} ms, {found['first'] - later:+.3f} s beyond "
          f"a later one, {found['faults']:,} page faults")


if __name__ == "__main__":
    main()

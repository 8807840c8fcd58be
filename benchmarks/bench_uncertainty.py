"""Uncertainty-analysis benchmarks of the HCC model (shipped base case, weekly grid, 20 years).

    python benchmarks/bench_uncertainty.py [--psa 10000] [--sobol 1024] [--repeats 1]

Times, each the median of ``--repeats`` runs (after one warm-up of the small baseline):

* baseline: a 1,000-draw PSA (model runs only), the reference for the ratios below;
* PSA: ``--psa`` draws — model runs, then every PSA table and figure (``write_psa``:
  summary, ICER quadrants, CE planes, CEAC + CEAF, EVPI, EVPPI per input and per
  source by regression, convergence) — with the ratio of its model time to 10× the
  baseline's (1.0 = cost linear in the number of draws);
* one-way DSA with tornados, two-way analysis, scenarios and threshold prices (``run_dsa``);
* Sobol indices with ``--sobol`` base samples (Saltelli design, N·(D + 2) model runs),
  with its time per model run against the PSA's.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from timing import median_seconds  # noqa: E402

from markov.decision import gsa  # noqa: E402
from markov.inputs import load_analysis  # noqa: E402
from markov.probabilistic.psa import run_psa  # noqa: E402
from markov.runs import default_wtp, run_dsa, write_psa  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--psa", type=int, default=10_000)
    parser.add_argument("--sobol", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    inputs = load_analysis()
    wtp = default_wtp(inputs)
    print(f"{len(inputs.uncertain)} uncertain inputs, {sum(len(p.strategies) for p in inputs.populations.values())} "
          f"strategies in {len(inputs.populations)} populations")

    baseline, _ = median_seconds(lambda: run_psa(inputs, 1000, seed=1), max(args.repeats, 3))
    print(f"baseline: PSA of 1,000 draws (model only)          {baseline:8.2f} s   {baseline:.2f} ms/draw")

    with tempfile.TemporaryDirectory() as out:
        timings = {}

        def psa_and_outputs():
            started = time.perf_counter()
            psa = run_psa(inputs, args.psa, seed=1)
            timings["model"] = time.perf_counter() - started
            write_psa(psa, inputs, Path(out) / "psa")
            return psa

        total, psa = median_seconds(psa_and_outputs, args.repeats) if args.repeats > 1 else _once(psa_and_outputs)
        model = timings["model"]
        print(f"PSA of {args.psa:,} draws, all tables and figures        {total:8.2f} s   "
              f"(model {model:.1f} s, outputs {total - model:.1f} s); model time / "
              f"({args.psa / 1000:g} x baseline) = {model / (args.psa / 1000 * baseline):.2f}")

        dsa_time, _ = _once(lambda: run_dsa(inputs, Path(out) / "dsa"))
        print(f"DSA: one-way, tornados, two-way, scenarios, prices {dsa_time:8.2f} s")

    sobol_time, table = _once(lambda: gsa.sobol(inputs, args.sobol, seed=1, wtp=wtp))
    runs = table.attrs["evaluations"]
    print(f"Sobol, N = {args.sobol:,} ({runs:,} model runs)             {sobol_time:8.2f} s   "
          f"{1000 * sobol_time / runs:.2f} ms/run = {sobol_time / runs / (baseline / 1000):.2f} x the PSA's")


def _once(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


if __name__ == "__main__":
    main()

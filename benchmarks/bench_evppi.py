"""EVPPI benchmark: the regressions of the shipped base case, against the implementation
before the fast regressions, on the same draws in the same run.

    python benchmarks/bench_evppi.py [--store DIR] [--draws 10000] [--seed 1] [--repeats 3]
                                     [--baseline 7c16b9f] [--wtp W]

The draws: the results directory ``DIR`` of ``markov psa -n DRAWS --seed SEED --out DIR
--no-evppi`` (``--store``), else a PSA of ``--draws`` draws run in memory first (not timed).
Timed, as the median of ``--repeats`` runs after one warm-up: the EVPPI of every uncertain
input and of each evidence source's inputs together, for every population, at the
highest threshold (what ``markov psa`` reports), by

* this code (GAM with one eigendecomposition per input or group, GP with inducing points);
* the implementation at ``--baseline`` (a git revision of this repository; its
  ``markov/decision/voi.py`` and ``regression.py`` are loaded from git into a temporary
  package), on one BLAS thread as this code runs (on a busy machine several BLAS threads
  make both many times slower).

Printed: wall and CPU time of each, their ratio, the machine's load average before and
after, the time the sample-size budget estimates for these tables, and every EVPPI
above 0.5% of its population's EVPI by both, with this code's standard error and their
difference relative to the previous value and to the EVPI. The machine is shared: report
the ratio measured in the same run, with the load.
"""
from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from markov.decision import voi
from markov.decision.gsa import groups_by_source
from markov.inputs import load_analysis
from markov.probabilistic.psa import read_psa, run_psa
from markov.results import ResultsDirectory
from markov.runs import default_wtp

REPOSITORY = Path(__file__).resolve().parents[1]


def baseline_module(revision: str, scratch: Path):
    """``voi`` of ``revision``, with its ``regression``, importable beside this code."""
    package = scratch / "evppi_baseline"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("voi", "regression"):
        source = subprocess.run(["git", "show", f"{revision}:markov/decision/{name}.py"], cwd=REPOSITORY,
                                check=True, capture_output=True, text=True).stdout
        source = source.replace("from .._validate", "from markov._validate").replace(
            "from . import cea", "from markov.decision import cea")
        (package / f"{name}.py").write_text(source)
    sys.path.insert(0, str(scratch))
    return importlib.import_module("evppi_baseline.voi")


def timed(function, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``repeats`` calls after one warm-up, and the last result."""
    result = function()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=None, help="results directory of `markov psa --no-evppi`")
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default="7c16b9f", help="git revision of the previous implementation")
    parser.add_argument("--wtp", type=float, default=None, help="willingness to pay (default: the highest threshold)")
    args = parser.parse_args()

    inputs = load_analysis()
    if args.store is not None:
        psa = read_psa(ResultsDirectory(args.store).store, inputs, measures=("cost", "qalys"))
    else:
        psa = run_psa(inputs, args.draws, seed=args.seed)
    wtp = default_wtp(inputs) if args.wtp is None else args.wtp
    groups = {source: members for source, members in groups_by_source(inputs).items() if len(members) > 1}
    parameters = psa.parameters
    net_benefit = {p: psa.net_benefit(p, wtp)[:len(parameters)] for p in psa.populations}
    sizes = [1] * parameters.shape[1] + [len(m) for m in groups.values()]
    regressions = sum(nb.shape[1] - 1 for nb in net_benefit.values())
    print(f"{len(parameters):,} draws, {parameters.shape[1]} uncertain inputs and {len(groups)} groups "
          f"(sizes {sorted(len(m) for m in groups.values())}), {len(net_benefit)} populations, wtp {wtp:,.0f}")
    print(f"{os.cpu_count()} cores; load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    def new():
        return {p: voi.evppi_table(nb, parameters, groups) for p, nb in net_benefit.items()}

    with tempfile.TemporaryDirectory() as scratch:
        old_voi = baseline_module(args.baseline, Path(scratch))

        def old():
            with threadpool_limits(limits=1, user_api="blas"):
                return {p: old_voi.evppi_table(nb, parameters, groups) for p, nb in net_benefit.items()}

        new_wall, new_cpu, new_tables = timed(new, args.repeats)
        old_wall, old_cpu, old_tables = timed(old, args.repeats)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"\nEVPPI tables, median of {args.repeats}:")
    print(f"  this code           {new_wall:7.2f} s wall {new_cpu:7.2f} s CPU")
    print(f"  {args.baseline:18s}  {old_wall:7.2f} s wall {old_cpu:7.2f} s CPU")
    print(f"  ratio               {old_wall / new_wall:7.1f} x wall {old_cpu / new_cpu:5.1f} x CPU")
    print(f"  estimated by the sample-size budget: {voi.evppi_seconds(len(parameters), sizes, regressions):.2f} s; "
          f"default sample size for {len(parameters):,} draws: "
          f"{voi.evppi_sample_size(len(parameters), sizes, regressions):,}")

    print("\nEVPPI above 0.5% of EVPI (this code ± its standard error; differences from the previous value):")
    relative, absolute = [], []
    for population, nb in net_benefit.items():
        total = voi.evpi(nb)
        both = new_tables[population].merge(old_tables[population], on="parameter", suffixes=("", "_old"))
        print(f"  {population}: EVPI {total:,.2f}")
        for row in both.itertuples():
            difference = row.evppi - row.evppi_old
            if row.evppi_old >= 0.05 * total:
                relative.append(abs(difference) / row.evppi_old)
            else:
                absolute.append(abs(difference) / total)
            if max(row.evppi, row.evppi_old) > 0.005 * total:
                print(f"    {row.parameter[:58]:58s} {row.method:>3s} {row.evppi:10.3f} ± {row.standard_error:8.3f}  "
                      f"previous {row.method_old:>3s} {row.evppi_old:10.3f}  "
                      f"{difference / row.evppi_old if row.evppi_old else np.nan:+7.1%}  of EVPI "
                      f"{difference / total:+7.2%}")
    print(f"\nrows whose previous EVPPI is at least 5% of EVPI: {len(relative)}, largest relative difference "
          f"{max(relative, default=0):.1%}")
    print(f"other rows: {len(absolute)}, largest difference {max(absolute, default=0):.2%} of EVPI")


if __name__ == "__main__":
    main()

"""Command line: ``markov run [ANALYSIS.yaml] --out DIR [--psa N --seed S]``.

Bad input ends with a one-line (or one line per problem) message and exit status 2,
never a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time

import matplotlib.pyplot as plt
import pandas as pd

from ._validate import InputError
from .params import load_analysis
from .run import run_analysis

EXIT_INPUT_ERROR = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="markov", description="Treatment-sequencing cost-effectiveness "
                                     "model of advanced hepatocellular carcinoma.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="base case (and optional PSA): tables and figures",
                              description="Run an analysis file, or the embedded base case when none is given. "
                                          "Writes results, incremental analysis, calibration and occupancy "
                                          "figures and the inputs table to --out.")
    run.add_argument("analysis", nargs="?", help="YAML analysis file (default: the embedded base case)")
    run.add_argument("--out", default="results", help="output directory (default: %(default)s)")
    run.add_argument("--psa", type=int, default=None, metavar="N",
                     help="probabilistic samples (default: the analysis file's psa_samples, 0 = none)")
    run.add_argument("--seed", type=int, default=None, help="PSA seed (default: the analysis file's seed)")
    return parser


def _print_base_case(outputs) -> None:
    columns = ["strategy", "cost", "life_years", "qalys", "incremental_cost", "incremental_qalys",
               "icer_per_qaly", "status"]
    merged = outputs.incremental.merge(outputs.results[["population", "strategy", "life_years"]],
                                       on=["population", "strategy"])
    with pd.option_context("display.width", 160, "display.max_columns", 20, "display.float_format", "{:,.3f}".format):
        for population, rows in merged.groupby("population", sort=False):
            print(f"\n{outputs.name} — {population}")
            print(rows[columns].to_string(index=False))
            nmb = [c for c in rows.columns if c.startswith("nmb_at_")]
            print(rows[["strategy", *nmb]].to_string(index=False))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.psa is not None and args.psa < 0:
            raise InputError(f"--psa is {args.psa}: the number of samples cannot be negative")
        started = time.perf_counter()
        inputs = load_analysis(args.analysis)
        outputs = run_analysis(inputs, args.out, psa_samples=args.psa, seed=args.seed)
        plt.close("all")
    except InputError as error:
        print(f"markov: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    _print_base_case(outputs)
    missed = outputs.results[outputs.results["os_calibration_unreachable_samples"] > 0]
    for row in missed.itertuples():
        print(f"note: {row.population}.{row.strategy}: the OS median could not be reached in the base case")
    if outputs.psa_summary is not None:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print("\nPSA summary")
            print(outputs.psa_summary.round(3).to_string(index=False))
    print(f"\nWrote {len(outputs.files)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

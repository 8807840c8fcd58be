"""Command line: ``markov run | psa | dsa | gsa [ANALYSIS.yaml] --out DIR [options]``.

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
from .psa import read_psa, run_psa
from .run import GSA_METHODS, run_analysis, run_dsa, run_gsa, write_psa

EXIT_INPUT_ERROR = 2


def _add_common(command: argparse.ArgumentParser, out: str) -> None:
    command.add_argument("analysis", nargs="?", help="YAML analysis file (default: the embedded base case)")
    command.add_argument("--out", default=out, help="output directory (default: %(default)s)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="markov", description="Treatment-sequencing cost-effectiveness "
                                     "model of advanced hepatocellular carcinoma.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="base case (and optional PSA): tables and figures",
                              description="Run an analysis file, or the embedded base case when none is given. "
                                          "Writes results, incremental analysis, calibration and occupancy "
                                          "figures and the inputs table to --out; with --psa, every PSA output "
                                          "as `markov psa` writes it.")
    _add_common(run, "results")
    run.add_argument("--psa", type=int, default=None, metavar="N",
                     help="probabilistic samples (default: the analysis file's psa_samples, 0 = none)")
    run.add_argument("--seed", type=int, default=None, help="PSA seed (default: the analysis file's seed)")

    psa = commands.add_parser("psa", help="probabilistic sensitivity analysis: CE plane, CEAC/CEAF, EVPI, EVPPI",
                              description="Run N probabilistic samples and write per-sample results and inputs, "
                                          "the PSA summary, ICER distributions, CE planes, acceptability curves "
                                          "and frontier, EVPI, EVPPI (Strong, Oakley & Brennan 2014 regression) "
                                          "and convergence, per population.")
    _add_common(psa, "results/psa")
    psa.add_argument("-n", "--samples", type=int, default=1000, help="number of samples (default: %(default)s)")
    psa.add_argument("--seed", type=int, default=None, help="seed (default: the analysis file's seed)")
    psa.add_argument("--wtp-max", type=float, default=None,
                     help="largest willingness to pay of the CEAC and EVPI curves (default: twice the highest "
                          "threshold or 1.25 times the highest frontier ICER, whichever is larger)")
    psa.add_argument("--no-evppi", action="store_true", help="skip the EVPPI (regression per input)")
    psa.add_argument("--annual-patients", type=float, default=None, metavar="N",
                     help="patients facing the decision each year, for the population EVPI (give your source)")
    psa.add_argument("--decision-years", type=float, default=None, metavar="Y",
                     help="years the decision holds, for the population EVPI")

    dsa = commands.add_parser("dsa", help="one-way (tornado), two-way, scenarios and threshold prices",
                              description="Deterministic sensitivity analysis of each population's comparison: "
                                          "each input at its low and high value (evidence range, else 2.5%%/97.5%% "
                                          "quantiles) with NMB and ICER tornados, a two-way analysis of the two "
                                          "inputs with the largest swing, the scenario table, and the price of "
                                          "each first-line drug of the intervention at which its ICER equals "
                                          "each threshold.")
    _add_common(dsa, "results/dsa")
    dsa.add_argument("--wtp", type=float, default=None,
                     help="willingness to pay per QALY for the NMB tornado and two-way analysis "
                          "(default: the perspective's highest threshold)")
    dsa.add_argument("--points", type=int, default=11, help="grid points per input in the two-way analysis")

    gsa = commands.add_parser("gsa", help="global sensitivity: Sobol, Morris, delta or PAWN (SALib)",
                              description="Global sensitivity indices of each population's incremental NMB. "
                                          "sobol: N base samples of Saltelli's design (N*(D+2) model runs for D "
                                          "inputs or groups); morris: N trajectories; delta and pawn: on a PSA "
                                          "of N samples.")
    _add_common(gsa, "results/gsa")
    gsa.add_argument("--method", choices=GSA_METHODS, default="sobol", help="(default: %(default)s)")
    gsa.add_argument("-n", "--samples", type=int, default=1024,
                     help="base samples (sobol), trajectories (morris) or PSA samples (default: %(default)s)")
    gsa.add_argument("--seed", type=int, default=None, help="seed (default: the analysis file's seed)")
    gsa.add_argument("--wtp", type=float, default=None,
                     help="willingness to pay per QALY (default: the perspective's highest threshold)")
    gsa.add_argument("--group-by-source", action="store_true",
                     help="one index per evidence source (all its uncertain inputs together)")
    gsa.add_argument("--from-psa", metavar="DIR", default=None,
                     help="delta and pawn: use the PSA already written in DIR by `markov psa` instead of running one")
    return parser


def _progress(label: str):
    """A one-line progress report on stderr, updated in place."""
    started = time.perf_counter()

    def report(done: int, total: int) -> None:
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else float("nan")
        end = "\n" if done >= total else ""
        print(f"\r{label}: {done:,}/{total:,} ({100 * done / total:.0f}%), {elapsed:.0f} s, about {left:.0f} s left",
              end=end, file=sys.stderr, flush=True)

    return report


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


def _check(name: str, value, least: int) -> None:
    if value is not None and value < least:
        raise InputError(f"{name} is {value}: must be at least {least}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    try:
        for name, least in (("psa", 0), ("samples", 1), ("seed", 0), ("points", 2), ("annual_patients", 0),
                            ("decision_years", 0)):
            _check(f"--{name.replace('_', '-')}", getattr(args, name, None), least)
        for name in ("wtp", "wtp_max"):
            value = getattr(args, name, None)
            if value is not None and not (value >= 0 and value != float("inf")):
                raise InputError(f"--{name.replace('_', '-')} is {value}: a willingness to pay is 0 or more")
        inputs = load_analysis(args.analysis)
        seed = inputs.analysis.seed if getattr(args, "seed", None) is None else args.seed
        if args.command == "run":
            outputs = run_analysis(inputs, args.out, psa_samples=args.psa, seed=args.seed,
                                   progress=_progress("PSA"))
            files = outputs.files
        elif args.command == "psa":
            psa = run_psa(inputs, args.samples, seed, progress=_progress("PSA"))
            files, summary = write_psa(psa, inputs, args.out, wtp_max=args.wtp_max, evppi=not args.no_evppi,
                                       annual_patients=args.annual_patients, decision_years=args.decision_years)
        elif args.command == "dsa":
            files = run_dsa(inputs, args.out, wtp=args.wtp, two_way_points=args.points)
        else:
            if args.from_psa and args.method not in ("delta", "pawn"):
                raise InputError(f"--from-psa: {args.method} needs its own design; only delta and pawn use a PSA")
            existing = read_psa(args.from_psa, inputs) if args.from_psa else None
            files = run_gsa(inputs, args.out, method=args.method, n=args.samples, seed=seed, wtp=args.wtp,
                            group_by_source=args.group_by_source, psa=existing, progress=_progress(args.method))
        plt.close("all")
    except InputError as error:
        print(f"markov: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if args.command == "run":
        _print_base_case(outputs)
        missed = outputs.results[outputs.results["os_calibration_unreachable_samples"] > 0]
        for row in missed.itertuples():
            print(f"note: {row.population}.{row.strategy}: the OS median could not be reached in the base case")
        summary = outputs.psa_summary
    if args.command in ("run", "psa") and summary is not None:
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print("\nPSA summary")
            print(summary.round(3).to_string(index=False))
    print(f"\nWrote {len(files)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``markov run | psa | dsa | gsa | report | validate-inputs [ANALYSIS.yaml] [options]``;
``markov report DIR`` renders an existing results directory.

Exit status: 0 on success; 2 with a one-line cause for bad input or a bad invocation
(missing file, unknown subcommand, a negative count, an output directory holding
another model's results), checked before existing results are changed;
1 when the system refuses (a file cannot be written, a worker dies); 130 when interrupted (a PSA's
finished chunks are kept: the same command resumes it).
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ._memory import reuse_freed_memory
from ._validate import InputError
from ._version import __version__
from .api import Analysis
from .console import (
    count,
    print_base_case,
    print_psa_summary,
    print_sequences,
    print_top_drivers,
    say,
)
from .decision.voi import EVPPI_TIME_BUDGET
from .engine.memory import fault_in_heap_growth
from .inputs import load_analysis
from .models import build_model
from .plots import DEFAULT_FIGURE_FORMATS, FIGURE_FORMATS, figure_formats
from .probabilistic.batch import WorkerFailed
from .probabilistic.psa import read_psa
from .probabilistic.store import LARGEST_CHUNK, LEAST_CHUNKS, SMALLEST_CHUNK
from .report import write_reports
from .results import (
    DSA_DIRECTORY,
    HTML_REPORT,
    RUN_RECORD,
    STORE_DIRECTORY,
    WORKBOOK,
    claim_output,
    read_record,
)
from .runs import (
    GSA_METHODS,
    run_analysis,
    run_dsa,
    run_gsa,
    run_probabilistic,
    run_report,
)

EXIT_INPUT_ERROR = 2
EXIT_SYSTEM_ERROR = 1
EXIT_INTERRUPTED = 130
#: Where `markov report` runs and writes when given no --out.
REPORT_OUT = "results/report"

class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (its default prints the usage first)."""

    def error(self, message: str):
        self.exit(EXIT_INPUT_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_common(command: argparse.ArgumentParser, out: str) -> None:
    command.add_argument("analysis", nargs="?", help="YAML analysis file (default: the embedded base case)")
    command.add_argument("--out", default=out, help="output directory (default: %(default)s); a directory holding "
                                                    "another analysis's results is refused")
    _add_formats(command)


def _add_formats(command: argparse.ArgumentParser) -> None:
    command.add_argument("--formats", default=",".join(DEFAULT_FIGURE_FORMATS), metavar="LIST",
                         help=f"figure formats, separated by commas, of {', '.join(FIGURE_FORMATS)} (default: "
                              "%(default)s)")


# A PSA of this many draws or more uses every core by default: below, starting worker
# processes (a few seconds each, in parallel) costs about what they save.
AUTO_WORKERS_FROM_DRAWS = 5_000
# Each worker holds the model's working memory (about 0.6 GB for the HCC model's chunks).
MAX_AUTO_WORKERS = 8


def _add_batch(command: argparse.ArgumentParser, draws: str) -> None:
    """The options of running a PSA; ``draws`` is the command's option for the number of draws."""
    batch = command.add_argument_group(
        "running the PSA", f"Draws are computed in chunks and each finished chunk is saved in OUT/{STORE_DIRECTORY} "
                           "(Parquet). Re-running the same command after an interruption resumes from the "
                           f"finished chunks; a larger {draws} extends the PSA. Results are identical whatever the "
                           "workers, scheduler or chunk size.")
    batch.add_argument("--workers", type=int, default=None,
                       help=f"local worker processes (default: from {AUTO_WORKERS_FROM_DRAWS:,} draws on, one per core "
                            f"up to {MAX_AUTO_WORKERS}; below, this process alone)")
    batch.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="compute on a Dask distributed cluster, e.g. tcp://10.0.0.5:8786 (needs markov-hcc[dask] "
                            "on the client and on every worker)")
    batch.add_argument("--chunk-size", type=int, default=None, metavar="DRAWS",
                       help=f"draws per chunk of a new PSA (default: {SMALLEST_CHUNK} up to {LARGEST_CHUNK:,}, to "
                            f"have at least {LEAST_CHUNKS} chunks; a resumed PSA keeps its own)")
    batch.add_argument("--evppi-samples", type=int, default=None, metavar="N",
                       help="the EVPPI regressions use the first N samples (default: every sample while the "
                            f"regressions are estimated to take at most {EVPPI_TIME_BUDGET:.0f} s, else as many as "
                            "fit)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="markov", description="Treatment-sequencing cost-effectiveness model of advanced "
                                                "hepatocellular carcinoma. Each subcommand has its own --help.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="base case (and optional PSA): tables and figures",
                              description="Run an analysis file, or the embedded base case when none is given. "
                                          "Writes results, incremental analysis, calibration and occupancy "
                                          "figures and the inputs table to --out; with --psa, every PSA output "
                                          "as `markov psa` writes it.")
    _add_common(run, "results")
    run.add_argument("--psa", type=int, default=None, metavar="N",
                     help="probabilistic samples (default: the analysis file's psa_samples, 0 = none)")
    run.add_argument("--seed", type=int, default=None, help="PSA seed (default: the analysis file's seed)")
    _add_batch(run, "--psa")
    psa = commands.add_parser("psa", help="probabilistic sensitivity analysis: CE plane, CEAC/CEAF, EVPI, EVPPI",
                              description=f"Run N probabilistic samples into a resumable results store "
                                          f"(OUT/{STORE_DIRECTORY}: per-sample inputs and results in Parquet) and "
                                          "write the PSA summary, ICER distributions, CE planes, acceptability "
                                          "curves and frontier, EVPI, EVPPI (Strong, Oakley & Brennan 2014 regression) "
                                          "and convergence, per population.")
    _add_common(psa, "results/psa")
    psa.add_argument("-n", "--samples", type=int, default=1000, help="number of samples (default: %(default)s)")
    psa.add_argument("--seed", type=int, default=None, help="seed (default: the analysis file's seed)")
    psa.add_argument("--wtp-max", type=float, default=None,
                     help="largest willingness to pay of the CEAC and EVPI curves (default: twice the highest "
                          "threshold or 1.25 times the highest frontier ICER, whichever is larger)")
    psa.add_argument("--no-evppi", action="store_true", help="skip the EVPPI (regression per input)")
    _add_batch(psa, "--samples")
    psa.add_argument("--annual-patients", type=float, default=None, metavar="N",
                     help="patients facing the decision each year, for the population EVPI (give your source)")
    psa.add_argument("--decision-years", type=float, default=None, metavar="Y",
                     help="years the decision holds, for the population EVPI")

    dsa = commands.add_parser("dsa", help="one-way (tornado), two-way, scenarios and threshold prices",
                              description="Deterministic sensitivity analysis of each population's comparison: "
                                          "each input at its low and high value (evidence range, else 2.5%/97.5% "
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
                     help="delta and pawn: use the PSA already in DIR (from `markov psa --out DIR`) instead of "
                          "running one")

    report = commands.add_parser(
        "report", help="Excel workbook and HTML report of a results directory, or of a base case + PSA + DSA run first",
        description=f"Given a results directory DIR (one holding {RUN_RECORD}, written by `markov run` or `markov "
                    f"psa`, with `markov dsa --out DIR/{DSA_DIRECTORY}` if wanted), write DIR/{WORKBOOK} and "
                    f"DIR/{HTML_REPORT} from the tables and figures there, computing nothing; a part that was not run "
                    "says so. Otherwise run the analysis file (or the embedded base case): the base case, a PSA of "
                    f"--psa draws (resumable, as `markov psa`) and the deterministic sensitivity analysis (into "
                    f"OUT/{DSA_DIRECTORY}), then write OUT/{WORKBOOK} (inputs with sources, base case, incremental "
                    f"analysis, PSA summary, DSA, scenarios) and OUT/{HTML_REPORT} (one self-contained file with "
                    "tables and figures).")
    report.add_argument("analysis", nargs="?", metavar="ANALYSIS.yaml | DIR",
                        help="YAML analysis file to run (default: the embedded base case), or a results directory "
                             "to render as it is")
    report.add_argument("--out", default=None,
                        help=f"output directory (default: {REPORT_OUT}); a directory holding another analysis's "
                             "results is refused. With DIR: where to write the reports (default: DIR)")
    report.add_argument("--psa", type=int, default=1000, metavar="N", help="PSA draws (default: %(default)s)")
    report.add_argument("--seed", type=int, default=None, help="PSA seed (default: the analysis file's seed)")
    report.add_argument("--no-dsa", action="store_true", help="skip the deterministic sensitivity analysis")
    _add_formats(report)
    _add_batch(report, "--psa")

    sequences = commands.add_parser(
        "sequences", help="evaluate and rank every treatment sequence the analysis's rules allow",
        description="Enumerate every sequence allowed by the analysis file's sequences: rules (docs/sequences.md), "
                    "evaluate them with the population's own strategies on the base case and one PSA (the same "
                    "draws for all), and write the ranking, frontier, optimal sequence by WTP, acceptability, "
                    "EVPI and the value over usual care (tables and figures) to --out.")
    _add_common(sequences, "results/sequences")
    sequences.add_argument("--psa", type=int, default=1000, metavar="N", help="PSA draws (default: %(default)s)")
    sequences.add_argument("--seed", type=int, default=None, help="PSA seed (default: the analysis file's seed)")

    validate = commands.add_parser("validate-inputs", help="check an analysis file and its evidence, then exit",
                                   description="Load the analysis file and every model file and evidence source it "
                                               "names, check them (types, ranges, references, units, sources), run "
                                               "the base case and a few probabilistic draws, and print a summary. "
                                               "Writes nothing. Exit status 0 when valid, 2 with the problems "
                                               "otherwise.")
    validate.add_argument("analysis", nargs="?", help="YAML analysis file (default: the embedded base case)")
    validate.add_argument("--draws", type=int, default=20,
                          help="probabilistic draws to run as a check (default: %(default)s; 0 = none)")
    return parser


class _ProgressBar:
    """A progress bar on stderr: redrawn in place on a terminal; in a log, a line at
    each tenth of the work (or each minute), so logs stay short."""

    def __init__(self, label: str, unit: str = "draws", width: int = 30) -> None:
        self.label, self.unit, self.width = label, unit, width
        self.started = time.perf_counter()
        self.first: int | None = None
        self.terminal = sys.stderr.isatty()
        self.last_line = (-1.0, -1)

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.first is None:  # draws already in the store do not count towards the rate
            self.first, self.started = done, now
        elapsed = now - self.started
        rate = (done - self.first) / elapsed if elapsed > 0 else 0.0
        left = f"{_duration((total - done) / rate)} left" if rate > 0 and done < total else ""
        share = done / total if total else 1.0
        filled = int(round(share * self.width))
        line = (f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} {done:,}/{total:,} "
                f"{self.unit}" + (f", {_rate(rate)}" if rate else "") + (f", {left}" if left else ""))
        if self.terminal:
            # erase to the end of the line: a bar may follow a longer one of another phase
            print(f"\r{line}\x1b[K", end="\n" if done >= total else "", file=sys.stderr, flush=True)
            return
        tenth = int(10 * share)
        if done >= total or tenth > self.last_line[1] or now - self.last_line[0] >= 60:
            print(line, file=sys.stderr, flush=True)
            self.last_line = (now, tenth)


def _rate(per_second: float) -> str:
    """``250/s``, or ``17 s each`` when slower than one a second."""
    return f"{per_second:,.0f}/s" if per_second >= 1 else f"{_duration(1 / per_second)} each"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _check_arguments(args: argparse.Namespace) -> None:
    """Counts and amounts on the command line, before anything runs or is written."""
    for name, least in (("psa", 0), ("samples", 1), ("seed", 0), ("points", 2), ("workers", 1), ("chunk_size", 1),
                        ("evppi_samples", 0), ("draws", 0)):
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and value >= least):
            raise InputError(f"--{name.replace('_', '-')} is {value}: must be a finite number of at least {least}")
    for name, positive in (("wtp", False), ("wtp_max", True), ("annual_patients", False), ("decision_years", True)):
        value = getattr(args, name, None)
        if value is not None and not (math.isfinite(value) and (value > 0 if positive else value >= 0)):
            rule = "more than 0" if positive else "0 or more"
            raise InputError(f"--{name.replace('_', '-')} is {value}: must be a finite number, {rule}")
    if (getattr(args, "annual_patients", None) is None) != (getattr(args, "decision_years", None) is None):
        raise InputError("--annual-patients and --decision-years: the population EVPI needs both")
    if getattr(args, "formats", None) is not None:
        figure_formats(args.formats)
    if getattr(args, "scheduler", None) is not None and getattr(args, "workers", None) not in (None, 1):
        raise InputError("--workers and --scheduler: give one (a Dask cluster has its own workers)")


def _batch_options(args: argparse.Namespace) -> dict:
    return {"workers": _workers(args), "scheduler": args.scheduler, "chunk_size": args.chunk_size,
            "evppi_samples": args.evppi_samples,
            "figure_workers": args.workers if args.workers is not None else _cores()}


def _workers(args: argparse.Namespace) -> int:
    """``--workers``, else one per core available to this process (at most
    ``MAX_AUTO_WORKERS``) for a PSA of ``AUTO_WORKERS_FROM_DRAWS`` draws or more, else 1."""
    if args.workers is not None:
        return args.workers
    draws = getattr(args, "samples", None) or getattr(args, "psa", None) or 0
    if args.scheduler is not None or draws < AUTO_WORKERS_FROM_DRAWS:
        return 1
    return _cores()


def _cores() -> int:
    """Cores available to this process, at most ``MAX_AUTO_WORKERS``: the default number
    of worker processes (figures are drawn by as many whatever the PSA's size: a forked
    process costs them little)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_AUTO_WORKERS))


def _validate(inputs, draws: int) -> None:
    """Run the base case and ``draws`` probabilistic draws, and print what was checked."""
    model = build_model(inputs)
    model.evaluate(inputs.base_case())
    if draws:
        model.evaluate(inputs.sample(draws, seed=inputs.analysis.seed))
    statuses = pd.Series([inputs.evidence[ref].value.status for ref in inputs.references]).value_counts()
    sources = {ref.partition(".")[0] for ref in inputs.references}
    strategies = sum(len(p.strategies) for p in inputs.populations.values())
    say(f"{inputs.source}: valid. Analysis {inputs.analysis.name!r}, structure {inputs.structure!r}, perspective "
         f"{inputs.analysis.perspective!r} ({inputs.perspective.currency}).")
    say(f"  {count(len(inputs.populations), 'population')}, {count(strategies, 'strategy', 'strategies')}; "
         f"{count(len(inputs.references), 'input')} from "
         f"{count(len(sources), 'source')} ({', '.join(f'{n} {s}' for s, n in statuses.items())}); "
         f"{len(inputs.uncertain)} vary in the PSA.")
    say(f"  The base case{f' and {draws} probabilistic draws' if draws else ''} ran without error.")


def _sequences(inputs, draws: int, seed: int, out: str, formats: str) -> list[Path]:
    """``markov sequences``: the count before running, then the ranking."""
    analysis = Analysis(inputs)
    search = analysis.sequence_search()
    with claim_output(out, inputs):  # beside the same analysis's other results, never another's
        say(f"{search.n_sequences:,} sequences + {len(search.keys) - search.n_sequences} usual-care strategies of "
             f"{search.population}, {draws:,} PSA draws (about {search.memory_bytes(draws) / 1024**2:,.0f} MiB)",
             file=sys.stderr)
        results = analysis.sequences(draws, seed, search=search, progress=_ProgressBar("sequences"))
        files = results.write(out, formats)
    print_sequences(results, inputs.perspective.currency)
    return files


def _render(args: argparse.Namespace, defaults: dict) -> list[Path]:
    """``markov report DIR``: the reports of the results directory DIR, computing nothing.
    ``defaults`` are the report command's option values when none is given."""
    directory = Path(args.analysis)
    if read_record(directory) is None:
        raise InputError(f"{directory}: has no {RUN_RECORD}, so it does not hold markov results; give a directory "
                         "written by `markov run` or `markov psa`, or an analysis file to run")
    running = [f"--{name.replace('_', '-')}" for name, value in vars(args).items()
               if name not in ("command", "analysis", "out") and value != defaults[name]]
    if running:
        raise InputError(f"{', '.join(running)}: {directory} is a results directory, rendered as it is; these options "
                         "run an analysis (give an analysis file)")
    args.out = args.out or args.analysis
    return _reports(directory, args.out)


def _reports(directory: str | Path, out: str | Path) -> list[Path]:
    """The reports of the results directory ``directory``, written to ``out``, said when they start."""
    say(f"Writing {WORKBOOK} and {HTML_REPORT} to {out}", file=sys.stderr, flush=True)
    return write_reports(directory, out)


def main(argv: list[str] | None = None) -> int:
    reuse_freed_memory()  # a command runs the model in bulk, chunk after chunk
    fault_in_heap_growth()
    # A warning is one line too (a chunk set aside, say); libraries' logs are not shown
    # (Dask logs a lost scheduler in dozens of lines): what fails is reported in one line.
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        logging.disable(logging.ERROR)
        try:
            return _main(argv)
        finally:
            logging.disable(logging.NOTSET)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"markov: warning: {message}", file=sys.stderr)


def _main(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = outputs = None
    rendering = args.command == "report" and args.analysis is not None and Path(args.analysis).is_dir()
    try:
        _check_arguments(args)
        if rendering:
            files = _render(args, vars(parser.parse_args(["report"])))
            say(f"Wrote {len(files)} files to {args.out} in {time.perf_counter() - started:.1f} s")
            return 0
        if args.command == "report":
            args.out = args.out or REPORT_OUT
        inputs = load_analysis(args.analysis)
        if args.command == "validate-inputs":
            _validate(inputs, args.draws)
            return 0
        seed = inputs.analysis.seed if getattr(args, "seed", None) is None else args.seed
        shown = {"formats": args.formats, "phases": _ProgressBar}
        if args.command == "run":
            outputs = run_analysis(inputs, args.out, psa_samples=args.psa, seed=seed, **shown, **_batch_options(args))
            files, summary = outputs.files, outputs.psa_summary
        elif args.command == "report":
            outputs, files = run_report(inputs, args.out, psa_samples=args.psa, seed=seed, dsa=not args.no_dsa,
                                        **shown, **_batch_options(args))
            summary = outputs.psa_summary
        elif args.command == "psa":
            files, summary = run_probabilistic(inputs, args.out, args.samples, seed, wtp_max=args.wtp_max,
                                               evppi=not args.no_evppi, annual_patients=args.annual_patients,
                                               decision_years=args.decision_years, **shown, **_batch_options(args))
        elif args.command == "sequences":
            files = _sequences(inputs, args.psa, seed, args.out, args.formats)
        elif args.command == "dsa":
            files = run_dsa(inputs, args.out, wtp=args.wtp, two_way_points=args.points, **shown)
        else:
            if args.from_psa and args.method not in ("delta", "pawn"):
                raise InputError(f"--from-psa: {args.method} needs its own design; only delta and pawn use a PSA")
            existing = read_psa(args.from_psa, inputs, measures=("cost", "qalys")) if args.from_psa else None
            files = run_gsa(inputs, args.out, method=args.method, n=args.samples, seed=seed, wtp=args.wtp,
                            group_by_source=args.group_by_source, psa=existing, **shown)
        plt.close("all")
    except InputError as error:
        say(f"markov: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except KeyboardInterrupt:
        kept = (f"; finished PSA chunks are kept in {Path(args.out) / STORE_DIRECTORY}: run the same command to "
                f"resume") if args.command in ("run", "psa", "report") and not rendering else ""
        say(f"\nmarkov: interrupted{kept}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (OSError, WorkerFailed) as error:
        say(f"markov: error: {error}", file=sys.stderr)
        return EXIT_SYSTEM_ERROR
    if outputs is not None:
        print_base_case(outputs, inputs)
        missed = outputs.results[outputs.results["os_calibration_unreachable_samples"] > 0]
        for row in missed.itertuples():
            say(f"note: {row.label} ({row.population}): the OS median could not be reached in the base case")
    if summary is not None:
        labels = {(p, s): strategy.label for p, spec in inputs.populations.items()
                  for s, strategy in spec.strategies.items()}
        print_psa_summary(summary, labels, {p: spec.label for p, spec in inputs.populations.items()},
                           inputs.perspective.currency)
    if args.command == "dsa":
        print_top_drivers(args.out, inputs)
    say(f"\nWrote {len(files)} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

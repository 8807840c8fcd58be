"""Batch PSA benchmarks of the HCC model (shipped base case, weekly grid, 20 years):
throughput of each backend, parallel efficiency, peak memory, the whole command's time,
and identical results across backends; ``--readme`` writes README's table from them.

    python benchmarks/bench_batch.py --out bench_out [--draws 100000] [--dask-draws 20000]
                                     [--million 1000000] [--e2e-draws 10000] [--repeats 3]
                                     [--million-repeats 3]
                                     [--steps e2e,one,one_core,two,api,dask,million]
    python benchmarks/bench_batch.py --out bench_out --readme   # README.md's table from bench_out/bench.json

Every run is the real command line (``markov psa ...`` in a subprocess, so the numbers
are what a user sees), except ``api``, which calls ``markov.probabilistic.psa.run_psa``.
For each run: wall time, draws per second over the PSA phase (from the start to the
last chunk written, and steadily: from the first chunk written to the last), the time
after the model (reading back, decision analysis, tables and figures: from the last
chunk written to the end), the CPU time of the main process (what it does while workers
compute) and peak memory: the sum of the resident memory of the process and its worker
processes, sampled every 0.2 s (a Dask cluster's workers are counted apart), and the
main process's own.

Steps (each appends its figures to ``OUT/bench.json`` as it finishes, so a long
benchmark that is stopped keeps what it measured):

* ``e2e``: ``markov psa -n E2E --seed 1`` as a user runs it (from 5,000 draws on, one
  worker per core by default), everything included (EVPPI, tables, figures);
* ``one``: ``--draws`` draws in one process (``--workers 1``), no EVPPI (the baseline of
  the ratios);
* ``one_core``: the same with FFTs in one thread (the command line in a Python that
  pins them first), as each worker computes: the baseline of parallel efficiency
  (``one`` computes its FFTs on every core);
* ``two``: ``--draws`` draws with ``--workers 2``: its store must hold the same bits as
  ``one``; its parallel efficiency is its steady rate over twice ``one_core``'s;
* ``api``: ``run_psa`` in memory: the same bits as ``one``;
* ``dask``: ``--dask-draws`` draws on a ``LocalCluster`` of 2 worker processes
  (``--scheduler tcp://...``): the same bits as the first draws of ``one``;
* ``million``: ``--million`` draws with ``--workers 2``: peak memory against ``two``'s,
  and the same bits as ``one`` for the draws they share.

Each command-line step runs ``--repeats`` times (``million``: ``--million-repeats``, each
run about six minutes on 2 cores); the run of median rate (median wall time for ``e2e``
and ``million``) is recorded, with every run's rate and wall time beside
it, and README's table gives the range. The machine may be shared: ratios are against
runs measured in the same benchmark, and the load average at the start of each step is
recorded with it.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import psutil

from markov.inputs import load_analysis
from markov.probabilistic.psa import STORE_DIRECTORY, read_psa, run_psa

ENVIRONMENT = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
MARKOV = ["markov"]
#: ``markov`` computing on one core: FFTs in one thread, as in each worker process.
MARKOV_ONE_CORE = [sys.executable, "-c", ("import sys; from markov.engine import use_one_fft_thread; "
                   "use_one_fft_thread(); from markov.cli import main; sys.argv[0] = 'markov'; sys.exit(main())")]
README = Path(__file__).resolve().parent.parent / "README.md"
#: README's table lies between these lines, written by ``--readme``.
MARKERS = ("<!-- bench_batch table: written by benchmarks/bench_batch.py --readme -->", "<!-- end of bench_batch table -->")


class ProcessTree:
    """Peak of the summed resident memory of a process and its descendants, the peak of
    the process's own, and the CPU seconds each used (last seen)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.process, self.interval = psutil.Process(pid), interval
        self.peak = self.own_peak = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                memory = {p.pid: p.memory_info().rss for p in tree if p.is_running()}
                for p in tree:
                    times = p.cpu_times()
                    self.cpu[p.pid] = times.user + times.system
            except psutil.Error:
                pass
            else:
                self.peak = max(self.peak, sum(memory.values()))
                self.own_peak = max(self.own_peak, memory.get(self.process.pid, 0))
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def main_cpu(self) -> float:
        return self.cpu.get(self.process.pid, 0.0)

    @property
    def workers_cpu(self) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if pid != self.process.pid)


def run_cli(out: Path, n: int, *extra: str, evppi: bool = False, markov: list[str] = MARKOV) -> dict:
    """``markov psa`` of ``n`` draws into ``out``: wall time, PSA throughput, time after
    the model, CPU time of the main process and its workers, peak memory."""
    command = [*markov, "psa", "-n", str(n), "--seed", "1", *([] if evppi else ["--no-evppi"]), "--out", str(out),
               *extra]
    shutil.rmtree(out, ignore_errors=True)  # a store left by an earlier run would be resumed, not computed
    load = os.getloadavg()[0]
    started = time.time()
    process = subprocess.Popen(command, env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    tree = ProcessTree(process.pid)
    _, err = process.communicate()
    tree.stop()
    wall = time.time() - started
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    written = sorted((p.stat().st_mtime, p) for p in (out / STORE_DIRECTORY / "chunks").glob("chunk-*.parquet"))
    psa_seconds = written[-1][0] - started
    first_chunk = len(pd.read_parquet(written[0][1], columns=["sample"]))
    return {"command": " ".join(command), "draws": n, "load_average_at_start": round(load, 2),
            "wall_seconds": round(wall, 1), "psa_seconds": round(psa_seconds, 1),
            "after_model_seconds": round(wall - psa_seconds, 1), "draws_per_second": round(n / psa_seconds, 1),
            # from the first chunk written to the last: without start-up (imports, workers, connection)
            "steady_draws_per_second": round((n - first_chunk) / (written[-1][0] - written[0][0]), 1),
            "main_cpu_seconds": round(tree.main_cpu, 1), "workers_cpu_seconds": round(tree.workers_cpu, 1),
            "peak_memory_mb": round(tree.peak / 2**20), "main_peak_memory_mb": round(tree.own_peak / 2**20)}


def median_run(runs: list[dict], key: str) -> dict:
    """The run of median ``key`` (the lower middle one of an even number), with every
    run's rate and wall time."""
    chosen = sorted(runs, key=lambda figures: figures[key])[(len(runs) - 1) // 2]
    return {**chosen, "runs": len(runs), "steady_draws_per_second_runs": [f["steady_draws_per_second"] for f in runs],
            "wall_seconds_runs": [f["wall_seconds"] for f in runs]}


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
    results[step] = {"date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d"), "cpus": os.cpu_count(), **figures}
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{step}: {json.dumps(figures)}", flush=True)


def measured(out: Path) -> dict:
    path = out / "bench.json"
    if not path.is_file():
        raise SystemExit(f"{path}: no benchmark results here; run the benchmark with --out {out} first")
    return json.loads(path.read_text())


# --- README's table -----------------------------------------------------------------

def readme_table(results: dict) -> str:
    """The Markdown of README's benchmark table (and the lines around it) from ``bench.json``."""
    one = results.get("one")
    dates = sorted({figures["date_utc"] for figures in results.values()})
    lines = [(f"Measured on {' to '.join(dict.fromkeys([dates[0], dates[-1]]))} on a {_cpus(results)} machine shared "
             "with other work (timings are noisy: ratios are against runs of the same benchmark; single-threaded "
             "BLAS; draws per second steadily, from the first chunk written to the last; parallel efficiency: draws per "
              "second with 2 workers over twice those of one process computing on one core; where several runs were "
              "made, the median run and the range):"), "",
             ("| run | draws | draws/s | ratio to 1 process | parallel efficiency | after the model | wall | "
             "peak memory (process and its workers) | same bits as 1 process | load average at start |"),
             "|---|---|---|---|---|---|---|---|---|---|"]
    rows = [("e2e", "`markov psa -n {draws:,} --seed 1`, everything (default workers: one per core)"),
            ("one", "in-process (1 worker)"), ("one_core", "in-process, FFTs in one thread (1 core)"),
            ("two", "`--workers 2`"), ("api", "Python API `run_psa`"),
            ("dask", "Dask `LocalCluster`, 2 workers"), ("million", "`--workers 2`")]
    for step, name in rows:
        figures = results.get(step)
        if figures is None:
            continue
        rate = figures.get("steady_draws_per_second") or figures["draws"] / figures["wall_seconds"]
        ratio = f"{rate / one['steady_draws_per_second']:.2f}" if one and step != "e2e" else "—"
        workers = 2 if step in ("two", "dask", "million") else 1
        core = results.get("one_core")
        efficiency = f"{rate / (workers * core['steady_draws_per_second']):.0%}" if core and workers > 1 else "—"
        memory = f"{figures['peak_memory_mb'] / 1024:.2f} GB" if "peak_memory_mb" in figures else "—"
        if step == "dask":
            memory += " (client only)"
        lines.append(" | ".join([
            f"| {name.format(draws=figures['draws'])}", f"{figures['draws']:,}",
            f"{rate:,.0f}" + _spread(figures.get("steady_draws_per_second_runs"), "{:,.0f}"),
            ratio, efficiency, f"{figures['after_model_seconds']:.1f} s" if "after_model_seconds" in figures else "—",
            _duration(figures["wall_seconds"]) + _spread(figures.get("wall_seconds_runs"), "{:.1f} s"), memory,
            _same(step, figures),
            f"{figures['load_average_at_start']:.1f}" if "load_average_at_start" in figures else "—"]) + " |")
    if "million" in results and "two" in results:
        million, two = results["million"], results["two"]
        lines += ["", (f"The {million['draws']:,}-draw run took {_duration(million['wall_seconds'])}, "
                      f"{million['wall_seconds'] / two['wall_seconds']:.1f} times the {two['draws']:,}-draw run with "
                      f"the same workers, and peaked at {million['peak_memory_mb'] / two['peak_memory_mb']:.2f} times "
                      f"its memory (its main process alone: {million['main_peak_memory_mb'] / 1024:.2f} GB against "
                      f"{two['main_peak_memory_mb'] / 1024:.2f} GB).")]
    if "two" in results:
        two = results["two"]
        lines += ["", (f"With `--workers 2` the main process used {two['main_cpu_seconds']:.0f} s of CPU (its "
                       f"start-up and the work after the model included) while its workers used "
                       f"{two['workers_cpu_seconds']:.0f} s.")]
    return "\n".join(line if line.startswith("|") else textwrap.fill(line, 90) for line in lines)


def _spread(runs: list[float] | None, form: str) -> str:
    """`` (low–high of n runs)`` after a median, where there were several runs."""
    if not runs or len(runs) < 2:
        return ""
    return f" ({form.format(min(runs))}–{form.format(max(runs))}, {len(runs)} runs)"


def _cpus(results: dict) -> str:
    counts = {figures.get("cpus") for figures in results.values()}
    return f"{counts.pop()}-core" if len(counts) == 1 else "multi-core"


def _same(step: str, figures: dict) -> str:
    if step in ("e2e", "one"):
        return "—"
    if step == "million":
        return "yes, on the draws they share" if figures.get("identical_to_one_on_shared_draws") else "**no**"
    same = "yes" if figures.get("identical_to_one") else "**no**"
    return same + (", and the same `psa_summary.csv`" if figures.get("summary_identical_to_one") else "")


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def write_readme(out: Path, readme: Path = README) -> None:
    """Replace README's table (between :data:`MARKERS`) with the one of ``out/bench.json``."""
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(MARKERS[0]) + r"\n.*?" + re.escape(MARKERS[1]), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise SystemExit(f"{readme}: needs its benchmark table between the lines {MARKERS[0]} and {MARKERS[1]}, once")
    table = readme_table(measured(out))
    readme.write_text(pattern.sub(lambda _: f"{MARKERS[0]}\n{table}\n{MARKERS[1]}", text), encoding="utf-8")
    print(f"{readme}: benchmark table written from {out / 'bench.json'}")


# --- running ------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--dask-draws", type=int, default=20_000)
    parser.add_argument("--million", type=int, default=1_000_000)
    parser.add_argument("--e2e-draws", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command-line step but million")
    parser.add_argument("--million-repeats", type=int, default=3, help="runs of the million step (median of 3: "
                                                                       "issue 16's 'done when')")
    parser.add_argument("--steps", default="e2e,one,one_core,two,api,dask,million")
    parser.add_argument("--readme", action="store_true", help="write README.md's table from OUT/bench.json, run nothing")
    args = parser.parse_args(argv)
    if args.readme:
        write_readme(args.out)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    inputs = load_analysis()
    steps = args.steps.split(",")

    def identical_to_one(store, **options) -> bool | None:
        # None where the `one` step has not been run into this directory (a step run alone)
        if not (args.out / "one" / STORE_DIRECTORY / "manifest.json").exists():
            print(f"no `one` step in {args.out}: the results are not compared with it", file=sys.stderr)
            return None
        return same_draws(store, read_psa(args.out / "one", inputs, **options))

    def repeated(*arguments, key: str = "steady_draws_per_second", **options) -> dict:
        # the store left is the last run's: every run holds the same bits (checked for one of them)
        return median_run([run_cli(*arguments, **options) for _ in range(args.repeats)], key)

    if "e2e" in steps:
        record(args.out, "e2e", repeated(args.out / "e2e", args.e2e_draws, evppi=True, key="wall_seconds"))
    if "one" in steps:
        record(args.out, "one", repeated(args.out / "one", args.draws, "--workers", "1"))
    if "one_core" in steps:
        figures = repeated(args.out / "one_core", args.draws, "--workers", "1", markov=MARKOV_ONE_CORE)
        figures["identical_to_one"] = identical_to_one(read_psa(args.out / "one_core", inputs))
        record(args.out, "one_core", figures)
    if "two" in steps:
        figures = repeated(args.out / "two", args.draws, "--workers", "2")
        figures["identical_to_one"] = identical_to_one(read_psa(args.out / "two", inputs))
        figures["summary_identical_to_one"] = None if figures["identical_to_one"] is None else (
            (args.out / "two" / "psa_summary.csv").read_bytes() == (args.out / "one" / "psa_summary.csv").read_bytes())
        record(args.out, "two", figures)
    if "api" in steps:
        load, started = os.getloadavg()[0], time.time()
        api = run_psa(inputs, args.draws, seed=1)
        record(args.out, "api", {"draws": args.draws, "load_average_at_start": round(load, 2),
                                 "wall_seconds": round(time.time() - started, 1),
                                 "identical_to_one": identical_to_one(api)})
    if "dask" in steps:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          env={"OPENBLAS_NUM_THREADS": "1"}) as cluster:
            figures = repeated(args.out / "dask", args.dask_draws, "--scheduler", cluster.scheduler_address)
        figures["identical_to_one"] = identical_to_one(read_psa(args.out / "dask", inputs))
        record(args.out, "dask", figures)
    if "million" in steps:
        # the store left is the last run's: every run holds the same bits
        figures = median_run([run_cli(args.out / "million", args.million, "--workers", "2")
                              for _ in range(args.million_repeats)], "wall_seconds")
        million = read_psa(args.out / "million", inputs, measures=("cost", "qalys"), parameter_samples=args.draws)
        figures["identical_to_one_on_shared_draws"] = identical_to_one(million, measures=("cost", "qalys"))
        record(args.out, "million", figures)


if __name__ == "__main__":
    sys.exit(main())

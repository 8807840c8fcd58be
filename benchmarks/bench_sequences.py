"""Time the shipped sequence search (analyses/hcc_sequences.yaml) with a PSA.

    python benchmarks/bench_sequences.py [--draws 1000] [--repeats 3]

Prints the number of sequences, the time to build the search (enumerate and check) and
the median time of evaluating the base case and the draws of every strategy; then the
same with half the draws, to show that the time grows linearly with draws.
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import markov
from markov.models.sequence_search import build_search, run_search

ANALYSIS = Path(__file__).resolve().parents[1] / "analyses" / "hcc_sequences.yaml"


def median_seconds(search, draws: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_search(search, draws, seed=1)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    analysis = markov.load(ANALYSIS)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    search = build_search(analysis.inputs)
    built = time.perf_counter() - started
    print(f"{search.n_sequences} sequences + {len(search.keys) - search.n_sequences} usual-care strategies; "
          f"load {loaded:.2f} s, enumerate and check {built:.3f} s")
    for draws in (args.draws // 2, args.draws):
        seconds = median_seconds(search, draws, args.repeats)
        print(f"{draws:>6,} draws: median {seconds:.1f} s over {args.repeats} runs "
              f"({seconds / len(search.keys) / max(draws, 1) * 1e3:.2f} ms per strategy and draw)")
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        analysis.sequences(args.draws, seed=1, search=search).write(Path(scratch) / "sequences")
        print(f"end to end (run, rank, tables and figures): {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

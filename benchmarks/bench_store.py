"""Recording a chunk in a PSA results store: the same time after thousands of chunks as
after a few (a run's book-keeping grows linearly with its draws).

    python benchmarks/bench_store.py [--chunks 5000] [--out DIR]

Writes ``--chunks`` one-draw chunks of the shipped base case into a new store (each one
serialised, written atomically and flushed to disk, then recorded) and prints the median
time per chunk over the first and the last 10% of them, and their ratio: 1 where the
cost of recording does not grow with the chunks before it.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import markov
from markov.probabilistic.psa import build_model, evaluate_chunk
from markov.probabilistic.store import Chunk, Plan, ResultsStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=5000)
    parser.add_argument("--out", type=Path, help="directory for the store (default: a temporary one)")
    args = parser.parse_args()
    inputs = markov.load()._inputs
    model = build_model(inputs)
    whole = evaluate_chunk(inputs, 1, 0, args.chunks, model)
    chunks = [Chunk(i, i + 1, *(frame.iloc[i:i + 1] for frame in (whole.parameters, whole.outcomes, whole.unreachable)))
              for i in range(args.chunks)]  # each draw a chunk of its own, as it would be computed
    with tempfile.TemporaryDirectory(dir=args.out) as scratch:
        store = ResultsStore.create_or_resume(Path(scratch) / "store", inputs, Plan(args.chunks, 1, 1))
        seconds = []
        for index, chunk in enumerate(chunks):
            started = time.perf_counter()
            store.write_chunk(index, chunk)
            seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.finish()
        finish = time.perf_counter() - started
    tenth = max(args.chunks // 10, 1)
    first, last = (statistics.median(part) * 1000 for part in (seconds[:tenth], seconds[-tenth:]))
    print(f"{args.chunks:,} chunks written and recorded: {sum(seconds):.1f} s; the manifest written at the end "
          f"in {finish * 1000:.0f} ms")
    print(f"  median per chunk, first {tenth:,}: {first:.2f} ms; last {tenth:,}: {last:.2f} ms; "
          f"ratio {last / first:.2f}")


if __name__ == "__main__":
    main()

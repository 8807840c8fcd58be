"""Chancellor et al. (1997) HIV model: base case and probabilistic analysis.

The validation case of the cohort engine (Briggs, Claxton & Sculpher 2006, ex. 2.5
and 4.7). Prints the base case and the PSA summary and writes them as CSV.

    python analyses/chancellor_hiv.py --psa 10000 --seed 1 --out results/chancellor
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from markov.models import chancellor


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=Path, help="inputs file (default: the shipped params/chancellor_1997.yaml)")
    parser.add_argument("--psa", type=int, default=10_000, metavar="N", help="number of PSA draws (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="PSA seed (default 1)")
    parser.add_argument("--out", type=Path, default=Path("results/chancellor"), help="output folder")
    args = parser.parse_args(argv)
    if args.psa < 1:
        parser.error(f"--psa is {args.psa}: the number of draws must be at least 1")

    inputs = chancellor.load_inputs(args.inputs)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.set_option("display.width", 120)

    base = chancellor.summarise(chancellor.evaluate(chancellor.base_case(inputs), inputs))
    print(f"Base case, per person ({inputs.currency}; costs discounted at "
          f"{inputs.settings.discount_rate_costs:.0%}, life-years undiscounted)")
    print(base.round(4).to_string(), "\n")
    base.to_csv(args.out / "base_case.csv")

    started = time.perf_counter()
    draws = chancellor.evaluate(chancellor.sample(inputs, args.psa, args.seed), inputs)
    elapsed = time.perf_counter() - started
    wide = draws.pivot(index="sample", columns="strategy", values=["cost", "life_years"])
    incremental_cost = wide["cost", "combination"] - wide["cost", "monotherapy"]
    incremental_ly = wide["life_years", "combination"] - wide["life_years", "monotherapy"]
    psa = chancellor.summarise(draws)
    print(f"PSA: {args.psa:,} draws (seed {args.seed}) in {elapsed:.3f} s")
    print(psa.round(4).to_string())
    low, high = np.percentile(incremental_cost, [2.5, 97.5])
    print(f"incremental cost 95% interval: {low:,.0f} to {high:,.0f}")
    low, high = np.percentile(incremental_ly, [2.5, 97.5])
    print(f"incremental life-years 95% interval: {low:.3f} to {high:.3f}")
    draws.to_csv(args.out / "psa_samples.csv", index=False)
    psa.to_csv(args.out / "psa_summary.csv")
    print(f"\nwrote {args.out}/base_case.csv, psa_summary.csv, psa_samples.csv")


if __name__ == "__main__":
    main()

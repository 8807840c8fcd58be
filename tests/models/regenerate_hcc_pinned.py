"""Rewrite ``data/hcc_pinned_results.json``, the numbers ``test_hcc_pinned.py`` holds the
shipped HCC analysis to, from the model as it is now.

Run it only for a change of the HCC evidence or structure made on purpose, and say in the
commit what changed and by how much (the script prints each strategy's cost, life-years and
QALYs before and after)::

    python tests/models/regenerate_hcc_pinned.py --note "what changed and why"
"""
import argparse
import json
from pathlib import Path

import numpy as np

from markov.inputs import load_analysis
from markov.models import build_model, results_table

PINNED = Path(__file__).parent / "data" / "hcc_pinned_results.json"
PSA_DRAWS, PSA_SEED = 40, 1


def pinned_results(note: str) -> dict:
    """The base case (every finite cost, life-year and QALY column by strategy) and the
    totals of the first PSA draws, as the test reads them."""
    inputs = load_analysis()
    model = build_model(inputs)
    table = results_table(model.evaluate(inputs.base_case()))
    base_case = {}
    for _, row in table.iterrows():
        base_case[f"{row['population']}:{row['strategy']}"] = {
            column: float(row[column]) for column in table.columns
            if column.startswith(("cost", "life_years", "qalys")) and np.isfinite(row[column])}
    draws = {}
    for result in model.evaluate(inputs.sample(PSA_DRAWS, seed=PSA_SEED), keep_traces=False):
        draws[f"{result.population}:{result.strategy}"] = {
            "cost": result.total_cost.tolist(), "life_years": result.life_years.sum(axis=1).tolist(),
            "qalys": result.qalys.sum(axis=1).tolist()}
    return {"note": note, "base_case": base_case, f"psa_seed_{PSA_SEED}_first_{PSA_DRAWS}_draws": draws}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--note", required=True, help="what changed in the HCC analysis, and why")
    args = parser.parse_args()
    before = json.loads(PINNED.read_text())["base_case"]
    after = pinned_results(args.note)
    for key, row in after["base_case"].items():
        old = before.get(key, {})
        print(f"{key:28s} " + "  ".join(
            f"{name} {old.get(name, float('nan')):,.4f} -> {row[name]:,.4f}" for name in ("cost", "life_years", "qalys")))
    PINNED.write_text(json.dumps(after, indent=1) + "\n")
    print(f"wrote {PINNED}")


if __name__ == "__main__":
    main()

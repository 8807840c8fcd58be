"""The shipped HCC analysis gives the numbers it was pinned at: every cost by category,
life-year and QALY of the base case, by state too, and the first 40 PSA draws of seed 1,
to 1e-9 relative. A change of the HCC evidence or structure must update
``data/hcc_pinned_results.json`` on purpose: ``python tests/models/test_hcc_pinned.py "why"``
rewrites it from the current model, with the reason as its note (say it in the commit)."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from markov.inputs import load_analysis
from markov.models import build_model, results_table

PINNED_FILE = Path(__file__).parent / "data" / "hcc_pinned_results.json"
PINNED = json.loads(PINNED_FILE.read_text())
RTOL = 1e-9


@pytest.fixture(scope="module")
def shipped():
    inputs = load_analysis()
    return inputs, build_model(inputs)


def test_base_case_is_unchanged(shipped):
    inputs, model = shipped
    table = results_table(model.evaluate(inputs.base_case())).set_index(["population", "strategy"])
    assert sorted(f"{p}:{s}" for p, s in table.index) == sorted(PINNED["base_case"])
    for key, expected in PINNED["base_case"].items():
        row = table.loc[tuple(key.split(":"))]
        measured = {column: row[column] for column in row.index
                    if column.startswith(("cost", "life_years", "qalys")) and np.isfinite(row[column])}
        # every pinned number is there and equal; nothing but zero-valued new states is added
        for column, value in expected.items():
            assert measured[column] == pytest.approx(value, rel=RTOL, abs=1e-12), (key, column)
        assert all(measured[column] == 0 for column in set(measured) - set(expected)), key


def test_first_psa_draws_are_unchanged(shipped):
    inputs, model = shipped
    results = model.evaluate(inputs.sample(40, seed=1), keep_traces=False)
    for result in results:
        expected = PINNED["psa_seed_1_first_40_draws"][f"{result.population}:{result.strategy}"]
        np.testing.assert_allclose(result.total_cost, expected["cost"], rtol=RTOL)
        np.testing.assert_allclose(result.life_years.sum(axis=1), expected["life_years"], rtol=RTOL)
        np.testing.assert_allclose(result.qalys.sum(axis=1), expected["qalys"], rtol=RTOL)


def pin(note: str) -> None:
    """Rewrite the pinned numbers from the current model, ``note`` saying why."""
    inputs = load_analysis()
    model = build_model(inputs)
    table = results_table(model.evaluate(inputs.base_case())).set_index(["population", "strategy"])
    base_case = {f"{p}:{s}": {column: float(row[column]) for column in row.index
                              if column.startswith(("cost", "life_years", "qalys")) and np.isfinite(row[column])}
                 for (p, s), row in table.iterrows()}
    draws = {f"{r.population}:{r.strategy}": {"cost": r.total_cost.tolist(), "life_years": r.life_years.sum(axis=1).tolist(),
                                              "qalys": r.qalys.sum(axis=1).tolist()}
             for r in model.evaluate(inputs.sample(40, seed=1), keep_traces=False)}
    PINNED_FILE.write_text(json.dumps({"note": note, "base_case": base_case, "psa_seed_1_first_40_draws": draws},
                                      indent=1) + "\n")


if __name__ == "__main__":
    pin(" ".join(sys.argv[1:]) or sys.exit("give the reason for the new pin"))

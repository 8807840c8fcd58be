"""The shipped HCC analysis gives the numbers it gave before the model layer became
generic (markov 0.1.0, commit d7ff9d5): every cost by category, life-year and QALY of the
base case, by state too, and the first 40 PSA draws of seed 1, to 1e-9 relative. A change
of the HCC evidence or structure must update ``data/hcc_pinned_results.json`` on purpose.

The base case has stayed as pinned at d7ff9d5. The PSA draws change whenever the inputs'
distributions do (a new uncertain input, a joint distribution, an input no longer drawn):
then, and only on purpose, rewrite the PSA part alone with

    python tests/models/test_hcc_pinned.py --regenerate-psa "why the draws changed"

(:func:`regenerate_psa`), which leaves the base case as it is, and say so in the commit.
"""
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
PSA_KEY = "psa_seed_1_first_40_draws"


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
        expected = PINNED[PSA_KEY][f"{result.population}:{result.strategy}"]
        np.testing.assert_allclose(result.total_cost, expected["cost"], rtol=RTOL)
        np.testing.assert_allclose(result.life_years.sum(axis=1), expected["life_years"], rtol=RTOL)
        np.testing.assert_allclose(result.qalys.sum(axis=1), expected["qalys"], rtol=RTOL)


def regenerate_psa(reason: str) -> None:
    """Rewrite the PSA part of the pinned file (the first 40 draws of seed 1) from the
    shipped analysis as it is now, with ``reason`` appended to the file's note; the base
    case part is left exactly as it was (its test must pass before and after)."""
    inputs = load_analysis()
    results = build_model(inputs).evaluate(inputs.sample(40, seed=1), keep_traces=False)
    pinned = json.loads(PINNED_FILE.read_text())
    pinned[PSA_KEY] = {f"{r.population}:{r.strategy}": {"cost": r.total_cost.tolist(),
                                                         "life_years": r.life_years.sum(axis=1).tolist(),
                                                         "qalys": r.qalys.sum(axis=1).tolist()} for r in results}
    pinned["note"] = f"{pinned['note']}. PSA draws regenerated: {reason}"
    PINNED_FILE.write_text(json.dumps(pinned, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--regenerate-psa":
        sys.exit(f"usage: python {sys.argv[0]} --regenerate-psa REASON")
    regenerate_psa(sys.argv[2])

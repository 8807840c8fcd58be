"""The shipped HCC analysis gives the numbers pinned in ``data/hcc_pinned_results.json``
(first by markov 0.1.0, commit d7ff9d5; its note says what changed them since): every cost
by category, life-year and QALY of the base case, by state too, and the first 40 PSA draws
of seed 1, to 1e-9 relative. A change of the HCC evidence or structure must update the file
on purpose: ``python tests/models/regenerate_hcc_pinned.py --note "what and why"``, which
prints each strategy's numbers before and after for the commit message."""
import json
from pathlib import Path

import numpy as np
import pytest

from markov.inputs import load_analysis
from markov.models import build_model, results_table

PINNED = json.loads((Path(__file__).parent / "data" / "hcc_pinned_results.json").read_text())
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

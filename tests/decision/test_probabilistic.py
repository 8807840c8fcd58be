"""A PSA's EVPPI: the samples it uses, by default from the time budget."""
import pytest

from markov.decision import probabilistic as decide
from markov.decision import voi
from markov.decision.gsa import groups_by_source
from markov.inputs import load_analysis
from markov.probabilistic.psa import run_psa


@pytest.fixture(scope="module")
def inputs():
    return load_analysis()


def test_default_sample_size_is_every_draw_within_the_budget(inputs):
    # the base case: 42 uncertain inputs, 9 sources with several, 2 populations of 3 strategies
    groups = [members for members in groups_by_source(inputs).values() if len(members) > 1]
    sizes = [1] * len(inputs.uncertain) + [len(members) for members in groups]
    regressions = sum(len(population.strategies) - 1 for population in inputs.populations.values())
    assert decide.evppi_sample_size(inputs, 10_000) == 10_000
    many = decide.evppi_sample_size(inputs, 10_000_000)
    assert many == voi.evppi_sample_size(10_000_000, sizes, regressions) < 10_000_000
    assert voi.evppi_seconds(many, sizes, regressions) <= voi.EVPPI_TIME_BUDGET
    assert decide.evppi_sample_size(inputs, 10_000_000, budget=2 * voi.EVPPI_TIME_BUDGET) > many


def test_evppi_uses_the_first_samples_asked_for(inputs):
    psa = run_psa(inputs, 80, seed=3)
    population = psa.populations[0]
    table = decide.evppi(psa, population, 100_000.0, samples=60)
    assert (table["samples"] == 60).all() and (table["n_samples"] == 60).all()
    assert {"evppi", "standard_error"} <= set(table.columns) and (table["standard_error"] >= 0).all()
    first = voi.evppi_table(psa.net_benefit(population, 100_000.0)[:60], psa.parameters[:60])
    assert table.set_index("parameter")["evppi"].to_dict() == first.set_index("parameter")["evppi"].to_dict()
    assert (decide.evppi(psa, population, 100_000.0)["n_samples"] == 80).all()  # default: every sample held


def test_frontier_from_the_acceptability_table_already_computed(inputs):
    psa = run_psa(inputs, 40, seed=2)
    population = psa.populations[1]
    grid = [0.0, 50_000.0, 100_000.0, 150_000.0]
    ceac = decide.acceptability(psa, population, grid)
    assert decide.frontier(psa, population, grid, ceac).equals(decide.frontier(psa, population, grid))

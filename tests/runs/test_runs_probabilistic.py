"""What markov/runs/probabilistic.py writes from a PSA (figures built in markov/runs/figures.py): the figures of one population agree on each strategy's colour."""
import pytest
import yaml

from markov.runs import figures
from markov.runs import probabilistic as run
from markov.inputs import load_analysis
from markov.probabilistic.psa import run_psa


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The shipped model on a coarse grid (monthly cycles, 10 years) to keep runs short."""
    path = tmp_path_factory.mktemp("analysis") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    return load_analysis(path)


def test_ce_plane_ceac_and_convergence_get_one_colour_per_strategy_in_every_population(small, tmp_path, monkeypatch):
    # the figures draw a strategy in the colour the mapping gives it (tests/plots/test_plots_style.py),
    # so it is enough that every figure of a population gets the same mapping, covering all its strategies
    given: dict[str, list] = {}

    def recording(name, draw):
        def keep(*args, **kwargs):
            given.setdefault(name, []).append(kwargs.get("colours"))
            return draw(*args, **kwargs)
        return keep

    for name in ("plot_ce_plane", "plot_acceptability", "plot_convergence"):
        monkeypatch.setattr(figures, name, recording(name, getattr(figures, name)))
    psa = run_psa(small, 60, seed=2)
    run.write_psa(psa, small, tmp_path, evppi=False)
    for k, population in enumerate(psa.populations):
        labels = psa.strategy_labels(population)
        plane, ceac, convergence = (given[name][k] for name in ("plot_ce_plane", "plot_acceptability",
                                                                 "plot_convergence"))
        assert plane == ceac == convergence
        # one mapping for the whole analysis: every strategy of every population, each its own colour
        assert set(labels) <= set(plane) and len(set(plane.values())) == len(plane)
        assert plane == given["plot_ce_plane"][0]

"""The figures of one analysis, as the Python API returns them, agree with each other and
speak to a reviewer: each strategy has one colour in every figure of every population,
and no text (title, axis label, tick label, legend, note) holds an underscore or an
evidence key."""
import matplotlib.pyplot as plt
import pytest
import yaml
from matplotlib.colors import to_hex
from matplotlib.text import Text

import markov
from markov.decision.voi import MIN_EVPPI_SAMPLES


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Every figure of the base case, a PSA and the DSA of each population (a coarse grid)."""
    path = tmp_path_factory.mktemp("figures") / "small.yaml"
    path.write_text(yaml.safe_dump({"name": "small", "cycle_length_days": 30.4375, "horizon_years": 10}))
    analysis = markov.load(path)
    base, psa, dsa = analysis.base_case(), analysis.psa(MIN_EVPPI_SAMPLES, seed=3), analysis.dsa()
    drawn = {}
    plt.rcParams["figure.max_open_warning"] = 0  # every figure is held open on purpose, to be compared
    for population in analysis.populations:
        drawn |= {(population, "occupancy"): base.plot_occupancy(population),
                  (population, "survival"): base.plot_survival(population),
                  (population, "ce_plane"): psa.plot_ce_plane(population),
                  (population, "ceac"): psa.plot_ceac(population),
                  (population, "evpi"): psa.plot_evpi(population),
                  (population, "evppi"): psa.plot_evppi(population),
                  (population, "convergence"): psa.plot_convergence(population),
                  (population, "tornado"): dsa.plot_tornado(population)}
    yield analysis, drawn
    plt.close("all")
    plt.rcParams["figure.max_open_warning"] = plt.rcParamsDefault["figure.max_open_warning"]


def _legend_colours(figure) -> dict[str, str]:
    legends = [*figure.legends, *(axis.get_legend() for axis in figure.axes if axis.get_legend())]
    colours = {}
    for legend in legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
            colours[text.get_text()] = to_hex(colour)
    return colours


def test_each_strategy_has_one_colour_in_every_figure(figures):
    analysis, drawn = figures
    labels = set(analysis.strategies()["label"])
    seen: dict[str, set] = {}
    for (population, name), figure in drawn.items():
        if name in ("ce_plane", "ceac", "convergence"):
            for text, colour in _legend_colours(figure).items():
                if text in labels:
                    seen.setdefault(text, set()).add((colour, f"{population} {name}"))
    assert set(seen) == labels  # every strategy is in some figure (the comparator of both populations too)
    for label, found in seen.items():
        assert len({colour for colour, _ in found}) == 1, (label, sorted(found))


def test_no_figure_text_holds_an_underscore_or_an_evidence_key(figures):
    analysis, drawn = figures
    references = set(analysis.inputs.references)
    keys = references | {ref.partition(".")[0] for ref in references} | {ref.partition(".")[2] for ref in references}
    keys = {key for key in keys if "_" in key}  # "assumptions" is also a word
    for (population, name), figure in drawn.items():
        texts = [text.get_text() for text in figure.findobj(Text) if text.get_visible() and text.get_text()]
        assert texts, (population, name)
        for text in texts:
            assert "_" not in text, (population, name, text)
            assert not any(key in text for key in keys), (population, name, text)

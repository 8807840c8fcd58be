"""CE plane, acceptability curves and convergence: labelled, named, saved, and strict about their input."""
import numpy as np
import pandas as pd
import pytest
from figure_helpers import STRATEGIES, all_texts, decision_tables, legend_labels, psa_samples, save_all

from markov._validate import InputError
from markov.plots import plot_acceptability, plot_ce_plane, plot_convergence, save_figure

# --- CE plane ---------------------------------------------------------------------------------

def test_ce_plane_is_labelled_and_saved(tmp_path):
    effects, costs = psa_samples()
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES}
    figure = plot_ce_plane(d_cost, d_effect, comparator="BSC", wtp=150_000, title="CE plane")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Incremental QALYs vs BSC"
    assert axis.get_ylabel() == "Incremental cost (USD)"
    legend = legend_labels(figure)
    assert legend[:3] == STRATEGIES[1:]  # the comparator is the origin, not a cloud
    assert "Mean of PSA samples" in legend and "WTP $150,000 per QALY" in legend
    assert axis.yaxis.get_major_formatter().format_ticks([0, 50_000, 100_000]) == ["0", "50,000", "100,000"]
    assert all(c.get_rasterized() for c in axis.collections if len(c.get_offsets()) > 100)
    save_all(figure, tmp_path, "ce_plane")


def test_ce_plane_with_10000_samples_keeps_vector_files_small(tmp_path):
    effects, costs = psa_samples(10_000)
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES[1:]}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES[1:]}
    figure = plot_ce_plane(d_cost, d_effect, comparator="BSC", wtp=100_000, effect_unit="life-years")
    assert figure.axes[0].get_xlabel() == "Incremental life-years vs BSC"
    assert "WTP $100,000 per life-year" in legend_labels(figure)
    png, svg, pdf = save_figure(figure, tmp_path / "ce_plane_10000", "png,svg,pdf")
    assert svg.stat().st_size < 1_500_000 and pdf.stat().st_size < 1_000_000  # 30,000 vector markers: ~10 MB


def test_ce_plane_of_some_samples_marks_the_mean_of_all():
    effects, costs = psa_samples()
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES[1:]}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES[1:]}
    means = {s: (float(d_effect[s].mean()) + 0.5, float(d_cost[s].mean()) + 1000.0) for s in STRATEGIES[1:]}
    figure = plot_ce_plane({s: v[:50] for s, v in d_cost.items()}, {s: v[:50] for s, v in d_effect.items()},
                           comparator="BSC", means=means)
    markers = [tuple(c.get_offsets()[0]) for c in figure.axes[0].collections if len(c.get_offsets()) == 1]
    assert markers == [pytest.approx(means[s]) for s in STRATEGIES[1:]]
    assert "Mean of all PSA samples" in legend_labels(figure)


def test_ce_plane_rejects_bad_input():
    cost, effect = {"A": np.ones(10)}, {"A": np.ones(10)}
    with pytest.raises(InputError, match=r"strategies \['B'\]"):
        plot_ce_plane(cost, {**effect, "B": np.ones(10)}, comparator="BSC")
    with pytest.raises(InputError, match=r"incremental_costs\['A'\] has 10 samples.*9"):
        plot_ce_plane(cost, {"A": np.ones(9)}, comparator="BSC")
    with pytest.raises(InputError, match=r"incremental_effects\['A'\]"):
        plot_ce_plane(cost, {"A": np.r_[np.ones(9), np.nan]}, comparator="BSC")
    with pytest.raises(InputError, match="no strategy other than the comparator"):
        plot_ce_plane({"BSC": np.zeros(3)}, {"BSC": np.zeros(3)}, comparator="BSC")


# --- CEAC, EVPI, EVPPI, convergence --------------------------------------------------------------

def test_acceptability_curves_with_frontier_and_thresholds(tmp_path):
    ceac, ceaf, _ = decision_tables()
    assert ceaf["strategy"].nunique() > 1  # the frontier changes strategy in this example
    figure = plot_acceptability(ceac, ceaf, thresholds={"NICE upper": 30_000, "US benchmark": 150_000})
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Willingness to pay (USD per QALY)"
    assert axis.get_ylabel() == "Probability cost-effective" and axis.get_ylim()[0] < 0 < 1 < axis.get_ylim()[1]
    legend = legend_labels(figure)
    assert legend[:4] == STRATEGIES
    assert any(text.startswith("Frontier (CEAF)") for text in legend) and "Change of optimal strategy" in legend
    texts = all_texts(figure)
    assert "NICE upper\n$30,000/QALY" in texts and "US benchmark\n$150,000/QALY" in texts and "300,000" in texts
    save_all(figure, tmp_path, "ceac")
    without = plot_acceptability(ceac, currency="GBP", effect_unit="LY")
    assert without.axes[0].get_xlabel() == "Willingness to pay (GBP per LY)" and legend_labels(without) == STRATEGIES


def test_acceptability_rejects_bad_input():
    ceac, ceaf, _ = decision_tables(200)
    with pytest.raises(InputError, match=r"ceac\['Sorafenib'\] is 1.5.*must lie in \[0.0, 1.0\]"):
        plot_acceptability(ceac.assign(Sorafenib=1.5))
    with pytest.raises(InputError, match=r"frontier: missing column\(s\) \['probability_cost_effective'\]"):
        plot_acceptability(ceac, ceaf.drop(columns="probability_cost_effective"))
    with pytest.raises(InputError, match=r"frontier\['strategy'\]: \['Drug X'\] are not columns of ceac"):
        plot_acceptability(ceac, ceaf.assign(strategy="Drug X"))
    with pytest.raises(InputError, match="ceac: is a dict"):
        plot_acceptability({"A": [0.5]})


def test_convergence_one_line_and_band_per_comparison(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for comparison, mean in [("Sorafenib vs BSC", -12_000.0), ("Atezolizumab + bevacizumab vs BSC", -40_000.0)]:
        draws = mean + 30_000 * rng.normal(size=2_000)
        n = np.arange(1, 2_001)
        running = np.cumsum(draws) / n
        half = 1.96 * 30_000 / np.sqrt(n)
        rows.append(pd.DataFrame({"n": n, "comparison": comparison, "mean": running,
                                  "lower": running - half, "upper": running + half}).iloc[49::50])
    table = pd.concat(rows)
    figure = plot_convergence(table, ylabel="Incremental NMB (USD)")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Number of PSA samples" and axis.get_ylabel() == "Incremental NMB (USD)"
    assert legend_labels(figure) == ["Sorafenib vs BSC", "Atezolizumab + bevacizumab vs BSC",
                               "Shaded: 95% Monte Carlo interval"]
    assert len(axis.collections) == 2  # one band each
    save_all(figure, tmp_path, "convergence")
    with pytest.raises(InputError, match="need lower <= mean <= upper"):
        plot_convergence(table.assign(lower=table["upper"] + 1), ylabel="NMB")
    with pytest.raises(InputError, match=r"missing column\(s\) \['upper'\]"):
        plot_convergence(table.drop(columns="upper"), ylabel="NMB")

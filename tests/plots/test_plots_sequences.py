"""The figures of a search over treatment sequences (markov/plots/sequences.py)."""
import pandas as pd
from figure_helpers import all_texts, legend_labels

from markov.plots.sequences import plot_sequence_frontier


def test_frontier_spans_the_strategies_names_them_in_a_key_and_draws_the_thresholds():
    table = pd.DataFrame({
        "label": ["a → BSC", "a → b → BSC", "c → b → BSC", "c → BSC"], "role": ["sequence"] * 3 + ["usual care"],
        "first_line": ["a", "a", "c", "c"], "cost": [100_000.0, 150_000.0, 300_000.0, 200_000.0],
        "qalys": [0.85, 1.05, 1.10, 0.95], "status": ["reference", "frontier", "frontier", "dominated"],
        "icer": [float("nan"), 250_000.0, 3_000_000.0, float("nan")]})
    figure = plot_sequence_frontier(table, wtp=[150_000, 100_000], note="Means of 100 draws.")
    axis = figure.axes[0]
    low, high = axis.get_xlim()
    assert low < 0.85 and high > 1.10 and high - 1.10 < 0.1 * (1.10 - 0.85)  # no empty space beside the points
    texts = all_texts(figure)
    assert "1. a → BSC (reference)" in texts and "3. c → b → BSC (ICER $3,000,000/QALY)" in texts
    assert [t.get_text() for t in axis.texts] == ["1", "2", "3"]  # the frontier numbered on the plane
    assert {"$100,000/QALY from 1", "$150,000/QALY from 1"} <= set(legend_labels(figure))

"""The forest plot of a network meta-analysis: one row per trial and model under each
treatment's heading, the estimates printed beside, in every format; bad tables refused."""
import pandas as pd
import pytest
from figure_helpers import all_texts, legend_labels, save_all

from markov import InputError
from markov.plots import plot_forest
from markov.survival.synthesis import TrialContrasts, fit_network


def forest_table() -> pd.DataFrame:
    trials = [TrialContrasts("A1", "a", ("b",), [-0.3], [[0.02]]), TrialContrasts("A2", "a", ("b",), [-0.1], [[0.03]]),
              TrialContrasts("C1", "c", ("a",), [0.2], [[0.05]])]
    return fit_network(trials, reference="a").forest_table()


def test_a_forest_plot_shows_trials_and_both_models(tmp_path):
    table = forest_table()
    assert list(table["label"]) == ["A1", "A2", "network, fixed effect", "network, random effects", "C1",
                                    "network, fixed effect", "network, random effects"]
    c1 = table.iloc[4]
    assert c1["hr"] == pytest.approx(1 / 1.2214027581601699, rel=1e-12)  # trial C1's c vs a, turned round
    figure = plot_forest(table, reference="A", labels={"b": "Treatment B"}, title="OS", footnote="Q = 1.6 on 1 df")
    axis = figure.axes[0]
    assert axis.get_xscale() == "log" and axis.get_xlabel() == "Hazard ratio against A (log scale)"
    ticks = [t.get_text() for t in axis.get_yticklabels()]
    assert ticks[0] == "Treatment B" and ticks[5] == "c" and len(ticks) == 9
    texts = all_texts(figure)
    assert f"{c1['hr']:.2f} ({c1['lower']:.2f} to {c1['upper']:.2f})" in texts and "Q = 1.6 on 1 df" in texts
    assert legend_labels(figure) == ["Trial (direct)", "Network, fixed effect", "Network, random effects"]
    save_all(figure, tmp_path, "forest")


@pytest.mark.parametrize("change, rule", [
    (lambda t: t.drop(columns="kind"), "missing column"),
    (lambda t: t.assign(kind="bayesian"), "'bayesian' is not one of"),
    (lambda t: t.assign(hr=-1.0), "must lie in"),
])
def test_bad_tables_are_refused(change, rule):
    with pytest.raises(InputError, match=rule):
        plot_forest(change(forest_table()), reference="A")

"""The figure of a model's overall survival against trial data (markov.plots.plot_model_vs_data):
a panel per strategy with the Kaplan–Meier step curve, its band, numbers at risk, the
model's curve and the reported points; written as PNG, SVG and PDF with labelled axes."""
import numpy as np
import pandas as pd
import pytest
from figure_helpers import all_texts, legend_labels, save_all

from markov.models.validation import compare_with_kaplan_meier, summarise_comparison
from markov.plots import plot_model_vs_data
from markov.survival import KaplanMeier

MONTHS = np.linspace(0, 120, 1201)


def arm(seed: int, rate: float) -> KaplanMeier:
    rng = np.random.default_rng(seed)
    death, censoring = rng.exponential(1 / rate, 200), rng.uniform(6, 30, 200)
    return KaplanMeier.fit(np.minimum(death, censoring), (death <= censoring).astype(float), time_unit="months")


def inputs(labels: list[str]) -> tuple[dict, dict, pd.DataFrame]:
    """Model curves, Kaplan–Meier estimates and the summary rows of ``labels``."""
    models, estimates, rows = {}, {}, []
    for i, label in enumerate(labels):
        km, model = arm(i, 0.04 + 0.02 * i), np.exp(-(0.05 + 0.02 * i) * MONTHS)
        follow_up = float(km.times[km.n_events > 0][-1])
        points = compare_with_kaplan_meier(km, MONTHS, model, follow_up)
        rows.append({"label": label, "data_file": "ipd/trial.csv", "arm": f"arm{i}",
                     **summarise_comparison(points, km, MONTHS, model)})
        models[label], estimates[label] = model, km
    return models, estimates, pd.DataFrame(rows)


TARGETS = pd.DataFrame([
    {"label": "Atezo-Bev", "outcome": "OS", "time_months": 19.2, "survival": 0.5, "reported_low": 17.0,
     "reported_high": 23.7, "reported_ci_low": np.nan, "reported_ci_high": np.nan},
    {"label": "Atezo-Bev", "outcome": "OS", "time_months": 12.0, "survival": 0.67, "reported_low": np.nan,
     "reported_high": np.nan, "reported_ci_low": 0.61, "reported_ci_high": 0.73},
    {"label": "Atezo-Bev", "outcome": "PFS", "time_months": 6.9, "survival": 0.5, "reported_low": np.nan,
     "reported_high": np.nan, "reported_ci_low": np.nan, "reported_ci_high": np.nan}])


@pytest.mark.parametrize("labels", [["Atezo-Bev"], ["Atezo-Bev", "Sorafenib", "Lenvatinib"]])
def test_a_panel_per_strategy_with_labelled_axes_written_in_every_format(labels, tmp_path):
    models, estimates, summary = inputs(labels)
    figure = plot_model_vs_data(MONTHS, models, estimates, summary, TARGETS, title="Test population")
    written = save_all(figure, tmp_path, "model_vs_data")
    assert all(path.stat().st_size > 1000 for path in written)
    panels = [ax for ax in figure.axes if ax.get_title() in labels]
    assert [ax.get_title() for ax in panels] == labels
    assert panels[0].get_ylabel() == "Overall survival"
    assert sum(ax.get_xlabel() == "Months since randomisation" for ax in figure.axes) == min(len(labels), 2)
    assert figure.get_suptitle() == "Test population"
    assert set(legend_labels(figure)) == {"Kaplan–Meier (trial data)", "95% CI (log-log)", "Censored",
                                          "Model OS (base case)", "Reported OS (median, landmark)",
                                          "End of follow-up compared"}
    texts = all_texts(figure)
    assert texts.count("Number at risk") == len(labels)
    assert "\n200\n" in f"\n{texts}\n"  # everyone at risk at 0
    share = summary.iloc[0]["share_inside_ci"]
    assert f"Model inside the 95% CI: {share:.0%} of follow-up" in texts
    # the x axis reaches the reported median's upper limit (23.7 months), beyond the data
    assert panels[0].get_xlim()[1] >= 23.7


def test_reported_progression_free_points_are_left_out():
    models, estimates, summary = inputs(["Atezo-Bev"])
    figure = plot_model_vs_data(MONTHS, models, estimates, summary, TARGETS)
    panel = next(ax for ax in figure.axes if ax.get_title() == "Atezo-Bev")
    points = [line for line in panel.get_lines() if line.get_marker() == "D"]
    assert sorted(float(line.get_xdata()[0]) for line in points) == [12.0, 19.2]  # the OS median and landmark
    assert figure.get_suptitle() == "Model overall survival against trial data"

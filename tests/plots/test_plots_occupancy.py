"""The state-occupancy figure (markov/plots/model.py): the time axis in years reaches the
horizon, compressed after 95% of every cohort has died, as its note says."""
import numpy as np
from figure_helpers import all_texts, save_all

from markov.plots import plot_state_occupancy

STATES = ["first_line_on_treatment", "first_line_off_treatment", "second_line_sorafenib_on_treatment",
          "best_supportive_care", "dead"]


def _cohort(times_months, rate):
    """A cohort moving down the states at ``rate`` a month, dead as the last column."""
    alive = np.exp(-rate * times_months)
    shares = np.column_stack([0.4 * alive, 0.2 * alive, np.zeros_like(alive), 0.4 * alive, 1 - alive])
    return shares


def test_time_axis_reaches_the_horizon_compressed_after_most_have_died(tmp_path):
    months = np.arange(0, 20 * 12 + 0.5, 12 / 52)  # weekly, 20 years
    figure = plot_state_occupancy(months, {"A": _cohort(months, 0.06), "B": _cohort(months, 0.025)},
                                  {"A": STATES, "B": STATES})
    axis = figure.axes[0]
    assert axis.get_xscale() == "function" and axis.get_xlim() == (0, months[-1] / 12)
    assert [label.get_text() for label in axis.get_xticklabels()] == ["0", "2", "4", "6", "8", "10", "15", "20"]
    # B: 95% dead at ln(20)/0.025 = 120 months, 10 years, which take 3/4 of the width; 99.9% not in 20 years
    assert np.isclose(axis.transAxes.inverted().transform(axis.transData.transform((10, 0)))[0], 0.75)
    texts = all_texts(figure).replace("\n", " ")
    assert "compressed after 10 years (dashed line), when 95% of every cohort has died" in texts
    assert "runs on to 20 years, the time horizon" in texts
    # both cohorts faster: 95% dead by 7 years (ln 20/0.04 = 75 months), 99.9% by 15 (ln 1000/0.04 = 173)
    faster = plot_state_occupancy(months, {"A": _cohort(months, 0.06), "B": _cohort(months, 0.04)},
                                  {"A": STATES, "B": STATES})
    assert faster.axes[0].get_xlim() == (0, 15)
    assert [label.get_text() for label in faster.axes[0].get_xticklabels()] == ["0", "2", "4", "7", "10", "15"]
    assert "runs on to 15 years, when 99.9% of every cohort has died" in all_texts(faster).replace("\n", " ")
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert "Second line: sorafenib, on treatment" not in legend  # no one is in it: not drawn
    assert legend[-2:] == ["Best supportive care", "Dead"]
    svg, = [path for path in save_all(figure, tmp_path, "occupancy") if path.suffix == ".svg"]
    assert svg.stat().st_size < 400_000  # the tail drawn no more densely than the axis shows it


def test_a_short_horizon_keeps_a_linear_axis():
    months = np.arange(0, 5 * 12 + 0.5, 1.0)
    figure = plot_state_occupancy(months, {"A": _cohort(months, 0.06)}, {"A": STATES})
    assert figure.axes[0].get_xscale() == "linear" and "compressed" not in all_texts(figure)
    assert figure.axes[0].get_xlim() == (0, 5)

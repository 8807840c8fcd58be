"""The survival figures are produced in every format, with labelled axes and named curves."""
import numpy as np
import pandas as pd
from figure_helpers import save_all

from markov.plots import plot_extrapolation, plot_hazards, plot_log_cumulative_hazard, save_figure
from markov.survival import KaplanMeier, PatientData, fit


def _data(seed, scale=14.0):
    rng = np.random.default_rng(seed)
    true, censor = scale * rng.weibull(1.3, 300), rng.uniform(3, 36, 300)
    return np.minimum(true, censor), (true <= censor).astype(float)


def test_survival_figures_are_labelled_and_saved(tmp_path):
    time, event = _data(1)
    km = KaplanMeier.fit(time, event, time_unit="months")
    weibull = fit("weibull", PatientData(time, event, "months"))
    figure = plot_extrapolation(km, {"Weibull": weibull.curve, "Weibull (PSA)": weibull.sample(50, seed=1)},
                                horizon=120, title="OS")
    main, table = figure.axes
    assert main.get_ylabel() == "Proportion surviving" and table.get_xlabel() == "Time (months)"
    labels = [t.get_text() for t in main.get_legend().get_texts()]
    assert "Weibull" in labels and "Kaplan–Meier" in labels
    at_risk = [t.get_text() for t in table.texts if t.get_text().isdigit()]
    assert at_risk[0] == "300"  # everyone is at risk at time 0
    written = save_figure(figure, tmp_path / "extrapolation", "png,svg,pdf")  # PDF on request
    assert [p.suffix for p in written] == [".png", ".svg", ".pdf"] and all(p.stat().st_size > 0 for p in written)

    hazard = plot_hazards(time, event, {"Weibull": weibull.curve}, time_unit="months", horizon=60)
    assert hazard.axes[0].get_ylabel() == "Hazard (events per patient-month)"
    other_time, other_event = _data(2, scale=20.0)
    loglog = plot_log_cumulative_hazard({"A": km, "B": KaplanMeier.fit(other_time, other_event, time_unit="months")})
    assert [t.get_text() for t in loglog.axes[0].get_legend().get_texts()] == ["A", "B"]


def test_many_candidates_get_their_styles_a_legend_beside_the_axes_and_the_external_points(tmp_path):
    time, event = _data(3)
    km = KaplanMeier.fit(time, event, time_unit="months")
    data = PatientData(time, event, "months")
    curves = {family: fit(family, data).curve for family in ("exp", "weibull", "gompertz", "llogis", "lnorm", "gamma")}
    styles = {"lnorm": {"color": "#123456", "linewidth": 2.6, "linestyle": "--"}}
    reported = pd.DataFrame({"label": ["Later cut", "Other trial", "Other trial"], "time": [15.0, 36.0, 60.0],
                             "survival": [0.5, 0.2, 0.1], "time_low": [13.0, np.nan, np.nan],
                             "time_high": [18.0, np.nan, np.nan], "survival_low": [np.nan, 0.15, np.nan],
                             "survival_high": [np.nan, 0.25, np.nan]})
    figure = plot_extrapolation(km, curves, horizon=120, styles=styles, reported=reported, title="OS")
    main, table = figure.axes
    line = next(line for line in main.get_lines() if line.get_label() == "lnorm")
    assert (line.get_color(), line.get_linewidth(), line.get_linestyle()) == ("#123456", 2.6, "--")
    # 3 + 6 curves + 2 sources of external points: the legend stands beside the axes, hiding no data
    legend = main.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[-2:] == ["Later cut", "Other trial"] and len(labels) == 11
    figure.canvas.draw()
    assert legend.get_window_extent().x0 >= main.get_window_extent().x1
    # the median's interval is horizontal, the landmark's vertical
    later, other = (c.lines[2] for c in main.containers if c.get_label() in ("Later cut", "Other trial"))
    np.testing.assert_allclose(later[0].get_segments()[0], [[13.0, 0.5], [18.0, 0.5]])  # (x errors, y errors)
    np.testing.assert_allclose(other[1].get_segments()[0], [[36.0, 0.15], [36.0, 0.25]])
    assert "Number at risk" in [t.get_text() for t in table.texts]
    hazards = plot_hazards(time, event, curves, time_unit="months", horizon=60, styles=styles)
    assert next(line for line in hazards.axes[0].get_lines() if line.get_label() == "lnorm").get_color() == "#123456"
    save_all(figure, tmp_path, "many")


def test_numbers_at_risk_stand_under_the_time_ticks_and_a_row_of_one_is_left_out():
    time, event = _data(4)
    km = KaplanMeier.fit(time, event, time_unit="months")
    curve = fit("weibull", PatientData(time, event, "months")).curve
    figure = plot_extrapolation(km, {"Weibull": curve}, horizon=36)
    _, table = figure.axes
    ticks = list(table.get_xticks())
    assert ticks == [0, 6, 12, 18, 24, 30, 36]  # months by half-years
    numbers = {t.get_position()[0]: int(t.get_text()) for t in table.texts if t.get_text().isdigit()}
    shown = [tick for tick in ticks if tick <= km.times[-1]]
    assert list(numbers) == shown  # one number under each tick within follow-up
    assert list(numbers.values()) == [int(n) for n in km.n_at_risk_at(shown)]
    number_row = min(t.get_window_extent().y1 for t in table.texts if t.get_text().isdigit())
    label = next(t for t in table.texts if t.get_text() == "Number at risk").get_window_extent()
    assert label.y0 > number_row  # the label above its row, never in it
    # to 20 years, only time 0 falls within follow-up: no row of one number, the time axis on the plot
    long = plot_extrapolation(km, {"Weibull": curve}, horizon=240)
    assert len(long.axes) == 1 and long.axes[0].get_xlabel() == "Time (months)"
    assert list(long.axes[0].get_xticks()) == [0, 60, 120, 180, 240]
    loglog = plot_log_cumulative_hazard({"A": km})
    loglog.canvas.draw()
    assert {t.get_text() for t in loglog.axes[0].get_xticklabels()} >= {"1", "10"}

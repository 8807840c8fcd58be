"""The survival figures are produced in every format, with labelled axes and named curves."""
import numpy as np

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
    written = save_figure(figure, tmp_path / "extrapolation")
    assert [p.suffix for p in written] == [".png", ".svg", ".pdf"] and all(p.stat().st_size > 0 for p in written)

    hazard = plot_hazards(time, event, {"Weibull": weibull.curve}, time_unit="months", horizon=60)
    assert hazard.axes[0].get_ylabel() == "Hazard (events per patient-month)"
    other_time, other_event = _data(2, scale=20.0)
    loglog = plot_log_cumulative_hazard({"A": km, "B": KaplanMeier.fit(other_time, other_event, time_unit="months")})
    assert [t.get_text() for t in loglog.axes[0].get_legend().get_texts()] == ["A", "B"]

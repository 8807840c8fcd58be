"""Tornado, two-way and global-sensitivity figures: labelled, named, saved, and strict about their input."""
import numpy as np
import pandas as pd
import pytest
from figure_helpers import STRATEGIES, all_texts, legend_labels, save_all
from matplotlib.patches import Rectangle

from markov._validate import InputError
from markov.plots import plot_moment_independent, plot_morris, plot_sensitivity_indices, plot_tornado, plot_two_way

# --- tornado ----------------------------------------------------------------------------------

def _tornado_table():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(18):
        swing = 80_000 / (i + 1)
        rows.append([f"Input {i:02d} with a fairly long descriptive label for wrapping", f"{0.5 + i / 100:.2f}",
                     f"{0.8 + i / 100:.2f}", 150_000 - swing * rng.uniform(0.4, 1), 150_000 + swing, "", ""])
    rows[2][4], rows[2][6] = np.nan, "dominated"  # high value: intervention dominated
    rows[6][3], rows[6][5] = np.nan, "dominant"
    rows[4][3], rows[4][5] = 90_000.0, "SW quadrant"
    return pd.DataFrame(rows, columns=["parameter", "low_input", "high_input", "outcome_low", "outcome_high",
                                       "note_low", "note_high"])


def test_tornado_sorted_by_swing_with_notes_and_hidden_rows(tmp_path):
    table = _tornado_table()
    figure = plot_tornado(table, base=150_000, outcome_label="ICER (USD per QALY)", title="One-way")
    axis = figure.axes[0]
    labels = [t.get_text().replace("\n", " ") for t in axis.get_yticklabels()]
    swing = (table["outcome_high"] - table["outcome_low"]).abs().fillna(np.inf)  # NaN counts as the largest
    expected = table["parameter"].iloc[np.argsort(-swing.to_numpy(), kind="stable")[:15]].tolist()
    assert labels[2:] == expected[2:] and {labels[0][:8], labels[1][:8]} == {"Input 02", "Input 06"}
    assert axis.get_xlabel() == "ICER (USD per QALY)"
    assert legend_labels(figure)[:2] == ["Input at low value", "Input at high value"]
    texts = all_texts(figure)
    assert "Base case: 150,000" in texts and "3 further inputs with smaller swing not shown." in texts
    assert "0.82: dominated" in texts and "0.56: dominant" in texts and "0.54 (SW quadrant)" in texts
    hatched = [p for p in axis.patches if isinstance(p, Rectangle) and p.get_hatch()]
    left, right = axis.get_xlim()
    assert len(hatched) == 2
    assert sorted(round(p.get_x() + p.get_width()) for p in hatched) == [round(left), round(right)]
    save_all(figure, tmp_path, "tornado")


def test_tornado_missing_outcomes_run_to_the_edge_their_note_gives():
    table = _tornado_table().iloc[:4].copy()
    table.loc[3, ["outcome_low", "note_low"]] = np.nan, "SW quadrant: saves 90,000 per QALY lost"

    def hatched_ends(figure):
        axis = figure.axes[0]
        left, right = axis.get_xlim()
        ends = {p.get_y(): p.get_x() + p.get_width() for p in axis.patches if p.get_hatch()}
        return sorted("left" if np.isclose(end, left) else "right" if np.isclose(end, right) else "inside"
                      for end in ends.values())

    # "dominated" → right (ICER axis); the SW note → away from its finite high end, which is above base
    assert hatched_ends(plot_tornado(table, base=150_000, outcome_label="ICER")) == ["left", "right"]
    flipped = plot_tornado(table, base=150_000, outcome_label="ICER", note_edges={"sw quadrant": "right"})
    assert hatched_ends(flipped) == ["right", "right"]


def test_tornado_rejects_bad_input():
    table = _tornado_table()
    with pytest.raises(InputError, match=r"outcome_high'\] is NaN in row 3 \(Input 03.*note_high is empty"):
        plot_tornado(table.assign(outcome_high=table["outcome_high"].where(table.index != 3)), base=1.0,
                     outcome_label="ICER")
    with pytest.raises(InputError, match=r"missing column\(s\) \['note_low'\]"):
        plot_tornado(table.drop(columns="note_low"), base=1.0, outcome_label="ICER")
    with pytest.raises(InputError, match=r"outcome_low'\] is inf"):
        plot_tornado(table.assign(outcome_low=np.inf), base=1.0, outcome_label="ICER")
    with pytest.raises(InputError, match="base is nan"):
        plot_tornado(table, base=np.nan, outcome_label="ICER")
    with pytest.raises(InputError, match="max_bars is 0"):
        plot_tornado(table, base=1.0, outcome_label="ICER", max_bars=0)


# --- two-way ----------------------------------------------------------------------------------

def _grid():
    x, y = np.linspace(0, 50, 11), np.linspace(0.6, 0.9, 11)
    gx, gy = np.meshgrid(x, y)
    nmb = 150_000 * (0.72 + 0.4 * (gy - 0.75)) - 150_000 * (1 - gx / 100) - 10_000
    return x, y, nmb


def test_two_way_continuous_has_colour_bar_and_break_even(tmp_path):
    x, y, nmb = _grid()
    figure = plot_two_way(x, y, nmb, x_label="Price discount (%)", y_label="Utility, progression-free",
                          z_label="Incremental NMB (USD)", base_point=(0, 0.75))
    axis, colour_bar = figure.axes[:2]
    assert axis.get_xlabel() == "Price discount (%)" and axis.get_ylabel() == "Utility, progression-free"
    assert colour_bar.get_ylabel() == "Incremental NMB (USD)"
    assert legend_labels(figure) == ["Break-even (zero contour)", "Base case"]
    mesh = axis.collections[0]
    assert mesh.norm.vcenter == 0 and mesh.norm.vmin == -mesh.norm.vmax  # diverging, centred at 0
    save_all(figure, tmp_path, "two_way")


def test_two_way_categorical_names_the_strategies(tmp_path):
    x, y, nmb = _grid()
    optimal = np.where(nmb > 0, 3, 0)
    figure = plot_two_way(x, y, optimal, x_label="Price discount (%)", y_label="Utility",
                          z_label="Optimal strategy", categories=STRATEGIES, base_point=(0, 0.75))
    assert legend_labels(figure) == ["BSC", "Atezolizumab + bevacizumab", "Base case"]
    assert figure.legends[0].get_title().get_text() == "Optimal strategy"
    save_all(figure, tmp_path, "two_way_categories")


def test_two_way_rejects_bad_input():
    x, y, nmb = _grid()
    labels = {"x_label": "x", "y_label": "y", "z_label": "z"}
    with pytest.raises(InputError, match=r"z: has shape \(11, 10\), expected .* \(11, 11\)"):
        plot_two_way(x, y, nmb[:, :10], **labels)
    with pytest.raises(InputError, match="x_values: .*strictly increasing"):
        plot_two_way(x[::-1], y, nmb, **labels)
    with pytest.raises(InputError, match=r"z\[0, 0\] is 4.0: with categories"):
        plot_two_way(x, y, np.full((11, 11), 4), categories=STRATEGIES, **labels)


# --- global sensitivity -----------------------------------------------------------------------

def _parameters(n):
    return [f"Parameter {i:02d}" for i in range(n)]


def test_sobol_indices_sorted_by_total_order(tmp_path):
    rng = np.random.default_rng(7)
    st = rng.dirichlet(np.full(24, 0.5)) * 1.1
    table = pd.DataFrame({"parameter": _parameters(24), "S1": st * 0.8, "S1_conf": 0.01 + 0 * st, "ST": st,
                          "ST_conf": 0.02 + 0 * st})
    figure = plot_sensitivity_indices(table, title="Sobol")
    axis = figure.axes[0]
    shown = [t.get_text() for t in axis.get_yticklabels()]
    assert len(shown) == 20 and shown[0] == f"Parameter {int(np.argmax(st)):02d}"
    assert axis.get_xlabel() == "Sobol index (share of output variance)"
    assert legend_labels(figure) == ["Total-order (ST)", "First-order (S1)", "95% CI"]
    texts = all_texts(figure)
    assert "4 further parameters with smaller ST not shown." in texts and "Sum of first-order indices" in texts
    save_all(figure, tmp_path, "sobol")
    with pytest.raises(InputError, match=r"missing column\(s\) \['ST_conf'\]"):
        plot_sensitivity_indices(table.drop(columns="ST_conf"))
    with pytest.raises(InputError, match=r"table\['S1_conf'\] is -0.01 .*must lie in \[0.0, inf\]"):
        plot_sensitivity_indices(table.assign(S1_conf=-0.01))


def test_morris_labels_the_most_influential(tmp_path):
    rng = np.random.default_rng(8)
    mu = np.sort(rng.gamma(0.8, 9_000, 25))[::-1]
    table = pd.DataFrame({"parameter": _parameters(25), "mu_star": mu, "mu_star_conf": 0.1 * mu,
                          "sigma": mu * rng.uniform(0.1, 1.3, 25)})
    figure = plot_morris(table, outcome_label="incremental NMB, USD")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "μ* (mean absolute elementary effect, incremental NMB, USD)"
    assert axis.get_ylabel().startswith("σ")
    named = [t.get_text() for t in axis.texts]
    assert named == _parameters(10)  # largest μ* first
    boxes = [t.get_window_extent() for t in axis.texts]
    overlaps = sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert overlaps == 0
    assert legend_labels(figure) == ["Parameter", "95% CI of μ*", "σ = μ*"]
    save_all(figure, tmp_path, "morris")
    with pytest.raises(InputError, match=r"table\['sigma'\] is -1.0"):
        plot_morris(table.assign(sigma=-1.0), outcome_label="NMB")


def test_moment_independent_delta_and_pawn(tmp_path):
    values = np.linspace(0.4, 0.02, 12)
    table = pd.DataFrame({"parameter": _parameters(12), "value": values[::-1], "conf": 0.1 * values[::-1]})
    figure = plot_moment_independent(table, measure="delta", title="Delta")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Borgonovo δ (moment-independent importance)"
    assert axis.get_yticklabels()[0].get_text() == "Parameter 11"
    assert "Error bars: 95% CI." in all_texts(figure)
    save_all(figure, tmp_path, "delta")
    pawn = plot_moment_independent(table.drop(columns="conf"), measure="PAWN")
    assert pawn.axes[0].get_xlabel() == "PAWN index (Kolmogorov–Smirnov distance)"
    with pytest.raises(InputError, match=r"missing column\(s\) \['value'\]"):
        plot_moment_independent(table.drop(columns="value"), measure="delta")
    with pytest.raises(InputError, match="measure is ''"):
        plot_moment_independent(table, measure="")

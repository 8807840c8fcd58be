"""Decision-uncertainty and sensitivity figures: labelled, named, saved, and strict about their input."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from markov._validate import InputError  # noqa: E402
from markov.plots import (  # noqa: E402
    plot_acceptability,
    plot_ce_plane,
    plot_convergence,
    plot_evpi,
    plot_evppi,
    plot_moment_independent,
    plot_morris,
    plot_sensitivity_indices,
    plot_tornado,
    plot_two_way,
    save_figure,
)

STRATEGIES = ["BSC", "Sorafenib", "Lenvatinib", "Atezolizumab + bevacizumab"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _legend(figure) -> list[str]:
    return [t.get_text().replace("\\$", "$") for legend in figure.legends for t in legend.get_texts()]


def _texts(figure) -> str:
    """Every text drawn on the figure (titles, notes, annotations, tick labels), joined."""
    figure.canvas.draw()
    found = [t.get_text() for t in figure.findobj(matplotlib.text.Text)]
    return "\n".join(found).replace("\\$", "$")


def _saved(figure, tmp_path, name):
    written = save_figure(figure, tmp_path / name)
    assert [p.suffix for p in written] == [".png", ".svg", ".pdf"] and all(p.stat().st_size > 0 for p in written)
    return written


def _psa(n=2_000, seed=1):
    """Costs (USD) and QALYs of four strategies; incremental against BSC."""
    rng = np.random.default_rng(seed)
    effects, costs = {"BSC": 0.9 + rng.normal(0, 0.08, n)}, {"BSC": 30_000 + rng.normal(0, 4_000, n)}
    for name, de, dc in [("Sorafenib", 0.28, 55_000), ("Lenvatinib", 0.34, 62_000),
                         ("Atezolizumab + bevacizumab", 0.72, 150_000)]:
        z = rng.normal(size=n)
        effects[name] = effects["BSC"] + de + 0.15 * z
        costs[name] = costs["BSC"] + dc + 20_000 * (0.5 * z + 0.8 * rng.normal(size=n))
    return effects, costs


def _decision_tables(n=2_000):
    effects, costs = _psa(n)
    e, c = np.column_stack([effects[s] for s in STRATEGIES]), np.column_stack([costs[s] for s in STRATEGIES])
    wtps = np.arange(0, 300_001, 10_000)
    ceac, ceaf, evpi = {}, [], []
    for w in wtps:
        nmb = w * e - c
        best, optimal = nmb.argmax(1), nmb.mean(0).argmax()
        ceac[w] = [(best == j).mean() for j in range(len(STRATEGIES))]
        ceaf.append((w, STRATEGIES[optimal], (best == optimal).mean()))
        evpi.append((w, nmb.max(1).mean() - nmb.mean(0).max()))
    return (pd.DataFrame.from_dict(ceac, orient="index", columns=STRATEGIES),
            pd.DataFrame(ceaf, columns=["wtp", "strategy", "probability_cost_effective"]),
            pd.DataFrame(evpi, columns=["wtp", "evpi"]))


# --- CE plane ---------------------------------------------------------------------------------

def test_ce_plane_is_labelled_and_saved(tmp_path):
    effects, costs = _psa()
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES}
    figure = plot_ce_plane(d_cost, d_effect, comparator="BSC", wtp=150_000, title="CE plane")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Incremental QALYs vs BSC"
    assert axis.get_ylabel() == "Incremental cost (USD)"
    legend = _legend(figure)
    assert legend[:3] == STRATEGIES[1:]  # the comparator is the origin, not a cloud
    assert "Mean of PSA samples" in legend and "WTP $150,000 per QALY" in legend
    assert axis.yaxis.get_major_formatter().format_ticks([0, 50_000, 100_000]) == ["0", "50,000", "100,000"]
    assert all(c.get_rasterized() for c in axis.collections if len(c.get_offsets()) > 100)
    _saved(figure, tmp_path, "ce_plane")


def test_ce_plane_with_10000_samples_keeps_vector_files_small(tmp_path):
    effects, costs = _psa(10_000)
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES[1:]}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES[1:]}
    figure = plot_ce_plane(d_cost, d_effect, comparator="BSC", wtp=100_000, effect_unit="life-years")
    assert figure.axes[0].get_xlabel() == "Incremental life-years vs BSC"
    assert "WTP $100,000 per life-year" in _legend(figure)
    png, svg, pdf = _saved(figure, tmp_path, "ce_plane_10000")
    assert svg.stat().st_size < 1_500_000 and pdf.stat().st_size < 1_000_000  # 30,000 vector markers: ~10 MB


def test_ce_plane_of_some_samples_marks_the_mean_of_all():
    effects, costs = _psa()
    d_cost = {s: costs[s] - costs["BSC"] for s in STRATEGIES[1:]}
    d_effect = {s: effects[s] - effects["BSC"] for s in STRATEGIES[1:]}
    means = {s: (float(d_effect[s].mean()) + 0.5, float(d_cost[s].mean()) + 1000.0) for s in STRATEGIES[1:]}
    figure = plot_ce_plane({s: v[:50] for s, v in d_cost.items()}, {s: v[:50] for s, v in d_effect.items()},
                           comparator="BSC", means=means)
    markers = [tuple(c.get_offsets()[0]) for c in figure.axes[0].collections if len(c.get_offsets()) == 1]
    assert markers == [pytest.approx(means[s]) for s in STRATEGIES[1:]]
    assert "Mean of all PSA samples" in _legend(figure)


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
    ceac, ceaf, _ = _decision_tables()
    assert ceaf["strategy"].nunique() > 1  # the frontier changes strategy in this example
    figure = plot_acceptability(ceac, ceaf, thresholds={"NICE upper": 30_000, "US benchmark": 150_000})
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Willingness to pay (USD per QALY)"
    assert axis.get_ylabel() == "Probability cost-effective" and axis.get_ylim()[0] < 0 < 1 < axis.get_ylim()[1]
    legend = _legend(figure)
    assert legend[:4] == STRATEGIES
    assert any(text.startswith("Frontier (CEAF)") for text in legend) and "Change of optimal strategy" in legend
    texts = _texts(figure)
    assert "NICE upper\n$30,000" in texts and "US benchmark\n$150,000" in texts and "300,000" in texts
    _saved(figure, tmp_path, "ceac")
    without = plot_acceptability(ceac, currency="GBP", effect_unit="LY")
    assert without.axes[0].get_xlabel() == "Willingness to pay (GBP per LY)" and _legend(without) == STRATEGIES


def test_acceptability_rejects_bad_input():
    ceac, ceaf, _ = _decision_tables(200)
    with pytest.raises(InputError, match=r"ceac\['Sorafenib'\] is 1.5.*must lie in \[0.0, 1.0\]"):
        plot_acceptability(ceac.assign(Sorafenib=1.5))
    with pytest.raises(InputError, match=r"frontier: missing column\(s\) \['probability_cost_effective'\]"):
        plot_acceptability(ceac, ceaf.drop(columns="probability_cost_effective"))
    with pytest.raises(InputError, match=r"frontier\['strategy'\]: \['Drug X'\] are not columns of ceac"):
        plot_acceptability(ceac, ceaf.assign(strategy="Drug X"))
    with pytest.raises(InputError, match="ceac: is a dict"):
        plot_acceptability({"A": [0.5]})


def test_evpi_per_patient_and_population(tmp_path):
    _, _, evpi = _decision_tables()
    figure = plot_evpi(evpi, thresholds={"US benchmark": 150_000})
    axis = figure.axes[0]
    assert axis.get_ylabel() == "EVPI per patient (USD)"
    assert axis.get_xlabel() == "Willingness to pay (USD per QALY)"
    peak = evpi.loc[evpi["evpi"].idxmax()]
    assert f"Maximum ${peak['evpi']:,.0f} at ${peak['wtp']:,.0f} per QALY" in _legend(figure)
    _saved(figure, tmp_path, "evpi")
    population = plot_evpi(evpi.assign(evpi=evpi["evpi"] * 10_000), population=True, currency="EUR")
    assert population.axes[0].get_ylabel() == "Population EVPI (EUR)" and "Population EVPI" in _legend(population)
    with pytest.raises(InputError, match=r"evpi: missing column\(s\) \['evpi'\]"):
        plot_evpi(evpi.rename(columns={"evpi": "value"}))
    with pytest.raises(InputError, match=r"evpi\['evpi'\] is -5.0 in row 0"):
        plot_evpi(evpi.assign(evpi=-5.0))


def test_evppi_bars_sorted_with_evpi_line_and_method(tmp_path):
    table = pd.DataFrame({"parameter": ["Utility, progression-free", "Hazard ratio OS", "Drug cost", "Discount rate"],
                          "evppi": [2_300.0, 5_600.0, 700.0, 0.0], "method": "gam"})
    figure = plot_evppi(table, evpi=9_000.0, wtp_label="WTP $150,000 per QALY", title="EVPPI")
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_yticklabels()] == ["Hazard ratio OS", "Utility, progression-free",
                                                             "Drug cost", "Discount rate"]
    assert axis.get_xlabel() == "EVPPI per patient (USD), WTP $150,000 per QALY"
    assert _legend(figure) == ["EVPI (all parameters): $9,000"]
    texts = _texts(figure)
    assert "EVPPI by GAM regression (Strong, Oakley & Brennan 2014)." in texts and "$5,600 (62% of EVPI)" in texts
    _saved(figure, tmp_path, "evppi")
    many = pd.concat([table.assign(parameter=table["parameter"] + f" {i}") for i in range(6)], ignore_index=True)
    assert "4 further parameters with smaller EVPPI not shown." in _texts(plot_evppi(many, population=True))
    with pytest.raises(InputError, match=r"table: missing column\(s\) \['evppi'\]"):
        plot_evppi(table.drop(columns="evppi"))
    with pytest.raises(InputError, match=r"table\['parameter'\] is empty in row 1"):
        plot_evppi(table.assign(parameter=["a", None, "c", "d"]))


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
    assert _legend(figure) == ["Sorafenib vs BSC", "Atezolizumab + bevacizumab vs BSC",
                               "Shaded: 95% Monte Carlo interval"]
    assert len(axis.collections) == 2  # one band each
    _saved(figure, tmp_path, "convergence")
    with pytest.raises(InputError, match="need lower <= mean <= upper"):
        plot_convergence(table.assign(lower=table["upper"] + 1), ylabel="NMB")
    with pytest.raises(InputError, match=r"missing column\(s\) \['upper'\]"):
        plot_convergence(table.drop(columns="upper"), ylabel="NMB")


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
    assert _legend(figure)[:2] == ["Input at low value", "Input at high value"]
    texts = _texts(figure)
    assert "Base case: 150,000" in texts and "3 further inputs with smaller swing not shown." in texts
    assert "0.82: dominated" in texts and "0.56: dominant" in texts and "0.54 (SW quadrant)" in texts
    hatched = [p for p in axis.patches if isinstance(p, Rectangle) and p.get_hatch()]
    left, right = axis.get_xlim()
    assert len(hatched) == 2
    assert sorted(round(p.get_x() + p.get_width()) for p in hatched) == [round(left), round(right)]
    _saved(figure, tmp_path, "tornado")


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
    assert _legend(figure) == ["Break-even (zero contour)", "Base case"]
    mesh = axis.collections[0]
    assert mesh.norm.vcenter == 0 and mesh.norm.vmin == -mesh.norm.vmax  # diverging, centred at 0
    _saved(figure, tmp_path, "two_way")


def test_two_way_categorical_names_the_strategies(tmp_path):
    x, y, nmb = _grid()
    optimal = np.where(nmb > 0, 3, 0)
    figure = plot_two_way(x, y, optimal, x_label="Price discount (%)", y_label="Utility",
                          z_label="Optimal strategy", categories=STRATEGIES, base_point=(0, 0.75))
    assert _legend(figure) == ["BSC", "Atezolizumab + bevacizumab", "Base case"]
    assert figure.legends[0].get_title().get_text() == "Optimal strategy"
    _saved(figure, tmp_path, "two_way_categories")


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
    assert _legend(figure) == ["Total-order (ST)", "First-order (S1)", "95% CI"]
    texts = _texts(figure)
    assert "4 further parameters with smaller ST not shown." in texts and "Sum of first-order indices" in texts
    _saved(figure, tmp_path, "sobol")
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
    assert _legend(figure) == ["Parameter", "95% CI of μ*", "σ = μ*"]
    _saved(figure, tmp_path, "morris")
    with pytest.raises(InputError, match=r"table\['sigma'\] is -1.0"):
        plot_morris(table.assign(sigma=-1.0), outcome_label="NMB")


def test_moment_independent_delta_and_pawn(tmp_path):
    values = np.linspace(0.4, 0.02, 12)
    table = pd.DataFrame({"parameter": _parameters(12), "value": values[::-1], "conf": 0.1 * values[::-1]})
    figure = plot_moment_independent(table, measure="delta", title="Delta")
    axis = figure.axes[0]
    assert axis.get_xlabel() == "Borgonovo δ (moment-independent importance)"
    assert axis.get_yticklabels()[0].get_text() == "Parameter 11"
    assert "Error bars: 95% CI." in _texts(figure)
    _saved(figure, tmp_path, "delta")
    pawn = plot_moment_independent(table.drop(columns="conf"), measure="PAWN")
    assert pawn.axes[0].get_xlabel() == "PAWN index (Kolmogorov–Smirnov distance)"
    with pytest.raises(InputError, match=r"missing column\(s\) \['value'\]"):
        plot_moment_independent(table.drop(columns="value"), measure="delta")
    with pytest.raises(InputError, match="measure is ''"):
        plot_moment_independent(table, measure="")

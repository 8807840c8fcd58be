"""The sequencing structure (markov/models/sequencing.py) on the HCC model files, against
independent calculations.

A minimal analysis is built from the shipped model files by overrides pointing at a test
evidence file: in the sorafenib strategy, first-line PFS is exponential with median m1,
a share d1 of PFS events are deaths, best supportive care (BSC) is exponential with
median m2, start age 20 (the general-population floor never binds), no discounting,
and either no second line or one (regorafenib) with share s, exponential PFS median m3
and death share d2.

Closed forms (λ = ln 2 / median, in years): life-years = 1/λ1 + (1 − d1)/λ2, and with
a second line 1/λ1 + (1 − d1)[(1 − s)/λ2 + s(1/λ3 + (1 − d2)/λ2)]. The model's grid is
discrete: with exponential curves it is exactly the Markov chain with per-cycle survival
q = exp(−λΔ) whose progressions enter the next state at the end of the cycle. That chain is
recomputed here with a plain loop (exact comparison), and its difference from the
continuous closed form is the first-order discretisation error, stated per test:
a state entered at the end of a cycle is credited with Δ/2 more than in continuous time,
and the "start" correction adds Δ/2 for the first line too.
"""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import optimize

from markov.decision import cea
from markov.cli import main
from markov.inputs import load_analysis
from markov.models import build_model, model_survival
from markov.probabilistic.psa import read_psa
from markov.runs import run_analysis

DAY = 1.0 / 365.25
MONTH_DAYS = 30.4375
M1, M2, M3 = 6.0, 9.0, 3.0  # months
D1, D2, S = 0.3, 0.25, 0.4
L1, L2, L3 = (math.log(2) / (m / 12) for m in (M1, M2, M3))  # per year
SORAFENIB_PER_DAY = 2 * 2 * 174.0  # 400 mg twice a day from 200 mg tablets at $174 = $696
TERMINAL_CARE = 7360.16  # chiang_2021.terminal_care
FIRST, BSC, DEAD = "first_line", "best_supportive_care", "dead"


def _value(v, unit):
    return {"value": v, "unit": unit, "status": "verified", "where": "test"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hcc")
    (root / "ev").mkdir()
    values = {"m1": _value(M1, "months"), "m2": _value(M2, "months"), "m3": _value(M3, "months"),
              "d1": _value(D1, "proportion"), "d2": _value(D2, "proportion"), "s": _value(S, "proportion"),
              "age": _value(20, "age_years"), "zero": _value(0.0, "rate_per_year")}
    content = {"source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"},
               "values": values}
    (root / "ev" / "t.yaml").write_text(yaml.safe_dump(content))
    return root


def minimal(workdir: Path, *, method="trapezoid", days=1.0, horizon=20.0, second=False):
    first = {"treatment": "sorafenib", "progression_free": "sorafenib_pfs", "pre_progression_death_share": "t.d1"}
    second_line = {"options": [{"treatment": "regorafenib", "share": "t.s", "pre_progression_death_share": "t.d2",
                                "progression_free": "regorafenib_after_sorafenib_pfs"}]}
    strategies = {"sorafenib": {"lines": [first, second_line] if second else [first]}}
    overrides = {
        "populations": {"imbrave150": {
            "start_age": "t.age",
            "curves": {"sorafenib_pfs": {"family": "exp", "median": "t.m1"},
                       "test_bsc_os": {"family": "exp", "median": "t.m2"},
                       "regorafenib_after_sorafenib_pfs": {"family": "exp", "median": "t.m3"}},
            "post_progression_survival": "test_bsc_os",
            "strategies": strategies}},
        # no oral-drug wastage: drug costs here are time on treatment × cost per year (wastage: test_dosing.py)
        "perspectives": {"us_payer": {"discount_rate_costs": "t.zero", "discount_rate_effects": "t.zero",
                                      "oral_wastage": {"method": "none"}}},
    }
    path = workdir / f"minimal_{method}_{days}_{horizon}_{second}.yaml"
    path.write_text(yaml.safe_dump({"name": "minimal", "populations": ["imbrave150"], "cycle_length_days": days,
                                    "horizon_years": horizon, "cycle_correction": method,
                                    "evidence_directories": ["ev"], "overrides": overrides}))
    inputs = load_analysis(path)
    model = build_model(inputs)
    result = {r.strategy: r for r in model.evaluate(inputs.base_case())}["sorafenib"]
    assert result.floored_cycles == 0  # the general-population floor binds nowhere
    return model, result


def markov_chain(n_cycles, step, second=False):
    """The discrete chain, by a plain loop: first line A, second line L, BSC B, dead D."""
    q1, q2, q3 = (math.exp(-rate * step) for rate in (L1, L2, L3))
    s = S if second else 0.0
    A, L, B, D = [1.0], [0.0], [0.0], [0.0]
    for _ in range(n_cycles):
        a, l, b, d = A[-1], L[-1], B[-1], D[-1]
        leave1, leave3, leave2 = a * (1 - q1), l * (1 - q3), b * (1 - q2)
        A.append(a * q1)
        L.append(l * q3 + s * (1 - D1) * leave1)
        B.append(b * q2 + (1 - s) * (1 - D1) * leave1 + (1 - D2) * leave3)
        D.append(d + D1 * leave1 + D2 * leave3 + leave2)
    return {name: np.array(v) for name, v in zip("ALBD", (A, L, B, D))}


def integrate(values, step, method):
    """Δ Σ m(t_c) ("start") or Δ Σ [m(t_c) + m(t_c+1)]/2 ("trapezoid")."""
    if method == "start":
        return step * values[:-1].sum()
    return step * 0.5 * (values[:-1] + values[1:]).sum()


def os_closed_form(t):
    """Hypoexponential mixture: S1(t) + (1 − d1)·∫ f1(u) S2(t − u) du."""
    return math.exp(-L1 * t) + (1 - D1) * L1 / (L1 - L2) * (math.exp(-L2 * t) - math.exp(-L1 * t))


@pytest.mark.verification(
    kind="closed form",
    against="the same discrete chain by a plain loop, and the continuous closed form plus its first-order "
            "grid error",
    tolerance="rel 1e-10; 1e-5 years")
@pytest.mark.parametrize("method", ["start", "trapezoid"])
def test_life_years_match_the_closed_form(workdir, method):
    model, result = minimal(workdir, method=method)
    step = model.grid.cycle_length_years
    assert step == pytest.approx(DAY)
    assert result.trace.state_names == (FIRST, BSC, DEAD)
    life_years = result.life_years[0].sum()

    # exact: the same discrete chain by a plain loop (tolerance: rounding)
    chain = markov_chain(model.grid.n_cycles, step)
    assert life_years == pytest.approx(integrate(chain["A"] + chain["B"], step, method), rel=1e-10)
    by_state = dict(zip(result.trace.state_names, result.life_years[0]))
    assert by_state[FIRST] == pytest.approx(integrate(chain["A"], step, method), rel=1e-10)
    assert by_state[DEAD] == 0.0

    # continuous: m1/ln2 + (1 − d1)·m2/ln2 = 0.7213 + 0.7574 = 1.4788 years (horizon tail < 1e-9).
    # First-order grid error: BSC entered at the end of the cycle of progression, +(1 − d1)Δ/2;
    # with "start" the first line also gains Δ/2. Second-order terms are below 1e-5 years.
    closed = 1 / L1 + (1 - D1) / L2
    assert closed == pytest.approx((M1 + (1 - D1) * M2) / 12 / math.log(2), rel=1e-12)
    error = (1 - D1) * step / 2 + (step / 2 if method == "start" else 0.0)
    assert life_years - closed == pytest.approx(error, abs=1e-5)
    assert abs(life_years - closed) < step  # within one cycle


@pytest.mark.verification(
    kind="closed form",
    against="the OS median of the hypoexponential mixture (422.2 days)",
    tolerance="within one cycle (a day)")
def test_os_median_matches_the_hypoexponential_mixture(workdir):
    model, result = minimal(workdir)
    os_curve, times = model_survival(result)["OS"], model.grid.times_years
    np.testing.assert_allclose(os_curve[0], 1.0)
    i = int(np.nonzero(os_curve <= 0.5)[0][0])
    model_median = times[i - 1] + (os_curve[i - 1] - 0.5) / (os_curve[i - 1] - os_curve[i]) * (times[i] - times[i - 1])
    closed_median = optimize.brentq(lambda t: os_closed_form(t) - 0.5, 0.01, 10.0, xtol=1e-14)
    assert closed_median * 365.25 == pytest.approx(422.2, abs=0.1)  # days
    # deaths from BSC are delayed by less than a cycle (entry counted at the end of the
    # cycle of progression): the model median lies within one day of the closed form
    assert abs(model_median - closed_median) < DAY
    # and at every time point OS lies within (1 − d1)(1 − e^{−λ2 Δ}) ≈ 0.0018 of the closed form
    closed = np.array([os_closed_form(t) for t in times[::30]])
    assert np.max(np.abs(os_curve[::30] - closed)) < (1 - D1) * (1 - math.exp(-L2 * DAY))


def test_first_line_drug_cost_is_daily_cost_times_time_on_treatment(workdir):
    model, result = minimal(workdir)
    step = model.grid.cycle_length_years
    cost = result.costs["first_line_drugs"][0]
    states = result.trace.state_names
    assert cost[states.index(FIRST)] == cost.sum()  # only while on first-line treatment
    # ToT = PFS (exponential, median 6 months): E[ToT] = 0.5 / ln 2 years; $696 a day
    expected = SORAFENIB_PER_DAY * 365.25 * (M1 / 12) / math.log(2)  # = $183,376.64
    assert expected == pytest.approx(183_376.64, abs=0.01)
    # trapezoid on a one-day grid: relative error (λΔ)²/12 = 1.2e-6
    assert cost.sum() == pytest.approx(expected, rel=1e-5)
    chain = markov_chain(model.grid.n_cycles, step)
    assert cost.sum() == pytest.approx(SORAFENIB_PER_DAY * 365.25 * integrate(chain["A"], step, "trapezoid"),
                                       rel=1e-10)
    # no second line here
    assert result.costs["second_line_drugs"].sum() == 0.0


def test_terminal_care_is_price_times_probability_dead_by_the_horizon(workdir):
    model, result = minimal(workdir, horizon=2.0)
    horizon = model.grid.horizon_years
    assert horizon == pytest.approx(731 * DAY)  # the first day point at or beyond 2 years
    chain = markov_chain(model.grid.n_cycles, model.grid.cycle_length_years)
    terminal = result.costs["terminal_care"][0].sum()
    assert terminal == pytest.approx(TERMINAL_CARE * chain["D"][-1], rel=1e-10)
    assert result.trace.state(DEAD)[0, -1] == pytest.approx(chain["D"][-1], rel=1e-10)
    # continuous: P(dead by H) = 1 − S_OS(H) = 0.74; deaths from BSC lag by under a cycle
    dead = 1 - os_closed_form(horizon)
    assert 0.7 < dead < 0.8
    assert abs(terminal - TERMINAL_CARE * dead) < TERMINAL_CARE * (1 - D1) * (1 - math.exp(-L2 * DAY))


def test_second_line_occupancy_integrates_to_its_share_times_its_pfs(workdir):
    model, result = minimal(workdir, second=True)
    step = model.grid.cycle_length_years
    states = result.trace.state_names
    assert states == (FIRST, "second_line", BSC, DEAD)  # a line with one option is one state
    by_state = dict(zip(states, result.life_years[0]))
    chain = markov_chain(model.grid.n_cycles, step, second=True)
    assert by_state["second_line"] == pytest.approx(integrate(chain["L"], step, "trapezoid"), rel=1e-10)
    assert by_state[BSC] == pytest.approx(integrate(chain["B"], step, "trapezoid"), rel=1e-10)
    # s (1 − d1) E[PFS2] = 0.4 × 0.7 × 0.25/ln 2 = 0.10099 years, + s(1 − d1)Δ/2 from entry at cycle end
    closed = S * (1 - D1) / L3
    assert by_state["second_line"] - closed == pytest.approx(S * (1 - D1) * step / 2, abs=1e-6)
    # everyone who starts the second line: s (1 − d1) of the cohort (first-line tail < 1e-12)
    entries = result.trace.entries[0, :, states.index("second_line")].sum()
    assert entries == pytest.approx(S * (1 - D1), rel=1e-9)
    # total life-years: 1/λ1 + (1 − d1)[(1 − s)/λ2 + s(1/λ3 + (1 − d2)/λ2)], + the entry error
    # of each state entered at a cycle end: (1 − d1)Δ/2 + s(1 − d1)(1 − d2)Δ/2
    total = 1 / L1 + (1 - D1) * ((1 - S) / L2 + S * (1 / L3 + (1 - D2) / L2))
    error = (1 - D1) * step / 2 + S * (1 - D1) * (1 - D2) * step / 2
    assert result.life_years[0].sum() - total == pytest.approx(error, abs=1e-5)
    # the second line's drug cost is regorafenib's: 160 mg from 40 mg tablets (84 for $9,350),
    # 21 days of every 28: 4 × 9350/84 × 21/28 per day while on it (ToT = its PFS)
    per_day = 4 * 9350 / 84 * 21 / 28
    assert result.costs["second_line_drugs"][0].sum() == pytest.approx(
        per_day * 365.25 * by_state["second_line"], rel=1e-12)


# ---------------------------------------------------------------------------------
# the shipped analysis
# ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def monthly(tmp_path_factory):
    path = tmp_path_factory.mktemp("monthly") / "monthly.yaml"
    path.write_text(yaml.safe_dump({"name": "monthly", "cycle_length_days": MONTH_DAYS}))
    return load_analysis(path)


def test_traces_are_distributions_at_every_time_point(monthly):
    model = build_model(monthly)
    assert model.grid.cycle_length_years == pytest.approx(1 / 12)
    for params in (monthly.base_case(), monthly.sample(20, 2024)):
        results = model.evaluate(params)
        assert {(r.population, r.strategy) for r in results} == {
            (p, s) for p, population in monthly.populations.items() for s in population.strategies}
        for result in results:
            occupancy, entries = result.trace.occupancy, result.trace.entries
            assert occupancy.shape[0] == params.n_samples
            where = f"{result.population}.{result.strategy}"
            # sums to 1 to rounding (the FFT convolution leaves ~1e-16)
            np.testing.assert_allclose(occupancy.sum(axis=2), 1.0, rtol=0, atol=1e-12, err_msg=where)
            assert occupancy.min() >= -1e-12, where
            assert entries.min() >= -1e-12, where
            np.testing.assert_array_equal(occupancy[:, 0, 0], 1.0)
            # the dead state only fills
            assert np.all(np.diff(occupancy[:, :, -1], axis=1) >= -1e-12), where


def test_calibrated_post_progression_hits_the_reported_os_median(monthly):
    calibrated = monthly.scenario("os_calibration")
    model = build_model(calibrated)
    months = model.grid.times_years * 12
    checked = 0
    for result in model.evaluate(calibrated.base_case()):
        strategy = calibrated.populations[result.population].strategies[result.strategy]
        if strategy.post_progression.calibrated_to != result.strategy:
            continue
        item = calibrated.evidence[strategy.targets.os_median].value
        target = item.value * {"months": 1.0, "weeks": 12 * 7 / 365.25}[item.unit]
        os_curve = model_survival(result)["OS"]
        i = int(np.nonzero(os_curve <= 0.5)[0][0])
        median = months[i - 1] + (os_curve[i - 1] - 0.5) / (os_curve[i - 1] - os_curve[i])
        assert median == pytest.approx(target, abs=1e-6), (result.population, result.strategy)
        assert result.os_calibration_unreachable == 0
        checked += 1
    assert checked >= 6


def brute_force_frontier(cost, effect):
    """Status of each strategy: dominated (another costs no more and gives no less, one
    strictly), else frontier if it has the highest net benefit λ·E − C, strictly, at some
    λ ≥ 0 (the maximum of a concave piecewise-linear function: checked at 0, at every
    pairwise ICER and far out), else extendedly dominated."""
    n = len(cost)
    status = {}
    candidates = [0.0, 1e12] + [(cost[j] - cost[k]) / (effect[j] - effect[k])
                                for j in range(n) for k in range(n)
                                if effect[j] != effect[k] and (cost[j] - cost[k]) / (effect[j] - effect[k]) > 0]
    for i in range(n):
        if any(cost[j] <= cost[i] and effect[j] >= effect[i] and (cost[j] < cost[i] or effect[j] > effect[i])
               for j in range(n) if j != i):
            status[i] = "dominated"
        elif any(all(lam * effect[i] - cost[i] > lam * effect[j] - cost[j] + 1e-9 for j in range(n) if j != i)
                 for lam in candidates):
            status[i] = "frontier"
        else:
            status[i] = "extendedly dominated"
    frontier = sorted((i for i in range(n) if status[i] == "frontier"), key=lambda i: cost[i])
    status[frontier[0]] = "reference"
    icers = {b: (cost[b] - cost[a]) / (effect[b] - effect[a]) for a, b in zip(frontier, frontier[1:])}
    return status, icers


def test_incremental_table_from_run_analysis(monthly, tmp_path):
    outputs = run_analysis(monthly, tmp_path, psa_samples=0)
    assert outputs.psa is None and not (tmp_path / "psa_store").exists()
    for population, rows in outputs.results.groupby("population", sort=False):
        table = outputs.incremental[outputs.incremental["population"] == population].set_index("strategy")
        names = list(rows["strategy"])
        cost, effect = rows["cost"].to_numpy(), rows["qalys"].to_numpy()
        np.testing.assert_allclose(table.loc[names, "cost"], cost, rtol=1e-12)
        np.testing.assert_allclose(table.loc[names, "qalys"], effect, rtol=1e-12)
        status, icers = brute_force_frontier(cost, effect)
        library = cea.incremental_analysis(cost, effect, names).set_index("strategy")
        for i, name in enumerate(names):
            assert table.loc[name, "status"] == status[i] == library.loc[name, "status"], (population, name)
            if i in icers:
                assert table.loc[name, "icer_per_qaly"] == pytest.approx(icers[i], rel=1e-9)
            else:
                assert np.isnan(table.loc[name, "icer_per_qaly"])
        for wtp in (100_000, 150_000):
            np.testing.assert_allclose(table.loc[names, f"nmb_at_{wtp}_USD"], wtp * effect - cost, rtol=1e-12)
        written = pd.read_csv(tmp_path / f"incremental_{population}.csv")
        assert list(written["status"]) == list(table["status"])
    # results table: total cost is the sum of its categories; LYs and QALYs the sum of their states
    results = outputs.results
    categories = [c for c in results.columns if c.startswith("cost_") and c[5:] in (
        "first_line_drugs", "second_line_drugs", "administration", "procedures", "monitoring_and_care",
        "adverse_events", "terminal_care")]
    assert len(categories) == 7
    np.testing.assert_allclose(results[categories].sum(axis=1), results["cost"], rtol=1e-12)
    life_year_states = [c for c in results.columns if c.startswith("life_years_")]
    np.testing.assert_allclose(results[life_year_states].sum(axis=1), results["life_years"], rtol=1e-12)


# ---------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_run_writes_every_table_and_figure(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path), "--psa", "10", "--formats", "png,svg,pdf"]) == 0
    captured = capsys.readouterr()
    assert "markov: error" not in captured.err
    for name in ("results_imbrave150.csv", "incremental_imbrave150.csv", "results_mvi.csv", "incremental_mvi.csv",
                 "calibration.csv", "inputs.csv", "psa_summary.csv", "run.json", "psa_store/manifest.json"):
        assert (tmp_path / name).is_file(), name
    for population in ("imbrave150", "mvi"):
        for figure in ("calibration", "occupancy"):
            for suffix in ("png", "svg", "pdf"):
                path = tmp_path / f"{figure}_{population}.{suffix}"
                assert path.is_file() and path.stat().st_size > 1000, path.name
    samples = read_psa(tmp_path, load_analysis()).long_outcomes()
    assert sorted(samples["sample"].unique()) == list(range(10))
    assert len(samples) == 10 * 6  # 3 + 3 strategies
    assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.tmp"))


def test_cli_bad_analysis_file_is_one_line_and_status_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("markov: error:") and "missing.yaml" in err[0]
    assert not (tmp_path / "out").exists()


def test_cli_negative_psa_is_status_2(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "out"), "--psa", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("markov: error:") and "--psa is -1" in err[0]
    assert not (tmp_path / "out").exists()

"""Hazard ratios, acceleration factors, waning, general-population mortality, PFS ≤ OS,
mixture cure and Kaplan–Meier with a tail, against closed forms and quadrature."""
import numpy as np
import pytest
from scipy import integrate

from markov import InputError, TimeGrid
from markov.survival import (
    AcceleratedFailureTime,
    Exponential,
    GeneralPopulationFloor,
    GeneralPopulationSurvival,
    KaplanMeier,
    KaplanMeierWithTail,
    LifeTable,
    LogLogistic,
    LogNormal,
    MixtureCure,
    PiecewiseExponential,
    PiecewiseHazardRatio,
    ProportionalHazards,
    WaningHazardRatio,
    Weibull,
    constrain_pfs_to_os,
    floor_at_general_population,
)
from markov.survival._base import SurvivalCurve

TIMES = np.array([0.0, 0.5, 3.0, 6.0, 12.0, 13.0, 20.0, 24.0, 30.0, 60.0])
REFERENCE = Weibull(0.8, 10.0, time_unit="months")


@pytest.mark.verification(
    kind="closed form",
    against="S^HR and HR·h under proportional hazards; a Weibull's median under PH",
    tolerance="rtol 1e-13 (1e-10 for the median)")
def test_proportional_hazards_closed_form():
    curve = ProportionalHazards(REFERENCE, [0.58, 1.0, 1.7])
    np.testing.assert_allclose(curve.survival(TIMES), REFERENCE.survival(TIMES) ** np.array([[0.58], [1.0], [1.7]]),
                               rtol=1e-13)
    np.testing.assert_allclose(curve.hazard(TIMES[1:]), np.array([[0.58], [1.0], [1.7]]) * REFERENCE.hazard(TIMES[1:]),
                               rtol=1e-13)
    # a Weibull under PH is a Weibull with scale s·HR^(−1/k)
    np.testing.assert_allclose(curve.median()[0], Weibull(0.8, 10.0 * 0.58 ** (-1 / 0.8), time_unit="months").median(),
                               rtol=1e-10)


def test_acceleration_factor_stretches_time():
    curve = AcceleratedFailureTime(REFERENCE, 1.5)
    np.testing.assert_allclose(curve.survival(TIMES), REFERENCE.survival(TIMES / 1.5), rtol=1e-14)
    np.testing.assert_allclose(curve.median(), 1.5 * REFERENCE.median(), rtol=1e-14)
    expected, _ = integrate.quad(lambda t: REFERENCE.survival([t / 1.5])[0, 0], 0, 40, epsabs=1e-13)
    assert curve.restricted_mean(40)[0] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("profile, end", [("linear", 24.0), ("step", None)])
def test_waning_cumulative_hazard_integrates_the_waning_hazard(profile, end):
    curve = WaningHazardRatio(REFERENCE, [0.6, 0.8], 12.0, end, profile)
    ratio = curve.ratio_at(TIMES)
    if profile == "linear":  # HR before 12, halfway at 18, 1 from 24
        np.testing.assert_allclose(curve.ratio_at([6, 18, 24, 40]), [[0.6, 0.8, 1, 1], [0.8, 0.9, 1, 1]], rtol=1e-14)
    np.testing.assert_allclose(curve.hazard(TIMES[1:]), ratio[:, 1:] * REFERENCE.hazard(TIMES[1:]), rtol=1e-13)
    for i in range(2):
        expected = [integrate.quad(lambda u: curve.hazard([u])[i, 0], 0, t, points=[12.0, 24.0], epsabs=1e-14,
                                   limit=200)[0] for t in TIMES]
        np.testing.assert_allclose(curve.cumulative_hazard(TIMES)[i], expected, rtol=1e-10, atol=1e-13)
    # the same cumulative hazard whether the times are shared (grid) or per sample (quantiles)
    q = curve.quantile([0.3, 0.6, 0.9])
    np.testing.assert_allclose(np.diag(curve.survival(q[:, 1])), 0.4, rtol=1e-10)
    # after waning the hazard is the reference's: S(t)/S(24) equals S₀(t)/S₀(24)
    tail = curve.survival([24.0, 60.0])
    np.testing.assert_allclose(tail[:, 1] / tail[:, 0],
                               (REFERENCE.survival([60.0]) / REFERENCE.survival([24.0]))[0, 0], rtol=1e-12)


def test_hazard_ratio_must_be_positive():
    with pytest.raises(InputError, match=r"hazard_ratio \[sample 1\] is 0.0: must be a positive number"):
        ProportionalHazards(REFERENCE, [0.7, 0.0])
    with pytest.raises(InputError, match=r"hazard_ratio \[sample 0\] is -0.5"):
        WaningHazardRatio(REFERENCE, -0.5, 12, 24)
    with pytest.raises(InputError, match=r"linear waning must end after it starts"):
        WaningHazardRatio(REFERENCE, 0.5, 24, 12)
    with pytest.raises(InputError, match=r"has 3 samples but the reference curve has 2"):
        ProportionalHazards(Weibull([1, 2], 3, time_unit="months"), [0.5, 0.6, 0.7])


def test_piecewise_hazard_ratio_closed_form():
    curve = PiecewiseHazardRatio(REFERENCE, [[0.5, 0.8, 1.2], [0.6, 0.9, 1.0]], until=[6.0, 18.0])
    # Weibull H₀(t) = (t/10)^0.8, so H(t) = Σ HR_j·[H₀(min(t, u_j)) − H₀(u_{j−1})]₊
    def h0(t):
        return (t / 10.0) ** 0.8

    pieces = np.array([h0(np.clip(TIMES, low, high)) - h0(low) for low, high in [(0, 6), (6, 18), (18, np.inf)]])
    expected = np.array([[0.5, 0.8, 1.2], [0.6, 0.9, 1.0]]) @ pieces
    np.testing.assert_allclose(curve.cumulative_hazard(TIMES), expected, rtol=1e-13, atol=1e-15)
    ratio = np.where(TIMES[1:] < 6, [[0.5], [0.6]], np.where(TIMES[1:] < 18, [[0.8], [0.9]], [[1.2], [1.0]]))
    np.testing.assert_allclose(curve.hazard(TIMES[1:]), ratio * REFERENCE.hazard(TIMES[1:]), rtol=1e-13)
    # with an exponential reference it is piecewise exponential; [HR, 1] is a step waning
    exponential = PiecewiseHazardRatio(Exponential(0.1, time_unit="months"), [0.5, 0.8, 1.2], [6.0, 18.0])
    np.testing.assert_allclose(exponential.survival(TIMES),
                               PiecewiseExponential([0.05, 0.08, 0.12], [6.0, 18.0], time_unit="months").survival(TIMES),
                               rtol=1e-14)
    np.testing.assert_allclose(PiecewiseHazardRatio(REFERENCE, [0.6, 1.0], [12.0]).survival(TIMES),
                               WaningHazardRatio(REFERENCE, 0.6, 12.0, profile="step").survival(TIMES), rtol=1e-14)
    expected_area, _ = integrate.quad(lambda t: curve.survival([t])[1, 0], 0, 40, points=[6, 18], epsabs=1e-13)
    assert curve.restricted_mean(40)[1] == pytest.approx(expected_area, rel=1e-9)


@pytest.mark.parametrize("ratios, until, message", [
    ([0.5, 0.0], [6.0], r"hazard_ratios \[sample 0, period 1\] is 0.0: must be a positive number"),
    ([0.5, 0.7, 0.9], [12.0, 6.0], r"until \[1\] is 6.0: cut points must be positive and strictly increasing"),
    ([0.5, 0.7], [6.0, 12.0], r"until: 2 given for 2 hazard ratios; every period but the last ends at an until"),
])
def test_piecewise_hazard_ratio_refuses_bad_periods(ratios, until, message):
    with pytest.raises(InputError, match=message):
        PiecewiseHazardRatio(REFERENCE, ratios, until)


def test_general_population_floor_is_the_per_cycle_floor_on_the_grid():
    grid = TimeGrid.from_horizon(30, 7 / 365.25)
    population = GeneralPopulationSurvival("us_2023", [70, 55], 0.4)
    # hazards that fall below the population's: a cure fraction (months, against a population in years)
    reference = MixtureCure([0.3, 0.5], Weibull(1.2, 12.0, time_unit="months"))
    curve = GeneralPopulationFloor(reference, population, grid.cycle_length_years * 12)
    expected, floored = floor_at_general_population(reference.survival_on_grid(grid), population.survival_on_grid(grid))
    assert (floored > 0).all()
    np.testing.assert_allclose(curve.survival_on_grid(grid), expected, rtol=1e-12, atol=1e-14)
    # between grid points the smaller conditional survival of the two, so S stays continuous and falling
    week = grid.cycle_length_years * 12
    t = np.linspace(0, 30 * 12, 4001)
    k = np.floor(t / week) * week
    conditional = np.minimum(reference.survival(t) / reference.survival(k),
                             population.survival(t / 12) / population.survival(k / 12))
    np.testing.assert_allclose(curve.survival(t), curve.survival(k) * conditional, rtol=1e-12, atol=1e-300)
    assert (np.diff(curve.survival(t), axis=1) <= 0).all()
    # the hazard is the binding one's
    inside = np.array([13.3, 250.2])
    start = np.floor(inside / week) * week
    own = reference.cumulative_hazard(inside) - reference.cumulative_hazard(start)
    gp = population.cumulative_hazard(inside / 12) - population.cumulative_hazard(start / 12)
    np.testing.assert_allclose(curve.hazard(inside), np.where(own > gp, reference.hazard(inside),
                                                              population.hazard(inside / 12) / 12), rtol=1e-12)
    expected_area, _ = integrate.quad(lambda x: curve.survival([x])[0, 0], 0, 60, limit=1000,
                                      points=np.arange(1, 60 / week) * week, epsabs=1e-12)
    assert curve.restricted_mean(60)[0] == pytest.approx(expected_area, rel=1e-9)
    # far out everyone has died: S is 0, not NaN
    np.testing.assert_array_equal(curve.survival([1e5, np.inf]), 0.0)


def test_general_population_floor_refuses_a_bad_interval_and_mismatched_samples():
    population = GeneralPopulationSurvival("us_2023", [70, 55, 60], 0.4)
    with pytest.raises(InputError, match=r"interval is 0.0: the floor's interval must be a positive time"):
        GeneralPopulationFloor(REFERENCE, population, 0.0)
    with pytest.raises(InputError, match=r"general_population has 3 samples but the reference curve has 2"):
        GeneralPopulationFloor(Weibull([1, 2], 3, time_unit="months"), population, 1.0)


@pytest.mark.verification(
    kind="published data",
    against="the US 2023 life table's qx and its published life expectancy at birth (NVSR 74(6))",
    tolerance="qx rel 1e-12; life expectancy within 0.01 years")
def test_general_population_life_table_reproduces_its_qx_and_published_life_expectancy():
    table = LifeTable.load("us_2023")
    assert "National Vital Statistics Reports" in table.source["title"]
    # one year from each birthday, a single-sex cohort dies with exactly the table's qx
    for age in (0, 40, 65, 80, 99):
        for share_female, qx in ((0.0, table.qx_male[age]), (1.0, table.qx_female[age])):
            cohort = GeneralPopulationSurvival(table, age, share_female)
            assert 1 - cohort.survival([1.0])[0, 0] == pytest.approx(qx, rel=1e-12)
    # life expectancy at birth: published 75.8 (men) and 81.1 (women), NVSR 74(6) Tables 2–3;
    # constant force within each year puts deaths slightly before mid-year, hence 0.01
    assert GeneralPopulationSurvival(table, 0, 0.0).restricted_mean(130)[0] == pytest.approx(75.8178, abs=0.01)
    assert GeneralPopulationSurvival(table, 0, 1.0).restricted_mean(130)[0] == pytest.approx(81.0799, abs=0.01)


def test_mixed_sex_cohort_is_a_mixture_not_an_averaged_hazard():
    table = LifeTable.load("us_2023")
    mixed = GeneralPopulationSurvival(table, 62.5, 0.3, time_unit="months")
    men, women = GeneralPopulationSurvival(table, 62.5, 0.0), GeneralPopulationSurvival(table, 62.5, 1.0)
    t_years = np.array([0.0, 0.25, 1.0, 10.0, 30.0])
    np.testing.assert_allclose(mixed.survival(t_years * 12),
                               0.3 * women.survival(t_years) + 0.7 * men.survival(t_years), rtol=1e-13)
    # hazard per month is −d log S / dt
    t = np.array([7.0, 55.0])
    step = 1e-4
    numeric = -(np.log(mixed.survival(t + step)) - np.log(mixed.survival(t - step))) / (2 * step)
    np.testing.assert_allclose(mixed.hazard(t), numeric, rtol=1e-7)


def test_floor_at_general_population_per_cycle():
    grid = TimeGrid(1 / 12, 480)
    population = GeneralPopulationSurvival("us_2023", 70, 0.5).survival_on_grid(grid)
    # a mixture-cure-like curve whose hazard falls below the population's
    model = MixtureCure(0.3, Exponential(0.5, time_unit="years")).survival_on_grid(grid)
    adjusted, floored = floor_at_general_population(model, population)
    step_model, step_population = model[0, 1:] / model[0, :-1], population[0, 1:] / population[0, :-1]
    np.testing.assert_allclose(adjusted[0, 1:] / adjusted[0, :-1], np.minimum(step_model, step_population),
                               rtol=1e-12)
    assert floored[0] == int((step_population < step_model).sum()) and 0 < floored[0] < grid.n_cycles
    assert (adjusted <= model + 1e-15).all() and (adjusted <= population + 1e-15).all()


def test_pfs_is_clipped_to_os_and_the_corrections_counted():
    os_ = np.array([[1.0, 0.9, 0.7, 0.5], [1.0, 0.8, 0.6, 0.4]])
    pfs = np.array([[1.0, 0.95, 0.6, 0.55], [1.0, 0.7, 0.5, 0.3]])
    clipped, corrected = constrain_pfs_to_os(pfs, os_)
    np.testing.assert_array_equal(clipped, [[1.0, 0.9, 0.6, 0.5], [1.0, 0.7, 0.5, 0.3]])
    np.testing.assert_array_equal(corrected, [2, 0])


@pytest.mark.verification(
    kind="closed form",
    against="the mixture-cure formula, its hazard by numerical differentiation and its restricted mean by "
            "quadrature",
    tolerance="rtol 1e-13, 1e-6 and 1e-8")
def test_mixture_cure_closed_form_and_plateau():
    uncured = LogLogistic(1.4, 8.0, time_unit="months")
    background = GeneralPopulationSurvival("us_2023", 60, 0.4)
    curve = MixtureCure([0.2, 0.35], uncured, background)
    s_bg = background.survival(TIMES / 12)
    expected = s_bg * (np.array([[0.2], [0.35]]) + np.array([[0.8], [0.65]]) * uncured.survival(TIMES))
    np.testing.assert_allclose(curve.survival(TIMES), expected, rtol=1e-13)
    t = np.array([5.0, 50.0, 200.0])
    step = 1e-4
    numeric = -(np.log(curve.survival(t + step)) - np.log(curve.survival(t - step))) / (2 * step)
    np.testing.assert_allclose(curve.hazard(t), numeric, rtol=1e-6)
    expected_area, _ = integrate.quad(lambda x: curve.survival([x])[1, 0], 0, 120, epsabs=1e-12, limit=400,
                                      points=background._breakpoints()[background._breakpoints() < 10] * 12)
    assert curve.restricted_mean(120)[1] == pytest.approx(expected_area, rel=1e-8)
    no_background = MixtureCure(0.2, uncured)
    assert no_background.survival([1e6])[0, 0] == pytest.approx(0.2, rel=1e-6)
    assert no_background.quantile([0.9])[0, 0] == np.inf


def test_kaplan_meier_with_tail_joins_at_the_cut():
    rng = np.random.default_rng(5)
    true = 12.0 * rng.weibull(1.3, 300)
    censor = rng.uniform(6, 36, 300)
    time, event = np.minimum(true, censor), (true <= censor).astype(float)
    km = KaplanMeier.fit(time, event, time_unit="months")
    tail = Weibull([1.3, 1.1], 12.0, time_unit="months")
    curve = KaplanMeierWithTail(km, tail, cut_time=10.0)
    before = np.array([0.0, 2.0, 5.5, 10.0])
    np.testing.assert_allclose(curve.survival(before), np.tile(km.survival_at(before), (2, 1)), rtol=1e-14)
    after = np.array([15.0, 40.0])
    expected = km.survival_at([10.0])[0] * tail.survival(after) / tail.survival([10.0])
    np.testing.assert_allclose(curve.survival(after), expected, rtol=1e-13)
    # the restricted mean composes exactly; the generic numerical integral agrees
    np.testing.assert_allclose(curve.restricted_mean(60), SurvivalCurve._restricted_mean(curve, 60), rtol=1e-8)
    assert curve.restricted_mean(8)[0] == pytest.approx(km.restricted_mean(8), rel=1e-14)
    with pytest.raises(InputError, match=r"cut_time is 500.0: must lie within the Kaplan–Meier follow-up"):
        KaplanMeierWithTail(km, tail, 500.0)


@pytest.mark.verification(
    kind="published data",
    against="the ONS national life tables' published life expectancy at birth (England, UK 2021–2023)",
    tolerance="within 0.05 years")
@pytest.mark.parametrize("name, published_male, published_female", [
    ("england_2021_2023", 79.1, 83.0),  # ONS national life tables, England 2021–2023
    ("uk_2021_2023", 78.8, 82.8),  # ONS national life tables, UK 2021–2023
])
def test_ons_life_tables_give_the_published_life_expectancy(name, published_male, published_female):
    table = LifeTable.load(name)
    assert table.source["publisher"].startswith("Office for National Statistics")
    men = GeneralPopulationSurvival(table, 0, 0.0).restricted_mean(130)[0]
    women = GeneralPopulationSurvival(table, 0, 1.0).restricted_mean(130)[0]
    assert men == pytest.approx(published_male, abs=0.05) and women == pytest.approx(published_female, abs=0.05)


def test_curves_from_the_survival_layer_drive_the_engine():
    """Sampled curves → general-population floor → PFS ≤ OS → partitioned survival."""
    from markov import TimeGrid, run_partitioned_survival
    grid = TimeGrid.from_horizon(20, 7 / 365.25)
    overall = ProportionalHazards(LogLogistic(1.5145, 18.5865, time_unit="months"), [0.6, 0.7, 0.8])
    progression_free = ProportionalHazards(Weibull(1.1, 7.0, time_unit="months"), [0.6, 0.7, 0.8])
    population = GeneralPopulationSurvival("england_2021_2023", 64, 0.2).survival_on_grid(grid)
    os_, floored = floor_at_general_population(overall.survival_on_grid(grid), population)
    pfs, corrected = constrain_pfs_to_os(progression_free.survival_on_grid(grid), os_)
    assert (floored > 0).all()  # log-logistic hazards fall below 64-year-olds' mortality within 20 years
    trace = run_partitioned_survival([pfs, os_])
    np.testing.assert_allclose(trace.occupancy.sum(axis=2), 1.0, atol=1e-12)
    np.testing.assert_allclose(trace.state("dead")[:, -1], 1 - os_[:, -1], atol=1e-12)


def test_hazard_ratios_on_one_reference_compute_its_cumulative_hazard_once():
    """Curves of a network share their reference: its H is computed once for the times
    asked and reused read-only, the same numbers as computing it for each (to an ulp or
    two of H: a log-normal takes it from its survival, see the next test)."""
    rng = np.random.default_rng(5)
    reference = LogNormal(rng.normal(2.0, 0.1, size=4), np.full(4, 0.9), time_unit="months")
    calls = []
    compute = reference._cumulative_hazard_to_keep
    reference._cumulative_hazard_to_keep = lambda t: calls.append(t.shape) or compute(t)
    ratios = [rng.uniform(0.5, 1.2, size=4) for _ in range(3)]
    times = np.linspace(0.0, 60.0, 261)
    got = [ProportionalHazards(reference, hr).survival(times) for hr in ratios]
    assert calls == [(1, 261)]
    for hr, survival in zip(ratios, got, strict=True):
        # H within 1e-15 of itself (H < 4 here) moves S^HR by at most HR·H·1e-15
        np.testing.assert_allclose(survival, np.exp(-hr[:, None] * reference._cumulative_hazard(times[None, :])),
                                   rtol=5e-15, atol=0)
        assert survival.flags.writeable  # the derived curve's own array
    ProportionalHazards(reference, ratios[0]).survival(times[:100])  # other times: computed afresh
    assert calls == [(1, 261), (1, 100)]


@pytest.mark.verification(
    kind="another engine",
    against="scipy.special.ndtr and log_ndtr: S = Φ(−z) and H = −log Φ(−z) from 1e-6 to 1e9 months",
    tolerance="S bit for bit; H rel 1e-15 (log of S), bit for bit where S > 1/2 or S < 1e-300")
def test_log_normal_survival_and_the_hazard_of_curves_relative_to_it_share_one_evaluation(monkeypatch):
    """A log-normal evaluates Φ once for the times asked: its survival and the H of the
    curves relative to it (a hazard ratio applied to it: the model's BSC and second-line
    OS) come from it, in either order, with its survival still the caller's own array."""
    from scipy import special

    rng = np.random.default_rng(3)
    meanlog, sdlog = rng.normal(2.0, 0.3, size=6), rng.uniform(0.4, 1.5, size=6)
    times = np.concatenate([[0.0], np.geomspace(1e-6, 1e9, 4000)])
    with np.errstate(divide="ignore"):
        minus_z = -(np.log(times)[None, :] - meanlog[:, None]) / sdlog[:, None]
    survival, hazard = special.ndtr(minus_z), -special.log_ndtr(minus_z)
    exact = (survival > 0.5) | (survival < 1e-300)
    assert exact.any() and (~exact).any()
    calls, log_points = [], []
    ndtr, log_ndtr = special.ndtr, special.log_ndtr
    monkeypatch.setattr(special, "ndtr", lambda *a, **k: calls.append(1) or ndtr(*a, **k))
    monkeypatch.setattr(special, "log_ndtr", lambda x, **k: log_points.append(np.size(x)) or log_ndtr(x, **k))
    for survival_first in (True, False):
        calls.clear()
        log_points.clear()
        curve = LogNormal(meanlog, sdlog, time_unit="months")
        first = curve.survival(times) if survival_first else None
        found = curve._reference_cumulative_hazard(times[None, :])
        first = curve.survival(times) if first is None else first
        again = curve.survival(times)
        assert len(calls) == 1 and log_points == [exact.sum()]  # log Φ only where log S would lose digits
        np.testing.assert_array_equal(first, survival)
        assert first.flags.writeable and again is not first
        first[:] = -1.0  # the caller's own: what is kept for the reference is not touched
        np.testing.assert_array_equal(again, survival)
        np.testing.assert_allclose(found, hazard, rtol=1e-15, atol=0)
        np.testing.assert_array_equal(found[exact], hazard[exact])
        assert not found.flags.writeable


def test_a_constant_hazard_is_reported_only_for_exponential_curves_and_those_made_from_them():
    exponential = Exponential([0.05, 0.1], time_unit="months")
    np.testing.assert_array_equal(exponential.constant_hazard(), [0.05, 0.1])
    np.testing.assert_allclose(ProportionalHazards(exponential, 0.7).constant_hazard(), [0.035, 0.07], rtol=1e-15)
    np.testing.assert_allclose(AcceleratedFailureTime(exponential, 2.0).constant_hazard(), [0.025, 0.05], rtol=1e-15)
    for curve in (ProportionalHazards(exponential, 0.7), AcceleratedFailureTime(exponential, 2.0)):  # what it says
        hazard = curve.constant_hazard()
        np.testing.assert_allclose(curve.survival(TIMES), np.exp(-hazard[:, None] * TIMES), rtol=1e-13)
    for curve in (REFERENCE, ProportionalHazards(REFERENCE, 0.7), LogNormal(2.0, 1.0, time_unit="months"),
                  PiecewiseExponential([0.05, 0.1], [6.0], time_unit="months"), MixtureCure(0.3, exponential)):
        assert curve.constant_hazard() is None

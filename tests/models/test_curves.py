"""Every kind of curve a model file can name (markov/inputs/curves.py), built through the
one registry (markov/models/curves.py) from an analysis in YAML, equals the survival
library's object built directly from the same numbers, on the model's grid, to 1e-12 —
at the point estimates and for probabilistic draws. Bad input of each kind is one error
naming the file, the field, the value and the rule.
"""
import math
from pathlib import Path

import numpy as np
import pytest
from curve_analyses import CURVES, MONTH, VALUES, analysis, drawn_as_if_followed

from markov import InputError
from markov.inputs import load_analysis
from markov.models import build_model
from markov.survival import (
    GeneralPopulationFloor,
    GeneralPopulationSurvival,
    LogLogistic,
    MixtureCure,
    PiecewiseExponential,
    PiecewiseHazardRatio,
    ProportionalHazards,
    RoystonParmar,
    WaningHazardRatio,
    Weibull,
)


def built(path: Path, params=None):
    """The model, the population's curves for ``params`` (default: the base case) and the params."""
    inputs = load_analysis(path)
    model = build_model(inputs)
    params = inputs.base_case() if params is None else params(inputs)
    return model, model.curves(inputs.populations["imbrave150"], params), params


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    return built(analysis(tmp_path_factory.mktemp("curves"), CURVES))


def assert_on_grid(model, curve, expected):
    np.testing.assert_allclose(curve.survival_on_grid(model.grid), expected.survival_on_grid(model.grid),
                               rtol=1e-12, atol=1e-14)


def test_spline_is_flexsurvs_survspline(every_kind):
    model, curves, _ = every_kind
    expected = RoystonParmar([-2.5, 1.3, 0.02], [0.0, math.log(6), math.log(24)], scale="odds", time_unit="months")
    assert_on_grid(model, curves["spline"], expected)


def test_piecewise_exponential_converts_cut_points_and_rates_per_year(every_kind):
    model, curves, _ = every_kind
    # cut points 6 months and 2 years = 24 months; 0.9 per year = 0.075 per month; the others as published
    expected = PiecewiseExponential([0.9 * MONTH, 0.05, 0.02], [6.0, 24.0], time_unit="months")
    assert_on_grid(model, curves["piecewise"], expected)


def cohort():
    return GeneralPopulationSurvival("us_2023", 62.0, 0.3)


def test_mixture_cure_has_the_cured_follow_general_population_mortality(every_kind):
    model, curves, _ = every_kind
    expected = MixtureCure(0.25, LogLogistic(1.4, 9.0, time_unit="months"), cohort())
    assert_on_grid(model, curves["cured"], expected)


@pytest.mark.parametrize("name, profile, end", [("waning", "linear", 36.0), ("waning_step", "step", None)])
def test_waning_hazard_ratio_in_the_reference_curves_unit(every_kind, name, profile, end):
    model, curves, _ = every_kind
    expected = WaningHazardRatio(LogLogistic(1.4, 9.0, time_unit="months"), 0.6, 12.0, end, profile)
    assert_on_grid(model, curves[name], expected)


def test_piecewise_hazard_ratio_by_period(every_kind):
    model, curves, _ = every_kind
    expected = PiecewiseHazardRatio(LogLogistic(1.4, 9.0, time_unit="months"), [0.6, 0.85, 1.1], [6.0, 24.0])
    assert_on_grid(model, curves["periods"], expected)


def test_general_population_floor_is_the_per_cycle_floor_of_the_model(every_kind):
    model, curves, _ = every_kind
    treated = ProportionalHazards(LogLogistic(1.4, 9.0, time_unit="months"), 0.6)
    expected = GeneralPopulationFloor(treated, cohort(), model.grid.cycle_length_years * 12)
    assert_on_grid(model, curves["floored"], expected)
    assert_on_grid(model, curves["relative_to_floored"], ProportionalHazards(expected, 0.6))
    # the treated log-logistic hazard falls below 62-year-olds' mortality within the horizon: there the floor binds
    floored, free = (curves[name].survival_on_grid(model.grid) for name in ("floored", "treated"))
    assert (floored < free - 1e-6).any()


def test_probabilistic_draws_reach_every_kind(tmp_path):
    values = dict(VALUES, hr=(0.6, "hazard_ratio", {"ci95": [0.45, 0.8]}), cure=(0.25, "proportion", {"n": 80}),
                  gamma0=(-2.5, "coefficient", {"se": 0.1}))
    model, curves, params = built(analysis(tmp_path, CURVES, values),
                                  lambda inputs: drawn_as_if_followed(inputs).sample(5, seed=3))
    hr, cure, gamma0 = params["t.hr"], params["t.cure"], params["t.gamma0"]
    assert np.unique(hr).size == np.unique(cure).size == np.unique(gamma0).size == 5
    reference = LogLogistic(1.4, 9.0, time_unit="months")
    gamma = np.column_stack([gamma0, np.full(5, 1.3), np.full(5, 0.02)])
    population = GeneralPopulationSurvival("us_2023", np.full(5, 62.0), np.full(5, 0.3))
    cured = MixtureCure(cure, reference, population)
    expected = {
        "spline": RoystonParmar(gamma, [0.0, math.log(6), math.log(24)], scale="odds", time_unit="months"),
        "cured": cured,
        "waning": WaningHazardRatio(reference, hr, 12.0, 36.0),
        "periods": PiecewiseHazardRatio(reference, np.column_stack([hr, np.full(5, 0.85), np.full(5, 1.1)]),
                                        [6.0, 24.0]),
        "floored": GeneralPopulationFloor(ProportionalHazards(reference, hr), population,
                                          model.grid.cycle_length_years * 12),
    }
    for name, curve in expected.items():
        assert curves[name].n_samples == 5
        assert_on_grid(model, curves[name], curve)


def test_the_three_first_kinds_may_say_their_kind(tmp_path):
    curves = {"weibull": {"kind": "published", "family": "weibull", "time_unit": "months",
                          "parameters": {"shape": "t.shape", "scale": "t.scale"}},
              "treated": {"kind": "relative", "reference": "weibull", "hazard_ratio": "t.hr"},
              "calibrated": {"kind": "calibrated", "family": "exp", "median": "t.scale"}}
    model, built_curves, _ = built(analysis(tmp_path, curves))
    assert_on_grid(model, built_curves["treated"], ProportionalHazards(Weibull(1.4, 9.0, time_unit="months"), 0.6))
    np.testing.assert_allclose(built_curves["calibrated"].median(), 0.75, rtol=1e-12)


# ---------------------------------------------------------------------------------
# bad input: one error naming the file, the field, the value and the rule
# ---------------------------------------------------------------------------------

BAD = [
    ({"bad": {**CURVES["spline"], "knots": ["t.knot0", "t.knot2", "t.knot1"]}}, {},
     r"curves\.bad\.knots\[2\] = 't\.knot1' \(1\.79\d+\): not above knots\[1\] = 't\.knot2' \(3\.17\d+\); these must"),
    ({"bad": {**CURVES["spline"], "gamma": ["t.gamma0", "t.gamma1"]}}, {},
     r"curves\.bad\.spline.*gamma has 2 coefficients but knots has 3 values"),
    ({"bad": {**CURVES["spline"], "knots": ["t.knot0", "t.knot1", "t.scale"]}}, {},
     r"curves\.bad\.knots\[2\] = 't\.scale': has unit 'months'; knots needs coefficient"),
    ({"bad": CURVES["spline"]}, {"knot1": (math.log(6), "coefficient", {"se": 0.1})},
     r"curves\.bad\.knots\[1\] = 't\.knot1': varies in a probabilistic analysis \(Normal.*\), but it places the curve"),
    ({"bad": {**CURVES["piecewise"], "cut_points": ["t.cut_2_years", "t.cut_6_months"]}}, {},
     r"curves\.bad\.cut_points\[1\] = 't\.cut_6_months' \(0\.5 years\): not above cut_points\[0\] = 't\.cut_2_years'"),
    ({"bad": {**CURVES["piecewise"], "rates": ["t.rate_first", "t.rate_second"]}}, {},
     r"curves\.bad\.piecewise_exponential.*2 rates for 2 cut points; give one rate per interval"),
    ({"bad": CURVES["piecewise"]}, {"rate_third": (0.0, "coefficient")},
     r"curves\.bad\.rates\[2\] = 't\.rate_third' \(0\.0\): a hazard must be positive in the last interval"),
    ({"bad": CURVES["piecewise"]}, {"rate_third": (-0.01, "coefficient")},
     r"curves\.bad\.rates\[2\] = 't\.rate_third' \(-0\.01\): a hazard must be positive"),
    ({"llogis": CURVES["llogis"], "bad": {**CURVES["cured"], "cure_fraction": "t.hr"}}, {},
     r"curves\.bad\.cure_fraction = 't\.hr': has unit 'hazard_ratio'; cure_fraction needs proportion"),
    ({"llogis": CURVES["llogis"], "bad": CURVES["cured"]}, {"cure": (1.0, "proportion")},
     r"curves\.bad\.cure_fraction = 't\.cure' \(1\.0\): must be below 1 \(some patients are not cured\)"),
    ({"bad": CURVES["cured"]}, {},
     r"curves\.bad\.uncured = 'llogis': no curve of that name in this population"),
    ({"llogis": CURVES["llogis"], "bad": {**CURVES["waning"], "end": "t.cut_6_months"}}, {},
     r"curves\.bad\.end = 't\.cut_6_months' \(0\.5 years\): not above start = 't\.start' \(1\.0 years\); these"),
    ({"llogis": CURVES["llogis"], "bad": {**CURVES["waning_step"], "end": "t.end"}}, {},
     r"curves\.bad\.waning_hazard_ratio.*a step happens at its start and takes none"),
    ({"llogis": CURVES["llogis"], "bad": {**CURVES["waning"], "start": "t.hr"}}, {},
     r"curves\.bad\.start = 't\.hr': has unit 'hazard_ratio'; start needs days or months or weeks or years"),
    ({"llogis": CURVES["llogis"], "bad": {**CURVES["periods"], "periods": [
        {"hazard_ratio": "t.hr", "until": "t.cut_2_years"}, {"hazard_ratio": "t.hr", "until": "t.cut_6_months"},
        {"hazard_ratio": "t.hr"}]}}, {},
     r"curves\.bad\.periods\[1\]\.until = 't\.cut_6_months' \(0\.5 years\): not above periods\[0\]\.until"),
    ({"llogis": CURVES["llogis"],
      "bad": {**CURVES["periods"], "periods": [{"hazard_ratio": "t.hr", "until": "t.end"}]}}, {},
     r"every period but the last needs 'until'; the last has none"),
    ({"bad": CURVES["floored"]}, {}, r"curves\.bad\.reference = 'treated': no curve of that name"),
    ({"bad": {"kind": "weibull_spline"}}, {}, r"curves\.bad = .*unknown kind of curve; kind is one of calibrated, pub"),
]


@pytest.mark.parametrize("curves, changed, message", BAD, ids=range(len(BAD)))
def test_bad_input_of_each_kind_is_one_clear_error(tmp_path, curves, changed, message):
    with pytest.raises(InputError, match=message) as error:
        load_analysis(analysis(tmp_path, curves, dict(VALUES, **changed)))
    assert len(str(error.value).splitlines()) == 1
    assert "populations.yaml" in str(error.value)  # the file


def test_a_cycle_of_curves_is_refused(tmp_path):
    curves = {"a": {"kind": "general_population_floor", "reference": "b"},
              "b": {"kind": "waning_hazard_ratio", "reference": "a", "hazard_ratio": "t.hr", "start": "t.start",
                    "profile": "step"}}
    inputs = load_analysis(analysis(tmp_path, curves))
    with pytest.raises(InputError, match=r"curves: a -> b -> a: a curve cannot refer to itself"):
        build_model(inputs).curves(inputs.populations["imbrave150"], inputs.base_case())


def test_curves_on_the_grid_take_an_exponential_by_products_and_any_other_curve_as_it_evaluates_itself():
    from markov import TimeGrid
    from markov.models.base import CurvesOnGrid
    from markov.survival import Exponential
    grid = TimeGrid(7 / 365.25, 1044)
    exponential = Exponential([0.02, 0.3], time_unit="months")
    curves = {"pfs": ProportionalHazards(exponential, 0.8), "os": Weibull([0.8, 1.2], 10.0, time_unit="months")}
    on_grid = CurvesOnGrid(curves, grid)
    assert not any(on_grid[name].flags.writeable for name in curves)
    np.testing.assert_array_equal(on_grid["os"], curves["os"].survival_on_grid(grid))
    np.testing.assert_allclose(on_grid["pfs"], curves["pfs"].survival_on_grid(grid), rtol=1e-13, atol=0)

"""Royston–Parmar spline curves: flexsurv's basis, its special cases, internal consistency."""
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import integrate, stats

from markov import InputError
from markov._validate import check_survival_curves
from markov.grid import WEEK_YEARS, TimeGrid
from markov.survival.spline import RoystonParmar, default_knots, spline_basis

SCALES = ("hazard", "odds", "normal")
KNOTS = np.log([1.0, 6.0, 15.0, 40.0])  # two internal knots, log months
# s has an interior minimum of ds/dx (at log t ≈ 1.82) for the first; a U-shaped hazard for the second
GAMMAS = [np.array([-2.2, 1.1, 0.08, -0.15]), np.array([-1.6, 0.9, 0.04, -0.08])]
TIMES = np.array([0.05, 0.4, 1.0, 2.5, 6.0, 10.0, 15.0, 27.0, 40.0, 75.0])
RTOL = 1e-10


# --- an independent implementation, written out from the formulas ---------------------
def reference_spline(x, gamma, knots):
    k_min, k_max = knots[0], knots[-1]
    s = gamma[0] + gamma[1] * x
    for j, k in enumerate(knots[1:-1]):
        lam = (k_max - k) / (k_max - k_min)
        s += gamma[j + 2] * (max(x - k, 0.0) ** 3 - lam * max(x - k_min, 0.0) ** 3
                             - (1 - lam) * max(x - k_max, 0.0) ** 3)
    return s


def reference_survival(t, gamma, knots, scale):
    if t == 0:
        return 1.0
    s = reference_spline(math.log(t), gamma, knots)
    if scale == "hazard":
        return math.exp(-math.exp(s))
    if scale == "odds":
        return 1.0 / (1.0 + math.exp(s))
    return 0.5 * math.erfc(s / math.sqrt(2.0))


# --- the basis ------------------------------------------------------------------------
@pytest.mark.verification(
    kind="closed form",
    against="the Royston–Parmar spline basis and its derivatives worked by hand",
    tolerance="1e-15")
def test_basis_matches_hand_computed_values():
    # knots 0, 1, 3: one internal knot k1 = 1, λ = (3 - 1)/(3 - 0) = 2/3.
    # v(x)   = (x-1)₊³ − (2/3)x₊³ − (1/3)(x-3)₊³
    # v'(x)  = 3(x-1)₊² − 2x₊² − (x-3)₊²
    # v''(x) = 6(x-1)₊ − 4x₊ − 2(x-3)₊
    # x = -1 : all terms 0                       → v = 0,                 v' = 0,              v'' = 0
    # x = 0.5: v = 0 − (2/3)(0.125) − 0 = −1/12; v' = 0 − 2(0.25) = −0.5;  v'' = −4(0.5) = −2
    # x = 2  : v = 1 − (2/3)8 = −13/3;           v' = 3 − 8 = −5;          v'' = 6 − 8 = −2
    # x = 3  : v = 8 − (2/3)27 = −10;            v' = 12 − 18 = −6;        v'' = 12 − 12 = 0
    # x = 4  : v = 27 − (2/3)64 − (1/3)1 = −16;  v' = 27 − 32 − 1 = −6;    v'' = 18 − 16 − 2 = 0
    #          (linear beyond k_max: v(4) = v(3) + v'(3)·1 = −16)
    x = np.array([-1.0, 0.5, 2.0, 3.0, 4.0])
    knots = [0.0, 1.0, 3.0]
    value, slope = RoystonParmar.basis(x, knots)
    assert_allclose(value, np.column_stack([np.ones(5), x, [0, -1 / 12, -13 / 3, -10, -16]]), rtol=1e-15, atol=1e-15)
    assert_allclose(slope, np.column_stack([np.zeros(5), np.ones(5), [0, -0.5, -5, -6, -6]]), rtol=1e-15, atol=1e-15)
    assert_allclose(spline_basis(x, knots, 2)[:, 2], [0, -2, -2, 0, 0], atol=1e-15)


def test_basis_times_gamma_is_the_modelled_transform():
    x = np.log(TIMES)
    value, _ = RoystonParmar.basis(x, KNOTS)
    curve = RoystonParmar(GAMMAS[0], KNOTS, scale="hazard", time_unit="months")
    assert_allclose(np.log(curve.cumulative_hazard(TIMES)[0]), value @ GAMMAS[0], rtol=1e-13)


@pytest.mark.parametrize("seed", range(5))
def test_slope_minimum_is_exact(seed):
    rng = np.random.default_rng(seed)
    gamma = np.column_stack([rng.normal(size=20), rng.uniform(0.2, 2, 20), rng.normal(0, 0.2, (20, 2))])
    minimum, where = RoystonParmar.slope_minimum(gamma, KNOTS)
    x = np.linspace(KNOTS[0] - 1, KNOTS[-1] + 1, 40001)
    slopes = spline_basis(x, KNOTS, 1) @ gamma.T
    assert (minimum <= slopes.min(axis=0) + 1e-12).all()
    assert_allclose(minimum, slopes.min(axis=0), atol=1e-6)
    assert_allclose(minimum, np.einsum("nk,nk->n", spline_basis(where, KNOTS, 1), gamma), rtol=1e-13)


# --- with only the boundary knots: Weibull, log-logistic, log-normal ------------------------
def _special_cases():
    k, scale = 1.7, 11.0
    mu, sigma = 2.1, 0.8
    yield "hazard", [-k * np.log(scale), k], stats.weibull_min(k, scale=scale)
    yield "odds", [-k * np.log(scale), k], stats.fisk(k, scale=scale)
    yield "normal", [-mu / sigma, 1 / sigma], stats.lognorm(sigma, scale=np.exp(mu))
    yield "hazard", [-0.6 * np.log(3.0), 0.6], stats.weibull_min(0.6, scale=3.0)


@pytest.mark.verification(
    kind="other software",
    against="scipy.stats Weibull, log-logistic and log-normal, which splines without internal knots are "
            "(flexsurv)",
    tolerance="rtol 1e-10")
@pytest.mark.parametrize("scale, gamma, reference", list(_special_cases()))
@pytest.mark.parametrize("knots", [[-10.0, 10.0], [0.5, 2.0]])  # boundary knots alone are not used
def test_boundary_knots_only_reduce_to_the_named_family(scale, gamma, reference, knots):
    curve = RoystonParmar(gamma, knots, scale=scale, time_unit="months")
    assert_allclose(curve.survival(TIMES)[0], reference.sf(TIMES), rtol=RTOL)
    assert_allclose(curve.density(TIMES)[0], reference.pdf(TIMES), rtol=RTOL)
    assert_allclose(curve.hazard(TIMES)[0], reference.pdf(TIMES) / reference.sf(TIMES), rtol=RTOL)
    p = np.array([1e-9, 0.01, 0.25, 0.5, 0.75, 0.99, 0.999])
    assert_allclose(curve.quantile(p)[0], reference.ppf(p), rtol=RTOL)
    assert_allclose(curve.median(), reference.median(), rtol=RTOL)
    assert curve.quantile([0.0])[0, 0] == 0.0 and curve.quantile([1.0])[0, 0] == np.inf


def test_extreme_quantiles_match_closed_forms():
    # scipy's fisk.ppf loses ~1e-7 relative at p = 1 − 1e-9 (it forms 1/p − 1); the closed forms do not
    k, scale, mu, sigma = 1.7, 11.0, 2.1, 0.8
    p = np.array([1e-12, 1e-9, 1 - 1e-9])
    knots = [-10.0, 10.0]
    weibull = RoystonParmar([-k * np.log(scale), k], knots, scale="hazard", time_unit="months")
    loglogistic = RoystonParmar([-k * np.log(scale), k], knots, scale="odds", time_unit="months")
    lognormal = RoystonParmar([-mu / sigma, 1 / sigma], knots, scale="normal", time_unit="months")
    assert_allclose(weibull.quantile(p)[0], scale * (-np.log1p(-p)) ** (1 / k), rtol=RTOL)
    assert_allclose(loglogistic.quantile(p)[0], scale * np.exp((np.log(p) - np.log1p(-p)) / k), rtol=RTOL)
    assert_allclose(lognormal.quantile(p)[0], np.exp(mu + sigma * stats.norm.ppf(p)), rtol=RTOL)


def test_time_zero_is_survival_one_and_the_limiting_hazard():
    for scale in SCALES:
        curve = RoystonParmar(GAMMAS[0], KNOTS, scale=scale, time_unit="months")
        assert curve.survival([0.0])[0, 0] == 1.0 and curve.cumulative_hazard([0.0])[0, 0] == 0.0
    # below k_min the curve is Weibull-like with shape γ1: hazard → 0, e^{γ0}, ∞ for γ1 >, =, < 1
    for scale in ("hazard", "odds"):
        hazards = [RoystonParmar([-1.0, g1, 0.0, 0.0], KNOTS, scale=scale, time_unit="months").hazard([0.0])[0, 0]
                   for g1 in (1.5, 1.0, 0.5)]
        assert hazards == [0.0, math.exp(-1.0), np.inf]
    assert RoystonParmar([-1.0, 0.5, 0, 0], KNOTS, scale="normal", time_unit="months").hazard([0.0])[0, 0] == 0.0


# --- with internal knots -----------------------------------------------------------------
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_survival_matches_the_written_out_formula(scale, gamma):
    curve = RoystonParmar(gamma, KNOTS, scale=scale, time_unit="months")
    expected = [reference_survival(t, gamma, KNOTS, scale) for t in TIMES]
    assert_allclose(curve.survival(TIMES)[0], expected, rtol=1e-12)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_hazard_is_minus_the_derivative_of_log_survival(scale, gamma):
    curve = RoystonParmar(gamma, KNOTS, scale=scale, time_unit="months")
    t = TIMES[TIMES < 40]  # where S is not vanishingly small
    # −log S, computed without the cancellation of log(S) for S near 1
    assert_allclose(curve.cumulative_hazard(t), -np.log(curve.survival(t)), rtol=1e-9)
    step = 1e-5 * t
    minus_log_s = lambda u: curve.cumulative_hazard(u)[0]
    numeric = (minus_log_s(t + step) - minus_log_s(t - step)) / (2 * step)
    assert_allclose(curve.hazard(t)[0], numeric, rtol=1e-6)
    assert_allclose(curve.density(t), curve.hazard(t) * curve.survival(t), rtol=1e-13)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_quantile_inverts_survival(scale, gamma):
    curve = RoystonParmar(gamma, KNOTS, scale=scale, time_unit="months")
    p = np.array([1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999])
    q = curve.quantile(p)[0]
    assert ((q < 1.0) & (q > 0)).any() and (q > 40.0).any()  # below, between and beyond the knots
    assert_allclose(curve.survival(q)[0], 1 - p, rtol=1e-10, atol=1e-13)
    assert np.all(np.diff(q) > 0)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("tau", [3.0, 60.0])
def test_restricted_mean_matches_quadrature_of_the_written_out_survival(scale, tau):
    gamma = GAMMAS[1]
    curve = RoystonParmar(gamma, KNOTS, scale=scale, time_unit="months")
    inside = [k for k in np.exp(KNOTS) if k < tau]
    expected, _ = integrate.quad(reference_survival, 0.0, tau, args=(gamma, KNOTS, scale),
                                 points=inside or None, epsabs=0, epsrel=1e-13, limit=200)
    assert_allclose(curve.restricted_mean(tau), expected, rtol=1e-8)


def test_samples_are_independent_curves():
    rng = np.random.default_rng(1)
    gammas = GAMMAS[0] + rng.normal(0, [0.1, 0.05, 0.005, 0.01], (5, 4))
    p = np.array([0.05, 0.5, 0.95])
    for scale in SCALES:
        together = RoystonParmar(gammas, KNOTS, scale=scale, time_unit="months")
        assert together.n_samples == 5
        for i, row in enumerate(gammas):
            alone = RoystonParmar(row, KNOTS, scale=scale, time_unit="months")
            for method in ("survival", "cumulative_hazard", "hazard", "density"):
                assert_allclose(getattr(together, method)(TIMES)[i], getattr(alone, method)(TIMES)[0], rtol=1e-14)
            assert_allclose(together.quantile(p)[i], alone.quantile(p)[0], rtol=1e-14)
            if scale == "hazard":  # the integral is the slowest part; one scale suffices
                assert_allclose(together.restricted_mean(30.0)[i], alone.restricted_mean(30.0)[0], rtol=1e-11)


def test_flat_tail_levels_off_and_its_late_quantiles_are_infinite():
    # knots 0, 1, 3: ds/dx above k_max is γ1 + γ2·v'(3) = 0.6 − 6·0.1 = 0; s(3) = 3·0.6 − 10·0.1 = 0.8
    curve = RoystonParmar([0.0, 0.6, 0.1], [0.0, 1.0, 3.0], scale="hazard", time_unit="years")
    plateau = math.exp(-math.exp(0.8))
    assert_allclose(curve.survival([np.exp(3.0), 1e6, np.inf])[0], plateau, rtol=1e-12)
    assert curve.quantile([0.95])[0, 0] == np.inf
    assert curve.hazard([1e6])[0, 0] == 0.0


def test_survival_on_the_model_grid_is_a_valid_curve():
    grid = TimeGrid.from_horizon(10.0, WEEK_YEARS)
    curve = RoystonParmar(GAMMAS[0] + [[0.0, 0, 0, 0], [0.3, 0, 0, 0]], KNOTS, scale="hazard", time_unit="months")
    values = curve.survival_on_grid(grid)
    assert values.shape == (2, grid.n_cycles + 1) and values.flags.c_contiguous
    check_survival_curves(values, "spline")  # starts at 1, never rises
    assert_allclose(values[0, 1:], curve.survival(grid.times_years[1:] * 12.0)[0], rtol=1e-12)


# --- non-monotone splines ------------------------------------------------------------------
NON_MONOTONE = [0.0, 0.4, 0.1]  # knots 0, 1, 3: ds/dx above x = 3 is 0.4 − 6·0.1 = −0.2


def test_non_monotone_spline_is_refused_naming_sample_and_place():
    gammas = np.array([[0.0, 0.4, 0.01], [0.0, 0.4, 0.02], NON_MONOTONE])
    with pytest.raises(InputError, match=r"gamma \[sample 2\]: the spline s\(log t\) decreases \(ds/dx is -0\.2 "
                                         r"at log t = 3, t = 20\.0855 years\)"):
        RoystonParmar(gammas, [0.0, 1.0, 3.0], scale="odds", time_unit="years")


def test_unchecked_non_monotone_spline_evaluates_as_flexsurv():
    curve = RoystonParmar(NON_MONOTONE, [0.0, 1.0, 3.0], scale="hazard", time_unit="years", check_monotone=False)
    t = np.exp([2.0, 4.0, 5.0])
    assert curve.hazard(t)[0, 1] == 0.0 and curve.density(t)[0, 2] == 0.0  # flexsurv: hazard, density 0
    expected = [reference_survival(u, np.array(NON_MONOTONE), [0.0, 1.0, 3.0], "hazard") for u in t]
    assert_allclose(curve.survival(t)[0], expected, rtol=1e-12)  # S from the spline: it rises
    assert expected[2] > expected[1]


# --- default knots --------------------------------------------------------------------------
@pytest.mark.verification(
    kind="other software",
    against="flexsurv's default knots: R type-7 quantiles of the log event times",
    tolerance="rtol 1e-15")
def test_default_knots_follow_flexsurv():
    time = np.array([2.0, 4.0, 3.0, 20.0, 5.0, 7.0, 1.0, 11.0])
    event = np.array([1, 0, 1, 0, 1, 1, 0, 1])
    # log event times, sorted: log 2, 3, 5, 7, 11 (censored 1, 4, 20 do not count)
    assert_allclose(default_knots(time, event, 0, time_unit="months"), np.log([2.0, 11.0]))
    assert_allclose(default_knots(time, event, 1, time_unit="months"), np.log([2.0, 5.0, 11.0]))
    # R type-7 quantiles of the 5 log times at 1/3 and 2/3: positions h = 4·p = 4/3 and 8/3
    lx = np.log([2.0, 3.0, 5.0, 7.0, 11.0])
    expected = [lx[0], lx[1] + (1 / 3) * (lx[2] - lx[1]), lx[2] + (2 / 3) * (lx[3] - lx[2]), lx[4]]
    assert_allclose(default_knots(time, event, 2, time_unit="months"), expected, rtol=1e-15)
    # no events: boundary knots from all the (censoring) times
    assert_allclose(default_knots(time, np.zeros(8), 0, time_unit="months"), np.log([1.0, 20.0]))


# --- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "gamma, knots, kwargs, message",
    [
        ([0, 1, 0], [0.0, 2.0, 1.0], {}, (r"RoystonParmar knots \[2\] is 1\.0, not greater than the knot before it "
                                         r"\(2\.0\): knots must be strictly increasing")),
        ([0, 1, 0], [0.0, 1.0, 1.0], {}, r"knots \[2\] is 1\.0, not greater than the knot before it \(1\.0\)"),
        ([0], [0.5], {}, r"RoystonParmar knots has 1 value\(s\): need at least the 2 boundary knots"),
        ([0, 1, 0], [0.0, 3.0], {}, r"RoystonParmar gamma: has 3 coefficient\(s\) per sample but knots has 2 values"),
        ([[0, 1], [0, 1, 2]], [0.0, 3.0], {}, r"RoystonParmar gamma: could not be read as numbers"),
        ([[[0, 1]]], [0.0, 3.0], {}, r"RoystonParmar gamma: has 3 dimensions"),
        ([0, np.nan], [0.0, 3.0], {}, r"RoystonParmar gamma\[1\] is nan: every value must be a finite number"),
        ([[0, 1], [0, np.inf]], [0.0, 3.0], {}, r"RoystonParmar gamma\[1, 1\] is inf: every value must be a finite"),
        ([0, 1], [0.0, np.inf], {}, r"RoystonParmar knots\[1\] is inf: every value must be a finite number"),
        ([0, 1], [0.0, 3.0], {"scale": "log"}, r"RoystonParmar scale is 'log': unknown scale; use one of hazard, odds"),
        ([0, 1], [0.0, 3.0], {"time_unit": "fortnights"}, r"time_unit is 'fortnights': unknown time unit"),
        ([[0, 1], [0, -0.5]], [0.0, 3.0], {}, r"gamma \[sample 1, γ1\] is -0\.5: must be positive"),
        ([0, 0.0, 1.0], [0.0, 1.0, 3.0], {}, r"gamma \[sample 0, γ1\] is 0\.0: must be positive"),
        (NON_MONOTONE, [0.0, 1.0, 3.0], {}, r"gamma \[sample 0\]: the spline s\(log t\) decreases"),
    ],
)
def test_bad_curve_input_is_refused(gamma, knots, kwargs, message):
    arguments = {"scale": "hazard", "time_unit": "months"} | kwargs
    with pytest.raises(InputError, match=message):
        RoystonParmar(gamma, knots, **arguments)


@pytest.mark.parametrize(
    "time, event, n_internal, message",
    [
        ([1.0, 2.0], [1, 1, 0], 0, r"time has 2 values but event has 3"),
        ([1.0, 0.0, 3.0], [1, 1, 1], 0, r"time \[1\] is 0\.0: times must be positive"),
        ([1.0, 2.0], [1, 2], 0, r"event \[1\] is 2\.0: must be 1 \(event\) or 0 \(censored\)"),
        ([1.0, 2.0], [1, 1], -1, r"n_internal is -1: must be a non-negative whole number"),
        ([1.0, 2.0], [1, 1], 1.5, r"n_internal is 1\.5"),
        ([1.0, 2.0], [0, 0], 1, r"no observation has the event"),
        ([1.0, 2.0, 2.0, 2.0, 3.0], [1, 1, 1, 1, 1], 2, r"default knots .* are not strictly increasing"),
        ([1.0, 2.0], [1, 0], 0, r"default knots \[0\.0, 0\.0\] are not strictly increasing"),
    ],
)
def test_bad_knot_data_is_refused(time, event, n_internal, message):
    with pytest.raises(InputError, match=message):
        default_knots(time, event, n_internal, time_unit="months")


def test_basis_refuses_bad_knots_and_derivative():
    with pytest.raises(InputError, match=r"knots \[1\] is 0\.0, not greater than the knot before it"):
        spline_basis([0.0], [1.0, 0.0])
    with pytest.raises(InputError, match=r"derivative is 3: must be 0, 1 or 2"):
        spline_basis([0.0], [0.0, 1.0], 3)
    with pytest.raises(InputError, match=r"default_knots|time_unit is 'hours'"):
        default_knots([1.0, 2.0], [1, 1], 0, time_unit="hours")

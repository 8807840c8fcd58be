"""The compiled general-population survival against a direct integration of the life
table's force of mortality, and against the curve's numpy formula (bit for bit where
the grid is not evenly spaced, to rounding where the pass recurs from point to point); an
exponential curve on the grid against numpy's exponential of each point; the one-pass
check of survival curves against their rules written point by point; the convolution of
a curve's exits by recursion against numpy's convolution of them written out."""
import math
import re

import numpy as np
import pytest

from markov import TimeGrid, _engine
from markov.engine import exponential_survival, general_population_survival
from markov.survival import GeneralPopulationSurvival, LifeTable

#: Years since the start: a weekly grid past the oldest table age, as the model's grid
#: (evenly spaced, so the compiled pass recurs within each year of age).
WEEKLY = np.arange(0, 1600) * (7 / 365.25)
#: The same with times between its points: not evenly spaced, an exponential per point.
TIMES = np.concatenate([WEEKLY, [0.001, 0.5, 1.0, 2.75, 13.3]])


def _cohorts(table: LifeTable, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random fractional ages over the table, whole ages, and ages at and just before its
    last age; shares of women over [0, 1], 0 and 1 included."""
    rng = np.random.default_rng(seed)
    last = float(table.ages[-1])
    ages = np.concatenate([rng.uniform(0, last, n), [0.0, 40.0, 64.5, last - 1.0, last - 0.3, last - 1e-9, last]])
    shares = np.concatenate([rng.uniform(0, 1, n), [0.0, 1.0, 0.18, 0.5, 1.0, 0.0, 0.4]])
    return ages, shares


def _forces(table: LifeTable, sex: str) -> list[float]:
    """−log(1 − qₓ) by age from the table's rows; an open last age group (qₓ = 1) at the
    rate of its published life expectancy."""
    qx = table.qx_female if sex == "female" else table.qx_male
    forces = [-math.log1p(-q) for q in qx[:-1]]
    last = 1.0 / table.source["open_age_life_expectancy"][sex] if qx[-1] == 1.0 else -math.log1p(-qx[-1])
    return [*forces, last]


def _survival(forces: list[float], age: float, years: float) -> float:
    """exp(−∫ μ) over [age, age + years], year of age by year of age, the last age's force
    going on beyond the table."""
    last, pieces, at = len(forces) - 1, [], age
    end = age + years
    while at < end:
        whole = min(math.floor(at), last)
        until = end if whole == last else min(end, whole + 1.0)
        pieces.append(forces[whole] * (until - at))
        at = until
    return math.exp(-math.fsum(pieces))


@pytest.mark.verification(
    kind="closed form",
    against="exp(−∫ μ) of the life table's piecewise-constant force of mortality, integrated year by year, "
            "mixed by sex; random fractional ages, ages at the table's end; a weekly grid (the pass recurring "
            "within a year of age) and an uneven one (an exponential per point)",
    tolerance="rtol 1e-13")
@pytest.mark.parametrize("name", ["us_2023", "england_2021_2023"])
@pytest.mark.parametrize("times", [WEEKLY, TIMES], ids=["evenly spaced", "uneven"])
def test_general_population_survival_integrates_the_life_table(name, times):
    table = LifeTable.load(name)
    ages, shares = _cohorts(table, 40, seed=16)
    forces = {sex: _forces(table, sex) for sex in ("female", "male")}
    expected = np.array([[f * _survival(forces["female"], a, t) + (1 - f) * _survival(forces["male"], a, t)
                          for t in times] for a, f in zip(ages, shares)])
    assert (expected[:, 1599] < 1e-3).any() and (expected > 0.99).any()  # the range is covered, both ends
    got = general_population_survival(ages, shares, times, table.force_of_mortality("female"),
                                      table.force_of_mortality("male"))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    curve = GeneralPopulationSurvival(table, ages, shares)
    np.testing.assert_allclose(curve.survival_at_years(times), expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", ["us_2023", "england_2021_2023"])
def test_general_population_survival_is_the_curves(name):
    """Where each point is its own exponential, to the last bit or two (the compiled
    kernel calls the C library's exp, numpy a vectorised one that rounds differently on
    CPUs with AVX-512: 2 units in the last place seen); on an evenly spaced grid, where a
    point within a year of age is the one before times exp(−μΔ), within the products'
    rounding (at most 32 of them before an exact exponential)."""
    table = LifeTable.load(name)
    ages, shares = _cohorts(table, 300, seed=3)
    forces = table.force_of_mortality("female"), table.force_of_mortality("male")
    got = general_population_survival(ages, shares, TIMES, *forces)
    np.testing.assert_allclose(got, GeneralPopulationSurvival(table, ages, shares).survival_at_years(TIMES),
                               rtol=1e-15, atol=0)
    assert got.shape == (ages.size, TIMES.size) and got.flags.c_contiguous and got.flags.writeable
    grid = TimeGrid.from_horizon(30.0, 7 / 365.25).times_years
    got = general_population_survival(ages, shares, grid, *forces)
    expected = GeneralPopulationSurvival(table, ages, shares).survival_at_years(grid)
    np.testing.assert_allclose(got, expected, rtol=5e-14, atol=0)
    assert not np.array_equal(got, expected)  # the recurring pass did run
    assert np.array_equal(got[:, 0], np.ones(ages.size))


def test_floor_survival_takes_the_population_death_computed_once():
    from markov.engine import death_probabilities, floor_survival

    rng = np.random.default_rng(12)
    times = np.arange(300) / 52
    survival = np.exp(-(times[None, :] / rng.uniform(0.5, 3.0, size=(5, 1))) ** 1.3)
    quadratic = 0.004 * rng.uniform(size=(5, 1))
    population = np.exp(-0.3 * times[None, :] - quadratic * times[None, :] ** 2)
    death = death_probabilities(population)
    # closed form: 1 - exp(-(H(t + 1) - H(t))) with H(t) = 0.3 t + b t²
    hazard = 0.3 * np.diff(times)[None, :] + quadratic * np.diff(times**2)[None, :]
    np.testing.assert_allclose(death, -np.expm1(-hazard), rtol=1e-9)
    share = rng.uniform(0.1, 0.9, size=5)
    alone, given = floor_survival(survival, share, population), floor_survival(survival, share, population, death)
    for a, b in zip(alone[:2], given[:2], strict=True):
        np.testing.assert_array_equal(a, b)
    assert alone[2] == given[2] > 0


def test_a_floor_keeps_a_death_share_of_one_as_one_1():
    """Where every event is a death, the floor raises the events only: the share comes back
    as one 1, and the curve and the count are those of the same samples floored beside a
    sample whose share is written out by cycle."""
    from markov.engine import floor_survival

    rng = np.random.default_rng(41)
    times = np.arange(400) / 52
    survival = np.exp(-(times[None, :] / rng.uniform(0.5, 3.0, size=(6, 1))) ** 1.3)
    population = np.exp(-0.3 * times[None, :] - 0.004 * times[None, :] ** 2)
    curve, share, floored = floor_survival(survival, np.ones(6), population)
    assert share.shape == (1, 1) and share[0, 0] == 1.0 and floored > 0
    beside = np.vstack([survival, survival[:1]])
    curve_beside, share_beside, floored_beside = floor_survival(beside, np.append(np.ones(6), 0.5), population)
    np.testing.assert_array_equal(curve, curve_beside[:6])
    np.testing.assert_array_equal(share_beside[:6], 1.0)
    assert floored_beside == floored + floor_survival(survival[:1], np.full(1, 0.5), population)[2]


@pytest.mark.verification(kind="closed form", against="numpy's exp(-rate * t) at every time point of the grid",
                          tolerance="4 units in the last place times max(1, rate * t)")
@pytest.mark.parametrize(("cycle_years", "n_cycles"),
                         [(7 / 365.25, 1044), (1 / 12, 240), (0.25, 64), (0.5, 31), (1.0, 5), (1.0, 1)])
def test_exponential_survival_on_the_grid_is_the_exponential_of_each_time_point(cycle_years, n_cycles):
    grid = TimeGrid(cycle_years, n_cycles)  # grids shorter than a block, one block and a bit, many blocks
    rates = np.concatenate([np.geomspace(1e-4, 50.0, 97), [0.7, 0.0]])
    found = exponential_survival(rates, grid)
    exact = np.exp(-rates[:, None] * grid.times_years[None, :])
    assert found.shape == exact.shape and found.flags.c_contiguous
    np.testing.assert_array_equal(found[:, 0], 1.0)
    np.testing.assert_array_equal(found[-1], 1.0)  # a rate of 0 never falls
    exponent = np.maximum(1.0, rates[:, None] * grid.times_years[None, :])
    tolerance = 4 * np.finfo(np.float64).eps * exponent * exact + np.finfo(np.float64).tiny
    assert (np.abs(found - exact) <= tolerance).all()
    # a sample's row does not depend on the samples beside it
    np.testing.assert_array_equal(exponential_survival(np.array([0.7]), grid), found[-2:-1])


def test_blockwise_products_repeat_a_row_given_once_and_leave_no_point_unwritten():
    starts, within = np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 10.0], [1.0, 100.0]])
    out = np.full((2, 5), np.nan)
    _engine.blockwise_products(starts, within, out)
    np.testing.assert_array_equal(out, [[1, 10, 2, 20, 3], [1, 100, 2, 200, 3]])


def _holds_by_rule(rows: np.ndarray, tolerance: float) -> bool:
    """check_survival_curves' rules written point by point in Python: S(0) within the
    tolerance of 1, every value a number in [0, 1], no rise above the tolerance."""
    for row in rows.tolist():
        if not abs(row[0] - 1.0) <= tolerance:
            return False
        for t, value in enumerate(row):
            if not 0.0 <= value <= 1.0 or (t and not value - row[t - 1] <= tolerance):
                return False
    return True


@pytest.mark.parametrize("seed", range(4))
def test_the_one_pass_survival_check_holds_exactly_where_every_rule_holds(seed):
    """Monotone curves, then each spoilt at a random point by each way a curve can fail:
    NaN, ±inf, below 0, above 1, a rise just above the tolerance (and one at it, which
    holds), S(0) off by just more than the tolerance (and by it, which holds)."""
    rng = np.random.default_rng(seed)
    tolerance = 1e-12
    curves = np.cumprod(rng.uniform(0.97, 1.0, (6, 40)), axis=1)
    curves[:, 0] = 1.0
    spoilers = [np.nan, np.inf, -np.inf, -1e-300, 1.0 + 1e-15]
    cases = [curves]
    for value in spoilers:
        spoilt = curves.copy()
        spoilt[rng.integers(6), rng.integers(40)] = value
        cases.append(spoilt)
    for step in (2 * tolerance, tolerance):  # a rise above the tolerance, and one at it (exactly, in binary)
        risen = curves.copy()
        s, t = rng.integers(6), rng.integers(1, 40)
        risen[s, t] = risen[s, t - 1] + step
        cases.append(np.minimum(risen, 1.0) if step == tolerance else risen)
    for offset in (-2 * tolerance, -tolerance / 2):
        started = curves.copy()
        started[rng.integers(6), 0] = 1.0 + offset
        cases.append(started)
    verdicts = [bool(_engine.survival_curves_hold(case, tolerance)) for case in cases]
    assert verdicts == [_holds_by_rule(case, tolerance) for case in cases]
    assert verdicts.count(True) >= 3  # the clean curves, the rise at the tolerance, S(0) within it
    assert _engine.survival_curves_hold(np.ones((0, 5)), tolerance)
    assert _engine.survival_curves_hold(np.ones((3, 0)), tolerance)


def test_the_engine_check_names_what_the_validation_names_for_any_layout():
    """Curves that break a rule get the message of markov._validate's check, whether the
    compiled pass took them (contiguous float64) or not (a strided view, float32); curves
    that hold pass either way."""
    from markov._validate import InputError, check_survival_curves
    from markov.engine.cohort import check_curves

    curves = np.cumprod(np.full((3, 12), 0.9), axis=1) / 0.9
    bad = curves.copy()
    bad[1, 7] = bad[1, 6] + 1e-6
    wide = np.zeros((3, 24))
    wide[:, ::2] = bad
    for layout in (bad, wide[:, ::2], bad.astype(np.float32)):
        with pytest.raises(InputError) as expected:
            check_survival_curves(layout, "os")
        with pytest.raises(InputError, match=re.escape(str(expected.value))):
            check_curves(layout, "os")
    for layout in (curves, np.ascontiguousarray(np.repeat(curves, 2, axis=1))[:, ::2]):
        check_curves(layout, "os")


def _exits(first: float, ratio: float, n_times: int) -> np.ndarray:
    """d[t] = S[t - 1] - S[t] of the series S = 1, first·ratio^(t − 1) (t ≥ 1), by hand."""
    exits = np.zeros(n_times)
    exits[1] = 1.0 - first
    exits[2:] = first * (1.0 - ratio) * ratio ** np.arange(n_times - 2)
    return exits


@pytest.mark.verification(kind="closed form",
                          against="numpy's direct convolution of the exits S(t − 1) − S(t) written out term by term",
                          tolerance="1e-14 of the result's largest value")
@pytest.mark.parametrize("n_samples", [1, 4, 7])
def test_exit_convolution_is_the_convolution_of_a_curves_exits(n_samples):
    """The recursion against numpy's direct convolution of the exits written out, to
    1e-14 of the result's largest value (rtol stated: the two sum in different orders)."""
    rng = np.random.default_rng(n_samples)
    n_times = 400
    first, ratio = rng.uniform(0.8, 0.999, n_samples), rng.uniform(0.8, 0.999, n_samples)
    other = rng.uniform(size=(n_samples, n_times))
    out = np.full((n_samples, n_times), np.nan)
    _engine.exit_convolution(first, ratio, other, out)
    for s in range(n_samples):
        expected = np.convolve(_exits(first[s], ratio[s], n_times), other[s])[:n_times]
        np.testing.assert_allclose(out[s], expected, rtol=0, atol=1e-14 * np.abs(expected).max())

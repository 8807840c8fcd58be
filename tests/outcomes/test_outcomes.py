"""Cycle correction and discounting against hand-worked sums and closed-form integrals."""
import math

import numpy as np
import pytest

from markov import (
    InputError,
    TimeGrid,
    accumulate,
    run_markov,
    run_partitioned_survival,
)
from markov.engine import CohortTrace
from markov.outcomes import Accumulator, state_weights
from markov.outcomes.accumulate import cycle_weights, discount_factors


@pytest.fixture
def decay():
    """Two states, alive -> dead with probability 0.2 a cycle, half-year cycles."""
    grid = TimeGrid(0.5, 6)
    trace = run_markov([[0.8, 0.2], [0, 1]], [1, 0], n_cycles=grid.n_cycles, state_names=["alive", "dead"])
    return grid, trace, 0.8 ** np.arange(7)


@pytest.mark.verification(
    kind="closed form",
    against="hand-worked sums of start, end, trapezoid and life-table corrections, discounted",
    tolerance="rel 1e-14")
@pytest.mark.parametrize("rate", [0.0, 0.035, 0.06])
def test_cycle_corrections_by_hand(decay, rate):
    grid, trace, alive = decay
    t = grid.times_years
    d = (1 + rate) ** -t
    mid = (1 + rate) ** -(t[:-1] + 0.25)
    expected = {
        "start": 0.5 * np.sum(alive[:-1] * d[:-1]),
        "end": 0.5 * np.sum(alive[1:] * d[1:]),
        "trapezoid": 0.25 * np.sum(alive[:-1] * d[:-1] + alive[1:] * d[1:]),
        "life_table": 0.25 * np.sum((alive[:-1] + alive[1:]) * mid),
    }
    for method, value in expected.items():
        total = accumulate(trace, grid, per_year=[1.0, 0.0], discount_rate=rate, method=method)
        assert total.shape == (1, 2)
        assert total[0, 0] == pytest.approx(value, rel=1e-14), method
        assert total[0, 1] == 0.0


def test_life_table_equals_trapezoid_without_discounting(decay):
    grid, trace, _ = decay
    a = accumulate(trace, grid, per_year=[3.0, 1.0], method="life_table")
    b = accumulate(trace, grid, per_year=[3.0, 1.0], method="trapezoid")
    np.testing.assert_allclose(a, b, rtol=1e-14)


def test_values_varying_by_cycle_and_sample(decay):
    grid, trace, alive = decay
    rates = np.arange(6.0)[:, None] * np.array([1.0, 0.0])  # cost per year c in cycle c
    total = accumulate(trace, grid, per_year=rates, method="end")
    assert total[0, 0] == pytest.approx(0.5 * np.sum(np.arange(6) * alive[1:]), rel=1e-14)
    per_sample = np.array([[[1.0, 0.0]], [[2.0, 0.0]]])  # (2 samples, 1, 2 states)
    two = run_markov(np.tile([[0.8, 0.2], [0, 1]], (2, 1, 1, 1)), [1, 0], n_cycles=6)
    totals = accumulate(two, grid, per_year=per_sample, method="start")
    assert totals[1, 0] == pytest.approx(2 * totals[0, 0], rel=1e-14)


@pytest.mark.verification(
    kind="closed form",
    against="hand-worked discounted one-off values on entry",
    tolerance="rel 1e-14")
def test_one_off_values_on_entry_are_discounted_at_entry(decay):
    grid, trace, alive = decay
    rate = 0.035
    deaths = alive[:-1] * 0.2  # entering "dead" in the cycle ending at t = 1..6
    expected = 1000 * np.sum(deaths * (1 + rate) ** -grid.times_years[1:])
    total = accumulate(trace, grid, on_entry=[0.0, 1000.0], discount_rate=rate)
    assert total[0, 1] == pytest.approx(expected, rel=1e-14)
    # the initial state counts as entered at t = 0 (undiscounted)
    start = accumulate(trace, grid, on_entry=[500.0, 0.0], discount_rate=rate)
    assert start[0, 0] == pytest.approx(500.0, rel=1e-14)


@pytest.mark.verification(
    kind="closed form",
    against="the continuous discounted integral of exponential survival over 30 years",
    tolerance="relative 1e-3 (monthly) and 5e-5 (weekly), within the trapezoid error bound")
def test_trapezoid_converges_to_the_continuous_discounted_integral():
    # exponential survival with hazard h, continuous discounting at ln(1 + r):
    # integral_0^T exp(-(h + ln(1+r)) t) dt; trapezoid error is O(step^2)
    h, r, horizon = 0.7, 0.035, 30.0
    k = h + np.log1p(r)
    exact = (1 - np.exp(-k * horizon)) / k
    for step, tolerance in [(1 / 12, 1e-3), (7 / 365.25, 5e-5)]:
        grid = TimeGrid.from_horizon(horizon, step)
        os_ = np.exp(-h * grid.times_years)
        trace = run_partitioned_survival([os_], state_names=["alive", "dead"])
        total = accumulate(trace, grid, per_year=[1.0, 0.0], discount_rate=r)[0, 0]
        assert abs(total - exact) / exact < tolerance
        assert abs(total - exact) / exact < k**2 * step**2 / 12 * 1.01  # the trapezoid error bound


def test_grid_from_horizon():
    grid = TimeGrid.from_horizon(20, 7 / 365.25)
    assert grid.n_cycles == 1044 and grid.horizon_years >= 20
    assert TimeGrid.from_horizon(20, 1.0).n_cycles == 20


@pytest.mark.verification(
    kind="closed form",
    against="discounted exits of a three-state chain worked by hand: (1 − p)^(t−1)·p from the first state, "
            "and entries less those still there from the second",
    tolerance="rel 1e-13")
def test_discounted_exits_by_hand():
    grid, rate = TimeGrid(0.5, 8), 0.05
    # first -> second with probability 0.3, second -> dead with 0.4
    trace = run_markov([[0.7, 0.3, 0.0], [0.0, 0.6, 0.4], [0.0, 0.0, 1.0]], [1, 0, 0], n_cycles=grid.n_cycles)
    d = (1 + rate) ** -grid.times_years
    t = np.arange(1, grid.n_cycles + 1)
    exits = Accumulator(trace, grid, discount_rate=rate).exits[0]
    assert exits[0] == pytest.approx(np.sum(d[1:] * 0.7 ** (t - 1) * 0.3), rel=1e-13)
    second = trace.occupancy[0, :, 1]
    assert exits[1] == pytest.approx(np.sum(d[1:] * 0.4 * second[:-1]), rel=1e-13)
    assert exits[2] == pytest.approx(0.0, abs=1e-15)  # nobody leaves death


@pytest.mark.verification(
    kind="another engine",
    against="the same values built by cycle with numpy and accumulated",
    tolerance="bit for bit")
def test_values_scaled_and_capped_by_cycle_without_building_them():
    rng = np.random.default_rng(4)
    grid = TimeGrid(0.25, 30)
    trace = run_markov(np.tile([[0.8, 0.15, 0.05], [0.0, 0.9, 0.1], [0.0, 0.0, 1.0]], (3, 1, 1, 1)), [1, 0, 0],
                       n_cycles=grid.n_cycles)
    level = rng.uniform(0.5, 0.9, size=(3, 3))
    factor = np.linspace(1.0, 0.9, grid.n_cycles)[None, :] * rng.uniform(0.95, 1.05, size=(3, 1))
    cap = rng.uniform(0.6, 0.8, size=(1, grid.n_cycles))  # binds for some states and cycles, not others
    built = np.minimum(level[:, None, :] * factor[:, :, None], cap[:, :, None])
    accumulator = Accumulator(trace, grid, discount_rate=0.035)
    np.testing.assert_array_equal(accumulator.capped_total(level, factor, cap), accumulator.total(built))
    assert (built < level[:, None, :] * factor[:, :, None]).any() and (built == level[:, None, :] * factor[:, :, None]).any()
    with pytest.raises(InputError, match="factor has shape"):
        accumulator.capped_total(level, factor[:, :5], cap)


@pytest.mark.verification(
    kind="another engine",
    against="the same values built by cycle with numpy and accumulated",
    tolerance="rtol 1e-14")
@pytest.mark.parametrize("cap_falls", [True, False])
def test_values_capped_by_cycle_but_not_scaled_take_the_years_less_what_the_cap_takes(cap_falls):
    """A factor of 1 (a utility not adjusted for age): a state's total is its value times
    its discounted years, less what the cap takes from the first cycle it is below the
    value on; a cap that rises again after (not monotone) takes nothing where it is above."""
    from markov.engine import capped_level_totals

    grid = TimeGrid(0.25, 30)
    trace = run_markov(np.tile([[0.8, 0.15, 0.05], [0.0, 0.9, 0.1], [0.0, 0.0, 1.0]], (4, 1, 1, 1)), [1, 0, 0],
                       n_cycles=grid.n_cycles)
    cap = np.linspace(0.8, 0.6, grid.n_cycles)[None, :]  # falls with age
    if not cap_falls:  # falls, then rises above every value again
        cap = np.where(np.arange(grid.n_cycles) < 20, cap, 0.95)
    level = np.array([[0.5, 0.55, 0.0], [0.7, 0.5, 0.0], [0.9, 0.85, 0.0], [0.5, 0.7, 0.0]])  # never, some, every cycle
    factor = np.ones((1, grid.n_cycles))
    accumulator = Accumulator(trace, grid, discount_rate=0.035)
    got = accumulator.capped_total(level, factor, cap)
    built = accumulator.total(np.minimum(level[:, None, :] * factor[:, :, None], cap[:, :, None]))
    capped = level > cap.min()
    np.testing.assert_array_equal(got[~capped], (level * accumulator.years)[~capped])
    np.testing.assert_allclose(got, built, rtol=1e-14, atol=0)
    assert capped.any() and not capped.all()
    assert (got[capped] < (level * accumulator.years)[capped]).all()
    # the cap per sample, in any order of the states' values, and a view of the trace
    caps = np.vstack([cap, cap[:, ::-1], np.full((1, grid.n_cycles), 0.6), np.full((1, grid.n_cycles), np.inf)])
    by_sample = capped_level_totals(level[:, ::-1], caps, *cycle_weights(grid, 0.035, "trapezoid"),
                                    trace.occupancy[:, :, ::-1], accumulator.years[:, ::-1])
    built = accumulator.total(np.minimum(level[:, None, :], caps[:, :, None]))
    np.testing.assert_allclose(by_sample, built[:, ::-1], rtol=1e-14, atol=0)


@pytest.mark.parametrize(("values", "message"), [
    ({"per_year": [1.0, 2.0, 3.0]},
     ("per_year has shape (3,); expected (n_states,) = (2,), (n_cycles, n_states) with n_cycles = 6, "
      "or (n_samples, n_cycles or 1, n_states) with n_samples = 1")),
    ({"on_entry": np.ones((6, 2))},
     ("on_entry has shape (6, 2); expected (n_states,) = (2,), (n_cycles, n_states) with n_cycles = 7, "
      "or (n_samples, n_cycles or 1, n_states) with n_samples = 1")),
    ({"per_year": np.ones((1, 1, 1, 2))}, "per_year: has 4 dimensions (shape (1, 1, 1, 2)), expected 1 or 2 or 3"),
    ({"method": "midpoint", "per_year": [1.0, 0.0]}, "cycle correction is 'midpoint': must be one of trapezoid, life_table, start, end"),
])
def test_values_of_the_wrong_shape_and_unknown_corrections_are_one_error_naming_them(decay, values, message):
    grid, trace, _ = decay
    with pytest.raises(InputError) as error:
        accumulate(trace, grid, **values)
    assert str(error.value) == message


def test_cycle_weights_called_alone_name_an_unknown_correction_and_the_known_ones():
    # markov.cycle_weights is public: called without an Accumulator, which checks the method first
    with pytest.raises(InputError) as error:
        cycle_weights(TimeGrid(0.5, 6), 0.035, "midpoint")
    assert str(error.value) == "cycle correction is 'midpoint': must be one of trapezoid, life_table, start, end"


@pytest.mark.parametrize("rate", [-1.0, -1.5, math.inf, math.nan])
def test_a_discount_rate_of_minus_one_or_less_or_not_finite_is_an_error(decay, rate):
    grid, trace, _ = decay
    with pytest.raises(InputError) as error:
        accumulate(trace, grid, per_year=[1.0, 0.0], discount_rate=rate)
    assert str(error.value) == f"discount_rate is {rate!r}: must be a number above -1 (0.035 for 3.5% a year)"


def test_values_per_year_and_on_entry_by_time_point_add_up(decay):
    # one call with both is the sum of one call with each (each checked by hand above), for values on
    # entry by time point and by sample and time point
    grid, trace, _ = decay
    per_year = [[10.0, 0.0]] * grid.n_cycles
    by_time = 1.0 + np.arange(2.0 * (grid.n_cycles + 1)).reshape(-1, 2)
    for on_entry in (by_time, np.stack([by_time])):
        both = accumulate(trace, grid, per_year=per_year, on_entry=on_entry, discount_rate=0.035)
        years = accumulate(trace, grid, per_year=per_year, discount_rate=0.035)
        entries = accumulate(trace, grid, on_entry=on_entry, discount_rate=0.035)
        assert years[0, 0] > 1 and entries[0, 0] > 0  # each part counts in the first state
        np.testing.assert_allclose(both, years + entries, rtol=1e-14)


def test_an_accumulator_corrects_by_the_trapezoid_unless_told_and_needs_the_trace_s_grid(decay):
    grid, trace, _ = decay
    np.testing.assert_array_equal(Accumulator(trace, grid).total(per_year=[1.0, 0.0]),
                                  accumulate(trace, grid, per_year=[1.0, 0.0], method="trapezoid"))
    with pytest.raises(InputError) as error:
        Accumulator(trace, TimeGrid(0.5, 5))
    assert str(error.value) == "the grid has 5 cycles but the trace has 6"


@pytest.mark.parametrize(("rate", "message"), [
    (True, "discount_rate is True: must be a number (0.035 for 3.5% a year), not bool"),
    ("0.035", "discount_rate is '0.035': must be a number (0.035 for 3.5% a year), not str"),
    (1.5, "discount_rate is 1.5: a percentage? A rate is at most 1: give 0.015 for 1.5% a year")])
def test_a_discount_rate_not_a_number_or_above_one_is_an_error(rate, message):
    with pytest.raises(InputError) as error:
        discount_factors(np.array([0.0, 1.0]), rate)
    assert str(error.value) == message


def test_a_discount_rate_of_one_halves_each_year():
    np.testing.assert_array_equal(discount_factors(np.array([0.0, 1.0, 2.0]), 1.0), [1.0, 0.5, 0.25])


@pytest.mark.parametrize(("name", "message"), [
    ("per_year", "per_year: has 1 dimensions (shape (3,)), expected 2"),
    ("factor", "factor: has 1 dimensions (shape (6,)), expected 2"),
    ("cap", "cap: has 1 dimensions (shape (6,)), expected 2")])
def test_capped_totals_name_a_value_of_the_wrong_shape(decay, name, message):
    grid, trace, _ = decay
    arguments = {"per_year": np.ones((1, 2)), "factor": np.ones((1, 6)), "cap": np.ones((1, 6))}
    arguments[name] = arguments[name][0] if name != "per_year" else np.ones(3)
    with pytest.raises(InputError) as error:
        Accumulator(trace, grid).capped_total(**arguments)
    assert str(error.value) == message


def test_an_infinite_cap_leaves_values_as_they_are_and_a_nan_one_is_refused(decay):
    grid, trace, _ = decay
    accumulator = Accumulator(trace, grid, discount_rate=0.035)
    level, factor = np.array([[0.8, 0.0]]), np.linspace(1.0, 0.9, 6)[None, :]
    uncapped = accumulator.capped_total(level, factor, np.full((1, 6), np.inf))
    np.testing.assert_array_equal(uncapped, accumulator.total(level[:, None, :] * factor[:, :, None]))
    with pytest.raises(InputError, match=r"^cap has a NaN or -inf: every value must be a number \(a cap may be \+inf\)$"):
        accumulator.capped_total(level, factor, np.full((1, 6), np.nan))
    with pytest.raises(InputError, match=r"^factor\[0, 0\] is inf: every value must be a finite number$"):
        accumulator.capped_total(level, np.full((1, 6), np.inf), np.ones((1, 6)))


@pytest.mark.parametrize("method", ["trapezoid", "life_table", "start", "end"])
def test_an_accumulator_given_its_state_sums_values_as_it_does_from_the_trace(method):
    """The sums of state_weights over each state's occupancy and entries, made as a trace
    is built (StateSums), stand for the accumulator's own passes over the trace."""
    rng = np.random.default_rng(47)
    grid = TimeGrid(0.25, 40)
    occupancy, entries = rng.uniform(size=(2, 5, grid.n_cycles + 1, 3))
    trace = CohortTrace(occupancy, entries, ("a", "b", "c"))
    on_occupancy, on_entries = state_weights(grid, 0.035, method)
    assert on_occupancy.shape == (2, grid.n_cycles + 1) and on_entries.shape == (1, grid.n_cycles + 1)
    sums = (np.einsum("qt,stj->sjq", on_occupancy, occupancy), np.einsum("qt,stj->sjq", on_entries, entries))
    given = Accumulator(trace, grid, discount_rate=0.035, method=method, state_sums=sums)
    own = Accumulator(trace, grid, discount_rate=0.035, method=method)
    for name in ("years", "entered", "exits"):
        np.testing.assert_allclose(getattr(given, name), getattr(own, name), rtol=1e-14, err_msg=name)
    per_year, on_entry = rng.uniform(size=(5, 1, 3)), rng.uniform(size=3)
    np.testing.assert_allclose(given.total(per_year, on_entry), own.total(per_year, on_entry), rtol=1e-14)
    # the sums given are what it values by: none of its own
    silent = Accumulator(trace, grid, discount_rate=0.035, method=method,
                         state_sums=(np.zeros((5, 3, 2)), np.zeros((5, 3, 1))))
    assert (silent.total(per_year, on_entry) == 0.0).all()
    # a trace that keeps its entries at t = 0 only is valued the same from the sums, exits included
    first = CohortTrace(occupancy, entries[:, :1], ("a", "b", "c"))
    assert trace.keeps_entries and not first.keeps_entries
    from_first = Accumulator(first, grid, discount_rate=0.035, method=method, state_sums=sums)
    for name in ("years", "entered", "exits"):
        np.testing.assert_array_equal(getattr(from_first, name), getattr(given, name), err_msg=name)
    np.testing.assert_array_equal(from_first.total(per_year, on_entry), given.total(per_year, on_entry))


def test_values_that_need_entries_over_time_refuse_a_trace_that_keeps_them_at_t0_only(decay):
    grid, trace, _ = decay
    first = CohortTrace(trace.occupancy, trace.entries[:, :1], trace.state_names)
    message = "this trace keeps its entries at t = 0 only: values on entry need its entries at every time point"
    with pytest.raises(InputError, match=message):
        Accumulator(first, grid).total(on_entry=[1.0, 0.0])
    with pytest.raises(InputError, match=message):
        Accumulator(first, grid, state_sums=(np.zeros((1, 2, 2)), np.zeros((1, 2, 1)))).total(
            on_entry=np.ones((grid.n_cycles + 1, 2)))


def test_state_sums_of_the_wrong_shape_are_an_error_naming_them(decay):
    grid, trace, _ = decay
    with pytest.raises(InputError, match=r"state_sums' on_entries has shape \(1, 2, 2\); expected \(1, 2, 1\)"):
        Accumulator(trace, grid, state_sums=(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))))


@pytest.mark.parametrize("method", ["trapezoid", "life_table", "start", "end"])
def test_the_weights_of_a_grid_rate_and_method_are_made_once_read_only_and_as_made_alone(method):
    """Kept for a process (every strategy, course and block weighs by the same few): the
    same arrays again, read-only, equal to cycle_weights' and discount_factors' own; an
    equal grid made anew finds them, another rate does not."""
    grid = TimeGrid(0.25, 40)
    on_occupancy, on_entries = state_weights(grid, 0.035, method)
    again = state_weights(TimeGrid(0.25, 40), 0.035, method)
    assert again[0] is on_occupancy and again[1].base is on_entries.base
    assert not on_occupancy.flags.writeable and not on_entries.flags.writeable
    at_start, at_end = cycle_weights(grid, 0.035, method)
    factors = discount_factors(grid.times_years, 0.035)
    np.testing.assert_array_equal(on_entries[0], factors)
    np.testing.assert_array_equal(on_occupancy[0], np.append(at_start, 0.0) + np.insert(at_end, 0, 0.0))
    other = state_weights(grid, 0.05, method)
    assert other[0] is not on_occupancy and (other[1][0, 1:] < on_entries[0, 1:]).all() and other[1][0, 0] == 1.0
    trace = CohortTrace(np.ones((1, grid.n_cycles + 1, 1)), np.zeros((1, grid.n_cycles + 1, 1)), ("a",))
    years = Accumulator(trace, grid, discount_rate=0.035, method=method).years
    np.testing.assert_allclose(years[0, 0], at_start.sum() + at_end.sum(), rtol=1e-14)
    with pytest.raises(InputError, match="cycle correction is 'midpoint'"):
        state_weights(grid, 0.035, "midpoint")
    with pytest.raises(InputError, match="discount_rate is -1.0"):
        state_weights(grid, -1.0, method)


@pytest.mark.parametrize("per_sample", [True, False])
def test_level_totals_are_each_values_total_bit_for_bit(per_sample):
    """Values constant over time stacked (a model's cost categories) total at once to
    what total() gives for each; a stack of the wrong shape is an error naming it."""
    rng = np.random.default_rng(48)
    grid = TimeGrid(0.25, 40)
    trace = CohortTrace(rng.uniform(size=(5, grid.n_cycles + 1, 3)), rng.uniform(size=(5, grid.n_cycles + 1, 3)),
                        ("a", "b", "c"))
    accumulator = Accumulator(trace, grid, discount_rate=0.035)
    rows = 5 if per_sample else 1
    per_year, on_entry = rng.uniform(size=(2, 4, rows, 3))
    totals = accumulator.level_totals(per_year, on_entry)
    assert totals.shape == (4, 5, 3)
    for i in range(4):
        np.testing.assert_array_equal(totals[i], accumulator.total(per_year[i][:, None, :], on_entry[i][:, None, :]))
    with pytest.raises(InputError, match=r"per_year has shape \(4, 2, 3\); expected \(\.\.\., 1 or 5, 3\)"):
        accumulator.level_totals(per_year[:, :2] if per_sample else np.ones((4, 2, 3)), on_entry)
    with pytest.raises(InputError, match=r"on_entry has shape \(4, 1, 2\)"):
        accumulator.level_totals(per_year, np.ones((4, 1, 2)))

"""Sums over each state written by the steps that fill a sequencing trace (StateSums):
the weighted sums of the trace's own rows, whatever its memory layout; the trace itself
the same bits as without them, and the same bits and sums with entries kept at t = 0 only
(by the steps, and by run_sequencing); each sample's sums the same bits whatever the samples
beside it; a state no step wrote left NaN; weights and sums that do not fit refused."""
import numpy as np
import pytest

from markov import TimeGrid, TreatmentLine, _engine, run_sequencing
from markov._validate import InputError
from markov.engine import (
    Convolutions,
    StateSums,
    add_line,
    add_post_progression,
    add_starting_line,
    add_terminal_state,
)
from markov.outcomes import Accumulator, state_weights

N_TIMES = 300
#: first line on and off treatment, second line on and off, third line, care after the
#: second line's own survival, best supportive care, dead
N_STATES = 8


def _inputs(m: int, seed: int = 41) -> dict:
    rng = np.random.default_rng(seed)
    times = np.arange(N_TIMES) / 52
    exponential = lambda rates: np.exp(-rates[:, None] * times)
    weibull = np.exp(-((times / 0.9) ** 1.3))[None, :]  # convolved by FFT
    return {
        "share": rng.uniform(0.5, 1.0, m),
        "first": exponential(rng.uniform(0.3, 1.2, m)),
        "first_on": exponential(rng.uniform(1.3, 2.0, m)),
        "first_death": rng.uniform(0.05, 0.3, (m, 1)),
        "second": weibull,  # one row for every sample
        "second_on": exponential(rng.uniform(2.0, 3.0, m)),
        "second_death": rng.uniform(0.1, 0.4, (m, N_TIMES - 1)),
        "third": exponential(rng.uniform(0.8, 1.5, m)),
        "care": exponential(rng.uniform(1.0, 2.0, m)),
        "bsc": weibull ** 2,
        "onward": rng.uniform(0.3, 0.7, m),
    }


def _weights(seed: int = 43) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (3, N_TIMES)), rng.uniform(0.0, 1.0, (2, N_TIMES))


def _build(given: dict, layout: str, sums: StateSums | None, through: int = N_STATES, first_point_only: bool = False):
    """A trace of eight states built by the steps, stopping after state ``through`` - 1
    (the steps fill states in order); with ``first_point_only``, entries at t = 0 only."""
    m = given["share"].shape[0]
    entry_points = 1 if first_point_only else N_TIMES
    if layout == "state by state":
        occupancy = np.full((m, N_STATES, N_TIMES), 7.0).transpose(0, 2, 1)
        entries = np.full((m, N_STATES, entry_points), 7.0).transpose(0, 2, 1)
    else:  # sample by sample: every state's series strided
        occupancy, entries = np.full((m, N_TIMES, N_STATES), 7.0), np.full((m, entry_points, N_STATES), 7.0)
    convolutions = Convolutions(N_TIMES)
    deaths, post, care = (np.zeros((m, N_TIMES)) for _ in range(3))
    progressed = np.zeros((m, N_TIMES))
    add_starting_line(occupancy, entries, 0, given["share"], given["first"], given["first_death"], deaths, progressed,
                      given["first_on"], sums)
    if through > 2:
        second_entries = np.ascontiguousarray(given["onward"][:, None] * progressed)
        post += progressed - second_entries
        onward = np.empty((m, N_TIMES))
        add_line(occupancy, entries, 2, second_entries, given["second"], given["second_death"], deaths, care, onward,
                 convolutions, given["second_on"], sums)
        third_entries = np.ascontiguousarray(given["onward"][:, None] * onward)
        care += onward - third_entries  # who start no third line: care of the second line's survival
    if through > 4:
        add_line(occupancy, entries, 4, third_entries, given["third"], given["first_death"], deaths, post, None,
                 convolutions, sums=sums)
    if through > 5:
        add_terminal_state(occupancy, entries, 5, care, given["care"], deaths, convolutions, sums)
    if through > 6:
        add_post_progression(occupancy, entries, post, deaths, given["bsc"], convolutions, sums)
    return occupancy, entries


@pytest.mark.parametrize("layout", ["state by state", "sample by sample"])
def test_the_sums_written_with_each_state_are_the_weighted_sums_of_its_rows(layout):
    given, weights = _inputs(6), _weights()
    sums = StateSums.empty(*weights, 6, N_STATES)
    occupancy, entries = _build(given, layout, sums)
    assert np.isfinite(sums.sums).all()
    expected_occupancy = np.einsum("qt,stj->sjq", weights[0], occupancy)
    expected_entries = np.einsum("qt,stj->sjq", weights[1], entries)
    # the same sums in another order: rounding apart, relative to the largest term
    np.testing.assert_allclose(sums.occupancy, expected_occupancy, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sums.entries, expected_entries, rtol=1e-13, atol=1e-13)
    assert (sums.entries[:, [1, 3]] == 0.0).all()  # off treatment is entered from on treatment only
    # every state is reached: the comparison is not of empty rows
    assert (occupancy.max(axis=1) > 1e-3).all() and (sums.occupancy > 1e-3).all()

    plain_occupancy, plain_entries = _build(given, layout, None)
    np.testing.assert_array_equal(occupancy, plain_occupancy)
    np.testing.assert_array_equal(entries, plain_entries)


@pytest.mark.parametrize("layout", ["state by state", "sample by sample"])
def test_a_trace_whose_entries_are_kept_at_t0_only_is_the_same_bits_with_the_same_sums(layout):
    """Entries of one time point (a trace valued from its sums and not kept): every step
    writes that point alone, the same bits as the full entries' first; the occupancy,
    deaths and progressions (the dead state's occupancy), and every sum, entries' sums
    included, are the same bits as with full entries."""
    given, weights = _inputs(6), _weights()
    full_sums, first_sums = (StateSums.empty(*weights, 6, N_STATES) for _ in range(2))
    occupancy, entries = _build(given, layout, full_sums)
    first_occupancy, first_entries = _build(given, layout, first_sums, first_point_only=True)
    assert first_entries.shape == (6, 1, N_STATES)
    np.testing.assert_array_equal(first_entries, entries[:, :1])
    np.testing.assert_array_equal(first_occupancy, occupancy)
    np.testing.assert_array_equal(first_sums.sums, full_sums.sums)
    # not a comparison of zeros: every state entered from another (off treatment is not) has entries' sums
    assert (entries[:, 0, 0] > 0).all() and (full_sums.entries[:, [2, 4, 5, 6, 7]] > 1e-3).all()


@pytest.mark.parametrize("method", ["auto", "fft"])
def test_run_sequencing_without_its_entries_after_t0_is_the_same_bits_and_values(method):
    """run_sequencing(keep_entries=False) keeps each state's entries at t = 0 only: the
    occupancy and sums are the same bits as the full trace's, the entries its first
    point, and an Accumulator values both the same, bit for bit, costs on entry included."""
    given = _inputs(5)
    grid = TimeGrid(cycle_length_years=1 / 52, n_cycles=N_TIMES - 1)
    lines = [TreatmentLine("first", given["first"], given["first_death"][:, 0], given["onward"]),
             TreatmentLine("second", given["second"], given["second_death"], given["onward"]),
             TreatmentLine("third", given["third"], 0.4)]
    weights = state_weights(grid, 0.035, "trapezoid")
    traces, totals = [], []
    for keep in (True, False):
        sums = StateSums.empty(*weights, 5, 5)
        trace = run_sequencing(lines, given["bsc"], method=method, sums=sums, keep_entries=keep)
        accumulator = Accumulator(trace, grid, discount_rate=0.035, state_sums=(sums.occupancy, sums.entries))
        traces.append((trace, sums.sums))
        totals.append(accumulator.total(per_year=np.array([90.0, 60.0, 40.0, 15.0, 0.0]),
                                        on_entry=np.array([7.0, 5.0, 3.0, 2.0, 11.0])))
    (full, full_sums), (first, first_sums) = traces
    assert full.keeps_entries and not first.keeps_entries and first.entries.shape == (5, 1, 5)
    np.testing.assert_array_equal(first.occupancy, full.occupancy)
    np.testing.assert_array_equal(first.entries, full.entries[:, :1])
    np.testing.assert_array_equal(first_sums, full_sums)
    np.testing.assert_array_equal(totals[1], totals[0])
    # entries after t = 0 count: every state after the first is entered later (costs on entry > 0)
    assert (full.entries[:, 1:, 1:].sum(axis=1) > 1e-3).all() and (totals[0][:, 1:] > 0).all()


def test_entries_of_neither_every_time_point_nor_one_are_refused():
    given, m = _inputs(2), 2
    deaths, occupancy = np.zeros((m, N_TIMES)), np.zeros((m, N_TIMES))
    with pytest.raises(ValueError, match=r"entries have 2 time points: 300, or 1 \(the first only\)"):
        _engine.absorbing_state(deaths, occupancy, np.zeros((m, 2)))
    with pytest.raises(ValueError, match=r"entries have 299 time points: 300, or 1"):
        _engine.starting_line(given["share"], given["first"], given["first_death"], None, deaths,
                              np.zeros((m, N_TIMES)), occupancy, np.zeros((m, N_TIMES - 1)), None, None)
    with pytest.raises(ValueError, match=r"off_entries have 1 time points; state_entries 300"):
        _engine.starting_line(given["share"], given["first"], given["first_death"], given["first_on"], deaths,
                              np.zeros((m, N_TIMES)), occupancy, np.zeros((m, N_TIMES)), np.zeros((m, N_TIMES)),
                              np.zeros((m, 1)))
    with pytest.raises(ValueError, match=r"entries have 3 time points: 300, or 1"):
        _engine.sequencing_step(occupancy, np.zeros((m, N_TIMES)), np.zeros((1, 1)), np.zeros((1, 1)), deaths,
                                np.zeros((m, N_TIMES)), None, np.zeros((m, N_TIMES)), np.zeros((m, 3)))


def test_a_samples_sums_do_not_depend_on_the_samples_beside_it():
    given, weights = _inputs(6), _weights()
    whole = StateSums.empty(*weights, 6, N_STATES)
    _build(given, "state by state", whole)
    for rows in (slice(0, 1), slice(2, 5)):
        part = StateSums.empty(*weights, rows.stop - rows.start, N_STATES)
        _build({name: value if value.shape[0] == 1 else value[rows] for name, value in given.items()},
               "state by state", part)
        np.testing.assert_array_equal(part.sums, whole.sums[rows])


def test_a_state_no_step_has_written_holds_nan():
    given = _inputs(3)
    sums = StateSums.empty(*_weights(), 3, N_STATES)
    _build(given, "state by state", sums, through=4)
    assert np.isfinite(sums.sums[:, :4]).all() and np.isnan(sums.sums[:, 4:]).all()


def test_weights_and_sums_that_do_not_fit_are_refused():
    occupancy_weights, entries_weights = _weights()
    with pytest.raises(InputError, match=r"occupancy_weights have 300 time points and entries_weights 299"):
        StateSums.empty(occupancy_weights, entries_weights[:, 1:], 2, N_STATES)
    with pytest.raises(InputError, match=r"occupancy_weights has shape \(300,\)"):
        StateSums.empty(occupancy_weights[0], entries_weights, 2, N_STATES)
    m, deaths = 2, np.zeros((2, N_TIMES))
    occupancy, entries = (np.zeros((m, N_TIMES)) for _ in range(2))
    with pytest.raises(ValueError, match=r"sums have shape \(2, 4\); expected \(2, 5\)"):
        _engine.absorbing_state(deaths, occupancy, entries, occupancy_weights, entries_weights, np.zeros((m, 4)))
    with pytest.raises(InputError, match=r"occupancy_weights must be an array of float64, not float32"):
        StateSums(occupancy_weights.astype(np.float32), entries_weights, np.zeros((2, N_STATES, 5)))
    with pytest.raises(InputError, match=r"sums have shape \(2, 8, 4\); expected \(n_samples, n_states, 5\)"):
        StateSums(occupancy_weights, entries_weights, np.zeros((2, N_STATES, 4)))
    with pytest.raises(ValueError, match="the state is split: off_sums are needed"):
        given = _inputs(m)
        _engine.starting_line(given["share"], given["first"], given["first_death"], given["first_on"], deaths,
                              np.zeros((m, N_TIMES)), occupancy, entries, np.zeros((m, N_TIMES)),
                              np.zeros((m, N_TIMES)), occupancy_weights, entries_weights, np.zeros((m, 5)))
    with pytest.raises(ValueError, match="weights have 299 and 300 time points; the rows have 300"):
        _engine.absorbing_state(deaths, occupancy, entries, np.ascontiguousarray(occupancy_weights[:, 1:]),
                                entries_weights, np.zeros((m, 5)))


def test_a_sequencing_run_writes_each_states_sums_block_by_block(monkeypatch):
    """run_sequencing with sums: the weighted sums of its own trace, its blocks of
    samples each writing their rows; the trace the same bits as without."""
    from markov.engine import TreatmentLine, run_sequencing, sequencing

    monkeypatch.setattr(sequencing, "SEQUENCING_CHUNK_SAMPLES", 2)  # blocks of 2, 2 and 1 samples
    given, weights = _inputs(5), _weights()
    lines = [TreatmentLine("first", given["first"], given["first_death"][:, 0], given["onward"]),
             TreatmentLine("second", given["second"], given["second_death"], given["onward"]),
             TreatmentLine("third", given["third"], 0.3)]
    sums = StateSums.empty(*weights, 5, 5)
    trace = run_sequencing(lines, given["bsc"], sums=sums)
    assert np.isfinite(sums.sums).all() and (sums.occupancy > 1e-3).all()
    np.testing.assert_allclose(sums.occupancy, np.einsum("qt,stj->sjq", weights[0], trace.occupancy),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sums.entries, np.einsum("qt,stj->sjq", weights[1], trace.entries),
                               rtol=1e-13, atol=1e-13)
    plain = run_sequencing(lines, given["bsc"])
    np.testing.assert_array_equal(trace.occupancy, plain.occupancy)
    np.testing.assert_array_equal(trace.entries, plain.entries)
    with pytest.raises(InputError, match="sums are of 5 samples, 4 states and 300 time points; the trace has 5 "
                                         "samples, 5 states and 300 time points"):
        run_sequencing(lines, given["bsc"], sums=StateSums.empty(*weights, 5, 4))

"""sequencing_sums: run_sequencing's state sums without its trace. The lines' sums are
run_sequencing's bit for bit; post-progression care and death, valued by correlating
the post-progression curve with the weights instead of convolving it, agree with theirs
to 1e-13 of their scale (rounding), by FFT and by direct summation, a shared curve
correlated once for every strategy; a sample's sums do not depend on the samples beside
it; inputs that do not fit are refused."""
import numpy as np
import pytest

from markov import TimeGrid, TreatmentLine, run_sequencing
from markov._validate import InputError
from markov.engine import (
    Convolutions,
    StateSums,
    add_post_progression,
    sequencing,
    sequencing_sums,
    terminal_sums,
)
from markov.outcomes import state_weights

N_TIMES = 300


def _sequence(m: int, post: str, seed: int = 7):
    """Three lines (Weibull, exponential, Weibull), death shares constant and by cycle,
    and a post-progression curve by sample (Weibull: convolved by FFT) or one for all
    (exponential: by recursion)."""
    rng = np.random.default_rng(seed)
    times = np.arange(N_TIMES) / 52

    def weibull(rows: int) -> np.ndarray:
        return np.exp(-((times / rng.uniform(0.3, 1.5, (rows, 1))) ** rng.uniform(0.8, 1.4, (rows, 1))))

    lines = [TreatmentLine("first", weibull(m), rng.uniform(0.1, 0.3, m), rng.uniform(0.4, 0.8, m)),
             TreatmentLine("second", np.exp(-rng.uniform(0.5, 2.0, (m, 1)) * times),
                           rng.uniform(0.1, 0.4, (m, N_TIMES - 1)), 0.6),
             TreatmentLine("third", weibull(m), 0.25)]
    survival = weibull(m) if post == "by sample" else np.exp(-1.3 * times)
    return lines, survival


def _weights(seed: int = 43) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (3, N_TIMES)), rng.uniform(0.0, 1.0, (2, N_TIMES))


@pytest.mark.parametrize("post", ["by sample", "one for all"])
@pytest.mark.parametrize("method", ["auto", "fft", "direct"])
def test_the_sums_without_a_trace_are_run_sequencings(method, post, monkeypatch):
    monkeypatch.setattr(sequencing, "SEQUENCING_CHUNK_SAMPLES", 3)  # blocks of 3, 3 and 1 samples
    lines, survival = _sequence(7, post)
    weights = _weights()
    traced, summed = StateSums.empty(*weights, 7, 5), StateSums.empty(*weights, 7, 5)
    run_sequencing(lines, survival, method=method, sums=traced)
    assert sequencing_sums(lines, survival, summed, method=method) is summed
    np.testing.assert_array_equal(summed.sums[:, :3], traced.sums[:, :3])
    scale = np.abs(traced.sums).max(axis=(0, 1))
    np.testing.assert_allclose(summed.sums[:, 3:], traced.sums[:, 3:], rtol=0, atol=1e-13 * scale.max())
    assert (traced.sums[:, 3:] > 1e-3).all()  # care and death are entered and occupied in every sample


def test_the_valuation_is_the_discounted_years_and_entries_of_the_trace():
    """With the weights of state_weights, the sums are the years and entries an
    Accumulator values the trace by."""
    from markov.outcomes import Accumulator

    lines, survival = _sequence(4, "by sample", seed=3)
    grid = TimeGrid(cycle_length_years=1 / 52, n_cycles=N_TIMES - 1)
    sums = sequencing_sums(lines, survival, StateSums.empty(*state_weights(grid, 0.035, "trapezoid"), 4, 5))
    accumulator = Accumulator(run_sequencing(lines, survival), grid, discount_rate=0.035)
    np.testing.assert_allclose(sums.occupancy[:, :, 0], accumulator.years, rtol=1e-13)
    np.testing.assert_allclose(sums.entries[:, :, 0], accumulator.entered, rtol=1e-13, atol=1e-15)


def test_a_samples_sums_do_not_depend_on_the_samples_beside_it():
    lines, survival = _sequence(6, "by sample", seed=11)
    weights = _weights()
    whole = sequencing_sums(lines, survival, StateSums.empty(*weights, 6, 5))
    for rows in (slice(0, 1), slice(2, 5)):
        part_lines = [TreatmentLine(line.name, line.progression_free[rows],
                                    *(np.asarray(share)[rows] if np.ndim(share) else share
                                      for share in (line.death_share, line.next_line_share)))
                      for line in lines]
        part = sequencing_sums(part_lines, survival[rows], StateSums.empty(*weights, rows.stop - rows.start, 5))
        np.testing.assert_array_equal(part.sums, whole.sums[rows])


def test_strategies_sharing_a_convolutions_correlate_a_read_only_curve_once(monkeypatch):
    lines, survival = _sequence(5, "by sample", seed=5)
    other, _ = _sequence(5, "by sample", seed=6)
    survival.flags.writeable = False
    strategies = [lines, [other[0], *lines[1:]]]  # two first lines, then the same care
    weights = _weights()
    alone = [sequencing_sums(sequence, survival, StateSums.empty(*weights, 5, 5)).sums for sequence in strategies]
    correlated = []
    original = Convolutions._correlated
    monkeypatch.setattr(Convolutions, "_correlated", lambda self, *a: correlated.append(1) or original(self, *a))
    shared = Convolutions(N_TIMES)
    together = [sequencing_sums(sequence, survival, StateSums.empty(*weights, 5, 5), method=shared).sums
                for sequence in strategies]
    assert len(correlated) == 1
    for got, expected in zip(together, alone, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(together[0], together[1])


def test_care_entered_at_t0_by_a_curve_just_below_1_is_valued_as_add_post_progression_values_it():
    """Nobody dies in care at t = 0 though S(0) may lie a tolerance below 1: the
    correlation counts that gap as deaths, and terminal_sums takes it back."""
    rng = np.random.default_rng(2)
    m, times = 3, np.arange(N_TIMES) / 52
    survival = np.exp(-((times / rng.uniform(0.5, 1.0, (m, 1))) ** 1.2))
    survival[:, 0] = 1.0 - 1e-12
    care = rng.uniform(0.0, 0.01, (m, N_TIMES))
    care[:, 0] = 0.5
    deaths = rng.uniform(0.0, 0.01, (m, N_TIMES))
    weights = _weights()
    expected = StateSums.empty(*weights, m, 2)
    occupancy, entries = np.empty((m, N_TIMES, 2)), np.empty((m, N_TIMES, 2))
    add_post_progression(occupancy, entries, care.copy(), deaths.copy(), survival, "fft", expected)
    got = StateSums.empty(*weights, m, 2)
    terminal_sums(care, deaths.copy(), survival, "fft", got)
    np.testing.assert_allclose(got.sums, expected.sums, rtol=0, atol=1e-12)  # sums of about 300: rounding
    # without taking it back, death's sums would be off by 0.5e-12 times the weights' sums
    assert 0.5e-12 * weights[0].sum(axis=1).min() > 50e-12


def test_inputs_that_do_not_fit_are_refused():
    lines, survival = _sequence(2, "by sample")
    weights = _weights()
    with pytest.raises(InputError, match=r"sums is a NoneType: sequencing_sums writes a StateSums"):
        sequencing_sums(lines, survival, None)
    with pytest.raises(InputError, match=r"sums are of 2 samples, 4 states and 300 time points; the trace has 2 "
                                         r"samples, 5 states"):
        sequencing_sums(lines, survival, StateSums.empty(*weights, 2, 4))
    with pytest.raises(InputError, match=r"method is 'fast': must be 'auto', 'direct', 'fft' or a Convolutions"):
        sequencing_sums(lines, survival, StateSums.empty(*weights, 2, 5), method="fast")
    with pytest.raises(InputError, match=r"third.next_line_share must be 0"):
        sequencing_sums([*lines[:2], TreatmentLine("third", survival, 0.2, 0.1)], survival,
                        StateSums.empty(*weights, 2, 5))


def test_the_compiled_steps_refuse_what_does_not_fit():
    from markov import _engine

    m, weights = 2, _weights()
    rows, deaths = np.zeros((m, N_TIMES)), np.zeros((m, N_TIMES))
    with pytest.raises(ValueError, match="a state split on treatment needs its state_occupancy"):
        _engine.sequencing_step(rows, rows, np.zeros((1, 1)), np.zeros((1, 1)), deaths, np.zeros((m, N_TIMES)), None,
                                None, np.zeros((m, 1)), np.zeros((m, N_TIMES)), np.zeros((m, 1)))
    correlations, first = np.zeros((m, 5, N_TIMES)), np.ones(m)
    reverse_cumulative, entries_weights = np.zeros((3, N_TIMES)), weights[1]
    with pytest.raises(ValueError, match=r"correlations have shape \(2, 4, 300\); expected \(1 or 2, 5, 300\)"):
        _engine.terminal_sums(rows, deaths, np.zeros((m, 4, N_TIMES)), first, reverse_cumulative, entries_weights,
                              np.zeros((m, 5)), np.zeros((m, 5)))
    with pytest.raises(ValueError, match=r"correlations are of 2 samples and first_survival of 1: both 1 or 2"):
        _engine.terminal_sums(rows, deaths, correlations, first[:1], reverse_cumulative, entries_weights,
                              np.zeros((m, 5)), np.zeros((m, 5)))
    with pytest.raises(ValueError, match=r"dead_sums have shape \(2, 4\); expected \(2, 5\)"):
        _engine.terminal_sums(rows, deaths, correlations, first, reverse_cumulative, entries_weights,
                              np.zeros((m, 5)), np.zeros((m, 4)))

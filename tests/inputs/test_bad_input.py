"""Bad input is refused before the compiled core, with the input, value and rule named."""
import numpy as np
import pytest

from markov import InputError, TimeGrid, TreatmentLine, accumulate, run_markov, run_partitioned_survival, run_sequencing

VALID = np.array([[0.9, 0.1], [0.0, 1.0]])


@pytest.mark.parametrize(
    "transition, message",
    [
        ([[0.9, 0.2], [0, 1]], r"transition \[from state 0\]: row sums to 1\.1.*must sum to 1"),
        ([[-0.1, 1.1], [0, 1]], r"transition \[from state 0, to state 0\] is -0\.1: must lie in \[0\.0, 1\.0\]"),
        ([[np.nan, 0.1], [0, 1]], r"transition\[0, 0\] is nan: every value must be a finite number"),
        ([[0.9, 0.1, 0.0], [0, 1, 0.0]], r"not square"),
        ("abc", r"transition: could not be read as numbers"),
    ],
)
def test_markov_rejects_bad_matrices(transition, message):
    with pytest.raises(InputError, match=message):
        run_markov(transition, [1, 0], n_cycles=3)


def test_markov_bad_matrix_in_a_later_sample_and_cycle_is_located():
    matrices = np.tile(VALID, (3, 4, 1, 1))
    matrices[2, 3, 0] = [0.5, 0.4]
    with pytest.raises(InputError, match=r"\[sample 2, cycle 3, from state 0\]: row sums to 0\.9"):
        run_markov(matrices, [1, 0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(initial=[0.5, 0.4], n_cycles=3), r"initial sums to 0\.9"),
        (dict(initial=[1, 0, 0], n_cycles=3), r"initial has 3 states but transition matrices are 2 x 2"),
        (dict(initial=[1, 0], n_cycles=0), r"n_cycles is 0"),
        (dict(initial=[1, 0]), r"n_cycles is None"),
    ],
)
def test_markov_rejects_bad_initial_and_cycles(kwargs, message):
    with pytest.raises(InputError, match=message):
        run_markov(VALID, **kwargs)


def test_markov_rejects_mismatched_sample_counts():
    with pytest.raises(InputError, match="disagree on the number of samples: transition has 3, initial has 2"):
        run_markov(np.tile(VALID, (3, 1, 1, 1)), np.tile([1.0, 0.0], (2, 1)), n_cycles=2)


@pytest.mark.parametrize(
    "curve, message",
    [
        ([0.9, 0.8, 0.5], r"curves\[0\]: S\(0\) is 0\.9; survival must start at 1"),
        ([1.0, 0.7, 0.8], r"curves\[0\] \[time point 2\]: survival rises from 0\.7 to 0\.8"),
        ([1.0, 0.7, -0.1], r"must lie in \[0\.0, 1\.0\]"),
        ([1.0, np.inf, 0.2], r"every value must be a finite number"),
    ],
)
def test_partitioned_survival_rejects_invalid_curves(curve, message):
    with pytest.raises(InputError, match=message):
        run_partitioned_survival([curve, [1.0, 0.9, 0.8]])


def test_partitioned_survival_rejects_curves_of_different_lengths():
    with pytest.raises(InputError, match=r"different numbers of time points: \[3, 4\]"):
        run_partitioned_survival([[1, 0.5, 0.2], [1, 0.9, 0.8, 0.7]])


def test_sequencing_rejects_bad_inputs():
    curve = 0.9 ** np.arange(5)
    with pytest.raises(InputError, match=r"first\.death_share is 1\.5: must lie in \[0\.0, 1\.0\]"):
        run_sequencing([TreatmentLine("first", curve, death_share=1.5)], curve)
    with pytest.raises(InputError, match=r"second\.next_line_share must be 0: it is the last line"):
        run_sequencing([TreatmentLine("first", curve, 0, 0.5), TreatmentLine("second", curve, 0, 0.5)], curve)
    with pytest.raises(InputError, match=r"first\.next_line_share has 3 values per sample; expected 1 or one per cycle \(4\)"):
        run_sequencing([TreatmentLine("first", curve, 0, np.ones((1, 3))), TreatmentLine("x", curve)], curve)
    with pytest.raises(InputError, match=r"every state needs its own name"):
        run_sequencing([TreatmentLine("same", curve), TreatmentLine("same", curve)], curve)
    with pytest.raises(InputError, match=r"method is 'exact'"):
        run_sequencing([TreatmentLine("first", curve)], curve, method="exact")
    with pytest.raises(InputError, match=r"keep_entries is 'no': must be True or False"):
        run_sequencing([TreatmentLine("first", curve)], curve, keep_entries="no")


def test_accumulate_rejects_bad_values_and_settings():
    trace = run_markov(VALID, [1, 0], n_cycles=4)
    grid = TimeGrid(1.0, 4)
    with pytest.raises(InputError, match=r"per_year has shape \(3,\)"):
        accumulate(trace, grid, per_year=[1, 2, 3])
    with pytest.raises(InputError, match=r"cycle correction is 'midpoint'"):
        accumulate(trace, grid, per_year=[1, 0], method="midpoint")
    with pytest.raises(InputError, match=r"the grid has 5 cycles but the trace has 4"):
        accumulate(trace, TimeGrid(1.0, 5), per_year=[1, 0])
    with pytest.raises(InputError, match=r"discount_rate is -1\.5"):
        accumulate(trace, grid, per_year=[1, 0], discount_rate=-1.5)
    with pytest.raises(InputError, match=r"cycle_length_years is 0"):
        TimeGrid(0, 4)


def test_markov_rejects_bad_cycle_matrix():
    with pytest.raises(InputError, match=r"cycle_matrix \[cycle 2\] is 5: must index one of the 2 matrices"):
        run_markov(np.stack([VALID, VALID]), [1, 0], cycle_matrix=[0, 1, 5])
    with pytest.raises(InputError, match=r"n_cycles is 4 but cycle_matrix names a matrix for 3 cycles"):
        run_markov(VALID, [1, 0], n_cycles=4, cycle_matrix=[0, 0, 0])


def test_unknown_state_is_named_with_the_states_there_are():
    trace = run_markov(VALID, [1, 0], n_cycles=2, state_names=["alive", "dead"])
    with pytest.raises(InputError, match=r"state 'progressed' is not in this model; its states are \['alive', 'dead'\]"):
        trace.state("progressed")
    frame = trace.to_frame()
    assert list(frame.columns) == ["alive", "dead"] and frame.shape == (3, 2)
    assert frame.loc[2, "alive"] == pytest.approx(0.81)

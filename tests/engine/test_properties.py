"""Property tests over random valid inputs: traces are distributions at every time point."""
import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from markov import TreatmentLine, run_markov, run_partitioned_survival, run_sequencing

seeds = st.integers(0, 2**32 - 1)


def _random_curves(rng, n_samples, n_times):
    """Non-increasing survival curves starting at 1, some with plateaus and zeros."""
    steps = rng.uniform(0.7, 1.0, size=(n_samples, n_times - 1)) ** rng.uniform(0, 3)
    steps[rng.uniform(size=steps.shape) < 0.05] = 1.0
    return np.concatenate([np.ones((n_samples, 1)), np.cumprod(steps, axis=1)], axis=1)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n_samples=st.integers(1, 4), n_states=st.integers(2, 7), n_cycles=st.integers(1, 30),
       per_cycle=st.booleans())
def test_markov_traces_sum_to_one(seed, n_samples, n_states, n_cycles, per_cycle):
    rng = np.random.default_rng(seed)
    shape = (n_samples, n_cycles if per_cycle else 1, n_states, n_states)
    matrices = rng.dirichlet(np.full(n_states, 0.5), size=shape[:-1])
    initial = rng.dirichlet(np.ones(n_states), size=n_samples)
    trace = run_markov(matrices, initial, n_cycles=n_cycles)
    np.testing.assert_allclose(trace.occupancy.sum(axis=2), 1.0, atol=1e-12)
    assert trace.occupancy.min() >= 0.0 and trace.entries.min() >= 0.0
    # balance: occupancy(t) = occupancy(t-1) + entries(t) - exits(t), exits = 1 - P_ii of occupants
    stay = np.diagonal(matrices, axis1=2, axis2=3)
    stay = np.broadcast_to(stay, (n_samples, n_cycles, n_states))
    exits = trace.occupancy[:, :-1] * (1 - stay)
    np.testing.assert_allclose(trace.occupancy[:, 1:], trace.occupancy[:, :-1] + trace.entries[:, 1:] - exits,
                               atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n_samples=st.integers(1, 4), n_curves=st.integers(1, 4), n_times=st.integers(2, 40))
def test_partitioned_survival_traces_sum_to_one(seed, n_samples, n_curves, n_times):
    rng = np.random.default_rng(seed)
    curves = [_random_curves(rng, n_samples, n_times) for _ in range(n_curves)]  # may cross
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace = run_partitioned_survival(curves)
    np.testing.assert_allclose(trace.occupancy.sum(axis=2), 1.0, atol=1e-12)
    assert trace.occupancy.min() >= -1e-15
    stacked = np.stack(curves, axis=1)
    clipped = np.minimum.accumulate(stacked[:, ::-1], axis=1)[:, ::-1]
    expected_crossings = (stacked > clipped).any(axis=1).sum(axis=1)
    np.testing.assert_array_equal(trace.crossing_time_points, expected_crossings)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n_samples=st.integers(1, 4), n_lines=st.integers(1, 4), n_times=st.integers(2, 300),
       method=st.sampled_from(["direct", "fft", "auto"]))
def test_sequencing_traces_sum_to_one(seed, n_samples, n_lines, n_times, method):
    rng = np.random.default_rng(seed)
    lines = [
        TreatmentLine(
            f"line_{k}",
            _random_curves(rng, n_samples, n_times),
            rng.uniform(size=(n_samples, n_times - 1)),
            rng.uniform(size=n_samples) if k < n_lines - 1 else 0.0,
        )
        for k in range(n_lines)
    ]
    trace = run_sequencing(lines, _random_curves(rng, n_samples, n_times), method=method)
    np.testing.assert_allclose(trace.occupancy.sum(axis=2), 1.0, atol=1e-12)
    assert trace.occupancy.min() >= -1e-12 and trace.entries.min() >= -1e-12
    # the dead never come back
    assert np.all(np.diff(trace.state("dead"), axis=1) >= -1e-12)

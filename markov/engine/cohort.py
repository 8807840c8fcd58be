"""Markov cohort and partitioned-survival engines, vectorised over PSA samples."""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from .. import _engine
from .._validate import (
    SURVIVAL_TOLERANCE,
    InputError,
    as_float_array,
    as_indices,
    check_range,
    check_survival_curves,
    check_transition_matrices,
    sample_count,
)
from .traces import (
    CohortTrace,
    CurveCrossingWarning,
    PartitionedSurvivalTrace,
    _per_sample_rows,
    _state_names,
)


def run_markov(
    transition,
    initial,
    n_cycles: int | None = None,
    state_names: Sequence[str] | None = None,
    cycle_matrix=None,
) -> CohortTrace:
    """Run a Markov cohort model, vectorised over PSA samples.

    Parameters
    ----------
    transition : array_like
        Transition probabilities ``P[i, j]`` from state i to state j over one cycle.
        Shape ``(k, k)`` (constant), ``(n_matrices, k, k)`` (varying by cycle) or
        ``(n_samples, n_matrices, k, k)`` (varying by sample too). Entries in [0, 1],
        rows summing to 1.
    initial : array_like
        Initial occupancy, shape ``(k,)`` or ``(n_samples, k)``, summing to 1.
    n_cycles : int, optional
        Number of cycles; defaults to ``len(cycle_matrix)``, else to ``n_matrices``
        when there is more than one matrix.
    state_names : sequence of str, optional
    cycle_matrix : array_like of int, optional
        Which matrix each cycle uses: cycle c (time point c to c + 1) applies
        ``transition[..., cycle_matrix[c], :, :]``. Default: matrix c in cycle c,
        or the single matrix in every cycle. Lets matrices that repeat (a treatment
        effect for two years, age bands) be stored once.

    Returns
    -------
    CohortTrace
    """
    matrices = as_float_array(transition, "transition", ndim=(2, 3, 4))
    check_transition_matrices(matrices, "transition")
    matrices = matrices.reshape((1,) * (4 - matrices.ndim) + matrices.shape)
    n_matrices, k = matrices.shape[1], matrices.shape[-1]

    start = as_float_array(initial, "initial", ndim=(1, 2))
    if start.shape[-1] != k:
        raise InputError(f"initial has {start.shape[-1]} states but transition matrices are {k} x {k}")
    check_range(start, "initial", 0.0, 1.0, ("sample", "state"))
    start = start.reshape((1,) * (2 - start.ndim) + start.shape)
    totals = start.sum(axis=1)
    if np.any(np.abs(totals - 1.0) > 1e-9):
        i = int(np.argmax(np.abs(totals - 1.0)))
        where = f" [sample {i}]" if start.shape[0] > 1 else ""
        raise InputError(f"initial{where} sums to {float(totals[i])!r}: the initial occupancy must sum to 1")

    if cycle_matrix is None:
        if n_cycles is None and n_matrices > 1:
            n_cycles = n_matrices
        if n_cycles is None or int(n_cycles) != n_cycles or n_cycles < 1:
            raise InputError(f"n_cycles is {n_cycles!r}: a whole number of at least 1 is needed")
        if n_matrices not in (1, n_cycles):
            raise InputError(f"n_cycles is {n_cycles} but transition has matrices for {n_matrices} cycles")
        cycle_matrix = np.arange(n_cycles) if n_matrices > 1 else np.zeros(n_cycles, dtype=np.intp)
    cycle_matrix = as_indices(cycle_matrix, "cycle_matrix", n_matrices)
    if n_cycles is not None and n_cycles != cycle_matrix.size:
        raise InputError(f"n_cycles is {n_cycles} but cycle_matrix names a matrix for {cycle_matrix.size} cycles")

    n_samples = sample_count({"transition": matrices.shape[0], "initial": start.shape[0]})
    occupancy, entries = _engine.markov_trace(matrices, cycle_matrix, _per_sample_rows(start, n_samples))
    names = _state_names(state_names, k, [f"state_{j}" for j in range(k)])
    return CohortTrace(occupancy, entries, names)


# ---------------------------------------------------------------------------------
# Partitioned survival
# ---------------------------------------------------------------------------------

def check_curves(curves: np.ndarray, name: str) -> None:
    """:func:`~markov._validate.check_survival_curves`, its rules checked in one compiled
    pass (``_engine.survival_curves_hold``); only curves that break one, or that the
    kernel does not take (not float64, or rows apart in memory), go through numpy, which
    names where and why."""
    rows = curves.reshape((1,) * (2 - curves.ndim) + curves.shape)
    if rows.dtype == np.float64 and rows.flags.c_contiguous and _engine.survival_curves_hold(rows, SURVIVAL_TOLERANCE):
        return
    check_survival_curves(curves, name)


def _curve_rows(curve, name: str, check=check_curves) -> np.ndarray:
    """A survival curve as ``(1 or n_samples, n_time_points)``, validated by ``check(array, name)``."""
    array = as_float_array(curve, name, ndim=(1, 2), finite=False)
    check(array, name)
    return array.reshape((1,) * (2 - array.ndim) + array.shape)


def run_partitioned_survival(
    curves: Sequence,
    state_names: Sequence[str] | None = None,
) -> PartitionedSurvivalTrace:
    """Partitioned survival model: occupancy read off nested survival curves.

    Parameters
    ----------
    curves : sequence of array_like
        Survival curves on the time grid, ordered from the innermost endpoint to the
        outermost (e.g. ``[pfs, os]``), each ``(n_time_points,)`` or ``(n_samples,
        n_time_points)``. State 0 is below the first curve, state j between curves
        j - 1 and j, the last state (dead) above the last curve.
    state_names : sequence of str, optional
        Defaults to ``("progression_free", "progressed", "dead")`` for two curves.

    Returns
    -------
    PartitionedSurvivalTrace
        Where an inner curve lies above an outer one (PFS > OS) it is clipped to the
        outer curve; ``crossing_time_points`` counts, per sample, the time points
        clipped, and a :class:`CurveCrossingWarning` says so.

    Notes
    -----
    A partitioned survival model has no transitions, so ``entries[..., j]`` for j ≥ 1
    is the fall of curve j - 1 over the cycle: everyone crossing that boundary,
    including those who went straight past state j (e.g. progression-free deaths
    count as entries into "progressed"). Entries into the last state are deaths.
    """
    if len(curves) < 1:
        raise InputError("curves: at least one survival curve is needed")
    rows = [_curve_rows(curve, f"curves[{j}]") for j, curve in enumerate(curves)]
    n_times = {row.shape[1] for row in rows}
    if len(n_times) > 1:
        raise InputError(f"curves have different numbers of time points: {[row.shape[1] for row in rows]}")
    n_samples = sample_count({f"curves[{j}]": row.shape[0] for j, row in enumerate(rows)})
    stacked = np.ascontiguousarray(np.stack([np.broadcast_to(row, (n_samples, row.shape[1])) for row in rows], axis=1))

    occupancy, entries, crossings = _engine.partitioned_survival(stacked)
    default = ("progression_free", "progressed", "dead") if len(rows) == 2 else (
        [f"state_{j}" for j in range(len(rows))] + ["dead"]
    )
    names = _state_names(state_names, len(rows) + 1, default)
    if crossings.any():
        warnings.warn(
            CurveCrossingWarning(
                f"an inner survival curve lay above an outer one in {int(np.count_nonzero(crossings))} of "
                f"{n_samples} samples (up to {int(crossings.max())} time points) and was clipped to it"
            ),
            stacklevel=2,
        )
    return PartitionedSurvivalTrace(occupancy, entries, names, crossings)

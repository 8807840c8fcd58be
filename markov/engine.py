"""Cohort engines: state occupancy from transition matrices or survival curves.

Three engines share one output, :class:`CohortTrace`: state occupancy and entries
into each state at every time point of the grid, for every PSA sample at once.

* :func:`run_markov` — Markov cohort with transition matrices that may vary by cycle
  and by sample.
* :func:`run_partitioned_survival` — occupancy read off nested survival curves
  (PFS ≤ OS …), with crossings clipped and counted.
* :func:`run_sequencing` — lines of treatment with the clock reset at entry to each
  line (semi-Markov), then post-progression care, then death.

Conventions: time point ``t`` runs from 0 to ``n_cycles``; a per-cycle input has
``n_cycles`` entries, the one at index ``c`` applying to the cycle from time point
``c`` to ``c + 1``. Everything alive at ``t = 0`` counts as an entry at ``t = 0``,
so that one-off values on entry (a procedure at the start of a line) are counted.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.fft

from . import _engine
from ._validate import (
    InputError,
    as_float_array,
    check_range,
    check_survival_curves,
    check_transition_matrices,
    sample_count,
)

# From this many time points on, the truncated convolution is cheaper by FFT than by
# direct summation (break-even near 240 on a 2-core Xeon; benchmarks/bench_engines.py
# prints the crossover).
FFT_MIN_TIME_POINTS = 240
# Samples per block in the sequencing engine: bounds the FFT work arrays (~40 MB at
# 1,045 time points) without costing speed.
SEQUENCING_CHUNK_SAMPLES = 1024


class CurveCrossingWarning(UserWarning):
    """Nested survival curves crossed and were clipped (e.g. PFS above OS)."""


@dataclass(frozen=True)
class CohortTrace:
    """State occupancy of a cohort over the time grid.

    Attributes
    ----------
    occupancy : ndarray, shape (n_samples, n_cycles + 1, n_states)
        Share of the cohort in each state at each time point; sums to 1 over states.
    entries : ndarray, shape (n_samples, n_cycles + 1, n_states)
        Share of the cohort entering each state from another state during the cycle
        ending at each time point; at ``t = 0``, the initial occupancy.
    state_names : tuple of str
    """

    occupancy: np.ndarray
    entries: np.ndarray
    state_names: tuple[str, ...]

    @property
    def n_samples(self) -> int:
        return self.occupancy.shape[0]

    @property
    def n_cycles(self) -> int:
        return self.occupancy.shape[1] - 1

    @property
    def n_states(self) -> int:
        return self.occupancy.shape[2]

    def state(self, name: str) -> np.ndarray:
        """Occupancy of one state, shape ``(n_samples, n_cycles + 1)``."""
        return self.occupancy[:, :, self.state_index(name)]

    def state_index(self, name: str) -> int:
        try:
            return self.state_names.index(name)
        except ValueError:
            raise InputError(f"state {name!r} is not in this model; its states are {list(self.state_names)}") from None

    def to_frame(self, sample: int = 0) -> pd.DataFrame:
        """Occupancy of one sample as a table: a row per time point, a column per state."""
        frame = pd.DataFrame(self.occupancy[sample], columns=list(self.state_names))
        frame.index.name = "cycle"
        return frame


@dataclass(frozen=True)
class PartitionedSurvivalTrace(CohortTrace):
    """A :class:`CohortTrace` with the number of time points, per sample, at which
    an inner curve lay above an outer one and was clipped."""

    crossing_time_points: np.ndarray


def _state_names(names: Sequence[str] | None, n_states: int, default: Sequence[str]) -> tuple[str, ...]:
    names = tuple(default if names is None else names)
    if len(names) != n_states:
        raise InputError(f"state_names has {len(names)} names {list(names)}, but the model has {n_states} states")
    if len(set(names)) != len(names):
        raise InputError(f"state_names {list(names)}: every state needs its own name")
    return names


def _per_sample_rows(array: np.ndarray, n_samples: int) -> np.ndarray:
    if array.shape[0] == n_samples:
        return array
    return np.ascontiguousarray(np.broadcast_to(array, (n_samples,) + array.shape[1:]))


# ---------------------------------------------------------------------------------
# Markov cohort
# ---------------------------------------------------------------------------------

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
    cycle_matrix = np.ascontiguousarray(cycle_matrix, dtype=np.intp)
    if cycle_matrix.ndim != 1 or cycle_matrix.size < 1:
        raise InputError(f"cycle_matrix has shape {cycle_matrix.shape}: one matrix index per cycle is needed")
    if n_cycles is not None and n_cycles != cycle_matrix.size:
        raise InputError(f"n_cycles is {n_cycles} but cycle_matrix names a matrix for {cycle_matrix.size} cycles")
    out_of_range = (cycle_matrix < 0) | (cycle_matrix >= n_matrices)
    if out_of_range.any():
        c = int(np.argmax(out_of_range))
        raise InputError(
            f"cycle_matrix [cycle {c}] is {int(cycle_matrix[c])}: must index one of the {n_matrices} matrices"
        )

    n_samples = sample_count({"transition": matrices.shape[0], "initial": start.shape[0]})
    occupancy, entries = _engine.markov_trace(matrices, cycle_matrix, _per_sample_rows(start, n_samples))
    names = _state_names(state_names, k, [f"state_{j}" for j in range(k)])
    return CohortTrace(occupancy, entries, names)


# ---------------------------------------------------------------------------------
# Partitioned survival
# ---------------------------------------------------------------------------------

def _curve_rows(curve, name: str) -> np.ndarray:
    """A survival curve as ``(1 or n_samples, n_time_points)``, validated."""
    array = as_float_array(curve, name, ndim=(1, 2), finite=False)
    check_survival_curves(array, name)
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


# ---------------------------------------------------------------------------------
# Treatment sequencing (semi-Markov, clock reset at entry to each line)
# ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TreatmentLine:
    """One line of treatment in a sequence.

    Attributes
    ----------
    name : str
        State name, e.g. ``"first_line"`` or ``"lenvatinib_2L"``.
    progression_free : array_like
        Survival since entry to this line (time to progression or death), on the
        model grid: ``(n_time_points,)`` or ``(n_samples, n_time_points)``.
    death_share : float or array_like
        Share of the events (exits) from this line that are deaths. Scalar,
        ``(n_samples,)``, or ``(n_samples or 1, n_cycles)`` by model cycle.
    next_line_share : float or array_like
        Share of those who progress that start the next line; the rest go to
        post-progression care. Same shapes as ``death_share``; must be 0 on the
        last line.
    """

    name: str
    progression_free: object
    death_share: object = 0.0
    next_line_share: object = 0.0


# a step's death share and next-line share (1, 1): every exit dies; nobody or everyone moves on
_EVERYONE_DIES, _NOBODY_MOVES_ON, _EVERYONE_MOVES_ON = np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1))


def _share_rows(value, name: str, n_cycles: int) -> np.ndarray:
    """A share as ``(1 or n_samples, 1 or n_cycles)``, validated to lie in [0, 1]."""
    array = as_float_array(value, name, ndim=(0, 1, 2))
    check_range(array, name, 0.0, 1.0, ("sample", "cycle")[: array.ndim])
    if array.ndim == 0:
        array = array.reshape(1, 1)
    elif array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.shape[1] not in (1, n_cycles):
        raise InputError(f"{name} has {array.shape[1]} values per sample; expected 1 or one per cycle ({n_cycles})")
    return array


def _fft_occupancy(entries: np.ndarray, survival: np.ndarray) -> np.ndarray:
    n_times = entries.shape[1]
    size = scipy.fft.next_fast_len(2 * n_times - 1, real=True)
    spectrum = scipy.fft.rfft(entries, size, axis=1, workers=-1)
    spectrum *= scipy.fft.rfft(survival, size, axis=1, workers=-1)
    return np.ascontiguousarray(scipy.fft.irfft(spectrum, size, axis=1, workers=-1)[:, :n_times])


def clock_reset_occupancy(entries: np.ndarray, survival: np.ndarray, method: str = "auto") -> np.ndarray:
    """Occupancy of a state whose clock resets at entry: the truncated convolution of
    entries ``(n_samples, n_times)`` with survival since entry ``(1 or n_samples,
    n_times)``, by FFT on long grids. Inputs are not checked."""
    if method == "auto":
        method = "fft" if entries.shape[1] >= FFT_MIN_TIME_POINTS else "direct"
    if method == "fft":
        return _fft_occupancy(entries, survival)
    return _engine.convolve_truncated(entries, survival)


def run_sequencing(
    lines: Sequence[TreatmentLine],
    post_progression_survival,
    *,
    post_progression_name: str = "best_supportive_care",
    method: str = "auto",
) -> CohortTrace:
    """Treatment-sequencing cohort: lines 1..K with the clock reset at each entry.

    Everyone starts line 1 at t = 0. Each line's ``progression_free`` curve runs from
    a patient's entry to that line. Of those leaving line k in a cycle, a share
    ``death_share`` dies; of the rest (who progressed), ``next_line_share`` starts
    line k + 1 at the end of that cycle and the others enter post-progression care,
    where ``post_progression_survival`` (again from entry) leads to death.

    Occupancy of a line at t is ``sum_u entries(u) · S(t - u)``, exact for the
    discrete grid. With exponential curves this equals the Markov model whose
    matrices hold the same per-cycle probabilities.

    Parameters
    ----------
    lines : sequence of TreatmentLine
    post_progression_survival : array_like
        Survival from entry into post-progression care, ``(n_time_points,)`` or
        ``(n_samples, n_time_points)``.
    post_progression_name : str
    method : {"auto", "direct", "fft"}
        How to sum the convolution: "direct" is exact summation, O(T²) per sample;
        "fft" is O(T log T) and agrees with it to about 1e-15; "auto" takes FFT from
        ``FFT_MIN_TIME_POINTS`` time points on.

    Returns
    -------
    CohortTrace
        States: the line names, ``post_progression_name``, ``"dead"``.
    """
    if method not in ("auto", "direct", "fft"):
        raise InputError(f"method is {method!r}: must be 'auto', 'direct' or 'fft'")
    if len(lines) < 1:
        raise InputError("lines: a sequence needs at least one line of treatment")

    survival = [_curve_rows(line.progression_free, f"{line.name}.progression_free") for line in lines]
    post = _curve_rows(post_progression_survival, "post_progression_survival")
    lengths = [row.shape[1] for row in survival] + [post.shape[1]]
    if len(set(lengths)) > 1:
        raise InputError(f"survival curves have different numbers of time points: {lengths}")
    n_times = lengths[0]
    n_cycles = n_times - 1
    if n_cycles < 1:
        raise InputError("survival curves need at least two time points")

    death = [_share_rows(line.death_share, f"{line.name}.death_share", n_cycles) for line in lines]
    onward = [_share_rows(line.next_line_share, f"{line.name}.next_line_share", n_cycles) for line in lines]
    if np.any(onward[-1] != 0.0):
        raise InputError(f"{lines[-1].name}.next_line_share must be 0: it is the last line, there is no next one")

    inputs = {f"{line.name}.progression_free": row.shape[0] for line, row in zip(lines, survival, strict=True)}
    inputs.update({f"{line.name}.death_share": row.shape[0] for line, row in zip(lines, death, strict=True)})
    inputs.update({f"{line.name}.next_line_share": row.shape[0] for line, row in zip(lines, onward, strict=True)})
    inputs["post_progression_survival"] = post.shape[0]
    n_samples = sample_count(inputs)

    names = _state_names(
        [line.name for line in lines] + [post_progression_name, "dead"], len(lines) + 2, ()
    )
    n_lines = len(lines)
    occupancy = np.empty((n_samples, n_times, n_lines + 2))
    entries = np.empty((n_samples, n_times, n_lines + 2))  # every column is written below

    def rows(array: np.ndarray, block: slice) -> np.ndarray:
        return array if array.shape[0] == 1 else array[block]

    for begin in range(0, n_samples, SEQUENCING_CHUNK_SAMPLES):
        block = slice(begin, min(begin + SEQUENCING_CHUNK_SAMPLES, n_samples))
        m = block.stop - block.start
        occupancy_block, entries_block = occupancy[block], entries[block]
        line_entries = np.zeros((m, n_times))
        line_entries[:, 0] = 1.0
        next_entries = np.empty((m, n_times))
        post_entries = np.zeros((m, n_times))
        deaths = np.zeros((m, n_times))
        for k in range(n_lines):
            if k == 0:  # everyone enters at t = 0, so occupancy is the curve itself
                line_occupancy = rows(survival[0], block)
            else:
                line_occupancy = clock_reset_occupancy(line_entries, rows(survival[k], block), method)
            _engine.sequencing_step(
                line_occupancy, line_entries, rows(death[k], block), rows(onward[k], block),
                deaths, post_entries, next_entries, occupancy_block[:, :, k], entries_block[:, :, k],
            )
            line_entries, next_entries = next_entries, line_entries
        add_post_progression(occupancy_block, entries_block, post_entries, deaths, rows(post, block), method)
    return CohortTrace(occupancy, entries, names)


def add_line(occupancy: np.ndarray, entries: np.ndarray, column: int, line_entries: np.ndarray,
             survival: np.ndarray, death_share: np.ndarray, deaths: np.ndarray, post_entries: np.ndarray,
             next_entries: np.ndarray | None = None, method: str = "auto") -> None:
    """Fill state ``column`` of a sequencing trace in place with a line whose clock resets
    at entry, and add its deaths to ``deaths``.

    ``occupancy`` and ``entries`` are ``(n_samples, n_times, n_states)``, of any strides;
    ``line_entries`` ``(n_samples, n_times)`` are the entries into the line (``survival``
    ``(1 or n_samples, n_times)`` since entry); a share ``death_share`` ``(1 or n_samples,
    1 or n_cycles)`` of its exits are deaths. The others progress: into ``next_entries``
    (overwritten) when given, every one of them to be split between the next line's
    options and post-progression care; otherwise all into ``post_entries``. Inputs are not
    checked: for callers that built them valid (:func:`run_sequencing` checks its own).
    """
    line_occupancy = clock_reset_occupancy(line_entries, survival, method)
    onward = _NOBODY_MOVES_ON if next_entries is None else _EVERYONE_MOVES_ON
    out = np.empty_like(line_entries) if next_entries is None else next_entries
    _engine.sequencing_step(line_occupancy, line_entries, death_share, onward, deaths, post_entries, out,
                            occupancy[:, :, column], entries[:, :, column])


def add_post_progression(occupancy: np.ndarray, entries: np.ndarray, post_entries: np.ndarray, deaths: np.ndarray,
                         survival: np.ndarray, method: str = "auto") -> None:
    """Fill the last two states of a sequencing trace, post-progression care then dead,
    in place: :func:`add_terminal_state` for post-progression care, then death, which
    nobody leaves. ``deaths`` are those from the lines (and any other terminal states)
    before.
    """
    add_terminal_state(occupancy, entries, occupancy.shape[2] - 2, post_entries, survival, deaths, method)
    entries[:, :, -1] = deaths
    np.cumsum(deaths, axis=1, out=occupancy[:, :, -1])


def add_terminal_state(occupancy: np.ndarray, entries: np.ndarray, column: int, state_entries: np.ndarray,
                       survival: np.ndarray, deaths: np.ndarray, method: str = "auto") -> None:
    """Fill state ``column`` in place with a state left only by death (post-progression
    care): :func:`add_line` whose every exit is a death, added to ``deaths``."""
    add_line(occupancy, entries, column, state_entries, survival, _EVERYONE_DIES, deaths,
             np.zeros_like(state_entries), method=method)


# ---------------------------------------------------------------------------------
# Kernels for model builders (inputs built valid by the caller, not checked here)
# ---------------------------------------------------------------------------------

def floor_survival(survival: np.ndarray, death_share, population_survival: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """A state's survival since entry and the share of its events that are deaths, with
    general-population mortality as a floor on each cycle's probability of death.

    Parameters
    ----------
    survival : ndarray, shape (1 or n_samples, n_times)
        Survival since entry, ending in death or another event (progression).
    death_share : float or ndarray, shape (1 or n_samples,)
    population_survival : ndarray, shape (1 or n_samples, n_times)
        The general population's survival on the same grid.

    Returns
    -------
    curve : ndarray, shape (n_samples, n_times)
        In each cycle the event probability 1 − S(t+1)/S(t) raised to the general
        population's probability of death q where lower.
    death_share : ndarray, shape (n_samples, n_cycles)
        Raised to q / events where lower, so that deaths alone reach q.
    floored : int
        (Sample, cycle) pairs in which the floor binds: the event probability or the
        death share was raised (a death share of 1 cannot be raised, so a curve that
        ends only in death counts its raised event probabilities).
    """
    return _engine.floor_survival(survival, np.atleast_1d(np.ascontiguousarray(death_share, dtype=np.float64)),
                                  population_survival)


def exit_rate_for_median(entries: np.ndarray, outside: np.ndarray, times_years: np.ndarray, median_years: np.ndarray,
                         bounds_per_year: tuple[float, float] = (1e-6, 1e4), bisections: int = 80
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Per sample, the constant exit rate (per year) from a clock-reset state that puts the
    cohort's survival median at ``median_years``, and whether no rate in
    ``bounds_per_year`` can (boolean; there the rate is left at the nearer bound).

    Parameters
    ----------
    entries : ndarray, shape (n_samples, n_times)
        Entries into the state (which do not depend on its survival).
    outside : ndarray, shape (n_samples, n_times, n_other_states)
        Occupancy of the states alive outside this one.
    times_years : ndarray, shape (n_times,)
        The (uniform) grid.
    median_years : ndarray, shape (n_samples,)

    Notes
    -----
    Survival is OS(t) = outside(t) + Σ_u e(u)·exp(−λ(t − u)); its median is read by
    linear interpolation between grid points, which is monotone in λ: bisection on
    log λ, compiled, one sample at a time (so a sample's result does not depend on the
    other samples computed with it).
    """
    step = float(times_years[1] - times_years[0])
    k = np.floor(median_years / step).astype(np.intp)
    if (k + 1 >= times_years.size).any():
        raise InputError(f"an OS median target of {float(median_years.max())!r} years lies beyond the horizon")
    rows = np.arange(k.size)
    around = np.column_stack([outside[rows, point].sum(axis=1) for point in (k, k + 1)])
    weight = (times_years[k + 1] - median_years) / step
    low, high = np.log(bounds_per_year[0]), np.log(bounds_per_year[1])
    rate, unreachable = _engine.median_exit_rate(entries, np.ascontiguousarray(around), k, weight, step, low, high,
                                                 bisections)
    return rate, unreachable.astype(bool)


def cycle_weighted_totals(values: np.ndarray, at_start: np.ndarray, at_end: np.ndarray, occupancy: np.ndarray
                          ) -> np.ndarray:
    """Σ_c values[s, c, j]·(at_start[c]·m[s, c, j] + at_end[c]·m[s, c + 1, j]), per sample and
    state, in one compiled pass without temporaries of the trace's size.

    ``values`` is ``(1 or n_samples, n_cycles, n_states)``, ``occupancy`` ``(n_samples,
    n_cycles + 1, n_states)`` of any strides. Inputs are not checked.
    """
    return _engine.cycle_weighted_totals(values, at_start, at_end, occupancy)


def compiled_core_files() -> list[Path]:
    """The files of the compiled core, whose bytes decide results as much as the source."""
    return sorted(file for file in Path(_engine.__file__).parent.glob(f"{_engine.__name__.rsplit('.', 1)[-1]}.*")
                  if file.suffix in (".so", ".pyd"))

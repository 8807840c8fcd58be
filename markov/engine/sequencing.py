"""Treatment sequencing (semi-Markov): lines whose clock resets at entry, by convolution."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import _engine
from .._validate import InputError, as_float_array, check_range, sample_count
from .cohort import _curve_rows, check_curves
from .convolutions import Convolutions
from .traces import CohortTrace, StateSums, _state_names

# Samples per block of run_sequencing: few enough that a block's work arrays (1 MB each
# on the weekly 20-year grid) and the spectra its strategies share stay near the cache.
# On the 5-strategy benchmark, 256 ran 20% faster than 1,024; valued from its sums on two
# processes (which share the last-level cache), 128 then ran 5 to 9% faster than 256 in
# three alternated rounds (medians 1.75 to 1.85 s against 1.85 to 2.02 s), and 64 no faster.
SEQUENCING_CHUNK_SAMPLES = 128


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


@dataclass(frozen=True)
class LineToCare:
    """What a line of a sequence sends to post-progression care, for
    :func:`care_occupancy_by_recursion`: ``rest`` ``(n_samples,)``, the share of its
    entries that start none of its options and go to care; ``options``, each option's
    share of the entries ``(n_samples,)``, survival since entry ``(1 or n_samples,
    n_times)`` and share of its exits that are deaths ``(1 or n_samples, 1 or n_cycles)``.
    Every progression of a line but the last starts the next; the last's go to care."""

    rest: np.ndarray
    options: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]


def care_occupancy_by_recursion(lines: Sequence[LineToCare], survival: np.ndarray, convolutions: Convolutions,
                                samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Occupancy of post-progression care ``(len(samples), n_times)`` for the ``samples``
    (indices) of a sequence of ``lines`` whose first starts at t = 0, with survival in
    care ``survival`` ``(1 or n_samples, n_times)``, by recursions instead of a
    convolution of its entries; and which of them it holds for (``(len(samples),)``):
    those where every option's curve is a geometric series (constant hazard,
    :meth:`Convolutions.series`) and its death share the same in every cycle.

    Care's occupancy is its entries convolved with ``survival``, and a line's
    progressions are its entries convolved with its curve's exits d, times the share
    alive (1 − death share). Convolution is associative, so from the last line back,
    V = rest·K + Σ share·(1 − death share)·(d ∗ V') with V' the next line's (K, care's
    survival, after the last): each d ∗ V' one recursion (:func:`_engine.exit_convolution`),
    all terms non-negative, and care's occupancy is the first line's V. The lines' own
    steps compute the same progressions as differences of occupancy, so the two agree
    to rounding (about 1e-15 relative), not bit for bit. Inputs are not checked.
    """
    def rows(array: np.ndarray) -> np.ndarray:  # the samples' rows of an array of 1 or n_samples rows
        return np.broadcast_to(array[0], (n, *array.shape[1:])) if array.shape[0] == 1 else array[samples]

    n, n_times = samples.shape[0], survival.shape[1]
    care = np.ascontiguousarray(rows(survival))
    valid = np.ones(n, dtype=bool)
    onward = care
    for line in reversed(lines):
        found = np.empty((n, n_times))
        _engine.add_scaled_rows(found, np.ascontiguousarray(line.rest[samples], dtype=np.float64), care, True)
        for share, curve, death_share in line.options:
            if death_share.shape == (1, 1) and death_share[0, 0] == 1.0:  # every exit a death: none goes on
                continue
            head, first, ratio, geometric = (rows(a) for a in convolutions.series(curve, samples))
            shares = rows(death_share)
            constant = (shares == shares[:, :1]).all(axis=1) if shares.shape[1] > 1 else True
            valid &= geometric.astype(bool) & (head == 1.0) & constant
            exits = np.empty((n, n_times))
            _engine.exit_convolution(np.ascontiguousarray(first), np.ascontiguousarray(ratio), onward, exits)
            _engine.add_scaled_rows(found, np.ascontiguousarray(share[samples] * (1.0 - shares[:, 0])), exits)
        onward = found
    return onward, valid


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


def run_sequencing(
    lines: Sequence[TreatmentLine],
    post_progression_survival,
    *,
    post_progression_name: str = "best_supportive_care",
    method: str | Convolutions = "auto",
    sums: StateSums | None = None,
    keep_entries: bool = True,
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
    method : {"auto", "direct", "fft"} or Convolutions
        How to sum the convolution: "direct" is exact summation, O(T²) per sample;
        "fft" is O(T log T) and agrees with it to about 1e-15; "auto" convolves a
        geometric series (an exponential curve, or entries from one) by recursion, O(T),
        to about 1e-12 of the others, and any other by FFT from
        ``FFT_MIN_TIME_POINTS`` time points on. Or a
        :class:`Convolutions` of the grid, shared by the strategies of a model: it
        transforms each read-only curve once for all of them (with at most
        ``SEQUENCING_CHUNK_SAMPLES`` samples; larger runs are convolved in blocks).
    sums : StateSums, optional
        Of ``(n_samples, len(lines) + 2)`` states: each state's weighted sums, written
        in the pass that finishes its rows (:class:`~markov.engine.StateSums`).
    keep_entries : bool
        False: the trace keeps each state's entries at t = 0 only (its
        :attr:`~markov.engine.CohortTrace.keeps_entries` is False), all that its exits
        and the sums need: for a caller that values it from ``sums``, as a PSA loop does.
        Occupancy, sums and the entries kept are the same bits either way; not writing the
        rest made the 5-strategy case of ``benchmarks/bench_engines.py`` 1.12 to 1.15 times
        as fast (alternated in one process).

    Returns
    -------
    CohortTrace
        States: the line names, ``post_progression_name``, ``"dead"``.
    """
    if not isinstance(keep_entries, (bool, np.bool_)):
        raise InputError(f"keep_entries is {keep_entries!r}: must be True or False")
    sequence = _Sequence(lines, post_progression_survival, method, sums)
    n_states = sequence.n_lines + 2
    names = _state_names([line.name for line in lines] + [post_progression_name, "dead"], n_states, ())
    # stored state by state, so that each state's series is written as one block
    occupancy = np.empty((sequence.n_samples, n_states, sequence.n_times)).transpose(0, 2, 1)
    # every state is written, at every time point or the first only
    entries = np.empty((sequence.n_samples, n_states, sequence.n_times if keep_entries else 1)).transpose(0, 2, 1)
    sequence.run(sums, occupancy, entries)
    return CohortTrace(occupancy, entries, names)


def sequencing_sums(
    lines: Sequence[TreatmentLine],
    post_progression_survival,
    sums: StateSums,
    *,
    method: str | Convolutions = "auto",
) -> StateSums:
    """The weighted sums of :func:`run_sequencing`'s states, without its trace: what a
    PSA of values constant over time needs (with the weights of
    :func:`~markov.outcomes.state_weights`, ``sums.occupancy[..., 0]`` are the discounted
    years in each state and ``sums.entries[..., 0]`` its discounted entries).

    The lines are convolved as :func:`run_sequencing` convolves them, and their
    occupancy is not copied into a trace. Post-progression care and death are not
    convolved at all: each unit entering care at u adds G[u] = sum_v S[v] · w[u + v] to
    its sum with weights w, so their sums are the entries into care weighted by G, the
    correlation of the post-progression curve S with the weights (and death's follow
    from those of its entries). G is computed once per curve and block of samples (by FFT
    from ``FFT_MIN_TIME_POINTS`` time points on, else by direct summation) and, with a
    shared :class:`Convolutions`, kept for every strategy that shares the curve.

    The lines' sums are :func:`run_sequencing`'s bit for bit, the others the same to
    rounding (about 1e-15 of their scale). On 2,000 draws of the 5-strategy case of
    ``benchmarks/bench_engines.py`` this ran 1.20 and 1.23 times as fast as
    ``run_sequencing(..., keep_entries=False)`` with an ``Accumulator`` (alternated in
    one process): 29 FFTs per sample instead of 36.

    Parameters
    ----------
    lines, post_progression_survival, method
        As in :func:`run_sequencing`.
    sums : StateSums
        Of ``(n_samples, len(lines) + 2)`` states, in :func:`run_sequencing`'s order
        (the lines, post-progression care, dead): every one is written.

    Returns
    -------
    StateSums
        ``sums``, written.
    """
    if not isinstance(sums, StateSums):
        raise InputError(f"sums is a {type(sums).__name__}: sequencing_sums writes a StateSums of the sequence's "
                         f"states (StateSums.empty(occupancy_weights, entries_weights, n_samples, n_states))")
    _Sequence(lines, post_progression_survival, method, sums).run(sums, None, None)
    return sums


class _Sequence:
    """A sequence's inputs, checked, and its pass over blocks of samples."""

    def __init__(self, lines: Sequence[TreatmentLine], post_progression_survival, method, sums: StateSums | None):
        if not isinstance(method, Convolutions) and method not in ("auto", "direct", "fft"):
            raise InputError(f"method is {method!r}: must be 'auto', 'direct', 'fft' or a Convolutions")
        if len(lines) < 1:
            raise InputError("lines: a sequence needs at least one line of treatment")
        for k, line in enumerate(lines):
            if not isinstance(line, TreatmentLine):
                raise InputError(f"lines[{k}] is a {type(line).__name__}: each line must be a TreatmentLine(name, "
                                 f"progression_free, death_share, next_line_share)")

        # a shared Convolutions checks each read-only curve once for every strategy
        check = method.check_curves if isinstance(method, Convolutions) else check_curves
        self.survival = [_curve_rows(line.progression_free, f"{line.name}.progression_free", check) for line in lines]
        self.post = _curve_rows(post_progression_survival, "post_progression_survival", check)
        lengths = [row.shape[1] for row in self.survival] + [self.post.shape[1]]
        if len(set(lengths)) > 1:
            raise InputError(f"survival curves have different numbers of time points: {lengths}")
        self.n_times = n_times = lengths[0]
        n_cycles = n_times - 1
        if n_cycles < 1:
            raise InputError("survival curves need at least two time points")

        self.death = [_share_rows(line.death_share, f"{line.name}.death_share", n_cycles) for line in lines]
        self.onward = [_share_rows(line.next_line_share, f"{line.name}.next_line_share", n_cycles) for line in lines]
        if np.any(self.onward[-1] != 0.0):
            raise InputError(f"{lines[-1].name}.next_line_share must be 0: it is the last line, there is no next one")

        inputs = {f"{line.name}.progression_free": row.shape[0] for line, row in zip(lines, self.survival, strict=True)}
        inputs.update({f"{line.name}.death_share": row.shape[0] for line, row in zip(lines, self.death, strict=True)})
        inputs.update({f"{line.name}.next_line_share": row.shape[0]
                       for line, row in zip(lines, self.onward, strict=True)})
        inputs["post_progression_survival"] = self.post.shape[0]
        self.n_samples = sample_count(inputs)
        self.n_lines = len(lines)
        if isinstance(method, Convolutions) and method.n_times != n_times:
            raise InputError(f"method is a Convolutions of {method.n_times} time points; the curves have {n_times}")
        self.convolutions = method if isinstance(method, Convolutions) else Convolutions(n_times, method)
        if sums is not None and (sums.sums.shape[:2] != (self.n_samples, self.n_lines + 2)
                                 or sums.occupancy_weights.shape[1] != n_times):
            raise InputError(f"sums are of {sums.sums.shape[0]} samples, {sums.sums.shape[1]} states and "
                             f"{sums.occupancy_weights.shape[1]} time points; the trace has {self.n_samples} samples, "
                             f"{self.n_lines + 2} states and {n_times} time points")

    def run(self, sums: StateSums | None, occupancy: np.ndarray | None, entries: np.ndarray | None) -> None:
        """Fill the trace's ``occupancy`` and ``entries`` (and ``sums``, if given); or,
        both None, ``sums`` alone."""
        n_times, convolutions = self.n_times, self.convolutions

        def rows(array: np.ndarray, block: slice) -> np.ndarray:  # the array itself if whole: its spectrum is kept
            return array if array.shape[0] == 1 or array.shape[0] == block.stop - block.start else array[block]

        starting = np.zeros(n_times)
        starting[0] = 1.0
        for begin in range(0, self.n_samples, SEQUENCING_CHUNK_SAMPLES):
            block = slice(begin, min(begin + SEQUENCING_CHUNK_SAMPLES, self.n_samples))
            m = block.stop - block.start
            sums_block = None if sums is None else StateSums(sums.occupancy_weights, sums.entries_weights,
                                                             sums.sums[block])
            if occupancy is None:  # no trace: each line's occupancy is summed where it was made
                entered = np.empty((m, 1))
            line_entries = np.broadcast_to(starting, (m, n_times))  # everyone starts the first line at t = 0
            buffers = np.empty((m, n_times)), np.empty((m, n_times))  # each line's entries, in turn
            post_entries = np.zeros((m, n_times))
            deaths = np.zeros((m, n_times))
            for k in range(self.n_lines):
                if k == 0:  # everyone enters at t = 0, so occupancy is the curve itself
                    line_occupancy = rows(self.survival[0], block)
                else:
                    line_occupancy = convolutions.occupancy(line_entries, rows(self.survival[k], block))
                if occupancy is None:
                    state = None, entered
                else:
                    state = occupancy[block, :, k], entries[block, :, k]
                next_entries = buffers[k % 2]
                _engine.sequencing_step(
                    line_occupancy, line_entries, rows(self.death[k], block), rows(self.onward[k], block),
                    deaths, post_entries, next_entries, *state, None, None, *_sums_arguments(sums_block, k, False),
                )
                line_entries = next_entries
            if occupancy is None:
                terminal_sums(post_entries, deaths, rows(self.post, block), convolutions, sums_block)
            else:
                add_post_progression(occupancy[block], entries[block], post_entries, deaths, rows(self.post, block),
                                     convolutions, sums_block)


def _sums_arguments(sums: StateSums | None, column: int, split: bool) -> tuple:
    """The compiled steps' optional arguments that write state ``column``'s sums (and
    ``column + 1``'s, its off-treatment part, when ``split``): none without ``sums``."""
    if sums is None:
        return ()
    state = (sums.occupancy_weights, sums.entries_weights, sums.sums[:, column, :])
    return (*state, sums.sums[:, column + 1, :]) if split else state


def add_line(occupancy: np.ndarray, entries: np.ndarray, column: int, line_entries: np.ndarray,
             survival: np.ndarray, death_share: np.ndarray, deaths: np.ndarray, post_entries: np.ndarray | None,
             next_entries: np.ndarray | None = None, method: str | Convolutions = "auto",
             on_treatment: np.ndarray | None = None, sums: StateSums | None = None,
             known: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    """Fill state ``column`` of a sequencing trace in place with a line whose clock resets
    at entry, and add its deaths to ``deaths``.

    ``occupancy`` and ``entries`` are ``(n_samples, n_times, n_states)``, of any strides;
    ``line_entries`` ``(n_samples, n_times)`` are the entries into the line (``survival``
    ``(1 or n_samples, n_times)`` since entry); a share ``death_share`` ``(1 or n_samples,
    1 or n_cycles)`` of its exits are deaths. The others progress: into ``next_entries``
    (overwritten) when given, every one of them to be split between the next line's
    options and post-progression care; otherwise all into ``post_entries`` (None where
    every exit is a death: a death share of 1; given one 1, ``(1, 1)``, it is not
    touched). ``method`` is as in
    :func:`run_sequencing`, or a :class:`Convolutions` of the grid to reuse spectra.
    With ``on_treatment`` (time on treatment since entry, as ``survival``) the line is two
    states, as in :func:`add_starting_line`: ``column`` on treatment, ``column + 1`` the
    rest, split in the step's pass. With ``sums`` (:class:`~markov.engine.StateSums` of
    the trace), the state's sums (and its off-treatment part's) are written in that pass.
    ``known``, called with the samples (indices) the recursions leave to convolve, gives
    their occupancy ``(len(samples), n_times)`` worked out otherwise and which of them it
    holds for (without a time on treatment: :func:`care_occupancy_by_recursion`): those
    are not convolved.
    Inputs are not checked: for callers that built them valid (:func:`run_sequencing`
    checks its own).
    """
    convolutions = method if isinstance(method, Convolutions) else Convolutions(line_entries.shape[1], method)
    state = occupancy[:, :, column]
    # its occupancy on treatment, to be split from the state's
    off = (None, None) if on_treatment is None else (occupancy[:, :, column + 1], entries[:, :, column + 1])
    onward = _NOBODY_MOVES_ON if next_entries is None else _EVERYONE_MOVES_ON
    every_exit_dies = death_share.shape == (1, 1) and death_share[0, 0] == 1.0  # nobody progresses
    post = None if next_entries is not None or every_exit_dies else post_entries  # every progression moves on
    summed = _sums_arguments(sums, column, on_treatment is not None)
    # the step's four optional sums arguments, None where not given: the same for both kernels below
    step = (death_share, onward, deaths, post, next_entries, state, entries[:, :, column], *off,
            *summed, *(None,) * (4 - len(summed)))
    # where the convolutions are recursions, each sample's rows are worked out and booked in cache
    done = convolutions.line_by_recursion(line_entries, survival, on_treatment, step)
    if done is not None and done.all():
        return
    skip = done
    if known is not None:  # the samples not done above whose occupancy is given
        left = np.arange(state.shape[0]) if done is None else np.flatnonzero(done == 0)
        found, holds = known(left)
        state[left[holds]] = found[holds]
        skip = np.zeros(state.shape[0], dtype=bool) if done is None else done.astype(bool)
        skip[left[holds]] = True
    convolutions.occupancy(line_entries, survival, out=state, skip=skip)  # straight into the trace
    if on_treatment is not None:
        convolutions.occupancy(line_entries, on_treatment, out=off[0], skip=done)
    _engine.sequencing_step(state, line_entries, *step, done)


def add_starting_line(occupancy: np.ndarray, entries: np.ndarray, column: int, share: np.ndarray,
                      survival: np.ndarray, death_share: np.ndarray, deaths: np.ndarray,
                      post_entries: np.ndarray, on_treatment: np.ndarray | None = None,
                      sums: StateSums | None = None, unwritten: tuple[bool, bool] = (False, False)) -> None:
    """Fill state ``column`` in place with a line that ``share`` ``(n_samples,)`` of the
    cohort starts at t = 0, so that its occupancy is ``share`` times its ``survival``
    ``(1 or n_samples, n_times)``: :func:`add_line` without a convolution. Its exits are
    added to ``deaths`` (a share ``death_share`` of them) and to ``post_entries`` (the
    others). With ``on_treatment`` (its time on treatment since entry, as ``survival``)
    the line is two states: ``column`` holds those on treatment, ``column + 1`` the rest
    (:func:`split_on_treatment`), who enter it from ``column`` (entries 0). One compiled
    pass, each value rounded as the steps it fuses round it; ``sums`` as in
    :func:`add_line`. ``unwritten``, for ``deaths`` and ``post_entries``: whether the
    array holds nothing yet (np.empty), so that the line's exits are written into it,
    not added (the first line of a sequence needs no array of zeros)."""
    off = (None, None) if on_treatment is None else (occupancy[:, :, column + 1], entries[:, :, column + 1])
    rows = (np.ascontiguousarray(a, dtype=np.float64) for a in (share, survival, death_share))
    on = None if on_treatment is None else np.ascontiguousarray(on_treatment, dtype=np.float64)
    _engine.starting_line(*rows, on, deaths, post_entries, occupancy[:, :, column], entries[:, :, column], *off,
                          *_sums_arguments(sums, column, on_treatment is not None),
                          deaths_unwritten=unwritten[0], post_entries_unwritten=unwritten[1])


def split_on_treatment(option: np.ndarray, on_then_off: np.ndarray) -> None:
    """Split an option's occupancy ``(n_samples, n_times)`` by its occupancy on treatment
    ``on_then_off`` (same shape), in place, in one pass: ``option`` becomes the occupancy
    on treatment and ``on_then_off`` the rest, off treatment. Both are states of a trace
    (any strides); inputs are not checked."""
    _engine.split_on_treatment(option, on_then_off)


def add_post_progression(occupancy: np.ndarray, entries: np.ndarray, post_entries: np.ndarray, deaths: np.ndarray,
                         survival: np.ndarray, method: str | Convolutions = "auto", sums: StateSums | None = None,
                         known: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    """Fill the last two states of a sequencing trace, post-progression care then dead,
    in place: :func:`add_terminal_state` for post-progression care, then death, which
    nobody leaves. ``deaths`` are those from the lines (and any other terminal states)
    before; ``sums`` and ``known`` (care's occupancy) as in :func:`add_line`.
    """
    last = occupancy.shape[2] - 1
    add_terminal_state(occupancy, entries, last - 1, post_entries, survival, deaths, method, sums, known)
    _engine.absorbing_state(np.ascontiguousarray(deaths), occupancy[:, :, last], entries[:, :, last],
                            *_sums_arguments(sums, last, False))


def add_terminal_state(occupancy: np.ndarray, entries: np.ndarray, column: int, state_entries: np.ndarray,
                       survival: np.ndarray, deaths: np.ndarray, method: str | Convolutions = "auto",
                       sums: StateSums | None = None,
                       known: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None) -> None:
    """Fill state ``column`` in place with a state left only by death (post-progression
    care): :func:`add_line` whose every exit is a death, added to ``deaths``."""
    add_line(occupancy, entries, column, state_entries, survival, _EVERYONE_DIES, deaths, None, method=method,
             sums=sums, known=known)


def terminal_sums(post_entries: np.ndarray, deaths: np.ndarray, survival: np.ndarray,
                  method: str | Convolutions, sums: StateSums) -> None:
    """The sums of a sequence's last two states, post-progression care then dead, from
    the entries into care ``post_entries`` ``(n_samples, n_times)`` (survival since entry
    ``survival`` ``(1 or n_samples, n_times)``) and the ``deaths`` from the states before,
    without their occupancy (:func:`sequencing_sums`): the sums :func:`add_post_progression`
    writes, to rounding. Inputs are not checked."""
    convolutions = method if isinstance(method, Convolutions) else Convolutions(post_entries.shape[1], method)
    on_occupancy, on_entries = sums.occupancy_weights, sums.entries_weights
    # deaths in care at t, entries weight v[t], are occupancy at t - 1 less that at t: occupancy weighted by v's rise
    rise = np.diff(on_entries, axis=1, append=0.0)
    correlations = convolutions.correlations(survival, np.concatenate([on_occupancy, rise]))
    reverse_cumulative = np.ascontiguousarray(np.cumsum(on_occupancy[:, ::-1], axis=1)[:, ::-1])
    _engine.terminal_sums(post_entries, deaths, correlations, np.ascontiguousarray(survival[:, 0]),
                          reverse_cumulative, on_entries, sums.sums[:, -2, :], sums.sums[:, -1, :])

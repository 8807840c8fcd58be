# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled cohort kernels (private).

Every function here trusts its inputs: shapes, dtypes and value ranges are checked
by ``markov.engine`` before the call. All arrays are float64 and C-contiguous, with
axis order (samples, cycles/time points, states). A leading axis of length 1 on a
parameter array means "the same for every sample" and is broadcast here, so that
callers never materialise copies per sample.
"""
import numpy as np

from libc.stdlib cimport free, malloc


def markov_trace(const double[:, :, :, ::1] transition,
                 const Py_ssize_t[::1] cycle_matrix,
                 const double[:, ::1] initial):
    """Run a Markov cohort.

    transition : (1 or n_samples, n_matrices, n_states, n_states)
    cycle_matrix : (n_cycles,)
        Cycle c (time point c to c + 1) uses ``transition[s, cycle_matrix[c]]``, so
        matrices that repeat over cycles are stored once.
    initial : (n_samples, n_states)

    Returns occupancy and entries, each (n_samples, n_cycles + 1, n_states).
    ``entries[s, t, j]`` is the mass that moved into j from another state during
    the cycle ending at t; entries at t = 0 are the initial occupancy.
    """
    cdef Py_ssize_t n = initial.shape[0], k = initial.shape[1], n_cycles = cycle_matrix.shape[0]
    cdef bint per_sample = transition.shape[0] > 1
    occupancy_arr = np.empty((n, n_cycles + 1, k))
    entries_arr = np.empty((n, n_cycles + 1, k))
    cdef double[:, :, ::1] occupancy = occupancy_arr
    cdef double[:, :, ::1] entries = entries_arr
    cdef Py_ssize_t s, c, i, j
    cdef const double* matrix
    cdef double* before
    cdef double* after
    cdef double* entered
    cdef double arriving
    with nogil:
        for s in range(n):
            for j in range(k):
                occupancy[s, 0, j] = initial[s, j]
                entries[s, 0, j] = initial[s, j]
            for c in range(n_cycles):
                matrix = &transition[s if per_sample else 0, cycle_matrix[c], 0, 0]
                before = &occupancy[s, c, 0]
                after = &occupancy[s, c + 1, 0]
                entered = &entries[s, c + 1, 0]
                for j in range(k):
                    # summed apart from the stayers, not by subtraction, to keep small entries exact
                    arriving = 0.0
                    for i in range(k):
                        if i != j:
                            arriving += before[i] * matrix[i * k + j]
                    entered[j] = arriving
                    after[j] = arriving + before[j] * matrix[j * k + j]
    return occupancy_arr, entries_arr


def partitioned_survival(const double[:, :, ::1] curves):
    """Partition a cohort by nested survival curves.

    curves : (n_samples, n_curves, n_times), ordered from the innermost endpoint
        (e.g. PFS) to the outermost (OS). Where an inner curve lies above an outer
        one it is clipped to the outer curve.

    Returns occupancy and entries, each (n_samples, n_times, n_curves + 1), and the
    number of time points per sample at which a clip was needed. Entries into state
    j >= 1 are the fall of curve j - 1 over the cycle (all who cross that boundary,
    wherever they end up); entries at t = 0 are the initial occupancy.
    """
    cdef Py_ssize_t n = curves.shape[0], m = curves.shape[1], n_times = curves.shape[2]
    occupancy_arr = np.empty((n, n_times, m + 1))
    entries_arr = np.zeros((n, n_times, m + 1))
    crossings_arr = np.zeros(n, dtype=np.int64)
    cdef double[:, :, ::1] occupancy = occupancy_arr
    cdef double[:, :, ::1] entries = entries_arr
    cdef long long[::1] crossings = crossings_arr
    cdef double* bounded = <double*> malloc(2 * m * sizeof(double))
    if bounded == NULL:
        raise MemoryError()
    cdef double* previous = bounded + m
    cdef Py_ssize_t s, t, j
    cdef double upper, value, fall
    cdef bint crossed
    try:
        with nogil:
            for s in range(n):
                for t in range(n_times):
                    upper = 1.0
                    crossed = False
                    for j in range(m - 1, -1, -1):
                        value = curves[s, j, t]
                        if value > upper:
                            value = upper
                            crossed = True
                        bounded[j] = value
                        upper = value
                    if crossed:
                        crossings[s] += 1
                    occupancy[s, t, 0] = bounded[0]
                    for j in range(1, m):
                        occupancy[s, t, j] = bounded[j] - bounded[j - 1]
                    occupancy[s, t, m] = 1.0 - bounded[m - 1]
                    if t == 0:
                        for j in range(m + 1):
                            entries[s, 0, j] = occupancy[s, 0, j]
                    else:
                        for j in range(m):
                            fall = previous[j] - bounded[j]
                            entries[s, t, j + 1] = fall if fall > 0.0 else 0.0
                    for j in range(m):
                        previous[j] = bounded[j]
    finally:
        free(bounded)
    return occupancy_arr, entries_arr, crossings_arr


def convolve_truncated(const double[:, ::1] entries, const double[:, ::1] survival):
    """Occupancy of a clock-reset state: out[s, t] = sum_{u <= t} entries[s, u] * survival[s, t - u].

    entries : (n_samples, n_times)
    survival : (1 or n_samples, n_times), survival since entry, survival[:, 0] == 1.

    Exact direct summation, O(n_times**2) per sample; the inner loop is an axpy
    over contiguous memory so that the compiler vectorises it.
    """
    cdef Py_ssize_t n = entries.shape[0], n_times = entries.shape[1]
    cdef bint per_sample = survival.shape[0] > 1
    out_arr = np.zeros((n, n_times))
    cdef double[:, ::1] out = out_arr
    cdef Py_ssize_t s, u, t, ps
    cdef double mass
    cdef double* target
    cdef const double* kernel
    with nogil:
        for s in range(n):
            ps = s if per_sample else 0
            kernel = &survival[ps, 0]
            for u in range(n_times):
                mass = entries[s, u]
                if mass == 0.0:
                    continue
                target = &out[s, u]
                for t in range(n_times - u):
                    target[t] += mass * kernel[t]
    return out_arr


def sequencing_step(const double[:, ::1] occupancy,
                    const double[:, ::1] entries,
                    const double[:, ::1] death_share,
                    const double[:, ::1] next_share,
                    double[:, ::1] deaths,
                    double[:, ::1] post_entries,
                    double[:, ::1] next_entries,
                    double[:, :, ::1] trace_occupancy,
                    double[:, :, ::1] trace_entries,
                    Py_ssize_t state):
    """Book-keeping of one line of a sequence, fused into one pass.

    occupancy : (1 or m, T) occupancy of the line; entries : (m, T) entries into it.
    death_share, next_share : (1 or m, 1 or T - 1) by cycle.
    Exits in the cycle ending at t are occupancy[t-1] + entries[t] - occupancy[t];
    of these ``death_share`` die (added to ``deaths``), of the rest ``next_share``
    start the next line (written to ``next_entries``) and the others enter
    post-progression care (added to ``post_entries``). The line's occupancy and
    entries are copied into column ``state`` of the (m, T, n_states) trace blocks.
    """
    cdef Py_ssize_t m = entries.shape[0], n_times = entries.shape[1]
    cdef bint occupancy_per_sample = occupancy.shape[0] > 1
    cdef bint death_per_sample = death_share.shape[0] > 1, death_per_cycle = death_share.shape[1] > 1
    cdef bint next_per_sample = next_share.shape[0] > 1, next_per_cycle = next_share.shape[1] > 1
    cdef Py_ssize_t s, t, po
    cdef double leaving, dying, progressing, starting
    with nogil:
        for s in range(m):
            po = s if occupancy_per_sample else 0
            trace_occupancy[s, 0, state] = occupancy[po, 0]
            trace_entries[s, 0, state] = entries[s, 0]
            next_entries[s, 0] = 0.0
            for t in range(1, n_times):
                trace_occupancy[s, t, state] = occupancy[po, t]
                trace_entries[s, t, state] = entries[s, t]
                leaving = occupancy[po, t - 1] + entries[s, t] - occupancy[po, t]
                dying = leaving * death_share[s if death_per_sample else 0, t - 1 if death_per_cycle else 0]
                progressing = leaving - dying
                starting = progressing * next_share[s if next_per_sample else 0, t - 1 if next_per_cycle else 0]
                deaths[s, t] += dying
                post_entries[s, t] += progressing - starting
                next_entries[s, t] = starting


cdef int _survival_violation(const double[:, ::1] curves, double tolerance,
                             Py_ssize_t* row, Py_ssize_t* col) noexcept nogil:
    cdef Py_ssize_t s, t
    cdef double value
    for s in range(curves.shape[0]):
        for t in range(curves.shape[1]):
            row[0], col[0] = s, t
            value = curves[s, t]
            if not (value - value == 0.0):  # NaN or infinite
                return 1
            if t == 0 and (value - 1.0 > tolerance or 1.0 - value > tolerance):
                return 2
            if value < 0.0 or value > 1.0:
                return 3
            if t > 0 and value - curves[s, t - 1] > tolerance:
                return 4
    return 0


def survival_check(const double[:, ::1] curves, double tolerance):
    """First violation in survival curves (rows): (rule, row, time point), rule 0 if none.

    Rules: 1 not finite, 2 S(0) differs from 1 by more than ``tolerance``,
    3 outside [0, 1], 4 rises by more than ``tolerance``. One pass, no temporaries.
    """
    cdef Py_ssize_t row = -1, col = -1
    cdef int rule
    with nogil:
        rule = _survival_violation(curves, tolerance, &row, &col)
    if rule == 0:
        row = col = -1
    return rule, row, col

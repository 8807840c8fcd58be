# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled cohort kernels (private).

Every function here trusts its inputs: shapes, dtypes and value ranges are checked
by the Python callers (``markov.engine``, ``markov.outcomes``) before the call, or hold
by construction (``markov.models``). All arrays are float64 and C-contiguous unless a
signature takes any strides (``[:, :]``), with axis order (samples, cycles/time points,
states). A leading axis of length 1 on a parameter array means "the same for every
sample" and is broadcast here, so that callers never materialise copies per sample.
Every sample is computed on its own, in the same order whatever the other samples.
"""
import numpy as np

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_New
from cpython.pythread cimport (WAIT_LOCK, PyThread_acquire_lock, PyThread_allocate_lock, PyThread_free_lock,
                               PyThread_release_lock, PyThread_type_lock)
from libc.math cimport exp, fabs
from libc.stdint cimport SIZE_MAX, uint8_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset, strncpy
from libc.stdint cimport intptr_t, uintptr_t


cdef extern from "unistd.h" nogil:
    void* sbrk(intptr_t increment)
    long sysconf(int name)
    enum: _SC_PAGESIZE


cdef extern from "sys/mman.h" nogil:
    int madvise(void* addr, size_t length, int advice)


cdef extern from "numpy/arrayobject.h":
    ctypedef struct PyDataMemAllocator:
        void* ctx
        void* (*malloc)(void* ctx, size_t size) noexcept nogil
        void* (*calloc)(void* ctx, size_t nelem, size_t elsize) noexcept nogil
        void* (*realloc)(void* ctx, void* ptr, size_t new_size) noexcept nogil
        void (*free)(void* ctx, void* ptr, size_t size) noexcept nogil

    ctypedef struct PyDataMem_Handler:
        char name[127]
        uint8_t version
        PyDataMemAllocator allocator

    object PyDataMem_SetHandler(object handler)
    int _import_array() except -1


_import_array()


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


def survival_curves_hold(const double[:, ::1] rows, double tolerance):
    """Whether every row starts within ``tolerance`` of 1, lies in [0, 1] and never rises
    by more than ``tolerance`` from one point to the next: the rules of
    ``markov._validate.check_survival_curves``, in one pass over each row (a NaN fails
    every comparison). A row that fails stops the pass; the caller finds where and why.
    """
    cdef Py_ssize_t n = rows.shape[0], n_times = rows.shape[1], s, t
    cdef bint holds = True
    cdef double broken  # points that break a rule: a count the compiler's vector loop keeps in doubles
    cdef const double* row
    if n_times == 0:
        return True
    with nogil:
        for s in range(n):
            row = &rows[s, 0]
            holds = (fabs(row[0] - 1.0) <= tolerance) & (row[0] >= 0.0) & (row[0] <= 1.0)
            broken = 0.0
            for t in range(1, n_times):
                broken += 0.0 if (row[t] >= 0.0) & (row[t] <= 1.0) & (row[t] - row[t - 1] <= tolerance) else 1.0
            if not holds or broken != 0.0:
                holds = False
                break
    return holds


def blockwise_products(const double[:, ::1] starts, const double[:, ::1] within, double[:, ::1] out):
    """out[s, b·B + j] = starts[s, b] · within[s, j] for every column of ``out`` (n, T),
    with B = within.shape[1]: an exponential curve on an even grid from its values at the
    start of each block of B time points and its falls within a block (one product a
    point instead of an exponential). starts: (1 or n, ceil(T / B)); within: (1 or n, B).
    """
    cdef Py_ssize_t n = out.shape[0], n_times = out.shape[1], block = within.shape[1]
    cdef Py_ssize_t n_blocks = (n_times + block - 1) // block
    cdef bint starts_per_sample = starts.shape[0] > 1, within_per_sample = within.shape[0] > 1
    cdef Py_ssize_t s, k, j, stop
    cdef double base
    cdef const double* fall
    cdef double* row
    with nogil:
        for s in range(n):
            fall = &within[s if within_per_sample else 0, 0]
            for k in range(n_blocks):
                base = starts[s if starts_per_sample else 0, k]
                row = &out[s, k * block]
                stop = min(block, n_times - k * block)
                for j in range(stop):
                    row[j] = base * fall[j]


def sequencing_step(const double[:, :] occupancy,
                    const double[:, :] entries,
                    const double[:, ::1] death_share,
                    const double[:, ::1] next_share,
                    double[:, ::1] deaths,
                    double[:, ::1] post_entries,
                    double[:, ::1] next_entries,
                    double[:, :] state_occupancy,
                    double[:, :] state_entries,
                    double[:, :] off_occupancy=None,
                    double[:, :] off_entries=None,
                    const double[:, ::1] occupancy_weights=None,
                    const double[:, ::1] entries_weights=None,
                    double[:, :] state_sums=None,
                    double[:, :] off_sums=None,
                    const unsigned char[::1] skip=None):
    """Book-keeping of one line of a sequence, fused into one pass.

    occupancy : (1 or m, T) occupancy of the line; entries : (m, T) entries into it;
    both of any strides.
    death_share, next_share : (1 or m, 1 or T - 1) by cycle.
    Exits in the cycle ending at t are occupancy[t-1] + entries[t] - occupancy[t];
    of these ``death_share`` die (added to ``deaths``), of the rest ``next_share``
    start the next line (written to ``next_entries``) and the others enter
    post-progression care (added to ``post_entries``). ``next_entries`` or
    ``post_entries`` may be None where the caller knows they get nobody (next: a share
    of 0 moving on; post-progression: every exit a death, or a share of 1 moving on):
    then they are not written. The line's occupancy and
    entries are copied into ``state_occupancy`` and ``state_entries`` (m, T): its state
    in a trace, views of any strides; an array that is already its state's (the same
    memory) is not copied onto itself, and ``state_occupancy`` None (a state not split)
    is not written: a caller that wants the state's sums alone. Entries of the states (``state_entries``, and
    ``off_entries`` below) may be (m, 1): then only their first point is written
    (:func:`_entries_points`). With ``off_occupancy`` (the occupancy on
    treatment, of any strides) the state is then split as :func:`split_on_treatment`
    splits it, sample by sample while its rows are at hand: on treatment in the state,
    the rest in ``off_occupancy``, whose ``off_entries`` are 0. With ``state_sums`` (and
    ``off_sums`` where split), each state's weighted sums are written as its rows are
    finished (:func:`_state_sums`). Samples whose ``skip`` (m,) is set are not touched.
    """
    cdef _Step step
    cdef Py_ssize_t s, po
    cdef bint occupancy_per_sample = occupancy.shape[0] > 1
    cdef bint copy_occupancy = state_occupancy is not None and not _same_memory(occupancy, state_occupancy)
    cdef bint copy_entries = not _same_memory(entries, state_entries)
    cdef Py_ssize_t occupancy_step = occupancy.strides[1] // sizeof(double)  # between time points
    cdef Py_ssize_t entries_step = entries.strides[1] // sizeof(double)
    if skip is not None and skip.shape[0] != entries.shape[0]:
        raise ValueError(f"skip has {skip.shape[0]} samples; the entries have {entries.shape[0]}")
    if not _step_setup(&step, entries.shape[0], entries.shape[1], death_share, next_share, post_entries,
                       next_entries, state_occupancy, state_entries, off_occupancy, off_entries, occupancy_weights,
                       entries_weights, state_sums, off_sums):
        return
    with nogil:
        for s in range(step.m):
            if skip is not None and skip[s]:
                continue
            po = s if occupancy_per_sample else 0
            if copy_occupancy:
                _copy_row(&state_occupancy[s, 0], step.state_step, &occupancy[po, 0], occupancy_step, step.n_times)
            if copy_entries:
                _copy_row(&state_entries[s, 0], step.state_entries_step, &entries[s, 0], entries_step,
                          step.entries_points)
            _finish_sample(&step, s, &occupancy[po, 0], occupancy_step, &entries[s, 0], entries_step, death_share,
                           next_share, deaths, post_entries, next_entries, state_occupancy, state_entries,
                           off_occupancy, off_entries, occupancy_weights, entries_weights, state_sums, off_sums)
    free(step.by_cycle)


def line_by_recursion(tuple survival_series, const double[:, ::1] survival, tuple on_series,
                      const double[:, ::1] on_treatment, tuple entries_series, const double[:, ::1] entries,
                      const double[:, ::1] death_share, const double[:, ::1] next_share, double[:, ::1] deaths,
                      double[:, ::1] post_entries, double[:, ::1] next_entries, double[:, :] state_occupancy,
                      double[:, :] state_entries, double[:, :] off_occupancy, double[:, :] off_entries,
                      const double[:, ::1] occupancy_weights, const double[:, ::1] entries_weights,
                      double[:, :] state_sums, double[:, :] off_sums, unsigned char[::1] done):
    """:func:`geometric_convolution` of a later line (and of its time on treatment) and
    :func:`sequencing_step` after it, in one pass per group of samples while their rows
    are in cache: the same values, bit for bit, as those two in turn.

    survival (1 or m, T) and on_treatment (1 or m, T; None: one state) are convolved with
    entries (m, T). ``survival_series`` and ``on_series`` are :func:`geometric_series` of
    them, ``entries_series`` of the entries (None where not needed): each convolution
    takes the curve's series where it is geometric, else the entries'. A sample is
    computed, and marked in ``done`` (m,), where each of its convolutions has a
    geometric side; the others are not touched. Samples are convolved four at a time, in
    step, as :func:`geometric_convolution` convolves them. The rest of the arguments are
    :func:`sequencing_step`'s, its occupancy the state's own.
    """
    cdef _Step step
    cdef Py_ssize_t m = entries.shape[0], n_times = entries.shape[1], s, t, i, lane, n_chosen = 0
    cdef bint treated = on_treatment is not None
    cdef _Series curve, on, by_entries
    cdef Py_ssize_t* chosen
    cdef _Recursion a[4]
    cdef _Recursion b[4]
    if done.shape[0] != m:
        raise ValueError(f"done has {done.shape[0]} samples; the entries have {m}")
    if treated != (off_occupancy is not None):
        raise ValueError("a time on treatment and the off-treatment state go together: give both or neither")
    _series_of(&curve, survival_series, survival)
    _series_of(&on, on_series, on_treatment)
    _series_of(&by_entries, entries_series, None)
    if not _step_setup(&step, m, n_times, death_share, next_share, post_entries, next_entries, state_occupancy,
                       state_entries, off_occupancy, off_entries, occupancy_weights, entries_weights, state_sums,
                       off_sums):
        return
    chosen = <Py_ssize_t*> malloc(m * sizeof(Py_ssize_t))
    if chosen == NULL:
        free(step.by_cycle)
        raise MemoryError()
    with nogil:
        for s in range(m):
            if _recursion(&a[0], &curve, &by_entries, s, &entries[s, 0]) and (
                    not treated or _recursion(&b[0], &on, &by_entries, s, &entries[s, 0])):
                chosen[n_chosen] = s
                n_chosen += 1
        for i in range(0, n_chosen, 4):
            for lane in range(4):  # a last group of fewer than four repeats its last sample
                s = chosen[i + lane if i + lane < n_chosen else n_chosen - 1]
                _recursion(&a[lane], &curve, &by_entries, s, &entries[s, 0])
                _start(&a[lane], &state_occupancy[s, 0])
                if treated:
                    _recursion(&b[lane], &on, &by_entries, s, &entries[s, 0])
                    _start(&b[lane], &off_occupancy[s, 0])
            # one convolution at a time: four chains in registers (eight would spill)
            for t in range(1, n_times):
                for lane in range(4):
                    _advance(&a[lane], t, step.state_step)
            if treated:
                for t in range(1, n_times):
                    for lane in range(4):
                        _advance(&b[lane], t, step.off_step)
            for lane in range(min(4, n_chosen - i)):
                s = chosen[i + lane]
                _copy_row(&state_entries[s, 0], step.state_entries_step, &entries[s, 0], 1, step.entries_points)
                _finish_sample(&step, s, &state_occupancy[s, 0], step.state_step, &entries[s, 0], 1, death_share,
                               next_share, deaths, post_entries, next_entries, state_occupancy, state_entries,
                               off_occupancy, off_entries, occupancy_weights, entries_weights, state_sums, off_sums)
                done[s] = 1
    free(chosen)
    free(step.by_cycle)


cdef struct _Series:
    # geometric_series of one side of a convolution, and the other side's rows
    const double* head
    const double* first
    const double* ratio
    const unsigned char* geometric
    bint per_sample, other_per_sample  # series and other rows by sample, or one for all
    const double* other  # the other side (NULL: the entries of the sample, given at use)
    Py_ssize_t other_row  # between rows of the other side


cdef struct _Recursion:
    # one convolution by recursion: out[t] = head * given[t] + first * running
    double head, first, ratio, running
    const double* given
    double* out


cdef int _series_of(_Series* series, tuple found, const double[:, ::1] other) except -1:
    """Fill ``series`` from :func:`geometric_series`' ``found`` (None: none), convolved
    with ``other`` (None: with each sample's entries, given at use)."""
    cdef const double[::1] head, first, ratio
    cdef const unsigned char[::1] geometric
    series.geometric = NULL
    if found is None:
        return 0
    head, first, ratio, geometric = found
    series.head, series.first, series.ratio, series.geometric = &head[0], &first[0], &ratio[0], &geometric[0]
    series.per_sample = head.shape[0] > 1
    series.other = NULL if other is None else &other[0, 0]
    series.other_per_sample = other is not None and other.shape[0] > 1
    series.other_row = 0 if other is None else other.shape[1]
    return 0


cdef inline bint _recursion(_Recursion* into, const _Series* curve, const _Series* by_entries, Py_ssize_t s,
                            const double* entries) noexcept nogil:
    """Set ``into`` for sample ``s``'s convolution of a curve with its ``entries``: the
    curve's series where geometric, else the entries' (convolved with the curve's rows).
    False where neither is geometric."""
    cdef Py_ssize_t k = s if curve.per_sample else 0
    if curve.geometric[k]:
        into.head, into.first, into.ratio, into.given = curve.head[k], curve.first[k], curve.ratio[k], entries
        return True
    if by_entries.geometric != NULL and by_entries.geometric[s]:
        into.head, into.first, into.ratio = by_entries.head[s], by_entries.first[s], by_entries.ratio[s]
        into.given = curve.other + (s if curve.other_per_sample else 0) * curve.other_row
        return True
    return False


cdef inline void _start(_Recursion* r, double* out) noexcept nogil:
    r.out = out
    r.running = r.given[0]
    out[0] = r.head * r.running


cdef inline void _advance(_Recursion* r, Py_ssize_t t, Py_ssize_t step) noexcept nogil:
    r.out[t * step] = r.head * r.given[t] + r.first * r.running
    r.running = r.ratio * r.running + r.given[t]


cdef struct _Step:
    # what every sample of a line's book-keeping shares (_step_setup)
    Py_ssize_t m, n_times, state_step, state_entries_step, off_step, off_entries_step
    Py_ssize_t entries_points  # time points of the states' entries written: all, or the first (_entries_points)
    bint death_per_sample, death_per_cycle, next_per_sample, next_per_cycle, to_post, to_next, split, summed
    bint filled  # whether by_cycle holds a share the same for every sample (written at the first sample done)
    double* by_cycle  # a share the same in every cycle, written out for each: two rows


cdef bint _step_setup(_Step* step, Py_ssize_t m, Py_ssize_t n_times, const double[:, ::1] death_share,
                      const double[:, ::1] next_share, double[:, ::1] post_entries, double[:, ::1] next_entries,
                      double[:, :] state_occupancy, double[:, :] state_entries, double[:, :] off_occupancy,
                      double[:, :] off_entries, const double[:, ::1] occupancy_weights,
                      const double[:, ::1] entries_weights, double[:, :] state_sums, double[:, :] off_sums
                      ) except -1:
    """Fill ``step`` for a line of ``m`` samples (checking its sums); False where there is
    nothing to do, else True with ``step.by_cycle`` allocated (the caller frees it)."""
    step.m, step.n_times = m, n_times
    step.death_per_sample, step.death_per_cycle = death_share.shape[0] > 1, death_share.shape[1] > 1
    step.next_per_sample, step.next_per_cycle = next_share.shape[0] > 1, next_share.shape[1] > 1
    step.to_post, step.to_next = post_entries is not None, next_entries is not None
    step.split = off_occupancy is not None
    step.summed = _check_sums(occupancy_weights, entries_weights, state_sums, m, n_times)
    if step.split and step.summed and not _check_sums(occupancy_weights, entries_weights, off_sums, m, n_times):
        raise ValueError("the state is split: off_sums are needed for its off-treatment part")
    if state_occupancy is None and off_occupancy is not None:
        raise ValueError("a state split on treatment needs its state_occupancy")
    step.state_step = 0 if state_occupancy is None else state_occupancy.strides[1] // sizeof(double)
    step.state_entries_step = state_entries.strides[1] // sizeof(double)
    step.off_step = off_occupancy.strides[1] // sizeof(double) if step.split else 0
    step.off_entries_step = off_entries.strides[1] // sizeof(double) if step.split else 0
    step.entries_points = _entries_points(state_entries, off_entries if step.split else None, n_times)
    step.filled = False
    if m == 0 or n_times < 2:
        return False
    step.by_cycle = <double*> malloc(2 * (n_times - 1) * sizeof(double))
    if step.by_cycle == NULL:
        raise MemoryError()
    return True


cdef inline void _finish_sample(_Step* step, Py_ssize_t s, const double* occupancy, Py_ssize_t occupancy_step,
                                const double* entries, Py_ssize_t entries_step, const double[:, ::1] death_share,
                                const double[:, ::1] next_share, double[:, ::1] deaths, double[:, ::1] post_entries,
                                double[:, ::1] next_entries, double[:, :] state_occupancy, double[:, :] state_entries,
                                double[:, :] off_occupancy, double[:, :] off_entries,
                                const double[:, ::1] occupancy_weights, const double[:, ::1] entries_weights,
                                double[:, :] state_sums, double[:, :] off_sums) noexcept nogil:
    """Sample ``s`` of :func:`sequencing_step` once its state's rows hold the line's
    occupancy and entries: exits, their split, the state's split and its sums."""
    cdef Py_ssize_t n_times = step.n_times
    cdef bint fill = not step.filled
    cdef const double* dying_share = _by_cycle(&death_share[s if step.death_per_sample else 0, 0],
                                               step.death_per_cycle, step.by_cycle, n_times - 1,
                                               fill or step.death_per_sample)
    cdef const double* onward_share = _by_cycle(&next_share[s if step.next_per_sample else 0, 0],
                                                step.next_per_cycle, step.by_cycle + n_times - 1, n_times - 1,
                                                fill or step.next_per_sample)
    step.filled = True
    if step.to_next:
        next_entries[s, 0] = 0.0
    _step_row(occupancy, occupancy_step, entries, entries_step, dying_share, onward_share, &deaths[s, 0],
              &post_entries[s, 0] if step.to_post else NULL, &next_entries[s, 0] if step.to_next else NULL, n_times)
    if step.split:
        _split_row(&state_occupancy[s, 0], step.state_step, &off_occupancy[s, 0], step.off_step, n_times)
        _zero_row(&off_entries[s, 0], step.off_entries_step, step.entries_points)
    if step.summed:  # the entries given, which the state's are a copy of (or only the first point of)
        if step.split:  # over what stays in the state, and over its off-treatment part
            _state_sums(&state_occupancy[s, 0], step.state_step, entries, entries_step, occupancy_weights,
                        entries_weights, state_sums, s)
            _state_sums(&off_occupancy[s, 0], step.off_step, NULL, 0, occupancy_weights, entries_weights,
                        off_sums, s)
        else:  # over the line's occupancy, which the state's is a copy of
            _state_sums(occupancy, occupancy_step, entries, entries_step, occupancy_weights, entries_weights,
                        state_sums, s)


cdef inline const double* _by_cycle(const double* share, bint per_cycle, double* row, Py_ssize_t n_cycles,
                                    bint fill) noexcept nogil:
    """A share by cycle: its own row, or ``row`` filled with its one value (when ``fill``)."""
    cdef Py_ssize_t c
    if per_cycle:
        return share
    if fill:
        for c in range(n_cycles):
            row[c] = share[0]
    return row


cdef void _step_row(const double* occupancy, Py_ssize_t occupancy_step, const double* entries,
                    Py_ssize_t entries_step, const double* death_share, const double* next_share,
                    double* deaths, double* post_entries, double* next_entries, Py_ssize_t n_times) noexcept nogil:
    """One sample of :func:`sequencing_step`, shares by cycle; ``post_entries`` or
    ``next_entries`` NULL when not written. A loop per case, with unit steps where the
    line's series are contiguous (a trace's states are), so that it runs branch-free."""
    cdef Py_ssize_t t
    cdef double leaving, dying, progressing, starting
    if occupancy_step == 1 and entries_step == 1:
        if post_entries == NULL and next_entries == NULL:
            for t in range(1, n_times):
                deaths[t] += (occupancy[t - 1] + entries[t] - occupancy[t]) * death_share[t - 1]
        elif next_entries == NULL:
            for t in range(1, n_times):
                leaving = occupancy[t - 1] + entries[t] - occupancy[t]
                dying = leaving * death_share[t - 1]
                deaths[t] += dying
                progressing = leaving - dying
                post_entries[t] += progressing - progressing * next_share[t - 1]
        elif post_entries == NULL:
            for t in range(1, n_times):
                leaving = occupancy[t - 1] + entries[t] - occupancy[t]
                dying = leaving * death_share[t - 1]
                deaths[t] += dying
                next_entries[t] = (leaving - dying) * next_share[t - 1]
        else:
            for t in range(1, n_times):
                leaving = occupancy[t - 1] + entries[t] - occupancy[t]
                dying = leaving * death_share[t - 1]
                deaths[t] += dying
                progressing = leaving - dying
                starting = progressing * next_share[t - 1]
                post_entries[t] += progressing - starting
                next_entries[t] = starting
        return
    for t in range(1, n_times):
        leaving = occupancy[(t - 1) * occupancy_step] + entries[t * entries_step] - occupancy[t * occupancy_step]
        dying = leaving * death_share[t - 1]
        deaths[t] += dying
        progressing = leaving - dying
        starting = progressing * next_share[t - 1]
        if post_entries != NULL:
            post_entries[t] += progressing - starting
        if next_entries != NULL:
            next_entries[t] = starting


def starting_line(const double[::1] share, const double[:, ::1] survival, const double[:, ::1] death_share,
                  const double[:, ::1] on_treatment, double[:, ::1] deaths, double[:, ::1] post_entries,
                  double[:, :] state_occupancy, double[:, :] state_entries,
                  double[:, :] off_occupancy, double[:, :] off_entries,
                  const double[:, ::1] occupancy_weights=None, const double[:, ::1] entries_weights=None,
                  double[:, :] state_sums=None, double[:, :] off_sums=None, bint deaths_unwritten=False,
                  bint post_entries_unwritten=False):
    """A first-line option that ``share`` of the cohort starts at t = 0, in one pass per
    sample: its occupancy ``share * survival``, entries (``share`` at t = 0), and its exits
    (occupancy[t-1] - occupancy[t]) split into deaths (``death_share``, added to
    ``deaths``) and the others (added to ``post_entries``), as :func:`sequencing_step`
    computes them from that occupancy and those entries; with ``on_treatment`` (None:
    one state), the occupancy on treatment ``share * on_treatment`` in the state and the
    rest in ``off_occupancy``, whose entries are 0 (:func:`split_on_treatment`), each
    value rounded as those compute it.

    share : (m,); survival, on_treatment : (1 or m, T); death_share : (1 or m, 1 or
    T - 1); deaths, post_entries : (m, T); the states' occupancy and entries : (m, T),
    of any strides (a trace's states), the entries possibly (m, 1) (only the first point,
    as :func:`sequencing_step` writes them). With ``state_sums`` (and ``off_sums`` where
    treated), each state's weighted sums as :func:`sequencing_step` writes them.
    ``deaths_unwritten`` and ``post_entries_unwritten`` say that an array holds nothing
    yet: the exits are written into it, not added (0 at t = 0), so that it need not be
    zeroed first.
    """
    cdef Py_ssize_t m = deaths.shape[0], n_times = deaths.shape[1]
    cdef bint survival_per_sample = survival.shape[0] > 1, treated = on_treatment is not None
    cdef bint on_per_sample = treated and on_treatment.shape[0] > 1
    cdef bint death_per_sample = death_share.shape[0] > 1, death_per_cycle = death_share.shape[1] > 1
    cdef Py_ssize_t occupancy_step = state_occupancy.strides[1] // sizeof(double)
    cdef Py_ssize_t entries_step = state_entries.strides[1] // sizeof(double)
    cdef Py_ssize_t off_step = off_occupancy.strides[1] // sizeof(double) if treated else 0
    cdef Py_ssize_t off_entries_step = off_entries.strides[1] // sizeof(double) if treated else 0
    cdef Py_ssize_t entries_points = _entries_points(state_entries, off_entries if treated else None, n_times)
    cdef bint summed = _check_sums(occupancy_weights, entries_weights, state_sums, m, n_times)
    if treated and summed and not _check_sums(occupancy_weights, entries_weights, off_sums, m, n_times):
        raise ValueError("the state is split: off_sums are needed for its off-treatment part")
    cdef Py_ssize_t s, t, q  # sample, time point, weight
    cdef double started, on, leaving, dying
    cdef const double* curve
    cdef const double* on_curve = NULL
    cdef const double* dying_share
    cdef double* occupancy
    cdef double* entered
    cdef double* dead
    cdef double* leaving_alive
    cdef double* off = NULL
    cdef double* off_entered = NULL
    cdef double* by_cycle
    if m == 0 or n_times < 2:
        return
    by_cycle = <double*> malloc((n_times - 1) * sizeof(double))
    if by_cycle == NULL:
        raise MemoryError()
    with nogil:
        for s in range(m):
            started = share[s]
            curve = &survival[s if survival_per_sample else 0, 0]
            dying_share = _by_cycle(&death_share[s if death_per_sample else 0, 0], death_per_cycle, by_cycle,
                                    n_times - 1, s == 0 or death_per_sample)
            occupancy, entered = &state_occupancy[s, 0], &state_entries[s, 0]
            dead, leaving_alive = &deaths[s, 0], &post_entries[s, 0]
            # a loop per row and case, each the compiler can vectorise where steps are unit
            if treated:
                on_curve = &on_treatment[s if on_per_sample else 0, 0]
                off, off_entered = &off_occupancy[s, 0], &off_entries[s, 0]
                if occupancy_step == 1 and off_step == 1:
                    for t in range(n_times):
                        on = started * on_curve[t]
                        occupancy[t], off[t] = on, started * curve[t] - on
                else:
                    for t in range(n_times):
                        on = started * on_curve[t]
                        occupancy[t * occupancy_step], off[t * off_step] = on, started * curve[t] - on
                _zero_row(off_entered, off_entries_step, entries_points)
            elif occupancy_step == 1:
                for t in range(n_times):
                    occupancy[t] = started * curve[t]
            else:
                for t in range(n_times):
                    occupancy[t * occupancy_step] = started * curve[t]
            if deaths_unwritten:
                dead[0] = 0.0
            if post_entries_unwritten:
                leaving_alive[0] = 0.0
            for t in range(1, n_times):
                leaving = started * curve[t - 1] - started * curve[t]  # + entries, 0 after t = 0
                dying = leaving * dying_share[t - 1]
                dead[t] = dying if deaths_unwritten else dead[t] + dying
                leaving_alive[t] = leaving - dying if post_entries_unwritten else leaving_alive[t] + (leaving - dying)
            _zero_row(entered, entries_step, entries_points)
            entered[0] = started
            if summed:  # entries only at t = 0: their sums are that one term (what the full sums give)
                _state_sums(occupancy, occupancy_step, NULL, 0, occupancy_weights, entries_weights, state_sums, s)
                for q in range(entries_weights.shape[0]):
                    state_sums[s, occupancy_weights.shape[0] + q] = entries_weights[q, 0] * started
                if treated:
                    _state_sums(off, off_step, NULL, 0, occupancy_weights, entries_weights, off_sums, s)
    free(by_cycle)


def split_on_treatment(double[:, :] option, double[:, :] on_then_off):
    """An option's occupancy split by its time on treatment, in place and in one pass.

    option : (m, T) the option's occupancy; on_then_off : (m, T) its occupancy on
    treatment; both of any strides. Afterwards ``option`` holds the occupancy on
    treatment and ``on_then_off`` the rest, off treatment (option − on, rounded once).
    """
    cdef Py_ssize_t s
    cdef Py_ssize_t option_step = option.strides[1] // sizeof(double)
    cdef Py_ssize_t other_step = on_then_off.strides[1] // sizeof(double)
    if option.shape[1] == 0:
        return
    with nogil:
        for s in range(option.shape[0]):
            _split_row(&option[s, 0], option_step, &on_then_off[s, 0], other_step, option.shape[1])


def add_scaled_rows(double[:, ::1] out, const double[::1] scale, const double[:, ::1] rows, bint unwritten=False):
    """out[s, t] += scale[s] * rows[s, t], in one pass: the product rounded, then the sum,
    as numpy's ``out += scale[:, None] * rows`` rounds them, without its temporary of
    the rows' size; ``unwritten`` (out holds nothing yet): out[s, t] = scale[s] * rows[s, t],
    the bits of ``scale[:, None] * rows``, which numpy computes by buffering the broadcast
    column (twice as long). out, rows : (m, T); scale : (m,)."""
    cdef Py_ssize_t m = out.shape[0], n_times = out.shape[1], s, t
    cdef double factor
    with nogil:
        for s in range(m):
            factor = scale[s]
            if unwritten:
                for t in range(n_times):
                    out[s, t] = factor * rows[s, t]
            else:
                for t in range(n_times):
                    out[s, t] += factor * rows[s, t]


def absorbing_state(const double[:, ::1] deaths, double[:, :] occupancy, double[:, :] entries,
                    const double[:, ::1] occupancy_weights=None, const double[:, ::1] entries_weights=None,
                    double[:, :] sums=None):
    """Death, which nobody leaves, in one pass per sample: its entries are ``deaths`` (m,
    T) and its occupancy their running sum, added in time order as ``np.cumsum`` adds
    them (the same bits). ``occupancy`` and ``entries`` (m, T) are states of a trace, of
    any strides; ``entries`` may be (m, 1), only the first point written. With ``sums``,
    the state's weighted sums as :func:`sequencing_step` writes them."""
    cdef Py_ssize_t m = deaths.shape[0], n_times = deaths.shape[1]
    cdef bint summed = _check_sums(occupancy_weights, entries_weights, sums, m, n_times)
    cdef Py_ssize_t occupancy_step = occupancy.strides[1] // sizeof(double)
    cdef Py_ssize_t entries_step = entries.strides[1] // sizeof(double)
    cdef bint all_entries = _entries_points(entries, None, n_times) == n_times
    cdef Py_ssize_t s, t, first
    cdef double running, r0, r1, r2, r3
    cdef const double* dying
    cdef const double* d0
    cdef const double* d1
    cdef const double* d2
    cdef const double* d3
    cdef double* o0
    cdef double* o1
    cdef double* o2
    cdef double* o3
    cdef double* dead
    cdef double* entered
    if n_times == 0:
        return
    with nogil:
        # running sums four samples at a time: four additions that do not wait on each
        # other, as one sum waits on itself; each sample's in its own order
        for first in range(0, m - m % 4, 4):
            d0, d1, d2, d3 = &deaths[first, 0], &deaths[first + 1, 0], &deaths[first + 2, 0], &deaths[first + 3, 0]
            o0, o1 = &occupancy[first, 0], &occupancy[first + 1, 0]
            o2, o3 = &occupancy[first + 2, 0], &occupancy[first + 3, 0]
            r0, r1, r2, r3 = d0[0], d1[0], d2[0], d3[0]
            o0[0], o1[0], o2[0], o3[0] = r0, r1, r2, r3
            for t in range(1, n_times):
                r0, r1, r2, r3 = r0 + d0[t], r1 + d1[t], r2 + d2[t], r3 + d3[t]
                o0[t * occupancy_step], o1[t * occupancy_step] = r0, r1
                o2[t * occupancy_step], o3[t * occupancy_step] = r2, r3
        for s in range(m - m % 4, m):
            dying, dead = &deaths[s, 0], &occupancy[s, 0]
            running = dying[0]
            dead[0] = running
            for t in range(1, n_times):
                running = running + dying[t]
                dead[t * occupancy_step] = running
        for s in range(m):
            dying, dead, entered = &deaths[s, 0], &occupancy[s, 0], &entries[s, 0]
            entered[0] = dying[0]
            if all_entries:
                _copy_row(entered + entries_step, entries_step, dying + 1, 1, n_times - 1)
            if summed:  # over the deaths, which its entries are a copy of
                _state_sums(dead, occupancy_step, dying, 1, occupancy_weights, entries_weights, sums, s)


def terminal_sums(const double[:, ::1] post_entries, const double[:, ::1] deaths,
                  const double[:, :, ::1] correlations, const double[::1] first_survival,
                  const double[:, ::1] reverse_cumulative, const double[:, ::1] entries_weights,
                  double[:, :] post_sums, double[:, :] dead_sums):
    """The weighted sums of post-progression care (a state left only by death, entered by
    ``post_entries`` (m, T), survival since entry S) and of death (entered by ``deaths``
    (m, T) from the states before, then by those dying in care), without their occupancy.

    By linearity, a state's occupancy sum with weights w is sum_u entries[u] * G[u], with
    G[u] = sum_v S[v] * w[u + v]: ``correlations`` (1 or m, k + k', T) hold G for the k
    occupancy weights, then for the k' entries weights' forward differences (v[t + 1] -
    v[t], v[T] = 0), which value the deaths in care by the entries weights; death's
    occupancy sums are those of its entries with ``reverse_cumulative`` (k, T) weights
    (sum of w from t on). ``first_survival`` (1 or m,) is S[0] (within a tolerance of 1:
    nobody dies in care at t = 0). Sums are written in the layout of
    :func:`sequencing_step`'s (m, k + k').
    """
    cdef Py_ssize_t m = post_entries.shape[0], n_times = post_entries.shape[1]
    cdef Py_ssize_t k = reverse_cumulative.shape[0], n_entries = entries_weights.shape[0], s, q
    cdef bint per_sample = correlations.shape[0] > 1
    cdef double entered, dead_at_entry, in_care, entries_sum
    cdef const double* care
    cdef const double* dying
    cdef const double* correlated
    if deaths.shape[0] != m or deaths.shape[1] != n_times:
        raise ValueError(f"deaths have shape ({deaths.shape[0]}, {deaths.shape[1]}); the entries ({m}, {n_times})")
    if correlations.shape[1] != k + n_entries or correlations.shape[2] != n_times:
        raise ValueError(f"correlations have shape {tuple(correlations.shape)[:3]}; expected (1 or {m}, "
                         f"{k + n_entries}, {n_times})")
    if correlations.shape[0] not in (1, m) or first_survival.shape[0] != correlations.shape[0]:
        raise ValueError(f"correlations are of {correlations.shape[0]} samples and first_survival of "
                         f"{first_survival.shape[0]}: both 1 or {m}")
    if reverse_cumulative.shape[1] != n_times or entries_weights.shape[1] != n_times:
        raise ValueError(f"weights have {reverse_cumulative.shape[1]} and {entries_weights.shape[1]} time points; "
                         f"the rows have {n_times}")
    for name, sums in (("post_sums", post_sums), ("dead_sums", dead_sums)):
        if sums.shape[0] != m or sums.shape[1] != k + n_entries:
            raise ValueError(f"{name} have shape ({sums.shape[0]}, {sums.shape[1]}); expected ({m}, {k + n_entries})")
    if n_times == 0:
        return
    with nogil:
        for s in range(m):
            care, dying = &post_entries[s, 0], &deaths[s, 0]
            correlated = &correlations[s if per_sample else 0, 0, 0]
            # what the step counts as dying in care at t = 0, where it counts nobody
            dead_at_entry = care[0] * (1.0 - first_survival[s if per_sample else 0])
            for q in range(k):
                in_care = _weighted_sum(care, 1, correlated + q * n_times, n_times)
                entered = _weighted_sum(care, 1, &reverse_cumulative[q, 0], n_times)
                post_sums[s, q] = in_care
                dead_sums[s, q] = (_weighted_sum(dying, 1, &reverse_cumulative[q, 0], n_times)
                                   + entered - in_care - dead_at_entry * reverse_cumulative[q, 0])
            for q in range(n_entries):
                entries_sum = _weighted_sum(care, 1, &entries_weights[q, 0], n_times)
                post_sums[s, k + q] = entries_sum
                dead_sums[s, k + q] = (
                    _weighted_sum(dying, 1, &entries_weights[q, 0], n_times) + entries_sum
                    + _weighted_sum(care, 1, correlated + (k + q) * n_times, n_times)
                    - dead_at_entry * entries_weights[q, 0])


def correlate_truncated(const double[:, ::1] survival, const double[:, ::1] weights):
    """out[s, q, u] = sum_{v < T - u} survival[s, v] * weights[q, u + v], by direct
    summation, O(T**2) per sample and weight: :func:`terminal_sums`' correlations on a
    grid too short for FFT. survival : (1 or m, T); weights : (k, T); out (1 or m, k, T).
    """
    cdef Py_ssize_t n = survival.shape[0], n_times = survival.shape[1], n_weights = weights.shape[0]
    if weights.shape[1] != n_times:
        raise ValueError(f"weights have {weights.shape[1]} time points; the curves {n_times}")
    out_arr = np.zeros((n, n_weights, n_times))
    cdef double[:, :, ::1] out = out_arr
    cdef Py_ssize_t s, q, u, v
    cdef double total
    with nogil:
        for s in range(n):
            for q in range(n_weights):
                for u in range(n_times):
                    total = 0.0
                    for v in range(n_times - u):
                        total = total + survival[s, v] * weights[q, u + v]
                    out[s, q, u] = total
    return out_arr


cdef bint _check_sums(const double[:, ::1] occupancy_weights, const double[:, ::1] entries_weights,
                      double[:, :] sums, Py_ssize_t m, Py_ssize_t n_times) except -1:
    """Whether a kernel writes weighted sums (``sums`` given), having checked that the
    weights have ``n_times`` columns and ``sums`` (m, one per weight) fits them."""
    if sums is None:
        return False
    if occupancy_weights is None or entries_weights is None:
        raise ValueError("weighted sums need occupancy_weights and entries_weights")
    if occupancy_weights.shape[1] != n_times or entries_weights.shape[1] != n_times:
        raise ValueError(f"weights have {occupancy_weights.shape[1]} and {entries_weights.shape[1]} time points; "
                         f"the rows have {n_times}")
    if sums.shape[0] != m or sums.shape[1] != occupancy_weights.shape[0] + entries_weights.shape[0]:
        raise ValueError(f"sums have shape ({sums.shape[0]}, {sums.shape[1]}); expected ({m}, "
                         f"{occupancy_weights.shape[0] + entries_weights.shape[0]})")
    return True


cdef Py_ssize_t _entries_points(double[:, :] entries, double[:, :] off_entries, Py_ssize_t n_times) except -1:
    """The time points of a state's ``entries`` (and of its off-treatment part's,
    ``off_entries``, None where it has none) a kernel writes, from their shape: every one,
    or only the first (a trace valued from its sums keeps its entries at t = 0 alone,
    which its exits need)."""
    if entries.shape[1] != n_times and entries.shape[1] != 1:
        raise ValueError(f"entries have {entries.shape[1]} time points: {n_times}, or 1 (the first only)")
    if off_entries is not None and off_entries.shape[1] != entries.shape[1]:
        raise ValueError(f"off_entries have {off_entries.shape[1]} time points; state_entries {entries.shape[1]}")
    return entries.shape[1]


cdef inline void _state_sums(const double* occupancy, Py_ssize_t occupancy_step, const double* entries,
                             Py_ssize_t entries_step, const double[:, ::1] occupancy_weights,
                             const double[:, ::1] entries_weights, double[:, :] sums, Py_ssize_t s) noexcept nogil:
    """Sample ``s``'s weighted sums of one state: over its occupancy row, one per row of
    ``occupancy_weights``, then over its entries row (NULL: zero entries), one per row of
    ``entries_weights``, into ``sums[s]``."""
    cdef Py_ssize_t n_times = occupancy_weights.shape[1], q, n_occupancy = occupancy_weights.shape[0]
    cdef Py_ssize_t sums_step = sums.strides[1] // sizeof(double)
    cdef double* into = &sums[s, 0]
    for q in range(n_occupancy):
        into[q * sums_step] = _weighted_sum(occupancy, occupancy_step, &occupancy_weights[q, 0], n_times)
    for q in range(entries_weights.shape[0]):
        into[(n_occupancy + q) * sums_step] = (
            0.0 if entries == NULL else _weighted_sum(entries, entries_step, &entries_weights[q, 0], n_times))


cdef inline double _weighted_sum(const double* row, Py_ssize_t step, const double* weights,
                                 Py_ssize_t n_times) noexcept nogil:
    """sum_t weights[t] * row[t * step]: four running sums, each over every fourth point
    (they do not wait on each other, as one sum waits on itself), added pairwise; the
    order is fixed, so a row's sum does not depend on the rows beside it."""
    cdef Py_ssize_t t, last = n_times - n_times % 4
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    if step == 1:
        for t in range(0, last, 4):
            s0 += weights[t] * row[t]
            s1 += weights[t + 1] * row[t + 1]
            s2 += weights[t + 2] * row[t + 2]
            s3 += weights[t + 3] * row[t + 3]
    else:
        for t in range(0, last, 4):
            s0 += weights[t] * row[t * step]
            s1 += weights[t + 1] * row[(t + 1) * step]
            s2 += weights[t + 2] * row[(t + 2) * step]
            s3 += weights[t + 3] * row[(t + 3) * step]
    for t in range(last, n_times):
        s0 += weights[t] * row[t * step]
    return (s0 + s1) + (s2 + s3)


cdef inline void _split_row(double* option, Py_ssize_t option_step, double* on_then_off, Py_ssize_t other_step,
                            Py_ssize_t n_times) noexcept nogil:
    """One sample of :func:`split_on_treatment`: rows of any steps, a loop the compiler
    can vectorise where both are unit."""
    cdef Py_ssize_t t
    cdef double on
    if option_step == 1 and other_step == 1:
        for t in range(n_times):
            on = on_then_off[t]
            on_then_off[t] = option[t] - on
            option[t] = on
        return
    for t in range(n_times):
        on = on_then_off[t * other_step]
        on_then_off[t * other_step] = option[t * option_step] - on
        option[t * option_step] = on


cdef inline void _copy_row(double* into, Py_ssize_t into_step, const double* given, Py_ssize_t given_step,
                           Py_ssize_t n_times) noexcept nogil:
    cdef Py_ssize_t t
    if into_step == 1 and given_step == 1:
        memcpy(into, given, n_times * sizeof(double))
        return
    for t in range(n_times):
        into[t * into_step] = given[t * given_step]


cdef inline void _zero_row(double* into, Py_ssize_t step, Py_ssize_t n_times) noexcept nogil:
    cdef Py_ssize_t t
    if step == 1:
        memset(into, 0, n_times * sizeof(double))  # all-zero bits are 0.0
        return
    for t in range(n_times):
        into[t * step] = 0.0


cdef bint _same_memory(const double[:, :] given, double[:, :] state):
    """Whether ``given`` is ``state`` itself: the same first element, shape and strides."""
    return (given.shape[0] == state.shape[0] and given.shape[1] == state.shape[1]
            and given.strides[0] == state.strides[0] and given.strides[1] == state.strides[1]
            and given.shape[0] > 0 and given.shape[1] > 0 and &given[0, 0] == &state[0, 0])


# a floor's share of deaths needed is computed (a division) only from this fraction of the share given
cdef double _NEARLY_ONE = 1.0 - 1e-9


# How near the floor a cycle must come to be computed as floored: far above rounding.
cdef double _FLOOR_MARGIN = 1e-9


def floor_survival(const double[:, ::1] survival, const double[::1] death_share,
                   const double[:, ::1] population_death):
    """General-population mortality as a floor on each cycle's probability of death.

    survival : (1 or n, T) a curve since entry to a state, which ends in death or another event.
    death_share : (1 or n,) share of its events that are deaths.
    population_death : (1 or n, T - 1) the general population's probability of death in
        each cycle, 1 - S(t + 1) / S(t) (``death_probabilities``: shared by the curves
        floored against one population).

    In each cycle the event probability 1 - S(t + 1) / S(t) is raised to the general
    population's probability of death q if lower, and the share of events that are
    deaths to q / events if lower, so that deaths alone reach q.

    Each sample is first read up to the first cycle that the floor may change (its deaths
    alone within a margin of q, or S not positive), with products instead of quotients:
    before it the curve is the given one, and the share the given one. From that cycle on
    the curve is each value times one minus its cycle's event probability (floored).

    Returns None where the floor changes no cycle of any sample (the curve and share are
    the given ones); else the floored curve (n, T), the death share by cycle (n, T - 1),
    clipped to [0, 1] (one 1, (1, 1), where every share given is 1: a share of 1 is never
    raised, so every event stays a death), and the number of (sample, cycle) pairs in
    which the floor binds: the event probability or the death share was raised (with a
    death share of 1 only the first can be, so both are counted).
    """
    cdef Py_ssize_t n = max(survival.shape[0], death_share.shape[0], population_death.shape[0])
    cdef Py_ssize_t n_times = survival.shape[1]
    cdef bint own_per_sample = survival.shape[0] > 1, share_per_sample = death_share.shape[0] > 1
    cdef bint population_per_sample = population_death.shape[0] > 1
    cdef Py_ssize_t s, c, start, floored = 0
    cdef bint every_death = True  # every event a death, in every sample: the share stays 1
    cdef bint any_change = False
    for s in range(death_share.shape[0]):
        every_death = every_death and death_share[s] == 1.0
    first_arr = np.empty(n, dtype=np.intp)
    cdef Py_ssize_t[::1] first = first_arr
    cdef const double* own
    cdef const double* population
    cdef double given, events, dying, needed, raised, falling, raise_from, running
    cdef bint binding
    with nogil:
        for s in range(n):
            own = &survival[s if own_per_sample else 0, 0]
            population = &population_death[s if population_per_sample else 0, 0]
            given = death_share[s if share_per_sample else 0]
            # q >= share * events (the share raised) or q > events (binding), times S(t) > 0
            raise_from = given * _NEARLY_ONE * (1.0 - _FLOOR_MARGIN)
            first[s] = n_times - 1
            for c in range(n_times - 1):
                falling = own[c] - own[c + 1]
                if not own[c] > 0 or population[c] * own[c] >= raise_from * falling \
                        or population[c] * own[c] > falling * (1.0 - _FLOOR_MARGIN):
                    first[s] = c
                    any_change = True
                    break
    if not any_change:
        return None
    curve_arr = np.empty((n, n_times))
    share_arr = np.ones((1, 1)) if every_death else np.empty((n, n_times - 1))
    cdef double[:, ::1] curve = curve_arr
    cdef double[:, ::1] share = share_arr
    with nogil:
        for s in range(n):
            own = &survival[s if own_per_sample else 0, 0]
            population = &population_death[s if population_per_sample else 0, 0]
            given = death_share[s if share_per_sample else 0]
            start = first[s]
            memcpy(&curve[s, 0], own, (start + 1) * sizeof(double))
            running = own[start]  # in a register: not read back from the curve written
            if not every_death:
                raised = 0.0 if given < 0.0 else (1.0 if given > 1.0 else given)
                for c in range(start):
                    share[s, c] = raised
            for c in range(start, n_times - 1):
                events = 1.0 - (own[c + 1] / own[c] if own[c] > 0 else 1.0)
                dying = population[c]
                binding = dying > events
                if binding:
                    events = dying
                    needed = 1.0 if dying > 0 else 0.0  # dying / dying
                elif events > 0 and dying >= given * events * _NEARLY_ONE:
                    needed = dying / events
                elif events > 0:  # dying / events is below the share given by far more than its rounding
                    needed = given
                else:
                    needed = 0.0
                if binding or needed > given:
                    floored += 1
                if not every_death:
                    raised = needed if needed > given else given
                    share[s, c] = 0.0 if raised < 0.0 else (1.0 if raised > 1.0 else raised)
                running = running * (1.0 - events)
                curve[s, c + 1] = running
    return curve_arr, share_arr, floored


# Time points of a year of age at most computed by recursion before an exact exponential:
# the recursion's rounding grows by about an ulp a step.
cdef Py_ssize_t _GENERAL_POPULATION_RESTART = 32


def general_population_survival(const double[::1] start_age, const double[::1] share_female,
                                const double[::1] times, double step, const double[:, ::1] force,
                                const double[:, ::1] cumulative):
    """Survival of general-population cohorts, f·S_F + (1 − f)·S_M, from a life table.

    start_age, share_female : (n,), ages in years within the table's ages, shares in
    [0, 1]; times : (T,) years since the start, finite and non-negative; step : Δ where
    times[k] = k·Δ (an evenly spaced grid), else 0. force : (2, n_ages), female then
    male, the force of mortality by single year of age, constant within each year, the
    last age's going on beyond the table; cumulative : (2, n_ages + 1), its running sum
    from birth (0 first).

    Each sex's S = exp(-(H(age) - H(start age))), H(a) = cumulative[⌊a⌋] +
    force[⌊a⌋]·(a − ⌊a⌋) with ⌊a⌋ capped at the last age. On an evenly spaced grid S
    falls by exp(-force·Δ) from a point to the next within one year of age, so such a
    point is the one before times that ratio (one exponential per year of age); every
    other point, and at least every _GENERAL_POPULATION_RESTART points, is the
    exponential itself. Returns (n, T).
    """
    cdef Py_ssize_t n = start_age.shape[0], n_times = times.shape[0]
    cdef Py_ssize_t last = force.shape[1] - 1, s, t
    out_arr = np.empty((n, n_times))
    male_arr = np.empty(n_times)
    cdef double[:, ::1] out = out_arr
    cdef double[::1] male = male_arr
    cdef double share
    with nogil:
        for s in range(n):
            _cohort_survival(&out[s, 0], start_age[s], &times[0], n_times, step, &force[0, 0], &cumulative[0, 0],
                             last)
            _cohort_survival(&male[0], start_age[s], &times[0], n_times, step, &force[1, 0], &cumulative[1, 0], last)
            share = share_female[s]
            for t in range(n_times):
                out[s, t] = out[s, t] * share + male[t] * (1.0 - share)
    return out_arr


cdef void _cohort_survival(double* row, double start_age, const double* times, Py_ssize_t n_times, double step,
                           const double* force, const double* cumulative, Py_ssize_t last) noexcept nogil:
    """One sex's survival from ``start_age`` at ``times`` (general_population_survival)."""
    cdef Py_ssize_t whole = _year_of_age(start_age, last), t, since = 0
    cdef Py_ssize_t before = -1, ratio_age = -1
    cdef double at_start = cumulative[whole] + force[whole] * (start_age - whole)
    cdef double age, ratio = 1.0, value = 1.0  # the value in a register, not read back from the row
    for t in range(n_times):
        age = start_age + times[t]
        whole = _year_of_age(age, last)
        if step > 0 and whole == before and since < _GENERAL_POPULATION_RESTART:
            if whole != ratio_age:
                ratio_age, ratio = whole, exp(-(force[whole] * step))
            value = value * ratio
            since += 1
        else:
            value = exp(-((cumulative[whole] + force[whole] * (age - whole)) - at_start))
            since = 0
        row[t] = value
        before = whole


cdef inline Py_ssize_t _year_of_age(double age, Py_ssize_t last) noexcept nogil:
    """⌊age⌋ (truncation: age is non-negative), capped at the table's last age."""
    cdef Py_ssize_t whole = <Py_ssize_t> age
    return last if whole > last else whole

def median_exit_rate(const double[:, ::1] entries, const double[:, ::1] outside,
                     const Py_ssize_t[::1] point, const double[::1] weight, double step,
                     double log_low, double log_high, int iterations):
    """Per sample, the constant exit rate (per year) from a clock-reset state after which
    half the cohort is alive at its target time: Newton's method on the log rate, kept
    inside a bracket that each step narrows (a step that would leave it bisects).

    entries : (n, >= max(point) + 2) entries into the state by time point.
    outside : (n, 2) the cohort alive outside the state at time points ``point`` and
        ``point + 1``, between which the target time lies with weight ``weight`` on
        the first.
    step : cycle length in years (the grid is uniform).

    Alive in the state at time point k is sum_{u <= k} e(u) q^(k - u) with
    q = exp(-rate * step), summed with its derivative in q by Horner's rule: one
    exponential per rate tried. Stops when the bracket or the step is within a few
    rounding errors of the log rate, after at most ``iterations`` steps.
    Returns the rates (n,) and whether the target was out of reach (1) for each sample:
    the first and second lines alone put the median on the wrong side of it, and the
    rate is left at its bound.
    """
    cdef Py_ssize_t n = entries.shape[0], s, k, i
    rates_arr = np.empty(n)
    unreachable_arr = np.zeros(n, dtype=np.int8)
    cdef double[::1] rates = rates_arr
    cdef signed char[::1] unreachable = unreachable_arr
    cdef double low, high, x, excess, slope, proposal, resolution
    with nogil:
        for s in range(n):
            k = point[s]
            low, high = log_low, log_high
            if _excess_alive(&entries[s, 0], outside[s, 0], outside[s, 1], k, weight[s], step, high, &slope) > 0.0:
                unreachable[s], rates[s] = 1, exp(high)
                continue
            if _excess_alive(&entries[s, 0], outside[s, 0], outside[s, 1], k, weight[s], step, low, &slope) < 0.0:
                unreachable[s], rates[s] = 1, exp(low)
                continue
            x = 0.5 * (low + high)
            for i in range(iterations):
                excess = _excess_alive(&entries[s, 0], outside[s, 0], outside[s, 1], k, weight[s], step, x, &slope)
                if excess == 0.0:
                    break
                if excess > 0.0:  # too many alive: the rate is higher
                    low = x
                else:
                    high = x
                resolution = 4e-16 * (fabs(x) + 1.0)
                if high - low <= resolution:
                    break
                proposal = x - excess / slope if slope < 0.0 else 0.5 * (low + high)
                if not (low < proposal < high):
                    proposal = 0.5 * (low + high)
                if fabs(proposal - x) <= resolution:
                    x = proposal
                    break
                x = proposal
            rates[s] = exp(x)
    return rates_arr, unreachable_arr


cdef double _excess_alive(const double* entries, double outside_k, double outside_next, Py_ssize_t k,
                          double weight, double step, double log_rate, double* slope) noexcept nogil:
    """Alive at the target time minus one half at exit rate exp(log_rate), and its
    derivative in log_rate (into ``slope``)."""
    cdef double rate = exp(log_rate)
    cdef double q = exp(-rate * step), in_state = 0.0, d_in_state = 0.0
    cdef Py_ssize_t u
    for u in range(k + 1):
        d_in_state = d_in_state * q + in_state
        in_state = in_state * q + entries[u]
    # d/dq of alive, times dq/dlog_rate = -step * rate * q
    slope[0] = (weight * d_in_state + (1.0 - weight) * (d_in_state * q + in_state)) * (-step * rate * q)
    return weight * (outside_k + in_state) + (1.0 - weight) * (outside_next + in_state * q + entries[k + 1]) - 0.5


def cycle_weighted_totals(const double[:, :, :] values, const double[::1] at_start, const double[::1] at_end,
                          const double[:, :, :] occupancy):
    """sum_c values[s, c, j] * (at_start[c] * occupancy[s, c, j] + at_end[c] * occupancy[s, c + 1, j]).

    values : (1 or n, n_cycles, n_states), per year in each cycle; occupancy :
    (n, n_cycles + 1, n_states); both of any strides. Returns (n, n_states). One pass,
    no temporaries, and each sample's sum in cycle order (independent of the other
    samples).
    """
    cdef Py_ssize_t n = occupancy.shape[0], n_cycles = values.shape[1], k = occupancy.shape[2]
    cdef bint per_sample = values.shape[0] > 1
    total_arr = np.empty((n, k))
    cdef double[:, ::1] total = total_arr
    cdef Py_ssize_t s, c, j, sv
    cdef double in_state
    with nogil:
        for s in range(n):
            sv = s if per_sample else 0
            for j in range(k):
                in_state = 0.0
                for c in range(n_cycles):
                    in_state += values[sv, c, j] * (at_start[c] * occupancy[s, c, j]
                                                    + at_end[c] * occupancy[s, c + 1, j])
                total[s, j] = in_state
    return total_arr


def capped_cycle_weighted_totals(const double[:, :] level, const double[:, :] factor, const double[:, :] cap,
                                 const double[::1] at_start, const double[::1] at_end,
                                 const double[:, :, :] occupancy):
    """cycle_weighted_totals of values min(level[s, j] * factor[s, c], cap[s, c]), without
    building them: a utility by state, adjusted for age and capped at the general
    population's, say.

    level : (1 or n, n_states); factor, cap : (1 or n, n_cycles), of any strides. Each
    value is rounded as numpy rounds ``np.minimum(level * factor, cap)``, and summed in
    the order of cycle_weighted_totals, so the two agree bit for bit. States are summed
    four at a time, each in cycle order: four running sums that do not wait on each
    other, as one sum waits on itself.
    """
    cdef Py_ssize_t n = occupancy.shape[0], n_cycles = factor.shape[1], k = occupancy.shape[2]
    cdef bint level_per_sample = level.shape[0] > 1, factor_per_sample = factor.shape[0] > 1
    cdef bint cap_per_sample = cap.shape[0] > 1
    cdef Py_ssize_t step = occupancy.strides[1] // sizeof(double)  # between time points
    total_arr = np.zeros((n, k))
    cdef double[:, ::1] total = total_arr
    cdef Py_ssize_t s, c, g, j0, j1, j2, j3, sl, sf, sc
    cdef const double* m0
    cdef const double* m1
    cdef const double* m2
    cdef const double* m3
    cdef double l0, l1, l2, l3, t0, t1, t2, t3, scale, limit, a, b, value
    with nogil:
        for s in range(n):
            sl = s if level_per_sample else 0
            sf = s if factor_per_sample else 0
            sc = s if cap_per_sample else 0
            for g in range(0, k, 4):
                # a last group of fewer than four repeats its last state: summed twice, kept once
                j0, j1, j2, j3 = g, min(g + 1, k - 1), min(g + 2, k - 1), min(g + 3, k - 1)
                m0, m1, m2, m3 = &occupancy[s, 0, j0], &occupancy[s, 0, j1], &occupancy[s, 0, j2], &occupancy[s, 0, j3]
                l0, l1, l2, l3 = level[sl, j0], level[sl, j1], level[sl, j2], level[sl, j3]
                t0 = t1 = t2 = t3 = 0.0
                for c in range(n_cycles):
                    scale, limit, a, b = factor[sf, c], cap[sc, c], at_start[c], at_end[c]
                    value = l0 * scale
                    t0 += (limit if limit < value else value) * (a * m0[c * step] + b * m0[(c + 1) * step])
                    value = l1 * scale
                    t1 += (limit if limit < value else value) * (a * m1[c * step] + b * m1[(c + 1) * step])
                    value = l2 * scale
                    t2 += (limit if limit < value else value) * (a * m2[c * step] + b * m2[(c + 1) * step])
                    value = l3 * scale
                    t3 += (limit if limit < value else value) * (a * m3[c * step] + b * m3[(c + 1) * step])
                total[s, j0], total[s, j1], total[s, j2], total[s, j3] = t0, t1, t2, t3
    return total_arr


def capped_level_totals(const double[:, :] level, const double[:, :] cap, const double[::1] lowest,
                        const double[::1] at_start, const double[::1] at_end, const double[:, :, :] occupancy,
                        const double[:, :] years):
    """capped_cycle_weighted_totals with a factor of 1: values min(level[s, j], cap[s, c]),
    from the discounted years in each state, ``years`` (n, n_states), without a pass over
    the cycles no cap reaches.

    A value is itself until the first cycle whose cap is below it, so its total is
    level · years plus, from that cycle on, (min(level, cap[c]) - level) times the
    cycle's weighted occupancy (a term that is exactly 0 wherever the cap is not below
    it, so the cap need not fall monotonically). ``lowest`` (1 or n) is each cap row's
    minimum: a value at or below it is never capped. Each sample's states are taken from
    the highest value down, four at a time, each group summed from the first cycle its
    highest value is capped (its cap row read up to there, once over all groups). A
    total differs from capped_cycle_weighted_totals' by rounding alone.

    level : (1 or n, n_states); cap : (1 or n, n_cycles); occupancy (n, n_cycles + 1,
    n_states), of any strides. Returns (n, n_states).
    """
    cdef Py_ssize_t n = occupancy.shape[0], n_cycles = cap.shape[1], k = occupancy.shape[2]
    cdef bint level_per_sample = level.shape[0] > 1, cap_per_sample = cap.shape[0] > 1
    cdef Py_ssize_t step = occupancy.strides[1] // sizeof(double)  # between time points
    cdef Py_ssize_t cap_step = cap.strides[1] // sizeof(double)
    total_arr = np.empty((n, k))
    order_arr = np.empty(k, dtype=np.intp)
    cdef double[:, ::1] total = total_arr
    cdef Py_ssize_t[::1] order = order_arr  # a sample's states, highest value first
    cdef Py_ssize_t s, c, i, j, g, m, sl, sc, start, j0, j1, j2, j3
    cdef const double* limit
    cdef const double* m0
    cdef const double* m1
    cdef const double* m2
    cdef const double* m3
    cdef double l0, l1, l2, l3, t0, t1, t2, t3, a, b, below
    with nogil:
        for s in range(n):
            sl = s if level_per_sample else 0
            sc = s if cap_per_sample else 0
            limit = &cap[sc, 0]
            m = 0  # the states the cap reaches, highest value first
            for j in range(k):
                if level[sl, j] > lowest[sc]:
                    i = m
                    while i > 0 and level[sl, order[i - 1]] < level[sl, j]:  # insertion: a model has a few states
                        order[i] = order[i - 1]
                        i -= 1
                    order[i] = j
                    m += 1
                total[s, j] = level[sl, j] * years[s, j]
            c = 0
            for g in range(0, m, 4):
                # a last group of fewer than four repeats its last state: summed twice, kept once
                j0, j1, j2, j3 = order[g], order[min(g + 1, m - 1)], order[min(g + 2, m - 1)], order[min(g + 3, m - 1)]
                l0, l1, l2, l3 = level[sl, j0], level[sl, j1], level[sl, j2], level[sl, j3]
                while c < n_cycles and not limit[c * cap_step] < l0:  # where the group's highest is first capped
                    c += 1
                start = c
                m0, m1, m2, m3 = &occupancy[s, 0, j0], &occupancy[s, 0, j1], &occupancy[s, 0, j2], &occupancy[s, 0, j3]
                t0 = t1 = t2 = t3 = 0.0
                for c in range(start, n_cycles):
                    below, a, b = limit[c * cap_step], at_start[c], at_end[c]
                    t0 += (below - l0 if below < l0 else 0.0) * (a * m0[c * step] + b * m0[(c + 1) * step])
                    t1 += (below - l1 if below < l1 else 0.0) * (a * m1[c * step] + b * m1[(c + 1) * step])
                    t2 += (below - l2 if below < l2 else 0.0) * (a * m2[c * step] + b * m2[(c + 1) * step])
                    t3 += (below - l3 if below < l3 else 0.0) * (a * m3[c * step] + b * m3[(c + 1) * step])
                c = start  # the next group's values are lower: first capped at or after it
                # a state repeated in the group is written again with the same sum
                total[s, j3] = l3 * years[s, j3] + t3
                total[s, j2] = l2 * years[s, j2] + t2
                total[s, j1] = l1 * years[s, j1] + t1
                total[s, j0] = l0 * years[s, j0] + t0
    return total_arr


def geometric_series(const double[:, ::1] rows, double tolerance):
    """Each row as a geometric series after its first point, where it is one.

    rows[s, 0] = head[s] and rows[s, t] = first[s] * ratio[s]**(t - 1) for t >= 1: a
    survival curve of constant hazard (head 1), or entries from such a curve (head 0).
    The series is the running product that :func:`geometric_convolution` uses, so the
    check is on the very values it convolves with: every point must lie within
    ``tolerance * max(head, first)`` of it. Returns (head, first, ratio, geometric),
    each (n_rows,); ``geometric[s]`` says whether row s passed (each row on its own).
    Rows are checked four at a time, in step: four running products that do not wait on
    each other, as one waits on itself; a group stops at the point where its last row
    fails.
    """
    cdef Py_ssize_t n = rows.shape[0], n_times = rows.shape[1]
    head_arr, first_arr, ratio_arr = np.empty(n), np.empty(n), np.empty(n)
    geometric_arr = np.zeros(n, dtype=np.uint8)
    cdef double[::1] head = head_arr, first = first_arr, ratio = ratio_arr
    cdef unsigned char[::1] geometric = geometric_arr
    cdef Py_ssize_t s, j, t, lane
    cdef Py_ssize_t lanes[4]
    cdef const double* row[4]
    cdef double value[4]
    cdef double q[4]
    cdef double limit[4]
    cdef bint passing[4]
    if n_times < 3:
        return head_arr, first_arr, ratio_arr, geometric_arr
    with nogil:
        for s in range(n):
            head[s], first[s] = rows[s, 0], rows[s, 1]
            ratio[s] = rows[s, 2] / first[s] if first[s] != 0.0 else 0.0
        for s in range(0, n, 4):
            for lane in range(4):  # a last group of fewer than four repeats its last row
                j = s + lane if s + lane < n else n - 1
                lanes[lane], row[lane] = j, &rows[j, 0]
                value[lane], q[lane] = first[j], ratio[j]
                limit[lane] = tolerance * (head[j] if head[j] > first[j] else first[j])
                passing[lane] = True
            for t in range(2, n_times):
                for lane in range(4):  # |a - b| <= limit is a - b <= limit and b - a <= limit: a - b = -(b - a)
                    value[lane] = value[lane] * q[lane]
                    passing[lane] = passing[lane] & (fabs(value[lane] - row[lane][t]) <= limit[lane])
                if not (passing[0] | passing[1] | passing[2] | passing[3]):
                    break
            for lane in range(4):
                geometric[lanes[lane]] = passing[lane]
    return head_arr, first_arr, ratio_arr, geometric_arr


def geometric_convolution(const double[::1] head, const double[::1] first, const double[::1] ratio,
                          const unsigned char[::1] geometric, const double[:, ::1] other,
                          double[:, :] out, unsigned char[::1] done):
    """convolve_truncated of the series head, first * ratio**(t - 1) (t >= 1) with
    ``other``, by the recursion out[t] = head * other[t] + first * g[t - 1], g[t] = ratio
    * g[t - 1] + other[t]: O(n_times) per sample, for each sample not ``done`` whose
    series is ``geometric``; those are then marked done. Samples are convolved four at a
    time, in step: four recursions that do not wait on each other, each in its own order.

    head, first, ratio, geometric : (1 or n_samples,); other : (1 or n_samples, n_times);
    out : (n_samples, n_times), of any strides; done : (n_samples,).
    """
    cdef Py_ssize_t n = out.shape[0], n_times = out.shape[1]
    cdef bint series_per_sample = head.shape[0] > 1, other_per_sample = other.shape[0] > 1
    cdef Py_ssize_t step = out.strides[1] // sizeof(double)  # between time points
    cdef Py_ssize_t s, t, k, i, lane, m = 0
    cdef Py_ssize_t* chosen
    cdef _Recursion r[4]
    if n == 0 or n_times == 0:
        return
    chosen = <Py_ssize_t*> malloc(n * sizeof(Py_ssize_t))
    if chosen == NULL:
        raise MemoryError()
    with nogil:
        for s in range(n):
            if not done[s] and geometric[s if series_per_sample else 0]:
                chosen[m] = s
                m += 1
        for i in range(0, m, 4):
            for lane in range(4):  # a last group of fewer than four repeats its last sample
                s = chosen[i + lane if i + lane < m else m - 1]
                k = s if series_per_sample else 0
                r[lane].head, r[lane].first, r[lane].ratio = head[k], first[k], ratio[k]
                r[lane].given = &other[s if other_per_sample else 0, 0]
                _start(&r[lane], &out[s, 0])
            for t in range(1, n_times):
                for lane in range(4):
                    _advance(&r[lane], t, step)
        for i in range(m):
            done[chosen[i]] = 1
    free(chosen)



def exit_convolution(const double[::1] first, const double[::1] ratio, const double[:, ::1] other,
                     double[:, ::1] out):
    """convolve_truncated of the exits of a curve of constant hazard with ``other``: the
    curve head 1, first * ratio**(t - 1) (t >= 1), as :func:`geometric_convolution` takes
    it, exits d[t] = S[t - 1] - S[t], so d[1] = 1 - first and d[t] = first * (1 - ratio) *
    ratio**(t - 2) for t >= 2, each term non-negative (no difference of two convolutions
    to cancel). By the recursion out[t] = (1 - first) * other[t - 1] + first * (1 - ratio)
    * h[t], h[t] = ratio * h[t - 1] + other[t - 2]: O(n_times) per sample, four samples at
    a time, in step.

    first, ratio : (n_samples,); other, out : (n_samples, n_times), C-contiguous.
    """
    cdef Py_ssize_t n = out.shape[0], n_times = out.shape[1], s, t, lane, i
    cdef Py_ssize_t rows[4]
    cdef double a[4]
    cdef double b[4]
    cdef double q[4]
    cdef double h[4]
    if n == 0 or n_times == 0:
        return
    with nogil:
        for i in range(0, n, 4):
            for lane in range(4):  # a last group of fewer than four repeats its last sample
                s = i + lane if i + lane < n else n - 1
                rows[lane] = s
                a[lane], b[lane], q[lane], h[lane] = 1.0 - first[s], first[s] * (1.0 - ratio[s]), ratio[s], 0.0
                out[s, 0] = 0.0
                if n_times > 1:
                    out[s, 1] = a[lane] * other[s, 0]
            for t in range(2, n_times):
                for lane in range(4):
                    s = rows[lane]
                    h[lane] = q[lane] * h[lane] + other[s, t - 2]
                    out[s, t] = a[lane] * other[s, t - 1] + b[lane] * h[lane]

# --- net benefit over PSA samples (the decision analysis' curves) ---------------------
# Net benefit is wtp * effect - cost, two roundings as numpy's (setup.py builds without fused
# multiply-add), so that a comparison here is the comparison numpy would make.

cdef inline Py_ssize_t _best(const double* cost, const double* effect, Py_ssize_t k, double lam,
                             double* benefit) nogil:
    """The strategy of largest net benefit in one sample (its row of ``cost`` and
    ``effect``), its benefit written to ``benefit``. Exact ties go to the cheaper, then the
    more effective, then the first (the loop goes in input order and replaces only a worse
    one)."""
    cdef Py_ssize_t j, winner = 0
    cdef double best = lam * effect[0] - cost[0], value
    for j in range(1, k):
        value = lam * effect[j] - cost[j]
        if value > best or (value == best and (cost[j] < cost[winner]
                                               or (cost[j] == cost[winner] and effect[j] > effect[winner]))):
            winner, best = j, value
    benefit[0] = best
    return winner


def best_strategy_counts(const double[:, ::1] cost, const double[:, ::1] effect, const double[::1] wtp):
    """How many samples each strategy has the largest net benefit in, at each wtp:
    ``(n_wtp, n_strategies)`` int64 from ``cost`` and ``effect`` ``(n_samples,
    n_strategies)``. Ties as :func:`_best`. One pass over the samples, each read once for
    the whole wtp grid."""
    cdef Py_ssize_t n = cost.shape[0], k = cost.shape[1], n_wtp = wtp.shape[0]
    counts_arr = np.zeros((n_wtp, k), dtype=np.int64)
    cdef long long[:, ::1] counts = counts_arr
    cdef Py_ssize_t s, w
    cdef double best
    if k == 0:
        return counts_arr
    with nogil:
        for s in range(n):
            for w in range(n_wtp):
                counts[w, _best(&cost[s, 0], &effect[s, 0], k, wtp[w], &best)] += 1
    return counts_arr


def mean_regret(const double[:, ::1] cost, const double[:, ::1] effect, const double[::1] wtp,
                const Py_ssize_t[::1] chosen):
    """Mean over samples of max_j NB[s, j] − NB[s, chosen[w]] at each wtp, ``(n_wtp,)``
    (``cost`` and ``effect`` ``(n_samples, n_strategies)``). Summed in blocks of 1,024
    samples, then the blocks' sums: rounding grows with the number of blocks, not of
    samples."""
    cdef Py_ssize_t n = cost.shape[0], k = cost.shape[1], n_wtp = wtp.shape[0]
    total_arr, block_arr = np.zeros(n_wtp), np.zeros(n_wtp)
    cdef double[::1] total = total_arr, block = block_arr
    cdef Py_ssize_t s, w, d
    cdef double lam, best
    if n == 0 or k == 0:
        return total_arr
    with nogil:
        for s in range(n):
            for w in range(n_wtp):
                lam, d = wtp[w], chosen[w]
                _best(&cost[s, 0], &effect[s, 0], k, lam, &best)
                block[w] += best - (lam * effect[s, d] - cost[s, d])
            if (s + 1) % 1024 == 0 or s == n - 1:
                for w in range(n_wtp):
                    total[w] += block[w]
                    block[w] = 0.0
        for w in range(n_wtp):
            total[w] /= n
    return total_arr


# --------------------------------------------------------------------------- array memory

ctypedef void* (*_Malloc)(void* ctx, size_t size) noexcept nogil
ctypedef void* (*_Calloc)(void* ctx, size_t nelem, size_t elsize) noexcept nogil
ctypedef void* (*_Realloc)(void* ctx, void* ptr, size_t new_size) noexcept nogil
ctypedef void (*_Free)(void* ctx, void* ptr, size_t size) noexcept nogil


cdef object _handler(const char* name, void* ctx, PyThread_type_lock* lock, _Malloc take, _Calloc take_zeroed,
                     _Realloc retake, _Free give_back, void (*destroy)(object) noexcept):
    """A numpy memory handler capsule named ``name`` around ``ctx`` (from calloc), whose
    ``lock`` it allocates; ``destroy`` frees all three when no array needs them. On
    failure, ``ctx`` is freed and MemoryError raised."""
    cdef PyDataMem_Handler* handler = <PyDataMem_Handler*> calloc(1, sizeof(PyDataMem_Handler))
    lock[0] = PyThread_allocate_lock()
    if handler == NULL or lock[0] == NULL:
        if lock[0] != NULL:
            PyThread_free_lock(lock[0])
        free(handler)
        free(ctx)
        raise MemoryError()
    strncpy(handler.name, name, 126)
    handler.version = 1
    handler.allocator.ctx = ctx
    handler.allocator.malloc = take
    handler.allocator.calloc = take_zeroed
    handler.allocator.realloc = retake
    handler.allocator.free = give_back
    return PyCapsule_New(handler, "mem_handler", destroy)


cdef enum:
    _CACHE_SLOTS = 512

cdef struct _ArrayCache:
    PyThread_type_lock lock
    bint open  # while open, freed blocks are kept; after, freed at once
    size_t smallest, limit, held  # bytes
    Py_ssize_t count
    size_t sizes[_CACHE_SLOTS]
    void* blocks[_CACHE_SLOTS]


cdef void* _take(_ArrayCache* cache, size_t size) noexcept nogil:
    """A kept block of exactly ``size`` bytes (the latest kept), or NULL."""
    cdef Py_ssize_t i
    cdef void* found = NULL
    if size < cache.smallest:
        return NULL
    PyThread_acquire_lock(cache.lock, WAIT_LOCK)
    for i in range(cache.count - 1, -1, -1):
        if cache.sizes[i] == size:
            found = cache.blocks[i]
            cache.count -= 1
            cache.sizes[i], cache.blocks[i] = cache.sizes[cache.count], cache.blocks[cache.count]
            cache.held -= size
            break
    PyThread_release_lock(cache.lock)
    return found


cdef void* _cache_malloc(void* ctx, size_t size) noexcept nogil:
    cdef void* found = _take(<_ArrayCache*> ctx, size)
    return found if found != NULL else malloc(size)


cdef void* _cache_calloc(void* ctx, size_t nelem, size_t elsize) noexcept nogil:
    cdef void* found = NULL
    if elsize == 0 or nelem <= SIZE_MAX // elsize:
        found = _take(<_ArrayCache*> ctx, nelem * elsize)
    if found == NULL:
        return calloc(nelem, elsize)
    memset(found, 0, nelem * elsize)
    return found


cdef void* _cache_realloc(void* ctx, void* ptr, size_t new_size) noexcept nogil:
    return realloc(ptr, new_size)  # every block, kept or not, is the C library's


cdef void _cache_free(void* ctx, void* ptr, size_t size) noexcept nogil:
    cdef _ArrayCache* cache = <_ArrayCache*> ctx
    cdef bint kept = False
    if ptr == NULL:
        return
    if size >= cache.smallest:
        PyThread_acquire_lock(cache.lock, WAIT_LOCK)
        if cache.open and cache.count < _CACHE_SLOTS and cache.held + size <= cache.limit:
            cache.sizes[cache.count], cache.blocks[cache.count] = size, ptr
            cache.count += 1
            cache.held += size
            kept = True
        PyThread_release_lock(cache.lock)
    if not kept:
        free(ptr)


cdef void _release(_ArrayCache* cache) noexcept nogil:
    """Close ``cache``: free what it keeps, and from now on every block freed."""
    PyThread_acquire_lock(cache.lock, WAIT_LOCK)
    cache.open = False
    while cache.count > 0:
        cache.count -= 1
        free(cache.blocks[cache.count])
    cache.held = 0
    PyThread_release_lock(cache.lock)


cdef void _destroy_handler(object capsule) noexcept:
    """When no array made by the handler remains (each holds a reference to it)."""
    cdef PyDataMem_Handler* handler = <PyDataMem_Handler*> PyCapsule_GetPointer(capsule, "mem_handler")
    cdef _ArrayCache* cache = <_ArrayCache*> handler.allocator.ctx
    _release(cache)
    PyThread_free_lock(cache.lock)
    free(cache)
    free(handler)


def array_cache(size_t limit_bytes, size_t smallest_bytes):
    """A numpy memory handler (a capsule for ``set_memory_handler``) that keeps the
    blocks of arrays it freed, of at least ``smallest_bytes`` and up to ``limit_bytes``
    in all, and gives them to arrays of exactly their size made after, instead of asking
    the C library again (which may map fresh pages, zeroed by the system one by one).
    Open until :func:`close_array_cache`."""
    cdef _ArrayCache* cache = <_ArrayCache*> calloc(1, sizeof(_ArrayCache))
    if cache == NULL:
        raise MemoryError()
    cache.open, cache.smallest, cache.limit = True, max(smallest_bytes, 1), limit_bytes
    return _handler(b"markov_array_cache", cache, &cache.lock, _cache_malloc, _cache_calloc, _cache_realloc,
                    _cache_free, _destroy_handler)


# Linux 5.14's madvise advice that faults pages in as if written, in one call
cdef int _MADV_POPULATE_WRITE = 23


cdef struct _HeapGrowth:
    PyThread_type_lock lock
    uintptr_t populated  # the heap is faulted in up to here
    uintptr_t page
    size_t done  # bytes faulted in by this handler
    bint refused  # madvise refused the advice (a kernel before 5.14): no more tries


cdef void _fault_in_growth(_HeapGrowth* growth) noexcept nogil:
    """Fault in at once what the heap grew by since the last call."""
    cdef uintptr_t top = <uintptr_t> sbrk(0), start
    if growth.refused or top <= growth.populated:
        return
    PyThread_acquire_lock(growth.lock, WAIT_LOCK)
    start = (growth.populated + growth.page - 1) & ~(growth.page - 1)
    if top > start:
        if madvise(<void*> start, top - start, _MADV_POPULATE_WRITE) == 0:
            growth.done += top - start
        else:
            growth.refused = True
    if top > growth.populated:
        growth.populated = top
    PyThread_release_lock(growth.lock)


cdef void* _growth_malloc(void* ctx, size_t size) noexcept nogil:
    cdef void* found = malloc(size)
    _fault_in_growth(<_HeapGrowth*> ctx)
    return found


cdef void* _growth_calloc(void* ctx, size_t nelem, size_t elsize) noexcept nogil:
    cdef void* found = calloc(nelem, elsize)
    _fault_in_growth(<_HeapGrowth*> ctx)
    return found


cdef void* _growth_realloc(void* ctx, void* ptr, size_t new_size) noexcept nogil:
    cdef void* found = realloc(ptr, new_size)
    _fault_in_growth(<_HeapGrowth*> ctx)
    return found


cdef void _growth_free(void* ctx, void* ptr, size_t size) noexcept nogil:
    free(ptr)


cdef void _destroy_growth_handler(object capsule) noexcept:
    cdef PyDataMem_Handler* handler = <PyDataMem_Handler*> PyCapsule_GetPointer(capsule, "mem_handler")
    cdef _HeapGrowth* growth = <_HeapGrowth*> handler.allocator.ctx
    PyThread_free_lock(growth.lock)
    free(growth)
    free(handler)


def heap_faulting_handler():
    """A numpy memory handler (a capsule for ``set_memory_handler``) that takes blocks
    from the C library as numpy's does and, each time the C library's heap has grown,
    faults the new pages in at once (``madvise(MADV_POPULATE_WRITE)``) instead of one by
    one as arrays first write them: a process's first chunk of draws grows the heap by
    its working memory, and each page faulted alone costs several times as much. Where
    the kernel refuses the advice (before Linux 5.14) it stops trying."""
    cdef _HeapGrowth* growth = <_HeapGrowth*> calloc(1, sizeof(_HeapGrowth))
    if growth == NULL:
        raise MemoryError()
    growth.page = <uintptr_t> sysconf(_SC_PAGESIZE)
    growth.populated = <uintptr_t> sbrk(0)  # what the heap holds now was touched as it grew
    return _handler(b"markov_heap_faulting", growth, &growth.lock, _growth_malloc, _growth_calloc, _growth_realloc,
                    _growth_free, _destroy_growth_handler)


def heap_faulted_bytes(handler):
    """Bytes of heap growth a handler from :func:`heap_faulting_handler` has faulted in."""
    cdef PyDataMem_Handler* found = <PyDataMem_Handler*> PyCapsule_GetPointer(handler, "mem_handler")
    if found.allocator.malloc != _growth_malloc:
        raise ValueError("not a handler from heap_faulting_handler")
    return (<_HeapGrowth*> found.allocator.ctx).done


cdef _ArrayCache* _cache_of(handler) except NULL:
    """The cache of a handler from :func:`array_cache` (a ValueError for another capsule)."""
    return <_ArrayCache*> (<PyDataMem_Handler*> PyCapsule_GetPointer(handler, "mem_handler")).allocator.ctx


def close_array_cache(handler):
    """Free what ``handler`` (from :func:`array_cache`) keeps; blocks freed after go back
    to the C library at once."""
    _release(_cache_of(handler))


def array_cache_held(handler):
    """Bytes ``handler`` (from :func:`array_cache`) keeps now."""
    return _cache_of(handler).held


def set_memory_handler(handler):
    """Make ``handler`` the memory handler of numpy arrays made in this context (thread
    or task) from now on; returns the one before."""
    return PyDataMem_SetHandler(handler)

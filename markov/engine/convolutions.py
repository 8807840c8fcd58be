"""Convolutions of entries with survival since entry on one time grid: by FFT, or by
recursion where one side is a geometric series, with what is computed from an array
that cannot change kept for the strategies that share it."""
from __future__ import annotations

import weakref

import numpy as np
import scipy.fft

from .. import _engine
from .cohort import check_curves

# From this many time points on, convolution is cheaper by FFT than by direct summation
# (break-even near 240 on a 2-core Xeon; benchmarks/bench_engines.py prints it).
FFT_MIN_TIME_POINTS = 240
# A convolution one of whose sides lies within this much (times its scale) of a geometric
# series after its first point is computed by recursion, O(T), instead of by FFT: an
# exponential curve (its running product departs from exp(-rate * t) by about 1e-13 over
# 1,000 cycles) or the entries it sends on (about 1e-14 to 1e-12: rounding of differences).
# What the series leaves out is at most this much of the result.
GEOMETRIC_TOLERANCE = 1e-12
# Threads per FFT: every core, or one per process of a parallel run (use_one_fft_thread);
# one below this many rows (a few samples left to convolve), whose threads cost more
# than they share: 9 rows took 0.13 ms in two threads, 0.06 in one; 500, 1.8 against 3.2.
_fft_threads = -1
FFT_THREADED_ROWS = 64


class Convolutions:
    """Clock-reset occupancies on one grid (:func:`clock_reset_occupancy`; ``method`` as
    in :func:`run_sequencing`) that compute what depends on one array only once.

    With ``method="auto"``, a convolution one of whose sides is a geometric series
    after its first point (each row within ``GEOMETRIC_TOLERANCE`` of one) is computed
    by recursion in O(T): an exponential survival curve, or the entries from a line of
    constant hazard and death share before. Others are computed by FFT from
    ``FFT_MIN_TIME_POINTS`` time points on, else by direct summation.

    An array that cannot change (read-only, and so is the array that owns its data)
    has its spectrum, or its geometric series, computed once and kept while it lives:
    a population's curves, shared by its strategies, and a line's entries, convolved
    with its progression-free curve and its time on treatment. Views of it share what
    is kept for the same rows.
    """

    def __init__(self, n_times: int, method: str = "auto") -> None:
        self.by_recursion = method == "auto"  # where one side is geometric
        if method == "auto":
            method = "fft" if n_times >= FFT_MIN_TIME_POINTS else "direct"
        self.n_times, self.method = n_times, method
        self.size = scipy.fft.next_fast_len(2 * n_times - 1, real=True)
        self._found: dict[tuple, object] = {}  # (kind, owner, data, shape, strides) -> what was computed
        # rows zero-padded to the FFT size, the padding written once: padding a copy per
        # transform (what rfft(rows, size) does) costs more than the transform
        self._padded = np.zeros((0, self.size))

    @staticmethod
    def _key(array: np.ndarray, kind: str) -> tuple[tuple | None, np.ndarray]:
        """Under what ``kind`` of ``array`` is kept (None: an array that can change is
        not), and the array that owns its data."""
        owner = array
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if array.flags.writeable or owner.flags.writeable:
            return None, owner
        return (kind, id(owner), array.__array_interface__["data"][0], array.shape, array.strides), owner

    def _once(self, array: np.ndarray, kind: str, compute):
        """``compute(array)``, kept while the data of an ``array`` that cannot change lives."""
        key, owner = self._key(array, kind)
        if key is None:
            return compute(array)
        if key not in self._found:
            self._found[key] = compute(array)
            # an id is reused only after its array is freed, and then this entry is gone;
            # by weak reference to this object, so that an array that outlives it (a curve
            # convolved block by block, a Convolutions per block) does not keep what each
            # block computed from it alive
            weakref.finalize(owner, _forget, weakref.ref(self), key)
        return self._found[key]

    @staticmethod
    def _geometric(rows: np.ndarray):
        return _engine.geometric_series(rows, GEOMETRIC_TOLERANCE)

    def series(self, rows: np.ndarray, samples: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``rows`` ``(1 or n_samples, n_times)`` as geometric series
        (:func:`_engine.geometric_series`: head, first, ratio and whether each row is one,
        each ``(1 or n_samples,)``), once for an array that cannot change. With
        ``samples`` (indices), worked out for those rows alone unless the whole array's
        are kept (or are all asked for): the others are then not geometric."""
        if samples is None or rows.shape[0] == 1 or samples.size == rows.shape[0] \
                or self._key(rows, "series")[0] in self._found:
            return self._once(rows, "series", self._geometric)
        found = self._geometric(np.ascontiguousarray(rows[samples]))
        whole = tuple(np.zeros(rows.shape[0], dtype=part.dtype) for part in found)
        for into, part in zip(whole, found, strict=True):
            into[samples] = part
        return whole

    def check_curves(self, rows: np.ndarray, name: str) -> None:
        """:func:`~markov.engine.cohort.check_curves`, once for an array that cannot change
        (a population's curve, shared by its strategies)."""
        self._once(rows, "checked", lambda array: check_curves(array, name))

    def spectrum(self, array: np.ndarray) -> np.ndarray:
        """The real FFT of ``array``'s rows, zero-padded to :attr:`size` (shared, when
        ``array`` is read-only: not to be changed)."""
        return self._once(array, "spectrum", self._transform)

    def _transform(self, rows: np.ndarray) -> np.ndarray:
        if self._padded.shape[0] < rows.shape[0]:
            self._padded = np.zeros((rows.shape[0], self.size))
        padded = self._padded[:rows.shape[0]]
        padded[:, :self.n_times] = rows
        return scipy.fft.rfft(padded, axis=1, workers=_threads(rows.shape[0]))

    def correlations(self, survival: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``G[s, q, u] = sum_v survival[s, v] · weights[q, u + v]`` (``v < T - u``),
        ``(1 or n_samples, n_weights, n_times)``: a state's weighted sums per unit entering
        it at u (:func:`sequencing_sums`). By FFT, or by direct summation where this
        object's method is direct; kept, for a read-only ``survival``, while it lives
        (not to be changed). ``weights`` ``(n_weights, n_times)``.
        """
        weights = np.ascontiguousarray(weights, dtype=np.float64)
        return self._once(survival, ("correlations", weights.shape, weights.tobytes()),
                          lambda rows: self._correlated(rows, weights))

    def _correlated(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if self.method == "direct":
            return _engine.correlate_truncated(np.ascontiguousarray(rows), weights)
        spectrum = self.spectrum(rows)
        weight_spectra = scipy.fft.rfft(weights, self.size, axis=1)
        out = np.empty((rows.shape[0], weights.shape[0], self.n_times))
        for q in range(weights.shape[0]):
            # correlation is convolution with one side reversed: the conjugate spectrum
            product = np.conj(spectrum)
            product *= weight_spectra[q]  # in place, as in _transformed
            out[:, q] = scipy.fft.irfft(product, self.size, axis=1, workers=_fft_threads)[:, :self.n_times]
        return out

    def occupancy(self, entries: np.ndarray, survival: np.ndarray, out: np.ndarray | None = None,
                  skip: np.ndarray | None = None) -> np.ndarray:
        """The truncated convolution of ``entries`` ``(n_samples, n_times)`` with
        ``survival`` ``(1 or n_samples, n_times)`` (rows possibly apart in memory: a view
        of the transform's, unless ``out`` is given: then written there, any strides,
        and returned). Samples whose ``skip`` ``(n_samples,)`` is set (only with ``out``)
        are left as they are. Inputs are not checked.

        How a sample is convolved depends on its own rows only, so that its result does
        not depend on the samples convolved with it.
        """
        if not self.by_recursion:
            return self._into(out, self._transformed(entries, survival))
        given, out = out, np.empty(entries.shape) if out is None else out
        done = np.zeros(entries.shape[0], dtype=bool) if skip is None else skip.astype(bool)
        if done.all():
            return out
        left = None if skip is None else np.flatnonzero(~done)  # the series of these rows alone
        for series, other in ((survival, entries), (entries, survival)):  # convolution is symmetric
            found = self.series(series, left)
            if found[3].any():
                _engine.geometric_convolution(*found, other, out, done.view(np.uint8))
            if done.all():  # the other side need not be checked
                return out
        if not done.any():
            return self._into(given, self._transformed(entries, survival))
        rest = np.flatnonzero(~done)  # some, not all: every other case has returned
        out[rest] = self._transformed(entries[rest], survival if survival.shape[0] == 1 else survival[rest])
        return out

    def line_by_recursion(self, entries: np.ndarray, survival: np.ndarray, on_treatment: np.ndarray | None,
                          step: tuple) -> np.ndarray | None:
        """A later line's convolutions (of its curve and of its time on treatment, when
        given) and its book-keeping in one compiled pass per sample
        (``_engine.line_by_recursion``), for the samples where each convolution has a
        geometric side. ``step`` are ``sequencing_step``'s arguments after the line's
        occupancy and entries, the occupancy the state's own. Returns which samples were
        done (None where recursion is off)."""
        if not self.by_recursion:
            return None
        curve = self._once(survival, "series", self._geometric)
        on = None if on_treatment is None else self._once(on_treatment, "series", self._geometric)
        # the entries' series only where a curve's is not geometric in every sample
        needed = not curve[3].all() or (on is not None and not on[3].all())
        by_entries = self._once(entries, "series", self._geometric) if needed else None
        done = np.zeros(entries.shape[0], dtype=np.uint8)
        _engine.line_by_recursion(curve, survival, on, on_treatment, by_entries, entries, *step, done)
        return done

    @staticmethod
    def _into(out: np.ndarray | None, found: np.ndarray) -> np.ndarray:
        if out is None:
            return found
        out[...] = found
        return out

    def _transformed(self, entries: np.ndarray, survival: np.ndarray) -> np.ndarray:
        if self.method == "direct":
            return _engine.convolve_truncated(entries, survival)
        product = self.spectrum(entries)
        if not entries.flags.writeable:
            product = product.copy()
        # in place, always: numpy may round a product into a new array otherwise, and only
        # above a size, so that a sample's result would depend on the samples beside it
        product *= self.spectrum(survival)
        return scipy.fft.irfft(product, self.size, axis=1, workers=_threads(product.shape[0]))[:, :self.n_times]


def _threads(n_rows: int) -> int:
    """Threads for an FFT of ``n_rows`` rows: one below :data:`FFT_THREADED_ROWS`, else
    :data:`_fft_threads`."""
    return 1 if n_rows < FFT_THREADED_ROWS else _fft_threads


def _forget(convolutions: weakref.ref, key: tuple) -> None:
    """Drop what ``convolutions`` kept under ``key``, if it still lives."""
    found = convolutions()
    if found is not None:
        found._found.pop(key, None)


def use_one_fft_thread() -> None:
    """Compute every FFT of this process in one thread: for the worker processes of a
    parallel run, one per core."""
    global _fft_threads
    _fft_threads = 1


def clock_reset_occupancy(entries: np.ndarray, survival: np.ndarray, method: str = "auto") -> np.ndarray:
    """Occupancy of a state whose clock resets at entry: the truncated convolution of
    entries ``(n_samples, n_times)`` with survival since entry ``(1 or n_samples,
    n_times)``, by FFT on long grids (:class:`Convolutions`, for many convolutions on
    one grid). Inputs are not checked."""
    return Convolutions(entries.shape[1], method).occupancy(entries, survival)

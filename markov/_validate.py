"""Checks on numeric model inputs, with errors a modeller can act on.

Every error names the input, the offending value (and where it sits) and the rule
it broke, before any array reaches the compiled core.
"""
from __future__ import annotations

import reprlib

import numpy as np

PROBABILITY_TOLERANCE = 1e-9
#: How far a survival curve may start from 1, or rise from one point to the next (rounding).
SURVIVAL_TOLERANCE = 1e-12
#: The longest excerpt of a value an error message quotes (:func:`excerpt`).
EXCERPT_CHARS = 60
#: The most problems of one file an error lists.
MAX_PROBLEMS = 20


class InputError(ValueError):
    """A model input broke a rule; the message names the input, the value and the rule."""


def excerpt(value, limit: int = EXCERPT_CHARS) -> str:
    """A short repr of ``value`` for an error message: at most ``limit`` characters, built
    without walking more of a large or deeply nested value than it shows."""
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxother = 3, limit, limit
    shown.maxlist = shown.maxtuple = shown.maxdict = shown.maxset = 4
    text = shown.repr(value)
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


def _number(value) -> str:
    return repr(float(value))


def _first(mask: np.ndarray) -> tuple[int, ...]:
    """Index of the first True entry (``()`` for a 0-d mask)."""
    return tuple(int(i) for i in np.argwhere(mask)[0]) if mask.ndim else ()


def _where(index: tuple[int, ...], axes: tuple[str, ...]) -> str:
    named = [f"{axis} {i}" for axis, i in zip(axes[len(axes) - len(index):], index)]
    return f" [{', '.join(named)}]" if named else ""


def as_float_array(value, name: str, *, ndim: tuple[int, ...] | None = None, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array, checking that every entry is
    finite unless ``finite`` is False (for callers whose own check covers it)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name}: could not be read as numbers ({error})") from None
    if ndim is not None and array.ndim not in ndim:
        allowed = " or ".join(str(d) for d in ndim)
        raise InputError(f"{name}: has {array.ndim} dimensions (shape {array.shape}), expected {allowed}")
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    if finite and not np.isfinite(array).all():
        index = _first(~np.isfinite(array))
        raise InputError(f"{name}{list(index) if index else ''} is {_number(array[index])}: every value must be a finite number")
    return array


def as_indices(value, name: str, choices: int, axis: str = "cycle", item: str = "matrix",
               items: str = "matrices") -> np.ndarray:
    """``value`` as a non-empty 1-D array of whole numbers (``intp``), one per ``axis``, each
    indexing one of ``choices`` ``items``; a fraction is refused, never truncated."""
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise InputError(f"{name}: could not be read as numbers ({error})") from None
    if array.dtype.kind not in "iuf":
        raise InputError(f"{name}: holds {array.dtype} values; {item} indices must be whole numbers")
    if array.ndim != 1 or array.size < 1:
        raise InputError(f"{name} has shape {array.shape}: one {item} index per {axis} is needed")
    fractional = ~np.isfinite(array) | (array != np.round(array))
    if fractional.any():
        c = int(np.argmax(fractional))
        raise InputError(f"{name}[{c}] is {float(array[c])!r}: {item} indices must be whole numbers (never rounded)")
    outside = (array < 0) | (array >= choices)
    if outside.any():
        c = int(np.argmax(outside))
        raise InputError(f"{name} [{axis} {c}] is {int(array[c])}: must index one of the {choices} {items}")
    return np.ascontiguousarray(array, dtype=np.intp)


def check_range(array: np.ndarray, name: str, low: float, high: float, axes: tuple[str, ...] = ()) -> None:
    """Raise unless every entry lies in [low, high]."""
    bad = (array < low) | (array > high)
    if bad.any():
        index = _first(bad)
        raise InputError(
            f"{name}{_where(index, axes)} is {_number(array[index])}: must lie in [{low}, {high}]"
        )


def check_transition_matrices(transition: np.ndarray, name: str) -> None:
    """Raise unless every matrix in ``(..., k, k)`` is a valid transition matrix."""
    axes = ("sample", "cycle", "from state", "to state")
    if transition.shape[-1] != transition.shape[-2]:
        raise InputError(f"{name}: matrices of shape {transition.shape[-2:]} are not square")
    check_range(transition, name, 0.0, 1.0, axes)
    row_sums = transition.sum(axis=-1)
    bad = np.abs(row_sums - 1.0) > PROBABILITY_TOLERANCE
    if bad.any():
        index = _first(bad)
        raise InputError(
            f"{name}{_where(index, axes[:-1])}: row sums to {_number(row_sums[index])}; each row of a "
            f"transition matrix must sum to 1 (tolerance {PROBABILITY_TOLERANCE:g})"
        )


def check_survival_curves(curves: np.ndarray, name: str, tolerance: float = SURVIVAL_TOLERANCE) -> None:
    """Raise unless curves ``(time point,)`` or ``(sample, time point)`` are finite,
    start at 1, stay in [0, 1] and never increase; the first violation in row-major
    order is named."""
    rows = curves.reshape((1,) * (2 - curves.ndim) + curves.shape)
    with np.errstate(invalid="ignore"):
        # every rule at once, in few passes (NaN fails each comparison); on failure, which one and where
        if rows.size and (np.abs(rows[:, 0] - 1.0) <= tolerance).all() and rows.min() >= 0.0 and rows.max() <= 1.0 \
                and (np.subtract(rows[:, 1:], rows[:, :-1]) <= tolerance).all():
            return
        rule = np.zeros(rows.shape, dtype=np.int8)
        rises = np.zeros(rows.shape, dtype=bool)
        rises[:, 1:] = rows[:, 1:] - rows[:, :-1] > tolerance
        rule[rises] = 4
        rule[(rows < 0.0) | (rows > 1.0)] = 3
        rule[:, 0][np.abs(rows[:, 0] - 1.0) > tolerance] = 2
        rule[~np.isfinite(rows)] = 1
    flat = np.flatnonzero(rule)
    if flat.size == 0:
        return
    row, t = divmod(int(flat[0]), rows.shape[1])
    where = _where((row, t) if curves.ndim == 2 else (t,), ("sample", "time point"))
    value = _number(rows[row, t])
    if rule[row, t] == 1:
        raise InputError(f"{name}{where} is {value}: every value must be a finite number")
    if rule[row, t] == 2:
        where = _where((row,), ("sample",)) if curves.ndim == 2 else ""
        raise InputError(f"{name}{where}: S(0) is {value}; survival must start at 1")
    if rule[row, t] == 3:
        raise InputError(f"{name}{where} is {value}: must lie in [0.0, 1.0]")
    raise InputError(
        f"{name}{where}: survival rises from {_number(rows[row, t - 1])} to {value}; "
        "a survival curve must never increase"
    )


def check_count(name: str, value, least: int) -> int:
    """``value`` as an int if it is a whole number of at least ``least`` (a count, a seed)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float)) or int(value) != value \
            or value < least:
        raise InputError(f"{name} is {value!r}: must be a whole number of at least {least}")
    return int(value)


def sample_count(name_to_length: dict[str, int]) -> int:
    """The common number of samples of several inputs, where length 1 broadcasts."""
    lengths = {name: n for name, n in name_to_length.items() if n != 1}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise InputError(f"inputs disagree on the number of samples: {listed}")
    return next(iter(lengths.values()), 1)


def validation_error(where: str, error) -> InputError:
    """Turn a pydantic ``ValidationError`` into one line per problem: where, field, value, rule."""
    problems = error.errors()
    lines = []
    for problem in problems[:MAX_PROBLEMS]:
        field = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        value = problem.get("input")
        rule = problem["msg"]
        if problem["type"] == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
            rule += _NUMBER_FOR_TEXT
        lines.append(f"{where}: {field} = {excerpt(value)}: {rule}")
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"{where}: and {len(problems) - MAX_PROBLEMS} more problems")
    return InputError("\n".join(lines))


#: A number where a model file names evidence is the usual slip in an analysis's ``overrides``.
_NUMBER_FOR_TEXT = ("; where a field names evidence (a reference, source.value), a number goes in an evidence file "
                    "or in the analysis file's values: (values: {assumptions.discount_rate_us: 0.035}), "
                    "or from Python markov.load().set({...})")

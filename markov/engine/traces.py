"""The output every engine shares: state occupancy and entries over the grid."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validate import InputError


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
        ending at each time point; at ``t = 0``, the initial occupancy. Or ``(n_samples,
        1, n_states)``, the initial occupancy only: a trace valued from
        :class:`StateSums` made as it was built, and not kept (a PSA draw's), needs no
        more (:attr:`keeps_entries`).
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

    @property
    def keeps_entries(self) -> bool:
        """Whether :attr:`entries` hold every time point, not the initial occupancy alone."""
        return self.entries.shape[1] == self.occupancy.shape[1]

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


@dataclass(frozen=True)
class StateSums:
    """Weighted sums over the time points of each state's occupancy and of its entries,
    per sample, written by the steps that fill a trace's states (:func:`add_starting_line`,
    :func:`add_line`, :func:`add_terminal_state`, :func:`add_post_progression`) while each
    state's rows are at hand, so that what is computed from them (discounted years in a
    state, say) needs no further pass over the trace.

    With ``k = len(occupancy_weights)``, ``sums[s, j, q]`` is ``occupancy_weights[q] @
    occupancy[s, :, j]`` for ``q < k``, then ``entries_weights[q - k] @ entries[s, :, j]``;
    each sum is the same whatever the samples beside it. A state no step has written
    holds NaN.

    Attributes
    ----------
    occupancy_weights : ndarray, shape (n_occupancy_weights, n_time_points)
    entries_weights : ndarray, shape (n_entries_weights, n_time_points)
    sums : ndarray, shape (n_samples, n_states, n_occupancy_weights + n_entries_weights)
    """

    occupancy_weights: np.ndarray
    entries_weights: np.ndarray
    sums: np.ndarray

    def __post_init__(self) -> None:
        named = {"occupancy_weights": self.occupancy_weights, "entries_weights": self.entries_weights,
                 "sums": self.sums}
        for name, array in named.items():
            if not isinstance(array, np.ndarray) or array.dtype != np.float64:
                raise InputError(f"{name} must be an array of float64, not {getattr(array, 'dtype', type(array))}")
        for name in ("occupancy_weights", "entries_weights"):
            if named[name].ndim != 2 or not named[name].flags.c_contiguous:
                raise InputError(f"{name} has shape {named[name].shape}; expected (n_weights, n_time_points), "
                                 f"C-contiguous")
        if self.occupancy_weights.shape[1] != self.entries_weights.shape[1]:
            raise InputError(f"occupancy_weights have {self.occupancy_weights.shape[1]} time points and "
                             f"entries_weights {self.entries_weights.shape[1]}: they weight the same time points")
        width = self.occupancy_weights.shape[0] + self.entries_weights.shape[0]
        if self.sums.ndim != 3 or self.sums.shape[2] != width:
            raise InputError(f"sums have shape {self.sums.shape}; expected (n_samples, n_states, {width}), one "
                             f"per weight")

    @classmethod
    def empty(cls, occupancy_weights, entries_weights, n_samples: int, n_states: int) -> StateSums:
        """Sums to be written for ``n_samples`` samples and ``n_states`` states (NaN until then)."""
        weights = [np.ascontiguousarray(w, dtype=np.float64) for w in (occupancy_weights, entries_weights)]
        width = sum(w.shape[0] for w in weights if w.ndim == 2)
        return cls(*weights, np.full((n_samples, n_states, width), np.nan))

    @property
    def occupancy(self) -> np.ndarray:
        """The sums over occupancy, ``(n_samples, n_states, n_occupancy_weights)``."""
        return self.sums[:, :, :self.occupancy_weights.shape[0]]

    @property
    def entries(self) -> np.ndarray:
        """The sums over entries, ``(n_samples, n_states, n_entries_weights)``."""
        return self.sums[:, :, self.occupancy_weights.shape[0]:]


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

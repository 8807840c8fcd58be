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

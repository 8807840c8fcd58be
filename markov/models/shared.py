"""Work that the populations of one evaluation share.

Populations of an analysis often name the same parameters: the shipped HCC populations
both take their start age, share of women and body weight from the same references. What
depends only on such references (general-population survival, the general population's
utility by cycle, a drug's acquisition cost per year) is then the same for each of them,
and :class:`SharedWork` makes it once. :meth:`~markov.models.base.CohortModel.evaluate`
makes one per call and drops it at the end, so nothing outlives an evaluation, and
values are only ever shared between populations of the same parameter set.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class SharedWork:
    """Values made once per key, on first use, and handed to every caller with that key.

    A key names what the value is and every reference (parameter name, or None) it
    depends on beyond the evaluation's parameter set, inputs and grid; callers treat the
    values as read-only (arrays are made so).
    """

    def __init__(self) -> None:
        self._made: dict[Hashable, object] = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` the first time it is asked for."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

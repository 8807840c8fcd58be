"""Work that the populations of one evaluation share.

Populations of an analysis often name the same parameters: the shipped HCC populations
both take their start age, share of women and body weight from the same references. What
depends only on such references (general-population survival, the general population's
utility by cycle, a drug's acquisition cost per year) is then the same for each of them,
and :class:`SharedWork` makes it once. So is a survival curve that two populations make
from the same things (:func:`~markov.models.curves.build_curves`: the shipped
populations' second-line curves and times on treatment), with what is computed from it:
its values on the grid, its floor and its transforms. :meth:`~markov.models.base.CohortModel.evaluate`
makes one per call and drops it at the end, so nothing outlives an evaluation, and
values are only ever shared between populations of the same parameter set.
"""
from __future__ import annotations

import weakref
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

    def for_objects(self, kind: str, objects: tuple, make: Callable[..., T], *refs: Hashable) -> T:
        """``make(*objects)`` for these very objects (by identity: a curve, an array made
        once) and references ``refs``, made once and kept while every one of the objects
        lives: when one is freed (its population done, say), the value goes with it, so
        that no other object takes its identity here and memory is not held for
        populations evaluated already."""
        key = (kind, *map(id, objects), *refs)
        if key not in self._made:
            self._made[key] = make(*objects)
            for thing in objects:
                # by weak reference to this work: a value that holds one of its own objects
                # (time on treatment that is the curve itself) must not keep every value alive
                weakref.finalize(thing, _forget, weakref.ref(self), key)
        return self._made[key]


def _forget(work: weakref.ref, key: Hashable) -> None:
    """Drop ``key``'s value from ``work``, if it is still there."""
    found = work()
    if found is not None:
        found._made.pop(key, None)

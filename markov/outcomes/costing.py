"""Drug acquisition cost per administration: doses from body weight, packs and vials.

A dose is fixed (mg), by body weight (mg/kg), or set by weight bands (lenvatinib: 8 mg
below 60 kg, else 12 mg). Body weight varies between patients: the expected cost is
averaged over the weight distribution (normal, truncated at 1 kg) at ``WEIGHT_NODES``
equally likely quantiles, so vial rounding is costed for the whole cohort rather than
for an average patient. Without vial sharing each administration uses the cheapest
whole number of units (vials, tablets) that covers the dose — the rest is wasted; with
vial sharing only the milligrams given are paid for, at the lowest price per mg.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from .._validate import InputError

#: Quantile nodes of the body-weight distribution used to average over patients.
WEIGHT_NODES = 200
_MIN_WEIGHT_KG = 1.0
#: The most combinations of units of a drug's packs searched for the cheapest cover of a
#: dose (a few thousand for any real dose): more means an implausible dose or strength.
MAX_UNIT_COMBINATIONS = 100_000


@dataclass(frozen=True)
class Pack:
    """Units (vials, tablets) of ``strength_mg`` each, sold ``units`` to a pack at ``price``
    (array over samples)."""

    strength_mg: float
    units: int
    price: np.ndarray

    @property
    def unit_price(self) -> np.ndarray:
        return self.price / self.units


def weight_nodes(mean_kg: np.ndarray, sd_kg: np.ndarray) -> np.ndarray:
    """Body weights at ``WEIGHT_NODES`` equally likely quantiles, shape ``(n_samples, nodes)``."""
    u = (np.arange(WEIGHT_NODES) + 0.5) / WEIGHT_NODES
    nodes = mean_kg[:, None] + sd_kg[:, None] * special.ndtri(u)[None, :]
    return np.maximum(nodes, _MIN_WEIGHT_KG)


def cost_of_dose(dose_mg: np.ndarray, packs: list[Pack], *, vial_sharing: bool) -> np.ndarray:
    """Cost of giving ``dose_mg`` (any shape with samples first) from ``packs``.

    Without sharing: the cheapest combination of whole units covering the dose, found by
    enumerating combinations (there are at most a few strengths per drug). Sorted by the
    milligrams they give, the combinations that cover a dose are those from the first
    that does on, so the cheapest of them is a running minimum of the prices from the
    last combination back, read at each dose's place found by a binary search: one pass
    over the doses, not one per combination.
    """
    if not packs:
        raise InputError("cost_of_dose: a drug needs at least one priced pack")
    extra = (1,) * (dose_mg.ndim - 1)
    if vial_sharing:
        per_mg = np.min([pack.unit_price / pack.strength_mg for pack in packs], axis=0)
        return dose_mg * per_mg.reshape(-1, *extra)
    largest = float(np.max(dose_mg))
    counts = [largest / pack.strength_mg for pack in packs]
    if not (np.isfinite(largest) and math.prod(c + 1 for c in counts) <= MAX_UNIT_COMBINATIONS):
        raise InputError(f"a dose of {largest:g} mg from units of {', '.join(f'{p.strength_mg:g}' for p in packs)} mg: "
                         f"over {MAX_UNIT_COMBINATIONS:,} combinations of units to cost; check the dose, the pack "
                         f"strengths and the body weight")
    ranges = [range(int(np.ceil(count - 1e-9)) + 1) for count in counts]
    combinations = sorted((sum(c * pack.strength_mg for c, pack in zip(counts, packs)), counts)
                          for counts in itertools.product(*ranges))
    combinations = [(milligrams, counts) for milligrams, counts in combinations if milligrams != 0]
    units = np.array([counts for _, counts in combinations], dtype=np.float64).reshape(-1, len(packs))
    # each combination's price (a row) per sample, summed pack by pack; past the last, no cover: inf
    prices = sum(units[:, [i]] * pack.unit_price.reshape(1, -1) for i, pack in enumerate(packs))
    prices = np.concatenate([prices, np.full((1, prices.shape[1]), np.inf)])
    cheapest_from = np.minimum.accumulate(prices[::-1], axis=0)[::-1]
    first = np.searchsorted(np.array([milligrams + 1e-9 for milligrams, _ in combinations]), dose_mg)
    return cheapest_from[first, np.arange(prices.shape[1]).reshape(-1, *extra)]


def expected_cost_per_administration(dose_mg: np.ndarray, packs: list[Pack], *, vial_sharing: bool) -> np.ndarray:
    """Mean over patients (the weight nodes, last axis) of the cost of one administration."""
    return cost_of_dose(dose_mg, packs, vial_sharing=vial_sharing).mean(axis=-1)

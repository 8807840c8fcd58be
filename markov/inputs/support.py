"""Where the values of each unit may lie: the interval holding a value's estimate and
every one of its draws in a PSA (:data:`SUPPORT`), checked for estimates here
(:func:`value_rule`) and for draws in :mod:`markov.inputs.draws`.

A proportion lies in [0, 1], a utility in [:data:`UTILITY_FLOOR`, 1], a weight in (0,
:data:`MAX_WEIGHT_KG`], an age in [0, :data:`MAX_AGE_YEARS`]; money and counts are not
negative; a ratio, a duration or a dose is positive; a coefficient may be any finite
number. An estimate of money may moreover be at most :data:`MAX_MONEY`. Some fields of the
model files narrow their unit's interval (:data:`FIELD_RANGES`: a population's mean body
weight).
"""
from __future__ import annotations

import math

#: The lowest utility: time trade-off valuation bounds values at -1 (lead-time TTO, as in
#: EQ-5D-5L value sets); the lowest published tariffs (UK EQ-5D-3L -0.594, German
#: EQ-5D-5L -0.661) lie above it.
UTILITY_FLOOR = -1.0
#: The heaviest body weight (and weight band, and SD of body weight) accepted, in kg.
MAX_WEIGHT_KG = 300.0
#: The lightest mean body weight of a population accepted, in kg (adults and children alike).
MIN_BODY_WEIGHT_KG = 20.0
#: The largest estimate of money accepted for one price or cost: nothing an HTA model
#: costs comes near it, and a larger value is a typing error (a gamma's draws may exceed it).
MAX_MONEY = 1e9
#: The oldest age accepted, in years.
MAX_AGE_YEARS = 120.0

#: Units whose values must be above 0 (their draws may come arbitrarily close to it).
POSITIVE = frozenset({"months", "weeks", "days", "years", "hazard_ratio", "odds_ratio", "ratio", "mg", "mg_per_kg",
                      "kg"})
_INF = math.inf
#: The closed interval holding every value and every draw of each unit.
SUPPORT: dict[str, tuple[float, float]] = {
    **{unit: (0.0, _INF) for unit in POSITIVE}, "kg": (0.0, MAX_WEIGHT_KG),
    "proportion": (0.0, 1.0), "utility_decrement": (0.0, 1.0), "rate_per_year": (0.0, 1.0),
    "utility": (UTILITY_FLOOR, 1.0), "money": (0.0, _INF), "count": (0.0, _INF), "age_years": (0.0, MAX_AGE_YEARS),
    "coefficient": (-_INF, _INF), "qalys": (-_INF, _INF),
}
#: Ranges narrower than a unit's for the values (and draws) of some fields of the model
#: files, by field name: what the field holds, its lowest and its highest value.
FIELD_RANGES: dict[str, tuple[str, float, float]] = {
    "mean": ("a population's mean body weight", MIN_BODY_WEIGHT_KG, MAX_WEIGHT_KG)}


def value_rule(value: float, unit: str) -> str | None:
    """The rule the estimate ``value`` breaks as a value of ``unit``, if any."""
    low, high = SUPPORT[unit]
    if unit in POSITIVE and not value > 0:
        return f"value {value!r} in {unit}: must be positive"
    if unit == "utility":
        if value > 1:
            return f"utility {value!r}: cannot exceed 1 (full health)"
        if value < UTILITY_FLOOR:
            return (f"utility {value!r}: cannot be below {UTILITY_FLOOR} (the lowest value time trade-off gives; the UK "
                    f"EQ-5D-3L's lowest is -0.594)")
    if high == 1.0 and not low <= value <= high:
        return f"value {value!r} as a {unit}: must lie in [0, 1]"
    if value < low:
        return f"value {value!r} in {unit}: must not be negative"
    if value > (MAX_MONEY if unit == "money" else high):
        return f"value {value!r} in {unit}: above {min(high, MAX_MONEY):g}, the largest a {unit} value may be"
    return None



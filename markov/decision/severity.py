"""The NICE severity modifier: QALY shortfall and QALY weights (NICE health technology
evaluations manual, 2022, section 6.2).

The severity of a condition is the health lost with current care: the QALYs the general
population of the same age and sex would have over the rest of their lives, less the QALYs
people with the condition have with the comparator (current care), both discounted as the
model discounts effects (3.5% a year in the NICE reference case):

- absolute shortfall  = Q_general − Q_comparator
- proportional shortfall = (Q_general − Q_comparator) / Q_general

``Q_general`` (:func:`general_population_qalys`) is quality-adjusted life expectancy from
the perspective's life table and the general-population utility norms of the analysis
(Ara & Brazier 2010), each sex on its own survival and norms, mixed by the cohort's share
of women at the start, integrated by the trapezoid rule on a weekly grid and discounted
continuously in time as ``(1 + r)^−t``. The weight (:func:`severity_weight`) is the
highest step either shortfall reaches, a shortfall equal to a cut-off included.
QALY-weighted results multiply incremental QALYs by the weight.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from ..inputs import ModelInputs, ParameterSet
from ..survival.general_population import GeneralPopulationSurvival, LifeTable

#: Step of the integration grid of general-population QALYs, in years (one week).
STEP_YEARS = 7 / 365.25
#: Age to which general-population QALYs are integrated (survival beyond is negligible).
LAST_AGE = 120.0


def severity_weight(absolute, proportional, absolute_cutoffs: Sequence[float], proportional_cutoffs: Sequence[float],
                    weights: Sequence[float]) -> np.ndarray:
    """QALY weight of each (absolute, proportional) shortfall: ``weights[i]`` when either
    shortfall is at least its ``i``-th cut-off (the highest such step), 1 below every step."""
    absolute, proportional = np.asarray(absolute, dtype=float), np.asarray(proportional, dtype=float)
    if not len(absolute_cutoffs) == len(proportional_cutoffs) == len(weights):
        raise InputError("severity_weight: one absolute cut-off, one proportional cut-off and one weight per step")
    for what, values in (("absolute cut-offs", absolute_cutoffs), ("proportional cut-offs", proportional_cutoffs),
                         ("weights", weights)):
        if any(b < a for a, b in itertools.pairwise(values)):
            raise InputError(f"severity_weight: {what} {list(values)} must be ascending")
    weight = np.ones(np.broadcast(absolute, proportional).shape)
    for a_cut, p_cut, w in zip(absolute_cutoffs, proportional_cutoffs, weights):
        weight = np.where((absolute >= a_cut) | (proportional >= p_cut), w, weight)
    return weight


def general_population_qalys(life_table: LifeTable | str, start_age, share_female, *, intercept, male, age,
                             age_squared, discount_rate) -> np.ndarray:
    """Discounted quality-adjusted life expectancy of a general-population cohort of
    ``start_age`` and ``share_female`` (arrays over samples or scalars), with utility
    ``intercept + male·[male] + age·a + age_squared·a²`` by sex."""
    start_age = np.atleast_1d(np.asarray(start_age, dtype=float))
    share_female = np.atleast_1d(np.asarray(share_female, dtype=float))
    coefficients = [np.atleast_1d(np.asarray(c, dtype=float)) for c in (intercept, male, age, age_squared, discount_rate)]
    n = max(len(start_age), len(share_female), *(len(c) for c in coefficients))
    start_age, share_female = np.broadcast_to(start_age, n), np.broadcast_to(share_female, n)
    intercept, male, age, age_squared, rate = (np.broadcast_to(c, n) for c in coefficients)
    horizon = LAST_AGE - float(np.min(start_age))
    t = np.linspace(0.0, horizon, int(np.ceil(horizon / STEP_YEARS)) + 1)
    years = t[None, :]
    ages = start_age[:, None] + years
    discount = (1.0 + rate[:, None]) ** -years
    total = np.zeros(n)
    for sex, is_male, share in (("female", 0.0, share_female), ("male", 1.0, 1.0 - share_female)):
        survival = GeneralPopulationSurvival(life_table, start_age, np.full(n, 1.0 if sex == "female" else 0.0)
                                             ).survival(t)
        utility = intercept[:, None] + male[:, None] * is_male + age[:, None] * ages + age_squared[:, None] * ages**2
        total = total + share * np.trapezoid(survival * utility * discount, t, axis=1)
    return total


def shortfall(general_qalys, comparator_qalys) -> tuple[np.ndarray, np.ndarray]:
    """(absolute, proportional) QALY shortfall."""
    general, comparator = np.asarray(general_qalys, dtype=float), np.asarray(comparator_qalys, dtype=float)
    absolute = general - comparator
    return absolute, absolute / general


def _modifier_values(inputs: ModelInputs, params: ParameterSet) -> tuple[list, list, list]:
    modifier = inputs.perspective.severity_modifier
    first = [float(params[ref][0]) for ref in modifier.absolute_cutoffs]
    second = [float(params[ref][0]) for ref in modifier.proportional_cutoffs]
    return first, second, [float(params[ref][0]) for ref in modifier.weights]


def severity_table(inputs: ModelInputs, params: ParameterSet, results: Sequence) -> pd.DataFrame:
    """Per population of the analysis with a comparator: the general population's and the
    comparator's discounted QALYs, absolute and proportional shortfall and the QALY weight
    (first sample of ``params``; ``results`` are the model's
    :class:`~markov.models.protocol.StrategyResult` for ``params``)."""
    modifier = inputs.perspective.severity_modifier
    if modifier is None:
        raise InputError(f"perspective {inputs.perspective.label!r} has no severity_modifier")
    if inputs.perspective.life_table is None:
        raise InputError(f"perspective {inputs.perspective.label!r}: the severity modifier needs a life_table")
    norms = inputs.utilities.general_population
    if norms is None:
        raise InputError("the severity modifier needs general-population utility norms (utilities.general_population)")
    absolute_cutoffs, proportional_cutoffs, weights = _modifier_values(inputs, params)
    by_key = {(r.population, r.strategy): r for r in results}
    table = LifeTable.load(inputs.perspective.life_table)
    rows = []
    for name, population in inputs.populations.items():
        comparator = population.comparison.comparator if population.comparison is not None else None
        if comparator is None or (name, comparator) not in by_key:
            continue
        general = general_population_qalys(
            table, params[population.start_age], params[population.share_female], intercept=params[norms.intercept],
            male=params[norms.male], age=params[norms.age], age_squared=params[norms.age_squared],
            discount_rate=params[inputs.perspective.discount_rate_effects])
        with_care = by_key[(name, comparator)].qalys.sum(axis=1)
        absolute, proportional = shortfall(general, with_care)
        weight = severity_weight(absolute, proportional, absolute_cutoffs, proportional_cutoffs, weights)
        rows.append({
            "population": name, "comparator": comparator, "comparator_label": by_key[(name, comparator)].label,
            "start_age": float(params[population.start_age][0]),
            "share_female": float(params[population.share_female][0]),
            "general_population_qalys": float(general[0]), "comparator_qalys": float(with_care[0]),
            "absolute_shortfall": float(absolute[0]), "proportional_shortfall": float(proportional[0]),
            "qaly_weight": float(weight[0]), "life_table": inputs.perspective.life_table,
            "utility_norms": norms.source, "rule": modifier.source,
        })
    return pd.DataFrame(rows)


def weighted_results(results: pd.DataFrame, severity: pd.DataFrame, thresholds: Mapping[str, float]) -> pd.DataFrame:
    """Each strategy against its population's comparator with QALYs weighted for severity:
    incremental cost and QALYs, the QALY weight, weighted incremental QALYs, the ICER with
    and without the weight and the net monetary benefit with the weight at each threshold
    (``results``: the results table, a row per population and strategy)."""
    rows = []
    for _, row in severity.iterrows():
        here = results[results["population"] == row["population"]].set_index("strategy")
        base = here.loc[row["comparator"]]
        for strategy, other in here.iterrows():
            if strategy == row["comparator"]:
                continue
            d_cost, d_qalys = float(other["cost"] - base["cost"]), float(other["qalys"] - base["qalys"])
            weighted = row["qaly_weight"] * d_qalys
            entry = {"population": row["population"], "strategy": strategy, "label": other["label"],
                     "comparator": row["comparator"], "incremental_cost": d_cost, "incremental_qalys": d_qalys,
                     "qaly_weight": row["qaly_weight"], "weighted_incremental_qalys": weighted,
                     "icer": d_cost / d_qalys if d_qalys else np.nan,
                     "weighted_icer": d_cost / weighted if weighted else np.nan}
            for label, wtp in thresholds.items():
                entry[f"weighted_nmb_{label}"] = wtp * weighted - d_cost
            rows.append(entry)
    return pd.DataFrame(rows)

"""Confidential prices: what the results assume about discounts, and the discount at which
each intervention becomes cost-effective.

A perspective may give each branded drug a discount off its list price (``discounts``: a
proportion, 0 at list price), applied to drug acquisition only
(:class:`markov.models.valuation.CostModel`). :func:`price_basis` says which prices a set
of results used: "at list price" when every discount is 0, else "with the discounts
entered". :func:`discount_thresholds` finds, for each intervention of a population, the
discount on the drugs it starts with (every one of them at the same discount, wherever in
the model they are used) at which its net monetary benefit against the population's
comparator is zero at each threshold, optionally with QALYs weighted for severity
(:mod:`markov.decision.severity`). Costs are linear in a common discount on a drug's
packs (the cheapest whole-pack combination does not change when every pack of the drug
is cheaper by the same share), so two evaluations per intervention give the threshold
exactly: at no discount and at 100%.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..inputs import ModelInputs
from ..inputs.structures import first_treatments
from ..models import build_model

LIST_PRICE = "at list price"
DISCOUNTED = "with the discounts entered"


def entered_discounts(inputs: ModelInputs, values: Mapping[str, float] | None = None) -> dict[str, float]:
    """Drug -> the discount of the base case (``values``: references changed from it)."""
    values = values or {}
    return {drug: float(values.get(ref, inputs.evidence[ref].value.value))
            for drug, ref in inputs.perspective.discounts.items()}


def price_basis(inputs: ModelInputs, values: Mapping[str, float] | None = None) -> str:
    """"at list price" when no discount is entered, else "with the discounts entered"."""
    return DISCOUNTED if any(d != 0 for d in entered_discounts(inputs, values).values()) else LIST_PRICE


def discounts_text(inputs: ModelInputs) -> str:
    """The discounts entered, e.g. "atezolizumab 25%, bevacizumab 10%"; "none" at list price."""
    entered = {drug: d for drug, d in entered_discounts(inputs).items() if d}
    return ", ".join(f"{drug} {d:.1%}" for drug, d in entered.items()) or "none (list prices)"


def _discounted_drugs(inputs: ModelInputs, treatments: list[str]) -> list[str]:
    drugs = [component.drug for name in treatments for component in inputs.treatments[name].regimen]
    return [drug for drug in dict.fromkeys(drugs) if drug in inputs.perspective.discounts]


def discount_thresholds(inputs: ModelInputs, thresholds: Mapping[str, float],
                        qaly_weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """For each population with a comparator and each other strategy: the discount off the
    list price of the drugs the strategy starts with (and the comparator does not) at which
    it is cost-effective against the comparator at each threshold, with QALYs unweighted
    and, where ``qaly_weights`` gives a population's severity weight other than 1, weighted.

    Other drugs keep the discounts entered. ``discount_threshold`` is 0 (with a note) when
    the strategy is cost-effective at list price and NaN (with a note) when no discount up
    to 100% makes it so.
    """
    qaly_weights = qaly_weights or {}
    model = build_model(inputs)
    rows = []
    for name, population in inputs.populations.items():
        comparison = population.comparison
        if comparison is None or comparison.comparator is None:
            continue
        comparator = comparison.comparator
        theirs = set(_discounted_drugs(inputs, first_treatments(population.strategies[comparator])))
        for strategy, spec in population.strategies.items():
            if strategy == comparator:
                continue
            drugs = [d for d in _discounted_drugs(inputs, first_treatments(spec)) if d not in theirs]
            base = {"population": name, "intervention": strategy, "label": spec.label, "comparator": comparator,
                    "drugs": ", ".join(drugs), "other_prices": price_basis(inputs)}
            if not drugs:
                rows.append({**base, "note": "the strategy starts with no drug that has a discount input"})
                continue
            refs = [inputs.perspective.discounts[d] for d in drugs]
            ends = []
            for discount in (0.0, 1.0):
                results = {r.strategy: r for r in model.evaluate(inputs.with_values(dict.fromkeys(refs, discount), 1))
                           if r.population == name}
                ends.append((float(results[strategy].total_cost[0] - results[comparator].total_cost[0]),
                             float(results[strategy].qalys.sum() - results[comparator].qalys.sum())))
            (cost_list, qalys), (cost_free, _) = ends
            weights = {1.0, float(qaly_weights.get(name, 1.0))}
            for weight in sorted(weights):
                for label, wtp in thresholds.items():
                    rows.append({**base, **_threshold(cost_list, cost_free, qalys, wtp, weight), "threshold": label,
                                 "wtp": wtp})
    return pd.DataFrame(rows)


def _threshold(cost_list: float, cost_free: float, qalys: float, wtp: float, weight: float) -> dict:
    """The discount d in [0, 1] with cost_list + d (cost_free − cost_list) = wtp · weight · qalys."""
    target = wtp * weight * qalys
    out = {"qaly_weight": weight, "incremental_qalys": qalys, "incremental_cost_at_list_price": cost_list,
           "incremental_cost_at_full_discount": cost_free, "discount_threshold": np.nan, "note": ""}
    if cost_list <= target:
        out.update(discount_threshold=0.0, note="cost-effective at list price")
    elif cost_free > target:
        out["note"] = ("not cost-effective even at a 100% discount" if qalys > 0 else
                       "less effective than the comparator and not saving enough at any discount")
    else:
        out["discount_threshold"] = (cost_list - target) / (cost_list - cost_free)
    if qalys <= 0:
        out["note"] = ("less effective than the comparator: cost-effective only by what it saves; "
                       + out["note"]).rstrip("; ")
    return out

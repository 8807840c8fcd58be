"""The NICE reference case's own tables in a results directory (``markov run``), for a
perspective with confidential discounts or a severity modifier:

- ``severity_modifier.csv``: per population, the general population's and the
  comparator's discounted QALYs, absolute and proportional QALY shortfall and the QALY
  weight (:mod:`markov.decision.severity`);
- ``severity_weighted.csv``: each strategy against the comparator with QALYs weighted for
  severity: weighted ICER and net monetary benefit at each threshold;
- ``discount_thresholds.csv``: per intervention, the discount off the list price of its
  drugs at which it is cost-effective at each threshold, unweighted and severity-weighted
  (:mod:`markov.decision.discounts`).

Every table says which prices it used (``prices``: "at list price" or "with the discounts
entered"), as do the results and incremental tables of such a perspective.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..decision.discounts import discount_thresholds, price_basis
from ..decision.severity import severity_table, weighted_results
from ..inputs.load import ModelInputs
from ..results import DISCOUNT_THRESHOLDS, SEVERITY_MODIFIER, SEVERITY_WEIGHTED, ResultsDirectory, write_table
from .tables import thresholds_of


def with_prices(inputs: ModelInputs, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with a last column ``prices`` when the perspective has confidential
    discounts (other perspectives' tables are left as they are)."""
    if not inputs.perspective.discounts or table is None:
        return table
    return table.assign(prices=price_basis(inputs))


def write_reference_case(inputs: ModelInputs, out: Path, base: list, results: pd.DataFrame) -> list[Path]:
    """The severity and discount-threshold tables of the base case ``base`` (the model's
    results) with its results table ``results``; nothing for a perspective without
    discounts or a severity modifier."""
    perspective, directory, files = inputs.perspective, ResultsDirectory(out), []
    thresholds = thresholds_of(inputs)
    weights = {}
    if perspective.severity_modifier is not None:
        severity = severity_table(inputs, inputs.base_case(), base)
        weights = dict(zip(severity["population"], severity["qaly_weight"])) if len(severity) else {}
        files.append(write_table(with_prices(inputs, severity), directory.table(SEVERITY_MODIFIER)))
        if len(severity):
            files.append(write_table(with_prices(inputs, weighted_results(results, severity, thresholds)),
                                     directory.table(SEVERITY_WEIGHTED)))
    if perspective.discounts:
        files.append(write_table(discount_thresholds(inputs, thresholds, weights), directory.table(DISCOUNT_THRESHOLDS)))
    return files

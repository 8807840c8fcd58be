"""Which inputs an analysis's strategies can reach, and so which can change its results.

Loading collects every reference of the model files (:attr:`ModelInputs.uses`): every
treatment of ``treatments.yaml``, every price of the perspective, every curve and target
of a population. A strategy reaches only part of them:

* the treatments it gives (its lines' options, its states' treatments) and, in the
  perspective, the prices of their drugs, the unit costs of their administrations and
  procedures and the costs of their adverse events;
* the curves it follows (by name, and the curves those are built from) and, in a Markov
  population, the transition matrices its periods name (with the curves in them); the
  post-progression survival only where it is not calibrated (a calibrated strategy's
  best supportive care is solved from a reported median instead);
* of the targets (what a trial reported), only an OS median that some strategy's
  post-progression survival is calibrated to: the others are shown beside the model's
  results, never used to compute them.

Everything else in the model files (population demography, discount rates, thresholds,
costs of care by state, utilities) counts as reached. A reference is used when one of
its places is reached, or when a used value is drawn from it (joint partners, the share a
block splits, a concentration, the value a decrement is taken from). The others are
:attr:`ModelInputs.unused`: no draw of them can change a result, so they are held at
their estimates and are not uncertain inputs of a PSA, a global sensitivity analysis or
an EVPPI, nor rows of a one-way analysis.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .curves import curve_references
from .structures import (
    CurveProbability,
    MarkovStrategy,
    SequencingStrategy,
    strategy_curves,
    strategy_treatments,
)

if TYPE_CHECKING:
    from .parameters import ModelInputs

#: The model files whose every place is a place of the model (the rest, e.g. "joint
#: distribution …", say why a value is drawn with another).
_MODEL_FILES = ("treatments", "populations", "perspectives", "utilities")
#: Parts of the model files that a strategy may or may not reach, named by their first
#: segments: a treatment, a price of a drug, a unit cost, an adverse event's cost, a curve,
#: a transition matrix, a target.
_PART = re.compile(r"^(treatments\.\w+"
                   r"|perspectives\.\w+\.(?:drug_prices|unit_costs|adverse_event_costs)\.\w+"
                   r"|populations\.\w+\.(?:curves|transitions)\.\w+"
                   r"|populations\.\w+\.strategies\.\w+\.targets\.\w+)(?=$|[.\[])")


def reached_parts(inputs: ModelInputs) -> set[str]:
    """The parts of the model files (in the form of :data:`_PART`) that a strategy of the
    analysis reaches."""
    parts: set[str] = set()
    treatments: set[str] = set()
    for p_name, population in inputs.populations.items():
        curves: list[str] = []
        for strategy in population.strategies.values():
            treatments.update(strategy_treatments(strategy))
            curves += [curve for _, curve in strategy_curves(strategy)]
            if isinstance(strategy, SequencingStrategy):
                anchor = strategy.post_progression.calibrated_to
                if anchor is None:
                    curves.append(strategy.post_progression.survival or population.post_progression_survival)
                else:
                    parts.add(f"populations.{p_name}.strategies.{anchor}.targets.os_median")
            if isinstance(strategy, MarkovStrategy):
                for period in strategy.periods:
                    parts.add(f"populations.{p_name}.transitions.{period.transitions}")
                    matrix = population.transitions[period.transitions]
                    curves += [entry.curve for row in matrix.rows.values() for entry in row.values()
                               if isinstance(entry, CurveProbability)]
        while curves:
            name = curves.pop()
            if name is not None and f"populations.{p_name}.curves.{name}" not in parts:
                parts.add(f"populations.{p_name}.curves.{name}")
                curves += list(curve_references(population.curves[name]).values())
    prices = f"perspectives.{inputs.analysis.perspective}"
    for name in treatments:
        treatment = inputs.treatments[name]
        parts.add(f"treatments.{name}")
        parts.update(f"{prices}.drug_prices.{component.drug}" for component in treatment.regimen)
        parts.update(f"{prices}.unit_costs.{item.item}" for item in [*treatment.administration, *treatment.procedures])
        parts.update(f"{prices}.adverse_event_costs.{event}" for event in treatment.adverse_events)
    return parts


def _reached(place: str, parts: set[str]) -> bool:
    """A place of the model files is reached if it lies outside every part a strategy may
    miss, or inside a part it reaches; a place that only says why a value is drawn with
    another is not a place of the model."""
    if place.split(".")[0].split("[")[0] not in _MODEL_FILES:
        return False
    part = _PART.match(place)
    return part is None or part.group(1) in parts


def unused_references(inputs: ModelInputs) -> frozenset[str]:
    """The references of ``inputs.uses`` that no strategy of the analysis reaches, directly
    or through a value drawn from them (see the module docstring)."""
    parts = reached_parts(inputs)
    used = {ref for ref, places in inputs.uses.items() if any(_reached(place, parts) for place in places)}
    pending = list(used)
    while pending:  # what a used value is drawn from, or with, is used
        for other, _ in inputs.evidence.dependencies(pending.pop()):
            if other not in used:
                used.add(other)
                pending.append(other)
    return frozenset(inputs.uses) - used

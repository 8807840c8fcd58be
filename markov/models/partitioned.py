"""The partitioned-survival structure: states read off nested survival curves.

A strategy is a list of partitions from the innermost curve out (e.g. ``first_line``
bounded by PFS, ``progressed`` bounded by OS); the state of a partition holds whoever is
inside its curve and outside the one before, and the cohort above the last curve is
dead (:func:`markov.engine.run_partitioned_survival`). There are no transitions: the
curves are read as they are, which is what most published HCC models do.

* **General-population mortality** floors the outermost curve (OS): each cycle's
  probability of death is raised to the life table's where lower
  (:func:`markov.engine.floor_survival`, every event a death). The (sample, cycle)
  pairs floored are reported (``floored_cycles``).
* **Nested curves.** An inner curve is never above an outer one: where it is, the
  engine clips it to the outer curve and counts the time points (reported as
  ``crossing_time_points``, summed over samples, and warned about).
* **Time on treatment.** The first partition with its own ``time_on_treatment`` is two
  states, ``<state>_on_treatment`` (the smaller of its curve and the first curve,
  stopped at ``max_duration``) and ``<state>_off_treatment`` (the rest), as the
  sequencing model's first line.
* **Entries.** Entries into a later state are the fall of the curve before it, which
  includes patients dying on the way through. Where the partition before gives its
  ``death_share``, only those entering alive are counted, ``(1 − death_share)`` of the
  fall; every one-off value on entry (a treatment's costs at its start and adverse
  events, subsequent treatments) is per patient entering alive. Nobody enters an
  off-treatment state (it is part of its partition, as in the sequencing model).

Costs: a partition's ``treatment`` per year while in its state (in the on-treatment
state only, when split), its drug acquisition in ``<state>_drugs``; its costs at the
start and adverse events on entry (the first partition: at t = 0). Treatments started
on entry to a state (``subsequent_treatments``) are costed once, at entry, per patient
entering alive: Σ share × (drugs + administration + recurring procedures per year) ×
mean years on the treatment, plus share × (procedures at its start + adverse events + the
oral drug wasted on stopping it, :meth:`~markov.models.valuation.CostModel.waste_per_stop`),
all in one category, ``subsequent_treatment``; their adverse events cost QALYs at entry.
The mean years on a subsequent treatment are the restricted mean of its ``duration``
curve over the model horizon, undiscounted, from whenever the state is entered: a
simplification (it ignores discounting over the course of the treatment, deaths that
end a treatment before its curve does, and that later entrants have less horizon left).
Utilities and costs of care are looked up by state name (then partition name for
on/off-treatment states); the other categories are those of
:data:`~markov.models.valuation.COMMON_CATEGORIES`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from .._validate import InputError
from ..engine import CohortTrace, floor_survival, run_partitioned_survival
from ..inputs import ParameterSet
from ..inputs.structures import Partition, PartitionedSurvivalStrategy, Population
from ..survival import TIME_UNIT_YEARS
from .base import CohortModel, Prepared
from .protocol import StrategyResult
from .shared import SharedWork
from .valuation import State, adverse_event_qalys, dead_state, value_trace

#: The cost category of every treatment started on entry to a state.
SUBSEQUENT_TREATMENT = "subsequent_treatment"


@dataclass
class _Prepared(Prepared):
    mean_years: dict[str, np.ndarray] = field(default_factory=dict)  # duration curve -> years, as first needed


class PartitionedSurvivalModel(CohortModel):
    """The partitioned-survival structure of an analysis (see the module docstring)."""

    def drug_categories(self, strategy: PartitionedSurvivalStrategy) -> list[str]:
        categories = [f"{p.state}_drugs" for p in strategy.partitions if p.treatment]
        if any(p.subsequent_treatments for p in strategy.partitions):
            categories.append(SUBSEQUENT_TREATMENT)
        return categories

    def population(self, name: str, population: Population, params: ParameterSet,
                   shared: SharedWork | None = None) -> _Prepared:
        return self._prepared(_Prepared, name, population, params, shared)

    def strategy(self, prepared: _Prepared, name: str, strategy: PartitionedSurvivalStrategy,
                 keep_trace: bool = True) -> StrategyResult:
        params, partitions = prepared.params, strategy.partitions
        curves = [prepared.on_grid[p.survival] for p in partitions]
        curves[-1], _, floored = floor_survival(curves[-1], np.ones(params.n_samples), prepared.general_population)
        partitioned = run_partitioned_survival(curves, [p.state for p in partitions] + ["dead"])
        occupancy, entries = partitioned.occupancy, partitioned.entries
        for k in range(1, len(partitions)):  # count those entering alive
            death_share = partitions[k - 1].death_share
            if death_share is not None:
                entries[:, 1:, k] *= 1.0 - params[death_share][:, None]
        first, found = partitions[0], None
        if first.time_on_treatment.given:
            if first.time_on_treatment.own_courses:
                found = self.drug_courses(first.treatment, first.time_on_treatment, occupancy[:, :, 0],
                                          prepared.on_grid, params)
                on = found.on_state
            else:
                on = self.time_on_treatment(first.time_on_treatment, occupancy[:, :, 0], prepared.on_grid, params)
            occupancy = np.concatenate([on[:, :, None], (occupancy[:, :, 0] - on)[:, :, None], occupancy[:, :, 1:]],
                                       axis=2)
            entries = np.concatenate([entries[:, :, :1], np.zeros_like(entries[:, :, :1]), entries[:, :, 1:]], axis=2)
        states = [state for k, p in enumerate(partitions) for state in self._states(prepared, name, k, p)]
        states.append(dead_state())
        if found is not None:  # drugs costed on their own time on treatment, beyond progression capped by OS
            start = np.zeros(occupancy.shape[:2])
            start[:, 0] = 1.0
            courses = self.own_courses(found, first.treatment, f"{first.state}_drugs", lambda curve: curve, start,
                                       1.0 - occupancy[:, :, -1])
            states[0] = dataclasses.replace(states[0], treatment=None, courses=courses)
        names = tuple(state.name for state in states)
        trace = CohortTrace(occupancy, entries, names)
        costs, life_years, qalys = value_trace(prepared.values, trace, states, self.categories)
        progression_free = tuple(state for state, _ in first.states())
        return StrategyResult(prepared.name, name, strategy.label, trace, costs, life_years, qalys, names,
                              progression_free, floored, 0, int(partitioned.crossing_time_points.sum()))

    def _states(self, prepared: _Prepared, strategy_name: str, k: int, partition: Partition) -> list[State]:
        """The state(s) of partition ``k``: its treatment (and what starts on entry) in
        the first, none in an off-treatment state."""
        (name, keys), *off = partition.states()
        treated = {} if partition.treatment is None else {
            "treatment": partition.treatment, "drug_category": f"{partition.state}_drugs",
            "entered_treatment": partition.treatment}
        if partition.subsequent_treatments:
            on_entry, qalys = self._subsequent(prepared, f"{strategy_name}.partitions[{k}]", partition)
            treated.update(on_entry={SUBSEQUENT_TREATMENT: on_entry}, qalys_on_entry=qalys)
        return [State(name, keys, **treated), *(State(*state) for state in off)]

    def _subsequent(self, prepared: _Prepared, where: str, partition: Partition) -> tuple[np.ndarray, np.ndarray]:
        """Cost and QALYs per patient entering ``partition``'s state alive, from the
        treatments started there."""
        params, costs = prepared.params, prepared.values.costs
        cost, qalys, shares = (np.zeros(params.n_samples) for _ in range(3))
        for item in partition.subsequent_treatments:
            treatment, share = self.inputs.treatments[item.treatment], params[item.share]
            at_start, procedures_per_year = costs.procedures(treatment)
            per_year = costs.drugs_per_year(treatment) + costs.administration_per_year(treatment) + procedures_per_year
            cost = cost + share * (per_year * self._mean_years(prepared, item.duration) + at_start
                                   + costs.adverse_events(treatment) + costs.waste_per_stop(treatment))
            qalys = qalys + share * adverse_event_qalys(self.inputs, treatment, params)
            shares = shares + share
        if (shares > 1.0 + 1e-12).any():
            i = int(np.argmax(shares))
            raise InputError(f"{prepared.name}.{where}.subsequent_treatments: shares sum to {float(shares[i])!r} in "
                             f"sample {i}; shares of one group of patients cannot exceed 1")
        return cost, qalys

    def _mean_years(self, prepared: _Prepared, name: str) -> np.ndarray:
        """Restricted mean of curve ``name`` over the horizon, in years (undiscounted)."""
        if name not in prepared.mean_years:
            curve = prepared.curves[name]
            unit = TIME_UNIT_YEARS[curve.time_unit]
            prepared.mean_years[name] = curve.restricted_mean(self.grid.horizon_years / unit) * unit
        return prepared.mean_years[name]

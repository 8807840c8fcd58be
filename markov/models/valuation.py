"""Costs, life-years and QALYs of a trace, from its states' treatments, costs and utilities.

Every structure describes its states the same way (:class:`State`): a name, the keys its
utility and costs of care are looked up by (:func:`markov.inputs.schema.lookup`), the
treatments costed per year while in it (drug acquisition, administration, recurring
procedures), each throughout or for a time window (:class:`Course`), and the treatment
whose one-off costs and adverse events are counted on entry. :func:`value_trace` then
turns the trace into discounted totals per sample and state, by cost category. Drug
acquisition goes to the category the state names (``first_line_drugs`` …), so one line's
drugs stay apart from another's. Values are per year and constant over time unless a
course has a window: only then is its category's value held per cycle.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..engine import CohortTrace
from ..grid import TimeGrid
from ..inputs import ModelInputs, ParameterSet
from ..inputs.schema import Treatment, lookup
from ..inputs.structures import Population
from ..outcomes import Accumulator
from ..outcomes.costing import Pack, expected_cost_per_administration, weight_nodes

#: Cost categories every model reports (drug acquisition categories come before them).
COMMON_CATEGORIES = ("administration", "procedures", "monitoring_and_care", "adverse_events", "terminal_care")


@dataclass(frozen=True, eq=False)
class Course:
    """A treatment costed per year of membership of a state, in cost category
    ``drug_category`` for its drugs, in the cycles that start before ``until`` (years
    since the start, one per sample; None: every cycle)."""

    treatment: str
    drug_category: str
    until: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class State:
    """A state of a model, as valued.

    Attributes
    ----------
    name : str
    keys : tuple of str
        What its utility and costs of care are looked up by, most specific first.
    treatment : str, optional
        Costed per year of membership, throughout.
    drug_category : str, optional
        The cost category of that treatment's drug acquisition.
    courses : tuple of Course
        Further treatments costed per year of membership, each throughout or until a time.
    entered_treatment : str, optional
        Whose one-off costs (procedures at start, adverse events) and adverse-event QALY
        loss are counted per entry.
    alive : bool
    on_entry : dict
        Further one-off costs per entry, by category: arrays over samples (e.g. a
        partitioned survival model's subsequent treatments).
    qalys_on_entry : ndarray, optional
        Further one-off QALYs per entry over samples (negative: a loss, e.g. from the
        adverse events of subsequent treatments).
    """

    name: str
    keys: tuple[str, ...]
    treatment: str | None = None
    drug_category: str | None = None
    entered_treatment: str | None = None
    alive: bool = True
    on_entry: dict[str, np.ndarray] = field(default_factory=dict)
    qalys_on_entry: np.ndarray | None = None
    courses: tuple[Course, ...] = ()

    @property
    def all_courses(self) -> tuple[Course, ...]:
        """Every treatment costed per year in this state: ``treatment`` and ``courses``."""
        own = () if self.treatment is None else (Course(self.treatment, self.drug_category),)
        return own + self.courses


def dead_state() -> State:
    return State("dead", (), alive=False)


class CostModel:
    """Per-year and per-entry costs of treatments in the analysis's perspective, for one
    population and parameter set."""

    def __init__(self, inputs: ModelInputs, params: ParameterSet, population: Population) -> None:
        self.inputs, self.params = inputs, params
        self.perspective = inputs.perspective
        body = population.body_weight_kg
        self.weights = (weight_nodes(params[body.mean], params[body.sd]) if body is not None
                        else np.full((params.n_samples, 1), np.nan))
        self.packs = {
            drug: [Pack(inputs.evidence[ref].value.pack.strength_mg, inputs.evidence[ref].value.pack.units, params[ref])
                   for ref in refs]
            for drug, refs in self.perspective.drug_prices.items()
        }

    def _per_year(self, administrations: str, cycle_days: str) -> np.ndarray:
        return self.params[administrations] / (self.params.years(cycle_days))

    def drugs_per_year(self, treatment: Treatment) -> np.ndarray:
        """Drug acquisition per year on treatment, after relative dose intensity."""
        p = self.params
        total = np.zeros(p.n_samples)
        for component in treatment.regimen:
            if component.dose_mg is not None:
                dose = np.broadcast_to(p[component.dose_mg][:, None], self.weights.shape)
            elif component.dose_mg_per_kg is not None:
                dose = p[component.dose_mg_per_kg][:, None] * self.weights
            else:
                dose = np.zeros(self.weights.shape)
                assigned = np.zeros(self.weights.shape, dtype=bool)
                for band in component.dose_by_weight:
                    below = (np.ones_like(assigned) if band.below_kg is None
                             else self.weights < p[band.below_kg][:, None])
                    here = below & ~assigned
                    dose = np.where(here, p[band.dose_mg][:, None], dose)
                    assigned |= here
            per_administration = expected_cost_per_administration(
                np.ascontiguousarray(dose), self.packs[component.drug], vial_sharing=self.perspective.vial_sharing
            )
            total = total + per_administration * self._per_year(component.administrations, component.cycle_days)
        for item in treatment.cost_per_period:
            total = total + self.recurring(item)
        if treatment.relative_dose_intensity is not None:
            total = total * p[treatment.relative_dose_intensity]
        return total

    def administration_per_year(self, treatment: Treatment) -> np.ndarray:
        p = self.params
        total = np.zeros(p.n_samples)
        for item in treatment.administration:
            unit = p[self.perspective.unit_costs[item.item]]
            total = total + unit * self._per_year(item.administrations, item.cycle_days)
        return total

    def procedures(self, treatment: Treatment) -> tuple[np.ndarray, np.ndarray]:
        """(cost on entry to the line, cost per year on treatment)."""
        p = self.params
        at_start, per_year = np.zeros(p.n_samples), np.zeros(p.n_samples)
        for procedure in treatment.procedures:
            unit = p[self.perspective.unit_costs[procedure.item]]
            share = 1.0 if procedure.share is None else p[procedure.share]
            if procedure.at_start is not None:
                at_start = at_start + share * unit * p[procedure.at_start]
            if procedure.every_days is not None:
                per_year = per_year + share * unit / p.years(procedure.every_days)
        return at_start, per_year

    def adverse_events(self, treatment: Treatment) -> np.ndarray:
        p = self.params
        total = np.zeros(p.n_samples)
        for event, rate in treatment.adverse_events.items():
            total = total + p[rate] * p[self.perspective.adverse_event_costs[event]]
        return total

    def recurring(self, item) -> np.ndarray:
        """A :class:`~markov.inputs.schema.RecurringCost` per year."""
        p = self.params
        return p[item.cost] / p.years(item.every) if item.every is not None else p.per_year(item.cost)

    def care_per_year(self, state: State) -> np.ndarray:
        """Costs of care (monitoring …) per year in ``state``."""
        total = np.zeros(self.params.n_samples)
        for item in lookup(self.perspective.state_costs, state.keys, "costs.yaml state_costs"):
            total = total + self.recurring(item)
        return total


def adverse_event_rate(treatment: Treatment, params: ParameterSet) -> np.ndarray:
    """Grade 3-4 adverse events per patient starting ``treatment``."""
    return sum((params[rate] for rate in treatment.adverse_events.values()), np.zeros(params.n_samples))


def adverse_event_qalys(inputs: ModelInputs, treatment: Treatment, params: ParameterSet) -> np.ndarray:
    """QALYs per patient starting ``treatment`` from its grade 3-4 adverse events: a loss
    (≤ 0), zero when the utilities give no adverse-event disutility."""
    ae = inputs.utilities.adverse_events
    if ae is None:
        return np.zeros(params.n_samples)
    return -(params[ae.disutility] * params.years(ae.duration)) * adverse_event_rate(treatment, params)


def utilities_by_state(inputs: ModelInputs, population: Population, states: Sequence[State], params: ParameterSet,
                       grid: TimeGrid) -> np.ndarray:
    """Utility per year by state: ``(n, 1, n_states)``, or by cycle when adjusted for age
    or capped at the general population's."""
    u = inputs.utilities
    values = np.zeros((params.n_samples, 1, len(states)))
    for j, state in enumerate(states):
        if state.alive:
            values[:, 0, j] = params[lookup(u.by_state, state.keys, "utilities.yaml by_state")]
    if not (u.age_adjusted or u.cap_at_general_population):
        return values
    norms = u.general_population
    age = params[population.start_age][:, None] + grid.times_years[None, :-1]
    male = 1.0 - params[population.share_female][:, None]
    general = (params[norms.intercept][:, None] + params[norms.male][:, None] * male
               + params[norms.age][:, None] * age + params[norms.age_squared][:, None] * age**2)
    if u.age_adjusted:
        values = values * (general / general[:, :1])[:, :, None]
    if u.cap_at_general_population:
        values = np.minimum(values, general[:, :, None])
    return values


def value_trace(inputs: ModelInputs, population: Population, trace: CohortTrace, states: Sequence[State],
                categories: Sequence[str], params: ParameterSet, grid: TimeGrid
                ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Discounted costs by category, life-years and QALYs, each per sample and state.

    Returns ``(costs, life_years, qalys)``: ``costs[category]`` and the other two are
    ``(n_samples, n_states)``.
    """
    perspective = inputs.perspective
    model = CostModel(inputs, params, population)
    n, k = params.n_samples, len(states)
    per_year = {category: np.zeros((n, 1, k)) for category in categories}
    on_entry = {category: np.zeros((n, 1, k)) for category in categories}
    qaly_on_entry = np.zeros((n, 1, k))
    for j, state in enumerate(states):
        for course in state.all_courses:
            treatment = inputs.treatments[course.treatment]
            window = None if course.until is None else grid.cycles_before(course.until)
            for category, amount in ((course.drug_category, model.drugs_per_year(treatment)),
                                     ("administration", model.administration_per_year(treatment)),
                                     ("procedures", model.procedures(treatment)[1])):
                if window is None:
                    per_year[category][:, 0, j] += amount
                else:  # by cycle: this category, only, is held per cycle from now on
                    if per_year[category].shape[1] == 1:
                        per_year[category] = np.repeat(per_year[category], grid.n_cycles, axis=1)
                    per_year[category][:, :, j] += amount[:, None] * window
        if state.entered_treatment is not None:
            treatment = inputs.treatments[state.entered_treatment]
            on_entry["procedures"][:, 0, j] = model.procedures(treatment)[0]
            on_entry["adverse_events"][:, 0, j] = model.adverse_events(treatment)
            qaly_on_entry[:, 0, j] = adverse_event_qalys(inputs, treatment, params)
        for category, amount in state.on_entry.items():
            on_entry[category][:, 0, j] += amount
        if state.qalys_on_entry is not None:
            qaly_on_entry[:, 0, j] += state.qalys_on_entry
        if state.alive:
            per_year["monitoring_and_care"][:, 0, j] = model.care_per_year(state)
        elif perspective.terminal_care is not None:
            on_entry["terminal_care"][:, 0, j] = params[perspective.terminal_care]

    alive = np.array([1.0 if state.alive else 0.0 for state in states])
    utility = utilities_by_state(inputs, population, states, params, grid)
    rates = np.column_stack([params[perspective.discount_rate_costs], params[perspective.discount_rate_effects]])
    # one accumulator per distinct discount rate and pair of them (a one-way analysis
    # varies them), shared by every value it discounts
    distinct, group = np.unique(rates, axis=0, return_inverse=True)
    method = inputs.analysis.cycle_correction
    costs = {category: np.zeros((n, k)) for category in categories}
    life_years, qalys = np.zeros((n, k)), np.zeros((n, k))
    for g, (cost_rate, effect_rate) in enumerate(distinct):
        rows = slice(None) if len(distinct) == 1 else group.ravel() == g

        def pick(values, rows=rows):  # the samples ``rows`` of values given per sample
            return values if values.ndim < 3 or values.shape[0] == 1 else values[rows]

        part = CohortTrace(trace.occupancy[rows], trace.entries[rows], trace.state_names)
        for_costs = Accumulator(part, grid, discount_rate=float(cost_rate), method=method)
        for_effects = for_costs if effect_rate == cost_rate else Accumulator(
            part, grid, discount_rate=float(effect_rate), method=method)
        for category in categories:
            costs[category][rows] = for_costs.total(pick(per_year[category]), pick(on_entry[category]))
        life_years[rows] = for_effects.total(alive)
        qalys[rows] = for_effects.total(pick(utility), pick(qaly_on_entry))
    return costs, life_years, qalys

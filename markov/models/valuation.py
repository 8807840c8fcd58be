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

A course may instead be costed on an occupancy of its own (a drug of a regimen on its own
time on treatment, which may go on after progression), reported with its state; and each
stop of an oral drug costs the rest of its supply (the perspective's ``oral_wastage``),
counted from the exits of the state or of the course's own occupancy (:attr:`~markov.outcomes.Accumulator.exits`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..engine import CohortTrace, StateSums
from ..grid import TimeGrid
from ..inputs import ModelInputs, ParameterSet
from ..inputs.schema import Treatment, lookup
from ..inputs.structures import Population
from ..outcomes import Accumulator, state_weights
from ..outcomes.costing import Pack, expected_cost_per_administration, weight_nodes
from .shared import SharedWork

#: Cost categories every model reports (drug acquisition categories come before them).
COMMON_CATEGORIES = ("administration", "procedures", "monitoring_and_care", "adverse_events", "terminal_care")


@dataclass(frozen=True, eq=False)
class Course:
    """A treatment costed per year of membership of a state, in cost category
    ``drug_category`` for its drugs, in the cycles that start before ``until`` (years
    since the start, one per sample; None: every cycle).

    A course may cost part of its treatment only: ``drugs`` names the drugs of the regimen
    it costs (None: the whole treatment, with its costs per period; ``()``: none of the
    regimen's drugs, only its costs per period) and ``other_costs`` whether it costs the
    treatment's administration and recurring procedures. With ``occupancy`` (and
    ``entries``), ``(n_samples, n_time_points)``, it is costed on that share of the cohort
    on treatment, not on the state's: a drug's own time on treatment, which may go on
    after progression, reported with the state. With ``wastage``, each stop of an oral
    drug costs the rest of its supply (the perspective's ``oral_wastage``).
    """

    treatment: str
    drug_category: str
    until: np.ndarray | None = None
    drugs: tuple[str, ...] | None = None
    other_costs: bool = True
    occupancy: np.ndarray | None = None
    entries: np.ndarray | None = None
    wastage: bool = True


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


#: Arguments of CostModel.kept that are the same when equal; any other is the same object or not.
_BY_VALUE = (str, tuple, type(None))


class CostModel:
    """Per-year and per-entry costs of treatments in the analysis's perspective, for one
    population and parameter set."""

    def __init__(self, inputs: ModelInputs, params: ParameterSet, population: Population) -> None:
        self.inputs, self.params = inputs, params
        self.perspective = inputs.perspective
        body = population.body_weight_kg
        self.weights = (weight_nodes(params[body.mean], params[body.sd]) if body is not None
                        else np.full((params.n_samples, 1), np.nan))
        # a confidential discount (the perspective's ``discounts``) lowers every pack price of its drug:
        # drug acquisition and the drug wasted on stopping, nothing else
        discounts = self.perspective.discounts
        self.packs = {
            drug: [Pack(inputs.evidence[ref].value.pack.strength_mg, inputs.evidence[ref].value.pack.units,
                        params[ref] * (1.0 - params[discounts[drug]]) if drug in discounts else params[ref])
                   for ref in refs]
            for drug, refs in self.perspective.drug_prices.items()
        }
        self._found: dict[tuple, tuple[tuple, object]] = {}  # see kept()

    def kept(self, compute, *args):
        """``compute(*args)`` made once for this population and parameter set and kept:
        the strategies of a population share their treatments, states and drugs.
        ``compute`` returns an array of its own or a tuple of them, which become
        read-only. Arguments are the same when equal (strings, tuples, None) or the very
        same objects (treatments, components, inputs)."""
        key = (compute.__qualname__, *(a if isinstance(a, _BY_VALUE) else id(a) for a in args))
        known = self._found.get(key)
        if known is None or any(a is not b for a, b in zip(known[0], args, strict=True)
                                if not isinstance(a, _BY_VALUE)):
            value = compute(*args)
            for array in value if isinstance(value, tuple) else (value,):
                array.flags.writeable = False
            known = self._found[key] = (args, value)
        return known[1]

    def _per_year(self, administrations: str, cycle_days: str) -> np.ndarray:
        return self.params[administrations] / (self.params.years(cycle_days))

    def drugs_per_year(self, treatment: Treatment, drugs: tuple[str, ...] | None = None) -> np.ndarray:
        """Drug acquisition per year on treatment, after relative dose intensity: of the
        drugs of the regimen named (None: every one, and the costs per period)."""
        p = self.params
        total = np.zeros(p.n_samples)
        for component in treatment.regimen:
            if drugs is None or component.drug in drugs:
                total = total + self.drug_per_year(component)
        if drugs is None:
            for item in treatment.cost_per_period:
                total = total + self.recurring(item)
        return total * self.dose_intensity(treatment)

    def dose_intensity(self, treatment: Treatment) -> np.ndarray | float:
        return 1.0 if treatment.relative_dose_intensity is None else self.params[treatment.relative_dose_intensity]

    def waste_per_stop(self, treatment: Treatment, drugs: tuple[str, ...] | None = None) -> np.ndarray:
        """Drug wasted when a patient stops (the perspective's ``oral_wastage``): half a
        supply of each oral drug of the regimen named (None: every one), at its cost per
        year on treatment after relative dose intensity; zero without oral wastage."""
        p, wastage = self.params, self.perspective.oral_wastage
        total = np.zeros(p.n_samples)
        if wastage is None or wastage.method == "none":
            return total
        for component in treatment.regimen:
            supply = wastage.supply_days.get(component.drug)
            if supply is not None and (drugs is None or component.drug in drugs):
                total = total + self.drug_per_year(component) * p.years(supply) / 2.0
        return total * self.dose_intensity(treatment)

    def drug_per_year(self, component) -> np.ndarray:
        """Acquisition per year of one drug of a regimen (a
        :class:`~markov.inputs.schema.DrugComponent`), at the full planned dose; computed
        once per component (read-only)."""
        return self.kept(self._acquisition_per_year, component)

    def _acquisition_per_year(self, component) -> np.ndarray:
        p = self.params
        if component.dose_mg is not None:  # the same dose whatever the weight: its cost is the mean over patients
            dose = p[component.dose_mg][:, None]
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
        return per_administration * self._per_year(component.administrations, component.cycle_days)

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

    def care_per_year(self, keys: tuple[str, ...]) -> np.ndarray:
        """Costs of care (monitoring …) per year in a state of ``keys`` (:attr:`State.keys`)."""
        total = np.zeros(self.params.n_samples)
        for item in lookup(self.perspective.state_costs, keys, "costs.yaml state_costs"):
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


def utilities_by_state(values: PopulationValues, states: Sequence[State]
                       ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Utility per year by state, ``(n, n_states)``, and when adjusted for age or capped at
    the general population's, the factor and the cap by cycle, ``(n, n_cycles)`` each
    (None otherwise): in cycle c a state's utility is min(utility·factor[c], cap[c])."""
    u, params = values.inputs.utilities, values.params
    by_state = np.zeros((params.n_samples, len(states)))
    for j, state in enumerate(states):
        if state.alive:
            by_state[:, j] = params[lookup(u.by_state, state.keys, "utilities.yaml by_state")]
    if not (u.age_adjusted or u.cap_at_general_population):
        return by_state, None, None
    return (by_state, *values.general_population_utility)


def _general_population_utility(inputs: ModelInputs, population: Population, params: ParameterSet, grid: TimeGrid
                                ) -> tuple[np.ndarray, np.ndarray]:
    """The factor and cap of :func:`utilities_by_state` by cycle (read-only)."""
    u = inputs.utilities
    norms = u.general_population
    age = params[population.start_age][:, None] + grid.times_years[None, :-1]
    male = 1.0 - params[population.share_female][:, None]
    general = (params[norms.intercept][:, None] + params[norms.male][:, None] * male
               + params[norms.age][:, None] * age + params[norms.age_squared][:, None] * age**2)
    factor = general / general[:, :1] if u.age_adjusted else np.ones((1, grid.n_cycles))
    cap = general if u.cap_at_general_population else np.full((1, grid.n_cycles), np.inf)
    for array in (factor, cap):
        array.flags.writeable = False
    return factor, cap


class PopulationValues:
    """What valuing does not depend on the strategy, for one population and parameter set:
    its cost model and the general population's utility by cycle. A model structure makes
    one per population and values each of its strategies with it.

    Parameters
    ----------
    inputs : ModelInputs
    population : Population
    params : ParameterSet
    grid : TimeGrid
    shared : SharedWork, optional
        Work shared with the other populations of an evaluation: the cost model of each
        body weight (a cost model depends on its population through that alone) and the
        utility by cycle of each start age and share female. None: its own.
    """

    def __init__(self, inputs: ModelInputs, population: Population, params: ParameterSet, grid: TimeGrid,
                 shared: SharedWork | None = None) -> None:
        self.inputs, self.population, self.params, self.grid = inputs, population, params, grid
        self._shared = SharedWork() if shared is None else shared
        body = population.body_weight_kg
        self.costs = self._shared.get(("costs", None if body is None else (body.mean, body.sd)),
                                      lambda: CostModel(inputs, params, population))

    @cached_property
    def discount_rates(self) -> tuple[float, float] | None:
        """The discount rates of costs and effects, where every sample has the same (None
        where they vary: a one-way analysis of them)."""
        perspective = self.inputs.perspective
        rates = [self.params[perspective.discount_rate_costs], self.params[perspective.discount_rate_effects]]
        if any((rate != rate[0]).any() for rate in rates):
            return None
        return float(rates[0][0]), float(rates[1][0])

    @cached_property
    def state_sum_weights(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The weights of the :class:`~markov.engine.StateSums` that :func:`value_trace`
        takes in place of passing over a trace: :func:`~markov.outcomes.state_weights` at
        the rate of costs, then at that of effects where it differs, stacked. None where
        the rates vary between samples: then a trace is valued from itself."""
        if self.discount_rates is None:
            return None
        method = self.inputs.analysis.cycle_correction
        found = [state_weights(self.grid, rate, method) for rate in dict.fromkeys(self.discount_rates)]
        return np.concatenate([on_occupancy for on_occupancy, _ in found]), np.concatenate([on for _, on in found])

    @property
    def general_population_utility(self) -> tuple[np.ndarray, np.ndarray]:
        """The factor and cap of :func:`utilities_by_state` by cycle (read-only)."""
        p = self.population
        return self._shared.get(("general_population_utility", p.start_age, p.share_female),
                                lambda: _general_population_utility(self.inputs, p, self.params, self.grid))


def value_trace(values: PopulationValues, trace: CohortTrace, states: Sequence[State], categories: Sequence[str],
                sums: StateSums | None = None) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Discounted costs by category, life-years and QALYs of a strategy of ``values``'
    population, each per sample and state. ``sums``, with the weights of
    :attr:`PopulationValues.state_sum_weights`, are the trace's sums written as it was built:
    values constant over time are then taken from them, not from another pass over the trace.

    Returns ``(costs, life_years, qalys)``: ``costs[category]`` and the other two are
    ``(n_samples, n_states)``.
    """
    inputs, params, grid, model = values.inputs, values.params, values.grid, values.costs
    perspective = inputs.perspective
    n, k = params.n_samples, len(states)
    per_year = {category: np.zeros((n, 1, k)) for category in categories}
    on_entry = {category: np.zeros((n, 1, k)) for category in categories}
    on_stop = {category: np.zeros((n, 1, k)) for category in categories}  # per patient leaving the state
    own: list[_OwnCourse] = []  # courses costed on their own occupancy
    qaly_on_entry = np.zeros((n, 1, k))
    kept = model.kept
    for j, state in enumerate(states):
        for course in state.all_courses:
            treatment = inputs.treatments[course.treatment]
            window = None if course.until is None else grid.cycles_before(course.until)
            amounts = [(course.drug_category, kept(model.drugs_per_year, treatment, course.drugs))]
            if course.other_costs:
                amounts += [("administration", kept(model.administration_per_year, treatment)),
                            ("procedures", kept(model.procedures, treatment)[1])]
            waste = kept(model.waste_per_stop, treatment, course.drugs) if course.wastage and window is None else None
            if course.occupancy is not None:
                own.append(_OwnCourse(j, amounts, (course.drug_category, waste), course.occupancy, course.entries))
                continue
            if waste is not None:
                on_stop[course.drug_category][:, 0, j] += waste
            for category, amount in amounts:
                if window is None:
                    per_year[category][:, 0, j] += amount
                else:  # by cycle: this category, only, is held per cycle from now on
                    if per_year[category].shape[1] == 1:
                        per_year[category] = np.repeat(per_year[category], grid.n_cycles, axis=1)
                    per_year[category][:, :, j] += amount[:, None] * window
        if state.entered_treatment is not None:
            treatment = inputs.treatments[state.entered_treatment]
            on_entry["procedures"][:, 0, j] = kept(model.procedures, treatment)[0]
            on_entry["adverse_events"][:, 0, j] = kept(model.adverse_events, treatment)
            qaly_on_entry[:, 0, j] = kept(adverse_event_qalys, inputs, treatment, params)
        for category, amount in state.on_entry.items():
            on_entry[category][:, 0, j] += amount
        if state.qalys_on_entry is not None:
            qaly_on_entry[:, 0, j] += state.qalys_on_entry
        if state.alive:
            per_year["monitoring_and_care"][:, 0, j] = kept(model.care_per_year, state.keys)
        elif perspective.terminal_care is not None:
            on_entry["terminal_care"][:, 0, j] = params[perspective.terminal_care]

    alive = np.array([1.0 if state.alive else 0.0 for state in states])
    utility, factor, cap = utilities_by_state(values, states)
    rates = np.column_stack([params[perspective.discount_rate_costs], params[perspective.discount_rate_effects]])
    # one accumulator per distinct discount rate and pair of them (a one-way analysis
    # varies them), shared by every value it discounts
    if (rates == rates[0]).all():  # as np.unique finds, without its sort
        distinct, group = rates[:1], np.zeros(n, dtype=int)
    else:
        distinct, group = np.unique(rates, axis=0, return_inverse=True)
    if sums is not None:  # made by the model's own steps: a mismatch is a defect, not an input error
        if len(distinct) > 1:
            raise ValueError("sums were made at one pair of discount rates, but the rates vary between samples")
        weights = values.state_sum_weights
        if weights is None or not all(np.array_equal(a, b) for a, b in zip(
                weights, (sums.occupancy_weights, sums.entries_weights), strict=True)):
            raise ValueError("sums were made with other weights than this population's discount rates and "
                             "cycle correction give")
        if np.isnan(sums.sums).any():
            raise ValueError("a state's sums were not written: every state of the trace must be")
    method = inputs.analysis.cycle_correction
    costs = {category: np.zeros((n, k)) for category in categories}
    life_years, qalys = np.zeros((n, k)), np.zeros((n, k))
    for g, (cost_rate, effect_rate) in enumerate(distinct):
        rows = slice(None) if len(distinct) == 1 else group.ravel() == g
        part = CohortTrace(trace.occupancy[rows], trace.entries[rows], trace.state_names)
        made = (None, None)
        if sums is not None:  # at the rate of costs, then of effects where it differs (state_sum_weights)
            made = tuple((sums.occupancy[:, :, 2 * i:2 * i + 2], sums.entries[:, :, i:i + 1])
                         for i in (0, 0 if effect_rate == cost_rate else 1))
        for_costs = Accumulator(part, grid, discount_rate=float(cost_rate), method=method, state_sums=made[0])
        for_effects = for_costs if effect_rate == cost_rate else Accumulator(
            part, grid, discount_rate=float(effect_rate), method=method, state_sums=made[1])
        constant = [category for category in categories if per_year[category].shape[1] == 1]
        if constant:  # the categories constant over time at once
            totals = for_costs.level_totals(np.stack([per_year[category][rows, 0] for category in constant]),
                                            np.stack([on_entry[category][rows, 0] for category in constant]))
            for category, total in zip(constant, totals, strict=True):
                costs[category][rows] = total
        for category in categories:
            if per_year[category].shape[1] > 1:  # held per cycle
                costs[category][rows] = for_costs.total(per_year[category][rows], on_entry[category][rows])
        for category in categories:
            if on_stop[category].any():  # drug wasted at each exit from a state
                costs[category][rows] += on_stop[category][rows, 0, :] * for_costs.exits
        if own:
            _cost_own_courses(own, costs, rows, grid, float(cost_rate), method)
        life_years[rows] = for_effects.total(alive)
        if factor is None:
            qalys[rows] = for_effects.total(utility[rows][:, None, :], qaly_on_entry[rows])
        else:  # factor and cap are per sample, or one row for every sample
            by_cycle = (a if a.shape[0] == 1 else a[rows] for a in (factor, cap))
            qalys[rows] = (for_effects.capped_total(utility[rows], *by_cycle)
                           + for_effects.total(on_entry=qaly_on_entry[rows]))
    return costs, life_years, qalys


@dataclass(frozen=True, eq=False)
class _OwnCourse:
    """A course costed on its own occupancy, reported with state ``column``: amounts per
    year by category, and the drug wasted per stop (category, amount or None)."""

    column: int
    amounts: list[tuple[str, np.ndarray]]
    waste: tuple[str, np.ndarray | None]
    occupancy: np.ndarray
    entries: np.ndarray


def _cost_own_courses(own: list[_OwnCourse], costs: dict[str, np.ndarray], rows, grid: TimeGrid, rate: float,
                      method: str) -> None:
    """Add the courses costed on their own occupancy to ``costs`` (samples ``rows``)."""
    for course in own:
        # each course a trace of one state, seen in place (no copy of its occupancy)
        trace = CohortTrace(course.occupancy[rows][:, :, None], course.entries[rows][:, :, None], ("course",))
        accumulator = Accumulator(trace, grid, discount_rate=rate, method=method)
        for category, amount in course.amounts:
            costs[category][rows, course.column] += amount[rows] * accumulator.years[:, 0]
        category, waste = course.waste
        if waste is not None and waste.any():
            costs[category][rows, course.column] += waste[rows] * accumulator.exits[:, 0]

"""The advanced-HCC treatment-sequencing model.

For each population and strategy: a first line, the shares of those progressing who
start each second-line treatment, then best supportive care (BSC) until death. Each
line's clock restarts when a patient enters it (:func:`markov.run_sequencing`); its
progression-free curve ends in progression or death, split by the line's
pre-progression death share. Each second-line option is its own state (its costs stay
its own), entered by its share of those progressing on the first line; the rest enter
BSC directly. BSC's clock restarts too, and the model is linear in the cohort, so BSC is
one state fed by the first line and every option: one convolution of all its entries,
where a sequence per option would need one each.

General-population mortality is a floor on every cycle's probability of death: the
per-cycle event probability of each line and of BSC is raised to the life table's if
lower, and the share of events that are deaths is raised so that deaths alone reach it.
Later lines use the table from the cohort's starting age (their clocks restart), which
understates the floor there; it binds nowhere in the base case.

A strategy with ``post_progression_calibrated_to`` gets an exponential BSC death rate
solved, per sample, so that its model OS median equals the named strategy's reported
median (:func:`_calibrate_exit_rate`).

States reported: ``progression_free_on_treatment``, ``progression_free_off_treatment``
(first line, split by time on treatment), one ``second_line_<treatment>`` per option,
``best_supportive_care`` and ``dead``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from .. import _engine
from .._validate import InputError
from ..outcomes.costing import Pack, expected_cost_per_administration, weight_nodes
from ..engine import CohortTrace, add_last_line, add_post_progression
from ..grid import DAYS_PER_YEAR, TimeGrid
from ..outcomes.accumulate import Accumulator
from ..inputs.load import ModelInputs, ParameterSet
from ..inputs.schema import (
    CalibratedCurve,
    Line,
    Population,
    PublishedCurve,
    Strategy,
    Treatment,
)
from ..survival import (
    FAMILIES,
    TIME_UNIT_YEARS,
    AcceleratedFailureTime,
    GeneralPopulationSurvival,
    LifeTable,
    Mixture,
    ProportionalHazards,
    SurvivalCurve,
    calibrate,
)

TIME_UNIT_MONTHS = {unit: years * 12.0 for unit, years in TIME_UNIT_YEARS.items()}

COST_CATEGORIES = (
    "first_line_drugs", "second_line_drugs", "administration", "procedures",
    "monitoring_and_care", "adverse_events", "terminal_care",
)
PF_ON, PF_OFF, BSC, DEAD = (
    "progression_free_on_treatment", "progression_free_off_treatment", "best_supportive_care", "dead",
)


@dataclass
class StrategyResult:
    """Discounted totals per sample for one strategy, with its trace (None when
    evaluated with ``keep_traces=False``)."""

    population: str
    strategy: str
    label: str
    trace: CohortTrace | None
    costs: dict[str, np.ndarray]  # category -> (n_samples, n_states)
    life_years: np.ndarray  # (n_samples, n_states)
    qalys: np.ndarray  # (n_samples, n_states)
    floored_cycles: int = 0
    os_calibration_unreachable: int = 0

    @property
    def total_cost(self) -> np.ndarray:
        return sum(values.sum(axis=1) for values in self.costs.values())


# ---------------------------------------------------------------------------------
# Curves
# ---------------------------------------------------------------------------------

def build_curves(population: Population, params: ParameterSet) -> dict[str, SurvivalCurve]:
    """Every named curve of a population, for the parameter sets (times in years)."""
    curves: dict[str, SurvivalCurve] = {}

    def build(name: str, chain: tuple[str, ...] = ()) -> SurvivalCurve:
        if name in curves:
            return curves[name]
        if name in chain:
            raise InputError(f"curves: {' -> '.join(chain + (name,))}: a curve cannot refer to itself")
        spec = population.curves[name]
        if isinstance(spec, CalibratedCurve):
            landmarks = [(params.years(mark.time), params[mark.survival]) for mark in spec.landmarks]
            median = None if spec.median is None else params.years(spec.median)
            curve = calibrate(spec.family, time_unit="years", median=median, landmarks=landmarks)
        elif isinstance(spec, PublishedCurve):
            values = {key: params[ref] for key, ref in spec.parameters.items()}
            curve = FAMILIES[spec.family](time_unit=spec.time_unit, **values)
        else:
            reference = build(spec.reference, chain + (name,))
            if spec.hazard_ratio is not None:
                treated = ProportionalHazards(reference, params[spec.hazard_ratio])
            else:
                treated = AcceleratedFailureTime(reference, params[spec.acceleration_factor])
            if spec.applies_to_share is None:
                curve = treated
            else:
                share = params[spec.applies_to_share]
                curve = Mixture([reference, treated], [1.0 - share, share])
        curves[name] = curve
        return curve

    for name in population.curves:
        build(name)
    return curves


@dataclass
class _Lines:
    """A strategy's trace up to best supportive care: the first line (split by time on
    treatment) and second-line states filled in, BSC and dead not yet."""

    states: list[str]
    occupancy: np.ndarray  # (n_samples, n_time_points, n_states)
    entries: np.ndarray
    bsc_entries: np.ndarray  # (n_samples, n_time_points), from the first line and every option
    deaths: np.ndarray  # (n_samples, n_time_points), so far
    floored: int  # cycles floored by general-population mortality


def _floor(survival: np.ndarray, death_share, population_survival: np.ndarray):
    """A line's curve and per-cycle death share with general-population mortality as a
    floor on each cycle's probability of death (compiled, one pass). Returns (curve,
    death share, floored cycles)."""
    return _engine.floor_survival(survival, np.ascontiguousarray(death_share, dtype=np.float64), population_survival)


def _calibrate_exit_rate(lines: _Lines, grid: TimeGrid, median_years: np.ndarray) -> tuple[np.ndarray, int]:
    """The constant death rate (per year) in best supportive care that puts the model's OS
    median at ``median_years``, per sample, and the number of samples where no rate can
    (the first and second lines alone put the median on the wrong side of the target:
    there the rate goes to its bound, 1e-6 or 1e4 per year, the nearest the model can get).

    Entries into BSC do not depend on its survival, so OS(t) = (alive outside BSC)(t) +
    Σ_u e(u)·exp(−λ(t − u)), from the lines alone; the median is read by linear
    interpolation between grid points (as the calibration table reads it), which is
    monotone in λ: bisection on log λ, compiled, one sample at a time (so a sample's
    result does not depend on the other samples computed with it).
    """
    times, step = grid.times_years, grid.cycle_length_years
    k = np.floor(median_years / step).astype(np.intp)
    if (k + 1 >= times.size).any():
        raise InputError(f"an OS median target of {float(median_years.max())!r} years lies beyond the horizon")
    rows = np.arange(k.size)
    # alive outside BSC: every state filled so far (all but BSC and dead, the last two)
    outside = np.column_stack([lines.occupancy[rows, point, :-2].sum(axis=1) for point in (k, k + 1)])
    w = (times[k + 1] - median_years) / step
    rate, unreachable = _engine.median_exit_rate(lines.bsc_entries, outside, k, w, step, np.log(1e-6), np.log(1e4), 80)
    return rate, int(np.count_nonzero(unreachable))


# ---------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------

class CostModel:
    """Per-year and per-entry costs of treatments in one perspective."""

    def __init__(self, inputs: ModelInputs, params: ParameterSet, population: Population) -> None:
        self.inputs, self.params = inputs, params
        self.perspective = inputs.perspective
        body = population.body_weight_kg
        self.weights = weight_nodes(params[body.mean], params[body.sd])
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

    def state_per_year(self, state: str) -> np.ndarray:
        p = self.params
        total = np.zeros(p.n_samples)
        for item in self.perspective.state_costs.get(state, []):
            total = total + (p[item.cost] / p.years(item.every) if item.every is not None else p.per_year(item.cost))
        return total


# ---------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------

class HCCModel:
    """The HCC sequencing model of one analysis (see :func:`markov.params.load_analysis`).

    Examples
    --------
    >>> from markov.params import load_analysis
    >>> model = HCCModel(load_analysis())
    >>> result = model.evaluate(model.inputs.base_case())  # doctest: +SKIP
    """

    def __init__(self, inputs: ModelInputs) -> None:
        self.inputs = inputs
        analysis = inputs.analysis
        self.grid = TimeGrid.from_horizon(analysis.horizon_years, analysis.cycle_length_days / DAYS_PER_YEAR)

    @cached_property
    def life_table(self) -> LifeTable:
        """The perspective's life table, read from its files once, not at every evaluation."""
        return LifeTable.load(self.inputs.perspective.life_table)

    def evaluate(self, params: ParameterSet, keep_traces: bool = True) -> list[StrategyResult]:
        """Every population and strategy for the parameter sets ``params``. Without
        ``keep_traces`` each strategy's trace is dropped once its totals are known, so a
        PSA chunk holds one strategy's trace at a time, not all of them."""
        results = []
        for p_name, population in self.inputs.populations.items():
            curves = build_curves(population, params)
            gp = GeneralPopulationSurvival(self.life_table, params[population.start_age],
                                           params[population.share_female]).survival_on_grid(self.grid)
            calibrated: dict = {}
            for s_name, strategy in population.strategies.items():
                result = self._strategy(p_name, population, s_name, strategy, curves, gp, params, calibrated)
                results.append(result if keep_traces else dataclasses.replace(result, trace=None))
        return results

    # --- one strategy ---------------------------------------------------------------
    def _line(self, line: Line, curves, gp, params) -> tuple[np.ndarray, np.ndarray, int]:
        survival = curves[line.progression_free].survival_on_grid(self.grid)
        return _floor(survival, params[line.pre_progression_death_share], gp)

    def _post_progression(self, p_name, population, s_name, strategy, lines, curves, gp, params, calibrated):
        """Best-supportive-care survival on the grid (floored), the cycles floored, and the
        samples in which the OS median could not be reached. ``lines`` are the strategy's
        own (:meth:`_sequence`)."""
        n = params.n_samples
        anchor = strategy.post_progression_calibrated_to
        if anchor is None:
            name = strategy.post_progression_survival or population.post_progression_survival
            curve, _, floored = _floor(curves[name].survival_on_grid(self.grid), np.ones(n), gp)
            return curve, floored, 0
        if anchor not in calibrated:
            # the rate depends on the anchor's lines only, not on its BSC survival
            target = population.strategies[anchor]
            anchor_lines = lines if anchor == s_name else self._sequence(p_name, anchor, target, curves, gp, params)
            rate, unreachable = _calibrate_exit_rate(anchor_lines, self.grid, params.years(target.targets.os_median))
            curve = np.exp(-rate[:, None] * self.grid.times_years[None, :])
            floored_curve, _, floored = _floor(curve, np.ones(n), gp)
            calibrated[anchor] = (floored_curve, floored, unreachable)
        return calibrated[anchor]

    def _sequence(self, p_name, s_name, strategy, curves, gp, params) -> _Lines:
        """The strategy's first and second lines, and what they send to BSC and death."""
        n, grid = params.n_samples, self.grid
        first, first_death, floored = self._line(strategy.first_line, curves, gp, params)

        shares = [params[line.share] for line in strategy.second_line]
        no_second_line = 1.0 - sum(shares, np.zeros(n))
        if (no_second_line < -1e-12).any():
            i = int(np.argmin(no_second_line))
            raise InputError(f"{p_name}.{s_name}: second-line shares sum to {float(1 - no_second_line[i])!r} "
                             f"in sample {i}; shares of those progressing cannot exceed 1")

        names = [f"second_line_{line.treatment}" for line in strategy.second_line]
        if len(set(names)) != len(names):
            raise InputError(f"{p_name}.{s_name}.second_line: a treatment appears twice; combine its shares")
        states = [PF_ON, PF_OFF, *names, BSC, DEAD]
        # stored state by state, so that each state's series is written and read as one
        # contiguous block, and seen with a trace's axes (sample, time point, state)
        shape = (n, len(states), grid.n_cycles + 1)
        occupancy = np.empty(shape).transpose(0, 2, 1)  # every state is filled before use
        entries = np.zeros(shape).transpose(0, 2, 1)  # the first line's only entries are at t = 0
        entries[:, 0, 0] = 1.0
        on_treatment = self._time_on_treatment(strategy.first_line, first, curves, params)
        occupancy[:, :, 0] = on_treatment
        occupancy[:, :, 1] = first - on_treatment

        # everyone starts the first line at t = 0, so its exits are the falls of its curve
        leaving = first[:, :-1] - first[:, 1:]
        deaths = np.zeros_like(first)
        np.multiply(leaving, first_death, out=deaths[:, 1:])
        progressed = np.zeros_like(first)
        np.subtract(leaving, deaths[:, 1:], out=progressed[:, 1:])
        # each option starts its share of those progressing (the rest enter BSC); its own
        # exits are added to the deaths and to the entries into BSC
        bsc_entries = np.clip(no_second_line, 0.0, 1.0)[:, None] * progressed
        for j, (share, line) in enumerate(zip(shares, strategy.second_line, strict=True), start=2):
            second, second_death, more = self._line(line, curves, gp, params)
            floored += more
            add_last_line(occupancy, entries, j, share[:, None] * progressed, second, second_death, deaths, bsc_entries)
        return _Lines(states, occupancy, entries, bsc_entries, deaths, floored)

    def _strategy(self, p_name: str, population: Population, s_name: str, strategy: Strategy,
                  curves, gp, params: ParameterSet, calibrated: dict) -> StrategyResult:
        lines = self._sequence(p_name, s_name, strategy, curves, gp, params)
        bsc, floored, unreachable = self._post_progression(p_name, population, s_name, strategy, lines, curves, gp,
                                                           params, calibrated)
        add_post_progression(lines.occupancy, lines.entries, lines.bsc_entries, lines.deaths, bsc)
        trace = CohortTrace(lines.occupancy, lines.entries, tuple(lines.states))
        costs, life_years, qalys = self._outcomes(population, strategy, trace, params)
        return StrategyResult(p_name, s_name, strategy.label, trace, costs, life_years, qalys,
                              floored + lines.floored, unreachable)

    def _time_on_treatment(self, line: Line, progression_free: np.ndarray, curves, params) -> np.ndarray:
        tot = line.time_on_treatment
        curve = progression_free if tot.curve is None else np.minimum(
            curves[tot.curve].survival_on_grid(self.grid), progression_free)
        if tot.max_duration is not None:
            stopped = self.grid.times_years[None, :] >= params.years(tot.max_duration)[:, None]
            curve = np.where(stopped, 0.0, curve)
        return np.ascontiguousarray(curve)

    # --- costs and QALYs --------------------------------------------------------------
    def _outcomes(self, population: Population, strategy: Strategy, trace: CohortTrace, params: ParameterSet):
        inputs = self.inputs
        perspective, utilities = inputs.perspective, inputs.utilities
        model = CostModel(inputs, params, population)
        n, states = params.n_samples, trace.state_names
        index = {name: i for i, name in enumerate(states)}

        per_year = {category: np.zeros((n, 1, len(states))) for category in COST_CATEGORIES}
        on_entry = {category: np.zeros((n, 1, len(states))) for category in COST_CATEGORIES}
        qaly_on_entry = np.zeros((n, 1, len(states)))
        ae = utilities.adverse_events
        ae_loss = params[ae.disutility] * params.years(ae.duration)

        first = inputs.treatments[strategy.first_line.treatment]
        per_year["first_line_drugs"][:, 0, index[PF_ON]] = model.drugs_per_year(first)
        per_year["administration"][:, 0, index[PF_ON]] = model.administration_per_year(first)
        start, recurring = model.procedures(first)
        on_entry["procedures"][:, 0, index[PF_ON]] = start
        per_year["procedures"][:, 0, index[PF_ON]] = recurring
        on_entry["adverse_events"][:, 0, index[PF_ON]] = model.adverse_events(first)
        qaly_on_entry[:, 0, index[PF_ON]] = -ae_loss * self._ae_rate(first, params)
        for line in strategy.second_line:
            j = index[f"second_line_{line.treatment}"]
            treatment = inputs.treatments[line.treatment]
            per_year["second_line_drugs"][:, 0, j] = model.drugs_per_year(treatment)
            per_year["administration"][:, 0, j] = model.administration_per_year(treatment)
            start, recurring = model.procedures(treatment)
            on_entry["procedures"][:, 0, j] = start
            per_year["procedures"][:, 0, j] = recurring
            on_entry["adverse_events"][:, 0, j] = model.adverse_events(treatment)
            qaly_on_entry[:, 0, j] = -ae_loss * self._ae_rate(treatment, params)
            per_year["monitoring_and_care"][:, 0, j] = model.state_per_year("second_line")
        for state in (PF_ON, PF_OFF):
            per_year["monitoring_and_care"][:, 0, index[state]] = model.state_per_year("progression_free")
        per_year["monitoring_and_care"][:, 0, index[BSC]] = model.state_per_year("best_supportive_care")
        on_entry["terminal_care"][:, 0, index[DEAD]] = params[perspective.terminal_care]

        alive = np.ones(len(states))
        alive[index[DEAD]] = 0.0
        utility = self._utilities(population, states, params)
        rates = np.column_stack([params[perspective.discount_rate_costs], params[perspective.discount_rate_effects]])
        # one accumulator per distinct discount rate and pair of them (a one-way analysis
        # varies them), shared by every value it discounts
        distinct, group = np.unique(rates, axis=0, return_inverse=True)
        method = self.inputs.analysis.cycle_correction
        costs = {category: np.zeros((n, len(states))) for category in COST_CATEGORIES}
        life_years, qalys = np.zeros((n, len(states))), np.zeros((n, len(states)))
        for g, (cost_rate, effect_rate) in enumerate(distinct):
            rows = slice(None) if len(distinct) == 1 else group.ravel() == g

            def pick(values, rows=rows):  # the samples ``rows`` of values given per sample
                return values if values.ndim < 3 or values.shape[0] == 1 else values[rows]

            part = CohortTrace(trace.occupancy[rows], trace.entries[rows], states)
            for_costs = Accumulator(part, self.grid, discount_rate=float(cost_rate), method=method)
            for_effects = for_costs if effect_rate == cost_rate else Accumulator(
                part, self.grid, discount_rate=float(effect_rate), method=method)
            for category in COST_CATEGORIES:
                costs[category][rows] = for_costs.total(pick(per_year[category]), pick(on_entry[category]))
            life_years[rows] = for_effects.total(alive)
            qalys[rows] = for_effects.total(pick(utility), pick(qaly_on_entry))
        return costs, life_years, qalys

    @staticmethod
    def _ae_rate(treatment: Treatment, params: ParameterSet) -> np.ndarray:
        return sum((params[rate] for rate in treatment.adverse_events.values()), np.zeros(params.n_samples))

    def _utilities(self, population: Population, states, params: ParameterSet) -> np.ndarray:
        """Utility per year by state: ``(n, 1, n_states)``, or by cycle when adjusted for
        age or capped at the general population's."""
        u = self.inputs.utilities
        by_state = {PF_ON: u.progression_free_on_treatment, PF_OFF: u.progression_free_off_treatment,
                    BSC: u.best_supportive_care}
        values = np.zeros((params.n_samples, 1, len(states)))
        for j, state in enumerate(states):
            ref = u.second_line if state.startswith("second_line_") else by_state.get(state)
            if ref is not None:
                values[:, 0, j] = params[ref]
        if not (u.age_adjusted or u.cap_at_general_population):
            return values
        norms = u.general_population
        age = params[population.start_age][:, None] + self.grid.times_years[None, :-1]
        male = 1.0 - params[population.share_female][:, None]
        general = (params[norms.intercept][:, None] + params[norms.male][:, None] * male
                   + params[norms.age][:, None] * age + params[norms.age_squared][:, None] * age**2)
        if u.age_adjusted:
            values = values * (general / general[:, :1])[:, :, None]
        if u.cap_at_general_population:
            values = np.minimum(values, general[:, :, None])
        return values


# ---------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------

def results_table(results: list[StrategyResult], sample: int | None = None) -> pd.DataFrame:
    """One row per population and strategy: cost by category, LYs, QALYs, and the
    totals by state. ``sample=None`` averages over samples (the PSA means)."""
    rows = []
    for result in results:
        def pick(values: np.ndarray) -> np.ndarray:  # (n_samples, n_states) -> (n_states,)
            return values.mean(axis=0) if sample is None else values[sample]

        costs = {category: pick(values) for category, values in result.costs.items()}
        life_years, qalys = pick(result.life_years), pick(result.qalys)
        row = {"population": result.population, "strategy": result.strategy, "label": result.label,
               "cost": float(sum(values.sum() for values in costs.values())),
               "life_years": float(life_years.sum()), "qalys": float(qalys.sum())}
        row.update({f"cost_{category}": float(values.sum()) for category, values in costs.items()})
        for j, state in enumerate(result.trace.state_names):
            if state != DEAD:
                row[f"life_years_{state}"] = float(life_years[j])
                row[f"qalys_{state}"] = float(qalys[j])
        for j, state in enumerate(result.trace.state_names):
            row[f"cost_{state}"] = float(sum(values[j] for values in costs.values()))
        row["general_population_floor_cycles"] = result.floored_cycles
        row["os_calibration_unreachable_samples"] = result.os_calibration_unreachable
        rows.append(row)
    return pd.DataFrame(rows)


def per_sample_table(results: list[StrategyResult]) -> pd.DataFrame:
    """Long table: population, strategy, sample, cost (total and by category), LYs, QALYs."""
    frames = []
    for result in results:
        n = result.life_years.shape[0]
        frame = pd.DataFrame({"population": result.population, "strategy": result.strategy,
                              "sample": np.arange(n), "cost": result.total_cost,
                              "life_years": result.life_years.sum(axis=1), "qalys": result.qalys.sum(axis=1)})
        for category, values in result.costs.items():
            frame[f"cost_{category}"] = values.sum(axis=1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def model_survival(result: StrategyResult, sample: int = 0) -> dict[str, np.ndarray]:
    """Model-implied overall and (first-line) progression-free survival of one sample."""
    occupancy = result.trace.occupancy[sample]
    states = result.trace.state_names
    return {"OS": 1.0 - occupancy[:, states.index(DEAD)],
            "PFS": occupancy[:, states.index(PF_ON)] + occupancy[:, states.index(PF_OFF)]}


def _time_at(survival: np.ndarray, times: np.ndarray, level: float) -> float:
    """First time the (non-increasing) curve reaches ``level``, by linear interpolation."""
    below = np.nonzero(survival <= level)[0]
    if below.size == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(times[0])
    return float(np.interp(level, [survival[i], survival[i - 1]], [times[i], times[i - 1]]))


def calibration_table(model: HCCModel, results: list[StrategyResult]) -> pd.DataFrame:
    """Reported medians and landmarks beside the model's (base case, sample 0)."""
    inputs, months = model.inputs, model.grid.times_years * 12.0
    rows = []
    for result in results:
        targets = inputs.populations[result.population].strategies[result.strategy].targets
        if targets is None:
            continue
        curves = model_survival(result)
        for outcome, median, landmarks in (("OS", targets.os_median, targets.os_landmarks),
                                           ("PFS", targets.pfs_median, targets.pfs_landmarks)):
            base = {"population": result.population, "strategy": result.strategy, "label": result.label,
                    "outcome": outcome, "source": targets.source}
            if median is not None:
                item = inputs.evidence[median].value
                to_months = TIME_UNIT_MONTHS[item.unit]
                low, high = item.ci95 if item.ci95 else (float("nan"), float("nan"))
                rows.append({**base, "measure": "median (months)", "reference": median,
                             "time_months": item.value * to_months, "survival": 0.5,
                             "reported": item.value * to_months, "reported_low": low * to_months,
                             "reported_high": high * to_months,
                             "model": _time_at(curves[outcome], months, 0.5)})
            for mark in landmarks:
                time = inputs.evidence[mark.time].value
                survival = inputs.evidence[mark.survival].value
                t = time.value * TIME_UNIT_MONTHS[time.unit]
                low, high = survival.ci95 if survival.ci95 else (float("nan"), float("nan"))
                rows.append({**base, "measure": f"survival at {t:g} months", "reference": mark.survival,
                             "time_months": t, "survival": survival.value, "reported": survival.value,
                             "reported_low": float("nan"), "reported_high": float("nan"),
                             "reported_ci_low": low, "reported_ci_high": high,
                             "model": float(np.interp(t, months, curves[outcome]))})
    return pd.DataFrame(rows)

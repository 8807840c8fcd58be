"""Checks across model files, run when an analysis is loaded: every name a file uses must
exist (treatments, curves, strategies, states, priced drugs and items), shares of one
group of patients may not sum above 1, and curves obey their rules at the point estimates.
Each error names the file, the place and the rule.
"""
from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from .._validate import InputError
from ..grid import DAYS_PER_YEAR, TimeGrid
from ..uncertainty import Fixed
from .curves import curve_references
from .draws import JointDraw, draw_range
from .schema import Perspective, TimeOnTreatment, Treatment, Utilities
from .structures import (
    CurveProbability,
    MarkovStrategy,
    PartitionedSurvivalStrategy,
    Population,
    SequencingStrategy,
    initial_occupancy,
    share_groups,
    strategy_curves,
    strategy_treatments,
)

#: Structures whose curves are floored at general-population mortality.
_FLOORED = ("sequencing", "partitioned_survival")


def check_structure(structure: str, treatments: dict[str, Treatment], populations: dict[str, Population],
                    perspective: Perspective, utilities: Utilities, places: dict[str, str],
                    cycle_length_years: float) -> None:
    """Names that must exist, and inputs that a structure or setting needs (a Markov
    matrix's cycle is the analysis's, ``cycle_length_years``)."""
    where_populations, where_costs = places["populations"], places["perspectives"]
    needs_demography = structure in _FLOORED or utilities.age_adjusted or utilities.cap_at_general_population
    if structure in _FLOORED and perspective.life_table is None:
        raise InputError(f"{where_costs}: perspective {perspective.label!r} has no life_table; the {structure} "
                         f"structure floors mortality at the general population's")
    used: dict[str, str] = {}
    for p_name, population in populations.items():
        here = f"{where_populations}: populations.{p_name}"
        _check_population(population, here, needs_demography, perspective, where_costs)
        if structure == "markov":
            _check_markov_population(population, here, cycle_length_years)
        for s_name, strategy in population.strategies.items():
            for field, curve in strategy_curves(strategy):
                if curve not in population.curves:
                    raise InputError(f"{here}.strategies.{s_name}.{field} = {curve!r}: no curve of that name in "
                                     f"this population")
            for t_name in strategy_treatments(strategy):
                if t_name not in treatments:
                    raise InputError(f"{here}.strategies.{s_name}: treatment {t_name!r} is unknown "
                                     f"(known: {', '.join(treatments)})")
                used.setdefault(t_name, p_name)
            for field, treatment, tot in _times_on_treatment(strategy):
                _check_time_on_treatment(treatments.get(treatment), tot, f"{here}.strategies.{s_name}.{field}")
            if isinstance(strategy, SequencingStrategy):
                _check_sequencing(population, s_name, strategy, here)
            elif isinstance(strategy, MarkovStrategy):
                _check_markov(population, s_name, strategy, treatments, here)
            elif isinstance(strategy, PartitionedSurvivalStrategy):
                _check_partitioned(strategy, f"{here}.strategies.{s_name}", perspective, utilities, places)
    for t_name, p_name in sorted(used.items()):
        _check_priced(t_name, treatments[t_name], perspective, where_costs)
        weight_based = any(c.dose_mg_per_kg or c.dose_by_weight for c in treatments[t_name].regimen)
        if weight_based and populations[p_name].body_weight_kg is None:
            raise InputError(f"{where_populations}: populations.{p_name}: needs body_weight_kg (treatment "
                             f"{t_name!r} is dosed by weight)")


def _times_on_treatment(strategy) -> list[tuple[str, str, TimeOnTreatment]]:
    """``(field, treatment, time on treatment)`` of every line option or partition that
    gives its own time on treatment."""
    if isinstance(strategy, SequencingStrategy):
        return [(f"lines[{k}].options[{j}].time_on_treatment", option.treatment, option.time_on_treatment)
                for k, line in enumerate(strategy.lines) for j, option in enumerate(line.options)
                if option.time_on_treatment.given]
    if isinstance(strategy, PartitionedSurvivalStrategy):
        return [(f"partitions[{k}].time_on_treatment", p.treatment, p.time_on_treatment)
                for k, p in enumerate(strategy.partitions) if p.time_on_treatment.given and p.treatment]
    return []


def _check_time_on_treatment(treatment: Treatment | None, tot: TimeOnTreatment, where: str) -> None:
    """A drug given its own time on treatment is a drug of the regimen, and a line's curve
    is used by some drug."""
    if treatment is None:  # an unknown treatment is reported on its own
        return
    drugs = [component.drug for component in treatment.regimen]
    for drug in tot.by_drug:
        if drug not in drugs:
            raise InputError(f"{where}.by_drug.{drug}: {drug!r} is not a drug of the treatment's regimen "
                             f"({', '.join(drugs) or 'none'}); a drug's own time on treatment needs a drug it costs")
    for drug in drugs:
        course = tot.for_drug(drug)
        if course.beyond_progression and course.curve is None:
            raise InputError(f"{where}.beyond_progression is true but drug {drug!r} has no time-on-treatment curve "
                             f"(neither the line's curve nor its own in by_drug): without one, its time on treatment "
                             f"is progression-free survival, which never goes beyond progression; give a curve")
    if tot.curve is not None and drugs and all(tot.by_drug.get(drug) and tot.by_drug[drug].curve for drug in drugs):
        raise InputError(f"{where}.curve = {tot.curve!r}: every drug of the regimen has its own curve in by_drug, so "
                         f"the line's curve is used by none; remove it (the on-treatment state holds those on at least "
                         f"one drug)")


def _check_population(population: Population, here: str, needs_demography: bool, perspective: Perspective,
                      where_costs: str) -> None:
    comparison = population.comparison
    if comparison.intervention == comparison.comparator:
        raise InputError(f"{here}.comparison: the intervention and the comparator are both "
                         f"{comparison.comparator!r}; they must differ")
    for role, name in comparison:
        if name not in population.strategies:
            raise InputError(f"{here}.comparison.{role} = {name!r}: no strategy of that name "
                             f"(strategies: {', '.join(population.strategies)})")
    for c_name, spec in population.curves.items():
        for field, other in curve_references(spec).items():
            if other not in population.curves:
                raise InputError(f"{here}.curves.{c_name}.{field} = {other!r}: no curve of that name in this "
                                 f"population")
        if spec.uses_general_population and perspective.life_table is None:
            raise InputError(f"{where_costs}: perspective {perspective.label!r} has no life_table; curve {c_name!r} "
                             f"of {here} uses general-population mortality")
        needs_demography = needs_demography or spec.uses_general_population
    if needs_demography and (population.start_age is None or population.share_female is None):
        raise InputError(f"{here}: needs start_age and share_female (general-population mortality or utility "
                         f"norms are used)")


def _check_sequencing(population: Population, s_name: str, strategy: SequencingStrategy, here: str) -> None:
    where = f"{here}.strategies.{s_name}.post_progression"
    survival = strategy.post_progression.survival or population.post_progression_survival
    if survival is None:
        raise InputError(f"{where}.survival: none given, and the population has no post_progression_survival")
    if survival not in population.curves:
        raise InputError(f"{here}: post_progression_survival = {survival!r}: no curve of that name in this "
                         f"population")
    anchor = strategy.post_progression.calibrated_to
    if anchor is not None:
        for name in dict.fromkeys((s_name, anchor)):
            by_option = [option for line in population.strategies[name].lines for option in line.options
                         if option.post_progression_survival] if name in population.strategies else []
            if by_option:
                raise InputError(f"{where}.calibrated_to = {anchor!r}: calibration solves one post-progression "
                                 f"survival, but strategy {name!r} gives options their own "
                                 f"(post_progression_survival of {by_option[0].treatment!r})")
        target = population.strategies.get(anchor)
        if target is None or target.targets is None or target.targets.os_median is None:
            raise InputError(f"{where}.calibrated_to = {anchor!r}: needs a strategy of this population with "
                             f"targets.os_median")


def _check_markov_population(population: Population, here: str, cycle_length_years: float) -> None:
    """A Markov population's states and transition matrices."""
    states = population.states
    if "dead" not in states or len(set(states)) != len(states):
        raise InputError(f"{here}.states = {states}: the markov structure needs distinct states, 'dead' among them")
    for name, matrix in population.transitions.items():
        where = f"{here}.transitions.{name}"
        if not math.isclose(matrix.cycle_length_years, cycle_length_years, rel_tol=1e-9):
            raise InputError(f"{where}.cycle_length_years = {matrix.cycle_length_years!r}: the analysis's cycles are "
                             f"{cycle_length_years!r} years (cycle_length_days); transition probabilities must be "
                             f"given per cycle of the analysis (they are never converted)")
        for origin, row in matrix.rows.items():
            for state in (origin, *row):
                if state not in states:
                    raise InputError(f"{where}.{matrix.form}.{origin}: state {state!r} is not one of the "
                                     f"population's states {states}")
            if origin == "dead":
                raise InputError(f"{where}.{matrix.form}.dead: dead is absorbing and has no row")
            for target, entry in row.items():
                if isinstance(entry, CurveProbability) and entry.curve not in population.curves:
                    raise InputError(f"{where}.probabilities.{origin}.{target}.curve = {entry.curve!r}: no curve "
                                     f"of that name in this population")


def _check_markov(population: Population, s_name: str, strategy: MarkovStrategy, treatments: dict[str, Treatment],
                  here: str) -> None:
    states = population.states
    where = f"{here}.strategies.{s_name}"
    for k, period in enumerate(strategy.periods):
        if period.transitions not in population.transitions:
            raise InputError(f"{where}.periods[{k}].transitions = {period.transitions!r}: no transition matrix of "
                             f"that name (matrices: {', '.join(population.transitions) or 'none'})")
    named = [(f"treatments[{k}].states", state) for k, item in enumerate(strategy.treatments) for state in item.states]
    named += [("initial", state) for state in strategy.initial or {}]
    for field, state in named:
        if state not in states:
            raise InputError(f"{where}.{field}: {state!r} is not one of the population's states {states}")
        if field.startswith("treatments") and state == "dead":
            raise InputError(f"{where}.{field}: a treatment cannot be given in 'dead'")
    for k, item in enumerate(strategy.treatments):
        treatment = treatments[item.treatment]
        if treatment.adverse_events or any(p.at_start is not None for p in treatment.procedures):
            raise InputError(f"{where}.treatments[{k}].treatment = {item.treatment!r}: has one-off costs on starting "
                             f"(adverse_events or procedures at_start); the markov structure costs a treatment per "
                             f"year in its states and has no start of treatment to count them at")


def check_transitions(inputs, where: str) -> None:
    """Every row of every Markov matrix, and every initial occupancy, sums to 1 at the
    point estimates (a curve's events counted as none: a row with a curve has a 'rest'
    that the model checks in every cycle); periods end in order."""
    if inputs.structure != "markov":
        return
    params = inputs.base_case()
    for p_name, population in inputs.populations.items():
        here = f"{where}: populations.{p_name}"
        for name, matrix in population.transitions.items():
            try:
                matrix.probabilities_by_row(params.__getitem__, lambda curve: np.zeros((1, 1)))
            except InputError as error:
                raise InputError(f"{here}.transitions.{name}.{error}") from None
        for s_name, strategy in population.strategies.items():
            if strategy.initial is not None:
                try:
                    initial_occupancy(strategy.initial, params.__getitem__)
                except InputError as error:
                    raise InputError(f"{here}.strategies.{s_name}.{error}") from None
            ends = [(k, float(params.years(period.until)[0])) for k, period in enumerate(strategy.periods[:-1])]
            for (_, before), (k, end) in pairwise(ends):
                if not end > before:
                    raise InputError(f"{here}.strategies.{s_name}.periods[{k}].until = {strategy.periods[k].until!r} "
                                     f"({end:g} years): must be later than the period before's ({before:g} years)")


def _check_partitioned(strategy: PartitionedSurvivalStrategy, where: str, perspective: Perspective,
                       utilities: Utilities, places: dict[str, str]) -> None:
    """Every state of a partitioned survival strategy has a utility and costs of care."""
    tables = ((places["utilities"], "by_state", utilities.by_state),
              (places["perspectives"], f"{perspective.label!r} state_costs", perspective.state_costs))
    for name, keys in strategy.states():
        for place, field, table in tables:
            if not any(key in table for key in keys):
                raise InputError(f"{place}: {field} has no entry for state {name!r} (of {where}); give one under "
                                 f"{' or '.join(repr(key) for key in keys)}")


def _check_priced(t_name: str, treatment: Treatment, perspective: Perspective, where: str) -> None:
    for component in treatment.regimen:
        if component.drug not in perspective.drug_prices:
            raise InputError(f"{where}: drug_prices has no price for {component.drug!r} (used by treatment "
                             f"{t_name!r})")
    for item in [a.item for a in treatment.administration] + [p.item for p in treatment.procedures]:
        if item not in perspective.unit_costs:
            raise InputError(f"{where}: unit_costs has no cost for {item!r} (used by treatment {t_name!r})")
    if perspective.oral_wastage is not None:
        for drug in perspective.oral_wastage.supply_days:
            if drug not in perspective.drug_prices:
                raise InputError(f"{where}: oral_wastage.supply_days.{drug}: drug_prices has no price for {drug!r}; "
                                 f"wastage is a share of a priced drug's supply")
    for event in treatment.adverse_events:
        if event not in perspective.adverse_event_costs:
            raise InputError(f"{where}: adverse_event_costs has no cost for {event!r} (used by treatment "
                             f"{t_name!r})")


def check_shares(inputs) -> None:
    """Shares of one group of patients (the options of a line …) may not sum above 1, at
    their point estimates or in any probabilistic draw
    (:func:`markov.inputs.structures.share_groups`)."""
    for p_name, population in inputs.populations.items():
        for s_name, strategy in population.strategies.items():
            for group in share_groups(strategy):
                values = [(ref, inputs.evidence[ref].value.value) for ref in group]
                total = sum(value for _, value in values)
                if total > 1 + 1e-12:
                    listed = ", ".join(f"{ref} = {value!r}" for ref, value in values)
                    raise InputError(f"populations.{p_name}.strategies.{s_name}: shares sum to {total!r} "
                                     f"({listed}); shares of one group of patients cannot exceed 1")
                most = _largest_sum(inputs, group)
                if most > 1 + 1e-9:
                    listed = ", ".join(f"{ref} ({inputs.distributions[ref]})" for ref in group)
                    raise InputError(f"populations.{p_name}.strategies.{s_name}: shares {listed} can sum to {most:g} "
                                     f"in a probabilistic draw; shares of one group of patients cannot exceed 1: draw "
                                     f"them together (joint: a dirichlet over shares) or fix all but one")


def _largest_sum(inputs, group: list[str]) -> float:
    """The largest sum the draws of the shares ``group`` can reach: shares of one joint
    block sum to at most the block's total (the share it splits, at its largest)."""
    total, blocks = 0.0, {}
    for ref in group:
        drawn = inputs.distributions[ref]
        largest = draw_range(ref, inputs.evidence)[1]
        if isinstance(drawn, JointDraw):
            bound = draw_range(drawn.parent, inputs.evidence)[1] if drawn.parent else drawn.scale
            used = blocks.get(drawn.name, (0.0, bound))[0]
            blocks[drawn.name] = (used + largest, bound)
        else:
            total += largest
    return total + sum(min(used, bound) for used, bound in blocks.values())


def check_curves(inputs, where: str) -> None:
    """Each curve's rules at the point estimates, and the times that shape a curve for
    every sample alike (knots, cut points …) fixed in a probabilistic analysis.

    Parameters
    ----------
    inputs : ModelInputs
    where : str
        The populations file, named by every error.
    """
    base = inputs.base_case()
    for p_name, population in inputs.populations.items():
        for c_name, spec in population.curves.items():
            here = f"{where}: populations.{p_name}.curves.{c_name}"
            for field, ref in spec.shared_references().items():
                drawn = inputs.distributions[ref]
                if not isinstance(drawn, Fixed):
                    raise InputError(f"{here}.{field} = {ref!r}: varies in a probabilistic analysis ({drawn}), but it "
                                     f"places the curve for every sample alike; give it no ci95, se or range, or "
                                     f"distribution: {{type: fixed}}")
            spec.check(base, here)


def horizon_of(inputs) -> float:
    """The time horizon of the model grid of ``inputs``, in years (at or after ``horizon_years``)."""
    settings = inputs.analysis
    return TimeGrid.from_horizon(settings.horizon_years, settings.cycle_length_days / DAYS_PER_YEAR).horizon_years


def check_horizon(inputs, where: str) -> None:
    """The time horizon (``horizon_years``) holds every OS median a post-progression
    survival is calibrated to, at its estimate: the calibration cannot run otherwise."""
    horizon, base = horizon_of(inputs), inputs.base_case()
    for p_name, population in inputs.populations.items():
        for s_name, strategy in population.strategies.items():
            here = f"{where}: populations.{p_name}.strategies.{s_name}"
            post = getattr(strategy, "post_progression", None)
            anchor = population.strategies.get(post.calibrated_to) if post and post.calibrated_to else None
            if anchor is not None:
                median = float(base.years(anchor.targets.os_median)[0])
                if median >= horizon:
                    raise InputError(f"{here}.post_progression.calibrated_to = {post.calibrated_to!r}: its OS median "
                                     f"{anchor.targets.os_median} ({median:g} years) is not within the time horizon "
                                     f"({horizon:g} years); lengthen horizon_years (now "
                                     f"{inputs.analysis.horizon_years:g})")


def check_follow_up(inputs) -> None:
    """Every follow-up compared with patient-level data (``targets.os_data``) lies within
    the time horizon (``horizon_years``), as a comparison of the model with the data needs."""
    horizon = horizon_of(inputs) * 12.0
    for p_name, population in inputs.populations.items():
        for s_name, strategy in population.strategies.items():
            data = strategy.targets.os_data if strategy.targets is not None else None
            if data is not None and data.observed.follow_up_months > horizon + 1e-9:
                raise InputError(f"populations.{p_name}.strategies.{s_name}.targets.os_data: the follow-up compared "
                                 f"with the data ({data.observed.follow_up_months:g} months) is beyond the time horizon "
                                 f"({horizon:g} months); lengthen horizon_years (now "
                                 f"{inputs.analysis.horizon_years:g}) to compare the model with the data")

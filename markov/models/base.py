"""What every structure's model shares: the grid, the life table, general-population
survival, the cost categories, and evaluation population by population, populations
sharing what depends only on references they name alike (:class:`~markov.models.shared.SharedWork`)."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import numpy as np

from ..engine import exponential_survival, general_population_survival
from ..grid import DAYS_PER_YEAR, TimeGrid
from ..inputs import ModelInputs, ParameterSet
from ..inputs.schema import DrugCourse, TimeOnTreatment
from ..inputs.structures import Population
from ..survival import TIME_UNIT_YEARS, GeneralPopulationSurvival, LifeTable, SurvivalCurve
from .curves import Cohort, build_curves
from .protocol import StrategyResult
from .shared import SharedWork
from .valuation import COMMON_CATEGORIES, Course, PopulationValues


@dataclass
class DrugCourses:
    """A treatment's time on treatment since entry, by drug (:meth:`CohortModel.drug_courses`)."""

    on_state: np.ndarray  # on treatment and progression-free: the on-treatment state
    drugs: dict[str, np.ndarray]  # each drug's, beyond progression where it may go on (not yet capped by survival)
    treated: np.ndarray  # on at least one drug
    beyond: dict[str, bool]  # which drugs may go on beyond progression
    beyond_progression: bool  # whether any curve is still to be capped by survival


def _at_most(curve: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """``np.minimum(curve, limit)``, or ``curve`` itself where it is nowhere above ``limit``
    and has the result's shape: a time on treatment within its progression-free curve
    (the usual case) takes no new array, and keeps what was computed from it."""
    if curve.shape != np.broadcast_shapes(curve.shape, limit.shape):
        return np.minimum(curve, limit)
    # a curve that falls more slowly than its limit is above it from the first step on
    # (a time on treatment longer than progression-free survival): one check of that step
    # spares a pass over all
    if curve.shape[-1] > 1 and (curve[..., 1] > limit[..., 1]).any():
        return np.minimum(curve, limit)
    return curve if (curve <= limit).all() else np.minimum(curve, limit)


class CurvesOnGrid(Mapping[str, np.ndarray]):
    """A population's curves on the model grid, each evaluated once, on first use, and
    shared read-only by every strategy that uses it, and with the populations of
    ``shared`` that have the same curve object (:func:`~markov.models.curves.build_curves`)."""

    def __init__(self, curves: Mapping[str, SurvivalCurve], grid: TimeGrid, shared: SharedWork | None = None) -> None:
        self._curves, self._grid, self._values = curves, grid, {}
        self._shared = SharedWork() if shared is None else shared

    def __getitem__(self, name: str) -> np.ndarray:
        found = self._values.get(name)
        if found is None:
            found = self._values[name] = self._shared.for_objects("on_grid", (self._curves[name],), self._evaluate)
        return found

    def _evaluate(self, curve: SurvivalCurve) -> np.ndarray:
        hazard = curve.constant_hazard()  # an exponential: a product a point, not an exponential
        found = curve.survival_on_grid(self._grid) if hazard is None else exponential_survival(
            hazard / TIME_UNIT_YEARS[curve.time_unit], self._grid)
        found.flags.writeable = False
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._curves)

    def __len__(self) -> int:
        return len(self._curves)


@dataclass
class Prepared:
    """One population's curves and general-population survival for a parameter set: what
    a structure's :meth:`CohortModel.population` prepares (a structure may add to it)."""

    name: str
    spec: Population
    params: ParameterSet
    curves: dict[str, SurvivalCurve]
    general_population: np.ndarray
    on_grid: CurvesOnGrid  # the curves on the grid
    values: PopulationValues  # what valuing its strategies shares


PreparedT = TypeVar("PreparedT", bound=Prepared)


class CohortModel:
    """A model of one analysis (:func:`markov.inputs.load_analysis`); subclasses build one
    strategy's result (:meth:`strategy`) from what :meth:`population` prepares once per
    population and parameter set."""

    def __init__(self, inputs: ModelInputs) -> None:
        self.inputs = inputs
        analysis = inputs.analysis
        self.grid = TimeGrid.from_horizon(analysis.horizon_years, analysis.cycle_length_days / DAYS_PER_YEAR)

    @cached_property
    def life_table(self) -> LifeTable:
        """The perspective's life table, read from its files once, not at every evaluation."""
        return LifeTable.load(self.inputs.perspective.life_table)

    def general_population_curve(self, population: Population, params: ParameterSet,
                                 shared: SharedWork | None = None) -> GeneralPopulationSurvival:
        """General-population survival of the cohort (years since the start): one per
        start age and share female of ``shared``."""
        shared = SharedWork() if shared is None else shared
        return shared.get(("general_population", population.start_age, population.share_female),
                          lambda: GeneralPopulationSurvival(self.life_table, params[population.start_age],
                                                            params[population.share_female]))

    def general_population(self, population: Population, params: ParameterSet,
                           shared: SharedWork | None = None) -> np.ndarray:
        """General-population survival of the cohort on the grid, ``(n_samples, n_times)``,
        read-only: the curve's (:meth:`general_population_curve`) to rounding, by the
        compiled :func:`~markov.engine.general_population_survival`; one per start age
        and share female of ``shared``."""
        shared = SharedWork() if shared is None else shared

        def on_grid() -> np.ndarray:
            curve = self.general_population_curve(population, params, shared)
            survival = general_population_survival(curve.start_age, curve.share_female, self.grid.times_years,
                                                   *(curve.table.force_of_mortality(sex) for sex in ("female", "male")))
            survival.flags.writeable = False
            return survival

        return shared.get(("general_population_on_grid", population.start_age, population.share_female), on_grid)

    def curves(self, population: Population, params: ParameterSet, shared: SharedWork | None = None
               ) -> dict[str, SurvivalCurve]:
        """The population's curves for ``params`` (:func:`~markov.models.curves.build_curves`).

        Curves that use general-population mortality get the cohort's (the perspective's
        life table, the population's start age and share female; of ``shared``) and the
        model's cycle; every structure builds its curves here so that every kind works in it.
        """
        demography = population.start_age is not None and population.share_female is not None
        cohort = Cohort(self.general_population_curve(population, params, shared), self.grid.cycle_length_years) \
            if self.inputs.perspective.life_table and demography else None
        return build_curves(population.curves, params, cohort, shared=shared,
                            cohort_key=(population.start_age, population.share_female) if cohort else None)

    def time_on_treatment(self, tot: TimeOnTreatment | DrugCourse, progression_free: np.ndarray,
                          on_grid: Mapping[str, np.ndarray], params: ParameterSet) -> np.ndarray:
        """Time on treatment since entry on the grid: its own curve (of ``on_grid``), never
        above progression-free survival unless it goes on beyond progression (then as
        given: the caller caps it at survival), stopped at the maximum durations.
        ``on_grid`` maps curve names to curves on the grid (:class:`CurvesOnGrid`)."""
        course = tot.for_drug(None) if isinstance(tot, TimeOnTreatment) else tot
        own = False  # whether ``curve`` is a new array of this call's, to be stopped in place
        if course.curve is None:
            curve = progression_free
        elif course.beyond_progression:
            curve = on_grid[course.curve]
        else:
            curve = _at_most(on_grid[course.curve], progression_free)
            own = curve is not on_grid[course.curve]
        for max_duration in course.max_durations:
            stopped = self.grid.times_years[None, :] >= params.years(max_duration)[:, None]
            if own and curve.shape == stopped.shape:
                curve[stopped] = 0.0
            else:
                curve, own = np.where(stopped, 0.0, curve), True
        return np.ascontiguousarray(curve)

    def drug_courses(self, treatment: str, tot: TimeOnTreatment, progression_free: np.ndarray,
                     on_grid: Mapping[str, np.ndarray], params: ParameterSet) -> DrugCourses:
        """Each drug's time on treatment since entry (:meth:`time_on_treatment`), on at
        least one of them, and on treatment while progression-free (the on-treatment
        state): whoever stops the longer-lasting drug has stopped the other (stopping
        times nested), so the share on any drug is the largest of the drugs' shares."""
        drugs = dict.fromkeys(component.drug for component in self.inputs.treatments[treatment].regimen)
        courses = {drug: tot.for_drug(drug) for drug in drugs}
        on = {drug: self.time_on_treatment(course, progression_free, on_grid, params) for drug, course in courses.items()}
        if on:
            first, *others = on.values()
            treated = first.copy()
            for curve in others:
                np.maximum(treated, curve, out=treated)
        else:
            treated = self.time_on_treatment(tot, progression_free, on_grid, params)
        beyond = {drug: course.beyond_progression for drug, course in courses.items()}
        return DrugCourses(np.ascontiguousarray(_at_most(treated, progression_free)), on, treated, beyond,
                           tot.beyond_progression or any(beyond.values()))

    @staticmethod
    def own_courses(found: DrugCourses, treatment: str, category: str, occupancy_of, entries: np.ndarray,
                    alive: np.ndarray | None) -> tuple[Course, ...]:
        """The courses of a treatment costed on its drugs' own time on treatment: one per
        drug, and one for what goes with being on any drug (administration, recurring
        procedures, costs per period). ``occupancy_of`` turns a curve since entry into
        occupancy (by the line's entries); a curve that goes on beyond progression is
        capped at ``alive``, those alive of the cohort that entered (None where no curve
        goes on beyond progression)."""
        courses = []
        for drug, curve in found.drugs.items():
            occupancy = occupancy_of(curve)
            occupancy = np.minimum(occupancy, alive) if found.beyond[drug] else occupancy
            courses.append(Course(treatment, category, drugs=(drug,), other_costs=False, occupancy=occupancy,
                                  entries=entries))
        treated = occupancy_of(found.treated)
        treated = np.minimum(treated, alive) if found.beyond_progression else treated
        courses.append(Course(treatment, category, drugs=(), occupancy=treated, entries=entries))
        return tuple(courses)

    @cached_property
    def categories(self) -> tuple[str, ...]:
        """Cost categories of every result: drug acquisition by line (or structure) first,
        in the order met, then :data:`~markov.models.valuation.COMMON_CATEGORIES`."""
        drugs = {name: None for population in self.inputs.populations.values()
                 for strategy in population.strategies.values() for name in self.drug_categories(strategy)}
        return (*drugs, *COMMON_CATEGORIES)

    def drug_categories(self, strategy) -> list[str]:
        raise NotImplementedError

    def _prepared(self, kind: type[PreparedT], name: str, population: Population, params: ParameterSet,
                  shared: SharedWork | None, **more) -> PreparedT:
        """A ``kind`` of :class:`Prepared` with what every structure prepares (the curves,
        general-population survival, the curves on the grid, the values of its strategies)
        and the structure's own fields ``more``."""
        shared = SharedWork() if shared is None else shared
        curves = self.curves(population, params, shared)
        return kind(name, population, params, curves, self.general_population(population, params, shared),
                    CurvesOnGrid(curves, self.grid, shared),
                    PopulationValues(self.inputs, population, params, self.grid, shared), **more)

    def population(self, name: str, population: Population, params: ParameterSet, shared: SharedWork | None = None):
        """What the strategies of a population share for ``params``; what depends only on
        references other populations name too comes from ``shared`` (None: its own)."""
        raise NotImplementedError

    def strategy(self, prepared, name: str, strategy, keep_trace: bool = True) -> StrategyResult:
        """A strategy of the population ``prepared``. Without ``keep_trace`` the caller
        drops the trace once its totals are known: a structure may then leave out of it
        what only the trace's readers use (the sequencing structure, its entries after
        t = 0)."""
        raise NotImplementedError

    def evaluate(self, params: ParameterSet, keep_traces: bool = True) -> list[StrategyResult]:
        """Every population and strategy for the parameter sets ``params``. Without
        ``keep_traces`` each strategy's trace is dropped once its totals are known, so a
        PSA chunk holds one strategy's trace at a time, not all of them. Populations that
        name the same references share what depends only on them (:class:`SharedWork`:
        general-population survival, utility by cycle, drug costs per year)."""
        results, shared = [], SharedWork()
        for p_name, population in self.inputs.populations.items():
            prepared = self.population(p_name, population, params, shared)
            for s_name, strategy in population.strategies.items():
                result = self.strategy(prepared, s_name, strategy, keep_traces)
                results.append(result if keep_traces else dataclasses.replace(result, trace=None))
        return results

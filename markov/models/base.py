"""What every structure's model shares: the grid, the life table, general-population
survival, the cost categories, and evaluation population by population."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..grid import DAYS_PER_YEAR, TimeGrid
from ..inputs import ModelInputs, ParameterSet
from ..inputs.schema import TimeOnTreatment
from ..inputs.structures import Population
from ..survival import GeneralPopulationSurvival, LifeTable, SurvivalCurve
from .curves import Cohort, build_curves
from .protocol import StrategyResult
from .valuation import COMMON_CATEGORIES


@dataclass
class Prepared:
    """One population's curves and general-population survival for a parameter set: what
    a structure's :meth:`CohortModel.population` prepares (a structure may add to it)."""

    name: str
    spec: Population
    params: ParameterSet
    curves: dict[str, SurvivalCurve]
    general_population: np.ndarray


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

    def general_population_curve(self, population: Population, params: ParameterSet) -> GeneralPopulationSurvival:
        """General-population survival of the cohort (years since the start)."""
        return GeneralPopulationSurvival(self.life_table, params[population.start_age], params[population.share_female])

    def general_population(self, population: Population, params: ParameterSet) -> np.ndarray:
        """General-population survival of the cohort on the grid, ``(n_samples, n_times)``."""
        return self.general_population_curve(population, params).survival_on_grid(self.grid)

    def curves(self, population: Population, params: ParameterSet) -> dict[str, SurvivalCurve]:
        """The population's curves for ``params`` (:func:`~markov.models.curves.build_curves`).

        Curves that use general-population mortality get the cohort's (the perspective's
        life table, the population's start age and share female) and the model's cycle;
        every structure builds its curves here so that every kind works in it.
        """
        demography = population.start_age is not None and population.share_female is not None
        cohort = Cohort(self.general_population_curve(population, params), self.grid.cycle_length_years) \
            if self.inputs.perspective.life_table and demography else None
        return build_curves(population.curves, params, cohort)

    def time_on_treatment(self, tot: TimeOnTreatment, progression_free: np.ndarray,
                          curves: dict[str, SurvivalCurve], params: ParameterSet) -> np.ndarray:
        """Time on treatment since entry on the grid: its own curve (of ``curves``), never
        above progression-free survival, stopped at the maximum duration."""
        curve = progression_free if tot.curve is None else np.minimum(
            curves[tot.curve].survival_on_grid(self.grid), progression_free)
        if tot.max_duration is not None:
            stopped = self.grid.times_years[None, :] >= params.years(tot.max_duration)[:, None]
            curve = np.where(stopped, 0.0, curve)
        return np.ascontiguousarray(curve)

    @cached_property
    def categories(self) -> tuple[str, ...]:
        """Cost categories of every result: drug acquisition by line (or structure) first,
        in the order met, then :data:`~markov.models.valuation.COMMON_CATEGORIES`."""
        drugs = {name: None for population in self.inputs.populations.values()
                 for strategy in population.strategies.values() for name in self.drug_categories(strategy)}
        return (*drugs, *COMMON_CATEGORIES)

    def drug_categories(self, strategy) -> list[str]:
        raise NotImplementedError

    def population(self, name: str, population: Population, params: ParameterSet):
        raise NotImplementedError

    def strategy(self, prepared, name: str, strategy) -> StrategyResult:
        raise NotImplementedError

    def evaluate(self, params: ParameterSet, keep_traces: bool = True) -> list[StrategyResult]:
        """Every population and strategy for the parameter sets ``params``. Without
        ``keep_traces`` each strategy's trace is dropped once its totals are known, so a
        PSA chunk holds one strategy's trace at a time, not all of them."""
        results = []
        for p_name, population in self.inputs.populations.items():
            prepared = self.population(p_name, population, params)
            for s_name, strategy in population.strategies.items():
                result = self.strategy(prepared, s_name, strategy)
                results.append(result if keep_traces else dataclasses.replace(result, trace=None))
        return results

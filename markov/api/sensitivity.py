"""Deterministic and global sensitivity analyses, with their tables and figures."""
from __future__ import annotations

from functools import cached_property

import pandas as pd
from matplotlib.figure import Figure

from .._validate import InputError
from ..decision import dsa
from ..inputs import ModelInputs
from ..runs import figures
from ..runs.tables import default_wtp, thresholds_of
from .base_case import _population


class DeterministicResults:
    """A one-way sensitivity analysis (every input at its low and high value, the others
    at their point estimates) and what is built on it.

    Attributes
    ----------
    ranges : DataFrame
        Each input varied: ``reference``, ``label``, ``base``, ``low``, ``high``, ``basis``, ``note``.
    one_way : DataFrame
        Per input, level (base, low, high), population and strategy: cost, LYs, QALYs.
    wtp : float
        Willingness to pay per QALY of the net-benefit tornado and two-way analyses.
    """

    def __init__(self, inputs: ModelInputs, ranges: pd.DataFrame, one_way: pd.DataFrame, wtp: float | None) -> None:
        self.inputs, self.ranges, self.one_way = inputs, ranges, one_way
        self.wtp = default_wtp(inputs) if wtp is None else float(wtp)

    def __repr__(self) -> str:
        return f"DeterministicResults({self.inputs.analysis.name!r}, {len(self.ranges)} inputs, wtp={self.wtp:,.0f})"

    def _comparison(self, population: str) -> tuple[str, str]:
        comparison = self.inputs.populations[population].comparison
        return comparison.intervention, comparison.comparator

    def tornado(self, population: str | None = None, outcome: str = "nmb") -> pd.DataFrame:
        """The tornado of the population's intervention against its comparator: incremental
        net benefit at :attr:`wtp` (``outcome="nmb"``) or the ICER (``"icer"``, labelled
        outside the north-east quadrant), inputs by swing, largest first."""
        population = _population(self.inputs, population)
        return dsa.tornado_table(self.one_way, self.ranges, population, *self._comparison(population),
                                 measure=outcome, wtp=self.wtp)

    def plot_tornado(self, population: str | None = None, outcome: str = "nmb") -> Figure:
        figure = figures.tornado_figure(self.inputs, population := _population(self.inputs, population),
                                        self.tornado(population, outcome))
        if figure is None:
            raise InputError(f"{population}: the base case is not in the north-east quadrant, so there is no ICER "
                             f"tornado; plot the net-benefit tornado (outcome='nmb')")
        return figure

    def two_way(self, x: str, y: str, points: int = 11) -> pd.DataFrame:
        """Inputs ``x`` and ``y`` (references) over a grid between their low and high values."""
        return dsa.two_way(self.inputs, x, y, points=points, ranges=self.ranges)

    def plot_two_way(self, x: str, y: str, population: str | None = None, points: int = 11
                     ) -> tuple[Figure, Figure]:
        """Heat maps of the intervention's incremental net benefit and of the strategy with
        the highest net benefit over ``x`` and ``y``."""
        population = _population(self.inputs, population)
        grid = self.two_way(x, y, points)
        heat_maps = (self.inputs, population, grid,
                     *dsa.two_way_grid(grid, population, *self._comparison(population), self.wtp), self.wtp)
        return figures.two_way_figure(*heat_maps), figures.two_way_figure(*heat_maps, optimal=True)

    @cached_property
    def _scenarios(self) -> pd.DataFrame:
        return dsa.run_scenarios(self.inputs)

    def scenarios(self) -> pd.DataFrame:
        """The base case and each scenario, with the incremental analysis within each."""
        return self._scenarios

    def threshold_prices(self, population: str | None = None) -> pd.DataFrame:
        """The price of each of the intervention's own drugs at which its net benefit equals
        the comparator's, at each threshold."""
        rows = []
        for p in ([_population(self.inputs, population)] if population else list(self.inputs.populations)):
            intervention, comparator = self._comparison(p)
            for price in dsa.intervention_prices(self.inputs, p, intervention, comparator):
                rows += [dsa.threshold_price(self.inputs, price, p, intervention, comparator, wtp)
                         for wtp in thresholds_of(self.inputs).values()]
        return pd.DataFrame(rows)


class GlobalSensitivityResults:
    """Global sensitivity indices of each population's incremental net benefit.

    Attributes
    ----------
    method : str
        ``sobol``, ``morris``, ``delta`` or ``pawn``.
    table : DataFrame
        One row per population and input (or group): the method's indices, with labels.
    """

    def __init__(self, inputs: ModelInputs, method: str, table: pd.DataFrame, wtp: float, size: str) -> None:
        self.inputs, self.method, self.table, self.wtp, self._size = inputs, method, table, wtp, size

    def __repr__(self) -> str:
        return f"GlobalSensitivityResults({self.method!r}, {self._size}, wtp={self.wtp:,.0f})"

    def plot(self, population: str | None = None) -> Figure:
        population = _population(self.inputs, population)
        rows = self.table[self.table["population"] == population]
        return figures.global_sensitivity_figure(self.inputs, population, self.method, rows, self.wtp, self._size)

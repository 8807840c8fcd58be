"""The deterministic base case of an analysis, with its tables and figures."""
from __future__ import annotations

from functools import cached_property

import pandas as pd
from matplotlib.figure import Figure

from .._validate import InputError
from ..inputs import ModelInputs
from ..models import Model, ModelVsData, StrategyResult, calibration_table, model_vs_data, results_table
from ..runs import figures
from ..runs.survival_fits import (
    FittedCurveComparison,
    compare_fitted_curves,
    find,
    fitted_curve_figure,
    survival_fits_table,
    validation_table,
)
from ..runs.tables import incremental_table, thresholds_of


def _population(inputs: ModelInputs, population: str | None) -> str:
    """``population``, or the analysis's first when none is named."""
    if population is None:
        return next(iter(inputs.populations))
    if population not in inputs.populations:
        raise InputError(f"population {population!r}: not in the {inputs.analysis.name} analysis "
                         f"(populations: {', '.join(inputs.populations)})")
    return population


class BaseCase:
    """Results of the base case (every input at its point estimate).

    Attributes
    ----------
    table : DataFrame
        One row per population and strategy: ``population``, ``strategy``, ``label``,
        ``cost``, ``life_years``, ``qalys`` (discounted), the incremental analysis along
        the cost-effectiveness frontier (``incremental_cost``, ``incremental_qalys``,
        ``icer_per_qaly``, ``status``, ``dominated_by``) and the net monetary benefit at
        each threshold (``nmb_at_<threshold>``).
    results : list of StrategyResult
        Per strategy, costs by category and life-years and QALYs by state, with traces.
    """

    def __init__(self, inputs: ModelInputs, model: Model, results: list[StrategyResult]) -> None:
        self.inputs, self.model, self.results = inputs, model, results

    def __repr__(self) -> str:
        return f"BaseCase({self.inputs.analysis.name!r})\n{self.table.to_string(index=False)}"

    @cached_property
    def details(self) -> pd.DataFrame:
        """Cost by category and by state, life-years and QALYs by state, per strategy."""
        return results_table(self.results)

    @cached_property
    def table(self) -> pd.DataFrame:
        details = self.details
        incremental = incremental_table(details, thresholds_of(self.inputs)).drop(columns=["cost", "qalys"])
        columns = ["population", "strategy", "label", "cost", "life_years", "qalys"]
        return details[columns].merge(incremental, on=["population", "strategy"], how="left")

    @cached_property
    def calibration(self) -> pd.DataFrame:
        """Reported medians and landmarks beside the model's, for strategies with targets."""
        return calibration_table(self.model, self.results)

    def model_vs_data(self) -> ModelVsData:
        """Each strategy's overall survival against the patient-level data its targets name
        (``targets.os_data``): ``.table`` at each month of follow-up (model, Kaplan–Meier
        estimate and its 95% CI, inside or not), ``.summary`` one row per strategy (share of
        follow-up inside the CI, largest gap outside it, restricted means and medians);
        tables with no rows when no strategy names data."""
        return self._model_vs_data

    @cached_property
    def _model_vs_data(self) -> ModelVsData:
        return model_vs_data(self.model, self.results)

    def trace(self, population: str, strategy: str) -> pd.DataFrame:
        """State occupancy of one strategy: a row per time point (``time_years``), a
        column per state."""
        for result in self.results:
            if (result.population, result.strategy) == (_population(self.inputs, population), strategy):
                frame = result.trace.to_frame()
                frame.insert(0, "time_years", self.model.grid.times_years)
                return frame
        raise InputError(f"strategy {strategy!r}: not a strategy of population {population!r} (strategies: "
                         f"{', '.join(self.inputs.populations[population].strategies)})")

    def plot_occupancy(self, population: str | None = None) -> Figure:
        """State occupancy of each strategy over time (default: the first population)."""
        return figures.occupancy_figure(self.model, self.results, _population(self.inputs, population))

    def plot_survival(self, population: str | None = None) -> Figure:
        """Model-implied overall and progression-free survival beside the reported medians
        and landmarks (default: the first population)."""
        return figures.calibration_figure(self.model, self.results, self.calibration,
                                          _population(self.inputs, population))

    def plot_model_vs_data(self, population: str | None = None) -> Figure:
        """Each strategy's overall survival over the Kaplan–Meier curve of the data it names,
        with the curve's CI, numbers at risk and the reported medians and landmarks
        (default: the first population whose strategies name data)."""
        named = list(dict.fromkeys(self._model_vs_data.summary["population"]))
        population = named[0] if population is None and named else _population(self.inputs, population)
        if population not in named:
            raise InputError(f"population {population!r}: no strategy's targets name patient-level data "
                             f"(targets.os_data){'; those of ' + ', '.join(named) + ' do' if named else ''}")
        return figures.model_vs_data_figure(self.model, self.results, self._model_vs_data, self.calibration,
                                            population)

    # --- curves fitted to patient-level data (NICE DSU TSD 14) ------------------------------
    @cached_property
    def _fitted_curves(self) -> list[FittedCurveComparison]:
        return compare_fitted_curves(self.inputs)

    def survival_fits(self) -> pd.DataFrame:
        """Every candidate model of every curve fitted to patient-level data, as
        ``survival_fits.csv``: AIC, BIC and their differences from the best, the median,
        restricted mean and landmark survival extrapolated, and the model the analysis
        chose with its reason (:mod:`markov.runs.survival_fits`). Empty when no curve is
        fitted."""
        return survival_fits_table(self.inputs, self._fitted_curves)

    def survival_fits_validation(self) -> pd.DataFrame:
        """Each candidate's predictions beside the data its curve names as ``external``
        (``survival_fits_validation.csv``)."""
        return validation_table(self.inputs, self._fitted_curves)

    def plot_fits(self, curve: str, population: str | None = None, kind: str = "extrapolation") -> Figure:
        """A figure of the candidate models of ``curve`` (default: the first population's):
        ``observed`` (Kaplan–Meier with its 95% CI and numbers at risk under the fits, within
        follow-up), ``hazards``, ``log_cumulative_hazard`` or ``extrapolation`` (to the
        horizon, with the external data)."""
        item = find(self._fitted_curves, curve, _population(self.inputs, population))
        return fitted_curve_figure(self.inputs, item, f"fit_{kind}")

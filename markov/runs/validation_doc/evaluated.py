"""The analyses a validation document covers, each run once at its base case."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ...inputs import ModelInputs, load_analysis
from ...models import Model, ModelVsData, StrategyResult, build_model, model_vs_data, results_table
from ..survival_fits import compare_fitted_curves, validation_table


@dataclass
class Evaluated:
    """One analysis at its base case: inputs, model, results and the tables read from them."""

    name: str
    file: str | None
    inputs: ModelInputs
    model: Model
    results: list[StrategyResult]

    @classmethod
    def load(cls, name: str, file: str | None, root: Path) -> Evaluated:
        inputs = load_analysis(None if file is None else root / file)
        model = build_model(inputs)
        return cls(name, file, inputs, model, model.evaluate(inputs.base_case()))

    @cached_property
    def details(self) -> pd.DataFrame:
        return results_table(self.results)

    @cached_property
    def model_vs_data(self) -> ModelVsData:
        return model_vs_data(self.model, self.results)

    @cached_property
    def fits_validation(self) -> pd.DataFrame:
        """Each candidate model of each fitted curve against its ``external`` data."""
        return validation_table(self.inputs, compare_fitted_curves(self.inputs))

    @property
    def months(self) -> np.ndarray:
        return self.model.grid.times_years * 12.0

    def result(self, population: str, strategy: str) -> StrategyResult | None:
        return next((r for r in self.results if (r.population, r.strategy) == (population, strategy)), None)

    def row(self, population: str, strategy: str) -> pd.Series | None:
        rows = self.details[(self.details["population"] == population) & (self.details["strategy"] == strategy)]
        return None if rows.empty else rows.iloc[0]

    def value(self, reference: str) -> float:
        return float(self.inputs.evidence[reference].value.value)

"""``markov dsa``: one-way analysis with NMB and ICER tornados, a two-way analysis,
scenarios and threshold prices, per population, under a results directory."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._validate import InputError
from ..decision import dsa
from ..inputs.load import ModelInputs
from ..results import (
    DSA_RANGES,
    ONE_WAY,
    SCENARIOS,
    THRESHOLD_PRICES,
    TWO_WAY,
    TWO_WAY_OPTIMAL,
    ResultsDirectory,
    claim_output,
    record_finished,
    tornado,
    write_table,
)
from . import figures
from .tables import default_wtp, thresholds_of


def run_dsa(inputs: ModelInputs, out: str | Path, *, wtp: float | None = None, two_way_points: int = 11,
            scenarios: bool = True) -> list[Path]:
    """One-way analysis with NMB and ICER tornados, a two-way analysis of the two inputs
    with the largest NMB swing, the scenario table and threshold prices of the
    intervention's first-line drugs, per population, under ``out``."""
    with claim_output(out, inputs) as path:
        return _write_dsa(inputs, ResultsDirectory(path), wtp, two_way_points, scenarios)


def _write_dsa(inputs: ModelInputs, directory: ResultsDirectory, wtp: float | None, two_way_points: int,
               scenarios: bool) -> list[Path]:
    thresholds = thresholds_of(inputs)
    wtp = default_wtp(inputs) if wtp is None else float(wtp)
    ranges = dsa.input_ranges(inputs)
    if ranges.empty:
        raise InputError(f"the {inputs.analysis.name} analysis has no input with a range or distribution to vary")
    one_way = dsa.one_way(inputs, ranges)
    files = [write_table(ranges, directory.table(DSA_RANGES)), write_table(one_way, directory.table(ONE_WAY))]
    prices = []
    for population, spec in inputs.populations.items():
        intervention, comparator = spec.comparison.intervention, spec.comparison.comparator
        for measure in ("nmb", "icer"):
            table = dsa.tornado_table(one_way, ranges, population, intervention, comparator, measure=measure, wtp=wtp)
            files.append(write_table(table, directory.table(tornado(measure), population)))
            figure = figures.tornado_figure(inputs, population, table)
            if figure is not None:
                files += figures.save(figure, directory.figure(tornado(measure), population))
            if measure == "nmb" and len(table) >= 2:
                x, y = table["reference"].iloc[0], table["reference"].iloc[1]
                grid = dsa.two_way(inputs, x, y, points=two_way_points, ranges=ranges)
                files.append(write_table(grid[grid["population"] == population], directory.table(TWO_WAY, population)))
                nmb, optimal = figures.two_way_figures(
                    inputs, population, grid, *dsa.two_way_grid(grid, population, intervention, comparator, wtp), wtp)
                files += figures.save(nmb, directory.figure(TWO_WAY, population))
                files += figures.save(optimal, directory.figure(TWO_WAY_OPTIMAL, population))
        for price in dsa.intervention_prices(inputs, population, intervention, comparator):
            for threshold in thresholds.values():
                prices.append(dsa.threshold_price(inputs, price, population, intervention, comparator, threshold))
    if prices:
        files.append(write_table(pd.DataFrame(prices), directory.table(THRESHOLD_PRICES)))
    if scenarios and inputs.analysis.scenarios:
        files.append(write_table(dsa.run_scenarios(inputs), directory.table(SCENARIOS)))
    record_finished(directory.path, "dsa", wtp=wtp, two_way_points=two_way_points)
    return files

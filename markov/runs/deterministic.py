"""``markov dsa``: one-way analysis with NMB and ICER tornados, a two-way analysis,
scenarios and threshold prices, per population, under a results directory."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._validate import InputError
from ..decision import dsa
from ..inputs.load import ModelInputs
from ..plots import plot_tornado, plot_two_way
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
from .figures import save
from .tables import default_wtp, thresholds_of


def run_dsa(inputs: ModelInputs, out: str | Path, *, wtp: float | None = None, two_way_points: int = 11,
            scenarios: bool = True) -> list[Path]:
    """One-way analysis with NMB and ICER tornados, a two-way analysis of the two inputs
    with the largest NMB swing, the scenario table and threshold prices of the
    intervention's first-line drugs, per population, under ``out``."""
    directory = ResultsDirectory(claim_output(out, inputs))
    thresholds = thresholds_of(inputs)
    wtp = default_wtp(inputs) if wtp is None else float(wtp)
    currency = inputs.perspective.currency
    money = f"{currency} {wtp:,.0f}"
    ranges = dsa.input_ranges(inputs)
    if ranges.empty:
        raise InputError(f"the {inputs.analysis.name} analysis has no input with a range or distribution to vary")
    one_way = dsa.one_way(inputs, ranges)
    files = [write_table(ranges, directory.table(DSA_RANGES)), write_table(one_way, directory.table(ONE_WAY))]
    prices = []
    for population, spec in inputs.populations.items():
        intervention, comparator = spec.comparison.intervention, spec.comparison.comparator
        names = {s: spec.strategies[s].label for s in (intervention, comparator)}
        versus = f"{names[intervention]} vs {names[comparator]}"
        for measure in ("nmb", "icer"):
            table = dsa.tornado_table(one_way, ranges, population, intervention, comparator, measure=measure, wtp=wtp)
            files.append(write_table(table, directory.table(tornado(measure), population)))
            base = table.attrs["base"]
            if measure == "nmb":
                axis = f"Incremental NMB at {money}/QALY ({currency})"
            else:
                axis = f"ICER ({currency} per QALY gained)"
                if not np.isfinite(base):
                    continue  # the base case is not in the NE quadrant: the NMB tornado says it all
            figure = plot_tornado(table, base=base, outcome_label=axis,
                                  title=f"One-way sensitivity, {versus}: {spec.label}")
            files += save(figure, directory.figure(tornado(measure), population))
            if measure == "nmb" and len(table) >= 2:
                x, y = table["reference"].iloc[0], table["reference"].iloc[1]
                grid = dsa.two_way(inputs, x, y, points=two_way_points, ranges=ranges)
                files.append(write_table(grid[grid["population"] == population], directory.table(TWO_WAY, population)))
                xs, ys, z, best, labels = dsa.two_way_grid(grid, population, intervention, comparator, wtp)
                figure = plot_two_way(xs, ys, z, x_label=inputs.label(x), y_label=inputs.label(y),
                                      z_label=f"Incremental NMB, {versus} ({currency})",
                                      base_point=(grid.attrs["x_base"], grid.attrs["y_base"]),
                                      title=f"Two-way sensitivity at {money}/QALY: {spec.label}")
                files += save(figure, directory.figure(TWO_WAY, population))
                figure = plot_two_way(xs, ys, best, x_label=inputs.label(x), y_label=inputs.label(y),
                                      z_label="Strategy with the highest NMB", categories=labels,
                                      base_point=(grid.attrs["x_base"], grid.attrs["y_base"]),
                                      title=f"Optimal strategy at {money}/QALY: {spec.label}")
                files += save(figure, directory.figure(TWO_WAY_OPTIMAL, population))
        for price in dsa.intervention_prices(inputs, population, intervention, comparator):
            for threshold in thresholds.values():
                prices.append(dsa.threshold_price(inputs, price, population, intervention, comparator, threshold))
    if prices:
        files.append(write_table(pd.DataFrame(prices), directory.table(THRESHOLD_PRICES)))
    if scenarios and inputs.analysis.scenarios:
        files.append(write_table(dsa.run_scenarios(inputs), directory.table(SCENARIOS)))
    record_finished(directory.path, "dsa", wtp=wtp, two_way_points=two_way_points)
    return files

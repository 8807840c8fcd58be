"""``markov dsa``: one-way analysis with NMB and ICER tornados, a two-way analysis,
scenarios and threshold prices, per population, under a results directory."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .._validate import InputError
from ..decision import dsa
from ..inputs.load import ModelInputs
from ..plots import DEFAULT_FIGURE_FORMATS
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
            scenarios: bool = True, formats: str | Sequence[str] = DEFAULT_FIGURE_FORMATS,
            phases: figures.Phases | None = None) -> list[Path]:
    """One-way analysis with NMB and ICER tornados, a two-way analysis of the two inputs
    with the largest NMB swing, the scenario table and threshold prices of the
    intervention's first-line drugs, per population, under ``out``; figures in
    ``formats``, the progress of each step shown by ``phases``."""
    with claim_output(out, inputs) as path:
        return _write_dsa(inputs, ResultsDirectory(path), wtp, two_way_points, scenarios,
                          figures.FigureWriter(formats, phases), phases)


def _write_dsa(inputs: ModelInputs, directory: ResultsDirectory, wtp: float | None, two_way_points: int,
               scenarios: bool, writer: figures.FigureWriter, phases: figures.Phases | None) -> list[Path]:
    steps = _Steps(phases, 1 + 2 * len(inputs.populations) + bool(scenarios and inputs.analysis.scenarios))
    thresholds = thresholds_of(inputs)
    wtp = default_wtp(inputs) if wtp is None else float(wtp)
    ranges = dsa.input_ranges(inputs)
    if ranges.empty:
        raise InputError(f"the {inputs.analysis.name} analysis has no input with a range or distribution to vary")
    steps("one-way analysis")
    one_way = dsa.one_way(inputs, ranges)
    files = [write_table(ranges, directory.table(DSA_RANGES)), write_table(one_way, directory.table(ONE_WAY))]
    prices = []
    for population, spec in inputs.populations.items():
        intervention, comparator = spec.comparison.intervention, spec.comparison.comparator
        for measure in ("nmb", "icer"):
            table = dsa.tornado_table(one_way, ranges, population, intervention, comparator, measure=measure, wtp=wtp)
            files.append(write_table(table, directory.table(tornado(measure), population)))
            writer.add(directory.figure(tornado(measure), population), figures.tornado_figure, inputs, population,
                       table)
            if measure == "nmb" and len(table) >= 2:
                x, y = table["reference"].iloc[0], table["reference"].iloc[1]
                steps(f"two-way analysis, {population}")
                grid = dsa.two_way(inputs, x, y, points=two_way_points, ranges=ranges)
                files.append(write_table(grid[grid["population"] == population], directory.table(TWO_WAY, population)))
                heat_maps = (inputs, population, grid, *dsa.two_way_grid(grid, population, intervention, comparator,
                                                                        wtp), wtp)
                writer.add(directory.figure(TWO_WAY, population), figures.two_way_figure, *heat_maps)
                writer.add(directory.figure(TWO_WAY_OPTIMAL, population), figures.two_way_figure, *heat_maps,
                           optimal=True)
        steps(f"threshold prices, {population}")
        for price in dsa.intervention_prices(inputs, population, intervention, comparator):
            for threshold in thresholds.values():
                prices.append(dsa.threshold_price(inputs, price, population, intervention, comparator, threshold))
    if prices:
        files.append(write_table(pd.DataFrame(prices), directory.table(THRESHOLD_PRICES)))
    if scenarios and inputs.analysis.scenarios:
        steps("scenarios")
        files.append(write_table(dsa.run_scenarios(inputs), directory.table(SCENARIOS)))
    steps.finish()
    files += writer.write()
    record_finished(directory.path, "dsa", wtp=wtp, two_way_points=two_way_points)
    return files


class _Steps:
    """The steps of a DSA as one progress bar: ``steps(name)`` when a step starts."""

    def __init__(self, phases: figures.Phases | None, total: int) -> None:
        self.progress, self.total, self.done = None, total, -1
        self.phases = phases

    def __call__(self, name: str) -> None:
        self.done += 1
        if self.phases:
            self.progress = self.phases(f"DSA: {name}", "steps")
            self.progress(self.done, self.total)

    def finish(self) -> None:
        if self.progress:
            self.progress(self.total, self.total)

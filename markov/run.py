"""Run an analysis end to end and write its tables and figures.

``run_analysis`` evaluates the base case (and a PSA if asked), then writes, per
population: the results table (cost by category and state, LYs, QALYs), the
incremental analysis with net monetary benefit at each threshold, the calibration
figure and the state-occupancy figure; plus the calibration table and the table of
every input with its value, source and distribution. Files are written to a temporary
name and renamed, so an interrupted run never leaves a half-written table.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import cea
from .models.hcc import HCCModel, calibration_table, model_survival, per_sample_table, results_table
from .params.evidence import distribution_of
from .params.load import ModelInputs
from .plots import plot_calibration, plot_state_occupancy, save_figure


@dataclass
class AnalysisOutputs:
    """Tables of one run (figures are written to disk only)."""

    results: pd.DataFrame
    incremental: pd.DataFrame
    calibration: pd.DataFrame
    inputs: pd.DataFrame
    psa_samples: pd.DataFrame | None
    psa_summary: pd.DataFrame | None
    files: list[Path]


def inputs_table(inputs: ModelInputs) -> pd.DataFrame:
    """Every input the analysis uses: value, unit, status, source, distribution, where used."""
    rows = []
    for ref in inputs.references:
        item = inputs.evidence[ref]
        value = item.value
        low, high = value.range if value.range else (np.nan, np.nan)
        rows.append({
            "reference": ref, "value": value.value, "unit": value.unit,
            "currency": value.currency, "price_year": value.price_year, "per": value.per,
            "status": value.status, "source": item.source.citation.strip(), "where": value.where,
            "ci95_low": value.ci95[0] if value.ci95 else np.nan, "ci95_high": value.ci95[1] if value.ci95 else np.nan,
            "range_low": low, "range_high": high, "distribution": str(distribution_of(value)),
            "calculation": value.calculation, "note": value.note, "used_by": "; ".join(inputs.uses[ref]),
        })
    return pd.DataFrame(rows)


def incremental_table(results: pd.DataFrame, thresholds: dict[str, float]) -> pd.DataFrame:
    """Incremental analysis per population, with NMB at each threshold."""
    frames = []
    for population, rows in results.groupby("population", sort=False):
        table = cea.incremental_analysis(rows["cost"].to_numpy(), rows["qalys"].to_numpy(), list(rows["strategy"]))
        table = table.rename(columns={"effect": "qalys", "incremental_effect": "incremental_qalys",
                                      "icer": "icer_per_qaly"})
        table.insert(0, "population", population)
        for name, wtp in thresholds.items():
            table[f"nmb_at_{name}"] = wtp * table["qalys"] - table["cost"]
        table["dominated_by"] = table["dominated_by"].map(
            lambda v: " and ".join(v) if isinstance(v, tuple) else v)
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def psa_summary(samples: pd.DataFrame, thresholds: dict[str, float]) -> pd.DataFrame:
    """Mean and 95% interval of cost and QALYs, and the probability that each strategy
    has the highest NMB at each threshold, per population."""
    rows = []
    for population, group in samples.groupby("population", sort=False):
        strategies = list(dict.fromkeys(group["strategy"]))
        wide = {column: group.pivot(index="sample", columns="strategy", values=column)[strategies]
                for column in ("cost", "qalys")}
        best = {name: np.argmax(wtp * wide["qalys"].to_numpy() - wide["cost"].to_numpy(), axis=1)
                for name, wtp in thresholds.items()}
        for j, strategy in enumerate(strategies):
            row = {"population": population, "strategy": strategy}
            for column in ("cost", "qalys"):
                values = wide[column][strategy]
                row[f"{column}_mean"] = values.mean()
                row[f"{column}_2.5%"], row[f"{column}_97.5%"] = np.percentile(values, [2.5, 97.5])
            for name in thresholds:
                row[f"probability_cost_effective_at_{name}"] = float(np.mean(best[name] == j))
            rows.append(row)
    return pd.DataFrame(rows)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    partial = path.with_name(path.name + ".partial")
    frame.to_csv(partial, index=False)
    os.replace(partial, path)
    return path


def run_analysis(inputs: ModelInputs, out: str | Path, *, psa_samples: int | None = None,
                 seed: int | None = None) -> AnalysisOutputs:
    """Base case (and PSA) of an analysis, written under ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = HCCModel(inputs)
    base = model.evaluate(inputs.base_case())
    results = results_table(base)
    perspective = inputs.perspective
    thresholds = {f"{inputs.evidence[ref].value.value:g}_{perspective.currency}": inputs.evidence[ref].value.value
                  for ref in perspective.thresholds}
    incremental = incremental_table(results, thresholds)
    calibration = calibration_table(model, base)
    table_of_inputs = inputs_table(inputs)

    files = [_write_csv(table_of_inputs, out / "inputs.csv"), _write_csv(calibration, out / "calibration.csv")]
    months = model.grid.times_years * 12.0
    for population, rows in results.groupby("population", sort=False):
        files.append(_write_csv(rows, out / f"results_{population}.csv"))
        files.append(_write_csv(incremental[incremental["population"] == population],
                                out / f"incremental_{population}.csv"))
        chosen = [r for r in base if r.population == population]
        label = inputs.populations[population].label
        figure = plot_calibration(months, {r.label: model_survival(r) for r in chosen},
                                  calibration[calibration["population"] == population],
                                  title=f"Calibration: {label}")
        files += save_figure(figure, out / f"calibration_{population}")
        figure = plot_state_occupancy(months, {r.label: r.trace.occupancy[0] for r in chosen},
                                      {r.label: r.trace.state_names for r in chosen},
                                      title=f"State occupancy, base case: {label}")
        files += save_figure(figure, out / f"occupancy_{population}")

    samples = summary = None
    n = inputs.analysis.psa_samples if psa_samples is None else psa_samples
    if n:
        seed = inputs.analysis.seed if seed is None else seed
        samples = per_sample_table(model.evaluate(inputs.sample(n, seed)))
        summary = psa_summary(samples, thresholds)
        files.append(_write_csv(samples, out / "psa_samples.csv"))
        files.append(_write_csv(summary, out / "psa_summary.csv"))
    return AnalysisOutputs(results, incremental, calibration, table_of_inputs, samples, summary, files)

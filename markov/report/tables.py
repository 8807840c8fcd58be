"""The tables the reports show, derived from a results directory's tables: selections
at the thresholds, long formats, several populations stacked, strategy labels, what was
not run, and the provenance."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs.labels import sentence, words
from ..results import (
    ANALYSIS_LABEL,
    CEAC,
    CEAF,
    DSA_DIRECTORY,
    DSA_RANGES,
    EVPI,
    MODEL_VS_DATA_SUMMARY,
    PERSPECTIVE_LABEL,
    POPULATION_LABELS,
    PSA_SUMMARY,
    RESULTS,
    RUN_RECORD,
    STRATEGY_LABELS,
    tornado,
)
from .formats import readable_number
from .reading import Results


def at_thresholds(frame: pd.DataFrame, results: Results) -> pd.DataFrame:
    """The rows of a curve (a ``wtp`` column) at the thresholds (written exactly on its grid)."""
    values = list(results.thresholds.values())
    return frame[np.isin(frame["wtp"].to_numpy(), values)]


def ceac_long(results: Results) -> pd.DataFrame | None:
    """CEAC of every population in long format, flagged where the strategy is on the frontier."""
    frames = []
    for population in results.populations:
        ceac, ceaf = results.table(CEAC, population), results.table(CEAF, population)
        if ceac is None:
            continue
        long = ceac.melt(id_vars="wtp", var_name="strategy", value_name="probability_cost_effective")
        if ceaf is not None:
            optimal = set(zip(ceaf["wtp"], ceaf["strategy"], strict=True))
            long["on_frontier"] = ["yes" if (w, s) in optimal else ""
                                   for w, s in zip(long["wtp"], long["strategy"], strict=True)]
        long.insert(0, "population", population)
        frames.append(long)
    return pd.concat(frames, ignore_index=True) if frames else None


def evpi_at_thresholds(results: Results) -> pd.DataFrame | None:
    frames = []
    for population in results.populations:
        evpi = results.table(EVPI, population)
        if evpi is not None:
            frames.append(at_thresholds(evpi, results).assign(population=population))
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    return table[["population", *[c for c in table.columns if c != "population"]]]


def tornado_long(results: Results) -> pd.DataFrame | None:
    frames = []
    for population in results.populations:
        for measure, name in (("nmb", "Incremental NMB ({cur})"), ("icer", "ICER ({cur}/QALY)")):
            table = results.table(tornado(measure), population, dsa=True)
            if table is not None:
                frames.append(table.assign(population=population, measure=name.format(cur=results.currency),
                                           rank=np.arange(1, len(table) + 1)))
    if not frames:
        return None
    table = pd.concat(frames, ignore_index=True)
    ranges = results.table(DSA_RANGES, dsa=True)
    if ranges is not None and {"low", "high"} <= set(ranges.columns):
        # the tornado tables hold the values as printed on the bars ("15,709"): numbers are in the ranges
        by_reference = ranges.drop_duplicates("reference").set_index("reference")
        for column, bound in (("low_input", "low"), ("high_input", "high")):
            table[column] = table["reference"].map(by_reference[bound]).astype(object).fillna(table[column])
    first = ["population", "measure", "rank"]
    return table[first + [c for c in table.columns if c not in first]]


def stack(results: Results, stem: str) -> pd.DataFrame | None:
    """The table ``stem`` of every population, one below the other."""
    frames = [results.table(stem, p) for p in results.populations]
    frames = [f for f in frames if f is not None]
    return pd.concat(frames, ignore_index=True) if frames else None


def with_labels(frame: pd.DataFrame, results: Results, after: str = "strategy") -> pd.DataFrame:
    """``frame`` with a ``label`` column (the strategy's label) after its ``strategy`` column."""
    if "label" in frame.columns:
        return frame
    frame = frame.copy()
    frame.insert(frame.columns.get_loc(after) + 1, "label", [results.label(s) for s in frame[after]])
    return frame


def pick(frame: pd.DataFrame, *names: str) -> pd.Series:
    """Column ``names[0]`` of ``frame`` with its gaps filled from the next names (NaN where none has a value)."""
    picked = pd.Series(np.nan, index=frame.index)
    for name in names:
        if name in frame:
            picked = picked.fillna(frame[name])
    return picked


def not_run_reasons(results: Results) -> dict[str, str]:
    """Why each optional part is missing, by part (the commands that write it name the
    results directory DIR: a report never shows where on the machine it lies)."""
    reasons = {}
    if not results.has_base_case:
        reasons["base"] = (f"The base case was not run: the results directory has no "
                           f"{results.file_name(RESULTS, '<population>')} (`markov run --out DIR` writes it).")
    if not results.has_psa:
        reasons["psa"] = ("The probabilistic sensitivity analysis was not run: the results directory has no "
                          f"{results.file_name(PSA_SUMMARY)} (`markov run --psa N --out DIR` writes it).")
    if not results.has_dsa:
        reasons["dsa"] = ("The deterministic sensitivity analysis was not run: the results directory has no "
                          f"{DSA_DIRECTORY}/ subdirectory (`markov dsa --out DIR/{DSA_DIRECTORY}` writes it).")
    if results.has_base_case and results.table(MODEL_VS_DATA_SUMMARY) is None:
        reasons["model_vs_data"] = ("No strategy's targets name patient-level data (targets.os_data), so the "
                                    "model's overall survival was not compared with a Kaplan–Meier curve.")
    return reasons


_PROVENANCE_KEYS = {"psa_samples": "PSA samples", "created_utc": "created (UTC)", "finished_utc": "finished (UTC)",
                    "wtp": "willingness to pay"}
#: Items of a run record that the reports show elsewhere (labels) or in place of others.
_NOT_SHOWN = {STRATEGY_LABELS, ANALYSIS_LABEL, PERSPECTIVE_LABEL, POPULATION_LABELS}


def _value_text(key: str, value: object, results: Results) -> str:
    """An item of a run record as a reader reads it: amounts with their currency, counts
    with separators, populations and perspectives by their labels, times without their
    time zone (the heading gives it), files by their names."""
    if key == "wtp" and isinstance(value, (int, float)):
        return results.threshold_text(value)
    if key == "population" and isinstance(value, str):
        return results.population_label(value)
    if key == "perspective" and isinstance(value, str):
        label = results.provenance.get(PERSPECTIVE_LABEL)
        return label if isinstance(label, str) and label else sentence(words(value))
    if key == "analysis" and isinstance(value, str):
        return results.title
    if key == "source" and isinstance(value, str) and Path(value).is_absolute():
        return Path(value).name  # the analysis file; where it lies on the machine that ran it says nothing here
    if key.endswith("_utc") and isinstance(value, str):
        return value.replace("T", " ").removesuffix("+00:00")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if isinstance(value, str) else json.dumps(value)
    return f"{value:,}" if isinstance(value, int) else readable_number(value)


def _flatten(record: dict, results: Results, prefix: str = "") -> list[tuple[str, str]]:
    """Items of a run record as (name, text); nested ones (such as the commands run) as ``outer › inner``."""
    rows = []
    for key, value in record.items():
        if str(key) in _NOT_SHOWN:
            continue
        name = _PROVENANCE_KEYS.get(str(key), str(key).replace("_", " "))
        name = f"{prefix} › {name}" if prefix else name[:1].upper() + name[1:]
        if isinstance(value, dict) and value:
            rows += _flatten(value, results, name)
        else:
            rows.append((name, _value_text(str(key), value, results)))
    return rows


def provenance_rows(results: Results) -> list[tuple[str, str]]:
    """Each item of the run record (whatever it holds) and those of the DSA's record it
    lacks, the results directory (by its name) and the time of writing."""
    rows = _flatten(results.provenance, results)
    rows += [(f"DSA › {name}", text) for name, text in _flatten(results.dsa_provenance, results)
             if (name, text) not in rows]
    if not rows:
        rows = [(RUN_RECORD, "absent: no provenance recorded with these results")]
    return rows + [("Results directory", results.directory.resolve().name),
                   ("Report written (UTC)", datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))]

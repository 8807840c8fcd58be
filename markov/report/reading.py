"""Reading a results directory for its reports: its tables (checked for the columns the
reports use), figures, run records, populations, thresholds and currency, and the names
readers know the analysis, its populations, strategies and inputs by."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .._validate import InputError
from ..inputs.labels import analysis_label, input_label, sentence, source_label
from ..inputs.money import amount
from ..results import (
    ANALYSIS_LABEL,
    CALIBRATION,
    CEAC,
    CEAF,
    CONVERGENCE,
    EVPI,
    EVPPI,
    ICER_SUMMARY,
    INCREMENTAL,
    INPUTS,
    MODEL_VS_DATA_SUMMARY,
    POPULATION_LABELS,
    PSA_SUMMARY,
    RESULTS,
    RUN_RECORD,
    SCENARIOS,
    STRATEGY_LABELS,
    THRESHOLD_PRICES,
    ResultsDirectory,
    read_record,
    read_table,
    tornado,
)

#: A column at a threshold, such as ``nmb_at_150000_USD``.
THRESHOLD_COLUMN = re.compile(r"^(?P<stem>.+)_at_(?P<value>[0-9.e+]+)_(?P<currency>[A-Za-z]+)$")

_TORNADO = ("reference", "parameter", "low_input", "high_input", "outcome_low", "outcome_high", "swing")
# Columns the reports rely on, by table stem.
_REQUIRED = {
    RESULTS: ("population", "strategy", "label", "cost", "life_years", "qalys"),
    INCREMENTAL: ("strategy", "cost", "qalys", "incremental_cost", "incremental_qalys", "icer_per_qaly", "status"),
    PSA_SUMMARY: ("population", "strategy", "cost_mean", "qalys_mean"),
    ICER_SUMMARY: ("strategy", "comparator", "mean_incremental_cost", "mean_incremental_effect", "icer"),
    CEAC: ("wtp",),
    CEAF: ("wtp", "strategy"),
    EVPI: ("wtp", "evpi"),
    EVPPI: ("parameter", "members", "evppi"),
    CONVERGENCE: ("n", "comparison", "mean", "lower", "upper"),
    CALIBRATION: ("population", "strategy", "outcome", "measure", "reported", "model"),
    INPUTS: ("reference", "value", "unit", "status", "source"),
    MODEL_VS_DATA_SUMMARY: ("population", "label", "data_file", "arm", "follow_up_months", "share_inside_ci",
                            "largest_gap_outside", "median_km_ci_low", "median_km_ci_high"),
    tornado("nmb"): _TORNADO,
    tornado("icer"): _TORNADO,
    SCENARIOS: ("scenario_label", "population", "strategy", "cost", "qalys", "status"),
    THRESHOLD_PRICES: ("label", "population", "intervention", "comparator", "wtp", "threshold_price"),
}


class Results:
    """The tables and figures of one results directory, each file read once.

    Parameters
    ----------
    directory : Path or str
        Written by ``markov run`` or ``markov psa`` (and ``markov dsa`` into its DSA
        subdirectory).

    Raises
    ------
    InputError
        When ``directory`` has neither base-case results nor a PSA, or a table lacks a column.
    """

    def __init__(self, directory: Path | str) -> None:
        self.files = ResultsDirectory(directory)
        self.directory = self.files.path
        if not self.directory.is_dir():
            raise InputError(f"results directory {self.directory}: does not exist or is not a directory")
        self._tables: dict[Path, pd.DataFrame | None] = {}
        self.provenance = _record(self.files)
        self.dsa_provenance = _record(self.files.dsa)
        self.labels = _recorded_labels(self.provenance)
        self.populations = self.files.populations(RESULTS)
        self.has_base_case = bool(self.populations)
        for population in self.populations:
            rows = self.table(RESULTS, population)
            if rows is None:
                raise InputError(f"results directory {self.directory}: {self.file_name(RESULTS, population)} has "
                                 "no rows")
            self.labels.update(zip(rows["strategy"].astype(str), rows["label"].astype(str), strict=True))
        if not self.populations and self.has_psa:  # a PSA alone (`markov psa`): its summary names the populations
            self.populations = list(dict.fromkeys(self.table(PSA_SUMMARY)["population"].astype(str)))
        if not self.populations:
            raise InputError(f"results directory {self.directory}: has neither "
                             f"{self.file_name(RESULTS, '<population>')} (the base case) nor "
                             f"{self.file_name(PSA_SUMMARY)} (a PSA); write them with `markov run --out "
                             f"{self.directory}` or `markov psa --out {self.directory}`")
        self.thresholds = self._find_thresholds()
        self.currency = self._find_currency()
        self.title = _title(self.provenance, self.directory.name)
        labels = self.provenance.get(POPULATION_LABELS)
        self.population_labels = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
        inputs = self.table(INPUTS)
        self.input_labels = ({} if inputs is None or "label" not in inputs else
                             dict(zip(inputs["reference"].astype(str), inputs["label"].astype(str), strict=True)))

    @property
    def has_psa(self) -> bool:
        """Whether the directory holds a PSA (its summary table)."""
        return self.table(PSA_SUMMARY) is not None

    @property
    def has_dsa(self) -> bool:
        """Whether the directory holds a deterministic sensitivity analysis (its subdirectory)."""
        return self.files.dsa.path.is_dir()

    def table(self, stem: str, population: str | None = None, *, dsa: bool = False) -> pd.DataFrame | None:
        """A table of the directory (``dsa``: of its DSA subdirectory), or None when absent or empty."""
        path = self._files(dsa).table(stem, population)
        if path not in self._tables:
            frame = read_table(path)  # the workbook must hold the very numbers of the CSV, not their neighbours
            if frame is not None:
                missing = [c for c in _REQUIRED.get(stem, ()) if c not in frame.columns]
                if missing:
                    raise InputError(f"{path}: has no column {', '.join(missing)}; it was not written by this "
                                     f"version of markov")
                if frame.empty:
                    frame = None
            self._tables[path] = frame
        return self._tables[path]

    def file_name(self, stem: str, population: str | None = None, *, dsa: bool = False) -> str:
        """A table's file as messages name it, relative to the directory (``dsa/scenarios.csv``)."""
        return self._files(dsa).table(stem, population).relative_to(self.directory).as_posix()

    def figure_name(self, stem: str, population: str | None = None, *, dsa: bool = False) -> str:
        """A figure as messages name it, relative to the directory and without suffix (``ceac_mvi``)."""
        return self._files(dsa).figure(stem, population).relative_to(self.directory).as_posix()

    def figure(self, stem: str, population: str | None = None, *, dsa: bool = False) -> Path | None:
        """A figure's file (SVG, sharp at any zoom, else PNG), or None."""
        return self._files(dsa).written_figure(stem, population)

    def figures(self) -> list[Path]:
        """Every figure of the directory and of its DSA subdirectory, by name."""
        return sorted(self.files.figures() + self.files.dsa.figures(),
                      key=lambda path: path.relative_to(self.directory).with_suffix("").as_posix())

    def label(self, strategy: object) -> str:
        """A strategy's label; ``a and b`` lists (the incremental analysis's dominators) label each."""
        if not isinstance(strategy, str):
            return ""
        return " and ".join(self.labels.get(part, part) for part in strategy.split(" and "))

    def population_label(self, population: str) -> str:
        """A population as readers know it (its label in the run record), else its key."""
        return self.population_labels.get(population, population)

    def input_label(self, key: str) -> str:
        """An input (``source.value``) or a source's inputs together (``source``) as readers
        know them: the input's label in the inputs table, else its key in words."""
        if "." not in key:
            return sentence(source_label(key, self.population_labels))
        return self.input_labels.get(key) or input_label(key, None, populations=self.population_labels)

    def threshold_text(self, value: float) -> str:
        """A willingness to pay as text shows it: ``$150,000/QALY``, ``CHF 50,000/QALY``."""
        return f"{amount(value, self.currency)}/QALY"

    def _files(self, dsa: bool) -> ResultsDirectory:
        return self.files.dsa if dsa else self.files

    def _find_thresholds(self) -> dict[str, float]:
        """Thresholds by name (``150000_USD``) from the columns at each threshold of the
        incremental analysis (NMB) and of the PSA summary (probability cost-effective)."""
        thresholds = {}
        frames = [self.table(INCREMENTAL, population) for population in self.populations] + [self.table(PSA_SUMMARY)]
        for frame in frames:
            for column in frame.columns if frame is not None else ():
                match = THRESHOLD_COLUMN.match(column)
                if match and match["stem"] in ("nmb", "probability_cost_effective"):
                    thresholds[f"{match['value']}_{match['currency']}"] = float(match["value"])
        return dict(sorted(thresholds.items(), key=lambda item: item[1]))

    def _find_currency(self) -> str:
        if isinstance(self.provenance.get("currency"), str):
            return self.provenance["currency"]
        if self.thresholds:
            return next(iter(self.thresholds)).rsplit("_", 1)[1]
        inputs = self.table(INPUTS)
        if inputs is not None and "currency" in inputs and inputs["currency"].notna().any():
            return str(inputs["currency"].mode().iloc[0])
        return ""


def _title(record: dict[str, object], directory: str) -> str:
    """The analysis as readers know it: its label in the run record, else its name in words,
    else the directory's name (a record of an older version, or none)."""
    for key in (ANALYSIS_LABEL, "analysis"):
        if isinstance(record.get(key), str) and record[key]:
            return record[key] if key == ANALYSIS_LABEL else analysis_label(record[key])
    return directory


def _recorded_labels(record: dict[str, object]) -> dict[str, str]:
    """Strategy -> label as the run record holds them (records of older versions hold none)."""
    recorded = record.get(STRATEGY_LABELS)
    if not isinstance(recorded, dict):
        return {}
    return {str(strategy): str(label) for strategies in recorded.values() if isinstance(strategies, dict)
            for strategy, label in strategies.items()}


def _record(files: ResultsDirectory) -> dict[str, object]:
    """The run record (provenance: analysis, version, seed, commands run...); {} if absent,
    and what went wrong if it cannot be read (a report shows it)."""
    try:
        return read_record(files.path) or {}
    except InputError as error:
        return {RUN_RECORD: str(error)}

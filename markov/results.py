"""The results directory: the name of every file in it, its run record, and its tables on disk.

``markov run | psa | dsa | gsa | sequences`` write a results directory (:mod:`markov.runs`)
and ``markov report`` reads one (:mod:`markov.report`); both take every name from here,
so that the layout is written down once. Tables are CSV files, written whole or not at
all (:func:`markov._files.write_atomically`, as every file of a results directory is)
and read back to the last bit of every float. A text cell (or column name) that a
spreadsheet would take for a formula — starting with ``=``, ``+``, ``-`` or ``@``, or a
tab or carriage return, and not a plain number — is written with a single quote before
it, as OWASP advises against CSV injection; :func:`read_table` removes it again. Figures
are written in several formats under one stem (:func:`markov.plots.save_figure`).
``run.json`` records whose results a
directory holds and the commands that finished there.

One command at a time writes into a results directory: :func:`claim_output` holds the
directory's lock from the first byte a command writes there to its entry in
``run.json`` (:func:`writing`), and a second command, of any kind, is refused.

Names take a stem and, for a file per population, the population: ``results`` and
``mvi`` name ``results_mvi.csv`` (:func:`name`). The deterministic sensitivity
analysis of a report lives in the subdirectory :data:`DSA_DIRECTORY`.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from ._files import DirectoryLock, is_bookkeeping, remove_temporary_files, write_atomically
from ._validate import InputError
from ._version import __version__
from .decision.discounts import discounts_text, price_basis
from .inputs.labels import analysis_label
from .inputs.load import ModelInputs
from .probabilistic.psa import STORE_DIRECTORY
from .probabilistic.store import Plan, ResultsStore, model_fingerprint

__all__ = [
    "ANALYSIS_LABEL", "CALIBRATION", "CEAC", "CEAF", "CE_PLANE", "CONVERGENCE", "DISCOUNT_THRESHOLDS", "DSA_DIRECTORY",
    "DSA_RANGES", "EVPI", "EVPI_POPULATION", "EVPPI", "FIGURE_SUFFIXES", "FIT_FIGURES", "HTML_REPORT", "ICER_SUMMARY",
    "INCREMENTAL", "INPUTS", "MODEL_VS_DATA", "MODEL_VS_DATA_SUMMARY", "NMA", "NMA_LEAGUE", "NMA_STATISTICS",
    "NMA_TRIALS", "OCCUPANCY", "ONE_WAY", "PERSPECTIVE_LABEL", "POPULATION_LABELS", "PSA_SUMMARY", "RESULTS",
    "RUN_RECORD", "SCENARIOS", "SEQUENCES", "SEQUENCE_CEAC", "SEQUENCE_EVPI", "SEQUENCE_FRONTIER", "SEQUENCE_OPTIMAL",
    "SEQUENCE_VALUE", "SEVERITY_MODIFIER", "SEVERITY_WEIGHTED", "STORE_DIRECTORY", "STRATEGY_LABELS", "SURVIVAL_FITS",
    "SURVIVAL_FITS_VALIDATION", "TABLE_SUFFIX", "THRESHOLD_PRICES", "TWO_WAY", "TWO_WAY_OPTIMAL", "WORKBOOK",
    "ResultsDirectory", "claim_output", "cost_category_columns", "fit_figure", "name", "read_record", "read_table",
    "record_finished", "tornado", "write_table", "writing",
]

RUN_RECORD = "run.json"
#: The run record's label of each strategy, ``{population: {strategy: label}}``: a directory
#: without the base-case tables (a PSA's) still names its strategies.
STRATEGY_LABELS = "strategy_labels"
#: The run record's names for readers of the analysis, its perspective and each population
#: (``{population: label}``), which reports show instead of the keys.
ANALYSIS_LABEL = "analysis_label"
PERSPECTIVE_LABEL = "perspective_label"
POPULATION_LABELS = "population_labels"
#: Where ``markov report`` runs the deterministic sensitivity analysis, and where the reports look for it.
DSA_DIRECTORY = "dsa"
WORKBOOK = "report.xlsx"
HTML_REPORT = "report.html"
TABLE_SUFFIX = ".csv"
#: Figure formats a report embeds, preferred first (SVG is sharp at any zoom).
FIGURE_SUFFIXES = (".svg", ".png")

# Stems of the tables and figures. A stem names one file of the directory, or, with a
# population, one file per population.
INPUTS = "inputs"  # table
CALIBRATION = "calibration"  # table; figure per population
RESULTS = "results"  # table per population
INCREMENTAL = "incremental"  # table per population
OCCUPANCY = "occupancy"  # figure per population
MODEL_VS_DATA = "model_vs_data"  # table; figure per population whose strategies name data
MODEL_VS_DATA_SUMMARY = "model_vs_data_summary"  # table
PSA_SUMMARY = "psa_summary"  # table
ICER_SUMMARY = "icer_summary"  # table per population
CE_PLANE = "ce_plane"  # figure per population
CEAC = "ceac"  # table and figure per population
CEAF = "ceaf"  # table per population
EVPI = "evpi"  # table and figure per population
EVPI_POPULATION = "evpi_population"  # figure per population
EVPPI = "evppi"  # table and figure per population
CONVERGENCE = "convergence"  # table and figure per population
DSA_RANGES = "dsa_ranges"  # table
ONE_WAY = "one_way"  # table
TWO_WAY = "two_way"  # table and figure per population
TWO_WAY_OPTIMAL = "two_way_optimal"  # figure per population
THRESHOLD_PRICES = "threshold_prices"  # table
SCENARIOS = "scenarios"  # table
SURVIVAL_FITS = "survival_fits"  # table: candidate models of every curve fitted to patient-level data
SURVIVAL_FITS_VALIDATION = "survival_fits_validation"  # table: their predictions beside data they did not see
# The NICE reference case (a perspective with discounts or a severity modifier)
SEVERITY_MODIFIER = "severity_modifier"  # table: QALY shortfall and weight per population
SEVERITY_WEIGHTED = "severity_weighted"  # table: each strategy vs the comparator with severity-weighted QALYs
DISCOUNT_THRESHOLDS = "discount_thresholds"  # table: the discount at which each intervention is cost-effective
# The search over treatment sequences (`markov sequences`)
SEQUENCES = "sequences"  # table: every sequence and usual-care strategy, ranked
SEQUENCE_FRONTIER = "sequence_frontier"  # table and figure: the frontier over all sequences
SEQUENCE_OPTIMAL = "sequence_optimal"  # table: the optimal sequence by willingness to pay; figure with the CEAC
SEQUENCE_CEAC = "sequence_ceac"  # table: probability each sequence is optimal
SEQUENCE_EVPI = "sequence_evpi"  # table: EVPI over the sequence decision
SEQUENCE_VALUE = "sequence_value_over_usual_care"  # table: the best sequence against the best usual care
#: The figures of a curve fitted to patient-level data (:func:`fit_figure`): Kaplan–Meier with
#: the candidate fits within follow-up, hazards, log cumulative hazard, extrapolation.
FIT_FIGURES = ("fit_observed", "fit_hazards", "fit_log_cumulative_hazard", "fit_extrapolation")
# Per network meta-analysis an analysis's curves use (``name(NMA, network)``: ``nma_hcc_os.csv``)
NMA = "nma"  # table (hazard ratios against the reference, fixed and random effects) and forest plot per network
NMA_STATISTICS = "nma_statistics"  # table per network: heterogeneity and inconsistency
NMA_TRIALS = "nma_trials"  # table per network: each trial's contrasts, beside its test of proportional hazards
NMA_LEAGUE = "nma_league"  # table per network: every pair of treatments


def tornado(measure: str) -> str:
    """Stem of the one-way tables and figures of ``measure`` (``nmb`` or ``icer``), per population."""
    return f"tornado_{measure}"


def fit_figure(kind: str, curve: str) -> str:
    """Stem of figure ``kind`` (one of :data:`FIT_FIGURES`) of ``curve``, per population:
    ``fit_extrapolation_<curve>_<population>``."""
    if kind not in FIT_FIGURES:
        raise InputError(f"kind is {kind!r}: a figure of a fitted curve is one of {', '.join(FIT_FIGURES)}")
    return f"{kind}_{curve}"


def name(stem: str, population: str | None = None) -> str:
    """A file's name without suffix: ``stem``, or ``<stem>_<population>``.

    The global sensitivity analysis names its files by method: ``sobol`` (and
    ``sobol_<population>`` for its figures) and likewise ``morris``, ``delta`` and ``pawn``.
    """
    return stem if population is None else f"{stem}_{population}"


class ResultsDirectory:
    """Where each file of a results directory is.

    Parameters
    ----------
    path : str or Path
        The directory (it need not exist yet).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def table(self, stem: str, population: str | None = None) -> Path:
        """The CSV file of a table."""
        return self.path / (name(stem, population) + TABLE_SUFFIX)

    def figure(self, stem: str, population: str | None = None) -> Path:
        """A figure's path without suffix: one file per format is written there."""
        return self.path / name(stem, population)

    def written_figure(self, stem: str, population: str | None = None) -> Path | None:
        """The figure's file in the first of :data:`FIGURE_SUFFIXES` that exists, else None."""
        return _first_file(self.figure(stem, population), FIGURE_SUFFIXES)

    def figures(self) -> list[Path]:
        """Every figure in the directory, once each (its file as :meth:`written_figure` picks it)."""
        if not self.path.is_dir():
            return []
        stems = sorted({path.with_suffix("") for path in self.path.iterdir() if path.suffix in FIGURE_SUFFIXES})
        return [_first_file(stem, FIGURE_SUFFIXES) for stem in stems]

    def populations(self, stem: str) -> list[str]:
        """The populations with a table ``<stem>_<population>`` here, in the order of their file names."""
        return [path.name[len(stem) + 1:-len(TABLE_SUFFIX)]
                for path in sorted(self.path.glob(f"{stem}_*{TABLE_SUFFIX}"))]

    @property
    def record(self) -> Path:
        """The run record (:func:`claim_output`)."""
        return self.path / RUN_RECORD

    @property
    def store(self) -> Path:
        """The PSA store (:class:`markov.probabilistic.store.ResultsStore`)."""
        return self.path / STORE_DIRECTORY

    @property
    def dsa(self) -> ResultsDirectory:
        """The deterministic sensitivity analysis of a report directory."""
        return ResultsDirectory(self.path / DSA_DIRECTORY)

    @property
    def workbook(self) -> Path:
        return self.path / WORKBOOK

    @property
    def html_report(self) -> Path:
        return self.path / HTML_REPORT


def _first_file(stem: Path, suffixes: Iterable[str]) -> Path | None:
    files = (stem.with_name(stem.name + suffix) for suffix in suffixes)  # a stem may hold a dot
    return next((file for file in files if file.is_file()), None)


# ---------------------------------------------------------------------------------
# Tables on disk
# ---------------------------------------------------------------------------------

# pandas 2 reads every float of a CSV exactly only with the round-trip parser; pandas 3 does by
# default and deprecates the option
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


#: How a cell that a spreadsheet would run as a formula starts (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)


def _formula_like(text: str) -> bool:
    """Whether ``text``, without the quotes before it, would start a formula (a plain
    number such as ``-0.5`` would not)."""
    core = text.lstrip("'")
    return core.startswith(_FORMULA_START) and _PLAIN_NUMBER.fullmatch(core) is None


def _quoted(value):
    return f"'{value}" if isinstance(value, str) and _formula_like(value) else value


def _unquoted(value):
    return value[1:] if isinstance(value, str) and value.startswith("'") and _formula_like(value[1:]) else value


def _text_cells(frame: pd.DataFrame, change: Callable) -> pd.DataFrame:
    """``frame`` with ``change`` applied to its column names and the cells of its text
    columns (numbers, in numeric columns or not, are left as they are)."""
    frame = frame.rename(columns=change)
    for j, column in enumerate(frame.columns):
        values = frame.iloc[:, j]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            frame.isetitem(j, values.map(change))
    return frame


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` (without its index) as the CSV file ``path``, text that would start
    a spreadsheet formula quoted (module docstring); returns ``path``."""
    safe = _text_cells(frame, _quoted)
    return write_atomically(path, lambda partial: safe.to_csv(partial, index=False))


def read_table(path: Path) -> pd.DataFrame | None:
    """The CSV file ``path`` with every float and every text exactly as written (the
    quotes :func:`write_table` put before formula-like text removed), or None when it is
    absent or holds nothing (not even a header)."""
    try:
        frame = pd.read_csv(path, **_EXACT_FLOATS)
    except (FileNotFoundError, pd.errors.EmptyDataError):
        return None
    return _text_cells(frame, _unquoted)


def cost_category_columns(results: pd.DataFrame) -> list[str]:
    """The ``cost_<category>`` columns of a results table (``results_<population>.csv``).

    A results table holds ``population``, ``strategy``, ``label``, ``cost``,
    ``life_years`` and ``qalys``, then the cost by category, then the totals by health
    state, starting with the first ``life_years_<state>`` column; ``cost_<state>``
    columns come among the latter. So the categories are the ``cost_`` columns before
    the first ``life_years_`` one (a test holds the writer to this order).
    """
    categories = []
    for column in results.columns:
        if column.startswith("life_years_"):
            break
        if column.startswith("cost_"):
            categories.append(column)
    return categories


# ---------------------------------------------------------------------------------
# The run record
# ---------------------------------------------------------------------------------

@contextmanager
def writing(out: str | Path) -> Iterator[Path]:
    """Hold the lock of the results directory ``out`` (created if missing) while writing
    there: a command of another process that tries meanwhile is refused with
    :class:`InputError` naming the holder. Within a thread the lock is re-entrant, so a
    writer may call another. Temporary files a killed writer left are removed."""
    with DirectoryLock(out, "results directory"):
        remove_temporary_files(out)
        yield Path(out)


@contextmanager
def claim_output(out: str | Path, inputs: ModelInputs, psa_plan: Plan | None = None) -> Iterator[Path]:
    """Make ``out`` the results directory of ``inputs`` and hold it (:func:`writing`)
    while the command writes there; use as ``with claim_output(...) as path:``, from
    before the first file to :func:`record_finished`.

    ``out/run.json`` records whose results a directory holds (analysis, fingerprint of
    the model and inputs, package version, currency, strategy labels) and the commands
    that finished there (:func:`record_finished`). A directory holding another
    analysis's results, or files that markov did not write, is refused, so its results
    are never overwritten or mixed; the same analysis may write there again. With
    ``psa_plan``, its PSA store is checked first too. All this is checked before
    anything is changed, even the lock, and again once the lock is held (another
    command may have written meanwhile). A new directory gets its record; an existing
    one is not changed here.
    """
    directory = ResultsDirectory(out)
    _check_claim(directory, inputs, psa_plan)
    with writing(directory.path):
        held = _check_claim(directory, inputs, psa_plan)
        if held is None:
            _write_record(directory.record, {
                "analysis": inputs.analysis.name, "source": inputs.source,
                "fingerprint": model_fingerprint(inputs, code=False), "package_version": __version__,
                "perspective": inputs.analysis.perspective, "currency": inputs.perspective.currency,
                "price_year": inputs.perspective.price_year, **_reference_case(inputs), "commands": {},
                ANALYSIS_LABEL: analysis_label(inputs.analysis.name, inputs.analysis.description),
                PERSPECTIVE_LABEL: inputs.perspective.label,
                POPULATION_LABELS: {p: population.label for p, population in inputs.populations.items()},
                STRATEGY_LABELS: {p: {s: strategy.label for s, strategy in population.strategies.items()}
                                  for p, population in inputs.populations.items()}})
        yield directory.path


def _check_claim(directory: ResultsDirectory, inputs: ModelInputs, psa_plan: Plan | None) -> dict | None:
    """The run record of a directory ``inputs`` may write into (None if it is new or empty),
    else :class:`InputError`."""
    try:
        held = read_record(directory.path)
    except InputError:
        raise InputError(f"{directory.record}: unreadable; choose another output directory") from None
    if held is not None:
        if held.get("fingerprint") != model_fingerprint(inputs, code=False):
            raise InputError(f"{directory.path}: holds the results of another model or inputs (analysis "
                             f"{held.get('analysis')!r}); choose another output directory or delete this one")
    # a lock or a temporary file (a run stopped, or a full disk, before its record was written) is no result
    elif directory.path.is_file() or (directory.path.is_dir()
                                      and any(not is_bookkeeping(p.name) for p in directory.path.iterdir())):
        raise InputError(f"{directory.path}: exists and does not hold markov results; choose a new or empty output "
                         "directory")
    if psa_plan is not None:
        ResultsStore.check(directory.store, inputs, psa_plan)
    return held


def _reference_case(inputs: ModelInputs) -> dict:
    """What a record says of a perspective with confidential discounts: the reference case,
    whether prices are list prices and the discounts entered."""
    if not inputs.perspective.discounts:
        return {}
    return {"reference_case": inputs.perspective.reference_case, "prices": price_basis(inputs),
            "discounts_entered": discounts_text(inputs)}


def record_finished(out: str | Path, command: str, **details) -> None:
    """Note in ``out/run.json`` that ``command`` finished, with its ``details`` (a
    report shows them). Call it within :func:`claim_output`."""
    record = ResultsDirectory(out).record
    held = read_record(out) or {}
    commands = held.get("commands")
    if not isinstance(commands, dict):  # a record edited by hand: keep what it says, add the commands
        commands = held["commands"] = {}
    commands[command] = {"finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         **{key: value for key, value in details.items() if value is not None}}
    _write_record(record, held)


def read_record(directory: str | Path) -> dict | None:
    """The run record of ``directory``, or None when it has none.

    Raises
    ------
    InputError
        When the record cannot be read or is not a JSON object.
    """
    path = ResultsDirectory(directory).record
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: could not be read ({error})") from None
    if not isinstance(content, dict):
        raise InputError(f"{path}: not a JSON object: {content!r}")
    return content


def _write_record(path: Path, content: dict) -> None:
    text = json.dumps(content, indent=2, default=str) + "\n"
    write_atomically(path, lambda partial: partial.write_text(text, encoding="utf-8"))

"""The choice of every curve fitted to patient-level data, shown as NICE DSU TSD 14 and 21
ask (``markov run`` writes it beside the base case).

For each curve of kind ``fit`` (:class:`markov.inputs.curves.FittedCurve`), every candidate
model (:func:`markov.survival.candidate_models`, plus the model chosen if it is not among
them) is fitted to the same patients and compared (:func:`markov.survival.compare_models`), once
for the curves of several populations that name the same data and model (one fit, drawn once
in a PSA: :mod:`markov.inputs.patient_data`):

- ``survival_fits.csv``: one row per fit and candidate: population (those sharing the fit,
  comma-separated), curve, data file, arm, patients and events, the model, its parameters,
  log-likelihood, AIC, BIC, ΔAIC and ΔBIC against the best, the median, the restricted mean
  to the analysis horizon and survival at 1, 2 and 5 years extrapolated, whether the model
  file chose it and the reason it gives;
  a candidate that could not be fitted or used is a row that says why;
- ``survival_fits_validation.csv``, for curves whose specification names ``external``
  targets (data the fit did not see): each usable candidate's median and landmark survival
  beside the reported values, their 95% CIs and evidence status;
- per fit, four figures (:data:`markov.results.FIT_FIGURES`): the Kaplan–Meier estimate
  with the candidate fits within follow-up and extrapolated to the horizon, the hazards,
  and the log cumulative hazard of every arm of the data file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .._validate import InputError
from ..inputs import ModelInputs
from ..inputs.curves import FittedCurve
from ..inputs.ipd import arm_labels, read_sidecar, sidecar_path
from ..inputs.labels import sentence, source_label, words
from ..inputs.patient_data import read_data_file
from ..results import FIT_FIGURES, SURVIVAL_FITS, SURVIVAL_FITS_VALIDATION, ResultsDirectory, fit_figure, write_table
from ..survival import TIME_UNIT_YEARS, KaplanMeier, ModelComparison, candidate_models, compare_models, model_label
from . import figures

#: The reason shown for a chosen model whose specification gives none.
NO_REASON = "no reason given"
_TARGET_COLUMNS = ["reference", "label", "measure", "time", "survival", "time_low", "time_high", "survival_low",
                   "survival_high", "reported", "ci95_low", "ci95_high", "status", "source"]


@dataclass(frozen=True)
class FittedCurveComparison:
    """The candidate models of one fit to patient-level data, and the curves of the
    populations it is the fit of, ``uses``: (population, curve) pairs, one fit for every
    population whose curve names the same data and model (:mod:`markov.inputs.patient_data`)."""

    uses: tuple[tuple[str, str], ...]
    spec: FittedCurve
    comparison: ModelComparison

    @property
    def curve(self) -> str:
        """The curve's name (its first use's)."""
        return self.uses[0][1]

    @property
    def populations(self) -> list[str]:
        """The populations that use the fit, in the analysis's order."""
        return list(dict.fromkeys(population for population, _ in self.uses))

    @property
    def file_population(self) -> str | None:
        """The population that names the fit's files (``fit_observed_<curve>_<population>``):
        None, and no population in the name, for a fit of several."""
        populations = self.populations
        return populations[0] if len(populations) == 1 else None

    @property
    def chosen(self) -> str:
        """The name of the model the model file chose."""
        return self.spec.estimates.fit.name

    @property
    def title(self) -> str:
        """The curve and its data as a reader names them, for the first line of its figures'
        titles: ``BSC OS fitted to RESORCE (Placebo arm)``; a data file without a sidecar
        by its name."""
        path = self.spec.estimates.data_file
        sidecar = sidecar_path(path)
        trial = read_sidecar(sidecar).trial if sidecar.is_file() else Path(self.spec.file).name
        arm = arm_labels(path).get(self.spec.arm, self.spec.arm)
        return f"{sentence(words(self.curve))} fitted to {trial} ({arm} arm)"


def compare_fitted_curves(inputs: ModelInputs) -> list[FittedCurveComparison]:
    """Every candidate model of every fit of ``inputs`` to patient-level data, once for the
    curves of several populations that are one fit."""
    fits: dict[int, tuple[FittedCurve, list[tuple[str, str]]]] = {}  # by the fit's estimates, which its curves share
    for population, spec in inputs.populations.items():
        for curve, curve_spec in spec.curves.items():
            if isinstance(curve_spec, FittedCurve):
                fits.setdefault(id(curve_spec.estimates), (curve_spec, []))[1].append((population, curve))
    compared = []
    for spec, uses in fits.values():
        estimates = spec.estimates
        models = candidate_models()
        if estimates.fit.name not in {model.name for model in models}:
            models.append(estimates.fit.model)
        compared.append(FittedCurveComparison(tuple(uses), spec, compare_models(estimates.patients, models)))
    return compared


def survival_fits_table(inputs: ModelInputs, compared: list[FittedCurveComparison]) -> pd.DataFrame:
    """``survival_fits.csv``: one row per fitted curve and candidate model (module docstring)."""
    frames = []
    for item in compared:
        data = item.comparison.data
        table = item.comparison.table(inputs.analysis.horizon_years)
        chosen = table["model"] == item.chosen
        table.insert(0, "population", ", ".join(item.populations))
        table.insert(1, "curve", item.curve)
        table.insert(2, "data_file", item.spec.file)
        table.insert(3, "arm", item.spec.arm)
        table.insert(4, "n", len(data.time))
        table.insert(5, "events", data.n_events)
        frames.append(table.assign(chosen=chosen, reason=np.where(chosen, item.spec.reason or NO_REASON, "")))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def external_targets(inputs: ModelInputs, item: FittedCurveComparison) -> pd.DataFrame:
    """The external targets of a fitted curve, one row each: the reported value with its 95%
    CI, evidence status and source, and the point it marks on a survival plot (``time`` in
    the data's unit, ``survival``, and the interval of each). Empty without targets."""
    external, unit = item.spec.external, item.comparison.data.time_unit
    targets = [] if external is None else \
        [(ref, None) for ref in [external.median] if ref] + [(m.survival, m.time) for m in external.landmarks]
    rows = []
    for ref, time_ref in targets:
        reported = inputs.evidence[ref]
        value = reported.value
        low, high = value.ci95 or (np.nan, np.nan)
        if time_ref is None:  # a median: a time, at S = 0.5
            scale = TIME_UNIT_YEARS[value.unit] / TIME_UNIT_YEARS[unit]
            point = {"measure": f"median ({value.unit})", "time": value.value * scale, "survival": 0.5,
                     "time_low": low * scale, "time_high": high * scale, "survival_low": np.nan,
                     "survival_high": np.nan}
        else:
            at = inputs.evidence[time_ref].value
            point = {"measure": f"survival at {at.value:g} {at.unit}",
                     "time": at.value * TIME_UNIT_YEARS[at.unit] / TIME_UNIT_YEARS[unit], "survival": value.value,
                     "time_low": np.nan, "time_high": np.nan, "survival_low": low, "survival_high": high}
        rows.append({"reference": ref, "label": f"Reported ({source_label(ref.partition('.')[0])})", **point,
                     "reported": value.value, "ci95_low": low, "ci95_high": high, "status": value.status,
                     "source": " ".join(reported.source.citation.split())})
    return pd.DataFrame(rows, columns=_TARGET_COLUMNS)


def validation_table(inputs: ModelInputs, compared: list[FittedCurveComparison]) -> pd.DataFrame:
    """``survival_fits_validation.csv``: each usable candidate's predictions beside the
    external targets of its curve (module docstring)."""
    frames = []
    for item in compared:
        targets = external_targets(inputs, item)
        if targets.empty:
            continue
        is_median = targets["measure"].str.startswith("median").to_numpy()
        for name, result in item.comparison.usable().items():
            curve = result.curve
            # a median is predicted as a time, in the reported unit; a landmark as survival
            in_reported_unit = targets["reported"] / targets["time"]
            predicted = np.where(is_median, curve.median()[0] * in_reported_unit,
                                 curve.survival(targets["time"].to_numpy())[0])
            frame = targets[["measure", "reported", "ci95_low", "ci95_high", "status", "reference", "source"]].assign(
                population=", ".join(item.populations), curve=item.curve, model=name, label=model_label(name),
                chosen=name == item.chosen, predicted=predicted, difference=predicted - targets["reported"],
                within_ci=[bool(low <= p <= high) if np.isfinite(low) else pd.NA
                           for p, low, high in zip(predicted, targets["ci95_low"], targets["ci95_high"], strict=True)],
                note=item.spec.external.note or "")
            frames.append(frame)
    columns = ["population", "curve", "model", "label", "chosen", "measure", "reported", "ci95_low", "ci95_high",
               "status", "predicted", "difference", "within_ci", "reference", "source", "note"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def fitted_curve_figure(inputs: ModelInputs, item: FittedCurveComparison, kind: str) -> Figure:
    """Figure ``kind`` (one of :data:`markov.results.FIT_FIGURES`) of one fitted curve."""
    spec, comparison = item.spec, item.comparison
    horizon = inputs.analysis.horizon_years / TIME_UNIT_YEARS[comparison.data.time_unit]
    return figures.fitted_curve_figure(kind, comparison, chosen=item.chosen, title=item.title, horizon=horizon,
                                       arms=_arms(spec) if kind == "fit_log_cumulative_hazard" else {},
                                       reported=external_targets(inputs, item))


def _arms(spec: FittedCurve) -> dict[str, KaplanMeier]:
    """Kaplan–Meier estimates of every arm of the curve's data file in the file's order (so
    an arm keeps its colour in the figures of every curve fitted to the file), labelled as
    the file's sidecar names them (if it has one), the fitted arm marked."""
    path = spec.estimates.data_file
    frame = read_data_file(path).frame
    labels = arm_labels(path)
    arms = {}
    for arm in dict.fromkeys(frame["arm"]):
        rows = frame[frame["arm"] == arm]
        label = labels.get(arm, arm) + (" (fitted)" if arm == spec.arm else "")
        arms[label] = KaplanMeier.fit(rows["time"].to_numpy(), rows["event"].to_numpy(), time_unit=spec.time_unit)
    return arms


def find(compared: list[FittedCurveComparison], curve: str, population: str) -> FittedCurveComparison:
    """The comparison of ``curve`` in ``population``."""
    for item in compared:
        if (population, curve) in item.uses:
            return item
    fitted = ", ".join(f"{c} ({p})" for item in compared for p, c in item.uses) or "none"
    raise InputError(f"curve {curve!r} of population {population!r}: not fitted to patient-level data (kind: fit) "
                     f"in this analysis (fitted curves: {fitted})")


def write_survival_fits(inputs: ModelInputs, out: Path, writer: figures.FigureWriter) -> list[Path]:
    """The tables of every fitted curve under the results directory ``out``, its figures
    given to ``writer``; nothing when the analysis fits no curve."""
    compared = compare_fitted_curves(inputs)
    if not compared:
        return []
    directory = ResultsDirectory(out)
    files = [write_table(survival_fits_table(inputs, compared), directory.table(SURVIVAL_FITS))]
    validation = validation_table(inputs, compared)
    if len(validation):
        files.append(write_table(validation, directory.table(SURVIVAL_FITS_VALIDATION)))
    for item in compared:
        for kind in FIT_FIGURES:
            writer.add(directory.figure(fit_figure(kind, item.curve), item.file_population), fitted_curve_figure,
                       inputs, item, kind)
    return files

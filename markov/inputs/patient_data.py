"""Curves fitted to patient-level data, once, when an analysis is loaded.

A curve of kind ``fit`` or ``kaplan_meier_with_tail`` (:mod:`markov.inputs.curves`), and a
strategy's ``targets.os_data`` (:class:`~markov.inputs.schema.SurvivalData`), name a CSV file
with columns ``time``, ``event`` (1 event, 0 censored) and ``arm``. A relative path is
looked for beside the analysis file, then in the model directory (that of
``populations.yaml``), then among the data shipped with markov (``params/``: ``ipd/<file>.csv``
names a shipped trial's data). The fit (:func:`markov.survival.fit`; for a tail,
:func:`markov.survival.fit_tail`) runs here, in the inputs layer, and its coefficients —
on flexsurv's unconstrained scale — enter the analysis as derived evidence: the values of
an evidence file ``fit_<curve>`` (``fit_<population>_<curve>`` where populations fit
different data or models under one curve name), unit ``coefficient``, status
``calculated``, a calculation naming the method, file, arm, number of patients and events,
and (with two or more coefficients) a ``joint`` multivariate normal with the fit's
covariance. So a probabilistic analysis and a global sensitivity analysis draw them
together (:meth:`ModelInputs.transform`), the inputs table lists them with the data's
source, and the curve's builder makes the curve from the drawn coefficients. Knots placed
from the data are derived values too (fixed). The data a strategy's targets name are read
here too, into their Kaplan–Meier estimate (the model is compared with it, never fitted to
it). Within one load each file is read once and each fit made once; the curves of several
populations that name the same data and model are one fit, one evidence file, whose
coefficients a probabilistic analysis draws once for all of them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from .._reading import decode, read_bytes
from .._validate import InputError, excerpt, validation_error
from ..survival import (
    TIME_UNIT_YEARS,
    FitResult,
    GeneralPopulationSurvival,
    KaplanMeier,
    LifeTable,
    PatientData,
    fit,
    fit_tail,
)
from ..survival.fitting.comparison import why_unusable
from .curves import FitEstimates, KaplanMeierTailCurve, PatientDataCurve
from .evidence import EvidenceFile, EvidenceValue, JointDistribution, Source
from .ipd import read_sidecar, sidecar_path
from .parameters import ModelInputs, ParameterSet
from .schema import Observed, PatientDataFile, SurvivalData
from .structures import Population

#: The columns a patient-level data file must have.
COLUMNS = ("time", "event", "arm")


@dataclasses.dataclass(frozen=True)
class _Data:
    """A data file read and checked, with the digest that identifies its content."""

    path: Path
    frame: pd.DataFrame
    digest: str


def find_data_file(name: str, directories: list[Path], where: str) -> Path:
    """The data file a curve names.

    Parameters
    ----------
    name : str
        The ``file`` of the curve: taken as it is if absolute.
    directories : list of Path
        Where a relative ``name`` is looked for, in order (the analysis file's
        directory, the model directory, the shipped data).
    where : str
        The curve's place, for the error when no file is found.
    """
    candidates = [Path(name)] if Path(name).is_absolute() else [directory / name for directory in directories]
    for path in candidates:
        if path.exists():
            return path
    raise InputError(f"{where}.file = {name!r}: no such file (looked for {', '.join(map(str, candidates))})")


def read_data_file(path: Path) -> _Data:
    """A patient-level data file, read and checked: it has the :data:`COLUMNS`, every
    time is a positive number, every event 0 or 1, every patient an arm. Errors name the
    file, the column and line, the value and the rule."""
    data = read_bytes(path, "patient-level data file")
    text = decode(data, path, "patient-level data file")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={"arm": str})
    except ValueError as error:
        raise InputError(f"{path}: not a readable CSV file ({excerpt(str(error), 200)})") from None
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(f"{path}: has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))}); "
                         f"patient-level data need the columns {', '.join(COLUMNS)}")
    for column, rule, valid in (
            ("time", "times must be positive numbers", lambda v: np.isfinite(v) & (v > 0)),
            ("event", "events must be 1 (event) or 0 (censored)", lambda v: np.isin(v, (0.0, 1.0)))):
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        bad = ~valid(values)
        if bad.any():
            row = int(np.argmax(bad))
            raw = frame[column].iloc[row]
            shown = raw.item() if isinstance(raw, np.generic) else raw
            raise InputError(f"{path}: column {column!r}, line {row + 2}, is {shown!r}: {rule}")
        frame[column] = values
    if frame["arm"].isna().any():
        raise InputError(f"{path}: column 'arm', line {int(np.argmax(frame['arm'].isna())) + 2}, is empty: every "
                         "patient needs an arm")
    return _Data(path, frame, hashlib.sha256(data).hexdigest())


def _value_name(coefficient: str) -> str:
    """An evidence value name for a coefficient: ``log(shape)`` -> ``log_shape``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", coefficient).strip("_")


class _Fits:
    """The data files and fits of one load, each made once."""

    def __init__(self, inputs: ModelInputs, directories: list[Path]) -> None:
        self.inputs, self.directories = inputs, [inputs.directory, *directories]
        self.base: ParameterSet = inputs.base_case()
        self.files: dict[Path, _Data] = {}
        self.fits: dict[tuple, tuple[FitResult, KaplanMeier | None]] = {}

    def data(self, spec: PatientDataFile, where: str) -> tuple[_Data, PatientData]:
        """The file a curve or a target names, read once, and the patients of its arm."""
        path = find_data_file(spec.file, self.directories, where).resolve()
        if path not in self.files:
            self.files[path] = read_data_file(path)
        data = self.files[path]
        rows = data.frame[data.frame["arm"] == spec.arm]
        if rows.empty:
            arms = ", ".join(sorted(map(str, data.frame["arm"].unique())))
            raise InputError(f"{path}: arm {spec.arm!r} (named by {where}.arm) is not in column 'arm' (arms: {arms})")
        return data, PatientData(rows["time"].to_numpy(), rows["event"].to_numpy(), spec.time_unit)

    def in_data_unit(self, ref: str, spec: PatientDataCurve) -> float:
        """A duration at its point estimate, in the data's time unit."""
        return float(self.base.years(ref)[0]) / TIME_UNIT_YEARS[spec.time_unit]

    def background(self, population: Population) -> GeneralPopulationSurvival:
        """General-population survival at the point estimates, for a cure model."""
        return GeneralPopulationSurvival(LifeTable.load(self.inputs.perspective.life_table),
                                         self.base[population.start_age][0], self.base[population.share_female][0])

    def fit(self, spec: PatientDataCurve, population: Population, where: str
            ) -> tuple[tuple, _Data, PatientData, FitResult, KaplanMeier | None]:
        """The fit of ``spec`` (and, for a tail, the Kaplan–Meier estimate it continues),
        after what identifies it: the curves of one key are one fit."""
        data, patients = self.data(spec, where)
        settings = str(spec.model_dump(mode="json", exclude={"file", "source"}))
        if isinstance(spec, KaplanMeierTailCurve):
            cut = self.in_data_unit(spec.cut_point, spec)
            key, field = (data.path, settings, cut), f".cut_point = {spec.cut_point!r}"

            def make() -> tuple[FitResult, KaplanMeier | None]:
                curve, result = fit_tail(spec.curve_model(), patients, cut)
                return result, curve.kaplan_meier
        else:
            cuts = [self.in_data_unit(ref, spec) for ref in spec.cut_points or []]
            background = self.background(population) if spec.uses_general_population else None
            demography = None if background is None else (background.start_age[0], background.share_female[0])
            key, field = (data.path, settings, tuple(cuts), demography), ""

            def make() -> tuple[FitResult, KaplanMeier | None]:
                return fit(spec.curve_model(cuts or None, None, background), patients), None
        if key not in self.fits:
            try:
                self.fits[key] = make()
            except InputError as error:
                raise InputError(f"{where}{field}: {error} (data: {data.path}, arm {spec.arm!r})") from None
        result, kaplan_meier = self.fits[key]
        problem = why_unusable(result)
        if problem:
            raise InputError(f"{where}: the {result.name} fit to {data.path} (arm {spec.arm!r}) cannot be used: "
                             f"{problem}; choose another family or fewer parameters")
        return key, data, patients, result, kaplan_meier


def _evidence(spec: PatientDataCurve, data: _Data, patients: PatientData, result: FitResult,
              where: str) -> EvidenceFile:
    """The derived evidence of a fit: its coefficients (and knots), their joint distribution."""
    method = f"maximum-likelihood fit of {result.name} (flexsurv's parametrisation; markov.survival.fit)"
    if isinstance(spec, KaplanMeierTailCurve):
        method += f" to the {result.n_observations} patients at risk at the cut point (left-truncated there)"
    # the file as the model names it and its digest: the text is the same on any machine
    fitted = (f"{method}; data {spec.file} (sha256 {data.digest[:16]}), arm {spec.arm!r}: "
              f"n = {len(patients.time)}, {patients.n_events} events; log-likelihood {result.log_likelihood:.6g}, "
              f"AIC {result.aic:.6g}")
    here = f"{spec.file}, arm {spec.arm!r}"
    names = [_value_name(name) for name in result.coefficient_names]
    values = {name: EvidenceValue(value=float(value), unit="coefficient", status="calculated", where=here,
                                  se=float(se), calculation=f"{fitted}; coefficient {label} (unconstrained scale)")
              for name, label, value, se in zip(names, result.coefficient_names, result.coefficients,
                                                result.standard_errors, strict=True)}
    knots = getattr(result.model, "knots", None)  # a spline's, placed from the data
    for i, knot in enumerate([] if knots is None else knots):
        values[f"knot_{i}"] = EvidenceValue(value=float(knot), unit="coefficient", status="calculated", where=here,
                                            calculation=f"knot {i} on log time, placed by flexsurv's default rule "
                                                        f"(quantiles of the log event times) for the {fitted}")
    covariance = 0.5 * (result.covariance + result.covariance.T)  # symmetric to the last digit
    joint = {} if len(names) < 2 else {"coefficients": JointDistribution(
        values=names, distribution="multivariate_normal", covariance=covariance.tolist(),
        note="the fit's asymptotic covariance (inverse Hessian of the log-likelihood)")}
    try:
        source = Source(**spec.source.model_dump()) if spec.source else _file_source(spec, data.path)
    except ValidationError as error:
        raise validation_error(f"{where}.source", error) from None
    return EvidenceFile(source=source, values=values, joint=joint)


def _observed(fits: _Fits, spec: SurvivalData, where: str) -> SurvivalData:
    """``spec`` holding its arm's Kaplan–Meier estimate (in months) and the follow-up to
    compare over."""
    data, patients = fits.data(spec, where)
    to_months = TIME_UNIT_YEARS[spec.time_unit] * 12.0
    kaplan_meier = KaplanMeier.fit(patients.time * to_months, patients.event, time_unit="months")
    if spec.follow_up is None:
        if not patients.n_events:
            raise InputError(f"{data.path}: arm {spec.arm!r} (named by {where}.arm) has no events: give "
                             f"{where}.follow_up to compare the model over")
        follow_up = float(patients.time[patients.event == 1].max()) * to_months
    else:
        follow_up, last = float(fits.base.years(spec.follow_up)[0]) * 12.0, float(kaplan_meier.times[-1])
        if not 0 < follow_up <= last:
            raise InputError(f"{where}.follow_up = {spec.follow_up!r} ({follow_up:g} months): must be positive and "
                             f"at most the last time observed in arm {spec.arm!r} of {data.path} ({last:g} months)")
    return spec.with_observed(Observed(kaplan_meier, follow_up, data.digest))


def _with_observed(fits: _Fits, strategy, where: str):
    """``strategy`` (of any structure) with the data its targets name read."""
    targets = strategy.targets
    if targets is None or targets.os_data is None:
        return strategy
    data = _observed(fits, targets.os_data, f"{where}.targets.os_data")
    return strategy.model_copy(update={"targets": targets.model_copy(update={"os_data": data})})


def _file_source(spec: PatientDataCurve, path: Path) -> Source:
    """The source of data whose curve cites none: the citations of the file's sidecar (the
    shipped data have one), or else the file itself."""
    if not sidecar_path(path).exists():
        return Source(citation=f"patient-level data {spec.file}", kind="patient_data", url=path.as_uri())
    sidecar = read_sidecar(sidecar_path(path))
    citations = sidecar.citations
    return Source(citation=f"{citations.trial.citation} {sidecar.trial}, {sidecar.figure}, reconstructed by "
                           f"{citations.method.citation} Data: {citations.data.citation}",
                  doi=citations.trial.doi, url=citations.data.repository,
                  kind="trial", note=f"patient-level data {spec.file} (sha256 {sidecar.sha256[:16]})")


def _stems(fits: list[list[tuple]]) -> list[str]:
    """The evidence name of each fit, from the curves it is the fit of, (population, curve,
    …) each: ``fit_<curve>`` for a fit whose curves have one name that no other fit has,
    whichever populations use it; else ``fit_<population>_<curve>`` of its first curve. One
    fit is one name, so that its coefficients are drawn once in a PSA."""
    names = [sorted({curve for _, curve, *_ in curves}) for curves in fits]
    fits_named = Counter(name for found in names for name in found)
    own = [f"fit_{curves[0][0]}_{curves[0][1]}" for curves in fits]
    stems = [f"fit_{found[0]}" if len(found) == 1 and fits_named[found[0]] == 1 else name
             for found, name in zip(names, own, strict=True)]
    return stems if len(set(stems)) == len(stems) else own  # a curve's name that is another's own: by population


def with_fits(inputs: ModelInputs, where: str, directories: list[Path]) -> ModelInputs:
    """Every curve of ``inputs`` fitted to patient-level data, and the data its strategies'
    targets name read.

    Parameters
    ----------
    inputs : ModelInputs
        The analysis as loaded, its references checked.
    where : str
        The populations file, for errors.
    directories : list of Path
        Where a relative data file is looked for after the analysis file's directory, in
        order: the model directory, then the data shipped with markov.

    Returns
    -------
    ModelInputs
        ``inputs`` itself when no data file is named; otherwise with each fit's derived
        evidence in the library and in use, each fitted curve's specification recording
        its references (:class:`~markov.inputs.curves.FitEstimates`), and each target's
        data their Kaplan–Meier estimate (:class:`~markov.inputs.schema.Observed`).
    """
    fits = _Fits(inputs, directories)
    fitted: dict[tuple, list[tuple[str, str, PatientDataCurve, tuple]]] = {}  # key -> its curves and their fit
    for p_name, population in inputs.populations.items():
        for c_name, spec in population.curves.items():
            if isinstance(spec, PatientDataCurve):
                key, *found = fits.fit(spec, population, f"{where}: populations.{p_name}.curves.{c_name}")
                fitted.setdefault(key, []).append((p_name, c_name, spec, tuple(found)))
    files, locations, uses, populations = {}, {}, dict(inputs.uses), dict(inputs.populations)
    estimates: dict[tuple[str, str], FitEstimates] = {}
    for stem, curves in zip(_stems(list(fitted.values())), fitted.values(), strict=True):
        p_name, c_name, spec, (data, patients, result, kaplan_meier) = curves[0]
        files[stem] = _evidence(spec, data, patients, result, f"{where}: populations.{p_name}.curves.{c_name}")
        used_by = [f"populations.{p}.curves.{c}" for p, c, *_ in curves]
        locations[stem] = f"{', '.join(used_by)} (fitted to {data.path})"
        refs = [f"{stem}.{name}" for name in files[stem].values]
        for ref in refs:
            uses[ref] = used_by
        n_coefficients = len(result.coefficient_names)
        # one object for every curve of the fit, so that populations share the curve it makes
        shared = FitEstimates(tuple(refs[:n_coefficients]), tuple(refs[n_coefficients:]), kaplan_meier, data.path,
                              patients, result)
        estimates.update({(p, c): shared for p, c, *_ in curves})
    for p_name, population in inputs.populations.items():
        curves = {c_name: spec.with_estimates(estimates[p_name, c_name]) if (p_name, c_name) in estimates else spec
                  for c_name, spec in population.curves.items()}
        strategies = {s_name: _with_observed(fits, strategy, f"{where}: populations.{p_name}.strategies.{s_name}")
                      for s_name, strategy in population.strategies.items()}
        populations[p_name] = population.model_copy(update={"curves": curves, "strategies": strategies})
    if not fits.files:
        return inputs
    evidence = inputs.evidence.with_files(files, locations) if files else inputs.evidence
    return dataclasses.replace(inputs, populations=populations, uses=uses, evidence=evidence)

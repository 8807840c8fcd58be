"""Networks of trials as data, fitted once when an analysis is loaded.

A network file ``networks/<name>.yaml`` (shipped in ``params/networks/``, or beside an
analysis or in its model directory, looked for in that order: analysis, model, shipped)
describes an anchored indirect comparison of hazard ratios (NICE DSU TSD 18):

.. code-block:: yaml

    description: Overall survival, first-line advanced HCC
    reference: sorafenib          # every hazard ratio is against it
    model: random                 # the default of curves that use the network
    tau2: reml                    # or dl
    treatments: {sorafenib: Sorafenib, lenvatinib: Lenvatinib}
    trials:
      reflect:
        label: REFLECT (Kudo 2018)
        control: sorafenib
        ipd:                      # a Cox fit to patient-level data ...
          file: ipd/reflect_kudo2018_fig2.csv
          arms: {lenvatinib: lenvatinib, sorafenib: sorafenib}   # arm in the file -> treatment
        reported: {lenvatinib: reflect_kudo_2018.os_hazard_ratio_lenvatinib_vs_sorafenib}
        source: {citation: "...", doi: ...}
        why: IPD preferred; the published HR is shown beside the Cox estimate
    excluded: {soramic: why it is not in the network}

A trial enters through a Cox model of its patient-level data (``ipd``) or through reported
hazard ratios with 95% CIs (``reported``, evidence references against ``control``; a trial
of three or more arms also needs ``control_deaths``), as ``use`` says (by default: its
``ipd`` where it has one; the reported ratios of such a trial are then shown for
comparison). A relative data file is looked for beside the analysis file, in the model
directory, then in the directory that holds the network's ``networks/`` folder (for the
shipped networks, the package's data: ``ipd/<file>.csv`` is ``params/ipd/<file>.csv``).

A curve of kind ``network`` (:class:`markov.inputs.curves.NetworkCurve`) names the
network, a treatment and a reference curve. When the analysis is loaded each network it
uses is fitted once (:func:`markov.survival.synthesis.fit_network`); the log hazard ratios
of the treatments its curves use enter the analysis as derived evidence — an evidence file
``nma_<network>_<model>``, unit ``coefficient``, status ``calculated``, the network file as
the source and the method, trials and results in each value's calculation — drawn together
from the network's multivariate normal (a ``joint`` block with the covariance of those
treatments), so a probabilistic or global sensitivity analysis draws all of a model's
hazard ratios from one network consistently.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from .._validate import InputError
from ..survival.synthesis import (
    MODELS,
    TAU2_METHODS,
    TIME_TRANSFORMS,
    NetworkMetaAnalysis,
    TrialContrasts,
    fit_arms,
    fit_network,
)
from .curves import DataSource, NetworkCurve
from .evidence import (
    EvidenceFile,
    EvidenceLibrary,
    EvidenceValue,
    JointDistribution,
    Source,
    read_validated,
    shipped_evidence_directory,
)
from .parameters import ModelInputs
from .patient_data import find_data_file, read_data_file
from .schema import Name, Ref, _Strict

Model = Literal[MODELS]  # type: ignore[valid-type]


class TrialData(_Strict):
    """A trial's patient-level data: the file and which of its arms are which treatment
    (arms not named are left out)."""

    file: str
    arms: dict[str, Name] = Field(min_length=2)


class NetworkTrial(_Strict):
    """One trial of a network and why it is there."""

    label: str
    control: Name
    ipd: TrialData | None = None
    reported: dict[Name, Ref] = Field(default_factory=dict)
    control_deaths: Ref | None = None
    use: Literal["ipd", "reported"] | None = None
    source: DataSource | None = None
    why: str

    @model_validator(mode="after")
    def _complete(self) -> NetworkTrial:
        if self.ipd is None and not self.reported:
            raise ValueError("give ipd (a patient-level data file) or reported hazard ratios, or both")
        if self.used == "ipd":
            if self.ipd is None:
                raise ValueError("use: ipd needs ipd")
            if self.source is None:
                raise ValueError("a trial entered through its patient-level data needs source (its publication)")
            if self.control not in self.ipd.arms.values():
                raise ValueError(f"control {self.control!r} is not among the treatments of ipd.arms")
        elif not self.reported:
            raise ValueError("use: reported needs reported hazard ratios")
        if self.control_deaths is not None and (self.used == "ipd" or len(self.reported) < 2):
            raise ValueError("control_deaths is for a trial of three or more arms entered through reported hazard "
                             "ratios (a Cox fit gives the covariance itself)")
        if self.control in self.reported:
            raise ValueError(f"reported: {self.control!r} is the control; give each other arm's HR against it")
        return self

    @property
    def used(self) -> str:
        """How the trial enters the network: ``ipd`` or ``reported``."""
        return self.use or ("ipd" if self.ipd is not None else "reported")

    @property
    def treatments(self) -> set[str]:
        return {self.control, *self.reported, *(self.ipd.arms.values() if self.ipd else ())}


class NetworkFile(_Strict):
    """A network meta-analysis of hazard ratios (module docstring)."""

    description: str
    outcome: str
    reference: Name
    model: Model = "random"
    tau2: Literal[TAU2_METHODS] = "reml"  # type: ignore[valid-type]
    proportional_hazards_transform: Literal[TIME_TRANSFORMS] = "km"  # type: ignore[valid-type]
    treatments: dict[Name, str]
    trials: dict[str, NetworkTrial] = Field(min_length=1)
    excluded: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _treatments_named(self) -> NetworkFile:
        if self.reference not in self.treatments:
            raise ValueError(f"reference {self.reference!r} is not one of the treatments")
        for name, trial in self.trials.items():
            unknown = sorted(trial.treatments - set(self.treatments))
            if unknown:
                raise ValueError(f"trials.{name}: treatment {unknown[0]!r} is not one of the treatments "
                                 f"({', '.join(self.treatments)})")
        return self


@dataclasses.dataclass(frozen=True)
class FittedNetwork:
    """A network file, where it was found and its fit."""

    name: str
    path: Path
    file: NetworkFile
    analysis: NetworkMetaAnalysis
    provenance: dict[str, str]  # trial -> how it entered


def find_network(name: str, directories: list[Path], where: str) -> Path:
    """The file of network ``name``: ``networks/<name>.yaml`` in the first of ``directories`` that has it."""
    candidates = [directory / "networks" / f"{name}.yaml" for directory in directories]
    for path in candidates:
        if path.exists():
            return path
    raise InputError(f"{where}.network = {name!r}: no such network (looked for {', '.join(map(str, candidates))})")


def read_network(path: Path) -> NetworkFile:
    """A network file, validated; errors name the file, the field and the rule."""
    return read_validated(path, NetworkFile)


def _value(evidence: EvidenceLibrary, ref: str, where: str) -> EvidenceValue:
    """The evidence value ``ref``, or an error naming the place in the network file that uses it."""
    try:
        return evidence[ref].value
    except InputError as error:
        raise InputError(f"{where}: {error}") from None


def _reported(trial: NetworkTrial, evidence: EvidenceLibrary, where: str) -> dict[str, tuple[float, float, float]]:
    hazard_ratios = {}
    for treatment, ref in trial.reported.items():
        item = _value(evidence, ref, f"{where}.reported.{treatment}")
        if item.unit != "hazard_ratio" or item.ci95 is None:
            raise InputError(f"{where}.reported.{treatment} = {ref!r}: needs a hazard_ratio with its ci95 (has unit "
                             f"{item.unit!r}{'' if item.ci95 else ', no ci95'})")
        hazard_ratios[treatment] = (item.value, *item.ci95)
    return hazard_ratios


def _trial_contrasts(name: str, trial: NetworkTrial, network: NetworkFile, evidence: EvidenceLibrary,
                     directories: list[Path], where: str) -> tuple[TrialContrasts, str]:
    """A trial's contrasts, and a sentence saying how they were obtained."""
    here = f"{where}: trials.{name}"
    if trial.used == "reported":
        deaths = None
        if trial.control_deaths is not None:
            item = _value(evidence, trial.control_deaths, f"{here}.control_deaths")
            if item.unit != "count" or not item.value > 0:
                raise InputError(f"{here}.control_deaths = {trial.control_deaths!r}: needs a positive count")
            deaths = item.value
        contrasts = TrialContrasts.reported(trial.label, trial.control, _reported(trial, evidence, here),
                                            None if deaths is None else 1.0 / deaths,
                                            source=f"reported: {', '.join(trial.reported.values())}")
        return contrasts, f"{trial.label}: reported hazard ratios ({', '.join(trial.reported.values())})"
    data = read_data_file(find_data_file(trial.ipd.file, directories, f"{here}.ipd"))
    rows = data.frame[data.frame["arm"].isin(list(trial.ipd.arms))]
    missing = sorted(set(trial.ipd.arms) - set(rows["arm"]))
    if missing:
        arms = ", ".join(sorted(map(str, data.frame["arm"].unique())))
        raise InputError(f"{data.path}: arm {missing[0]!r} (named by {here}.ipd.arms) is not in column 'arm' "
                         f"(arms: {arms})")
    try:
        result = fit_arms(rows["time"].to_numpy(), rows["event"].to_numpy(),
                          rows["arm"].map(trial.ipd.arms).to_numpy(), trial.control)
    except InputError as error:
        raise InputError(f"{here}: the Cox fit to {data.path}: {error}") from None
    method = (f"Cox model (Breslow ties) of {trial.ipd.file} (sha256 {data.digest[:16]}), "
              f"{result.n_observations} patients, {result.n_events} deaths")
    contrasts = TrialContrasts.from_cox(trial.label, trial.control, result, method,
                                        network.proportional_hazards_transform)
    arms = ", ".join(f"{arm} = {treatment}" for arm, treatment in trial.ipd.arms.items())
    return contrasts, f"{trial.label}: {method} (arms {arms})"


def fit_network_file(name: str, path: Path, evidence: EvidenceLibrary, directories: list[Path]) -> FittedNetwork:
    """Read network ``name`` at ``path`` and fit it.

    Parameters
    ----------
    name, path : str, Path
        The network and its file.
    evidence : EvidenceLibrary
        Where the reported hazard ratios (and control deaths) are looked up.
    directories : list of Path
        Where relative data files are looked for, in order.
    """
    network = read_network(path)
    trials, provenance = [], {}
    for trial_name, trial in network.trials.items():
        contrasts, how = _trial_contrasts(trial_name, trial, network, evidence, directories, str(path))
        trials.append(contrasts)
        provenance[trial_name] = how
    unused = sorted(set(network.treatments) - {t for trial in trials for t in trial.arms})
    if unused:
        raise InputError(f"{path}: treatments.{unused[0]} is in no trial; remove it or add its trials")
    try:
        analysis = fit_network(trials, network.reference, network.tau2)
    except InputError as error:
        raise InputError(f"{path}: {error}") from None
    return FittedNetwork(name, path, network, analysis, provenance)


def _evidence(fitted: FittedNetwork, model: str, treatments: list[str]) -> EvidenceFile:
    """The derived evidence of ``model``'s log hazard ratios of ``treatments`` against the reference."""
    network, analysis = fitted.file, fitted.analysis
    estimates, reference = analysis.estimates(model), network.reference
    heterogeneity, inconsistency = analysis.heterogeneity, analysis.inconsistency
    tau2 = ("" if model == "fixed" else
            f", tau2 = {heterogeneity.tau2:.4g} ({'REML' if network.tau2 == 'reml' else 'DerSimonian-Laird'})")
    inconsistency_text = inconsistency.note or (f"design-by-treatment Q = {inconsistency.q_fixed:.3g} on "
                                                f"{inconsistency.df} df, p = {inconsistency.p_fixed:.3g}")
    kind = "fixed-effect" if model == "fixed" else "random-effects"
    method = (f"{kind} network meta-analysis of {network.outcome} log hazard ratios{tau2}, by generalised least "
              f"squares on the basic parameters against {reference} (markov.survival.synthesis); network "
              f"{fitted.path.name}, {len(network.trials)} trials: {'; '.join(fitted.provenance.values())}. "
              f"Heterogeneity Q = {heterogeneity.q:.3g} on {heterogeneity.df} df; inconsistency: {inconsistency_text}")
    table = estimates.hazard_ratios().set_index("treatment")
    names = [f"log_hazard_ratio_{treatment}_vs_{reference}" for treatment in treatments]
    values = {}
    for name, treatment in zip(names, treatments, strict=True):
        row = table.loc[treatment]
        values[name] = EvidenceValue(
            value=float(row["log_hr"]), se=float(row["se"]), unit="coefficient", status="calculated",
            where=f"{fitted.path.name}: {treatment} vs {reference}, {model} effects",
            calculation=f"{method}. {treatment} vs {reference}: HR {row['hr']:.3f} (95% CI {row['lower']:.3f} to "
                        f"{row['upper']:.3f})")
    index = [estimates.treatments.index(treatment) for treatment in treatments]
    covariance = estimates.covariance[np.ix_(index, index)]
    joint = {} if len(names) < 2 else {"log_hazard_ratios": JointDistribution(
        values=names, distribution="multivariate_normal", covariance=covariance.tolist(),
        note=f"the {model}-effects network's covariance of these treatments' log hazard ratios against {reference}")}
    source = Source(citation=f"Network meta-analysis: {network.description} ({fitted.path.name})",
                    kind="evidence_synthesis", url=fitted.path.as_uri(),
                    note="trials, sources and choices are stated in the network file")
    return EvidenceFile(source=source, values=values, joint=joint)


def with_networks(inputs: ModelInputs, where: str, model_directory: Path) -> ModelInputs:
    """Every curve of ``inputs`` from a network meta-analysis, with its estimate.

    Parameters
    ----------
    inputs : ModelInputs
        The analysis as loaded.
    where : str
        The populations file, for errors.
    model_directory : Path
        The directory of the model files: networks and data files are looked for beside
        the analysis file, then here, then among the shipped files.

    Returns
    -------
    ModelInputs
        ``inputs`` itself when no curve uses a network; otherwise with each network's
        derived evidence in the library and in use, and each such curve recording the
        reference of its log hazard ratio and the fitted network.
    """
    places = [inputs.directory, model_directory, shipped_evidence_directory().parent]
    fitted: dict[str, FittedNetwork] = {}
    used: dict[tuple[str, str], dict[str, list[str]]] = {}  # (network, model) -> treatment -> curves
    for p_name, population in inputs.populations.items():
        for c_name, spec in population.curves.items():
            if not isinstance(spec, NetworkCurve):
                continue
            here = f"{where}: populations.{p_name}.curves.{c_name}"
            if spec.network not in fitted:
                path = find_network(spec.network, places, here)
                fitted[spec.network] = fit_network_file(spec.network, path, inputs.evidence,
                                                        [inputs.directory, model_directory, path.parent.parent])
            network = fitted[spec.network].file
            if spec.treatment == network.reference or spec.treatment not in network.treatments:
                raise InputError(f"{here}.treatment = {spec.treatment!r}: not a treatment of network {spec.network!r} "
                                 f"other than its reference {network.reference!r} (treatments: "
                                 f"{', '.join(network.treatments)})")
            model = spec.model or network.model
            curves = used.setdefault((spec.network, model), {}).setdefault(spec.treatment, [])
            curves.append(f"populations.{p_name}.curves.{c_name}")
    if not used:
        return inputs
    files, locations, uses = {}, {}, dict(inputs.uses)
    for (name, model), treatments in used.items():
        stem = f"nma_{name}_{model}"
        files[stem] = _evidence(fitted[name], model, list(treatments))
        locations[stem] = f"network {name} ({fitted[name].path}), {model} effects"
        for treatment, curves in treatments.items():
            uses[f"{stem}.log_hazard_ratio_{treatment}_vs_{fitted[name].file.reference}"] = curves
    populations = {}
    for p_name, population in inputs.populations.items():
        curves = dict(population.curves)
        for c_name, spec in population.curves.items():
            if isinstance(spec, NetworkCurve):
                network = fitted[spec.network]
                stem = f"nma_{spec.network}_{spec.model or network.file.model}"
                curves[c_name] = spec.with_fit(f"{stem}.log_hazard_ratio_{spec.treatment}_vs_{network.file.reference}",
                                               network)
        populations[p_name] = population.model_copy(update={"curves": curves})
    return dataclasses.replace(inputs, populations=populations, uses=uses,
                               evidence=inputs.evidence.with_files(files, locations))


def networks_of(inputs: ModelInputs) -> dict[str, FittedNetwork]:
    """The networks an analysis's curves use, fitted, by name."""
    return {spec.network: spec.fitted_network for population in inputs.populations.values()
            for spec in population.curves.values() if isinstance(spec, NetworkCurve)}

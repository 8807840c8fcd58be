"""Load an analysis: settings, model files, overrides and the evidence they refer to.

``load_analysis()`` with no path is the embedded base case. The model files shipped in
``params/hcc/`` are read, the analysis's ``overrides`` merged into them, each file
validated against its schema (:mod:`markov.params.spec`), and every reference checked:
it must exist in the evidence library and have the unit its field needs (a
``hazard_ratio`` field cannot point at a median). Errors name the file, the field, the
value and the rule.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from .._validate import InputError, validation_error
from ..survival import TIME_UNIT_YEARS
from ..uncertainty import Fixed, uniform_rows
from .evidence import DURATION_UNITS, Evidence, EvidenceLibrary, distribution_of
from .schema import (
    Analysis,
    CostsFile,
    Perspective,
    Population,
    PopulationsFile,
    ScenariosFile,
    Treatment,
    TreatmentsFile,
    Utilities,
    UtilitiesFile,
    period_in_years,
)

#: The model files of the HCC model, by the top-level key they hold.
MODEL_FILES = {
    "treatments": ("treatments.yaml", TreatmentsFile),
    "populations": ("populations.yaml", PopulationsFile),
    "perspectives": ("costs.yaml", CostsFile),
    "utilities": ("utilities.yaml", UtilitiesFile),
}

_DURATION = set(DURATION_UNITS)
_PROPORTION = {"proportion"}
_MONEY = {"money"}
#: The units a reference may have, by the name of the field that holds it.
EXPECTED_UNITS = {
    "median": _DURATION, "time": _DURATION, "survival": _PROPORTION,
    "os_median": _DURATION, "pfs_median": _DURATION,
    "hazard_ratio": {"hazard_ratio"}, "acceleration_factor": {"ratio"}, "applies_to_share": _PROPORTION,
    "parameters": {"ratio", "coefficient", "rate_per_year"} | _DURATION,
    "dose_mg": {"mg"}, "dose_mg_per_kg": {"mg_per_kg"}, "below_kg": {"kg"},
    "administrations": {"count"}, "cycle_days": _DURATION, "every_days": _DURATION, "at_start": {"count"},
    "share": _PROPORTION, "relative_dose_intensity": _PROPORTION, "adverse_events": _PROPORTION,
    "pre_progression_death_share": _PROPORTION, "max_duration": _DURATION,
    "start_age": {"age_years"}, "share_female": _PROPORTION, "mean": {"kg"}, "sd": {"kg"},
    "discount_rate_costs": {"rate_per_year"}, "discount_rate_effects": {"rate_per_year"},
    "thresholds": _MONEY, "drug_prices": _MONEY, "unit_costs": _MONEY, "cost": _MONEY, "every": _DURATION,
    "adverse_event_costs": _MONEY, "terminal_care": _MONEY,
    "progression_free_on_treatment": {"utility"}, "progression_free_off_treatment": {"utility"},
    "second_line": {"utility"}, "best_supportive_care": {"utility"},
    "disutility": {"utility_decrement"}, "duration": _DURATION,
    "intercept": {"coefficient"}, "male": {"coefficient"}, "age": {"coefficient"}, "age_squared": {"coefficient"},
}


_UNIT_TEXT = {"months": "months", "weeks": "weeks", "days": "days", "years": "years", "age_years": "years",
              "kg": "kg", "mg": "mg", "mg_per_kg": "mg/kg", "rate_per_year": "per year"}

#: Scenario analyses shipped with the model (used when an analysis lists none).
SCENARIOS_FILE = ("scenarios.yaml", ScenariosFile)


def model_directory() -> Path:
    return Path(str(resources.files("markov.data").joinpath("hcc")))


def deep_merge(base: dict, changes: dict) -> dict:
    """``base`` with ``changes`` merged in: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path, what: str):
    if not path.is_file():
        raise InputError(f"{what} {str(path)!r} does not exist")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise InputError(f"{path}: not valid YAML ({error})") from None


def _validate(schema: type[BaseModel], content, where: str):
    try:
        return schema.model_validate(content)
    except ValidationError as error:
        raise validation_error(where, error) from None


@dataclass(frozen=True)
class ModelInputs:
    """Everything an analysis uses, validated: settings, model files and evidence.

    ``uses`` maps each evidence reference to the places that use it (for the inputs
    table and for error messages).
    """

    analysis: Analysis
    source: str
    treatments: dict[str, Treatment]
    populations: dict[str, Population]
    perspective: Perspective
    utilities: Utilities
    evidence: EvidenceLibrary
    uses: dict[str, list[str]]
    settings: dict = dataclasses.field(repr=False)
    directory: Path = dataclasses.field(repr=False)

    @property
    def references(self) -> list[str]:
        """Every evidence reference the analysis uses, in a fixed order."""
        return sorted(self.uses)

    @cached_property
    def distributions(self) -> dict[str, object]:
        """The probabilistic distribution of every input (:func:`distribution_of`)."""
        return {ref: distribution_of(self.evidence[ref].value) for ref in self.references}

    @property
    def uncertain(self) -> list[str]:
        """The inputs that vary in a probabilistic analysis (not fixed), in a fixed
        order: the columns of :meth:`transform` and of a global sensitivity design."""
        return [ref for ref, d in self.distributions.items() if not isinstance(d, Fixed)]

    def label(self, ref: str) -> str:
        """A readable name for an input, with its unit and source:
        ``"os median atezo bev, months (imbrave150_cheng_2022)"``."""
        source, _, name = ref.partition(".")
        item = self.evidence[ref].value
        unit = item.currency if item.unit == "money" else _UNIT_TEXT.get(item.unit)
        return f"{name.replace('_', ' ')}{', ' + unit if unit else ''} ({source})"

    def scenario(self, name: str) -> ModelInputs:
        """The analysis with scenario ``name``'s changes merged into its settings."""
        scenarios = self.analysis.scenarios or {}
        if name not in scenarios:
            raise InputError(f"scenario {name!r}: not defined (scenarios: {', '.join(scenarios) or 'none'})")
        changes = scenarios[name].changes
        if "scenarios" in changes:
            raise InputError(f"scenario {name!r}: changes.scenarios: a scenario cannot define scenarios")
        settings = deep_merge(self.settings, changes)
        settings["name"] = f"{self.analysis.name}.{name}"
        return inputs_from_settings(settings, f"{self.source}, scenario {name}", self.directory)

    def base_case(self) -> ParameterSet:
        """One parameter set at the point estimates."""
        return self.with_values({}, 1)

    def with_values(self, values: dict[str, np.ndarray | float], n: int) -> ParameterSet:
        """``n`` parameter sets at the point estimates except ``values`` (reference ->
        one value or ``n`` values): the rows of a deterministic sensitivity analysis."""
        unknown = sorted(set(values) - set(self.uses))
        if unknown:
            raise InputError(f"{', '.join(map(repr, unknown))}: not an input of the {self.analysis.name} analysis")
        columns = {}
        for ref in self.references:
            column = np.full(n, self.evidence[ref].value.value, dtype=float)
            if ref in values:
                column[:] = values[ref]
            columns[ref] = column
        return ParameterSet(columns, self)

    def transform(self, uniforms) -> ParameterSet:
        """Parameter sets for uniforms of shape ``(n, len(uncertain))``: each uncertain
        input's inverse CDF applied to its column; fixed inputs at their values."""
        uniforms = np.asarray(uniforms, dtype=float)
        if uniforms.ndim != 2 or uniforms.shape[1] != len(self.uncertain):
            raise InputError(f"uniforms: shape {uniforms.shape}, expected (n, {len(self.uncertain)}), one column "
                             "per uncertain input")
        values = {ref: np.asarray(self.distributions[ref].ppf(uniforms[:, j]), dtype=float)
                  for j, ref in enumerate(self.uncertain)}
        return self.with_values(values, uniforms.shape[0])

    def sample(self, n: int, seed: int, start: int = 0) -> ParameterSet:
        """Probabilistic parameter sets ``start`` to ``start + n`` of the PSA seeded by
        ``seed`` (:func:`markov.uncertainty.uniform_rows`: the same draws whatever the
        chunking)."""
        if int(n) != n or n < 1:
            raise InputError(f"number of samples is {n!r}: must be a whole number of at least 1")
        return self.transform(uniform_rows(seed, start, start + int(n), len(self.uncertain)))


class ParameterSet:
    """Values of every input, one array of ``n_samples`` per evidence reference."""

    def __init__(self, values: dict[str, np.ndarray], inputs: ModelInputs) -> None:
        self.values = values
        self.inputs = inputs
        self.n_samples = len(next(iter(values.values()))) if values else 1

    def __getitem__(self, ref: str) -> np.ndarray:
        return self.values[ref]

    def unit(self, ref: str) -> str:
        return self.inputs.evidence[ref].value.unit

    def years(self, ref: str) -> np.ndarray:
        """A duration in years, whatever unit its source reported it in."""
        return self.values[ref] * TIME_UNIT_YEARS[self.unit(ref)]

    def per_year(self, ref: str) -> np.ndarray:
        """A price per period ("month", "6 weeks") as a cost per year."""
        item = self.inputs.evidence[ref].value
        period = period_in_years(item.per or "")
        if period is None:
            raise InputError(f"{ref}: priced per {item.per!r}, which is not a period; give 'every' with it")
        return self.values[ref] / period



def _collect_references(node, path: str, field: str | None, uses: dict[str, list[tuple[str, str | None]]]) -> None:
    """Every reference under ``node`` with its path and the field name that decides its unit."""
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            _collect_references(getattr(node, name), f"{path}.{name}", name, uses)
    elif isinstance(node, dict):
        for key, value in node.items():
            _collect_references(value, f"{path}.{key}", field, uses)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _collect_references(value, f"{path}[{i}]", field, uses)
    elif isinstance(node, str) and field in EXPECTED_UNITS:
        uses.setdefault(node, []).append((path, field))


def load_analysis(path: str | Path | None = None, *, overrides: dict | None = None) -> ModelInputs:
    """Read an analysis file (or the embedded base case) and everything it uses.

    Parameters
    ----------
    path : str or Path, optional
        A YAML analysis file (:class:`~markov.params.spec.Analysis`); without one, the
        defaults of every setting.
    overrides : dict, optional
        Merged into the analysis file's own ``overrides``.
    """
    settings = {} if path is None else (_read_yaml(Path(path), "analysis file") or {})
    if not isinstance(settings, dict):
        raise InputError(f"{path}: an analysis file holds settings (a mapping), not {type(settings).__name__}")
    if overrides:
        settings = deep_merge(settings, {"overrides": overrides})
    source = "embedded base case" if path is None else str(path)
    return inputs_from_settings(settings, source, Path(path).parent if path is not None else Path.cwd())


def inputs_from_settings(settings: dict, source: str, directory: Path) -> ModelInputs:
    """The analysis described by ``settings`` (the content of an analysis file; relative
    evidence directories are read from ``directory``)."""
    analysis = _validate(Analysis, settings, source)
    if analysis.scenarios is None:
        location = model_directory() / SCENARIOS_FILE[0]
        shipped = _validate(SCENARIOS_FILE[1], _read_yaml(location, "model file"), str(location))
        analysis = analysis.model_copy(update={"scenarios": shipped.scenarios})
    unknown = set(analysis.overrides) - set(MODEL_FILES)
    if unknown:
        raise InputError(f"{source}: overrides.{sorted(unknown)[0]}: unknown model file key; "
                         f"overrides may change {', '.join(MODEL_FILES)}")
    evidence = EvidenceLibrary.load(
        [d if Path(d).is_absolute() else directory / d for d in analysis.evidence_directories]
    )

    files = {}
    for key, (filename, schema) in MODEL_FILES.items():
        location = model_directory() / filename
        content = _read_yaml(location, "model file")
        where = str(location)
        if key in analysis.overrides:
            content = deep_merge(content, {key: analysis.overrides[key]})
            where += f" (with overrides from {source})"
        files[key] = (_validate(schema, content, where), where)

    treatments = files["treatments"][0].treatments
    populations_file, populations_where = files["populations"]
    names = analysis.populations or list(populations_file.populations)
    for name in names:
        if name not in populations_file.populations:
            raise InputError(f"{source}: populations: {name!r} is not a population "
                             f"(known: {', '.join(populations_file.populations)})")
    populations = {name: populations_file.populations[name] for name in names}
    perspectives = files["perspectives"][0].perspectives
    if analysis.perspective not in perspectives:
        raise InputError(f"{source}: perspective {analysis.perspective!r} is not defined "
                         f"(known: {', '.join(perspectives)})")
    perspective = perspectives[analysis.perspective]
    utilities = files["utilities"][0].utilities

    _check_structure(treatments, populations, perspective, populations_where, files["perspectives"][1])
    found: dict[str, list[tuple[str, str | None]]] = {}
    _collect_references(treatments, "treatments", None, found)
    for name, population in populations.items():
        _collect_references(population, f"populations.{name}", None, found)
    _collect_references(perspective, f"perspectives.{analysis.perspective}", None, found)
    _collect_references(utilities, "utilities", None, found)
    _check_references(found, evidence, perspective)
    inputs = ModelInputs(analysis, source, treatments, populations, perspective, utilities, evidence,
                         {ref: [path for path, _ in places] for ref, places in found.items()},
                         settings, directory)
    _check_shares(inputs)
    return inputs


def _check_structure(treatments, populations, perspective, populations_where: str, costs_where: str) -> None:
    """Names that must exist: treatments, curves, drugs with prices, priced items."""
    for p_name, population in populations.items():
        curves = population.curves
        if population.comparison.intervention == population.comparison.comparator:
            raise InputError(f"{populations_where}: populations.{p_name}.comparison: the intervention and the "
                             f"comparator are both {population.comparison.comparator!r}; they must differ")
        for role, name in population.comparison:
            if name not in population.strategies:
                raise InputError(f"{populations_where}: populations.{p_name}.comparison.{role} = {name!r}: "
                                 f"no strategy of that name (strategies: {', '.join(population.strategies)})")
        for c_name, spec in curves.items():
            if getattr(spec, "reference", None) is not None and spec.reference not in curves:
                raise InputError(f"{populations_where}: populations.{p_name}.curves.{c_name}.reference = "
                                 f"{spec.reference!r}: no curve of that name in this population")
        if population.post_progression_survival not in curves:
            raise InputError(f"{populations_where}: populations.{p_name}.post_progression_survival = "
                             f"{population.post_progression_survival!r}: no curve of that name in this population")
        for s_name, strategy in population.strategies.items():
            lines = [("first_line", strategy.first_line)]
            lines += [(f"second_line[{i}]", line) for i, line in enumerate(strategy.second_line)]
            bsc = strategy.post_progression_survival
            if bsc is not None and bsc not in curves:
                raise InputError(f"{populations_where}: populations.{p_name}.strategies.{s_name}."
                                 f"post_progression_survival = {bsc!r}: no curve of that name in this population")
            anchor = strategy.post_progression_calibrated_to
            if anchor is not None and (anchor not in population.strategies
                                       or population.strategies[anchor].targets is None
                                       or population.strategies[anchor].targets.os_median is None):
                raise InputError(f"{populations_where}: populations.{p_name}.strategies.{s_name}."
                                 f"post_progression_calibrated_to = {anchor!r}: needs a strategy of this "
                                 f"population with targets.os_median")
            for l_name, line in lines:
                where = f"{populations_where}: populations.{p_name}.strategies.{s_name}.{l_name}"
                if line.treatment not in treatments:
                    raise InputError(f"{where}.treatment = {line.treatment!r}: unknown treatment "
                                     f"(known: {', '.join(treatments)})")
                for field, curve in (("progression_free", line.progression_free),
                                     ("time_on_treatment.curve", line.time_on_treatment.curve)):
                    if curve is not None and curve not in curves:
                        raise InputError(f"{where}.{field} = {curve!r}: no curve of that name in this population")
    used = {line.treatment for population in populations.values() for strategy in population.strategies.values()
            for line in [strategy.first_line, *strategy.second_line]}
    for t_name in sorted(used):
        treatment = treatments[t_name]
        for component in treatment.regimen:
            if component.drug not in perspective.drug_prices:
                raise InputError(f"{costs_where}: drug_prices has no price for {component.drug!r} "
                                 f"(used by treatment {t_name!r})")
        for item in [a.item for a in treatment.administration] + [p.item for p in treatment.procedures]:
            if item not in perspective.unit_costs:
                raise InputError(f"{costs_where}: unit_costs has no cost for {item!r} (used by treatment {t_name!r})")
        for event in treatment.adverse_events:
            if event not in perspective.adverse_event_costs:
                raise InputError(f"{costs_where}: adverse_event_costs has no cost for {event!r} "
                                 f"(used by treatment {t_name!r})")


def _check_references(found, evidence: EvidenceLibrary, perspective: Perspective) -> None:
    for ref, places in found.items():
        try:
            item: Evidence = evidence[ref]
        except InputError as error:
            raise InputError(f"{places[0][0]}: {error}") from None
        for path, field in places:
            _check_use(ref, item, path, field, perspective)


def _check_use(ref: str, item: Evidence, path: str, field: str, perspective: Perspective) -> None:
    """One use of a reference: its unit fits the field, its currency the perspective."""
    allowed = EXPECTED_UNITS[field]
    if item.value.unit not in allowed:
        raise InputError(f"{path} = {ref!r}: has unit {item.value.unit!r}; {field} needs "
                         f"{' or '.join(sorted(allowed))}")
    if item.value.unit == "money" and item.value.currency != perspective.currency:
        raise InputError(f"{path} = {ref!r}: priced in {item.value.currency}, but the perspective "
                         f"{perspective.label!r} counts in {perspective.currency}")
    if field == "drug_prices" and item.value.pack is None:
        raise InputError(f"{path} = {ref!r}: a drug price needs 'pack' (strength_mg and units)")


def _check_shares(inputs: ModelInputs) -> None:
    """Second-line shares of each strategy may not exceed 1 at their point estimates."""
    for p_name, population in inputs.populations.items():
        for s_name, strategy in population.strategies.items():
            shares = [(line.share, inputs.evidence[line.share].value.value) for line in strategy.second_line]
            total = sum(value for _, value in shares)
            if total > 1 + 1e-12:
                listed = ", ".join(f"{ref} = {value!r}" for ref, value in shares)
                raise InputError(f"populations.{p_name}.strategies.{s_name}.second_line: shares sum to "
                                 f"{total!r} ({listed}); shares of those progressing cannot exceed 1")

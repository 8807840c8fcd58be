"""Load an analysis: settings, model files, overrides and the evidence they refer to.

``load_analysis()`` with no path is the embedded base case. The analysis names its model
files (``model:``, a directory shipped in ``params/`` or a path) and its structure
(``structure:``); the files are read, the analysis's ``overrides`` merged into them (and
its ``strategies`` put in place of a population's), each validated against its schema
(:mod:`markov.inputs.schema`, :mod:`markov.inputs.structures`), and every reference
checked: it must exist in the evidence library and have the unit its field needs (a
``hazard_ratio`` field cannot point at a median). Errors name the file, the field, the
value and the rule.
"""
from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .._reading import read_yaml
from .._validate import InputError, validation_error
from ..grid import DAYS_PER_YEAR
from .checks import check_curves, check_horizon, check_shares, check_structure, check_transitions
from .draws import field_rule
from .evidence import DURATION_UNITS, Evidence, EvidenceLibrary
from .merge import deep_merge
from .networks import with_networks
from .parameters import ModelInputs
from .patient_data import with_fits
from .reach import unused_references
from .schema import Analysis, CostsFile, Perspective, ScenariosFile, TreatmentsFile, UtilitiesFile
from .sequences import SequenceRules, check_rules
from .structures import population_schema

#: The model files of a model directory, by the top-level key they hold (populations are
#: validated one by one, with the schema of the analysis's structure).
MODEL_FILES = {
    "treatments": ("treatments.yaml", TreatmentsFile),
    "populations": ("populations.yaml", None),
    "perspectives": ("costs.yaml", CostsFile),
    "utilities": ("utilities.yaml", UtilitiesFile),
}
#: Scenario analyses shipped with model files (used when an analysis lists none).
SCENARIOS_FILE = ("scenarios.yaml", ScenariosFile)

_DURATION = set(DURATION_UNITS)
_PROPORTION = {"proportion"}
_MONEY = {"money"}
#: The units a reference may have, by the name of the field that holds it.
EXPECTED_UNITS = {
    "median": _DURATION, "time": _DURATION, "survival": _PROPORTION,
    "os_median": _DURATION, "pfs_median": _DURATION, "follow_up": _DURATION,
    "hazard_ratio": {"hazard_ratio"}, "acceleration_factor": {"ratio"}, "applies_to_share": _PROPORTION,
    "parameters": {"ratio", "coefficient", "rate_per_year"} | _DURATION,
    "gamma": {"coefficient"}, "knots": {"coefficient"}, "rates": {"rate_per_year", "coefficient"},
    "cut_points": _DURATION, "cut_point": _DURATION, "start": _DURATION, "end": _DURATION,
    "cure_fraction": _PROPORTION,
    "dose_mg": {"mg"}, "dose_mg_per_kg": {"mg_per_kg"}, "below_kg": {"kg"},
    "administrations": {"count"}, "cycle_days": _DURATION, "every_days": _DURATION, "at_start": {"count"},
    "supply_days": _DURATION,
    "share": _PROPORTION, "relative_dose_intensity": _PROPORTION, "adverse_events": _PROPORTION,
    "pre_progression_death_share": _PROPORTION, "death_share": _PROPORTION, "max_duration": _DURATION,
    "start_age": {"age_years"}, "share_female": _PROPORTION, "mean": {"kg"}, "sd": {"kg"},
    "discount_rate_costs": {"rate_per_year"}, "discount_rate_effects": {"rate_per_year"},
    "thresholds": _MONEY, "drug_prices": _MONEY, "unit_costs": _MONEY, "cost": _MONEY, "every": _DURATION,
    "adverse_event_costs": _MONEY, "terminal_care": _MONEY,
    "by_state": {"utility"}, "disutility": {"utility_decrement"}, "duration": _DURATION,
    "intercept": {"coefficient"}, "male": {"coefficient"}, "age": {"coefficient"}, "age_squared": {"coefficient"},
    "counts": {"count"}, "probabilities": _PROPORTION, "until": _DURATION, "relative_risk": {"ratio", "hazard_ratio"},
    "initial": _PROPORTION,
    "discounts": _PROPORTION, "proportional_cutoffs": _PROPORTION, "absolute_cutoffs": {"qalys"},
    "weights": {"ratio"},
}


def shipped_models() -> Path:
    return Path(str(resources.files("markov.data")))


def model_directory(model: str = "hcc", base: Path | None = None) -> Path:
    """The directory of model files ``model``: shipped in ``params/`` under that name, or
    a path (relative to ``base``, the analysis file's directory)."""
    shipped = shipped_models() / model
    if "/" not in model and "\\" not in model and (shipped / "populations.yaml").exists():
        return shipped
    path = Path(model) if Path(model).is_absolute() or base is None else base / model
    if not (path / "populations.yaml").exists():
        raise InputError(f"model {model!r}: neither a model shipped with markov nor a directory with populations.yaml "
                         f"(looked in {path})")
    return path


def validate(schema: type[BaseModel], content, where: str):
    try:
        return schema.model_validate(content)
    except ValidationError as error:
        raise validation_error(where, error) from None


def load_analysis(path: str | Path | None = None, *, overrides: dict | None = None) -> ModelInputs:
    """Read an analysis file (or the embedded base case) and everything it uses.

    Parameters
    ----------
    path : str or Path, optional
        A YAML analysis file (:class:`~markov.inputs.schema.Analysis`); without one, the
        defaults of every setting.
    overrides : dict, optional
        Merged into the analysis file's own ``overrides``.
    """
    settings = {} if path is None else (read_yaml(Path(path), "analysis file") or {})
    if not isinstance(settings, dict):
        raise InputError(f"{path}: an analysis file holds settings (a mapping), not {type(settings).__name__}")
    if overrides:
        settings = deep_merge(settings, {"overrides": overrides})
    source = "embedded base case" if path is None else str(path)
    return inputs_from_settings(settings, source, Path(path).parent if path is not None else Path.cwd())


def inputs_from_settings(settings: dict, source: str, directory: Path) -> ModelInputs:
    """The analysis described by ``settings`` (the content of an analysis file; relative
    paths are read from ``directory``)."""
    analysis = validate(Analysis, settings, source)
    models = model_directory(analysis.model, directory)
    if analysis.scenarios is None:
        location = models / SCENARIOS_FILE[0]
        shipped = validate(SCENARIOS_FILE[1], read_yaml(location, "model file"), str(location)) \
            if location.exists() else None
        analysis = analysis.model_copy(update={"scenarios": shipped.scenarios if shipped else {}})
    unknown = set(analysis.overrides) - set(MODEL_FILES)
    if unknown:
        raise InputError(f"{source}: overrides.{sorted(unknown)[0]}: unknown model file key; "
                         f"overrides may change {', '.join(MODEL_FILES)}")
    evidence = EvidenceLibrary.load(
        [d if Path(d).is_absolute() else directory / d for d in analysis.evidence_directories]
    )
    if analysis.values:
        evidence = evidence.with_changes(analysis.values, f"{source}: values")

    contents, places = {}, {}
    for key, (filename, _) in MODEL_FILES.items():
        location = models / filename
        content = read_yaml(location, "model file") if location.exists() or key == "populations" else {key: {}}
        places[key] = str(location)
        if key in analysis.overrides:
            content = deep_merge(content or {}, {key: analysis.overrides[key]})
            places[key] += f" (with overrides from {source})"
        contents[key] = content
    treatments = validate(TreatmentsFile, contents["treatments"], places["treatments"]).treatments
    perspectives = validate(CostsFile, contents["perspectives"], places["perspectives"]).perspectives
    utilities = validate(UtilitiesFile, contents["utilities"], places["utilities"]).utilities
    populations = _populations(analysis, contents["populations"], places["populations"], source)
    if analysis.strategies:  # later errors about strategies point at the analysis file too
        places["populations"] += f" (strategies from {source})"
    if analysis.perspective not in perspectives:
        raise InputError(f"{source}: perspective {analysis.perspective!r} is not defined "
                         f"(known: {', '.join(perspectives)})")
    perspective = perspectives[analysis.perspective]

    check_structure(analysis.structure, treatments, populations, perspective, utilities, places,
                    analysis.cycle_length_days / DAYS_PER_YEAR)
    found: dict[str, list[tuple[str, str | None]]] = {}
    if analysis.sequences is not None:
        places["sequences"] = f"{source} (sequences)"
        _collect_references(_sequence_rules(analysis, populations, source), "sequences", None, found)
    _collect_references(treatments, "treatments", None, found)
    for name, population in populations.items():
        _collect_references(population, f"populations.{name}", None, found)
    _collect_references(perspective, f"perspectives.{analysis.perspective}", None, found)
    _collect_references(utilities, "utilities", None, found)
    _check_references(found, evidence, perspective, places)
    pending = list(found)  # a value is drawn with what it needs: its joint partners, the value it is taken from …
    while pending:
        for partner, why in evidence.dependencies(pending.pop()):
            if partner not in found:
                pending.append(partner)
            if (why, None) not in found.setdefault(partner, []):
                found[partner].append((why, None))
    inputs = ModelInputs(analysis, source, treatments, populations, perspective, utilities, evidence,
                         {ref: [path for path, _ in places] for ref, places in found.items()},
                         settings, directory, inputs_from_settings)
    check_shares(inputs)
    check_transitions(inputs, places["populations"])
    check_curves(inputs, places["populations"])
    inputs = with_networks(with_fits(inputs, places["populations"], [models, shipped_models()]),
                           places["populations"], models)
    check_horizon(inputs, places["populations"])
    return dataclasses.replace(inputs, unused=unused_references(inputs))


def _populations(analysis: Analysis, content, where: str, source: str) -> dict:
    """The analysis's populations, validated with its structure's schema."""
    if not isinstance(content, dict) or not isinstance(content.get("populations"), dict):
        raise InputError(f"{where}: must hold 'populations:', a mapping of population names to populations")
    available = content["populations"]
    names = analysis.populations or list(available)
    for name in [*names, *(analysis.strategies or {})]:
        if name not in available:
            raise InputError(f"{source}: populations: {name!r} is not a population "
                             f"(known: {', '.join(available)})")
    schema = population_schema(analysis.structure)
    populations = {}
    for name in names:
        raw = available[name]
        if analysis.strategies and name in analysis.strategies:
            raw = {**raw, "strategies": analysis.strategies[name]}
            here = f"{where} (strategies from {source})"
        else:
            here = where
        if not isinstance(raw, dict):
            raise InputError(f"{here}: populations.{name}: must be a mapping")
        populations[name] = validate(schema, raw, f"{here}: populations.{name}")
    return populations


def _sequence_rules(analysis: Analysis, populations: dict, source: str) -> SequenceRules:
    """The analysis's sequence rules, validated, their curves found in their population."""
    if analysis.structure != "sequencing":
        raise InputError(f"{source}: sequences: a search over sequences needs structure: sequencing, not "
                         f"{analysis.structure!r}")
    rules = validate(SequenceRules, analysis.sequences, f"{source}: sequences")
    if rules.population not in populations:
        raise InputError(f"{source}: sequences.population = {rules.population!r}: not a population of the analysis "
                         f"(populations: {', '.join(populations)})")
    check_rules(rules, populations[rules.population], f"{source}: sequences")
    return rules


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
    elif isinstance(node, str) and field in EXPECTED_UNITS and "." in node:
        # only a reference has a dot: a field of the same name may hold a name (a partition's
        # ``survival`` curve) or a keyword (``rest``)
        uses.setdefault(node, []).append((path, field))


def _check_references(found, evidence: EvidenceLibrary, perspective: Perspective, files: dict[str, str]) -> None:
    """Every reference exists and suits each field that uses it; errors name the model
    file (``files``: by the key a path starts with) and the place."""
    for ref, uses in found.items():
        for path, field in uses:
            where = f"{files[path.partition('.')[0]]}: {path}"
            try:
                item: Evidence = evidence[ref]
            except InputError as error:
                raise InputError(f"{where}: {error}") from None
            _check_use(ref, item, where, field, perspective)
            rule = field_rule(field, ref, evidence)
            if rule is not None:
                raise InputError(f"{where} = {ref!r}: {rule}")


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

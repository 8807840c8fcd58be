"""Face validity: what each analysis is made of, read off its model files, and where its
evidence is thin.

Strategies and curves are described from their validated specifications without naming
any structure's fields: every part of a strategy (a line's option, a partition …) is a
row of the fields it sets, each evidence reference with its value and status, each curve
by name; every curve named is then defined with its evidence. Structure-specific words
come from the model files themselves.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ...inputs.evidence import STATUS_MEANING
from ..tables import inputs_table
from .evaluated import Evaluated
from .notes import Assumption

#: Fields of a specification that are prose or validation data, not part of the model.
_NOT_MODEL = {"label", "targets", "reason", "external", "note", "citation", "source"}
_ASSUMPTIONS_HEADING = ("Modelling assumptions (`status: assumption`), with the range the sensitivity analyses use "
                        "and the rationale")
_UNCHECKED_HEADING = ("Inputs not yet checked against their primary source (`unverified`) or taken from an abstract "
                      "(`seed`)")
#: Fields of a population described elsewhere (its curves and strategies have their own tables).
_POPULATION_PARTS = {"curves", "strategies", "comparison", "states", "transitions"}


def cell(text: str) -> str:
    """``text`` on one line, safe in a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "/")


def reference_text(analysis: Evaluated, reference: str) -> str:
    """``ref`` = value unit (status)."""
    value = analysis.inputs.evidence[reference].value
    unit = f"{value.currency} {value.price_year} per {value.per}" if value.unit == "money" else value.unit
    return f"`{reference}` = {value.value:g} {unit} ({value.status})"


def _parts(dump: dict, path: str = "", root: str = "(strategy)") -> list[tuple[str, list[tuple[str, Any]]]]:
    """``(place, [(field, value)])`` of every part of a specification that sets scalar fields."""
    scalars = [(key, value) for key, value in dump.items() if not isinstance(value, (dict, list))]
    parts = [(path or root, scalars)] if scalars else []
    for key, value in dump.items():
        place = f"{path}.{key}" if path else key
        if isinstance(value, dict):
            parts += _parts(value, place)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    parts += _parts(item, f"{place}[{i}]")
                else:
                    parts.append((f"{place}[{i}]", [("", item)]))
    return parts


def _value_text(analysis: Evaluated, population: str, value: Any, curves_seen: list[str]) -> str:
    curves = analysis.inputs.populations[population].curves
    if isinstance(value, str) and value in analysis.inputs.references:
        return reference_text(analysis, value)
    if isinstance(value, str) and value in curves:
        if value not in curves_seen:
            curves_seen.append(value)
        return f"curve `{value}`"
    return f"`{value}`"


def _fields_text(analysis: Evaluated, population: str, fields: list[tuple[str, Any]], seen: list[str]) -> str:
    return "; ".join(f"{key}: {_value_text(analysis, population, value, seen)}" if key
                     else _value_text(analysis, population, value, seen) for key, value in fields)


def _dump(spec, exclude: set[str]) -> dict:
    dumped = spec.model_dump(mode="json", exclude_none=True, exclude=exclude)
    return {key: value for key, value in dumped.items() if value not in ([], {})}


def structure_section(analysis: Evaluated) -> list[str]:
    """Settings, populations, strategies (their states and parts) and the curves they use."""
    inputs, grid = analysis.inputs, analysis.model.grid
    settings = inputs.analysis
    perspective = inputs.perspective
    summary = (f"Structure `{inputs.structure}`; cycles of {settings.cycle_length_days:g} days over "
               f"{settings.horizon_years:g} years ({grid.n_cycles:,} cycles), `{settings.cycle_correction}` cycle "
               f"correction; perspective {perspective.label} ({perspective.currency}, prices "
               f"{cell(perspective.price_year)}); costs discounted by "
               f"{reference_text(analysis, perspective.discount_rate_costs)}, effects by "
               f"{reference_text(analysis, perspective.discount_rate_effects)}; general-population mortality from "
               f"the `{perspective.life_table}` life table. "
               + (f"File: `{analysis.file}`." if analysis.file else "The shipped base case."))
    lines = [f"#### `{analysis.name}`", "", summary, ""]
    for population, spec in inputs.populations.items():
        comparison = spec.comparison
        question = (f"Decision question: `{comparison.intervention}` against `{comparison.comparator}`. "
                    f"Evidence: {cell(spec.source)}.")
        lines += [f"##### Population `{population}`: {cell(spec.label)}", "", question, ""]
        seen: list[str] = []
        population_fields = _dump(spec, _NOT_MODEL | _POPULATION_PARTS)
        lines += ["| strategy | states | part | what it sets |", "|---|---|---|---|"]
        lines += [f"| (population) | | `{place}` | {cell(_fields_text(analysis, population, fields, seen))} |"
                  for place, fields in _parts(population_fields, root="(population)")]
        for name, strategy in spec.strategies.items():
            result = analysis.result(population, name)
            states = ", ".join(f"`{state}`" for state in result.state_names) if result is not None else ""
            for k, (place, fields) in enumerate(_parts(_dump(strategy, _NOT_MODEL))):
                first = f"`{name}` ({cell(strategy.label)})" if k == 0 else ""
                lines.append(f"| {first} | {states if k == 0 else ''} | `{place}` | "
                             f"{cell(_fields_text(analysis, population, fields, seen))} |")
        lines += ["", *curve_table(analysis, population, seen), ""]
    return lines


def curve_table(analysis: Evaluated, population: str, seen: list[str]) -> list[str]:
    """The definition of every curve in ``seen`` and of the curves they are built on."""
    curves = analysis.inputs.populations[population].curves
    rows, i = [], 0
    while i < len(seen):  # a curve may name another (a hazard ratio on a reference curve): listed after it
        name = seen[i]
        text = _fields_text(analysis, population, list(_flatten(_dump(curves[name], _NOT_MODEL))), seen)
        rows.append(f"| `{name}` | {cell(text)} |")
        i += 1
    return ["| curve | definition and evidence |", "|---|---|", *rows] if rows else []


def _flatten(dump: dict, prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in dump.items():
        place = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{place}.")
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _flatten(item, f"{place}[{j}].")
                else:
                    yield f"{place}[{j}]", item
        else:
            yield place, value


def assumptions_section(analyses: list[Evaluated], assumptions: list[Assumption]) -> list[str]:
    """The hand-written assumptions, each with the current values of its inputs."""
    lines = []
    for item in assumptions:
        inputs = []
        for reference in item.inputs:
            using = [a for a in analyses if reference in a.inputs.references]
            if using:
                inputs.append(f"{reference_text(using[0], reference)}, in "
                              + ", ".join(f"`{a.name}`" for a in using))
            else:
                inputs.append(f"`{reference}`: **used by none of the analyses covered**")
        text = f"- **{item.topic}.** {cell(item.assumption)} *Why:* {cell(item.why)} *Evidence:* {cell(item.evidence)}"
        lines.append(text + (" *Inputs:* " + "; ".join(inputs) + "." if inputs else ""))
    return lines + [""]


def thin_evidence_section(analyses: list[Evaluated]) -> list[str]:
    """Status counts per analysis; every assumption; every input not read in its source."""
    tables = {analysis.name: inputs_table(analysis.inputs) for analysis in analyses}
    statuses = list(STATUS_MEANING)
    lines = ["| analysis | " + " | ".join(statuses) + " |", "|---|" + "---|" * len(statuses)]
    for name, table in tables.items():
        counts = table["status"].value_counts()
        lines.append(f"| `{name}` | " + " | ".join(str(int(counts.get(s, 0))) for s in statuses) + " |")
    lines += ["", "Status: " + "; ".join(f"**{k}**: {v}" for k, v in STATUS_MEANING.items()) + ".", ""]
    for wanted, heading, columns in (
            (("assumption",), _ASSUMPTIONS_HEADING, ("range", "note")),
            (("unverified", "seed"), _UNCHECKED_HEADING, ("status", "where"))):
        rows = {}
        for name, table in tables.items():
            for row in table[table["status"].isin(wanted)].itertuples():
                entry = rows.setdefault(row.reference, {"row": row, "analyses": []})
                entry["analyses"].append(f"`{name}`")
        lines += [f"{heading}:", "", "| input | value | unit | " + " | ".join(columns) + " | used by |",
                  "|---|---|---|" + "---|" * len(columns) + "---|"]
        for reference, entry in sorted(rows.items()):
            row = entry["row"]
            cells = []
            for column in columns:
                if column == "range":
                    cells.append(f"{row.range_low:g}–{row.range_high:g}" if np.isfinite(row.range_low) else "")
                else:
                    cells.append(cell(getattr(row, column) or ""))
            lines.append(f"| `{reference}` | {row.value:g} | {row.unit} | " + " | ".join(cells)
                         + f" | {', '.join(entry['analyses'])} |")
        lines.append("")
    return lines

"""The hand-written part of the validation document, as data (``docs/validation/``).

``validation.yaml`` names the analyses the document covers, states the clinical
assumptions in words (each with the inputs it concerns), the comparisons with later and
longer data than the model was built from, and the published cost-effectiveness
analyses it is set beside. ``reasons.yaml`` says why the model misses the data it misses,
keyed by analysis, population and strategy (or fitted curve). Neither holds a result of
the model: every figure is a reference into the evidence library or computed when the
document is generated.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ...inputs.evidence import read_validated
from ...inputs.schema import Name, Ref, Targets

NOTES_FILE = "validation.yaml"
REASONS_FILE = "reasons.yaml"
#: The comparisons a miss can be found in, and what each compares.
Check = Literal["trial_data", "later_data", "survival_fit"]
CHECKS = {
    "trial_data": "the model's OS against the Kaplan–Meier curve of the trial data its targets name",
    "later_data": "the model's OS and PFS against later and longer data (validation.yaml, external)",
    "survival_fit": "the chosen model of a fitted curve against the data its `external` names",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Assumption(_Strict):
    """A clinical or modelling assumption in words, with the inputs it concerns."""

    topic: str
    assumption: str
    why: str
    evidence: str = Field(description="how strong the evidence behind it is, and where it is thin")
    inputs: list[Ref] = Field(default_factory=list)


class LaterData(_Strict):
    """Reported medians and landmarks of one strategy, from data the model was not built from."""

    population: Name
    strategy: Name
    targets: Targets


class External(_Strict):
    landmark_tolerance: float = Field(gt=0, lt=1, description="a landmark without a reported CI is missed "
                                                              "beyond this absolute difference in survival")
    landmark_tolerance_note: str
    comparisons: list[LaterData] = Field(min_length=1)


class PublishedStudy(_Strict):
    """A published cost-effectiveness analysis of the same decision: its results are references."""

    name: str
    icer: Ref
    incremental_cost: Ref | None = None
    incremental_life_years: Ref | None = None
    incremental_qalys: Ref | None = None
    model: str = Field(description="its structure, survival extrapolation, horizon and prices, as far as known")
    differences: str = Field(description="why its results differ from this model's")


class CrossValidation(_Strict):
    population: Name
    intervention: Name
    comparator: Name
    studies: list[PublishedStudy] = Field(min_length=1)


class ValidationNotes(_Strict):
    model: str = Field(min_length=1, description="what the page validates, for its title")
    analyses: dict[Name, str | None] = Field(min_length=1, description="analysis name -> its file, relative "
                                                                       "to the repository (none: the shipped "
                                                                       "base case)")
    face_validity: list[Assumption] = Field(min_length=1)
    external: External
    cross_validation: CrossValidation


#: analysis -> population -> strategy or fitted curve -> check -> why the model misses.
Reasons = dict[str, dict[str, dict[str, dict[Check, str]]]]


class _Reasons(_Strict):
    reasons: dict[Name, dict[Name, dict[Name, dict[Check, str]]]]


def read_notes(directory: Path) -> tuple[ValidationNotes, Reasons]:
    """``validation.yaml`` and ``reasons.yaml`` of ``directory``, validated (errors name the
    file, the field and the rule)."""
    notes = read_validated(directory / NOTES_FILE, ValidationNotes)
    reasons_path = directory / REASONS_FILE
    reasons = read_validated(reasons_path, _Reasons).reasons if reasons_path.is_file() else {}
    return notes, reasons

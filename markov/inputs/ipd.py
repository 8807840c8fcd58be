"""Provenance of the patient-level data shipped in ``params/ipd/``.

Each CSV file there (one row per patient: ``time``, ``event``, ``arm``) has a YAML sidecar
of the same stem saying what it is and where it comes from::

    file: imbrave150_finn2020_fig1a.csv
    sha256: 8817…                       # of the CSV file's bytes
    trial: IMbrave150
    setting: first line, unresectable HCC
    outcome: overall survival
    figure: Figure 1A, as the file name gives it
    time_unit: months
    citations:
      data: {citation: "Bomze D, et al. … JAMA Netw Open 2020 …", doi: …,
             repository: https://github.com/davidbomze/SIFI, path: survival_data/hcc/…, commit: da70523…}
      method: {citation: "Wei Y, Royston P. … Stata J 2017 …", doi: 10.1177/1536867X1801700402}
      trial: {citation: "Finn RS, et al. … N Engl J Med 2020 …", doi: 10.1056/NEJMoa1915745}
    arms:
      atezobeva:                        # as in the file's column arm
        label: Atezolizumab + bevacizumab
        treatment: atezolizumab 1200 mg plus bevacizumab 15 mg/kg IV every 3 weeks
        patients: 336
        deaths: 95
        reported_median: {months: null, status: V, where: "…", evidence: null}

A reported median is tagged as the project's evidence notes tag it: ``V`` where it was read
in the publication, ``U`` where it is the widely quoted figure, not yet checked; where the
evidence library holds the same value, ``evidence`` names it. :func:`read_sidecar` reads and
validates a sidecar (the tests of ``params/`` hold every shipped file to it).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from .._reading import read_yaml
from .._validate import validation_error
from .schema import Ref, TimeUnit, _Strict

#: What the tags of a reported median mean, and the evidence status each corresponds to.
TAGS = {"V": "verified", "U": "unverified"}


class Citation(_Strict):
    """A publication, findable by its DOI or URL."""

    citation: str
    doi: str | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _findable(self) -> Citation:
        if not (self.doi or self.url):
            raise ValueError("a citation needs a doi or a url so that a reviewer can find it")
        return self


class DataRepository(Citation):
    """The publication of the data and the repository file they were copied from."""

    repository: str
    path: str
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")


class Citations(_Strict):
    """The three works the data's authors ask users to cite: the data, the method that
    reconstructed them, and the trial's own publication."""

    data: DataRepository
    method: Citation
    trial: Citation


class ReportedMedian(_Strict):
    """An arm's median overall survival as the trial reported it (``months`` None: not reached)."""

    months: float | None = Field(gt=0)
    status: Literal[tuple(TAGS)]  # type: ignore[valid-type]
    where: str
    evidence: Ref | None = None


class Arm(_Strict):
    """One arm of a data file, named as in its column ``arm``."""

    label: str
    treatment: str
    patients: int = Field(ge=1)
    deaths: int = Field(ge=0)
    reported_median: ReportedMedian


class PatientDataSidecar(_Strict):
    """What a shipped patient-level data file is and where it comes from."""

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    trial: str
    setting: str
    outcome: Literal["overall survival"]
    figure: str
    time_unit: TimeUnit
    citations: Citations
    arms: dict[str, Arm] = Field(min_length=1)
    note: str | None = None


def sidecar_path(data_file: Path) -> Path:
    """Where the sidecar of ``data_file`` is: beside it, with the suffix ``.yaml``."""
    return data_file.with_suffix(".yaml")


def read_sidecar(path: Path) -> PatientDataSidecar:
    """The sidecar at ``path``, validated; errors name the file, the field, the value and the rule."""
    content = read_yaml(path, "sidecar")
    try:
        return PatientDataSidecar.model_validate(content)
    except ValidationError as error:
        raise validation_error(str(path), error) from None


def arm_labels(data_file: Path) -> dict[str, str]:
    """Readable labels of the arms of ``data_file`` from its sidecar; empty without one."""
    sidecar = sidecar_path(data_file)
    return {name: arm.label for name, arm in read_sidecar(sidecar).arms.items()} if sidecar.exists() else {}

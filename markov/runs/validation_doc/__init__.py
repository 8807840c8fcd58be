"""``docs/validation.md``: the model's validation, generated from the model, its data and
its tests (``python analyses/write_validation_doc.py``), in the order of the AdViSHE
checklist (Vemer et al. 2016) and the ISPOR-SMDM good practice of model transparency and
validation (Eddy et al. 2012):

1. face validity: the structure, states and evidence of every analysis covered, read off
   its model files (:mod:`.face_validity`), and the clinical assumptions in words
   (``docs/validation/validation.yaml``);
2. internal verification: the checks of the test suite against independent numbers, read
   from the tests' ``verification`` markers (:mod:`.verification`);
3. external validation: the model's survival against trial data, later and longer data,
   and the fitted curves' external data (:mod:`.external`), every miss listed with the
   size of its gap and the reason written for it (``docs/validation/reasons.yaml``);
4. cross-validation: the base case beside published cost-effectiveness analyses of the
   same decision, whose results are evidence values (``params/evidence/``).

Every number is computed, or read from the evidence library, when the page is generated.
:meth:`ValidationDocument.problems` lists what a test must refuse: a miss without a
reason, a reason for a comparison that no longer misses, an assumption whose inputs no
analysis uses, a tolerance stated in a marker that is not in the test's code.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

from .document import (
    checks_legend,
    cross_validation_section,
    later_data_section,
    survival_fit_section,
    trial_data_section,
    verification_section,
)
from .evaluated import Evaluated
from .external import Miss, later_data, survival_fits, trial_data
from .face_validity import assumptions_section, cell, structure_section, thin_evidence_section
from .notes import read_notes
from .verification import collect_checks, unstated_tolerances

#: Where the page, its hand-written data and the command that writes it live in the repository.
DOCUMENT = "docs/validation.md"
NOTES = "docs/validation"
TESTS = "tests"
COMMAND = "python analyses/write_validation_doc.py"


class ValidationDocument:
    """The validation page of the repository at ``root``: its analyses run once each."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.notes, self.reasons = read_notes(self.root / NOTES)
        self.checks = collect_checks(self.root / TESTS)

    @cached_property
    def analyses(self) -> list[Evaluated]:
        return [Evaluated.load(name, file, self.root) for name, file in self.notes.analyses.items()]

    @cached_property
    def _external(self) -> dict[str, dict]:
        external = self.notes.external
        return {analysis.name: {"trial_data": trial_data(analysis), "later_data": later_data(analysis, external),
                                "survival_fit": survival_fits(analysis, external)} for analysis in self.analyses}

    @property
    def misses(self) -> list[Miss]:
        return [miss for checks in self._external.values() for _, found in checks.values() for miss in found]

    def problems(self) -> list[str]:
        """What makes the page untrustworthy, each naming where to fix it."""
        problems = []
        missed = {(m.analysis, m.population, m.subject, m.check) for m in self.misses}
        for miss in self.misses:
            if not self.reasons.get(miss.analysis, {}).get(miss.population, {}).get(miss.subject, {}).get(miss.check):
                problems.append(f"{NOTES}/reasons.yaml: {miss.analysis} / {miss.population} / {miss.subject} misses "
                                f"{miss.check} ({miss.gap}) and no reason is written")
        for analysis, populations in self.reasons.items():
            for population, subjects in populations.items():
                for subject, checks in subjects.items():
                    for check in checks:
                        if (analysis, population, subject, check) not in missed:
                            problems.append(f"{NOTES}/reasons.yaml: {analysis} / {population} / {subject} / {check}: "
                                            f"a reason for a comparison the model no longer misses; remove it")
        used = set().union(*(analysis.inputs.references for analysis in self.analyses))
        for item in self.notes.face_validity:
            problems += [f"{NOTES}/validation.yaml: face_validity {item.topic!r}: input {ref} is used by none of the "
                         f"analyses covered" for ref in item.inputs if ref not in used]
        return problems + unstated_tolerances(self.checks)

    def markdown(self) -> str:
        analyses, external, tolerance = self.analyses, self._external, self.notes.external.landmark_tolerance
        names = ", ".join(f"`{a.name}`" + (f" (`{a.file}`)" if a.file else " (the shipped base case)")
                          for a in analyses)
        lines = [f"# Validation of the {self.notes.model}", "", _INTRO, "", _GUIDELINES + names + ".", "",
                 "## 1. Face validity", "", "### 1.1 Structure, states and evidence", "", _STRUCTURE, ""]
        for analysis in analyses:
            lines += structure_section(analysis)
        lines += ["### 1.2 Clinical and modelling assumptions", "", _ASSUMPTIONS, "",
                  *assumptions_section(analyses, self.notes.face_validity),
                  "### 1.3 Where the evidence is thin", "", *thin_evidence_section(analyses),
                  "## 2. Internal verification", "", _VERIFICATION, "", *verification_section(self.checks),
                  "## 3. External validation", "", _EXTERNAL, "", *checks_legend(), "",
                  "### 3.1 Overall survival against the trial data each strategy names", "", _TRIAL_DATA, ""]
        for analysis in analyses:
            lines += trial_data_section(analysis, *external[analysis.name]["trial_data"], self.reasons)
        lines += ["### 3.2 Medians and landmarks against later and longer data", "",
                  _LATER_DATA.format(tolerance=tolerance, note=cell(self.notes.external.landmark_tolerance_note)), ""]
        for analysis in analyses:
            lines += later_data_section(analysis, *external[analysis.name]["later_data"], self.reasons)
        lines += ["### 3.3 Curves fitted to patient-level data against data the fits did not see", "", _FITS, ""]
        for analysis in analyses:
            lines += survival_fit_section(analysis, *external[analysis.name]["survival_fit"], self.reasons,
                                          tolerance)
        lines += ["## 4. Cross-validation against published US cost-effectiveness analyses", "",
                  *cross_validation_section(analyses, self.notes.cross_validation)]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines) + "\n"


_INTRO = (f"Generated by `{COMMAND}` from the shipped model files and evidence, the test suite and the hand-written "
          f"notes in `{NOTES}/`; a test fails when this page is out of date, when the model misses data with no "
          "reason written, or when a reason outlives its miss. Every number below was computed from the model, or "
          "read from the evidence library, when the page was generated.")
_GUIDELINES = ("The sections follow the AdViSHE checklist (Vemer et al., PharmacoEconomics 2016) and the ISPOR-SMDM "
               "good practice on model transparency and validation (Eddy et al., Med Decis Making 2012): face "
               "validity, internal verification, external validation, cross-validation. Analyses covered: ")
_STRUCTURE = ("Read off each analysis's validated model files: every part of every strategy with the fields it sets "
              "(evidence references with their value and status), the states the model computes, and every curve "
              "named with its definition and evidence.")
_ASSUMPTIONS = (f"Written in `{NOTES}/validation.yaml`; the inputs each concerns are shown with their current values "
                "and the analyses that use them.")
_VERIFICATION = ("Checks of the test suite against numbers obtained independently of the code, collected from the "
                 "tests' `@pytest.mark.verification(kind=…, against=…, tolerance=…)` markers; every number of a "
                 "stated tolerance is a constant of the test's code. The rest of the suite also runs in CI (traces "
                 "that sum to one, bad input refused, the shipped base case pinned to its numbers).")
_EXTERNAL = ("Three comparisons, each miss listed with its size and the reason written for it in "
             f"`{NOTES}/reasons.yaml` (keyed by analysis, population, strategy or fitted curve, and comparison):")
_TRIAL_DATA = ("The model's OS (base case) at each month of follow-up against the Kaplan–Meier estimate of the "
               "reconstructed patient-level data and its pointwise 95% CI (log-log); the model is never fitted to "
               "these data here. A model that is right, fitted to the same data, lies inside over about 99% of "
               "follow-up; any month outside counts as a miss.")
_LATER_DATA = ("A value is missed outside its reported 95% CI or, for a landmark reported without one, more than "
               "{tolerance:g} away in survival ({note}). A reported value that is an input of the model, or the "
               "target its OS is calibrated to, matches by construction and is not judged.")
_FITS = ("Every candidate model of each fitted curve (`survival_fits_validation.csv` of `markov run`), the chosen one "
         "in bold, judged by the same rules.")


def validation_markdown(root: Path) -> str:
    """``docs/validation.md`` of the repository at ``root``."""
    return ValidationDocument(root).markdown()


__all__ = ["COMMAND", "DOCUMENT", "ValidationDocument", "validation_markdown"]

"""docs/validation.md is generated from the model, its data and its tests
(markov/runs/validation_doc): it must match what they give now, every miss of the model
against data must have its reason written (and no reason outlive its miss), and every
tolerance it quotes from a test must be in that test's code.

Building the page runs both analyses it covers at their base case (about 1.5 s) and fits
every candidate survival model of the partitioned-survival analysis (about 1.3 s): about
3 s on the project's shared 2-core machine, no PSA."""
import copy
import textwrap
from pathlib import Path

import pytest

from markov.runs.validation_doc import COMMAND, DOCUMENT, ValidationDocument
from markov.runs.validation_doc.document import MISSING_REASON
from markov.runs.validation_doc.verification import collect_checks, numbers_in, unstated_tolerances

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def document():
    return ValidationDocument(ROOT)


def test_validation_doc_is_up_to_date(document):
    assert (ROOT / DOCUMENT).read_text() == document.markdown(), f"docs/validation.md is out of date: run {COMMAND}"


def test_every_miss_has_its_reason_and_every_reason_its_miss(document):
    assert document.problems() == [], f"fix these, then run {COMMAND}"
    assert MISSING_REASON not in (ROOT / DOCUMENT).read_text()


def test_a_miss_without_a_reason_is_refused_and_shown_as_such(document):
    assert document.misses, "the shipped analyses miss some data: the check below must see one"
    miss = document.misses[0]
    without = copy.copy(document)
    without.reasons = copy.deepcopy(document.reasons)
    del without.reasons[miss.analysis][miss.population][miss.subject][miss.check]
    problems = without.problems()
    assert any(f"{miss.analysis} / {miss.population} / {miss.subject} misses {miss.check}" in p for p in problems)
    assert MISSING_REASON in without.markdown()


def test_a_reason_for_a_comparison_that_does_not_miss_is_refused(document):
    stale = copy.copy(document)
    stale.reasons = copy.deepcopy(document.reasons)
    stale.reasons.setdefault("hcc_partitioned_survival", {}).setdefault("imbrave150", {}).setdefault(
        "atezo_bev", {})["trial_data"] = "an old reason"
    assert any("atezo_bev / trial_data: a reason for a comparison the model no longer misses" in problem
               for problem in stale.problems())


def test_the_published_figures_are_evidence_with_a_status_and_a_place(document):
    evidence = document.analyses[0].inputs.evidence
    studies = document.notes.cross_validation.studies
    assert [study.name for study in studies] == ["Su 2021", "Zhang 2021", "Chiang 2021"]
    for study in studies:
        for reference in (study.icer, study.incremental_cost, study.incremental_life_years, study.incremental_qalys):
            item = evidence[reference]
            assert item.source.kind == "economic_evaluation" and item.value.where, reference
            assert item.value.status in ("verified", "unverified"), reference
        assert evidence[study.icer].value.per == "QALY gained"


def test_a_tolerance_must_be_in_the_tests_code(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_example.py").write_text(textwrap.dedent('''
        import pytest

        RTOL = 1e-10


        @pytest.mark.verification(kind="closed form", against="a hand calculation", tolerance="rtol 1e-10")
        def test_stated_in_the_module():
            assert 1 == pytest.approx(1, rel=RTOL)


        @pytest.mark.verification(kind="closed form", against="a hand calculation", tolerance="atol 5e-4, 200,000")
        def test_stated_in_the_function():
            assert abs(200_000 * 0.0 - 0.0) < 5e-4


        @pytest.mark.verification(kind="closed form", against="a hand calculation", tolerance="rtol 1e-6")
        def test_not_stated():
            assert 1 == pytest.approx(1, rel=1e-9)


        @pytest.mark.verification(kind="a hunch", against="", tolerance="exact")
        def test_badly_marked():
            pass


        def test_not_marked():
            pass
    '''))
    checks = collect_checks(tmp_path / "tests")
    assert [check.test for check in checks] == ["test_stated_in_the_module", "test_stated_in_the_function",
                                                "test_not_stated", "test_badly_marked"]
    assert checks[0].module == "tests/test_example.py"
    problems = unstated_tolerances(checks)
    assert len(problems) == 3
    assert "test_not_stated: tolerance 'rtol 1e-6' states 1e-06" in problems[0]
    assert "kind 'a hunch'" in problems[1] and "needs against=" in problems[2]
    assert numbers_in("rel 1e-14; 5 standard errors of 200,000; 0.05") == [1e-14, 5, 200_000, 0.05]

"""docs/inputs.md is generated from params/: it must match what the shipped files say now."""
from pathlib import Path

from markov.inputs import load_analysis
from markov.runs import inputs_markdown

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_inputs_doc_is_up_to_date():
    base = load_analysis()
    nice = load_analysis(DOCS.parent / "analyses" / "nice_reference_case.yaml")
    expected = inputs_markdown(base) + "\n\n" + inputs_markdown(nice, skip=base.references) + "\n"
    assert (DOCS / "inputs.md").read_text() == expected, "run: python analyses/write_inputs_doc.py"


def test_every_input_of_the_base_case_is_listed_with_its_source():
    inputs = load_analysis()
    text = (DOCS / "inputs.md").read_text()
    for ref in inputs.references:
        assert f"`{ref}`" in text
        assert " ".join(inputs.evidence[ref].source.citation.split()) in text


def test_every_assumption_of_the_nice_reference_case_is_listed():
    inputs = load_analysis(DOCS.parent / "analyses" / "nice_reference_case.yaml")
    text = (DOCS / "inputs.md").read_text()
    for ref in inputs.references:
        assert f"`{ref}`" in text, ref

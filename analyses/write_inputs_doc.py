"""Regenerate docs/inputs.md: every input of the base case with its value and source, then
the inputs the NICE reference case (analyses/nice_reference_case.yaml) adds to them."""
from pathlib import Path

from markov.inputs import load_analysis
from markov.runs import inputs_markdown

ANALYSES = Path(__file__).resolve().parent


def inputs_document() -> str:
    base = load_analysis()
    nice = load_analysis(ANALYSES / "nice_reference_case.yaml")
    return inputs_markdown(base) + "\n\n" + inputs_markdown(nice, skip=base.references) + "\n"


if __name__ == "__main__":
    target = ANALYSES.parent / "docs" / "inputs.md"
    target.write_text(inputs_document())
    print(f"wrote {target}")

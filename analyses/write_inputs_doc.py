"""Regenerate docs/inputs.md: every input of the base case with its value and source."""
from pathlib import Path

from markov.inputs import load_analysis
from markov.runs import inputs_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "inputs.md"
    target.write_text(inputs_markdown(load_analysis()) + "\n")
    print(f"wrote {target}")

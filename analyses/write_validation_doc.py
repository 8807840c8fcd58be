"""Regenerate docs/validation.md: face validity, internal verification, external validation
and cross-validation of the model, computed from the model, its data and its tests.

Exits with status 1, after writing the page, when it finds what its test refuses: a miss
with no reason written in docs/validation/reasons.yaml, a reason left for a comparison
that no longer misses, and the like (each printed with where to fix it)."""
import sys
from pathlib import Path

from markov.runs.validation_doc import DOCUMENT, ValidationDocument

if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    document = ValidationDocument(root)
    (root / DOCUMENT).write_text(document.markdown())
    print(f"wrote {root / DOCUMENT}")
    problems = document.problems()
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)

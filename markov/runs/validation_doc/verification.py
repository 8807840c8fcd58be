"""The internal verification the test suite performs, collected from the tests themselves.

A test that checks the package against numbers obtained independently of it (a closed
form, another program's output, a textbook's printed results, another engine of this
package, a simulation, published data) says so with a marker, beside the assertions it
describes::

    @pytest.mark.verification(kind="other software", against="scipy.stats: survival, density, "
                              "hazard, quantiles", tolerance="rtol 1e-10")
    def test_family_matches_scipy(name): ...

The markers are read from the test files' syntax trees (nothing is imported or run), so
the list in ``docs/validation.md`` is the list of checks that exist. Every number written
in a ``tolerance`` must be a constant of that test function or of its module (an
assertion's ``rtol=1e-10``, a module's ``RTOL = 1e-10``): a tolerance that is not in the
code is reported by :func:`unstated_tolerances`.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

#: The kinds of independent numbers a check compares with, in the order the document lists them.
KINDS = {
    "closed form": "Closed forms and hand-worked values",
    "textbook": "Published models reproduced to their printed digits",
    "other software": "Other software on the same inputs",
    "another engine": "Two engines or structures of this package on the same model",
    "simulation": "Simulation",
    "published data": "Published data",
}
MARKER = "verification"
_NUMBER = re.compile(r"(?<![\w.])\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class VerificationCheck:
    """One marked test: what it checks against, how closely, and where it is."""

    module: str
    test: str
    kind: str
    against: str
    tolerance: str
    constants: frozenset[float]

    @property
    def node(self) -> str:
        return f"{self.module}::{self.test}"


def _constants(node: ast.AST) -> set[float]:
    """Every number written in ``node`` (with the sign of a unary minus)."""
    found = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Constant) and isinstance(item.value, (int, float)) and not isinstance(item.value, bool):
            found.add(float(item.value))
    return found


def _marker(decorator: ast.expr) -> dict[str, str] | None:
    """The keyword arguments of ``@pytest.mark.verification(...)``, or None for another decorator."""
    if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == MARKER and ast.unparse(decorator.func.value).endswith("mark")):
        return None
    values = {}
    for keyword in decorator.keywords:
        try:
            values[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            values[keyword.arg] = ast.unparse(keyword.value)
    return values


def collect_checks(tests: Path) -> list[VerificationCheck]:
    """Every test under ``tests`` marked ``verification``, in file order."""
    checks = []
    for path in sorted(tests.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module_constants = _constants(ast.Module(body=[node for node in tree.body
                                                       if isinstance(node, (ast.Assign, ast.AnnAssign))],
                                                 type_ignores=[]))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                marker = _marker(decorator)
                if marker is None:
                    continue
                body = ast.Module(body=node.body, type_ignores=[])
                checks.append(VerificationCheck(
                    module=path.relative_to(tests.parent).as_posix(), test=node.name,
                    kind=str(marker.get("kind", "")), against=str(marker.get("against", "")),
                    tolerance=str(marker.get("tolerance", "")),
                    constants=frozenset(_constants(body) | module_constants)))
    return checks


def numbers_in(text: str) -> list[float]:
    """The numbers written in ``text`` (``1e-10``, ``0.05``, ``200,000``)."""
    return [float(match.replace(",", "").replace("_", "")) for match in _NUMBER.findall(text)]


def unstated_tolerances(checks: list[VerificationCheck]) -> list[str]:
    """What is wrong with the markers: an unknown kind, an empty field, or a number in a
    tolerance that is no constant of the test's code."""
    problems = []
    for check in checks:
        if check.kind not in KINDS:
            problems.append(f"{check.node}: kind {check.kind!r} is not one of {', '.join(KINDS)}")
        for field in ("against", "tolerance"):
            if not getattr(check, field).strip():
                problems.append(f"{check.node}: the verification marker needs {field}=")
        for number in numbers_in(check.tolerance):
            if not any(abs(number - constant) <= 1e-12 * max(1.0, abs(number)) for constant in check.constants):
                problems.append(f"{check.node}: tolerance {check.tolerance!r} states {number:g}, which is no "
                                f"constant of the test or its module")
    return problems

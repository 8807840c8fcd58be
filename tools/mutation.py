"""Mutation testing of chosen modules with mutmut, and their scores (not part of CI: too slow).

mutmut plants one small change at a time (``+`` for ``-``, ``<`` for ``<=``, a constant
changed, an argument dropped …) in a copy of the package under ``mutants/`` and runs the
tests that reach the changed function; a mutant the tests do not notice *survived*. The
modules and the tests are set in ``pyproject.toml`` (``[tool.mutmut]``); mutants that no test
could kill, because the changed program computes the same thing, are listed with the reason
in ``tools/mutation_equivalent.yaml`` and left out of the score. See docs/architecture.md,
"Mutation testing".

Usage (from the repository root, with ``pip install -e ".[test,mutation]"``)::

    python tools/mutation.py                           # every configured module (about an hour)
    python tools/mutation.py markov.outcomes.costing   # one module
    python tools/mutation.py --survivors               # after adding tests: the last survivors again
    python tools/mutation.py --report                  # the last run's scores, running nothing

Every mutant of the chosen modules is tested again (``--survivors``: only mutants of functions
changed since the last run, of every configured module, and the last run's survivors and
timeouts not listed as equivalent). mutmut runs niced, with one worker process (the machine is shared). Prints, per
module, the mutants, how many were killed, survived, timed out, had no test or are
equivalent, and the score ``(killed + timed out or crashed) / (mutants − equivalent)``; then each survivor
not listed as equivalent, as a diff. Exits 1 when a module scores below ``--threshold``.
"""
from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, where mutmut brings toml
    import toml as tomllib

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.yaml")
MUTMUT = [sys.executable, "-m", "mutmut"]
#: mutmut's statuses that count as the tests noticing the mutant (a crash of the compiled core
#: fails the suite as surely as a failed test).
DETECTED = ("killed", "timeout", "segfault")


def configured_modules() -> list[str]:
    """The modules ``[tool.mutmut] only_mutate`` names, as dotted names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return [path.removesuffix(".py").replace("/", ".") for path in config["only_mutate"]]


def sync_unmutated_files() -> None:
    """Bring every file of the package that is not mutated (the compiled core among them)
    up to date in ``mutants/``: mutmut copies them once and never again."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    mutated = {ROOT / path for path in config["only_mutate"]}
    for source_dir in config["source_paths"]:
        for source in (ROOT / source_dir).rglob("*"):
            if not source.is_file() or source in mutated or "__pycache__" in source.parts:
                continue
            target = MUTANTS / source.relative_to(ROOT)
            if not target.exists() or not filecmp.cmp(source, target, shallow=False):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)


def mutmut(*arguments: str, niced: bool = False) -> str:
    """Run mutmut in the repository root; its output if it succeeds."""
    command = (["nice", "-n", "19"] if niced else []) + MUTMUT + list(arguments)
    done = subprocess.run(command, check=False, cwd=ROOT, capture_output=not niced, text=True)
    if done.returncode != 0:
        raise SystemExit(f"mutmut {' '.join(arguments)} failed with status {done.returncode}"
                         + (f":\n{done.stdout}{done.stderr}" if done.stdout or done.stderr else ""))
    return done.stdout or ""


def statuses() -> dict[str, str]:
    """Every mutant's status from the last run, by mutant name."""
    lines = mutmut("results", "--all", "true").splitlines()
    return dict(line.strip().rsplit(": ", 1) for line in lines if ": " in line)


def module_of(mutant: str) -> str:
    """``markov.outcomes.costing`` of ``markov.outcomes.costing.x_cost_of_dose__mutmut_3``
    (or of a method's ``…xǁPackǁunit_price__mutmut_1``)."""
    return mutant.rsplit(".", 1)[0]


def function_of(mutant: str) -> str:
    """The function a mutant changes, as the source names it: ``cost_of_dose``,
    ``Accumulator.total``."""
    name = mutant.rsplit(".", 1)[1].split("__mutmut_")[0]
    if name.startswith("xǁ"):
        return ".".join(part for part in name[2:].split("ǁ") if part)
    return name.removeprefix("x_")


@dataclass(frozen=True)
class Change:
    """A mutant as the lines it removes and adds (whitespace-normalised): its identifier
    across runs, where mutmut's numbers shift when a function changes."""

    function: str
    removed: tuple[str, ...]
    added: tuple[str, ...]


def _normalise(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def change_of(mutant: str) -> tuple[Change, str]:
    """The change a mutant makes, and mutmut's diff of it."""
    diff = mutmut("show", mutant)
    body = [line for line in diff.splitlines()[1:] if not line.startswith(("---", "+++", "@@"))]
    removed = tuple(_normalise(line[1:]) for line in body if line.startswith("-"))
    added = tuple(_normalise(line[1:]) for line in body if line.startswith("+"))
    return Change(function_of(mutant), removed, added), diff


def equivalent_changes() -> dict[Change, str]:
    """The listed equivalent mutants, and the reason each is equivalent."""
    listed = yaml.safe_load(EQUIVALENT.read_text()) or []
    changes = {}
    for item in listed:
        change = Change(item["function"], tuple(_normalise(x) for x in item["removed"]),
                        tuple(_normalise(x) for x in item["added"]))
        changes[change] = item["reason"].strip()
    return changes


def report(modules: list[str], threshold: float) -> bool:
    """Print the scores of ``modules`` and the survivors not listed as equivalent; whether
    every module reaches ``threshold`` percent."""
    found = statuses()
    listed = equivalent_changes()
    matched: set[Change] = set()
    passed = True
    survivors: list[tuple[str, str]] = []
    print(f"{'module':<32} {'mutants':>7} {'killed':>6} {'survived':>8} {'crashed':>7} {'no tests':>8} "
          f"{'equivalent':>10} {'score':>7}")
    for module in modules:
        mine = {name: status for name, status in found.items() if module_of(name) == module}
        counts = Counter(mine.values())
        equivalent = 0
        for name, status in sorted(mine.items()):
            if status != "survived":  # killed, timed out, or not run: nothing to show
                if status not in DETECTED:
                    survivors.append((f"{name}: {status}", ""))
                continue
            change, diff = change_of(name)
            if change in listed:
                equivalent += 1
                matched.add(change)
            else:
                survivors.append((f"{name}: {status}", diff))
        detected = sum(counts[status] for status in DETECTED)
        considered = len(mine) - equivalent
        score = 100.0 * detected / considered if considered else 100.0
        passed &= score >= threshold and "not checked" not in counts
        print(f"{module:<32} {len(mine):>7} {counts['killed']:>6} {counts['survived'] - equivalent:>8} "
              f"{counts['timeout'] + counts['segfault']:>7} {counts['no tests']:>8} {equivalent:>10} {score:>6.1f}%"
              + ("  (some not checked)" if "not checked" in counts else ""))
    print(f"equivalent mutants and the reason for each: {EQUIVALENT.relative_to(ROOT)}")
    for title, diff in survivors:
        print(f"\n# {title}\n{diff.split(chr(10), 1)[1] if diff.startswith('#') else diff}".rstrip())
    stale = [change for change in listed if change not in matched
             and any(change.function == function_of(name) for name in found if module_of(name) in modules)]
    for change in stale:
        print(f"\nlisted as equivalent but no surviving mutant makes this change: {change.function}: "
              f"{' / '.join(change.removed)} -> {' / '.join(change.added)}")
    return passed


def main(argv: list[str] | None = None) -> int:
    configured = configured_modules()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"dotted module names (default: every configured one: {', '.join(configured)})")
    parser.add_argument("--survivors", action="store_true",
                        help="test only mutants of changed functions and the last run's survivors and timeouts")
    parser.add_argument("--fresh", action="store_true", help="delete mutants/ first (mutmut's copy and its results)")
    parser.add_argument("--report", action="store_true", help="only print the scores of the last run")
    parser.add_argument("--threshold", type=float, default=95.0, help="lowest acceptable score, percent")
    args = parser.parse_args(argv)
    modules = args.modules or configured
    unknown = [module for module in modules if module not in configured]
    if unknown:
        parser.error(f"{', '.join(unknown)}: not mutated; [tool.mutmut] only_mutate in pyproject.toml names "
                     f"{', '.join(configured)}")
    if not args.report:
        if args.fresh and MUTANTS.exists():
            shutil.rmtree(MUTANTS)
        if MUTANTS.exists():
            sync_unmutated_files()
        if args.survivors:
            before = [name for name, status in statuses().items()
                      if module_of(name) in modules and status in ("survived", "timeout")]
            # which tests reach which function, anew: mutmut keeps it from the last run, where a
            # function added since would be reached by none of the tests that existed then
            (MUTANTS / "mutmut-stats.json").unlink(missing_ok=True)
            mutmut("run", "--max-children", "1", niced=True)  # mutants of changed functions, not yet checked
            now, listed = statuses(), equivalent_changes()
            again = [name for name in before if now.get(name) in ("survived", "timeout")
                     and change_of(name)[0] not in listed]  # equivalent mutants survive again
            if again:
                mutmut("run", "--max-children", "1", *again, niced=True)
        else:
            mutmut("run", "--max-children", "1", *(f"{module}.*" for module in modules), niced=True)
    return 0 if report(modules, args.threshold) else 1


if __name__ == "__main__":
    sys.exit(main())

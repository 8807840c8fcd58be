"""Every code block of the README and of docs/*.md runs, in the order written.

A document's ``python`` blocks share one namespace and its ``bash`` blocks one shell
working directory, as a reader following it would; the directory is a fresh temporary one
holding the repository's ``analyses/`` (a link), so that examples write nowhere else. A
block that cannot run in a test (one that installs the package) is preceded by
``<!-- not run: <reason> -->``; the reason is required. Blocks of other languages (text,
yaml, diagrams) are not code.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN = ("python", "bash")
_FENCE = re.compile(r"^```(\w*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not run:\s*(?P<reason>\S.*?)\s*-->\s*$")


def code_blocks(path: Path) -> list[tuple[int, str, str, str | None]]:
    """``(line, language, code, reason not run)`` of every fenced block of ``path``."""
    lines, blocks, i = path.read_text().splitlines(), [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening or not opening.group(1):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = _NOT_RUN.match(before)
        blocks.append((i + 1, opening.group(1), "\n".join(lines[i + 1:end]), skip.group("reason") if skip else None))
        i = end + 1
    return blocks


def _environment(directory: Path) -> dict:
    environment = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return environment


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_code_block_runs_in_order(document, tmp_path, monkeypatch):
    runnable = [block for block in code_blocks(document) if block[1] in RUN]
    if not runnable:
        pytest.skip(f"{document.name} has no code blocks")
    (tmp_path / "analyses").symlink_to(ROOT / "analyses")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for line, language, code, reason in runnable:
        where = f"{document.name}:{line}"
        if reason is not None:
            continue
        if language == "python":
            exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the project's own documentation
            plt.close("all")
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=_environment(tmp_path),
                                  capture_output=True, text=True, timeout=900)
            output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{output}"


def test_blocks_not_run_say_why():
    for document in DOCUMENTS:
        for line, language, _, reason in code_blocks(document):
            if language in RUN and reason is not None:
                assert len(reason) > 10, f"{document.name}:{line}: say why the block is not run"

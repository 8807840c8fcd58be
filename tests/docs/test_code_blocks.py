"""Every code block of the README and of docs/*.md runs, in the order written.

A document's ``python`` blocks share one namespace and its ``bash`` blocks one shell
working directory, as a reader following it would; the directory is a fresh temporary one
holding the repository's ``analyses/`` (a link), so that examples write nowhere else. A
block that cannot run in a test (one that installs the package) is preceded by
``<!-- not run: <reason> -->``; the reason is required. Blocks of other languages (text,
yaml, diagrams) are not code.

In the guides a newcomer follows (:data:`OUTPUT_CHECKED`), a ``text`` block right after a
code block is what that block prints: each of its lines is a line of the output (stdout
and stderr as a terminal shows them, trailing spaces aside), in that order, and ``...``
stands for any lines. A printed output that cannot be shown as it is (a rate, a time) is
preceded by ``<!-- output not checked: <reason> -->``.
"""
import contextlib
import io
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
#: Documents whose printed outputs are checked against what the code prints.
OUTPUT_CHECKED = ("README.md", "user-guide.md")
_FENCE = re.compile(r"^```(\w*)\s*$")
_NOT_RUN = re.compile(r"^<!--\s*(?:output )?not (?:run|checked):\s*(?P<reason>\S.*?)\s*-->\s*$")


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


def shows(text: str, output: str) -> bool:
    """Whether ``output`` holds the lines of ``text`` in order (``...`` for any lines,
    trailing spaces aside)."""
    lines = [line.rstrip() for line in output.splitlines()]
    at = 0
    for expected in (line.rstrip() for line in text.splitlines()):
        if expected == "...":
            continue
        try:
            at = lines.index(expected, at) + 1
        except ValueError:
            return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_code_block_runs_in_order(document, tmp_path, monkeypatch):
    blocks = code_blocks(document)
    if not [block for block in blocks if block[1] in RUN]:
        pytest.skip(f"{document.name} has no code blocks")
    (tmp_path / "analyses").symlink_to(ROOT / "analyses")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    printed = None  # the output of the code block just before, in a document whose outputs are checked
    for line, language, code, reason in blocks:
        where = f"{document.name}:{line}"
        if language == "text" and printed is not None and reason is None:
            assert shows(code, printed), f"{where}: not what the code above prints; it prints:\n{printed[-3000:]}"
        printed = None
        if language not in RUN or reason is not None:
            continue
        if language == "python":
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                exec(compile(code, where, "exec"), namespace)  # noqa: S102 - the project's own documentation
            plt.close("all")
            output = captured.getvalue()
        else:
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], cwd=tmp_path, env=_environment(tmp_path),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, check=False)
            output = done.stdout
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{output[-4000:]}"
        if document.name in OUTPUT_CHECKED:
            printed = output


def test_output_check_takes_lines_in_order_with_gaps():
    output = "heading\n  a  1  \nnoise\n  b  2\nend\n"
    assert shows("heading\n  a  1\n...\n  b  2", output) and shows("  b  2", output)
    assert not shows("  b  2\n  a  1", output) and not shows("  a  2", output)


def test_blocks_not_run_say_why():
    for document in DOCUMENTS:
        for line, language, _, reason in code_blocks(document):
            if language in RUN and reason is not None:
                assert len(reason) > 10, f"{document.name}:{line}: say why the block is not run"

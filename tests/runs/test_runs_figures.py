"""The figure writer: figures drawn by forked processes are the files one process writes."""
from __future__ import annotations

import sys
import time

import matplotlib.pyplot as plt
import numpy as np
import pytest

from markov.runs.figures import FigureWriter

forking = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures are drawn in forked processes on Linux")


def _line(slope: float):
    figure, axes = plt.subplots(figsize=(3, 2))
    x = np.linspace(0.0, 1.0, 50)
    axes.plot(x, slope * x, label=f"slope {slope:g}")
    axes.set(xlabel="Time (years)", ylabel="Survival")
    axes.legend()
    return figure


def _nothing():
    return None


def _broken(slope: float):
    raise ValueError(f"no figure for slope {slope:g}")


def _write(directory, workers: int, progress=None) -> list:
    phases = (lambda label, unit: progress) if progress is not None else None
    writer = FigureWriter(("png",), phases, workers=workers)
    for k in range(5):
        writer.add(directory / f"line_{k}", _line, float(k))
        if k == 2:
            writer.add(directory / "none", _nothing)
    return writer.write()


@forking
def test_figures_drawn_by_forked_processes_are_the_same_files_in_the_same_order(tmp_path):
    alone, shared = tmp_path / "alone", tmp_path / "shared"
    alone.mkdir(), shared.mkdir()
    seen = []
    files = _write(shared, workers=3, progress=lambda done, total: seen.append((done, total)))
    assert [f.name for f in files] == [f.name for f in _write(alone, workers=1)]
    assert [f.name for f in files] == ["line_0.png", "line_1.png", "line_2.png", "line_3.png", "line_4.png"]
    for file in files:
        assert file.read_bytes() == (alone / file.name).read_bytes()
    # the phase starts at 0, whatever the forked processes finish first, and ends at its total
    assert seen[0] == (0, 6) and seen[-1] == (6, 6) and all(0 <= done <= total == 6 for done, total in seen)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


@forking
@pytest.mark.parametrize("ended_before_the_next_figure", [False, True])
def test_an_error_in_a_forked_process_is_raised_after_the_others_finish(tmp_path, ended_before_the_next_figure):
    """Raised by write() once the other figures are written, whether the failed process
    ended before the next figure was added (then seen by add) or while write() draws."""
    writer = FigureWriter(("png",), workers=2)
    writer.add(tmp_path / "broken", _broken, 1.0)  # handed to a forked process at once
    if ended_before_the_next_figure:
        while not all(drawing.done() for drawing in writer._drawing.values()):
            time.sleep(0.01)
    writer.add(tmp_path / "line", _line, 1.0)
    writer.add(tmp_path / "later", _line, 2.0)
    with pytest.raises(ValueError, match="no figure for slope 1"):
        writer.write()
    assert (tmp_path / "line.png").exists() and (tmp_path / "later.png").exists()
    assert writer.write() == []  # nothing left over for the next call


def test_one_worker_draws_every_figure_in_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr("markov.runs.figures._Drawing", None)  # any fork would fail
    assert [f.name for f in _write(tmp_path, workers=1)] == [f"line_{k}.png" for k in range(5)]

"""Writing a figure of an analysis."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from ..plots import save_figure


def save(figure, path: Path) -> list[Path]:
    """Write ``figure`` in each format under ``path`` (its stem) and free its memory; returns the files."""
    written = save_figure(figure, path)
    plt.close(figure)
    return written

"""Reports of a results directory: an Excel workbook and one self-contained HTML page.

A results directory is what ``markov run --psa N --out DIR`` (or ``markov psa --out
DIR``) writes, with the deterministic sensitivity analysis of ``markov dsa --out
DIR/dsa`` in its DSA subdirectory and provenance in its run records
(:mod:`markov.results` names every file). The reports read only the summary tables and
the figures, never the per-sample results, and compute nothing. The base case or the
PSA may be missing, but not both, and the DSA may be missing; a missing part's sheet
or section says that it was not run.

:mod:`.reading` reads the directory, :mod:`.tables` derives the tables the reports
show, :mod:`.formats` gives each column its heading and number format,
:mod:`.workbook` writes the workbook, :mod:`.page` and :mod:`.html` the HTML page.
"""
from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from ..results import ResultsDirectory, writing
from .html import render_html, write_html
from .reading import Results
from .workbook import render_workbook, write_workbook

__all__ = ["write_html", "write_reports", "write_workbook"]


def write_reports(results_dir: Path | str, out_dir: Path | str | None = None) -> list[Path]:
    """Write ``report.xlsx`` and ``report.html`` of a results directory.

    Parameters
    ----------
    results_dir : Path or str
        Directory written by ``markov run`` or ``markov psa`` (and ``markov dsa`` into its ``dsa/``).
    out_dir : Path or str, optional
        Where to write the reports (default: ``results_dir``).

    Returns
    -------
    list of Path
        The workbook and the HTML page.

    Raises
    ------
    InputError
        When ``results_dir`` has neither base-case results nor a PSA, or a table lacks a
        column, or another command is writing into ``results_dir`` or ``out_dir``.
    """
    source = ResultsDirectory(results_dir)
    out = ResultsDirectory(results_dir if out_dir is None else out_dir)
    with ExitStack() as held:  # no other command writes where these read or write meanwhile
        for directory in (source.path, source.dsa.path):
            if directory.is_dir() and os.access(directory, os.W_OK):  # else no command of ours writes there
                held.enter_context(writing(directory))
        results = Results(results_dir)
        held.enter_context(writing(out.path))
        return [render_workbook(results, out.workbook), render_html(results, out.html_report)]

"""The report's part on a search over treatment sequences (``markov sequences`` into the
results directory): the ranked sequences, the frontier, the optimal sequence by
willingness to pay and the value of the best sequence over usual care. Shown only when
the directory holds the search's tables."""
from __future__ import annotations

import pandas as pd

from ..results import SEQUENCE_EVPI, SEQUENCE_FRONTIER, SEQUENCE_OPTIMAL, SEQUENCE_VALUE, SEQUENCES
from .page import Page
from .reading import Results

# Rows of the ranked sequences in the HTML page; the workbook has all.
TOP_SEQUENCES = 15


def _at_thresholds(results: Results, table: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows of a table by willingness to pay at the analysis's thresholds."""
    if table is None or not results.thresholds:
        return table
    return table[table["wtp"].isin(list(results.thresholds.values()))]


def sheets(results: Results) -> list[tuple[str, pd.DataFrame | None, str, str]]:
    """The workbook's sheets of the sequence search, those whose table the directory holds."""
    found = []
    for title, stem, what in (
            ("Sequences", SEQUENCES, ("Every treatment sequence the rules allow and the usual-care strategies, "
                                      "ranked: mean cost, QALYs and life-years, status on the frontier, ICER, NMB "
                                      "and probability of being optimal at each threshold, assumptions used")),
            ("Sequence frontier", SEQUENCE_FRONTIER, "The cost-effectiveness frontier over all sequences"),
            ("Optimal sequence", SEQUENCE_OPTIMAL, ("The optimal sequence and its probability of being optimal "
                                                   "by willingness to pay")),
            ("Sequence value", SEQUENCE_VALUE, ("Net benefit of the best sequence over the best usual-care "
                                                "strategy by willingness to pay")),
            ("Sequence EVPI", SEQUENCE_EVPI, "Expected value of perfect information over the sequence decision")):
        table = results.table(stem)
        if table is not None:
            found.append((title, table, f"{what} ({results.file_name(stem)}).", ""))
    return found


def section(page: Page) -> None:
    """The HTML report's section on the sequence search (nothing when it was not run)."""
    results = page.results
    ranked = results.table(SEQUENCES)
    if ranked is None:
        return
    searched = results.provenance.get("commands", {}).get("sequences", {})
    page.heading(2, "Treatment sequences", "sequences")
    page.paragraph(f"Every sequence the analysis's rules allow ({searched.get('sequences', len(ranked))} sequences "
                   f"of {searched.get('population', 'the population')}), beside the usual-care strategies, evaluated "
                   f"on the same {searched.get('psa_samples', 'PSA')} draws (means shown).")
    columns = ["rank", "label", "role", "cost", "qalys", "status", "icer",
               *[c for c in ranked.columns if c.startswith("probability_best_at_")]]
    page.table(ranked.head(TOP_SEQUENCES), [c for c in columns if c in ranked],
               f"The {min(TOP_SEQUENCES, len(ranked))} best-ranked sequences (all {len(ranked)} are in "
               f"{results.file_name(SEQUENCES)}).", "table-sequences", headings={"label": ("Sequence", "text")})
    for stem, caption in ((SEQUENCE_FRONTIER, "Cost-effectiveness frontier over all sequences."),
                          (SEQUENCE_OPTIMAL, ("Probability that each sequence is optimal, and the optimal one, by "
                                              "willingness to pay."))):
        figure = results.figure(stem)
        if figure is not None:
            page.figure(figure, caption)
    value = _at_thresholds(results, results.table(SEQUENCE_VALUE))
    if value is not None and not value.empty:
        page.table(value, ["wtp", "best_sequence_label", "best_usual_care_label", "net_benefit_gain",
                           "probability_sequence_better"],
                   "The best sequence against the best usual-care strategy at each threshold: expected net "
                   "monetary benefit gained per patient.", "table-sequence-value",
                   headings={"best_sequence_label": ("Best sequence", "text"),
                             "best_usual_care_label": ("Best usual care", "text")})

"""What the command line prints for a reader: tables of results with units in their
headings, money in whole units, "—" where a value is undefined, and no control
characters from input files."""
from __future__ import annotations

import re
import sys
import textwrap

import pandas as pd

from .inputs.labels import analysis_label
from .inputs.money import CURRENCY_SYMBOLS
from .results import ResultsDirectory, read_table, tornado

#: Characters a terminal acts on rather than shows: C0 and C1 controls but the newline and
#: the tab, DEL, and the Unicode bidirectional marks and overrides.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def say(text: str = "", file=None, flush: bool = False) -> None:
    """Print ``text`` (which may hold names and labels from input files) without the
    control characters a terminal would act on (:data:`_CONTROL`)."""
    print(_CONTROL.sub("", text), file=file or sys.stdout, flush=flush)


#: What the console prints for a value that is not defined (an ICER of the reference).
UNDEFINED = "—"
#: Widest console table, in characters.
CONSOLE_WIDTH = 100


def heading(text: str) -> None:
    """A table's heading after a blank line, wrapped to :data:`CONSOLE_WIDTH`."""
    say("\n" + textwrap.fill(text, CONSOLE_WIDTH, break_on_hyphens=False))


def amount(value: float) -> str:
    """Money in whole units with thousands separators; "—" when undefined."""
    return UNDEFINED if pd.isna(value) else f"{value:,.0f}"


def decimals(places: int):
    return lambda value: UNDEFINED if pd.isna(value) else f"{value:,.{places}f}"


def percent(value: float) -> str:
    """A probability in whole percent; "—" when undefined."""
    return UNDEFINED if pd.isna(value) else f"{value:.0%}"


def status(row, labels: dict[str, str]) -> str:
    """``dominated by Sorafenib``, ``extendedly dominated``, ``frontier`` or ``reference``."""
    if row.status == "dominated" and isinstance(row.dominated_by, str) and row.dominated_by:
        return f"dominated by {labels.get(row.dominated_by, row.dominated_by)}"
    return row.status


def money(value: float, currency: str) -> str:
    """``$100,000``; ``CHF 100,000`` for a currency without a symbol."""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{value:,.0f}" if symbol else f"{currency} {value:,.0f}"


def threshold(column: str, currency: str, prefix: str) -> str:
    """``nmb_at_100000_USD`` → ``$100,000``: a threshold's column as a reader names it."""
    return money(float(column.removeprefix(prefix).rpartition("_")[0]), currency)


def analysis_title(inputs) -> str:
    """The analysis as a reader names it: its description, else its name in words."""
    return analysis_label(inputs.analysis.name, inputs.analysis.description)


def print_base_case(outputs, inputs) -> None:
    """Each population's results as a health economist reads them: labels, units in the
    headers, money in whole units, "—" where a value is undefined, who dominates whom."""
    currency = inputs.perspective.currency
    merged = outputs.incremental.merge(outputs.results[["population", "strategy", "label", "life_years"]],
                                       on=["population", "strategy"])
    for population, rows in merged.groupby("population", sort=False):
        labels = dict(zip(rows["strategy"], rows["label"], strict=True))
        table = pd.DataFrame({
            "Strategy": rows["label"], f"Cost ({currency})": rows["cost"].map(amount),
            "LYs": rows["life_years"].map(decimals(3)), "QALYs": rows["qalys"].map(decimals(3)),
            f"ΔCost ({currency})": rows["incremental_cost"].map(amount),
            "ΔQALYs": rows["incremental_qalys"].map(decimals(3)),
            f"ICER ({currency}/QALY)": rows["icer_per_qaly"].map(amount),
            "Status": [status(row, labels) for row in rows.itertuples()]})
        heading(f"{analysis_title(inputs)} — {inputs.populations[population].label}")
        say(table.to_string(index=False))
        nmb = [c for c in rows.columns if c.startswith("nmb_at_")]
        benefit = pd.DataFrame({"Strategy": rows["label"]} | {
            f"NMB at {threshold(c, currency, 'nmb_at_')}/QALY ({currency})": rows[c].map(amount) for c in nmb})
        say(benefit.to_string(index=False))


def print_psa_summary(summary: pd.DataFrame, labels: dict, population_labels: dict, currency: str) -> None:
    """The PSA summary, a table per population that fits :data:`CONSOLE_WIDTH`: means with
    95% intervals, and the probability that each strategy is cost-effective."""
    chances = [c for c in summary.columns if c.startswith("probability_cost_effective_at_")]
    for population, rows in summary.groupby("population", sort=False):
        table = pd.DataFrame({"Strategy": [labels.get((population, s), s) for s in rows["strategy"]]})
        for measure, title, shown in (("cost", f"Cost ({currency})", amount), ("qalys", "QALYs", decimals(3))):
            table[f"{title}, mean (95% interval)"] = [
                f"{shown(m)} ({shown(lo)} to {shown(hi)})"
                for m, lo, hi in zip(rows[f"{measure}_mean"], rows[f"{measure}_2.5%"], rows[f"{measure}_97.5%"],
                                     strict=True)]
        for column in chances:
            table[f"P(CE) {threshold(column, currency, 'probability_cost_effective_at_')}"] = [percent(v) for v in rows[column]]
        heading(f"PSA summary — {population_labels.get(population, population)}")
        say(table.to_string(index=False))


def print_top_drivers(out: str, inputs, top: int = 5) -> None:
    """``markov dsa``: the inputs that move each population's incremental NMB the most."""
    directory = ResultsDirectory(out)
    currency = inputs.perspective.currency
    for population, spec in inputs.populations.items():
        path = directory.table(tornado("nmb"), population)
        if not path.is_file():
            continue
        table = read_table(path).head(top)
        versus = f"{spec.strategies[spec.comparison.intervention].label} vs " \
                 f"{spec.strategies[spec.comparison.comparator].label}"
        heading(f"Top drivers of the incremental NMB, {versus} — {spec.label}")
        say(pd.DataFrame({
            "Input": [inputs.label(ref) if ref in inputs.uses else ref for ref in table["reference"]],
            "Low → high": [f"{lo} → {hi}" for lo, hi in zip(table["low_input"], table["high_input"], strict=True)],
            f"NMB ({currency})": [f"{amount(lo)} to {amount(hi)}"
                                  for lo, hi in zip(table["outcome_low"], table["outcome_high"], strict=True)],
        }).to_string(index=False, max_colwidth=58))


def print_sequences(results, currency: str, top: int = 10) -> None:
    """``markov sequences``: the best ``top`` strategies by expected NMB at the highest
    threshold, as a health economist reads them, and the best at each threshold."""
    table = results.table.head(top)
    highest = [c for c in table.columns if c.startswith("nmb_at_")][-1]
    at = threshold(highest, currency, "nmb_at_")
    best = f"probability_best_at_{highest.removeprefix('nmb_at_')}"
    labels = [f"{label} ({role})" if role != "sequence" else label
              for label, role in zip(table["label"], table["role"], strict=True)]
    shown = pd.DataFrame({
        "#": table["rank"], "Strategy": labels, f"Cost ({currency})": table["cost"].map(amount),
        "QALYs": table["qalys"].map(decimals(3)), f"NMB at {at}": table[highest].map(amount)}
        | ({"P(best)": table[best].map(percent)} if best in table else {})
        | {"Status": table["status"], f"ICER ({currency}/QALY)": table["icer"].map(amount)})
    heading(f"The {count(len(table), 'best strategy', 'best strategies')} of {len(results.table)}, by expected "
            f"net monetary benefit (NMB) at {at}/QALY")
    say(shown.to_string(index=False))
    optimal = results.optimal(list(results.thresholds.values()))
    chance = "probability_cost_effective" in optimal and optimal["probability_cost_effective"].notna().any()
    heading("The best strategy at each threshold")
    say(pd.DataFrame({"Threshold": [f"{money(wtp, currency)}/QALY" for wtp in optimal["wtp"]],
                      "Strategy": optimal["label"]}
                     | ({"P(best)": optimal["probability_cost_effective"].map(percent)} if chance else {})
                     ).to_string(index=False))


def count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"

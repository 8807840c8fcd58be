"""Checks of the plain tables the figures take: errors name the argument, the column,
the row and the rule, before anything is drawn."""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .._validate import InputError

#: Slack allowed on the bounds of a column (e.g. a probability of 1 + 1e-12 from rounding).
TOLERANCE = 1e-9


def check_table(table, name: str, columns: Iterable[str]) -> pd.DataFrame:
    """``table`` if it is a non-empty DataFrame with ``columns``, else an :class:`InputError`."""
    columns = list(columns)
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{name}: is a {type(table).__name__}, expected a pandas DataFrame with columns {columns}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(f"{name}: missing column(s) {missing}; expected columns {columns}, "
                         f"got {list(table.columns)}")
    if table.empty:
        raise InputError(f"{name}: has no rows; expected at least one")
    return table


def numeric_column(table: pd.DataFrame, name: str, column: str, *, allow_nan: bool = False,
                   low: float = -np.inf, high: float = np.inf) -> np.ndarray:
    """Column as floats, checking each is finite (or NaN if ``allow_nan``) and within [low, high]."""
    try:
        values = pd.to_numeric(table[column]).to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name}[{column!r}]: could not be read as numbers ({error})") from None
    bad = np.isinf(values) | (np.isnan(values) & (not allow_nan))
    rule = "must be a finite number" + (" or NaN" if allow_nan else "")
    bad_range = ~np.isnan(values) & ((values < low - TOLERANCE) | (values > high + TOLERANCE))
    for mask, why in ((bad, rule), (bad_range, f"must lie in [{low}, {high}]")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            where = table["parameter"].iloc[i] if "parameter" in table.columns else f"index {table.index[i]!r}"
            raise InputError(f"{name}[{column!r}] is {float(values[i])!r} in row {i} ({where}): {why}")
    return values


def text_labels(table: pd.DataFrame, name: str, column: str = "parameter") -> list[str]:
    """Display labels from a text column (no empty or missing ones)."""
    labels = ["" if pd.isna(v) else str(v) for v in table[column]]
    if "" in labels:
        raise InputError(f"{name}[{column!r}] is empty in row {labels.index('')}: every row needs a label")
    return labels

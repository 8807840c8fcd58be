"""Incremental cost-effectiveness analysis and net benefit.

:func:`incremental_analysis` follows the usual procedure (Drummond et al., *Methods
for the Economic Evaluation of Health Care Programmes*; dampack's ``calculate_icers``)
on expected costs and effects, one per strategy:

1. sort by cost, ties by effect, most effective first (then by input order);
2. remove **strongly dominated** strategies: another strategy costs no more and gives
   no less, and is strictly better on one of the two;
3. remove **extendedly dominated** strategies, repeatedly, until the ICERs along what
   is left increase: a strategy whose ICER against the previous strategy is at least
   the ICER of the next strategy against it costs more than a mix of its two
   neighbours giving the same effect;
4. report each remaining (frontier) strategy's ICER against the previous one.

The strategies left form the efficient frontier: the lower convex hull of the
cost-effect points, from the cheapest strategy to the most effective. At a
willingness to pay ``wtp`` the strategy with the largest net monetary benefit
``wtp · E − C`` lies on it; a frontier strategy is that optimum for ``wtp`` between
its own ICER and the next one.

Conventions
-----------
* Rows come out sorted by cost (ties: more effective first, then input order), the
  order in which the ICERs are read.
* Identical strategies (same cost and same effect): the first in input order stays,
  the others are ``"dominated"`` by it.
* A strategy lying exactly on the line between its neighbours (equal ICERs) is
  ``"extendedly dominated"``: a mix of the neighbours matches it, and it is never the
  only best strategy at any willingness to pay, so frontier ICERs strictly increase.
  dampack keeps such a strategy, with an ICER equal to the next one. ICERs equal to
  a relative :data:`ICER_RTOL` count as equal, so rounding in the differences (e.g.
  effects 0.1, 0.2, 0.3) does not decide the status.

:func:`check_outcomes` and :func:`check_wtp` check the costs, effects, strategy names
and willingness to pay that every decision analysis starts from; the summaries of PSA
samples (acceptability, expected loss, ICER quadrants) are in
:mod:`markov.decision.acceptability`.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

from .._validate import InputError, _first, _number, as_float_array

#: ICERs closer than this, relative to the next ICER, count as equal in extended dominance.
ICER_RTOL = 1e-9

#: Values of the ``status`` column of :func:`incremental_analysis`.
STATUSES = ("reference", "frontier", "dominated", "extendedly dominated")

#: Columns of the table returned by :func:`incremental_analysis`.
COLUMNS = (
    "strategy",
    "cost",
    "effect",
    "incremental_cost",
    "incremental_effect",
    "icer",
    "status",
    "dominated_by",
    "compared_with",
)

NetBenefitKind = Literal["monetary", "health"]


def incremental_analysis(costs, effects, strategies: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Dominance, extended dominance and ICERs along the efficient frontier.

    Parameters
    ----------
    costs, effects : array_like, shape (n_strategies,)
        Expected (mean) cost and effect (e.g. QALYs) of each strategy.
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.

    Returns
    -------
    pandas.DataFrame
        One row per strategy, sorted by cost (ties: more effective first, then input
        order), with columns

        ``strategy``, ``cost``, ``effect``
            as given;
        ``incremental_cost``, ``incremental_effect``, ``icer``
            against ``compared_with``, for frontier strategies; NaN otherwise;
        ``status``
            ``"reference"`` (the cheapest frontier strategy), ``"frontier"``,
            ``"dominated"`` or ``"extendedly dominated"``;
        ``dominated_by``
            for ``"dominated"`` the name of a strategy that dominates it (the most
            effective of those costing no more, itself not dominated); for
            ``"extendedly dominated"`` a tuple ``(lower, upper)`` of the adjacent
            frontier strategies whose mix gives the same effect for less (or, on the
            line, the same) cost; None otherwise;
        ``compared_with``
            the previous frontier strategy, for ``"frontier"``; None otherwise.

    Raises
    ------
    InputError
        If a cost or effect is not finite (naming the strategy), the lengths differ,
        there are no strategies, or names repeat.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(1,))
    n = cost.size
    order = np.lexsort((np.arange(n), -effect, cost))  # last key sorts first
    status: dict[int, str] = {}
    dominated_by: dict[int, object] = {}

    # Strong dominance in one pass over the sorted order: everything before i costs no
    # more than i, so i is dominated exactly when the most effective of them (kept at
    # the first strategy to reach that effect, hence not dominated itself) gives at
    # least as much. Equal effect and equal cost is an identical strategy, dropped.
    candidates = [int(order[0])]
    best = candidates[0]
    for i in map(int, order[1:]):
        if effect[i] <= effect[best]:
            status[i] = "dominated"
            dominated_by[i] = names[best]
        else:
            best = i
            candidates.append(i)

    # Candidates now have strictly increasing cost and effect, so every ICER is positive.
    # Extended dominance: a strategy whose ICER against the previous one is not below the
    # next ICER leaves; popping from a stack re-checks the previous strategy against the
    # new neighbour, which is the cascade of dampack's repeated passes.
    def icer(a: int, b: int) -> float:
        return (cost[b] - cost[a]) / (effect[b] - effect[a])

    frontier: list[int] = []
    extended: list[int] = []
    for i in candidates:
        while len(frontier) >= 2 and icer(frontier[-2], frontier[-1]) >= icer(frontier[-1], i) * (1 - ICER_RTOL):
            extended.append(frontier.pop())
        frontier.append(i)

    frontier_effects = effect[frontier]
    for k in extended:
        # the reference and the most effective candidate never leave, so k has frontier
        # strategies on both sides, and it lies on or above the segment joining them
        upper = int(np.searchsorted(frontier_effects, effect[k]))
        status[k] = "extendedly dominated"
        dominated_by[k] = (names[frontier[upper - 1]], names[frontier[upper]])

    increments: dict[int, tuple[float, float, object]] = {}
    status[frontier[0]] = "reference"
    for previous, i in pairwise(frontier):
        status[i] = "frontier"
        increments[i] = (cost[i] - cost[previous], effect[i] - effect[previous], names[previous])

    rows = []
    for i in map(int, order):
        d_cost, d_effect, compared_with = increments.get(i, (np.nan, np.nan, None))
        rows.append((
            names[i], float(cost[i]), float(effect[i]), float(d_cost), float(d_effect),
            float(d_cost / d_effect), status[i], dominated_by.get(i), compared_with,
        ))
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    for column in ("dominated_by", "compared_with"):  # keep None, and names that are numbers, as given
        table[column] = pd.Series([row[COLUMNS.index(column)] for row in rows], dtype=object)
    return table


def net_benefit(costs, effects, wtp, kind: NetBenefitKind = "monetary") -> np.ndarray:
    """Net monetary benefit ``wtp · E − C`` or net health benefit ``E − C / wtp``.

    Parameters
    ----------
    costs, effects : array_like, shape (n_strategies,) or (n_samples, n_strategies)
        Same shape; e.g. PSA samples of each strategy's cost and QALYs.
    wtp : float or array_like, shape (n_wtp,)
        Willingness to pay per unit of effect: 0 or more for net monetary benefit,
        above 0 for net health benefit (costs are divided by it).
    kind : {"monetary", "health"}

    Returns
    -------
    ndarray
        Shape of ``costs`` for a scalar ``wtp``; ``(n_wtp,) + costs.shape`` for an
        array, so ``result[j]`` is the net benefit at ``wtp[j]``.
    """
    if kind not in ("monetary", "health"):
        raise InputError(f"kind is {kind!r}: must be 'monetary' or 'health'")
    cost, effect, _ = check_outcomes(costs, effects, None, ndim=(1, 2))
    lam = check_wtp(wtp, positive=kind == "health")
    lam = lam.reshape(lam.shape + (1,) * cost.ndim)  # wtp axis first
    if kind == "monetary":
        return lam * effect - cost
    return effect - cost / lam


def optimal_strategy(costs, effects, wtp, strategies: Sequence[Hashable] | None = None):
    """The strategy with the largest expected net monetary benefit at ``wtp``.

    Parameters
    ----------
    costs, effects : array_like, shape (n_strategies,) or (n_samples, n_strategies)
        With samples, expected values are the means over samples.
    wtp : float or array_like, shape (n_wtp,)
        Willingness to pay per unit of effect, 0 or more.
    strategies : sequence of hashable, optional
        Unique strategy names; without them positions are returned.

    Returns
    -------
    int or name, or ndarray of them, shape (n_wtp,)
        For an array ``wtp``, one per value. Exact ties in net benefit go to the cheaper
        strategy, then (only possible at ``wtp = 0``) the more effective, then the one
        first in input order. Ties are exact: at a willingness to pay equal to an ICER
        computed in floating point the two net benefits may differ by rounding.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(1, 2))
    if cost.ndim == 2:
        cost, effect = cost.mean(axis=0), effect.mean(axis=0)
    lam = check_wtp(wtp)
    # argmax takes the first of equal maxima, so columns in tie-break order settle ties
    order = np.lexsort((np.arange(cost.size), -effect, cost))
    benefit = np.multiply.outer(np.atleast_1d(lam), effect[order]) - cost[order]
    best = order[np.argmax(benefit, axis=-1)]
    if lam.ndim == 0:
        return names[int(best[0])]
    return best if strategies is None else np.asarray(names, dtype=object)[best]


def format_icer_table(
    table: pd.DataFrame, currency: str = "USD", effect_unit: str = "QALY", effect_decimals: int = 3
) -> pd.DataFrame:
    """Text version of an :func:`incremental_analysis` table for a report.

    Costs and ICERs are rounded to whole currency units with thousands separators;
    the ICER cell of a dominated strategy says by what. Returns a new DataFrame of
    strings with headed columns, e.g. ``"ICER (USD per QALY)"``.
    """
    missing = [column for column in COLUMNS if column not in table.columns]
    if missing:
        raise InputError(f"table lacks columns {missing}: pass the result of incremental_analysis")

    def money(x: float) -> str:
        return "" if np.isnan(x) else f"{x:,.0f}"

    def amount(x: float) -> str:
        return "" if np.isnan(x) else f"{x:.{effect_decimals}f}"

    def icer_text(row) -> str:
        if row.status == "dominated":
            return f"dominated by {row.dominated_by}"
        if row.status == "extendedly dominated":
            lower, upper = row.dominated_by
            return f"extendedly dominated by {lower} and {upper}"
        if row.status == "reference":
            return "reference"
        return money(row.icer)

    return pd.DataFrame({
        "Strategy": table["strategy"].astype(str),
        f"Cost ({currency})": table["cost"].map(money),
        f"Effect ({effect_unit})": table["effect"].map(amount),
        f"Incremental cost ({currency})": table["incremental_cost"].map(money),
        f"Incremental effect ({effect_unit})": table["incremental_effect"].map(amount),
        f"ICER ({currency} per {effect_unit})": [icer_text(row) for row in table.itertuples()],
    })


def check_outcomes(costs, effects, strategies: Sequence[Hashable] | None,
                   ndim: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, list]:
    """Costs and effects as float arrays of one shape, finite, with the strategy names.

    Parameters
    ----------
    costs, effects : array_like
        One value per strategy (last axis), and per sample if ``ndim`` allows 2.
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.
    ndim : tuple of int
        The numbers of dimensions accepted.

    Returns
    -------
    cost, effect : ndarray
    names : list
        The names as plain Python objects (numpy scalars unwrapped).

    Raises
    ------
    InputError
        Naming the array, the sample and the strategy of a value that is not finite,
        or saying why shapes or names do not fit.
    """
    cost = as_float_array(costs, "costs", ndim=ndim, finite=False)
    effect = as_float_array(effects, "effects", ndim=ndim, finite=False)
    if cost.shape != effect.shape:
        raise InputError(
            f"costs has shape {cost.shape} but effects has shape {effect.shape}: "
            "each needs one value per strategy (and sample)"
        )
    if cost.size == 0:
        raise InputError(f"costs and effects have shape {cost.shape}: at least one strategy (and sample) is needed")
    names = _strategy_names(strategies, cost.shape[-1])
    for name, array in (("costs", cost), ("effects", effect)):
        bad = ~np.isfinite(array)
        if bad.any():
            index = _first(bad)
            sample = f"sample {index[0]}, " if array.ndim == 2 else ""
            raise InputError(
                f"{name} [{sample}strategy {names[index[-1]]!r}] is {_number(array[index])}: "
                "every value must be a finite number"
            )
    return cost, effect, names


def check_wtp(wtp, positive: bool = False, ndim: tuple[int, ...] = (0, 1)) -> np.ndarray:
    """Willingness to pay as a float array, finite and 0 or more.

    Parameters
    ----------
    wtp : float or array_like, shape (n_wtp,)
    positive : bool
        Whether 0 is refused too, as for net health benefit (costs are divided by it).
    ndim : tuple of int
        The numbers of dimensions accepted: a number, a 1-D grid, or either.

    Raises
    ------
    InputError
        Naming the first value that breaks the rule.
    """
    lam = as_float_array(wtp, "wtp", ndim=ndim)
    bad = lam <= 0 if positive else lam < 0
    if bad.any():
        index = _first(bad)
        rule = "must be above 0 for net health benefit (costs are divided by it)" if positive else "must be 0 or more"
        raise InputError(f"wtp{list(index) if index else ''} is {_number(lam[index])}: willingness to pay {rule}")
    return lam


def _strategy_names(strategies, n: int) -> list:
    """Names as plain Python objects (positions by default), checked for length and uniqueness."""
    if strategies is None:
        return list(range(n))
    if isinstance(strategies, str):
        raise InputError(f"strategies is the string {strategies!r}: give one name per strategy, e.g. a list")
    names = [name.item() if isinstance(name, np.generic) else name for name in strategies]
    if len(names) != n:
        raise InputError(f"strategies has {len(names)} names but there are {n} strategies: one name per strategy")
    seen: dict = {}
    for position, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"strategies: {name!r} is at positions {seen[name]} and {position}: strategy names must be unique"
            )
        seen[name] = position
    return names

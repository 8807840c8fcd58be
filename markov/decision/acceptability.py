"""How sure a decision is, from PSA samples of each strategy's cost and effect.

Every function takes arrays of shape ``(n_samples, n_strategies)``, one row per PSA
sample, and judges strategies by net monetary benefit ``wtp · E − C`` (the incremental
analysis of expected values is :mod:`markov.decision.cea`):

* :func:`acceptability_curve` (CEAC): the share of samples in which each strategy has
  the largest net monetary benefit;
* :func:`acceptability_frontier` (CEAF, Fenwick, Claxton & Sculpher 2001): the strategy
  with the largest *expected* net benefit and its CEAC value;
* :func:`expected_loss_curve`: each strategy's expected shortfall from the best
  strategy of each sample, whose minimum is the EVPI (Alarid-Escudero et al. 2019);
* :func:`incremental_samples` and :func:`icer_summary`: one strategy against another,
  sample by sample on the cost-effectiveness plane, and the ICER with an interval that
  says when it does not exist.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from .._validate import InputError, as_float_array
from ..engine import best_strategy_counts
from .cea import check_outcomes, check_wtp, optimal_strategy

#: Labels of :func:`incremental_samples` for where ``(incremental effect, incremental cost)``
#: lies on the cost-effectiveness plane (effect east, cost north). Zero means exactly zero.
QUADRANTS = ("NE", "SE", "NW", "SW", "N axis", "S axis", "E axis", "W axis", "origin")

#: Largest block of net benefits (wtp values x samples x strategies, float64) built at
#: once by :func:`expected_loss_curve`; longer wtp grids are handled in chunks of wtp values.
CHUNK_BYTES = 32 * 2**20


def acceptability_curve(costs, effects, wtp, strategies: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Cost-effectiveness acceptability curve: how often each strategy is the best.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect.
    wtp : float or array_like, shape (n_wtp,)
        Willingness to pay per unit of effect, 0 or more.
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.

    Returns
    -------
    pandas.DataFrame
        Index ``wtp`` (the values as given, in order; one row for a scalar), one column
        per strategy in input order (columns named ``"strategy"``): the share of samples
        in which that strategy has the largest net monetary benefit ``wtp · E − C``.
        Each sample counts for exactly one strategy, so the counts behind a row add up
        to ``n_samples`` and the row to 1 (up to the rounding of dividing by
        ``n_samples``). Exact ties within a sample follow
        :func:`~markov.decision.cea.optimal_strategy`, applied to that sample's own
        values: the cheaper strategy, then the more effective, then the first in input
        order.

    Raises
    ------
    InputError
        If the arrays are not 2-D of one shape, a value is not finite, the names are
        wrong, or a ``wtp`` is negative or not finite.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(2,))
    lam = np.atleast_1d(check_wtp(wtp))
    counts = best_strategy_counts(cost, effect, lam)
    return pd.DataFrame(counts / cost.shape[0], index=pd.Index(lam, name="wtp"), columns=_columns(names))


def acceptability_frontier(costs, effects, wtp, strategies: Sequence[Hashable] | None = None, *,
                           curve: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cost-effectiveness acceptability frontier (Fenwick, Claxton & Sculpher 2001).

    The decision at each willingness to pay is the strategy with the largest *expected*
    net monetary benefit (:func:`~markov.decision.cea.optimal_strategy`), which need
    not be the strategy most often best: a strategy that wins rarely but by a lot can
    have the largest mean. The frontier reports the decision and the probability that
    it is the best.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect.
    wtp : float or array_like, shape (n_wtp,)
        Willingness to pay per unit of effect, 0 or more.
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.
    curve : pandas.DataFrame, optional
        The :func:`acceptability_curve` of these samples at these ``wtp``, when already
        computed: its probabilities are used instead of being counted again.

    Returns
    -------
    pandas.DataFrame
        One row per ``wtp`` value, in the order given, with columns

        ``wtp``
            the willingness to pay;
        ``strategy``
            the strategy with the largest mean net monetary benefit (ties as in
            :func:`~markov.decision.cea.optimal_strategy`);
        ``probability_cost_effective``
            its value on the :func:`acceptability_curve` at that ``wtp``;
        ``expected_net_benefit``
            its mean net monetary benefit, ``wtp · mean(E) − mean(C)``.

    Raises
    ------
    InputError
        As :func:`acceptability_curve`.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(2,))
    lam = np.atleast_1d(check_wtp(wtp))
    if curve is None:
        probability = best_strategy_counts(cost, effect, lam) / cost.shape[0]
    elif curve.shape != (lam.size, cost.shape[1]) or not np.array_equal(curve.index.to_numpy(), lam):
        raise InputError(f"curve has shape {curve.shape}: must be the acceptability curve of these "
                         f"{cost.shape[1]} strategies at these {lam.size} wtp values")
    else:
        probability = curve.to_numpy()
    best = optimal_strategy(cost, effect, lam)  # positions, by expected net benefit
    rows = np.arange(lam.size)
    return pd.DataFrame({
        "wtp": lam,
        "strategy": pd.Series([names[i] for i in best], dtype=object),
        "probability_cost_effective": probability[rows, best],
        "expected_net_benefit": lam * effect.mean(axis=0)[best] - cost.mean(axis=0)[best],
    })


def expected_loss_curve(costs, effects, wtp, strategies: Sequence[Hashable] | None = None) -> pd.DataFrame:
    """Expected loss of each strategy (Alarid-Escudero et al. 2019, *Expected loss curves*).

    The loss of a strategy in a sample is what choosing it gives up against the best
    strategy of that sample, ``max_k NMB_k − NMB_j``; its mean over samples is the
    expected loss. The strategy with the smallest expected loss is the one with the
    largest expected net benefit, and that smallest loss is the expected value of
    perfect information, ``mean(max_k NMB_k) − max_k mean(NMB_k)``.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect.
    wtp : float or array_like, shape (n_wtp,)
        Willingness to pay per unit of effect, 0 or more.
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.

    Returns
    -------
    pandas.DataFrame
        Index ``wtp`` (as given), one column per strategy (columns named
        ``"strategy"``): expected loss in currency units, 0 or more. ``.min(axis=1)``
        is the EVPI per decision (per person); ``.idxmin(axis=1)`` the optimal strategy
        (on exact ties the first column, not the rule of
        :func:`~markov.decision.cea.optimal_strategy`).

    Raises
    ------
    InputError
        As :func:`acceptability_curve`.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(2,))
    lam = np.atleast_1d(check_wtp(wtp))
    loss = np.empty((lam.size, cost.shape[1]))
    for chunk in _wtp_chunks(lam.size, cost.shape):
        benefit = lam[chunk, None, None] * effect - cost
        # max − own benefit is computed per sample, so every loss is >= 0 before averaging
        np.subtract(benefit.max(axis=-1, keepdims=True), benefit, out=benefit)
        loss[chunk] = benefit.mean(axis=1)
    return pd.DataFrame(loss, index=pd.Index(lam, name="wtp"), columns=_columns(names))


def incremental_samples(
    costs, effects, intervention, comparator, strategies: Sequence[Hashable] | None = None
) -> pd.DataFrame:
    """Incremental cost and effect of one strategy against another, sample by sample.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect.
    intervention, comparator : hashable
        Names of two different strategies (positions when ``strategies`` is None).
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.

    Returns
    -------
    pandas.DataFrame
        Index ``sample`` (0, 1, …), columns

        ``incremental_cost``, ``incremental_effect``
            intervention minus comparator;
        ``quadrant``
            categorical, categories :data:`QUADRANTS`, with effect to the east and cost
            to the north:

            * ``"NE"``: costs more, gains effect; the ICER is a cost per unit gained;
            * ``"SE"``: costs less, gains effect; the intervention dominates;
            * ``"NW"``: costs more, loses effect; the intervention is dominated;
            * ``"SW"``: costs less, loses effect; the ICER is a saving per unit lost
              (cost-effective when the ICER is *above* the willingness to pay);
            * ``"N axis"`` / ``"S axis"``: the same effect, costs more / less;
            * ``"E axis"`` / ``"W axis"``: the same cost, more / less effect;
            * ``"origin"``: the same cost and effect.

            "The same" is exact equality: no tolerance is applied.
        ``icer``
            ``incremental_cost / incremental_effect``; NaN where the incremental effect
            is 0. Negative in SE and NW, where it is not a cost per unit of effect.

    Raises
    ------
    InputError
        As :func:`acceptability_curve`, or if ``intervention`` or ``comparator`` is not
        a strategy, or both name the same one.
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(2,))
    i, c = _pair(names, intervention, comparator)
    d_cost, d_effect = cost[:, i] - cost[:, c], effect[:, i] - effect[:, c]
    return pd.DataFrame(
        {
            "incremental_cost": d_cost,
            "incremental_effect": d_effect,
            "quadrant": _quadrants(d_cost, d_effect),
            "icer": _sample_icers(d_cost, d_effect),
        },
        index=pd.RangeIndex(d_cost.size, name="sample"),
    )


def icer_summary(
    costs,
    effects,
    intervention,
    comparator,
    strategies: Sequence[Hashable] | None = None,
    wtp=None,
    level: float = 0.95,
) -> dict:
    """Mean increments, the ICER of the means, quadrant shares and an honest ICER interval.

    **ICER.** ``mean(ΔC) / mean(ΔE)``, the ratio of the means, which is the ICER of the
    expected costs and effects that the decision rests on. It is *not* the mean of the
    sample ICERs: those ratios have no finite mean when ΔE can be near 0, and samples in
    different quadrants give ratios of opposite meaning (a negative ICER is dominance,
    not a cost per unit), so averaging them is meaningless.

    **Interval.** The ICER is the slope of the ray from the origin to ``(ΔE, ΔC)``, so
    samples are ordered by the angle of that ray, measured from the direction of the
    mean point and cut on the opposite side (angular ordering, as used for ICER
    intervals that leave one quadrant; cf. Briggs & Fenn 1998). The central ``level``
    of samples in that order form a wedge. Within the half-plane on the mean's side of
    the cost axis (ΔE > 0 if mean ΔE > 0, ΔE < 0 if below) the angle order is the order
    of the sample ICERs and the decision rule reads off them (for ΔE > 0 a sample is
    cost-effective when its ICER is below the willingness to pay; for ΔE < 0 above), so:

    * if the wedge stays inside that half-plane, the bounds are the
      ``(1 − level) / 2`` and ``(1 + level) / 2`` percentiles of the sample ICERs in
      this order (numpy's linear interpolation), samples outside the half-plane
      counting as ±∞ at the end where the angle puts them. When every sample lies in
      NE, or every one in SW, this is exactly the usual percentile interval of the
      sample ICERs (``interval_method = "percentile"``); otherwise
      ``interval_method = "angular"``. A negative bound means the wedge reaches into
      SE (dominant) or NW (dominated): it marks a place in the order, not a cost per
      unit.
    * if the wedge reaches the cost axis (ΔE = 0), the ICER jumps there between +∞
      and −∞ and no interval of ICER values covers the central samples; likewise if
      the mean ΔE is 0 or a sample sits at the origin (no direction). Then both bounds
      are NaN, ``interval_method`` is None, and the note says to use the acceptability
      curve or the incremental net benefit, which stay well defined.

    ``interval_note`` always says which case applied.

    Parameters
    ----------
    costs, effects : array_like, shape (n_samples, n_strategies)
        PSA samples of each strategy's cost and effect.
    intervention, comparator : hashable
        Names of two different strategies (positions when ``strategies`` is None).
    strategies : sequence of hashable, optional
        Unique strategy names; by default the positions ``0, 1, …``.
    wtp : float or array_like, shape (n_wtp,), optional
        Willingness-to-pay values, 0 or more, at which to report the probability that
        the intervention is cost-effective against the comparator.
    level : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    dict
        ``intervention``, ``comparator``
            the names;
        ``n_samples``
            int;
        ``mean_incremental_cost``, ``mean_incremental_effect``
            means of the sample differences (intervention minus comparator);
        ``icer``
            ratio of those means; NaN if the mean incremental effect is 0. Negative
            when the means lie in SE or NW;
        ``quadrant_shares``
            dict from each label of :data:`QUADRANTS` to its share of samples (all
            labels present; the shares add up to 1);
        ``icer_lower``, ``icer_upper``
            interval bounds, or NaN (see above);
        ``interval_level``
            ``level``;
        ``interval_method``
            ``"percentile"``, ``"angular"`` or None;
        ``interval_note``
            one sentence or two on what the interval is, or why there is none;
        ``probability_cost_effective``
            None without ``wtp``; else a pandas Series indexed by ``wtp`` (as given):
            the share of samples in which the intervention's net monetary benefit is
            strictly larger than the comparator's (incremental NMB > 0; exact ties count
            as not cost-effective).

    Raises
    ------
    InputError
        As :func:`incremental_samples`, or if a ``wtp`` is negative or ``level`` is not
        in (0, 1).
    """
    cost, effect, names = check_outcomes(costs, effects, strategies, ndim=(2,))
    i, c = _pair(names, intervention, comparator)
    level_value = float(as_float_array(level, "level", ndim=(0,)))
    if not 0 < level_value < 1:
        raise InputError(f"level is {level_value!r}: the coverage of an interval must lie in (0, 1)")
    probability = None
    if wtp is not None:
        lam = np.atleast_1d(check_wtp(wtp))
        # compare the two net benefits as computed, so that the result agrees with the
        # acceptability curve of the pair wherever they are not exactly tied
        wins = lam[:, None] * effect[:, i] - cost[:, i] > lam[:, None] * effect[:, c] - cost[:, c]
        probability = pd.Series(
            wins.mean(axis=1), index=pd.Index(lam, name="wtp"), name="probability_cost_effective"
        )
    d_cost, d_effect = cost[:, i] - cost[:, c], effect[:, i] - effect[:, c]
    mean_cost, mean_effect = float(d_cost.mean()), float(d_effect.mean())
    quadrant = _quadrants(d_cost, d_effect)
    shares = quadrant.value_counts() / d_cost.size
    lower, upper, method, note = _icer_interval(d_cost, d_effect, quadrant, level_value)
    return {
        "intervention": names[i],
        "comparator": names[c],
        "n_samples": int(d_cost.size),
        "mean_incremental_cost": mean_cost,
        "mean_incremental_effect": mean_effect,
        "icer": mean_cost / mean_effect if mean_effect != 0 else float("nan"),
        "quadrant_shares": {label: float(shares[label]) for label in QUADRANTS},
        "icer_lower": lower,
        "icer_upper": upper,
        "interval_level": level_value,
        "interval_method": method,
        "interval_note": note,
        "probability_cost_effective": probability,
    }


def _columns(names: list) -> pd.Index:
    # object dtype and no tuple-splitting keep names exactly as given (numbers stay numbers)
    return pd.Index(names, dtype=object, name="strategy", tupleize_cols=False)


def _wtp_chunks(n_wtp: int, shape: tuple[int, int]):
    """Slices of the wtp axis small enough that a wtp x samples x strategies block fits CHUNK_BYTES."""
    step = max(1, CHUNK_BYTES // (8 * shape[0] * shape[1]))
    for start in range(0, n_wtp, step):
        yield slice(start, min(start + step, n_wtp))


def _pair(names: list, intervention, comparator) -> tuple[int, int]:
    """Positions of the intervention and comparator among the names."""
    positions = []
    for field, name in (("intervention", intervention), ("comparator", comparator)):
        name = name.item() if isinstance(name, np.generic) else name
        try:
            positions.append(names.index(name))
        except ValueError:
            raise InputError(f"{field} is {name!r}: not one of the strategies {names}") from None
    if positions[0] == positions[1]:
        raise InputError(
            f"intervention and comparator are both {names[positions[0]]!r}: compare two different strategies"
        )
    return positions[0], positions[1]


def _quadrants(d_cost: np.ndarray, d_effect: np.ndarray) -> pd.Categorical:
    # position 3 * (sign of ΔC + 1) + (sign of ΔE + 1) -> label
    by_signs = ("SW", "S axis", "SE", "W axis", "origin", "E axis", "NW", "N axis", "NE")
    codes = np.array([QUADRANTS.index(label) for label in by_signs])
    where = 3 * (np.sign(d_cost).astype(int) + 1) + np.sign(d_effect).astype(int) + 1
    return pd.Categorical.from_codes(codes[where], categories=list(QUADRANTS))


def _sample_icers(d_cost: np.ndarray, d_effect: np.ndarray) -> np.ndarray:
    icer = np.full(d_cost.shape, np.nan)
    np.divide(d_cost, d_effect, out=icer, where=d_effect != 0)
    return icer + 0.0  # -0.0 (no cost difference, effect lost) reads as 0


def _icer_interval(
    d_cost: np.ndarray, d_effect: np.ndarray, quadrant: pd.Categorical, level: float
) -> tuple[float, float, str | None, str]:
    """Bounds, method and note for :func:`icer_summary`'s ICER interval (see its docstring)."""
    nan = float("nan")
    use_instead = "use the acceptability curve or the incremental net benefit instead"
    mean_cost, mean_effect = d_cost.mean(), d_effect.mean()
    if mean_effect == 0:
        return nan, nan, None, f"the mean incremental effect is 0, so the ICER is undefined; {use_instead}."
    at_origin = int((quadrant == "origin").sum())
    if at_origin:
        return nan, nan, None, (
            f"{at_origin} sample(s) have the same cost and effect for both strategies and no direction on the "
            f"cost-effectiveness plane, so the samples cannot be ordered by ICER; {use_instead}."
        )
    tail = (100 - 100 * level) / 2  # 2.5 for level 0.95, without 1 - 0.95 rounding
    percent = f"{100 * level:g}%"
    icer = _sample_icers(d_cost, d_effect)
    side = np.sign(mean_effect)
    inside = np.sign(d_effect) == side  # the open half-plane on the mean's side of the cost axis
    # Samples outside lie beyond one end of the angular order: which end is the sign of
    # their angle from the mean's direction, wrapped into [-pi, pi) so the cut is opposite.
    turn = np.arctan2(d_cost, d_effect) - np.arctan2(mean_cost, mean_effect)
    turn = np.mod(turn + np.pi, 2 * np.pi) - np.pi
    n_low = int((~inside & (turn < 0)).sum())
    n_inside = int(inside.sum())
    # Outside samples take the extreme inside ICER at their end: this keeps the sorted order
    # np.percentile sees, so the positions that fall inside read the true ICERs.
    values = icer.copy()
    values[~inside & (turn < 0)] = icer[inside].min()
    values[~inside & (turn >= 0)] = icer[inside].max()
    n = values.size
    needed = []
    for q in (tail, 100 - tail):
        h = (n - 1) * q / 100
        needed += [int(np.floor(h))] + ([int(np.floor(h)) + 1] if h != np.floor(h) else [])
    if min(needed) < n_low or max(needed) >= n_low + n_inside:
        crossed = 100 * (1 - n_inside / n)
        return nan, nan, None, (
            f"the samples span quadrants across the cost axis ({crossed:.3g}% have an incremental effect of the "
            f"other sign from the mean's, or 0): the central {percent} of them by angle reach the line where "
            f"the ICER jumps between +inf and -inf, so no interval of ICER values covers them; {use_instead}."
        )
    lower, upper = (float(x) for x in np.percentile(values, [tail, 100 - tail]))
    for label in ("NE", "SW"):
        if (quadrant == label).all():
            meaning = "cost per unit of effect gained" if label == "NE" else "saving per unit of effect lost"
            return lower, upper, "percentile", (
                f"all samples lie in {label}: {tail:g}th and {100 - tail:g}th percentiles of the sample ICERs "
                f"({meaning})."
            )
    occupied = _shares_percent(quadrant)
    if len(occupied) == 1:
        where = f"all samples lie in {occupied[0][0]}"
    else:
        where = "the samples span quadrants (" + ", ".join(f"{label} {share:.3g}%" for label, share in occupied) + ")"
    note = (
        f"{where}; the central {percent} by angle from the mean's direction stay on one side of the cost axis, "
        f"where ICER order is angle order, so the bounds are the {tail:g}th and {100 - tail:g}th percentiles of "
        f"the sample ICERs in that order."
    )
    if lower < 0:
        note += (
            " Negative ICERs lie in SE (intervention dominant) or NW (dominated): a negative bound marks a place "
            "in that order, not a cost per unit of effect."
        )
    return lower, upper, "angular", note


def _shares_percent(quadrant: pd.Categorical):
    counts = quadrant.value_counts()
    return [(label, 100 * count / len(quadrant)) for label, count in counts.items() if count]


"""Ranking treatment sequences: frontier, optimal sequence by willingness to pay,
acceptability over sequences, EVPI over the sequence decision, and the value of the best
sequence over today's usual care.

Inputs are plain arrays: costs and QALYs of ``k`` strategies (means ``(k,)`` or PSA draws
``(n, k)``), their keys, labels and roles (``"sequence"`` or ``"usual care"``, the
population's own strategies: a first line with its usual follow-on mix). The frontier is
:func:`markov.decision.cea.incremental_analysis` over every strategy; the probabilities
are :func:`markov.decision.acceptability.acceptability_curve` and ``_frontier``; EVPI is
:func:`markov.decision.voi.evpi_curve`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validate import InputError
from .acceptability import acceptability_curve, acceptability_frontier
from .cea import check_wtp, incremental_analysis, net_benefit, optimal_strategy
from .voi import evpi_curve

#: Name of the column gathering every strategy outside the top ones in :func:`top_acceptability`.
OTHERS = "others"


def _means(cost, qalys) -> tuple[np.ndarray, np.ndarray]:
    cost, qalys = np.asarray(cost, dtype=float), np.asarray(qalys, dtype=float)
    return (cost, qalys) if cost.ndim == 1 else (cost.mean(axis=0), qalys.mean(axis=0))


def frontier(cost, qalys, keys: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """Incremental analysis of every strategy (means of draws, or base-case values):
    strong and extended dominance, ICERs along the frontier, with each strategy's label."""
    mean_cost, mean_qalys = _means(cost, qalys)
    table = incremental_analysis(mean_cost, mean_qalys, list(keys))
    names = dict(zip(keys, labels, strict=True))
    table.insert(1, "label", table["strategy"].map(names))
    return table


def optimal_by_wtp(cost, qalys, keys: Sequence[str], labels: Sequence[str], wtp) -> pd.DataFrame:
    """At each willingness to pay, the strategy with the largest expected net monetary
    benefit, its label and expected NMB, and (with draws) the probability it is the best
    (the acceptability frontier)."""
    lam = np.atleast_1d(check_wtp(wtp))
    names = dict(zip(keys, labels, strict=True))
    if np.ndim(cost) == 2:
        table = acceptability_frontier(cost, qalys, lam, list(keys))
    else:
        mean_cost, mean_qalys = _means(cost, qalys)
        best = np.atleast_1d(optimal_strategy(mean_cost, mean_qalys, lam))
        table = pd.DataFrame({"wtp": lam, "strategy": [keys[i] for i in best],
                              "expected_net_benefit": lam * mean_qalys[best] - mean_cost[best]})
    table.insert(2, "label", table["strategy"].map(names))
    return table


def top_acceptability(cost, qalys, keys: Sequence[str], wtp, top: int = 6) -> pd.DataFrame:
    """Probability that each strategy is the best at each willingness to pay (columns:
    keys), keeping the strategies optimal in expectation anywhere on ``wtp`` and then the
    most often best, up to ``top`` columns; the others summed in :data:`OTHERS`."""
    if np.ndim(cost) != 2:
        raise InputError("acceptability over sequences needs PSA draws: cost and qalys of shape (n, k)")
    lam = np.atleast_1d(check_wtp(wtp))
    curve = acceptability_curve(cost, qalys, lam, list(keys))
    chosen = list(dict.fromkeys(keys[i] for i in np.atleast_1d(optimal_strategy(*_means(cost, qalys), lam))))
    for key in curve.max(axis=0).sort_values(ascending=False, kind="stable").index:
        if len(chosen) >= top:
            break
        if key not in chosen and curve[key].max() > 0:
            chosen.append(key)
    table = curve[chosen].copy()
    rest = [key for key in keys if key not in chosen]
    if rest:
        table[OTHERS] = curve[rest].sum(axis=1)
    return table


def sequence_evpi(cost, qalys, wtp) -> pd.DataFrame:
    """Per-patient EVPI over the decision between every strategy, at each willingness to pay."""
    if np.ndim(cost) != 2:
        raise InputError("EVPI needs PSA draws: cost and qalys of shape (n, k)")
    return evpi_curve(cost, qalys, np.atleast_1d(check_wtp(wtp)))


def value_over_usual_care(cost, qalys, keys: Sequence[str], labels: Sequence[str], roles: Sequence[str],
                          wtp) -> pd.DataFrame:
    """At each willingness to pay, the best sequence and the best usual-care strategy (by
    expected NMB), the difference in expected NMB (money per patient), the same in QALYs
    (÷ wtp, where wtp > 0) and, with draws, the probability that the best sequence's NMB
    is the larger."""
    roles = np.asarray(roles)
    sequences, usual = np.flatnonzero(roles == "sequence"), np.flatnonzero(roles == "usual care")
    if not sequences.size or not usual.size:
        raise InputError("value over usual care needs at least one sequence and one usual-care strategy")
    lam = np.atleast_1d(check_wtp(wtp))
    mean_cost, mean_qalys = _means(cost, qalys)
    expected = lam[:, None] * mean_qalys[None, :] - mean_cost[None, :]
    best_sequence = sequences[expected[:, sequences].argmax(axis=1)]
    best_usual = usual[expected[:, usual].argmax(axis=1)]
    rows = np.arange(lam.size)
    gain = expected[rows, best_sequence] - expected[rows, best_usual]
    table = pd.DataFrame({
        "wtp": lam, "best_sequence": [keys[i] for i in best_sequence],
        "best_sequence_label": [labels[i] for i in best_sequence],
        "best_usual_care": [keys[i] for i in best_usual], "best_usual_care_label": [labels[i] for i in best_usual],
        "net_benefit_gain": gain,
        "qaly_equivalent_gain": np.divide(gain, lam, out=np.full(lam.size, np.nan), where=lam > 0)})
    if np.ndim(cost) == 2:
        nb = net_benefit(cost, qalys, lam)  # (n_wtp, n, k)
        table["probability_sequence_better"] = (nb[rows, :, best_sequence] > nb[rows, :, best_usual]).mean(axis=1)
    return table


def ranking_table(cost, qalys, life_years, keys: Sequence[str], labels: Sequence[str], roles: Sequence[str],
                  assumptions: Sequence[Sequence[str]], thresholds: dict[str, float]) -> pd.DataFrame:
    """One row per strategy, ranked by expected NMB at the highest threshold: role, lines,
    role, mean cost, QALYs and life-years, frontier status and ICER, NMB and (with draws) the
    probability of being the best at each threshold, and the assumptions it rests on."""
    if not thresholds:
        raise InputError("ranking needs at least one willingness-to-pay threshold")
    mean_cost, mean_qalys = _means(cost, qalys)
    mean_ly = np.asarray(life_years, dtype=float)
    mean_ly = mean_ly if mean_ly.ndim == 1 else mean_ly.mean(axis=0)
    status = frontier(cost, qalys, keys, labels).set_index("strategy")
    table = pd.DataFrame({"strategy": list(keys), "label": list(labels), "role": list(roles),
                          "cost": mean_cost, "qalys": mean_qalys, "life_years": mean_ly})
    table["status"] = table["strategy"].map(status["status"])
    table["icer"] = table["strategy"].map(status["icer"])
    for name, value in thresholds.items():
        table[f"nmb_at_{name}"] = value * mean_qalys - mean_cost
        if np.ndim(cost) == 2:
            table[f"probability_best_at_{name}"] = acceptability_curve(cost, qalys, value, list(keys)).iloc[0].to_numpy()
    table["assumptions"] = ["; ".join(found) for found in assumptions]
    highest = max(thresholds, key=thresholds.get)
    table = table.sort_values(f"nmb_at_{highest}", ascending=False, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table

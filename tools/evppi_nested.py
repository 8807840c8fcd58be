"""An independent check of a regression EVPPI: the same EVPPI by nested Monte Carlo.

    python tools/evppi_nested.py [--population mvi] [--group assumptions] [--outer 300]
                                 [--inner 300] [--seed 1]

The EVPPI of a group of inputs is E_G[max_d E(NB_d | G)] - max_d E(NB_d). ``markov psa``
estimates the inner expectation by regression on one PSA sample (Strong, Oakley & Brennan
2014); here it is estimated directly, for the shipped base case (or ``--analysis``): for
each of ``--outer`` draws of the group, ``--inner`` draws of every other input given it,
each run through the model. Not part of CI (a few minutes: outer x inner model draws).

``--group`` is an evidence source, whose inputs are drawn together (what the EVPPI tables
call "<source> (all its inputs)"), or comma-separated references. An input drawn from
another that is not in the group (a share of a total) is held with the group where the
group determines it: the parent of a draw derived into the group (the total a Dirichlet
split is scaled by, the sum of the group's shares of it) is drawn with the group.

Printed: the estimate with its Monte Carlo standard error over the outer draws, twice: the
maximum of the inner means (biased up by their noise) and the choice made on one half of
the inner draws valued on the other (biased down); where the two agree, the inner noise
does not matter. Compare with the regression's EVPPI and standard error (``evppi_<population>.csv``
of ``markov psa``, or :func:`markov.decision.voi.evppi`); the EVPI's own sample differs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import markov
from markov._memory import reuse_freed_memory
from markov.decision.gsa import groups_by_source
from markov.inputs.draws import JointDraw
from markov.models import build_model
from markov.runs import default_wtp


def held_with(inputs, group: list[str]) -> list[str]:
    """The group and the parents of the draws derived into it (module docstring)."""
    parents = [item.parent for item in inputs.derived
               if isinstance(item, JointDraw) and set(item.references) & set(group) and item.parent not in group]
    return [*group, *dict.fromkeys(p for p in parents if p in inputs.uncertain)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--analysis", default=None, help="an analysis file (default: the shipped base case)")
    parser.add_argument("--population", default="mvi")
    parser.add_argument("--group", default="assumptions")
    parser.add_argument("--wtp", type=float, default=None, help="default: the analysis's highest threshold")
    parser.add_argument("--outer", type=int, default=300)
    parser.add_argument("--inner", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reuse_freed_memory()
    inputs = markov.load(args.analysis).inputs
    wtp = default_wtp(inputs) if args.wtp is None else args.wtp
    sources = groups_by_source(inputs)
    group = sources[args.group] if args.group in sources else args.group.split(",")
    held = held_with(inputs, group)
    columns = [inputs.uncertain.index(ref) for ref in held]
    print(f"{args.population}, {len(group)} inputs in the group, held with them: {held[len(group):] or 'none'}; "
          f"wtp {wtp:,.0f}; {args.outer} x {args.inner} draws")

    model, rng = build_model(inputs), np.random.default_rng(args.seed)
    outer = rng.uniform(size=(args.outer, len(inputs.uncertain)))
    halves, names, start = [], None, time.perf_counter()
    for k in range(args.outer):
        uniforms = rng.uniform(size=(args.inner, len(inputs.uncertain)))
        uniforms[:, columns] = outer[k, columns]
        results = [r for r in model.evaluate(inputs.transform(uniforms), keep_traces=False)
                   if r.population == args.population]
        names = [r.strategy for r in results]
        net_benefit = np.column_stack([wtp * r.qalys.sum(axis=1) - r.total_cost for r in results])
        halves.append([net_benefit[: args.inner // 2].mean(axis=0), net_benefit[args.inner // 2:].mean(axis=0)])
        if (k + 1) % 50 == 0:
            print(f"  {k + 1} outer draws, {time.perf_counter() - start:.0f} s", flush=True)
    means = np.array(halves)  # (outer, 2, strategies)
    inner = means.mean(axis=1)
    best = int(inner.mean(axis=0).argmax())  # the decision without further information
    rows = np.arange(args.outer)
    estimates = {
        "maximum of the inner means": inner.max(axis=1) - inner[:, best],
        "choice on one half, valued on the other": 0.5 * (means[rows, 1, means[:, 0].argmax(axis=1)]
                                                        + means[rows, 0, means[:, 1].argmax(axis=1)]) - inner[:, best],
    }
    print(f"strategies {names}; best without information: {names[best]}")
    for label, terms in estimates.items():
        print(f"  EVPPI, {label}: {terms.mean():,.1f} ± {terms.std(ddof=1) / np.sqrt(args.outer):,.1f}")


if __name__ == "__main__":
    main()

"""Decision analysis on per-sample costs and effects: incremental analysis and net
benefit (:mod:`~markov.decision.cea`), acceptability and ICER summaries of PSA samples
(:mod:`~markov.decision.acceptability`), value of information
(:mod:`~markov.decision.voi`, whose EVPPI regressions are in
:mod:`~markov.decision.regression`), deterministic (:mod:`~markov.decision.dsa`) and
global (:mod:`~markov.decision.gsa`) sensitivity analysis."""

"""Decision analysis on per-sample costs and effects: incremental analysis and
acceptability (:mod:`~markov.decision.cea`), value of information
(:mod:`~markov.decision.voi`), deterministic (:mod:`~markov.decision.dsa`) and global
(:mod:`~markov.decision.gsa`) sensitivity analysis."""

"""Probabilistic sensitivity analysis: seeded draws evaluated in chunks
(:mod:`~markov.probabilistic.psa`), a resumable Parquet store of the draws
(:mod:`~markov.probabilistic.store`) and the backends that run them
(:mod:`~markov.probabilistic.batch`)."""

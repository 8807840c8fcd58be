"""Survival curves from data: maximum-likelihood fits of every family to patient-level
data (:mod:`~markov.survival.fitting.likelihood`), the TSD 14 comparison of candidate
models (:mod:`~markov.survival.fitting.comparison`) and patient-level data reconstructed
from published Kaplan-Meier curves (:mod:`~markov.survival.fitting.reconstruct`)."""

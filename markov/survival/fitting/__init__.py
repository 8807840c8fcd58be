"""Survival curves from data: maximum-likelihood fits of every family to patient-level
data (:mod:`~markov.survival.fitting.likelihood`) and patient-level data reconstructed
from published Kaplan-Meier curves (:mod:`~markov.survival.fitting.reconstruct`)."""

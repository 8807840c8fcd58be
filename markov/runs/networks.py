"""The tables and the forest plot of each network meta-analysis an analysis's curves use,
written by ``markov run`` beside the base case (names: :data:`markov.results.NMA` …):

- ``nma_<network>.csv``: each treatment against the reference, fixed and random effects;
- ``nma_statistics_<network>.csv``: heterogeneity (Q, df, p, τ², I²) and inconsistency;
- ``nma_trials_<network>.csv``: each trial's contrasts as they entered, their source, the
  published hazard ratio beside a Cox estimate, the test of proportional hazards and why
  the trial is there;
- ``nma_league_<network>.csv``: every pair of treatments, for both models;
- ``nma_<network>.{png,svg,pdf}``: the forest plot.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs import ModelInputs
from ..inputs.networks import FittedNetwork, networks_of
from ..results import NMA, NMA_LEAGUE, NMA_STATISTICS, NMA_TRIALS, ResultsDirectory, write_table
from ..survival.synthesis import MODELS
from . import figures


def _labelled(frame: pd.DataFrame, network: FittedNetwork, column: str) -> pd.DataFrame:
    """``frame`` with the network's name first and each treatment's label after ``column``."""
    frame = frame.copy()
    frame.insert(frame.columns.get_loc(column) + 1, f"{column}_label", frame[column].map(network.file.treatments))
    frame.insert(0, "network", network.name)
    return frame


def trials_table(network: FittedNetwork, inputs: ModelInputs) -> pd.DataFrame:
    """Each trial's contrasts (:meth:`~markov.survival.synthesis.NetworkMetaAnalysis.trial_table`)
    with the published hazard ratio and 95% CI where the network file names one, how the
    trial entered (``ipd`` or ``reported``) and why it is in the network."""
    table = network.analysis.trial_table()
    by_label = {trial.label: trial for trial in network.file.trials.values()}
    published = []
    for row in table.itertuples():
        trial = by_label[row.trial]
        ref = trial.reported.get(row.treatment)
        item = inputs.evidence[ref].value if ref else None
        published.append({"entered_as": trial.used, "published": ref or "",
                          "published_hr": item.value if item else np.nan,
                          "published_lower": item.ci95[0] if item else np.nan,
                          "published_upper": item.ci95[1] if item else np.nan, "why": " ".join(trial.why.split())})
    return _labelled(pd.concat([table, pd.DataFrame(published)], axis=1), network, "treatment")


def league_table(network: FittedNetwork) -> pd.DataFrame:
    """Both models' league tables, one under the other: HR (95% CI) of the row's treatment
    against the column's."""
    frames = []
    for model in MODELS:
        frame = network.analysis.estimates(model).league_table().rename_axis("treatment").reset_index()
        frame.insert(0, "model", model)
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "network", network.name)
    return table


def write_networks(inputs: ModelInputs, out: str | Path, writer: figures.FigureWriter) -> list[Path]:
    """Every network's tables under ``out`` (returns the files written), its forest plot given to ``writer``."""
    directory, files = ResultsDirectory(out), []
    for name, network in networks_of(inputs).items():
        statistics = network.analysis.statistics()
        statistics.insert(0, "network", name)
        files += [write_table(_labelled(network.analysis.table(), network, "treatment"), directory.table(NMA, name)),
                  write_table(statistics, directory.table(NMA_STATISTICS, name)),
                  write_table(trials_table(network, inputs), directory.table(NMA_TRIALS, name)),
                  write_table(league_table(network), directory.table(NMA_LEAGUE, name))]
        writer.add(directory.figure(NMA, name), figures.forest_figure, network)
    return files

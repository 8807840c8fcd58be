"""Models built from data: one structure per analysis (``structure:``), every one behind
the same protocol (:class:`~markov.models.protocol.Model`).

``build_model(inputs)`` gives the model of an analysis: ``sequencing``
(:mod:`~markov.models.sequencing`), ``partitioned_survival``
(:mod:`~markov.models.partitioned`) or ``markov`` (:mod:`~markov.models.markov_cohort`). Curves of every
kind come from one registry (:mod:`~markov.models.curves`), costs and QALYs from one
valuation of states (:mod:`~markov.models.valuation`). A strategy's overall survival is
compared with the patient-level data its targets name (:mod:`~markov.models.validation`).
``chancellor`` is the textbook validation model of Briggs et al. (2006), kept with its own API.
"""
from ..inputs import ModelInputs
from .markov_cohort import MarkovModel
from .partitioned import PartitionedSurvivalModel
from .protocol import Model, StrategyResult, calibration_table, model_survival, per_sample_table, results_table
from .sequencing import SequencingModel
from .validation import ModelVsData, model_vs_data

#: The model class of each structure.
STRUCTURES = {"sequencing": SequencingModel, "partitioned_survival": PartitionedSurvivalModel, "markov": MarkovModel}


def build_model(inputs: ModelInputs) -> Model:
    """The model of an analysis, in the structure it names."""
    return STRUCTURES[inputs.structure](inputs)


__all__ = ["STRUCTURES", "Model", "ModelVsData", "StrategyResult", "build_model", "calibration_table",
           "model_survival", "model_vs_data", "per_sample_table", "results_table"]

"""Figures for HTA dossiers (matplotlib; PNG plus SVG and PDF)."""
from .cost_effectiveness import plot_acceptability, plot_ce_plane, plot_convergence
from .information import plot_evpi, plot_evppi
from .model import plot_calibration, plot_model_vs_data, plot_state_occupancy
from .sensitivity import (
    plot_moment_independent,
    plot_morris,
    plot_sensitivity_indices,
    plot_tornado,
    plot_two_way,
)
from .style import DEFAULT_FIGURE_FORMATS, FIGURE_FORMATS, figure_formats, save_figure, strategy_colours
from .survival import plot_extrapolation, plot_hazards, plot_log_cumulative_hazard
from .synthesis import plot_forest

__all__ = [
    "DEFAULT_FIGURE_FORMATS",
    "FIGURE_FORMATS",
    "figure_formats",
    "plot_acceptability",
    "plot_calibration",
    "plot_ce_plane",
    "plot_convergence",
    "plot_evpi",
    "plot_evppi",
    "plot_extrapolation",
    "plot_forest",
    "plot_hazards",
    "plot_log_cumulative_hazard",
    "plot_model_vs_data",
    "plot_moment_independent",
    "plot_morris",
    "plot_sensitivity_indices",
    "plot_state_occupancy",
    "plot_tornado",
    "plot_two_way",
    "save_figure",
    "strategy_colours",
]

"""Figures for HTA dossiers (matplotlib; PNG plus SVG and PDF)."""
from .model import plot_calibration, plot_state_occupancy
from .survival import plot_extrapolation, plot_hazards, plot_log_cumulative_hazard, save_figure

__all__ = [
    "plot_calibration",
    "plot_extrapolation",
    "plot_hazards",
    "plot_log_cumulative_hazard",
    "plot_state_occupancy",
    "save_figure",
]

"""Figures for HTA dossiers (matplotlib; PNG plus SVG and PDF)."""
from .survival import plot_extrapolation, plot_hazards, plot_log_cumulative_hazard, save_figure

__all__ = ["plot_extrapolation", "plot_hazards", "plot_log_cumulative_hazard", "save_figure"]

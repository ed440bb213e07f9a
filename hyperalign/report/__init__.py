"""Reports: tidy tables (CSV / Markdown / LaTeX), figures, a generated methods paragraph, HTML."""

from .figures import (
    make_figures,
    plot_cell_effects,
    plot_lag_summary,
    plot_layer_alignment,
    plot_sync_overview,
)
from .html import write_html_report

__all__ = [
    "make_figures",
    "plot_cell_effects",
    "plot_lag_summary",
    "plot_layer_alignment",
    "plot_sync_overview",
    "write_html_report",
]

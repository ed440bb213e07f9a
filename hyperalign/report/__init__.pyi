__all__ = [
    "RecoveryResult",
    "compact_planted",
    "compute_recovery",
    "summarize_notes",
    "plot_sync_topomaps",
    "make_figures",
    "plot_cell_effects",
    "plot_lag_summary",
    "plot_layer_alignment",
    "plot_sync_overview",
    "write_html_report",
]

from .figures import (
    make_figures,
    plot_cell_effects,
    plot_lag_summary,
    plot_layer_alignment,
    plot_sync_overview,
)
from .figures_topo import plot_sync_topomaps
from .html import write_html_report
from .recovery import RecoveryResult, compute_recovery
from .tables import compact_planted, summarize_notes

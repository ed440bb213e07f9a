"""Reports: tidy tables (CSV / Markdown / LaTeX), figures, a generated methods paragraph, HTML."""

from ..utils._lazy import attach_stub as _attach_stub

__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)

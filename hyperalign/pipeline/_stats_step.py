"""The statistics step of a pipeline run, cached on the analysis table and the ``stats``
settings (split from :mod:`hyperalign.pipeline.run`, which imports it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..utils import logger
from .cache import StepCache
from .config import ConfigError


def stats_key(table: pd.DataFrame, cfg: dict) -> str:
    """Cache key of the statistics: the analysis table's content, the ``stats`` config section
    and hyperalign's version."""
    from .. import __version__
    from .hashing import hash_frame, hash_json

    return hash_json("stats", __version__, cfg["stats"], hash_frame(table))[:32]


def step_stats(
    sync: pd.DataFrame, preds: pd.DataFrame, cfg: dict, out: Path, cache_root=None, status=None
):
    """The analysis table and the semantic-beyond-acoustics test (cached with ``cache_root``;
    ``status['stats']`` then receives the cache status)."""
    from ..coupling.metrics import resolve_metric
    from ..stats import build_analysis_table

    s = cfg["stats"]
    if "metric" in sync.columns:
        sync = sync[sync["metric"] == resolve_metric(s["metric"])]
    if cfg["coupling"].get("roi_pairs", "homologous") == "homologous" and "roi_in" in sync:
        sync = sync[sync["roi_in"] == sync["roi_out"]]
    table = build_analysis_table(sync, preds)
    missing = [
        f"stats.{k}: {col!r}"
        for k in ("semantic", "acoustic", "covariates")
        for col in s.get(k) or []
        if col not in table.columns
    ]
    if missing:
        raise ConfigError(
            [f"{m} is not a column of the analysis table" for m in missing]
            + [f"columns available: {sorted(map(str, table.columns))}"],
            what="the statistics name columns the predictors do not have",
        )

    def compute():
        from ..stats import test_semantic_beyond_acoustics

        return test_semantic_beyond_acoustics(
            table,
            sync=s["sync"],
            semantic=s["semantic"],
            acoustic=list(s["acoustic"]),
            covariates=s.get("covariates") or [],
            groups=s["groups"],
            by=tuple(s["by"]),
            n_permutations=s["n_permutations"],
            correction=s["correction"],
            scheme=s.get("scheme", "within"),
            alpha=s.get("alpha", 0.05),
            random_state=s["random_state"],
        )

    enabled = cache_root is not None and cfg.get("execution", {}).get("cache", True)
    if not enabled:
        return table, compute()
    got = StepCache(cache_root).run("stats", "study", stats_key(table, cfg), compute,
                                    fmt="pickle")  # fmt: skip
    if status is not None:
        status["stats"] = got.status
    if got.status == "hit":
        logger.info("stats: loaded from the cache (same analysis table and stats settings)")
    return table, got.value

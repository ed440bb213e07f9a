"""Step cache: one output file per step and item, with a key file; atomic, resumable."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import atomic_path, atomic_write, logger


class StepCache:
    """Store step outputs under ``root/<step>/<item>.<ext>`` with a ``.key.json`` sidecar.

    An output is reused only if its sidecar key matches (same config, same upstream keys)
    and the file loads; anything else is recomputed. Writes are atomic, so an interrupted
    run leaves either the previous complete file or nothing.
    """

    def __init__(self, root: str | Path, enabled: bool = True):
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _paths(self, step: str, item: str, ext: str) -> tuple[Path, Path]:
        f = self.root / step / f"{item}.{ext}"
        return f, f.with_name(f.name + ".key.json")

    def get_or_compute(
        self, step: str, item: str, key: str, compute: Callable[[], Any], kind: str = "table"
    ) -> Any:
        """Return the cached output of ``step`` for ``item`` if ``key`` matches, else compute."""
        ext = {"table": "parquet", "coupling": "nc", "json": "json"}[kind]
        path, keyfile = self._paths(step, item, ext)
        if self.enabled and path.exists() and keyfile.exists():
            try:
                if json.loads(keyfile.read_text()).get("key") == key:
                    out = _load(path, kind)
                    self.hits += 1
                    logger.info("cache hit: %s/%s", step, item)
                    return out
            except Exception as err:  # corrupt entry: recompute
                logger.warning("cache entry %s unreadable (%s); recomputing", path, err)
        self.misses += 1
        out = compute()
        if self.enabled:
            _save(out, path, kind)
            with atomic_write(keyfile) as fh:
                json.dump({"key": key, "step": step, "item": item}, fh)
        return out


def _save(obj: Any, path: Path, kind: str) -> None:
    if kind == "table":
        tmp, final = atomic_path(path)
        obj.to_parquet(tmp)
        os.replace(tmp, final)
    elif kind == "coupling":
        obj.save(path, overwrite=True)
    else:
        with atomic_write(path) as fh:
            json.dump(obj, fh, default=str)


def _load(path: Path, kind: str) -> Any:
    if kind == "table":
        return pd.read_parquet(path)
    if kind == "coupling":
        from ..coupling import read_coupling

        return read_coupling(path)
    return json.loads(path.read_text())

"""Step cache: one entry per step, item and content key, checksummed, with its exclusions.

Layout: ``root/<step>/<item>/<key>.<ext>`` plus a sidecar ``<key>.<ext>.json`` holding the key,
the SHA-256 of the entry file and the exclusions the step recorded when it computed the entry.
Entries of several configs (keys) live side by side, so switching between two configs never
recomputes what either already computed. An entry is used only if its sidecar names the same
key and the file's checksum matches; an entry edited by hand (or truncated) is reported with a
warning naming it and recomputed. Writes are atomic: the file first, the sidecar last.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import ExclusionLog, atomic_path, atomic_write, fill_doc, logger
from ..utils._validation import renamed_params

_EXT = {"table": "parquet", "coupling": "nc", "json": "json", "pickle": "pkl", "text": "txt"}


@dataclass
class StepOutput:
    """What :meth:`StepCache.run` returns: the value, the exclusions and how it was obtained.

    Parameters
    ----------
    value : object
        The step's output (a DataFrame, a Coupling or a JSON-able object).
    exclusions : list of dict
        The exclusion rows the step recorded for this item (also on a cache hit).
    status : 'hit' | 'miss' | 'invalid' | 'off'
        How the value was obtained: read from the cache, computed (no entry), computed
        because the entry failed its checksum, or computed with the cache disabled.
    step : str
        Step name.
    item : str
        Item (dyad id).

    See Also
    --------
    StepCache.run
    """

    value: Any
    exclusions: list[dict] = field(default_factory=list)
    status: str = "miss"  # 'hit' | 'miss' | 'invalid' (entry failed its checksum) | 'off'
    step: str = ""
    item: str = ""


def safe_item(item: str) -> str:
    """A file-name-safe version of ``item`` (a dyad id), unique per original name."""
    s = str(item)
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", s).strip(".") or "_"
    if clean != s:
        clean = f"{clean}-{hashlib.sha256(s.encode()).hexdigest()[:8]}"
    return clean


def _sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _rows_digest(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


class StepCache:
    """Store step outputs under ``root/<step>/<item>/<key>.<ext>`` with a checksummed sidecar.

    Parameters
    ----------
    root : path-like
        Cache folder.
    enabled : bool
        ``False`` computes every step and stores nothing.

    Attributes
    ----------
    hits, misses : int
        Counts over this object's lifetime (``invalid`` entries count as misses).
    events : list of dict
        One ``{'step', 'item', 'status'}`` per lookup.
    """

    def __init__(self, root: str | Path, enabled: bool = True):
        self.root = Path(root)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.events: list[dict] = []

    @renamed_params(kind="fmt")
    @fill_doc
    def paths(self, step: str, item: str, key: str, fmt: str = "table") -> tuple[Path, Path]:
        """``(entry, sidecar)`` paths of one entry.

        Parameters
        ----------
        %(cache_step)s
        %(cache_item)s
        %(cache_key)s
        %(cache_fmt)s

        Returns
        -------
        entry : pathlib.Path
            The entry file.
        sidecar : pathlib.Path
            Its JSON sidecar (key, checksum, exclusions).
        """
        f = self.root / step / safe_item(item) / f"{key}.{_EXT[fmt]}"
        return f, f.with_name(f.name + ".json")

    @renamed_params(kind="fmt")
    @fill_doc
    def has(self, step: str, item: str, key: str, fmt: str = "table") -> bool:
        """Whether an entry and its sidecar exist (not verified).

        Parameters
        ----------
        %(cache_step)s
        %(cache_item)s
        %(cache_key)s
        %(cache_fmt)s

        Returns
        -------
        exists : bool
            ``True`` if both files exist; their checksum is verified only when read.
        """
        f, side = self.paths(step, item, key, fmt)
        return f.is_file() and side.is_file()

    def _read(self, step: str, item: str, key: str, fmt: str) -> StepOutput | None:
        path, side = self.paths(step, item, key, fmt)
        if not (path.is_file() and side.is_file()):
            return None
        try:
            meta = json.loads(side.read_text())
            blob = path.read_bytes()
        except (OSError, ValueError) as err:
            logger.warning("cache entry %s unreadable (%s); recomputing", path, err)
            return StepOutput(None, status="invalid")
        rows = meta.get("exclusions", [])
        if (
            meta.get("key") != key
            or meta.get("sha256") != _sha256_bytes(blob)
            or meta.get("exclusions_sha256") != _rows_digest(rows)
        ):
            logger.warning(
                "cache entry %s was modified after it was written (its checksum does not "
                "match the one stored in %s); not trusted, recomputing",
                path,
                side.name,
            )
            return StepOutput(None, status="invalid")
        try:
            value = _load(blob, path, fmt)
        except Exception as err:  # a checksummed file that does not load: recompute
            logger.warning("cache entry %s unreadable (%s); recomputing", path, err)
            return StepOutput(None, status="invalid")
        return StepOutput(value, list(rows), "hit")

    @renamed_params(kind="fmt")
    @fill_doc
    def run(
        self,
        step: str,
        item: str,
        key: str,
        compute: Callable[[], Any],
        *,
        fmt: str = "table",
        exclusions: ExclusionLog | None = None,
    ) -> StepOutput:
        """Return the cached output of ``step`` for ``item`` under ``key``, or compute it.

        Parameters
        ----------
        %(cache_step)s
        %(cache_item)s
        %(cache_key)s
        compute : callable
            Computes the value; it may record exclusions in ``exclusions``.
        %(cache_fmt)s
        exclusions : ExclusionLog | None
            The log ``compute`` writes into: the rows it adds are stored with the entry and
            returned (also on a hit, where ``compute`` does not run).

        Returns
        -------
        out : StepOutput
            Value, exclusion rows of this step and status (``'hit'``, ``'miss'``,
            ``'invalid'`` or ``'off'``).
        """
        got = self._read(step, item, key, fmt) if self.enabled else None
        if got is not None and got.status == "hit":
            self.hits += 1
            logger.info("cache hit: %s/%s", step, item)
            got.step, got.item = step, item
            self.events.append({"step": step, "item": str(item), "status": "hit"})
            return got
        status = "off" if not self.enabled else ("invalid" if got is not None else "miss")
        self.misses += 1
        log = exclusions if exclusions is not None else ExclusionLog()
        n0 = len(log.rows)
        value = compute()
        rows = [dict(r) for r in log.rows[n0:]]
        if self.enabled:
            self._write(step, item, key, fmt, value, rows)
        self.events.append({"step": step, "item": str(item), "status": status})
        return StepOutput(value, rows, status, step, item)

    def _write(self, step, item, key, fmt, value, rows) -> None:
        path, side = self.paths(step, item, key, fmt)
        _save(value, path, fmt)
        meta = {
            "key": key,
            "step": step,
            "item": str(item),
            "sha256": _sha256_bytes(path.read_bytes()),
            "exclusions": rows,
            "exclusions_sha256": _rows_digest(rows),
        }
        with atomic_write(side) as fh:
            json.dump(meta, fh, indent=1, default=str)

    @renamed_params(kind="fmt")
    @fill_doc
    def get_or_compute(
        self, step: str, item: str, key: str, compute: Callable[[], Any], fmt: str = "table"
    ) -> Any:
        """Return the cached output of ``step`` for ``item`` if ``key`` matches, else compute.

        The value only (see :meth:`run` for the exclusions and the status).

        Parameters
        ----------
        %(cache_step)s
        %(cache_item)s
        %(cache_key)s
        compute : callable
            Computes the value when the entry is missing or invalid.
        %(cache_fmt)s

        Returns
        -------
        value : object
            The cached or computed value.
        """
        return self.run(step, item, key, compute, fmt=fmt).value

    def events_frame(self) -> pd.DataFrame:
        """The lookups as a table: ``step, item, status``.

        Returns
        -------
        events : pandas.DataFrame
            One row per lookup, in order.
        """
        return pd.DataFrame(self.events, columns=["step", "item", "status"])


def _save(obj: Any, path: Path, fmt: str) -> None:
    if fmt == "table":
        tmp, final = atomic_path(path)
        try:
            obj.to_parquet(tmp)
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    elif fmt == "coupling":
        obj.save(path, overwrite=True)
    elif fmt == "pickle":
        with atomic_write(path, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    elif fmt == "text":
        with atomic_write(path, "wb") as fh:
            fh.write(obj.encode())
    else:
        with atomic_write(path) as fh:
            json.dump(obj, fh, default=str)


def _load(blob: bytes, path: Path, fmt: str) -> Any:
    if fmt == "table":
        return pd.read_parquet(io.BytesIO(blob))
    if fmt == "coupling":
        from ..coupling import read_coupling

        return read_coupling(path)
    if fmt == "pickle":  # only after the checksum in the sidecar matched (see _read)
        return pickle.loads(blob)
    if fmt == "text":
        return blob.decode()
    return json.loads(blob.decode())


def count_cached(state: dict, enabled: bool, prefix: str = "") -> tuple[int, int]:
    """Dyads whose every step is cached, and the dyads of the run (for the interrupt line).

    ``state`` holds the run's cache folder (``'cache'``), the per-dyad step keys (``'keys'``:
    ``{dyad: {step: key}}``) and the number of dyads (``'n_total'``); ``prefix`` is prepended
    to the step names (the layer-wise pipeline's steps are stored as ``lw_<step>``).
    """
    keys, root = state.get("keys") or {}, state.get("cache")
    if not keys or root is None or not enabled:
        return 0, int(state.get("n_total") or 0)
    cache = StepCache(root)
    n = sum(
        all(cache.has(f"{prefix}{step}", did, k) for step, k in ks.items())
        for did, ks in keys.items()
    )
    return int(n), int(state.get("n_total") or len(keys))

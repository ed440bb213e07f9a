"""A disk cache for computed features (embeddings, hidden states, surprisal).

Each entry is one ``.npz`` file named by the SHA-256 of a canonical JSON description of
what was computed (model, texts, context, parameters), so a rerun with the same inputs
loads the arrays instead of computing them again. Entries are written atomically (a
temporary file renamed into place) and carry a checksum of their arrays; an entry that
cannot be loaded or whose checksum does not match is reported, deleted and recomputed.

The cache folder is, in order: the ``cache=`` argument (a path or a :class:`FeatureCache`),
the ``HYPERALIGN_CACHE`` environment variable, or ``~/.cache/hyperalign``. ``cache=False``
turns caching off.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..utils import atomic_write, logger
from ..utils._validation import _validate_type, renamed_params

__all__ = ["FeatureCache", "get_cache", "get_cache_dir", "cache_key"]

_CHECKSUM = "__checksum__"
_META = "__meta__"
CACHE_VERSION = 1


def get_cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """Return the cache folder.

    ``cache`` if given, else ``$HYPERALIGN_CACHE``, else ``~/.cache/hyperalign``.

    Parameters
    ----------
    cache : path-like | None
        An explicit folder (``~`` is expanded), or ``None`` for the default.

    Returns
    -------
    path : pathlib.Path
        The folder (not created here).

    See Also
    --------
    FeatureCache
    """
    if cache is not None:
        return Path(cache).expanduser()
    env = os.environ.get("HYPERALIGN_CACHE")
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/hyperalign").expanduser()


def _canonical(obj):
    """Turn ``obj`` into JSON-serializable, order-stable data."""
    if isinstance(obj, dict):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    return repr(obj)


def cache_key(**spec) -> str:
    """SHA-256 hex digest of the canonical JSON of ``spec`` (sorted keys, no whitespace).

    Parameters
    ----------
    **spec
        What identifies the entry (model, layer, input hash, parameters ...); arrays and
        paths are canonicalised first. The cache format version is always included.

    Returns
    -------
    key : str
        64 hexadecimal characters.

    Examples
    --------
    >>> from hyperalign.features.cache import cache_key
    >>> cache_key(model="m", layer=3) == cache_key(layer=3, model="m")
    True
    """
    payload = json.dumps(
        {"version": CACHE_VERSION, **_canonical(spec)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


class FeatureCache:
    """A folder of ``.npz`` entries keyed by :func:`cache_key`.

    Parameters
    ----------
    path : path-like | None
        The cache folder (created on first write). ``None`` uses ``$HYPERALIGN_CACHE`` or
        ``~/.cache/hyperalign``.

    Attributes
    ----------
    hits, misses, corrupt : int
        Counters since creation (a corrupt entry also counts as a miss).
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = get_cache_dir(path)
        self.hits = 0
        self.misses = 0
        self.corrupt = 0

    def __repr__(self) -> str:
        return (
            f"<FeatureCache | {self.path} | {self.hits} hits, {self.misses} misses, "
            f"{self.corrupt} corrupt>"
        )

    @renamed_params(kind="namespace")
    def file(self, key: str, namespace: str = "features") -> Path:
        """Path of the entry for ``key`` (in a sub-folder per ``namespace``).

        Parameters
        ----------
        key : str
            The entry's :func:`cache_key`.
        namespace : str
            Sub-folder of the entry, one per producer (``'features'``, ``'layers'``,
            ``'sentence'``, ``'speech_layers'``); called ``kind`` before, a deprecated alias.

        Returns
        -------
        path : pathlib.Path
            The ``.npz`` file (it may not exist).
        """
        return self.path / namespace / key[:2] / f"{key}.npz"

    @renamed_params(kind="namespace")
    def load(self, key: str, namespace: str = "features") -> dict[str, np.ndarray] | None:
        """Return the arrays stored under ``key``, or ``None`` if absent or corrupt.

        A corrupt entry (unreadable ``.npz``, truncated file, checksum mismatch) is logged,
        deleted and counted in :attr:`corrupt`; the caller then recomputes it.

        Parameters
        ----------
        key : str
            The entry's :func:`cache_key`.
        namespace : str
            Sub-folder of the entry, one per producer (``'features'``, ``'layers'``,
            ``'sentence'``, ``'speech_layers'``); called ``kind`` before, a deprecated alias.

        Returns
        -------
        arrays : dict of str to ndarray | None
            The stored arrays, or ``None`` on a miss.
        """
        fname = self.file(key, namespace)
        if not fname.is_file():
            self.misses += 1
            return None
        try:
            with open(fname, "rb") as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            stored = str(arrays.pop(_CHECKSUM))
            arrays.pop(_META, None)
            if stored != _checksum(arrays):
                raise ValueError("checksum mismatch")
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
            logger.warning(
                "FeatureCache: entry %s is corrupt or partial (%s); deleting it and recomputing",
                fname,
                err,
            )
            self.corrupt += 1
            self.misses += 1
            try:
                fname.unlink()
            except OSError:
                pass
            return None
        self.hits += 1
        logger.debug("FeatureCache: hit %s", fname)
        return arrays

    @renamed_params(kind="namespace")
    def save(
        self, key: str, arrays: dict[str, np.ndarray], namespace: str = "features", meta=None
    ) -> Path:
        """Store ``arrays`` under ``key`` atomically, with a checksum and a JSON ``meta``.

        Parameters
        ----------
        key : str
            The entry's :func:`cache_key`.
        arrays : dict of str to array-like
            Arrays to store (no object dtype).
        namespace : str
            Sub-folder of the entry, one per producer (``'features'``, ``'layers'``,
            ``'sentence'``, ``'speech_layers'``); called ``kind`` before, a deprecated alias.
        meta : dict | None
            JSON-able description stored beside the arrays.

        Returns
        -------
        path : pathlib.Path
            The ``.npz`` file written.
        """
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        bad = [k for k, v in arrays.items() if v.dtype == object]
        if bad:
            raise TypeError(f"FeatureCache.save: arrays {bad} have dtype object; not cacheable")
        payload = dict(arrays)
        payload[_CHECKSUM] = np.array(_checksum(arrays))
        payload[_META] = np.array(json.dumps(_canonical(meta or {}), sort_keys=True))
        fname = self.file(key, namespace)
        with atomic_write(fname, "wb") as fh:
            np.savez(fh, **payload)
        logger.debug("FeatureCache: wrote %s", fname)
        return fname

    @renamed_params(kind="namespace")
    def clear(self, namespace: str | None = None) -> int:
        """Delete every entry (of one ``namespace``); return how many files were removed.

        Parameters
        ----------
        namespace : str | None
            Only this sub-folder; ``None`` clears every namespace (called ``kind`` before,
            a deprecated alias).

        Returns
        -------
        n : int
            Number of files removed.
        """
        root = self.path if namespace is None else self.path / namespace
        n = 0
        if root.is_dir():
            for f in root.rglob("*.npz"):
                f.unlink()
                n += 1
        return n


def get_cache(cache) -> FeatureCache | None:
    """Normalize a ``cache=`` argument.

    ``False`` → no cache; ``None`` or ``True`` → the default folder; a path → that folder;
    a :class:`FeatureCache` → itself.

    Parameters
    ----------
    cache : None | bool | path-like | FeatureCache
        The ``cache=`` argument of a feature function.

    Returns
    -------
    cache : FeatureCache | None
        The cache to use, or ``None`` for no cache.
    """
    _validate_type(
        cache,
        (None, bool, "path-like", FeatureCache),
        "cache",
        "None (default folder), False (no cache), a path or a FeatureCache",
    )
    if cache is False:
        return None
    if isinstance(cache, FeatureCache):
        return cache
    if cache is None or cache is True:
        return FeatureCache(None)
    return FeatureCache(cache)

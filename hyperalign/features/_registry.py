"""One least-recently-used registry of loaded models for every loader of the package."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from ..utils import logger

__all__ = ["ModelRegistry", "get_model_registry", "clear_model_cache"]


class ModelRegistry:
    """A thread-safe least-recently-used store of loaded models.

    Parameters
    ----------
    maxsize : int
        Most models kept at once; adding one more drops the least recently used.

    Attributes
    ----------
    hits : int
        Calls answered from the registry.
    loads : int
        Models built (calls of a factory).
    """

    def __init__(self, maxsize: int = 4):
        if int(maxsize) < 1:
            raise ValueError(f"maxsize must be >= 1; got {maxsize!r}")
        self.maxsize = int(maxsize)
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.RLock()
        self.hits = 0
        self.loads = 0

    def get(self, key: Hashable, factory: Callable[[], object]):
        """Return the model stored under ``key``, building it with ``factory()`` if absent.

        Parameters
        ----------
        key : hashable
            What identifies the model (name or path, device, dtype, ...).
        factory : callable
            Builds the model; called at most once per key while the key stays stored.

        Returns
        -------
        model : object
            Whatever ``factory`` returned.
        """
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            value = factory()
            self.loads += 1
            self._items[key] = value
            while len(self._items) > self.maxsize:
                old, _ = self._items.popitem(last=False)
                logger.debug("ModelRegistry: dropped %s (least recently used)", old)
            return value

    def clear(self) -> int:
        """Drop every model; return how many were stored.

        Returns
        -------
        n : int
            Number of models dropped.
        """
        with self._lock:
            n = len(self._items)
            self._items.clear()
            return n

    def keys(self) -> list:
        """Keys stored, least recently used first.

        Returns
        -------
        keys : list
            The keys of the stored models.
        """
        with self._lock:
            return list(self._items)

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return (
            f"<ModelRegistry | {len(self)}/{self.maxsize} models, {self.loads} loads, "
            f"{self.hits} hits>"
        )


_REGISTRY = ModelRegistry(int(os.environ.get("HYPERALIGN_MAX_MODELS", "4") or 4))


def get_model_registry() -> ModelRegistry:
    """Return the process-wide :class:`ModelRegistry` used by every model loader.

    Returns
    -------
    registry : ModelRegistry
        The registry (its ``loads`` / ``hits`` counters tell how often models were built).

    See Also
    --------
    clear_model_cache
    """
    return _REGISTRY


def clear_model_cache() -> int:
    """Drop every model loaded in this process (the on-disk copies stay).

    Returns
    -------
    n : int
        Number of models dropped.

    See Also
    --------
    get_model_registry
    """
    return _REGISTRY.clear()

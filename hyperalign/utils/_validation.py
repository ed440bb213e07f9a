"""Validation helpers whose errors name the parameter, what is allowed and what was given."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np


def check_random_state(seed) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from ``None``, an int or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy Generator; got {type(seed)}")


def check_option(name: str, value, allowed: Iterable):
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_positive(name: str, value, *, strict: bool = True, allow_none: bool = False):
    """Raise ``ValueError`` unless ``value`` is a finite (strictly) positive number."""
    if value is None and allow_none:
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number; got {value!r}") from None
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        word = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be finite and {word}; got {value!r}")
    return value


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    An interrupted write never leaves a partial file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_path(path: str | os.PathLike) -> tuple[Path, Path]:
    """Return ``(tmp, final)`` paths for writers that need a file name (call ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part{path.suffix}")
    return tmp, path

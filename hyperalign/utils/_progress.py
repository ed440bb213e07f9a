"""Progress bars that follow the logger level."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TypeVar

from ._logging import logger

T = TypeVar("T")


def progress(iterable: Iterable[T], *, desc: str = "", total: int | None = None, verbose=None):
    """Wrap ``iterable`` in a tqdm bar when logging at INFO or lower (or ``verbose=True``).

    Parameters
    ----------
    iterable : iterable
        The items to iterate over.
    desc : str
        Label shown before the bar.
    total : int | None
        Number of items, when ``iterable`` has no length.
    verbose : bool | None
        ``True`` always shows the bar, ``False`` never; ``None`` follows the logger level.

    Returns
    -------
    iterable : iterable
        ``iterable`` itself, or a tqdm bar that yields its items.
    """
    show = bool(verbose) if verbose is not None else logger.getEffectiveLevel() <= logging.INFO
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False)

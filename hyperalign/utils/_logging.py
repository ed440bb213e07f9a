"""Logging: one package logger and MNE-style ``verbose`` handling."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

logger = logging.getLogger("hyperalign")
if not logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("[hyperalign] %(levelname)s: %(message)s"))
    logger.addHandler(_handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def _to_level(verbose: bool | str | int | None) -> int | None:
    if verbose is None:
        return None
    if isinstance(verbose, bool):
        return logging.INFO if verbose else logging.WARNING
    if isinstance(verbose, int):
        return verbose
    key = str(verbose).lower()
    if key not in _LEVELS:
        raise ValueError(
            f"verbose must be a bool, an int or one of {sorted(_LEVELS)}; got {verbose!r}"
        )
    return _LEVELS[key]


def set_log_level(verbose: bool | str | int | None = "info") -> None:
    """Set the package log level (``True`` = INFO, ``False`` = WARNING, or a level name).

    Parameters
    ----------
    verbose : bool | str | int | None
        ``True`` is ``'INFO'``, ``False`` is ``'WARNING'``; a level name (``'DEBUG'``,
        ``'INFO'``, ...) or an int is used as is; ``None`` leaves the level unchanged.

    See Also
    --------
    verbose_context
    """
    level = _to_level(verbose)
    if level is not None:
        logger.setLevel(level)


@contextlib.contextmanager
def verbose_context(verbose: bool | str | int | None) -> Iterator[None]:
    """Temporarily set the log level for the duration of a call (``None`` keeps it).

    Parameters
    ----------
    verbose : bool | str | int | None
        The level for the block, as in :func:`set_log_level`; ``None`` keeps the current one.

    Yields
    ------
    None
        Control returns to the ``with`` block; the old level is restored on exit.

    See Also
    --------
    set_log_level
    """
    level = _to_level(verbose)
    if level is None:
        yield
        return
    old = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(old)


def verbose(function):
    """Decorate a function that takes ``verbose=``: the log level is set for the call.

    As MNE's ``@verbose``: the wrapped function runs inside :func:`verbose_context` with the
    ``verbose`` argument it was given (by keyword or position); ``None`` keeps the package
    level. The signature and docstring are kept.

    Parameters
    ----------
    function : callable
        A function with a ``verbose`` parameter.

    Returns
    -------
    wrapper : callable
        The decorated function.
    """
    import functools
    import inspect

    sig = inspect.signature(function)
    if "verbose" not in sig.parameters:
        raise TypeError(f"@verbose needs a 'verbose' parameter on {function.__qualname__}")
    names = list(sig.parameters)
    pos = names.index("verbose")

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if "verbose" in kwargs:
            level = kwargs["verbose"]
        elif len(args) > pos:
            level = args[pos]
        else:
            level = sig.parameters["verbose"].default
            level = None if level is inspect.Parameter.empty else level
        with verbose_context(level):
            return function(*args, **kwargs)

    return wrapper

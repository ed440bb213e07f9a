"""Logging: one package logger and MNE-style ``verbose`` handling.

A call's ``verbose=`` level lives in a context variable, not on the logger: each thread (and
each asyncio task) has its own, so two threads running hyperalign functions with different
``verbose=`` never undo each other's level, and no level is left behind when they interleave
(with a level set on the shared logger, thread A's restore could leave thread B's level in
place for good). :func:`set_log_level` sets the package level every call without its own
``verbose=`` uses. Work hyperalign hands to its thread pools runs in the caller's context.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

#: the ``verbose=`` level of the running call in this thread/task (None: the package level)
_CALL_LEVEL: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "hyperalign_call_level", default=None
)


class _CallLevelLogger(logging.Logger):
    """The package logger: the running call's ``verbose=`` level before the package level."""

    def getEffectiveLevel(self) -> int:
        level = _CALL_LEVEL.get()
        return super().getEffectiveLevel() if level is None else level

    def isEnabledFor(self, level: int) -> bool:
        call = _CALL_LEVEL.get()
        if call is None:
            return super().isEnabledFor(level)
        return self.manager.disable < level and level >= call


logger = logging.getLogger("hyperalign")
if type(logger) is logging.Logger:  # the same object, with the call-level lookup
    logger.__class__ = _CallLevelLogger
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
    """Set the log level for a block in this thread (``None`` keeps it).

    Parameters
    ----------
    verbose : bool | str | int | None
        The level for the block, as in :func:`set_log_level`; ``None`` keeps the current one.

    Yields
    ------
    None
        Control returns to the ``with`` block; on exit the level is the one before it. Other
        threads keep their own level throughout.

    See Also
    --------
    set_log_level
    """
    level = _to_level(verbose)
    if level is None:
        yield
        return
    token = _CALL_LEVEL.set(level)
    try:
        yield
    finally:
        _CALL_LEVEL.reset(token)


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

"""Interrupting a run: Ctrl-C and SIGTERM end it cleanly, resumable from the cache.

While :func:`handle_signals` is active, SIGINT and SIGTERM raise :class:`RunInterrupted` (a
``KeyboardInterrupt``) in the main thread, so every ``finally`` and every atomic writer cleans
up; inside :func:`critical` (moving a finished run's outputs into place) the signal is held
until the section ends, so a folder is never left half old, half new by a signal.

:func:`checkpoint` is a test hook: with ``HYPERALIGN_PAUSE_AT=<name>`` in the environment the
run writes the file named by ``HYPERALIGN_PAUSE_FILE`` when it reaches ``<name>`` and waits
there until it is signalled, so a test can kill it at a known point without sleeping.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: Exit status of an interrupted run, per signal (128 + signal number, the shell convention).
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT (Ctrl-C) or SIGTERM; its finished steps are in the cache.

    Parameters
    ----------
    signum : int
        The signal.
    n_cached : int
        Dyads whose every per-dyad step is cached.
    n_total : int
        Dyads in the run.

    See Also
    --------
    run_pipeline
    """

    def __init__(self, signum: int = signal.SIGINT, n_cached: int = 0, n_total: int = 0):
        super().__init__(signum)
        self.signum = int(signum)
        self.n_cached = int(n_cached)
        self.n_total = int(n_total)

    @property
    def exit_code(self) -> int:
        """130 for SIGINT, 143 for SIGTERM (128 + the signal number)."""
        return EXIT_CODES.get(self.signum, 128 + self.signum)

    def __str__(self) -> str:
        return f"interrupted; {self.n_cached} of {self.n_total} dyads cached; rerun to resume"


class _State:
    depth = 0  # nesting of critical sections
    pending: int | None = None


_state = _State()


def _handler(signum, frame):
    if _state.depth > 0:
        _state.pending = signum
        return
    raise RunInterrupted(signum)


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`RunInterrupted` for the duration (main thread
    only; elsewhere this does nothing). Previous handlers are restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until the block ends, then raise :class:`RunInterrupted`."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
    if _state.depth == 0 and _state.pending is not None:
        signum, _state.pending = _state.pending, None
        raise RunInterrupted(signum)


def checkpoint(name: str) -> None:
    """Test hook: pause at ``name`` if ``HYPERALIGN_PAUSE_AT`` says so (see module doc)."""
    want = os.environ.get("HYPERALIGN_PAUSE_AT")
    if not want or want != name:
        return
    marker = os.environ.get("HYPERALIGN_PAUSE_FILE")
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n")
    while _state.pending is None:  # until a signal raises RunInterrupted, ends the process,
        time.sleep(0.02)  # or (inside a critical section) is held for the section's end

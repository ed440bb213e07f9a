"""What a person sees while a pipeline runs: one progress line per stage, warnings counted.

:class:`RunConsole` is a context manager around a run (the command line uses it):

- one progress display per stage: items (dyads) done of total, elapsed time and an estimate of
  what remains; redrawn in place on a terminal, one line per finished stage otherwise;
- warnings (the package logger's and ``warnings.warn``'s) are *collected*, not printed as they
  come: at the end each kind of warning is printed once with how often it occurred, in how many
  dyads and the range of its numbers ("excluded 18-25 epoch(s) ... [16 times, 8 of 8 dyads]");
  the full list goes to ``run.log`` in the output folder (and the exclusions to
  ``tables/exclusions.csv``);
- ``mode='quiet'`` prints only the result and errors, ``'normal'`` adds progress and the warning
  digest, ``'verbose'`` prints every log record as it comes (nothing is collected away);
- no Python warning lines with source code: ``warnings.showwarning`` is routed through the
  logger for the duration of the run (file and line go to ``run.log`` only).

The pipeline reports to the active console through :func:`stage` and :func:`track`, which do
nothing when no console is active (a library call of ``run_pipeline``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..utils import atomic_write, check_option, logger
from ._console_digest import WarningDigest

__all__ = [
    "RunConsole",
    "WarningDigest",
    "mark",
    "stage",
    "track",
    "unrelay",
    "format_seconds",
    "run_summary",
]

MODES = ("quiet", "normal", "verbose")
_CURRENT: RunConsole | None = None


def format_seconds(s: float) -> str:
    """``'42 s'``, ``'3 min 05 s'``: a duration a person reads at a glance.

    Parameters
    ----------
    s : float
        Duration in seconds (negative values are shown as 0).

    Returns
    -------
    text : str
        One decimal below 10 s, whole seconds below a minute, else minutes and seconds.
    """
    s = max(0.0, float(s))
    if s < 60:
        return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
    m, sec = divmod(int(round(s)), 60)
    return f"{m} min {sec:02d} s"


# --------------------------------------------------------------------------- warnings
class _Collector(logging.Handler):
    """Send warnings of the package logger to the digest (tagged with the current item)."""

    def __init__(self, console: RunConsole):
        super().__init__(logging.WARNING)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            return
        try:
            msg = record.getMessage()
        except Exception:  # a malformed record must not stop the run
            msg = str(record.msg)
        item = self.console.item
        if item:  # the same warning for another dyad is the same kind of warning
            msg = msg.replace(item, "<dyad>")
        self.console.digest.add(msg, item, record.levelno)


class _Below(logging.Filter):
    """Let through only records at or above ``level`` (the console's own stream handlers)."""

    def __init__(self, level: int):
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


# --------------------------------------------------------------------------- progress
@dataclass
class _Stage:
    name: str
    total: int | None
    t0: float = field(default_factory=time.perf_counter)
    cpu0: float = field(default_factory=time.process_time)
    done: int = 0


class RunConsole:
    """Context manager: progress per stage, warnings collected, ``run.log`` in the output folder.

    Parameters
    ----------
    out : path | None
        Output folder: ``run.log`` is written there when the run ends (also after a failure).
    mode : 'quiet' | 'normal' | 'verbose'
        What is printed (see the module docstring).
    stream : file | None
        Where progress and the digest go (default ``sys.stderr``).
    """

    def __init__(self, out=None, *, mode: str = "normal", stream=None) -> None:
        check_option("mode", mode, MODES)
        self.out = Path(out) if out is not None else None
        self.mode = mode
        self.stream = stream if stream is not None else sys.stderr
        self.digest = WarningDigest()
        self.item: str | None = None
        self.stages: dict[str, dict] = {}
        self.n_items: int | None = None
        self._stage: _Stage | None = None
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._undo: list[Callable[[], None]] = []
        self.log_path: Path | None = None

    # -- context
    def __enter__(self) -> RunConsole:
        global _CURRENT
        fd, tmp = tempfile.mkstemp(prefix="hyperalign-run-", suffix=".log")
        os.close(fd)
        self._tmp_log = Path(tmp)
        fh = logging.FileHandler(self._tmp_log, encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        fh.setLevel(logging.DEBUG)
        logger.addHandler(fh)
        self._undo.append(lambda: (logger.removeHandler(fh), fh.close()))
        if self.mode != "verbose":
            floor = logging.ERROR
            for h in list(logger.handlers):
                if h is fh or not isinstance(h, logging.StreamHandler):
                    continue
                filt = _Below(floor)
                h.addFilter(filt)
                self._undo.append(lambda h=h, f=filt: h.removeFilter(f))
            col = _Collector(self)
            logger.addHandler(col)
            self._undo.append(lambda: logger.removeHandler(col))
            self._quiet_progress_bars()
        old_show = warnings.showwarning

        def showwarning(message, category, filename, lineno, file=None, line=None):
            logger.warning("%s: %s", category.__name__, message)
            where = logger.makeRecord(
                logger.name, logging.DEBUG, str(filename), int(lineno or 0),
                "  (warning raised at %s:%s)", (filename, lineno), None,
            )  # fmt: skip
            fh.handle(where)  # the source location goes to run.log only

        warnings.showwarning = showwarning
        self._undo.append(lambda: setattr(warnings, "showwarning", old_show))
        self._prev, _CURRENT = _CURRENT, self
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        global _CURRENT
        self._end_stage(failed=exc_type is not None)
        _CURRENT = self._prev
        if exc_type is None and self.mode == "normal" and len(self.digest):
            self.print_digest()
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()
        self._write_log()

    def _quiet_progress_bars(self) -> None:
        """No model-loading progress bars (transformers, huggingface_hub) during the run."""
        if "transformers" in sys.modules:
            with contextlib.suppress(Exception):
                from transformers.utils import logging as tlog

                if tlog.is_progress_bar_enabled():
                    tlog.disable_progress_bar()
                    self._undo.append(tlog.enable_progress_bar)
            return
        if "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ:  # read when transformers loads
            os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
            self._undo.append(lambda: os.environ.pop("HF_HUB_DISABLE_PROGRESS_BARS", None))

    def _write_log(self) -> None:
        tmp = getattr(self, "_tmp_log", None)
        if tmp is None or not tmp.exists():
            return
        text = tmp.read_text(encoding="utf-8")
        if self.digest.groups:
            text += "\n# warnings, grouped\n" + "\n".join(self.digest.lines(self.n_items)) + "\n"
        if self.stages:
            text += (
                "# stages: "
                + ", ".join(
                    f"{k} {format_seconds(v['wall_s'])} (CPU {format_seconds(v['cpu_s'])})"
                    for k, v in self.stages.items()
                )
                + "\n"
            )
            text += "# stages-json: " + json.dumps(self.stages) + "\n"
        tmp.unlink()
        if self.out is not None and self.out.is_dir():
            with atomic_write(self.out / "run.log") as fh:
                fh.write(text)
            self.log_path = self.out / "run.log"

    # -- printing
    def _print(self, text: str, *, end: str = "\n") -> None:
        if self.mode == "quiet":
            return
        self.stream.write(text + end)
        self.stream.flush()

    def _line(self, st: _Stage, final: bool = False) -> str:
        el = time.perf_counter() - st.t0
        head = f"{st.name:<10s}"
        if st.total:
            text = f"{head} {st.done:>3d}/{st.total} dyads  {format_seconds(el):>10s}"
            if not final and 0 < st.done < st.total:
                left = el / st.done * (st.total - st.done)
                text += f"  ~{format_seconds(left)} left"
            elif not final and st.done == 0:
                text += "  (estimating)"
        else:
            text = f"{head} {'':>11s} {format_seconds(el):>10s}"
        return text + ("  done" if final else "")

    def _draw(self) -> None:
        st = self._stage
        if st is None or self.mode == "quiet" or not self._tty:
            return
        self.stream.write("\r" + self._line(st).ljust(72))
        self.stream.flush()

    # -- stages
    def start_stage(self, name: str, total: int | None = None) -> None:
        self._end_stage()
        self._stage = _Stage(name, total)
        if total:
            self.n_items = max(self.n_items or 0, int(total))
        self._draw()

    def advance(self, item: Any = None) -> None:
        if self._stage is not None:
            self._stage.done += 1
            self._draw()

    def _end_stage(self, failed: bool = False) -> None:
        st, self._stage = self._stage, None
        if st is None:
            return
        if st.total and not failed:
            st.done = st.total
        wall, cpu = time.perf_counter() - st.t0, time.process_time() - st.cpu0
        self.stages[st.name] = {"wall_s": wall, "cpu_s": cpu}
        if failed:
            if self._tty and self.mode != "quiet":
                self.stream.write("\n")
            return
        if self._tty:
            self._print("\r" + self._line(st, final=True).ljust(72))
        else:
            self._print(self._line(st, final=True))

    def print_digest(self) -> None:
        """Each kind of warning once, counted (the full list is in ``run.log``)."""
        lines = self.digest.lines(self.n_items)
        self._print(f"warnings: {len(self.digest)} in {len(lines)} kind(s) (all in run.log):")
        for ln in lines:
            self._print(f"  - {ln}")


# --------------------------------------------------------------------------- hooks
def mark(name: str, total: int | None = None) -> None:
    """Start stage ``name`` on the active console (ending the previous one); no-op without one.

    The last stage ends when the console closes.

    Parameters
    ----------
    name : str
        Stage name as printed (``'features'``, ``'synchrony'``, ...).
    total : int | None
        Number of items the stage will process (a counter is shown), or ``None``.

    See Also
    --------
    stage, track
    """
    if _CURRENT is not None:
        _CURRENT.start_stage(name, total)


@contextlib.contextmanager
def stage(name: str, total: int | None = None) -> Iterator[None]:
    """Report a pipeline stage to the active console (nothing happens without one).

    Parameters
    ----------
    name : str
        Stage name as printed.
    total : int | None
        Number of items the stage will process (a counter is shown), or ``None``.

    Yields
    ------
    None
        The stage is open while the ``with`` block runs; it is marked failed if the block
        raises.

    See Also
    --------
    mark, track
    """
    con = _CURRENT
    if con is None:
        yield
        return
    con.start_stage(name, total)
    try:
        yield
    except BaseException:
        con._end_stage(failed=True)
        raise
    con._end_stage()


class track:
    """Wrap a per-item function so the console attributes warnings to items and counts them.

    The console then knows which dyad a warning came from and counts finished items.
    Picklable (a joblib worker has no console: the wrapper does nothing there).

    Parameters
    ----------
    func : callable
        The per-item function, called with one argument.
    name_of : callable | None
        Gives the item's name (a dyad id) from the argument; ``None`` leaves it unnamed.

    See Also
    --------
    stage, mark
    """

    def __init__(self, func: Callable, name_of: Callable[[Any], Any] | None = None):
        self.func = func
        self.name_of = name_of
        self._pid = os.getpid()  # the process that made the wrapper (the console's)

    def __call__(self, arg):
        con = _CURRENT
        if con is None:
            if os.getpid() != self._pid:  # a worker process: relay its warnings to the parent
                return _in_worker(self.func, arg)
            return self.func(arg)
        prev = con.item
        con.item = str(self.name_of(arg)) if self.name_of is not None else None
        try:
            return self.func(arg)
        finally:
            con.item = prev
            con.advance()


class _Relayed:
    """A worker's result with the log records (warnings and above) it did not print."""

    def __init__(self, value, records: list[tuple[int, str]]):
        self.value = value
        self.records = records


def _in_worker(func: Callable, arg) -> _Relayed:
    """Run ``func(arg)`` in a worker process, keeping its warnings for the parent's console
    (a worker has no console: printed there, they would skip its deduplication)."""
    import logging

    records: list[tuple[int, str]] = []

    class _Keep(logging.Handler):
        def emit(self, record):
            records.append((record.levelno, record.getMessage()))

    handlers, logger.handlers = logger.handlers, [_Keep(logging.WARNING)]
    try:
        return _Relayed(func(arg), records)
    finally:
        logger.handlers = handlers


def unrelay(results: list, names: list | None = None) -> list:
    """The values of ``results``; the warnings workers relayed are logged here, per item.

    Parameters
    ----------
    results : list
        What a :class:`track`-wrapped function returned for each item (in a worker process, a
        value with its log records; in this process, the value itself).
    names : list | None
        The item names (dyad ids) the warnings are attributed to on the console.

    Returns
    -------
    values : list
        The results without the relayed records.
    """
    out = []
    con = _CURRENT
    for k, r in enumerate(results):
        if not isinstance(r, _Relayed):
            out.append(r)
            continue
        prev = con.item if con is not None else None
        if con is not None:
            con.item = str(names[k]) if names is not None else None
        try:
            for level, msg in r.records:
                logger.log(level, "%s", msg)
        finally:
            if con is not None:
                con.item = prev
        out.append(r.value)
    return out


def run_summary(res, console: RunConsole | None = None, *, command: str = "demo") -> list[str]:
    """Closing lines of a run: what was found, where the outputs are, time per stage.

    Parameters
    ----------
    res : PipelineResult
        The run's result (any object with its attributes; missing ones are skipped).
    console : RunConsole | None
        The run's console, for the time per stage; ``None`` uses ``res.timings``.
    command : str
        The command named in the first line (``'demo'``, ``'run'``).

    Returns
    -------
    lines : list of str
        The lines to print.
    """
    lines = []
    stats = getattr(res, "stats", None)
    table = getattr(stats, "table", None)
    n_ana, n_list = getattr(res, "n_dyads_analysed", 0), getattr(res, "n_dyads_listed", 0)
    lines.append(f"hyperalign {command}: {n_ana} of {n_list} dyads analysed")
    if table is not None and len(table):
        if "p_corrected" in table.columns:
            alpha = (getattr(stats, "params", None) or {}).get("alpha", 0.05)
            sig = table[table["p_corrected"] < alpha]
            cells = ", ".join(
                " ".join(str(r[k]) for k in ("band", "roi", "lag") if k in sig.columns)
                for _, r in sig.head(6).iterrows()
            )
            more = "" if len(sig) <= 6 else f", … ({len(sig) - 6} more)"
            lines.append(
                f"  semantic effect beyond acoustics in {len(sig)} of {len(table)} cells"
                + (f" (corrected p < {alpha:g}): {cells}{more}" if len(sig) else "")
            )
    rec = getattr(res, "recovery", None)
    if rec is not None:
        lines.append(f"  {rec.summary()}")
    out = Path(res.out).resolve()
    lines.append(f"  outputs: {out}")
    if getattr(res, "report", None):
        lines.append(f"  report:  {Path(res.report).resolve()}")
    lines.append(f"  log:     {out / 'run.log'}   exclusions: {out / 'tables' / 'exclusions.csv'}")
    stages = console.stages if console is not None and console.stages else None
    if stages:
        parts = [f"{k} {format_seconds(v['wall_s'])}" for k, v in stages.items()]
        total = sum(v["wall_s"] for v in stages.values())
        cpu = sum(v["cpu_s"] for v in stages.values())
        lines.append(
            f"  time:    {format_seconds(total)} (CPU {format_seconds(cpu)}): " + ", ".join(parts)
        )
    elif getattr(res, "timings", None):
        t = res.timings
        parts = [f"{k} {format_seconds(v)}" for k, v in t.items() if k != "total"]
        lines.append(f"  time:    {format_seconds(t.get('total', 0))}: " + ", ".join(parts))
    return lines

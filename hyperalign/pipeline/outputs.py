"""A run's outputs are one unit: staged, moved into place together, described by a manifest.

Layout of an output folder ``out/``::

    manifest.json      written last: status ('complete' once every output is in place),
                       config hash, run key (config + input content), file checksums
    tables/ figures/ bids/ report.html methods.txt summary.json   the outputs
    cache/             per-dyad step cache (kept across runs; content-keyed)
    previous/          outputs of an earlier run that do not match the current one
    .staging/          the running run's outputs until they are moved into place
    .hyperalign.lock   the process writing to the folder

A run holds the lock, cleans what an interrupted run left (staging folder, ``.part`` files),
moves aside outputs that are not its own (another config, other input data, or a folder
without a complete manifest), writes everything into ``.staging/`` and, in one critical
section that signals cannot split, swaps the outputs in and writes the manifest.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import socket
from pathlib import Path

from ..utils import atomic_write, logger
from ..utils._validation import PART_MARKER
from .interrupt import checkpoint, critical

OUTPUTS = ("tables", "figures", "bids", "report.html", "methods.txt", "summary.json")
MANIFEST = "manifest.json"
LOCK = ".hyperalign.lock"
STAGING = ".staging"
TRASH = ".trash"
PREVIOUS = "previous"
_PREV_MARK = ".hyperalign-previous"


class RunLockedError(RuntimeError):
    """Another live process is writing to the same output folder."""


def check_out_folder(out: str | os.PathLike) -> Path:
    """Create ``out`` if needed and make sure this process can write in it.

    Raises
    ------
    NotADirectoryError
        ``out`` is a file or lies under a file.
    PermissionError
        ``out`` (or the folder it would be created in) is not writable.
    """
    out = Path(out)
    p = out
    while not os.path.lexists(p) and p.parent != p:
        p = p.parent
    if os.path.lexists(p) and not p.is_dir():
        where = "is a file" if p == out else f"lies under {str(p)!r}, which is a file"
        raise NotADirectoryError(
            f"out={str(out)!r} {where}, not a folder; choose another output folder (--out)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".hyperalign-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise PermissionError(
            f"out={str(out)!r}: cannot write there ({reason}); choose a writable output "
            "folder (--out)"
        ) from None
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """An exclusive lock file: one run writes to an output folder at a time."""

    def __init__(self, out: Path):
        self.path = Path(out) / LOCK
        self.held = False

    def acquire(self) -> None:
        """Take the lock (a lock left by a dead process on this host is removed)."""
        me = {"pid": os.getpid(), "host": socket.gethostname()}
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                try:
                    other = json.loads(self.path.read_text() or "{}")
                except (OSError, ValueError):
                    other = {}
                pid, host = other.get("pid"), other.get("host")
                if host == me["host"] and isinstance(pid, int) and not _alive(pid):
                    logger.warning("removing the lock of a run that ended (pid %d): %s",
                                   pid, self.path)  # fmt: skip
                    self.path.unlink(missing_ok=True)
                    continue
                raise RunLockedError(
                    f"another hyperalign run (pid {pid} on {host}) is writing to "
                    f"{str(self.path.parent)!r}; wait for it to finish or choose another "
                    f"--out (if no such run exists, delete {str(self.path)!r})"
                ) from None
            with os.fdopen(fd, "w") as fh:
                json.dump(me, fh)
            self.held = True
            return
        raise RunLockedError(f"could not take the lock {str(self.path)!r}; delete it and rerun")

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def read_manifest(out: str | os.PathLike) -> dict | None:
    """The manifest of an output folder, or ``None`` if there is none (or it is unreadable).

    Parameters
    ----------
    out : path-like
        Output folder of a run.

    Returns
    -------
    manifest : dict | None
        The contents of its ``manifest.json`` (status, config hash, checksum of every output).

    See Also
    --------
    verify_outputs
    """
    f = Path(out) / MANIFEST
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _output_files(root: Path) -> dict[str, str]:
    files = {}
    for name in OUTPUTS:
        p = root / name
        if p.is_file():
            files[name] = _sha256_file(p)
        elif p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file():
                    files[f.relative_to(root).as_posix()] = _sha256_file(f)
    return files


def verify_outputs(out: str | os.PathLike) -> dict:
    """Check that ``out`` holds the complete, unmodified outputs of one run.

    Parameters
    ----------
    out : path-like
        An output folder of :func:`~hyperalign.pipeline.run_pipeline`.

    Returns
    -------
    manifest : dict
        The manifest (status, config hash, run key, file checksums).

    Raises
    ------
    ValueError
        No manifest, a run that did not finish, or a file missing or changed since.
    """
    out = Path(out)
    man = read_manifest(out)
    if man is None:
        raise ValueError(f"{str(out)!r} has no {MANIFEST}: not the outputs of a finished run; "
                         "rerun the pipeline into it")  # fmt: skip
    if man.get("status") != "complete":
        raise ValueError(
            f"{str(out)!r}: the run that wrote these outputs did not finish (status "
            f"{man.get('status')!r}); rerun the pipeline to complete them"
        )
    bad = []
    for rel, sha in man.get("files", {}).items():
        f = out / rel
        if not f.is_file():
            bad.append(f"{rel} missing")
        elif _sha256_file(f) != sha:
            bad.append(f"{rel} changed")
    if bad:
        raise ValueError(f"{str(out)!r}: outputs differ from the manifest ({', '.join(bad)}); "
                         "rerun the pipeline to rewrite them")  # fmt: skip
    return man


def _ours(folder: Path) -> bool:
    """Whether ``folder`` is a ``previous/`` folder made by hyperalign (or empty)."""
    return (folder / _PREV_MARK).is_file() or (folder.is_dir() and not any(folder.iterdir()))


def _rm(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    elif os.path.lexists(p):
        p.unlink()


class RunFolder:
    """The output folder of one run: lock, cleaning, staging and the final swap.

    Parameters
    ----------
    out : path-like
        Output folder.
    config_hash : str
        Hash of the run's configuration.
    """

    def __init__(self, out: str | os.PathLike, config_hash: str):
        self.out = check_out_folder(out)
        self.config_hash = config_hash
        self.staging = self.out / STAGING
        self.lock = RunLock(self.out)
        self.cache = self.out / "cache"

    # -- start ------------------------------------------------------------------------
    def open(self) -> RunFolder:
        """Lock, clean leftovers, move aside outputs of another config, create staging."""
        self.lock.acquire()
        try:
            self._clean_leftovers()
            man = read_manifest(self.out)
            present = [n for n in OUTPUTS if os.path.lexists(self.out / n)]
            if man is not None and man.get("status") != "complete":
                with critical():
                    for n in present + [MANIFEST]:
                        _rm(self.out / n)
                logger.warning(
                    "removed the outputs in %s: the run that wrote them was interrupted while "
                    "moving them into place (status %r); they are rebuilt from the cache",
                    self.out, man.get("status"),
                )  # fmt: skip
            elif present and man is None:
                self.set_aside("they have no manifest (an older or unfinished run)")
            elif man is not None and man.get("config_hash") != self.config_hash:
                self.set_aside("they were made with another config")
            for sub in ("tables", "figures"):
                (self.staging / sub).mkdir(parents=True, exist_ok=True)
            self.cache.mkdir(exist_ok=True)
        except BaseException:
            self.lock.release()
            raise
        return self

    def _clean_leftovers(self) -> None:
        n = 0
        for name in (STAGING, TRASH):
            if os.path.lexists(self.out / name):
                _rm(self.out / name)
                n += 1
        roots = [self.out, *(self.out / s for s in ("cache", "tables", "figures", "bids"))]
        for root in roots:
            if not root.is_dir():
                continue
            it = root.rglob(f".*{PART_MARKER}*") if root != self.out else root.glob(".*")
            for f in it:
                if PART_MARKER in f.name and f.is_file():
                    f.unlink(missing_ok=True)
                    n += 1
        if n:
            logger.warning("removed %d temporary file(s)/folder(s) left by an interrupted run "
                           "in %s", n, self.out)  # fmt: skip

    def set_aside(self, why: str) -> None:
        """Move the current outputs (and manifest) to ``out/previous/``."""
        present = [n for n in (*OUTPUTS, MANIFEST) if os.path.lexists(self.out / n)]
        if not present:
            return
        prev = self.out / PREVIOUS
        n = 1
        while prev.exists() and not _ours(prev):  # never delete a folder hyperalign did not make
            n += 1
            prev = self.out / f"{PREVIOUS}-{n}"
        with critical():
            _rm(prev)
            prev.mkdir()
            (prev / _PREV_MARK).write_text("outputs of an earlier run, moved aside\n")
            for n in present:
                os.replace(self.out / n, prev / n)
        logger.warning("the outputs in %s are not those of this run (%s): moved to %s",
                       self.out, why, prev)  # fmt: skip

    def check_inputs(self, run_key: str) -> None:
        """Move aside complete outputs of the same config but other input data."""
        man = read_manifest(self.out)
        if man is not None and man.get("run_key") != run_key:
            self.set_aside("they were computed from other input data")

    # -- end --------------------------------------------------------------------------
    def commit(self, run_key: str, extra: dict | None = None) -> dict:
        """Swap the staged outputs in and write the manifest, as one uninterruptible step."""
        from .. import __version__

        with critical():
            base = {
                "hyperalign_version": __version__,
                "config_hash": self.config_hash,
                "run_key": run_key,
            }
            with atomic_write(self.out / MANIFEST) as fh:
                json.dump({"status": "committing", **base}, fh, indent=1)
            trash = self.out / TRASH
            trash.mkdir(exist_ok=True)
            for n in OUTPUTS:
                if os.path.lexists(self.out / n):
                    os.replace(self.out / n, trash / n)
            checkpoint("commit")
            for n in OUTPUTS:
                if os.path.lexists(self.staging / n):
                    os.replace(self.staging / n, self.out / n)
            man = {
                "status": "complete",
                **base,
                "finished_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                **(extra or {}),
                "files": _output_files(self.out),
            }
            with atomic_write(self.out / MANIFEST) as fh:
                json.dump(man, fh, indent=1, default=str)
            _rm(trash)
            _rm(self.staging)
        return man

    def close(self, *, failed: bool = False) -> None:
        """Release the lock; after a failure, remove the staging folder (best effort).

        A removal that fails (a cluster worker still writing into the folder) is logged and
        never hides the run's own error; the next run removes what is left.
        """
        try:
            if failed:
                try:
                    _rm(self.staging)
                except OSError as err:
                    logger.warning(
                        "could not remove the staging folder %s after the failed run (%s); "
                        "the next run into %s removes it",
                        self.staging,
                        err,
                        self.out,
                    )
        finally:
            self.lock.release()

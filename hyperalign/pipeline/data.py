"""The data step of a pipeline: simulate the demo study or read a BIDS study.

Dyads that cannot be read are excluded and counted (``data.on_error: exclude``, the default:
one bad recording should not stop a 40-dyad study, and every exclusion is listed in
``exclusions.csv``, ``summary.json`` and the report's first line), or listed in one error
(``data.on_error: raise``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..utils import ExclusionLog, atomic_write, logger


def _write_table(df: pd.DataFrame, path: Path) -> Path:
    with atomic_write(path) as fh:
        df.to_csv(fh, index=False)
    return path


def _bids_exclusions(report: pd.DataFrame, log: ExclusionLog, on_error: str, root) -> None:
    """Unreadable dyads: one error listing them all (``'raise'``) or excluded and counted."""
    if not len(report):
        return
    lines = [f"{r.dyad_id} (row {r.row}, {r.stage}: {r.error})" for r in report.itertuples()]
    if on_error == "raise":
        raise ValueError(
            f"{len(report)} dyad(s) of {root} could not be read:\n  - "
            + "\n  - ".join(lines)
            + "\nfix or remove their rows in dyads.tsv, or set data.on_error: exclude to "
            "analyse the others"
        )
    for r in report.itertuples():
        log.add("data", "dyad", r.dyad_id, f"not read ({r.stage}: {r.error}); file: {r.file}")
    logger.warning(
        "data: %d dyad(s) could not be read and are excluded (listed in exclusions.csv and "
        "the report); set data.on_error: raise to stop instead",
        len(report),
    )


def _no_dyads_error(root, task) -> ValueError:
    from .. import io as hio

    tasks: list = []
    try:
        man = hio.read_manifest(root)
        if "task" in man.columns:
            tasks = sorted({str(t) for t in man["task"].dropna()})
    except Exception:  # the reader already failed: the message below is enough
        pass
    if task is not None:
        known = f" (tasks listed: {tasks})" if tasks else ""
        return ValueError(
            f"data.task={task!r} matches no dyad in {root}/dyads.tsv{known}; give a task that "
            "is listed, or task: null to read every dyad"
        )
    return ValueError(f"{root}/dyads.tsv lists no dyad; add one row per dyad")


def step_data(
    cfg: dict,
    out: Path,
    log: ExclusionLog,
    cache_root: str | Path | None = None,
    status: dict | None = None,
) -> tuple[list, Any, int]:
    """Load the dyads: simulate the demo study (and round-trip it through BIDS) or read BIDS.

    Returns the dyads, the simulation truth (or ``None``) and the number of dyads listed;
    unreadable dyads are excluded and logged in ``log`` or, with ``data.on_error: raise``,
    listed in one error. With ``cache_root`` (and ``execution.cache``), the demo study is
    cached (:func:`_demo_cached`); ``status['data']`` then receives the cache status and
    ``status['hashes']`` the dyads' input digests (:func:`~.hashing.hash_dyad`), stored with
    the entry.
    """
    d = cfg["data"]
    if d["source"] == "demo":
        if (
            cache_root is not None
            and cfg.get("execution", {}).get("cache", True)
            and _shipped_simulator()
        ):
            hashes: dict = {}
            dyads, truth, n_listed, st = _demo_cached(cfg, out, log, cache_root, hashes)
            if status is not None:
                status["data"], status["hashes"] = st, hashes
        else:
            dyads, truth, n_listed, _ = _demo_data(cfg, out, log)
    else:
        dyads, truth, n_listed = _read_study(cfg, out, log)
    for dy in dyads:
        log.extend(dy.exclusions)
    return dyads, truth, n_listed


def _demo_data(cfg: dict, out: Path, log: ExclusionLog) -> tuple[list, Any, int, Any]:
    """Simulate the demo study and (``bids_roundtrip``) write it as BIDS and read it back."""
    from .. import io as hio
    from ..datasets import load_demo

    d = cfg["data"]
    dyads, truth = load_demo(
        n_dyads=d["n_dyads"],
        duration=d["duration"],
        random_state=d["random_state"],
        n_channels=d["n_channels"],
        sfreq=d["sfreq"],
        **_simulation_jobs(cfg),
    )
    n_listed = len(dyads)
    report = None
    if d.get("bids_roundtrip", True):
        root = out / "bids"
        hio.write_bids_dyads(dyads, root, overwrite=True)
        problems = hio.validate_dataset(root)
        if problems:
            raise ValueError(
                f"the demo BIDS folder {root} fails validation:\n" + "\n".join(map(str, problems))
            )
        dyads, report = hio.read_bids_dyads(root)
        _write_table(report, out / "tables" / "bids_read_report.csv")
        _bids_exclusions(report, log, d.get("on_error", "exclude"), root)
    return dyads, truth, n_listed, report


def _shipped_simulator() -> bool:
    """Whether ``hyperalign.datasets.load_demo`` is hyperalign's own: the data cache is keyed on
    the config and hyperalign's version, which say nothing about a loader put in its place
    (tests do that to change the inputs), so such a run reads no data from the cache."""
    from .. import datasets

    return getattr(datasets.load_demo, "__module__", None) == datasets.__name__


def _simulation_jobs(cfg: dict) -> dict:
    """``{'n_jobs': ...}`` for the simulator when it takes one (the dyads are the same for any
    ``n_jobs``: each dyad's seed is drawn before any is simulated)."""
    import inspect

    from ..simulation import simulate_study
    from ..utils import check_n_jobs

    n_jobs = check_n_jobs(cfg.get("execution", {}).get("n_jobs", 1))
    if n_jobs <= 1 or "n_jobs" not in inspect.signature(simulate_study).parameters:
        return {}
    return {"n_jobs": min(n_jobs, int(cfg["data"]["n_dyads"]))}


def data_key(cfg: dict) -> str:
    """Cache key of the demo data step: the ``data`` config section and hyperalign's version."""
    from .. import __version__
    from .hashing import hash_json

    return hash_json("data", __version__, cfg["data"])[:32]


def _tree_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _file_digest(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _link_tree(src: Path, dst: Path, files: list[str]) -> None:
    """Hard-link (or copy, across file systems) the listed files of ``src`` into ``dst``."""
    import os
    import shutil

    for rel in files:
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        try:
            os.link(src / rel, target)
        except OSError:
            shutil.copy2(src / rel, target)


def _store_tree(src: Path, dest: Path) -> dict[str, str]:
    """Copy the BIDS folder into the cache (a fresh folder renamed into place); checksums."""
    import shutil

    files = [str(p.relative_to(src)) for p in _tree_files(src)]
    digests = {rel: _file_digest(src / rel) for rel in files}
    tmp = dest.with_name(dest.name + f".part-{id(files)}")
    shutil.rmtree(tmp, ignore_errors=True)
    _link_tree(src, tmp, files)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return digests


def _tree_ok(root: Path, digests: dict[str, str]) -> bool:
    """Whether the cached BIDS folder holds exactly the files recorded, unchanged."""
    if not root.is_dir():
        return False
    have = {str(p.relative_to(root)) for p in _tree_files(root)}
    if have != set(digests):
        return False
    return all(_file_digest(root / rel) == h for rel, h in digests.items())


def _demo_cached(
    cfg: dict, out: Path, log: ExclusionLog, cache_root, cached_hashes: dict
) -> tuple[list, Any, int, str]:
    """The demo data step through the step cache (``data/demo/<key>``).

    The entry holds the dyads as read back from BIDS, the simulation truth, the BIDS read
    report and the exclusions; the BIDS folder itself is kept beside it (``<key>.bids``, with
    the checksum of every file in the entry) and linked into ``out/bids`` on a hit. The key is
    the ``data`` config section and hyperalign's version (the simulation is seeded).
    """
    from .cache import StepCache

    cache = StepCache(cache_root)
    key = data_key(cfg)
    entry, _ = cache.paths("data", "demo", key, "pickle")
    tree = entry.with_name(f"{key}.bids")
    roundtrip = cfg["data"].get("bids_roundtrip", True)

    def compute():
        from .hashing import hash_dyad

        dyads, truth, n_listed, report = _demo_data(cfg, out, log)
        digests = _store_tree(out / "bids", tree) if roundtrip else {}
        hashes = {dy.dyad_id: hash_dyad(dy) for dy in dyads}  # the step keys' inputs
        return {"dyads": dyads, "truth": truth, "n_listed": n_listed, "report": report,
                "bids_files": digests, "hashes": hashes}  # fmt: skip

    got = cache.run("data", "demo", key, compute, fmt="pickle", exclusions=log)
    value = got.value
    if got.status == "hit":
        if roundtrip and not _tree_ok(tree, value["bids_files"]):
            logger.warning(
                "cache entry %s: the cached BIDS folder is missing or was modified; "
                "recomputing the data step",
                tree,
            )
            entry.unlink(missing_ok=True)
            return (*_demo_cached(cfg, out, log, cache_root, cached_hashes)[:3], "invalid")
        logger.info("data: %d simulated dyad(s) loaded from the cache", len(value["dyads"]))
        log.rows.extend(dict(r) for r in got.exclusions)
        if roundtrip:
            _link_tree(tree, out / "bids", sorted(value["bids_files"]))
            _write_table(value["report"], out / "tables" / "bids_read_report.csv")
    cached_hashes.update(value.get("hashes") or {})
    return value["dyads"], value["truth"], value["n_listed"], got.status


def _read_study(cfg: dict, out: Path, log: ExclusionLog) -> tuple[list, Any, int]:
    """Read a BIDS study (``data.source: bids``)."""
    from .. import io as hio

    d = cfg["data"]
    root = d.get("root")
    if not root:
        raise ValueError("data.source is 'bids' but data.root is empty; give the BIDS root")
    dyads, report = hio.read_bids_dyads(root, task=d.get("task"))
    _write_table(report, out / "tables" / "bids_read_report.csv")
    n_listed = len(dyads) + len(report)
    if n_listed == 0:
        raise _no_dyads_error(root, d.get("task"))
    _bids_exclusions(report, log, d.get("on_error", "exclude"), root)
    return dyads, None, n_listed

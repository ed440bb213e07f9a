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


def step_data(cfg: dict, out: Path, log: ExclusionLog) -> tuple[list, Any, int]:
    """Load the dyads: simulate the demo study (and round-trip it through BIDS) or read BIDS.

    Returns the dyads, the simulation truth (or ``None``) and the number of dyads listed;
    unreadable dyads are excluded and logged in ``log`` or, with ``data.on_error: raise``,
    listed in one error.
    """
    from .. import io as hio

    d = cfg["data"]
    on_error = d.get("on_error", "exclude")
    truth = None
    if d["source"] == "demo":
        from ..datasets import load_demo

        dyads, truth = load_demo(
            n_dyads=d["n_dyads"],
            duration=d["duration"],
            random_state=d["random_state"],
            n_channels=d["n_channels"],
            sfreq=d["sfreq"],
        )
        n_listed = len(dyads)
        if d.get("bids_roundtrip", True):
            root = out / "bids"
            hio.write_bids_dyads(dyads, root, overwrite=True)
            problems = hio.validate_dataset(root)
            if problems:
                raise ValueError(
                    f"the demo BIDS folder {root} fails validation:\n"
                    + "\n".join(map(str, problems))
                )
            dyads, report = hio.read_bids_dyads(root)
            _write_table(report, out / "tables" / "bids_read_report.csv")
            _bids_exclusions(report, log, on_error, root)
    else:
        root = d.get("root")
        if not root:
            raise ValueError("data.source is 'bids' but data.root is empty; give the BIDS root")
        dyads, report = hio.read_bids_dyads(root, task=d.get("task"))
        _write_table(report, out / "tables" / "bids_read_report.csv")
        n_listed = len(dyads) + len(report)
        if n_listed == 0:
            raise _no_dyads_error(root, d.get("task"))
        _bids_exclusions(report, log, on_error, root)
    for dy in dyads:
        log.extend(dy.exclusions)
    return dyads, truth, n_listed

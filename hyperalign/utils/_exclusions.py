"""A log of everything excluded from an analysis, and why (nothing is dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._logging import logger

_COLUMNS = ["stage", "kind", "item", "reason", "n"]


@dataclass
class ExclusionLog:
    """Rows of ``(stage, kind, item, reason, n)``; ``kind`` is word, utterance, channel, epoch.

    Parameters
    ----------
    rows : list of dict
        Entries with keys ``stage``, ``kind``, ``item``, ``reason`` and ``n``; usually left
        empty and filled with :meth:`add`.

    Examples
    --------
    >>> from hyperalign.utils import ExclusionLog
    >>> log = ExclusionLog()
    >>> log.add("align", "word", "um", "no timing", n=2)
    >>> log.total("word")
    2
    """

    rows: list[dict] = field(default_factory=list)

    def add(self, stage: str, kind: str, item, reason: str, n: int = 1) -> None:
        """Record ``n`` excluded ``kind`` items (``item`` names them) and log a warning.

        Parameters
        ----------
        stage : str
            The analysis stage that excluded them (``'align'``, ``'features'``, ...).
        kind : str
            What was excluded: ``'word'``, ``'utterance'``, ``'channel'``, ``'epoch'``, ...
        item : object
            Names the excluded items (stored as a string).
        reason : str
            Why they were excluded.
        n : int
            How many items this entry counts.
        """
        self.rows.append(
            {"stage": stage, "kind": kind, "item": str(item), "reason": reason, "n": int(n)}
        )
        logger.warning("%s: excluded %d %s(s) (%s): %s", stage, n, kind, item, reason)

    def extend(self, other: ExclusionLog) -> None:
        """Append the entries of another log.

        Parameters
        ----------
        other : ExclusionLog
            The log whose rows are appended (it is not changed).
        """
        self.rows.extend(other.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def total(self, kind: str | None = None) -> int:
        """Number of excluded items (of one ``kind`` if given).

        Parameters
        ----------
        kind : str | None
            Count only entries of this kind; ``None`` counts all.

        Returns
        -------
        n : int
            The sum of ``n`` over the matching entries.
        """
        return int(sum(r["n"] for r in self.rows if kind is None or r["kind"] == kind))

    def to_data_frame(self) -> pd.DataFrame:
        """Return the entries as a table.

        Returns
        -------
        df : pandas.DataFrame
            One row per entry, columns ``stage, kind, item, reason, n``.
        """
        return pd.DataFrame(self.rows, columns=_COLUMNS)

    def copy(self) -> ExclusionLog:
        """Return an independent copy.

        Returns
        -------
        log : ExclusionLog
            A new log with copies of the entries.
        """
        return ExclusionLog([dict(r) for r in self.rows])

    def __repr__(self) -> str:
        return f"<ExclusionLog | {len(self.rows)} entries, {self.total()} items excluded>"

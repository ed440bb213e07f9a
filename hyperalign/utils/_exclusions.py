"""A log of everything excluded from an analysis, and why (nothing is dropped silently)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._logging import logger

_COLUMNS = ["stage", "kind", "item", "reason", "n"]


@dataclass
class ExclusionLog:
    """Rows of ``(stage, kind, item, reason, n)``; ``kind`` is word, utterance, channel, epoch…"""

    rows: list[dict] = field(default_factory=list)

    def add(self, stage: str, kind: str, item, reason: str, n: int = 1) -> None:
        """Record ``n`` excluded ``kind`` items (``item`` names them) and log a warning."""
        self.rows.append(
            {"stage": stage, "kind": kind, "item": str(item), "reason": reason, "n": int(n)}
        )
        logger.warning("%s: excluded %d %s(s) (%s): %s", stage, n, kind, item, reason)

    def extend(self, other: ExclusionLog) -> None:
        self.rows.extend(other.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def total(self, kind: str | None = None) -> int:
        """Number of excluded items (of one ``kind`` if given)."""
        return int(sum(r["n"] for r in self.rows if kind is None or r["kind"] == kind))

    def to_data_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=_COLUMNS)

    def copy(self) -> ExclusionLog:
        return ExclusionLog([dict(r) for r in self.rows])

    def __repr__(self) -> str:
        return f"<ExclusionLog | {len(self.rows)} entries, {self.total()} items excluded>"

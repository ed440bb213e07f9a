"""The run console's warning digest: warnings grouped by their text with the numbers taken out.

Part of :mod:`hyperalign.pipeline.console` (which re-exports :class:`WarningDigest`); kept
apart because it is plain text processing, with no console state.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

__all__ = ["WarningDigest"]

_NUM = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.]*[A-Za-z_])")
#: what varies between warnings of one kind: {dicts}, [lists], 'quoted names', numbers
_TOK = re.compile(r"(\{[^{}]*\}|\[[^\[\]]*\]|'[^']*'|" + _NUM.pattern + ")")


def _kind(tok: str) -> str:
    return tok[0] + tok[-1] if tok[0] in "{['" else "#"


@dataclass
class _Group:
    template: str
    first: str
    count: int = 0
    items: set = field(default_factory=set)
    numbers: list = field(default_factory=list)  # per occurrence: the varying tokens
    level: int = logging.WARNING


class WarningDigest:
    """Warnings grouped by their text with the numbers taken out, counted per item (dyad).

    ``add(message, item)`` records one warning; :meth:`lines` gives one line per group: the
    message with each number that varies replaced by its range, how often and in how many of
    ``n_items`` items it occurred.
    """

    def __init__(self) -> None:
        self.groups: dict[str, _Group] = {}

    def add(self, message: str, item: str | None = None, level: int = logging.WARNING) -> None:
        message = str(message).strip()
        parts = _TOK.split(message)
        toks = parts[1::2]
        template = "".join(p if i % 2 == 0 else _kind(p) for i, p in enumerate(parts))
        g = self.groups.get(template)
        if g is None:
            g = self.groups[template] = _Group(template, message, level=level)
        g.count += 1
        if item is not None:
            g.items.add(str(item))
        g.numbers.append(toks)
        g.level = max(g.level, level)

    def __len__(self) -> int:
        return sum(g.count for g in self.groups.values())

    @staticmethod
    def _merge(g: _Group) -> str:
        """The first message with what varies summarised: number ranges, names listed."""
        rows = g.numbers
        parts = _TOK.split(g.first)
        out = [parts[0]]
        for k in range(len(rows[0])):
            vals = list(dict.fromkeys(r[k] for r in rows))
            if len(vals) == 1:
                text = vals[0]
            elif _kind(vals[0]) == "#":
                nums = sorted(float(v) for v in vals)
                text = f"{nums[0]:g}-{nums[-1]:g}"
            elif _kind(vals[0]) == "{}":
                text = f"{{… {len(vals)} different}}"
            elif len(vals) <= 3:
                text = ", ".join(vals)
            else:
                text = f"{vals[0]}, {vals[1]}, … ({len(vals)} different)"
            out += [text, parts[2 * k + 2]]
        return "".join(out)

    def lines(self, n_items: int | None = None, *, width: int = 150) -> list[str]:
        """One line per kind of warning, most frequent first.

        Parameters
        ----------
        n_items : int | None
            Number of items (dyads) in the run, shown as "in k of n dyads"; ``None`` shows
            "in k dyads".
        width : int
            Longest message (characters) before it is cut with an ellipsis.

        Returns
        -------
        lines : list of str
            The merged message of each group, with how often and in how many items.
        """
        out = []
        for g in sorted(self.groups.values(), key=lambda g: (-g.count, g.template)):
            text = self._merge(g)
            if len(text) > width:
                text = text[: width - 1] + "…"
            where = []
            if g.count > 1:
                where.append(f"{g.count} times")
            if g.items:
                of = f" of {n_items}" if n_items else ""
                plural = "s" if (n_items or len(g.items)) != 1 else ""
                where.append(f"in {len(g.items)}{of} dyad{plural}")
            out.append(text + (f"  [{', '.join(where)}]" if where else ""))
        return out

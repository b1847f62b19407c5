"""Line differences between two revisions of an article's text, for people to read.

The console shows what a save changed: the lines removed and added, each with a little
context, long unchanged stretches folded into a gap. Pure text work (:mod:`difflib`), no
I/O; the service picks the two revisions.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

CONTEXT: Final = 2  # unchanged lines kept around each change


class LineKind(StrEnum):
    SAME = "same"
    REMOVED = "removed"
    ADDED = "added"
    GAP = "gap"  # unchanged lines left out


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    text: str
    old_number: int | None = None  # 1-based line numbers in each text
    new_number: int | None = None


def line_diff(old: str, new: str, *, context: int = CONTEXT) -> list[DiffLine]:
    """``old`` to ``new`` line by line; empty when the texts are equal."""
    before, after = old.splitlines(), new.splitlines()
    if before == after:
        return []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    lines: list[DiffLine] = []
    shown_up_to = 0  # lines of ``before`` shown or passed so far
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > shown_up_to:
            lines.append(DiffLine(LineKind.GAP, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(
                    DiffLine(LineKind.SAME, before[i], i + 1, j + 1)
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                )
                continue
            lines.extend(DiffLine(LineKind.REMOVED, before[i], i + 1, None) for i in range(i1, i2))
            lines.extend(DiffLine(LineKind.ADDED, after[j], None, j + 1) for j in range(j1, j2))
        shown_up_to = group[-1][2]
    if shown_up_to < len(before):
        lines.append(DiffLine(LineKind.GAP, ""))
    return lines

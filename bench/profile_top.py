"""Summarise py-spy's collapsed stacks (``--format raw``): where the workers spend time.

    .venv/bin/python -m bench.profile_top /tmp/prof/charges.txt [--top 40] [--match ewallet]

Prints, per function (``name (file:line)`` without the line), the share of samples in
which it is on the stack (inclusive) and at the top (self), highest inclusive first.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_LINE = re.compile(r"^(?P<stack>.*) (?P<count>\d+)$")
_FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:]*)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match.group("file")
    short = "/".join(path.split("/")[-3:])
    return f"{match.group('name')} ({short})"


def summarise(path: Path, *, match: str | None) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        parsed = _LINE.match(line)
        if parsed is None:
            continue
        count = int(parsed.group("count"))
        frames = [frame_name(f) for f in parsed.group("stack").split(";")]
        total += count
        for name in set(frames):
            if match is None or match in name:
                inclusive[name] += count
        if frames and (match is None or match in frames[-1]):
            own[frames[-1]] += count
    return total, inclusive, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default=None, help="only frames whose text contains this")
    parser.add_argument("--self", dest="by_self", action="store_true", help="sort by self time")
    args = parser.parse_args()
    total, inclusive, own = summarise(args.path, match=args.match)
    ranking = own if args.by_self else inclusive
    print(f"{total} samples")
    for name, _count in ranking.most_common(args.top):
        shares = f"{100 * inclusive[name] / total:6.1f}% incl {100 * own[name] / total:6.1f}% self"
        print(f"{shares}  {name}")


if __name__ == "__main__":
    main()

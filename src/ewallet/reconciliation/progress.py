"""How a run reports progress: phases with a known number of steps (the CLI draws bars; a
run started from the console records them for the page to follow)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def phase(self, label: str, total: int) -> None:
        """A new phase of ``total`` steps begins."""
        ...

    def step(self) -> None:
        """One step of the current phase is done."""
        ...


class Silent:
    """No progress display (the staff API, tests)."""

    def phase(self, label: str, total: int) -> None:
        return None

    def step(self) -> None:
        return None


class Recorded:
    """Progress kept in memory for a run in the background; :mod:`.background` writes it to
    the run's row every half second, where the console (on any API process) reads it.

    The phases a run goes through: the bank's file, wallet operations missing from it, the
    PSPs' records, then the pending card operations (``phase_number`` counts them)."""

    def __init__(self) -> None:
        self.label = "starting"
        self.phase_number = 0
        self.done = 0
        self.total = 0

    def phase(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.phase_number += 1

    def step(self) -> None:
        self.done += 1

    def snapshot(self) -> dict[str, object]:
        return {
            "phase": self.label,
            "phase_number": self.phase_number,
            "done": self.done,
            "total": self.total,
        }

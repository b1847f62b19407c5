"""How a run reports progress: phases with a known number of steps (the CLI draws bars)."""

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

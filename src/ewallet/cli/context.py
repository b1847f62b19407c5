"""What every ``ewallet`` command runs on: the settings and one :class:`Services`, built once.

The root callback (:mod:`ewallet.cli.main`) puts a :class:`CliServices` on the click context.
Nothing is opened then -- ``ewallet --help``, ``ewallet serve`` and the stand-alone sandboxes
never touch the database. The first command that needs the database calls :meth:`run`: the
settings are read (development secrets filled in), the services are opened from the
composition root (:func:`ewallet.bootstrap.running_services`) on an event loop kept for the
rest of the process, and the command's coroutine runs with them. When the command ends
(normally, with ``typer.Exit``, or with an error) the services are closed and the loop with
them.

A command takes ``ctx: typer.Context`` and calls ``cli_services(ctx).run(use)``; mounted
alone on a Typer app of its own (as tests do), it gets a :class:`CliServices` all the same.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TypeVar

import typer

from ewallet.bootstrap import running_services
from ewallet.config import Settings, load_settings
from ewallet.services import Services

T = TypeVar("T")


class CliServices:
    """The process's settings and services, made on first use and closed by :meth:`close`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._runner: asyncio.Runner | None = None
        self._exits = AsyncExitStack()
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        """``EWALLET_*`` settings with development secrets filled in (read once)."""
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def run(self, use: Callable[[Services], Awaitable[T]]) -> T:
        """Run ``use(services)`` to completion on the process's loop; open services first."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self._with_services(use))

    async def _with_services(self, use: Callable[[Services], Awaitable[T]]) -> T:
        if self._services is None:
            self._services = await self._exits.enter_async_context(running_services(self.settings))
        return await use(self._services)

    def close(self) -> None:
        """Close the services (if any were opened) and the loop; safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        try:
            runner.run(self._exits.aclose())
        finally:
            self._services = None
            runner.close()


def cli_services(ctx: typer.Context) -> CliServices:
    """The :class:`CliServices` of this invocation (made here if no root callback ran)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliServices):
        root.obj = CliServices()
        root.call_on_close(root.obj.close)
    return root.obj

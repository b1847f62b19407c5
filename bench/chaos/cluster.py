"""The processes of a chaos run and the faults done to them.

Everything lives in one temporary directory and listens on 127.0.0.1 only:

- :class:`Postgres`: a throw-away cluster made with ``initdb`` (as the ``postgres`` user
  when we run as root: initdb refuses root), started, restarted and stopped with
  ``pg_ctl``. The machine's own PostgreSQL is never touched.
- :class:`Child`: one long-running command (the sandbox bank, ``ewallet serve``,
  ``ewallet worker``) in its own session, so a stop reaches its children too.
- :class:`FaultLog`: when each process or the database was down, for judging ``5xx``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when nothing listens there, else any free port."""
    if preferred is not None:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, preferred))
            except OSError:
                pass
            else:
                return preferred
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _pg_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("initdb not found (install postgresql)")
    return Path(initdb).parent


class Postgres:
    """A PostgreSQL cluster of our own in ``root/pg`` on ``port``; trust auth, loopback."""

    def __init__(self, root: Path, port: int) -> None:
        self.bindir = _pg_bindir()
        self.root = root
        self.data = root / "pg"
        self.socket_dir = root / "pg-socket"
        self.log = root / "pg.log"
        self.port = port
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(  # noqa: PLW1510 -- checked by the caller
            command, capture_output=True, text=True, timeout=timeout, cwd=self.root
        )

    def _check(self, result: subprocess.CompletedProcess[str], what: str) -> None:
        if result.returncode != 0:
            raise RuntimeError(f"{what} failed: {result.stdout[-1500:]} {result.stderr[-1500:]}")

    @property
    def options(self) -> str:
        # fsync off: a killed server keeps its WAL in the OS cache, so nothing committed is
        # lost on a restart, and the machine's disk is spared.
        return (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses={HOST} "
            "-c max_connections=200 -c fsync=off -c log_min_messages=warning"
        )

    def create(self) -> None:
        self.socket_dir.mkdir()
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._check(
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"),
            "initdb",
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self, mode: str = "immediate") -> None:
        self._pg_ctl("-m", mode, "restart")

    def _pg_ctl(self, *action: str) -> None:
        """``pg_ctl`` on this cluster with its log and options, waiting until done."""
        command = ("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self.options)
        self._check(self._run(*command, "-w", *action), f"pg_ctl {action[-1]}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    async def wait_ready(self, seconds: float = 60.0) -> None:
        """Until the server takes connections again."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                connection = await asyncpg.connect(self.url("postgres", "postgresql"), timeout=5)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL did not come back") from None
                await asyncio.sleep(0.2)
                continue
            await connection.close()
            return

    def url(self, database: str, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@{HOST}:{self.port}/{database}"

    async def create_database(self, name: str) -> None:
        connection = await asyncpg.connect(self.url("postgres", "postgresql"))
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()


class Child:
    """One command in its own session, its output in a log file; started again on demand."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL the whole process group (a crash, not a shutdown)."""
        if self.alive():
            os.killpg(self.pid, signal.SIGKILL)
            assert self.process is not None
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.process is not None
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def children(self, marker: str = "spawn_main") -> list[int]:
        """Direct children whose command line has ``marker``: uvicorn's worker processes
        (not multiprocessing's resource tracker, also a child)."""
        if not self.alive():
            return []
        found: list[int] = []
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            try:
                pids = [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
            for pid in pids:
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if marker.encode() in command:
                    found.append(pid)
        return found

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def open_connections(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` held by process ``pid`` (from /proc)."""
    inodes: set[str] = set()
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0
    for descriptor in descriptors:
        try:
            link = os.readlink(descriptor)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                count += 1
    return count


async def wait_http(
    url: str, *, child: Child | None = None, seconds: float = 90.0, ready: int = 200
) -> None:
    """Until ``url`` answers ``ready`` (the child dying first is an error)."""
    deadline = time.monotonic() + seconds
    # A loaded server may take seconds to answer: a slow answer is not a dead process.
    async with httpx.AsyncClient(timeout=10.0) as client:
        while time.monotonic() < deadline:
            if child is not None and not child.alive():
                raise RuntimeError(f"{child.name} exited: {child.tail()}")
            try:
                if (await client.get(url)).status_code == ready:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {seconds:.0f} s")


def run_cli(env: dict[str, str], *args: str, timeout: float = 600.0) -> tuple[int, str]:
    """``ewallet <args>`` to completion: exit code and output (stdout then stderr)."""
    result = subprocess.run(  # noqa: PLW1510 -- the exit code is part of the answer
        [str(BIN / "ewallet"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


@dataclass
class Window:
    """A span (seconds since the run's start) in which something was down."""

    what: str
    start: float
    end: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "start_s": round(self.start, 3),
            "end_s": None if self.end is None else round(self.end, 3),
            "down_s": None if self.end is None else round(self.end - self.start, 3),
            **self.detail,
        }


@dataclass
class FaultLog:
    """The fault windows of a run; ``grace`` seconds after each still count as down."""

    t0: float
    grace: float
    windows: list[Window] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def open(self, what: str, **detail: Any) -> Window:
        window = Window(what, self.now(), detail=dict(detail))
        self.windows.append(window)
        return window

    def close(self, window: Window) -> None:
        window.end = self.now()

    def covering(self, start: float, end: float) -> Window | None:
        """The window an attempt from ``start`` to ``end`` overlapped (with the grace)."""
        for window in self.windows:
            closes = (window.end if window.end is not None else float("inf")) + self.grace
            if start <= closes and end >= window.start:
                return window
        return None

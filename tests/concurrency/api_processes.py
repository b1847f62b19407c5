"""Real API processes for race tests: ``ewallet serve`` twice, on one PostgreSQL database.

Each process is started as an operator starts it (the ``ewallet`` command, its own
engine, its embedded worker and sandbox bank) on a port of its own, so a test can spread
its requests over both by choosing the port. The sandbox bank keeps its books in a
PostgreSQL database of its own next to the wallet's, as two processes would share it.
PostgreSQL's deadlock counter of the wallet's database is read before and after.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
READY_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def asyncpg_dsn(sqlalchemy_url: str, *, database: str | None = None) -> str:
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def deadlocks(sqlalchemy_url: str) -> int:
    """PostgreSQL's count of deadlocks detected in this URL's database (a fresh snapshot)."""
    database = make_url(sqlalchemy_url).database
    connection = await asyncpg.connect(asyncpg_dsn(sqlalchemy_url))
    try:
        value = await connection.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = $1", database
        )
    finally:
        await connection.close()
    return int(value or 0)


async def deadlocks_since(sqlalchemy_url: str, before: int, *, settle_seconds: float = 1.0) -> int:
    """The deadlock count once the stopped processes' backends have reported theirs.

    A backend sends its counters when it ends or goes idle, a moment after the event, so
    the count is read a few times before it is believed to be final.
    """
    count = await deadlocks(sqlalchemy_url)
    deadline = time.monotonic() + settle_seconds
    while count == before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        count = await deadlocks(sqlalchemy_url)
    return count


@asynccontextmanager
async def side_database(sqlalchemy_url: str, suffix: str) -> AsyncIterator[str]:
    """A fresh empty database next to this URL's (SQLAlchemy URL), dropped afterwards."""
    name = f"{make_url(sqlalchemy_url).database}_{suffix}"
    admin = await asyncpg.connect(asyncpg_dsn(sqlalchemy_url))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield make_url(sqlalchemy_url).set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(asyncpg_dsn(sqlalchemy_url))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def process_cpu_seconds(pid: int) -> float | None:
    """CPU time a process has used so far (user + system; Linux ``/proc``), or None where
    it is gone or not on this machine."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def backend_cpu(sqlalchemy_url: str, databases: Sequence[str]) -> dict[int, float]:
    """CPU used so far by each PostgreSQL backend serving these databases, by pid (empty
    where the server runs on another machine: its processes are not in this ``/proc``)."""
    connection = await asyncpg.connect(asyncpg_dsn(sqlalchemy_url))
    try:
        pids = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[]) "
            "AND pid <> pg_backend_pid()",
            list(databases),
        )
    finally:
        await connection.close()
    found = {int(row["pid"]): process_cpu_seconds(int(row["pid"])) for row in pids}
    return {pid: seconds for pid, seconds in found.items() if seconds is not None}


def machine_busy_seconds() -> float:
    """CPU time this machine's cores have spent busy since boot, all processes (``/proc/stat``:
    everything but idle and I/O wait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def backend_cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """What the backends spent between two snapshots; one born in between counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass
class ApiProcess:
    """``ewallet serve --port <port>`` in a process group of its own, stopped with SIGTERM."""

    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(BIN / "ewallet"), "serve", "--host", HOST, "--port", str(self.port)],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the API exited: {self.log.read_text()[-3000:]}")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the API did not become ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user + system; Linux ``/proc``)."""
        assert self.process is not None
        seconds = process_cpu_seconds(self.process.pid)
        assert seconds is not None, "the API process is gone"
        return seconds

    def log_lines_with(self, needle: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if needle in line]


@asynccontextmanager
async def api_processes(env: dict[str, str], logs: Path, count: int = 2) -> AsyncIterator[Any]:
    """``count`` API processes, ready; stopped (their connections closed) on the way out."""
    logs.mkdir(parents=True, exist_ok=True)
    processes = [ApiProcess(env, logs / f"api-{n}.log") for n in range(count)]
    try:
        # One after the other: each migrates first (a no-op here), then serves.
        for process in processes:
            process.start()
            await process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, JSON body


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    seconds: float
    port: int


async def burst(processes: Sequence[ApiProcess], requests: Sequence[Request]) -> list[Answer]:
    """Send every request at once, the n-th to process n mod len(processes); answers in order."""
    clients = [
        httpx.AsyncClient(
            base_url=p.base_url,
            timeout=60.0,
            limits=httpx.Limits(max_connections=len(requests), max_keepalive_connections=0),
        )
        for p in processes
    ]
    start = asyncio.Event()

    async def one(index: int, method: str, path: str, headers: dict[str, str], body: Any) -> Answer:
        which = index % len(processes)
        await start.wait()
        began = time.perf_counter()
        response = await clients[which].request(method, path, headers=headers, json=body)
        seconds = time.perf_counter() - began
        parsed = response.json() if response.content else None
        return Answer(response.status_code, parsed, seconds, processes[which].port)

    try:
        tasks = [asyncio.create_task(one(n, *request)) for n, request in enumerate(requests)]
        await asyncio.sleep(0)
        start.set()
        return list(await asyncio.gather(*tasks))
    finally:
        for client in clients:
            await client.aclose()

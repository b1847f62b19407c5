"""A small HTTP/1.1 load generator on raw asyncio streams (uvloop), for bench/api.py.

Why not httpx: on a 2-core machine that also runs the server and PostgreSQL, the load
generator's own CPU is taken from the system under test. httpx spends several times more
CPU per request than this client, which writes one pre-formatted request and parses only
the status line and ``Content-Length``. Every connection is keep-alive and serves one
request at a time, like a browser's or a cashier terminal's.

Two ways to drive a scenario:

- :func:`closed_loop`: ``clients`` connections, each sending its next request as soon as
  the previous answer arrives -- the peak throughput at that concurrency;
- :func:`open_loop`: requests *scheduled* at a fixed rate whatever the answers do, each on
  a free connection (opened on demand); latency is measured from the scheduled time, so a
  stalled server shows up in the figures instead of slowing the generator down
  (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What a scenario gives the generator for one request: method, path, headers, JSON body.
Request = tuple[str, str, dict[str, str], Any]
RequestFactory = Callable[[], Request]


class Connection:
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None
        assert self.writer is not None
        # A JSON body by default; bytes are sent as they are (the caller's Content-Type).
        raw = isinstance(body, bytes)
        payload = body if raw else (b"" if body is None else json.dumps(body).encode())
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None and not raw:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(payload)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lowered = name.strip().lower()
            if lowered == b"content-length":
                length = int(value)
            elif lowered == b"connection" and value.strip().lower() == b"close":
                close = True
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data


@dataclass
class Result:
    """What one run measured: completed requests by status, latencies of the 2xx ones."""

    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    sample_failure: str | None = None
    connections: int = 0

    @property
    def ok(self) -> int:
        return sum(count for status, count in self.statuses.items() if 200 <= status < 300)

    def record(self, status: int, body: bytes, latency: float) -> None:
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.latencies.append(latency)
        elif self.sample_failure is None:
            self.sample_failure = f"{status} {body[:300].decode(errors='replace')}"

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def percentile(share: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2)

        out: dict[str, Any] = {
            "ok_per_second": round(self.ok / self.seconds, 1),
            "requests": sum(self.statuses.values()),
            "ok": self.ok,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": percentile(0.50),
            "p99_ms": percentile(0.99),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else None,
            "connections": self.connections,
        }
        if self.errors:
            out["errors"] = dict(self.errors)
        if self.sample_failure:
            out["sample_failure"] = self.sample_failure
        return out


async def spread_connections(host: str, port: int, count: int) -> list[Connection]:
    """``count`` connections opened one by one, each used once, with a pause between.

    Uvicorn's workers share one listening socket, and a worker's event loop accepts every
    connection waiting when it wakes: opened all at once, keep-alive connections all land
    on one worker and the other idles. Opened 20 ms apart they spread over the workers
    (the kernel wakes whichever is waiting), as a load balancer's would.
    """
    connections = []
    for _ in range(count):
        connection = Connection(host, port)
        await connection.request("GET", "/healthz", {}, None)
        connections.append(connection)
        await asyncio.sleep(0.02)
    return connections


async def closed_loop(
    host: str, port: int, make: RequestFactory, *, clients: int, seconds: float, warmup: float
) -> Result:
    """``clients`` connections back to back for ``warmup`` + ``seconds``; the warm-up's
    requests are not counted."""
    pool = await spread_connections(host, port, clients)
    start = time.perf_counter()
    measure_from = start + warmup
    deadline = measure_from + seconds
    result = Result(seconds, connections=clients)

    async def client(connection: Connection) -> None:
        try:
            while (now := time.perf_counter()) < deadline:
                method, path, headers, body = make()
                try:
                    status, data = await connection.request(method, path, headers, body)
                except (OSError, asyncio.IncompleteReadError) as error:
                    result.errors[type(error).__name__] += 1
                    connection.close()
                    continue
                if now >= measure_from:
                    result.record(status, data, time.perf_counter() - now)
        finally:
            connection.close()

    await asyncio.gather(*(client(connection) for connection in pool))
    return result


async def open_loop(
    host: str, port: int, make: RequestFactory, *, rate: float, seconds: float, clients: int
) -> Result:
    """Requests scheduled every ``1/rate`` s for ``seconds``; latency from the schedule."""
    result = Result(seconds)
    idle: list[Connection] = await spread_connections(host, port, clients)
    tasks: set[asyncio.Task[None]] = set()
    opened = len(idle)

    async def one(scheduled: float) -> None:
        nonlocal opened
        if idle:
            connection = idle.pop(0)  # the longest idle: keeps every worker in use
        else:
            connection = Connection(host, port)
            opened += 1
        method, path, headers, body = make()
        try:
            status, data = await connection.request(method, path, headers, body)
        except (OSError, asyncio.IncompleteReadError) as error:
            result.errors[type(error).__name__] += 1
            connection.close()
            return
        result.record(status, data, time.perf_counter() - scheduled)
        idle.append(connection)

    start = time.perf_counter()
    total = int(rate * seconds)
    for number in range(total):
        scheduled = start + number / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    for connection in idle:
        connection.close()
    result.connections = opened
    return result

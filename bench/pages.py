"""What the page benchmarks share (bench/web.py, bench/console.py): timing prepared
requests over keep-alive connections, and the server's CPU time."""

from __future__ import annotations

import asyncio
import os
import platform
import time
from pathlib import Path
from typing import Any, Final

from sqlalchemy import text

from bench.api import HOST
from bench.load import Connection
from ewallet.kit.db.engine import make_engine

Request = tuple[str, str, dict[str, str], Any]
WARMUP: Final = 50


def machine() -> dict[str, Any]:
    """What a benchmark's JSON says about where it ran."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` and its children (Linux ``/proc``:
    the uvicorn workers of ``--workers N``), or None where that cannot be read."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for process in [pid, *map(int, children)]:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


async def analyze(url: str) -> None:
    """``ANALYZE`` the bench database once its rows are in, as ``pgbench -i`` does (and as
    autovacuum does in production): a fresh database has no statistics, and PostgreSQL
    then plans the console's queue (1,000 tickets, newest 51) as a sequential scan and a
    sort, 1.2 ms, instead of the primary key read backwards, 0.07 ms."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await engine.dispose()


async def timed(
    port: int, requests: list[Request], *, total: int, clients: int, warmup: int = WARMUP
) -> dict[str, Any]:
    """``total`` requests (after ``warmup`` more) over ``clients`` connections, taking the
    prepared ``requests`` in turn: how many, their statuses, p50 and p99 in ms."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    remaining = total + warmup

    async def worker() -> None:
        nonlocal remaining
        connection = Connection(HOST, port)
        while remaining > 0:
            remaining -= 1
            warm = remaining >= total
            method, path, headers, body = requests[remaining % len(requests)]
            started = time.perf_counter()
            status, _ = await connection.request(method, path, headers, body)
            elapsed = time.perf_counter() - started
            if not warm:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    await asyncio.gather(*(worker() for _ in range(clients)))
    ordered = sorted(latencies)

    def percentile(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 2)

    return {
        "requests": len(ordered),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    }

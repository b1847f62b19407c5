"""Watch-list benchmark: screening one name against 100,000 entries. Prints JSON.

    make bench-watchlist
    .venv/bin/python -m bench.watchlist --backends sqlite --entries 20000 --screens 500

For each database: a fresh migrated database; a CSV file of ``--entries`` fictitious names
made here (Han names from common surnames and the GB 2312 level-1 characters, Latin names
from made-up syllables, transliterated names with a middle dot; a fifth with a date of
birth) loaded by ``ewallet watchlist load``'s use case (timed: reading, normalising,
inserting); the first screening after the load (timed: the version read, reading every
entry and building the in-memory index); then ``--screens`` screenings of new random
names, each inside a unit of work as a caller runs it (the version read, the match, a
``watchlist_hits`` insert per match), and the same number of bare index matches (the CPU
cost alone); then a name screened again (the per-version memo). Percentiles in
milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from pydantic import SecretStr

from bench.ledger import fresh_database
from bench.pages import machine
from ewallet.audit.service import Actor
from ewallet.bootstrap import running_services
from ewallet.config import Settings
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.logging import configure_logging
from ewallet.risk.watchlist import repository, service
from ewallet.risk.watchlist.matcher import Screened, WatchlistIndex
from ewallet.risk.watchlist.normalise import normalise_name
from ewallet.services import Services

SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤单仇欧阳"
)
# GB 2312 level 1: the 3,755 most used characters, for given names.
GIVEN: Final = "".join(
    bytes([high, low]).decode("gb2312")
    for high in range(0xB0, 0xD8)
    for low in range(0xA1, 0xFF)
    if not (high == 0xD7 and low > 0xF9)
)
SYLLABLES: Final = (
    "ka", "lo", "mi", "ra", "sen", "tor", "vel", "an", "dru", "fen", "gal", "hos", "ir", "jun",
    "mar", "nel", "or", "pa", "quin", "ros", "sa", "tev", "ul", "val", "wen", "xa", "yor", "zel",
)  # fmt: skip


def _han_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _latin_name(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    return " ".join(word() for _ in range(rng.randint(2, 3)))


def _transliterated(rng: random.Random) -> str:
    return (
        "".join(rng.choice(GIVEN) for _ in range(4))
        + "·"
        + "".join(rng.choice(GIVEN) for _ in range(3))
    )


def make_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.85:
        return _han_name(rng)
    if roll < 0.95:
        return _latin_name(rng)
    return _transliterated(rng)


def make_csv(rng: random.Random, entries: int) -> bytes:
    lines = ["name,date_of_birth,id_number,country,reason"]
    for _ in range(entries):
        born = ""
        if rng.random() < 0.2:
            born = f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        lines.append(f"{make_name(rng)},{born},,ZZ,fictitious benchmark entry")
    return ("\n".join(lines) + "\n").encode()


def _settings(url: str, var_dir: Path) -> Settings:
    return Settings(
        database_url=url,
        var_dir=var_dir,
        secret_key=SecretStr("bench-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("bench-pin-pepper-" + "y" * 32),
        settle_interval_seconds=0,
        ledger_upkeep_interval_seconds=0,
        settlement_interval_seconds=0,
        log_json=True,
        log_level="WARNING",
    )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 3)

    return {"p50_ms": at(0.5), "p90_ms": at(0.9), "p99_ms": at(0.99), "max_ms": at(1.0)}


async def _screen_once(services: Services, name: str, number: int) -> tuple[float, int]:
    elapsed = 0.0

    async def work(uow: UnitOfWork) -> int:
        nonlocal elapsed
        started = time.perf_counter()
        found = await service.screen(
            uow,
            services,
            name=name,
            date_of_birth=None,
            subject_type="transfer",
            subject_id=f"bench_{number}",
            context="transfer",
        )
        elapsed = time.perf_counter() - started
        return len(found)

    matches = await run_unit(services.engine, work)
    return elapsed, matches


async def bench_backend(backend: str, entries: int, screens: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    content = make_csv(rng, entries)
    async with fresh_database(backend) as url:
        with tempfile.TemporaryDirectory(prefix="ewallet-bench-") as var:
            settings = _settings(url, Path(var))
            async with running_services(settings) as services:
                started = time.perf_counter()
                report = await service.load_list(
                    services,
                    Actor("system", "bench"),
                    list_name="bench",
                    file_name="bench.csv",
                    content=content,
                    replace=True,
                )
                load_seconds = time.perf_counter() - started
                started = time.perf_counter()
                await service.try_name(services, name="测试冷启动")
                first_screen_seconds = time.perf_counter() - started

                names = [make_name(rng) for _ in range(screens)]
                timings: list[float] = []
                matched = 0
                total_matches = 0
                for number, name in enumerate(names):
                    elapsed, found = await _screen_once(services, name, number)
                    timings.append(elapsed)
                    matched += found > 0
                    total_matches += found

                async with services.engine.connect() as conn:
                    index = WatchlistIndex(await repository.all_entries(conn))
                bare: list[float] = []
                for name in (make_name(rng) for _ in range(screens)):
                    screened = Screened(normalise_name(name))
                    started = time.perf_counter()
                    index.match(screened, threshold=settings.watchlist_match_threshold)
                    bare.append(time.perf_counter() - started)

                repeated: list[float] = []
                for _ in range(200):
                    elapsed, _found = await _screen_once(services, names[0], -1)
                    repeated.append(elapsed)
    return {
        "entries": report.total,
        "load_seconds": round(load_seconds, 2),
        "load_entries_per_second": round(report.total / load_seconds),
        "first_screen_seconds_index_build": round(first_screen_seconds, 2),
        "screen_in_unit": _percentiles(timings),
        "index_match_only": _percentiles(bare),
        "screen_again_memoised": _percentiles(repeated),
        "screens": screens,
        "screens_with_a_match": matched,
        "matches_per_screen": round(total_matches / screens, 2),
        "threshold": settings.watchlist_match_threshold,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"benchmark": "watchlist", "machine": machine()}
    for backend in args.backends.split(","):
        results[backend] = await bench_backend(backend, args.entries, args.screens, args.seed)
    return results


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--screens", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=15)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = _arguments()
    configure_logging(_settings("sqlite+aiosqlite://", Path(tempfile.gettempdir())))
    print(json.dumps(asyncio.run(main(arguments)), indent=2, ensure_ascii=False))

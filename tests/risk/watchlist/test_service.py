"""Loading lists, screening inside the caller's unit, the real-name screen, payees."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from ewallet.audit.service import Actor
from ewallet.identity.realname.rules import id_number_digest
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.models.tables import (
    audit_events,
    risk_alerts,
    watchlist_entries,
    watchlist_hits,
    watchlist_loads,
)
from ewallet.risk.watchlist import repository, service
from ewallet.risk.watchlist.errors import WatchlistFileError
from ewallet.risk.watchlist.views import LoadReport, WatchlistMatch
from tests.fixtures.accounts import Harness, make_id_number
from tests.risk.watchlist.conftest import HEADER, SAMPLE

CLI = Actor("system", "cli")
ID_1970 = make_id_number(born="19700101", sequence="051")


async def load(
    harness: Harness, content: bytes, *, list_name: str = "sanctions", replace: bool = False
) -> LoadReport:
    return await service.load_list(
        harness.services,
        CLI,
        list_name=list_name,
        file_name="list.csv",
        content=content,
        replace=replace,
    )


async def rows(harness: Harness, table: Any, *where: Any) -> list[Any]:
    async with harness.engine.connect() as conn:
        return list((await conn.execute(select(table).where(*where))).all())


async def count(harness: Harness, table: Any) -> int:
    async with harness.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def screen_in_unit(harness: Harness, name: str, **kw: Any) -> list[WatchlistMatch]:
    async def work(uow: UnitOfWork) -> list[WatchlistMatch]:
        return await service.screen(
            uow,
            harness.services,
            name=name,
            date_of_birth=kw.get("born"),
            subject_type="user",
            subject_id="usr_subject",
            context="realname",
        )

    return await run_unit(harness.engine, work)


async def test_load_stores_normalised_forms_and_only_a_digest(harness: Harness) -> None:
    report = await load(harness, SAMPLE.read_bytes())
    assert (report.version, report.mode, report.added, report.removed, report.total) == (
        1,
        "append",
        4,
        0,
        4,
    )
    entries = {row.name: row for row in await rows(harness, watchlist_entries)}
    assert entries["張測試"].name_han == "张测试"
    assert entries["張測試"].name_keys == "zhang ce shi"
    assert entries["Example Testperson"].name_han is None
    assert entries["测试甲"].date_of_birth == date(1970, 1, 1)
    digest = entries["Example Testperson"].id_number_digest
    assert digest == id_number_digest(harness.security.digest, "X0000001")
    assert all("X0000001" not in str(tuple(row)) for row in entries.values())
    [load_row] = await rows(harness, watchlist_loads)
    assert (load_row.list_name, load_row.loaded_by, load_row.entries_added) == (
        "sanctions",
        "system:cli",
        4,
    )
    [event] = await rows(harness, audit_events, audit_events.c.action == "watchlist.loaded")
    assert event.subject_id == "sanctions"
    assert event.details["added"] == 4
    assert event.details["version"] == 1


async def test_a_bad_file_changes_nothing(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    bad = (HEADER + "测试乙,,,,\n测试丙,1970-02-30,,,\n").encode()
    for replace in (False, True):
        with pytest.raises(WatchlistFileError) as refused:
            await load(harness, bad, replace=replace)
        assert refused.value.line == 3
    assert await count(harness, watchlist_entries) == 4
    assert await count(harness, watchlist_loads) == 1
    async with harness.engine.connect() as conn:
        assert await repository.current_version(conn) == 1


async def test_replace_swaps_one_list_and_leaves_the_others(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    await load(harness, (HEADER + "测试丁,,,,\n").encode(), list_name="pep")
    report = await load(harness, (HEADER + "测试戊,,,,\n测试己,,,,\n").encode(), replace=True)
    assert (report.version, report.added, report.removed, report.total) == (3, 2, 4, 2)
    names = sorted(row.name for row in await rows(harness, watchlist_entries))
    assert names == ["测试丁", "测试己", "测试戊"]
    # An empty file with --replace empties the list.
    emptied = await load(harness, HEADER.encode(), list_name="pep", replace=True)
    assert (emptied.removed, emptied.total) == (1, 0)


async def test_a_replace_that_fails_midway_rolls_back_whole(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await load(harness, SAMPLE.read_bytes())

    async def broken(conn: Any, values: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(repository, "insert_entries", broken)
    with pytest.raises(RuntimeError):
        await load(harness, (HEADER + "测试戊,,,,\n").encode(), replace=True)
    assert await count(harness, watchlist_entries) == 4  # the delete rolled back too
    assert await count(harness, watchlist_loads) == 1


async def test_screening_sees_each_new_version(harness: Harness) -> None:
    assert await screen_in_unit(harness, "张测试") == []
    await load(harness, SAMPLE.read_bytes())
    [match] = await screen_in_unit(harness, "张测试")  # the list has 張測試
    assert (match.entry_name, match.score, match.basis) == ("張測試", 100, "han")
    await load(harness, HEADER.encode(), replace=True)
    assert await screen_in_unit(harness, "张测试") == []


async def test_hits_are_recorded_in_the_callers_unit(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    [match] = await screen_in_unit(harness, "ZHANG Ce Shi")
    assert match.hit_id is not None
    [hit] = await rows(harness, watchlist_hits)
    assert (hit.id, hit.state, hit.context, hit.subject_id) == (
        match.hit_id,
        "open",
        "realname",
        "usr_subject",
    )
    assert (hit.list_name, hit.entry_name, hit.score, hit.basis) == (
        "sanctions",
        "張測試",
        100,
        "pinyin",
    )
    assert hit.screened_name_masked == "Z**** C* S**"
    assert "ZHANG" not in hit.screened_name_encrypted
    clear = harness.security.cipher.decrypt(
        hit.screened_name_encrypted, context=f"watchlist_hit:{hit.id}"
    )
    assert clear == "ZHANG Ce Shi"


async def test_hits_roll_back_with_the_callers_unit(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    seen: list[WatchlistMatch] = []

    async def work(uow: UnitOfWork) -> None:
        seen.extend(
            await service.screen(
                uow,
                harness.services,
                name="张测试",
                date_of_birth=None,
                subject_type="transfer",
                subject_id="trf_1",
                context="transfer",
            )
        )
        raise RuntimeError("the caller's use case failed")

    with pytest.raises(RuntimeError):
        await run_unit(harness.engine, work)
    assert len(seen) == 1
    assert await count(harness, watchlist_hits) == 0


async def test_date_of_birth_narrows_recorded_hits(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())  # 测试甲 born 1970-01-01
    assert await screen_in_unit(harness, "测试甲", born=date(1971, 1, 1)) == []
    assert len(await screen_in_unit(harness, "测试甲", born=date(1970, 1, 1))) == 1
    assert await count(harness, watchlist_hits) == 1


async def test_trying_a_name_records_nothing(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    [match] = await service.try_name(harness.services, name="Example  TESTPERSON")
    assert (match.entry_name, match.hit_id) == ("Example Testperson", None)
    assert await count(harness, watchlist_hits) == 0


async def verify(harness: Harness, name: str, number: str = ID_1970) -> Any:
    user = await harness.user(phone=f"+86138{abs(hash(name + number)) % 10**8:08d}")
    response = await harness.client.post(
        "/v1/me/identity",
        json={"real_name": name, "id_number": number},
        headers=harness.auth(user),
    )
    assert response.status_code == 200, response.text
    assert response.json()["tier"] == 2  # verified whatever the list says
    return user


async def test_real_name_verification_of_a_listed_name_raises_an_alert(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    user = await verify(harness, "测试甲")  # listed, born 1970-01-01 like the ID number says
    [hit] = await rows(harness, watchlist_hits)
    assert (hit.subject_type, hit.subject_id, hit.context) == ("user", user.id, "realname")
    [alert] = await rows(harness, risk_alerts)
    assert (alert.kind, alert.subject_type, alert.subject_id) == (
        "watchlist_match",
        "user",
        user.id,
    )
    assert alert.details == {
        "context": "realname",
        "hit_ids": [hit.id],
        "lists": ["sanctions"],
        "best_score": 100,
    }


async def test_real_name_verification_of_other_names_raises_nothing(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    await verify(harness, "王小明")  # not listed
    # Listed name, but the ID number's birth date differs from the entry's.
    await verify(harness, "测试甲", make_id_number(born="19800101", sequence="052"))
    assert await count(harness, watchlist_hits) == 0
    assert await count(harness, risk_alerts) == 0


async def test_a_listed_id_number_matches_under_another_name(harness: Harness) -> None:
    number = make_id_number(born="19850505", sequence="077")
    await load(harness, (HEADER + f"测试庚,,{number},CN,\n").encode())
    await verify(harness, "王小明", number)
    [hit] = await rows(harness, watchlist_hits)
    assert (hit.entry_name, hit.basis, hit.score) == ("测试庚", "id_number", 100)


async def test_a_transfer_payee_is_screened_by_their_verified_name(harness: Harness) -> None:
    await load(harness, SAMPLE.read_bytes())
    listed = await verify(harness, "测试甲")
    other = await harness.user(phone="+8613900000001")

    async def payee(user_id: str, reference: str) -> list[WatchlistMatch]:
        async def work(uow: UnitOfWork) -> list[WatchlistMatch]:
            return await service.screen_payee(
                uow, harness.services, payee_user_id=user_id, reference=reference
            )

        return await run_unit(harness.engine, work)

    [match] = await payee(listed.id, "trf_listed")
    assert (match.entry_name, match.score) == ("测试甲", 100)
    assert await payee(other.id, "trf_unverified") == []
    hits = await rows(harness, watchlist_hits, watchlist_hits.c.context == "transfer")
    assert [(h.subject_type, h.subject_id) for h in hits] == [("transfer", "trf_listed")]

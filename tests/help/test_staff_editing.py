"""Staff editing of help articles: revisions, audit events, conflicts, roles, the report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from ewallet.config import Settings
from ewallet.kit.clock import FrozenClock
from ewallet.security.context import SecurityContext
from tests.fixtures.staff import audit_actions, bearer, make_staff, staff_token
from tests.help.conftest import count_rows

ARTICLES = "/v1/staff/help/articles"


@pytest.fixture
async def agent(
    engine: AsyncEngine, security: SecurityContext, fast_settings: Settings, clock: FrozenClock
) -> tuple[str, dict[str, str]]:
    member = await make_staff(engine, security, clock, "support_agent")
    token = await staff_token(engine, security, fast_settings, clock, member.id)
    return member.id, bearer(token)


def new_article(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "pay-utility-bills",
        "category": "payments",
        "translations": {
            "zh-CN": {
                "title": "如何缴纳水电费",
                "body": "在「缴费」页选择缴费单位。",
                "tags": ["缴费", "水电费"],
            },
            "en": {
                "title": "Paying utility bills",
                "body": "Pick the biller on the Bills page.",
                "tags": ["bills"],
            },
        },
    }
    body.update(changes)
    return body


async def test_create_then_search_finds_it_at_once(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]], engine: AsyncEngine
) -> None:
    agent_id, headers = agent
    created = await client.post(ARTICLES, json=new_article(), headers=headers)
    assert created.status_code == 201, created.text
    article = created.json()
    assert article["translations"]["zh-CN"]["revision"] == 1
    assert article["translations"]["en"]["author_id"] == agent_id
    assert article["translations"]["en"]["source"] == "staff"
    found = await client.get("/v1/help/articles", params={"q": "水电费怎么交", "limit": 1})
    assert found.json()["items"][0]["slug"] == "pay-utility-bills"
    actions = await audit_actions(engine)
    assert actions[-1] == ("help.article_created", agent_id, article["id"])


async def test_create_needs_both_languages_and_a_free_slug(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]], engine: AsyncEngine
) -> None:
    _, headers = agent
    before = await count_rows(engine)
    audited = await audit_actions(engine)
    only_zh = new_article()
    del only_zh["translations"]["en"]
    missing = await client.post(ARTICLES, json=only_zh, headers=headers)
    assert missing.status_code == 422
    taken = await client.post(ARTICLES, json=new_article(slug="unbind-card"), headers=headers)
    assert taken.status_code == 409
    bad_slug = await client.post(ARTICLES, json=new_article(slug="Not A Slug"), headers=headers)
    assert bad_slug.status_code == 422
    assert await count_rows(engine) == before
    assert await audit_actions(engine) == audited


async def article_id(client: httpx.AsyncClient, slug: str) -> str:
    return str((await client.get(f"/v1/help/articles/{slug}")).json()["id"])


async def test_an_edit_is_a_new_revision_and_an_audit_event(
    client: httpx.AsyncClient,
    agent: tuple[str, dict[str, str]],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> None:
    agent_id, headers = agent
    ref = await article_id(client, "withdrawal-fees")
    clock.advance(timedelta(minutes=5))
    edit = {
        "translations": {
            "en": {
                "title": "Withdrawal fees explained",
                "body": "Free up to ¥20,000 in total, then 0.1 % (at least ¥0.10).",
                "tags": ["fee"],
                "base_revision": 1,
            }
        }
    }
    response = await client.put(f"{ARTICLES}/{ref}", json=edit, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["translations"]["en"]["revision"] == 2
    assert response.json()["translations"]["zh-CN"]["revision"] == 1  # untouched language

    public = await client.get("/v1/help/articles/withdrawal-fees", params={"locale": "en"})
    assert public.json()["title"] == "Withdrawal fees explained"
    assert public.json()["revision"] == 2

    history = (await client.get(f"{ARTICLES}/{ref}/revisions", headers=headers)).json()
    english = [item for item in history["items"] if item["locale"] == "en"]
    assert [(i["revision"], i["source"], i["author_id"]) for i in english] == [
        (2, "staff", agent_id),
        (1, "defaults", None),
    ]
    assert english[0]["created_at"] > english[1]["created_at"]
    assert (await audit_actions(engine))[-1] == ("help.article_updated", agent_id, ref)


async def test_a_stale_edit_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]], engine: AsyncEngine
) -> None:
    _, headers = agent
    ref = await article_id(client, "unbind-card")
    text = {"title": "Unlinking a card", "body": "New text.", "tags": [], "base_revision": 0}
    before = await count_rows(engine)
    audited = await audit_actions(engine)
    stale = await client.put(
        f"{ARTICLES}/{ref}", json={"translations": {"en": text}}, headers=headers
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "conflict"
    missing = await client.put(f"{ARTICLES}/hlp_nope", json={}, headers=headers)
    assert missing.status_code == 404
    assert await count_rows(engine) == before
    assert await audit_actions(engine) == audited


async def test_an_edit_that_changes_nothing_records_nothing(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]], engine: AsyncEngine
) -> None:
    _, headers = agent
    current = (await client.get("/v1/help/articles/unbind-card", params={"locale": "en"})).json()
    same = {"title": current["title"], "body": current["body"], "tags": current["tags"]}
    before = await count_rows(engine)
    audited = await audit_actions(engine)
    response = await client.put(
        f"{ARTICLES}/{current['id']}",
        json={"category": "cards", "translations": {"en": same}},
        headers=headers,
    )
    assert response.status_code == 200
    assert await count_rows(engine) == before
    assert await audit_actions(engine) == audited


async def test_hiding_an_article_takes_it_out_of_public_search(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]]
) -> None:
    _, headers = agent
    ref = await article_id(client, "refunds")
    hidden = await client.put(f"{ARTICLES}/{ref}", json={"status": "hidden"}, headers=headers)
    assert hidden.json()["status"] == "hidden"
    assert (await client.get("/v1/help/articles/refunds")).status_code == 404
    found = await client.get("/v1/help/articles", params={"q": "退款什么时候到"})
    assert "refunds" not in [item["slug"] for item in found.json()["items"]]
    staff_list = (await client.get(ARTICLES, headers=headers)).json()["items"]
    assert {"refunds": "hidden"}.items() <= {a["slug"]: a["status"] for a in staff_list}.items()


async def test_feedback_report_worst_first(
    client: httpx.AsyncClient, agent: tuple[str, dict[str, str]]
) -> None:
    _, headers = agent
    votes = {
        "unbind-card": [True, True, False],
        "withdrawal-fees": [False, False, True],
        "maintenance": [True],
    }
    for slug, answers in votes.items():
        for helpful in answers:
            response = await client.post(
                f"/v1/help/articles/{slug}/feedback", json={"helpful": helpful}
            )
            assert response.status_code == 204
    report = await client.get(
        "/v1/staff/help/feedback-report", params={"locale": "en"}, headers=headers
    )
    rows = report.json()["items"]
    assert [(r["slug"], r["helpful"], r["not_helpful"]) for r in rows[:3]] == [
        ("withdrawal-fees", 1, 2),
        ("unbind-card", 2, 1),
        ("maintenance", 1, 0),
    ]
    assert rows[0]["title"] == "Withdrawal fees"
    assert rows[0]["helpful_ratio"] == pytest.approx(1 / 3, abs=1e-4)
    assert rows[3]["total"] == 0
    assert rows[3]["helpful_ratio"] is None


async def test_customers_other_roles_and_no_token_are_refused(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    security: SecurityContext,
    fast_settings: Settings,
    clock: FrozenClock,
) -> None:
    before = await count_rows(engine)
    customer = security.tokens.issue(
        subject="usr_1", session_id="ses_1", kind="user", now=clock.now(), ttl=timedelta(hours=1)
    )
    teller = await make_staff(engine, security, clock, "teller")
    teller_token = await staff_token(engine, security, fast_settings, clock, teller.id)
    for headers, status in (({}, 401), (bearer(customer), 401), (bearer(teller_token), 403)):
        assert (await client.get(ARTICLES, headers=headers)).status_code == status
        created = await client.post(ARTICLES, json=new_article(), headers=headers)
        assert created.status_code == status
        report = await client.get("/v1/staff/help/feedback-report", headers=headers)
        assert report.status_code == status
    assert await count_rows(engine) == before

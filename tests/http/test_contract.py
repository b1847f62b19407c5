"""The API keeps the contract its OpenAPI document states: schemathesis against every operation.

Each operation of ``/openapi.json`` gets a few generated requests, valid and invalid, once
without credentials and once with a registered user's token, in process over ASGI on a
migrated SQLite database. Every answer must have a status the operation documents, a
documented content type, a body that matches the documented schema, and never be a 5xx.

Bounded so it stays a test (about a minute and a half on two busy cores): few examples per
operation, derandomized (the same requests every run), no shrinking, no example database
(nothing is written into the repository). ``EWALLET_CONTRACT_EXAMPLES=50`` makes a longer
hunt locally.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import hypothesis
import hypothesis.configuration
import pytest
import schemathesis
from fastapi import FastAPI
from pydantic import SecretStr
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ewallet.app import create_app
from ewallet.config import Settings
from ewallet.identity.runtime import no_delay

EXAMPLES = int(os.environ.get("EWALLET_CONTRACT_EXAMPLES", "4"))
PHONE = "13912345678"
E164 = "+8613912345678"
PASSWORD = "contract test passphrase"
PIN = "258036"
Operation = APIOperation[Any, Any, Any, Any]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SIGN_OUT = "DELETE /v1/sessions/current"
# Explicit, so no schemathesis.toml of the working directory is read.
CONFIG = schemathesis.Config.from_dict({"cache": {"enabled": False}})


@pytest.fixture(scope="module")
def contract_app(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    """One app for the module, on its own copy of the migrated SQLite database.

    Schemathesis runs the app's lifespan on an event loop thread of its own; it is ended here.
    """
    folder = tmp_path_factory.mktemp("contract")
    database = folder / "ewallet.db"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{database}",
        var_dir=folder / "var",
        secret_key=SecretStr("test-secret-key-" + "x" * 32),
        pin_pepper=SecretStr("test-pin-pepper-" + "y" * 32),
        argon2_time_cost=1,
        argon2_memory_kib=8 * 1024,
        outbox_poll_seconds=0.05,
        settle_interval_seconds=0,
        ledger_upkeep_interval_seconds=0,
    )
    app = create_app(settings)
    app.state.login_delay = no_delay
    app.state.contract_database = database
    # Hypothesis keeps caches (constants, Unicode tables) under .hypothesis/: not in the tree.
    home = getattr(hypothesis.configuration, "__hypothesis_home_directory", None)
    hypothesis.configuration.set_hypothesis_home_dir(folder / "hypothesis")
    try:
        yield app
    finally:
        asgi.shutdown_lifespans()
        hypothesis.configuration.set_hypothesis_home_dir(home)


def _texted_code(database: Path, recipient: str, timeout: float = 15.0) -> str:
    """The last code the embedded outbox relay texted to ``recipient``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(database) as connection:
            row = connection.execute(
                "SELECT code FROM sms_messages WHERE recipient = ? AND code IS NOT NULL "
                "ORDER BY id DESC LIMIT 1",
                (recipient,),
            ).fetchone()
        if row is not None:
            return str(row[0])
        time.sleep(0.05)
    raise AssertionError(f"no code was texted to {recipient}")


@pytest.fixture(scope="module")
def user_token(contract_app: FastAPI) -> str:
    """A user registered through the API itself, with a payment password set."""
    with asgi.get_client(cast(Any, contract_app)) as client:
        asked = client.post("/v1/verification-codes", json={"phone": PHONE, "purpose": "register"})
        assert asked.status_code == 202, asked.text
        code = _texted_code(contract_app.state.contract_database, E164)
        created = client.post(
            "/v1/users",
            json={"phone": PHONE, "verification_code": code, "login_password": PASSWORD},
        )
        assert created.status_code == 201, created.text
        token = str(created.json()["tokens"]["access_token"])
        pin = client.put(
            "/v1/me/payment-password",
            json={"payment_password": PIN},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert pin.status_code == 204, pin.text
    return token


@pytest.fixture(scope="module")
def operations(contract_app: FastAPI) -> list[Operation]:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", contract_app, config=CONFIG)
    found: list[Operation] = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result  # schemathesis could read the operation
        found.append(result.ok())
    return found


def run_operation(operation: Operation, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Send ``EXAMPLES`` generated requests; the failures found, one line each."""
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same requests on every run
        database=None,  # nothing saved under .hypothesis/
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # no shrinking
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Case[Operation]) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except FailureGroup as group:
            failures.append(f"{operation.label} ({mode}): {group}")

    try:
        send()
    except hypothesis.errors.Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no parameters, no body
    return failures


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_operation_answers_as_documented(
    operations: list[Operation], signed_in: bool, request: pytest.FixtureRequest
) -> None:
    headers: dict[str, str] = {}
    if signed_in:
        token = request.getfixturevalue("user_token")
        headers["Authorization"] = f"Bearer {token}"
    failures: list[str] = []
    for operation in operations:
        # Signing out would end the session every later request uses; anonymous covers it.
        if signed_in and operation.label == SIGN_OUT:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures.extend(run_operation(operation, mode, headers))
    assert not failures, f"{len(failures)} failing requests:\n\n" + "\n\n".join(failures)

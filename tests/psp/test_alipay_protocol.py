"""Alipay RSA2 signing and notify verification, checked against ``python-alipay-sdk``.

The SDK's public ``AliPay`` methods used here: ``sign_data(data)`` (signs the sorted
``k=v`` text of ``data`` and returns the URL-encoded query with ``sign``), ``client_api``
(builds and signs a whole request) and ``verify(data, signature)`` (drops ``sign_type``,
verifies the rest). PKCS#1 v1.5 signatures are deterministic, so our signature of the same
text must be byte-for-byte the SDK's.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
from alipay import AliPay
from cryptography.hazmat.primitives import serialization

from ewallet.integrations.psp import PaymentStatus, SignatureInvalidError, alipay_ack
from ewallet.integrations.psp import alipay as protocol
from ewallet.integrations.psp.keys import (
    load_private_key,
    load_public_key,
    private_key_pem,
    public_key_pem,
)
from ewallet.kit.money import Money
from tests.psp.conftest import APP_ID, Keys


def sdk(keys: Keys, *, app_key_of: str = "app", public_of: str = "platform") -> AliPay:
    """The SDK as a merchant app (our app key, Alipay's public key), or turned around."""
    private = keys.alipay_app if app_key_of == "app" else keys.alipay_platform
    public = keys.alipay_platform if public_of == "platform" else keys.alipay_app
    return AliPay(
        appid=APP_ID,
        app_private_key_string=private_key_pem(private),
        alipay_public_key_string=public_key_pem(public.public_key()),
        sign_type="RSA2",
    )


def notify_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "notify_time": "2026-03-01 12:00:05",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": APP_ID,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026030122001400000000000001",
        "out_trade_no": "tu_01jqexample0000000000000",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.88",
        "receipt_amount": "88.88",
        "subject": "钱包充值 top-up",
        "gmt_create": "2026-03-01 11:59:50",
        "gmt_payment": "2026-03-01 12:00:01",
        "seller_id": "2088000000000001",
        "buyer_id": "2088000000000002",
        "fund_bill_list": '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]',
        "refund_fee": "",
    }
    fields.update(overrides)
    return fields


def sdk_signed_notify(keys: Keys, **overrides: str) -> dict[str, str]:
    """A notify signed by the SDK, playing Alipay (its key is the platform's)."""
    fields = notify_fields(**overrides)
    query = sdk(keys, app_key_of="platform").sign_data(dict(fields))
    signature = dict(parse_qsl(query, keep_blank_values=True))["sign"]
    return {**fields, "sign": signature, "sign_type": "RSA2"}


def test_request_signature_is_the_sdks(keys: Keys) -> None:
    biz = {"out_trade_no": "tu_1", "total_amount": "0.01", "subject": "充值"}
    ours = protocol.build_request(
        app_id=APP_ID,
        method="alipay.trade.precreate",
        biz_content=biz,
        private_key=keys.alipay_app,
        now=datetime(2026, 3, 1, 4, 0, tzinfo=UTC),
        notify_url="https://wallet.example/v1/callbacks/alipay",
    )
    assert ours["timestamp"] == "2026-03-01 12:00:00"  # Beijing wall clock
    unsigned = {k: v for k, v in ours.items() if k != "sign"}
    theirs = dict(parse_qsl(sdk(keys).sign_data(unsigned)))
    assert ours["sign"] == theirs["sign"]


def test_sdk_built_request_verifies_with_ours(keys: Keys) -> None:
    query = sdk(keys).client_api(
        "alipay.trade.page.pay",
        biz_content={"out_trade_no": "tu_2", "total_amount": "12.30", "subject": "s"},
        notify_url="https://wallet.example/n",
    )
    params = dict(parse_qsl(query))
    assert protocol.verify_request(params, keys.alipay_app.public_key())
    params["biz_content"] = params["biz_content"].replace("12.30", "12.31")
    assert not protocol.verify_request(params, keys.alipay_app.public_key())


def test_sdk_signed_notify_verifies_and_reads(keys: Keys) -> None:
    form = sdk_signed_notify(keys)
    notice = protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)
    assert notice.psp == "alipay"
    assert notice.out_trade_no == "tu_01jqexample0000000000000"
    assert notice.trade_no == "2026030122001400000000000001"
    assert (notice.amount_fen, notice.currency) == (8888, "CNY")
    assert notice.amount == Money(8888, "CNY")
    assert notice.status is PaymentStatus.SUCCEEDED
    assert notice.psp_status == "TRADE_SUCCESS"
    assert notice.paid_at == datetime(2026, 3, 1, 4, 0, 1, tzinfo=UTC)


def test_our_notify_verifies_with_the_sdk(keys: Keys) -> None:
    form = protocol.sign_notify(notify_fields(), keys.alipay_platform)
    assert form["sign_type"] == "RSA2"
    data = {k: v for k, v in form.items() if k != "sign"}
    assert sdk(keys).verify(data, form["sign"]) is True
    data["total_amount"] = "0.01"
    assert sdk(keys).verify(data, form["sign"]) is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_amount", "8888.00"),
        ("trade_status", "TRADE_FINISHED"),
        ("out_trade_no", "tu_someone_else"),
        ("gmt_payment", "2026-03-01 12:00:02"),
        ("refund_fee", "1.00"),  # an empty value is signed too
    ],
)
def test_a_tampered_field_is_refused(keys: Keys, field: str, value: str) -> None:
    form = sdk_signed_notify(keys)
    form[field] = value
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)


@pytest.mark.parametrize("field", ["buyer_id", "fund_bill_list", "gmt_payment", "total_amount"])
def test_a_removed_field_is_refused(keys: Keys, field: str) -> None:
    form = sdk_signed_notify(keys)
    del form[field]
    with pytest.raises(SignatureInvalidError):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)


def test_an_added_field_is_refused(keys: Keys) -> None:
    form = sdk_signed_notify(keys)
    form["passback_params"] = "credit-twice"
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)


def test_a_notify_signed_with_another_key_is_refused(keys: Keys) -> None:
    fields = notify_fields()
    form = protocol.sign_notify(fields, keys.stranger)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)
    # ... and a genuine one does not verify with a wrong public key either.
    genuine = sdk_signed_notify(keys)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_alipay_notify(genuine, keys.stranger.public_key(), app_id=APP_ID)


def test_a_notify_for_another_app_is_refused(keys: Keys) -> None:
    form = sdk_signed_notify(keys, app_id="2021000000009999")  # genuinely signed
    with pytest.raises(SignatureInvalidError, match="for app 2021000000009999"):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)


def test_a_notify_for_another_seller_is_refused_when_asked(keys: Keys) -> None:
    form = sdk_signed_notify(keys)
    public = keys.alipay_platform.public_key()
    protocol.verify_alipay_notify(form, public, app_id=APP_ID, seller_id="2088000000000001")
    with pytest.raises(SignatureInvalidError, match="another seller"):
        protocol.verify_alipay_notify(form, public, app_id=APP_ID, seller_id="2088000000000777")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"sign": ""}, "without sign"),
        ({"sign": "not base64!"}, "does not verify"),
        ({"sign_type": "RSA"}, "not RSA2"),
    ],
)
def test_a_bad_sign_field_is_refused(keys: Keys, change: dict[str, str], match: str) -> None:
    form = sdk_signed_notify(keys) | change
    with pytest.raises(SignatureInvalidError, match=match):
        protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)


def test_ensure_amount_refuses_another_amount_or_currency(keys: Keys) -> None:
    form = sdk_signed_notify(keys)
    notice = protocol.verify_alipay_notify(form, keys.alipay_platform.public_key(), app_id=APP_ID)
    notice.ensure_amount(Money(8888, "CNY"))
    with pytest.raises(SignatureInvalidError, match=r"the order is 88\.89 CNY"):
        notice.ensure_amount(Money(8889, "CNY"))
    with pytest.raises(SignatureInvalidError):
        notice.ensure_amount(Money(8888, "HKD"))


def test_statuses_map_and_unpaid_has_no_paid_at(keys: Keys) -> None:
    public = keys.alipay_platform.public_key()
    waiting = sdk_signed_notify(keys, trade_status="WAIT_BUYER_PAY", gmt_payment="")
    notice = protocol.verify_alipay_notify(waiting, public, app_id=APP_ID)
    assert (notice.status, notice.paid_at) == (PaymentStatus.PENDING, None)
    refunded = sdk_signed_notify(keys, trade_status="TRADE_CLOSED", refund_fee="88.88")
    assert protocol.verify_alipay_notify(refunded, public, app_id=APP_ID).status == "refunded"
    unknown = sdk_signed_notify(keys, trade_status="TRADE_PENDING_FOREVER")
    with pytest.raises(SignatureInvalidError, match="cannot be read"):
        protocol.verify_alipay_notify(unknown, public, app_id=APP_ID)


def test_signed_answers_round_trip_and_tampering_is_caught(keys: Keys) -> None:
    method = "alipay.trade.query"
    payload = {"code": "10000", "msg": "Success", "total_amount": "1.00", "subject": "充值"}
    body = protocol.signed_response_body(method, payload, keys.alipay_platform)
    public = keys.alipay_platform.public_key()
    assert protocol.verify_response(body, method, public) == payload
    # Alipay's own spacing is kept: the signature is over the exact text.
    spaced = body.replace('{"alipay', '{ "alipay', 1).replace('_response":', '_response" : ', 1)
    assert protocol.verify_response(spaced, method, public) == payload
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_response(body.replace("1.00", "9.00"), method, public)
    with pytest.raises(SignatureInvalidError, match="without"):
        protocol.verify_response(body, "alipay.trade.precreate", public)
    unsigned = body.split(',"sign"')[0] + "}"
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_response(unsigned, method, public)


def test_public_keys_load_as_alipay_shows_them(keys: Keys) -> None:
    pem = public_key_pem(keys.alipay_platform.public_key())
    bare = "".join(line for line in pem.splitlines() if "-----" not in line)
    assert (
        load_public_key(bare).public_numbers() == keys.alipay_platform.public_key().public_numbers()
    )
    assert base64.b64decode(bare)  # the console's form: one base64 line, no armour
    with pytest.raises(ValueError, match="not PEM"):
        load_public_key("definitely not a key")


@pytest.mark.parametrize(
    "form", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL]
)
def test_private_keys_load_as_pem_or_bare_base64(
    keys: Keys, form: serialization.PrivateFormat
) -> None:
    key = keys.alipay_app
    none = serialization.NoEncryption()
    pem = key.private_bytes(serialization.Encoding.PEM, form, none)
    der = key.private_bytes(serialization.Encoding.DER, form, none)
    for text in (pem.decode(), base64.b64encode(der).decode()):
        assert load_private_key(text).private_numbers() == key.private_numbers()


def test_ack_is_plain_success_or_fail() -> None:
    accepted, refused = alipay_ack(accepted=True), alipay_ack(accepted=False)
    assert (accepted.status_code, accepted.body) == (200, b"success")
    assert (refused.status_code, refused.body) == (200, b"fail")
    assert accepted.media_type == "text/plain"

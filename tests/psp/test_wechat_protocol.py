"""WeChat Pay v3 signatures and notification decryption, checked against ``wechatpayv3``.

The package's functions used here: ``utils.build_authorization`` (the merchant's
``Authorization`` header), ``utils.rsa_sign`` / ``utils.rsa_verify`` (SHA256withRSA over
``TIMESTAMP\\nNONCE\\nBODY\\n``), ``utils.aes_decrypt`` (AEAD_AES_256_GCM resource),
``utils.load_private_key``, and ``WeChatPay(...).callback(headers, body)`` (verify and
decrypt a notification, in the "WeChat Pay public key" mode, so nothing is downloaded).
The package has no encrypting function: where a notification must come from the reference
side, it is encrypted with ``cryptography``'s AESGCM, the primitive the spec names.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3 import WeChatPay, WeChatPayType, utils

from ewallet.integrations.psp import (
    PaymentNotice,
    PaymentStatus,
    SignatureInvalidError,
    wechat_ack,
)
from ewallet.integrations.psp import wechat_pay as protocol
from ewallet.integrations.psp.keys import private_key_pem, public_key_pem
from ewallet.kit.clock import FrozenClock
from ewallet.sandbox.psp import WechatPaySandbox
from ewallet.sandbox.psp.wechat_pay import SandboxOrder
from tests.psp.conftest import (
    API_V3_KEY,
    APPID,
    MCHID,
    MERCHANT_SERIAL,
    PLATFORM_KEY_ID,
    START,
    Keys,
    wechat_sandbox_credentials,
)

TRANSACTION: dict[str, object] = {
    "appid": APPID,
    "mchid": MCHID,
    "out_trade_no": "tu_01jqexample0000000000000",
    "transaction_id": "4200002026030100000000000001",
    "trade_type": "NATIVE",
    "trade_state": "SUCCESS",
    "trade_state_desc": "支付成功",
    "bank_type": "OTHERS",
    "success_time": "2026-03-01T12:00:01+08:00",
    "payer": {"openid": "o-payer"},
    "amount": {"total": 8888, "payer_total": 8888, "currency": "CNY", "payer_currency": "CNY"},
}


def reference_client(keys: Keys) -> WeChatPay:
    """The package as a merchant would configure it, with the platform's public key."""
    return WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,
        mchid=MCHID,
        private_key=private_key_pem(keys.wechat_merchant),
        cert_serial_no=MERCHANT_SERIAL,
        appid=APPID,
        apiv3_key=API_V3_KEY,
        notify_url="https://wallet.example/v1/callbacks/wechat-pay",
        public_key=public_key_pem(keys.wechat_platform.public_key()),
        public_key_id=PLATFORM_KEY_ID,
    )


def reference_notification(
    keys: Keys, clock: FrozenClock, transaction: dict[str, object] | None = None
) -> tuple[dict[str, str], bytes]:
    """A notification made with the reference primitives (AESGCM + ``utils.rsa_sign``)."""
    nonce = "A1b2C3d4E5f6"
    sealed = AESGCM(API_V3_KEY.encode()).encrypt(
        nonce.encode(), json.dumps(transaction or TRANSACTION).encode(), b"transaction"
    )
    envelope = {
        "id": "EV-2026030100000001",
        "create_time": "2026-03-01T12:00:05+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": base64.b64encode(sealed).decode(),
            "associated_data": "transaction",
            "nonce": nonce,
        },
    }
    body = json.dumps(envelope, ensure_ascii=False)
    timestamp, header_nonce = str(int(clock.now().timestamp())), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
    signature = utils.rsa_sign(keys.wechat_platform, f"{timestamp}\n{header_nonce}\n{body}\n")
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": PLATFORM_KEY_ID,
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body.encode()


def verify(
    keys: Keys,
    clock: FrozenClock,
    headers: dict[str, str],
    body: bytes,
    *,
    api_v3_key: str = API_V3_KEY,
    mchid: str = MCHID,
    platform_serial: str = PLATFORM_KEY_ID,
) -> PaymentNotice:
    return protocol.verify_wechat_notify(
        headers,
        body,
        keys.wechat_platform.public_key(),
        api_v3_key,
        clock=clock,
        mchid=mchid,
        appid=APPID,
        platform_serial=platform_serial,
    )


def test_authorization_header_is_the_references(keys: Keys) -> None:
    body = json.dumps({"appid": APPID, "mchid": MCHID, "amount": {"total": 1}})
    path = "/v3/pay/transactions/native"
    theirs = utils.build_authorization(
        path, "POST", MCHID, MERCHANT_SERIAL, keys.wechat_merchant, data=body, nonce_str="N0NCE"
    )
    timestamp = protocol.parse_authorization(theirs).timestamp
    ours = protocol.authorization_header(
        method="POST",
        url=path,
        body=body.encode(),
        mchid=MCHID,
        serial_no=MERCHANT_SERIAL,
        private_key=keys.wechat_merchant,
        now=datetime.fromtimestamp(int(timestamp), UTC),
        nonce="N0NCE",
    )
    assert ours == theirs


def test_reference_authorization_verifies_with_ours(keys: Keys) -> None:
    url = "/v3/pay/transactions/out-trade-no/tu_1?mchid=" + MCHID
    header = utils.build_authorization(url, "GET", MCHID, MERCHANT_SERIAL, keys.wechat_merchant)
    signed_at = datetime.fromtimestamp(int(protocol.parse_authorization(header).timestamp), UTC)
    public = keys.wechat_merchant.public_key()
    auth = protocol.verify_authorization(
        header, method="GET", url=url, body=b"", public_key=public, now=signed_at
    )
    assert (auth.mchid, auth.serial_no) == (MCHID, MERCHANT_SERIAL)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        protocol.verify_authorization(
            header, method="GET", url=url + "0", body=b"", public_key=public, now=signed_at
        )
    later = signed_at + timedelta(minutes=5, seconds=1)
    with pytest.raises(SignatureInvalidError, match="stale"):
        protocol.verify_authorization(
            header, method="GET", url=url, body=b"", public_key=public, now=later
        )
    with pytest.raises(SignatureInvalidError, match="schema"):
        protocol.parse_authorization("Bearer x")


async def test_sandbox_notification_is_accepted_by_the_reference(
    keys: Keys, clock: FrozenClock, wechat_sandbox: WechatPaySandbox
) -> None:
    order = sandbox_order(wechat_sandbox, keys)
    outgoing = wechat_sandbox.notification(order)
    headers, body = outgoing.headers, outgoing.content
    # The reference's own pieces: the signature, then the resource.
    assert utils.rsa_verify(
        headers["Wechatpay-Timestamp"],
        headers["Wechatpay-Nonce"],
        body.decode(),
        headers["Wechatpay-Signature"],
        keys.wechat_platform.public_key(),
    )
    resource = json.loads(body)["resource"]
    plain = utils.aes_decrypt(
        resource["nonce"], resource["ciphertext"], resource["associated_data"], API_V3_KEY
    )
    assert json.loads(plain)["out_trade_no"] == "tu_sandbox_0001"
    # And its whole callback handling, as a merchant using the package would.
    result = reference_client(keys).callback(headers, body)
    assert result["event_type"] == "TRANSACTION.SUCCESS"
    assert result["resource"]["amount"] == {
        "total": 1230,
        "currency": "CNY",
        "payer_total": 1230,
        "payer_currency": "CNY",
    }
    assert result["resource"]["trade_state"] == "SUCCESS"
    # Ours reads the same notification.
    notice = verify(keys, clock, headers, body)
    assert (notice.out_trade_no, notice.amount_fen, notice.status) == (
        "tu_sandbox_0001",
        1230,
        PaymentStatus.SUCCEEDED,
    )
    assert notice.paid_at == clock.now()


def test_reference_notification_verifies_with_ours(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock)
    notice = verify(keys, clock, headers, body)
    assert notice.psp == "wechat_pay"
    assert notice.trade_no == "4200002026030100000000000001"
    assert (notice.amount_fen, notice.currency) == (8888, "CNY")
    assert notice.paid_at == datetime(2026, 3, 1, 4, 0, 1, tzinfo=UTC)
    # Header names arrive in any case (HTTP/2, proxies).
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify(keys, clock, lower, body) == notice


def test_tampered_ciphertext_is_refused(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock)
    envelope = json.loads(body)
    sealed = bytearray(base64.b64decode(envelope["resource"]["ciphertext"]))
    sealed[3] ^= 0x01
    envelope["resource"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    tampered = json.dumps(envelope, ensure_ascii=False).encode()
    resigned = resign(keys, clock, tampered)  # even correctly signed, the tag catches it
    with pytest.raises(SignatureInvalidError, match="does not decrypt"):
        verify(keys, clock, resigned, tampered)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        verify(keys, clock, headers, tampered)


def test_wrong_api_v3_key_is_refused(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock)
    with pytest.raises(SignatureInvalidError, match="does not decrypt"):
        verify(keys, clock, headers, body, api_v3_key="X" * 32)


def test_wrong_signature_is_refused(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock)
    forged = resign(keys, clock, body, key=keys.stranger)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        verify(keys, clock, forged, body)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        verify(keys, clock, headers | {"Wechatpay-Nonce": "another"}, body)
    without = {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}
    with pytest.raises(SignatureInvalidError, match="no wechatpay-signature"):
        verify(keys, clock, without, body)


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), timedelta(minutes=-6)])
def test_stale_timestamp_is_refused(keys: Keys, offset: timedelta) -> None:
    signing_clock = FrozenClock(START)
    headers, body = reference_notification(keys, signing_clock)
    receiving_clock = FrozenClock(START + offset)
    with pytest.raises(SignatureInvalidError, match="stale"):
        verify(keys, receiving_clock, headers, body)
    receiving_clock.set(START + timedelta(minutes=4, seconds=59))
    verify(keys, receiving_clock, headers, body)


def test_unknown_key_serial_is_refused(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock)
    with pytest.raises(SignatureInvalidError, match="we know PUB_KEY_ID_OTHER"):
        verify(keys, clock, headers, body, platform_serial="PUB_KEY_ID_OTHER")


def test_another_merchants_transaction_is_refused(keys: Keys, clock: FrozenClock) -> None:
    headers, body = reference_notification(keys, clock, TRANSACTION | {"mchid": "1900000999"})
    with pytest.raises(SignatureInvalidError, match="another merchant"):
        verify(keys, clock, headers, body)
    headers, body = reference_notification(keys, clock, TRANSACTION | {"appid": "wx_other"})
    with pytest.raises(SignatureInvalidError, match="another app"):
        verify(keys, clock, headers, body)


@pytest.mark.parametrize(
    "amount",
    [{"total": "8888", "currency": "CNY"}, {"total": 0}, {"total": True}, {"currency": "CNY"}],
)
def test_unreadable_amount_is_refused(
    keys: Keys, clock: FrozenClock, amount: dict[str, object]
) -> None:
    headers, body = reference_notification(keys, clock, TRANSACTION | {"amount": amount})
    with pytest.raises(SignatureInvalidError, match="cannot be read"):
        verify(keys, clock, headers, body)


def test_ack_follows_the_v3_convention() -> None:
    accepted = wechat_ack(accepted=True)
    assert (accepted.status_code, accepted.body) == (204, b"")
    refused = wechat_ack(accepted=False, status_code=401, message="signature_invalid")
    assert refused.status_code == 401
    assert json.loads(bytes(refused.body)) == {"code": "FAIL", "message": "signature_invalid"}
    assert wechat_ack(accepted=False).status_code == 500


def resign(
    keys: Keys, clock: FrozenClock, body: bytes, *, key: rsa.RSAPrivateKey | None = None
) -> dict[str, str]:
    return protocol.signed_headers(
        body, private_key=key or keys.wechat_platform, serial=PLATFORM_KEY_ID, now=clock.now()
    )


def sandbox_order(sandbox: WechatPaySandbox, keys: Keys) -> SandboxOrder:
    """A paid order, made without the HTTP API (that is test_sandboxes' business)."""
    merchant = wechat_sandbox_credentials(keys).merchants[MCHID]
    order = SandboxOrder(
        merchant=merchant,
        out_trade_no="tu_sandbox_0001",
        description="top-up",
        total=1230,
        currency="CNY",
        notify_url="http://wallet.test/callbacks/wechat-pay",
        code_url="http://wechat.test/pay/tu_sandbox_0001",
        trade_state="SUCCESS",
        transaction_id="4200000000000000000000000001",
        success_time=START,
    )
    sandbox.orders[order.out_trade_no] = order
    return order

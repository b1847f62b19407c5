"""Sending SMS verification codes (``POST /v1/verification-codes``) without telling who has
an account.

The answer is the same ``202 {expires_in, resend_after}`` for every well-formed phone and
every purpose, and the work behind it is the same too: the same rate limits are charged, the
same account lookup runs, a code row is always written. Only whether the SMS leaves differs,
and only where sending would be useless or harmful:

* ``register`` and ``change_phone`` always send -- the code is how the phone's owner proves
  it, and proving a ``register`` code for a taken phone then answers
  ``phone_already_registered`` to that owner alone (DESIGN.md);
* ``login``, ``reset_*``, ``step_up`` and ``freeze`` send only to a phone with an account: a
  stranger's phone gets nothing, so the endpoint cannot be used to text arbitrary people
  "your sign-in code", and the caller cannot tell (the unused code row expires unseen).

The SMS and the code row commit in one transaction (outbox event ``sms.send`` with a ``code``
member); the embedded relay or ``ewallet worker`` sends it after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from ewallet.identity import users_repository
from ewallet.identity.codes import IssuedCode, Purpose, issue_code
from ewallet.identity.runtime import Caller, IdentityRuntime
from ewallet.identity.throttles import code_limits
from ewallet.kit.clock import Clock
from ewallet.kit.db.uow import UnitOfWork, run_unit
from ewallet.kit.i18n import EN, Locale, Text
from ewallet.kit.phone import parse_phone
from ewallet.models.identity import User
from ewallet.notify.service import SMS_TOPIC, user_locale
from ewallet.notify.templates import SENDER, with_anti_phishing
from ewallet.worker.outbox import enqueue

# Codes that prove a phone nobody has yet: always sent.
SENT_TO_ANY_PHONE: Final = frozenset({Purpose.REGISTER, Purpose.CHANGE_PHONE})

_ACTIONS: Final[dict[Purpose, Text]] = {
    Purpose.REGISTER: Text("注册账户", "create your account"),
    Purpose.LOGIN: Text("登录", "sign in"),
    Purpose.RESET_LOGIN_PASSWORD: Text("重置登录密码", "reset your login password"),
    Purpose.RESET_PAYMENT_PASSWORD: Text("重置支付密码", "reset your payment password"),
    Purpose.CHANGE_PHONE: Text("更换绑定手机号", "change your phone number"),
    Purpose.STEP_UP: Text("验证身份", "confirm it is you"),
    Purpose.FREEZE: Text("冻结账户", "freeze your account"),
}
_GENERIC_ACTION: Final = Text("验证身份", "confirm it is you")


@dataclass(frozen=True, slots=True)
class CodeSent:
    expires_in: int
    resend_after: int


def code_sms_text(*, code: str, purpose: Purpose, minutes: int, locale: Locale) -> str:
    """Our wording: the code, what it is for, how long it lasts, and never to share it."""
    action = _ACTIONS.get(purpose, _GENERIC_ACTION).get(locale)
    if locale == EN:
        return (
            f"[ewallet] Your code is {code}, to {action}. It expires in {minutes} minutes. "
            "Never share it with anyone: we will never ask you for it."
        )
    return (
        f"【ewallet】验证码 {code}，用于{action}，{minutes}分钟内有效。"
        "请勿告诉他人，我们不会向您索取。"
    )


async def queue_code_sms(
    session: AsyncSession,
    *,
    clock: Clock,
    phone: str,
    purpose: Purpose,
    issued: IssuedCode,
    user: User | None,
    locale: Locale,
) -> int:
    """Write the ``sms.send`` event for ``issued`` in the caller's transaction.

    In the account's language and with its anti-phishing code when there is an account,
    otherwise in ``locale`` (the caller's ``Accept-Language``).
    """
    language = user_locale(user) if user is not None else locale
    body = code_sms_text(
        code=issued.code, purpose=purpose, minutes=max(1, issued.expires_in // 60), locale=language
    )
    if user is not None:
        body = with_anti_phishing(body, user.anti_phishing_code, language)
    return await enqueue(
        session,
        topic=SMS_TOPIC,
        payload={
            "to": phone,
            "sender": SENDER,
            "body": body,
            "kind": "verification_code",
            "purpose": purpose.value,
            "code": issued.code,
        },
        clock=clock,
    )


async def issue_and_queue(
    uow: UnitOfWork,
    rt: IdentityRuntime,
    *,
    phone: str,
    purpose: Purpose,
    user: User | None,
    locale: Locale,
    client_ip: str | None,
    send: bool = True,
) -> IssuedCode:
    """A new code row and (if ``send``) its SMS, in ``uow``; the relay wakes after commit.

    No rate limit is charged here: callers that act for an anonymous client check
    :func:`ewallet.identity.throttles.code_limits` first.
    """
    issued = await issue_code(
        await uow.connection(),
        clock=rt.clock,
        settings=rt.settings,
        digest=rt.security.digest,
        phone=phone,
        purpose=purpose,
        client_ip=client_ip,
    )
    if send:
        await queue_code_sms(
            uow.session,
            clock=rt.clock,
            phone=phone,
            purpose=purpose,
            issued=issued,
            user=user,
            locale=locale,
        )
        uow.after_commit(rt.wake_outbox)
    return issued


async def request_code(
    rt: IdentityRuntime, *, caller: Caller, phone: str, purpose: Purpose
) -> CodeSent:
    """``POST /v1/verification-codes``: see the module docstring for what is (not) sent."""
    e164 = parse_phone(phone)
    refused = await rt.limiter.hit_all(
        *code_limits(rt.settings, phone=e164, purpose=purpose.value, ip=caller.ip)
    )
    if refused is not None:
        raise refused.error("too many codes requested; wait before asking again")

    async def work(uow: UnitOfWork) -> IssuedCode:
        user = await users_repository.find_by_phone(uow.session, e164)
        has_account = users_repository.is_signable(user)
        return await issue_and_queue(
            uow,
            rt,
            phone=e164,
            purpose=purpose,
            user=user if has_account else None,
            locale=caller.locale,
            client_ip=caller.ip,
            send=purpose in SENT_TO_ANY_PHONE or has_account,
        )

    issued = await run_unit(rt.engine, work)
    return CodeSent(expires_in=issued.expires_in, resend_after=issued.resend_after)

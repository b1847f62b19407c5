"""The step-up risk control asks for before a spend in the browser: a transfer, an order
payment, a bill payment, a withdrawal or a payment to a shop's printed QR code.

When the movement answers ``step_up_required`` (a risk rule challenged it: a new device and
a large amount, a burst of transfers; docs/risk-rules.md), the page that posted it shows
:data:`TEMPLATE` instead of a refusal: the code texted to the account's phone (with "send
it again") or, where the user turned one on, the authenticator's code -- and the payment
password again. The PIN typed on the first page is not kept anywhere, not even on the
server for this one resubmission: a secret held between two requests (in a process that
may not serve the second one, or in a table) is one more place to steal it from, and
typing six digits again is cheap. The step-up is asked once: a wrong PIN after a passed
code asks for the PIN alone.

The form posts back to the movement's own address with what its first post carried
(``form_key`` included, so a double tap still moves the money once) plus ``challenge_id``:
the handler proves the code with ``POST /v1/me/step-up``'s use case (:func:`prove`), then
sends the movement again with the challenge id, which the spend seam redeems exactly once
and only for the same payee and amount. A challenge that has run out (five minutes) is met
by a fresh one: the page is shown again with a new code texted.

A handler wires it in with three calls: :meth:`StepUpForm.of` on the post, :func:`before_moving`
when it is a step-up form (None: move the money with ``challenge_id``), and, on a refusal
:func:`answers` takes, :func:`refused_page`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fastapi import Request
from fastapi.responses import Response

from ewallet.identity.accounts.service import get_profile
from ewallet.identity.codes import service as codes
from ewallet.identity.deps import Principal
from ewallet.identity.runtime import Caller
from ewallet.identity.stepup.service import complete_action_challenge
from ewallet.identity.stepup.views import Proof
from ewallet.kit.errors import DomainError
from ewallet.models.identity import CodePurpose
from ewallet.services import Services
from ewallet.web.kit.forms import Form
from ewallet.web.kit.pages import page, refusal
from ewallet.web.wallet.register import resend_wait

TEMPLATE: Final = "wallet/step_up/spend.html"
METHODS: Final = ("sms", "totp")


@dataclass(frozen=True, slots=True)
class Movement:
    """The movement a step-up page is for: where its form posts, what it shows (label and
    value, already in the reader's language) and the fields its first post carried."""

    action: str
    restart: str  # where "start again" leads (a challenge whose codes are spent)
    summary: tuple[tuple[str, str], ...]
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class StepUpForm:
    """What a step-up form posted (:meth:`of` is None for a movement's first post)."""

    challenge_id: str
    methods: tuple[str, ...]
    method: str
    code: str
    proven: bool  # the code passed on an earlier post of this form; the PIN was refused
    resend: bool  # "send the code again" (or "text me a code" next to the authenticator)

    @classmethod
    def of(cls, form: Form) -> StepUpForm | None:
        challenge_id = form.text("challenge_id")
        if not challenge_id:
            return None
        methods = tuple(m for m in form["methods"].split(",") if m in METHODS) or ("sms",)
        method = "totp" if form["method"] == "totp" and "totp" in methods else "sms"
        return cls(
            challenge_id=challenge_id[:64],
            methods=methods,
            method=method,
            code=form.text("code"),
            proven=form["proven"] == "1",
            resend=form["resend"] == "1",
        )


def challenged(error: DomainError) -> bool:
    """Whether ``error`` is risk control asking for a step-up (not the password-free
    setting asking for the PIN, whose ``methods`` is the payment password)."""
    methods = error.extra.get("methods") or []
    return (
        error.code == "step_up_required"
        and bool(error.extra.get("challenge_id"))
        and "payment_password" not in methods
    )


async def step_up_page(
    request: Request,
    services: Services,
    movement: Movement,
    *,
    challenge_id: str,
    methods: tuple[str, ...],
    sms_sent: bool = False,
    proven: bool = False,
    error: str | None = None,
    status_code: int = 401,
    sent: bool = False,
    wait: int = 0,
) -> Response:
    """The step-up form for ``movement`` (module doc)."""
    return await page(
        request,
        services,
        TEMPLATE,
        status_code=status_code,
        error=error,
        movement=movement,
        hidden={name: value for name, value in movement.fields.items() if name != "form_key"},
        form_key=movement.fields.get("form_key", ""),
        challenge_id=challenge_id,
        methods=list(methods),
        sms_sent=sms_sent,
        proven=proven,
        sent=sent,
        wait=wait,
    )


async def challenge_page(
    request: Request, services: Services, movement: Movement, error: DomainError
) -> Response:
    """The step-up form for a fresh challenge (``error`` is ``step_up_required``)."""
    methods = tuple(str(m) for m in error.extra.get("methods", []) if m in METHODS)
    return await step_up_page(
        request,
        services,
        movement,
        challenge_id=str(error.extra["challenge_id"]),
        methods=methods or ("sms",),
        sms_sent=bool(error.extra.get("sms_sent")),
    )


async def prove(services: Services, caller: Caller, user: Principal, step: StepUpForm) -> None:
    """Pass the user's challenge with the code typed (``POST /v1/me/step-up``'s use case;
    its refusals: ``verification_code_invalid``, ``too_many_attempts``, ...). A form whose
    code passed before (only the PIN was refused) has nothing more to prove."""
    if step.proven:
        return
    code = step.code
    proof = Proof(totp_code=code) if step.method == "totp" else Proof(verification_code=code)
    await complete_action_challenge(
        services,
        caller=caller,
        user_id=user.user_id,
        challenge_id=step.challenge_id,
        proof=proof,
    )


async def resend(
    request: Request,
    services: Services,
    *,
    caller: Caller,
    user: Principal,
    movement: Movement,
    step: StepUpForm,
) -> Response:
    """Text a new ``step_up`` code to the account's own phone and show the form again (a
    code asked for too soon is ``rate_limited``: the page says how long to wait)."""
    try:
        profile = await get_profile(services, user_id=user.user_id)
        sent = await codes.request_code(
            services, caller=caller, phone=profile.phone, purpose=CodePurpose.STEP_UP
        )
    except DomainError as error:
        return await step_up_page(
            request,
            services,
            movement,
            challenge_id=step.challenge_id,
            methods=step.methods,
            error=refusal(request, error),
            status_code=error.status,
            wait=resend_wait(error),
        )
    return await step_up_page(
        request,
        services,
        movement,
        challenge_id=step.challenge_id,
        methods=step.methods,
        sent=True,
        wait=sent.resend_after,
        status_code=401,
    )


def answers(error: DomainError, step: StepUpForm | None) -> bool:
    """Whether the step-up page, not the movement's own page, answers ``error``: risk
    control asking for a step-up, or a wrong PIN after a passed code (asked alone again)."""
    return challenged(error) or (step is not None and error.code == "payment_password_invalid")


async def before_moving(
    request: Request,
    services: Services,
    *,
    caller: Caller,
    user: Principal,
    movement: Movement,
    step: StepUpForm,
) -> Response | None:
    """A step-up form's own part, before the movement is sent again: "send the code again"
    answers with the form; otherwise the code is proved, and a refused one answers with the
    form and why. None: go on and send the movement with ``step.challenge_id``."""
    if step.resend:
        return await resend(
            request, services, caller=caller, user=user, movement=movement, step=step
        )
    try:
        await prove(services, caller, user, step)
    except DomainError as error:
        return await step_up_page(
            request,
            services,
            movement,
            challenge_id=step.challenge_id,
            methods=step.methods,
            error=refusal(request, error),
            status_code=error.status,
        )
    return None


async def refused_page(
    request: Request,
    services: Services,
    movement: Movement,
    error: DomainError,
    step: StepUpForm | None,
    *,
    message: str,
) -> Response:
    """The step-up page for a refusal :func:`answers` took: a fresh challenge's form, or the
    PIN alone with ``message`` (the movement's own words for the wrong PIN)."""
    if challenged(error) or step is None:
        return await challenge_page(request, services, movement, error)
    return await step_up_page(
        request,
        services,
        movement,
        challenge_id=step.challenge_id,
        methods=step.methods,
        proven=True,
        error=message,
        status_code=error.status,
    )

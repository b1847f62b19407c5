"""Every identity route, in one router: the app includes this one.

Each sub-feature's ``endpoints`` parses, makes one service call and shapes the answer; the
order below is the order of the API (and of its OpenAPI document): the public routes,
then the signed-in user's own ones, then account security.
"""

from __future__ import annotations

from fastapi import APIRouter

from ewallet.identity.accounts import endpoints as accounts
from ewallet.identity.closure import endpoints as closure
from ewallet.identity.codes import endpoints as codes
from ewallet.identity.data_copy import endpoints as data_copy
from ewallet.identity.devices import endpoints as devices
from ewallet.identity.notices import endpoints as notices
from ewallet.identity.payment_password import endpoints as payment_password
from ewallet.identity.phone_change import endpoints as phone_change
from ewallet.identity.protection import endpoints as protection
from ewallet.identity.realname import endpoints as realname
from ewallet.identity.recovery import endpoints as recovery
from ewallet.identity.sessions import endpoints as sessions
from ewallet.identity.signin import endpoints as signin
from ewallet.identity.stepup import endpoints as stepup
from ewallet.identity.totp import endpoints as totp

router = APIRouter()
for part in (
    # Public: codes, registration, signing in and out.
    codes.router,
    accounts.router,
    signin.router,
    sessions.router,
    # The signed-in user's account, devices and action step-up.
    accounts.me_router,
    devices.router,
    stepup.router,
    # Account security.
    payment_password.router,
    recovery.router,
    totp.router,
    realname.router,
    protection.router,
    phone_change.router,
    notices.router,
    closure.router,
    data_copy.router,
):
    router.include_router(part)

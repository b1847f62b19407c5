"""The wording of a verification-code SMS: the code, what it is for, how long it lasts."""

from __future__ import annotations

from typing import Final

from ewallet.kit.i18n import EN, Locale, Text
from ewallet.models.identity import CodePurpose

_ACTIONS: Final[dict[CodePurpose, Text]] = {
    CodePurpose.REGISTER: Text("注册账户", "create your account"),
    CodePurpose.LOGIN: Text("登录", "sign in"),
    CodePurpose.RESET_LOGIN_PASSWORD: Text("重置登录密码", "reset your login password"),
    CodePurpose.RESET_PAYMENT_PASSWORD: Text("重置支付密码", "reset your payment password"),
    CodePurpose.CHANGE_PHONE: Text("更换绑定手机号", "change your phone number"),
    CodePurpose.STEP_UP: Text("验证身份", "confirm it is you"),
    CodePurpose.FREEZE: Text("冻结账户", "freeze your account"),
    CodePurpose.PHONE_CHANGE_OLD: Text(
        "将账户绑定手机号改为新号码", "move your account to a new phone number"
    ),
    CodePurpose.UNFREEZE: Text("解冻账户", "unfreeze your account"),
    CodePurpose.ACCOUNT_CLOSURE: Text("注销账户", "close your account"),
}
_GENERIC_ACTION: Final = Text("验证身份", "confirm it is you")


def code_sms_text(*, code: str, purpose: CodePurpose, minutes: int, locale: Locale) -> str:
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

"""Our own wording of every notice, in zh-CN and en; ``{name}`` fields come from params."""

from __future__ import annotations

from typing import Any, Final

from ewallet.kit.i18n import Locale, Text
from ewallet.notify.shown import shown_params

SENDER: Final = "ewallet"

NOTICES: Final[dict[str, tuple[Text, Text]]] = {
    # Each kind has a title and a body.
    "new_device_sign_in": (
        Text("新设备登录提醒", "Sign-in from a new device"),
        Text(
            "您的账户于 {time} 在新设备（{device}）上登录。"
            "如非本人操作，请立即冻结账户并联系客服。",
            "Your account signed in on a new device ({device}) at {time}. If this was not you, "
            "freeze the account now and contact us.",
        ),
    ),
    "login_password_changed": (
        Text("登录密码已修改", "Login password changed"),
        Text(
            "您的登录密码已于 {time} 修改。如非本人操作，请立即冻结账户并联系客服。",
            "Your login password was changed at {time}. If this was not you, freeze the "
            "account now and contact us.",
        ),
    ),
    "login_password_reset": (
        Text("登录密码已重置", "Login password reset"),
        Text(
            "您的登录密码已于 {time} 通过短信验证重置，其他设备已退出登录。",
            "Your login password was reset by SMS code at {time}; other devices were signed out.",
        ),
    ),
    "payment_password_set": (
        Text("支付密码已设置", "Payment password set"),
        Text("您已于 {time} 设置支付密码。", "You set your payment password at {time}."),
    ),
    "payment_password_changed": (
        Text("支付密码已修改", "Payment password changed"),
        Text(
            "您的支付密码已于 {time} 修改。如非本人操作，请立即冻结账户并联系客服。",
            "Your payment password was changed at {time}. If this was not you, freeze the "
            "account now and contact us.",
        ),
    ),
    "payment_password_reset": (
        Text("支付密码已重置", "Payment password reset"),
        Text(
            "您的支付密码已于 {time} 重置并解除锁定。",
            "Your payment password was reset and unlocked at {time}.",
        ),
    ),
    "payment_password_locked": (
        Text("支付密码已锁定", "Payment password locked"),
        Text(
            "支付密码连续输错，已锁定至 {until}。可通过“忘记支付密码”重置后立即解锁。",
            "Too many wrong payment passwords: locked until {until}. Resetting it with "
            "'Forgot payment password' unlocks it at once.",
        ),
    ),
    "account_frozen": (
        Text("账户已冻结", "Account frozen"),
        Text(
            "您的账户已于 {time} 冻结，资金操作暂停。解冻可在“安全中心 > 解冻账户”"
            "核实身份后自助办理，或致电客服 {hotline}。",
            "Your account was frozen at {time}; money actions are paused. To unfreeze it, "
            "confirm your identity under Security > Unfreeze my account, or call us on "
            "{hotline}.",
        ),
    ),
    "account_unfrozen": (
        Text("账户已解冻", "Account unfrozen"),
        Text("您的账户已于 {time} 解冻。", "Your account was unfrozen at {time}."),
    ),
    # Changing the phone number (docs/account-lifecycle.md): the old number is told, the
    # new one confirmed; a request reviewed by staff is acknowledged and, if refused, told.
    "phone_changed_away": (
        Text("账户手机号已更换", "Account phone number changed"),
        Text(
            "您的账户绑定手机号已于 {time} 更换为 {new_phone}，本号码不能再用于登录。"
            "如非本人操作，请立即联系客服 {hotline}。",
            "Your account's phone number was changed to {new_phone} at {time}; this number "
            "no longer signs in. If this was not you, call us on {hotline} now.",
        ),
    ),
    "phone_changed": (
        Text("手机号绑定成功", "Phone number bound"),
        Text(
            "本号码已于 {time} 绑定为您的账户手机号，此后请用本号码登录。其他设备已退出登录。",
            "This number became your account's phone number at {time}; sign in with it from "
            "now on. Other devices were signed out.",
        ),
    ),
    "phone_change_requested": (
        Text("更换手机号申请已提交", "Phone change request received"),
        Text(
            "我们已于 {time} 收到将账户手机号更换为 {new_phone} 的申请，客服审核后会通知您。"
            "如非本人操作，请立即联系客服 {hotline}。",
            "We received a request at {time} to change your account's phone number to "
            "{new_phone}; we will tell you when it is reviewed. If this was not you, call us "
            "on {hotline} now.",
        ),
    ),
    "phone_change_rejected": (
        Text("更换手机号申请未通过", "Phone change request declined"),
        Text(
            "您更换账户手机号为 {new_phone} 的申请未通过审核，手机号保持不变。"
            "如有疑问请联系客服 {hotline}。",
            "Your request to change the account's phone number to {new_phone} was declined; "
            "the number stays as it was. Questions? Call us on {hotline}.",
        ),
    ),
    "totp_enabled": (
        Text("已开启身份验证器", "Authenticator turned on"),
        Text(
            "您已于 {time} 开启身份验证器（动态验证码）。",
            "You turned on the authenticator app at {time}.",
        ),
    ),
    "totp_disabled": (
        Text("已关闭身份验证器", "Authenticator turned off"),
        Text(
            "您已于 {time} 关闭身份验证器。如非本人操作，请立即联系客服。",
            "You turned off the authenticator app at {time}. If this was not you, contact us.",
        ),
    ),
    "totp_locked": (
        Text("动态验证码已锁定", "Authenticator codes locked"),
        Text(
            "动态验证码或恢复码连续输错，已锁定至 {until}。"
            "如非本人操作，请修改登录密码并联系客服。",
            "Too many wrong authenticator or recovery codes: they are locked until {until}. "
            "If this was not you, change your login password and contact us.",
        ),
    ),
    "identity_verified": (
        Text("实名认证完成", "Identity verified"),
        Text(
            "您已完成实名认证，账户升级为 {tier} 类账户。",
            "Your identity is verified; the account is now class {tier}.",
        ),
    ),
    "topup_succeeded": (
        Text("充值到账", "Top-up received"),
        Text(
            "您的钱包已于 {time} 充值到账 {amount} {currency}。",
            "{amount} {currency} was added to your wallet at {time}.",
        ),
    ),
    "topup_failed": (
        Text("充值未成功", "Top-up not completed"),
        Text(
            "您的 {amount} {currency} 银行卡充值未能完成：银行卡未被扣款，钱包余额未变。",
            "Your {amount} {currency} card top-up could not be completed: your card was not "
            "charged and your wallet balance is unchanged.",
        ),
    ),
    "transfer_received": (
        Text("转账到账", "Transfer received"),
        Text(
            "{payer} 于 {time} 向您转账 {amount} {currency}，已存入钱包余额。{memo}",
            "{payer} sent you {amount} {currency} at {time}; it is in your wallet. {memo}",
        ),
    ),
    "transfer_under_review": (
        Text("转账审核中", "Transfer under review"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 正在进行安全审核，预计 {due} 前完成。"
            "审核期间该笔资金已冻结，不会到账对方。",
            "Your transfer of {amount} {currency} to {payee} is under a security review, "
            "expected by {due}. Until then the amount is held and has not reached them.",
        ),
    ),
    "transfer_review_approved": (
        Text("转账审核通过", "Transfer approved"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 已通过审核，已到账对方。",
            "Your transfer of {amount} {currency} to {payee} passed the review and has "
            "reached them.",
        ),
    ),
    "transfer_review_rejected": (
        Text("转账未通过审核", "Transfer not approved"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 未通过安全审核，资金已退回您的钱包余额。"
            "如有疑问请联系客服。",
            "Your transfer of {amount} {currency} to {payee} did not pass the security "
            "review; the money is back in your wallet. Contact us if you have questions.",
        ),
    ),
    "transfer_scheduled": (
        Text("转账已受理", "Transfer scheduled"),
        Text(
            "您向 {payee} 转账 {amount} {currency}，将于 {arrives} 到账。到账前可在转账详情中撤销，"
            "撤销后资金退回您的钱包余额。",
            "Your transfer of {amount} {currency} to {payee} will arrive at {arrives}. Until "
            "then you can cancel it from the transfer's page and the money comes back to you.",
        ),
    ),
    "transfer_arrived": (
        Text("转账已到账", "Transfer arrived"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 已到账对方。",
            "Your transfer of {amount} {currency} to {payee} has reached them.",
        ),
    ),
    "transfer_cancelled": (
        Text("转账已撤销", "Transfer cancelled"),
        Text(
            "您已撤销向 {payee} 转账 {amount} {currency}，资金已退回您的钱包余额。",
            "You cancelled your transfer of {amount} {currency} to {payee}; the money is back "
            "in your wallet.",
        ),
    ),
    "card_transfer_scheduled": (
        Text("转账到银行卡已受理", "Transfer to a card scheduled"),
        Text(
            "您向 {payee} 转账 {amount} {currency}（手续费 {fee} {currency}），将于 {arrives} "
            "发往银行。到账前可在转账详情中撤销。",
            "Your transfer of {amount} {currency} (fee {fee} {currency}) to {payee} goes to "
            "the bank at {arrives}. Until then you can cancel it.",
        ),
    ),
    "card_transfer_succeeded": (
        Text("转账到银行卡成功", "Transfer to a card completed"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 已由银行入账，手续费 {fee} {currency}。",
            "{amount} {currency} was paid to {payee}; the fee was {fee} {currency}.",
        ),
    ),
    "card_transfer_failed": (
        Text("转账到银行卡未成功", "Transfer to a card failed"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 未能完成，款项（含手续费）已退回钱包余额。",
            "Your transfer of {amount} {currency} to {payee} did not go through; the money, "
            "fee included, is back in your wallet.",
        ),
    ),
    "card_transfer_cancelled": (
        Text("转账到银行卡已撤销", "Transfer to a card cancelled"),
        Text(
            "您已撤销向 {payee} 转账 {amount} {currency}，款项（含手续费）已退回钱包余额。",
            "You cancelled your transfer of {amount} {currency} to {payee}; the money, fee "
            "included, is back in your wallet.",
        ),
    ),
    "transfer_returned": (
        Text("转账已退回", "Transfer returned"),
        Text(
            "您向 {payee} 转账 {amount} {currency} 到账时，因账户状态无法入账，"
            "资金已退回您的钱包余额。",
            "Your transfer of {amount} {currency} to {payee} could not be credited when it was "
            "due (an account can no longer move money); the money is back in your wallet.",
        ),
    ),
    "bill_paid": (
        Text("缴费成功", "Bill paid"),
        Text(
            "您于 {time} 为{biller}户号 {account} 缴费 {amount} {currency} 已成功，"
            "回执号 {receipt_no}。",
            "You paid {amount} {currency} to {biller} for account {account} at {time}; "
            "receipt {receipt_no}.",
        ),
    ),
    "bill_payment_failed": (
        Text("缴费失败", "Bill payment failed"),
        Text(
            "您为{biller}户号 {account} 缴费 {amount} {currency} 未被缴费单位受理，"
            "款项已于 {time} 退回钱包余额。",
            "{biller} did not accept your payment of {amount} {currency} for account "
            "{account}; the money was back in your wallet at {time}.",
        ),
    ),
    # A bill paid by card (docs/bills.md) whose card the bank did not debit, settled later.
    "bill_card_declined": (
        Text("银行卡缴费未成功", "Card bill payment not made"),
        Text(
            "您用银行卡为{biller}户号 {account} 缴费 {amount} {currency} 未能完成："
            "银行卡未被扣款（{card_amount} {currency}），钱包余额未变，可重新缴费。",
            "Your card payment of {amount} {currency} to {biller} for account {account} "
            "could not be completed: your card was not charged ({card_amount} {currency}), "
            "your wallet balance is unchanged and you may pay again.",
        ),
    ),
    "withdrawal_succeeded": (
        Text("提现成功", "Withdrawal completed"),
        Text(
            "您于 {time} 提现 {amount} {currency} 到银行卡已成功，手续费 {fee} {currency}。",
            "{amount} {currency} was sent to your bank card at {time}; the fee was "
            "{fee} {currency}.",
        ),
    ),
    "withdrawal_failed": (
        Text("提现失败", "Withdrawal failed"),
        Text(
            "您提现 {amount} {currency} 到银行卡未能完成，"
            "款项（含手续费）已于 {time} 退回钱包余额。",
            "Your withdrawal of {amount} {currency} to your bank card did not go through; "
            "the money, fee included, was back in your wallet at {time}.",
        ),
    ),
    # A bill payment or a withdrawal risk control holds for review (docs/risk-review.md).
    "bill_under_review": (
        Text("缴费审核中", "Bill payment under review"),
        Text(
            "您为{biller}户号 {account} 缴费 {amount} {currency} 正在进行安全审核，"
            "预计 {due} 前完成。审核期间该笔资金已冻结，尚未支付给缴费单位。",
            "Your payment of {amount} {currency} to {biller} for account {account} is under "
            "a security review, expected by {due}. Until then the amount is held and has not "
            "been paid to the biller.",
        ),
    ),
    "bill_review_approved": (
        Text("缴费审核通过", "Bill payment approved"),
        Text(
            "您为{biller}户号 {account} 缴费 {amount} {currency} 已通过审核，正在提交缴费单位。",
            "Your payment of {amount} {currency} to {biller} for account {account} passed "
            "the review and is on its way to the biller.",
        ),
    ),
    "bill_review_rejected": (
        Text("缴费未通过审核", "Bill payment not approved"),
        Text(
            "您为{biller}户号 {account} 缴费 {amount} {currency} 未通过安全审核，"
            "资金已退回您的钱包余额。如有疑问请联系客服。",
            "Your payment of {amount} {currency} to {biller} for account {account} did not "
            "pass the security review; the money is back in your wallet. Contact us if you "
            "have questions.",
        ),
    ),
    "withdrawal_under_review": (
        Text("提现审核中", "Withdrawal under review"),
        Text(
            "您提现 {amount} {currency} 到银行卡正在进行安全审核，预计 {due} 前完成。"
            "审核期间该笔资金（含手续费 {fee} {currency}）已冻结，尚未转出。",
            "Your withdrawal of {amount} {currency} to your bank card is under a security "
            "review, expected by {due}. Until then the money (fee of {fee} {currency} "
            "included) is held and has not left your wallet.",
        ),
    ),
    "withdrawal_review_approved": (
        Text("提现审核通过", "Withdrawal approved"),
        Text(
            "您提现 {amount} {currency} 到银行卡已通过审核，正在提交银行处理。",
            "Your withdrawal of {amount} {currency} to your bank card passed the review and "
            "is on its way to the bank.",
        ),
    ),
    "withdrawal_review_rejected": (
        Text("提现未通过审核", "Withdrawal not approved"),
        Text(
            "您提现 {amount} {currency} 到银行卡未通过安全审核，"
            "款项（含手续费）已退回您的钱包余额。如有疑问请联系客服。",
            "Your withdrawal of {amount} {currency} to your bank card did not pass the "
            "security review; the money, fee included, is back in your wallet. Contact us "
            "if you have questions.",
        ),
    ),
    "counter_deposit_credited": (
        Text("柜台现金存入到账", "Cash deposit received"),
        Text(
            "您在网点 {branch} 柜台存入的现金 {amount} {currency} 已于 {time} 存入钱包。",
            "The {amount} {currency} in cash you paid in at branch {branch} was added to "
            "your wallet at {time}.",
        ),
    ),
    "payment_succeeded": (
        Text("付款成功", "Payment made"),
        Text(
            "您于 {time} 向{merchant}付款 {amount} {currency}。",
            "You paid {amount} {currency} to {merchant} at {time}.",
        ),
    ),
    "card_payment_kept": (
        Text("付款未完成，资金已存入钱包", "Payment not made: the money is in your wallet"),
        Text(
            "您用银行卡向{merchant}付款 {amount} {currency} 时，订单在银行扣款期间已无法支付。"
            "银行卡已扣款的 {card_amount} {currency} 已存入您的钱包余额，可继续使用或提现。",
            "Your card payment of {amount} {currency} to {merchant} could not be made: the "
            "order could no longer be paid while the bank answered. The {card_amount} "
            "{currency} debited from your card is in your wallet balance, to use or withdraw.",
        ),
    ),
    "card_payment_failed": (
        Text("银行卡付款未成功", "Card payment not made"),
        Text(
            "您用银行卡向{merchant}付款 {amount} {currency} 未能完成：银行卡未被扣款，"
            "钱包余额未变，订单仍可重新支付。",
            "Your card payment of {amount} {currency} to {merchant} could not be completed: "
            "your card was not charged, your wallet balance is unchanged and the order can "
            "be paid again.",
        ),
    ),
    "payment_under_review": (
        Text("付款审核中", "Payment under review"),
        Text(
            "您向{merchant}付款 {amount} {currency} 正在进行安全审核，预计 {due} 前完成。"
            "审核期间该笔资金已冻结，商户尚未收到。",
            "Your payment of {amount} {currency} to {merchant} is under a security review, "
            "expected by {due}. Until then the amount is held and the merchant has not "
            "received it.",
        ),
    ),
    "payment_review_approved": (
        Text("付款审核通过", "Payment approved"),
        Text(
            "您向{merchant}付款 {amount} {currency} 已通过审核，商户已收款。",
            "Your payment of {amount} {currency} to {merchant} passed the review; the "
            "merchant has been paid.",
        ),
    ),
    "payment_review_rejected": (
        Text("付款未通过审核", "Payment not approved"),
        Text(
            "您向{merchant}付款 {amount} {currency} 未通过安全审核，资金已退回您的钱包余额，"
            "订单已关闭。如有疑问请联系客服。",
            "Your payment of {amount} {currency} to {merchant} did not pass the security "
            "review; the money is back in your wallet and the order is closed. Contact us "
            "if you have questions.",
        ),
    ),
    "refund_received": (
        Text("退款到账", "Refund received"),
        Text(
            "{merchant}的退款 {amount} {currency} 已于 {time} 退回您的钱包余额。",
            "A refund of {amount} {currency} from {merchant} was back in your wallet at {time}.",
        ),
    ),
    "support_ticket_replied": (
        Text("客服已回复您的工单", "Customer service replied to your ticket"),
        Text(
            "您的工单 {reference}（{subject}）有新的客服回复，请在“我的工单”中查看。",
            "There is a new reply on your ticket {reference} ({subject}); see My tickets.",
        ),
    ),
    "anti_phishing_code_changed": (
        Text("防伪码已更新", "Security phrase updated"),
        Text(
            "您的防伪码已于 {time} 更新，此后我们发出的短信都会带上它。"
            "如非本人操作，请立即冻结账户。",
            "Your security phrase was updated at {time}; our messages will carry it from now "
            "on. If this was not you, freeze the account now.",
        ),
    ),
    # Password-free small payments and the payment code.
    "password_free_enabled": (
        Text("已开通小额免密支付", "Password-free small payments on"),
        Text(
            "您已于 {time} 开通小额免密支付，单笔上限 {cap} 元。"
            "如非本人操作，请立即关闭并冻结账户。",
            "You turned on password-free payments of up to {cap} CNY each at {time}. If this "
            "was not you, turn them off and freeze the account now.",
        ),
    ),
    "password_free_cap_changed": (
        Text("免密支付额度已修改", "Password-free cap changed"),
        Text(
            "您的小额免密支付单笔上限已于 {time} 改为 {cap} 元。"
            "如非本人操作，请立即关闭并冻结账户。",
            "Your password-free cap per payment became {cap} CNY at {time}. If this was not "
            "you, turn password-free payments off and freeze the account now.",
        ),
    ),
    "password_free_disabled": (
        Text("已关闭小额免密支付", "Password-free small payments off"),
        Text(
            "您已于 {time} 关闭小额免密支付，此后每笔付款都需输入支付密码。",
            "You turned off password-free payments at {time}; every payment now needs the "
            "payment password.",
        ),
    ),
    # Money requests and split bills (docs/money-requests.md): in-app only.
    "money_request_received": (
        Text("收到收款请求", "Money request received"),
        Text(
            "{other} 向您发起收款 {amount} {currency}。{note} 请在 {expires} 前处理；"
            "付款前请确认对方身份。",
            "{other} asks you for {amount} {currency}. {note} Answer before {expires}; make "
            "sure you know who is asking before you pay.",
        ),
    ),
    "money_request_paid": (
        Text("收款请求已付款", "Money request paid"),
        Text(
            "{other} 已支付您的收款请求 {amount} {currency}，已存入钱包余额。",
            "{other} paid your request for {amount} {currency}; it is in your wallet.",
        ),
    ),
    "money_request_declined": (
        Text("收款请求被拒绝", "Money request declined"),
        Text(
            "{other} 拒绝了您的收款请求 {amount} {currency}。",
            "{other} declined your request for {amount} {currency}.",
        ),
    ),
    "money_request_expired": (
        Text("收款请求已过期", "Money request expired"),
        Text(
            "您向 {other} 发起的收款请求 {amount} {currency} 已过期，未收到付款。",
            "Your request to {other} for {amount} {currency} expired unpaid.",
        ),
    ),
    "money_request_cancelled": (
        Text("收款请求已撤回", "Money request withdrawn"),
        Text(
            "{other} 撤回了向您发起的收款请求 {amount} {currency}，无需付款。",
            "{other} withdrew the request for {amount} {currency}; there is nothing to pay.",
        ),
    ),
    "payment_code_confirmation": (
        Text("付款码付款待确认", "Confirm a payment code charge"),
        Text(
            "{merchant}通过付款码向您收款 {amount} {currency}，超出免密额度，"
            "请在 App 中输入支付密码确认。如非本人操作，请勿确认。",
            "{merchant} is charging {amount} {currency} to your payment code, above the "
            "no-password limit: confirm it with your payment password in the app. If this "
            "was not you, do not confirm it.",
        ),
    ),
    # Account closure and copies of one's data (docs/account-closure.md).
    "account_closed": (
        Text("账户已注销", "Account closed"),
        Text(
            "您的账户已于 {time} 注销，此后无法再登录。本手机号可重新注册新账户。"
            "如非本人操作，请立即联系客服 {hotline}。",
            "Your account was closed at {time} and can no longer sign in; this number may "
            "register a new account. If this was not you, call us on {hotline} now.",
        ),
    ),
    "data_copy_ready": (
        Text("个人信息副本已生成", "Your copy of your data is ready"),
        Text(
            "您于 {requested} 申请的个人信息副本已生成，可在“个人信息副本”中下载，"
            "{expires} 前有效。",
            "The copy of your data you asked for at {requested} is ready to download under "
            "'A copy of my data' until {expires}.",
        ),
    ),
}


def render(kind: str, params: dict[str, Any], locale: Locale) -> tuple[str, str]:
    """(title, body) of a notice in ``locale``; unknown fields stay visible, never crash.
    Stored moments and currencies are shown as the reader reads them (notify/shown.py)."""
    title, body = NOTICES[kind]
    safe = _KeepMissing(shown_params(params, locale))
    return title.get(locale), body.get(locale).format_map(safe)


def with_anti_phishing(text: str, code: str | None, locale: Locale) -> str:
    """Prefix every outgoing SMS and email with the code the user chose."""
    if not code:
        return text
    label = "防伪码" if locale != "en" else "Your security phrase"
    return f"[{label}: {code}] {text}"


class _KeepMissing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"

"""Titles and details of error codes in zh-CN (the default) and en, and locale negotiation.

Clients switch on ``code``; people read ``title`` and ``detail``. Every ``code`` the wallet
can answer with has an entry in :data:`TITLES` in both languages (a unit test holds the list
from API.md), so a problem document is never half English in a Chinese client. A few codes
also have a generic :data:`DETAILS` sentence, used when the error carries no detail of its own
or when the client reads zh-CN (the error's own detail is an English sentence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Locale = Literal["zh-CN", "en"]
ZH_CN: Final[Locale] = "zh-CN"
EN: Final[Locale] = "en"
DEFAULT_LOCALE: Final[Locale] = ZH_CN
_CHINESE: Final = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Text:
    """One message in both languages."""

    zh_cn: str
    en: str

    def get(self, locale: Locale) -> str:
        return self.en if locale == EN else self.zh_cn


FALLBACK_TITLE: Final = Text("请求未能完成", "The request could not be completed")

TITLES: Final[dict[str, Text]] = {
    # The codes of API.md's table.
    "validation_error": Text("请求内容有误", "The request is not valid"),
    "invalid_amount": Text("金额格式不正确", "The amount is not valid"),
    "invalid_phone": Text("手机号码无效", "The phone number is not valid"),
    "phone_already_registered": Text("该手机号已注册", "This phone number already has an account"),
    "verification_code_invalid": Text("验证码错误", "The verification code is wrong"),
    "verification_code_expired": Text("验证码已失效", "The verification code has expired"),
    "too_many_attempts": Text("尝试次数过多", "Too many attempts"),
    "rate_limited": Text("操作过于频繁", "Too many requests"),
    "weak_password": Text("登录密码强度不足", "The login password is too weak"),
    "weak_payment_password": Text("支付密码过于简单", "The payment password is too easy to guess"),
    "invalid_credentials": Text("手机号或密码错误", "Wrong phone number or password"),
    "step_up_required": Text("需要进一步验证身份", "Please confirm it is you"),
    "unauthorized": Text("请先登录", "Please sign in"),
    "forbidden": Text("无权执行此操作", "You are not allowed to do this"),
    "not_found": Text("资源不存在", "Not found"),
    "payment_password_not_set": Text("尚未设置支付密码", "No payment password has been set"),
    "payment_password_invalid": Text("支付密码错误", "The payment password is wrong"),
    "payment_password_locked": Text("支付密码已锁定", "The payment password is locked"),
    "account_frozen": Text("账户已冻结", "The account is frozen"),
    "closure_blocked": Text("账户暂不能注销", "The account cannot close yet"),
    "data_copy_in_progress": Text(
        "已有一份个人信息副本正在生成", "A copy of your data is already being made"
    ),
    "data_copy_expired": Text("该副本已过期", "This copy has expired"),
    "insufficient_balance": Text("余额不足", "The balance is not sufficient"),
    "limit_exceeded": Text("超出限额", "A limit would be exceeded"),
    "under_review": Text("交易审核中", "The movement is under review"),
    "risk_declined": Text("交易未通过安全校验", "Declined for your account's safety"),
    "merchant_not_supported": Text("该商户暂不支持钱包付款", "This merchant cannot be paid"),
    "order_not_payable": Text("订单无法支付", "This order cannot be paid"),
    "card_invalid": Text("银行卡号无效", "The card number is not valid"),
    "card_not_supported": Text("暂不支持该银行卡", "This card is not supported"),
    "card_already_bound": Text("该银行卡已绑定", "This card is already linked"),
    "card_limit_reached": Text("绑定银行卡数量已达上限", "No more cards can be linked"),
    "bank_declined": Text("银行拒绝了本次交易", "The bank declined the transaction"),
    "upstream_unavailable": Text("服务暂时不可用", "A partner service is unavailable"),
    "operation_pending": Text("交易处理中", "The transaction is being processed"),
    "idempotency_key_required": Text("缺少幂等键", "An Idempotency-Key header is required"),
    "idempotency_key_reused": Text(
        "幂等键已被其他请求使用", "This Idempotency-Key was already used"
    ),
    "maintenance": Text("系统维护中", "Down for maintenance"),
    "server_busy": Text("系统繁忙，请稍后重试", "The server is busy"),
    "signature_invalid": Text("签名验证失败", "The signature does not verify"),
    "currency_not_supported": Text("不支持该币种", "This currency is not supported"),
    # Codes of the HTTP edge and of the shared error tree.
    "bad_request": Text("请求无法处理", "Bad request"),
    "method_not_allowed": Text("不支持该请求方法", "Method not allowed"),
    "payload_too_large": Text("请求内容过大", "The request body is too large"),
    "unsupported_media_type": Text("不支持的内容类型", "Unsupported media type"),
    "conflict": Text("请求与当前状态冲突", "The request conflicts with the current state"),
    "domain_error": Text("请求未能完成", "The request could not be completed"),
    "internal_error": Text("系统繁忙", "Something went wrong on our side"),
    "service_unavailable": Text("服务暂时不可用", "The service is unavailable"),
    "not_ready": Text("服务尚未就绪", "The service is not ready"),
    "request_in_progress": Text("相同请求正在处理中", "The same request is still running"),
    # Ledger refusals (ewallet.ledger.errors).
    "hold_not_pending": Text("该笔冻结资金已处理", "This hold is no longer pending"),
    "hold_expired": Text("该笔冻结资金已过期", "This hold has expired"),
    "already_reversed": Text("该笔交易已冲正", "This transaction was already reversed"),
    # Identity and account security.
    "card_operation_pending": Text(
        "该银行卡有处理中的交易，暂不能解绑", "An operation on this card is still pending"
    ),
    "invalid_real_name": Text("姓名格式不正确", "The name is not valid"),
    "age_not_eligible": Text("未满16周岁，暂不能实名认证", "You must be at least 16 to verify"),
    "account_not_frozen": Text("账户未冻结", "The account is not frozen"),
    "unfreeze_needs_staff": Text("该冻结需由客服核实后解除", "Only our staff can lift this freeze"),
    "phone_unchanged": Text("新手机号与当前手机号相同", "The new number is your current number"),
    "phone_change_pending": Text(
        "已有待审核的更换手机号申请", "A phone change request is already waiting for review"
    ),
    "phone_change_not_pending": Text(
        "该申请已处理", "This phone change request was already decided"
    ),
    "real_name_not_verified": Text("尚未完成实名认证", "The account has no verified real name"),
    "totp_invalid": Text("动态验证码错误", "The authenticator code is wrong"),
    "totp_already_enabled": Text("已开启身份验证器", "The authenticator is already on"),
    "totp_not_enabled": Text("尚未开启身份验证器", "The authenticator is not on"),
    "invalid_id_number": Text("身份证号码无效", "The ID number is not valid"),
    "identity_mismatch": Text("身份信息不一致", "The identity details do not match"),
    "identity_required": Text("需要验证身份信息", "Identity details are required"),
    "identity_already_verified": Text("已完成实名认证", "The identity is already verified"),
    "id_number_in_use": Text(
        "该身份证号已用于其他账户", "This ID number is used by another account"
    ),
    "same_as_login_password": Text(
        "支付密码不能与登录密码相同", "The payment password must differ from the login password"
    ),
    "payment_password_already_set": Text("支付密码已设置", "A payment password is already set"),
    # Merchants, orders, payments and refunds.
    "out_trade_no_conflict": Text(
        "商户订单号已用于内容不同的订单", "This out_trade_no was used for a different order"
    ),
    "api_key_limit_reached": Text("API 密钥数量已达上限", "Too many active API keys"),
    "api_key_revoked": Text("该 API 密钥已作废", "This API key is revoked already"),
    "order_not_closable": Text("订单已支付，无法关闭", "A paid order cannot be closed"),
    "order_not_refundable": Text("订单未支付，无法退款", "An unpaid order cannot be refunded"),
    "refund_exceeds_payment": Text(
        "退款金额超过可退金额", "The refund is more than what is left to refund"
    ),
    "out_refund_no_conflict": Text(
        "退款单号已用于内容不同的退款", "This out_refund_no was used for a different refund"
    ),
    # Payment codes.
    "payment_code_invalid": Text("付款码无效", "The payment code is not valid"),
    # Payment links.
    "payment_link_unavailable": Text("收款链接已失效", "This payment link can no longer be used"),
    # Transfers.
    "transfer_to_self": Text("不能向自己转账", "You cannot transfer to your own wallet"),
    "payee_account_frozen": Text(
        "对方账户暂时无法收款", "The payee's account cannot receive money now"
    ),
    "new_payee_confirmation_required": Text(
        "首次向该用户转账，请确认", "First transfer to this person: please confirm"
    ),
    "transfer_not_cancellable": Text(
        "该转账已无法撤销", "This transfer can no longer be cancelled"
    ),
    "payee_name_mismatch": Text(
        "收款人姓名与银行卡不符", "The name does not match the card's holder"
    ),
    "card_is_own": Text("这是您自己绑定的银行卡", "This is one of your own bound cards"),
    # Money requests.
    "money_request_not_open": Text(
        "该收款请求已结束（已付款、已拒绝、已撤回或已过期）",
        "This money request is no longer open (paid, declined, withdrawn or expired)",
    ),
    # Support tickets and mail.
    "ticket_closed": Text("工单已关闭，请提交新工单", "This ticket is closed; open a new one"),
    "ticket_not_resolved": Text("工单解决后才能评价", "A ticket can be rated once it is resolved"),
    "ticket_already_rated": Text("该工单已评价", "This ticket has already been rated"),
    "ticket_transition_invalid": Text(
        "工单当前状态不允许该操作", "The ticket's status does not allow this change"
    ),
    "agent_not_available": Text("该客服无法接收工单", "This agent cannot take the ticket"),
    "support_email_code_invalid": Text(
        "邮箱验证码错误或已过期", "The email code is wrong or expired"
    ),
    "support_email_taken": Text(
        "该邮箱已被其他账户验证", "This email address is verified by another account"
    ),
    # Online chat and call-backs.
    "chat_closed": Text("该会话已结束，请发起新会话", "This chat has ended; start a new one"),
    "chat_not_waiting": Text(
        "该会话不在排队中，可能已被其他客服接入",
        "This chat is not waiting; another agent may have it",
    ),
    "callback_limit_reached": Text(
        "待处理的回电预约过多", "Too many call-back requests are still open"
    ),
    "callback_not_open": Text(
        "该回电预约已完成或已取消", "This call-back request is already done or cancelled"
    ),
    # Bills.
    "bill_account_invalid": Text(
        "缴费户号格式不正确", "The account number is not valid for this biller"
    ),
    "bill_amount_not_allowed": Text("不支持该充值金额", "This biller does not accept that amount"),
    "bill_account_not_found": Text(
        "未查询到该缴费户号", "The biller has no account with this number"
    ),
    "biller_declined": Text("缴费单位拒绝了本次缴费", "The biller refused the payment"),
    "bill_receipt_not_ready": Text(
        "缴费尚未完成，暂无回执", "There is no receipt until the payment completes"
    ),
    # Staff and operations.
    "password_change_required": Text("请先修改初始密码", "Change the one-time password first"),
    "staff_email_taken": Text("该邮箱已有员工账号", "A staff member with this email exists"),
    "staff_disabled": Text("员工账号已停用", "This staff account is disabled"),
    "last_admin": Text("不能移除最后一位管理员", "The last active admin keeps the role"),
    "totp_reset_pending": Text(
        "已有待审批的身份验证器重置", "An authenticator reset is already waiting"
    ),
    "totp_reset_closed": Text("该重置申请已处理或已过期", "This authenticator reset is closed"),
    "second_admin_required": Text("须由另一位管理员审批", "A second admin must approve this"),
    "own_totp_reset": Text(
        "不能处理本人的身份验证器重置", "Nobody decides on their own authenticator reset"
    ),
    "outbox_event_not_dead": Text(
        "只有已放弃投递的事件才能重新投递", "Only an event given up on can be replayed"
    ),
    # Counter cash deposits.
    "receipt_already_used": Text(
        "该网点的存款凭条号已被另一笔存款使用", "This receipt number is used by another deposit"
    ),
    "deposit_not_awaiting_approval": Text(
        "该笔存款已处理，无需审批", "This deposit is not awaiting approval"
    ),
    # Anti-money-laundering reports.
    "aml_candidate_already_decided": Text(
        "该报告候选已处理", "This report candidate has already been decided"
    ),
}

DETAILS: Final[dict[str, Text]] = {
    "validation_error": Text(
        "请检查请求中标出的字段。", "Check the fields listed in the errors member."
    ),
    "not_found": Text("请求的资源不存在或已被删除。", "The requested resource does not exist."),
    "method_not_allowed": Text(
        "该地址不支持此请求方法。", "This address does not accept this method."
    ),
    "internal_error": Text(
        "系统出现异常，请稍后重试；如问题持续，请联系客服并提供请求编号。",
        "An unexpected error occurred. Try again later; if it persists, contact support "
        "with the request id.",
    ),
    "idempotency_key_required": Text(
        "涉及资金的请求必须携带 Idempotency-Key 请求头。",
        "Money-moving requests need an Idempotency-Key header.",
    ),
    "idempotency_key_reused": Text(
        "该幂等键已用于内容不同的请求，请为新请求使用新的幂等键。",
        "This key was already used with a different request; use a new key for a new request.",
    ),
    "request_in_progress": Text(
        "使用相同幂等键的请求仍在处理中，请稍后重试。",
        "A request with the same Idempotency-Key is still running; retry shortly.",
    ),
    "not_ready": Text("服务尚未就绪，请稍后重试。", "The service is not ready yet."),
    "maintenance": Text(
        "系统正在维护，暂时无法办理此业务，请稍后重试。",
        "The wallet is under maintenance; try again later.",
    ),
    "rate_limited": Text("请求过于频繁，请稍后再试。", "Too many requests; try again later."),
    "server_busy": Text(
        "系统繁忙，本次请求未被处理，也不计入错误次数，请稍后重试。",
        "The server is busy: nothing was done and nothing was counted; try again shortly.",
    ),
    "invalid_amount": Text(
        "金额须为大于零的数字，最多两位小数。", "Amounts are positive decimals, at most 2 places."
    ),
    "invalid_phone": Text(
        "请输入有效的中国大陆手机号码。", "Enter a valid mainland China mobile number."
    ),
    "phone_already_registered": Text(
        "该手机号已注册，请直接登录；忘记密码可通过短信验证码重置。",
        "This number already has an account: sign in, or reset the password by SMS.",
    ),
    "verification_code_invalid": Text(
        "验证码不正确，请核对后重新输入。", "The code is wrong; check it and try again."
    ),
    "verification_code_expired": Text(
        "验证码已过期或已使用，请重新获取。", "The code has expired or was used; ask for a new one."
    ),
    "too_many_attempts": Text(
        "错误次数过多，请稍后再试。", "Too many wrong attempts; try again later."
    ),
    "weak_password": Text(
        "登录密码需 8 至 128 位，且不能过于常见或包含手机号。",
        "Use 8 to 128 characters that are not common and do not contain your phone number.",
    ),
    "weak_payment_password": Text(
        "支付密码须为 6 位数字，且不能是连续、重复或与个人信息相关的数字。",
        "Use 6 digits that are not a run, a repeat, or your personal numbers.",
    ),
    "invalid_credentials": Text(
        "登录信息不正确，请核对后重试。", "The sign-in details are wrong; check them and retry."
    ),
    "step_up_required": Text(
        "为保障账户安全，请完成短信或动态验证码验证。",
        "To keep the account safe, confirm with an SMS or authenticator code.",
    ),
    "unauthorized": Text("登录已失效，请重新登录。", "Your session has ended; sign in again."),
    "payment_password_not_set": Text(
        "请先设置 6 位支付密码。", "Set a 6-digit payment password first."
    ),
    "payment_password_invalid": Text(
        "支付密码不正确，连续输错 3 次将被锁定 3 小时。",
        "Wrong payment password; 3 wrong entries lock it for 3 hours.",
    ),
    "payment_password_locked": Text(
        "支付密码已锁定，可稍后再试，或通过“忘记支付密码”重置后立即解锁。",
        "The payment password is locked; wait, or reset it to unlock it at once.",
    ),
    "account_frozen": Text(
        "账户已冻结，资金操作暂不可用。如需解冻，请联系客服。",
        "The account is frozen; money actions are paused. Contact us to unfreeze it.",
    ),
    "risk_declined": Text(
        "为保障您的资金安全，本笔交易未能完成，未扣款。如有疑问请联系客服。",
        "For your account's safety this movement was declined and nothing was charged; "
        "contact us if you have questions.",
    ),
    "limit_exceeded": Text(
        "本笔交易超出限额，请查看 limit（哪项限额）与 resets_at（恢复时间）。",
        "This would exceed a limit; see limit (which one) and resets_at (when it resets).",
    ),
    "transfer_to_self": Text(
        "收款手机号是您自己的账户，不能向自己转账。",
        "The phone number is your own; a transfer must go to someone else's wallet.",
    ),
    "payee_account_frozen": Text(
        "对方账户已冻结，暂时无法收款，本次转账未扣款。",
        "The payee's account is frozen and cannot receive money; nothing was charged.",
    ),
    "new_payee_confirmation_required": Text(
        "您从未向该用户转账。骗子常冒充客服、公检法或熟人要求转账，请核实对方身份后，"
        "确认（acknowledge_new_payee）再转账。本次未扣款。",
        "You never paid this person before. Scammers pose as customer service, police or "
        "friends; check who they are, then confirm (acknowledge_new_payee). Nothing was charged.",
    ),
    "card_is_own": Text(
        "这是您自己绑定的银行卡，请使用“提现”把钱转到该卡。本次未扣款。",
        "This card is one of your own bound cards: use a withdrawal to move money to it. "
        "Nothing was charged.",
    ),
    "payee_name_mismatch": Text(
        "银行核验收款人姓名与该卡不符（或无此卡），本次未扣款。请向对方确认姓名和卡号。",
        "The bank says the name is not the card's holder (or it has no such card); nothing "
        "was charged. Check the name and card number with the payee.",
    ),
    "transfer_not_cancellable": Text(
        "只有尚未到账的延时转账可以撤销，该转账已到账、已撤销或已退回。",
        "Only a delayed transfer that has not arrived can be cancelled; this one has arrived, "
        "was cancelled or was returned.",
    ),
    "currency_not_supported": Text(
        "钱包仅支持人民币（CNY），请使用人民币金额。",
        "Wallets hold CNY only; use an amount in CNY.",
    ),
    "api_key_limit_reached": Text(
        "每个商户最多可有 10 个有效的 API 密钥，请先作废不再使用的密钥。",
        "A merchant has at most 10 active API keys; revoke one it no longer uses first.",
    ),
    "api_key_revoked": Text(
        "该 API 密钥已作废，不能再次作废或轮换。",
        "This API key was revoked already; it cannot be revoked or rotated again.",
    ),
    "biller_declined": Text(
        "缴费单位未受理本次缴费，款项已退回您的钱包余额。",
        "The biller refused the payment; the money is back in your wallet.",
    ),
    "payment_code_invalid": Text(
        "付款码无效、已过期或已使用，请让顾客刷新付款码后重新扫描。",
        "The code is wrong, expired or already used; ask the customer to refresh it and scan "
        "again.",
    ),
}


# The ``msg`` of each entry of a ``validation_error``'s ``errors`` member, by the
# validator's error ``type``: the validator words them in English, so a zh-CN reader gets
# ours (a type not listed here gets FIELD_INVALID).
FIELD_MESSAGES: Final[dict[str, str]] = {
    "missing": "缺少该字段",
    "extra_forbidden": "不支持该字段",
    "string_type": "须为文本",
    "string_too_short": "内容过短",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_parsing": "须为数字",
    "decimal_parsing": "须为数字",
    "decimal_type": "须为数字",
    "decimal_max_places": "小数位数过多",
    "decimal_max_digits": "数字位数过多",
    "bool_parsing": "须为 true 或 false",
    "bool_type": "须为 true 或 false",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
    "too_short": "条目过少",
    "too_long": "条目过多",
    "list_type": "须为列表",
    "dict_type": "须为对象",
    "model_attributes_type": "须为对象",
    "literal_error": "不是可选的值之一",
    "enum": "不是可选的值之一",
    "json_invalid": "请求内容不是有效的 JSON",
    "date_parsing": "日期格式不正确",
    "date_from_datetime_parsing": "日期格式不正确",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "timezone_aware": "时间须带时区",
    "url_parsing": "网址格式不正确",
    "url_scheme": "网址协议不受支持",
    "value_error": "该字段的值无效",
    # Our own checks of the edge (http/json_body.py, http/idempotency.py).
    "duplicate_key": "同一 JSON 对象中有重复的键",
    "invalid_unicode": "请求内容不是有效的 UTF-8 文本",
    "length": "长度不符合要求",
}
FIELD_INVALID: Final = "该字段的值无效"


def field_message(error_type: str, english: str, locale: Locale) -> str:
    """One field's complaint in a ``validation_error``: the validator's own (English)
    sentence for ``en`` readers, ours for zh-CN."""
    if locale == EN:
        return english
    return FIELD_MESSAGES.get(error_type, FIELD_INVALID)


def title(code: str, locale: Locale) -> str:
    """The short, human title of ``code`` (a generic one for a code nobody translated)."""
    return TITLES.get(code, FALLBACK_TITLE).get(locale)


def detail(code: str, own_detail: str | None, locale: Locale) -> str:
    """The ``detail`` member: the error's own English sentence for ``en`` readers, else ours.

    zh-CN readers get the generic sentence of the code where there is one, because an
    error's own detail is written in English for logs; failing that, an own detail written
    in Chinese (a maintenance notice staff typed); failing both, the title stands in -- a
    Chinese answer never carries an English sentence.
    """
    generic = DETAILS.get(code)
    if locale == EN:
        if own_detail:
            return own_detail
        return generic.en if generic else title(code, EN)
    if generic:
        return generic.zh_cn
    if own_detail and _CHINESE.search(own_detail):
        return own_detail
    return title(code, ZH_CN)


def title_and_detail(code: str, own_detail: str | None, locale: Locale) -> str:
    """``余额不足：…`` -- the title, then the detail (:func:`detail`) unless it only repeats
    the title: one line for a page that shows an error in a sentence."""
    head, rest = title(code, locale), detail(code, own_detail, locale)
    if rest == head:
        return head
    return f"{head}: {rest}" if locale == EN else f"{head}：{rest}"


def negotiate_locale(accept_language: str | None) -> Locale:
    """Pick zh-CN or en from an ``Accept-Language`` header, honouring q-values.

    The highest-weighted range we can serve wins (``en``/``en-*`` → en, ``zh``/``zh-*`` →
    zh-CN); ranges with q=0 are refused; anything else, or no header, gives zh-CN.
    """
    if not accept_language:
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        ranked.append((_quality(params), -position, tag))
    ranked.sort(reverse=True)
    for quality, _, tag in ranked:
        if quality <= 0:
            break
        if tag == "en" or tag.startswith("en-"):
            return EN
        if tag == "zh" or tag.startswith("zh-"):
            return ZH_CN
    return DEFAULT_LOCALE


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0

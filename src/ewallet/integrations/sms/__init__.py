"""Sending SMS: the :class:`~ewallet.integrations.sms.port.SmsSender` port, the development
``outbox`` adapter (kept in ``sms_messages``), the ``http`` adapter, and the ``sms.send``
outbox handler that connects them to the worker.

Services never call a sender directly: they write an ``sms.send`` outbox event in their own
transaction (:func:`ewallet.notify.service.notify_user`, identity's verification codes), and
the worker hands it to the configured sender after commit, retrying with back-off.
"""

from ewallet.integrations.sms.handler import SMS_TOPIC, register, sender_from_settings
from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError, SmsSender

__all__ = [
    "SMS_TOPIC",
    "OutgoingSms",
    "SmsConfigurationError",
    "SmsSender",
    "register",
    "sender_from_settings",
]

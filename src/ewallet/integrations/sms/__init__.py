"""Sending SMS: the :class:`~ewallet.integrations.sms.port.SmsSender` port, the development
``outbox`` adapter (kept in ``sms_messages``) and the ``http`` adapter.

Services never call a sender directly: they write an ``sms.send`` outbox event in their own
transaction (:func:`ewallet.notify.service.notify_user`, identity's verification codes), and
the worker hands it to the configured sender after commit, retrying with back-off. Which
sender, and the ``sms.send`` handler, are the composition root's (:mod:`ewallet.bootstrap.sms`).
"""

from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError, SmsSender

__all__ = ["OutgoingSms", "SmsConfigurationError", "SmsSender"]

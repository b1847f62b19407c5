"""The HTTP SMS adapter: one JSON POST per message to ``EWALLET_SMS_HTTP_URL``.

Body ``{"to", "sender", "body", "request_id"}`` and an ``Idempotency-Key`` header equal to
``request_id`` (stable per outbox event), so a gateway that deduplicates never sends a retried
message twice. Any non-2xx answer, a timeout or a connection error raises: the outbox worker
then retries with exponential back-off, and marks the event dead after its last attempt.
"""

from __future__ import annotations

import httpx

from ewallet.integrations.sms.port import OutgoingSms, SmsConfigurationError, SmsDeliveryError


class HttpSmsSender:
    def __init__(
        self, *, url: str | None, timeout: float, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        if not url:
            raise SmsConfigurationError("EWALLET_SMS_PROVIDER=http needs EWALLET_SMS_HTTP_URL")
        self._url = url
        self._timeout = timeout
        self._transport = transport  # tests pass httpx.MockTransport

    async def send(self, message: OutgoingSms) -> None:
        payload = {
            "to": message.to,
            "sender": message.sender,
            "body": message.body,
            "request_id": message.request_id,
        }
        async with httpx.AsyncClient(timeout=self._timeout, transport=self._transport) as client:
            response = await client.post(
                self._url, json=payload, headers={"Idempotency-Key": message.request_id}
            )
        if not response.is_success:
            raise SmsDeliveryError(f"SMS gateway answered {response.status_code}")

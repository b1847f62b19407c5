"""The sandbox bank hands its texts to a wallet SMS adapter through the SMS port only."""

from __future__ import annotations

from ewallet.integrations.sms.port import OutgoingSms
from ewallet.sandbox.bank.sms import EchoSms, SmsPortSink


class Recorder:
    def __init__(self) -> None:
        self.sent: list[OutgoingSms] = []

    async def send(self, message: OutgoingSms) -> None:
        self.sent.append(message)


async def test_each_text_goes_to_a_freshly_built_sender() -> None:
    senders: list[Recorder] = []

    def make_sender() -> Recorder:  # built per text: the wallet's engine comes later
        senders.append(Recorder())
        return senders[-1]

    sink = SmsPortSink(make_sender)
    for request_id in ("r1", "r2"):
        await sink.deliver(
            phone="+8613812345678",
            sender="SANDBOX",
            body="code 123456",
            code="123456",
            request_id=request_id,
        )
    assert [len(sender.sent) for sender in senders] == [1, 1]
    assert senders[0].sent[0] == OutgoingSms(
        to="+8613812345678",
        sender="SANDBOX",
        body="code 123456",
        kind="verification_code",
        request_id="sandbox-bank:r1",
        code="123456",
    )
    assert senders[1].sent[0].request_id == "sandbox-bank:r2"


async def test_alone_the_sandbox_prints_its_texts() -> None:
    lines: list[str] = []
    await EchoSms(lines.append).deliver(
        phone="+8613812345678", sender="BANK", body="hello", code="1", request_id="r"
    )
    assert lines == ["[sandbox bank SMS] to +8613812345678 from BANK: hello"]

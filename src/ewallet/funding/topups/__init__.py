"""Money coming into a wallet: top-ups from a bound card and through Alipay or WeChat Pay.

- :mod:`.service` -- the ``topups`` rows, PSP top-ups (open the order, settle what the PSP
  notifies, exactly once) and the PSP notifications (docs/psp.md);
- :mod:`.card` -- top-ups from a bound card: one debit at the bank, ever; unknown outcomes
  carried in suspense and settled by :mod:`.card.jobs` (docs/funding.md);
- :mod:`.endpoints` -- ``POST /v1/topups``, ``GET /v1/topups/{id}`` and the PSPs'
  ``POST /v1/callbacks/alipay`` and ``/v1/callbacks/wechat-pay``.
"""

"""Money coming into a wallet and leaving it for the owner's own card (docs/funding.md).

- :mod:`.topups` -- top-ups from a bound card (:mod:`.topups.card`) and through Alipay or
  WeChat Pay, and the PSPs' notifications (docs/psp.md);
- :mod:`.withdrawals` -- withdrawals to an own card, with their fee;
- :mod:`.service` -- settling, in one pass, card top-ups and withdrawals whose outcome at
  the bank was unknown; :mod:`.jobs` runs it periodically.
"""

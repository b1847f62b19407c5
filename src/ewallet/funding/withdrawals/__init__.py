"""Withdrawals to the owner's own card: the fee (:mod:`.fees`), hold / ask the bank / post
or void (:mod:`.service`), and the job that finishes those whose outcome was unknown
(:mod:`.jobs`). See docs/funding.md."""

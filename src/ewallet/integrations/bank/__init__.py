"""The bank gateway: binding cards, debits (top-ups), credits (withdrawals), settlement.

:mod:`.port` is what the wallet's services call; :mod:`.http_gateway` is the one adapter,
used for the in-process sandbox and a real bank alike; :mod:`ewallet.bootstrap.bank` builds it
from the settings for ``Services.bank``.
"""

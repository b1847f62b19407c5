"""The biller gateway: bill look-ups and payment notices to a bill-payment aggregator.

:mod:`.port` is what the bill services call; :mod:`.http_gateway` is the one adapter (the
in-process sandbox and a real aggregator alike); :mod:`ewallet.bootstrap.biller` builds it
from settings for ``Services.biller``.
"""

"""Receiving and asking: receive codes, money requests and split bills (docs/money-requests.md)."""

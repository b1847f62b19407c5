"""Binding a debit card to the wallet (the bank texts a code), confirming, listing and
unbinding it: ``/v1/me/cards``."""

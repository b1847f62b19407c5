"""Adapters to the outside world (SMS now; banks, PSPs and email later): a port, and real
and development adapters behind it, chosen by settings."""

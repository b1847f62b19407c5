"""ewallet: a self-hostable electronic-wallet platform."""

__version__ = "0.1.0"

"""The spend seam: every movement of money out of a wallet goes through :mod:`.service`."""

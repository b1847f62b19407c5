"""A merchant's stores (门店): each its own name on the static QR code printed for it."""

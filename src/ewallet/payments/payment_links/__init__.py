"""Payment links: a merchant's long-lived link (and QR code) that makes an order when opened."""

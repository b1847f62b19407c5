"""Static QR codes (收款码): a merchant's or store's printed code, paid from the wallet."""

"""Personal receive codes (收款码): a static QR opening the payer's wallet, payee filled in."""

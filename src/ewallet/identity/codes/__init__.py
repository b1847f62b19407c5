"""SMS verification codes: issuing, texting and proving them (``POST /v1/verification-codes``)."""

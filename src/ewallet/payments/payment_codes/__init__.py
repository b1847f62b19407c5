"""The payment code: issued to the user, charged by a merchant, confirmed above the limit."""
